"""sandbox: the URL fetcher through which WeasyPrint reads files.

WeasyPrint reads files only through `RestrictedFetcher`: file: URLs inside the allowed folders
(the project's styles/ and fonts/, the book's folder). Anything else, network or a path outside,
stops the build with a clear error.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from ..errors import RenderError

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
    ".icc": "application/vnd.iccprofile",
}


_DATA_IMAGE = tuple(f"data:{media_type};base64," for media_type in ("image/jpeg", "image/png", "image/gif"))


class RefusedURL(FatalURLFetchingError):
    """WeasyPrint asked for something outside the book."""


class RestrictedFetcher(URLFetcher):
    """Serve file: URLs inside `allowed` folders; refuse everything else."""

    def __init__(self, allowed: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols=("file",))
        self.allowed = tuple(p.resolve() for p in allowed)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if url.startswith(_DATA_IMAGE):  # a figure's image, in the document itself (book/figures.py)
            media_type, _, payload = url[len("data:") :].partition(";base64,")
            return URLFetcherResponse(url[:40], base64.b64decode(payload), {"Content-Type": media_type})
        path = self.path_of(url)
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": MEDIA_TYPES[path.suffix.lower()]})

    def path_of(self, url: str) -> Path:
        """The file `url` names, if it may be read; RefusedURL otherwise."""
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        if path is None or not any(path.is_relative_to(root) for root in self.allowed):
            LOG.error("refused to fetch %s: outside the book's folders", url)
            raise RefusedURL(f"refused to fetch {url}: only files in {', '.join(map(str, self.allowed))} are read")
        if path.suffix.lower() not in MEDIA_TYPES or not path.is_file():
            raise RefusedURL(f"refused to fetch {url}: not a stylesheet, font or image file of the book")
        return path


@contextlib.contextmanager
def refused_urls() -> Iterator[None]:
    try:
        yield
    except RefusedURL as exc:
        raise RenderError(str(exc), fix="reference only files in styles/, fonts/ or the book's folder") from exc
