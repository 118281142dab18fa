"""Sphinx extension: the site ships only the files its pages use.

Sphinx copies the whole static folder of every theme and extension into the output (source maps,
Font Awesome's 1.5 MB script that ``_ext/icons.py`` keeps off the pages, the theme's translation
catalogues, template leftovers such as ``webpack-macros.html`` …), and the Pages deploy uploads the
output folder whole. After an html build this extension deletes every file of the output folder
that is neither

- a page (every ``*.html`` outside the asset folders) or an entry point (:data:`ENTRY_POINTS`:
  what a site offers without a page linking it, and the downloads), nor
- referenced, transitively, by one: a page's URLs (``descent.player.read.referenced_urls``: URL
  attributes, inline CSS, the players' files; plus ``<meta content>`` URLs such as
  ``og:image``), a stylesheet's ``url(…)`` and ``@import``, a script's ``For license
  information please see …`` file.

Scripts are not searched for the files they fetch at run time: those of this site fetch pages
only (Sphinx's search its result pages), which are kept anyway. Sphinx copies the static files
again in every build, so an incremental build deletes them again; ``.buildinfo`` stays (Sphinx
reads it to decide what to rebuild).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import BeautifulSoup, SoupStrainer
from sphinx.application import Sphinx
from sphinx.util import logging

from descent.player.read import referenced_urls

logger = logging.getLogger(__name__)

NOT_PAGES = {"_static", "_sources", "_images", "_downloads", "reports"}  # asset folders
# Files a site offers without a page linking them (glob patterns, relative to the site).
ENTRY_POINTS = (
    ".nojekyll",  # GitHub Pages serves _static/ … as they are
    ".buildinfo",  # Sphinx's record of the build's configuration, for incremental builds
    "CNAME",
    "robots.txt",
    "objects.inv",  # intersphinx inventory for other projects' docs
    "searchindex.js",
    "book.pdf",  # make pdf adds it after the html build
    "_sources/**/*.ipynb",  # the executed notebooks (downloads)
    "notebooks/**/*.ipynb",  # the reader notebooks
    "_static/wheels/*.whl",  # the package the reader notebooks install
    "reports/**/*",  # a failing chapter's traceback (_ext/failures.py)
)
LICENSE_NOTE = "For license information please see "


def is_page(rel: PurePosixPath) -> bool:
    """Whether `rel` (a site-relative path) is a page: ``*.html`` outside the asset folders."""
    return rel.suffix == ".html" and rel.parts[0] not in NOT_PAGES


def meta_urls(html: str) -> list[str]:
    """The ``content`` of every ``<meta>`` (``og:image``'s URL among them; text that is no URL
    resolves to no file)."""
    soup = BeautifulSoup(html, "html.parser", parse_only=SoupStrainer("meta"))
    return [tag["content"] for tag in soup.find_all("meta", content=True)]


def urls_of(rel: PurePosixPath, text: str) -> list[str]:
    """The URLs that file `rel` of the site, with content `text`, references."""
    if rel.suffix == ".html":
        return referenced_urls(text) + meta_urls(text)
    if rel.suffix == ".css":
        return referenced_urls(f"<style>{text}</style>")  # url(…) and @import
    if rel.suffix in {".js", ".mjs"}:
        return [
            line.split(LICENSE_NOTE, 1)[1].split()[0]
            for line in text.splitlines()
            if LICENSE_NOTE in line
        ]
    return []


def site_file(url: str, source: PurePosixPath, base_url: str) -> PurePosixPath | None:
    """The site-relative file `url` (found in the site's file `source`) points to, or None if
    it leaves the site (another host, ``mailto:``, ``data:`` …). `base_url` is where the site
    is published (``https://…/descent/``); a URL naming a folder points to its index.html."""
    absolute = urljoin(urljoin(base_url, source.as_posix()), url.strip())
    parts, base = urlsplit(absolute), urlsplit(base_url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    if not parts.path.startswith(base.path):
        return None
    path = unquote(parts.path[len(base.path) :])
    if path == "" or path.endswith("/"):
        path += "index.html"
    return PurePosixPath(path)


def referenced_files(site: Path, base_url: str) -> set[PurePosixPath]:
    """Every file of `site` that is a page, an entry point, or referenced, transitively, by
    one (see the module's docstring). `base_url` must end with ``/``."""
    if not base_url.endswith("/"):
        raise ValueError(f"base_url must end with '/', got {base_url!r}")
    files = {PurePosixPath(p.relative_to(site).as_posix()) for p in site.rglob("*") if p.is_file()}
    todo = {rel for rel in files if is_page(rel)}
    todo |= {PurePosixPath(p.relative_to(site).as_posix()) for p in entry_points(site)}
    found: set[PurePosixPath] = set()
    while todo:
        rel = todo.pop()
        found.add(rel)
        text = (site / rel).read_text("utf-8", errors="replace")
        for url in urls_of(rel, text):
            target = site_file(url, rel, base_url)
            if target in files and target not in found:
                todo.add(target)
    return found


def entry_points(site: Path) -> Iterable[Path]:
    """The files of `site` that :data:`ENTRY_POINTS` names."""
    for pattern in ENTRY_POINTS:
        yield from (path for path in site.glob(pattern) if path.is_file())


def unreferenced_files(site: Path, base_url: str) -> list[Path]:
    """The files of `site` that :func:`referenced_files` does not keep, sorted."""
    keep = referenced_files(site, base_url)
    return sorted(
        path
        for path in site.rglob("*")
        if path.is_file() and PurePosixPath(path.relative_to(site).as_posix()) not in keep
    )


def remove_unreferenced(site: Path, base_url: str) -> tuple[int, int]:
    """Delete :func:`unreferenced_files` and the folders left empty; return (files, bytes)."""
    doomed = unreferenced_files(site, base_url)
    size = sum(path.stat().st_size for path in doomed)
    for path in doomed:
        path.unlink()
    for folder in sorted((p for p in site.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return len(doomed), size


def site_base_url(app: Sphinx) -> str:
    """Where the site is published: ``html_baseurl`` with a final ``/`` (a placeholder host
    when it is not set: only the paths below it matter)."""
    base = app.config.html_baseurl or "https://site.invalid/"
    return base if base.endswith("/") else base + "/"


def trim_site(app: Sphinx, exception: Exception | None) -> None:
    """After an html build: delete the files no page references."""
    if exception or app.builder.name != "html":
        return
    count, size = remove_unreferenced(Path(app.outdir), site_base_url(app))
    logger.info("sitefiles: removed %d unreferenced files (%.1f MB)", count, size / 1e6)


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", trim_site, priority=990)  # after every extension has written
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
