"""The reader notebooks (``notebooks/<chapter>.ipynb`` in the site, ``_ext/reader.py``): they run
where a reader runs them and show what the page shows.

- every reader notebook is executed with nbclient in ``.venv-reader`` (what a reader installs:
  a kernel, torch, matplotlib, numpy, pillow, fastai, and the wheel ``make book`` put in the
  site; no myst-nb, no Sphinx, no repository on the path), from a folder outside the
  repository, and every output is compared with the published page: text exactly (up to the
  trailing newlines HTML drops), errors by exception and message (their frames name this
  machine's paths and cell numbers), HTML (the animations) as parsed markup, images pixel by
  pixel within ``MIN_PSNR``;
- their cells: install cell first, no MyST left, no build-only import or cell;
- the install cell's two routes, in a throwaway venv: the wheel from a local server of the
  site, and ``git+file://`` of this repository at the commit the cell names.

``make test`` builds ``.venv-reader`` first (``make reader-venv``).
"""

from __future__ import annotations

import ast
import base64
import io
import json
import os
import re
import subprocess
import sys
import venv
from itertools import pairwise
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import nbformat
import numpy as np
import pytest
from bs4 import BeautifulSoup, Tag
from PIL import Image

from conftest import ROOT, read_html, soup_of
from descent.player.read import inline_data

sys.path.insert(0, str(ROOT / "_ext"))
from myst_markdown import leftover_syntax

READER_VENV = ROOT / ".venv-reader"
READER_PYTHON = READER_VENV / "bin" / "python"
MIN_PSNR = 50.0  # dB, for an image that is not pixel-identical (none was, when written)
# The order MyST-NB picks an output's MIME type in for HTML (myst_nb's render priority).
MIME_PRIORITY = ("text/html", "image/svg+xml", "image/png", "image/jpeg", "text/plain")
BUILD_ONLY_TAGS = {"remove-cell", "remove-input", "remove-output"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")

RUN = """
import sys, nbformat, nbclient
source, target = sys.argv[1:3]
nb = nbformat.read(source, as_version=4)
probe = "import sys, descent\\nprint(sys.executable)\\nprint(descent.__file__)"
nb.cells.append(nbformat.v4.new_code_cell(probe))
nbclient.NotebookClient(nb, timeout=900, kernel_name="python3").execute(cwd=".")
nbformat.write(nb, target)
"""


def clean_env() -> dict[str, str]:
    """The environment without anything that would put the repository on a kernel's path."""
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "JUPYTER_PATH"}
    return {key: value for key, value in os.environ.items() if key not in drop}


@pytest.fixture(scope="session")
def reader_python() -> Path:
    if not READER_PYTHON.is_file():
        pytest.fail("no .venv-reader: run `make reader-venv` (make test does)", pytrace=False)
    return READER_PYTHON


def reader_notebook_path(site_root: Path, nb_doc: str) -> Path:
    return site_root / "notebooks" / nb_doc.replace(".html", ".ipynb")


def read_reader_notebook(site_root: Path, nb_doc: str) -> nbformat.NotebookNode:
    path = reader_notebook_path(site_root, nb_doc)
    assert path.is_file(), f"{nb_doc}: no reader notebook {path}"
    return nbformat.read(path, as_version=4)


# --- outputs, as the page and as the notebook have them -----------------------------------------


def page_outputs(root: Path, page: str, cell: Tag) -> list[tuple[str, object]]:
    """The outputs of one cell of the page: (kind, value) with kind text, html or image."""
    box = cell.select_one("div.cell_output")
    found: list[tuple[str, object]] = []
    for child in box.find_all(recursive=False) if box else []:
        classes = child.get("class", [])
        if "traceback" in classes:
            found.append(("error", child.get_text().strip()))
        elif "text_html" in classes:
            found.append(("html", normal_html(child.decode_contents())))
        elif child.name in ("figure", "img") or child.find("img") is not None:
            img = child if child.name == "img" else child.find("img")
            found.append(("image", (root / page).parent / img["src"]))
        else:
            found.append(("text", child.get_text().strip("\n")))
    return found


def notebook_outputs(cell: nbformat.NotebookNode) -> list[tuple[str, object]]:
    """The outputs of one notebook cell, as (kind, value), consecutive streams merged."""
    found: list[tuple[str, object]] = []
    previous_stream = None
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            if previous_stream == output.name:
                kind, text = found.pop()
                found.append((kind, text + output.text))
            else:
                found.append(("text", output.text))
            previous_stream = output.name
            continue
        previous_stream = None
        if output.output_type == "error":
            found.append(("error", f"{output.ename}: {output.evalue}"))
            continue
        mime = next(m for m in MIME_PRIORITY if m in output.data)
        if mime == "text/html":
            found.append(("html", normal_html(output.data[mime])))
        elif mime.startswith("image/"):
            found.append(("image", base64.b64decode(output.data[mime])))
        else:
            found.append(("text", output.data[mime]))
    return [(k, v.strip("\n") if k == "text" else v) for k, v in found]


def normal_html(markup: str) -> str:
    return str(BeautifulSoup(markup, "html.parser")).strip()


def pixels(image: Path | bytes) -> np.ndarray:
    data = image.read_bytes() if isinstance(image, Path) else image
    with Image.open(io.BytesIO(data)) as picture:
        return np.asarray(picture.convert("RGBA"), dtype=np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def output_differences(root: Path, page: str, notebook: nbformat.NotebookNode) -> list[str]:
    """Every way the notebook's outputs differ from the page's (cell by cell, output by output)."""
    code = [  # after the install cell; not the cells the page hides (state, settings)
        c
        for c in notebook.cells[1:]
        if c.cell_type == "code" and not c.metadata.get("reader", {}).get("hidden_on_page")
    ]
    # the page as built, its players' frames put back from the site's files (the notebook's
    # are inline): put back before parsing, as the build wrote them
    built = inline_data(read_html(root / page), (root / page).parent)
    shown = BeautifulSoup(built, "html.parser").select("article div.cell")
    if len(code) != len(shown):
        return [f"{len(code)} code cells after the install cell, the page shows {len(shown)}"]
    problems = []
    for n, (cell, div) in enumerate(zip(code, shown, strict=True), 1):
        ours, theirs = notebook_outputs(cell), page_outputs(root, page, div)
        first = cell.source.strip().splitlines()[:1]
        if [k for k, _ in ours] != [k for k, _ in theirs]:
            problems.append(f"cell {n} {first}: outputs {ours!r:.300} ≠ page {theirs!r:.300}")
            continue
        for (kind, mine), (_, page_value) in zip(ours, theirs, strict=True):
            if kind == "image":
                a, b = pixels(mine), pixels(page_value)
                if a.shape != b.shape or psnr(a, b) < MIN_PSNR:
                    problems.append(f"cell {n} {first}: image differs from {page_value.name}")
            elif kind == "error":  # frames name paths and cell numbers: compare the exception
                if not page_value.endswith(mine):
                    problems.append(f"cell {n} {first}: {mine!r} not the page's {page_value!r}")
            elif mine != page_value:
                problems.append(f"cell {n} {first}: {mine!r:.300} ≠ page {page_value!r:.300}")
    return problems


# --- the tests ---------------------------------------------------------------------------------


def test_reader_venv_holds_only_what_a_reader_installs(reader_python: Path, tmp_path: Path):
    """descent comes from the installed wheel; myst-nb, Sphinx and jupytext are absent."""
    probe = (
        "import importlib.util as u, descent, importlib.metadata as m\n"
        "print(descent.__file__)\n"
        "print(m.version('descent-book'))\n"
        "print([n for n in ('myst_nb', 'sphinx', 'jupyter_book', 'jupytext') if u.find_spec(n)])"
    )
    done = subprocess.run(
        [str(reader_python), "-c", probe],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    where, version, build_tools = done.stdout.splitlines()
    assert Path(where).is_relative_to(READER_VENV / "lib"), where
    pyproject = (ROOT / "pyproject.toml").read_text()
    base, label = version.split("+")  # the wheel's version names the commit it was built at
    assert re.search(rf'^version = "{re.escape(base)}"', pyproject, re.M), version
    assert re.fullmatch(r"g[0-9a-f]{12}(\.dirty)?", label), version
    assert build_tools == "[]", f"the reader venv has build-only packages: {build_tools}"


@pytest.mark.timeout(1800)
def test_reader_notebook_runs_and_matches_the_page(
    site_root: Path, nb_doc: str, reader_python: Path, tmp_path: Path
) -> None:
    """Run the notebook where a reader would; every output equals the page's."""
    source = reader_notebook_path(site_root, nb_doc)
    assert source.is_file(), f"{nb_doc}: no reader notebook {source}"
    work = tmp_path / "reader"
    work.mkdir()
    assert not work.resolve().is_relative_to(ROOT)
    (work / source.name).write_bytes(source.read_bytes())
    done = subprocess.run(
        [str(reader_python), "-c", RUN, source.name, "executed.ipynb"],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"{nb_doc}: the notebook failed:\n{done.stderr[-3000:]}"
    notebook = nbformat.read(work / "executed.ipynb", as_version=4)
    probe = notebook.cells.pop()
    # two prints can arrive as two stream messages: read the cell's output merged, as the page is
    ((_, printed),) = notebook_outputs(probe)
    executable, module = printed.splitlines()
    assert Path(executable).parent == READER_PYTHON.parent, executable
    assert Path(module).is_relative_to(READER_VENV / "lib"), f"descent from {module}"
    problems = output_differences(site_root, nb_doc, notebook)
    assert not problems, f"{nb_doc}:\n  " + "\n  ".join(problems)


def test_reader_notebook_as_downloaded_matches_the_page(site_root: Path, nb_doc: str) -> None:
    """The stored outputs of the download are the page's too (every output kept)."""
    notebook = read_reader_notebook(site_root, nb_doc)
    problems = output_differences(site_root, nb_doc, notebook)
    assert not problems, f"{nb_doc}:\n  " + "\n  ".join(problems)


def install_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    first = notebook.cells[0]
    assert first.cell_type == "code" and "install" in first.metadata.get("tags", []), (
        "the first cell is not the install cell"
    )
    return first


def code_tree(source: str) -> ast.Module:
    """A code cell parsed, its IPython magic lines (``%xmode``, ``%%capture``) left out."""
    return ast.parse("\n".join(line for line in source.splitlines() if not line.startswith("%")))


def test_reader_notebook_cells(site_root: Path, nb_doc: str) -> None:
    """Install cell first; no MyST, no build-only import, call or cell anywhere."""
    notebook = read_reader_notebook(site_root, nb_doc)
    install = install_cell(notebook)
    (wheel,) = (site_root / "_static" / "wheels").glob("descent_book-*.whl")
    version = wheel.name.split("-")[1]
    assert f'!= "{version}"' in install.source and wheel.name in install.source
    problems = []
    for n, cell in enumerate(notebook.cells, 1):
        tags = set(cell.metadata.get("tags", []))
        tree = code_tree(cell.source) if cell.cell_type == "code" else ast.Module(body=[])
        hidden = cell.metadata.get("reader", {}).get("hidden_on_page")
        if hidden and any(isinstance(node, ast.Assert) for node in ast.walk(tree)):
            problems.append(f"cell {n}: a hidden cell keeps its asserts")
        if tags & BUILD_ONLY_TAGS:
            problems.append(f"cell {n} tagged {sorted(tags & BUILD_ONLY_TAGS)}")
        if cell.cell_type == "markdown":
            problems += [f"cell {n}: {left}" for left in leftover_syntax(cell.source)]
            if re.search(r"^\([\w-]+\)=\s*$", cell.source, re.M):
                problems.append(f"cell {n}: a label line")
        elif cell.cell_type == "code":
            for node in ast.walk(tree):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = [getattr(node, "module", None) or ""] + [a.name for a in node.names]
                    if any(name.split(".")[0] == "myst_nb" for name in names):
                        problems.append(f"cell {n} imports myst_nb")
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "glue":
                    problems.append(f"cell {n} calls glue()")
    assert not problems, f"{nb_doc}:\n  " + "\n  ".join(problems)


def test_page_links_the_reader_notebook(site_root: Path, nb_doc: str) -> None:
    """The download button gives the reader notebook; Binder and Colab open the same file from
    the ``notebooks`` branch, whose tree (``_build/notebooks``) holds it byte for byte."""
    from conftest import BASEURL, CONFIG

    soup = soup_of(site_root / nb_doc)
    page_url = urljoin(BASEURL, nb_doc)
    hrefs = [urljoin(page_url, a["href"]) for a in soup.find_all("a", href=True)]
    docname = nb_doc.removesuffix(".html")
    assert urljoin(BASEURL, f"notebooks/{docname}.ipynb") in hrefs, f"{nb_doc}: no download"
    owner_repo = urlsplit(CONFIG["repository"]["url"]).path.strip("/")
    colab = f"https://colab.research.google.com/github/{owner_repo}/blob/notebooks/{docname}.ipynb"
    binder = f"https://mybinder.org/v2/gh/{owner_repo}/notebooks?urlpath=lab/tree/{docname}.ipynb"
    assert colab in hrefs, f"{nb_doc}: no Colab link {colab}"
    assert binder in hrefs, f"{nb_doc}: no Binder link {binder}"
    published = site_root.parent / "notebooks" / f"{docname}.ipynb"
    assert published.is_file(), f"the notebooks branch tree has no {docname}.ipynb"
    assert published.read_bytes() == reader_notebook_path(site_root, nb_doc).read_bytes()


# --- the install cell's two routes -------------------------------------------------------------


def throwaway_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def run_install_cell(python: Path, source: str, cwd: Path) -> subprocess.CompletedProcess:
    """The cell's code, run by ``python`` (dependencies not installed: ``--no-deps`` added)."""
    no_deps = source.replace('"--quiet"]', '"--quiet", "--no-deps"]')
    assert no_deps != source, "the install cell's pip command changed shape"
    return subprocess.run(
        [str(python), "-c", no_deps], cwd=cwd, env=clean_env(), capture_output=True, text=True
    )


def installed_version(python: Path, cwd: Path) -> str:
    code = "import importlib.metadata as m; print(m.version('descent-book'))"
    done = subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True, text=True)
    return done.stdout.strip()


def installed_commit(python: Path, cwd: Path) -> str:
    """The commit pip recorded for descent-book (PEP 610 ``direct_url.json``), or ""."""
    code = (
        "import importlib.metadata as m, json; "
        "d = m.distribution('descent-book').read_text('direct_url.json'); "
        "print(json.loads(d).get('vcs_info', {}).get('commit_id', '') if d else '')"
    )
    done = subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.mark.timeout(600)
def test_install_cell_routes(site_root: Path, site_server, tmp_path: Path) -> None:
    """The cell installs descent-book from the site's wheel (served locally) when missing and
    does nothing when it is there; the repository route (``git+file://`` of this repository at
    the commit the cell names) installs that commit, whose version the wheel's carries."""
    notebook = nbformat.read(next((site_root / "notebooks").rglob("*.ipynb")), as_version=4)
    source = install_cell(notebook).source
    wheel_url = re.search(r'^WHEEL = "(.+)"$', source, re.M).group(1)
    assert wheel_url.startswith(urljoin(__import__("conftest").BASEURL, "_static/wheels/"))
    local_wheel = site_server.base + wheel_url.split("/descent/", 1)[1]
    version = re.search(r'if installed != "(.+)":', source).group(1)

    python = throwaway_venv(tmp_path / "wheel-route")
    first = run_install_cell(python, source.replace(wheel_url, local_wheel), tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert installed_version(python, tmp_path) == version
    nowhere = source.replace(wheel_url, "http://127.0.0.1:9/missing.whl")  # would fail
    again = run_install_cell(python, nowhere, tmp_path)
    assert again.returncode == 0, "the cell reinstalled an installed version: " + again.stderr

    repository = re.search(r'pip install "descent-book(?:\[\w+\])? @ (\S+)"', source).group(1)
    commit = repository.rsplit("@", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{40}", commit), f"not a commit: {commit}"
    python = throwaway_venv(tmp_path / "git-route")
    # A file URL cannot follow "name @" (PEP 508 wants a host): the same VCS URL, unnamed.
    local = repr(f"git+file://{ROOT}@{commit}")
    git_route = re.sub(r'f"descent-book(\[\w+\])? @ \{WHEEL\}"', lambda _: local, source)
    assert git_route != source, "the install cell's requirement changed shape"
    done = run_install_cell(python, git_route, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    # the wheel's version names the book's commit; the source route installs that commit
    assert re.fullmatch(rf"\d+\.\d+\.\d+\+g{commit[:12]}(\.dirty)?", version), version
    assert installed_version(python, tmp_path) == version.split("+")[0]
    assert installed_commit(python, tmp_path) == commit


# --- Binder ------------------------------------------------------------------------------------


def constraint(name: str) -> str:
    text = (ROOT / "constraints.txt").read_text()
    return re.search(rf"^{re.escape(name)}==(\S+)", text, re.M | re.I).group(1)


def test_binder_pins_python_311_and_cpu_torch() -> None:
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [
        line.strip()
        for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    pins = dict(line.split("==") for line in lines if "==" in line)
    assert pins["torch"] == constraint("torch") + "+cpu"
    assert pins["torchvision"] == constraint("torchvision") + "+cpu"
    for name in ("numpy", "matplotlib", "pillow", "fastai"):
        assert pins[name] == constraint(name), f"binder pins {name}=={pins[name]}"


def test_notebooks_branch_tree(site_root: Path) -> None:
    """The tree the deploy job publishes: the reader notebooks, binder/ as in the repository."""
    tree = site_root.parent / "notebooks"
    for name in ("runtime.txt", "requirements.txt"):
        assert (tree / "binder" / name).read_bytes() == (ROOT / "binder" / name).read_bytes()
    in_site = site_root / "notebooks"
    site = sorted(p.relative_to(in_site) for p in in_site.rglob("*.ipynb"))
    branch = sorted(p.relative_to(tree) for p in tree.rglob("*.ipynb"))
    assert site and site == branch
    assert json.loads((tree / branch[0]).read_text())["nbformat"] == 4


def test_reader_notebook_streams_are_merged(site_root: Path, nb_doc: str) -> None:
    """Printed text is one stream output per cell and stream, as on the page, however the kernel
    split it into messages (``with_outputs`` in ``_ext/executed_notebooks.py`` merges them, for
    the reader notebook as for the executed copy)."""
    notebook = read_reader_notebook(site_root, nb_doc)
    split = [
        n
        for n, cell in enumerate(notebook.cells, 1)
        for before, after in pairwise(cell.get("outputs", []))
        if before.output_type == after.output_type == "stream" and before.name == after.name
    ]
    assert split == [], f"cells with split stream outputs: {split}"
