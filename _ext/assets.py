"""Sphinx extension: every page links its stylesheets and scripts with a content checksum.

Sphinx 7 appends ``?v=<crc32 of the file>`` to a local css/js link only if the file is already
in the output folder when the page is written. Two extensions copy theirs only at
``build-finished``, after every page is written: MyST-NB (``_static/mystnb.<hash>.css``) and
sphinx-mathjax-offline (``_static/mathjax/``). A clean build therefore linked them without
``?v=`` and an incremental rebuild with it (the previous build had left the files), so a page's
bytes depended on the build folder's history, and without the checksum a reader's browser may
keep a stale copy after an update.

This extension runs those two copies at ``write-started``, before any page is written, so every
build links them with the checksum of the files it ships (the copies at ``build-finished``
write the same bytes again). It also checks the whole kind: a page that links a local css/js
file which is not in the output folder when the page is written gets a warning (an error under
``-W``) naming the file, so a new extension that copies late cannot bring the difference back.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from myst_nb.sphinx_ext import add_global_html_resources
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def copy_late_assets(app: Sphinx, builder) -> None:
    """Copy the static files that MyST-NB and sphinx-mathjax-offline copy after the pages."""
    if builder.format != "html":
        return
    Path(app.outdir, "_static").mkdir(parents=True, exist_ok=True)  # Sphinx makes it later
    add_global_html_resources(app, None)
    mathjax_offline = importlib.import_module("sphinx-mathjax-offline")
    mathjax_offline.copy_mathjax_files(app, None)


def local_asset(filename: object) -> str | None:
    """The output-relative path of a local css/js asset, or None (inline, URL, or none)."""
    name = os.fspath(filename) if isinstance(filename, (str, os.PathLike)) else ""
    if not name or "://" in name or name.startswith("//"):
        return None
    return name


def check_assets(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Warn about each local css/js file the page links that is not in the output folder yet."""
    outdir = Path(app.outdir)
    files = [*context.get("css_files", []), *context.get("script_files", [])]
    for asset in files:
        name = local_asset(getattr(asset, "filename", asset))
        if name and not (outdir / name).is_file():
            logger.warning(
                "%s is linked before it is copied: its link would have no ?v= checksum",
                name,
                location=pagename,
                type="assets",
                subtype="late",
            )


def setup(app: Sphinx) -> dict:
    app.connect("write-started", copy_late_assets)
    app.connect("html-page-context", check_assets, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
