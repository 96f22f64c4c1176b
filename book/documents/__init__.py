"""Seeds that are documents: Word files (.docx, docx.py), saved web pages (.html, .htm, web.py) and
EPUBs (epub.py). Each is read with the field's library (mammoth, trafilatura, ebooklib) into the
Markdown the normalizer reads (markdown.py), with its images and what it says of itself; the
normalizer then treats it as any seed. The libraries are imported only when such a seed is read."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from pathlib import Path

from ..model import Finding, Image, SeedText
from ..read import read_seed

DOCUMENT_SUFFIXES = (".docx", ".html", ".htm", ".xhtml", ".epub")


def read_source(path: Path, encoding: str | None = None) -> SeedText:
    """A seed file read: a document by its kind (read_document), else as text (read.read_seed)."""
    if path.suffix.lower() in DOCUMENT_SUFFIXES and path.is_file():
        return read_document(path)
    return read_seed(path, encoding)


def read_document(path: Path) -> SeedText:
    """Read a .docx, .html or .epub seed; SourceError names the file when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        from .docx import read_docx

        return read_docx(path)
    if suffix == ".epub":
        from .epub import read_epub

        return read_epub(path)
    from .web import read_page

    return read_page(path)


CORE_IMAGES = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif"}  # EPUB core media types
# The image files a seed's figures may name, by suffix (image_named makes the others PNG).
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}


def image_named(data: bytes, media_type: str) -> Image | None:
    """An image named by its content (the same image is stored once, and its name never changes),
    in a format every reading system shows: PNG, JPEG or GIF as they are, another that Pillow
    reads (TIFF, BMP, WebP) as PNG. None for what no reader could show (EMF, a broken file)."""
    from PIL import Image as PillowImage

    try:
        with PillowImage.open(io.BytesIO(data)) as opened:
            opened.verify()  # a broken or truncated file, or a decompression bomb, fails here
        if media_type not in CORE_IMAGES:
            with PillowImage.open(io.BytesIO(data)) as opened:
                out = io.BytesIO()
                opened.save(out, "PNG")
            data, media_type = out.getvalue(), "image/png"
    except (OSError, ValueError, SyntaxError, PillowImage.DecompressionBombError):
        return None
    return Image(f"{hashlib.sha256(data).hexdigest()[:16]}{CORE_IMAGES[media_type]}", media_type, data)


def counted(code: str, what: Counter[str], source: str, message: str) -> list[Finding]:
    """One finding for each kind of thing counted: `message` formatted with {what} and {count}."""
    return [Finding(code, message.format(what=name, count=count), source) for name, count in sorted(what.items())]
