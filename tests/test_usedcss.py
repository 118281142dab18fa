"""The theme's stylesheets cut to the rules the site uses (_ext/usedcss.py), and every link to a
cut stylesheet carrying the checksum of the bytes it ships."""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "_ext"))
from usedcss import PURGED, checksum, purge_options, relink, relink_pages, run_purgecss

BASE = "https://site.invalid/"
THEME_CSS = PURGED[0]


def small_site(tmp_path: Path) -> Path:
    """A two-page site whose script toggles ``show``, with a theme stylesheet of used and
    unused rules."""
    site = tmp_path / "html"
    (site / "_static" / "styles").mkdir(parents=True)
    (site / THEME_CSS).write_text(
        ".used{color:red}.unused{color:blue}.show{display:block}"
        "html[data-theme=dark] .used{color:white}"
        ".bs-tooltip-top{margin:0}"
        "@keyframes spin{to{transform:rotate(1turn)}}@keyframes gone{to{opacity:0}}"
        ".spinner{animation:spin 1s}",
        "utf-8",
    )
    (site / "_static" / "toggle.js").write_text(
        'el.classList.add("show"); el.dataset.theme = "dark";', "utf-8"
    )
    head = (
        '<link href="_static/styles/pydata-sphinx-theme.css?digest=abc123" rel="stylesheet" />'
        '<script src="_static/toggle.js"></script>'
    )
    (site / "index.html").write_text(
        f'<html data-theme="light"><head>{head}</head><body><p class="used">x</p></body></html>',
        "utf-8",
    )
    (site / "book").mkdir()
    (site / "book" / "spin.html").write_text(
        '<html><head><link href="../_static/styles/pydata-sphinx-theme.css?v=0badf00d" '
        'rel="stylesheet" /></head><body><div class="spinner"></div></body></html>',
        "utf-8",
    )
    return site


def test_purgecss_keeps_the_rules_pages_and_scripts_use(tmp_path: Path) -> None:
    site = small_site(tmp_path)
    options = purge_options(site, BASE)
    content = [Path(p).relative_to(site).as_posix() for p in options["content"]]
    assert content == ["_static/toggle.js", "book/spin.html", "index.html"]
    run_purgecss(options)
    css = (site / THEME_CSS).read_text("utf-8")
    assert ".used{" in css and ".show{" in css  # a page's class; a class the script adds
    assert "html[data-theme=dark] .used" in css  # dark mode: the script sets the value
    assert ".bs-tooltip-top" in css  # safelisted: Bootstrap composes it at run time
    assert "@keyframes spin" in css and ".spinner" in css
    assert ".unused" not in css and "@keyframes gone" not in css


def test_pages_link_the_cut_stylesheet_with_its_checksum(tmp_path: Path) -> None:
    site = small_site(tmp_path)
    run_purgecss(purge_options(site, BASE))
    relink_pages(site, [THEME_CSS])
    version = f"{zlib.crc32((site / THEME_CSS).read_bytes()):08x}"
    assert checksum(site / THEME_CSS) == version
    for page, prefix in (("index.html", ""), ("book/spin.html", "../")):
        html = (site / page).read_text("utf-8")
        assert f'href="{prefix}{THEME_CSS}?v={version}"' in html, page
        assert "digest=" not in html and "0badf00d" not in html


def test_relink_leaves_other_links_alone() -> None:
    html = (
        '<link href="../_static/styles/theme.css?digest=55c2" rel="stylesheet" />'
        '<script src="../_static/scripts/bootstrap.js?digest=55c2"></script>'
        '<link href="../_static/styles/sphinx-book-theme.css?v=3c74b3bc" />'
    )
    new = relink(html, "_static/styles/sphinx-book-theme.css", "0000abcd")
    assert new == html.replace("3c74b3bc", "0000abcd")
