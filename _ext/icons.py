"""Sphinx extension: the theme's icons from a few kilobytes of font, without Font Awesome's
JavaScript.

pydata-sphinx-theme loads ``scripts/fontawesome.js`` on every page (1.5 MB, 543 kB gzip-
compressed: every Font Awesome icon as SVG, and code that swaps each ``<i class="fa-…">`` for
one), although its stylesheet already draws the same icons from Font Awesome's web fonts
(``.fa-bars:before{content:"\\f0c9"}``). This extension

1. drops that script from every page (``templates/layout.html`` filters the theme's ``css``
   block), so the icons come from the stylesheet and the fonts;
2. writes ``_static/icons/``: the theme's two fonts (solid, brands) cut down with fontTools to
   the glyphs of :data:`ICONS` and those the theme's stylesheet draws itself through its
   ``--pst-…`` custom properties (admonition titles, external links, breadcrumbs: a page's
   classes never name them), and ``icons.css``, whose ``@font-face`` rules come after the
   theme's and so win (CSS Fonts: the last of identical faces is used); a glyph missing from
   the subset would fall back to the theme's full font;
3. checks the whole kind: a page using an icon that :data:`ICONS` does not list gets a warning
   (an error under ``-W``) naming it, so a new icon cannot silently pull the full fonts.

The files are written at ``write-started``, before any page, so their links carry the
``?v=`` checksum (``_ext/assets.py``); the same theme and list give the same bytes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pydata_sphinx_theme
from fontTools import subset, ttLib
from markupsafe import Markup
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

THEME_STATIC = Path(pydata_sphinx_theme.__file__).parent / "theme/pydata_sphinx_theme/static"
# The icons the pages use, by font: every name a page's ``fa-…`` class may give (aliases too).
ICONS = {
    "solid": [
        "angle-left",
        "angle-right",
        "arrow-up",
        "bars",
        "book",
        "circle-half-stroke",
        "code",
        "download",
        "expand",
        "file",
        "file-pdf",
        "lightbulb",
        "list",
        "magnifying-glass",
        "moon",
        "outdent",
        "pencil-alt",
        "rocket",
        "sun",
    ],
    "brands": ["github"],
}
FONTS = {  # font → (theme font file, CSS family, weight, the classes that select it)
    "solid": ("fa-solid-900", "Font Awesome 6 Free", 900, {"fas", "fa-solid"}),
    "brands": ("fa-brands-400", "Font Awesome 6 Brands", 400, {"fab", "fa-brands"}),
}
SCRIPT = re.compile(r'\s*<script[^>]*src="[^"]*/fontawesome\.js(\?[^"]*)?"[^>]*></script>')
CLASS = re.compile(r'class="([^"]*)"')


def without_fontawesome_js(html: str) -> Markup:
    """`html` (the theme's ``css`` block) without its ``fontawesome.js`` script element."""
    return Markup(SCRIPT.sub("", str(html)))


def codepoints(css: str) -> dict[str, int]:
    """Icon name → code point, from the theme stylesheet's ``.fa-<name>:before{content:…}``."""
    found = {}
    for selectors, code in re.findall(r'([^{}]+)\{content:"\\([0-9a-f]+)"\}', css):
        for name in re.findall(r"\.fa-([a-z0-9-]+):before", selectors):
            found[name] = int(code, 16)
    return found


def theme_glyphs(css: str) -> set[int]:
    """The code points the theme's stylesheet draws without an icon class: the values of its
    ``--pst-…`` custom properties that are one character of the Private Use Area (U+E000–U+F8FF,
    Font Awesome's range), e.g. ``--pst-icon-info-circle`` (U+F05A) in every note's title."""
    return {ord(c) for c in re.findall(r'--pst-[a-z0-9-]+:"([\ue000-\uf8ff])"', css)}


def font_glyphs(source: Path) -> set[int]:
    """Every code point the font file `source` has a glyph for."""
    with ttLib.TTFont(source) as font:
        return set(font.getBestCmap())


def subset_font(source: Path, target: Path, glyphs: list[int]) -> None:
    """`source` (a TrueType font) cut down to the code points `glyphs`, as WOFF at `target`."""
    options = subset.Options(flavor="woff", layout_features=[], name_IDs=["*"])
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=glyphs)
    subsetter.subset(font)
    subset.save_font(font, str(target), options)


def write_icons(app: Sphinx, builder) -> None:
    """``_static/icons/``: the two subset fonts and ``icons.css``."""
    if builder.format != "html":
        return
    css = (THEME_STATIC / "styles/pydata-sphinx-theme.css").read_text("utf-8")
    points, drawn = codepoints(css), theme_glyphs(css)
    unknown = [n for names in ICONS.values() for n in names if n not in points]
    if unknown:
        raise ValueError(f"ICONS names icons the theme does not have: {unknown}")
    out = Path(app.outdir, "_static", "icons")
    out.mkdir(parents=True, exist_ok=True)
    rules = []
    for font, names in ICONS.items():
        stem, family, weight, _ = FONTS[font]
        source = THEME_STATIC / "vendor/fontawesome/webfonts" / f"{stem}.ttf"
        glyphs = {points[n] for n in names} | (drawn & font_glyphs(source))
        subset_font(source, out / f"{stem}.woff", sorted(glyphs))
        rules.append(
            f'@font-face{{font-family:"{family}";font-style:normal;font-weight:{weight};'
            f'font-display:block;src:url({stem}.woff) format("woff")}}'
        )
    (out / "icons.css").write_text("\n".join(rules) + "\n", encoding="utf-8")


def used_icons(html: str) -> set[str]:
    """The icon names of every element whose classes select a Font Awesome font."""
    fonts = set().union(*(classes for *_, classes in FONTS.values()))
    found = set()
    for attribute in CLASS.findall(html):
        classes = attribute.split()
        if fonts & set(classes):
            found.update(c[3:] for c in classes if c.startswith("fa-") and c not in fonts)
    return found


def check_icons(app: Sphinx, exception: Exception | None) -> None:
    """Warn about every icon a page uses that the subset fonts do not hold."""
    if exception or app.builder.format != "html":
        return
    css = (THEME_STATIC / "styles/pydata-sphinx-theme.css").read_text("utf-8")
    points, listed = codepoints(css), {n for names in ICONS.values() for n in names}
    for page in sorted(Path(app.outdir).rglob("*.html")):
        icons = {i for i in used_icons(page.read_text("utf-8")) if i in points}
        for name in sorted(icons - listed):
            logger.warning(
                "icon fa-%s is not in _ext/icons.py's ICONS: the page would load the full font",
                name,
                location=str(page.relative_to(app.outdir)),
                type="icons",
            )


def add_template_filter(app: Sphinx) -> None:
    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "environment"):
        templates.environment.filters["without_fontawesome_js"] = without_fontawesome_js


def add_templates(app: Sphinx, config) -> None:
    config.templates_path.append(str(Path(__file__).parent / "templates"))


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", add_templates)
    app.add_css_file("icons/icons.css")
    app.connect("builder-inited", add_template_filter)
    app.connect("write-started", write_icons)
    app.connect("build-finished", check_icons)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
