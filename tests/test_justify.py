"""book.pdf.justify in WeasyPrint's manner: small documents laid out, and their boxes' geometry read.

Each test renders a few lines of HTML with the extension installed (patches.install) and reads
the line boxes and text boxes of the first page, as WeasyPrint's own tests do (render_pages).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import ROOT

weasyprint = pytest.importorskip("weasyprint")

FONT = (ROOT / "fonts" / "NotoSerifCJKsc-Regular.otf").as_uri()
HAN = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜"


def render_lines(body: str, *, cjk_justification: bool = True) -> list[object]:
    """The line boxes of the first page of `body`, set at 10 px in the book's serif face."""
    from weasyprint.text.fonts import FontConfiguration

    from book.pdf import options, patches

    patches.install()
    fonts = FontConfiguration()
    css = weasyprint.CSS(
        string=f"@font-face {{ font-family: Body; src: url({FONT}) }}"
        "@page { size: 400px 400px; margin: 0 }"
        "body { margin: 0; font: 10px/20px Body }"
        "p { margin: 0; text-align: justify }",
        font_config=fonts,
    )
    with options.render_options(cjk_justification=cjk_justification):
        document = weasyprint.HTML(string=body).render(stylesheets=[css], font_config=fonts)
    return list(_line_boxes(document.pages[0]._page_box))


def _line_boxes(box: object) -> Iterator[object]:
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.LineBox):
        yield box
        return
    for child in getattr(box, "children", ()):
        yield from _line_boxes(child)


def _text_boxes(box: object) -> list[object]:
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TextBox):
        return [box]
    return [text for child in getattr(box, "children", ()) for text in _text_boxes(child)]


def _right_edge(line: object) -> float:
    return max(text.position_x + text.width for text in _text_boxes(line))  # type: ignore[attr-defined]


def test_lines_of_han_are_justified_between_characters() -> None:
    # 40 characters at 10 px in a 95 px measure: nine a line, and 5 px to spread over each line.
    lines = render_lines(f'<p style="width: 95px">{HAN}</p>')
    assert len(HAN) == 40 and len(lines) == 5
    for line in lines[:-1]:
        assert _right_edge(line) == pytest.approx(95, abs=0.01)
        (text,) = _text_boxes(line)
        assert text.justification_spacing == pytest.approx(5 / 8)  # type: ignore[attr-defined]  # 8 gaps
    assert _right_edge(lines[-1]) == pytest.approx(40, abs=0.01)  # the last line is not justified


def test_without_inter_character_justification_lines_of_han_stay_ragged() -> None:
    lines = render_lines(f'<p style="width: 95px">{HAN}</p>', cjk_justification=False)
    assert [round(_right_edge(line)) for line in lines[:-1]] == [90] * 4


def test_the_text_is_never_changed_by_justification() -> None:
    lines = render_lines(f'<p style="width: 95px">{HAN}</p>')
    assert "".join(text.text for line in lines for text in _text_boxes(line)) == HAN  # type: ignore[attr-defined]


def test_spaces_and_han_share_the_justification() -> None:
    """`text-justify: inter-character`: a space is an opportunity like a gap between two CJK characters."""
    from book.pdf.justify import count_expansion_opportunities

    lines = render_lines('<p style="width: 400px">天地 玄黄</p>')
    (text,) = _text_boxes(lines[0])
    # 天 and 黄 at the box's edges give half their share; 地, 玄 and the space give one each.
    assert count_expansion_opportunities(text) == 4


def test_a_ligated_dash_counts_once() -> None:
    from book.pdf.justify import count_expansion_opportunities

    lines = render_lines('<p style="width: 400px">天——地</p>')
    (text,) = _text_boxes(lines[0])
    assert count_expansion_opportunities(text) == 2  # 天 ½, —— 1, 地 ½


def test_marks_that_meet_are_set_half_width() -> None:
    """clreq 3.1.6: of 。” the first takes half an em (OpenType halt): four characters, 35 px."""
    lines = render_lines('<p style="width: 400px">“天地。”</p>')
    assert _right_edge(lines[0]) == pytest.approx(45, abs=0.01)  # “ alone keeps its em
    lines = render_lines('<p style="width: 400px">天地。”</p>')
    assert _right_edge(lines[0]) == pytest.approx(35, abs=0.01)


def test_a_gap_before_latin_at_a_line_start_is_dropped() -> None:
    """The ¼-em CJK–Latin gap (an inline margin) is never set at a line's edge: a Latin word that
    begins a line starts at the line's start, and the line before it ends flush."""
    body = f'<p style="width: 90px">{HAN[:9]}<span style="margin: 0 2.5px">APP</span>{HAN[9:30]}</p>'
    lines = render_lines(body)
    assert _right_edge(lines[0]) == pytest.approx(90, abs=0.01)
    first = _text_boxes(lines[1])[0]
    assert first.text == "APP"  # type: ignore[attr-defined]
    assert first.position_x == pytest.approx(lines[1].position_x, abs=0.01)  # type: ignore[attr-defined]
    assert _right_edge(lines[1]) == pytest.approx(90, abs=0.01)
