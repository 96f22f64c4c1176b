"""Many books at once: each book's build is an independent task (its config in, its outputs out),
run in parallel processes; one failure does not stop the others."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .config import default_formats, load_config, parse_formats
from .errors import BookError


@dataclass(frozen=True)
class BookTask:
    """One book to build: its config, and where its outputs go (None: dist/ beside the config)."""

    config: Path
    out: Path | None = None
    formats: str | None = None
    jobs: int | None = None  # processes laying out its PDF (build's own choice when None)


@dataclass(frozen=True)
class BookOutcome:
    """What a book's build made, or why it failed."""

    config: Path
    ok: bool
    title: str = ""
    outputs: dict[str, tuple[str, int]] = field(default_factory=dict)  # format → (path, bytes)
    pages: int = 0
    seconds: float = 0.0
    error: str = ""


def build_book(task: BookTask) -> BookOutcome:
    """Build one book; never raises for the book's own problems (they are the outcome)."""
    from .build import build, write_report

    start = time.perf_counter()
    try:
        config = load_config(task.config)
        out = task.out / config.slug if task.out else config.root / "dist"
        result = build(config, out.resolve(), parse_formats(task.formats or default_formats(config)), jobs=task.jobs)
        write_report(result.manuscript, config.root / "build", config.slug)
    except BookError as exc:
        return BookOutcome(task.config, False, error=str(exc), seconds=time.perf_counter() - start)
    outputs = {fmt: (str(path), result.sizes[fmt]) for fmt, path in result.outputs.items()}
    return BookOutcome(
        task.config, True, result.manuscript.metadata.title, outputs, result.pages, time.perf_counter() - start
    )


def build_books(tasks: list[BookTask], jobs: int) -> list[BookOutcome]:
    """Build every book, `jobs` at a time, each in a process of its own; outcomes in the tasks' order.
    (cluster.py builds them on a Dask cluster instead.)"""
    context = multiprocessing.get_context("spawn")  # a clean interpreter per worker: no state shared
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context) as pool:
        return list(pool.map(build_book, tasks))
