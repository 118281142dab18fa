"""Sphinx extension: offer every executed chapter as a notebook (``.ipynb`` with outputs).

MyST-NB writes each executed notebook to ``_build/jupyter_execute/<docname>.ipynb``. This
extension ships that file in the site as ``_sources/<docname>.ipynb`` and tells the theme about
it, so sphinx-book-theme's download menu gets an ``.ipynb`` entry on every executable page.

With ``execute_notebooks: cache``, MyST-NB writes that file *without outputs* when a chapter's
outputs come from the cache (it merges them into a copy it does not write), so a rebuild with a
warm cache would ship empty notebooks. The copy therefore takes the outputs from the execution
cache, the same ones the page shows, whenever the cache holds the notebook.

jupytext gives every cell of a MyST chapter a *random* id (nbformat 4.5 cell ids) each time it
reads it, so two builds would ship different notebooks; the copy numbers the cells instead.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from sphinx.application import Sphinx


def executed(app: Sphinx, docname: str) -> Path:
    """Where MyST-NB left the executed notebook of ``docname`` (it may not exist)."""
    return Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"


def add_download(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Point the theme's download menu at the executed notebook of a chapter page."""
    if doctree is not None and executed(app, pagename).is_file():
        context["ipynb_source"] = f"{pagename}.ipynb"


def with_outputs(app: Sphinx, notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` with the outputs the execution cache holds for it (unchanged if none)."""
    cache_path = app.config.nb_execution_cache_path
    if app.config.nb_execution_mode != "cache" or not cache_path:
        return notebook
    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(notebook)
    except KeyError:  # not in the cache (the chapter failed, or was excluded from execution)
        return notebook
    return merged


def stable_ids(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Number the cells (``cell-1``, ``cell-2`` …) in place of jupytext's random ids."""
    for number, cell in enumerate(notebook.cells, 1):
        if "id" in cell:
            cell["id"] = f"cell-{number}"
    return notebook


def copy_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Write each page's executed notebook, with its outputs, into the site's ``_sources``."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        source = executed(app, docname)
        if source.is_file():
            notebook = stable_ids(with_outputs(app, nbformat.read(source, as_version=4)))
            target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(nbformat.writes(notebook), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", add_download, priority=400)
    app.connect("build-finished", copy_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
