"""The copyright page is a Chinese book's 版权页 (issue #26, item 6).

It printed `标识：urn:uuid:…` and creator lines without labels. Now: 书名, the creators by role,
出版发行, 开本, 印张 and 字数 computed from the build, 版次, 印次, 书号 and 定价, each left out
without a value; the EPUB's without the print-only lines. Emphasis is set in the Kai face.
"""

from __future__ import annotations

import math
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from book.build import build
from book.config import load_config
from book.fonts import KAI_FACE
from tests.helpers import MARKDOWN, write_book

BOOK = (
    "title: 测试之书\nauthors: [{name: 王小明, role: 作者}, {name: 李华, role: 译者}]\npublisher: 测试出版社\n"
    "isbn: '9787020002207'\nprice: 48.00元\nprinting: 2\ndate: 2024-03-05\n"
)


def _page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("jobs", [None, 2])  # one pass, and printed in pieces
def test_the_print_copyright_page_has_the_chinese_lines_with_figures_from_the_build(
    tmp_path: Path, jobs: int | None
) -> None:
    text = "# 第一章\n\n" + "这是一个用来计算印张和字数的段落。" * 400 + "\n"
    result = build(load_config(write_book(tmp_path, {"book.md": text}, BOOK)), tmp_path / "dist", jobs=jobs)
    page = _page_text(result.outputs["pdf"], 2)
    lines = [line for line in page.splitlines() if line.strip()]
    labels = [line.split("：")[0] for line in lines]
    assert labels == ["书名", "著者", "译者", "出版发行", "开本", "印张", "字数", "版次", "印次", "书号", "定价"]
    assert "开本：850 mm × 1168 mm 1/32" in page
    assert f"印张：{math.ceil(2 * result.pages / 32) / 2:g}" in page, (result.pages, page)
    characters = len("这是一个用来计算印张和字数的段落。" * 400) + len("第一章") * 0
    assert f"字数：{math.ceil(characters / 1000)}千字" in page
    assert "版次：2024年3月第1版" in page and "印次：2024年3月第2次印刷" in page
    assert "书号：ISBN 9787020002207" in page and "定价：48.00元" in page
    assert "urn:" not in page and "标识" not in page


def test_a_line_without_a_value_is_left_out_and_the_epub_has_no_print_lines(tmp_path: Path) -> None:
    result = build(load_config(write_book(tmp_path, {"seed.txt": "标题\n\n正文。\n"})), tmp_path / "dist")
    page = _page_text(result.outputs["pdf"], 2)
    assert "书号" not in page and "定价" not in page and "出版发行" not in page and "urn:" not in page
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        xhtml = epub.read("EPUB/copyright.xhtml").decode()
    labels = re.findall(r'<span class="label">([^<]+)：</span>', xhtml)
    assert labels == ["书名", "字数", "版次"], labels  # no 开本, 印张 or 印次 in an e-book
    assert "urn:uuid" not in xhtml


@pytest.mark.skipif(not KAI_FACE.path.is_file(), reason="fonts-arphic-gkai00mp is not installed")
def test_emphasis_is_set_in_the_kai_face_and_strong_in_the_bold_sans(tmp_path: Path) -> None:
    result = build(load_config(write_book(tmp_path, {"book.md": MARKDOWN})), tmp_path / "dist")
    fonts = subprocess.run(["pdffonts", str(result.outputs["pdf"])], capture_output=True, text=True).stdout
    assert "Book-Kai" in fonts and "Book-Sans-Bold" in fonts
    import pdfplumber

    with pdfplumber.open(result.outputs["pdf"]) as pdf:
        chars = [c for page in pdf.pages for c in page.chars]
    font_of = {c["text"]: c["fontname"] for c in chars}
    assert font_of["强"].endswith("Book-Kai") and font_of["重"].endswith("Book-Sans-Bold")  # *强调* and **重要**
