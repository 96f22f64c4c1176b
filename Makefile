# Two commands (README "Quick start"):
#   make book   build the default book into dist/
#   make test   run the test suite (what CI runs)
# Both first install what is missing, once: Debian packages (.ci/system-packages) and the
# Python package with its test extras. A stamp file remembers the install per pyproject.toml.

PYTHON ?= python3
STAMP := build/.installed-$(shell cat pyproject.toml .ci/system-packages | sha1sum | cut -c1-12)

.PHONY: book test lint
book: $(STAMP)
	$(PYTHON) publish.py

test: $(STAMP)
	$(PYTHON) -m ruff check book tests publish.py
	$(PYTHON) -m pytest

$(STAMP): pyproject.toml .ci/system-packages
	sh .ci/install-system-packages
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	mkdir -p build && rm -f build/.installed-* && touch $@
