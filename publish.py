#!/usr/bin/env python3
"""Build a Chinese book (EPUB 3 and print PDF) from seed text. Run with --help for the options."""

import importlib.util
import logging
import multiprocessing
import os
import sys

# The packages a build needs (pyproject.toml's dependencies, by the names they are imported as).
# Run by a Python that lacks them, the command says so in one line instead of a traceback.
NEEDED = ("weasyprint", "ebooklib", "jinja2", "yaml", "uharfbuzz", "pikepdf", "opencc", "charset_normalizer", "icu")
_missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
if _missing and __name__ == "__main__":
    print(
        f"error: {sys.executable} lacks packages the book needs ({', '.join(_missing)}) "
        "(make book installs them into the project's .venv; then run .venv/bin/python publish.py)",
        file=sys.stderr,
    )
    sys.exit(2)

from book.assemble import leave_to_exit  # noqa: E402
from book.cli import main  # noqa: E402

if __name__ == "__main__":
    leave_to_exit()  # the process ends with os._exit, below
    code = main()
    # Every output is written and closed, and the worker processes stopped, by the time main
    # returns (any left by an interrupt are stopped here, as Python's exit would). The process then
    # ends at once: Python would otherwise free its objects one by one
    # (the manuscript, the pages, pikepdf's objects), 0.2 s for a long book.
    for child in multiprocessing.active_children():  # none, unless an interrupt left one behind
        child.terminate()
        child.join()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
