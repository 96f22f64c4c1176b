"""Shared fixtures: one build of the default book. Helpers the tests share are in helpers.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from book.build import BuildResult, build
from book.config import Config, load_config

from .helpers import ROOT

# CI (.ci/run sets HYPOTHESIS_PROFILE=ci) draws the same examples on every run: a property test
# fails there for a change, never for a new draw. Local runs draw new examples each time, and keep
# the failing ones in .hypothesis/ to replay them.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def seed_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, BuildResult]:
    """The default book (book.yaml and the seed article), built once for the session."""
    config = load_config(ROOT / "book.yaml")
    out = tmp_path_factory.mktemp("dist")
    return config, build(config, out)
