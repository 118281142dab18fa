"""The built site as HTML: every page and the site as a whole pass the checks of
``tests/sitechecks.py`` (alt text, animations, error outputs, build paths, memory addresses,
foreign assets; links and ``#anchors`` by lychee, offline), plus what only the site as a whole
shows: external links listed (never fetched) in ``_build/external-links.txt``, the 404 page under
the Pages prefix, ``index.html`` leading to the intro, the executed notebooks, OpenGraph tags.

The last section runs the checks on small pages with planted faults, so a check that stopped
finding anything would fail too.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

from conftest import BASEURL, CONFIG, PREFIX, ROOT, read_html, soup_of
from descent.player import read_players, referenced_urls
from descent.player.datafile import DATA_FOLDER, data_file_name, data_urls
from sitechecks import (
    SKIPPED_SCHEMES,
    TRACEBACK_TEXT,
    alt_problems,
    animation_key,
    animation_problems,
    animations,
    build_path_problems,
    css_urls,
    error_output_problems,
    external_links,
    foreign_asset_problems,
    is_external,
    link_problems,
    memory_address_problems,
    notebook_problems,
    og,
    page_url,
    raises_exception_problems,
    stylesheets,
    to_site_path,
    twin_problems,
    urls_in,
)

sys.path.insert(0, str(ROOT / "_ext"))
from sitefiles import unreferenced_files

# === the tests over the built site ============================================================

PAGE_CHECKS = [
    alt_problems,  # images have real alt text
    twin_problems,  # no static twin of an animation in its cell
    error_output_problems,  # no error output outside raises-exception cells
    raises_exception_problems,  # raises-exception cells show their error
    memory_address_problems,  # no memory address in outputs
]


@pytest.mark.parametrize("check", PAGE_CHECKS, ids=lambda check: check.__name__)
def test_page_passes(site_root: Path, doc: str, check) -> None:
    problems = check(soup_of(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_animations_are_complete_and_appear_once_on_the_page(site_root: Path, doc: str) -> None:
    problems = animation_problems(soup_of(site_root / doc), (site_root / doc).parent)
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_no_page_holds_frame_data_inline(site_root: Path, pages: list[str]) -> None:
    """Issue 13: on the site every player's data and first frame are in files
    (descent.player.datafile), so that no page carries its frames before its article."""
    for doc in pages:
        soup = soup_of(site_root / doc)
        blocks = soup.select('script[type="application/json"].descent-data')
        inline = [b for b in blocks if b.get_text().strip() or not b.get("data-src")]
        assert not inline, f"{doc}: {len(inline)} player(s) with their frame data inline"
        posters = soup.select(".descent-anim img.descent-frame")
        assert not [img for img in posters if img["src"].startswith("data:")], doc
        assert all(img.get("loading") == "lazy" for img in posters), doc
        urls = data_urls(read_html(site_root / doc))
        assert len(urls) == len(blocks) + len(posters) == 2 * len(animations(soup)), doc


def test_each_data_file_is_referenced_named_by_its_hash_and_reads(
    site_root: Path, pages: list[str]
) -> None:
    """Every file in the site's data folder is a player's data (JSON: one ``at`` and one label
    per frame) or first frame (a PNG), named by the hash of its bytes, and a page uses it."""
    folder = site_root / DATA_FOLDER
    referenced = {
        (site_root / doc).parent.joinpath(url).resolve()
        for doc in pages
        for url in referenced_urls(read_html(site_root / doc))
        if url.startswith(f"../{DATA_FOLDER}/") or url.startswith(f"{DATA_FOLDER}/")
    }
    files = sorted(folder.iterdir())
    assert files, f"no data file in {folder}: the animation chapter has players"
    assert {path.resolve() for path in files} == referenced, "unreferenced or missing data files"
    for path in files:
        data = path.read_bytes()
        assert path.name == data_file_name(data, path.suffix)
        assert path.stem == hashlib.sha256(data).hexdigest()[:16], path.name
        if path.suffix == ".png":
            from PIL import Image

            with Image.open(io.BytesIO(data)) as picture:
                assert picture.format == "PNG" and picture.size[0] > 100, path.name
            continue
        parsed = json.loads(data)
        assert len(parsed["at"]) == len(parsed["labels"]) == len(parsed["rest"]) + 1, path.name


def test_downloads_hold_every_frame_inline(site_root: Path, pages: list[str]) -> None:
    """The notebooks a reader downloads (``_sources`` and the reader notebooks, ``notebooks/``)
    keep every player's frames inline, the same frames as the site's page shows from files."""
    for doc in pages:
        players = read_players(read_html(site_root / doc), base=(site_root / doc).parent)
        if not players:
            continue
        stem = Path(doc).with_suffix(".ipynb")
        for notebook in (site_root / "_sources" / stem, site_root / "notebooks" / stem):
            outputs = [
                "".join(output["data"]["text/html"])
                for cell in json.loads(notebook.read_text("utf-8"))["cells"]
                for output in cell.get("outputs", [])
                if "text/html" in output.get("data", {})
            ]
            inline = {p.content_id: p.frames for html in outputs for p in read_players(html)}
            for player in players:
                assert inline.get(player.content_id) == player.frames, (notebook, player.content_id)


def test_no_build_machine_path_in_the_page(site_root: Path, doc: str) -> None:
    problems = build_path_problems(read_html(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_nothing_loads_from_another_host(site_root: Path, doc: str) -> None:
    problems = foreign_asset_problems(soup_of(site_root / doc), doc)
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_internal_links_and_anchors_resolve(site_root: Path, pages: list[str]) -> None:
    """lychee, offline, over every page: each link and asset inside the site exists (as Pages
    serves it, under the prefix), and each ``#fragment`` is an id of its target."""
    problems = link_problems(site_root, pages)
    assert not problems, "broken links:\n  " + "\n  ".join(problems)


def test_no_animation_appears_on_two_pages(site_root: Path, pages: list[str]) -> None:
    where = defaultdict(list)
    for doc in pages:
        for anim in animations(soup_of(site_root / doc)):
            where[animation_key(anim, (site_root / doc).parent)].append(
                f"{doc}#{anim.get('id', '?')}"
            )
    twice = [places for places in where.values() if len({p.split("#")[0] for p in places}) > 1]
    assert not twice, "the same animation on several pages:\n  " + "\n  ".join(map(str, twice))


def test_no_build_machine_path_in_downloads_or_search_index(site_root: Path) -> None:
    """The notebooks and sources a reader downloads, and the search index, are clean too."""
    files = [site_root / "searchindex.js", *sorted((site_root / "_sources").rglob("*"))]
    problems = [
        f"{path.relative_to(site_root)}: {problem}"
        for path in files
        if path.is_file()
        for problem in build_path_problems(path.read_text(errors="replace"))
    ]
    assert not problems, "\n".join(problems)


def test_stylesheets_fetch_nothing_from_another_host_and_nothing_missing(
    site_root: Path, pages: list[str]
) -> None:
    """Fonts, images and imports named by the site's stylesheets are in the site."""
    problems = []
    sheets = stylesheets(site_root, pages)
    assert sheets, "no page links a local stylesheet"
    for sheet in sorted(sheets):
        rel = sheet.relative_to(site_root).as_posix()
        if not sheet.is_file():
            problems.append(f"{rel}: linked but missing")
            continue
        for url in css_urls(sheet.read_text(errors="replace")):
            if urlsplit(url).scheme in SKIPPED_SCHEMES or url.startswith("#"):
                continue
            absolute = urljoin(page_url(rel), url)
            if is_external(absolute):
                problems.append(f"{rel}: fetches {url} from another host")
            elif (path := to_site_path(absolute)) is None or not (site_root / path).exists():
                problems.append(f"{rel}: url({url}) is not in the site")
    assert not problems, "\n".join(problems)


def test_external_links_are_listed_not_fetched(
    site_root: Path, pages: list[str], report_external_links
) -> None:
    """Collect every link to another host into ``<site>/../external-links.txt`` (URL, then the
    pages that use it, indented). Nothing is fetched: the build machines have no internet. Each
    must at least be a well-formed web or mail address."""
    where = defaultdict(set)
    for doc in pages:
        for url in external_links(soup_of(site_root / doc), doc):
            where[url].add(doc)
    listing = site_root.parent / "external-links.txt"
    lines = []
    for url in sorted(where):
        lines.append(url)
        lines.extend(f"    {doc}" for doc in sorted(where[url]))
    listing.write_text("\n".join(lines) + "\n")
    report_external_links(f"external links (listed, not fetched): {len(where)}, in {listing}")
    print(f"{len(where)} external links, listed in {listing}:")
    print("\n".join(sorted(where)))
    malformed = [
        url
        for url in where
        if urlsplit(url).scheme not in ("https", "http", "mailto")
        or (urlsplit(url).scheme != "mailto" and "." not in (urlsplit(url).hostname or ""))
    ]
    assert not malformed, "malformed external links:\n" + "\n".join(
        f"{url} (on {', '.join(sorted(where[url]))})" for url in malformed
    )


def test_the_404_page_works_under_the_pages_prefix(site_root: Path, pages: list[str]) -> None:
    """``404.html`` is served for any missing path at any depth, so every URL it uses must be
    root-relative under the prefix (``/descent/_static/…``); that each exists is lychee's check
    (``test_internal_links_and_anchors_resolve``, over every page, 404.html included)."""
    assert "404.html" in pages, "the site has no 404.html"
    soup = soup_of(site_root / "404.html")
    problems = [
        f"{url}: relative or outside {PREFIX}, broken below the root"
        for _tag, url, _loaded in urls_in(soup)
        if not (urlsplit(url).scheme or url.startswith(("#", "mailto:", PREFIX)))
    ]
    assert soup.find("link", rel="stylesheet"), "404.html links no stylesheet"
    assert not problems, "404.html:\n  " + "\n  ".join(problems)


def test_the_pages_prefix_is_the_one_the_site_is_published_under() -> None:
    """The 404 page's prefix and the base URL agree (both say where Pages serves the book)."""
    prefix = CONFIG["sphinx"]["config"]["notfound_urls_prefix"]
    assert prefix == PREFIX, f"notfound_urls_prefix {prefix!r} but html.baseurl path {PREFIX!r}"


def test_every_file_is_referenced_or_an_entry_point(site_root: Path) -> None:
    """The site holds no file that no page references (_ext/sitefiles.py): no source maps, no
    unused theme scripts, fonts or catalogues; the downloads and entry points stay."""
    unused = [p.relative_to(site_root).as_posix() for p in unreferenced_files(site_root, BASEURL)]
    assert not unused, "\n".join(unused)
    for entry in ("objects.inv", "searchindex.js", "_static/documentation_options.js"):
        assert (site_root / entry).is_file(), entry
    assert list(site_root.glob("_sources/book/*.ipynb")), "no executed notebook to download"
    assert list(site_root.glob("_static/wheels/*.whl")), "no wheel for the reader notebooks"
    assert not list(site_root.rglob("*.map")), "a source map is still in the site"


def test_index_asks_for_no_icon(site_root: Path) -> None:
    """``index.html`` names an empty icon, so the browser asks neither the host's
    ``/favicon.ico`` (outside the site: a 404, a console error) nor the site's icon (a request
    the redirect aborts) before it redirects."""
    icon = soup_of(site_root / "index.html").find("link", rel="icon")
    assert icon is not None, "index.html has no <link rel=icon>"
    assert icon["href"] == "data:,", icon


def test_index_leads_to_the_intro(site_root: Path) -> None:
    """``index.html`` (the site's root URL) redirects to the book's root page."""
    root_doc = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"] + ".html"
    refresh = soup_of(site_root / "index.html").find(
        "meta", attrs={"http-equiv": re.compile("^refresh$", re.I)}
    )
    assert refresh, "index.html has no <meta http-equiv=refresh>"
    match = re.search(r"url=(\S+)", refresh.get("content", ""), re.I)
    assert match, f"index.html: no url= in {refresh}"
    target = to_site_path(urljoin(page_url("index.html"), match.group(1).strip("'\"")))
    assert target == root_doc, f"index.html redirects to {target!r}, not to {root_doc!r}"
    assert (site_root / target).is_file(), f"index.html redirects to {target}, which is missing"


def test_chapters_offer_their_executed_notebook(site_root: Path, nb_doc: str) -> None:
    """A page built from a notebook links its reader notebook, ``notebooks/<doc>.ipynb``
    (``_ext/reader.py``), which exists and has run (tests/test_reader.py runs it again)."""
    docname = nb_doc.removesuffix(".html")
    soup = soup_of(site_root / nb_doc)
    expected = f"notebooks/{docname}.ipynb"
    links = {
        to_site_path(urljoin(page_url(nb_doc), a["href"]))
        for a in soup.find_all("a", href=True)
        if urlsplit(a["href"]).path.endswith(".ipynb")
    }
    assert expected in links, f"{nb_doc}: no link to {expected} (links: {sorted(links)})"
    notebook = site_root / expected
    assert notebook.is_file(), f"{nb_doc}: links {expected}, which is not in the site"
    problems = notebook_problems(json.loads(notebook.read_text()))
    assert not problems, f"{expected}:\n  " + "\n  ".join(problems)


def test_opengraph_tags(site_root: Path, content_doc: str) -> None:
    """og:title, og:description, og:url (this page) and og:image (a file of the site, an image a
    link preview can use) on every page made from the book."""
    from PIL import Image

    soup = soup_of(site_root / content_doc)
    missing = [
        name
        for name in ("og:title", "og:description", "og:image", "og:image:alt", "og:url")
        if not (og(soup, name) or "").strip()
    ]
    assert not missing, f"{content_doc}: no or empty {', '.join(missing)}"
    url = og(soup, "og:url")
    assert url == page_url(content_doc), f"{content_doc}: og:url is {url}"
    image = og(soup, "og:image")
    rel = to_site_path(image)
    assert rel is not None, f"{content_doc}: og:image {image} is not in the site ({BASEURL})"
    path = site_root / rel
    assert path.is_file(), (
        f"{content_doc}: og:image {image} → {rel} does not exist in the site "
        "(_static/og-image.png at the book root is copied into the site)"
    )
    with Image.open(io.BytesIO(path.read_bytes())) as picture:
        width, height = picture.size
    assert width >= 200 and height >= 200, f"og:image {rel} is {width}×{height}, below 200×200"


# === the checks catch what they are meant to catch ============================================

GOOD_ANIM_FRAMES = [
    base64.b64encode(bytes([n]) * 8).decode() for n in range(3)
]  # not PNGs: only compared


def anim_html(content_id: str = "descent-anim-0123456789ab", frames=GOOD_ANIM_FRAMES) -> str:
    data = json.dumps(
        {"alt": "x", "labels": ["x"] * len(frames), "interval": 100, "rest": frames[1:]}
        | {"at": [None] * len(frames)}
    )
    return (
        f'<div class="descent-anim" data-content-id="{content_id}">'
        f'<img class="descent-frame" src="data:image/png;base64,{frames[0]}" width="8" '
        'height="8" alt="The line moves towards the points.">'
        f'<button class="descent-play"></button><button class="descent-pause"></button>'
        f'<input type="range" class="descent-slider" min="0" max="{len(frames) - 1}">'
        f'<script type="application/json" class="descent-data">{data}</script>'
        "<script>/* the player */</script></div>"
    )


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def cell(body: str, tags: str = "") -> str:
    return f'<div class="cell {tags}"><div class="cell_output">{body}</div></div>'


@pytest.mark.parametrize(
    ("html", "check", "expected"),
    [
        pytest.param(
            '<img src="a.png" alt="A line through noisy points.">', alt_problems, 0, id="alt-ok"
        ),
        pytest.param('<img src="a.png">', alt_problems, 1, id="alt-missing"),
        pytest.param('<img src="a.png" alt="">', alt_problems, 1, id="alt-empty"),
        pytest.param(
            '<img src="_images/abc123.png" alt="abc123.png">', alt_problems, 1, id="alt-filename"
        ),
        pytest.param('<img src="x.png" alt="Figure">', alt_problems, 1, id="alt-generic"),
        pytest.param(
            '<img src="x.png" alt="<Figure size 640x480 with 1 Axes>">',
            alt_problems,
            1,
            id="alt-figure-repr",
        ),
        pytest.param(anim_html(), animation_problems, 0, id="anim-ok"),
        pytest.param(
            anim_html() + anim_html(),
            animation_problems,
            1,
            id="anim-twice",
        ),
        pytest.param(
            anim_html(frames=GOOD_ANIM_FRAMES[:1]), animation_problems, 1, id="anim-one-frame"
        ),
        pytest.param(
            '<div class="animation"><img id="_anim_img1a2b" alt="x y"></div>',
            animation_problems,
            1,
            id="anim-matplotlib",
        ),
        pytest.param(cell(anim_html()), twin_problems, 0, id="twin-none"),
        pytest.param(
            cell(anim_html() + '<img src="_images/f.png" alt="The fit.">'),
            twin_problems,
            1,
            id="twin-img",
        ),
        pytest.param(
            cell(anim_html() + "<pre>&lt;Figure size 640x480 with 1 Axes&gt;</pre>"),
            twin_problems,
            1,
            id="twin-figure-repr",
        ),
    ],
)
def test_html_checks_find_faults(html: str, check, expected: int) -> None:
    assert len(check(soup(html))) == expected, check(soup(html))


TRACEBACK = '<div class="output traceback highlight-ipythontb"><pre>ZeroDivisionError</pre></div>'


def test_error_checks_find_faults() -> None:
    assert not error_output_problems(soup(cell(TRACEBACK, "tag_raises-exception")))
    assert error_output_problems(soup(cell(TRACEBACK)))
    assert error_output_problems(soup(cell('<div class="output stderr">warning</div>')))
    assert error_output_problems(soup(cell(f"<pre>{TRACEBACK_TEXT}:</pre>")))
    assert raises_exception_problems(soup(cell("<pre>1</pre>", "tag_raises-exception")))
    assert not raises_exception_problems(soup(cell(TRACEBACK, "tag_raises-exception")))
    assert memory_address_problems(soup(cell("<pre>&lt;object at 0x7fef2256fd20&gt;</pre>")))
    assert not memory_address_problems(soup(cell("<pre>0x10 is sixteen</pre>")))


def test_path_and_host_checks_find_faults() -> None:
    for path in [
        "/tmp/tmpab12/x.py",
        "/root/.cache",
        "/home/alice/x",
        "lib/site-packages/t",
        f"{ROOT}/src/descent/data.py",
    ]:
        assert build_path_problems(f"<pre>File {path}</pre>"), path
    assert not build_path_problems(
        "<p>a temporary /tmpl and ~/tmp and data:image/png;base64," + "A/tmp/" * 40 + "</p>"
    )
    doc = "book/x.html"
    for html in [
        '<script src="https://cdn.example.org/x.js"></script>',
        '<link rel="stylesheet" href="//fonts.example.com/css">',
        '<img src="http://example.org/a.png" alt="a b">',
        "<style>@font-face{src:url(https://fonts.example.com/f.woff2)}</style>",
        '<script>var THEBE_JS_URL = "https://unpkg.com/thebe@0.8.2/lib/index.js"</script>',
    ]:
        assert foreign_asset_problems(soup(html), doc), html
    local = (
        '<script src="../_static/x.js"></script><a href="https://example.org">a link</a>'
        f'<link rel="canonical" href="{BASEURL}book/x.html"><img src="data:image/png;base64,AA">'
    )
    assert not foreign_asset_problems(soup(local), doc)


LINKED = {
    "book/a.html": '<h1 id="top">A</h1><a href="b.html#b">b</a><a href="#top">top</a>'
    '<a href="#">#</a><link rel="stylesheet" href="../_static/s.css">'
    f'<script src="{PREFIX}_static/s.js"></script>'
    f'<link rel="canonical" href="{BASEURL}book/a.html"><a href="https://example.org/x">out</a>',
    "book/b.html": '<h1 id="b">B</h1><img src="../_static/p.png" alt="A dot.">'
    '<script type="application/json" class="descent-data" data-src="../_static/d.json"></script>',
}
BROKEN_LINKS = [
    '<a href="a.html#nowhere">',  # no such id on another page
    '<a href="#absent">',  # no such id on this page
    '<a href="c.html">',  # no such page
    '<a href="/basic.css">',  # root-relative outside the Pages prefix
    '<script src="../_static/missing.js"></script>',  # a missing script
    '<img src="../_static/missing.png" alt="A dot.">',  # a missing image
    f'<a href="{BASEURL}book/gone.html">',  # the production URL of a missing page
    f'<a href="{BASEURL}book/a.html#nowhere">',  # … of a missing anchor
    '<a href="../../outside.html">',  # above the site
    # a player's data file (fetched by its script, not read by lychee): missing, above the site
    '<script type="application/json" class="descent-data" data-src="../_static/no.json"></script>',
    '<script type="application/json" class="descent-data" data-src="../../d.json"></script>',
]


def test_link_check_finds_faults(tmp_path: Path) -> None:
    """lychee passes the good pages and reports each broken one (one fault per page)."""
    files = dict(LINKED, **{f"book/bad{n}.html": html for n, html in enumerate(BROKEN_LINKS)})
    for rel, html in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"<!DOCTYPE html><html><body>{html}</body></html>")
    (tmp_path.parent / "d.json").write_text("{}")  # exists, but outside the site
    for asset in ("s.css", "s.js", "p.png", "d.json"):
        (tmp_path / "_static").mkdir(exist_ok=True)
        (tmp_path / "_static" / asset).write_text("/* */")
    problems = link_problems(tmp_path, sorted(files))
    reported = {problem.split(":")[0] for problem in problems}
    expected = {rel for rel in files if rel not in LINKED}
    assert reported == expected, "\n".join(problems)
