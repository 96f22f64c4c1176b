"""The build, top to bottom: read the seeds, normalize, render, write the EPUB and the PDF.

Every output is staged and renamed into place only when all of them succeeded.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
import os
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .alongside import Alongside
from .config import Config, build_timestamp
from .documents import read_source
from .errors import BookError, SourceError
from .font_use import characters_by_face
from .fonts import (
    FONTS_DIR,
    PROJECT_ROOT,
    FontFace,
    book_faces,
    check_fonts,
    distinct_characters,
    faces_for,
    missing_characters,
    subset_font,
)
from .model import Finding, Manuscript, PageStart, PdfProfile, PdfResult
from .normalize import normalize
from .output import staged_outputs
from .print_cover import render_cover_pdf
from .printing import PrintBook, pages_laid_out, print_ahead, printed
from .progress import Meter, estimated_pages
from .render import (
    DEFAULT_STYLES,
    credit_lines,
    load_templates,
    print_stylesheets,
    render_epub,
    render_print,
    render_print_pieces,
)
from .report import manuscript_markdown, manuscript_text, report_data, report_markdown

if TYPE_CHECKING:
    from jinja2 import Environment

    from .check import TypeAreas
    from .render import PrintPieces
    from .write_epub import CoverImage, EmbeddedFont


@dataclass
class BuildResult:
    """What a build made: the manuscript, output paths and sizes, seconds per stage."""

    manuscript: Manuscript
    outputs: dict[str, Path] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    font_bytes: int = 0
    pdf_warnings: list[str] = field(default_factory=list)
    pages: int = 0
    laid_out: int | None = None  # printed in pieces: chapters laid out (not taken from the cache)


T = TypeVar("T")


class _Timer:
    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    def __call__(self, stage: str, work: Callable[[], T]) -> T:
        start = time.perf_counter()
        try:
            return work()
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start


def read_manuscript(config: Config, stamp: dt.datetime | None = None) -> Manuscript:
    """Read and normalize the config's seeds; the metadata carries the build timestamp."""
    seeds = [read_source(path, config.encoding) for path in config.seeds]
    manuscript = normalize(seeds, config)
    stamp = stamp or build_timestamp(config)
    metadata = dataclasses.replace(
        manuscript.metadata,
        date=manuscript.metadata.date or stamp.date().isoformat(),
        modified=stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return dataclasses.replace(manuscript, metadata=metadata)


def check_glyphs(manuscript: Manuscript, faces: tuple[FontFace, ...]) -> Manuscript:
    """Add a finding for every character no font of the book can set, naming where it occurs."""
    blocks = [(c.source, b) for c in manuscript.chapters for b in c.blocks]
    if not missing_characters(book_text(manuscript), faces):
        return manuscript
    findings = []
    for source, block in blocks:
        for ch in missing_characters(block.text, faces):
            message = (
                f"no font of the book has U+{ord(ch):04X} {ch!r}; an e-reader may set it in its own fonts, "
                "the PDF in a system font or as a box"
            )
            findings.append(Finding("missing-glyph", message, source, block.line, block.text))
    return dataclasses.replace(manuscript, findings=manuscript.findings + tuple(findings))


def book_text(manuscript: Manuscript) -> str:
    """Every character the book sets from its text and metadata, each once."""
    meta = manuscript.metadata
    parts = [meta.title, meta.subtitle or "", meta.publisher or "", meta.description or "", meta.rights or ""]
    parts += [creator.name for creator in meta.creators]
    parts += [chapter.title for chapter in manuscript.chapters]
    parts += [block.text for chapter in manuscript.chapters for block in chapter.blocks]
    return distinct_characters("".join(parts))


def refuse_missing_glyphs(config: Config, manuscript: Manuscript, faces: tuple[FontFace, ...], characters: str) -> None:
    """Stop a print build at the first character no face of the book has (clreq: never a blank
    box in print), naming it and where it is in its seed; book.yaml's missing_glyphs: allow lets it go."""
    missing = missing_characters(characters, faces)  # characters: book_text(manuscript)
    if not missing or config.missing_glyphs == "allow":
        return
    first = missing[0]
    seeds = {path.name: path for path in config.seeds}
    where = next(
        (
            _place(seeds.get(chapter.source, Path(chapter.source)), block.line, first, config)
            for chapter in manuscript.chapters
            for block in chapter.blocks
            if first in block.text
        ),
        str(config.path),
    )
    name = unicodedata.name(first, "unnamed")
    more = f" and {len(missing) - 1} other character(s)" if len(missing) > 1 else ""
    raise BookError(
        f"no font of the book has U+{ord(first):04X} {first} ({name}){more}: print would show a blank box",
        where=where,
        fix="set fallback_font: to a font that has it, or missing_glyphs: allow in book.yaml",
    )


def _place(seed: Path, line: int, character: str, config: Config) -> str:
    """`seed:line:column` of the first `character` in the seed at or after `line` (1-based), the
    seed named as book.yaml's folder sees it."""
    name = seed.relative_to(config.root).as_posix() if seed.is_relative_to(config.root) else str(seed)
    try:
        lines = read_source(seed, config.encoding).text.splitlines()
    except BookError:
        return f"{name}:{line}"
    for number in range(max(line, 1), len(lines) + 1):
        if (column := lines[number - 1].find(character)) >= 0:
            return f"{name}:{number}:{column + 1}"
    return f"{name}:{line}"


def build(
    config: Config,
    out_dir: Path,
    formats: tuple[str, ...] = ("epub", "pdf"),
    progress: Callable[[str], None] = lambda _: None,
    *,
    jobs: int | None = None,
    cache: bool = True,
    printer: Alongside[object] | None = None,
    bar: Callable[[str, float], None] | None = None,
) -> BuildResult:
    """Build the book `config` describes into `out_dir`; outputs appear only if every format succeeds.

    The print PDF of a long book (or with `jobs` given) is printed in pieces, `jobs` processes at a
    time (default: all cores), reusing the pieces of unchanged chapters from build/cache unless
    `cache` is false. A short book's PDF is printed by a second process (alongside.print_ahead)
    while this one makes the EPUB; `printer` is that process, if the caller started it already.
    `progress(message)` is told each stage and page; `bar(message, done)` one bar over the whole
    build (progress.Meter)."""
    printer = printer or print_ahead(formats, jobs)
    shares = {"normalize": 1.0, "print": 12.0 * bool({"pdf", "cover"} & set(formats))}
    shares |= {"cover": 1.0 * ("cover" in formats), "screen": 8.0 * ("screen" in formats)}
    shares |= {"epub": 3.0 * ("epub" in formats)}

    def show(message: str, done: float) -> None:
        progress(message)
        if bar is not None:
            bar(message, done)

    try:
        return _build(config, out_dir, formats, Meter(show, shares), jobs, cache, printer)
    finally:
        if printer:
            printer.close()


def _build(
    config: Config,
    out_dir: Path,
    formats: tuple[str, ...],
    meter: Meter,
    jobs: int | None,
    cache: bool,
    printer: Alongside[object] | None,
) -> BuildResult:
    result = BuildResult(manuscript=None)  # type: ignore[arg-type]
    timed = _Timer(result.seconds)
    faces = check_fonts(book_faces(config.fallback_font, config.body_font, config.heading_font))
    stamp = build_timestamp(config)
    meter.stage("normalize")("reading and normalizing the seeds")
    manuscript = timed("normalize", lambda: read_manuscript(config, stamp))
    result.manuscript = manuscript
    pages = estimated_pages([sum(len(b.text) for b in c.blocks) for c in manuscript.chapters])
    characters = book_text(manuscript)
    fonts = faces_for(faces, characters)  # the extension faces only where the text needs them
    if {"pdf", "screen", "cover"} & set(formats):
        refuse_missing_glyphs(config, manuscript, fonts, characters)

    checked: list[Manuscript] = []
    notes: list[Finding] = []  # what the build itself reports (the cover's folds)

    def check() -> None:
        """The glyph check (check_glyphs): nothing the build writes depends on its findings, so a
        book printed in pieces has it made while the workers lay out the first chapters."""
        if not checked:
            checked.append(timed("glyph check", lambda: check_glyphs(manuscript, fonts)))

    if not manuscript.chapters:
        raise SourceError(
            "no text left after normalization (every line was removed as cruft)",
            where=str(config.seeds[0]),
            fix="check the seed, or the `cruft` patterns of book.yaml",
        )
    templates = load_templates(config.styles, config.root / "build" / "cache" / "templates" if cache else None)
    # All that WeasyPrint may read: the project's styles, fonts and profiles, the book's folder, and
    # the folders of the faces the book uses (Debian's, for the extension faces).
    folders = (DEFAULT_STYLES, FONTS_DIR, PROFILES_DIR, config.root, *(face.path.parent for face in fonts))
    allowed = tuple(dict.fromkeys(folders))
    face_files = tuple(face.path for face in fonts)  # embedded once each, by assemble.py
    printed_in_pieces = "pdf" in formats and (jobs is not None or _worth_pieces(manuscript))
    pieces_printer = None
    if printer and printed_in_pieces:
        # A long book's pieces print in worker processes: this one, where WeasyPrint is loaded
        # already, is the first of them (the only one for a rebuild with one chapter to lay out).
        pieces_printer, printer = printer, None
    elif printer and ("pdf" not in formats or {"cover", "screen"} & set(formats)):
        printer.close()  # cover and screen print here
        printer = None

    def record(pdf: PdfResult) -> None:
        result.pages, result.pdf_warnings, result.laid_out = pdf.pages, list(pdf.warnings), pdf.laid_out
        if "pdf" in formats:
            result.sizes["pdf"] = pdf.size
            result.outputs["pdf"] = out_dir / f"{config.slug}.pdf"

    with staged_outputs(out_dir) as outputs, tempfile.TemporaryDirectory(prefix="book-") as scratch:
        page_starts: tuple[PageStart, ...] = ()
        if "pdf" in formats or "cover" in formats:  # first, so that the EPUB can mark where printed pages begin
            identifier = manuscript.metadata.identifier
            profile = print_profile(config)
            progress = meter.stage("print", pages)
            progress(f"rendering {len(manuscript.chapters)} chapters for print")
            # Asked for the cover alone, the book is printed only to count its pages (the spine's
            # width): dist/'s print PDF stays as it was.
            path = outputs.stage(f"{config.slug}.pdf") if "pdf" in formats else Path(scratch) / "count.pdf"
            if printed_in_pieces:
                pieces = timed(
                    "render pdf", lambda: render_print_pieces(manuscript, templates, fonts, config.trim, profile)
                )
                folder = config.root / "build" / "cache" / config.slug if cache else None
                pdf = timed(
                    "write pdf",
                    lambda: _print_in_pieces(
                        path, pieces, identifier, fonts, allowed, jobs, folder, progress, pieces_printer, check
                    ),
                )
            else:
                rendition = timed(
                    "render pdf", lambda: render_print(manuscript, templates, fonts, config.trim, profile)
                )
                if printer:  # printed in the other process, while this one makes the EPUB
                    printer.send(PrintBook(path, rendition, allowed, identifier, face_files))
                    sent = time.perf_counter()
                else:
                    from .pdf.writer import write_pdf  # imported when needed: WeasyPrint takes 0.5 s to load

                    pdf = timed(
                        "write pdf", lambda: write_pdf(path, rendition, allowed, identifier, face_files, progress)
                    )
            if not printer:
                record(pdf)
                page_starts = pdf.page_starts
            if "cover" in formats:
                from .pdf.writer import write_pdf

                spine = spine_width(pdf.pages, config.pdf.paper_thickness)
                cover_pdf = render_cover_pdf(manuscript, templates, fonts, config.trim, profile, spine)
                path = outputs.stage(f"{config.slug}-cover.pdf")
                meter.stage("cover")("printing the cover")
                written = timed("write cover", lambda: write_pdf(path, cover_pdf, allowed, identifier, face_files))
                result.sizes["cover"] = written.size
                result.pdf_warnings += written.warnings
                result.outputs["cover"] = out_dir / f"{config.slug}-cover.pdf"
                width, height = cover_pdf.trim
                notes.append(
                    Finding(
                        "cover",
                        f"cover spread {width:.1f} mm × {height:g} mm: back and front {config.trim[0]:g} mm, spine "
                        f"{spine:.1f} mm ({pdf.pages} pages × {config.pdf.paper_thickness} mm a leaf ÷ 2); folds at "
                        f"{config.trim[0]:.1f} mm and {config.trim[0] + spine:.1f} mm from the left trim edge, "
                        "marked above and below the bleed",
                        f"{config.slug}-cover.pdf",
                    )
                )
        if "screen" in formats:
            from .pdf.writer import write_pdf

            shown = meter.stage("screen", pages)
            shown("rendering the screen PDF")
            screen = render_print(manuscript, templates, fonts, config.trim, SCREEN_PROFILE)
            path = outputs.stage(f"{config.slug}-screen.pdf")
            written = timed(
                "write screen",
                lambda: write_pdf(path, screen, allowed, manuscript.metadata.identifier, face_files, shown),
            )
            result.sizes["screen"] = written.size
            result.pdf_warnings += written.warnings
            result.outputs["screen"] = out_dir / f"{config.slug}-screen.pdf"
        printing = meter.stage("print", pages)
        laid_out = (lambda: pages_laid_out(printer, printing)) if printer else (lambda: page_starts)
        if "epub" in formats:
            meter.stage("epub")("writing the EPUB")
            epub_path = outputs.stage(f"{config.slug}.epub")
            result.sizes["epub"], result.font_bytes = _make_epub(
                config, manuscript, templates, fonts, stamp, epub_path, laid_out, timed
            )
            result.outputs["epub"] = out_dir / f"{config.slug}.epub"
        if printer:
            if "epub" not in formats:
                laid_out()  # shows the layout's progress
            record(printed(printer))
            result.seconds["write pdf (alongside)"] = time.perf_counter() - sent
    check()
    result.manuscript = dataclasses.replace(checked[0], findings=checked[0].findings + tuple(notes))
    meter.finish("done")
    return result


def _embedded(face: FontFace, characters: str) -> EmbeddedFont:
    """`face` subset to the characters the EPUB sets in it."""
    from .write_epub import EmbeddedFont

    return EmbeddedFont(face, subset_font(face, characters))


def _make_epub(
    config: Config,
    manuscript: Manuscript,
    templates: Environment,
    fonts: tuple[FontFace, ...],
    stamp: dt.datetime,
    path: Path,
    page_starts: Callable[[], tuple[PageStart, ...]],
    timed: _Timer,
) -> tuple[int, int]:
    """Write the EPUB to `path`: its size and its fonts' bytes.

    `page_starts()` gives where the printed pages begin (empty without a PDF); it is called once the
    cover is made, so that while another process prints the PDF, the EPUB waits for the layout only then."""
    from .write_epub import write_epub  # imported when needed: ebooklib loads slowly

    cover = timed("cover", lambda: _cover_image(config, manuscript, fonts))
    faces = fonts if config.embed_fonts else ()
    starts = page_starts()
    rendition = timed(
        "render epub",
        lambda: render_epub(
            manuscript, templates, faces, cover=cover.file_name, page_starts=starts, writing_mode=config.writing_mode
        ),
    )
    documents = [document.content for document in (*rendition.documents, rendition.nav)]
    faces = rendition.fonts  # less a face the book has no use for (the emphasis face, without emphasis)
    used = timed("font use", lambda: characters_by_face(documents, rendition.stylesheet, faces))
    embedded = tuple(timed("subset fonts", functools.partial(_embedded, face, used[face])) for face in faces)
    size = timed(
        "write epub",
        lambda: write_epub(
            path, manuscript, rendition, embedded, cover, stamp, vertical=config.writing_mode == "vertical-rl"
        ),
    )
    return size, sum(len(font.data) for font in embedded)


PROFILES_DIR = PROJECT_ROOT / "profiles"

# Below this many characters a book is printed in one pass: starting worker processes and
# assembling pieces would cost more than they save (a few seconds of layout).
PIECES_FROM_CHARACTERS = 40_000


def _worth_pieces(manuscript: Manuscript) -> bool:
    characters = sum(len(b.text) for c in manuscript.chapters for b in c.blocks)
    return len(manuscript.chapters) > 1 and characters >= PIECES_FROM_CHARACTERS


def _print_in_pieces(
    path: Path,
    pieces: PrintPieces,
    identifier: str,
    fonts: tuple[FontFace, ...],
    allowed: tuple[Path, ...],
    jobs: int | None,
    cache: Path | None,
    progress: Callable[[str], None],
    printer: Alongside[object] | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> PdfResult:
    """The print PDF laid out chapter by chapter in `jobs` processes and assembled (pieces.py);
    `meanwhile()` is done while the workers lay out the first chapters."""
    from .pieces import PieceCache, print_in_pieces
    from .printing import PrintJob

    job = PrintJob(
        pieces.stylesheets, pieces.base_url, allowed, pieces.profile, identifier, tuple(face.path for face in fonts)
    )
    printed = print_in_pieces(
        path,
        pieces.chapters,
        pieces.front,
        job,
        jobs=jobs or os.cpu_count() or 1,
        cache=PieceCache(cache),
        progress=progress,
        printer=printer,
        meanwhile=meanwhile,
    )
    return PdfResult(path.stat().st_size, printed.pages, printed.page_starts, printed.warnings, printed.laid_out)


# The screen PDF: no bleed, no marks, RGB, with the contents hyperlinked.
SCREEN_PROFILE = PdfProfile("screen")


def type_areas(config: Config) -> TypeAreas:
    """The type area of the book's text pages, recto and verso, as its print stylesheets set it
    (for check)."""
    from .pdf.writer import type_areas as laid_out_areas

    templates = load_templates(config.styles)
    stylesheets = print_stylesheets(templates, (), config.trim, print_profile(config))
    return laid_out_areas(
        stylesheets, DEFAULT_STYLES.as_uri() + "/", (DEFAULT_STYLES, FONTS_DIR, PROFILES_DIR, config.root)
    )


def print_profile(config: Config) -> PdfProfile:
    """The print PDF's profile: PDF/X with a CMYK output intent, 3 mm bleed, crop marks 10 mm out."""
    return PdfProfile(
        "print",
        config.pdf.standard,
        bleed_mm=3,
        slug_mm=10,
        crop_marks=True,
        cmyk=True,
        output_profile=config.pdf.output_profile,
        output_condition=config.pdf.output_condition,
    )


def spine_width(pages: int, paper_thickness: float) -> float:
    """The spine in mm: one leaf per two pages, each `paper_thickness` mm thick."""
    return math.ceil(pages / 2) * paper_thickness


def _cover_image(config: Config, manuscript: Manuscript, fonts: tuple[FontFace, ...]) -> CoverImage:
    """The cover named in book.yaml, else one generated from the metadata with the book's fonts."""
    from .cover import render_cover  # Pillow: loaded where the cover is made
    from .write_epub import CoverImage

    if config.cover is not None:
        media_type = "image/png" if config.cover.suffix.lower() == ".png" else "image/jpeg"
        return CoverImage(f"images/cover{config.cover.suffix.lower()}", media_type, config.cover.read_bytes())
    faces = {face.role: face for face in fonts}
    credits = credit_lines(manuscript.metadata.creators, manuscript.metadata.language)
    data = render_cover(manuscript.metadata, credits, faces, config.trim)
    return CoverImage("images/cover.png", "image/png", data)


def write_report(manuscript: Manuscript, folder: Path, slug: str) -> list[Path]:
    """Write the normalization report as build/<slug>.report.md and .report.json."""
    files = {
        f"{slug}.report.md": report_markdown(manuscript),
        f"{slug}.report.json": json.dumps(report_data(manuscript), ensure_ascii=False, indent=1) + "\n",
    }
    with staged_outputs(folder) as outputs:
        for name, text in files.items():
            outputs.stage(name).write_text(text, encoding="utf-8")
    return [folder / name for name in files]


def write_normalized(manuscript: Manuscript, folder: Path, slug: str) -> list[Path]:
    """Write the normalized chapters as Markdown, and the whole book as a plain-text seed, under `folder`."""
    files = manuscript_markdown(manuscript)
    files[f"{slug}.txt"] = manuscript_text(manuscript)
    with staged_outputs(folder) as outputs:
        for name, text in files.items():
            outputs.stage(name).write_text(text, encoding="utf-8")
    if manuscript.images:  # the figures' images, beside the chapters that name them
        with staged_outputs(folder / "images") as outputs:
            for image in manuscript.images:
                outputs.stage(image.name).write_bytes(image.data)
    for stale in folder.glob("[0-9][0-9][0-9].md"):
        if stale.name not in files:  # a chapter the previous run had and this one has not
            stale.unlink()
    return [folder / name for name in files]
