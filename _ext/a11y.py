"""Sphinx extension: fix the ARIA roles of docutils' bibliography markup.

docutils writes a bibliography (sphinxcontrib-bibtex's ``{bibliography}``) as
``<div role="list" class="citation-list">`` holding ``<div class="citation"
role="doc-biblioentry">`` entries. DPUB-ARIA 1.1 deprecated ``doc-biblioentry``, so axe-core
ignores it and reports a *critical* ``aria-required-children`` violation: the list's children are
not list items (it sees the ``<a role="doc-backlink">`` inside instead). Each entry is a list
item, so this extension says so: ``role="listitem"``, in the HTML of every page, before writing.
"""

from __future__ import annotations

from sphinx.application import Sphinx

DEPRECATED = 'role="doc-biblioentry"'
FIXED = 'role="listitem"'


def fix_roles(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Replace the deprecated role on the bibliography entries of this page."""
    body = context.get("body")
    if isinstance(body, str) and DEPRECATED in body:
        context["body"] = body.replace(DEPRECATED, FIXED)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", fix_roles)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
