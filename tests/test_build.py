"""The build is a test: `make book` fails loudly, and never serves stale outputs.

Each test builds a small temporary book whose `_config.yml` is the real one (so a loosened
setting there fails these tests), with one chapter we control. The real chapters are never
edited. A chapter's first cell appends a line to `runs.log`, an honest count of executions.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from pathlib import Path

import nbformat
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

    def chapter(self, *cells: str, prose: str = "", name: str = "chapter") -> None:
        body = FRONT_MATTER + f"# Chapter {name}\n\n" + prose + "\n" + "\n".join(cells)
        (self.path / f"{name}.md").write_text(body)

    def toc(self, *names: str) -> None:
        """Make the book's chapters ``names`` (files written with :meth:`chapter`)."""
        toc = {"format": "jb-book", "root": "intro", "chapters": [{"file": n} for n in names]}
        (self.path / "_toc.yml").write_text(yaml.safe_dump(toc))

    def build(self) -> subprocess.CompletedProcess[str]:
        """`make book`, exactly as a rebuilder runs it (its strict flags), pointed at this fixture.

        ``-o``: the tests run inside an installed `.venv`; make must not reinstall it.
        """
        make = ["make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed-book"]
        return subprocess.run(
            [*make, "book", f"BOOK={self.path}"],
            capture_output=True,
            text=True,
            timeout=600,
        )

    def runs(self) -> int:
        log = self.path / "runs.log"
        return len(log.read_text().splitlines()) if log.exists() else 0

    def page(self, name: str = "chapter") -> str:
        return (self.path / "_build" / "html" / f"{name}.html").read_text()

    def site(self) -> Path:
        return self.path / "_build" / "html"


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


# --- the same commit gives the same site (issue 12, item 1) --------------------------------

# Printed text that reaches the kernel's client as several stream messages, as a loaded machine
# can split any `print`: "True" and "\n" (print's two writes), and "loss:" and " 0.5\n" (a
# print of two arguments). Each flush sends a message; the sleep keeps them apart.
SPLIT_PRINTS = """import sys, time
for piece in ["True", "\\n"]:
    sys.stdout.write(piece); sys.stdout.flush(); time.sleep(0.3)"""
SPLIT_ARGS = """import sys, time
for piece in ["loss:", " 0.5\\n"]:
    sys.stdout.write(piece); sys.stdout.flush(); time.sleep(0.3)"""


def stream_outputs(notebook: nbformat.NotebookNode) -> list[list[dict]]:
    return [cell.outputs for cell in notebook.cells if cell.cell_type == "code"]


def test_split_printed_text_is_one_output_on_the_page_and_in_the_download(book: Fixture) -> None:
    book.chapter(code_cell(SPLIT_PRINTS), code_cell(SPLIT_ARGS))
    for build in ("executed", "from the cache"):
        done = book.build()
        assert done.returncode == 0, done.stdout + done.stderr
        page = book.page()
        assert page.count('class="output stream') == 2, build
        assert "<pre><span></span>True\n</pre>" in page, build
        assert "<pre><span></span>loss: 0.5\n</pre>" in page, build
        notebook = nbformat.read(book.site() / "_sources" / "chapter.ipynb", as_version=4)
        stream = {"output_type": "stream", "name": "stdout"}
        assert stream_outputs(notebook) == [
            [{**stream, "text": "True\n"}],
            [{**stream, "text": "loss: 0.5\n"}],
        ], build


def test_pages_link_assets_with_their_checksum_in_clean_and_incremental_builds(
    book: Fixture,
) -> None:
    book.chapter(COUNTING_CELL, prose="The loss $L(a)$ falls.\n")
    assert book.build().returncode == 0
    clean = book.page()
    clean_index = (book.site() / "searchindex.js").read_bytes()
    static = book.site() / "_static"
    assets = [static / "mathjax" / "tex-chtml.js", *static.glob("mystnb.*.css")]
    assert len(assets) == 2
    for path in assets:
        name = path.relative_to(static).as_posix()
        crc = zlib.crc32(path.read_bytes().translate(None, b"\r"))
        assert f"_static/{name}?v={crc:08x}" in clean, name

    # An edit to the chapter and its revert: the page is rewritten by an incremental build.
    book.chapter(COUNTING_CELL, prose="The loss $L(a)$ falls quickly.\n")
    assert book.build().returncode == 0
    book.chapter(COUNTING_CELL, prose="The loss $L(a)$ falls.\n")
    done = book.build()
    assert done.returncode == 0, done.stdout + done.stderr
    assert book.page() == clean
    assert b"quick" not in clean_index  # the edit's word, not left behind in the search index
    assert (book.site() / "searchindex.js").read_bytes() == clean_index


# --- glued values are values (issue 12, item 2) ---------------------------------------------

GLUE_REPRS = """import numpy as np
import torch
from myst_nb import glue

glue("g_mean_x", np.mean(np.array([1.0, 2.0, 4.0])), display=False)
glue("g_max_y", torch.tensor([1.5, 5.25]).max(), display=False)"""


def test_a_glued_repr_fails_the_build_naming_the_chapter_and_key(book: Fixture) -> None:
    prose = "The mean is {glue:text}`g_mean_x` and the largest y is {glue:text}`g_max_y`.\n"
    book.chapter(code_cell(GLUE_REPRS), prose=prose)
    done = book.build()
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    for key, text in [("g_mean_x", "np.float64(2.33"), ("g_max_y", "tensor(5.2500)")]:
        line = next(line for line in output.splitlines() if repr(key) in line)
        assert "chapter" in line and text in line, line


def test_glued_values_as_numbers_build(book: Fixture) -> None:
    cell = GLUE_REPRS.replace(
        "np.mean(np.array([1.0, 2.0, 4.0]))", "float(np.mean([1.0, 2.0, 4.0]))"
    )
    cell = cell.replace(".max(), display", ".max().item(), display")
    prose = "The mean is {glue:text}`g_mean_x:.3f` and the largest y is {glue:text}`g_max_y`.\n"
    book.chapter(code_cell(cell), prose=prose)
    done = book.build()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "The mean is 2.333 and the largest y is 5.25." in book.page()


# --- every failing chapter is reported (issue 12, item 3) ------------------------------------


def plain(text: str) -> str:
    """``text`` without its terminal colour codes (IPython colours its tracebacks)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_every_failing_chapter_is_reported_with_its_traceback(book: Fixture) -> None:
    tagged = code_cell("1 / 0", tags=["raises-exception"])
    book.chapter(COUNTING_CELL, tagged, code_cell("int('one')"), name="one")
    book.chapter(COUNTING_CELL, tagged, code_cell("{}['two']"), name="two")
    book.chapter(COUNTING_CELL, tagged, name="fine")
    book.toc("one", "two", "fine")
    for attempt in ("first build", "next build"):
        done = book.build()
        output = done.stdout + done.stderr
        assert done.returncode != 0, attempt
        reports = book.site() / "reports"
        assert sorted(p.name for p in reports.iterdir()) == ["one.err.log", "two.err.log"]
        one, two = (plain((reports / f"{n}.err.log").read_text()) for n in ("one", "two"))
        assert "ValueError: invalid literal for int() with base 10: 'one'" in one
        assert "KeyError: 'two'" in two
        warnings = [line for line in plain(output).splitlines() if "WARNING" in line]
        for name in ("one", "two"):
            assert any(f"{name}.md" in w and "Executing notebook failed" in w for w in warnings)
            assert any(f"reports/{name}.err.log" in w for w in warnings), attempt
        assert not any("fine.md" in w for w in warnings), attempt
        assert "ZeroDivisionError" in book.page("fine")
    # The failing chapters ran again in the next build (never cached as good); "fine" did not.
    assert book.runs() == 3 + 2
