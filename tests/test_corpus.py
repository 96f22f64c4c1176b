"""Nothing lost, proven on every file of ../shared/corpus: the Han characters of the source, less
those of the lines the report says it removed, are the Han characters of the EPUB's text and of
the PDF's text, in order. Also the known truth of SOURCES.md: encodings and chapters."""

from __future__ import annotations

import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from book.build import BuildResult, build
from book.config import load_config
from book.model import Manuscript
from book.quotes import quotes_balanced
from book.read import read_seed
from book.text import CJK, han_characters

from .helpers import assert_epubcheck_clean, corpus_file, tool, type_area

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


@dataclass(frozen=True)
class Truth:
    """What SOURCES.md (or a count made from the file) says a corpus file holds."""

    encoding: str
    chapters: int | None = None
    gaps: int = 0  # numbered-heading gaps reported
    language: str = "zh-CN"
    paragraphs: int | None = None  # a count of the source's own paragraphs; ours within 5 %
    quotes_unbalanced: int | None = None  # at most this many paragraphs with unbalanced quotes
    repeats: int = 0  # repeated headings reported (heading-order), merged into one chapter
    codes: tuple[str, ...] = ()  # findings the file must give


CORPUS = {
    "000_2eace880ba59814b.txt": Truth("utf-8", 4, paragraphs=21),
    # The 1,668 quoted paragraphs of 红楼梦: 115 that no reading of the ASCII quotes balances (issue #24).
    "hongloumeng.simp.utf8.txt": Truth("utf-8", 120, quotes_unbalanced=115, codes=("damaged",)),
    "yulihun.utf8.txt": Truth("utf-8", 28, 2),
    "zhwiki-mainpage.gb18030.txt": Truth("gb18030"),
    "wenyan-intro.big5.txt": Truth("big5", language="zh-Hant"),
    # Hard-wrapped at 35 characters. 5,002 paragraphs: blocks between blank lines, each verse line
    # (indented) one, and the text after a verse line one (counted by script from the file).
    "xiyouji-pg23962.trad.utf8.txt": Truth(
        "utf-8", 100, language="zh-Hant", paragraphs=5002, codes=("boilerplate", "unwrapped", "damaged")
    ),
    # 第一回 and 第十二回–第五十六回: 46 chapters, 第二十一回 twice; six headings run into the text.
    "rulinwaishi-pg24032.trad.utf8.txt": Truth(
        "utf-8", 46, 1, language="zh-Hant", repeats=1, codes=("boilerplate", "unwrapped", "heading-split")
    ),
    # 166 records with text (34 empty); paragraph marks lost to `?` and mojibake.
    # GBK, which GB18030 (detected) extends: the same text.
    "sogouca-news-records.gbk.txt": Truth("gb18030", 166, codes=("markup", "damaged", "mojibake", "fullwidth")),
    "xiyouji-html-p.simp.utf8.txt": Truth("utf-8", 100, codes=("markup", "private-use")),
    "sanguo-asciiquotes.simp.gb18030.txt": Truth("gb18030", 121, codes=("private-use", "damaged")),
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
        [tool("pdftotext"), "-raw", "-f", str(first), *type_area(path), str(path), "-"],
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


def kept_source(source: list[str], manuscript: Manuscript) -> tuple[str, str]:
    """The source's text less what the report says was taken out of it, and what went to the title
    page (title and bylines): whole lines removed (cruft, licence text, title and byline lines) and
    pieces of lines (a wiki's [编辑], a news byline whose dateline stays)."""
    consumed: set[int] = set()
    pieces: dict[int, list[str]] = {}
    front = []
    for f in manuscript.findings:
        if f.code == "boilerplate":
            consumed.update(range(f.line, f.end_line + 1))
        elif f.code == "heading-order" and "repeats" in f.message:
            consumed.add(f.line)  # a heading repeated: one chapter under the first
        elif (
            f.code in ("removed", "byline", "title")
            and f.line
            and f.text
            and han_characters(f.text) != han_characters(source[f.line - 1])
        ):
            pieces.setdefault(f.line, []).append(f.text)  # a piece of the line, or a line of markup cut
            if f.code != "removed":
                front.append(f.text)
        elif f.code in ("removed", "byline", "title") and f.line:
            consumed.add(f.line)
            if f.code != "removed":
                front.append(source[f.line - 1])
        elif f.code == "removed-inline":
            pieces.setdefault(f.line, []).append(f.text)
    kept = []
    for number, line in enumerate(source, start=1):
        if number in consumed:
            continue
        for piece in pieces.get(number, []):
            line = line.replace(piece, "", 1) if piece in line else line.replace(han_characters(piece), "", 1)
        kept.append(line)
    return han_characters("".join(kept)), han_characters("".join(front))


def test_nothing_is_lost(corpus_book: tuple[str, BuildResult]) -> None:
    name, result = corpus_book
    manuscript = result.manuscript
    source = read_seed(corpus_file(name)).text.splitlines()
    kept, front = kept_source(source, manuscript)
    whole, from_source = epub_text(result.outputs["epub"], result)
    same_sequence(han_characters(from_source), kept, "the EPUB's chapters against the source")
    same_sequence(han_characters(pdf_text(result.outputs["pdf"])), han_characters(whole), "the PDF against the EPUB")
    # What left the text went to the title page: title and bylines keep their Han characters.
    meta = manuscript.metadata
    assert front == han_characters(
        (meta.title if manuscript.findings_of("title") else "")
        + "".join(c.organization + c.label + c.name for c in meta.creators)
    )


def test_known_truth(corpus_book: tuple[str, BuildResult]) -> None:
    name, result = corpus_book
    truth = CORPUS[name]
    manuscript = result.manuscript
    assert [f.message for f in manuscript.findings_of("encoding")] == [f"decoded as {truth.encoding}"]
    if truth.chapters is not None:
        assert len(manuscript.chapters) == truth.chapters
        assert all(chapter.blocks for chapter in manuscript.chapters if chapter.kind == "chapter")
    assert len(manuscript.findings_of("heading-gap")) == truth.gaps
    repeats = [f for f in manuscript.findings_of("heading-order") if "repeats" in f.message]
    assert len(repeats) == truth.repeats
    assert manuscript.metadata.language == truth.language
    assert {f.code for f in manuscript.findings} >= set(truth.codes)
    paragraphs = [b.text for c in manuscript.chapters for b in c.paragraphs]
    if truth.paragraphs is not None:
        assert abs(len(paragraphs) - truth.paragraphs) <= 0.05 * truth.paragraphs, len(paragraphs)
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
    if name.startswith("rulinwaishi"):
        numbers = [c.title.split("\u3000")[0] for c in manuscript.chapters]
        assert numbers[:2] == ["第一回", "第十二回"] and numbers[-1] == "第五十六回"


def balanceable(text: str) -> bool:
    """Whether some reading of a line's straight double quotes balances its quotation marks."""
    low = high = 0  # the depths the marks read so far can leave, of one parity
    for mark in re.findall('["“”]', text):
        low, high = (low - 1, high + 1) if mark == '"' else (low + 1, high + 1) if mark == "“" else (low - 1, high - 1)
        if low < 0:
            low += 2
        if high < low:
            return False
    return low == 0


def test_quotes_are_turned_and_balanced_where_a_reading_balances(corpus_book: tuple[str, BuildResult]) -> None:
    """No straight quote is left in Chinese text, and no more paragraphs are unbalanced than the
    source has lines that no reading of their straight quotes balances (one paragraph a line)."""
    name, result = corpus_book
    paragraphs = [b.text for c in result.manuscript.chapters for b in c.blocks]
    beside_chinese = re.compile(f"(?<={CJK})[\"']|[\"'](?={CJK})")
    assert not [p for p in paragraphs if beside_chinese.search(p)]
    truth = CORPUS[name]
    if truth.quotes_unbalanced is not None:
        source = read_seed(corpus_file(name)).text.splitlines()
        unfixable = sum(1 for line in source if not balanceable(line))
        unbalanced = [p for p in paragraphs if not quotes_balanced(p)]
        assert len(unbalanced) <= min(unfixable + _single_quote_only(unbalanced), truth.quotes_unbalanced)


def _single_quote_only(paragraphs: list[str]) -> int:
    """Paragraphs whose double quotes balance: their imbalance is in single quotes, which the line
    count does not check."""
    return sum(1 for p in paragraphs if balanceable(p.replace("「", "“").replace("」", "”")))


def test_no_markup_is_printed(corpus_book: tuple[str, BuildResult]) -> None:
    result = corpus_book[1]
    whole, _ = epub_text(result.outputs["epub"], result)
    pdf = pdf_text(result.outputs["pdf"])
    for text in (whole, pdf):
        assert not re.search(r"</?(?:p|center|b|br|div|doc|content|contenttitle|url|docno)\b[^>]*>|&[a-z]+;", text)


@pytest.mark.java
def test_epubcheck_passes(corpus_book: tuple[str, BuildResult]) -> None:
    assert_epubcheck_clean(corpus_book[1].outputs["epub"])
