"""alongside: work done in a forked process while this one goes on (printing.py decides what).

The process that prints a short book's PDF while this one makes the EPUB is forked as soon as the
command starts, so that loading WeasyPrint (about half a second) overlaps with reading and
normalizing the seeds (printing.print_ahead).

A fork starts at once, where a spawned process would first spend about a second importing. It is
used only while this process has a single thread, since a fork copies no other thread and a lock
one of them held would stay held in the child.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

from .errors import BookError

T = TypeVar("T")
# fork_twin(twin_work), given to an Alongside's work: twin_work(receive, send) runs in a copy of it
ForkTwin = Callable[[Callable[[Callable[[], object], Callable[[object], None]], None]], None]


def can_fork() -> bool:
    """Whether work can go to a forked process: a platform with fork, and no other thread running."""
    return sys.platform == "linux" and threading.active_count() == 1


class Alongside(Generic[T]):
    """`work(receive, tell, fork_twin)` running in a forked process.

    The work waits with `receive()` for each value this process hands it with `send`, and hands
    values back with `tell(value)`: this process gets them from `receive()`, in order. `result()`
    returns what the work returned, or raises what it raised (so does `receive()`, if the work
    ended instead of telling). `close()` stops the process if it is still running.

    `fork_twin(twin_work)` forks the forked process: `twin_work(receive, send)` runs in a copy of it,
    with all it has loaded, and talks to this process over `twin` (a Connection). A spawned
    process would first import it all again. The twin ends when this process closes `twin`."""

    def __init__(self, work: Callable[[Callable[[], object], Callable[[object], None], ForkTwin], T]) -> None:
        context = multiprocessing.get_context("fork")
        self._connection, child = context.Pipe()
        self.twin, twin_end = context.Pipe()
        ours = (self._connection, self.twin)
        self._process = context.Process(target=_run, args=(work, child, twin_end, ours), daemon=True)
        self._process.start()
        child.close()
        twin_end.close()
        self._ended: tuple[bool, object] | None = None

    def send(self, value: object) -> None:
        self._connection.send(value)

    def fileno(self) -> int:
        """The connection's file descriptor, readable when the work has told something or ended."""
        return self._connection.fileno()

    def receive(self) -> object:
        """The next value the work tells; its error if it failed first."""
        message = self._next()
        if message is None:
            return self.result()  # raises: the work ended without telling
        return message[0]

    def result(self) -> T:
        while self._ended is None:
            self._next()
        self.close()
        failed, value = self._ended
        if failed:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def close(self) -> None:
        self.twin.close()  # the twin, if there is one, reads the end of its input and ends
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._connection.close()

    def _next(self) -> tuple[object] | None:
        """The next value told, as a 1-tuple, or None once the work has ended."""
        if self._ended is not None:
            return None
        try:
            kind, value = self._connection.recv()
        except (EOFError, ConnectionResetError):  # ended, or killed with messages unread
            self._process.join()
            self._ended = (
                True,
                BookError(
                    f"the second process of the build stopped (exit code {self._process.exitcode})",
                    fix="try again; if it stops again, report the book that makes it fail",
                ),
            )
            return None
        if kind == "told":
            return (value,)
        self._ended = (kind == "failed", value)
        return None


def _run(
    work: Callable[[Callable[[], object], Callable[[object], None], ForkTwin], object],
    connection: Connection,
    twin_end: Connection,
    parents: tuple[Connection, ...],
) -> None:
    """The forked process: do the work, and send back what it told, then its result or its error."""
    # Stopped by this process (close) or by Ctrl-C on the terminal, it ends at once and quietly: the
    # build's own handlers, inherited with the fork, are for the process that reports to the user.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for end in parents:  # the parent's ends, copied by the fork: the parent's closing one must reach us
        end.close()
    twins: list[int] = []
    try:
        outcome: tuple[str, object] = (
            "returned",
            work(
                connection.recv,
                lambda value: connection.send(("told", value)),
                lambda twin_work: twins.append(_fork_twin(twin_work, twin_end, connection)),
            ),
        )
    except BaseException as error:  # handed to the parent, which raises it
        outcome = ("failed", error)
    for pid in twins:  # ended by the parent's closing `twin`; waited for, so its CPU time counts as ours
        os.waitpid(pid, 0)
    try:
        connection.send(outcome)
    except Exception:  # what it returned or raised cannot be pickled: the parent gets the traceback
        failure = outcome[1]
        text = "".join(traceback.format_exception(failure)) if isinstance(failure, BaseException) else repr(failure)
        connection.send(("failed", BookError(f"the second process of the build failed: {text}")))


def _fork_twin(
    twin_work: Callable[[Callable[[], object], Callable[[object], None]], None],
    twin_end: Connection,
    connection: Connection,
) -> int:
    """Fork this (single-threaded) process: the copy runs `twin_work` on `twin_end` and ends.
    Returns the copy's process id."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            # Stopped with the forked process (a failed or interrupted build terminates it), not left
            # to finish its chapter: prctl(PR_SET_PDEATHSIG, SIGTERM).
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)
            connection.close()  # the forked process's channel: its end must close when that process ends
            twin_work(twin_end.recv, twin_end.send)
        except EOFError:  # the parent closed `twin`: the work is done
            pass
        except BaseException:  # the parent sees the end of `twin`, and reports it
            code = 1
        finally:
            os._exit(code)
    twin_end.close()
    return pid
