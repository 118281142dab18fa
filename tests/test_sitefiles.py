"""``_ext/sitefiles.py``: after an html build, the site keeps its pages, its entry points and
every file they reference (through pages, stylesheets and license notes), and nothing else.

A small site is planted in a temporary folder, with one file of every kind the extension must
keep and one of every kind it must delete; the built site's own check is in
``tests/test_site_html.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "_ext"))
from sitefiles import referenced_files, remove_unreferenced, site_file, unreferenced_files

BASE = "https://example.org/book/"
PAGE = """<!DOCTYPE html><html><head>
<meta property="og:image" content="https://example.org/book/_static/og.png">
<meta name="description" content="A sentence, not a URL.">
<link rel="stylesheet" href="../_static/theme.css?v=1">
<link rel="canonical" href="https://example.org/book/ch/one.html">
<script defer src="../_static/app.js?v=2"></script>
</head><body>
<img src="../_images/plot.png" alt="A plot">
<a href="/book/_sources/ch/one.md">source</a>
<a href="https://elsewhere.example/x.png">elsewhere</a><a href="mailto:a@b.c">mail</a>
<div style="background: url('../_static/inline-bg.png')"></div>
</body></html>"""
FILES = {  # path → (content, kept?)
    "index.html": ('<meta http-equiv="Refresh" content="0; url=ch/one.html">', True),
    "ch/one.html": (PAGE, True),
    "_static/theme.css": ('@import "base.css"; /*# sourceMappingURL=theme.css.map */', True),
    "_static/base.css": ("a{background:url(img/icon.svg)}", True),
    "_static/img/icon.svg": ("<svg/>", True),
    "_static/theme.css.map": ("{}", False),
    "_static/app.js": ("/*! For license information please see app.js.LICENSE.txt */", True),
    "_static/app.js.LICENSE.txt": ("MIT", True),
    "_static/og.png": ("png", True),
    "_static/inline-bg.png": ("png", True),
    "_images/plot.png": ("png", True),
    "_images/unused.png": ("png", False),
    "_sources/ch/one.md": ("# One", True),
    "_sources/ch/one.ipynb": ("{}", True),  # entry point: a download
    "_static/wheels/pkg-1.0-py3-none-any.whl": ("zip", True),  # entry point
    "_static/locales/de/LC_MESSAGES/theme.mo": ("mo", False),
    "_static/webpack-macros.html": ("{% macro %}", False),  # in _static: no page
    "_static/scripts/fontawesome.js": ("big", False),
    "searchindex.js": ("Search.setIndex({})", True),  # entry point
    "objects.inv": ("inv", True),  # entry point
    ".buildinfo": ("config", True),  # entry point: incremental builds
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    for rel, (text, _) in FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


def test_keeps_pages_entry_points_and_what_they_reference(site: Path) -> None:
    kept = {rel for rel, (_, keep) in FILES.items() if keep}
    assert {p.as_posix() for p in referenced_files(site, BASE)} == kept


def test_removes_the_rest_and_the_folders_left_empty(site: Path) -> None:
    doomed = sorted(site / rel for rel, (_, keep) in FILES.items() if not keep)
    assert unreferenced_files(site, BASE) == doomed
    size = sum(path.stat().st_size for path in doomed)
    assert remove_unreferenced(site, BASE) == (len(doomed), size)
    assert not any(path.exists() for path in doomed)
    assert not (site / "_static" / "locales").exists()
    assert unreferenced_files(site, BASE) == []  # a second run finds nothing more


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("../_static/a.css?v=1#x", "_static/a.css"),
        ("/book/_static/a.css", "_static/a.css"),
        ("https://example.org/book/", "index.html"),
        ("two.html", "ch/two.html"),
        ("https://elsewhere.example/book/x.css", None),
        ("/other/x.css", None),
        ("mailto:a@b.c", None),
        ("data:image/png;base64,AAAA", None),
        ("caf%C3%A9.png", "ch/café.png"),
    ],
)
def test_site_file_resolves_urls_as_the_browser_does(url: str, expected: str | None) -> None:
    found = site_file(url, PurePosixPath("ch/one.html"), BASE)
    assert (found.as_posix() if found else None) == expected


def test_base_url_must_name_a_folder(site: Path) -> None:
    with pytest.raises(ValueError, match="base_url"):
        referenced_files(site, "https://example.org/book")
