"""The build is a test: `make book` fails loudly, and never serves stale outputs.

Each test builds a small temporary book whose `_config.yml` is the real one (so a loosened
setting there fails these tests), with one chapter we control. The real chapters are never
edited. A chapter's first cell appends a line to `runs.log`, an honest count of executions.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.build

FRONT_MATTER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

COUNTING_CELL = """```{code-cell} ipython3
import helper
with open("runs.log", "a") as log:
    log.write("run\\n")
print("helper says", helper.VALUE)
```
"""


def code_cell(source: str, tags: list[str] | None = None) -> str:
    """A MyST code cell, optionally tagged."""
    meta = f":tags: {tags}\n\n" if tags else ""
    return f"```{{code-cell}} ipython3\n{meta}{source}\n```\n"


class Fixture:
    """A temporary book: the real `_config.yml`, an intro and one chapter, and a helper module."""

    def __init__(self, path: Path) -> None:
        self.path = path
        config = yaml.safe_load((ROOT / "_config.yml").read_text())
        # The real extensions, from the repository; the real static files and bibliography.
        extensions = config["sphinx"]["local_extensions"]
        config["sphinx"]["local_extensions"] = {name: str(ROOT / "_ext") for name in extensions}
        shutil.copytree(ROOT / "_static", path / "_static")
        for bib in config.get("bibtex_bibfiles", []):
            (path / bib).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / bib, path / bib)
        config["sphinx"]["config"]["freshness_watch"] = ["helper.py", "requirements.txt"]
        (path / "_config.yml").write_text(yaml.safe_dump(config))
        toc = {"format": "jb-book", "root": "intro", "chapters": [{"file": "chapter"}]}
        (path / "_toc.yml").write_text(yaml.safe_dump(toc))
        (path / "intro.md").write_text("# Intro\n\nA fixture book.\n")
        (path / "requirements.txt").write_text("numpy==1.0\n")
        self.helper(1)

    def helper(self, value: int) -> None:
        (self.path / "helper.py").write_text(f"VALUE = {value}\n")

    def chapter(self, *cells: str, prose: str = "") -> None:
        body = FRONT_MATTER + "# Chapter\n\n" + prose + "\n" + "\n".join(cells)
        (self.path / "chapter.md").write_text(body)

    def build(self) -> subprocess.CompletedProcess[str]:
        """`make book`, exactly as a rebuilder runs it, pointed at this fixture."""
        return subprocess.run(
            ["make", "--no-print-directory", "-C", str(ROOT), "book", f"BOOK={self.path}"],
            capture_output=True,
            text=True,
            timeout=600,
        )

    def runs(self) -> int:
        log = self.path / "runs.log"
        return len(log.read_text().splitlines()) if log.exists() else 0

    def page(self) -> str:
        return (self.path / "_build" / "html" / "chapter.html").read_text()


@pytest.fixture
def book(tmp_path: Path) -> Fixture:
    return Fixture(tmp_path)


def test_a_clean_chapter_builds(book: Fixture) -> None:
    book.chapter(COUNTING_CELL)
    done = book.build()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "helper says 1" in book.page()


def test_a_failing_cell_fails_the_build_and_names_the_chapter(book: Fixture) -> None:
    book.chapter(COUNTING_CELL, code_cell("1 / 0"))
    done = book.build()
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "chapter.md" in output
    assert "ZeroDivisionError" in output


def test_a_cell_tagged_raises_exception_may_fail(book: Fixture) -> None:
    book.chapter(COUNTING_CELL, code_cell("1 / 0", tags=["raises-exception"]))
    done = book.build()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ZeroDivisionError" in book.page()


def test_a_broken_cross_reference_fails_the_build(book: Fixture) -> None:
    book.chapter(COUNTING_CELL, prose="See {ref}`a-label-that-does-not-exist`.\n")
    done = book.build()
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "chapter.md" in output
    assert "a-label-that-does-not-exist" in output


def test_a_stray_library_warning_fails_the_build(book: Fixture) -> None:
    book.chapter(COUNTING_CELL, code_cell("import warnings\nwarnings.warn('deprecated thing')"))
    done = book.build()
    assert done.returncode != 0
    assert "chapter.md" in done.stdout + done.stderr


def test_outputs_follow_the_code_they_depend_on(book: Fixture) -> None:
    book.chapter(COUNTING_CELL)
    assert book.build().returncode == 0
    assert book.runs() == 1

    # Nothing changed: nothing executes.
    assert book.build().returncode == 0
    assert book.runs() == 1

    # The library changed, the chapter did not: the chapter executes again, new output.
    book.helper(2)
    done = book.build()
    assert done.returncode == 0, done.stdout + done.stderr
    assert book.runs() == 2
    assert "helper says 2" in book.page()

    # A pinned requirement changed: executes again.
    (book.path / "requirements.txt").write_text("numpy==2.0\n")
    assert book.build().returncode == 0
    assert book.runs() == 3

    # Back to the first library version: its outputs are still cached, nothing executes.
    book.helper(1)
    (book.path / "requirements.txt").write_text("numpy==1.0\n")
    assert book.build().returncode == 0
    assert book.runs() == 3
    assert "helper says 1" in book.page()
