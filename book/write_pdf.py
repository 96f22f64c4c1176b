"""write_pdf: the print PDF through WeasyPrint. The only module that imports WeasyPrint.

WeasyPrint reads files only through `RestrictedFetcher`: file: URLs inside the allowed
folders (the project's styles/ and fonts/, the book's folder). Anything else, network or
a path outside, stops the build with a clear error.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .errors import OutputError, RenderError
from .render import PrintRendition

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


def write_pdf(path: Path, rendition: PrintRendition, allowed: tuple[Path, ...]) -> tuple[int, list[str]]:
    """Render the print book to `path` (a staged temporary file); return its size and WeasyPrint's warnings."""
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
        html.write_pdf(path, stylesheets=stylesheets, font_config=fonts)
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
    return path.stat().st_size, warnings.messages
