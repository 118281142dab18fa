"""Sphinx extension: pages that carry less before their text can show.

pydata-sphinx-theme loads Sphinx's search (``searchtools.js``, ``language_data.js`` and the whole
``searchindex.js``, which grows with the book) synchronously in the ``<head>`` of every page, for
its search-as-you-type dialog, which this book does not turn on (theme option
``search_as_you_type``): the dialog then sends the query to ``search.html``, the only page that
uses them. This extension

1. drops the three search scripts from every page but ``search.html`` when search-as-you-type
   is off (``templates/layout.html`` filters the theme's ``extrahead`` block);
2. gives each image of the page's body from ``_images/`` (the plots) its ``width`` and
   ``height`` (the PNG's pixels, the size it is shown at unless the column is narrower; with
   ``_static/images.css``'s ``height: auto`` it then keeps its aspect ratio), so the browser
   reserves its place before it arrives, and loads every one but the first ``loading="lazy"``:
   the plots below the fold no longer share the slow network with the text and the first plot.
   (Chromium loads lazy images before it prints.)
3. links sphinx-design's stylesheet (55 kB) and tab script only on the pages that use one of
   its components (an element with an ``sd-…`` class): Jupyter Book turns the extension on for
   every book, and this one uses none of it so far;
4. resolves the colour theme in the page's first script (``templates/theme-mode.html``, in
   place of the theme's own): the theme's sets ``data-theme="auto"`` on a first visit, and its
   script sets ``light`` or ``dark`` once the page is parsed, restyling the whole page a second
   time in the middle of loading (book/sgd.html, 7 Lighthouse runs each, alternating: mobile
   performance 91 → 92 and first contentful paint 2.80 → 2.69 s, medians), and showing a
   dark-mode reader the light theme until then.

Measured and not kept: loading the head's scripts ``defer`` brought the first paint earlier but
moved the page's long parse-and-layout task after it, into Lighthouse's total blocking time
(tensors: 88 synchronous, 73 deferred, in the same minutes); ``content-visibility: auto`` on the
sections cut layout work but left axe unable to check their colour contrast (accessibility 96).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from pathlib import Path

from markupsafe import Markup
from PIL import Image
from sphinx.application import Sphinx

THEME_MODE_SCRIPT = re.compile(r'\s*<script data-cfasync="false">.*?</script>', re.DOTALL)
SEARCH_SCRIPT = re.compile(
    r'\s*<script src="[^"]*(_static/searchtools\.js|_static/language_data\.js|searchindex\.js)">'
    r"</script>"
)


IMG = re.compile(r"<img\b[^>]*>")  # docutils escapes ">" in attribute values
SRC = re.compile(r'\ssrc="([^"]*_images/[^"]+)"')


def sized_images(body: str, image_file: Callable[[str], Path]) -> str:
    """`body` (a page's HTML) with each ``_images/`` image that has no ``width`` or ``loading``
    given its pixel ``width`` and ``height``, and every such image after the first
    ``loading="lazy"``. `image_file` maps an image's ``src`` to the file it is copied from."""
    seen = 0

    def size(match: re.Match) -> str:
        nonlocal seen
        tag = match[0]
        src = SRC.search(tag)
        if not src or re.search(r"\s(width|loading)=", tag):
            return tag
        with Image.open(image_file(html.unescape(src[1]))) as image:
            width, height = image.size
        seen += 1
        lazy = ' loading="lazy"' if seen > 1 else ""
        end = " />" if tag.endswith("/>") else ">"
        return f'{tag[: -len(end)]} width="{width}" height="{height}"{lazy}{end}'

    return IMG.sub(size, body)


def size_images(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """The page's plots sized and, after the first, lazy (see :func:`sized_images`)."""
    if app.builder.name != "html" or not context.get("body"):
        return
    # Sphinx copies the images after it writes the pages: read them where they come from.
    sources = {name: source for source, name in app.builder.images.items()}

    def image_file(src: str) -> Path:
        name = src.rsplit("_images/", 1)[1]
        if name not in sources:
            raise FileNotFoundError(f"{pagename}: image {src} is not one Sphinx copies")
        return Path(app.srcdir, sources[name])

    context["body"] = sized_images(context["body"], image_file)


# Assets of extensions, and the pattern of a page body that uses the extension.
PAGE_ASSETS = {
    "sphinx-design": (
        {"sphinx-design.min.css", "design-tabs.js"},
        re.compile(r'class="([^"]*\s)?sd-'),
    ),
}


def unused_assets(app: Sphinx, pagename: str, templatename, context: dict, doctree) -> None:
    """Drop from the page the assets of :data:`PAGE_ASSETS` whose extension its body does not
    use."""
    if app.builder.format != "html":
        return
    body = context.get("body") or ""
    unused = set()
    for files, used in PAGE_ASSETS.values():
        if not used.search(body):
            unused |= files
    for key in ("css_files", "script_files"):
        if key in context:
            context[key] = [a for a in context[key] if asset_name(a) not in unused]


def asset_name(asset: object) -> str:
    """The file name (no folder) of a ``css_files``/``script_files`` entry; "" if inline."""
    filename = getattr(asset, "filename", asset)
    return os.path.basename(os.fspath(filename)) if filename else ""


def without_search_scripts(html: str, search_as_you_type: object) -> Markup:
    """`html` (the theme's ``extrahead`` block) without Sphinx's search scripts, unless the
    search dialog searches as you type."""
    if str(search_as_you_type).lower() in {"true", "1", "yes"}:
        return Markup(html)
    return Markup(SEARCH_SCRIPT.sub("", str(html)))


def without_theme_mode_script(html: str) -> Markup:
    """`html` (the theme's ``css`` block) without its script that sets ``data-mode`` and
    ``data-theme`` (``templates/theme-mode.html`` takes its place); an error if it has none,
    or more than one: a theme that changed its head must be looked at again."""
    found = len(THEME_MODE_SCRIPT.findall(str(html)))
    if found != 1:
        raise ValueError(f"the theme's css block has {found} data-cfasync scripts, expected 1")
    return Markup(THEME_MODE_SCRIPT.sub("", str(html)))


def add_template_filter(app: Sphinx) -> None:
    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "environment"):
        templates.environment.filters["without_search_scripts"] = without_search_scripts
        templates.environment.filters["without_theme_mode_script"] = without_theme_mode_script


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", add_template_filter)
    app.connect("html-page-context", size_images, priority=950)
    app.connect("html-page-context", unused_assets, priority=950)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
