"""Read stage: decode seed files. UTF-8, with or without a byte-order mark."""

from __future__ import annotations

import codecs
from pathlib import Path

from .errors import SourceError
from .model import SeedText


def read_seed(path: Path) -> SeedText:
    """Read and decode one seed file; raise SourceError naming the file and the problem."""
    if not path.exists():
        raise SourceError(
            "seed file not found", where=str(path), fix="check the `seeds` list in book.yaml; paths are relative to it"
        )
    if path.is_dir():
        raise SourceError("is a folder, not a seed file", where=str(path), fix="name the text files inside it")
    data = path.read_bytes()
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8-sig"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"byte 0x{data[exc.start]:02X} at offset {exc.start} is not valid UTF-8",
            where=f"{path}:{line}",
            fix="save the file as UTF-8",
        ) from exc
    if not text.strip():
        raise SourceError(
            "seed file is empty", where=str(path), fix="put the book's text in it or remove it from `seeds`"
        )
    return SeedText(path, text, encoding)
