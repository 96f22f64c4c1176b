"""Shared fixtures: one build of the default book. Helpers the tests share are in helpers.py."""

from __future__ import annotations

import pytest

from book.build import BuildResult, build
from book.config import Config, load_config

from .helpers import ROOT


@pytest.fixture(scope="session")
def seed_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, BuildResult]:
    """The default book (book.yaml and the seed article), built once for the session."""
    config = load_config(ROOT / "book.yaml")
    out = tmp_path_factory.mktemp("dist")
    return config, build(config, out)
