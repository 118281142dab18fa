"""``_ext/critical_path.py``: Sphinx's search scripts only where search runs, plots sized and lazy
after the first, sphinx-design's assets only where a component is.
The built pages are checked in ``tests/test_site_html.py`` and in the browser
(``tests/test_site_browser.py``: search, dark mode, copy buttons, toggles, players)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image
from sphinx.builders.html._assets import _JavaScript

from conftest import ROOT, soup_of

sys.path.insert(0, str(ROOT / "_ext"))
from critical_path import sized_images, unused_assets, without_search_scripts

HEAD = """
  <meta name="viewport" content="width=device-width, initial-scale=1"/>
    <script src="../_static/searchtools.js"></script>
    <script src="../_static/language_data.js"></script>
    <script src="../searchindex.js"></script>
"""


def test_search_scripts_only_when_searching_as_you_type() -> None:
    assert "<script" not in without_search_scripts(HEAD, False)
    assert "viewport" in without_search_scripts(HEAD, "False")
    assert without_search_scripts(HEAD, True) == HEAD


@pytest.fixture
def plots(tmp_path: Path) -> dict[str, Path]:
    files = {}
    for name, size in {"a.png": (711, 411), "b.png": (300, 200), "c.png": (40, 30)}.items():
        Image.new("RGB", size).save(tmp_path / name)
        files[f"../_images/{name}"] = tmp_path / name
    return files


def test_plots_get_their_size_and_all_but_the_first_load_lazily(plots) -> None:
    body = (
        '<img alt="first &gt; plot" src="../_images/a.png" />'
        '<p>text</p><img alt="logo" src="../_static/logo.png">'
        '<img alt="second" src="../_images/b.png" />'
        '<img alt="given" src="../_images/c.png" width="20" />'
    )
    soup = BeautifulSoup(sized_images(body, plots.__getitem__), "html.parser")
    first, logo, second, given = soup.find_all("img")
    assert (first["width"], first["height"], first.get("loading")) == ("711", "411", None)
    assert first["alt"] == "first > plot"
    assert (second["width"], second["height"], second["loading"]) == ("300", "200", "lazy")
    assert "width" not in logo.attrs and "loading" not in logo.attrs
    assert given["width"] == "20" and "height" not in given.attrs


def test_a_plot_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sized_images('<img src="../_images/none.png">', lambda src: tmp_path / "none.png")


def test_built_plots_are_sized_and_lazy_after_the_first(site_root: Path, nb_doc: str) -> None:
    images = [
        img for img in soup_of(site_root / nb_doc).find_all("img") if "_images/" in img["src"]
    ]
    for img in images:
        with Image.open((site_root / nb_doc).parent / img["src"]) as image:
            assert (int(img["width"]), int(img["height"])) == image.size, img["src"]
    assert [img.get("loading") for img in images] == [None, *["lazy"] * len(images)][: len(images)]


class FakeBuilder:
    format = "html"


class FakeApp:
    builder = FakeBuilder()


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("<p>No component.</p>", ["theme.css", "doctools.js", None]),
        (
            '<div class="sd-tab-set docutils">tabs</div>',
            ["theme.css", "sphinx-design.min.css", "doctools.js", "design-tabs.js", None],
        ),
        (
            '<div class="docutils sd-card">card</div>',
            ["theme.css", "sphinx-design.min.css", "doctools.js", "design-tabs.js", None],
        ),
    ],
)
def test_sphinx_design_assets_only_where_a_component_is(body: str, kept: list) -> None:
    context = {
        "body": body,
        "css_files": [_JavaScript(f"_static/{n}") for n in ("theme.css", "sphinx-design.min.css")],
        "script_files": [
            _JavaScript("_static/doctools.js"),
            _JavaScript("_static/design-tabs.js", defer="defer"),
            _JavaScript(None, body="let x = 1;"),
        ],
    }
    unused_assets(FakeApp(), "page", "page.html", context, None)
    names = [
        a.filename and Path(a.filename).name for a in context["css_files"] + context["script_files"]
    ]
    assert names == kept
