"""The loops compiled from book/_speedups.c, where `pip install` built it.

`compiled(name)` is the compiled function, or None where the module was not built or the
environment sets BOOK_PURE_PYTHON=1; the caller then runs the function's Python twin, which gives
the same result. CI runs the tests once with BOOK_PURE_PYTHON=1, so that the twins stay tested.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

PURE_PYTHON = bool(os.environ.get("BOOK_PURE_PYTHON"))


def compiled(name: str) -> Callable[..., Any] | None:
    """The compiled loop `name` of book._speedups, or None (not built, or BOOK_PURE_PYTHON set)."""
    if PURE_PYTHON:
        return None
    try:
        module = importlib.import_module("book._speedups")
    except ImportError:
        return None
    return getattr(module, name, None)
