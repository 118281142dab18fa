"""Sphinx extension: on the site, each animation's frames in files, off the critical path.

A player (``descent.player``) carries its frames inline, so a notebook output or a download is
self-contained. On a web page that block (the animation chapter: ~500 kB gzip) comes before
the rest of the article. For the ``html`` builder only, this extension moves each player's data
block to ``_static/anim/<hash>.json`` and its first frame to ``_static/anim/<hash>.png`` (named by
the SHA-256 of their bytes: the same in clean, incremental and loaded builds); the block is left
empty with a ``data-src``, the file's URL relative to the page, and the ``<img>`` loads the PNG
lazily; ``player.js`` fetches the data once the page has loaded. The single page that
``make pdf`` prints (``singlehtml``), the executed notebooks and the reader notebooks keep their
frames inline. The transformation itself is :func:`descent.player.datafile.move_data_out`.

It works on the resolved doctree's raw HTML nodes (MyST-NB's ``text/html`` outputs), in the
main process, before the page is written (``doctree-resolved``): safe under ``-j``. A data file
that no page references any more (an incremental rebuild after an animation changed) is removed
with every other unreferenced file by ``_ext/sitefiles.py``, so an incremental build leaves the
same files as a clean one.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.osutil import relative_uri


def write_file(folder: Path, name: str, data: bytes) -> None:
    """Write `data` to ``folder/name`` unless that file already holds them."""
    path = folder / name
    if path.is_file() and path.read_bytes() == data:
        return
    folder.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def move_player_data(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Move the data and first frame of every player on `docname` to files (site pages only)."""
    if app.builder.name != "html":
        return
    from descent.player.datafile import DATA_FOLDER, move_data_out  # imported when used

    page = app.builder.get_target_uri(docname)
    folder = Path(app.outdir, DATA_FOLDER)
    for node in doctree.findall(nodes.raw):
        if "html" not in node.get("format", "").split():
            continue
        html, files = move_data_out(
            node.astext(), lambda name: relative_uri(page, f"{DATA_FOLDER}/{name}")
        )
        if not files:
            continue
        for name, data in files.items():
            write_file(folder, name, data)
        node[:] = [nodes.Text(html)]


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", move_player_data)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
