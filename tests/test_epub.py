"""The EPUB, checked with EPUBCheck and by reading its package document and XHTML."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from book.build import BuildResult, build
from book.config import Config, load_config
from book.fonts import DEFAULT_FACES, missing_characters

from .helpers import assert_epubcheck_clean, write_book

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


@pytest.mark.java
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
@pytest.mark.java
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
    assert spine[:4] == ["cover.xhtml", "titlepage.xhtml", "copyright.xhtml", "nav.xhtml"]
    assert len(spine) == 4 + len(titles)


def test_every_document_is_chinese_well_formed_xhtml(seed_book: tuple[Config, BuildResult]) -> None:
    files = read_epub(seed_book[1].outputs["epub"])
    documents = [n for n in files if n.endswith(".xhtml")]
    assert len(documents) == 8
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
    subsets = {name: set(TTFont(io.BytesIO(data)).getBestCmap()) for name, data in fonts.items()}
    used = {ord(c) for c in text if not c.isspace()}
    assert used <= set().union(*subsets.values()), "a character the book uses is in no subset"
    # Each face holds what the stylesheet sets in it (book/font_use.py): the body face nearly all,
    # the heading face the headings, labels and bold text; a few glyphs come with the subset.
    assert len(subsets["EPUB/fonts/NotoSerifCJKsc-Regular.otf"]) < len(used) + 50, "the body font is not a subset"
    assert len(subsets["EPUB/fonts/NotoSansCJKsc-Bold.otf"]) < len(used) // 2, "the heading font is not a subset"
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
    again = build(config, tmp_path).outputs["epub"]  # with the PDF: its page list is part of the EPUB
    assert again.read_bytes() == seed_book[1].outputs["epub"].read_bytes()
    with zipfile.ZipFile(again) as epub:
        assert epub.namelist()[0] == "mimetype" and epub.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert {i.date_time for i in epub.infolist()} == {(2022, 11, 20, 0, 0, 0)}


def test_source_date_epoch_sets_the_modified_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = read_epub(build_small(tmp_path, "只有一段文字。\n"))
    opf = ElementTree.fromstring(files["EPUB/content.opf"])
    assert opf.findtext(".//opf:meta[@property='dcterms:modified']", namespaces=NS) == "2023-11-14T22:13:20Z"


def test_cover_landmarks_and_reading_order(seed_book: tuple[Config, BuildResult]) -> None:
    files = read_epub(seed_book[1].outputs["epub"])
    opf = ElementTree.fromstring(files["EPUB/content.opf"])
    items = {i.get("id"): i for i in opf.iterfind(".//opf:item", NS)}
    spine = [items[r.get("idref")].get("href") for r in opf.iterfind(".//opf:itemref", NS)]
    assert spine[:4] == ["cover.xhtml", "titlepage.xhtml", "copyright.xhtml", "nav.xhtml"]
    covers = [i for i in items.values() if "cover-image" in (i.get("properties") or "")]
    assert len(covers) == 1 and covers[0].get("media-type") == "image/png"

    import io

    from PIL import Image

    cover = Image.open(io.BytesIO(files["EPUB/" + covers[0].get("href")]))
    assert cover.size == (1600, 2320)  # the print trim's proportions, 140 × 203 mm
    nav = ElementTree.fromstring(files["EPUB/nav.xhtml"])
    landmarks = nav.find(".//x:nav[@epub:type='landmarks']", NS)
    types = [a.get("{http://www.idpf.org/2007/ops}type") for a in landmarks.iter("{http://www.w3.org/1999/xhtml}a")]
    assert types[:4] == ["cover", "titlepage", "toc", "bodymatter"]
    copyright_page = "".join(ElementTree.fromstring(files["EPUB/copyright.xhtml"]).itertext())
    for expected in (
        "从确诊病例居全市之首到实现社会面清零",
        "记者",
        "杨凌凌",
        "通讯员",
        "株洲日报",
        "版次：2022年11月第1版",
        "版权归原作者所有",
    ):
        assert expected in copyright_page
    assert "urn:uuid:" not in copyright_page  # an internal identifier, no 书号


def test_accessibility_metadata(seed_book: tuple[Config, BuildResult]) -> None:
    opf = ElementTree.fromstring(read_epub(seed_book[1].outputs["epub"])["EPUB/content.opf"])
    values: dict[str, list[str]] = {}
    for meta in opf.iterfind(".//opf:meta[@property]", NS):
        values.setdefault(meta.get("property"), []).append(meta.text)
    assert values["schema:accessMode"] == ["textual"]
    assert values["schema:accessModeSufficient"] == ["textual"]
    assert {"tableOfContents", "readingOrder", "pageBreakMarkers"} <= set(values["schema:accessibilityFeature"])
    assert values["schema:accessibilityHazard"] == ["none"]
    assert values["schema:accessibilitySummary"][0]
    assert values["pageBreakSource"][0].startswith("urn:uuid:")


def test_page_markers_sit_where_printed_pages_begin(seed_book: tuple[Config, BuildResult]) -> None:
    from .helpers import body_lines_by_page

    result = seed_book[1]
    files = read_epub(result.outputs["epub"])
    first_lines = body_lines_by_page(result.outputs["pdf"])
    labels = PdfReader(result.outputs["pdf"]).page_labels
    nav = ElementTree.fromstring(files["EPUB/nav.xhtml"])
    page_list = nav.find(".//x:nav[@epub:type='page-list']", NS)
    listed = [int(a.text) for a in page_list.iter("{http://www.w3.org/1999/xhtml}a")]
    assert listed == [1, 3, 4, 5, 6, 7, 8]  # every page that begins with chapter text, by its printed folio
    checked = 0
    for name in sorted(n for n in files if "chapter-" in n):
        root = ElementTree.fromstring(files[name])
        for parent in root.iter():
            children = list(parent)
            for index, child in enumerate(children):
                if child.get("{http://www.idpf.org/2007/ops}type") != "pagebreak":
                    continue
                page = labels.index(child.get("aria-label")) + 1  # the physical page with that folio
                # The text that follows the marker: the rest of its paragraph, or the next element's text.
                after = (child.tail or "") + "".join("".join(c.itertext()) for c in children[index + 1 :])
                assert "".join(after.split()).startswith(first_lines[page][:8]), f"page {page} marker misplaced"
                checked += 1
    assert checked == len(listed)


@pytest.mark.java
def test_vertical_traditional_book_passes_epubcheck(tmp_path: Path) -> None:
    text = '書名\n\n第一章　起\n\n他說:"你好。"她答:“好的。”\n\n第二章　承\n\n第二段。\n'
    path = build_small(tmp_path, text, "language: zh-TW\nepub: {writing_mode: vertical-rl}\n")
    assert_epubcheck_clean(path)
    files = read_epub(path)
    opf = ElementTree.fromstring(files["EPUB/content.opf"])
    assert opf.find("opf:spine", NS).get("page-progression-direction") == "rtl"
    assert "writing-mode: vertical-rl" in files["EPUB/style/book.css"].decode()
    chapter = "".join(ElementTree.fromstring(files["EPUB/chapter-001.xhtml"]).itertext())
    assert "他說：「你好。」她答：「好的。」" in chapter


@pytest.mark.java
def test_series_backmatter_and_cover_file(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (16, 25), (200, 0, 0)).save(tmp_path / "cover.jpg")
    extra = (
        "series: {name: 株洲记忆, position: 3}\nedition: 第1版\ncover: cover.jpg\n"
        'backmatter: [{title: 后记, text: "写在后面的话。\\n\\n第二段。"}]\n'
    )
    path = build_small(tmp_path, "书名\n\n第一章　起\n\n正文。\n", extra)
    assert_epubcheck_clean(path)
    files = read_epub(path)
    opf = ElementTree.fromstring(files["EPUB/content.opf"])
    collection = opf.find(".//opf:meta[@property='belongs-to-collection']", NS)
    assert collection.text == "株洲记忆"
    refines = {m.get("property"): m.text for m in opf.iterfind(".//opf:meta[@refines='#series']", NS)}
    assert refines == {"collection-type": "series", "group-position": "3"}
    assert files["EPUB/images/cover.jpg"] == (tmp_path / "cover.jpg").read_bytes()
    afterword = ElementTree.fromstring(files["EPUB/chapter-002.xhtml"])
    section = afterword.find(".//x:section", NS)
    assert section.get("{http://www.idpf.org/2007/ops}type") == "afterword"
    assert ["".join(p.itertext()) for p in afterword.iter("{http://www.w3.org/1999/xhtml}p")] == [
        "写在后面的话。",
        "第二段。",
    ]
    copyright_page = "".join(ElementTree.fromstring(files["EPUB/copyright.xhtml"]).itertext())
    assert "第1版" in copyright_page and "株洲记忆" in copyright_page


def test_a_character_no_font_has_is_a_warning_naming_it(tmp_path: Path) -> None:
    from .helpers import run_publish

    config = write_book(tmp_path, {"seed.txt": "标题\n\n第一段。\n\n无字形的\U0003fff0在这里。\n"})
    result = run_publish(str(config), "-f", "epub")
    assert result.returncode == 0
    assert "U+3FFF0" in result.stderr and "seed.txt:5" in result.stderr
    assert run_publish(str(config), "-f", "epub", "--strict").returncode == 1


@pytest.mark.java
def test_markdown_book_reaches_both_outputs(tmp_path: Path) -> None:
    import subprocess

    from .helpers import MARKDOWN

    config = load_config(write_book(tmp_path, {"book.md": MARKDOWN}))
    result = build(config, tmp_path / "dist")
    assert_epubcheck_clean(result.outputs["epub"])
    chapter = read_epub(result.outputs["epub"])["EPUB/chapter-001.xhtml"].decode()
    for fragment in (
        "<strong>重要</strong>",
        "<em>强调</em>",
        'epub:type="noteref"',
        "<blockquote>",
        "<ul><li>第一项</li>",
        "<ol><li>甲</li>",
        'epub:type="footnote"',
        "这是脚注的内容。",
    ):
        assert fragment in chapter
    text = subprocess.run(["pdftotext", str(result.outputs["pdf"]), "-"], capture_output=True, text=True).stdout
    flat = "".join(text.split())
    for fragment in ("这是重要的一段，含有强调文字", "引用的一段话。", "第一项", "这是脚注的内容。"):
        assert fragment in flat


@pytest.mark.java
def test_seeds_as_parts(tmp_path: Path) -> None:
    long = "这一段很长，" * 30 + "结束。"
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "01.txt").write_text(f"上卷\n\n第一章　起\n\n{long}\n\n第二章　承\n\n{long}\n", "utf-8")
    (tmp_path / "seeds" / "02.txt").write_text(f"下卷\n\n第三章　转\n\n{long}\n", "utf-8")
    (tmp_path / "book.yaml").write_text("seeds: [seeds/*.txt]\nsplit: parts\ntitle: 分卷\ndate: 2024-01-01\n", "utf-8")
    result = build(load_config(tmp_path / "book.yaml"), tmp_path / "dist")
    assert [(c.kind, c.title) for c in result.manuscript.chapters] == [
        ("part", "上卷"),
        ("chapter", "第一章　起"),
        ("chapter", "第二章　承"),
        ("part", "下卷"),
        ("chapter", "第三章　转"),
    ]
    assert_epubcheck_clean(result.outputs["epub"])
    files = read_epub(result.outputs["epub"])
    toc = ElementTree.fromstring(files["EPUB/nav.xhtml"]).find(".//x:nav[@epub:type='toc']/x:ol", NS)
    tree = [(li.find("x:a", NS).text, [a.text for a in li.iterfind("x:ol/x:li/x:a", NS)]) for li in toc]
    assert tree == [("上卷", ["第一章　起", "第二章　承"]), ("下卷", ["第三章　转"])]
    ncx = ElementTree.fromstring(files["EPUB/toc.ncx"])
    parts = ncx.findall("ncx:navMap/ncx:navPoint", NS)
    assert [len(p.findall("ncx:navPoint", NS)) for p in parts] == [2, 1]
    reader = PdfReader(result.outputs["pdf"])
    labels = reader.page_labels
    assert reader.pages[labels.index("1")].extract_text().strip() == "上卷"  # the text opens with the part


@pytest.mark.java
def test_a_plain_text_notes_block_becomes_the_chapters_endnotes(tmp_path: Path) -> None:
    """狂人日记〔1〕 and a 注释 block after the story: the marks are note references (the title's
    too), the notes are the chapter's endnotes in both formats, and the running head and the
    bookmark carry the title without its mark. A block whose marks do not pair stays text."""
    import subprocess

    from .helpers import ROOT, tool

    text = (ROOT / "tests" / "cases" / "notes" / "in.txt").read_text(encoding="utf-8")
    config = load_config(write_book(tmp_path, {"seed.txt": text}))
    result = build(config, tmp_path / "dist", ("epub", "pdf"))
    assert_epubcheck_clean(result.outputs["epub"])
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        root = ElementTree.fromstring(epub.read("EPUB/chapter-001.xhtml"))
    refs = [a.get("href") for a in root.iterfind(".//x:a[@class='noteref']", ns)]
    notes = [aside.get("id") for aside in root.iterfind(".//x:aside", ns)]
    assert refs == ["#note-1-1", "#note-1-2"] and notes == ["note-1-1", "note-1-2"]
    assert "".join(root.find(".//x:h2", ns).itertext()) == "狂人日记1"
    assert [c.title for c in result.manuscript.chapters] == ["狂人日记", "孔乙己〔1〕", "注释"]
    outline = [item.title for item in PdfReader(result.outputs["pdf"]).outline if not isinstance(item, list)]
    assert outline[0] == "狂人日记"  # the bookmark without the mark
    pdf_text = subprocess.run([tool("pdftotext"), str(result.outputs["pdf"]), "-"], capture_output=True, text=True)
    assert "本篇最初发表于一九一八年五月" in pdf_text.stdout
