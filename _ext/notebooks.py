"""Sphinx extension: offer every executed chapter as a notebook (``.ipynb`` with outputs).

MyST-NB writes each executed notebook to ``_build/jupyter_execute/<docname>.ipynb``. This
extension ships that file in the site as ``_sources/<docname>.ipynb`` and tells the theme about
it, so sphinx-book-theme's download menu gets an ``.ipynb`` entry on every executable page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx


def executed(app: Sphinx, docname: str) -> Path:
    """Where MyST-NB left the executed notebook of ``docname`` (it may not exist)."""
    return Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"


def add_download(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Point the theme's download menu at the executed notebook of a chapter page."""
    if doctree is not None and executed(app, pagename).is_file():
        context["ipynb_source"] = f"{pagename}.ipynb"


def copy_notebooks(app: Sphinx, exception: Exception | None) -> None:
    """Copy each page's executed notebook into the site's ``_sources`` folder."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        source = executed(app, docname)
        if source.is_file():
            target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", add_download, priority=400)
    app.connect("build-finished", copy_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
