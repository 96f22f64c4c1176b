"""Read stage: decode seed files. UTF-8 (with or without a BOM) and UTF-16 with a BOM are read
as they are; anything else is detected (charset-normalizer: GB18030/GBK/GB2312, Big5, …), and
book.yaml's `encoding` can force one. Bytes that do not decode become U+FFFD and are reported."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from .errors import SourceError
from .model import Finding, SeedText

_CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
REPLACEMENT = "\ufffd"
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# A detected encoding is believed only if it turns most of the text into Chinese: this is a
# Chinese-first tool, and a guess that yields Latin-1 mojibake is worse than a clear error.
MIN_CJK_SHARE = 0.3
MAX_SEED_BYTES = 64 * 2**20
MAGIC = (
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "zip archive, or an EPUB or Word file"),
    (b"%PDF", "PDF"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "program"),
)
EMPTY_FIX = "put the book's text in it or remove it from `seeds`"


def read_seed(path: Path, encoding: str | None = None) -> SeedText:
    """Read and decode one seed file; raise SourceError naming the file and the problem."""
    if not path.exists():
        raise SourceError(
            "seed file not found", where=str(path), fix="check the `seeds` list in book.yaml; paths are relative to it"
        )
    if path.is_dir():
        raise SourceError("is a folder, not a seed file", where=str(path), fix="name the text files inside it")
    size = path.stat().st_size
    if size > MAX_SEED_BYTES:
        raise SourceError(
            f"is {size / 2**20:.0f} MiB; a seed may be at most {MAX_SEED_BYTES // 2**20} MiB (红楼梦 is 2.4 MiB)",
            where=str(path),
            fix="split it into several seeds, e.g. one per part",
        )
    data = path.read_bytes()
    kind = _binary_kind(data)
    if kind:
        raise SourceError(
            f"is a binary file ({kind}), not text",
            where=str(path),
            fix="name a text (.txt, .md), Word (.docx), web page (.html) or EPUB file in `seeds`",
        )
    if not data.strip():
        raise SourceError("seed file is empty", where=str(path), fix=EMPTY_FIX)
    if encoding:
        text, used = _decode(data, encoding, path), encoding
    else:
        text, used = _decode_guessing(data, path)
    if not text.strip():
        raise SourceError("seed file is empty", where=str(path), fix=EMPTY_FIX)
    return SeedText(path, text, used, _replacement_findings(text, path))


def _binary_kind(data: bytes) -> str:
    """What a binary file is ("PNG image", …), or "" for text. UTF-16 text has NUL bytes too."""
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    head = data[:8192]
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "it contains NUL bytes"
    return ""


def _decode(data: bytes, encoding: str, path: Path) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise SourceError(
            f"unknown encoding '{encoding}'",
            where=str(path),
            fix="use a Python codec name such as gb18030, big5, utf-8",
        ) from exc
    return data.decode(encoding, errors="replace")


def _decode_guessing(data: bytes, path: Path) -> tuple[str, str]:
    for bom, name in BOMS:
        if data.startswith(bom):
            return data.decode(name, errors="replace"), name
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        utf8_error = error
    from charset_normalizer import from_bytes

    for match in from_bytes(data, cp_isolation=["gb18030", "big5", "utf_8", "utf_16", "gbk", "gb2312", "hz"]):
        text = str(match)
        letters = [ch for ch in text if not ch.isspace()]
        if letters and sum(1 for ch in letters if _CJK.match(ch)) / len(letters) >= MIN_CJK_SHARE:
            return text, match.encoding
    line = data.count(b"\n", 0, utf8_error.start) + 1
    raise SourceError(
        f"byte 0x{data[utf8_error.start]:02X} at offset {utf8_error.start} is not valid UTF-8, "
        "and no Chinese encoding (GB18030, Big5, UTF-16) decodes the file",
        where=f"{path}:{line}",
        fix="save the file as UTF-8, or name its encoding in book.yaml (encoding: gb18030)",
    )


def _replacement_findings(text: str, path: Path) -> tuple[Finding, ...]:
    """One finding for the U+FFFD characters in the text: how many, and where the first ones are."""
    count = text.count(REPLACEMENT)
    if not count:
        return ()
    places = []
    for number, line in enumerate(text.splitlines(), start=1):
        column = line.find(REPLACEMENT)
        if column >= 0:
            places.append(f"{number}:{column + 1}")
        if len(places) == 5:
            break
    return (
        Finding(
            "replacement-char",
            f"{count} replacement character(s) U+FFFD: bytes the encoding could not "
            f"decode, or already broken in the source; first at line:column {', '.join(places)}",
            path.name,
            int(places[0].split(":")[0]),
            "",
        ),
    )


_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)
# A page that declares GB2312 or GBK is read as GB18030, which holds both: pages often declare the
# older name and use characters only the newer has.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030"}


def decode_page(path: Path) -> tuple[str, str, list[Finding]]:
    """A saved web page's text: in the charset its <meta> declares, else detected as a seed is."""
    data = path.read_bytes()
    if not data.strip():
        raise SourceError("web page is empty", where=str(path), fix=EMPTY_FIX)
    declared = _CHARSET.search(data[:8192])
    name = declared[1].decode("ascii").lower() if declared else ""
    name = _SUPERSETS.get(name, name)
    try:
        if not name:
            raise LookupError
        text, used = data.decode(name), name
    except (LookupError, UnicodeDecodeError):
        text, used = _decode_guessing(data, path)
    findings = [Finding("encoding", f"the page declares {declared[1].decode('ascii')}", path.name)] if declared else []
    return text, used, [*findings, *_replacement_findings(text, path)]
