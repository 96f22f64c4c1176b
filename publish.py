#!/usr/bin/env python3
"""Build a Chinese book (EPUB 3 and print PDF) from seed text. Run with --help for the options."""

import sys

from book.cli import main

if __name__ == "__main__":
    sys.exit(main())
