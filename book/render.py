"""Render stage: Manuscript -> XHTML documents for the EPUB and one HTML document for print.

Templates are Jinja2 with autoescape on: seed text is data and never becomes markup.
A book's own styles/ folder overrides any template of the project's styles/.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from .blocks import block_elements, cjk_spacing, name_breaks, title_spans
from .colophon import copyright_lines
from .errors import RenderError
from .figures import print_image_url
from .fonts import PROJECT_ROOT, FontFace, without_unused_emphasis
from .model import Chapter, Creator, Manuscript, PageStart, PdfProfile, block_id
from .progress import estimated_pages
from .script import to_script

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
    pages: tuple[str, ...] = ()  # the printed folios marked in the text (page list), if any
    toc: tuple[dict[str, object], ...] = ()  # {href, title, children}: parts hold their chapters
    fonts: tuple[FontFace, ...] = ()  # the faces its stylesheet declares


@dataclass(frozen=True)
class PrintRendition:
    """The print book as one HTML document and its stylesheets."""

    html: str
    stylesheets: tuple[str, ...]
    base_url: str
    profile: PdfProfile
    blank_page: str  # HTML of a blank page in the same style, to make the page count even; "" for none
    trim: tuple[float, float]  # the page's trim size in mm
    folds: tuple[float, ...] = ()  # a cover's folds, in mm from its left trim edge (marked outside the bleed)


def load_templates(book_styles: Path | None, compiled: Path | None = None) -> jinja2.Environment:
    """A Jinja2 environment that looks in the book's styles/ first, then in the project's.

    `compiled`, a folder, keeps the compiled templates (Jinja2's FileSystemBytecodeCache, checked
    against each template's source): compiling the book's templates took 45 ms of every build."""
    folders = list(dict.fromkeys(str(p) for p in (book_styles, DEFAULT_STYLES) if p is not None))
    bytecode = None
    if compiled is not None:
        compiled.mkdir(parents=True, exist_ok=True)
        bytecode = jinja2.FileSystemBytecodeCache(str(compiled))
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        bytecode_cache=bytecode,
        autoescape=jinja2.select_autoescape(
            ("html", "xhtml", "xml"), disabled_extensions=("css",), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["cjk_spacing"] = cjk_spacing
    environment.filters["name_breaks"] = name_breaks
    environment.filters["title_lines"] = title_spans
    return environment


def render_template(templates: jinja2.Environment, name: str, **context: object) -> str:
    """A template rendered; `t(label)` in it writes a label in the book's script (目录 → 目錄 in zh-Hant)."""
    language = str(context.get("lang") or "")
    context.setdefault("t", lambda label: to_script(label, language))
    return _render_template(templates, name, **context)


def _render_template(templates: jinja2.Environment, name: str, **context: object) -> str:
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


def credit_lines(creators: tuple[Creator, ...], language: str = "") -> list[str]:
    """Credit lines as a Chinese title page sets them: 株洲日报全媒体记者 杨凌凌 / 曹雪芹 著 (著 in the
    book's script)."""
    lines = []
    for creator in creators:
        if creator.label:
            lines.append(f"{creator.organization}{creator.label}　{creator.name}")
        else:
            role = to_script(ROLE_WORDS.get(creator.role, ""), language)
            lines.append(f"{creator.name}　{role}".rstrip("　"))
    return lines


def title_noteref(chapter: Chapter, number: int) -> markupsafe.Markup:
    """The reference a chapter's title makes to one of its endnotes (狂人日记¹), or nothing."""
    if not chapter.title_note:
        return markupsafe.Markup("")
    label = markupsafe.escape(chapter.title_note)
    return markupsafe.Markup(
        f'<a class="noteref" epub:type="noteref" role="doc-noteref" id="noteref-{number}-{label}" '
        f'href="#note-{number}-{label}">{label}</a>'
    )


def chapter_id(number: int) -> str:
    """The stable id of chapter `number` (1-based), shared by both formats."""
    return f"chapter-{number:03d}"


def render_epub(
    manuscript: Manuscript,
    templates: jinja2.Environment,
    fonts: tuple[FontFace, ...],
    *,
    cover: str,
    page_starts: tuple[PageStart, ...] = (),
    writing_mode: str = "horizontal-tb",
) -> EpubRendition:
    """The EPUB's XHTML documents in reading order (cover, title page, copyright page, chapters), nav and CSS.

    `cover` is the cover image's file name in the EPUB. `page_starts`, from the PDF built in the
    same run, become page-break markers and a page list, so a reader can cite the printed page.
    """
    meta = manuscript.metadata
    common = {
        "lang": meta.language,
        "meta": meta,
        "creators": credit_lines(meta.creators, meta.language),
        "stylesheet": STYLESHEET,
    }

    def t(label: str) -> str:
        return to_script(label, meta.language)

    def document(name: str, title: str, template: str, landmark: str, **context: object) -> Document:
        return Document(
            name, title, render_template(templates, template, page_title=title, **common, **context), landmark
        )

    documents = [
        document("cover.xhtml", t("封面"), "epub/cover.xhtml", "cover", cover=cover),
        document("titlepage.xhtml", meta.title, "epub/titlepage.xhtml", "titlepage"),
        document(
            "copyright.xhtml",
            t("版权页"),
            "epub/copyright.xhtml",
            "copyright-page",
            copyright=copyright_lines(manuscript, (0, 0), printed=False),
        ),
    ]
    pages_by_block: dict[tuple[int, int], list[PageStart]] = {}
    for start in page_starts:
        pages_by_block.setdefault((start.chapter, start.block), []).append(start)
    chapters = []
    for number, chapter in enumerate(manuscript.chapters, start=1):
        landmark = (
            "bodymatter"
            if number == 1
            else (
                "backmatter"
                if chapter.kind in BACKMATTER_KINDS and manuscript.chapters[number - 2].kind not in BACKMATTER_KINDS
                else ""
            )
        )
        pages = {block: starts for (c, block), starts in pages_by_block.items() if c == number}
        elements, notes = block_elements(chapter, number, spacing=False, pages=pages)
        heading_pages = [s.label for s in pages_by_block.get((number, -1), [])]
        chapters.append(
            document(
                f"{chapter_id(number)}.xhtml",
                chapter.title,
                "epub/chapter.xhtml",
                landmark,
                chapter=chapter,
                chapter_id=chapter_id(number),
                title_noteref=title_noteref(chapter, number),
                elements=elements,
                notes=notes,
                heading_pages=heading_pages,
            )
        )
    documents += chapters
    toc = nested_toc([(d.file_name, d.title) for d in chapters], [c.kind for c in manuscript.chapters])
    landmarks = [
        {"type": "cover", "href": "cover.xhtml", "title": t("封面")},
        {"type": "titlepage", "href": "titlepage.xhtml", "title": t("书名页")},
        {"type": "toc", "href": "nav.xhtml#toc", "title": t("目录")},
    ]
    landmarks += [
        {"type": d.landmark, "href": d.file_name, "title": t({"bodymatter": "正文", "backmatter": "附录"}[d.landmark])}
        for d in chapters
        if d.landmark
    ]
    page_list = [{"href": f"{chapter_id(s.chapter)}.xhtml#page-{s.label}", "page": s.label} for s in page_starts]
    nav = Document(
        "nav.xhtml",
        t("目录"),
        render_template(
            templates,
            "epub/nav.xhtml",
            page_title=t("目录"),
            toc=toc,
            landmarks=landmarks,
            page_list=page_list,
            **common,
        ),
        "toc",
    )
    fonts = without_unused_emphasis(fonts, "".join(d.content for d in documents))
    return EpubRendition(
        tuple(documents),
        nav,
        epub_stylesheet(templates, fonts, writing_mode),
        tuple(s.label for s in page_starts),
        tuple(toc),
        fonts,
    )


def epub_stylesheet(templates: jinja2.Environment, fonts: tuple[FontFace, ...], writing_mode: str) -> str:
    """The EPUB's one stylesheet: shared.css, epub.css with an @font-face rule for each face, the
    book's additions; custom properties resolved for readers without them."""
    rules = font_rules(fonts, lambda f: f"../fonts/{f.file_name}")
    css = "\n".join(
        (
            render_template(templates, "shared.css"),
            render_template(templates, "epub/epub.css", fonts=rules, writing_mode=writing_mode),
            *book_additions(templates, "epub/extra.css"),
        )
    )
    return resolve_css_variables(css)


BACKMATTER_KINDS = ("afterword", "colophon", "appendix", "epilogue")


def nested_toc(entries: list[tuple[str, str]], kinds: list[str]) -> list[dict[str, object]]:
    """Contents entries {href, title, children}: a part holds the chapters up to the next part or back matter."""
    toc: list[dict[str, Any]] = []
    part: dict[str, Any] | None = None
    for (href, title), kind in zip(entries, kinds, strict=True):
        entry: dict[str, Any] = {"href": href, "title": title, "children": []}
        if kind == "part":
            part = entry
            toc.append(entry)
        elif part is not None and kind not in BACKMATTER_KINDS:
            part["children"].append(entry)
        else:
            part = None
            toc.append(entry)
    return toc


def render_print(
    manuscript: Manuscript,
    templates: jinja2.Environment,
    fonts: tuple[FontFace, ...],
    trim: tuple[float, float],
    profile: PdfProfile,
) -> PrintRendition:
    """The print book: one HTML document (title page, copyright page, contents, chapters) and its CSS."""
    html = _print_html(manuscript, templates, _print_chapters(manuscript, profile), trim, front=True)
    fonts = without_unused_emphasis(fonts, html)
    # A blank last page, appended when the book would end on a recto: a printed book has an even page count.
    blank = f'<html lang="{manuscript.metadata.language}"><body><div class="end-page"></div></body></html>'
    if profile.name == "screen":  # read page after page: no page count to make even
        blank = ""
    stylesheets = print_stylesheets(templates, fonts, trim, profile)
    return PrintRendition(html, stylesheets, DEFAULT_STYLES.as_uri() + "/", profile, blank, trim)


@dataclass(frozen=True)
class PrintPieces:
    """The print book in pieces, laid out apart (in parallel) and put together into the whole
    book's pages: one HTML document per chapter, each ending where the next would begin, and the
    front matter, whose contents need the chapters' first folios (`front(folios)`)."""

    chapters: tuple[str, ...]
    front: Callable[[list[int], int], str]  # (the chapters' first folios, their pages) -> HTML
    stylesheets: tuple[str, ...]
    base_url: str
    profile: PdfProfile


def render_print_pieces(
    manuscript: Manuscript,
    templates: jinja2.Environment,
    fonts: tuple[FontFace, ...],
    trim: tuple[float, float],
    profile: PdfProfile,
) -> PrintPieces:
    """The print book as pieces (PrintPieces), with the same stylesheets as render_print's."""
    chapters = _print_chapters(manuscript, profile)
    pieces = tuple(_print_html(manuscript, templates, [chapter], trim, front=False) for chapter in chapters)
    fonts = without_unused_emphasis(fonts, "".join(pieces))

    def front(folios: list[int], text_pages: int) -> str:
        by_href = {"#" + str(c["id"]): folio for c, folio in zip(chapters, folios, strict=True)}
        return _print_html(
            manuscript, templates, chapters, trim, front=True, folios=by_href, chapters_shown=False, pages=text_pages
        )

    return PrintPieces(
        pieces,
        front,
        print_stylesheets(templates, fonts, trim, profile),
        DEFAULT_STYLES.as_uri() + "/",
        profile,
    )


def print_stylesheets(
    templates: jinja2.Environment, fonts: tuple[FontFace, ...], trim: tuple[float, float], profile: PdfProfile
) -> tuple[str, ...]:
    """shared.css and print.css for a trim size and a profile, with the book's @font-face rules,
    then the book's own additions (print/extra.css)."""
    return (
        render_template(templates, "shared.css"),
        render_template(
            templates,
            "print/print.css",
            fonts=font_rules(fonts, lambda f: f.path.as_uri()),
            trim_width=trim[0],
            trim_height=trim[1],
            profile=profile_context(profile),
        ),
        *book_additions(templates, "print/extra.css"),
    )


def book_additions(templates: jinja2.Environment, name: str) -> tuple[str, ...]:
    """A book's own stylesheet of additions (`styles/print/extra.css`, `styles/epub/extra.css`), set
    after the project's: a book changes a rule or two and keeps every later fix of the rest."""
    try:
        templates.get_template(name)
    except jinja2.TemplateNotFound:
        return ()
    return (render_template(templates, name),)


def _print_chapters(manuscript: Manuscript, profile: PdfProfile) -> list[dict[str, object]]:
    images = {image.name: image for image in manuscript.images}

    def image_url(name: str) -> str:
        return print_image_url(images[name], profile)

    return [_print_chapter(number, chapter, image_url) for number, chapter in enumerate(manuscript.chapters, start=1)]


def _book_pages(manuscript: Manuscript, chapters: list[dict[str, object]], text_pages: int) -> int:
    """The print book's pages, for the copyright page's 印张 before they are laid out: the chapters'
    (`text_pages`, where a book printed in pieces knows them, else estimated from the text) and the
    front matter's (title, copyright, contents, to a recto). pdf.writer and pieces.py put in the
    laid-out figure (colophon.with_sheets)."""
    if not text_pages:
        return estimated_pages([sum(len(block.text) for block in c.blocks) for c in manuscript.chapters])
    return text_pages + 2 * math.ceil((2 + math.ceil(len(chapters) / 24)) / 2)


def _print_html(
    manuscript: Manuscript,
    templates: jinja2.Environment,
    chapters: list[dict[str, object]],
    trim: tuple[float, float],
    *,
    front: bool,
    folios: dict[str, int] | None = None,
    chapters_shown: bool = True,
    pages: int = 0,
) -> str:
    """The print book's HTML: the front matter (`front`), the chapters (`chapters_shown`). `pages`:
    the chapters' pages where they are known (a book printed in pieces), for the 印张."""
    meta = manuscript.metadata
    return render_template(
        templates,
        "print/book.html",
        lang=meta.language,
        meta=meta,
        creators=credit_lines(meta.creators, meta.language),
        copyright=copyright_lines(manuscript, trim, printed=True, pages=_book_pages(manuscript, chapters, pages))
        if front
        else [],
        chapters=chapters if chapters_shown else [],
        toc=nested_toc([("#" + str(c["id"]), str(c["title"])) for c in chapters], [str(c["kind"]) for c in chapters])
        if front
        else [],
        front=front,
        folios=folios,
        piece=not (front and chapters_shown),
    )


def font_rules(fonts: tuple[FontFace, ...], url_of: Callable[[FontFace], str]) -> list[dict[str, object]]:
    """What the stylesheets' @font-face rules need: family, weight and where the file is."""
    return [{"family": f.family, "weight": f.weight, "url": url_of(f)} for f in fonts]


def profile_context(profile: PdfProfile) -> dict[str, object]:
    return {
        "bleed_mm": profile.bleed_mm,
        "slug_mm": profile.slug_mm,
        "cmyk": profile.cmyk,
        "screen": profile.name == "screen",
    }


def _print_chapter(number: int, chapter: Chapter, image_url: Callable[[str], str]) -> dict[str, object]:
    elements, notes = block_elements(chapter, number, spacing=True, print_ids=True, image_url=image_url)
    return {
        "id": chapter_id(number),
        "title": chapter.title,
        "title_noteref": title_noteref(chapter, number),
        "kind": chapter.kind,
        "heading_block": block_id(number, -1),
        "first": number == 1,
        "elements": elements,
        "notes": notes,
    }


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
