"""The EPUB, checked with EPUBCheck and by reading its package document and XHTML."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from book.build import BuildResult, build
from book.config import Config, load_config
from book.fonts import DEFAULT_FACES, missing_characters

from .conftest import write_book
from .epubcheck_runner import assert_epubcheck_clean

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
}


def read_epub(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as epub:
        return {name: epub.read(name) for name in epub.namelist()}


def build_small(tmp_path: Path, text: str, extra: str = "") -> Path:
    config = load_config(write_book(tmp_path, {"seed.txt": text}, extra))
    return build(config, tmp_path / "dist", ("epub",)).outputs["epub"]


def test_seed_epub_passes_epubcheck(seed_book: tuple[Config, BuildResult]) -> None:
    assert_epubcheck_clean(seed_book[1].outputs["epub"])


@pytest.mark.parametrize(
    "name,text",
    [
        ("multi-chapter", "书名\n\n第一章　起\n\n第一段。\n\n第二章　承\n\n第二段。\n\n第三章　转\n\n第三段。\n"),
        ("no-headings", "这本书没有标题行，只有正文。\n\n第二段也是正文。\n"),
        ("one-paragraph", "只有一段文字。\n"),
    ],
)
def test_small_books_pass_epubcheck(tmp_path: Path, name: str, text: str) -> None:
    assert_epubcheck_clean(build_small(tmp_path / name, text))


def test_package_metadata(seed_book: tuple[Config, BuildResult]) -> None:
    files = read_epub(seed_book[1].outputs["epub"])
    opf = ElementTree.fromstring(files["EPUB/content.opf"])
    meta = opf.find("opf:metadata", NS)
    assert meta.findtext("dc:language", namespaces=NS) == "zh-CN"
    assert meta.findtext("dc:title", namespaces=NS) == "从确诊病例居全市之首到实现社会面清零"
    roles = {m.get("refines"): m.text for m in meta.findall("opf:meta[@property='role']", NS)}
    creators = [(e.text, roles["#" + e.get("id")]) for e in meta.findall("dc:creator", NS)]
    contributors = [(e.text, roles["#" + e.get("id")]) for e in meta.findall("dc:contributor", NS)]
    assert creators == [("杨凌凌", "aut")] and contributors == [("钟兴", "ctb")]
    assert meta.findtext("opf:meta[@property='dcterms:modified']", namespaces=NS) == "2022-11-20T00:00:00Z"
    assert meta.findtext("dc:identifier", namespaces=NS).startswith("urn:uuid:")


def test_nav_ncx_and_reading_order(seed_book: tuple[Config, BuildResult]) -> None:
    result = seed_book[1]
    files = read_epub(result.outputs["epub"])
    titles = [c.title for c in result.manuscript.chapters]
    nav = ElementTree.fromstring(files["EPUB/nav.xhtml"])
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    assert [a.text for a in toc.iter("{http://www.w3.org/1999/xhtml}a")] == titles
    ncx = ElementTree.fromstring(files["EPUB/toc.ncx"])
    assert [t.text for t in ncx.iterfind(".//ncx:navLabel/ncx:text", NS)] == titles
    opf = ElementTree.fromstring(files["EPUB/content.opf"])
    hrefs = {i.get("id"): i.get("href") for i in opf.iterfind(".//opf:item", NS)}
    spine = [hrefs[r.get("idref")] for r in opf.iterfind(".//opf:itemref", NS)]
    assert spine[:3] == ["titlepage.xhtml", "copyright.xhtml", "nav.xhtml"]
    assert len(spine) == 3 + len(titles)


def test_every_document_is_chinese_well_formed_xhtml(seed_book: tuple[Config, BuildResult]) -> None:
    files = read_epub(seed_book[1].outputs["epub"])
    documents = [n for n in files if n.endswith(".xhtml")]
    assert len(documents) == 7
    for name in documents:
        root = ElementTree.fromstring(files[name])
        assert root.get("lang") == "zh-CN" and root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    title_page = "".join(ElementTree.fromstring(files["EPUB/titlepage.xhtml"]).itertext())
    assert "从确诊病例居全市之首到实现社会面清零" in title_page and "杨凌凌" in title_page and "钟兴" in title_page


def test_every_paragraph_reaches_the_epub(seed_book: tuple[Config, BuildResult]) -> None:
    files = read_epub(seed_book[1].outputs["epub"])
    paragraphs = []
    for name in sorted(n for n in files if "chapter-" in n):
        root = ElementTree.fromstring(files[name])
        paragraphs += ["".join(p.itertext()) for p in root.iter("{http://www.w3.org/1999/xhtml}p")]
    expected = [b.text for c in seed_book[1].manuscript.chapters for b in c.blocks]
    assert paragraphs == expected and len(paragraphs) == 21


def test_fonts_are_subsets_of_the_characters_used(seed_book: tuple[Config, BuildResult]) -> None:
    import io

    from fontTools.ttLib import TTFont

    path = seed_book[1].outputs["epub"]
    files = read_epub(path)
    assert path.stat().st_size < 1_000_000
    fonts = {n: d for n, d in files.items() if n.startswith("EPUB/fonts/")}
    assert sorted(fonts) == sorted(f"EPUB/fonts/{f.file_name}" for f in DEFAULT_FACES)
    text = "".join("".join(ElementTree.fromstring(d).itertext()) for n, d in files.items() if n.endswith(".xhtml"))
    body = TTFont(io.BytesIO(fonts["EPUB/fonts/NotoSerifCJKsc-Regular.otf"]))
    cmap = body.getBestCmap()
    used = {ord(c) for c in text if not c.isspace()}
    assert used <= set(cmap), "the body subset lacks characters the book uses"
    assert len(cmap) < len(used) + 50, "the body font is not a subset"
    assert not missing_characters(text)
    css = files["EPUB/style/book.css"].decode()
    assert 'font-family: "Book Serif"' in css and 'src: url("../fonts/NotoSerifCJKsc-Regular.otf")' in css
    assert "var(--" not in css  # custom properties are resolved for readers without them
    assert "text-indent: 2em" in css and "serif" in css and "sans-serif" in css


def test_embedding_can_be_switched_off(tmp_path: Path) -> None:
    files = read_epub(build_small(tmp_path, "只有一段文字。\n", "embed_fonts: false\n"))
    assert not [n for n in files if n.startswith("EPUB/fonts/")]
    assert "@font-face" not in files["EPUB/style/book.css"].decode()


def test_same_inputs_give_identical_epub(tmp_path: Path, seed_book: tuple[Config, BuildResult]) -> None:
    config = seed_book[0]
    again = build(config, tmp_path, ("epub",)).outputs["epub"]
    assert again.read_bytes() == seed_book[1].outputs["epub"].read_bytes()
    with zipfile.ZipFile(again) as epub:
        assert epub.namelist()[0] == "mimetype" and epub.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert {i.date_time for i in epub.infolist()} == {(2022, 11, 20, 0, 0, 0)}


def test_source_date_epoch_sets_the_modified_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = read_epub(build_small(tmp_path, "只有一段文字。\n"))
    opf = ElementTree.fromstring(files["EPUB/content.opf"])
    assert opf.findtext(".//opf:meta[@property='dcterms:modified']", namespaces=NS) == "2023-11-14T22:13:20Z"
