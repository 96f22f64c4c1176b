"""Ace by DAISY, the EPUB accessibility checker, on the seed's EPUB (driving Debian's chromium)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from book.build import BuildResult
from book.config import Config

from .helpers import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACE = ROOT / "build" / "node" / "node_modules" / ".bin" / "ace-puppeteer"


def test_ace_finds_no_violation(seed_book: tuple[Config, BuildResult], tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if not ACE.exists() or chromium is None:
        pytest.skip("Ace or chromium is not installed (`make test` installs both)")
    env = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": chromium}
    subprocess.run(
        [str(ACE), "--silent", "--force", "--outdir", str(tmp_path), str(seed_book[1].outputs["epub"])],
        env=env,
        check=True,
        timeout=600,
    )
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    violations = [
        (a["earl:testSubject"]["url"], v["earl:test"]["dct:title"], v["earl:result"]["dct:description"])
        for a in report["assertions"]
        for v in a["assertions"]
    ]
    assert violations == []
    assert report["earl:result"]["earl:outcome"] == "pass"
    assert not {
        "schema:accessMode",
        "schema:accessibilityFeature",
        "schema:accessibilityHazard",
        "schema:accessibilitySummary",
        "schema:accessModeSufficient",
    } & set(report["a11y-metadata"]["missing"])
