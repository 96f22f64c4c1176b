# Two commands (README "Quick start"):
#   make book   build the default book into dist/
#   make test   run the test suite (what CI runs)
# Both first install what is missing, once: Debian packages (.ci/system-packages, plus
# .ci/test-packages for the tests), the project's virtual environment .venv (made with PYTHON),
# and the Python package in it (with its test extras for the tests). A stamp file in .venv
# remembers each install. Afterwards .venv/bin/python publish.py runs the command directly.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The stamps name the interpreter too: an install into one Python says nothing of another.
INTERPRETER := $(shell $(PYTHON) -c 'import sys; print(sys.executable, sys.version)') $(abspath $(VENV))
STAMP := $(VENV)/.installed-$(shell (cat pyproject.toml book/_speedups.c .ci/system-packages; echo "$(INTERPRETER)") | sha1sum | cut -c1-12)
TEST_STAMP := $(VENV)/.test-installed-$(shell (cat pyproject.toml book/_speedups.c .ci/system-packages .ci/test-packages; echo "$(INTERPRETER)") | sha1sum | cut -c1-12)

ACE := build/node/node_modules/.bin/ace-puppeteer
EPUBJS := build/node/node_modules/epubjs/dist/epub.min.js

# The package is installed editable, so pip compiles none of it: compileall writes its bytecode
# (an up-to-date file is skipped), which Python reads even where PYTHONDONTWRITEBYTECODE is set.
# Without it every run compiles the package again (about 0.07 s of each build's start).
.PHONY: book test quick
book: $(STAMP)
	$(PY) -m compileall -q book
	$(PY) publish.py

test: $(TEST_STAMP) $(ACE) $(EPUBJS)
	$(PY) -m compileall -q book
	$(PY) -m ruff check book tests publish.py
	$(PY) -m mypy
	$(PY) -m pytest

# The quick loop while working: no corpus, no Java, no browser, no long book (pyproject's markers).
quick: $(TEST_STAMP)
	$(PY) -m pytest -q -m "not (slow or corpus or java or browser)"

$(PY):
	sh .ci/make-venv $(PYTHON) $(VENV)

$(STAMP): pyproject.toml book/_speedups.c .ci/system-packages | $(PY)
	sh .ci/install-system-packages system-packages
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	rm -f $(VENV)/.installed-* && touch $@

$(TEST_STAMP): pyproject.toml book/_speedups.c .ci/system-packages .ci/test-packages | $(PY)
	sh .ci/install-system-packages system-packages test-packages
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	rm -f $(VENV)/.test-installed-* && touch $@

# Ace by DAISY for the accessibility test. Its Electron and Puppeteer browser downloads are
# skipped: it drives Debian's chromium (PUPPETEER_EXECUTABLE_PATH, set by the test).
$(ACE):
	ELECTRON_SKIP_BINARY_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm install --silent --no-audit --no-fund \
		--no-package-lock --prefix build/node @daisy/ace@1.4.6

# epub.js, the reading-system engine of tests/test_reading_systems.py (with JSZip, which it opens
# .epub files with), run in Debian's chromium.
$(EPUBJS):
	npm install --silent --no-audit --no-fund --no-package-lock --prefix build/node epubjs@0.3.93 jszip@3.10.2
