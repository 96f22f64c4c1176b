"""The command line: `python publish.py [CONFIG]` builds a book; `python publish.py normalize [CONFIG]`
shows what the normalizer made of the seeds."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config, default_formats, load_config, parse_formats
from .errors import BookError, OutputError
from .model import Manuscript

if TYPE_CHECKING:
    from .alongside import Alongside

COMMANDS = ("build", "normalize", "check", "init", "watch", "serve")
USAGE = """\
python publish.py [CONFIG] [-o DIR] [-f epub,pdf]   build the book CONFIG describes (default book.yaml)
python publish.py normalize [CONFIG]                write the normalized chapters as Markdown under build/
                                                      and print the normalization report
python publish.py check [CONFIG]                    preflight: measure the built PDF and EPUB against the
                                                      typesetting rules; exit 1 if a check fails
python publish.py init DIR                          start a new book in DIR (book.yaml, seeds/, styles/)
python publish.py watch [CONFIG]                    rebuild whenever a seed, the config, a style or a font changes
python publish.py serve [CONFIG] [--port N]         watch, and preview the book on http://127.0.0.1:N/"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="publish.py",
        usage=USAGE,
        description="Turn Chinese seed text into an EPUB 3 and a print-ready PDF.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 success, 1 findings with --strict, 2 config, 3 seed, 4 render, 5 output, "
        "130 interrupted.",
    )
    parser.add_argument(
        "words",
        nargs="*",
        metavar="[COMMAND] [CONFIG]",
        help="COMMAND is build (default), normalize or check; CONFIG is the book's configuration (default: book.yaml)",
    )
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        default=None,
        help="output folder (default: dist/ beside the config; build/ for normalize)",
    )
    parser.add_argument(
        "-f",
        "--format",
        default=None,
        help="comma-separated outputs to build: epub, pdf (print, PDF/X), screen (dist/<slug>-screen.pdf), "
        "cover (dist/<slug>-cover.pdf); default: epub,pdf plus screen and cover when book.yaml's pdf asks for them",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 1) on findings that mean damaged or incomplete text: replacement characters, removed "
        "invalid characters, skipped or out-of-order heading numbers, characters no font has",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        help="processes laying out the print PDF, chapter by chapter (default: all cores, for a book of over "
        "40,000 characters; 1: in this process); with several CONFIGs (build books/*/book.yaml): how many books "
        "build at once",
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="with CONFIGs (build books/*/book.yaml): build the books on the Dask cluster whose scheduler is at "
        "ADDRESS (tcp://host:8786); the book folders must be on storage every worker sees (pip install '.[cluster]')",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="lay out every chapter of the print PDF again, instead of reusing the unchanged ones from build/cache/",
    )
    parser.add_argument("--port", type=int, default=8000, help="serve: the port on 127.0.0.1 (default 8000; 0: any)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="print timings per stage; tracebacks on errors")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    options = parser.parse_args(argv if argv is not None else sys.argv[1:])
    # `publish.py`, `publish.py other.yaml`, `publish.py normalize`, `publish.py build other.yaml`.
    words = list(options.words)
    options.command = words.pop(0) if words and words[0] in COMMANDS else "build"
    if len(words) > 1 and options.command != "build":
        parser.error(f"unexpected arguments: {' '.join(words[1:])}")
    options.configs = [Path(word) for word in words]
    options.config = Path(words[0]) if words else Path("book.yaml")
    if options.command == "init" and not words:
        parser.error("init needs the folder of the new book: python publish.py init my-book")
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # SIGTERM unwinds like Ctrl-C, so staged outputs are cleaned up and old outputs kept.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if options.command == "normalize":
            return _normalize(options)
        if options.command == "check":
            return _check(options)
        if options.command == "init":
            return _init(options)
        if options.command in ("watch", "serve"):
            return _watch(options)
        if len(options.configs) > 1 or options.cluster:
            return _build_many(options)
        return _build(options)
    except BookError as exc:
        if options.verbose:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: no output was changed", file=sys.stderr)
        return 130


def _build(options: argparse.Namespace) -> int:
    from .printing import print_ahead

    config = load_config(options.config)
    formats = parse_formats(options.format or default_formats(config))
    # Started before the build's modules load, so that WeasyPrint loads in it meanwhile.
    printer = print_ahead(formats, options.jobs)
    try:
        return _build_with(options, config, formats, printer)
    finally:
        if printer:
            printer.close()


def _build_with(
    options: argparse.Namespace, config: Config, formats: tuple[str, ...], printer: Alongside[object] | None
) -> int:
    from .build import build

    out_dir = options.out or config.root / "dist"
    start = time.perf_counter()
    if sys.stdout.isatty() and not options.quiet:
        # One bar over the whole build on a terminal (progress.Meter), with the stage and page; nothing
        # when the output goes to a file or a pipe. It is redrawn on each message rather than on a
        # timer thread: the build forks the process that prints the PDF only while it runs a single
        # thread (alongside.py).
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        title = f"《{config.title or config.slug}》"
        columns = (TextColumn(title), BarColumn(), TaskProgressColumn(), TextColumn("{task.description}"))
        with Progress(*columns, auto_refresh=False, transient=True) as bar:
            task = bar.add_task("", total=1.0)

            def show(message: str, done: float) -> None:
                bar.update(task, completed=done, description=message)
                bar.refresh()

            result = build(
                config,
                out_dir.resolve(),
                formats,
                jobs=options.jobs,
                cache=not options.no_cache,
                printer=printer,
                bar=show,
            )
    else:
        result = build(
            config, out_dir.resolve(), formats, jobs=options.jobs, cache=not options.no_cache, printer=printer
        )
    warned = [f for f in result.manuscript.findings if f.code in ("missing-glyph", "no-chinese")]
    for finding in warned:
        print(f"warning: {finding.source}:{finding.line}: {finding.message}", file=sys.stderr)
    for message in result.pdf_warnings:
        print(f"warning: PDF: {message}", file=sys.stderr)
    if options.verbose:
        for stage, seconds in result.seconds.items():
            print(f"  {stage:<26} {seconds:6.2f} s")
        if result.laid_out is not None:
            total = len(result.manuscript.chapters)
            print(f"  chapters laid out: {result.laid_out} of {total} (the others from build/cache)")
    if not options.quiet:
        elapsed = time.perf_counter() - start
        for fmt, path in result.outputs.items():
            detail = {"pdf": f"{result.pages} pages", "epub": f"fonts {result.font_bytes / 1024:.0f} KiB"}.get(fmt, fmt)
            print(f"{path}  {result.sizes[fmt] / 1024:.0f} KiB ({detail})")
        print(f"built 《{result.manuscript.metadata.title}》 in {elapsed:.1f} s")
    from .build import write_report

    write_report(result.manuscript, config.root / "build", config.slug)
    return _strict_exit(options, result.manuscript)


def _normalize(options: argparse.Namespace) -> int:
    from .build import check_glyphs, read_manuscript, write_normalized, write_report
    from .fonts import book_faces
    from .report import format_report

    config = load_config(options.config)
    manuscript = check_glyphs(
        read_manuscript(config), book_faces(config.fallback_font, config.body_font, config.heading_font)
    )
    build_dir = (options.out or config.root / "build").resolve()
    written = write_normalized(manuscript, build_dir / config.slug, config.slug)
    reports = write_report(manuscript, build_dir, config.slug)
    if not options.quiet:
        print(format_report(manuscript))
        print(f"wrote {len(written) - 1} chapter file(s) and {config.slug}.txt to {build_dir / config.slug}/")
        print(f"report: {reports[0]} and .json")
    return _strict_exit(options, manuscript)


def _strict_exit(options: argparse.Namespace, manuscript: Manuscript) -> int:
    """With --strict, findings that mean damaged or incomplete text fail (exit 1)."""
    from .report import STRICT_CODES

    failing = [f for f in manuscript.findings if f.code in STRICT_CODES]
    if options.strict and failing:
        codes = sorted({f.code for f in failing})
        print(f"error: --strict: {len(failing)} finding(s): {', '.join(codes)} (see the report)", file=sys.stderr)
        return 1
    return 0


def _check(options: argparse.Namespace) -> int:
    from .check import check_epub, check_pdf, format_checks

    config = load_config(options.config)
    out_dir = options.out or config.root / "dist"
    pdf, epub = out_dir / f"{config.slug}.pdf", out_dir / f"{config.slug}.epub"
    for path in (pdf, epub):
        if not path.is_file():
            raise OutputError("not built yet", where=str(path), fix=f"run python publish.py {options.config} first")
    from .build import type_areas

    checks = check_pdf(pdf, config.trim, type_areas(config)) + check_epub(epub)
    if not options.quiet or not all(c.passed or c.advisory for c in checks):
        print(format_checks(checks))
    failed = [c.name for c in checks if not c.passed and not c.advisory]
    if failed:
        print(f"preflight failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _init(options: argparse.Namespace) -> int:
    from .scaffold import create_book

    folder = options.config  # the one word after `init`
    written = create_book(folder)
    if not options.quiet:
        for path in written:
            print(f"created {path}")
        print(f"next: python publish.py {folder / 'book.yaml'}")
    return 0


def _build_many(options: argparse.Namespace) -> int:
    """Build several books in parallel; print one line per book; exit 1 if any failed."""
    import os

    from .many import BookTask, build_books

    tasks = [BookTask(path, options.out, options.format) for path in options.configs]
    if options.cluster:
        from .cluster import build_on_cluster

        outcomes = build_on_cluster(tasks, options.cluster)
    else:
        outcomes = build_books(tasks, options.jobs or os.cpu_count() or 1)
    for outcome in outcomes:
        if outcome.ok:
            made = ", ".join(f"{fmt} {size / 1024:.0f} KiB" for fmt, (_, size) in outcome.outputs.items())
            print(f"OK    {outcome.config}  《{outcome.title}》 {made}, {outcome.pages} pages, {outcome.seconds:.1f} s")
        else:
            print(f"FAIL  {outcome.config}  error: {outcome.error}")
    failed = sum(1 for o in outcomes if not o.ok)
    print(f"{len(outcomes) - failed} of {len(outcomes)} books built")
    return 1 if failed else 0


def _watch(options: argparse.Namespace) -> int:
    """Rebuild on every change (watch), and serve a live preview (serve), until Ctrl-C."""
    import threading

    from .preview import Preview, serve

    config = load_config(options.config)
    formats = parse_formats(options.format or default_formats(config))
    if "epub" not in formats:
        formats = ("epub", *formats)  # the preview shows the EPUB's chapters

    def log(message: str) -> None:
        print(message, flush=True)

    preview = Preview(options.config, formats, log, options.jobs)
    if options.command == "serve":
        serve(preview, options.port, lambda url: log(f"preview: {url}  (Ctrl-C to stop)"))
    else:
        preview.rebuild()
        log("watching for changes (Ctrl-C to stop)")
        preview.watch(threading.Event())
    return 0
