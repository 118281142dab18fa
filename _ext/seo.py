"""Sphinx extension: every page of the site a search engine (and Lighthouse) can describe.

1. A page without a ``<meta name="description">`` of its own gets one: sphinxext-opengraph
   describes the pages written from a document, but not the pages Sphinx generates (``search``,
   ``genindex``) nor the 404 page (sphinx-notfound-page). Their descriptions are in
   :data:`DESCRIPTIONS`; any other page without one gets its title and the book's.
2. The site's ``index.html``, which Jupyter Book writes as a bare ``<meta http-equiv="Refresh">``
   line (no doctype: browsers render it in quirks mode), is rewritten as a whole HTML page with
   the same redirect, a title, a description, an empty icon and a link to follow. (Without an
   icon link the browser asks the host's ``/favicon.ico``, outside the site: a 404 that, if it
   lands before the redirect, is a console error, Lighthouse's best practices 96; the site's
   own icon would be a request the redirect aborts. ``data:,`` asks nothing.)
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from sphinx.application import Sphinx

DESCRIPTIONS = {
    "search": "Search every chapter of {project}.",
    "genindex": "The index of {project}: every documented name, in alphabetical order.",
    "404": "This page of {project} does not exist; the contents list every chapter.",
}
REDIRECT = """<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{project}</title>
<meta name="description" content="{description}">
<link rel="icon" href="data:,">
<meta http-equiv="Refresh" content="0; url={target}">
</head>
<body>
<p><a href="{target}">Read {project}</a></p>
</body>
</html>
"""


def book_title(app: Sphinx) -> str:
    """The book's title (``_config.yml``'s ``title``), as the theme gives it to every page."""
    context = getattr(app.builder, "globalcontext", None) or {}
    return str(context.get("docstitle") or app.config.project)


def describe(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Give `pagename` a meta description if it has none."""
    if app.builder.format != "html" or 'name="description"' in context.get("metatags", ""):
        return
    project = book_title(app)
    text = DESCRIPTIONS.get(pagename, "{title}: a page of {project}.")
    text = text.format(project=project, title=html.unescape(context.get("title") or project))
    context["metatags"] = (
        context.get("metatags", "") + f'\n<meta name="description" content="{html.escape(text)}">'
    )


def redirect_page(app: Sphinx, exception: Exception | None) -> None:
    """Rewrite Jupyter Book's one-line ``index.html`` redirect as a whole page."""
    if exception or app.builder.name != "html":
        return
    index = Path(app.outdir, "index.html")
    if not index.is_file():
        return
    target = app.builder.get_target_uri(app.config.root_doc)
    text = index.read_text("utf-8")
    first = Path(app.outdir, target).read_text("utf-8")
    project = html.escape(html.unescape(re.search(r"<title>(.*?)</title>", first, re.S)[1]))
    if target not in text:
        raise ValueError(f"index.html does not redirect to {target}: {text[:200]!r}")
    description = f"{project}: the book starts at its first page."
    index.write_text(
        REDIRECT.format(
            language=html.escape(app.config.language or "en"),
            project=project,
            description=description,
            target=html.escape(target),
        ),
        encoding="utf-8",
    )


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", describe, priority=900)  # after sphinxext-opengraph
    app.connect("build-finished", redirect_page, priority=900)  # after Jupyter Book writes it
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
