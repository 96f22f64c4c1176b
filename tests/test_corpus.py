"""Nothing lost, proven on every file of ../shared/corpus: the Han characters of the source, less
those of the lines the report says it removed, are the Han characters of the EPUB's text and of
the PDF's text, in order. Also the known truth of SOURCES.md: encodings and chapters."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from book.build import BuildResult, build
from book.config import load_config
from book.read import read_seed
from book.text import han_characters

from .conftest import corpus_file, tool
from .test_pdf import _type_area

CORPUS = {
    # file: (encoding detected, chapters, numbered-heading gaps reported)
    "000_2eace880ba59814b.txt": ("utf-8", 4, 0),
    "hongloumeng.simp.utf8.txt": ("utf-8", 120, 0),
    "yulihun.utf8.txt": ("utf-8", 28, 2),
    "zhwiki-mainpage.gb18030.txt": ("gb18030", None, 0),
    "wenyan-intro.big5.txt": ("big5", None, 0),
}


@pytest.fixture(scope="module", params=sorted(CORPUS))
def corpus_book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, BuildResult]:
    name = request.param
    path = corpus_file(name)
    folder = tmp_path_factory.mktemp(name.split(".")[0])
    config = load_config(_config(folder, path))
    return name, build(config, folder / "dist")


def _config(folder: Path, seed: Path) -> Path:
    config = folder / "book.yaml"
    config.write_text(f"seeds: [{seed}]\nslug: book\ndate: 2024-01-02\n", encoding="utf-8")
    return config


def epub_text(path: Path, result: BuildResult) -> tuple[str, str]:
    """The chapters' text in the EPUB: all of it, and without the chapter titles the normalizer made up."""
    ns = "{http://www.w3.org/1999/xhtml}"
    whole, from_source = [], []
    with zipfile.ZipFile(path) as epub:
        for number, chapter in enumerate(result.manuscript.chapters, start=1):
            root = ElementTree.fromstring(epub.read(f"EPUB/chapter-{number:03d}.xhtml"))
            body = root.find(f"{ns}body")
            text = "".join(body.itertext())
            whole.append(text)
            heading = "".join(body.find(f".//{ns}h2").itertext())
            from_source.append(text if chapter.title_line else text.replace(heading, "", 1))
    return "".join(whole), "".join(from_source)


def pdf_text(path: Path) -> str:
    """The text of the PDF's text pages (decimal page labels), type area only: no running heads or folios."""
    labels = PdfReader(path).page_labels
    first = next(i for i, label in enumerate(labels) if label.isdigit()) + 1
    return subprocess.run(
        # -raw: drawing order; a centred two-line heading with ideographic spaces is not read as columns.
        [tool("pdftotext"), "-raw", "-f", str(first), *_type_area(path), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def same_sequence(a: str, b: str, what: str) -> None:
    """Assert two long strings are equal, naming the first difference (pytest's diff of 800k characters
    would take minutes)."""
    if a == b:
        return
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    pytest.fail(
        f"{what}: {len(a)} against {len(b)} Han characters; first difference at {at}: "
        f"…{a[max(0, at - 20) : at + 20]}… against …{b[max(0, at - 20) : at + 20]}…"
    )


def test_nothing_is_lost(corpus_book: tuple[str, BuildResult]) -> None:
    name, result = corpus_book
    manuscript = result.manuscript
    source = read_seed(corpus_file(name)).text.splitlines()
    consumed = {f.line for f in manuscript.findings if f.code in ("removed", "byline", "title")}
    kept = han_characters("".join(line for n, line in enumerate(source, 1) if n not in consumed))
    whole, from_source = epub_text(result.outputs["epub"], result)
    same_sequence(han_characters(from_source), kept, "the EPUB's chapters against the source")
    same_sequence(han_characters(pdf_text(result.outputs["pdf"])), han_characters(whole), "the PDF against the EPUB")
    # The consumed lines went to the title page: title and bylines keep their Han characters.
    front = "".join(source[f.line - 1] for f in manuscript.findings if f.code in ("title", "byline"))
    meta = manuscript.metadata
    assert han_characters(front) == han_characters(
        (meta.title if manuscript.findings_of("title") else "")
        + "".join(c.organization + c.label + c.name for c in meta.creators)
    )


def test_known_truth(corpus_book: tuple[str, BuildResult]) -> None:
    name, result = corpus_book
    encoding, chapters, gaps = CORPUS[name]
    manuscript = result.manuscript
    assert [f.message for f in manuscript.findings_of("encoding")] == [f"decoded as {encoding}"]
    if chapters is not None:
        assert len(manuscript.chapters) == chapters
    assert len(manuscript.findings_of("heading-gap")) == gaps
    if name.startswith("yulihun"):
        gaps = [f.text for f in manuscript.findings_of("heading-gap")]
        assert gaps == ["第十四章　孽媒", "第三十章　凭吊"]  # 第十三章 and 第二十九章 are missing
        assert manuscript.findings_of("replacement-char")
    if name.startswith("wenyan"):
        assert not manuscript.findings_of("replacement-char")
        assert "維基大典" in "".join(b.text for c in manuscript.chapters for b in c.blocks)
    if name.startswith("zhwiki"):
        text = "".join(b.text for c in manuscript.chapters for b in c.blocks)
        assert "精英大師，是一匹香港純種賽馬" in text and "跳转到" not in text and "歡迎" not in text
        assert not re.search(r"\.jpg", text)
