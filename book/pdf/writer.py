"""writer: the PDF writers. `write_pdf` renders a whole book in one pass; `PieceWriter` lays out
and draws a long book's chapters as pieces, which book/assemble.py puts together.

Each calls patches.install() first; the render's options (options.RenderOptions) and its
per-pass state (held margin boxes, font usage) live in ContextVars, so renders never share them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.formatting_structure import boxes

from ..assemble import Piece, assemble
from ..colophon import with_sheets
from ..errors import writing
from ..model import GlyphsUsed, PageStart, PdfProfile, PdfResult, PieceGlyphs
from .finishing import finish, piece_options
from .fonts import FONT_USAGE, BookFonts, FaceFinder, json_ready
from .pages import HELD_MARGINS, HeldMargins, layout_box_backgrounds, original_make_margin_boxes, page_starts_of
from .patches import install
from .sandbox import RestrictedFetcher, refused_urls

if TYPE_CHECKING:
    from ..render import PrintRendition


class _Warnings(logging.Handler):
    """Collects WeasyPrint's warnings (an unknown CSS property, a glyph no font has) for the build report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Progress(logging.Handler):
    """Turns WeasyPrint's progress log ("Step 5 - Creating layout - Page 12") into progress messages."""

    def __init__(self, report: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if page := re.search(r"Creating layout - Page (\d+)", message):
            self.report(f"laying out the PDF: page {page[1]}")
        elif "Step 6" in message:
            self.report("writing the PDF")


def settle_printing_process() -> None:
    """Tune Python's cyclic garbage collector for a process that prints pages, once WeasyPrint is loaded.

    Laying out and drawing pages makes and frees tens of thousands of boxes, styles and lists a
    chapter, nearly all freed by reference counting. At the default threshold (a collection every
    700 objects kept), 10 回 in one process ran 274 collections for 0.27 s, and each full one
    walked every object of WeasyPrint and its libraries' tables too. Those are moved out of the
    collector's reach (gc.freeze), and a collection comes every 50,000 objects kept: 84
    collections, 0.10 s. Called only in a process that ends with its build (a piece worker, the
    process forked to print), since frozen objects' cycles are never collected."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def write_pdf(
    path: Path,
    rendition: PrintRendition,
    allowed: tuple[Path, ...],
    document_id: str,
    faces: tuple[Path, ...],
    progress: Callable[[str], None] = lambda _: None,
    laid_out: Callable[[tuple[PageStart, ...]], None] = lambda _: None,
) -> PdfResult:
    """Render a PDF to `path` (a staged temporary file) in the rendition's profile (print or screen), in one pass.

    `laid_out` is told where the printed pages begin as soon as the layout is done, before the
    pages are drawn: the EPUB, made alongside, waits for that only.

    `document_id` (the book's identifier) makes the PDF/X metadata's DocumentID stable across builds.
    The book's `faces` are embedded by assemble.py, as for a book printed in pieces: one subset
    each, made by HarfBuzz (WeasyPrint's own subsetting parses a C type per call: 0.25 s a book).
    """
    install()
    fetcher = RestrictedFetcher(allowed)
    fonts = BookFonts()
    steps = _Progress(progress)
    progress_log = logging.getLogger("weasyprint.progress")
    progress_log.addHandler(steps)
    level, propagate = progress_log.level, progress_log.propagate
    progress_log.setLevel(logging.INFO)
    progress_log.propagate = False  # progress goes to the callback only, never to the console log
    profile = rendition.profile
    usage: dict[str, GlyphsUsed] = {}
    draft = path.with_name(path.name + ".draft")
    try:
        with _collected_warnings() as warnings, refused_urls(), writing(path):
            stylesheets = [
                CSS(string=css, base_url=rendition.base_url, url_fetcher=fetcher, font_config=fonts)
                for css in rendition.stylesheets
            ]
            document = HTML(string=rendition.html, base_url=rendition.base_url, url_fetcher=fetcher).render(
                stylesheets=stylesheets, font_config=fonts
            )
            pages = len(document.pages) + (bool(rendition.blank_page) and len(document.pages) % 2)
            if (settled := with_sheets(rendition.html, pages)) != rendition.html:
                # The copyright page's 印张 was set from an estimate of the pages: now they are known.
                document = HTML(string=settled, base_url=rendition.base_url, url_fetcher=fetcher).render(
                    stylesheets=stylesheets, font_config=fonts
                )
            if rendition.blank_page and len(document.pages) % 2:
                blank = HTML(string=rendition.blank_page, base_url=rendition.base_url, url_fetcher=fetcher).render(
                    stylesheets=stylesheets, font_config=fonts
                )
                document = document.copy(document.pages + blank.pages)
            page_starts = page_starts_of(document)
            text_start = min((s.page for s in page_starts), default=1)
            # The text's folios restart at 1 on its first page (print.css); the EPUB cites those.
            page_starts = tuple(dataclasses.replace(s, label=str(s.page - text_start + 1)) for s in page_starts)
            laid_out(page_starts)
            finisher = functools.partial(
                finish, profile=profile, text_start=text_start, document_id=document_id, folds=rendition.folds
            )
            token = FONT_USAGE.set((usage, FaceFinder(faces)))
            try:
                document.write_pdf(draft, finisher=finisher, **piece_options(profile))
            finally:
                FONT_USAGE.reset(token)
            assemble(path, Piece(draft, json_ready(usage)), [])
    finally:
        draft.unlink(missing_ok=True)
        progress_log.removeHandler(steps)
        progress_log.setLevel(level)
        progress_log.propagate = propagate
    return PdfResult(path.stat().st_size, len(document.pages), page_starts, tuple(warnings))


class TypeArea(NamedTuple):
    """Where the text block of a page is, in PDF points from the media box's lower left corner."""

    left: float
    right: float
    top: float
    bottom: float


@dataclass
class LaidOutPiece:
    """A piece laid out, its margin boxes held back until its first folio is known."""

    document: Document
    held_margins: list[tuple[object, boxes.PageBox, tuple[object, ...], int]]
    warnings: list[str]

    @property
    def pages(self) -> int:
        return len(self.document.pages)


@dataclass(frozen=True)
class DrawnPiece:
    """What drawing a piece recorded: the glyphs of each font left to the assembler, and warnings."""

    fonts: dict[str, PieceGlyphs]
    warnings: tuple[str, ...]


class PieceWriter:
    """Lays out and draws pieces of one book in this process; the stylesheets are parsed and the
    fonts loaded once, for all the pieces."""

    def __init__(
        self,
        stylesheets: tuple[str, ...],
        base_url: str,
        allowed: tuple[Path, ...],
        profile: PdfProfile,
        document_id: str,
        faces: tuple[Path, ...],
    ) -> None:
        install()
        self.base_url, self.profile, self.document_id = base_url, profile, document_id
        self.fetcher = RestrictedFetcher(allowed)
        self.fonts = BookFonts()
        self.face_of = FaceFinder(faces)
        with _collected_warnings() as warnings, refused_urls():
            self.stylesheets = [
                CSS(string=css, base_url=base_url, url_fetcher=self.fetcher, font_config=self.fonts)
                for css in stylesheets
            ]
        self.warnings = warnings

    def lay_out(self, html: str) -> LaidOutPiece:
        """Lay out a piece (print/book.html with `piece` set); its last page, where the next piece
        would begin, is dropped."""
        held: HeldMargins = []
        token = HELD_MARGINS.set(held)
        try:
            with _collected_warnings() as warnings, refused_urls():
                document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
                    stylesheets=self.stylesheets, font_config=self.fonts
                )
        finally:
            HELD_MARGINS.reset(token)
        return LaidOutPiece(document.copy(document.pages[:-1]), held[:-1], [*self.warnings, *warnings])

    def page_starts(self, piece: LaidOutPiece) -> tuple[PageStart, ...]:
        """Where each page of the piece begins, pages numbered from 1 within the piece."""
        return page_starts_of(piece.document)

    def draw(self, piece: LaidOutPiece, first_folio: int, path: Path, *, front: bool = False) -> DrawnPiece:
        """Make the held-back margin boxes with folios from `first_folio`, and write the piece to `path`.

        The front matter (`front`) also gets the book's catalogue entries: the output intent and the
        page labels (front matter i, ii, …; the text from 1 after it)."""
        for context, page, state, number in piece.held_margins:
            context.current_page = number  # type: ignore[attr-defined]  # string() looks the page up
            counters = dict(state[1])  # type: ignore[call-overload]
            counters["page"] = [value + first_folio - 1 for value in counters["page"]]
            margins = list(original_make_margin_boxes(context, page, (state[0], counters, *state[2:])))
            for box in margins:
                layout_box_backgrounds(page, box, context.get_image_from_uri)  # type: ignore[attr-defined]
            page.children = (*page.children, *margins)
        usage: dict[str, GlyphsUsed] = {}
        finisher = functools.partial(
            finish,
            profile=self.profile,
            text_start=piece.pages + 1 if front else 1,
            document_id=self.document_id,
            catalog=front,
        )
        token = FONT_USAGE.set((usage, self.face_of))
        try:
            with _collected_warnings() as warnings, refused_urls(), writing(path):
                piece.document.write_pdf(path, finisher=finisher, **piece_options(self.profile, front))
        finally:
            FONT_USAGE.reset(token)
        return DrawnPiece(json_ready(usage), tuple([*piece.warnings, *warnings]))


@contextlib.contextmanager
def _collected_warnings() -> Iterator[list[str]]:
    handler = _Warnings()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addHandler(handler)
    try:
        yield handler.messages
    finally:
        weasyprint_log.removeHandler(handler)


def type_areas(stylesheets: tuple[str, ...], base_url: str, allowed: tuple[Path, ...]) -> tuple[TypeArea, TypeArea]:
    """The type area of a text page on a recto and on a verso, as the book's print stylesheets set
    it (margins mirror): left, right, top and bottom edges in PDF points, from the media box's
    lower left corner. `check` judges lines against it rather than guessing it from the text."""
    install()
    fetcher = RestrictedFetcher(allowed)
    fonts = BookFonts()
    with _collected_warnings(), refused_urls():
        sheets = [CSS(string=css, base_url=base_url, url_fetcher=fetcher, font_config=fonts) for css in stylesheets]
        document = HTML(
            string='<p>甲</p><p style="break-before: page">乙</p>', base_url=base_url, url_fetcher=fetcher
        ).render(stylesheets=sheets, font_config=fonts)
    areas = []
    for page in document.pages[:2]:  # the first page is a recto (left-to-right books), the second a verso
        box = page._page_box
        left, top = box.content_box_x(), box.content_box_y()
        height = page.height
        areas.append(
            TypeArea(left * 0.75, (left + box.width) * 0.75, (height - top) * 0.75, (height - top - box.height) * 0.75)
        )
    return areas[0], areas[1]
