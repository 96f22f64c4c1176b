"""Shared fixtures: the corpus, small books written on the fly, and one build of the default book."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from book.build import BuildResult, build
from book.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
SEED = "000_2eace880ba59814b.txt"


def corpus_file(name: str) -> Path:
    """A file of ../shared/corpus; the test skips when the corpus is absent."""
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {path} is absent (../shared/corpus is not beside this checkout)")
    return path


def write_book(folder: Path, seeds: dict[str, str | bytes], extra: str = "") -> Path:
    """Write seed files and a book.yaml naming them into `folder`; return the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in seeds.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    names = ", ".join(seeds)
    config = folder / "book.yaml"
    config.write_text(f"seeds: [{names}]\nslug: book\ndate: 2024-01-02\n{extra}", encoding="utf-8")
    return config


def run_publish(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run publish.py as a user would."""
    return subprocess.run(
        [sys.executable, str(ROOT / "publish.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="session")
def seed_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, BuildResult]:
    """The default book (book.yaml and the seed article), built once for the session."""
    config = load_config(ROOT / "book.yaml")
    out = tmp_path_factory.mktemp("dist")
    return config, build(config, out)


def tool(name: str) -> str:
    """The path of a command-line tool the tests need (installed by `make test`)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run the tests through `make test`, which installs it")
    return path
