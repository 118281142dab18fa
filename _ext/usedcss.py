"""Sphinx extension: the theme's stylesheets cut to the rules the site uses.

pydata-sphinx-theme's stylesheet (397 kB) and sphinx-book-theme's style every component of both
themes and of Bootstrap; a page of this book uses a few percent of it (Lighthouse: ~92 % unused),
and on a phone the browser spends seconds matching the rest against the long pages' elements
("Style & Layout"). After an html build this extension runs PurgeCSS (npm ``purgecss``, pinned in
package.json; ``tools/purgecss.mjs``) over :data:`PURGED`, in place, with the content

- every page of the site (``*.html`` outside the asset folders), and
- every script a page loads (``_ext/sitefiles.py``'s :func:`~sitefiles.referenced_files`;
  not the search index, which is data):
  the classes they toggle (Bootstrap's ``show``/``collapsing``/``active``, the theme's
  ``data-theme`` values, the search dialog, the players) are words in them,

plus :data:`SAFELIST` for the classes a script composes at run time. Unused ``@font-face`` and
``@keyframes`` rules go too; custom properties all stay (our own stylesheets use them with
``var()``, which PurgeCSS does not see).

The pages were written before: each link to a cut stylesheet then gets ``?v=`` with the checksum
of the bytes it ships (Sphinx's: CRC-32 of the file, as :mod:`sphinx.builders.html._assets`
computes it; the theme's own ``?digest=`` names the theme's build, not these bytes), in every page
of the output folder, so clean and incremental builds write the same pages. Sphinx copies the
full stylesheets again in each build, and the same pages give the same cut.

Measured (Lighthouse 12 mobile, the same site before and after the cut, runs alternated in the
same minutes, two each): pydata-sphinx-theme.css 397 kB → 103 kB (65 kB → 18 kB gzip);
performance sgd 80/69 → 85/79, api 89/89 → 94/90, animation 80/82 → 86/85, from an earlier first
paint (animation 3.5 s → 3.0 s) and less blocking time; "Style & Layout" fell little (sgd 2.9/
3.2 s → 2.7/3.1 s): the long pages' layout work is their ~16,000 elements', not the rules'.
Every element's box and computed style (colours, fonts, display, spacing, ``::before``
content …) is the same before and after on sgd and animation, light and dark, desktop and a
390-px phone, with the search dialog open and closed.
"""

from __future__ import annotations

import json
import re
import subprocess
import zlib
from pathlib import Path, PurePosixPath

from sphinx.application import Sphinx
from sphinx.util import logging

from sitefiles import is_page, referenced_files, site_base_url

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "purgecss.mjs"
# The stylesheets cut (site-relative): the themes' (and Sphinx's basic.css, which the theme's
# theme.css imports).
PURGED = (
    "_static/styles/pydata-sphinx-theme.css",
    "_static/styles/sphinx-book-theme.css",
    "_static/basic.css",
)
# Files the pages load as scripts that hold data, not code: the search index's words are the
# book's, not class names.
NOT_SCRIPTS = {"searchindex.js"}
# Selectors a script builds at run time, as regular expressions (PurgeCSS ``safelist``):
# ``standard`` keeps the selectors that contain a match, ``greedy`` too when the match is only
# part of a compound selector.
SAFELIST = {
    "standard": [],
    "greedy": [
        r"^bs-(popover|tooltip)-",  # Bootstrap: f"bs-{kind}-{placement}"
        r"^dropdown-menu-",  # Bootstrap: dropdown-menu-end / -start by placement
    ],
}


def purge_options(site: Path, base_url: str) -> dict:
    """The options for ``tools/purgecss.mjs``: the :data:`PURGED` files of `site` that exist,
    every page and every script the pages load as content (sorted: the same site gives the
    same options)."""
    referenced = referenced_files(site, base_url)
    content = sorted(
        rel
        for rel in referenced
        if is_page(rel) or (rel.suffix in {".js", ".mjs"} and rel.name not in NOT_SCRIPTS)
    )
    css = [name for name in PURGED if (site / name).is_file()]
    return {
        "css": [str(site / name) for name in css],
        "content": [str(site / rel) for rel in content],
        "safelist": SAFELIST,
        "fontFace": True,
        "keyframes": True,
    }


def run_purgecss(options: dict) -> list[dict]:
    """Run ``tools/purgecss.mjs`` with `options`; its report, one dict per stylesheet.

    Raises RuntimeError with Node's message if it fails.
    """
    done = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(options),
        capture_output=True,
        text=True,
        cwd=ROOT,  # node resolves `purgecss` from ROOT/node_modules
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tools/purgecss.mjs failed: {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines()]


def checksum(path: Path) -> str:
    """Sphinx's ``?v=`` checksum of the file at `path` (CRC-32, carriage returns removed)."""
    content = path.read_bytes().translate(None, b"\r")
    return f"{zlib.crc32(content):08x}"


def relink(html: str, name: str, version: str) -> str:
    """`html` with each link to the stylesheet `name` (site-relative) carrying ``?v=version``
    in place of its ``?v=`` or ``?digest=`` query."""
    link = re.compile(r'(href="[^"?]*?' + re.escape(name) + r')\?(?:v|digest)=[0-9a-f]+"')
    return link.sub(rf'\g<1>?v={version}"', html)


def relink_pages(site: Path, names: list[str]) -> None:
    """Every page of `site` linking the stylesheets `names` with their current checksum."""
    versions = {name: checksum(site / name) for name in names}
    for path in sorted(site.rglob("*.html")):
        if not is_page(PurePosixPath(path.relative_to(site).as_posix())):
            continue
        text = path.read_text("utf-8")
        new = text
        for name, version in versions.items():
            new = relink(new, name, version)
        if new != text:
            path.write_text(new, "utf-8")


def purge_site(app: Sphinx, exception: Exception | None) -> None:
    """After an html build: cut :data:`PURGED` to the rules the site uses; relink the pages."""
    if exception or app.builder.name != "html":
        return
    site = Path(app.outdir)
    options = purge_options(site, site_base_url(app))
    for row in run_purgecss(options):
        logger.info(
            "usedcss: %s %d -> %d bytes",
            Path(row["file"]).relative_to(site).as_posix(),
            row["before"],
            row["after"],
        )
    relink_pages(site, [Path(f).relative_to(site).as_posix() for f in options["css"]])


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", purge_site, priority=980)  # before sitefiles (990)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
