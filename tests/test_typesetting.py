"""Chinese typesetting in the PDF, measured by the preflight (`publish.py check`) on the seed and on
chapters of the corpus novels; the WeasyPrint extension it relies on; the text left unchanged."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from book.build import BuildResult, build, type_areas
from book.check import check_epub, check_pdf
from book.config import Config, load_config
from book.text import halt_positions, plan_cjk_spacing

from .helpers import ROOT, assert_compiled, assert_epubcheck_clean, corpus_file, run_publish, write_book


def first_chapters(name: str, stop: str) -> str:
    """The corpus novel up to (not including) the heading `stop`."""
    text = corpus_file(name).read_text(encoding="utf-8")
    return text[: re.search(f"^\\s*{stop}", text, flags=re.M).start()]


def preflight(result: BuildResult, config: Config) -> dict[str, object]:
    checks = check_pdf(result.outputs["pdf"], config.trim, type_areas(config))
    checks += check_epub(result.outputs["epub"])
    return {c.name: c for c in checks}


def test_preflight_passes_on_the_seed(seed_book: tuple[Config, BuildResult]) -> None:
    checks = preflight(seed_book[1], seed_book[0])
    assert [name for name, c in checks.items() if not (c.passed or c.advisory)] == []
    assert checks["justification"].figure.startswith("100.0%")


@pytest.fixture(scope="module")
def hongloumeng(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, BuildResult]:
    folder = tmp_path_factory.mktemp("hlm")
    config = load_config(
        write_book(
            folder,
            {"hlm.txt": first_chapters("hongloumeng.simp.utf8.txt", "第十一回")},
            "title: 红楼梦\nauthors: [曹雪芹]\n",
        )
    )
    return config, build(config, folder / "dist")


@pytest.mark.corpus
@pytest.mark.slow
def test_preflight_on_hongloumeng_chapters_1_to_10(hongloumeng: tuple[Config, BuildResult]) -> None:
    config, result = hongloumeng
    assert len(result.manuscript.chapters) == 10
    checks = preflight(result, config)
    assert [name for name, c in checks.items() if not (c.passed or c.advisory)] == []
    for name in ("line start", "line end", "split —— ……"):
        assert checks[name].figure.startswith("0 "), checks[name]
    rate = float(checks["justification"].figure.split("%")[0])
    assert rate >= 99.0
    assert float(checks["punctuation pairs"].figure.split("%")[0]) >= 95.0
    assert float(checks["quotation marks"].figure.split("%")[0]) >= 95.0
    assert checks["first-line indent"].figure.startswith("2.00 em")


@pytest.mark.corpus
def test_preflight_on_yulihun_finds_its_replacement_characters(tmp_path: Path) -> None:
    config = load_config(write_book(tmp_path, {"ylh.txt": first_chapters("yulihun.utf8.txt", "第六章")}))
    result = build(config, tmp_path / "dist")
    checks = preflight(result, config)
    # The text carries U+FFFD (SOURCES.md): reported, and set from the extension face, never a box.
    assert [name for name, c in checks.items() if not (c.passed or c.advisory)] == []
    assert result.manuscript.findings_of("replacement-char")
    assert not result.manuscript.findings_of("missing-glyph")


def test_check_command_rows_and_exit_code(tmp_path: Path) -> None:
    seed = "标题\n\n正文第一段，很短。\n\n无字形的\U0003fff0在这里。\n"
    config = write_book(tmp_path, {"seed.txt": seed}, "missing_glyphs: allow\n")
    assert run_publish(str(config)).returncode == 0
    result = run_publish("check", str(config))
    assert result.returncode == 1
    assert "FAIL  missing glyphs" in result.stdout and "PASS  line start" in result.stdout
    assert "Book-Serif" in result.stdout  # the face that showed its .notdef
    fresh = write_book(tmp_path / "unbuilt", {"seed.txt": "正文。\n"})
    unbuilt = run_publish("check", str(fresh))
    assert unbuilt.returncode == 5 and "not built yet" in unbuilt.stderr


def test_weasyprint_extension_is_installed_on_the_pinned_version() -> None:
    import inspect

    import weasyprint
    import weasyprint.draw.text
    from weasyprint.layout import float as float_layout
    from weasyprint.layout import inline, page
    from weasyprint.text.line_break import Layout

    from book.pdf import glyphs, justify, lines, pages, patches

    # The extension replaces these functions of WeasyPrint 70, and relies on how WeasyPrint calls
    # them; an upgrade that renames or reshapes them must fail here, not silently set ragged text.
    assert weasyprint.__version__.startswith("70.")
    patches.install()
    for patch in patches.PATCHES:  # each target exists, and is replaced once installed
        owner = patch.owner
        current = owner[patch.name] if isinstance(owner, dict) else getattr(owner, patch.name)
        assert current is patch.replacement, patch
        assert patch.why and patch.upstream.startswith(("WeasyPrint 70 ", "pydyf", "tinyhtml5")), patch
    assert inline.count_expandable_spaces is justify.count_expansion_opportunities
    assert inline.text_align is justify.text_align
    assert inline.add_word_spacing is justify.add_word_spacing
    assert inline.split_first_line is lines.split_first_line
    assert page.resolve_percentages is pages.resolve_percentages
    assert Layout.set_text is justify.set_text_with_cjk_spacing
    assert "justify_line" in justify._original_text_align.__code__.co_names
    assert "add_word_spacing" in inline.justify_line.__code__.co_names
    assert "split_first_line" in lines._original_split_text_box.__code__.co_names
    assert inline.split_text_box is lines.split_text_box
    assert inline.get_next_linebox is lines.get_next_linebox
    # The steps a plain paragraph's line takes in get_next_linebox and split_inline_box, which
    # _paragraph_linebox takes too.
    for name in ("avoid_collisions", "split_inline_box", "text_align", "line_box_verticality"):
        assert name in lines._original_get_next_linebox.__code__.co_names
    for name in ("split_text_box", "resolve_percentages"):
        assert name in inline.split_inline_level.__code__.co_names
    assert "_adjust_line_height" in inline.split_inline_box.__code__.co_names
    # A line of one text box on the baseline is placed with inline_box_verticality's and
    # aligned_subtree_verticality's steps for it (_line_box_verticality), in their order.
    for function, excerpts in (
        (inline.line_box_verticality, ("box, top_bottom_subtrees, baseline_y=0)",)),
        (
            inline.inline_box_verticality,
            (
                "if vertical_align == 'baseline':\n            child_baseline_y = baseline_y",
                "top = child_baseline_y - child.baseline",
                "child.position_y = top",
                "bottom = top + child.margin_height()",
                "if min_y is None or top < min_y:",
                "if max_y is None or bottom > max_y:",
            ),
        ),
        (
            inline.aligned_subtree_verticality,
            (
                "top = baseline_y - box.baseline",
                "bottom = top + box.margin_height()",
                "if min_y is None or top < min_y:",
            ),
        ),
    ):
        for excerpt in excerpts:
            assert excerpt in inspect.getsource(function), excerpt
    # Lines from a paragraph's layout are drawn with draw_first_line's arithmetic, repeated in
    # _show_glyphs: the same text operators, widths, kerning and ToUnicode text.
    assert weasyprint.draw.draw_text is glyphs.draw_text
    source = inspect.getsource(weasyprint.draw.text.draw_first_line)
    for line in (
        "offset = glyph_info.geometry.x_offset / font_size",
        "kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size",
        "string += f'>{int(kerning)}<'",
        "t2 = glyph_item.item.length if i == num_glyphs-1 else clusters[i+1]",
        "stream.set_font_size(font.hash, 1 if font.bitmap else font_size)",
    ):
        assert line in source, line
    # _speedups.draw_line begins and ends a line's text object as WeasyPrint's Stream does, and
    # skips set_color where it would change nothing (the colour and alpha it set are the stream's).
    from weasyprint.pdf.stream import Stream

    for method, line in (
        (Stream.begin_text, "if self.stream and self.stream[-1] == b'ET':"),
        (Stream.begin_text, "self._current_font = self._old_font"),
        (Stream.end_text, "self._old_font, self._current_font = self._current_font, None"),
        (Stream.set_color, "if (color.space, *channels) == self._current_color:"),
        (Stream.set_alpha, "if key != self._current_alpha:"),
        (Stream.set_font_size, "if (font, size) == self._current_font:"),
    ):
        assert line in inspect.getsource(method), line
    # A justified line's layout was a new one of the box's text (now a copy of the box's own).
    assert "create_layout" in justify._original_add_word_spacing.__code__.co_names
    # A plain line's bounds are avoid_collisions' without floats (_line_bounds), in its order.
    source = inspect.getsource(float_layout.avoid_collisions)
    for line in (
        "max_left_bound = containing_block.content_box_x()",
        "max_right_bound = max_left_bound + containing_block.width",
        "max_left_bound += box.margin_left",
        "max_right_bound -= box.margin_right",
        "position_x = max_left_bound",
        "available_width = max_right_bound - max_left_bound",
        "position_x -= box.margin_left",
        "position_y -= box.margin_top",
    ):
        assert line in source, line
    # Page styles are set once a page, by set_page_type_computed_styles (shared by _set_page_type_computed_styles).
    assert page.set_page_type_computed_styles is pages.set_page_type_computed_styles
    assert "set_page_type_computed_styles" in page.remake_page.__code__.co_names
    # Margin boxes without content get a width, a height and spacing of 0 after resolve_percentages.
    source = inspect.getsource(page.make_margin_boxes)
    assert "resolve_percentages(box, containing_block)\n        if not box.is_generated:" in source
    assert "box.width = box.height = 0" in source and "box._reset_spacing(side)" in source


def test_a_paragraph_laid_out_at_once_breaks_and_sets_as_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from book import build as build_module
    from book.pdf import options, paragraph

    monkeypatch.setattr(build_module, "print_ahead", lambda *_: None)  # printed here, where it is counted
    # Dialogue: many pairs of marks meet and are set in half width, more than the 32 font features
    # Pango gives one run of text. Digits and Latin letters make inline boxes of their own (a
    # ¼-em gap), so that paragraph is many text boxes.
    dialogue = "他说：“好。”她答：“是——《红楼梦》。”" * 40
    mixed = "".join(f"第{i}回见Python，" for i in range(60)) + "完。"
    text = "标题\n\n" + dialogue + "\n\n短的一段。\n\n" + mixed + "\n\n" + "甲" * 300 + "。\n"
    config = load_config(write_book(tmp_path, {"seed.txt": text}))
    laid_out: list[int] = []
    lay_out = paragraph._lay_out_paragraph
    monkeypatch.setattr(paragraph, "_lay_out_paragraph", lambda *a: laid_out.append(1) or lay_out(*a))

    def pdf(name: str) -> bytes:
        return build(config, tmp_path / name, ("pdf",)).outputs["pdf"].read_bytes()

    # Pango's greedy breaks, as WeasyPrint takes them line by line (the breaks chosen together,
    # total_fit, are tested in test_breaking.py).
    with options.render_options(total_fit=False):
        at_once = pdf("at-once")
        assert laid_out
        with options.render_options(paragraph_layout=False):
            line_by_line = pdf("line-by-line")
        assert at_once == line_by_line  # same breaks, same widths, same glyphs: byte for byte
        # Laid out whole, the paragraph's first marks would lose half width: the comparison sees it.
        monkeypatch.setattr(paragraph, "_HALTS_PER_LAYOUT", 10**6)
        assert pdf("uncut") != line_by_line


def _characters(path: Path) -> list[tuple[int, str, float, float, float]]:
    """Every character pdfplumber reads: page, text, left, top and right, in points."""
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [(n, c["text"], c["x0"], c["top"], c["x1"]) for n, page in enumerate(pdf.pages) for c in page.chars]


# Justified lines (letter-spaced CJK), half-width marks, Latin words with spaces, combining marks
# (raised: a y offset) and invisible characters (empty glyphs), right-to-left letters (WeasyPrint's
# own way), and two chapters: the contents' leader dots are copies of one text box.
_GLYPH_KINDS = (
    "# 第一章 开始\n\n"
    + "他说：“好。”她答：“是——《红楼梦》。”Café Q\u0307 甲\u2060乙\u200d丙 العربية done。" * 12
    + "\n\n# 第二章 结束\n\n"
    + "甲" * 200
    + "。\n"
)
# Arabic is in no face of the book: printed in a system font, as the test wants (right-to-left text).
_ALLOW = "missing_glyphs: allow\n"


def test_text_drawn_from_its_glyphs_is_where_weasyprint_draws_it_and_justified_lines_end_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from book import build as build_module
    from book.pdf import glyphs, options

    monkeypatch.setattr(build_module, "print_ahead", lambda *_: None)  # printed here
    config = load_config(write_book(tmp_path, {"seed.txt": _GLYPH_KINDS}, _ALLOW))
    drawn: set[int] = set()  # the glyphs drawn from their runs
    runs_to_draw, draw_line = glyphs._runs_to_draw, glyphs._compiled_draw_line

    def noted(stream: object, layout: object, fonts: object) -> object:  # a standalone line (or any, without C)
        runs = runs_to_draw(stream, layout, fonts)  # type: ignore[arg-type]
        drawn.update(glyph for run in runs or () for glyph in memoryview(run[6]).cast("i")[0::5])
        return runs

    def noted_line(stream: object, layout: object, *rest: object) -> object:  # a paragraph's, in C
        done = draw_line(stream, layout, *rest)  # type: ignore[misc]
        if done is None:
            drawn.update(glyph for run in layout.runs for glyph in memoryview(run[3]).cast("i")[0::5])  # type: ignore[attr-defined]
        return done

    monkeypatch.setattr(glyphs, "_runs_to_draw", noted)
    if draw_line is not None:
        monkeypatch.setattr(glyphs, "_compiled_draw_line", noted_line)
    from_glyphs = build(config, tmp_path / "from-glyphs", ("pdf",)).outputs["pdf"]
    assert glyphs._EMPTY_GLYPH in drawn and len(drawn) > 50
    with options.render_options(glyph_drawing=False):
        as_weasyprint = build(config, tmp_path / "as-weasyprint", ("pdf",)).outputs["pdf"]
    ours, theirs = _characters(from_glyphs), _characters(as_weasyprint)
    assert [c[:2] for c in ours] == [c[:2] for c in theirs]  # the same text on the same pages
    # WeasyPrint cuts each glyph's adjustment to a whole thousandth of an em: its characters drift
    # by up to 0.15 pt along a line here. Every character is where it draws it, give or take that.
    for mine, its in zip(ours, theirs, strict=True):
        assert abs(mine[2] - its[2]) < 0.3 and abs(mine[3] - its[3]) < 0.01, (mine, its)
    # The 甲 paragraph's full lines (the first, indented, has two characters fewer) end on the
    # measure alike: no error adds up along a line. WeasyPrint's end 0.03 pt apart.
    lines: dict[tuple[int, float], list[tuple[int, str, float, float, float]]] = {}
    for c in ours:
        lines.setdefault((c[0], round(c[3], 1)), []).append(c)
    ends = [max(c[4] for c in line) for line in lines.values() if "".join(c[1] for c in line) == "甲" * len(line)]
    assert len(ends) >= 6 and max(ends) - min(ends) < 0.01, ends


def test_the_compiled_glyph_loops_write_what_the_python_loops_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from book import build as build_module
    from book.pdf import glyphs

    assert_compiled("show_run", "draw_line")
    monkeypatch.setattr(build_module, "print_ahead", lambda *_: None)  # printed here
    config = load_config(write_book(tmp_path, {"seed.txt": _GLYPH_KINDS}, _ALLOW))
    compiled, shown = glyphs._show_run, []
    monkeypatch.setattr(glyphs, "_show_run", lambda *args: shown.append(compiled(*args)) or shown[-1])
    compiled_line, drawn = glyphs._compiled_draw_line, []
    monkeypatch.setattr(glyphs, "_compiled_draw_line", lambda *args: drawn.append(compiled_line(*args)) or drawn[-1])
    # No width measured yet in this process: the C measures each glyph through its callback the
    # first time, and takes it from those measured after that (the Python loop, from those only).
    monkeypatch.setattr(glyphs, "_MEASURED", {})
    in_c = build(config, tmp_path / "c", ("pdf",)).outputs["pdf"].read_bytes()
    assert glyphs._MEASURED
    # The standalone lines' runs (headings, the contents, running heads) shown in C: no glyph of
    # these fonts is raised. The paragraphs' lines drawn in C, each page's fonts added on the way.
    assert len(shown) > 20 and None not in shown
    assert drawn.count(None) >= 10 and any(type(done) is int for done in drawn) and True not in drawn
    monkeypatch.setattr(glyphs, "_show_run", None)
    monkeypatch.setattr(glyphs, "_compiled_draw_line", None)
    in_python = build(config, tmp_path / "python", ("pdf",)).outputs["pdf"].read_bytes()
    assert in_c == in_python


def test_a_paragraph_is_laid_out_once_across_page_turns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A paragraph over several pages is laid out once, window by window (two: the commas its
    lines squeeze to fit are 25 features and more), though its width differs by some 1e-8 pt
    between left and right pages (paragraph._same_measure). Compared exactly, every page turn (six
    a paragraph) laid out the rest again."""
    from book import build as build_module
    from book.pdf import lines, paragraph

    monkeypatch.setattr(build_module, "print_ahead", lambda *_: None)  # printed here
    text = "甲乙丙丁戊己庚辛壬癸，" * 400  # 4,400 characters
    config = load_config(write_book(tmp_path, {"seed.txt": f"标题\n\n{text}\n\n{text}\n"}))
    widths: set[float] = set()
    laid_out: list[int] = []
    line, lay_out = lines.paragraph_line, paragraph._lay_out_paragraph

    def measured(context: object, box: object, width: float | None, *rest: object) -> object:
        if len(box.text) > 1000:  # type: ignore[attr-defined]
            widths.add(width)  # type: ignore[arg-type]
        return line(context, box, width, *rest)  # type: ignore[arg-type]

    def noted(context: object, box: object, width: float, skip: int, first_width: float) -> object:
        if len(box.text) > 1000:  # type: ignore[attr-defined]
            laid_out.append(skip)
        return lay_out(context, box, width, skip, first_width)  # type: ignore[arg-type]

    monkeypatch.setattr(lines, "paragraph_line", measured)
    monkeypatch.setattr(paragraph, "_lay_out_paragraph", noted)
    result = build(config, tmp_path / "dist", ("pdf",))
    assert result.pages >= 8 and len(widths) == 2  # over left and right pages, of two widths
    half = len(laid_out) // 2
    assert laid_out[:half] == laid_out[half:] and len(laid_out) <= 6  # the same windows, each once
    assert laid_out[:half] == sorted(set(laid_out[:half]))


@given(st.floats(1, 2000), st.floats(0, 2 / 1024), st.integers(-2, 2))
def test_lines_of_the_same_measure_overflow_alike(width: float, more: float, offset: int) -> None:
    """_same_measure(a, b) holds exactly when every line, a whole number of Pango units wide,
    overflows a and b alike: lines laid out at one are those of the other."""
    from book.pdf.paragraph import _same_measure

    other, units = width + more, int(width * 1024) + offset
    if _same_measure(width, other):
        assert ((units / 1024) > width) == ((units / 1024) > other)  # a line near the measure
    else:
        lines = range(int(width * 1024) - 1, int(other * 1024) + 2)
        assert any((k / 1024 > width) != (k / 1024 > other) for k in lines)


def test_the_compiled_paragraph_lines_are_those_of_the_python_twin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every paragraph's layout of a book taken by both: the same lines (their ends, extents, runs
    and glyphs), the same left to WeasyPrint, the same fonts. Every line's text box made by both:
    And the same PDF."""
    import random

    from book import build as build_module
    from book.pdf import paragraph

    assert_compiled("paragraph_lines")
    compiled = paragraph._compiled_paragraph_lines
    monkeypatch.setattr(build_module, "print_ahead", lambda *_: None)  # printed here
    # Lines that end on a letter that is not CJK (left to WeasyPrint: Greek, which has no ¼-em gap
    # of its own), on 4-byte characters (CJK Extension B), a word wider than the measure
    # (overflowing), paragraphs long enough to be laid out in windows.
    pieces = ["甲", "乙丙", "的了", "。", "，", "“", "”", "——", "……", "αβγ", "-", "𠀋𠀡", "《红楼梦》"]
    rng = random.Random(7)
    paragraphs = ["".join(rng.choice(pieces) for _ in range(rng.randrange(20, 600))) for _ in range(24)]
    wide = "甲" * 30 + "α" * 80 + "乙" * 30
    text = _GLYPH_KINDS + "\n\n".join([*paragraphs, wide]) + "\n"
    config = load_config(write_book(tmp_path, {"seed.txt": text}, _ALLOW))
    taken: list[paragraph.Line | None] = []

    def both(address: int, extents: int, limit: int, skip: int, length: int, *rest: object) -> set[int]:
        first_width, width, _, _, _, shaped, out = rest
        in_python: dict[int, object] = {}
        lines = paragraph.ffi.cast("GSList *", address)
        fonts = paragraph._python_paragraph_lines(lines, limit, skip, length, first_width, width, shaped, in_python)
        assert compiled(address, extents, limit, skip, length, *rest) == fonts
        assert list(out.items()) == list(in_python.items())  # type: ignore[attr-defined]
        taken.extend(out.values())  # type: ignore[attr-defined]
        return fonts

    monkeypatch.setattr(paragraph, "_compiled_paragraph_lines", both)
    in_c = build(config, tmp_path / "c", ("pdf",)).outputs["pdf"].read_bytes()
    kept = [line for line in taken if line is not None]
    assert len(kept) > 100 and len(taken) - len(kept) >= 5  # lines kept, and lines left to WeasyPrint
    assert any(line.resume_at is None for line in kept)  # a paragraph's last line
    assert any(len(run[3]) > 20 for line in kept for run in line.runs)  # runs with many glyphs
    monkeypatch.setattr(paragraph, "_compiled_paragraph_lines", None)
    in_python = build(config, tmp_path / "python", ("pdf",)).outputs["pdf"].read_bytes()
    assert in_c == in_python


class _Operators:
    """The operators _show_glyphs writes, as a list: a stand-in for WeasyPrint's stream."""

    def __init__(self) -> None:
        self.stream: list[object] = []

    def show_text(self, text: str) -> None:
        self.stream.append(("TJ", text))

    def set_font_size(self, font: str, size: float) -> None:
        self.stream.append(("Tf", font, size))

    def set_text_rise(self, rise: float) -> None:
        self.stream.append(("Ts", rise))


# A glyph: the character, its glyph (or PANGO_GLYPH_EMPTY), its width in the face (thousandths of
# an em), Pango's width, x offset and y offset (Pango units), and whether justification spaces it.
# Widths and offsets in steps of 512 Pango units at 8 pt make adjustments that end in exactly .5,
# where Python's round() goes to the even number.
_GLYPH = st.tuples(
    st.sampled_from("甲乙“”。ab"),
    st.sampled_from([3, 4, 7, 0x0FFFFFFF]),
    st.sampled_from([1000, 500, 625, 280]),
    st.integers(0, 24).map(lambda n: n * 512),
    st.integers(-2, 2).map(lambda n: n * 512),
    st.sampled_from([0] * 9 + [512]),
    st.booleans(),
)


def _line_of(
    glyphs: list[tuple[str, int, int, int, int, int, bool]], split: int
) -> tuple[bytes, bytearray, list[int], list[tuple[int, int]]]:
    """The text of generated glyphs (_GLYPH), its flags (1 at a spaced character's first byte),
    where each glyph's character begins (in bytes) and its runs (first and end glyph), split at
    `split`."""
    encoded = "".join(g[0] for g in glyphs).encode()
    spaced = bytearray(len(encoded))
    starts = [len("".join(g[0] for g in glyphs[:i]).encode()) for i in range(len(glyphs))]
    for start, glyph in zip(starts, glyphs, strict=True):
        spaced[start] = glyph[6]
    split = min(split, len(glyphs))
    items = [(0, split), (split, len(glyphs))] if 0 < split < len(glyphs) else [(0, len(glyphs))] if glyphs else []
    return encoded, spaced, starts, items


@settings(max_examples=300, deadline=None)
@given(
    glyphs=st.lists(_GLYPH, min_size=1, max_size=12),
    split=st.integers(0, 12),
    font_sizes=st.sampled_from([(8.0, 8.0), (8.0, 10.5), (10.5, 12.0)]),
    spacing=st.sampled_from([0, 0.5, 1.0, 1.37]),
)
def test_the_compiled_glyph_loop_shows_any_run_as_the_python_loop_shows_it(
    glyphs: list[tuple[str, int, int, int, int, int, bool]],
    split: int,
    font_sizes: tuple[float, float],
    spacing: float,
) -> None:
    from book.pdf import glyphs as drawing

    assert_compiled("show_run")
    encoded, spaced, starts, items = _line_of(glyphs, split)

    def show(compiled: bool) -> tuple[list[object], list[dict[int, object]]]:
        faces = [SimpleNamespace(hash=f"F{n}", widths={}, to_unicode={}) for n in range(2)]
        runs = []
        for n, (first, end) in enumerate(items):
            offset = starts[first]
            length = (starts[end] if end < len(glyphs) else len(encoded)) - offset
            run_glyphs = glyphs[first:end]
            infos = b"".join(struct.pack("=IiiiI", g[1], g[3], g[4], g[5], 0) for g in run_glyphs)
            clusters = struct.pack(f"={len(run_glyphs)}i", *(starts[i] - offset for i in range(first, end)))
            measured = {g[1]: g[2] for g in run_glyphs}
            runs.append((faces[n], f"pango{n}", font_sizes[n], measured, offset, length, infos, clusters))
        layout = SimpleNamespace(
            justification_spacing=spacing, spaced_by=0, shaped=SimpleNamespace(encoded=encoded, spaced=bytes(spaced))
        )
        operators = _Operators()
        show_run = drawing._show_run
        drawing._show_run = show_run if compiled else None
        try:
            drawing._show_glyphs(operators, layout, runs, spacing)  # type: ignore[arg-type]
        finally:
            drawing._show_run = show_run
        return operators.stream, [d for face in faces for d in (face.widths, face.to_unicode)]

    in_c, in_python = show(True), show(False)
    assert in_c == in_python
    assert [list(d.items()) for d in in_c[1]] == [list(d.items()) for d in in_python[1]]  # in the same order


def _draw_line_both_ways(
    glyphs: list[tuple[str, int, int, int, int, int, bool]],
    split: int,
    same_font: bool,
    font_sizes: tuple[float, float],
    spacing: float,
    at: tuple[float, float],
    before: str,
    measured_before: bool,
    recolour: bool = False,
) -> list[tuple[object, ...]]:
    """A line of `glyphs` (in two runs, split at `split`) drawn into a WeasyPrint stream by
    _speedups.draw_line and by its twin: for each, what it returned, the operators, the stream's
    current font, the fonts' widths and texts (in the order noted) and the glyphs measured."""
    from tinycss2.color4 import parse_color
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.pdf.stream import Stream

    from book.pdf import glyphs as drawing

    encoded, spaced, starts, items = _line_of(glyphs, split)
    widths = {g[1]: g[2] for g in glyphs}  # the glyphs' widths in their fonts
    calls: list[tuple[object, int]] = []

    def measure(stream: object, pango_font: object, size: float, measured: dict, noted: dict, glyph: int) -> int:
        if glyph not in measured:  # as _measure_glyph, which measures it in Pango
            calls.append((pango_font, glyph))
            measured[glyph] = widths[glyph]
        noted[glyph] = measured[glyph]
        return measured[glyph]  # type: ignore[no-any-return]

    drawn = []
    for draw in (drawing._compiled_draw_line, drawing._python_draw_line):
        for measured in [key for key in drawing._MEASURED if key[0] in ("F0", "F1")]:  # these faces only
            del drawing._MEASURED[measured]
        faces = [SimpleNamespace(hash=f"F{n}", widths={}, to_unicode={}) for n in range(2)]
        fonts, runs = {}, []
        for n, (first, end) in enumerate(items):
            n = 0 if same_font else n
            offset = starts[first]
            length = (starts[end] if end < len(glyphs) else len(encoded)) - offset
            run_glyphs = glyphs[first:end]
            infos = b"".join(struct.pack("=IiiiI", g[1], g[3], g[4], g[5], 0) for g in run_glyphs)
            clusters = struct.pack(f"={len(run_glyphs)}i", *(starts[i] - offset for i in range(first, end)))
            runs.append((1000 + n, offset, length, infos, clusters))
            fonts[1000 + n] = drawing._PageFont.of(faces[n], f"pango{n}", font_sizes[n], None, True)
            if measured_before:
                fonts[1000 + n].measured.update((g[1], g[2]) for g in run_glyphs)
        shaped = SimpleNamespace(encoded=encoded, spaced=bytes(spaced))
        layout = SimpleNamespace(runs=tuple(runs), shaped=shaped, spaced_by=0)
        stream = Stream({}, None, {"ExtGState": {}}, {}, {}, {}, None)
        if before == "ET":  # a text object just ended: begin_text takes it up again, with its font
            stream.begin_text(), stream.set_font_size("F0", font_sizes[0]), stream.end_text()
        elif before == "font":
            stream.set_font_size("F1", font_sizes[1])
        done = draw(stream, layout, INITIAL_VALUES["color"], spacing, *at, fonts, measure)  # type: ignore[arg-type]
        if done is None:  # and the line below it: the text object taken up again
            if recolour:  # something else drawn in another colour between them
                stream.set_color(parse_color("red"))
            done = draw(stream, layout, INITIAL_VALUES["color"], spacing, at[0], at[1] + 12, fonts, measure)  # type: ignore[arg-type]
        noted = [list(d.items()) for face in faces for d in (face.widths, face.to_unicode)]
        drawn.append((done, stream.stream, stream._current_font, noted, calls[:]))
        calls.clear()
    return drawn


# _draw_line_both_ways' arguments: glyphs, where the second run begins, whether both runs are in
# one font, the fonts' sizes, the justification, where the line begins, what the stream holds
# before it, whether the glyphs' widths were measured before, and a colour set between two lines.
_LINES = st.tuples(
    st.lists(_GLYPH, min_size=0, max_size=12),
    st.integers(0, 12),
    st.booleans(),
    st.sampled_from([(8.0, 8.0), (8.0, 10.5), (10.5, 12.0)]),
    st.sampled_from([0, 0.5, 1.0, 1.37, -0.25, -0.3]),
    st.tuples(st.sampled_from([0, 72.0, 56.6929, -3.5, 1e-7, -0.0]), st.sampled_from([0.0, 100.25, 841.89, 1e21])),
    st.sampled_from(["", "ET", "font"]),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(line=_LINES)
def test_the_compiled_line_drawing_writes_what_the_python_twin_writes(line: tuple[object, ...]) -> None:

    assert_compiled("draw_line")
    in_c, in_python = _draw_line_both_ways(*line)  # type: ignore[arg-type]
    assert in_c == in_python
    assert in_c[0] is None and any(b" Tm" in operator for operator in in_c[1])


def test_the_compiled_line_drawing_writes_nothing_for_a_line_it_does_not_draw() -> None:
    """A font the page lacks (its address comes back), a glyph no font has and a colour font
    (False: WeasyPrint draws the line): nothing is written, as by the twin."""
    from book.pdf import glyphs

    assert_compiled("draw_line")
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.pdf.stream import Stream

    glyph = ("甲", 3, 1000, 10240, 0, 0, True)
    unknown = ("甲", 0x10000000 + ord("甲"), 1000, 10240, 0, 0, True)
    arguments = (1, False, (10.5, 12.0), 0.5, (72.0, 100.0), "", True)
    in_c, in_python = _draw_line_both_ways([glyph, unknown], *arguments)
    assert in_c == in_python and in_c[0] is False and in_c[1] == []
    # One run of 甲 in the font at address 1000
    run = (1000, 0, 3, struct.pack("=IiiiI", 3, 10240, 0, 0, 0), struct.pack("=i", 0))
    shaped = SimpleNamespace(encoded="甲".encode(), spaced=b"\x01\0\0")
    layout = SimpleNamespace(runs=(run,), shaped=shaped, spaced_by=0)
    stream = Stream({}, None, {"ExtGState": {}}, {}, {}, {}, None)
    color = INITIAL_VALUES["color"]
    assert glyphs._compiled_draw_line(stream, layout, color, 0, 0, 0, {}, None) == 1000  # not the page's yet
    assert stream.stream == []
    face = SimpleNamespace(hash="F0", widths={}, to_unicode={})
    colour_font = {1000: glyphs._PageFont.of(face, "pango", 10.5, None, drawable=False)}
    for draw in (glyphs._compiled_draw_line, glyphs._python_draw_line):
        assert draw(stream, layout, color, 0, 0, 0, colour_font, None) is False  # type: ignore[arg-type]
        assert stream.stream == []


def test_boxes_without_backgrounds_are_laid_out_as_weasyprint_lays_them_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from book import build as build_module
    from book.pdf import pages

    monkeypatch.setattr(build_module, "print_ahead", lambda *_: None)  # printed here
    # Backgrounds, rounded and percentage corners, shadows and hidden text among plain boxes.
    styles = tmp_path / "styles" / "print"
    styles.mkdir(parents=True)
    css = (Path(__file__).resolve().parent.parent / "styles" / "print" / "print.css").read_text(encoding="utf-8")
    css += """
    blockquote { background: #eee; border-radius: 10% 2mm; }
    blockquote p { border: 1pt solid black; border-top-left-radius: 3pt; }
    h1 { background-color: #ddd; }
    h1 + p { background-color: transparent; box-shadow: 1pt 1pt 2pt gray; }
    li { visibility: hidden; background: yellow; }
    """
    (styles / "print.css").write_text(css, encoding="utf-8")
    text = "# 第一章 开始\n\n段落一。\n\n> 引文，有底色。\n\n- 隐藏的条目\n\n段落二。\n"
    config = load_config(write_book(tmp_path, {"seed.md": text}, "styles: styles\n"))
    plain: list[bool] = []
    nothing_behind = pages._nothing_behind
    monkeypatch.setattr(pages, "_nothing_behind", lambda style: plain.append(nothing_behind(style)) or plain[-1])
    quick = build(config, tmp_path / "quick", ("pdf",)).outputs["pdf"].read_bytes()
    assert True in plain and False in plain
    monkeypatch.setattr(pages, "_nothing_behind", lambda style: False)  # every box the original way
    assert build(config, tmp_path / "original", ("pdf",)).outputs["pdf"].read_bytes() == quick


def test_pages_that_the_same_page_rules_match_share_their_styles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weasyprint.layout.page

    from book import build as build_module
    from book.pdf import pages

    monkeypatch.setattr(build_module, "print_ahead", lambda *_: None)  # printed here, where it is counted
    # Chapters open on rectos (:nth(1 of chapter), a blank verso before some), running heads differ
    # on versos and rectos, the front matter has pages of its own kinds.
    chapters = "".join(f"第{n}章　回目{n}\n\n" + ("正文" * 40 + "。\n\n") * (n * 10) for n in range(1, 6))
    config = load_config(write_book(tmp_path, {"seed.txt": "书名\n\n" + chapters}))
    cascades: list[int] = []
    cascade = pages._original_set_page_type_computed_styles
    counted = lambda *a: cascades.append(1) or cascade(*a)  # noqa: E731
    monkeypatch.setattr(pages, "_original_set_page_type_computed_styles", counted)

    shared = build(config, tmp_path / "shared", ("pdf",))
    assert 0 < len(cascades) < shared.pages / 3
    monkeypatch.setattr(weasyprint.layout.page, "set_page_type_computed_styles", cascade)
    each = build(config, tmp_path / "each", ("pdf",))
    assert shared.outputs["pdf"].read_bytes() == each.outputs["pdf"].read_bytes()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("他说：“你好。”", [("他说：“你好。”", "")]),
        ("11月1日", [("11", "latin-after"), ("月", ""), ("1", "latin-both"), ("日", "")]),
        ("用Python写", [("用", ""), ("Python", "latin-both"), ("写", "")]),
        ("English only.", [("English only.", "")]),
        ("见Python.", [("见", ""), ("Python", "latin-before"), (".", "")]),
    ],
)
def test_spacing_plan_keeps_the_text(text: str, expected: list[tuple[str, str]]) -> None:
    plan = plan_cjk_spacing(text)
    assert plan == expected
    assert "".join(segment for segment, _ in plan) == text


@pytest.mark.parametrize(
    "text,expected",
    [
        ("他说：“你好。”", "：。"),  # a closing mark before an opening or a closing mark
        ("（镇）。", "）"),
        ("“《红楼梦》”", "《》"),  # an opening mark after an opening mark
        ("你好。", ""),  # a mark alone keeps its full width
    ],
)
def test_marks_that_meet_are_set_in_half_width(text: str, expected: str) -> None:
    assert "".join(text[i] for i in halt_positions(text)) == expected


def test_widow_check_fails_on_a_lone_line() -> None:
    from book.check import Line, _widows_and_orphans

    def line(page: int, x0: float, width: float = 300) -> Line:
        return Line(page, 1, [{"text": "字", "x0": x0, "x1": x0 + width}])

    # A paragraph whose first line is alone at the foot of page 1, its 3 others on page 2.
    lines = [line(1, 21), line(2, 0), line(2, 0), line(2, 0, 100)]
    kinds = ["text"] * 3 + ["end"]
    edges = {1: (0, 321), 2: (0, 321)}
    # Page 1's edges come from its only (indented) line; give it the same type area as page 2.
    check = _widows_and_orphans(lines, kinds, edges, em=10.5)
    assert not check.passed and "1 line(s) before the break" in check.examples[0]
    fine = [line(1, 21), line(1, 0), line(2, 0), line(2, 0, 100)]
    assert _widows_and_orphans(fine, kinds, edges, em=10.5).passed


def test_a_dash_never_begins_a_line(tmp_path: Path) -> None:
    import subprocess

    # 28 characters fill a line of the default page; the first line, indented 2 em, takes 26, so
    # the dash falls exactly at the start of the second line unless it is kept with the 甲 before it.
    text = "标题\n\n" + "甲" * 26 + "——乙乙乙" + "丙" * 40 + "。\n"
    config = load_config(write_book(tmp_path, {"seed.txt": text}))
    result = build(config, tmp_path / "dist")
    lines = subprocess.run(
        ["pdftotext", "-layout", str(result.outputs["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout.split()
    body = [line for line in lines if line.startswith(("甲", "—", "乙", "丙"))]
    assert body[0] == "甲" * 25, body  # one 甲 goes down with the dash
    assert body[1].startswith("甲——乙乙乙"), body
    assert preflight(result, config)["line start"].passed


def test_line_start_check_judges_broken_lines_not_paragraph_starts() -> None:
    from book.check_lines import Line, line_breaking

    def line(page: int, x0: float, text: str, step: float = 10) -> Line:
        return Line(
            page, 1, [{"text": ch, "x0": x0 + step * i, "x1": x0 + step * (i + 1)} for i, ch in enumerate(text)]
        )

    edges = {1: (0, 300)}
    kinds = ["text", "text", "end"]
    # A paragraph that begins with a dash (indented 2 em), then a full line, then a line that a
    # break began with a dash.
    lines = [line(1, 21, "——打一果名．"), line(1, 0, "猴子身轻站树梢", 300 / 7), line(1, 0, "——打一用物．")]
    start = line_breaking(lines, kinds, edges, em=10.5)[0]
    assert not start.passed and start.figure == "1 lines" and "——打一用物" in start.examples[0]
    lines[2] = line(1, 21, "——打一用物．")  # indented: a new paragraph
    assert line_breaking(lines, kinds, edges, em=10.5)[0].passed


@pytest.mark.java
@pytest.mark.slow
def test_a_configured_fallback_font_sets_what_the_book_fonts_lack(tmp_path: Path) -> None:
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    # A tiny fallback font with one glyph, for 𓀀 (U+13000), which the Noto CJK faces lack.
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0)), pen.lineTo((900, 0)), pen.lineTo((900, 800)), pen.lineTo((100, 800)), pen.closePath()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "smile"])
    builder.setupCharacterMap({0x13000: "smile"})
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "smile": pen.glyph()})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "smile": (1000, 100)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "Test Fallback", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(tmp_path / "fallback.ttf")

    config = load_config(write_book(tmp_path, {"seed.txt": "标题\n\n象形𓀀在这里。\n"}, "fallback_font: fallback.ttf\n"))
    result = build(config, tmp_path / "dist")
    assert not result.manuscript.findings_of("missing-glyph")
    assert_epubcheck_clean(result.outputs["epub"])
    checks = preflight(result, config)
    assert checks["missing glyphs"].passed and checks["fonts"].passed
    import subprocess

    fonts = subprocess.run(["pdffonts", str(result.outputs["pdf"])], capture_output=True, text=True).stdout
    assert "Book-Fallback" in fonts  # the @font-face family of the configured fallback
    import io

    import pikepdf
    from fontTools.ttLib import TTFont

    # Its subset is a TrueType program, compressed by the assembler: /Length1 is its length before.
    with pikepdf.open(result.outputs["pdf"]) as pdf:
        fonts = {str(f.BaseFont): f for page in pdf.pages for f in page.Resources.Font.values()}
        fallback = next(f for name, f in fonts.items() if name.endswith("Book-Fallback"))
        program_file = fallback.DescendantFonts[0].FontDescriptor.FontFile2
        program = program_file.read_bytes()
        assert program_file.Filter == "/FlateDecode" and program_file.Length1 == len(program)
    assert TTFont(io.BytesIO(program))["name"].getDebugName(1) == "Test Fallback"


@pytest.mark.java
@pytest.mark.slow
def test_book_yaml_can_set_the_body_face(tmp_path: Path) -> None:
    import io
    import shutil

    import pikepdf
    from fontTools.ttLib import TTFont

    from book.fonts import DEFAULT_FACES

    shutil.copy(DEFAULT_FACES[1].path, tmp_path / "MyBody.otf")  # the bold sans as the body face
    config = load_config(write_book(tmp_path, {"seed.txt": "标题\n\n正文在这里。\n"}, "body_font: MyBody.otf\n"))
    result = build(config, tmp_path / "dist")
    assert_epubcheck_clean(result.outputs["epub"])
    import zipfile

    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        assert any(name.endswith("fonts/MyBody.otf") for name in epub.namelist())
    with pikepdf.open(result.outputs["pdf"]) as pdf:
        fonts = {str(f.BaseFont): f for page in pdf.pages for f in page.Resources.Font.values()}
        body = next(f for name, f in fonts.items() if name.endswith("Book-Serif"))
        program = body.DescendantFonts[0].FontDescriptor.FontFile3.read_bytes()
    assert TTFont(io.BytesIO(program))["name"].getDebugName(1) == "Noto Sans CJK SC"
    with pytest.raises(Exception, match="body_font"):
        load_config(write_book(tmp_path / "other", {"seed.txt": "文\n"}, "body_font: ../MyBody.otf\n"))


def test_importing_the_package_changes_no_other_library() -> None:
    """Importing every module of book (the PDF writer included) leaves WeasyPrint's, pydyf's and
    tinyhtml5's functions, ctypes' library search and sys.modules as they were: the changes in
    patches.PATCHES are made by install(), which each render calls."""
    program = """
import ctypes.util, importlib, pkgutil, sys
search = ctypes.util.find_library
import book
for module in pkgutil.walk_packages(book.__path__, "book."):
    importlib.import_module(module.name)
from book.pdf.patches import PATCHES
from book.pdf.patches import install
def applied(patch):
    owner = patch.owner
    return (owner.get(patch.name) if isinstance(owner, dict) else getattr(owner, patch.name)) is patch.replacement
assert ctypes.util.find_library is search
assert not [name for name, module in sys.modules.items() if type(module).__name__ == "_OnFirstCall"]
assert not [patch.name for patch in PATCHES if applied(patch)], "changed on import"
install()
assert all(applied(patch) for patch in PATCHES)
print(len(PATCHES))
"""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 19


def test_runts_stretched_lines_and_split_numbers_are_read_from_the_lines() -> None:
    """check's three line-quality rows on hand-made lines: a paragraph ending on one character is a
    runt (advisory), a line whose Han characters stand 0.2 em apart is stretched (advisory), and a
    line ending 11 before a line starting 月 splits a number (a fault)."""
    from book.check_lines import Line, line_quality

    em = 10.0

    def line(x0: float, text: str, step: float = em) -> Line:
        return Line(1, 1, [{"text": ch, "x0": x0 + step * i, "x1": x0 + step * (i + 1)} for i, ch in enumerate(text)])

    edges = {1: (0, 100)}
    lines = [line(20, "甲乙丙丁戊己庚辛"), line(0, "甲乙丙丁戊己庚11", 11.5), line(0, "月。")]
    kinds = ["text", "text", "end"]
    rows = {c.name: c for c in line_quality(lines, kinds, edges, em)}
    assert not rows["runts"].passed and rows["runts"].advisory and rows["runts"].examples == ("p.1 l.1: 月。",)
    assert rows["stretched lines"].figure == "50.0% of 2 lines" and rows["stretched lines"].advisory
    assert not rows["numbers split"].passed and not rows["numbers split"].advisory
    lines[2] = line(0, "月初一日。")
    rows = {c.name: c for c in line_quality(lines, kinds, edges, em)}
    assert rows["runts"].passed and not rows["numbers split"].passed


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("满纸荒唐言，一把辛酸泪！都云作者痴，谁解其中味？", ["满纸荒唐言，一把辛酸泪！", "都云作者痴，谁解其中味？"]),
        (
            "假作真时真亦假，无为有处有还无。好知青冢骷髅骨，就是红楼掩面人。",
            ["假作真时真亦假，无为有处有还无。", "好知青冢骷髅骨，就是红楼掩面人。"],
        ),
        ("满纸荒唐言，一把辛酸泪！", None),  # one couplet: a line, not a verse block
        ("满纸荒唐言，一把辛酸泪！都云作者，谁解其中味？", None),  # a clause of four
        ("满纸荒唐言，一把辛酸泪！都云作者痴，谁解其中味？他说。", None),  # prose after it
        ("满纸荒唐言，一把辛酸泪！都云作者痴痴痴，谁解其中味？", None),  # five and seven mixed
    ],
)
def test_verse_is_a_paragraph_of_even_clauses_of_five_or_seven(text: str, lines: list[str] | None) -> None:
    from book.text import verse_lines

    assert verse_lines(text) == lines


def test_verse_is_set_a_couplet_a_line_indented_as_a_block(tmp_path: Path) -> None:
    """A paragraph of verse is set a couplet a line, 4 em in and not justified; the prose after it
    keeps its 2 em indent and is justified; check passes (verse lines are no ragged lines)."""
    import pdfplumber

    prose = "后来又有人说，这是一段很长的文字，用来检验诗歌之后的段落是否仍然两端对齐并且首行缩进两个字。"
    text = f"标题\n\n正是：\n\n满纸荒唐言，一把辛酸泪！都云作者痴，谁解其中味？\n\n{prose}\n"
    config = load_config(write_book(tmp_path, {"seed.txt": text}))
    result = build(config, tmp_path / "dist")
    left = type_areas(config)[0][0]
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        lines = [line for page in pdf.pages for line in page.extract_text_lines()]
    verse = [line for line in lines if line["text"] in ("满纸荒唐言，一把辛酸泪！", "都云作者痴，谁解其中味？")]
    assert len(verse) == 2, [line["text"] for line in lines]
    assert all(abs((line["x0"] - left) / 10.5 - 4) < 0.05 for line in verse)
    following = next(line for line in lines if line["text"].startswith("后来"))
    assert abs((following["x0"] - left) / 10.5 - 2) < 0.05
    checks = preflight(result, config)
    assert [name for name, c in checks.items() if not (c.passed or c.advisory)] == []


def test_a_last_line_that_starts_with_a_latin_word_starts_at_the_edge(tmp_path: Path) -> None:
    """clreq: the ¼-em gap between Han and Latin text is never at a line's edge. The paragraph's
    last line is not justified, and starts with Eclipse after a break: it starts at the type
    area's edge, as a justified line does (justify.text_align)."""
    import pdfplumber

    text = "标题\n\n" + "甲" * 26 + "乙" * 28 + "Eclipse的版本。\n"
    config = load_config(write_book(tmp_path, {"seed.txt": text}))
    result = build(config, tmp_path / "dist", ("pdf",))
    left = type_areas(config)[0][0]
    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        chars = [c for page in pdf.pages for c in page.chars if c["text"] == "E"]
    assert len(chars) == 1 and abs(chars[0]["x0"] - left) < 0.5, (chars[0]["x0"] - left) / 10.5
