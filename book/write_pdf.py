"""write_pdf: the print PDF through WeasyPrint. The only module that imports WeasyPrint.

WeasyPrint reads files only through `RestrictedFetcher`: file: URLs inside the allowed
folders (the project's styles/ and fonts/, the book's folder). Anything else, network or
a path outside, stops the build with a clear error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .errors import OutputError, RenderError
from .model import PageStart
from .render import PrintRendition, parse_block_id

LOG = logging.getLogger(__name__)
MEDIA_TYPES = {
    ".css": "text/css",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}


class RefusedURL(FatalURLFetchingError):
    """WeasyPrint asked for something outside the book."""


class RestrictedFetcher(URLFetcher):
    """Serve file: URLs inside `allowed` folders; refuse everything else."""

    def __init__(self, allowed: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols=("file",))
        self.allowed = tuple(p.resolve() for p in allowed)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        if path is None or not any(path.is_relative_to(root) for root in self.allowed):
            LOG.error("refused to fetch %s: outside the book's folders", url)
            raise RefusedURL(f"refused to fetch {url}: only files in {', '.join(map(str, self.allowed))} are read")
        if path.suffix.lower() not in MEDIA_TYPES or not path.is_file():
            raise RefusedURL(f"refused to fetch {url}: not a stylesheet, font or image file of the book")
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": MEDIA_TYPES[path.suffix.lower()]})


class _Warnings(logging.Handler):
    """Collects WeasyPrint's warnings (an unknown CSS property, a glyph no font has) for the build report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass(frozen=True)
class PdfResult:
    """What writing the PDF made: its size, its pages, where each page begins, WeasyPrint's warnings."""

    size: int
    pages: int
    page_starts: tuple[PageStart, ...]
    warnings: tuple[str, ...]


def write_pdf(path: Path, rendition: PrintRendition, allowed: tuple[Path, ...]) -> PdfResult:
    """Render the print book to `path` (a staged temporary file)."""
    fetcher = RestrictedFetcher(allowed)
    fonts = FontConfiguration()
    warnings = _Warnings()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addHandler(warnings)
    try:
        html = HTML(string=rendition.html, base_url=rendition.base_url, url_fetcher=fetcher)
        stylesheets = [
            CSS(string=css, base_url=rendition.base_url, url_fetcher=fetcher, font_config=fonts)
            for css in rendition.stylesheets
        ]
        document = html.render(stylesheets=stylesheets, font_config=fonts)
        page_starts = _page_starts(document)
        document.write_pdf(path)
    except RefusedURL as exc:
        raise RenderError(str(exc), fix="reference only files in styles/, fonts/ or the book's folder") from exc
    except OSError as exc:
        raise OutputError(
            f"cannot write: {exc.strerror or exc}",
            where=str(path),
            fix="check that the output folder is writable and the disk not full",
        ) from exc
    finally:
        weasyprint_log.removeHandler(warnings)
    return PdfResult(path.stat().st_size, len(document.pages), page_starts, tuple(warnings.messages))


def _page_starts(document: Document) -> tuple[PageStart, ...]:
    """For each page whose first line is chapter text, the block and the character it begins with.

    Text boxes are walked in layout order; a block's offset on a page is the number of its
    characters laid out on the pages before.
    """
    laid_out: dict[str, int] = {}
    starts = []
    for number, page in enumerate(document.pages, start=1):
        first = True
        for box in _text_boxes(page._page_box):
            block_id = _block_id_of(box)
            if block_id is None:
                continue
            if first:
                located = parse_block_id(block_id)
                if located is not None:
                    starts.append(PageStart(number, *located, laid_out.get(block_id, 0)))
                first = False
            laid_out[block_id] = laid_out.get(block_id, 0) + len(box.text)
    return tuple(starts)


def _text_boxes(box: boxes.Box) -> Iterator[boxes.TextBox]:
    """The text boxes of a page's body in layout order (margin boxes: running heads, folios, left out)."""
    if isinstance(box, boxes.MarginBox):
        return
    if isinstance(box, boxes.TextBox):
        yield box
        return
    for child in getattr(box, "children", ()):
        yield from _text_boxes(child)


def _block_id_of(box: boxes.TextBox) -> str | None:
    """The data-block attribute of the element whose text the box holds (a chapter heading or a block)."""
    return None if box.element is None else box.element.get("data-block")
