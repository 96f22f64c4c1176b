"""The print PDF, checked with poppler (pdffonts, pdftotext), qpdf, pypdf and pdfplumber."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from book.build import BuildResult, build
from book.config import Config

from .conftest import tool

MM = 72 / 25.4
TOP_MARGIN, BOTTOM_MARGIN = 20 * MM, 22 * MM  # print.css @page margins


@pytest.fixture(scope="module")
def pdf(seed_book: tuple[Config, BuildResult]) -> Path:
    return seed_book[1].outputs["pdf"]


def body_text(path: Path) -> str:
    """The text inside the type area of every page (running heads and folios cropped off), no white space."""
    reader = PdfReader(path)
    box = reader.pages[0].mediabox
    width, height = float(box.width), float(box.height)
    out = subprocess.run(
        [
            tool("pdftotext"),
            "-r",
            "72",
            "-x",
            "0",
            "-y",
            str(int(TOP_MARGIN)),
            "-W",
            str(int(width)),
            "-H",
            str(int(height - TOP_MARGIN - BOTTOM_MARGIN)),
            str(path),
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.sub(r"\s+", "", out)


def body_lines_by_page(path: Path) -> dict[int, str]:
    """The first line of the type area of each page (1-based), white space removed; '' for a blank page."""
    reader = PdfReader(path)
    box = reader.pages[0].mediabox
    width, height = float(box.width), float(box.height)
    lines = {}
    for number in range(1, len(reader.pages) + 1):
        out = subprocess.run(
            [
                tool("pdftotext"),
                "-f",
                str(number),
                "-l",
                str(number),
                "-r",
                "72",
                "-x",
                "0",
                "-y",
                str(int(TOP_MARGIN)),
                "-W",
                str(int(width)),
                "-H",
                str(int(height - TOP_MARGIN - BOTTOM_MARGIN)),
                str(path),
                "-",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        text = [line.strip() for line in out.splitlines() if line.strip()]
        lines[number] = re.sub(r"\s+", "", text[0]) if text else ""
    return lines


def page_texts(path: Path) -> list[str]:
    out = subprocess.run([tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")


def test_page_size_is_da32kai(pdf: Path) -> None:
    for page in PdfReader(pdf).pages:
        assert float(page.mediabox.width) == pytest.approx(140 * MM, abs=0.05)
        assert float(page.mediabox.height) == pytest.approx(203 * MM, abs=0.05)


def test_qpdf_check_is_clean(pdf: Path) -> None:
    result = subprocess.run([tool("qpdf"), "--check", str(pdf)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout


def test_fonts_embedded_subset_with_tounicode(pdf: Path) -> None:
    out = subprocess.run([tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:]]
    assert rows, out
    names = {row[0].split("+", 1)[1] for row in rows}
    assert names == {"Book-Serif", "Book-Sans-Bold"}, out
    for row in rows:
        assert row[-5:-2] == ["yes", "yes", "yes"], f"not embedded, subset and ToUnicode: {row}"


def test_every_paragraph_is_in_the_text(pdf: Path, seed_book: tuple[Config, BuildResult]) -> None:
    text = body_text(pdf)
    manuscript = seed_book[1].manuscript
    position = 0
    for chapter in manuscript.chapters:
        for block in (chapter.title, *(b.text for b in chapter.blocks)):
            found = text.find(re.sub(r"\s+", "", block), position)
            assert found >= 0, f"not in the PDF, in order: {block}"
            position = found


def test_title_page_and_metadata(pdf: Path) -> None:
    first = page_texts(pdf)[0]
    assert "从确诊病例居全市之首到实现社会面清零" in first.replace("\n", "")
    assert "杨凌凌" in first and "钟兴" in first
    info = PdfReader(pdf).metadata
    assert info.title == "从确诊病例居全市之首到实现社会面清零"
    assert info.author == "杨凌凌, 钟兴"
    assert info["/CreationDate"].startswith("D:20221120")


def test_contents_page_numbers_are_where_chapters_start(pdf: Path, seed_book: tuple[Config, BuildResult]) -> None:
    pages = page_texts(pdf)
    contents = next(p for p in pages if p.lstrip().startswith("目录"))
    entries = re.findall(r"^(\S.*?)\s*[·.]+\s*(\d+)\s*$", contents, flags=re.M)
    titles = [c.title for c in seed_book[1].manuscript.chapters]
    assert [t for t, _ in entries] == titles
    for title, number in entries:
        opening = pages[int(number) - 1]
        assert opening.lstrip().startswith(title), f"{title} is not on page {number}"
        assert int(number) % 2 == 1, f"{title} does not open on a recto page"


def test_body_in_serif_headings_in_sans_indent_two_em(pdf: Path, seed_book: tuple[Config, BuildResult]) -> None:
    chapter = seed_book[1].manuscript.chapters[1]
    with pdfplumber.open(pdf) as document:
        page = next(p for p in document.pages if (p.extract_text() or "").lstrip().startswith(chapter.title))
        chars = [c for c in page.chars if TOP_MARGIN < c["top"] < page.height - BOTTOM_MARGIN]
    heading = [c for c in chars if c["text"] in chapter.title and c["size"] > 14]
    assert heading and all("Book-Sans" in c["fontname"] for c in heading)
    body = [c for c in chars if c["size"] < 11]
    assert body and all("Book-Serif" in c["fontname"] for c in body)
    size = body[0]["size"]
    left = min(c["x0"] for c in body)
    first = body[0]
    assert first["text"] == chapter.blocks[0].text[0]
    assert first["x0"] - left == pytest.approx(2 * size, abs=0.5)


def test_same_inputs_give_identical_pdf(tmp_path: Path, seed_book: tuple[Config, BuildResult]) -> None:
    again = build(seed_book[0], tmp_path, ("pdf",)).outputs["pdf"]
    assert again.read_bytes() == seed_book[1].outputs["pdf"].read_bytes()


def test_no_weasyprint_warnings(seed_book: tuple[Config, BuildResult]) -> None:
    assert seed_book[1].pdf_warnings == []
