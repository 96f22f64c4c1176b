"""Outputs appear whole or not at all: each is written to a temporary file beside its
final name, and all are renamed into place only when the whole build has succeeded."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError


class StagedOutputs:
    """Temporary files in the output folder, renamed to their final names on commit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._staged: list[tuple[Path, Path]] = []

    def stage(self, final_name: str) -> Path:
        """A new temporary path that will become `folder/final_name` on commit."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{final_name}.", suffix=".part", dir=self.folder)
        except OSError as exc:
            raise OutputError(
                f"cannot write to the output folder: {exc.strerror}",
                where=str(self.folder),
                fix="choose a writable folder with -o/--out",
            ) from exc
        os.close(handle)
        temporary = Path(name)
        self._staged.append((temporary, self.folder / final_name))
        return temporary

    def commit(self) -> list[Path]:
        """Rename every staged file into place; return the final paths."""
        finals = []
        for temporary, final in self._staged:
            os.chmod(temporary, 0o644)
            os.replace(temporary, final)
            finals.append(final)
        self._staged.clear()
        return finals

    def discard(self) -> None:
        """Remove every staged file; the previous outputs stay as they were."""
        for temporary, _ in self._staged:
            temporary.unlink(missing_ok=True)
        self._staged.clear()


@contextlib.contextmanager
def staged_outputs(folder: Path) -> Iterator[StagedOutputs]:
    """Stage outputs in `folder`; commit them if the block succeeds, discard them if it fails."""
    outputs = StagedOutputs(folder)
    try:
        yield outputs
    except BaseException:
        outputs.discard()
        raise
    outputs.commit()
