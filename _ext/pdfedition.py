"""Sphinx extension: link the book's PDF edition from every page's download menu.

``make pdf`` (``tools/pdf.py``) prints the whole book to one PDF and puts it in the site at
``pdf_edition`` (``book.pdf``, beside ``index.html``). sphinx-book-theme's download menu
offers the page's ``.ipynb`` and source and prints the page (its ``.pdf`` entry calls
``window.print()``); this adds the whole book's PDF to that menu on every page that has one.
"""

from __future__ import annotations

from sphinx.application import Sphinx

DOWNLOADS = "download-buttons"  # the theme's label of its download menu


def add_pdf_edition(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Append the PDF edition to the page's download menu (after the theme built it)."""
    if app.builder.name != "html":
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == DOWNLOADS:
            button["buttons"].append(
                {
                    "type": "link",
                    "url": context["pathto"](app.config.pdf_edition, 1),
                    "text": "Book (.pdf)",
                    "tooltip": "Download the whole book as one PDF",
                    "icon": "fas fa-book",
                    "label": "download-book-pdf-button",
                }
            )


def setup(app: Sphinx) -> dict:
    app.add_config_value("pdf_edition", "book.pdf", "html", types=[str])
    # after sphinx-book-theme's add_header_buttons (priority 501)
    app.connect("html-page-context", add_pdf_edition, priority=502)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
