#!/usr/bin/env python3
"""Build a Chinese book (EPUB 3 and print PDF) from seed text. Run with --help for the options."""

import logging
import multiprocessing
import os
import sys

from book.assemble import leave_to_exit
from book.cli import main

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
