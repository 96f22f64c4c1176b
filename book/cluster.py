"""Many books on a Dask cluster (publish.py build books/*/book.yaml --cluster tcp://scheduler:8786).

Each book is one task, as in the local pool (many.py): its config path in, its BookOutcome out.
The workers read the book folders and write the outputs at the same paths, so the folders are
on storage every worker sees (NFS, a shared volume). A book's own failure is its outcome; a
worker lost mid-book fails that book only. Dask is an optional extra (pip install '.[cluster]'),
imported only here, only when --cluster is given.

Dask rather than Ray: a book is one coarse task with no shared state, which is what Dask's
futures are for; Dask is pure Python and light to install on every worker, starts from two
commands (`dask scheduler`, `dask worker`), and runs on the clusters presses have (SSH, SLURM
and PBS through dask-jobqueue, Kubernetes); Ray brings a runtime of its own for actors and
shared objects that a catalogue build does not use.
"""

from __future__ import annotations

import os
import threading

from .errors import ConfigError
from .many import BookOutcome, BookTask, build_book

# Builds in one worker process run one after another, whatever threads the worker was started
# with: WeasyPrint, fontconfig and the fork of a book's printer are not for concurrent threads.
_ONE_AT_A_TIME = threading.Lock()


def build_on_cluster(tasks: list[BookTask], address: str) -> list[BookOutcome]:
    """Build every book on the Dask scheduler at `address`; outcomes in the tasks' order."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ConfigError(
            "--cluster needs Dask's distributed package, which is not installed",
            where=address,
            fix="pip install '.[cluster]' here and on every worker",
        ) from exc
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            f"no Dask scheduler answers ({exc})", where=address, fix="start one: dask scheduler; dask worker ADDRESS"
        ) from exc
    with client:
        # The build's dates come from SOURCE_DATE_EPOCH where it is set: this machine's, not the worker's.
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        futures = client.map(_build_one, tasks, [epoch] * len(tasks), pure=False)
        outcomes = []
        for task, future in zip(tasks, futures, strict=True):
            try:
                outcomes.append(future.result())
            except Exception as exc:  # the worker died, or the task could not run there
                outcomes.append(BookOutcome(task.config, False, error=f"on the cluster: {type(exc).__name__}: {exc}"))
        return outcomes


def _build_one(task: BookTask, epoch: str | None) -> BookOutcome:
    """build_book in a worker, with the SOURCE_DATE_EPOCH of the machine that asked (or none)."""
    with _ONE_AT_A_TIME:
        before = os.environ.pop("SOURCE_DATE_EPOCH", None)
        if epoch is not None:
            os.environ["SOURCE_DATE_EPOCH"] = epoch
        try:
            return build_book(task)
        finally:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
            if before is not None:
                os.environ["SOURCE_DATE_EPOCH"] = before
