"""Sphinx extension: unload sphinx-thebe, which Jupyter Book 1 always loads.

The book does not run code in the browser, yet sphinx-thebe adds its script to every page — twice
on an incremental build, where the browser then throws ``Identifier 'THEBE_JS_URL' has already
been declared`` — and points it at a third-party CDN. Jupyter Book offers no switch to drop the
extension, so this one removes its event handlers and assets before anything is written.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def unload_thebe(app: Sphinx) -> None:
    """Disconnect every sphinx_thebe listener and drop its stylesheet."""
    for listeners in app.events.listeners.values():
        listeners[:] = [
            listener
            for listener in listeners
            if getattr(listener.handler, "__module__", "") != "sphinx_thebe"
        ]
    app.registry.css_files = [
        (name, attrs) for name, attrs in app.registry.css_files if name != "sphinx-thebe.css"
    ]


def setup(app: Sphinx) -> dict:
    unload_thebe(app)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
