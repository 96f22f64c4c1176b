"""alongside: work done in a forked process while this one goes on.

A build of a short book makes the EPUB alongside the print PDF, on the second core: the EPUB
waits only for where the printed pages begin (its page list), which the PDF knows once it is
laid out, before it is drawn. A fork starts at once, where a spawned process would first spend
about a second importing; it is used only while this process has a single thread, since a
fork copies no other thread and whatever lock one of them held would stay held in the child.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

from .errors import BookError

T = TypeVar("T")


def can_fork() -> bool:
    """Whether work can go to a forked process: a platform with fork, and no other thread running."""
    return sys.platform == "linux" and threading.active_count() == 1


class Alongside(Generic[T]):
    """`work(receive)` running in a forked process. The work calls `receive()` to wait for the
    one value this process hands it with `send`; `result()` returns what the work returned, or
    raises what it raised. `close()` stops the process if it is still running."""

    def __init__(self, work: Callable[[Callable[[], object]], T]) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_run, args=(work, child), daemon=True)
        self._process.start()
        child.close()

    def send(self, value: object) -> None:
        with contextlib.suppress(OSError):  # the work has ended already, having failed: result() raises why
            self._connection.send(value)

    def result(self) -> T:
        try:
            outcome = self._connection.recv()
        except EOFError:
            outcome = None
        finally:
            self.close()
        if outcome is None:
            raise BookError(
                f"the process making the EPUB stopped (exit code {self._process.exitcode})",
                fix="try again; if it stops again, report the book that makes it fail",
            )
        failed, value = outcome
        if failed:
            raise value
        return value

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._connection.close()


def _run(work: Callable[[Callable[[], object]], object], connection: Connection) -> None:
    """The forked process: do the work, and send back (failed, result or exception)."""
    try:
        outcome: tuple[bool, object] = (False, work(connection.recv))
    except BaseException as error:  # handed to the parent, which raises it
        outcome = (True, error)
    try:
        connection.send(outcome)
    except Exception:  # what it returned or raised cannot be pickled: the parent gets the traceback
        text = "".join(traceback.format_exception(outcome[1])) if outcome[0] else repr(outcome[1])
        connection.send((True, BookError(f"the process making the EPUB failed: {text}")))
