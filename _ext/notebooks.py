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

How a kernel splits a cell's printed text into stream messages depends on timing (``print``
writes its arguments and the newline separately; the kernel flushes on a timer), so one
``print("True")`` arrives as ``"True\n"`` or as ``"True"`` + ``"\n"``. :func:`merge_streams`
joins consecutive stream outputs of one name, exactly, for both the pages (it replaces
MyST-NB's ``nb_merge_streams`` merger, which strips each piece and so turns ``"a"`` + ``" b\n"``
into ``"a\n b\n"``) and the downloaded notebooks.
"""

from __future__ import annotations

from pathlib import Path

import myst_nb.core.render
import nbformat
from jupyter_cache import get_cache
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError


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


def merge_streams(outputs: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """``outputs`` with each run of consecutive stream outputs of one name joined into one.

    The text is concatenated exactly (nothing stripped or added), so the result is the same
    however the kernel split it into messages. Other outputs keep their order and place.
    Returns a new list; the first output of each run is copied, the input is not modified.
    """
    merged: list[nbformat.NotebookNode] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] += output["text"]
        elif output.get("output_type") == "stream":
            merged.append(nbformat.from_dict({**output, "text": output["text"]}))
        else:
            merged.append(output)
    return merged


def merged_streams(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` with :func:`merge_streams` applied to every code cell's outputs."""
    for cell in notebook.cells:
        if "outputs" in cell:
            cell["outputs"] = merge_streams(cell["outputs"])
    return notebook


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
            notebook = with_outputs(app, nbformat.read(source, as_version=4))
            notebook = stable_ids(merged_streams(notebook))
            target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(nbformat.writes(notebook), encoding="utf-8")


def use_merge_streams_for_pages(app: Sphinx, config) -> None:
    """Make MyST-NB merge page outputs with :func:`merge_streams` (needs ``nb_merge_streams``)."""
    if not config.nb_merge_streams:
        raise ExtensionError("notebooks: set nb_merge_streams: true, or pages depend on timing")
    if not hasattr(myst_nb.core.render, "coalesce_streams"):  # MyST-NB moved its merger
        raise ExtensionError("notebooks: myst_nb.core.render.coalesce_streams not found")
    myst_nb.core.render.coalesce_streams = merge_streams


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", use_merge_streams_for_pages)
    app.connect("html-page-context", add_download, priority=400)
    app.connect("build-finished", copy_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
