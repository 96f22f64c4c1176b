"""assemble: one PDF from the pieces of a book printed in pieces (pdf.writer.PieceWriter).

The chapters' pages go in as each piece comes (Assembly.add), in order, with their bookmarks and
named destinations; the front matter's, made last, go first, and its catalogue (the output intent,
the metadata, the page labels) becomes the book's.
The pieces embed no font program of the book's faces: each face gets one subset here, with the
union of the glyphs, widths and Unicode mappings the pieces recorded, so that the book carries each
face once, as a single-pass render would (a subset per chapter would repeat the common characters
in every chapter).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import math
import signal
import sys
import types
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .errors import OutputError, writing
from .model import GlyphsUsed, PieceGlyphs


def _loaded_when_used(name: str) -> types.ModuleType:
    """Module `name`, imported at its first use (importlib.util.LazyLoader). pikepdf takes 80 ms to
    import: a rebuild does that while the process forked at the start lays out its chapter, not
    before it hands the chapter over."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, name
    spec.loader = importlib.util.LazyLoader(_Uninterrupted(spec.loader))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Uninterrupted(importlib.abc.Loader):
    """A loader that holds Ctrl-C and SIGTERM back while the module runs, and lets them through
    after. An interrupt inside pikepdf's extension came out as an ImportError (pybind11 turns what
    its initialization raises into one): the build ended with exit 1 and a traceback, not 130."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            self.loader.exec_module(module)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)


if TYPE_CHECKING:
    import pikepdf
else:
    pikepdf = _loaded_when_used("pikepdf")


class FontProgram(NamedTuple):
    """A face's subset as the book embeds it: compressed with Flate (PDF 32000-1, 7.4.4) at zlib's
    default level, as qpdf would compress it on writing, and its length before compression (a
    TrueType program's /Length1). pieces.py keeps it compressed: a rebuild does not compress
    红楼梦's 3 MB of subsets again (87 ms)."""

    flate: bytes
    length: int


Subsetter = Callable[[Path, list[int]], FontProgram]

# The tables WeasyPrint drops from a subset it embeds (weasyprint/pdf/fonts.py: _harfbuzz_subset).
_DROPPED_TABLES = ("BASE", "DSIG", "EBDT", "EBLC", "EBSC", "GPOS", "GSUB", "JSTF", "LTSH", "PCLT", "SVG ")


@dataclass(frozen=True)
class Piece:
    """A drawn piece: its PDF, and the glyphs it used of each font left to the assembler
    (model.PieceGlyphs by font name)."""

    path: Path
    fonts: dict[str, PieceGlyphs]


def assemble(path: Path, front: Piece, chapters: list[Piece], subset: Subsetter | None = None) -> int:
    """Write the book to `path`: the front matter's pages, then each chapter's. Returns the page count.

    `subset(face, glyphs)` makes each face's subset (default: compressed_subset; pieces.py keeps them)."""
    with Assembly() as book:
        for index, piece in enumerate(chapters):
            book.add(index, piece)
        return book.finish(path, front, subset)


# The objects of the last book assembled, when the process ends without freeing its objects
# (leave_to_exit): QPDF took 0.1 s to free 红楼梦's, its 1,466 pages and the pieces they came from.
_left_to_exit: list[object] | None = None


def leave_to_exit() -> None:
    """Keep the last book's objects until the process ends, for a process that ends with os._exit
    (publish.py): they are then never freed one by one."""
    global _left_to_exit
    _left_to_exit = []


_PAGE_TREE = ("/Type", "/Pages", "/Outlines", "/Names")  # catalogue entries the assembly makes itself


@dataclass(frozen=True)
class _Bookmark:
    """A piece's bookmark: its title, the page it points at (counted from the piece's first) and
    where on it, whether it is closed, and its children."""

    title: str
    page: int | None
    place: tuple[float | None, float | None, float | None]  # left, top, zoom (XYZ)
    closed: bool
    children: tuple[_Bookmark, ...]

    def item(self, first: int) -> pikepdf.OutlineItem:
        """The bookmark in the book, whose pages from `first` are the piece's."""
        if self.page is None:
            new = pikepdf.OutlineItem(self.title)
        else:
            left, top, zoom = self.place
            new = pikepdf.OutlineItem(self.title, first + self.page, "XYZ", left=left, top=top, zoom=zoom)
        new.is_closed = self.closed
        new.children.extend(child.item(first) for child in self.children)
        return new


@dataclass(frozen=True)
class _FontData:
    """A book face's entries in the book: for the glyphs its pages use, their widths (as a W array,
    and the widest), their text (a ToUnicode CMap), and the subset made for them."""

    glyphs: list[int]
    measured: list[int]  # the glyphs that have a width
    widest: float
    width_array: pikepdf.Array
    to_unicode: bytes
    program: FontProgram


class Assembly:
    """A book put together from its pieces as they come (pieces.py hands each over as it is drawn
    or found in the cache, while the other chapters are still being laid out): a chapter's pages
    go in its place among those already in. The front matter comes last, since its contents need
    every folio: `prepare` makes what the chapters give the whole book (its fonts' subsets, its
    bookmarks and named destinations) while the front matter is drawn, and `finish` puts the front
    matter's pages first, takes its catalogue (output intent, metadata, page labels, language) and
    document information, adds the bookmarks, the named destinations and the fonts, and writes
    the file."""

    def __init__(self) -> None:
        self._sources = contextlib.ExitStack()
        self._pdf: pikepdf.Pdf | None = None
        self._chapters: dict[int, tuple[Piece, pikepdf.Pdf]] = {}
        # Each chapter's pages, copied into the book; the page tree is made once, by `finish`
        self._pages: dict[int, list[pikepdf.Object]] = {}
        # The chapters' bookmarks (each with its chapter's first page, counted from the first
        # chapter's), named destinations, and use of each font
        self._prepared: tuple[list[tuple[int, _Bookmark]], dict[str, pikepdf.Array], dict[str, GlyphsUsed]] | None = (
            None
        )
        self._fonts: dict[str, _FontData] = {}

    def __enter__(self) -> Assembly:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._sources.close()
        if _left_to_exit is not None:  # the last book's objects, replacing the one before
            _left_to_exit[:] = [self._pdf, self._chapters]

    def add(self, index: int, piece: Piece) -> None:
        """Copy in the pages of chapter `index` (counted from 0), to go after those of the chapters before it."""
        if self._pdf is None:
            self._pdf = self._sources.enter_context(pikepdf.new())
        source = self._sources.enter_context(pikepdf.open(piece.path))
        self._chapters[index] = (piece, source)
        self._pages[index] = _copied_pages(self._pdf, source)
        self._prepared = None

    def prepare(self, subset: Subsetter | None = None, *, fonts: bool = True) -> None:
        """Make what the chapters added so far give the book: the bookmarks, the named destinations,
        and (`fonts`) each face's entries for the glyphs they use, its subset among them. `finish`
        makes a face's again only if the front matter uses a glyph of it that no chapter does."""
        assert sorted(self._chapters) == list(range(len(self._chapters))), "a chapter is missing"
        bookmarks: list[tuple[int, _Bookmark]] = []
        destinations: dict[str, pikepdf.Array] = {}
        first = 0
        for index in sorted(self._chapters):
            chapter, pages = self._chapters[index][1], self._pages[index]
            bookmarks += [(first, bookmark) for bookmark in _bookmarks(chapter)]
            destinations.update(_named_destinations(chapter, pages))
            first += len(pages)
        usage = _font_usage(self._chapters[index][0] for index in sorted(self._chapters))
        self._prepared = bookmarks, destinations, usage
        subset = subset or compressed_subset
        self._fonts = {name: _font_data(font, subset) for name, font in usage.items()} if fonts else {}

    def finish(self, path: Path, front: Piece, subset: Subsetter | None = None) -> int:
        """Write the book to `path`, `front`'s pages first; returns the page count."""
        if self._prepared is None:  # the front matter came from the cache: no time to make the fonts' twice
            self.prepare(fonts=False)
        bookmarks, chapter_destinations, usage = self._prepared  # type: ignore[misc]
        subset = subset or compressed_subset
        source = self._sources.enter_context(pikepdf.open(front.path))
        if self._pdf is None:  # the front matter alone (a book printed in one piece): it is the book
            pdf = source
            pages: list[pikepdf.Object] = [page.obj for page in source.pages]
            front_pages = pages
        else:
            pdf = self._pdf
            front_pages = _copied_pages(pdf, source)
            pages = [*front_pages, *(page for index in sorted(self._pages) for page in self._pages[index])]
            _make_page_tree(pdf, pages)
            # Through an indirect holder: copy_foreign copies indirect objects only, and the
            # catalogue's entries may be direct (its language, its output intents).
            kept = {key: value for key, value in source.Root.items() if key not in _PAGE_TREE}
            holder = source.make_indirect(pikepdf.Dictionary({**kept, "/Info": source.trailer.Info}))
            for key, value in pdf.copy_foreign(holder).items():
                if key == "/Info":
                    pdf.trailer.Info = value
                else:
                    pdf.Root[key] = value
        destinations = _named_destinations(source, front_pages)
        destinations.update(chapter_destinations)
        with pdf.open_outline() as outline:
            if pdf is not source:
                outline.root.extend(bookmark.item(0) for bookmark in _bookmarks(source))
            outline.root.extend(bookmark.item(len(source.pages) + first) for first, bookmark in bookmarks)
        if destinations:
            tree = pikepdf.NameTree.new(pdf)
            for name in sorted(destinations):
                tree[name] = destinations[name]
            pdf.Root.Names = pdf.make_indirect(pikepdf.Dictionary(Dests=tree.obj))
        fonts = {}
        front_usage = _font_usage([front])
        for name in dict.fromkeys([*usage, *front_usage]):
            font, known = front_usage.get(name, _NO_GLYPHS), usage.get(name, _NO_GLYPHS)
            widths, to_unicode = font["widths"], font["to_unicode"]
            adds = widths.keys() - known["widths"].keys() or to_unicode.keys() - known["to_unicode"].keys()
            if name in self._fonts and not adds:
                fonts[name] = self._fonts[name]
                continue
            # The chapters' value of a glyph before the front matter's, as if they came after it.
            merged: GlyphsUsed = {
                "face": (front_usage.get(name) or usage[name])["face"],
                "widths": {**widths, **known["widths"]},
                "to_unicode": {**to_unicode, **known["to_unicode"]},
            }
            fonts[name] = _font_data(merged, subset)
        _embed_fonts(pdf, pages, fonts)
        with writing(path):
            # Content streams are copied as they are (already compressed; none is decoded to see
            # whether it could be: 红楼梦's book written again in 54 ms, not 76). Objects are numbered as
            # they are met from the catalogue, whatever order the pieces came in, and the ID is
            # derived from the content: the same pieces make the same bytes. (Object streams made
            # here would follow the order the objects were copied in.)
            pdf.save(
                path,
                deterministic_id=True,
                object_stream_mode=pikepdf.ObjectStreamMode.preserve,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                min_version=source.pdf_version,
            )
        return len(pages)


def _bookmarks(source: pikepdf.Pdf) -> list[_Bookmark]:
    """The piece's bookmarks, pointing at its pages counted from its first. (The outline is read
    without being written back: pikepdf's open_outline writes it on leaving.)"""
    pages: dict[object, int] = {page.objgen: index for index, page in enumerate(source.pages)}

    def read(item: pikepdf.OutlineItem) -> _Bookmark:
        target = item.destination
        page, place = None, (None, None, None)
        if isinstance(target, pikepdf.Array) and len(target) >= 2 and target[0].objgen in pages:
            # [page /XYZ left top zoom], as WeasyPrint writes it
            page = pages[target[0].objgen]
            place = tuple(float(v) if v is not None else None for v in list(target)[2:5])  # type: ignore[assignment]
        return _Bookmark(item.title, page, place, item.is_closed, tuple(read(child) for child in item.children))

    return [read(item) for item in pikepdf.Outline(source).root]


def _copied_pages(pdf: pikepdf.Pdf, source: pikepdf.Pdf) -> list[pikepdf.Object]:
    """The pages of `source` copied into `pdf`, in no page tree yet (_make_page_tree). Each has
    what it inherits from its page tree (media box, resources): qpdf writes it into every page as
    it opens the file."""
    return [pdf.copy_foreign(page.obj) for page in source.pages]


def _make_page_tree(pdf: pikepdf.Pdf, pages: list[pikepdf.Object]) -> None:
    """Make `pages` the pages of `pdf` (new, its page tree never read), in that order: one /Pages
    node, as qpdf's would be. Adding them one by one (pages.extend, pages.insert) takes qpdf time
    in proportion to the pages already in: the pages of 红楼梦's 120 pieces went in in 202-212 ms,
    copied and put in a tree this way in 101-112."""
    tree = pdf.Root.Pages
    for page in pages:
        page.Parent = tree  # a copied page's /Parent was its piece's
    tree.Kids = pikepdf.Array(pages)
    tree.Count = len(pages)


def _named_destinations(source: pikepdf.Pdf, pages: list[pikepdf.Object]) -> dict[str, pikepdf.Array]:
    """The piece's named destinations (its ids), as destinations on its pages in the book (`pages`,
    in the order of its own)."""
    names = source.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return {}
    at: dict[object, int] = {page.objgen: index for index, page in enumerate(source.pages)}
    found = {}
    for name, target in pikepdf.NameTree(names.Dests).items():
        if isinstance(target, pikepdf.Array) and len(target) and target[0].objgen in at:
            found[name] = pikepdf.Array([pages[at[target[0].objgen]], *list(target)[1:]])
    return found


def _resources(pages: list[pikepdf.Object]) -> Iterator[pikepdf.Object]:
    """Every resource dictionary of the book: its pages' and their form XObjects', each once."""
    seen: set[tuple[int, int]] = set()
    stack = [page.get("/Resources") for page in pages]
    while stack:
        resources = stack.pop()
        if resources is None or (resources.is_indirect and resources.objgen in seen):
            continue
        if resources.is_indirect:
            seen.add(resources.objgen)
        yield resources
        for xobject in resources.get("/XObject", {}).values():
            if xobject.get("/Subtype") == "/Form":
                stack.append(xobject.get("/Resources"))


_NO_GLYPHS: GlyphsUsed = {"face": "", "widths": {}, "to_unicode": {}}


def _font_usage(pieces: Iterable[Piece]) -> dict[str, GlyphsUsed]:
    """The glyphs the pieces used of each font left to the assembler, merged (a later piece's
    width or text of a glyph wins)."""
    usage: dict[str, GlyphsUsed] = {}
    for piece in pieces:
        for name, font in piece.fonts.items():
            merged = usage.setdefault(name, {"face": font["face"], "widths": {}, "to_unicode": {}})
            merged["widths"].update(zip(*font["widths"], strict=True))
            merged["to_unicode"].update(zip(*font["to_unicode"], strict=True))
    return usage


def _font_data(usage: GlyphsUsed, subset: Subsetter) -> _FontData:
    """A face's entries in the book, for the glyphs in `usage` (_font_usage)."""
    widths = {int(gid): float(width) for gid, width in usage["widths"].items()}
    to_unicode = {int(gid): text for gid, text in usage["to_unicode"].items()}
    glyphs = sorted(set(widths) | set(to_unicode) | {0})
    return _FontData(
        glyphs,
        list(widths),
        max(widths.values(), default=0),
        _width_array(widths),
        _to_unicode_cmap(to_unicode),
        subset(Path(str(usage["face"])), glyphs),
    )


def _embed_fonts(pdf: pikepdf.Pdf, pages: list[pikepdf.Object], fonts: dict[str, _FontData]) -> None:
    """Point every piece's dictionary of a book face at one dictionary, with one subset for all pages."""
    chosen: dict[str, pikepdf.Object] = {}
    for resources in _resources(pages):
        page_fonts = resources.get("/Font")
        if page_fonts is None:
            continue
        for key in list(page_fonts.keys()):
            name = key[1:]
            if name in fonts:
                page_fonts[key] = chosen.setdefault(name, page_fonts[key])
    for name, font in chosen.items():
        _rewrite_font(pdf, font, fonts[name])


def _rewrite_font(pdf: pikepdf.Pdf, font: pikepdf.Object, data: _FontData) -> None:
    """Fill a Type 0 font's dictionaries (WeasyPrint's layout of them) with the book's glyphs."""
    cid_font = font.DescendantFonts[0]
    descriptor = cid_font.FontDescriptor
    program_key = "/FontFile3" if "/FontFile3" in descriptor else "/FontFile2"
    old = descriptor[program_key]
    program = pdf.make_stream(b"")
    if "/Subtype" in old:
        program.Subtype = old.Subtype  # /OpenType
    program.write(data.program.flate, filter=pikepdf.Name.FlateDecode)  # written as it is
    if program_key == "/FontFile2":
        program.Length1 = data.program.length
    descriptor[program_key] = program
    bbox = [float(v) for v in descriptor.FontBBox]
    descriptor.FontBBox = pikepdf.Array([bbox[0], bbox[1], data.widest, bbox[3]])
    if "/CIDSet" in descriptor:  # PDF ≤ 1.4 (PDF/X-1a): which CIDs the subset has
        bits = bytearray(math.ceil((data.glyphs[-1] + 1) / 8))
        for gid in data.measured:
            bits[gid // 8] |= 0x80 >> (gid % 8)
        descriptor.CIDSet = pdf.make_stream(bytes(bits))
    cid_font.W = data.width_array
    font.ToUnicode = pdf.make_stream(data.to_unicode)


def compressed_subset(face: Path, glyphs: list[int]) -> FontProgram:
    """subset_face's program, compressed (FontProgram)."""
    program = subset_face(face, glyphs)
    return FontProgram(zlib.compress(program), len(program))


def subset_face(face: Path, glyphs: list[int]) -> bytes:
    """The face reduced to `glyphs`, keeping their ids (the pages' text shows glyph ids)."""
    import uharfbuzz as hb

    request = hb.SubsetInput()
    request.glyph_set.update(glyphs)
    request.flags = (
        hb.SubsetFlags.RETAIN_GIDS
        | hb.SubsetFlags.PASSTHROUGH_UNRECOGNIZED
        | hb.SubsetFlags.DESUBROUTINIZE
        | hb.SubsetFlags.NO_HINTING
    )
    request.drop_table_tag_set.update(int.from_bytes(tag.encode("ascii"), "big") for tag in _DROPPED_TABLES)
    result = hb.subset(hb.Face(hb.Blob.from_file_path(face)), request)
    if result is None:
        raise OutputError("HarfBuzz could not subset the font", where=str(face), fix="check the font file")
    return bytes(result.blob.data)


def _width_array(widths: dict[int, float]) -> pikepdf.Array:
    """The CIDFont's W array: runs of consecutive glyph ids, [first [w w …] first [w …] …], for
    the glyphs whose width is not the default. The CIDFont has no DW, so its default width is 1000
    (PDF 32000-1, 9.7.4.3): most of a CJK face's glyphs (红楼梦's body face had 3,579 runs in its W array, now 30)."""
    other = {gid: width for gid, width in widths.items() if width != _DEFAULT_WIDTH}
    array: list[object] = []
    run: list[float] = []
    for gid in sorted(other):
        if gid - 1 not in other:
            run = []
            array += [gid, run]
        run.append(other[gid])
    return pikepdf.Array([pikepdf.Array(item) if isinstance(item, list) else item for item in array])


_DEFAULT_WIDTH = 1000


def _to_unicode_cmap(to_unicode: dict[int, str]) -> bytes:
    """The ToUnicode CMap, in blocks of at most 100 mappings (PDF 32000-1, 9.10.3)."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        "<< /Registry (Adobe)",
        "/Ordering (UCS)",
        "/Supplement 0",
        ">> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <ffff>",
        "endcodespacerange",
    ]
    items = sorted(to_unicode.items())
    for start in range(0, len(items), 100):
        block = items[start : start + 100]
        lines.append(f"{len(block)} beginbfchar")
        lines += [f"<{gid:04x}> <{text.encode('utf-16-be').hex()}>" for gid, text in block]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode()
