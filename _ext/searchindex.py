"""Sphinx extension: the search index is built from every page in every build.

On an incremental build Sphinx 7 loads the previous ``searchindex.js`` and re-indexes only the
pages it rewrites, and that merge differs from a clean build's index: words the previous build
saw stay as keys with no page, and the index entries of pages not rewritten (the API
reference's ``animate_line() (in module …)``) are dropped. So the site depended on the build
folder's history (``make repro`` showed it after an edit and its revert). This extension
deletes the old index before it is loaded and has every page written, so every build indexes
every page afresh. Writing a page reuses its saved doctree: no chapter is read or executed again.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx


def write_every_page(app: Sphinx, env) -> list[str]:
    """Every document, for Sphinx to write (and so index) in this build."""
    return sorted(env.found_docs)


def forget_old_index(app: Sphinx, builder) -> None:
    """Delete the previous build's search index, so nothing of it is merged into this one."""
    name = getattr(builder, "searchindex_filename", None)
    if name:
        Path(app.outdir, name).unlink(missing_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("env-get-updated", write_every_page)
    app.connect("write-started", forget_old_index)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
