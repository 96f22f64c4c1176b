"""Covers and title pages (issue #26, item 5).

A title broke inside a word (`从确诊病例居全市之首到实 / 现社会面清零`); the print and EPUB covers were
two designs; the back cover was blank; the spine and the folds were not given.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps

from book.build import build
from book.config import load_config
from book.ean import ean13
from book.errors import ConfigError
from book.titles import title_lines
from tests.helpers import ROOT, write_book

SEED = (ROOT / "seeds" / "000_2eace880ba59814b.txt").read_text(encoding="utf-8")
TITLE = "从确诊病例居全市之首到实现社会面清零"
BOOK = (
    "publisher: 株洲日报\nisbn: 978-7-02-000220-7\nprice: 28.00元\n"
    "description: 十八个日夜里，一座城市的街道、社区和志愿者。\n"
    "pdf: {cover: true, paper_thickness: 1.0}\n"
)


@pytest.fixture(scope="module")
def covered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("cover")
    config = load_config(write_book(folder, {"seed.txt": SEED}, BOOK))
    return folder, build(config, folder / "dist", ("epub", "pdf", "cover"))


def test_titles_break_at_words_into_balanced_lines() -> None:
    assert title_lines(TITLE, 13) == ["从确诊病例居全市之首", "到实现社会面清零"]
    assert title_lines(TITLE, 8.9) == ["从确诊病例", "居全市之首", "到实现社会面清零"]
    assert title_lines("中华人民共和国民法典：大字本", 8) == ["中华人民共和国", "民法典：大字本"]
    assert title_lines("红楼梦", 13) == ["红楼梦"]


def test_the_covers_and_title_pages_set_the_title_in_those_lines(covered: tuple[Path, object]) -> None:
    _folder, result = covered
    cover = subprocess.run(["pdftotext", str(result.outputs["cover"]), "-"], capture_output=True, text=True).stdout
    assert "从确诊病例\n居全市之首\n到实现社会面清零" in cover, cover
    title_page = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(result.outputs["pdf"]), "-"], capture_output=True, text=True
    ).stdout
    assert "从确诊病例居全市之首\n到实现社会面清零" in title_page
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        page = epub.read("EPUB/titlepage.xhtml").decode()
    assert re.findall(r'<span class="title-line">([^<]+)</span>', page) == ["从确诊病例居全市之首", "到实现社会面清零"]


def test_the_epub_cover_is_the_print_cover_s_front(covered: tuple[Path, object]) -> None:
    """One design, two renderers: the print cover's front panel, rasterized, and the EPUB's cover
    image differ by little more than anti-aliasing."""
    import pypdfium2

    folder, result = covered
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        epub_cover = Image.open(io.BytesIO(epub.read("EPUB/images/cover.png"))).convert("L")
    pdf = pypdfium2.PdfDocument(str(result.outputs["cover"]))
    page = pdf[0]
    _left, bottom, right, top = page.get_trimbox()
    media_left, _, _, media_top = page.get_mediabox()  # the rendering's origin: the slug's corner
    scale = 4
    bitmap = page.render(scale=scale).to_pil().convert("L")
    # The front panel: the right-hand trim width of the spread, within the trim box.
    panel_left = right - 140 * 72 / 25.4
    box = (
        round((panel_left - media_left) * scale),
        round((media_top - top) * scale),
        round((right - media_left) * scale),
        round((media_top - bottom) * scale),
    )
    front = bitmap.crop(box)
    size = (140, 203)
    a = ImageOps.autocontrast(front.resize(size))
    b = ImageOps.autocontrast(epub_cover.resize(size))
    difference = ImageChops.difference(a, b)
    Image.merge("RGB", (a, b, b)).save(folder / "covers.png")  # red where only the print cover has ink
    mean = sum(difference.getdata()) / (size[0] * size[1])
    assert mean < 10, f"the covers differ by {mean:.1f} on average (of 255)"
    pdf.close()


def test_the_back_cover_has_the_blurb_and_the_isbn_s_bars(covered: tuple[Path, object]) -> None:
    import pdfplumber

    _folder, result = covered
    with pdfplumber.open(result.outputs["cover"]) as pdf:
        page = pdf.pages[0]
        text = page.extract_text()
        tall = 20 * 72 / 25.4
        bars = sorted((r for r in page.rects if r["height"] > tall and r["width"] < 5), key=lambda r: r["x0"])
    assert "十八个日夜里" in text and "ISBN 9787020002207" in text and "28.00元" in text
    expected = ean13("9787020002207")
    assert len(bars) == len(expected.bars) == 30
    first = bars[0]["x0"]
    for drawn, bar in zip(bars, expected.bars, strict=True):  # each bar where and as wide as EAN-13 says
        assert abs((drawn["x0"] - first) * 25.4 / 72 - (bar.left_mm - expected.bars[0].left_mm)) < 0.02
        assert abs(drawn["width"] * 25.4 / 72 - bar.width_mm) < 0.02


def test_a_wrong_isbn_check_digit_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="check digit of 9787020002208 is 8; its first 12 digits give 7"):
        load_config(write_book(tmp_path, {"seed.txt": "正文。\n"}, "isbn: '9787020002208'\n"))


def test_the_spine_carries_title_and_author_and_the_folds_are_marked(covered: tuple[Path, object]) -> None:
    _folder, result = covered
    (note,) = result.manuscript.findings_of("cover")
    spine = float(re.search(r"spine ([\d.]+) mm", note.message)[1])
    assert spine >= 6 and "folds at 140.0 mm and" in note.message
    cover = result.outputs["cover"]
    text = subprocess.run(
        ["pdftotext", "-x", "0", "-y", "0", "-W", "2000", "-H", "2000", str(cover), "-"],
        capture_output=True,
        text=True,
    ).stdout
    assert "杨" in text  # the author's name on the spine (and the front)
    import pikepdf

    with pikepdf.open(cover) as pdf:
        content = b"".join(c.read_bytes() for c in pdf.pages[0].obj.Contents)
    assert content.count(b"[1.5 1] 0 d") == 1 and len(re.findall(rb"l S", content)) >= 8 + 4
