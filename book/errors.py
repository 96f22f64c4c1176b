"""The project's errors: one base class carrying an exit code, one subclass per kind of failure."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


class BookError(Exception):
    """An error the user can fix; the CLI prints it as one line and exits with `exit_code`."""

    exit_code = 1

    def __init__(self, message: str, *, where: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def __reduce__(self) -> tuple[object, ...]:
        # Picklable with its place and fix, so that a worker process can hand it to the build.
        return _rebuild, (type(self), self.message, self.where, self.fix)

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} ({self.fix})" if self.fix else text


class ConfigError(BookError):
    """book.yaml is missing, unreadable or invalid."""

    exit_code = 2


class SourceError(BookError):
    """A seed file is missing, empty or cannot be decoded."""

    exit_code = 3


class RenderError(BookError):
    """A template or stylesheet cannot be rendered."""

    exit_code = 4


class OutputError(BookError):
    """An output file cannot be written."""

    exit_code = 5


def _rebuild(kind: type[BookError], message: str, where: str, fix: str) -> BookError:
    return kind(message, where=where, fix=fix)


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing `path` into an OutputError that names it."""
    try:
        yield
    except OSError as exc:
        raise OutputError(
            f"cannot write: {exc.strerror or exc}",
            where=str(path),
            fix="check that the output folder is writable and the disk not full",
        ) from exc
