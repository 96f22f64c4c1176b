"""A paragraph's breaks chosen together (book/pdf/breaking.py), on hand-made paragraphs.

Each character advances 1 em, a halted mark half; the measures are in ems.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pdfplumber

from book.pdf.breaking import (
    advances,
    break_opportunities,
    cost_of,
    first_fit_among,
    poor,
    squeezable_counts,
    squeezed_marks,
    total_fit,
)
from book.text import halt_positions, squeezable_marks


def _lines(text: str, starts: list[int]) -> list[str]:
    bounds = [0, *starts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def test_a_runt_is_avoided_by_taking_a_character_from_the_line_before() -> None:
    """Ten characters a line: greedy leaves 天 alone on the last line (孤字); the best breaks move
    one character down, at the cost of a little stretch on the line before."""
    text = "甲乙丙丁戊己庚辛壬癸" * 2 + "天"
    advance = advances(text, set(halt_positions(text)))
    greedy = first_fit_among(advance, break_opportunities(text), 10, 10)
    assert _lines(text, greedy)[-1] == "天" and poor(text, advance, 10, 10, greedy)
    best = total_fit(text, advance, 10, 10)
    assert best is not None and [len(line) for line in _lines(text, best)][-1] >= 2
    assert cost_of(text, advance, 10, 10, best) < cost_of(text, advance, 10, 10, greedy)


def test_no_line_starts_with_a_closing_mark_nor_ends_with_an_opening_one() -> None:
    """clreq's prohibitions stay hard rules: 。 cannot begin a line, “ cannot end one (nor, as
    Pango will have it, begin one)."""
    text = "甲乙丙丁戊己庚辛壬。“癸子丑寅卯辰巳午未申酉戌亥”"
    advance = advances(text, set(halt_positions(text)))
    best = total_fit(text, advance, 10, 10)
    assert best is not None
    for line in _lines(text, best):
        assert line[0] not in "。，、”" and line[-1] not in "“"


def test_a_dash_is_never_split() -> None:
    text = "甲乙丙丁戊己庚辛壬——癸子丑寅卯辰巳午未"
    best = total_fit(text, advances(text, set()), 10, 10)
    assert best is not None and all(text[i - 1 : i + 1] != "——" for i in best)


def test_a_first_line_shorter_by_its_indent_is_measured_as_such() -> None:
    text = "甲" * 18
    assert first_fit_among(advances(text, set()), break_opportunities(text), 8, 10) == [8]
    assert total_fit(text, advances(text, set()), 8, 10) == [8]


def test_a_line_squeezes_two_commas_to_hold_its_full_stop_rather_than_spread() -> None:
    """Ten ems a line. 。 may not begin a line, so greedy ends the first line before 辛, a
    character short, spread 1/8 em a gap. clreq adjusts punctuation before spacing: set in half
    width, the line's two commas make room for 辛。, and no line is spread. Marks that meet
    another (halved anyway), ！ and ？, and marks at a line's edges are not squeezed."""
    text = "甲，乙丙，丁戊己庚辛。壬癸子丑寅卯辰巳午未"
    advance = advances(text, set(halt_positions(text)))
    greedy = first_fit_among(advance, break_opportunities(text), 10, 10)
    assert _lines(text, greedy)[0] == "甲，乙丙，丁戊己庚" and poor(text, advance, 10, 10, greedy)
    marks = squeezable_marks(text)
    counts = squeezable_counts(text, marks)
    best = total_fit(text, advance, 10, 10, squeezable=counts)
    assert best is not None and _lines(text, best) == ["甲，乙丙，丁戊己庚辛。", "壬癸子丑寅卯辰巳午未"]
    assert squeezed_marks(text, advance, 10, 10, best, marks) == [1, 4]
    assert cost_of(text, advance, 10, 10, best, squeezable=counts) < cost_of(text, advance, 10, 10, greedy)
    assert total_fit(text, advance, 10, 10) != best  # nothing squeezable: the line cannot hold 辛。
    # ， ” （ ） 《: not ： or 。 (each meets a mark: halved anyway), not “ (after ：), not ！ ？
    assert squeezable_marks("他说：“好，走。”又（笑）道！去？来《书》") == [5, 8, 10, 12, 18]


def test_in_the_book_squeezed_commas_are_set_in_half_width(tmp_path: Path) -> None:
    """The first line of the default measure (26 em) would end before its 27th character, since
    the 。 after it may not begin a line: spread 1 em over 24 gaps. Fitted, its two commas are set
    in half width (halt, drawn at 0.5 em) and it holds 27 characters; justified to both edges as
    ever. Turned off, the line is spread instead."""
    from book.config import load_config
    from book.pdf.options import render_options

    from .helpers import write_book

    han = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜"
    paragraph = "甲，乙丙，" + han[:21] + "。" + han[21:] + han[:2]
    config = load_config(write_book(tmp_path, {"seed.txt": f"标题\n\n{paragraph}\n"}))

    def first_line(folder: str) -> tuple[str, list[float]]:
        pdf, checks = _built_and_checked(config, tmp_path / folder)
        assert checks["justification"].passed and checks["stretched lines"].passed
        line = _line_starting(pdf, "甲")
        chars = line["chars"]
        commas = [(b["x0"] - a["x0"]) / a["size"] for a, b in itertools.pairwise(chars) if a["text"] == "，"]
        return line["text"], commas

    text, commas = first_line("fitted")
    assert text == paragraph[:27] and all(0.45 < advance < 0.6 for advance in commas)
    with render_options(total_fit=False):
        text, commas = first_line("greedy")
    assert text == paragraph[:25] and all(advance > 1 for advance in commas)


def test_a_paragraph_that_breaks_well_greedily_is_left_as_it_is() -> None:
    text = "甲乙丙丁戊己庚辛壬癸" * 3
    advance = advances(text, set())
    greedy = first_fit_among(advance, break_opportunities(text), 10, 10)
    assert greedy == [10, 20] and not poor(text, advance, 10, 10, greedy)


def test_in_the_book_a_paragraph_s_last_line_is_no_runt(tmp_path: Path) -> None:
    """A paragraph of 55 Han characters on the default measure (26 on the indented first line, 28
    after): Pango leaves one character on the last line; set with its breaks chosen together, the
    last line holds two or more. Turned off (RenderOptions.total_fit), the runt is back."""
    from book.build import build
    from book.config import load_config
    from book.pdf.options import render_options

    from .helpers import write_book

    paragraph = ("天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律" * 2)[:55]
    config = load_config(write_book(tmp_path, {"seed.txt": f"标题\n\n{paragraph}\n"}))

    def last_line(folder: str) -> str:
        pdf = build(config, tmp_path / folder, ("pdf",)).outputs["pdf"]
        with pdfplumber.open(pdf) as document:
            lines = [line["text"] for page in document.pages for line in page.extract_text_lines()]
        body = [line for line in lines if set(line) <= set(paragraph)]
        return body[-1]

    assert len(last_line("fitted")) >= 2
    with render_options(total_fit=False):
        assert len(last_line("greedy")) == 1


def test_a_long_paragraph_laid_out_in_windows_has_its_breaks_chosen_together(tmp_path: Path) -> None:
    """A paragraph with more halted marks than one Pango layout takes (paragraph.py lays it out in
    windows of 24) is fitted as a whole: each window takes the chosen breaks that fall in it. Its
    last line is no runt; greedy, it is."""
    from book.pdf.options import render_options

    clause = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥，“天地”。"  # two pairs of marks that meet: 2 halts
    paragraph = clause * 16  # 32 halts: two windows
    paragraph = paragraph[: next(n for n in range(len(paragraph) - 60, len(paragraph)) if _greedy_runt(paragraph[:n]))]

    def last_line(folder: str) -> str:
        return _last_line(tmp_path / folder, paragraph)

    assert sum(1 for ch in last_line("fitted") if "\u4e00" <= ch <= "\u9fff") >= 2
    with render_options(total_fit=False):
        assert sum(1 for ch in last_line("greedy") if "\u4e00" <= ch <= "\u9fff") <= 1


def _greedy_runt(text: str) -> bool:
    """Whether greedy breaks on the default measure (26 em, then 28) leave a runt."""
    advance = advances(text, set(halt_positions(text)))
    starts = first_fit_among(advance, break_opportunities(text), 26, 28)
    return starts is not None and sum(1 for ch in text[starts[-1] :] if "\u4e00" <= ch <= "\u9fff") <= 1


def test_a_number_stays_on_the_line_of_its_unit(tmp_path: Path, monkeypatch) -> None:
    """11月2日 at every offset against the line's end: no line ends inside the date or between a
    number and its unit (rules.yaml number_units), and check's row says so. Without the word
    joiner that render.cjk_spacing puts after a number, some lines break at 11 | 月 or 2 | 日."""
    from book import blocks as render
    from book.build import build, type_areas
    from book.check import check_pdf
    from book.config import load_config

    from .helpers import write_book

    paragraphs = "\n\n".join("天" * k + "于11月2日开幕，共有500名代表与会。" + "地" * 30 for k in range(12, 30))

    def numbers_split(folder: str) -> str:
        config = load_config(write_book(tmp_path / folder, {"seed.txt": f"标题\n\n{paragraphs}\n"}))
        pdf = build(config, tmp_path / folder / "dist", ("pdf",)).outputs["pdf"]
        checks = {c.name: c for c in check_pdf(pdf, config.trim, type_areas(config))}
        return checks["numbers split"].figure

    assert render.cjk_spacing("于11月2日").count(render.NO_BREAK) == 2
    assert numbers_split("kept") == "0 breaks"
    monkeypatch.setattr(render, "NO_BREAK", "")
    assert numbers_split("split") != "0 breaks"


def test_a_paragraph_with_a_character_that_is_not_cjk_is_fitted_by_pango_s_widths(tmp_path: Path) -> None:
    """A stray ASCII mark (a backtick, as 红楼梦's digitisation left them) makes a paragraph's widths
    no longer whole ems: the backtick is shaped by Pango between two Han characters, its width
    kept, and the breaks chosen together; Pango keeps them only if that width is the one it gives
    the backtick in the paragraph. Greedy, the paragraph's last line is 宿 alone; fitted, 辰宿."""
    from book.pdf.options import render_options

    text = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜" * 2
    paragraph = text[:10] + "`" + text[10:54]

    def last_line(folder: str) -> str:
        return _last_line(tmp_path / folder, paragraph)

    assert last_line("fitted") == "辰宿"
    with render_options(total_fit=False):
        assert last_line("greedy") == "宿"


def _last_line(folder: Path, paragraph: str) -> str:
    """The last printed line of `paragraph`, built alone (after a title) as a book in `folder`."""
    from book.build import build
    from book.config import load_config

    from .helpers import write_book

    config = load_config(write_book(folder, {"seed.txt": f"标题\n\n{paragraph}\n"}))
    pdf = build(config, folder / "dist", ("pdf",)).outputs["pdf"]
    with pdfplumber.open(pdf) as document:
        lines = [line["text"] for page in document.pages for line in page.extract_text_lines()]
    return [line for line in lines if set(line) <= set(paragraph)][-1]


def test_the_compiled_programme_chooses_the_breaks_its_python_twin_chooses(monkeypatch) -> None:
    """breaking.total_fit in C (book/_speedups.c) and in Python, on paragraphs of every length from
    one line to fifty, with halts, quotes and dashes, on two measures, with marks squeezed and
    without: the same breaks."""
    from book.pdf import breaking

    from .helpers import assert_compiled

    assert_compiled("total_fit")
    clause = "甲乙丙丁，戊己庚辛壬癸：“子丑寅卯。”辰巳午未——申酉戌亥……"
    cases = []
    for length in range(5, 1400, 23):
        text = (clause * 60)[:length]
        advance = advances(text, set(halt_positions(text)))
        squeezable = squeezable_counts(text, squeezable_marks(text))
        for first, width in ((26, 28), (12.5, 14)):
            cases.append((text, advance, first, width))
            cases.append((text, advance, first, width, None, 0.04, squeezable))
    compiled = [total_fit(*case) for case in cases]
    monkeypatch.setattr(breaking, "_compiled_total_fit", None)
    assert [total_fit(*case) for case in cases] == compiled
    assert any(compiled) and any(result is None or len(result) > 40 for result in compiled)


def test_the_compiled_choice_of_breaks_is_its_python_twin_s(monkeypatch) -> None:
    """breaking.choose_breaks in C (greedy breaks, poor, total fit, the cheaper of the two, the marks
    squeezed) and in Python, on paragraphs of every length, some ending on a runt, some with
    characters narrower than an em (a digit) and breaks Pango does not allow beside them, and breaks
    beside quotation marks that only the breaks chosen take (the greedy ones do not): the same
    breaks and the same marks squeezed."""
    from book.pdf import breaking

    from .helpers import assert_compiled

    assert_compiled("choose_breaks")
    clause = "甲乙丙丁，戊己庚辛壬癸：“子丑寅卯。”辰巳午未——申酉戌亥……天地玄黄，宇宙洪荒。"
    cases = []
    for length in range(5, 1400, 17):
        text = (clause * 40)[:length]
        halts = set(halt_positions(text))
        widths = [0.5 if i in halts else 0.55 if i % 11 == 3 else 1.0 for i in range(len(text))]
        advance = list(itertools.accumulate(widths, initial=0.0))
        allowed = breaking.break_mask(text)
        for i in range(3, len(text), 11):  # no break beside the narrow characters
            allowed[i] = allowed[i + 1] = 0
        for i in breaking.quote_breaks(text, sorted(halts)):  # only where the breaks are chosen
            allowed[i] = 2
        for first, width in ((26, 28), (12.5, 14), (27, 29)):
            cases.append((text, advance, first, width, bytes(allowed), squeezable_marks(text)))
    compiled = [breaking.choose_breaks(*case) for case in cases]
    monkeypatch.setattr(breaking, "_compiled_choose_breaks", None)
    monkeypatch.setattr(breaking, "_compiled_total_fit", None)
    assert [breaking.choose_breaks(*case) for case in cases] == compiled
    assert any(result is None for result in compiled)
    assert any(result is not None and result[1] for result in compiled)  # lines that squeeze marks


def test_a_paragraph_of_several_boxes_has_its_breaks_chosen_together(tmp_path: Path) -> None:
    """A number makes a paragraph three boxes (text, the number's span with its ¼-em gaps,
    text), which WeasyPrint breaks line by line. inline_fit chooses their breaks together, inside
    the text boxes and between the boxes: of 28 such paragraphs, one for each length of the last
    line, none ends on a runt; broken line by line, some do."""
    from book.config import load_config
    from book.pdf.options import render_options

    from .helpers import write_book

    han = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳"
    paragraphs = "\n\n".join(han[:20] + "，共有500名代表与会，" + han[:k] for k in range(28))
    config = load_config(write_book(tmp_path, {"seed.txt": f"标题\n\n{paragraphs}\n"}))

    def runts(folder: str) -> str:
        _, checks = _built_and_checked(config, tmp_path / folder)
        assert checks["justification"].passed and checks["numbers split"].passed
        return checks["runts"].figure

    assert runts("fitted").startswith("0.0% of 2")
    with render_options(total_fit=False):
        assert not runts("greedy").startswith("0.0%")


def test_a_paragraph_of_several_boxes_squeezes_a_mark_to_keep_a_date_on_its_line(tmp_path: Path) -> None:
    """The default book's sentence: 11月2日 must stay whole on a line, and after 机制，11月 no
    break may come before 2日，. Line by line, the first line ends at 11月 spread 0.14 em a gap.
    Chosen together, it squeezes the comma of 同天晚上， and takes 2日， in: that comma is drawn in
    half width and the line still meets both edges (the mark is squeezed where the line is drawn
    too, justify.set_text_with_cjk_spacing)."""
    from book.config import load_config
    from book.pdf.options import render_options

    from .helpers import write_book

    paragraph = (
        "同天晚上，芦淞区启动疫情防控应急响应机制，11月2日，1办15“组”的疫情防控指挥部高速运转，"
        "区委书记和区长挂帅，29名区级领导对口下沉8个镇（街道），包括近千名援芦人员在内的1400余名医卫人员，"
        "近700名机关干部，近500名街道工作人员，1700余名小区志愿者，逆行而上，火速赶往前线。"
    )
    config = load_config(write_book(tmp_path, {"seed.txt": f"标题\n\n{paragraph}\n"}))

    def first_line(folder: str) -> tuple[str, float]:
        pdf, checks = _built_and_checked(config, tmp_path / folder)
        assert checks["justification"].passed and checks["numbers split"].passed
        line = _line_starting(pdf, "同天")
        comma, after = line["chars"][4:6]
        return line["text"], (after["x0"] - comma["x0"]) / comma["size"]

    text, comma = first_line("fitted")
    assert text.endswith("2日，") and comma < 0.6
    with render_options(total_fit=False):
        text, comma = first_line("greedy")
    assert text.endswith("11月") and comma > 1


def _built_and_checked(config: Any, folder: Path) -> tuple[Path, dict[str, Any]]:
    """The PDF of `config` built into `folder`, and check's rows on it by name."""
    from book.build import build, type_areas
    from book.check import check_pdf

    pdf = build(config, folder, ("pdf",)).outputs["pdf"]
    return pdf, {c.name: c for c in check_pdf(pdf, config.trim, type_areas(config))}


def _line_starting(pdf: Path, start: str) -> dict:
    """The first printed line of `pdf` that starts with `start`, as pdfplumber reads it."""
    with pdfplumber.open(pdf) as document:
        lines = [line for page in document.pages for line in page.extract_text_lines()]
    return next(line for line in lines if line["text"].startswith(start))


def test_a_paragraph_of_several_boxes_may_break_after_a_closing_quotation_mark(tmp_path: Path) -> None:
    """clreq lets a line end after a closing quotation mark; Pango (UAX #14 LB19) does not, so line
    by line the default book's `…麻烦开门。”11月4日` ends its first line at 开, spread 0.19 em a gap:
    门。”11月 may not be parted and does not fit. Chosen together, the line ends after ”, and the
    date begins the next; no line starts or ends with a mark clreq forbids there."""
    from book.config import load_config
    from book.pdf.options import render_options

    from .helpers import write_book

    paragraph = (
        "“有人在家没？我们是核酸采集队的队员，麻烦开门。”11月4日，建宁街道结谷街社区银河大厦的多个楼层，"
        "10名队员身着防护服，肩挎黄兜（采样物资袋和医废袋），挨家挨户敲门，为静默管理小区的住户进行入户核酸采样。"
    )
    config = load_config(write_book(tmp_path, {"seed.txt": f"标题\n\n{paragraph}\n"}))

    def first_line(folder: str) -> str:
        pdf, checks = _built_and_checked(config, tmp_path / folder)
        assert checks["line start"].passed and checks["line end"].passed and checks["justification"].passed
        return str(_line_starting(pdf, "“有人")["text"])

    assert first_line("fitted").endswith("开门。”")
    with render_options(total_fit=False):
        assert first_line("greedy").endswith("开")


def test_a_paragraph_of_one_box_may_break_before_an_opening_quotation_mark(tmp_path: Path, monkeypatch) -> None:
    """clreq lets a line end before an opening quotation mark; Pango (UAX #14 LB19) does not, and an
    attribute can only take its breaks away. So where the breaks chosen end a line there, the
    paragraph's layout ends there too, and the next one starts at the mark. The default book's
    `…这是芦淞战“疫”的速度。` is all CJK, one box: Pango ends the line at 芦淞, spread 0.04 em a
    gap; chosen together, it takes 战, and the next line starts with “. With the quote breaks taken
    away, the line ends at 淞."""
    from book.config import load_config
    from book.pdf import breaking

    from .helpers import write_book

    paragraph = (
        "第一时间发布确诊信息、行动轨迹，第一时间启动疫情防控应急响应机制……"
        "分秒必争，没有最快，只有更快。这是芦淞战“疫”的速度。"
    )
    config = load_config(write_book(tmp_path, {"seed.txt": f"标题\n\n{paragraph}\n"}))
    pdf, checks = _built_and_checked(config, tmp_path / "fitted")
    assert checks["line start"].passed and checks["line end"].passed and checks["justification"].passed
    assert _line_starting(pdf, "应急")["text"].endswith("芦淞战")
    assert _line_starting(pdf, "“疫”")["text"] == "“疫”的速度。"
    assert breaking.quote_breaks("芦淞战“疫”的", []) == [3, 6]  # before “, after ”
    assert breaking.quote_breaks("说：“走”。", [1]) == []  # ： halved before “; 。 may not start a line

    monkeypatch.setattr("book.pdf.paragraph.quote_breaks", lambda text, halts: [])
    pdf, _ = _built_and_checked(config, tmp_path / "without")
    assert _line_starting(pdf, "应急")["text"].endswith("芦淞")
