"""printing: the processes that print the PDF, and the messages they exchange. The one module that
decides which process prints what, and when each ends.

A print PDF is made by one of three kinds of printer, behind one interface (`Printer`):
- `InProcess`: this process (one job, or a rebuild with one chapter to lay out);
- `Forked`: the process forked as the command started (`print_ahead`), which loads WeasyPrint
  while this one reads the seeds; it prints a short book in one pass, or becomes the first piece
  worker of a long one, and its twin, forked from it once the writer is made, the second;
- `Piped`: a spawned worker of the pool, or that twin, over a pipe.

Messages are small frozen dataclasses, handled with `match`: to a worker `LayOut`, `Draw`, `Drop`
and `Stop`; back from it `LaidOut`, `Drawn` and `Failed`. The forked process is handed
`PrintBook` or `BecomeWorker`, and tells `Progress` and `PagesLaidOut` as a one-pass print goes.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING

from .alongside import Alongside, ForkTwin, can_fork
from .errors import BookError, RenderError
from .model import PageStart, PdfProfile, PdfResult, PieceGlyphs

if TYPE_CHECKING:
    from .pdf.writer import LaidOutPiece, PieceWriter
    from .render import PrintRendition


@dataclass(frozen=True)
class PrintJob:
    """What every worker needs to know of the book, sent once."""

    stylesheets: tuple[str, ...]
    base_url: str
    allowed: tuple[Path, ...]
    profile: PdfProfile
    document_id: str
    faces: tuple[Path, ...]  # the book's font files, the fonts that assemble.py embeds once


# To a piece worker.
@dataclass(frozen=True)
class LayOut:
    """Lay out a piece (`name`, for errors) and hold it until its first folio is known."""

    index: int
    html: str
    name: str


@dataclass(frozen=True)
class Draw:
    """Draw the held piece with folios from `folio`, into `part`; `front`: the front matter."""

    index: int
    folio: int
    part: Path
    front: bool


@dataclass(frozen=True)
class Drop:
    """Forget the held piece: it was in the cache after all."""

    index: int


@dataclass(frozen=True)
class Stop:
    """No more pieces: the worker ends."""


# From a piece worker.
@dataclass(frozen=True)
class LaidOut:
    index: int
    pages: int
    starts: tuple[PageStart, ...]  # pages numbered from 1 within the piece


@dataclass(frozen=True)
class Drawn:
    index: int
    folio: int
    fonts: dict[str, PieceGlyphs]  # the glyphs used of each face, for the assembler
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Failed:
    index: int  # -1: the worker could not start
    error: BookError


# To and from the process forked as the command started.
@dataclass(frozen=True)
class PrintBook:
    """Print a short book in one pass."""

    path: Path
    rendition: PrintRendition
    allowed: tuple[Path, ...]
    identifier: str
    faces: tuple[Path, ...]


@dataclass(frozen=True)
class BecomeWorker:
    """Be a piece worker of a long book; fork a twin for a second if `twin`."""

    job: PrintJob
    twin: bool


@dataclass(frozen=True)
class Progress:
    message: str


@dataclass(frozen=True)
class PagesLaidOut:
    starts: tuple[PageStart, ...]


ToWorker = LayOut | Draw | Drop | Stop
FromWorker = LaidOut | Drawn | Failed


def print_ahead(formats: tuple[str, ...], jobs: int | None) -> Alongside[object] | None:
    """A process to print the PDF, started now: WeasyPrint loads in it while this process reads
    and normalizes the seeds. None where it would not be used: no print PDF, a PDF printed in
    pieces on a given number of jobs, a cover or screen PDF (they print here), or no fork."""
    if "pdf" not in formats or {"cover", "screen"} & set(formats) or jobs is not None or not can_fork():
        return None
    return Alongside(_print_ahead)


def _print_ahead(receive: Callable[[], object], tell: Callable[[object], None], fork_twin: ForkTwin) -> object:
    """print_ahead's work: load WeasyPrint, then do what it is handed (None: nothing)."""
    from .pdf.writer import settle_printing_process, write_pdf

    settle_printing_process()
    match receive():
        case PrintBook(path, rendition, allowed, identifier, faces):
            return write_pdf(
                path,
                rendition,
                allowed,
                identifier,
                faces,
                lambda message: tell(Progress(message)),
                lambda starts: tell(PagesLaidOut(starts)),
            )
        case BecomeWorker(job, twin):
            serve(receive, tell, job, fork_twin if twin else None)
    return None


def pages_laid_out(printer: Alongside[object], progress: Callable[[str], None]) -> tuple[PageStart, ...]:
    """Where the pages of the book `printer` prints begin, once it has laid them out; its progress
    messages until then go to `progress`."""
    while True:
        match printer.receive():
            case PagesLaidOut(starts):
                return starts
            case Progress(message):
                progress(message)


def printed(printer: Alongside[object]) -> PdfResult:
    """What the forked printer's one-pass print gave."""
    result = printer.result()
    assert isinstance(result, PdfResult), result
    return result


# The piece workers.


def serve(
    receive: Callable[[], object],
    send: Callable[[object], None],
    job: PrintJob,
    fork_twin: ForkTwin | None = None,
) -> None:
    """A worker's loop, on any channel: a spawned worker's pipe, or the process forked as the
    command started; `fork_twin`, if given, starts its twin once the writer is made."""
    try:
        writer = _writer(job)
    except BookError as exc:
        send(Failed(-1, exc))
        return
    if fork_twin is not None:
        fork_twin(lambda twin_receive, twin_send: _answer(writer, twin_receive, twin_send))
    _answer(writer, receive, send)


def _answer(writer: PieceWriter, receive: Callable[[], object], send: Callable[[object], None]) -> None:
    """Answer the messages in order, until Stop."""
    pending: dict[int, LaidOutPiece] = {}
    while not isinstance(message := receive(), Stop):
        assert isinstance(message, LayOut | Draw | Drop), message
        answer = handle(writer, pending, message)
        if answer is not None:
            send(answer)


def handle(writer: PieceWriter, pending: dict[int, LaidOutPiece], message: ToWorker) -> FromWorker | None:
    """Do what a message asks of a worker; the answer to send back, if any."""
    try:
        match message:
            case LayOut(index, html, _):
                laid = pending[index] = writer.lay_out(html)
                return LaidOut(index, laid.pages, writer.page_starts(laid))
            case Draw(index, folio, part, front):
                drawn = writer.draw(pending.pop(index), folio, part, front=front)
                return Drawn(index, folio, drawn.fonts, drawn.warnings)
            case Drop(index):
                pending.pop(index, None)
        return None
    except BookError as exc:
        return Failed(_index(message), exc)
    except Exception as exc:  # WeasyPrint's own failures: reported as the build's, with the piece's name
        name = message.name if isinstance(message, LayOut) else _piece_name(message)
        return Failed(_index(message), RenderError(f"laying out {name} failed: {exc!r}"))


def _index(message: ToWorker) -> int:
    return -1 if isinstance(message, Stop) else message.index


def _piece_name(message: ToWorker) -> str:
    if isinstance(message, Draw) and message.front:
        return "the front matter"
    return f"chapter {_index(message) + 1}"


def _writer(job: PrintJob) -> PieceWriter:
    from .pdf.writer import PieceWriter  # WeasyPrint is loaded where the pieces are laid out

    return PieceWriter(job.stylesheets, job.base_url, job.allowed, job.profile, job.document_id, job.faces)


def _serve_spawned(connection: Connection, job: PrintJob) -> None:
    """A spawned worker process: one PieceWriter for the book, messages answered until Stop."""
    from .pdf.writer import settle_printing_process

    settle_printing_process()
    serve(connection.recv, connection.send, job)


class Printer:
    """One piece worker, seen from the schedule: what it has been given, and its channel."""

    def __init__(self) -> None:
        self.laying_out = 0  # pieces sent to lay out, not yet laid out
        self.held = 0  # laid out, waiting for their first folio
        self.drawing = 0

    @property
    def load(self) -> int:
        return self.laying_out * 10 + self.held + self.drawing

    def send(self, message: ToWorker) -> None:
        raise NotImplementedError

    def waiting(self) -> FromWorker | None:
        """An answer already here, without waiting (in-process workers only)."""
        return None

    def has_answer(self) -> bool:
        """Whether waiting() would give an answer."""
        return False

    def connection(self) -> object | None:
        """What multiprocessing.connection.wait waits on for this worker; None in process."""
        return None

    def receive(self) -> object:
        raise NotImplementedError


class InProcess(Printer):
    """This process as the only worker. Its writer is made when a piece is first sent: a rebuild
    that finds every piece in the cache does not load WeasyPrint (about 1 s)."""

    def __init__(self, job: PrintJob) -> None:
        super().__init__()
        self.job = job
        self._writer: PieceWriter | None = None
        self._pending: dict[int, LaidOutPiece] = {}
        self._answers: list[FromWorker] = []

    def send(self, message: ToWorker) -> None:
        if self._writer is None:
            self._writer = _writer(self.job)
        if (answer := handle(self._writer, self._pending, message)) is not None:
            self._answers.append(answer)

    def waiting(self) -> FromWorker | None:
        return self._answers.pop(0) if self._answers else None

    def has_answer(self) -> bool:
        return bool(self._answers)


class Piped(Printer):
    """A worker over a pipe: a spawned process of the pool, or the forked process's twin."""

    def __init__(self, pipe: Connection) -> None:
        super().__init__()
        self.pipe = pipe

    def send(self, message: ToWorker) -> None:
        self.pipe.send(message)

    def connection(self) -> object:
        return self.pipe

    def receive(self) -> object:
        return self.pipe.recv()


class Forked(Printer):
    """The process forked as the command started (alongside.Alongside), as a piece worker."""

    def __init__(self, process: Alongside[object]) -> None:
        super().__init__()
        self.process = process

    def send(self, message: ToWorker) -> None:
        self.process.send(message)

    def connection(self) -> object:
        return self.process

    def receive(self) -> object:
        return self.process.receive()


def receive(pool: list[Printer]) -> LaidOut | Drawn:
    """The next answer from any worker; a worker's error is raised here."""
    for printer in pool:
        if (answer := printer.waiting()) is not None:
            return _checked(answer)
    by_connection = {id(c): p for p in pool if (c := p.connection()) is not None}
    ready = wait([p.connection() for p in pool if p.connection() is not None])  # type: ignore[misc]
    try:
        received = by_connection[id(ready[0])].receive()
    except (EOFError, ConnectionResetError) as exc:  # ended, or killed with messages unread
        raise RenderError(
            "a process laying out the PDF stopped unexpectedly",
            fix="try again with --jobs 1; if it stops again, report the book that makes it fail",
        ) from exc
    assert isinstance(received, LaidOut | Drawn | Failed), received
    return _checked(received)


def answered(pool: list[Printer]) -> bool:
    """Whether a worker has answered (its answer waits to be received)."""
    if any(p.has_answer() for p in pool):
        return True
    connections = [c for p in pool if (c := p.connection()) is not None]
    return bool(connections and wait(connections, 0))  # type: ignore[arg-type]


def _checked(answer: FromWorker) -> LaidOut | Drawn:
    if isinstance(answer, Failed):
        raise answer.error
    return answer


class Workers:
    """`count` piece workers: the process forked as the command started, if there is one (it has
    loaded WeasyPrint while this one read the seeds), and its twin for a second; spawned ones (a
    clean interpreter each) for the others; or this process for one. On leaving, each is stopped."""

    def __init__(self, job: PrintJob, count: int, forked: Alongside[object] | None = None) -> None:
        self.job, self.count, self.forked = job, count, forked
        self.processes: list[multiprocessing.process.BaseProcess] = []

    def __enter__(self) -> list[Printer]:
        try:
            return self._start()
        except BaseException:  # an interrupt while the workers start: stop those started
            self._stop(done=False)
            raise

    def _start(self) -> list[Printer]:
        pool: list[Printer] = []
        if self.forked is not None:
            # Its twin, forked from it once WeasyPrint is loaded and the writer made, is ready at
            # once: a spawned worker began its first chapter 0.7 s after it (a cold 红楼梦 build).
            twin = self.count >= 2
            self.forked.send(BecomeWorker(self.job, twin))
            pool.append(Forked(self.forked))
            if twin:
                pool.append(Piped(self.forked.twin))
        elif self.count <= 1 or multiprocessing.current_process().daemon:
            # A daemonic process (a Dask worker's, cluster.py) may start no processes: the pieces
            # are laid out here, one after another, into the same pages.
            return [InProcess(self.job)]
        context = multiprocessing.get_context("spawn")
        for _ in range(self.count - len(pool)):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve_spawned, args=(theirs, self.job), daemon=True)
            process.start()
            theirs.close()
            self.processes.append(process)
            pool.append(Piped(ours))
        return pool

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self._stop(done=kind is None)

    def _stop(self, done: bool) -> None:
        if self.forked is not None:
            if done:  # the twin ends, then the process, when told
                self.forked.twin.close()
                self.forked.send(Stop())
                self.forked.result()
            else:
                self.forked.close()
        for process in self.processes:
            process.terminate()
            process.join()
