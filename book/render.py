"""Render stage: Manuscript -> XHTML documents for the EPUB and one HTML document for print.

Templates are Jinja2 with autoescape on: seed text is data and never becomes markup.
A book's own styles/ folder overrides any template of the project's styles/.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from .errors import RenderError
from .fonts import PROJECT_ROOT, FontFace
from .model import Chapter, Creator, Manuscript

DEFAULT_STYLES = PROJECT_ROOT / "styles"
STYLESHEET = "style/book.css"

# MARC relator codes as a Chinese credit line puts them after the name: 曹雪芹 著.
ROLE_WORDS = {"aut": "著", "ctb": "参与", "edt": "编", "trl": "译", "pht": "摄影", "ill": "绘"}


@dataclass(frozen=True)
class Document:
    """One XHTML file of the EPUB."""

    file_name: str
    title: str
    content: str
    landmark: str = ""  # EPUB 3 structural semantics: titlepage, toc, bodymatter …


@dataclass(frozen=True)
class EpubRendition:
    """Everything the EPUB writer needs besides the fonts: documents in reading order, nav, CSS."""

    documents: tuple[Document, ...]
    nav: Document
    stylesheet: str


@dataclass(frozen=True)
class PrintRendition:
    """The print book as one HTML document and its stylesheets."""

    html: str
    stylesheets: tuple[str, ...]
    base_url: str


def load_templates(book_styles: Path | None) -> jinja2.Environment:
    """A Jinja2 environment that looks in the book's styles/ first, then in the project's."""
    folders = list(dict.fromkeys(str(p) for p in (book_styles, DEFAULT_STYLES) if p is not None))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(
            ("html", "xhtml", "xml"), disabled_extensions=("css",), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(templates: jinja2.Environment, name: str, **context: object) -> str:
    """Render one template; a missing template or a template error is a RenderError naming it."""
    try:
        return templates.get_template(name).render(**context)
    except jinja2.TemplateNotFound as exc:
        folders = ", ".join(getattr(templates.loader, "searchpath", []))
        raise RenderError(
            f"template {name} not found (searched {folders})",
            fix="restore it in styles/ or add it to the book's styles/",
        ) from exc
    except jinja2.TemplateError as exc:
        where = f"{getattr(exc, 'filename', None) or name}:{getattr(exc, 'lineno', '') or ''}".rstrip(":")
        raise RenderError(f"template error: {exc.message}", where=where, fix="fix the template") from exc


def credit_lines(creators: tuple[Creator, ...]) -> list[str]:
    """Credit lines as a Chinese title page sets them: 株洲日报全媒体记者 杨凌凌 / 曹雪芹 著."""
    lines = []
    for creator in creators:
        if creator.label:
            lines.append(f"{creator.organization}{creator.label}　{creator.name}")
        else:
            lines.append(f"{creator.name}　{ROLE_WORDS.get(creator.role, '')}".rstrip("　"))
    return lines


def chapter_id(number: int) -> str:
    """The stable id of chapter `number` (1-based), shared by both formats."""
    return f"chapter-{number:03d}"


def render_epub(manuscript: Manuscript, templates: jinja2.Environment, fonts: tuple[FontFace, ...]) -> EpubRendition:
    """The EPUB's XHTML documents in reading order: title page, copyright page, chapters; nav; CSS."""
    meta = manuscript.metadata
    common = {"lang": meta.language, "meta": meta, "creators": credit_lines(meta.creators), "stylesheet": STYLESHEET}
    documents = [
        Document(
            "titlepage.xhtml",
            meta.title,
            render_template(templates, "epub/titlepage.xhtml", page_title=meta.title, **common),
            "titlepage",
        ),
        Document(
            "copyright.xhtml",
            "版权页",
            render_template(templates, "epub/copyright.xhtml", page_title="版权页", **common),
            "copyright-page",
        ),
    ]
    for number, chapter in enumerate(manuscript.chapters, start=1):
        documents.append(
            Document(
                f"{chapter_id(number)}.xhtml",
                chapter.title,
                render_template(
                    templates,
                    "epub/chapter.xhtml",
                    page_title=chapter.title,
                    chapter=chapter,
                    chapter_id=chapter_id(number),
                    **common,
                ),
                "bodymatter" if number == 1 else "",
            )
        )
    toc = [{"href": d.file_name, "title": d.title} for d in documents[2:]]
    landmarks = [
        {"type": "titlepage", "href": "titlepage.xhtml", "title": "书名页"},
        {"type": "toc", "href": "nav.xhtml#toc", "title": "目录"},
        {
            "type": "bodymatter",
            "href": documents[2].file_name if len(documents) > 2 else "titlepage.xhtml",
            "title": "正文",
        },
    ]
    nav = Document(
        "nav.xhtml",
        "目录",
        render_template(templates, "epub/nav.xhtml", page_title="目录", toc=toc, landmarks=landmarks, **common),
        "toc",
    )
    font_rules = [{"family": f.family, "weight": f.weight, "url": f"../fonts/{f.file_name}"} for f in fonts]
    css = "\n".join(
        (
            render_template(templates, "shared.css"),
            render_template(templates, "epub/epub.css", fonts=font_rules),
        )
    )
    return EpubRendition(tuple(documents), nav, resolve_css_variables(css))


def render_print(
    manuscript: Manuscript, templates: jinja2.Environment, fonts: tuple[FontFace, ...], trim: tuple[float, float]
) -> PrintRendition:
    """The print book: one HTML document (title page, copyright page, contents, chapters) and its CSS."""
    meta = manuscript.metadata
    chapters = [_print_chapter(number, chapter) for number, chapter in enumerate(manuscript.chapters, start=1)]
    html = render_template(
        templates,
        "print/book.html",
        lang=meta.language,
        meta=meta,
        creators=credit_lines(meta.creators),
        chapters=chapters,
        toc=[{"id": c["id"], "title": c["title"]} for c in chapters],
    )
    font_rules = [{"family": f.family, "weight": f.weight, "url": f.path.as_uri()} for f in fonts]
    stylesheets = (
        render_template(templates, "shared.css"),
        render_template(templates, "print/print.css", fonts=font_rules, trim_width=trim[0], trim_height=trim[1]),
    )
    return PrintRendition(html, stylesheets, DEFAULT_STYLES.as_uri() + "/")


def _print_chapter(number: int, chapter: Chapter) -> dict[str, object]:
    return {"id": chapter_id(number), "title": chapter.title, "blocks": chapter.blocks}


_ROOT_BLOCK = re.compile(r":root\s*\{([^}]*)\}")
_DECLARATION = re.compile(r"(--[\w-]+)\s*:\s*([^;]+);")
_VAR = re.compile(r"var\(\s*(--[\w-]+)\s*(?:,\s*([^()]*))?\)")


def resolve_css_variables(css: str) -> str:
    """Replace var(--x) by the value :root gives it, for e-readers without custom properties."""
    values: dict[str, str] = {}
    for block in _ROOT_BLOCK.findall(css):
        for name, value in _DECLARATION.findall(re.sub(r"/\*.*?\*/", "", block, flags=re.S)):
            values[name] = " ".join(value.split())
    css = _ROOT_BLOCK.sub("", css)
    return _VAR.sub(lambda m: values.get(m[1], m[2] or ""), css)


_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_XHTML_NS = "{http://www.w3.org/1999/xhtml}"


def text_by_font_role(rendition: EpubRendition) -> dict[str, str]:
    """The text each font role sets: headings and `.sans` in the heading face, all of it in the body face.

    The convention is shared.css's: h1–h6 and class "sans" use --heading-font.
    """
    from xml.etree import ElementTree

    body: list[str] = []
    heading: list[str] = []
    for document in (*rendition.documents, rendition.nav):
        root = ElementTree.fromstring(document.content.encode("utf-8"))
        body.append("".join(root.itertext()))
        for element in root.iter():
            tag = element.tag.removeprefix(_XHTML_NS)
            if tag in _HEADING_TAGS or "sans" in (element.get("class") or "").split():
                heading.append("".join(element.itertext()))
    return {"body": "".join(body), "heading": "".join(heading)}
