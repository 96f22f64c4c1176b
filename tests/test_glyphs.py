"""Every character is printed from a face of the book, or the print build stops (issue #26, item 1).

The extension faces (HanaMin A and B, Debian's fonts-hanazono) set the CJK Extensions B–F and
U+FFFD; they are declared and embedded only when the text needs them. A character no face has
stops the print build with its seed, line and column; `check` finds a .notdef in the PDF.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from book.build import build, type_areas
from book.check import check_pdf
from book.config import load_config
from book.fonts import EXTENSION_FACES
from tests.helpers import run_publish, write_book

EXTENSION_B = "\U00020000"  # 𠀀, CJK Unified Ideographs Extension B
NO_FACE = "\U0003fff0"  # unassigned: no font anywhere has it

needs_hanazono = pytest.mark.skipif(
    not all(face.path.is_file() for face in EXTENSION_FACES), reason="fonts-hanazono is not installed"
)


def _pdf_fonts(path: Path) -> str:
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


@needs_hanazono
def test_an_extension_b_character_and_a_replacement_character_print_from_the_book_s_faces(tmp_path: Path) -> None:
    seed = f"标题\n\n这是扩展B的字：{EXTENSION_B}，原文已损的字：\ufffd。\n"
    result = build(load_config(write_book(tmp_path, {"seed.txt": seed})), tmp_path / "dist")
    fonts = _pdf_fonts(result.outputs["pdf"])
    assert "Book-Extension-A" in fonts and "DejaVu" not in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # every font embedded
    text = subprocess.run(
        ["pdftotext", str(result.outputs["pdf"]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert EXTENSION_B in text and "\ufffd" in text
    checks = {
        c.name: c
        for c in check_pdf(
            result.outputs["pdf"],
            load_config(tmp_path / "book.yaml").trim,
            type_areas(load_config(tmp_path / "book.yaml")),
        )
    }
    assert checks["missing glyphs"].passed, checks["missing glyphs"]
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        names = epub.namelist()
        (subset,) = [n for n in names if n.endswith("HanaMinA.ttf")]
        cmap = TTFont(epub.open(subset)).getBestCmap()
    assert ord(EXTENSION_B) in cmap and 0xFFFD in cmap and ord("标") not in cmap  # what it sets, no more


@needs_hanazono
def test_a_book_that_needs_no_extension_face_carries_none(tmp_path: Path) -> None:
    result = build(load_config(write_book(tmp_path, {"seed.txt": "标题\n\n平常的文字。\n"})), tmp_path / "dist")
    assert "Extension" not in _pdf_fonts(result.outputs["pdf"])
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        assert not [n for n in epub.namelist() if "HanaMin" in n]


def test_a_character_no_face_has_stops_the_print_build_naming_where_it_is(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"seed.txt": f"标题\n\n第一段。\n\n第二段有{NO_FACE}字。\n"})
    before = tmp_path / "dist" / "book.pdf"
    result = run_publish(str(config))
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: seed.txt:5:5: no font of the book has U+3FFF0"), line
    assert "missing_glyphs: allow" in line
    assert not before.exists()
    # The EPUB alone builds: an e-reader may have a font for it; the report says so.
    assert run_publish(str(config), "-f", "epub").returncode == 0


def test_allowed_a_missing_glyph_prints_and_check_finds_the_box(tmp_path: Path) -> None:
    config = write_book(tmp_path, {"seed.txt": f"标题\n\n有{NO_FACE}字。\n"}, "missing_glyphs: allow\n")
    assert run_publish(str(config)).returncode == 0
    checked = run_publish("check", str(config))
    assert checked.returncode == 1
    row = next(line for line in checked.stdout.splitlines() if "missing glyphs" in line)
    assert row.startswith("FAIL") and "1 of" in row, row
