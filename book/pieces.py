"""The print PDF in pieces: chapters laid out and drawn in worker processes (`--jobs`), each piece
reused from a content-addressed cache when nothing it depends on has changed, then assembled
into one PDF (assemble.py) with the folios, running heads, contents, bookmarks and recto openings
of a single-pass render.

What a chapter's pages depend on: its HTML, the stylesheets, the files they load (the fonts),
the print profile and the code that lays it out; and, for its folios only, the folio it starts
on. So a piece is cached under two keys: its layout key (all but the first folio) holds its page
count and where its pages begin; its layout key and first folio hold the drawn PDF. After an
edit to one chapter only that chapter is laid out again; the chapters after it are laid out and
drawn again only if its page count changed (their folios move; laid-out pages are not kept
between builds). A change to the CSS, a font or the code changes every key.
"""

from __future__ import annotations

import array
import base64
import dataclasses
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .alongside import Alongside
from .assemble import Assembly, FontProgram, Piece, compressed_subset
from .colophon import with_sheets
from .model import PageStart, PieceGlyphs
from .printing import Draw, Drawn, Drop, LaidOut, LayOut, Printer, PrintJob, Workers, answered, receive

# Laid-out chapters a worker may hold while it waits to learn their first folio.
MAX_HELD = 2
# Chapters a worker is given to lay out at a time: with the next one queued behind it, a worker
# goes straight on when it has sent a layout, instead of waiting for this process to answer it.
LAYOUTS_AHEAD = 2
_CODE = ("_speedups.c", "assemble.py", "pieces.py", "render.py")


@dataclass(frozen=True)
class PrintedBook:
    """What printing in pieces made."""

    pages: int
    page_starts: tuple[PageStart, ...]
    warnings: tuple[str, ...]
    laid_out: int  # chapters laid out in this build (the others came from the cache)


class PieceCache:
    """Pieces on disk under their keys: `<key>.layout.json`, `<key>-<folio>.pdf` and `.json`.

    An entry counts only once its .json is written, last; files this build did not use are
    removed at the end (`prune`), so the cache holds one book's pieces. `folder` None: a
    temporary folder, used for this build only (--no-cache)."""

    def __init__(self, folder: Path | None) -> None:
        self.temporary = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="book-pieces-")) if folder is None else folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.used: set[str] = set()
        self._digests: dict[str, Any] | None = None

    def layout(self, key: str) -> dict[str, object] | None:
        return self._read(f"{key}.layout.json")

    def piece(self, key: str, folio: int) -> tuple[Piece, tuple[str, ...]] | None:
        entry = self._read(f"{key}-{folio}.json")
        if entry is None or not (self.folder / f"{key}-{folio}.pdf").is_file():
            return None
        self.used.add(f"{key}-{folio}.pdf")
        try:
            fonts = _unpacked(entry["fonts"])
        except (KeyError, TypeError, ValueError):  # not this version's: drawn again
            return None
        return Piece(self.folder / f"{key}-{folio}.pdf", fonts), tuple(entry["warnings"])

    def part(self, key: str, folio: int) -> Path:
        """Where a worker writes a piece before it is stored."""
        return self.folder / f"{key}-{folio}.pdf.part"

    def store_layout(self, key: str, pages: int, starts: tuple[PageStart, ...]) -> None:
        self._write(f"{key}.layout.json", {"pages": pages, "page_starts": [dataclasses.astuple(s) for s in starts]})

    def store_piece(self, key: str, folio: int, fonts: dict[str, PieceGlyphs], warnings: tuple[str, ...]) -> Piece:
        pdf = self.folder / f"{key}-{folio}.pdf"
        os.replace(self.part(key, folio), pdf)
        self.used.add(pdf.name)
        self._write(f"{key}-{folio}.json", {"fonts": _packed(fonts), "warnings": list(warnings)})
        return Piece(pdf, fonts)

    def subset(self, base: str, face: Path, glyphs: list[int]) -> FontProgram:
        """The subset of `face` to `glyphs` (assemble.compressed_subset), kept compressed: a rebuild
        after an edit mostly uses the same glyphs, and HarfBuzz takes about 70 ms a CJK face to
        subset. The file holds the program's length (8 bytes, big-endian), then the program."""
        key = hashlib.sha256(f"{base}\0{face}\0{glyphs}".encode()).hexdigest()
        kept = self.folder / f"subset-{key}.flate"
        try:
            data = kept.read_bytes()
            program = FontProgram(data[8:], int.from_bytes(data[:8], "big"))
        except OSError:
            program = compressed_subset(face, glyphs)
            part = kept.with_name(kept.name + ".part")
            part.write_bytes(program.length.to_bytes(8, "big") + program.flate)
            os.replace(part, kept)
        self.used.add(kept.name)
        return program

    def digest(self, path: Path) -> bytes:
        """file_digest of `path`, kept (in digests.json) with the file's size and modification time
        in nanoseconds: the book's fonts (41 MB) are read and hashed again only when they change,
        not on every build (0.1 s). As git does with its index, a file changed in the last two
        seconds is not kept: a second change within the clock's tick would keep its time."""
        if self._digests is None:
            self._digests = self._read("digests.json") or {}
        stat = path.stat()
        known = self._digests.get(str(path))
        if known is not None and known[:2] == [stat.st_size, stat.st_mtime_ns]:
            return bytes.fromhex(known[2])
        value = file_digest(path)
        if time.time_ns() - stat.st_mtime_ns > 2_000_000_000:
            self._digests[str(path)] = [stat.st_size, stat.st_mtime_ns, value.hex()]
            self._write("digests.json", self._digests)
        return value

    def prune(self) -> None:
        """Remove what this build did not use (all of a temporary cache)."""
        if self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        for path in self.folder.iterdir():
            if path.name not in self.used:
                path.unlink(missing_ok=True)

    def _read(self, name: str) -> dict[str, Any] | None:
        try:
            entry = json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self.used.add(name)
        return entry

    def _write(self, name: str, entry: dict[str, object]) -> None:
        part = self.folder / f"{name}.part"
        part.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(part, self.folder / name)
        self.used.add(name)


def _packed(fonts: dict[str, PieceGlyphs]) -> dict[str, list[str]]:
    """A piece's glyphs of each font (assemble.Piece) as they are stored beside it: the glyph ids
    and widths as machine arrays in base64, the texts joined by NUL (no text has one, text.py).
    A rebuild reads 120 pieces': JSON took 83 ms to read them as lists of numbers and strings."""
    packed = {}
    for name, font in fonts.items():
        (glyphs, widths), (mapped, texts) = font["widths"], font["to_unicode"]
        packed[name] = [
            str(font["face"]),
            base64.b64encode(array.array("I", glyphs)).decode(),
            base64.b64encode(array.array("d", widths)).decode(),
            base64.b64encode(array.array("I", mapped)).decode(),
            "\0".join(texts),
        ]
    return packed


def _unpacked(packed: dict[str, list[str]]) -> dict[str, PieceGlyphs]:
    """The glyphs of each font as _packed stored them."""
    fonts: dict[str, PieceGlyphs] = {}
    for name, (face, glyphs, widths, mapped, texts) in packed.items():
        numbers: list[list[Any]] = [
            array.array(code, base64.b64decode(digits)).tolist()
            for code, digits in zip("IdI", (glyphs, widths, mapped), strict=True)
        ]
        text = texts.split("\0") if numbers[2] else []
        if len(numbers[0]) != len(numbers[1]) or len(numbers[2]) != len(text):
            raise ValueError(f"the glyphs of {name} do not match their widths or texts")
        fonts[name] = {"face": face, "widths": (numbers[0], numbers[1]), "to_unicode": (numbers[2], text)}
    return fonts


def file_digest(path: Path) -> bytes:
    """The SHA-256 of a file's content."""
    return hashlib.sha256(path.read_bytes()).digest()


def fingerprint(job: PrintJob, digest: Callable[[Path], bytes] = file_digest) -> str:
    """Everything a piece depends on but its HTML and first folio: the CSS and the files it loads,
    the profile, the book's identifier, our layout code, and the versions of the libraries.
    `digest(path)` gives a file's content digest (PieceCache.digest keeps them)."""
    summary = hashlib.sha256()
    for package in ("weasyprint", "pydyf", "pikepdf", "uharfbuzz"):
        summary.update(f"{package} {importlib.metadata.version(package)}\n".encode())
    here = Path(__file__).parent
    for path in [*(here / name for name in _CODE), *sorted((here / "pdf").glob("*.py"))]:
        summary.update(path.read_bytes())
    summary.update(json.dumps([job.stylesheets, job.base_url, job.document_id, repr(job.profile)]).encode())
    files = [*_loaded_files(job), *job.faces]
    if job.profile.output_profile is not None:
        files.append(job.profile.output_profile)
    for path in sorted(set(files)):
        summary.update(str(path).encode() + b"\0" + digest(path))
    return summary.hexdigest()


def _loaded_files(job: PrintJob) -> Iterator[Path]:
    """The files the stylesheets load (fonts, images) that exist inside the book's folders."""
    for css in job.stylesheets:
        for url in re.findall(r"""url\(\s*["']?([^"')]+)""", css):
            parsed = urlparse(url if ":" in url else job.base_url + url)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path))
                if path.is_file() and any(path.resolve().is_relative_to(root.resolve()) for root in job.allowed):
                    yield path


def print_in_pieces(
    path: Path,
    chapters: tuple[str, ...],
    front: Callable[[list[int], int], str],
    job: PrintJob,
    *,
    jobs: int,
    cache: PieceCache,
    progress: Callable[[str], None] = lambda _: None,
    printer: Alongside[object] | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> PrintedBook:
    """Lay out and draw every chapter's piece (`chapters`, HTML), then the front matter's (`front`
    makes its HTML from the chapters' first folios), and assemble them into `path`.

    `printer`, the process forked as the command started, is one of the `jobs` workers: the only
    one when there is one chapter to lay out (a rebuild after an edit to it). `meanwhile()` is
    work of the caller's, done here the first time this process waits for a worker."""
    # A temporary cache (--no-cache) reuses nothing from another build: its keys need not say
    # what else a piece depends on, and the fonts are not read to hash them.
    base = "" if cache.temporary else fingerprint(job, cache.digest)
    keys = [hashlib.sha256((base + html).encode()).hexdigest() for html in chapters]
    try:
        schedule = _Schedule(keys, chapters, cache, front, base)
        workers = min(jobs, len(schedule.to_lay_out()) or 1)
        with Assembly() as book, Workers(job, workers, printer) as pool:
            # Each chapter's pages go into the book as soon as its piece is drawn or found in the
            # cache, while the workers lay out the others; what the book's fonts and bookmarks need
            # of them is made while the front matter is drawn: little is left once it comes.
            subset = functools.partial(cache.subset, base)
            schedule.run(pool, progress, book.add, meanwhile, lambda: book.prepare(subset))
            progress("assembling the PDF")
            pages = book.finish(path, schedule.front_piece, subset)
    except BaseException:
        if cache.temporary:  # a kept cache keeps its entries: the next build may still use them
            cache.prune()
        raise
    cache.prune()
    folios, front_pages = schedule.first_folios(), schedule.front_pages
    starts = []
    for folio, local_starts in zip(folios, schedule.page_starts[: schedule.chapters], strict=True):
        for start in local_starts:
            page = front_pages + folio - 1 + start.page
            starts.append(dataclasses.replace(start, page=page, label=str(folio + start.page - 1)))
    warnings = tuple(dict.fromkeys([*schedule.front_warnings, *schedule.warnings]))
    return PrintedBook(pages, tuple(starts), warnings, schedule.laid_out)


class _Schedule:
    """Which pieces to lay out and draw, in which order; pieces found in the cache are not redone.

    A chapter can be drawn once its first folio is known, which needs the page counts of all the
    chapters before it: from the cache, or from their layout. Chapters are laid out in order.
    The front matter (`front` makes its HTML from the chapters' first folios) comes last, as
    soon as every chapter is laid out, while the last chapters are still being drawn."""

    def __init__(
        self,
        keys: list[str],
        html: tuple[str, ...],
        cache: PieceCache,
        front: Callable[[list[int], int], str],
        base: str,
    ) -> None:
        self.keys, self.html, self.cache = list(keys), list(html), cache
        self.chapters = len(keys)  # the front matter, once it is known, is the piece after them
        self._front, self._base = front, base
        self.counts: list[int | None] = []
        self.page_starts: list[tuple[PageStart, ...]] = []
        self.pieces: list[Piece | None] = [None] * len(keys)
        for key in keys:
            self._known_layout(key)
        self.warnings: list[str] = []
        self.front_warnings: list[str] = []
        self.held: dict[int, Printer] = {}  # laid out, waiting for the first folio
        self.laying_out: dict[int, Printer] = {}
        self.drawing: dict[int, Printer] = {}
        self.laid_out = 0  # chapters laid out in this build
        self._add_front()
        self._look_up()

    @property
    def front_piece(self) -> Piece:
        assert len(self.pieces) > self.chapters and self.pieces[-1] is not None, "the front matter is not drawn"
        return self.pieces[-1]

    @property
    def front_pages(self) -> int:
        return self.counts[self.chapters] or 0

    def first_folios(self) -> list[int]:
        """Each chapter's first folio."""
        folios, folio = [], 1
        for count in self.counts[: self.chapters]:
            folios.append(folio)
            folio += count or 0
        return folios

    def _known_layout(self, key: str) -> None:
        layout = self.cache.layout(key)
        self.counts.append(int(layout["pages"]) if layout else None)  # type: ignore[call-overload]
        starts = layout["page_starts"] if layout else []
        self.page_starts.append(tuple(PageStart(*s) for s in starts))  # type: ignore[attr-defined]

    def _add_front(self) -> None:
        """The front matter, as a piece after the chapters, once every chapter's page count is known."""
        if len(self.keys) > self.chapters or any(count is None for count in self.counts):
            return
        html = self._front(self.first_folios(), sum(count or 0 for count in self.counts))
        key = hashlib.sha256((self._base + html).encode()).hexdigest()
        self.keys.append(key)
        self.html.append(html)
        self.pieces.append(None)
        self._known_layout(key)
        self._settle_front()

    def _settle_front(self) -> None:
        """Give the copyright page the book's 印张 once the front matter's page count is known (it
        was set from an estimate: colophon.with_sheets). The figure does not change the front
        matter's pages; a front matter laid out with another figure is dropped and laid out again."""
        front = self.chapters
        if len(self.keys) <= front or any(count is None for count in self.counts):
            return
        html = with_sheets(self.html[front], sum(count or 0 for count in self.counts))
        if html == self.html[front]:
            return
        if (worker := self.held.pop(front, None)) is not None:
            worker.send(Drop(front))
            worker.held -= 1
        key = hashlib.sha256((self._base + html).encode()).hexdigest()
        self.keys[front], self.html[front], self.pieces[front] = key, html, None
        del self.counts[front], self.page_starts[front]
        self._known_layout(key)

    def _folio(self, index: int) -> int | None:
        if index == self.chapters:  # the front matter
            return 1
        if any(count is None for count in self.counts[:index]):
            return None
        return 1 + sum(self.counts[:index])  # type: ignore[arg-type]

    def _look_up(self, only: int | None = None) -> None:
        """Take from the cache every piece whose first folio is now known (or piece `only`)."""
        for index in range(len(self.keys)) if only is None else (only,):
            key = self.keys[index]
            folio = self._folio(index)
            if self.pieces[index] is None and folio is not None and self.counts[index] is not None:
                found = self.cache.piece(key, folio)
                if found is not None:
                    self.pieces[index] = found[0]
                    self._warn(index, found[1])

    def _name(self, index: int) -> str:
        return "the front matter" if index == self.chapters else f"chapter {index + 1}"

    def _warn(self, index: int, warnings: tuple[str, ...]) -> None:
        (self.front_warnings if index == self.chapters else self.warnings).extend(warnings)

    def to_lay_out(self) -> list[int]:
        """Pieces still to lay out: page count unknown, or a piece for their first folio missing."""
        waiting = []
        for index in range(len(self.keys)):
            if (
                self.pieces[index] is not None
                or index in self.held
                or index in self.laying_out
                or index in self.drawing
            ):
                continue
            if self.counts[index] is None or self._folio(index) is not None:
                waiting.append(index)
        return waiting

    def run(
        self,
        pool: list[Printer],
        progress: Callable[[str], None],
        hand_over: Callable[[int, Piece], None] = lambda *_: None,
        first_wait: Callable[[], None] = lambda: None,
        last_wait: Callable[[], None] = lambda: None,
    ) -> None:
        """Have every piece laid out and drawn, or found; each chapter's is handed over as it
        comes, once the workers have been given what they can do meanwhile. `first_wait()` is
        called the first time this process would wait for a worker; `last_wait()` once every
        chapter's piece is handed over, if the front matter's is not in."""
        handed: set[int] = set()
        waited_first = waited_last = False
        while True:
            for index in self.to_lay_out():
                worker = min(pool, key=lambda w: w.load)
                if worker.laying_out >= LAYOUTS_AHEAD or worker.held >= MAX_HELD:
                    break
                worker.send(LayOut(index, self.html[index], self._name(index)))
                worker.laying_out += 1
                self.laying_out[index] = worker
                if index < self.chapters:
                    progress(f"laying out chapter {index + 1} of {self.chapters}")
            for index, piece in enumerate(self.pieces[: self.chapters]):
                if piece is not None and index not in handed:
                    hand_over(index, piece)
                    handed.add(index)
                    if answered(pool):  # a worker waits for its next piece: the rest after that
                        break
            if len(handed) == self.chapters:
                if len(self.pieces) > self.chapters and self.pieces[-1] is not None:
                    return
                if not waited_last:
                    waited_last = True
                    last_wait()
                    continue
            if not waited_first and not answered(pool):
                waited_first = True
                first_wait()
                continue
            answer = receive(pool)
            match answer:
                case LaidOut(index, pages, starts):
                    worker = self.laying_out.pop(index)
                    worker.laying_out -= 1
                    self.counts[index], self.page_starts[index] = pages, starts
                    self.cache.store_layout(self.keys[index], pages, starts)
                    self.held[index] = worker
                    worker.held += 1
                    self.laid_out += index < self.chapters
                    self._settle_front()
                case Drawn(index, first_folio, fonts, warnings):
                    self.drawing.pop(index).drawing -= 1
                    self.pieces[index] = self.cache.store_piece(self.keys[index], first_folio, fonts, warnings)
                    self._warn(index, warnings)
            for held_index, held_worker in list(self.held.items()):
                folio = self._folio(held_index)
                if folio is None:
                    continue
                self._look_up(held_index)
                if self.pieces[held_index] is None:
                    part = self.cache.part(self.keys[held_index], folio)
                    front = held_index == self.chapters
                    held_worker.send(Draw(held_index, folio, part, front))
                    self.drawing[held_index] = held_worker
                    held_worker.drawing += 1
                else:  # the same piece was in the cache after all
                    held_worker.send(Drop(held_index))
                del self.held[held_index]
                held_worker.held -= 1
            if isinstance(answer, LaidOut):  # the folios it gives find the pieces after it, once its draw is on its way
                self._add_front()
                self._look_up()
