"""Sphinx extension: what a reader takes away to run a chapter anywhere.

After an HTML build it writes

- ``_static/wheels/descent_book-<version>-py3-none-any.whl``: the wheel of ``src/descent`` as
  this build ran it, built offline (``pip wheel --no-deps --no-build-isolation --no-index``) from
  a clean copy of the package, with ``SOURCE_DATE_EPOCH`` from the commit time, so two builds of
  one commit give the same bytes;
- ``notebooks/<docname>.ipynb`` for every executed chapter, the **reader notebook**: a first cell
  that installs descent-book at this version when it is missing, then the chapter as the page
  shows it, in plain Markdown and without build-only cells (:mod:`reader_cells`,
  :mod:`myst_markdown`), with every output of the page;
- ``<outdir>/../notebooks/``: the tree the deploy job publishes to the ``notebooks`` branch,
  which Binder and Colab open: the same notebooks, ``binder/`` and a README.

On each chapter page the download menu's ``.ipynb`` is the reader notebook, and the launch menu
opens it from the ``notebooks`` branch on Binder (JupyterLab) and Colab.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
from docutils import nodes
from myst_nb.core.variables import format_plain_text
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging

import myst_markdown
from executed_notebooks import executed, with_outputs
from provenance import source_commit
from reader_cells import figure_caption, reader_code_cell

logger = logging.getLogger(__name__)

DIST = "descent-book"
BRANCH = "notebooks"  # the branch the deploy job publishes the reader notebooks to
SITE_FOLDER = "notebooks"  # _build/html/notebooks/<docname>.ipynb
WHEELS = "_static/wheels"
PY_ROLES = {"func", "class", "meth", "mod", "attr", "data", "exc", "obj"}
GLUE_TEXT_ROLES = {"glue", "glue:", "glue:any", "glue:text"}
COLAB = "https://colab.research.google.com"
BINDER = "https://mybinder.org"


# --- the wheel --------------------------------------------------------------------------------


def commit_time(root: Path) -> str:
    """``SOURCE_DATE_EPOCH`` for the wheel: the commit's time, else the environment's, else 1980."""
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=root, capture_output=True, text=True
        )
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    except OSError:
        pass
    return os.environ.get("SOURCE_DATE_EPOCH", "315532800")


def stamp_version(pyproject: Path, commit: str) -> None:
    """Give the version in `pyproject` the commit as a PEP 440 local label (``0.1.0`` →
    ``0.1.0+g1234567890ab``, ``.dirty`` for uncommitted changes), so every build of the book
    has a version of its own and the install cell replaces a reader's older install."""
    sha, dirty = commit.removesuffix("+dirty"), commit.endswith("+dirty")
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        return  # no commit known: the plain version
    label = f"g{sha[:12]}" + (".dirty" if dirty else "")
    text = pyproject.read_text(encoding="utf-8")
    line = re.compile(r'^version = "([^"+]+)"', re.M)
    stamped = line.sub(rf'version = "\1+{label}"', text, count=1)
    if stamped == text:
        raise ValueError(f'{pyproject}: no static version = "…" line to stamp')
    pyproject.write_text(stamped, encoding="utf-8")


def build_wheel(root: Path, target: Path) -> Path:
    """Build descent-book's wheel from ``root`` into ``target``; return its path.

    The package is copied (``pyproject.toml``, ``README.md``, ``src`` without caches) into a
    temporary folder first, so the build leaves nothing (``build/``, ``*.egg-info``) behind.
    """
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "package"
        copy.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, copy / name)
        stamp_version(copy / "pyproject.toml", source_commit(root))
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        shutil.copytree(root / "src", copy / "src", ignore=ignore)
        dist = Path(tmp) / "dist"
        env = {**os.environ, "SOURCE_DATE_EPOCH": commit_time(root)}
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        command += ["--no-index", "--quiet", "-w", str(dist), str(copy)]
        subprocess.run(command, check=True, env=env, capture_output=True)
        (wheel,) = dist.glob("*.whl")
        return place_wheel(wheel, target)


def place_wheel(wheel: Path, target: Path) -> Path:
    """Copy `wheel` into ``target`` as its only wheel; return the copy's path."""
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.whl"):
        old.unlink()
    return Path(shutil.copy2(wheel, target / wheel.name))


def start_wheel(app: Sphinx) -> None:
    """Start building the wheel (``pip wheel``, a few seconds) in the background as the build
    begins: it needs only the package's sources, so it runs while the chapters execute;
    :func:`finish_wheel` waits for it."""
    if app.builder.name != "html" or not has_package(app):
        return
    staging = Path(tempfile.mkdtemp(prefix="descent-wheel-"))
    pool = ThreadPoolExecutor(1)
    app._descent_wheel = (pool.submit(build_wheel, Path(app.srcdir), staging), staging)
    pool.shutdown(wait=False)


def finish_wheel(app: Sphinx, target: Path | None) -> Path | None:
    """The wheel :func:`start_wheel` built, copied into `target` (None: only wait for it and
    clean up); built now if none was started. Raises what the build raised."""
    started = getattr(app, "_descent_wheel", None)
    if started is None:
        return None if target is None else build_wheel(Path(app.srcdir), target)
    app._descent_wheel = None
    future, staging = started
    try:
        wheel = future.result()
        return None if target is None else place_wheel(wheel, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# --- the install cell -------------------------------------------------------------------------


def wheel_version(wheel: Path) -> str:
    """The version in a wheel's file name (``descent_book-0.1.0-py3-none-any.whl`` → 0.1.0)."""
    return wheel.name.split("-")[1]


INSTALL = """\
# Installs descent-book {version}, the small library this book's code runs on, unless this
# version is already installed: from the wheel published with the book. The packages it needs
# that are already installed (torch on Colab) are kept. The version names the book's commit.
# The same library, from the book's source at that commit:
#   pip install "{dist}{extras} @ {repository}"
import importlib.metadata
import subprocess
import sys

WHEEL = "{wheel_url}"
try:
    installed = importlib.metadata.version("{dist}")
except importlib.metadata.PackageNotFoundError:
    installed = None
if installed != "{version}":
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, f"{dist}{extras} @ {{WHEEL}}"], check=True)
"""


def install_cell(app: Sphinx, wheel: Path, needs_fastai: bool) -> nbformat.NotebookNode:
    """The first cell of every reader notebook (see :data:`INSTALL`)."""
    base = app.config.html_baseurl.rstrip("/") + "/"
    commit = source_commit(Path(app.srcdir)).removesuffix("+dirty")
    source = INSTALL.format(
        version=wheel_version(wheel),
        dist=DIST,
        extras="[fastai]" if needs_fastai else "",
        wheel_url=f"{base}{WHEELS}/{wheel.name}",
        repository=f"git+{repository_url(app)}@{commit}",
    )
    cell = nbformat.v4.new_code_cell(source=source.rstrip("\n"))
    cell.metadata["tags"] = ["install"]
    return cell


def repository_url(app: Sphinx) -> str:
    """``https://github.com/<owner>/<repo>`` from the theme's ``repository_url``."""
    return app.config.html_theme_options["repository_url"].rstrip("/")


# --- roles as Markdown ------------------------------------------------------------------------


class Roles:
    """Turns the roles of one chapter into Markdown: glued values, and links to the site."""

    def __init__(self, app: Sphinx, docname: str, glue: dict) -> None:
        self.app, self.docname, self.glue = app, docname, glue

    def __call__(self, name: str, content: str) -> str:
        if name in GLUE_TEXT_ROLES:
            key, _, spec = content.partition(":")
            if key not in self.glue:
                raise LookupError(f"no glued value {key!r}")
            return format_plain_text(self.glue[key]["data"]["text/plain"], spec)
        if name in ("ref", "numref", "doc"):
            return self.xref("std", name, content)
        if name.startswith("py:") or name in PY_ROLES:
            return self.xref("py", name.removeprefix("py:"), content)
        if name.startswith("cite"):
            return self.xref("cite", "p", content)
        if name == "math":
            return f"${content}$"
        raise LookupError("no Markdown form for this role")

    def xref(self, domain: str, typ: str, content: str) -> str:
        """A link to what Sphinx's domain resolves the reference to, on the published site."""
        title, target = split_title(content)
        if domain == "py":
            title, target = py_title(typ, title, target)
        node = addnodes.pending_xref(
            "", refdomain=domain, reftype=typ, reftarget=target, refdoc=self.docname
        )
        node["refexplicit"] = title is not None
        text = title if title is not None else target
        contnode = nodes.literal(text, text) if domain == "py" else nodes.inline(text, text)
        resolved = self.app.env.get_domain(domain).resolve_xref(
            self.app.env, self.docname, self.app.builder, typ, target, node, contnode
        )
        if resolved is None:
            raise LookupError(f"Sphinx cannot resolve {target!r}")
        return self.markdown(resolved)

    def markdown(self, node: nodes.Node) -> str:
        """A resolved reference (or the citation group ``{cite}`` gives) as Markdown."""
        if isinstance(node, nodes.reference):
            text = node.astext()
            if node.next_node(nodes.literal) is not None:
                text = f"`{text}`"
            return f"[{text}]({self.absolute(node)})"
        if isinstance(node, nodes.Text):
            return node.astext()
        return "".join(self.markdown(child) for child in node.children)

    def absolute(self, node: nodes.reference) -> str:
        """The reference's URL on the published site."""
        base = self.app.config.html_baseurl.rstrip("/") + "/"
        here = self.app.builder.get_target_uri(self.docname)
        if "refuri" in node:
            uri = node["refuri"]
            if urlsplit(uri).scheme:
                return uri
            page = Path(here).parent / uri.split("#")[0] if uri.split("#")[0] else Path(here)
            anchor = "#" + uri.split("#", 1)[1] if "#" in uri else ""
            return base + os.path.normpath(page).replace(os.sep, "/") + anchor
        return f"{base}{here}#{node['refid']}"


def split_title(content: str) -> tuple[str | None, str]:
    """``title <target>`` → (title, target); ``target`` → (None, target)."""
    content = " ".join(content.split())
    if content.endswith(">") and " <" in content:
        title, target = content[:-1].rsplit(" <", 1)
        return title.strip(), target.strip()
    return None, content


def py_title(typ: str, title: str | None, target: str) -> tuple[str, str]:
    """Title and target of a Python role as Sphinx's ``PyXRefRole`` writes them."""
    if title is None:
        title = target.lstrip("~.")
        if target.startswith("~"):
            title = title.split(".")[-1]
        if typ in ("func", "meth"):
            title += "()"
    return title, target.lstrip("~")


# --- the reader notebook ----------------------------------------------------------------------


def glue_data(app: Sphinx, docname: str) -> dict:
    """What the chapter glued, as myst-nb stored it next to the executed notebook."""
    path = executed(app, docname).with_suffix(".glue.json")
    return json.loads(path.read_text()) if path.is_file() else {}


def caption_cell(app: Sphinx, docname: str, name: str, caption: str, roles: Roles):
    """A Markdown cell with the figure's number (as on the page) and caption."""
    number = app.env.toc_fignumbers.get(docname, {}).get("figure", {}).get(name)
    label = ""
    if number:
        label = app.config.numfig_format["figure"] % ".".join(map(str, number)) + " "
    text = myst_markdown.convert(caption, roles).strip()
    return nbformat.v4.new_markdown_cell(f"*{label}{text}*" if label else f"*{text}*")


def reader_notebook(app: Sphinx, docname: str, wheel: Path) -> nbformat.NotebookNode:
    """The reader notebook of one executed chapter."""
    chapter = with_outputs(app, nbformat.read(executed(app, docname), as_version=4))
    roles = Roles(app, docname, glue_data(app, docname))
    code = "\n".join(c.source for c in chapter.cells if c.cell_type == "code")
    cells = [install_cell(app, wheel, needs_fastai="fastai" in code or "fit_learner" in code)]
    for cell in chapter.cells:
        if cell.cell_type == "markdown":
            text = myst_markdown.convert(cell.source, roles)
            if text.strip():
                cells.append(nbformat.v4.new_markdown_cell(text.rstrip("\n")))
        elif cell.cell_type == "code":
            new = reader_code_cell(cell)
            if new is not None:
                cells.append(new)
                caption = figure_caption(cell)
                if caption:
                    cells.append(caption_cell(app, docname, *caption, roles))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = {
        "kernelspec": chapter.metadata["kernelspec"],
        "language_info": {"name": "python"},
    }
    for number, cell in enumerate(notebook.cells, 1):
        cell["id"] = f"cell-{number}"
    nbformat.validate(notebook)
    return notebook


def write_reader_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Build the wheel, then every chapter's reader notebook, into the site and the branch tree."""
    if exception is not None or app.builder.name != "html":  # the site, not make pdf's page
        finish_wheel(app, None)
        return
    if not has_package(app):
        logger.info("reader: no pyproject.toml in %s, no reader notebooks", app.srcdir)
        return
    out = Path(app.outdir)
    wheel = finish_wheel(app, out / WHEELS)
    branch = branch_folder(app)
    shutil.rmtree(branch, ignore_errors=True)
    for docname in sorted(app.env.found_docs):
        if not executed(app, docname).is_file():
            continue
        try:
            notebook = reader_notebook(app, docname, wheel)
        except ValueError as error:
            logger.warning("reader notebook of %s: %s", docname, error, location=docname)
            continue
        text = nbformat.writes(notebook) + "\n"
        for folder in (out / SITE_FOLDER, branch):
            path = folder / f"{docname}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    write_branch_extras(app, branch)


def has_package(app: Sphinx) -> bool:
    """The book holds the package its chapters import (not so the build tests' fixture books)."""
    return (Path(app.srcdir) / "pyproject.toml").is_file()


def branch_folder(app: Sphinx) -> Path:
    """Where the build leaves the ``notebooks`` branch's tree: ``_build/notebooks``."""
    return Path(app.outdir).parent / BRANCH


def write_branch_extras(app: Sphinx, branch: Path) -> None:
    """``binder/`` (from the repository) and a README saying what the branch is."""
    shutil.copytree(Path(app.srcdir) / "binder", branch / "binder")
    base = app.config.html_baseurl
    (branch / "README.md").write_text(
        "# Reader notebooks\n\n"
        f"The chapters of [{app.config.html_title}]({base}) as notebooks to run: each starts by\n"
        f"installing {DIST}, the library they use. This branch is written by the deploy job\n"
        f"from the `main` branch of {repository_url(app)}; edit the book there, not here.\n",
        encoding="utf-8",
    )


# --- the buttons ------------------------------------------------------------------------------


def launch_urls(app: Sphinx, docname: str) -> dict[str, str]:
    """Binder and Colab URLs that open ``docname``'s reader notebook from the branch."""
    owner, repo = urlsplit(repository_url(app)).path.strip("/").split("/")[:2]
    path = f"{docname}.ipynb"
    return {
        "Binder": f"{BINDER}/v2/gh/{owner}/{repo}/{BRANCH}?urlpath=lab/tree/{path}",
        "Colab": f"{COLAB}/github/{owner}/{repo}/blob/{BRANCH}/{path}",
    }


def point_buttons(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Download and launch buttons of a chapter page → its reader notebook (after the theme)."""
    if doctree is None or not has_package(app) or not executed(app, pagename).is_file():
        return
    urls = launch_urls(app, pagename)
    pathto = context["pathto"]
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []):
            if button.get("label") == "download-notebook-button":
                button["url"] = pathto(f"{SITE_FOLDER}/{pagename}.ipynb", 1)
                button["tooltip"] = "Download the notebook (installs what it needs)"
            elif group.get("label") == "launch-buttons" and button.get("text") in urls:
                button["url"] = urls[button["text"]]
                button["tooltip"] = f"Open this chapter's notebook in {button['text']}"


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", point_buttons, priority=502)  # after the theme's (501)
    app.connect("builder-inited", start_wheel)
    app.connect("build-finished", write_reader_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
