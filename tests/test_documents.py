"""Word documents, saved web pages and EPUBs as seeds (book/documents): the style mapping on small
documents that python-docx makes, and the real documents of ../shared/corpus with their known truth
(SOURCES.md), built into an EPUB that EPUBCheck passes and a PDF that check passes."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html

from book.build import build, read_manuscript, type_areas
from book.check import check_pdf
from book.config import load_config
from book.documents import read_document
from book.errors import SourceError

from .helpers import assert_epubcheck_clean, corpus_file, write_book

docx = pytest.importorskip("docx", reason="python-docx is not installed (pip install -e '.[test]')")

_SPACE = re.compile(r"\s+")


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 60), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _word_document(path: Path) -> Path:
    """A document in the styles authors use: Title, Heading 1 and 2, Quote, lists, bold and
    italic runs, a picture with alt text, a table, and a style of the author's own."""
    document = docx.Document()
    document.add_paragraph("春天的报告", style="Title")
    document.add_heading("第一章　开始", level=1)
    paragraph = document.add_paragraph("这是正文，其中有")
    paragraph.add_run("重点").bold = True
    paragraph.add_run("和")
    paragraph.add_run("强调").italic = True
    paragraph.add_run("，还有一个星号*不是标记。")
    document.add_heading("一、背景", level=2)
    document.add_paragraph("引用的一段话。", style="Quote")
    document.add_paragraph("第一项", style="List Bullet")
    document.add_paragraph("第二项", style="List Bullet")
    picture = document.add_paragraph().add_run().add_picture(io.BytesIO(_png()))
    picture._inline.docPr.set("descr", "红色的方块")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, (("项目", "数量"), ("苹果", "3")), strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    styles = document.styles
    own = styles.add_style("作者的样式", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("用作者自己的样式写的一段。", style=own)
    document.add_paragraph("又一段作者样式的文字。", style=own)
    document.add_heading("第二章　继续", level=1)
    document.add_paragraph("第二章的正文。")
    document.core_properties.author = "张三"
    document.save(path)
    return path


def test_a_word_document_s_styles_become_the_book_s_structure(tmp_path: Path) -> None:
    seed = _word_document(tmp_path / "report.docx")
    config = load_config(write_book(tmp_path, {"report.docx": seed.read_bytes()}))
    manuscript = read_manuscript(config)
    assert manuscript.metadata.title == "春天的报告"  # the Title style
    assert [c.name for c in manuscript.metadata.creators] == ["张三"]  # the core properties
    assert [c.title for c in manuscript.chapters] == ["第一章　开始", "第二章　继续"]  # Heading 1
    blocks = [(b.kind, b.text) for b in manuscript.chapters[0].blocks]
    assert ("heading", "一、背景") in blocks  # Heading 2: a section inside the chapter
    assert ("quote", "引用的一段话。") in blocks
    assert [text for kind, text in blocks if kind == "item"] == ["第一项", "第二项"]
    assert ("paragraph", "这是正文，其中有**重点**和*强调*，还有一个星号\\*不是标记。") in blocks
    figure = next(b for b in manuscript.chapters[0].blocks if b.kind == "figure")
    assert figure.text == "红色的方块" and manuscript.images[0].name == figure.label
    table = next(b for b in manuscript.chapters[0].blocks if b.kind == "table")
    assert table.text == "项目\t数量\n苹果\t3"
    unmapped = manuscript.findings_of("style-unmapped")
    assert len(unmapped) == 1 and "作者的样式" in unmapped[0].message
    assert ("paragraph", "用作者自己的样式写的一段。") in blocks  # read as text, never dropped
    assert ("paragraph", "又一段作者样式的文字。") in blocks

    result = build(config, tmp_path / "dist")
    epub_text = _epub_text(result.outputs["epub"])
    assert "<strong>重点</strong>" in epub_text and "<em>强调</em>" in epub_text and "星号*不是" in epub_text
    assert 'alt="红色的方块"' in epub_text and "<td>苹果</td>" in epub_text
    checks = {c.name: c for c in check_pdf(result.outputs["pdf"], config.trim, type_areas(config))}
    assert [name for name, c in checks.items() if not (c.passed or c.advisory)] == []
    assert checks["colours"].figure.startswith("0 ")  # the picture separated into CMYK: no RGB


@pytest.mark.java
def test_a_word_document_s_epub_passes_epubcheck(tmp_path: Path) -> None:
    seed = _word_document(tmp_path / "report.docx")
    config = load_config(write_book(tmp_path, {"report.docx": seed.read_bytes()}))
    assert_epubcheck_clean(build(config, tmp_path / "dist", ("epub",)).outputs["epub"])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"PK\x03\x04 not really a zip", "is not a readable Word document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "is password-protected or an old Word 97"),
    ],
)
def test_a_broken_or_protected_word_file_is_one_clear_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(content)
    with pytest.raises(SourceError) as error:
        read_document(path)
    message = str(error.value)
    assert problem in message and "broken.docx" in message and "\n" not in message


def test_a_web_page_without_an_article_is_an_error_not_an_empty_book(tmp_path: Path) -> None:
    page = tmp_path / "nav.html"
    page.write_text("<html><head><title>首页</title></head><body><nav><a href='/'>首页</a></nav></body></html>")
    with pytest.raises(SourceError, match="no main text found in the web page"):
        read_document(page)


def _epub_text(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as epub:
        return "".join(epub.read(n).decode() for n in sorted(epub.namelist()) if n.endswith(".xhtml"))


def _fold(text: str) -> str:
    """Text compared with readability's: no spaces, emphasis marks or escapes, and the parentheses
    and colons our punctuation pass makes full width folded back."""
    text = _SPACE.sub("", text).replace("**", "").replace("\\", "")
    return text.translate(str.maketrans("（）：", "():"))


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["gmw-astronaut-alcohol", "youth-overseas-students"])
def test_saved_pages_give_readability_s_paragraphs(tmp_path: Path, name: str) -> None:
    """Our paragraphs against readability's reference extraction (`*.expected.html`): every
    paragraph of body text is there, and what we leave out of theirs is only the editor's credit,
    which our cruft rules remove (and report)."""
    page = corpus_file(f"{name}.saved-dom.utf8.html")
    expected = lxml_html.fromstring(corpus_file(f"{name}.saved-dom.utf8.expected.html").read_text(encoding="utf-8"))
    theirs = [_fold(p.text_content()) for p in expected.iter("p")]
    theirs = [p for p in theirs if p]
    config = load_config(write_book(tmp_path, {page.name: page.read_bytes()}))
    manuscript = read_manuscript(config)
    ours = {_fold(b.text) for c in manuscript.chapters for b in c.blocks}
    missing = [p for p in theirs if p not in ours]
    assert all(p.startswith("[责任编辑") for p in missing), missing
    assert len(manuscript.chapters) == 1  # one article, its bold lines heading sections
    assert not any(b.text in ("分享", "开心", "板砖") for b in manuscript.chapters[0].blocks)
    assert manuscript.findings_of("removed")  # navigation and the rest, counted


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "title", "present", "absent"),
    [
        (
            "xinhuanet-wuhan-heroes.raw.utf8.html",
            "武汉的声音：有英勇的你，才有英雄的城！",
            ["2月17日", "能过关。", "萧海川"],
            ["纠错", "关注新华网"],
        ),
        (
            "hebei-xinhuanet-drama.wayback.gb2312.html",
            "话剧《约定无期限》河北各市巡演结束",
            ["一个约定，信守15年，感人至深；一段真情，延续15年"],
            ["copyright (c) 2000", "ICP证010042号", "河北探索农村劳动力就地就近转移培训"],
        ),
    ],
)
def test_saved_pages_pass_trafilatura_s_evaluation(
    tmp_path: Path, name: str, title: str, present: list[str], absent: list[str]
) -> None:
    """trafilatura's tests/evaldata.json for the two raw pages (SOURCES.md): what the text must and
    must not hold, on the text our normalizer made of it; the title without the site's name."""
    page = corpus_file(name)
    manuscript = read_manuscript(load_config(write_book(tmp_path, {page.name: page.read_bytes()})))
    text = "".join(b.text for c in manuscript.chapters for b in c.blocks)
    assert manuscript.metadata.title == title
    assert read_document(page).metadata.date == {"xinhuanet": "2020-02-19", "hebei-xin": "2012-06-04"}[name[:9]]
    assert all(p in text for p in present), [p for p in present if p not in text]
    assert not [a for a in absent if a in text]


@pytest.mark.corpus
def test_the_chinese_word_document_keeps_its_hierarchy() -> None:
    """SOURCES.md: 4 heading-1 chapters; 21 Subtitle headings numbered by hand (sections); the
    title line set by direct formatting; creator RuoYi; the screenshots as figures."""
    seed = read_document(corpus_file("ruoyi-env-manual.msword-zh.docx"))
    assert seed.metadata.title == "若依系统开发环境搭建手册" and seed.metadata.creators == ("RuoYi",)
    assert len(re.findall(r"^# ", seed.text, re.M)) == 4
    sections = re.findall(r"^(#{2,3}) (\d[\d.]*)", seed.text, re.M)
    assert len(sections) == 21
    assert ("###", "2.1.1") in sections and ("##", "4.2") in sections
    assert len(re.findall(r"^!\[", seed.text, re.M)) == 15
    assert "java –jar RuoYi.jar" in seed.text  # U+2013 kept
    assert "\\# 进入项目目录" in seed.text  # a shell comment is text, not a heading


@pytest.mark.corpus
def test_the_libreoffice_epub_finds_its_headings_and_articles(tmp_path: Path) -> None:
    """SOURCES.md: no <h1>–<h6>; 16 编/分编/附则 headings and 83 章 and 36 节 set as styled
    paragraphs; articles 第一条 to 第一千二百六十条 each open a paragraph; dc:language 中文."""
    seed = corpus_file("minfadian-dameng.libreoffice.epub")
    manuscript = read_manuscript(load_config(write_book(tmp_path, {seed.name: seed.read_bytes()})))
    titles = [c.title for c in manuscript.chapters]
    assert len([t for t in titles if re.match("^第.{1,2}编|^附则", t)]) == 16
    sections = [b.text for c in manuscript.chapters for b in c.blocks if b.kind == "heading"]
    assert len([s for s in sections if re.match("^第.+章", s)]) == 83
    assert len([s for s in sections if re.match("^第.+节", s)]) == 36
    articles = {
        b.text.split("\u3000")[0] for c in manuscript.chapters for b in c.blocks if re.match("^第[^条]{1,9}条", b.text)
    }
    assert len(articles) == 1260 and "第一千二百六十条" in articles
    assert any("中文" in f.message for f in manuscript.findings_of("metadata"))
    assert manuscript.metadata.language == "zh-CN"


@pytest.mark.corpus
@pytest.mark.java
@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    [
        "ruoyi-env-manual.msword-zh.docx",
        "youth-overseas-students.saved-dom.utf8.html",
        "minfadian-dameng.libreoffice.epub",
    ],
)
def test_each_kind_of_document_builds_an_epub_and_a_pdf_that_pass(tmp_path: Path, name: str) -> None:
    seed = corpus_file(name)
    config = load_config(write_book(tmp_path, {seed.name: seed.read_bytes()}))
    result = build(config, tmp_path / "dist")
    assert_epubcheck_clean(result.outputs["epub"])
    checks = check_pdf(result.outputs["pdf"], config.trim, type_areas(config))
    assert [c.name for c in checks if not (c.passed or c.advisory)] == []


def test_notes_follow_the_paragraph_that_refers_to_them() -> None:
    """mammoth's footnotes (an <ol> after the text, each <li id="footnote-N"> with a back-link)
    become [^N] references and definitions right after the paragraph, so the normalizer keeps them
    in the chapter that refers to them; the back-link is left out and counted."""
    from book.documents.markdown import Reading, parse, to_markdown

    root = parse(
        '<h1>第一章</h1><p>正文有注<sup><a href="#footnote-1" id="footnote-ref-1">[1]</a></sup>，继续。</p>'
        "<h1>第二章</h1><p>后文。</p>"
        '<ol><li id="footnote-1"><p>注释的内容。 <a href="#footnote-ref-1">↑</a></p></li>'
        '<li id="footnote-2"><p>没有人引用的注。</p></li></ol>'
    )
    markdown = to_markdown(root, Reading(note_ids=frozenset({"footnote-1", "footnote-2"})))
    lines = [line for line in markdown.lines if line]
    assert lines == ["# 第一章", "正文有注[^1]，继续。", "[^1]: 注释的内容。", "# 第二章", "后文。", "没有人引用的注。"]
    assert markdown.dropped["note back-link"] == 1
    assert markdown.unmapped["a note no text refers to"] == 1  # kept as text, and reported


def test_images_no_reader_shows_are_converted_or_left_out_never_a_crash(tmp_path: Path) -> None:
    """A Markdown book's figures: a BMP becomes PNG (EPUB core media types only); a broken PNG
    and an image that is not there keep their lines as text, reported; both outputs build."""
    from PIL import Image

    from book.build import build

    Image.new("RGB", (40, 20), (0, 90, 200)).save(tmp_path / "blue.bmp")
    (tmp_path / "broken.png").write_bytes(_png()[:40])
    text = "# 第一章\n\n正文。\n\n![蓝色](blue.bmp)\n\n![坏的](broken.png)\n\n![没有](missing.png)\n"
    config = load_config(write_book(tmp_path, {"book.md": text}))
    manuscript = read_manuscript(config)
    figures = [b for b in manuscript.chapters[0].blocks if b.kind == "figure"]
    assert [f.text for f in figures] == ["蓝色"] and figures[0].label.endswith(".png")
    assert manuscript.images[0].media_type == "image/png" and manuscript.images[0].data.startswith(b"\x89PNG")
    assert len(manuscript.findings_of("image-missing")) == 2
    result = build(config, tmp_path / "dist")
    assert set(result.outputs) == {"epub", "pdf"}


def test_code_is_kept_as_it_is(tmp_path: Path) -> None:
    """A fenced block of a Markdown seed, and Word's HTML Preformatted paragraphs, are code: their
    lines verbatim (no full-width marks, no heading read in `# comment`, no cruft removed), set as
    <pre> in both outputs; the line numbers of what follows are the seed's."""
    document = docx.Document()
    document.add_paragraph("配置如下：")
    code_style = document.styles.add_style("HTML Preformatted", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("# 进入项目目录", style=code_style)
    document.add_paragraph("npm install, then run: dev", style=code_style)
    document.add_paragraph("之后，继续。")
    document.save(tmp_path / "setup.docx")
    markdown = "# 第一章\n\n正文。\n\n```sh\n# 进入项目目录\nnpm run dev, now\n上一篇\n```\n\n后文,有逗号。\n"
    config = load_config(write_book(tmp_path, {"a.md": markdown, "setup.docx": (tmp_path / "setup.docx").read_bytes()}))
    manuscript = read_manuscript(config)
    code = [b for c in manuscript.chapters for b in c.blocks if b.kind == "code"]
    assert [b.text for b in code] == [
        "# 进入项目目录\nnpm run dev, now\n上一篇",
        "# 进入项目目录\nnpm install, then run: dev",
    ]
    after = next(b for c in manuscript.chapters for b in c.blocks if b.text.startswith("后文"))
    assert after.text == "后文，有逗号。" and after.line == 11  # the text around the code is normalized
    result = build(config, tmp_path / "dist", ("epub",))
    assert "<pre>npm install, then run: dev" in _epub_text(result.outputs["epub"]).replace("# 进入项目目录\n", "")
