"""write_pdf: the print PDF through WeasyPrint. The only module that imports WeasyPrint.

WeasyPrint reads files only through `RestrictedFetcher`: file: URLs inside the allowed
folders (the project's styles/ and fonts/, the book's folder). Anything else, network or
a path outside, stops the build with a clear error.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes.util
import dataclasses
import functools
import gc
import importlib
import logging
import math
import re
import sys
import types
import uuid
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import unquote, urlparse
from xml.etree.ElementTree import Element, SubElement, tostring

from . import ffi_tables
from .compiled import compiled

# WeasyPrint tries each library under the names of every platform (libpango-1.0-0, pango-1.0, …,
# libpango-1.0.so.0); for every miss cffi runs ctypes.util.find_library, which starts ldconfig and
# gcc: about 0.5 s of the 1 s WeasyPrint takes to load. On Linux the soname it tries next loads
# directly through the dynamic loader, so the search is skipped while WeasyPrint loads.
_find_library = ctypes.util.find_library
if sys.platform == "linux":
    ctypes.util.find_library = lambda _: None


class _OnFirstCall(types.ModuleType):
    """Stands in, while WeasyPrint loads, for a module that WeasyPrint's font embedding imports
    but this build never calls, since book/assemble.py embeds the fonts: fontTools' subsetter
    and instancer take 0.2 s to import. A name taken from it imports the real module when called."""

    def __getattr__(self, name: str) -> Callable[..., object]:
        if name.startswith("__"):
            raise AttributeError(name)
        module = self.__name__
        return lambda *args, **kwargs: getattr(importlib.import_module(module), name)(*args, **kwargs)


# C functions the extension calls that WeasyPrint does not declare: Pango's allow-breaks
# attribute (1.44), a line list without a copy, a first-line indent; a reference to a font.
_DECLARATIONS = (
    "PangoAttribute * pango_attr_allow_breaks_new (gboolean allow_breaks);"
    "gpointer g_object_ref (gpointer object);"
    "GSList * pango_layout_get_lines_readonly (PangoLayout *layout);"
    "void pango_layout_set_indent (PangoLayout *layout, int indent);"
)
_DEFERRED = ("fontTools.subset", "fontTools.varLib.instancer")
for _name in _DEFERRED:
    sys.modules.setdefault(_name, _OnFirstCall(_name))
ffi_tables.install(_DECLARATIONS)
try:
    import weasyprint
finally:
    ctypes.util.find_library = _find_library
    for _name in _DEFERRED:
        if isinstance(sys.modules.get(_name), _OnFirstCall):
            del sys.modules[_name]  # whoever imports it from now on gets the real module

import pydyf
import tinyhtml5.inputstream
import weasyprint.draw
import weasyprint.layout
import weasyprint.layout.background
import weasyprint.layout.page
import weasyprint.pdf
import weasyprint.pdf.fonts
from weasyprint import CSS, HTML
from weasyprint.document import Document
from weasyprint.draw.color import get_color
from weasyprint.formatting_structure import boxes
from weasyprint.layout import float as float_layout
from weasyprint.layout import inline
from weasyprint.matrix import Matrix
from weasyprint.text import line_break
from weasyprint.text.constants import FONTCONFIG_STRETCH, FONTCONFIG_STYLE, FONTCONFIG_WEIGHT
from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, fontconfig, gobject, harfbuzz, pango, pangoft2
from weasyprint.text.fonts import FontConfiguration
from weasyprint.text.line_break import Layout
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .assemble import Piece, assemble
from .errors import RenderError, writing
from .model import PageStart, PdfProfile, PdfResult, parse_block_id
from .text import DASH, ELLIPSIS, HAN, halt_positions

ffi.cdef(_DECLARATIONS)  # none to add where WeasyPrint's FFI came from the tables
ffi_tables.save(ffi)

if TYPE_CHECKING:
    from .render import PrintRendition

LOG = logging.getLogger(__name__)
MM = 72 / 25.4
VARIANTS = {"PDF/X-4": "pdf/x-4", "PDF/X-1a": "pdf/x-1a"}
_DOCUMENT_ID = re.compile(rb"xmp\.did:[0-9a-f-]{36}")
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


class _Zlib:
    """zlib for pydyf, which compresses every stream at level 9: four times the time of level 6
    (the default of zlib and qpdf) for streams under 1 % smaller (measured on the seed's fonts)."""

    def __getattr__(self, name: str) -> object:
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = 6, *args: object, **kwargs: object) -> zlib._Compress:
        return zlib.compressobj(min(level, 6), *args, **kwargs)  # type: ignore[arg-type]


class _UntilPatterns(dict):  # type: ignore[type-arg]
    """tinyhtml5's cache of the patterns chars_until compiles (inputstream.characters_until_regex),
    filled under the right key. tinyhtml5 2.1 stores each pattern under itself (`characters =
    cache[(characters, opposite)] = regex` rebinds `characters` first), so every call of
    chars_until, one for each run of text in a piece's HTML, built and looked up its pattern again.
    This builds it as chars_until does, once."""

    def __missing__(self, key: tuple[object, bool]) -> re.Pattern[str]:
        characters, opposite = key
        pattern = "".join([f"\\x{ord(character):02x}" for character in characters])  # type: ignore[attr-defined]
        compiled = self[key] = re.compile(f"[{pattern if opposite else '^' + pattern}]+")
        return compiled


_original_get_hb_object_data = weasyprint.pdf.fonts.get_hb_object_data
_FACE_SAMPLE = 4096
_face_files: dict[tuple[int, bytes, bytes], bytes] = {}


def _face_file(hb_object: object, ot_color: str | None = None, glyph: int | None = None) -> bytes | None:
    """get_hb_object_data, which copies a face's file out of HarfBuzz once per process.

    WeasyPrint copies the whole file (20 MB for a CJK face, 20 ms) for every font of every
    document: every piece of a book printed in pieces. Faces are known by their length and
    their first and last 4 KiB (the table directory, with each table's checksum, comes first)."""
    if ot_color is not None:
        return _original_get_hb_object_data(hb_object, ot_color, glyph)
    blob = harfbuzz.hb_face_reference_blob(hb_object)
    try:
        with ffi.new("unsigned int *") as length:
            data = harfbuzz.hb_blob_get_data(blob, length)
            size = int(length[0])
        if data == ffi.NULL:
            return None
        sample = min(size, _FACE_SAMPLE)
        key = (size, ffi.unpack(data, sample), ffi.unpack(data + size - sample, sample))
        if (known := _face_files.get(key)) is None:
            if len(_face_files) >= 8:  # a book has a handful of faces; a long-lived process may see more
                _face_files.clear()
            known = _face_files[key] = ffi.unpack(data, size)
        return known
    finally:
        harfbuzz.hb_blob_destroy(blob)


class RefusedURL(FatalURLFetchingError):
    """WeasyPrint asked for something outside the book."""


class RestrictedFetcher(URLFetcher):
    """Serve file: URLs inside `allowed` folders; refuse everything else."""

    def __init__(self, allowed: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols=("file",))
        self.allowed = tuple(p.resolve() for p in allowed)

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
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

    def add_font_face(self, rule_descriptors: dict[str, object], url_fetcher: object) -> object:
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

    def _book_file(self, rule_descriptors: dict[str, object], url_fetcher: object) -> Path | None:
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
    usage: dict[str, dict[str, object]] = {}
    draft = path.with_name(path.name + ".draft")
    try:
        with _collected_warnings() as warnings, _refused_urls(), writing(path):
            stylesheets = [
                CSS(string=css, base_url=rendition.base_url, url_fetcher=fetcher, font_config=fonts)
                for css in rendition.stylesheets
            ]
            document = HTML(string=rendition.html, base_url=rendition.base_url, url_fetcher=fetcher).render(
                stylesheets=stylesheets, font_config=fonts
            )
            if rendition.blank_page and len(document.pages) % 2:
                blank = HTML(string=rendition.blank_page, base_url=rendition.base_url, url_fetcher=fetcher).render(
                    stylesheets=stylesheets, font_config=fonts
                )
                document = document.copy(document.pages + blank.pages)
            page_starts = _page_starts(document)
            text_start = min((s.page for s in page_starts), default=1)
            # The text's folios restart at 1 on its first page (print.css); the EPUB cites those.
            page_starts = tuple(dataclasses.replace(s, label=str(s.page - text_start + 1)) for s in page_starts)
            laid_out(page_starts)
            finisher = functools.partial(_finish, profile=profile, text_start=text_start, document_id=document_id)
            token = _FONT_USAGE.set((usage, _FaceFinder(faces)))
            try:
                document.write_pdf(draft, finisher=finisher, **_piece_options(profile))
            finally:
                _FONT_USAGE.reset(token)
            assemble(path, Piece(draft, _json_ready(usage)), [])
    finally:
        draft.unlink(missing_ok=True)
        progress_log.removeHandler(steps)
        progress_log.setLevel(level)
        progress_log.propagate = propagate
    return PdfResult(path.stat().st_size, len(document.pages), page_starts, tuple(warnings))


class _FaceFinder:
    """Which of the book's font files a WeasyPrint font was loaded from (None: a system font).

    WeasyPrint holds the file's bytes (it loads @font-face files whole). They are matched by
    length and by their first and last 64 KiB, which hold the tables (name, cmap, OS/2) that set
    two faces apart; reading and comparing whole CJK faces cost 30 ms a book."""

    _SAMPLE = 64 * 1024

    def __init__(self, faces: tuple[Path, ...]) -> None:
        self._by_pointer: dict[int, str | None] = {}
        self._faces: dict[tuple[int, bytes, bytes], str] = {}
        for path in faces:
            with path.open("rb") as file:
                head = file.read(self._SAMPLE)
                size = file.seek(0, 2)
                file.seek(max(0, size - self._SAMPLE))
                self._faces.setdefault((size, head, file.read()), str(path))

    def __call__(self, font: object) -> str | None:
        pointer = int(ffi.cast("uintptr_t", font.hb_face))  # type: ignore[attr-defined]
        if pointer not in self._by_pointer:
            data = font.file_content  # type: ignore[attr-defined]
            key = (len(data), data[: self._SAMPLE], data[max(0, len(data) - self._SAMPLE) :])
            self._by_pointer[pointer] = self._faces.get(key)
        return self._by_pointer[pointer]


def _json_ready(usage: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """The recorded glyphs as they are stored beside a cached piece (assemble.Piece): lists, which
    JSON reads in half the time of objects with a key per glyph (a rebuild reads 120 pieces')."""
    return {
        name: {
            "face": font["face"],
            "widths": [list(font["widths"]), list(font["widths"].values())],  # type: ignore[attr-defined]
            "to_unicode": [list(font["to_unicode"]), list(font["to_unicode"].values())],  # type: ignore[attr-defined]
        }
        for name, font in usage.items()
    }


def _finish(
    document: Document,
    pdf: pydyf.PDF,
    *,
    profile: PdfProfile,
    text_start: int,
    document_id: str,
    catalog: bool = True,
) -> None:
    """Last touches to the PDF before it is written: boxes, crop marks, output intent, page labels.

    A piece of a book printed in pieces gets the page-level ones only (`catalog` false)."""
    bleed = profile.bleed_mm * MM
    # The streams around each page's content: one of each for all the pages of a trim size.
    wrappers: dict[tuple[float, float, float, float], tuple[pydyf.Stream, pydyf.Stream]] = {}
    for page in (o for o in pdf.objects if isinstance(o, pydyf.Dictionary) and o.get("Type") == "/Page"):
        x0, y0, x1, y1 = (float(v) for v in page["TrimBox"])
        if profile.slug_mm:
            # PDF/X: BleedBox is the trim plus the bleed (3 mm), inside the larger MediaBox.
            page["BleedBox"] = pydyf.Array([x0 - bleed, y0 - bleed, x1 + bleed, y1 + bleed])
        if profile.crop_marks:
            # Drawn last, over any background that runs into the slug; the page's own content
            # (which changes the CTM) is wrapped in q … Q so the marks use default user space.
            if (x0, y0, x1, y1) not in wrappers:
                drawn = _crop_marks(x0, y0, x1, y1, bleed, profile.slug_mm * MM)
                wrappers[x0, y0, x1, y1] = pydyf.Stream([b"q"]), pydyf.Stream([drawn])
                for stream in wrappers[x0, y0, x1, y1]:
                    pdf.add_object(stream)
            save, marks = wrappers[x0, y0, x1, y1]
            page["Contents"] = pydyf.Array([save.reference, page["Contents"], marks.reference])
        if profile.standard:
            page.pop("Annots", None)  # PDF/X: no link annotations on the printed page
    if not catalog:
        return
    if profile.standard and profile.output_profile:
        # PDF/X output intent: the press condition the DeviceCMYK colours are meant for, with its profile.
        icc = pydyf.Stream([profile.output_profile.read_bytes()], pydyf.Dictionary({"N": 4}), compress=True)
        pdf.add_object(icc)
        pdf.catalog["OutputIntents"] = pydyf.Array(
            [
                pydyf.Dictionary(
                    {
                        "Type": "/OutputIntent",
                        "S": "/GTS_PDFX",
                        "OutputConditionIdentifier": pydyf.String(profile.output_condition),
                        "OutputCondition": pydyf.String(profile.output_condition),
                        "RegistryName": pydyf.String("http://www.color.org"),
                        "Info": pydyf.String(profile.output_condition),
                        "DestOutputProfile": icc.reference,
                    }
                )
            ]
        )
    # The PDF/X metadata's DocumentID is a random UUID in WeasyPrint: derive it from the book instead.
    stable = f"xmp.did:{uuid.uuid5(uuid.NAMESPACE_URL, document_id + '#' + profile.name)}"
    for stream in (o for o in pdf.objects if isinstance(o, pydyf.Stream)):
        stream.stream = [
            _DOCUMENT_ID.sub(stable.encode(), item) if isinstance(item, bytes) else item for item in stream.stream
        ]
    if text_start > 1:
        # Page labels as printed: front matter i, ii, …; the text from 1 (its folios restart there).
        pdf.catalog["PageLabels"] = pydyf.Dictionary(
            {
                "Nums": pydyf.Array(
                    [0, pydyf.Dictionary({"S": "/r"}), text_start - 1, pydyf.Dictionary({"S": "/D", "St": 1})]
                )
            }
        )


def _crop_marks(x0: float, y0: float, x1: float, y1: float, bleed: float, slug: float) -> bytes:
    """Crop marks at the four corners, outside the bleed, in registration colour (all four inks)."""
    lines = []
    for x, y, dx, dy in ((x0, y0, -1, -1), (x1, y0, 1, -1), (x0, y1, -1, 1), (x1, y1, 1, 1)):
        lines.append(f"{x + dx * bleed:.3f} {y:.3f} m {x + dx * slug:.3f} {y:.3f} l S")
        lines.append(f"{x:.3f} {y + dy * bleed:.3f} m {x:.3f} {y + dy * slug:.3f} l S")
    return ("Q q 0.25 w 1 1 1 1 K " + " ".join(lines) + " Q").encode()


def _page_starts(document: Document) -> tuple[PageStart, ...]:
    """For each page whose first line is chapter text, the block and the character it begins with.

    Text boxes are walked in layout order; a block's offset on a page is the number of its
    characters laid out on the pages before.
    """
    laid_out: dict[str, int] = {}
    starts = []
    for number, page in enumerate(document.pages, start=1):
        first = True
        for box, block_id in _text_boxes(page._page_box, None):
            if block_id is None:
                continue
            if first:
                located = parse_block_id(block_id)
                if located is not None:
                    starts.append(PageStart(number, *located, laid_out.get(block_id, 0)))
                first = False
            laid_out[block_id] = laid_out.get(block_id, 0) + len(box.text)
    return tuple(starts)


def _text_boxes(box: boxes.Box, block_id: str | None) -> Iterator[tuple[boxes.TextBox, str | None]]:
    """The text boxes of a page's body in layout order, each with the data-block of the heading or
    paragraph it belongs to (margin boxes, the running heads and folios, are left out)."""
    if isinstance(box, boxes.MarginBox):
        return
    if box.element is not None and box.element.get("data-block"):
        block_id = box.element.get("data-block")
    if isinstance(box, boxes.TextBox):
        yield box, block_id
        return
    for child in getattr(box, "children", ()):
        yield from _text_boxes(child, block_id)


# Printing in pieces. A long book is laid out one chapter at a time, in parallel processes, and put
# together by assemble.py. Two things of a chapter's pages depend on the chapters before it: the
# folios, and nothing else (each chapter opens on a recto, its running heads are its own). So a
# piece is laid out with its margin boxes (running heads, folios) held back; once the folio of its
# first page is known, they are made with the page counter moved on by that much. And a piece's
# fonts are not embedded: it records the glyphs it used, and the assembler embeds one subset of
# each face for the whole book (assemble.py), as a single-pass render would.

_original_make_margin_boxes = weasyprint.layout.make_margin_boxes
_original_build_fonts_dictionary = weasyprint.pdf.build_fonts_dictionary
_HeldMargins = list[tuple[object, boxes.PageBox, tuple[object, ...], int]]
_FontUsage = tuple[dict[str, dict[str, object]], Callable[[object], str | None]]
# While a piece is laid out: its margin boxes, held back. While a PDF is drawn: the glyphs used per
# font, and how to find a font's file among the book's. Each is set for one pass and reset after it.
_HELD_MARGINS: ContextVar[_HeldMargins | None] = ContextVar("book_held_margins", default=None)
_FONT_USAGE: ContextVar[_FontUsage | None] = ContextVar("book_font_usage", default=None)


def _make_margin_boxes(context: object, page: boxes.PageBox, state: tuple[object, ...]) -> list[boxes.Box]:
    """WeasyPrint's make_margin_boxes, or, while a piece is laid out, a note to make them later."""
    held = _HELD_MARGINS.get()
    if held is None:
        return list(_original_make_margin_boxes(context, page, state))
    held.append((context, page, state, context.current_page))  # type: ignore[attr-defined]
    return []


def _build_fonts_dictionary(pdf: pydyf.PDF, fonts: dict[str, object], *args: object) -> pydyf.Dictionary:
    """WeasyPrint's font dictionaries; for a piece, the book's faces get a 4-byte placeholder
    program and their glyphs are recorded (_FONT_USAGE) for the assembler.

    The assembler gives each such face its widths (W), its ToUnicode map and its bounding box
    for the whole book, so the piece's own hold one glyph (.notdef): 1,500 widths and mappings
    of a chapter were built here, then copied into the book and dropped (3.7 % of the samples of
    a 红楼梦 build)."""
    if (font_usage := _FONT_USAGE.get()) is not None:
        usage_by_font, face_of = font_usage
        for font in fonts.values():
            face = face_of(font)
            if face is None or font.missing or font.bitmap:  # type: ignore[attr-defined]
                continue  # a system fallback font or a font with missing glyphs: embedded here, as it is
            usage = usage_by_font.setdefault(font.hash, {"face": face, "widths": {}, "to_unicode": {}})  # type: ignore[attr-defined]
            usage["widths"].update(font.widths)  # type: ignore[attr-defined,union-attr]
            usage["to_unicode"].update(font.to_unicode)  # type: ignore[attr-defined,union-attr]
            font.widths, font.to_unicode = {0: font.widths.get(0, 0)}, {}  # type: ignore[attr-defined]
            font.file_content = font.file_content[:4]  # type: ignore[attr-defined]  # keeps the OTTO/TrueType tag
            font.clean = lambda *_: None  # type: ignore[attr-defined]  # no subsetting here
    return _original_build_fonts_dictionary(pdf, fonts, *args)


_original_resolve_percentages = weasyprint.layout.page.resolve_percentages


def _resolve_percentages(box: boxes.Box, containing_block: object) -> None:
    """resolve_percentages, except for a margin box with no content.

    WeasyPrint makes all sixteen margin boxes of every page, and sets the width, the height and
    every margin, padding and border of those without content to 0 right after (layout/page.py,
    make_box): nothing it resolves for them is read again. Fourteen of the sixteen have no
    content on a page of this book."""
    if isinstance(box, boxes.MarginBox) and not box.is_generated:
        box.min_width = box.min_height = 0
        box.max_width = box.max_height = math.inf
        return
    _original_resolve_percentages(box, containing_block)


# Backgrounds. After a page is laid out, layout_box_backgrounds walks every box of it (layout/
# background.py): it resolves the corner radii, then reads nine style properties to find that
# nearly all boxes, a page's lines and their text, have no background, border image, mask or
# shadow (box.background = None). Whether a style has any is known once per style object.
_original_layout_box_backgrounds = weasyprint.layout.background.layout_box_backgrounds
_SQUARE_CORNER = (0, "px")
_CORNERS = tuple(f"border_{corner}_radius" for corner in ("top_left", "top_right", "bottom_right", "bottom_left"))


def _layout_box_backgrounds(
    page: boxes.PageBox,
    box: boxes.Box,
    get_image_from_uri: object,
    layout_children: bool = True,
    style: object = None,
) -> None:
    """layout_box_backgrounds, with the same outcome for a box whose style has nothing to lay out
    (_nothing_behind): its corners square and no background."""
    if style is not None or box is page or not _nothing_behind(box.style):
        _original_layout_box_backgrounds(page, box, get_image_from_uri, layout_children, style)
        return
    box.border_top_left_radius = box.border_top_right_radius = (0, 0)
    box.border_bottom_right_radius = box.border_bottom_left_radius = (0, 0)
    if layout_children:
        for child in box.all_children():
            _layout_box_backgrounds(page, child, get_image_from_uri)
    box.background = None


def _nothing_behind(style: dict[str, object]) -> bool:
    """Whether layout_box_backgrounds finds nothing to lay out for a box of this style: square
    corners (resolve_radii_percentages' short track), no border image or mask, and a transparent
    background without images and shadows (or hidden)."""
    known = getattr(style, "book_nothing_behind", None)
    if known is None:
        known = (
            all(_SQUARE_CORNER in style[corner] for corner in _CORNERS)  # type: ignore[operator]
            and style["border_image_source"][0] == "none"  # type: ignore[index]
            and style["mask_border_source"][0] == "none"  # type: ignore[index]
            and (
                style["visibility"] == "hidden"
                or (
                    all(kind == "none" for kind, _ in style["background_image"])  # type: ignore[attr-defined]
                    and get_color(style, "background_color").alpha == 0
                )
            )
            and not style["box_shadow"]
        )
        style.book_nothing_behind = known  # type: ignore[attr-defined]
    return known  # type: ignore[no-any-return]


# Page styles. WeasyPrint cascades the @page rules again for every page (layout/page.py,
# set_page_type_computed_styles), then computes the page's style and those of its sixteen margin
# boxes: a page's type holds its index, for the :nth() selectors, so no two pages share a type.
# Those styles depend only on which @page selectors match the page, so pages that the same selectors
# match share the styles of the first of them. Nothing later changes them but in ways that
# give the same result each time (make_page sets the root's overflow; _standardize_page_based_counters
# puts the page counter first). The first page's are not shared: viewport units (vw, vh, …) read
# the page size that the first page sets (css/units.py, initial_page_sizes).
_original_set_page_type_computed_styles = weasyprint.layout.page.set_page_type_computed_styles


def _set_page_type_computed_styles(page_type: object, html: object, style_for: object) -> None:
    """set_page_type_computed_styles, the styles computed once for each set of matching @page selectors."""
    matched = _matching_page_selectors(page_type, style_for)
    known: dict[tuple[object, ...], list[tuple[object, object, object]]] = style_for.__dict__.setdefault(
        "book_page_styles", {}
    )
    cascaded, computed = style_for.get_cascaded_styles(), style_for.get_computed_styles()  # type: ignore[attr-defined]
    if (styles := known.get(matched)) is None:
        _original_set_page_type_computed_styles(page_type, html, style_for)
        if page_type.index:  # type: ignore[attr-defined]
            pseudo_types = {None} | {pseudo_type for *_, pseudo_type in matched}
            known[matched] = [
                (pseudo_type, cascaded.get((page_type, pseudo_type)), computed[page_type, pseudo_type])
                for pseudo_type in pseudo_types
                if (page_type, pseudo_type) in computed
            ]
        return
    for pseudo_type, cascaded_style, computed_style in styles:
        if cascaded_style is not None:
            cascaded[page_type, pseudo_type] = cascaded_style
        computed[page_type, pseudo_type] = computed_style


def _matching_page_selectors(page_type: object, style_for: object) -> tuple[tuple[object, ...], ...]:
    """The @page selectors that match a page, by where they are in the style sheets. Whether a
    selector matches depends on the page's side, blankness, first-ness and name, and for :nth() on
    its place in the document or its page group: the selectors that match are looked up by those,
    the :nth() selectors tried on each page (8 of the 48 a book's style sheets have)."""
    match = style_for._page_type_match  # type: ignore[attr-defined]
    if (selectors := style_for.__dict__.get("book_page_selectors")) is None:
        selectors = style_for.book_page_selectors = (  # type: ignore[attr-defined]
            tuple(
                ((sheet_index, rule_index, selector_index, pseudo_type), page_selector)
                for sheet_index, (sheet, _, _) in enumerate(style_for._sheets)  # type: ignore[attr-defined]
                for rule_index, (_, rule_selectors, _) in enumerate(sheet.page_rules)
                for selector_index, (_, pseudo_type, page_selector) in enumerate(rule_selectors)
            ),
            {},
        )
    every, known = selectors
    nth = tuple(match(page_selector, page_type) for _, page_selector in every if page_selector.index is not None)
    key = (page_type.side, page_type.blank, page_type.index == 0, page_type.name, nth)  # type: ignore[attr-defined]
    if (matched := known.get(key)) is None:
        matched = known[key] = tuple(where for where, page_selector in every if match(page_selector, page_type))
    return matched  # type: ignore[no-any-return]


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

    fonts: dict[str, dict[str, object]]
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
        self.face_of = _FaceFinder(faces)
        with _collected_warnings() as warnings, _refused_urls():
            self.stylesheets = [
                CSS(string=css, base_url=base_url, url_fetcher=self.fetcher, font_config=self.fonts)
                for css in stylesheets
            ]
        self.warnings = warnings

    def lay_out(self, html: str) -> LaidOutPiece:
        """Lay out a piece (print/book.html with `piece` set); its last page, where the next piece
        would begin, is dropped."""
        held: _HeldMargins = []
        token = _HELD_MARGINS.set(held)
        try:
            with _collected_warnings() as warnings, _refused_urls():
                document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render(
                    stylesheets=self.stylesheets, font_config=self.fonts
                )
        finally:
            _HELD_MARGINS.reset(token)
        return LaidOutPiece(document.copy(document.pages[:-1]), held[:-1], [*self.warnings, *warnings])

    def page_starts(self, piece: LaidOutPiece) -> tuple[PageStart, ...]:
        """Where each page of the piece begins, pages numbered from 1 within the piece."""
        return _page_starts(piece.document)

    def draw(self, piece: LaidOutPiece, first_folio: int, path: Path, *, front: bool = False) -> DrawnPiece:
        """Make the held-back margin boxes with folios from `first_folio`, and write the piece to `path`.

        The front matter (`front`) also gets the book's catalogue entries: the output intent and the
        page labels (front matter i, ii, …; the text from 1 after it)."""
        for context, page, state, number in piece.held_margins:
            context.current_page = number  # type: ignore[attr-defined]  # string() looks the page up
            counters = dict(state[1])  # type: ignore[call-overload]
            counters["page"] = [value + first_folio - 1 for value in counters["page"]]
            margins = list(_original_make_margin_boxes(context, page, (state[0], counters, *state[2:])))
            for box in margins:
                _layout_box_backgrounds(page, box, context.get_image_from_uri)  # type: ignore[attr-defined]
            page.children = (*page.children, *margins)
        usage: dict[str, dict[str, object]] = {}
        finisher = functools.partial(
            _finish,
            profile=self.profile,
            text_start=piece.pages + 1 if front else 1,
            document_id=self.document_id,
            catalog=front,
        )
        token = _FONT_USAGE.set((usage, self.face_of))
        try:
            with _collected_warnings() as warnings, _refused_urls(), writing(path):
                piece.document.write_pdf(path, finisher=finisher, **_piece_options(self.profile, front))
        finally:
            _FONT_USAGE.reset(token)
        return DrawnPiece(_json_ready(usage), tuple([*piece.warnings, *warnings]))


def _piece_options(profile: PdfProfile, catalog: bool = True) -> dict[str, object]:
    """WeasyPrint's options for a PDF that assemble.py makes into the book (or its piece).

    No identifier: PDF/X asks for one, and pydyf makes it by writing every object a second time
    (every stream compressed again) to hash them; the assembler writes the book's own (QPDF's
    deterministic /ID), and the piece's is not kept. A chapter's piece (`catalog` false) is
    drawn for the PDF/X variant (its colours, its PDF version) without the variant's document
    metadata, its XMP and its information entries: the book takes those from the front matter."""
    variant = VARIANTS.get(profile.standard)
    if variant is not None and not catalog:
        variant = _PAGES_ONLY + variant
    return {"pdf_variant": variant, "pdf_identifier": False}


# A PDF/X variant for a chapter's piece: WeasyPrint's properties, without its metadata function.
_PAGES_ONLY = "book-pages:"


@contextlib.contextmanager
def _collected_warnings() -> Iterator[list[str]]:
    handler = _Warnings()
    weasyprint_log = logging.getLogger("weasyprint")
    weasyprint_log.addHandler(handler)
    try:
        yield handler.messages
    finally:
        weasyprint_log.removeHandler(handler)


@contextlib.contextmanager
def _refused_urls() -> Iterator[None]:
    try:
        yield
    except RefusedURL as exc:
        raise RenderError(str(exc), fix="reference only files in styles/, fonts/ or the book's folder") from exc


# Inter-character justification (clreq "Line Adjustment"; CSS Text 3 `text-justify: inter-character`).
#
# WeasyPrint 70 justifies only at spaces (layout/inline.py: count_expandable_spaces counts the
# spaces of a line, add_word_spacing widens the boxes, and text/line_break.py Layout.set_text
# turns the spacing into Pango letter-spacing on each space when the text is drawn). Chinese
# lines have no spaces, so they stayed ragged. This extension makes every CJK character an
# expansion opportunity too: Pango gives a character with letter-spacing s half of s on each
# side, except at the ends of the text box, so a box whose CJK characters get s grows by
# s × (their count − half of the first and half of the last, when those are CJK). The counting
# function below says exactly that, so the boxes' widths and the drawn glyphs agree.
# The text itself is never changed.

CJK_JUSTIFIABLE = re.compile(
    "[\u2014\u2018\u2019\u201c\u201d\u2026\u00b7\u3000-\u303f\u3040-\u30ff\u3100-\u312f"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]"
)
_CJK_RUN = re.compile(CJK_JUSTIFIABLE.pattern + "+")
_NOT_CJK_JUSTIFIABLE = re.compile("[^" + CJK_JUSTIFIABLE.pattern[1:])
_DASH_RUN = re.compile("\u2014+")
_spaces_only_count = inline.count_expandable_spaces
_original_set_text = Layout.set_text


# `——` and `……` are one glyph in Noto CJK (a ligature): a run of either mark counts once.
_LIGATED_MARKS = (DASH[0], ELLIPSIS[0])
_LIGATED_RUN = re.compile("|".join(f"{mark}+" for mark in _LIGATED_MARKS))
NO_BREAK_SPACE = "\u00a0"


def _spaces_and_ligatures(text: str) -> tuple[int, bool]:
    """The spaces of `text` (WeasyPrint's expansion opportunities), and whether it has a mark that
    ligates."""
    return text.count(" ") + text.count(NO_BREAK_SPACE), any(mark in text for mark in _LIGATED_MARKS)


def _count_expansion_opportunities(box: boxes.Box) -> float:
    """Spaces (WeasyPrint's own opportunities) plus the CJK characters' share, in units of spacing.

    `——` and `……` are one glyph in Noto CJK (a ligature), and Pango spaces a cluster once, so
    each such run counts as one character."""
    if isinstance(box, boxes.TextBox):
        text = box.text
        spaces, ligatures = _spaces_and_ligatures(text)
        if not _OPTIONS.get(_ALL_PARTS).cjk_justification or not text:
            return spaces
        folded = _LIGATED_RUN.sub(DASH[0], text) if ligatures else text
        count = len(folded) - len(_NOT_CJK_JUSTIFIABLE.findall(folded))  # the others are fewer: faster
        if count:  # the first and the last character get half their share (no spacing outside the box)
            count -= (CJK_JUSTIFIABLE.match(folded[0]) is not None) / 2 + (
                CJK_JUSTIFIABLE.match(folded[-1]) is not None
            ) / 2
        return spaces + count
    if isinstance(box, boxes.LineBox | boxes.InlineBox):
        return sum(_count_expansion_opportunities(child) for child in box.children)
    return 0


def _set_text_with_cjk_spacing(self: Layout, text: str, justify: bool = False) -> None:
    """Layout.set_text, plus clreq's punctuation width adjustment on the marks that meet another
    (text.halt_positions) and, when justified text is drawn, letter-spacing on the CJK characters.

    The marks are adjusted here, as the text is shaped, rather than by a span with OpenType halt
    around each one: a span cuts the line into three boxes that WeasyPrint lays out and draws one
    by one. A mark's neighbour may be just past the text: when WeasyPrint sets a line cut from the
    text it set before, that text gives the next character."""
    previous = getattr(self, "text", None)
    _original_set_text(self, text, justify)
    if previous != text:  # the same text again is the line being drawn: its neighbour is known
        self.following = previous[len(text) : len(text) + 1] if previous and previous.startswith(text) else ""  # type: ignore[attr-defined]
    halts = [i for i in halt_positions(self.text + self.following) if i < len(self.text)]  # type: ignore[attr-defined]
    # A dash (——) stays with the character before it: it may not begin a line (clreq line-start
    # prohibition), while UAX #14, which Pango follows, allows a break before it.
    dashes = [(run.start() - 1, run.end()) for run in _DASH_RUN.finditer(self.text) if run.start() > 0]
    spacing = justify and _OPTIONS.get(_ALL_PARTS).cjk_justification and self.justification_spacing
    if not (halts or dashes or spacing) or not self.text:
        return
    attributes = pango.pango_layout_get_attributes(self.layout)
    if attributes == ffi.NULL:
        attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    # Pango applies every font-features attribute that covers a character (they never override
    # each other), so halt adds to the features of the text's style.
    for start, end in _byte_ranges(self.text, [(i, i + 1) for i in halts]):
        attribute = pango.pango_attr_font_features_new(b"halt 1")
        attribute.start_index, attribute.end_index = start, end
        pango.pango_attr_list_insert(attributes, attribute)
    for start, end in _byte_ranges(self.text, dashes):
        attribute = pango.pango_attr_allow_breaks_new(False)  # no break inside the range
        attribute.start_index, attribute.end_index = start, end
        pango.pango_attr_list_insert(attributes, attribute)
    if spacing:
        letter_spacing = self.style["letter_spacing"]
        units = int((self.justification_spacing + (0 if letter_spacing == "normal" else letter_spacing)) * TO_UNITS)
        # One attribute per run of CJK characters (Pango would merge per-character ones into the
        # same runs: pango_attr_list_change joins equal adjacent attributes).
        runs = [run.span() for run in _CJK_RUN.finditer(self.text)]
        for start, end in _byte_ranges(self.text, runs):
            attribute = pango.pango_attr_letter_spacing_new(units)
            attribute.start_index, attribute.end_index = start, end
            pango.pango_attr_list_change(attributes, attribute)
    pango.pango_layout_set_attributes(self.layout, attributes)


def _byte_ranges(text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Character spans of `text` (in order) as UTF-8 byte spans, as Pango indexes text."""
    byte, position = 0, 0
    for start, end in spans:
        byte += len(text[position:start].encode())
        length = len(text[start:end].encode())
        yield byte, byte + length
        byte, position = byte + length, end


_original_split_first_line = inline.split_first_line
_HAN = re.compile(HAN)


def _split_first_line(
    text: str,
    style: dict[str, object],
    context: object,
    max_width: float | None,
    justification_spacing: float,
    is_line_start: bool = True,
    minimum: bool = False,
) -> tuple[object, ...]:
    """split_first_line, shown only the text that two lines can hold.

    To find where a line ends, WeasyPrint shapes and breaks as much text as four lines of Latin
    letters take (4 characters per em of the width): with Chinese, one em per character, that is
    four lines, every one shaped again for the next line. Two lines' worth gives the same break:
    it depends on the characters after it only as far as the next break opportunity, and Chinese
    has one after every character. When the first line takes all the text shown (a short last line,
    or narrow Latin letters), the whole text is measured, as before."""
    font_size = style["font_size"]
    if max_width is not None and max_width != math.inf and font_size and not minimum:
        end = int(2 * max_width / font_size) + 2  # type: ignore[operator]
        # Cut between two Han characters, so that the second line's first break comes before the cut;
        # soft hyphens (manual hyphenation looks at the whole text) are left to the slow path.
        if end < len(text) and _HAN.match(text[end - 1]) and _HAN.match(text[end]) and "\xad" not in text:
            shown = text[:end]
            result = _original_split_first_line(
                shown, style, context, max_width, justification_spacing, is_line_start, minimum
            )
            resume_index = result[2]  # in UTF-8 bytes; the second line must show two characters or more
            if resume_index is not None and len(shown.encode()) - resume_index >= 6:  # type: ignore[operator]
                return result
    return _original_split_first_line(text, style, context, max_width, justification_spacing, is_line_start, minimum)


_original_first_line_metrics = line_break.first_line_metrics


def _first_line_metrics(
    first_line: object,
    text: str,
    layout: Layout,
    resume_at: int | None,
    space_collapse: bool,
    style: dict[str, object],
    hyphenated: bool = False,
    hyphenation_character: str | None = None,
) -> tuple[object, ...]:
    """first_line_metrics, which measures a line that ends on a CJK character where Pango broke it.

    WeasyPrint sets a broken line's text on its own and shapes it again, since a trailing space or
    a hyphen would change its width. A line that ends on a CJK character has neither, and its
    first line in the layout already shaped is the line (halt at its end included: the character
    after it is in that layout)."""
    if hyphenated or not resume_at:
        return _original_first_line_metrics(
            first_line, text, layout, resume_at, space_collapse, style, hyphenated, hyphenation_character
        )
    length = first_line.length  # type: ignore[attr-defined]  # in UTF-8 bytes
    line = text.encode()[:length].decode()
    if not line or not CJK_JUSTIFIABLE.match(line[-1]):
        return _original_first_line_metrics(first_line, text, layout, resume_at, space_collapse, style)
    width, height = line_break.line_size(first_line, style)
    baseline = pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS
    layout.text, layout.following = line, text[len(line) : len(line) + 1]  # type: ignore[attr-defined]
    layout.deactivate()
    return layout, length, resume_at, width, height, baseline


_original_add_word_spacing = inline.add_word_spacing


def _add_word_spacing(context: object, box: boxes.Box, justification_spacing: float, x_advance: float) -> float:
    """add_word_spacing, which for a text box keeps the line it laid out, with the spacing set.

    WeasyPrint makes a new Layout of the text for every justified line (a Pango context, a font
    description, the text set) only to keep it, unused, until the line is drawn, when it is set
    up again. The copy keeps the text and the character after it (halt at the line's end)."""
    if not isinstance(box, boxes.TextBox) or getattr(box, "pango_layout", None) is None:
        return _original_add_word_spacing(context, box, justification_spacing, x_advance)
    box.justification_spacing = justification_spacing
    box.position_x += x_advance
    if count := _count_expansion_opportunities(box):
        layout = copy.copy(box.pango_layout)  # laid out and deactivated: no Pango objects to share
        layout.justification_spacing = justification_spacing
        box.pango_layout = layout
        box.width += justification_spacing * count
        x_advance += justification_spacing * count
    return x_advance


# Lines of a paragraph from one layout. WeasyPrint finds each line of a paragraph on its own:
# it sets and shapes the text from the line's start (two lines of it, see _split_first_line),
# takes the first line and throws the rest away, so every character is shaped two or three times.
# A paragraph of Chinese is one unbroken text: its lines are laid out in one Pango layout of the
# available width (the first line shorter by the indent), and each is read from it when
# WeasyPrint asks for it, then drawn from its glyphs (_draw_text). A line is taken from the layout
# only where WeasyPrint would have kept Pango's break as it is: none of the spaces and breaks
# WeasyPrint handles itself in the text (_PLAIN_TEXT), and the line ends on a CJK character or
# ends the text. Anything else is left to WeasyPrint.

# Characters WeasyPrint handles itself when it breaks lines: collapsible and no-break spaces (it
# trims and justifies them), line and paragraph separators, soft hyphens, zero-width spaces.
# The ideographic space U+3000 is none of these: a CJK character like any other.
_PLAIN_TEXT = re.compile("[^ \t\n\r\f\v\x85\xa0\xad\u200b\u2028\u2029]+")
_original_split_text_box = inline.split_text_box
_HALTS_PER_LAYOUT = 24


class _Line(NamedTuple):
    """A line of a paragraph laid out at once: where it ends and its metrics, in points. (A named
    tuple: one is made for each line of a book, and a frozen dataclass sets each field through
    object.__setattr__.)"""

    end: int  # in UTF-8 bytes from the start of the text box
    resume_at: int | None
    width: float
    height: float
    baseline: float
    direction: int
    shaped: _Shaped
    runs: tuple[_GlyphRun, ...]  # its glyphs, as Pango shaped them in the paragraph's layout
    opportunities: float | None  # for justification (_opportunities); None: counted from its text


class _Shaped(NamedTuple):
    """The text of a paragraph's layout, for the lines taken from it."""

    encoded: bytes
    start: int  # where its text begins in the text box's, in UTF-8 bytes
    spaced: bytes  # 1 at the first byte of each CJK character, which justification spaces
    strut: tuple[float, float]  # the line-height and baseline of the text's style
    # The fonts of its lines' runs by address: the PangoFont * and a reference that holds it (no
    # other font takes its address while a line is kept): _fonts_held
    fonts: dict[int, tuple[object, object]]


# A run of a line's glyphs in one font, copied out of the layout (which is then freed: a
# PangoLayout kept per paragraph until the pages are drawn took 170 bytes a character): its font's
# address (_Shaped.fonts), the item's offset and length in _Shaped.encoded (bytes), its
# PangoGlyphInfos (glyph, width, x offset, y offset, attributes: 32 bits each) and its log
# clusters (32 bits each), as Pango stores them.
_GlyphRun = tuple[int, int, int, bytes, bytes]


class _LineLayout(Layout):
    """The layout of a line taken from a paragraph's layout: drawn from its glyphs (_draw_text),
    without setting and shaping the line's text again. Set up again, it is the line's own layout."""

    shaped: _Shaped
    runs: tuple[_GlyphRun, ...]
    opportunities: float | None  # _Line.opportunities
    spaced_by = 0  # the CJK letter-spacing already in the glyphs' widths, in Pango units (_standalone_line)


class _Paragraph(NamedTuple):
    """The lines of a text box's text from one start on, laid out at one width."""

    text: str
    width: float
    start: int  # in UTF-8 bytes
    first_width: float  # the width of the line at `start`
    lines: dict[int, _Line | None]  # by start, in UTF-8 bytes; None: left to WeasyPrint


def _split_text_box(
    context: object, box: boxes.TextBox, available_width: float | None, skip: int, is_line_start: bool = True
) -> tuple[boxes.TextBox | None, int | None, bool]:
    """split_text_box, which takes a paragraph's lines after the first from one layout."""
    line = _paragraph_line(context, box, available_width, skip, available_width) if skip else None
    if line is None:
        return _original_split_text_box(context, box, available_width, skip, is_line_start)
    return _text_of_line(box, available_width, skip, line, _LineLayout), line.resume_at, False  # type: ignore[arg-type]


def _text_of_line(
    box: boxes.TextBox, width: float, skip: int, line: _Line, layout_type: type[_LineLayout]
) -> boxes.TextBox:
    """The text box of a line, as split_text_box makes it."""
    # The line's text and the character after it, from its layout's text (which goes on past a line
    # it keeps, or to the end of the box's text).
    encoded, start = line.shaped.encoded, skip - line.shaped.start
    end = line.end - line.shaped.start
    text = encoded[start:end].decode()
    layout = layout_type.__new__(layout_type)  # as split_first_line leaves it, deactivated
    layout.shaped, layout.runs = line.shaped, line.runs
    layout.justification_spacing, layout.max_width = box.justification_spacing, width
    layout.first_line_direction, layout.opportunities = line.direction, line.opportunities
    layout.ascent = layout.underline_position = layout.strikethrough_position = None  # no text decoration
    layout.text, layout.following = text, encoded[end : end + 4].decode(errors="ignore")[:1]  # type: ignore[attr-defined]
    new_box = box.copy_with_text(text)
    new_box.width, new_box.height, new_box.pango_layout = line.width, line.height, layout
    # The margins make the box's height the line-height, half the leading each.
    line_height, _ = line.shaped.strut
    new_box.margin_top = new_box.margin_bottom = (line_height - line.height) / 2
    new_box.baseline = line.baseline + new_box.margin_top
    return new_box


_original_get_next_linebox = inline.get_next_linebox


def _get_next_linebox(
    context: object,
    linebox: boxes.LineBox,
    position_y: float,
    bottom_space: float,
    skip_stack: dict[int, object] | None,
    containing_block: boxes.Box,
    absolute_boxes: list[boxes.Box],
    fixed_boxes: list[boxes.Box],
    first_letter_style: object,
    first_line_style: object,
) -> tuple[boxes.LineBox | None, dict[int, object] | None]:
    """get_next_linebox, which makes a line of a paragraph of plain text from its layout.

    Such a paragraph is one text box in its line box: each line is the line box with a text box
    of the line's text, aligned and placed as WeasyPrint places it (the same steps, without the
    searches for floats, inline children and collapsible spaces that cannot be there)."""
    if not (first_letter_style or first_line_style or context.excluded_shapes):  # type: ignore[attr-defined]
        made = _paragraph_linebox(context, linebox, position_y, skip_stack, containing_block)
        if made is not None:
            return made
    return _original_get_next_linebox(
        context,
        linebox,
        position_y,
        bottom_space,
        skip_stack,
        containing_block,
        absolute_boxes,
        fixed_boxes,
        first_letter_style,
        first_line_style,
    )


def _paragraph_linebox(
    context: object,
    linebox: boxes.LineBox,
    position_y: float,
    skip_stack: dict[int, object] | None,
    containing_block: boxes.Box,
) -> tuple[boxes.LineBox, dict[int, object] | None] | None:
    """The next line of a line box that holds one text box, from its paragraph's layout, or None."""
    children = linebox.children
    if len(children) != 1 or not isinstance(children[0], boxes.TextBox) or linebox.is_leader:
        return None
    if linebox.style["direction"] != "ltr" or linebox.text_indent < 0:
        return None
    skip = 0  # the first line
    if skip_stack is not None:
        inner = skip_stack.get(0)
        if len(skip_stack) != 1 or not isinstance(inner, dict) or len(inner) != 1:
            return None
        ((skip, rest),) = inner.items()
        if rest is not None or not skip:
            return None
    text_box = children[0]
    linebox.position_y = position_y
    linebox.width = linebox.height = 0
    position_x, position_y, available_width = _line_bounds(context, linebox, containing_block)
    linebox.position_x = position_x
    max_x = (position_x + available_width) * (1 + 1e-9)  # as split_inline_box
    # The paragraph's text box is resolved again for each of its lines; the same containing block
    # size gives the same values.
    size = (containing_block.width, containing_block.height)
    if getattr(text_box, "book_resolved_in", None) != size:
        inline.resolve_percentages(text_box, containing_block)
        text_box.book_resolved_in = size  # type: ignore[attr-defined]
    # The width of the paragraph's lines, and of this one (the first is shorter by the indent).
    full_width, width = max_x - position_x, max_x - (position_x + linebox.text_indent)
    line = _paragraph_line(context, text_box, full_width, skip, width)
    if line is None:
        return None
    text_box.position_x, text_box.position_y = position_x + linebox.text_indent, position_y
    new_child = _text_of_line(text_box, width, skip, line, _LineLayout)
    new_line = linebox.copy_with_children([new_child])
    new_line.remove_decoration(start=skip_stack is not None, end=line.resume_at is None)
    new_line.width = new_child.position_x + new_child.margin_width() - new_line.content_box_x()
    if linebox.style is text_box.style:  # as _adjust_line_height, with the strut already known
        line_height, new_line.baseline = line.shaped.strut
        new_line.height = linebox.style["font_size"]
        half_leading = (line_height - new_line.height) / 2
        new_line.margin_top = half_leading - new_line.border_top_width - new_line.padding_top
        new_line.margin_bottom = half_leading - new_line.border_bottom_width - new_line.padding_bottom
    else:
        inline._adjust_line_height(new_line)
    linebox.width, linebox.height = new_line.width, new_line.height
    offset_x = _align(context, new_line, new_child, available_width, last=line.resume_at is None)
    bottom, top = _line_box_verticality(new_line, new_child)
    new_line.baseline, new_line.position_y, new_line.height = -top, top, bottom - top
    new_line.margin_top = new_line.margin_bottom = 0
    new_line.translate(offset_x, position_y - top)
    new_line.position_y = position_y  # as WeasyPrint: position_y - top + top may differ from position_y
    return new_line, (None if line.resume_at is None else {0: {line.resume_at: None}})


def _line_box_verticality(line: boxes.LineBox, text_box: boxes.TextBox) -> tuple[float, float]:
    """line_box_verticality for a line box whose one child is a text box on the baseline: the steps
    of inline_box_verticality and aligned_subtree_verticality for it, in their order (the baseline
    at y = 0). The line's bottom and top."""
    if text_box.style["vertical_align"] != "baseline":
        return inline.line_box_verticality(line)  # type: ignore[no-any-return]
    top = text_box.position_y = 0 - text_box.baseline
    bottom = top + text_box.margin_height()
    line_top = 0 - line.baseline
    line_bottom = line_top + line.margin_height()
    return (line_bottom if line_bottom > bottom else bottom), (line_top if line_top < top else top)


def _line_bounds(context: object, linebox: boxes.LineBox, containing_block: boxes.Box) -> tuple[float, float, float]:
    """float.avoid_collisions for a line box (outer=False): where it starts and how wide it may be.
    With no float on the page and left-to-right text these are its steps without the search for
    floats, in the same order (the same rounding)."""
    if context.excluded_shapes or containing_block.style["direction"] != "ltr":  # type: ignore[attr-defined]
        return float_layout.avoid_collisions(context, linebox, containing_block, outer=False)
    left = containing_block.content_box_x()
    right = left + containing_block.width
    left += linebox.margin_left
    right -= linebox.margin_right
    return left - linebox.margin_left, linebox.border_box_y() - linebox.margin_top, right - left


def _align(context: object, line: boxes.LineBox, text_box: boxes.TextBox, available_width: float, last: bool) -> float:
    """text_align for a line of one text box; a justified line is justified here, with the steps
    of _justify_line, justify_line and _add_word_spacing for one text box (the opportunities
    counted once, the line's own layout given the spacing)."""
    style = line.style
    align = style["text_align_all"]
    if last and style["text_align_last"] != "auto":
        align = style["text_align_last"]
    if line.width >= available_width or align != "justify" or not _OPTIONS.get(_ALL_PARTS).cjk_justification:
        return inline.text_align(context, line, available_width, last)
    count = _line_opportunities(text_box)
    if count:
        spacing = (available_width - line.width) / count
        text_box.justification_spacing = text_box.pango_layout.justification_spacing = spacing
        text_box.width += spacing * count
        line.width += spacing * count
    return 0


def _line_opportunities(box: boxes.TextBox) -> float:
    """_count_expansion_opportunities for a line taken from a paragraph's layout, as counted when
    it was taken (_opportunities)."""
    opportunities = box.pango_layout.opportunities  # type: ignore[union-attr]
    return _count_expansion_opportunities(box) if opportunities is None else opportunities  # type: ignore[no-any-return]


def _opportunities(shaped: _Shaped, start: int, end: int) -> float | None:
    """_count_expansion_opportunities for the text box of a line of `shaped` (bytes `start` to
    `end` of its text), its CJK characters counted by the layout's flags, without matching the
    text; None where a mark ligates (see _count_expansion_opportunities)."""
    text = shaped.encoded[start:end].decode()
    spaces, ligatures = _spaces_and_ligatures(text)
    if not text or ligatures:
        return None
    count: float = shaped.spaced.count(1, start, end)
    if count:  # the first and the last character get half their share
        count -= shaped.spaced[start] / 2 + (CJK_JUSTIFIABLE.match(text[-1]) is not None) / 2
    return spaces + count


def _paragraph_line(
    context: object, box: boxes.TextBox, width: float | None, skip: int, line_width: float | None
) -> _Line | None:
    """The line of `box` that starts `skip` bytes in, from the paragraph's layout at `width`
    (`line_width` for this line), or None where WeasyPrint must find it itself."""
    if (
        not _OPTIONS.get(_ALL_PARTS).paragraph_layout
        or width is None
        or not 0 < width < 2**21
        or box.justification_spacing
        or not _plain_style(box.style)
    ):
        return None
    paragraph = getattr(box, "paragraph", None)
    if (
        paragraph is None
        or paragraph.text is not box.text
        or not _same_measure(paragraph.width, width)
        or skip not in paragraph.lines
        or (skip == paragraph.start and not _same_measure(paragraph.first_width, line_width))
    ):
        if not _plain_text(box) or line_width is None or not 0 < line_width <= width:
            return None
        paragraph = box.paragraph = _short_paragraph(context, box, width, skip, line_width)
    return paragraph.lines[skip]


def _pango_width(width: float) -> int:
    """A line width in points as Pango is given it, in whole Pango units (create_layout)."""
    return int(width * TO_UNITS)


def _same_measure(laid_out: float, width: float) -> bool:
    """Whether lines laid out at width `laid_out` (points) are those of `width`: Pango is given
    the width in whole Pango units (_pango_width), and a line's width, a whole number of units,
    overflows both or neither (x > w for x = k / 1024 is k > int(w * 1024)).

    A paragraph's width differs by some 1e-8 pt between left and right pages (split_inline_box
    widens its right edge by a factor of 1 + 1e-9, and a left page's edge is elsewhere): compared
    exactly, each page turn laid out the rest of a paragraph again (1.24 million characters laid
    out for 红楼梦, 857,000 compared in units)."""
    return _pango_width(laid_out) == _pango_width(width)


def _plain_text(box: boxes.TextBox) -> bool:
    """Whether the text of `box` has none of the characters WeasyPrint handles itself
    (_PLAIN_TEXT). Known once per text: a long paragraph is laid out in several windows."""
    text = box.text
    known = getattr(box, "book_plain_text", None)
    if known is None or known[0] is not text:
        known = box.book_plain_text = (text, _PLAIN_TEXT.fullmatch(text) is not None)  # type: ignore[attr-defined]
    return known[1]


def _plain_style(style: dict[str, object]) -> bool:
    """Whether text of this style breaks into lines as Pango breaks it, with nothing that WeasyPrint
    adds (spacing, decoration, hyphenation). Known once per style object: a paragraph's style is
    read again for each of its lines."""
    known = getattr(style, "book_plain", None)
    if known is None:
        known = style.book_plain = (  # type: ignore[attr-defined]
            style["white_space"] == "normal"
            and style["word_break"] == "normal"
            and style["letter_spacing"] == "normal"
            and not style["word_spacing"]
            and style["text_decoration_line"] == "none"
            and style["hyphens"] != "auto"
            and bool(style["font_size"])
        )
    return known  # type: ignore[no-any-return]


# A short text comes back page after page (a running head, a folio): its layout is kept, for the
# fonts it was made with. The key holds what the layout depends on besides the defaults that
# _paragraph_line asks for.
_SHORT_TEXT = 64
_short_paragraphs: weakref.WeakKeyDictionary[object, dict[tuple[object, ...], _Paragraph]] = weakref.WeakKeyDictionary()


def _short_paragraph(context: object, box: boxes.TextBox, width: float, skip: int, line_width: float) -> _Paragraph:
    """_lay_out_paragraph, or for a short text laid out before in the same fonts, that layout."""
    if len(box.text) > _SHORT_TEXT:
        return _lay_out_paragraph(context, box, width, skip, line_width)
    style = box.style
    key = (
        box.text,
        _pango_width(width),  # _same_measure
        skip,
        _pango_width(line_width),
        line_break._font_style_cache_key(style, include_size=True),
        style["font_kerning"],
        style["direction"],
        style["overflow_wrap"],
    )
    known = _short_paragraphs.setdefault(style.font_config, {})
    if (paragraph := known.get(key)) is None:
        if len(known) >= 512:
            known.clear()
        paragraph = known[key] = _lay_out_paragraph(context, box, width, skip, line_width)
    return paragraph._replace(text=box.text)  # the box's own text: _paragraph_line's check


def _lay_out_paragraph(context: object, box: boxes.TextBox, width: float, skip: int, first_width: float) -> _Paragraph:
    """Lay out the text of `box` from `skip` on at `width`, its first line at `first_width` (a
    paragraph's first line is shorter by the indent), and note each line.

    Pango gives HarfBuzz at most 32 font features for a run of text (pango/shape.c), and a run
    is all of a paragraph in one font: past 32, halt would be dropped from the first marks. So
    the text is laid out up to its 25th halted mark, cut between two Han characters; the lines
    that end two characters or more before the cut are kept (their breaks are those of the whole
    text, as in _split_first_line), and the next layout starts where they end."""
    encoded = box.text.encode()
    text = encoded[skip:].decode()
    halts = halt_positions(text, _HALTS_PER_LAYOUT + 1)  # not the rest of a long paragraph's, each window
    cut = len(text)
    if len(halts) > _HALTS_PER_LAYOUT:
        cut = halts[_HALTS_PER_LAYOUT]
        while cut > 1 and not (_HAN.match(text[cut - 1]) and _HAN.match(text[cut])):
            cut -= 1
    shown = text[:cut].encode()
    keep_to = skip + (len(shown) if cut == len(text) else len(shown) - 6)  # in bytes of the whole text
    layout = line_break.create_layout(shown.decode(), box.style, context, width, 0)
    if first_width != width:
        # Pango sets the first line in the layout's width less the indent: in Pango units, that is
        # the width WeasyPrint would give it, to the unit.
        pango.pango_layout_set_indent(layout.layout, _pango_width(width) - _pango_width(first_width))
    fonts = _fonts_held(box.style)
    shaped = _Shaped(shown, skip, _cjk_character_starts(text[:cut]), line_break.strut(box.style), fonts)
    lines: dict[int, _Line | None] = {}
    # The lines that end by the cut (a break after it may depend on the text past the cut), in C
    # where it was compiled
    layout_lines = pango.pango_layout_get_lines_readonly(layout.layout)
    arguments = (keep_to - skip, skip, len(encoded), first_width, width)
    if _compiled_paragraph_lines is None:
        used = _python_paragraph_lines(layout_lines, *arguments, shaped, lines)
    else:
        address = int(ffi.cast("uintptr_t", layout_lines))
        used = _compiled_paragraph_lines(
            address, _LINE_EXTENTS, *arguments, shaped.encoded, shaped.spaced, _Line, shaped, lines
        )
    _hold_fonts(fonts, used)
    lines.setdefault(skip, None)  # not a whole line before the cut: left to WeasyPrint
    return _Paragraph(box.text, width, skip, first_width, lines)


def _python_paragraph_lines(
    lines: object,
    limit: int,
    skip: int,
    text_length: int,
    first_width: float,
    width: float,
    shaped: _Shaped,
    out: dict[int, _Line | None],
) -> set[int]:
    """The lines of a PangoLayout of `shaped` (`lines`, its list of PangoLayoutLine) up to the first
    that ends past byte `limit` of its text, not included, into `out` by their start in the text
    box's text (the layout's starts `skip` bytes into it, and it is `text_length` bytes long). A
    line is None where it overflows its measure (`first_width` for the layout's first, `width`
    after it), or where it ends before the text's end on a character that is not CJK: a break
    WeasyPrint may move. The addresses of the lines' fonts are returned. (Compiled:
    _speedups.paragraph_lines.)"""
    fonts: set[int] = set()
    logical = ffi.new("PangoRectangle *")
    item = ffi.cast("GSList *", lines)
    while item != ffi.NULL:
        line = ffi.cast("PangoLayoutLine *", item.data)
        item = item.next
        start, end = line.start_index, line.start_index + line.length
        if end > limit:
            break
        pango.pango_layout_line_get_extents(line, ffi.NULL, logical)
        line_width = first_width if start == 0 else width
        last = shaped.encoded[max(0, end - 4) : end].decode(errors="ignore")[-1:]  # a character is 4 bytes at most
        if logical.width * FROM_UNITS > line_width or (skip + end < text_length and not CJK_JUSTIFIABLE.match(last)):
            out[skip + start] = None
            continue
        runs = _python_runs(line)
        fonts.update(run[0] for run in runs)
        out[skip + start] = _Line(
            skip + end,
            skip + end if skip + end < text_length else None,
            logical.width * FROM_UNITS,
            logical.height * FROM_UNITS,
            -logical.y * FROM_UNITS,
            line.resolved_dir,
            shaped,
            runs,
            _opportunities(shaped, start, end),
        )
    return fonts


def _python_runs(line: object) -> tuple[_GlyphRun, ...]:
    """The runs of a PangoLayoutLine, copied out of it."""
    runs = []
    run = line.runs  # type: ignore[attr-defined]
    while run != ffi.NULL:
        glyph_string, item = run.data.glyphs, run.data.item
        run = run.next
        count = glyph_string.num_glyphs
        glyphs = ffi.buffer(glyph_string.glyphs, 20 * count)[:]
        clusters = ffi.buffer(glyph_string.log_clusters, 4 * count)[:]
        runs.append((int(ffi.cast("uintptr_t", item.analysis.font)), item.offset, item.length, glyphs, clusters))
    return tuple(runs)


# The fonts of the lines taken from layouts, held as long as their font configuration lives (its
# font map keeps them that long anyway: 30 回 of 红楼梦 used 3). Held for each layout, they were
# referenced again for each.
_held_fonts: weakref.WeakKeyDictionary[object, dict[int, tuple[object, object]]] = weakref.WeakKeyDictionary()


def _fonts_held(style: dict[str, object]) -> dict[int, tuple[object, object]]:
    """The fonts held for the font configuration of `style` (_Shaped.fonts)."""
    return _held_fonts.setdefault(style.font_config, {})  # type: ignore[attr-defined]


def _hold_fonts(held: dict[int, tuple[object, object]], addresses: Iterable[int]) -> None:
    """Hold the fonts at `addresses` (_Shaped.fonts)."""
    for address in addresses:
        if address not in held:
            font = ffi.cast("PangoFont *", address)
            held[address] = (font, ffi.gc(gobject.g_object_ref(font), gobject.g_object_unref))


# The lines taken in C (book/_speedups.c, built by `pip install`) where it was built: the same
# lines as _python_paragraph_lines, in 4–5 µs a line where it took 17–22 (红楼梦's 1–9 回, 3,186
# lines).
_compiled_paragraph_lines = compiled("paragraph_lines")
_LINE_EXTENTS = int(ffi.cast("uintptr_t", pango.pango_layout_line_get_extents))


_original_draw_text = weasyprint.draw.draw_text
_EMPTY_GLYPH, _UNKNOWN_GLYPH = pango.PANGO_GLYPH_EMPTY, pango.PANGO_GLYPH_UNKNOWN_FLAG
_GLYPH_HIGH_BYTE = 3 if sys.byteorder == "little" else 0


def _draw_text(
    stream: object, textbox: boxes.TextBox, offset_x: float, text_overflow: str, block_ellipsis: str
) -> None:
    """draw_text, which draws a line from glyphs already shaped.

    WeasyPrint sets up a new layout for every text box it draws, sets and shapes the text again
    (with the justification's letter-spacing), and then reads the glyphs one by one through cffi.
    A line of a paragraph laid out at once has its glyphs in the paragraph's layout: it is drawn
    from them in one call (_speedups.draw_line, or its twin _python_draw_line), the justification
    added as Pango adds letter-spacing. A line WeasyPrint laid out itself is set up once for all
    the boxes that share its layout (_standalone_line). The glyphs are shown where Pango placed
    them (_show_glyphs)."""
    style = textbox.style
    if (
        not _OPTIONS.get(_ALL_PARTS).glyph_drawing
        or text_overflow == "ellipsis"
        or block_ellipsis != "none"
        or style["visibility"] != "visible"
        or style["text_decoration_line"] != "none"
    ):
        return _original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
    shown = bool(textbox.text.strip()) and style["font_size"] >= 1e-6  # as draw_first_line
    layout = textbox.pango_layout
    x, y = textbox.position_x, textbox.position_y + textbox.baseline
    if shown and isinstance(layout, _LineLayout):  # a line of a paragraph laid out at once
        fonts = _page_fonts(stream)
        spacing = layout.justification_spacing if _OPTIONS.get(_ALL_PARTS).cjk_justification else 0
        arguments = (stream, layout, style["color"], spacing, x, y, fonts, _measure_glyph)
        draw = _compiled_draw_line or _python_draw_line
        drawn = draw(*arguments)
        while drawn is not None and drawn is not False:
            if drawn is True:  # see _speedups.draw_line
                drawn = _python_draw_line(*arguments)
            else:  # the font at this address: added to the page's
                _page_font(stream, layout, fonts, drawn)
                drawn = draw(*arguments)
        if drawn is False:  # see _runs_to_draw
            return _original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
        return None
    if shown:
        layout = _standalone_line(textbox)
    # A standalone line's glyphs shown on this page before (a leader's dots are copies of one box):
    # the same operators again.
    shown_before = getattr(layout, "book_shown", (None, None))
    replay = shown_before[1] if shown_before[0] is stream else None
    runs: list[_Run] | None = []
    if shown:
        runs = None if layout is None else [] if replay else _runs_to_draw(stream, layout, _page_fonts(stream))
    if runs is None:  # see _runs_to_draw; or right-to-left text: WeasyPrint's own way
        return _original_draw_text(stream, textbox, offset_x, text_overflow, block_ellipsis)
    stream.set_color(style["color"])  # type: ignore[attr-defined]
    stream.begin_text()  # type: ignore[attr-defined]
    if shown:
        stream.set_text_matrix(*Matrix(d=-1, e=x, f=y).values)  # type: ignore[attr-defined]
        if replay:
            stream.stream.extend(replay)  # type: ignore[attr-defined]
        else:
            start = len(stream.stream)  # type: ignore[attr-defined]
            _show_glyphs(
                stream, layout, runs, layout.justification_spacing if _OPTIONS.get(_ALL_PARTS).cjk_justification else 0
            )  # type: ignore[arg-type,union-attr]
            layout.book_shown = (stream, stream.stream[start:])  # type: ignore[attr-defined,union-attr]
    stream.end_text()  # type: ignore[attr-defined]
    return None


def _python_draw_line(
    stream: object,
    layout: _LineLayout,
    color: object,
    spacing: float,
    x: float,
    y: float,
    fonts: dict[int, _PageFont],
    measure: Callable[..., int],
) -> bool | None:
    """Draw a line taken from a paragraph's layout, a text object of its glyphs from (x, y),
    justified by `spacing` (points); False, with nothing written, where WeasyPrint must draw it
    (see _runs_to_draw). `measure`: _measure_glyph, or a stand-in. (Compiled:
    _speedups.draw_line, which returns what this does, or the address of a font to add.)"""
    runs = _runs_to_draw(stream, layout, fonts)
    if runs is None:
        return False
    stream.set_color(color)  # type: ignore[attr-defined]
    stream.begin_text()  # type: ignore[attr-defined]
    stream.set_text_matrix(*Matrix(d=-1, e=x, f=y).values)  # type: ignore[attr-defined]
    _show_glyphs(stream, layout, runs, spacing, measure)
    stream.end_text()  # type: ignore[attr-defined]
    return None


def _standalone_line(textbox: boxes.TextBox) -> _LineLayout | None:
    """The glyphs of a text box that WeasyPrint laid out itself (a heading, a contents entry), set
    up as draw_text sets them up, once for all the boxes that share its layout; None for
    right-to-left text.

    A leader is one text box copied once per dot (layout/leader.py): a contents page had 1,444 boxes
    to draw, each set up and shaped again. The glyphs are taken with the justification's
    letter-spacing that Pango added, so none is added when they are shown."""
    layout = textbox.pango_layout
    key = (layout.text, layout.justification_spacing)
    known = getattr(layout, "book_line", None)
    if known is not None and known[0] is textbox.style and known[1] == key:
        return known[2]  # type: ignore[no-any-return]
    layout.reactivate(textbox.style)
    try:
        pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
        first_line, _ = layout.get_first_line()
        run, right_to_left = first_line.runs, False
        while run != ffi.NULL:
            right_to_left |= bool(run.data.item.analysis.level % 2)  # as draw_first_line reads it
            run = run.next
        line = None
        if not right_to_left:
            line = _LineLayout.__new__(_LineLayout)
            line.shaped = _Shaped(layout.text.encode(), 0, b"", (0.0, 0.0), _fonts_held(textbox.style))
            line.runs = _python_runs(first_line)
            _hold_fonts(line.shaped.fonts, (run[0] for run in line.runs))
            line.justification_spacing = 0
            if _OPTIONS.get(_ALL_PARTS).cjk_justification and layout.justification_spacing:
                line.spaced_by = int(layout.justification_spacing * TO_UNITS)
    finally:
        layout.deactivate()
    layout.book_line = (textbox.style, key, line)  # type: ignore[attr-defined]
    return line


_Run = tuple[object, object, float, dict[int, int], int, int, bytes, bytes]


class _PageFont(NamedTuple):
    """A font of a page's lines (stream.book_fonts, by the address of its Pango font). The page
    holds it: no other font takes its address. _speedups.draw_line reads its fields in this order."""

    font: weasyprint.pdf.fonts.Font
    pango_font: object
    font_size: float
    measured: dict[int, int]  # the widths measured in this process (_MEASURED), of its face at its size
    held: object  # the reference that holds the Pango font (_Shaped.fonts)
    drawable: bool  # not a colour or bitmap font: its glyphs are drawn here
    widths: dict[int, int]  # the font's widths and texts, noted as the page uses its glyphs
    to_unicode: dict[int, str]
    key: tuple[str, float]  # as stream.set_font_size notes the font set
    set_font: bytes  # the Tf operator that sets it
    to_em: float  # Pango units to thousandths of an em
    to_units: float  # and back

    @classmethod
    def of(
        cls, font: weasyprint.pdf.fonts.Font, pango_font: object, size: float, held: object, drawable: bool
    ) -> _PageFont:
        """The page's font `font` (its Pango font held by `held`) at `size`."""
        return cls(
            font,
            pango_font,
            size,
            _MEASURED.setdefault((font.hash, size), {}),
            held,
            drawable,
            font.widths,
            font.to_unicode,
            (font.hash, size),
            b"/" + pydyf._to_bytes(font.hash) + b" " + pydyf._to_bytes(size) + b" Tf",  # pydyf's set_font_size
            1000 * FROM_UNITS / size,  # as _show_glyphs
            size * TO_UNITS / 1000,
        )


def _page_fonts(stream: object) -> dict[int, _PageFont]:
    """The fonts of the page that `stream` draws, by their Pango font's address (stream.book_fonts)."""
    if (fonts := stream.__dict__.get("book_fonts")) is None:
        fonts = stream.book_fonts = {}  # type: ignore[attr-defined]
    return fonts  # type: ignore[no-any-return]


def _page_font(stream: object, layout: _LineLayout, fonts: dict[int, _PageFont], address: int) -> _PageFont:
    """The font at `address`, of a run of `layout`, added to the page's `fonts`.

    stream.add_font describes and hashes the Pango font on every call: a page's fonts are known
    by their address."""
    pango_font, held = layout.shaped.fonts[address]
    font, font_size = stream.add_font(pango_font)  # type: ignore[attr-defined]
    drawable = not (font.svg or font.png or font.colr or font.bitmap)
    fonts[address] = known = _PageFont.of(font, pango_font, font_size, held, drawable)
    return known


def _runs_to_draw(stream: object, layout: _LineLayout, fonts: dict[int, _PageFont]) -> list[_Run] | None:
    """The line's runs: (font, Pango font, font size, the widths measured in the face at that
    size, item offset and length, PangoGlyphInfos and clusters as Pango stores them), or None if
    WeasyPrint must draw the line (colour or bitmap fonts, glyphs that no font has). `fonts`: the
    page's."""
    runs = []
    for address, offset, length, glyphs, clusters in layout.runs:
        if (known := fonts.get(address)) is None:
            known = _page_font(stream, layout, fonts, address)
        if not known.drawable:
            return None
        # A glyph no font has is PANGO_GLYPH_UNKNOWN_FLAG (0x10000000) with the character
        # (pango-glyph.h): the only glyph values from the flag up, the only ones whose high byte is
        # 0x10 or more. The glyph is the first 32 bits of each 20-byte PangoGlyphInfo.
        if glyphs and max(glyphs[_GLYPH_HIGH_BYTE::20]) >= _UNKNOWN_GLYPH >> 24:
            return None
        runs.append((known.font, known.pango_font, known.font_size, known.measured, offset, length, glyphs, clusters))
    return runs


def _show_glyphs(
    stream: object, layout: _LineLayout, runs: list[_Run], spacing: float, measure: Callable[..., int] | None = None
) -> None:
    """Show the glyphs of a line where Pango placed them, the justification as character spacing.

    Pango letter-spacing (pango-layout.c, shape_run and adjust_line_letter_spacing; glyphitem.c,
    pango_glyph_item_letter_space) gives every cluster of a spaced run `left` before it (added to
    its first glyph's width and x offset) and `right` after it (added to its last glyph's width),
    except before the line's first cluster and after its last. The spaced runs are the CJK runs
    of _set_text_with_cjk_spacing. So every glyph of a justified CJK line is `left + right` after
    the one before it: that is the PDF's character spacing (Tc, PDF 32000-1 §9.3.2), set once for
    the line, and a glyph is shown without an adjustment where the font's width and the spacing
    place it. Elsewhere an adjustment moves it to Pango's position, in whole thousandths of an
    em, the remainder carried to the next glyph, so that no error adds up along the line.
    (WeasyPrint's draw_first_line writes two adjustments a glyph, the second cut to a whole
    thousandth: in 红楼梦's first ten chapters its characters stood up to 0.26 pt left of these,
    and its justified lines ended short of the measure by amounts that varied from line to line.)"""
    units = int(spacing * TO_UNITS) if spacing else 0
    left = units // 2
    if units and units & (TO_UNITS - 1) == 0:
        left = (left + 512) & ~1023  # PANGO_UNITS_ROUND, Pango's hinting of whole-point spacing
    right = units - left
    character_spacing = b""
    if units or layout.spaced_by:
        character_spacing = pydyf._to_bytes((units or layout.spaced_by) * FROM_UNITS)
        stream.stream.append(character_spacing + b" Tc")  # type: ignore[attr-defined]
    tc = float(character_spacing or 0) * TO_UNITS  # as written: the positions follow it exactly
    encoded, spaced = layout.shaped.encoded, layout.shaped.spaced
    previous_font = None
    # The text operand being built, [<glyphs>adjustment<glyphs>…] without its closing ">"; empty
    # while it shows no glyph.
    parts: list[str] = []
    # In Pango units from the line's start: Pango's pen, and where the PDF shows the next glyph.
    pen = at = 0.0
    last_run = len(runs) - 1
    for number, run in enumerate(runs):
        font, pango_font, font_size, measured, item_offset, item_length, glyph_infos, glyph_clusters = run
        if pango_font != previous_font:
            previous_font = pango_font
            if parts:
                stream.show_text("".join(parts) + ">")  # type: ignore[attr-defined]
            parts = []
            stream.set_font_size(font.hash, font_size)  # type: ignore[attr-defined]
        to_em = 1000 * FROM_UNITS / font_size  # Pango units to thousandths of an em
        to_units = font_size * TO_UNITS / 1000
        widths, to_unicode = font.widths, font.to_unicode  # type: ignore[attr-defined]
        last = len(glyph_clusters) // 4 - 1 if number == last_run else -1  # the line's last glyph
        measure_run = functools.partial(measure or _measure_glyph, stream, pango_font, font_size, measured, widths)
        if _show_run is not None:
            shown = _show_run(
                glyph_infos, glyph_clusters, spaced, encoded, item_offset, item_length, units, left, right,
                not number, last, to_em, to_units, tc, widths, measured, measure_run, to_unicode, pen, at, bool(parts),
            )  # fmt: skip
            if shown is not None:
                text, pen, at = shown
                if text:  # not a run of empty glyphs only
                    parts.append(text)
                continue
        infos = memoryview(glyph_infos).cast("i").tolist()
        clusters = memoryview(glyph_clusters).cast("i").tolist()
        count = len(clusters)
        advances: dict[int, float] = {}  # each glyph's advance in the PDF, in Pango units
        glyphs = zip(
            range(count),
            infos[0::5],
            infos[1::5],
            infos[2::5],
            infos[3::5],
            clusters,
            [-1, *clusters[:-1]],
            [*clusters[1:], item_length],
            strict=True,
        )
        for i, glyph_id, width, x_offset, y_offset, cluster, cluster_before, cluster_end in glyphs:
            if units and spaced[item_offset + cluster]:
                if cluster_before != cluster and (number or i):  # the line's first: no left
                    width += left
                    x_offset += left
                if cluster_end != cluster and i != last:  # the line's last: no right
                    width += right
            if glyph_id == _EMPTY_GLYPH:
                pen += width
                continue
            if glyph_id not in to_unicode:  # as WeasyPrint: a cluster's text goes to its last glyph
                to_unicode[glyph_id] = encoded[item_offset + cluster : item_offset + cluster_end].decode()
            if (adjustment := round((at - pen - x_offset) * to_em)) != 0:
                at -= adjustment * to_units
            if y_offset:  # raised or lowered: shown on its own
                if parts:
                    stream.show_text("".join(parts) + ">")  # type: ignore[attr-defined]
                stream.set_text_rise(-y_offset * FROM_UNITS)  # type: ignore[attr-defined]
                stream.show_text(f"{adjustment}<{glyph_id:04x}>" if adjustment else f"<{glyph_id:04x}>")  # type: ignore[attr-defined]
                stream.set_text_rise(0)  # type: ignore[attr-defined]
                parts = []
            elif not adjustment:
                parts.append(f"{glyph_id:04x}" if parts else f"<{glyph_id:04x}")
            else:
                parts.append(f">{adjustment}<{glyph_id:04x}" if parts else f"{adjustment}<{glyph_id:04x}")
            if (advance := advances.get(glyph_id)) is None:
                logical_width = widths.get(glyph_id)
                if logical_width is None:
                    logical_width = measure_run(glyph_id)
                advance = advances[glyph_id] = logical_width * to_units + tc
            at += advance
            pen += width
    if parts:
        stream.show_text("".join(parts) + ">")  # type: ignore[attr-defined]
    if character_spacing:
        stream.stream.append(b"0 Tc")  # type: ignore[attr-defined]  # the text state outlives the text object


def _measure_glyph(
    stream: object, pango_font: object, font_size: float, measured: dict[int, int], widths: dict[int, int], glyph: int
) -> int:
    """A glyph's width in thousandths of an em, as WeasyPrint measures it for the W array, noted in
    the font's widths (those of the glyphs this piece uses)."""
    if (width := measured.get(glyph)) is None:
        pango.pango_font_get_glyph_extents(pango_font, glyph, stream.ink_rect, stream.logical_rect)  # type: ignore[attr-defined]
        width = measured[glyph] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)  # type: ignore[attr-defined]
    widths[glyph] = width
    return width


# The widths measured in this process, by face (WeasyPrint's font hash, from its description) and
# size: each piece is a document of its own, with fonts of its own, and a chapter measured again
# the 1,500 glyphs or so that the chapters before it had measured.
_MEASURED: dict[tuple[str, float], dict[int, int]] = {}


# The loop over a run's glyphs compiled (book/_speedups.c, built by `pip install`): the same
# arithmetic and text as the loop above, which shows the runs it hands back, and every run where
# it was not built.
_show_run = compiled("show_run")

# A line of a paragraph drawn in C where it was compiled: its colour to the end of its text object
# in one call, the same bytes as _python_draw_line.
_compiled_draw_line = compiled("draw_line")


# A byte of UTF-8 begins a character unless it is a continuation byte (0x80–0xBF).
_CHARACTER_STARTS = bytes(0 if 0x80 <= b < 0xC0 else 1 for b in range(256))


def _cjk_character_starts(text: str) -> bytes:
    """For each UTF-8 byte of `text`, 1 where a character that justification spaces begins."""
    flags = bytearray(len(text.encode()))
    byte = position = 0
    for run in _CJK_RUN.finditer(text):
        byte += len(text[position : run.start()].encode())
        encoded = run[0].encode()
        flags[byte : byte + len(encoded)] = encoded.translate(_CHARACTER_STARTS)
        byte, position = byte + len(encoded), run.end()
    return bytes(flags)


_original_justify_line = inline.justify_line


def _justify_line(context: object, line: boxes.LineBox, extra_width: float) -> None:
    """justify_line, after removing the ¼-em Han/Latin gaps that fall at the line's ends.

    clreq "Mixed Text Composition": the gap is between Han and Latin text, never at a line's
    start or end, where it would leave the line short of the edge.
    """
    if _OPTIONS.get(_ALL_PARTS).cjk_justification:
        extra_width += _trim_edge_margins(line)
    _original_justify_line(context, line, extra_width)


def _trim_edge_margins(line: boxes.LineBox) -> float:
    children = [child for child in line.children if child.is_in_normal_flow()]
    gained = 0.0
    if children and isinstance(children[-1], boxes.InlineBox) and children[-1].margin_right:
        gained += children[-1].margin_right
        children[-1].margin_right = 0
    if children and isinstance(children[0], boxes.InlineBox) and children[0].margin_left:
        margin, first = children[0].margin_left, children[0]
        first.margin_left = 0
        for child in children:
            child.translate(-margin, 0)
        first.position_x += margin  # its margin box still starts at the line's start
        gained += margin
    return gained


@dataclass(frozen=True)
class RenderOptions:
    """The parts of the typesetting extension a render uses; all by default. Turned off, the first
    two give the same pages more slowly (tests compare them), the third leaves Chinese lines ragged."""

    paragraph_layout: bool = True  # a paragraph's lines taken from one layout of it
    glyph_drawing: bool = True  # lines drawn from the glyphs already shaped
    cjk_justification: bool = True  # justification between CJK characters


_OPTIONS: ContextVar[RenderOptions] = ContextVar("book_render_options")
_ALL_PARTS = RenderOptions()


def _options() -> RenderOptions:
    """The options of the render under way."""
    return _OPTIONS.get(_ALL_PARTS)


@contextlib.contextmanager
def render_options(**parts: bool) -> Iterator[RenderOptions]:
    """Renders in this context (and in processes forked in it) use these parts of the extension:
    `with render_options(paragraph_layout=False): build(...)`."""
    options = dataclasses.replace(_options(), **parts)
    token = _OPTIONS.set(options)
    try:
        yield options
    finally:
        _OPTIONS.reset(token)


@dataclass(frozen=True)
class Patch:
    """One change to a library we do not own: `owner.name` (or `owner[name]`, a dict's entry)
    becomes `replacement` when `install()` runs."""

    owner: object  # a module, a class or a dict
    name: str
    replacement: object
    why: str
    upstream: str  # the upstream code it replaces, and the version it was written against


# Every change this extension makes to WeasyPrint, pydyf and tinyhtml5, in one table. Nothing is
# changed on import: write_pdf() and PieceWriter call install(). tests/test_typesetting.py checks
# each upstream function's source against what its replacement assumes.
PATCHES: tuple[Patch, ...] = (
    Patch(pydyf, "zlib", _Zlib(), "streams compressed at level 6, not 9: a quarter of the time", "pydyf 0.11 zlib"),
    Patch(
        tinyhtml5.inputstream,
        "characters_until_regex",
        _UntilPatterns(),
        "a pattern cache filled under the right key (tinyhtml5 keys each pattern by itself)",
        "tinyhtml5 2.1 inputstream.characters_until_regex",
    ),
    Patch(
        weasyprint.pdf.fonts,
        "get_hb_object_data",
        _face_file,
        "a face's file found without reading it whole through HarfBuzz",
        "WeasyPrint 70 pdf/fonts.py get_hb_object_data",
    ),
    Patch(
        weasyprint.layout,
        "make_margin_boxes",
        _make_margin_boxes,
        "a piece's running heads and folios held back until its first folio is known",
        "WeasyPrint 70 layout/page.py make_margin_boxes",
    ),
    Patch(
        weasyprint.layout.page,
        "resolve_percentages",
        _resolve_percentages,
        "empty margin boxes are not sized",
        "WeasyPrint 70 layout/percent.py resolve_percentages",
    ),
    Patch(
        weasyprint.pdf,
        "build_fonts_dictionary",
        _build_fonts_dictionary,
        "a piece records its glyphs; the assembler embeds one subset of each face",
        "WeasyPrint 70 pdf/fonts.py build_fonts_dictionary",
    ),
    Patch(
        weasyprint.layout.background,
        "layout_box_backgrounds",
        _layout_box_backgrounds,
        "boxes with nothing behind them skip the background layout",
        "WeasyPrint 70 layout/background.py layout_box_backgrounds",
    ),
    Patch(
        weasyprint.layout.page,
        "set_page_type_computed_styles",
        _set_page_type_computed_styles,
        "pages that the same @page selectors match share their computed styles",
        "WeasyPrint 70 layout/page.py set_page_type_computed_styles",
    ),
    *(
        Patch(
            weasyprint.pdf.VARIANTS,  # an entry of the dict, which document.py imported by name
            _PAGES_ONLY + name,
            (lambda *_: None, weasyprint.pdf.VARIANTS[name][1]),
            "a PDF/X variant for a chapter's piece: the variant's properties without its metadata",
            "WeasyPrint 70 pdf/__init__.py VARIANTS",
        )
        for name in VARIANTS.values()
    ),
    Patch(
        inline,
        "count_expandable_spaces",
        _count_expansion_opportunities,
        "every CJK character an expansion opportunity (text-justify: inter-character)",
        "WeasyPrint 70 layout/inline.py count_expandable_spaces",
    ),
    Patch(
        inline,
        "split_first_line",
        _split_first_line,
        "a line break before a dash's run is not taken (clreq: —— never begins a line)",
        "WeasyPrint 70 text/line_break.py split_first_line",
    ),
    Patch(
        inline,
        "split_text_box",
        _split_text_box,
        "a paragraph's lines taken from one Pango layout of it",
        "WeasyPrint 70 layout/inline.py split_text_box",
    ),
    Patch(
        inline,
        "get_next_linebox",
        _get_next_linebox,
        "a line of a paragraph laid out at once made directly",
        "WeasyPrint 70 layout/inline.py get_next_linebox",
    ),
    Patch(
        weasyprint.draw,
        "draw_text",
        _draw_text,
        "a line drawn from the glyphs of its layout, with the justification as character spacing",
        "WeasyPrint 70 draw/text.py draw_text",
    ),
    Patch(
        inline,
        "justify_line",
        _justify_line,
        "the CJK-Latin gap dropped at a line's edges before it is justified",
        "WeasyPrint 70 layout/inline.py justify_line",
    ),
    Patch(
        inline,
        "add_word_spacing",
        _add_word_spacing,
        "justification spread between CJK characters as letter-spacing",
        "WeasyPrint 70 layout/inline.py add_word_spacing",
    ),
    Patch(
        line_break,
        "first_line_metrics",
        _first_line_metrics,
        "a line's metrics from the paragraph's layout",
        "WeasyPrint 70 text/line_break.py first_line_metrics",
    ),
    Patch(
        Layout,
        "set_text",
        _set_text_with_cjk_spacing,
        "paired marks set half-width (halt) and a dash kept with the character before it",
        "WeasyPrint 70 text/line_break.py Layout.set_text",
    ),
)
_installed: list[bool] = []


def install() -> None:
    """Apply PATCHES, once per process. Each render calls it first; importing this module changes
    nothing in the libraries."""
    if _installed:
        return
    for patch in PATCHES:
        if isinstance(patch.owner, dict):
            patch.owner[patch.name] = patch.replacement
        else:
            setattr(patch.owner, patch.name, patch.replacement)
    _installed.append(True)
