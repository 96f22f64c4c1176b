"""fonts: the font configuration, how a face file is known, and the glyphs a piece records.

The book's faces are embedded by book/assemble.py, one subset each for the whole book: a render
records here which glyphs it used of which face (FONT_USAGE), and leaves a placeholder program.
A face is known by one key (face_key): its length and its first and last 64 KiB.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import pydyf
import weasyprint.pdf
import weasyprint.pdf.fonts
from weasyprint.pdf.fonts import Font
from weasyprint.text.constants import FONTCONFIG_STRETCH, FONTCONFIG_STYLE, FONTCONFIG_WEIGHT
from weasyprint.text.ffi import ffi, fontconfig, harfbuzz, pangoft2
from weasyprint.text.fonts import FontConfiguration

from ..model import GlyphsUsed, PieceGlyphs
from .sandbox import RestrictedFetcher

_original_get_hb_object_data = weasyprint.pdf.fonts.get_hb_object_data
_FACE_SAMPLE = 64 * 1024
FaceKey = tuple[int, bytes, bytes]
_face_files: dict[FaceKey, bytes] = {}


def face_key(size: int, read: Callable[[int, int], bytes]) -> FaceKey:
    """How a face file is known, from its `size` and `read(offset, length)`: its length and its
    first and last 64 KiB, which hold the table directory (each table's checksum) and the tables
    that set two faces apart (name, cmap, OS/2). Reading whole CJK faces cost 30 ms a book."""
    sample = min(size, _FACE_SAMPLE)
    return size, read(0, sample), read(size - sample, sample)


def face_file(hb_object: Any, ot_color: str | None = None, glyph: int | None = None) -> bytes | None:
    """get_hb_object_data, which copies a face's file out of HarfBuzz once per process.

    WeasyPrint copies the whole file (20 MB for a CJK face, 20 ms) for every font of every
    document: every piece of a book printed in pieces. Faces are known by face_key."""
    if ot_color is not None:
        return _original_get_hb_object_data(hb_object, ot_color, glyph)
    blob = harfbuzz.hb_face_reference_blob(hb_object)
    try:
        with ffi.new("unsigned int *") as length:
            data = harfbuzz.hb_blob_get_data(blob, length)
            size = int(length[0])
        if data == ffi.NULL:
            return None
        key = face_key(size, lambda offset, length: ffi.unpack(data + offset, length))
        if (known := _face_files.get(key)) is None:
            if len(_face_files) >= 8:  # a book has a handful of faces; a long-lived process may see more
                _face_files.clear()
            known = _face_files[key] = ffi.unpack(data, size)
        return known
    finally:
        harfbuzz.hb_blob_destroy(blob)


class BookFonts(FontConfiguration):
    """WeasyPrint's FontConfiguration, with the book's font files added to Fontconfig where they are.

    For each @font-face rule WeasyPrint reads the font file and writes a copy of it to a temporary
    folder, which it adds to Fontconfig with rules that give the copy the family, weight, style
    and stretch of the rule (text/fonts.py, add_font_face). For the two Noto CJK faces that is
    41 MB read and written, 0.15 s of every process that prints. A rule whose source is an
    OpenType or TrueType file of the book, and which sets nothing else, gets the same rules for
    the file itself; any other rule, and a second rule for the same file, goes to WeasyPrint."""

    _DESCRIPTORS = frozenset({"src", "font_family", "font_style", "font_weight", "font_stretch"})

    def __init__(self) -> None:
        super().__init__()
        self._added: set[Path] = set()

    def add_font_face(self, rule_descriptors: dict[str, object], url_fetcher: Any) -> object:
        path = self._book_file(rule_descriptors, url_fetcher)
        if path is None:
            return super().add_font_face(rule_descriptors, url_fetcher)
        self._added.add(path)
        file = path.as_posix()
        root = Element("fontconfig")
        match = SubElement(root, "match", target="scan")
        SubElement(SubElement(match, "test", name="file", compare="eq"), "string").text = file
        # Prepended, as WeasyPrint does: replacing the family breaks Pango (WeasyPrint #2510).
        SubElement(SubElement(match, "edit", name="family", mode="prepend"), "string").text = str(
            rule_descriptors["font_family"]
        )
        for descriptor, name, element, values in (
            ("font_style", "slant", "const", FONTCONFIG_STYLE),
            ("font_weight", "weight", "int", FONTCONFIG_WEIGHT),
            ("font_stretch", "width", "const", FONTCONFIG_STRETCH),
        ):
            if descriptor in rule_descriptors:
                edit = SubElement(match, "edit", name=name, mode="assign_replace")
                SubElement(edit, element).text = str(values[rule_descriptors[descriptor]])
        xml = b'<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n' + tostring(
            root, encoding="utf-8"
        )
        fontconfig.FcConfigParseAndLoadFromMemory(self._config, xml, True)
        if fontconfig.FcConfigAppFontAddFile(self._config, file.encode()):
            return pangoft2.pango_fc_font_map_config_changed(ffi.cast("PangoFcFontMap *", self.font_map))
        return super().add_font_face(rule_descriptors, url_fetcher)

    def _book_file(self, rule_descriptors: dict[str, object], url_fetcher: Any) -> Path | None:
        """The book's OpenType or TrueType file that is the rule's first source, or None."""
        sources = [(kind, url) for kind, url in rule_descriptors["src"] if url is not None and kind != "internal"]  # type: ignore[attr-defined]
        if not isinstance(url_fetcher, RestrictedFetcher) or not sources or sources[0][0] != "external":
            return None
        if set(rule_descriptors) - self._DESCRIPTORS:
            return None
        path = url_fetcher.path_of(sources[0][1])
        with path.open("rb") as font:
            signature = font.read(4)
        if signature not in (b"OTTO", b"\x00\x01\x00\x00", b"true") or path in self._added:
            return None
        return path


class FaceFinder:
    """Which of the book's font files a WeasyPrint font was loaded from (None: a system font).

    WeasyPrint holds the file's bytes (it loads @font-face files whole); they and the book's
    files are known by face_key."""

    def __init__(self, faces: tuple[Path, ...]) -> None:
        self._by_pointer: dict[int, str | None] = {}
        self._faces: dict[FaceKey, str] = {}
        for path in faces:
            with path.open("rb") as file:

                def read(offset: int, length: int) -> bytes:
                    file.seek(offset)
                    return file.read(length)

                self._faces.setdefault(face_key(path.stat().st_size, read), str(path))

    def __call__(self, font: Any) -> str | None:
        pointer = int(ffi.cast("uintptr_t", font.hb_face))
        if pointer not in self._by_pointer:
            data = font.file_content
            key = face_key(len(data), lambda offset, length: data[offset : offset + length])
            self._by_pointer[pointer] = self._faces.get(key)
        return self._by_pointer[pointer]


def json_ready(usage: dict[str, GlyphsUsed]) -> dict[str, PieceGlyphs]:
    """The recorded glyphs as they are stored beside a cached piece (assemble.Piece): lists, which
    JSON reads in half the time of objects with a key per glyph (a rebuild reads 120 pieces')."""
    return {
        name: {
            "face": font["face"],
            "widths": (list(font["widths"]), list(font["widths"].values())),
            "to_unicode": (list(font["to_unicode"]), list(font["to_unicode"].values())),
        }
        for name, font in usage.items()
    }


_original_build_fonts_dictionary = weasyprint.pdf.build_fonts_dictionary
_FontUsage = tuple[dict[str, GlyphsUsed], Callable[[object], str | None]]
# While a PDF is drawn: the glyphs used per font, and how to find a font's file among the book's;
# set for one pass and reset after it.
FONT_USAGE: ContextVar[_FontUsage | None] = ContextVar("book_font_usage", default=None)


def build_fonts_dictionary(pdf: pydyf.PDF, fonts: dict[str, Font], *args: object) -> pydyf.Dictionary:
    """WeasyPrint's font dictionaries; for a piece, the book's faces get a 4-byte placeholder
    program and their glyphs are recorded (FONT_USAGE) for the assembler.

    The assembler gives each such face its widths (W), its ToUnicode map and its bounding box
    for the whole book, so the piece's own hold one glyph (.notdef): 1,500 widths and mappings
    of a chapter were built here, then copied into the book and dropped (3.7 % of the samples of
    a 红楼梦 build)."""
    if (font_usage := FONT_USAGE.get()) is not None:
        usage_by_font, face_of = font_usage
        for font in fonts.values():
            face = face_of(font)
            if face is None or font.missing or font.bitmap:
                continue  # a system fallback font or a font with missing glyphs: embedded here, as it is
            usage = usage_by_font.setdefault(font.hash, {"face": face, "widths": {}, "to_unicode": {}})
            usage["widths"].update(font.widths)
            usage["to_unicode"].update(font.to_unicode)
            font.widths, font.to_unicode = {0: font.widths.get(0, 0)}, {}
            font.file_content = font.file_content[:4]  # keeps the OTTO/TrueType tag
            font.clean = lambda *_: None  # no subsetting here
    return _original_build_fonts_dictionary(pdf, fonts, *args)
