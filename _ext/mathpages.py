"""Sphinx extension: MathJax only on the pages that show math themselves.

Sphinx adds MathJax to a page whose own text has math *or any page its toctree includes* has
(``MathDomain.has_equations``), so the landing page, whose toctree lists every chapter, loaded
all of MathJax (``tex-chtml.js``, 1.1 MB) to typeset nothing. This extension takes MathJax and
its configuration script off every page without math of its own.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def is_mathjax(asset: object, path: str) -> bool:
    """Whether `asset` (a page's script) is MathJax itself or its ``window.MathJax`` setup."""
    filename = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    setup = body.startswith(("window.MathJax", "MathJax.Hub"))
    return filename in (path, f"_static/{path}") or setup


def drop_mathjax(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Remove MathJax from `pagename` unless its own text has math."""
    if app.builder.format != "html" or not app.config.mathjax_path:
        return
    if app.env.get_domain("math").data["has_equations"].get(pagename, False):
        return
    scripts = context.get("script_files", [])
    scripts[:] = [s for s in scripts if not is_mathjax(s, app.config.mathjax_path)]


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", drop_mathjax, priority=800)  # after sphinx.ext.mathjax (500)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
