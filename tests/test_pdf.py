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

from .helpers import BOTTOM_MARGIN, MM, TOP_MARGIN, body_text, tool


@pytest.fixture(scope="module")
def pdf(seed_book: tuple[Config, BuildResult]) -> Path:
    return seed_book[1].outputs["pdf"]


def page_texts(path: Path) -> list[str]:
    out = subprocess.run([tool("pdftotext"), str(path), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")


def test_trim_bleed_and_media_boxes(pdf: Path) -> None:
    pages = PdfReader(pdf).pages
    assert len(pages) % 2 == 0, "a printed book has an even page count"
    for page in pages:
        trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
        assert float(trim.width) == pytest.approx(140 * MM, abs=0.05)  # 大32开
        assert float(trim.height) == pytest.approx(203 * MM, abs=0.05)
        for edge, sign in (("left", -1), ("bottom", -1), ("right", 1), ("top", 1)):
            assert float(getattr(bleed, edge)) - float(getattr(trim, edge)) == pytest.approx(sign * 3 * MM, abs=0.01)
            assert sign * (float(getattr(media, edge)) - float(getattr(bleed, edge))) >= 5 * MM  # room for the marks


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


def test_the_text_is_exactly_the_source_text(pdf: Path, seed_book: tuple[Config, BuildResult]) -> None:
    # Justification, half-width marks and Han/Latin gaps are layout: not one character is added.
    manuscript = seed_book[1].manuscript
    expected = "".join(chapter.title + "".join(b.text for b in chapter.blocks) for chapter in manuscript.chapters)
    text, expected = body_text(pdf), re.sub(r"\s+", "", expected)
    assert text.endswith(expected), "the chapters' text in the PDF differs from the normalized text"
    assert expected[len(manuscript.chapters[0].title) :][:20] not in text[: -len(expected)]


def test_title_page_and_metadata(pdf: Path) -> None:
    assert PdfReader(pdf).trailer["/Root"]["/Lang"] == "zh-CN"
    first = page_texts(pdf)[0]
    assert "从确诊病例居全市之首到实现社会面清零" in first.replace("\n", "")
    assert "杨凌凌" in first and "钟兴" in first
    info = PdfReader(pdf).metadata
    assert info.title == "从确诊病例居全市之首到实现社会面清零"
    assert info.author == "杨凌凌, 钟兴"
    assert info["/CreationDate"].startswith("D:20221120")


def test_contents_page_numbers_are_where_chapters_start(pdf: Path, seed_book: tuple[Config, BuildResult]) -> None:
    pages = page_texts(pdf)
    labels = PdfReader(pdf).page_labels
    assert labels[:4] == ["i", "ii", "iii", "iv"] and labels[4] == "1", "front matter i–iv, the text from 1"
    contents = next(p for p in pages if p.lstrip().startswith("目录"))
    entries = re.findall(r"^(\S.*?)\s*[·.]+\s*(\d+)\s*$", contents, flags=re.M)
    titles = [c.title for c in seed_book[1].manuscript.chapters]
    assert [t for t, _ in entries] == titles
    for title, number in entries:
        index = labels.index(number)  # the physical page that carries this folio
        assert pages[index].lstrip().startswith(title), f"{title} is not on page {number}"
        assert index % 2 == 0, f"{title} does not open on a recto page"
        assert int(number) % 2 == 1, f"{title} opens on an even folio"


def test_bookmarks_for_every_chapter(pdf: Path, seed_book: tuple[Config, BuildResult]) -> None:
    reader = PdfReader(pdf)
    outline = [item for item in reader.outline if not isinstance(item, list)]
    assert [o.title for o in outline] == [c.title for c in seed_book[1].manuscript.chapters]
    for item, page in zip(outline, (reader.get_destination_page_number(o) for o in outline), strict=True):
        assert reader.pages[page].extract_text().lstrip().startswith(item.title)


def test_pdf_x4_output_intent_and_cmyk_only(pdf: Path) -> None:
    reader = PdfReader(pdf)
    root = reader.trailer["/Root"]
    assert reader.pdf_header == "%PDF-1.6"
    metadata = root["/Metadata"].get_object().get_data()
    assert b"<pdfxid:GTS_PDFXVersion>PDF/X-4</pdfxid:GTS_PDFXVersion>" in metadata
    (intent,) = root["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFX" and intent["/OutputConditionIdentifier"] == "CGATS TR 001"
    profile = intent["/DestOutputProfile"].get_object().get_data()
    assert profile[12:20] == b"prtrCMYK", "the output intent needs a CMYK output (printer) profile"
    assert reader.metadata["/Trapped"] == "/False"
    for page in reader.pages:
        content = page.get_contents().get_data()
        assert not re.search(rb"[\d.\s](rg|RG)\s", content), "RGB colour on a PDF/X page with a CMYK intent"
        assert "/Annots" not in page, "link annotations on a PDF/X page"


def test_body_in_serif_headings_in_sans_indent_two_em(pdf: Path, seed_book: tuple[Config, BuildResult]) -> None:
    chapter = seed_book[1].manuscript.chapters[1]
    first = PdfReader(pdf).pages[0]
    top = float(first.mediabox.top) - float(first.trimbox.top) + TOP_MARGIN
    bottom = float(first.mediabox.top) - float(first.trimbox.bottom) - BOTTOM_MARGIN
    with pdfplumber.open(pdf) as document:
        page = next(p for p in document.pages if (p.extract_text() or "").lstrip().startswith(chapter.title))
        chars = [c for c in page.chars if top < c["top"] < bottom]
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


@pytest.fixture(scope="module")
def x1a_book(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """A two-chapter book in PDF/X-1a, with its screen PDF and cover, ending on a recto before padding."""
    from book.config import load_config

    from .helpers import write_book

    folder = tmp_path_factory.mktemp("x1a")
    text = "书名\n\n第一章　起\n\n" + "第一章的正文。" * 40 + "\n\n第二章　承\n\n第二章的正文。\n"
    config = write_book(
        folder,
        {"seed.txt": text},
        "publisher: 测试出版社\npdf: {standard: PDF/X-1a, screen: true, cover: true, paper_thickness: 0.5}\n",
    )
    return build(load_config(config), folder / "dist", ("pdf", "screen", "cover"))


def test_pdf_x1a_variant(x1a_book: BuildResult) -> None:
    reader = PdfReader(x1a_book.outputs["pdf"])
    assert reader.pdf_header == "%PDF-1.4"
    assert reader.metadata["/GTS_PDFXVersion"] == "PDF/X-1a:2003"
    assert reader.trailer["/Root"]["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFX"
    for page in reader.pages:
        assert "/Group" not in page, "PDF/X-1a allows no transparency group"
        assert not re.search(rb"[\d.\s](rg|RG)\s", page.get_contents().get_data())


def test_page_count_is_padded_to_even(x1a_book: BuildResult) -> None:
    # Title, copyright, contents, blank, 第一章 (2 pages), 第二章 on a recto: 7 pages, padded to 8.
    reader = PdfReader(x1a_book.outputs["pdf"])
    assert len(reader.pages) == x1a_book.pages == 8
    assert reader.pages[-1].extract_text().strip() == ""


def test_screen_pdf_has_no_bleed_and_linked_contents(x1a_book: BuildResult) -> None:
    reader = PdfReader(x1a_book.outputs["screen"])
    for page in reader.pages:
        assert page.mediabox == page.trimbox
        assert float(page.mediabox.width) == pytest.approx(140 * MM, abs=0.05)
    assert "/GTS_PDFXVersion" not in reader.metadata and "/OutputIntents" not in reader.trailer["/Root"]
    contents = next(p for p in reader.pages if p.extract_text().lstrip().startswith("目录"))
    links = [a.get_object() for a in contents.get("/Annots", [])]
    assert all(a["/Subtype"] == "/Link" for a in links)
    assert {a["/Dest"] for a in links} == {"chapter-001", "chapter-002"}


def test_the_screen_pdf_is_one_sided_without_blank_pages_and_tagged(x1a_book: BuildResult) -> None:
    """The screen PDF was the print PDF without marks: blank versos, mirrored margins, no tags.
    Now: the same margins on every page, no blank page, and PDF/UA-1 tagging (WeasyPrint's), read
    back from the structure tree (veraPDF cannot be installed here)."""
    import pikepdf

    path = x1a_book.outputs["screen"]
    texts = [p.extract_text().strip() for p in PdfReader(path).pages]
    assert all(texts), "a blank page in the screen PDF"
    assert len(texts) <= x1a_book.pages - 2  # the print PDF has a blank verso before 第一章, and one after
    with pdfplumber.open(path) as pdf:
        lefts = {min(round(c["x0"]) for c in page.chars if c["size"] == 10.5) for page in pdf.pages[4:]}
    assert len(lefts) <= 2 and max(lefts) - min(lefts) <= 21  # one margin; a paragraph's indent at most
    assert subprocess.run([tool("qpdf"), "--check", str(path)], capture_output=True).returncode == 0
    with pikepdf.open(path) as pdf:
        root = pdf.Root
        assert root.MarkInfo.Marked is True and str(root.Lang) == "zh-CN"
        assert root.ViewerPreferences.DisplayDocTitle is True
        assert b'pdfuaid:part="1"' in root.Metadata.read_bytes()
        tags: list[str] = []

        def walk(element: object) -> None:
            if isinstance(element, pikepdf.Dictionary) and "/S" in element:
                tags.append(str(element.S))
                kids = element.get("/K")
                for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                    walk(kid)

        kids = root.StructTreeRoot.K
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            walk(kid)
        marked = sum(1 for page in pdf.pages for i in pikepdf.parse_content_stream(page) if str(i.operator) == "BDC")
        links = [a for page in pdf.pages for a in page.get("/Annots", []) if a.Subtype == "/Link"]
        outline = [item.title for item in pdf.open_outline().root]
    assert tags.count("/H2") == 3 and tags.count("/P") >= 3  # 目录 and the two chapters
    assert "/H1" in tags and "/L" in tags
    assert marked >= 10 and tags.count("/Link") == len(links) >= 2
    assert all("/StructParent" in link for link in links)  # each link is in the structure tree
    assert outline == ["第一章　起", "第二章　承"]


def test_cover_spread_with_spine_from_the_page_count(x1a_book: BuildResult) -> None:
    reader = PdfReader(x1a_book.outputs["cover"])
    (page,) = reader.pages
    spine = 8 / 2 * 0.5  # 8 pages = 4 leaves of 0.5 mm
    assert float(page.trimbox.width) == pytest.approx((2 * 140 + spine) * MM, abs=0.05)
    assert float(page.trimbox.height) == pytest.approx(203 * MM, abs=0.05)
    assert float(page.bleedbox.width) - float(page.trimbox.width) == pytest.approx(6 * MM, abs=0.01)
    text = page.extract_text()
    assert "书名" in text and "测试出版社" in text
    out = subprocess.run([tool("pdffonts"), str(x1a_book.outputs["cover"])], capture_output=True, text=True).stdout
    assert all(row.split()[-5:-2] == ["yes", "yes", "yes"] for row in out.splitlines()[2:])
    assert subprocess.run([tool("qpdf"), "--check", str(x1a_book.outputs["cover"])]).returncode == 0


def test_the_html_parser_compiles_each_pattern_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import tinyhtml5
    import tinyhtml5.inputstream

    from book.pdf import patches

    patches.install()  # tinyhtml5's cache filled under the right keys

    html = "<p>甲 &amp; 乙<b>丙</b></p>" * 20
    first = tinyhtml5.parse(html)
    compiled: list[str] = []
    compile_ = re.compile
    monkeypatch.setattr(re, "compile", lambda pattern, *a: compiled.append(pattern) or compile_(pattern, *a))
    again = tinyhtml5.parse(html)
    assert not [p for p in compiled if isinstance(p, str) and p.startswith("[")], compiled  # none again
    assert tinyhtml5.inputstream.characters_until_regex  # the patterns, under (characters, opposite)
    assert all(not isinstance(key[0], re.Pattern) for key in tinyhtml5.inputstream.characters_until_regex)
    assert [e.text for e in first.iter()] == [e.text for e in again.iter()]


def _page_image(pdf: Path, page: int, folder: Path) -> bytes:
    """Page `page` of a PDF as PNG bytes (pdftoppm, 100 dpi)."""
    prefix = folder / f"{pdf.stem}-{page}"
    subprocess.run(
        [tool("pdftoppm"), "-r", "100", "-f", str(page), "-l", str(page), "-png", "-singlefile", str(pdf), str(prefix)],
        check=True,
    )
    return prefix.with_suffix(".png").read_bytes()


def test_traditional_text_is_set_in_traditional_glyph_shapes(tmp_path: Path) -> None:
    """A Traditional text is zh-Hant: the faces' `locl` for Traditional Chinese sets 骨 and 戶 in
    their Taiwan shapes, and the labels are in Traditional. The same text in a zh-CN book keeps the
    Simplified shapes: the pages differ where nothing but the language does."""
    from book.config import load_config

    from .helpers import write_book

    text = "骨直說\n\n骨直說這令戶青，骨直說這令戶青。\n"
    books = {}
    for language in ("", "zh-CN"):
        folder = tmp_path / (language or "detected")
        config = load_config(write_book(folder, {"seed.txt": text}, f"language: {language}\n" if language else ""))
        books[language] = build(config, folder / "dist", ("pdf",))
    traditional, simplified = books[""], books["zh-CN"]
    assert traditional.manuscript.metadata.language == "zh-Hant"
    assert traditional.manuscript.findings_of("script")[0].message.startswith("Traditional Chinese")
    pdfs = traditional.outputs["pdf"], simplified.outputs["pdf"]
    assert PdfReader(pdfs[0]).trailer["/Root"]["/Lang"] == "zh-Hant"
    contents = [
        subprocess.run([tool("pdftotext"), str(p), "-"], capture_output=True, text=True, check=True).stdout
        for p in pdfs
    ]
    assert "目錄" in contents[0] and "目录" in contents[1]  # generated labels follow the script
    chapter = [PdfReader(p).page_labels.index("1") + 1 for p in pdfs]
    assert chapter[0] == chapter[1]
    assert _page_image(pdfs[0], chapter[0], tmp_path) != _page_image(pdfs[1], chapter[1], tmp_path)


def test_a_file_name_title_breaks_only_after_its_separators(tmp_path: Path) -> None:
    """With no title in the text or book.yaml, the file's name is the title, shown whole: its lines
    on the title page end only after `_` or `-`, never inside a word."""
    from book.config import load_config

    from .helpers import write_book

    name = "classic_hongloumeng_pg2-4264_zhiyan_edition"
    config = load_config(
        write_book(tmp_path, {f"{name}.txt": "此开卷第一回也。作者自云：因曾历过一番梦幻之后，故将真事隐去。\n"})
    )
    result = build(config, tmp_path / "dist", ("pdf",))
    assert result.manuscript.metadata.title == name
    with pdfplumber.open(result.outputs["pdf"]) as document:
        words = document.pages[0].extract_text_lines()
    lines = [line["text"].replace("\u200b", "") for line in words]
    assert "".join(lines) == name and len(lines) > 1
    assert all(line.endswith(("_", "-")) for line in lines[:-1])


def test_a_books_extra_css_is_read_after_the_projects(tmp_path: Path) -> None:
    """`init` gives a book a short styles/print/extra.css, not a copy of print.css; a rule put in
    extra.css (and epub/extra.css) wins over the project's, and the rest of the layout stays the
    project's."""
    import zipfile

    from book.config import load_config

    from .helpers import run_publish, write_book

    assert run_publish("init", str(tmp_path / "new"), "-q").returncode == 0
    styles = tmp_path / "new" / "styles"
    assert sorted(p.relative_to(styles).as_posix() for p in styles.rglob("*") if p.is_file()) == [
        "README",
        "print/extra.css",
    ]
    folder = tmp_path / "book"
    config = write_book(folder, {"seed.txt": "书名\n\n第一章　开始\n\n正文一段。\n"})
    (folder / "styles" / "print").mkdir(parents=True)
    (folder / "styles" / "epub").mkdir()
    (folder / "styles" / "print" / "extra.css").write_text(".chapter-title { font-size: 30pt; }\n", encoding="utf-8")
    (folder / "styles" / "epub" / "extra.css").write_text("h2 { color: #123456; }\n", encoding="utf-8")
    result = build(load_config(config), folder / "dist", ("epub", "pdf"))
    with pdfplumber.open(result.outputs["pdf"]) as document:
        sizes = {round(c["size"]) for page in document.pages for c in page.chars if c["text"] == "开"}
    assert 30 in sizes and 16 not in sizes  # print.css sets 16 pt
    with zipfile.ZipFile(result.outputs["epub"]) as epub:
        css = next(epub.read(n).decode() for n in epub.namelist() if n.endswith(".css"))
    assert css.index("#123456") > css.index("text-indent")  # after the project's rules


def test_every_colour_of_a_book_with_every_feature_is_cmyk_or_gray(tmp_path: Path) -> None:
    """PDF/X-4 promises CMYK: no content stream, form or annotation appearance of a book with notes,
    links, headings, lists, quotes, strong and em sets an RGB colour (a note's way back was blue,
    `0 0 1 rg`). Read from qpdf's uncompressed form of the file, then by check."""
    from book.build import type_areas
    from book.check import check_pdf
    from book.config import load_config

    from .helpers import MARKDOWN, write_book

    config = load_config(write_book(tmp_path, {"book.md": MARKDOWN + "\n参见[网页](https://example.com)。\n"}))
    path = build(config, tmp_path / "dist", ("pdf",)).outputs["pdf"]
    plain = tmp_path / "plain.pdf"
    subprocess.run([tool("qpdf"), "--qdf", "--object-streams=disable", str(path), str(plain)], check=True)
    data = plain.read_bytes()
    assert b"/GTS_PDFX" in data and b"/DeviceCMYK" in data
    rgb = re.findall(rb"(?:[\d.]+ ){3}(?:rg|RG)\b|/DeviceRGB|/CalRGB", data)
    assert not rgb, rgb[:5]
    colours = next(c for c in check_pdf(path, config.trim, type_areas(config)) if c.name == "colours")
    assert colours.passed and colours.figure.startswith("0 "), colours
