"""On paper: the PDF edition of the whole book (``make pdf``, ``tools/pdf.py``) and a chapter
printed from the browser, read back with poppler (``pdfinfo``, ``pdftotext``, ``pdfimages``).

- The PDF edition is in the site (``book.pdf``), linked from every page's download menu; its
  page count is sane, every chapter's title is in its text layer, every animation of the site is
  in it as a filmstrip (its first and its last frame, pixel for pixel the codec's, and they
  differ), no player control is printed, its links (to the web and within the book) work, its
  dates are pinned.
- ``book/animation.html`` printed by Chromium (as a reader's *Print*) shows filmstrips: six or
  more frames of each animation, labelled, not a single frame with dead controls.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import yaml
from bs4 import BeautifulSoup
from PIL import Image

from conftest import ROOT, content_pages, read_html, soup_of
from descent.codec import decode_frame, on_white
from descent.player import PlayerData, read_players

pytestmark = pytest.mark.browser

PDF_NAME = "book.pdf"  # _ext/pdfedition.py's pdf_edition: where the site holds the PDF edition
CONTROL_NAMES = ["First frame", "Previous frame", "Next frame", "Last frame", "Pause"]


def poppler(tool: str, *args: str) -> str:
    """Run a poppler-utils tool and return its output; fail with what to install if missing."""
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} not found: install poppler-utils (apt-get install poppler-utils)")
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


def words(text: str) -> str:
    """``text`` with every run of white space as one space (a PDF breaks lines anywhere)."""
    return re.sub(r"\s+", " ", text).strip()


@cache
def pdf_text(pdf: Path) -> str:
    return words(poppler("pdftotext", "-enc", "UTF-8", str(pdf), "-"))


@cache
def pdf_images(pdf: Path, folder: Path) -> list[np.ndarray]:
    """Every image of the PDF as an RGB array (``pdfimages -png``)."""
    folder.mkdir(parents=True, exist_ok=True)
    poppler("pdfimages", "-png", str(pdf), str(folder / "img"))
    images = []
    for path in sorted(folder.glob("img-*.png")):
        with Image.open(path) as image:
            images.append(np.asarray(image.convert("RGB")))
    return images


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", str(pdf)), re.M).group(1))


def site_players(site_root: Path) -> list[tuple[str, PlayerData]]:
    """Every animation of the site, once each (by content id), with the page that holds it."""
    found: dict[str, tuple[str, PlayerData]] = {}
    for doc in content_pages(site_root):
        for player in read_players(read_html(site_root / doc), base=(site_root / doc).parent):
            found.setdefault(player.content_id, (doc, player))
    return list(found.values())


def assert_filmstrip(player: PlayerData, text: str, images: list[np.ndarray], where: str):
    """The player is printed as a filmstrip: its first and last frames (which differ) are
    images of the PDF, labelled; six or more of its frames are printed."""
    last = len(player.frames) - 1
    # what the player shows (RGBA), as printed on white paper (RGB)
    first_frame = on_white(decode_frame(player.frames, 0))
    last_frame = on_white(decode_frame(player.frames, last))
    assert not np.array_equal(first_frame, last_frame), f"{player.content_id}: a still"
    width, height = player.size
    same_size = [image for image in images if image.shape[:2] == (height, width)]
    assert len(same_size) >= min(6, len(player.frames)), (
        f"{where}: {player.content_id} printed as {len(same_size)} frame(s), not a filmstrip"
    )
    assert any(np.array_equal(image, first_frame) for image in same_size), (
        f"{where}: {player.content_id}'s first frame is not in the PDF"
    )
    assert any(np.array_equal(image, last_frame) for image in same_size), (
        f"{where}: {player.content_id}'s last frame is not in the PDF"
    )
    for label in (player.labels[0], player.labels[last]):
        assert words(label) in text, f"{where}: filmstrip label {label!r} not printed"


def assert_no_controls(players: list[PlayerData], text: str, where: str) -> None:
    """No player control is printed: no button name, no slider with its value."""
    for name in CONTROL_NAMES:
        assert name not in text, f"{where}: the player control {name!r} is printed"
    for player in players:
        slider = words(f"{player.slider_label} {player.labels[0]}")
        assert slider not in text, f"{where}: the slider {slider!r} is printed"


# --- the PDF edition --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def book_pdf(site_root: Path) -> Path:
    pdf = site_root / PDF_NAME
    if not pdf.is_file():
        pytest.fail(f"no {pdf}: run `make pdf` after `make book`", pytrace=False)
    return pdf


def test_pdf_edition_has_a_sane_page_count(book_pdf, site_root):
    pages, chapters = page_count(book_pdf), len(content_pages(site_root))
    # a cover, the contents, and every chapter starting on a page of its own …
    assert pages >= chapters + 2, f"{pages} pages for {chapters} chapters"
    # … but not a page per figure, nor the screen layout's blank pages
    assert pages <= 40 * chapters, f"{pages} pages for {chapters} chapters"


def toc_order() -> list[str]:
    """The book's pages in reading order, from ``_toc.yml``: its root, then every chapter."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f"{name}.html" for name in files]


def chapter_title(site_root: Path, doc: str) -> str:
    """The title of a chapter as its page shows it, without the section number or the ¶."""
    h1 = soup_of(site_root / doc).select_one("article h1")
    title = words(h1.get_text(" ", strip=True)).removesuffix("#").strip()
    return re.sub(r"^(\d+\.)+\s*", "", title)


def test_pdf_edition_holds_every_chapter_in_order(book_pdf, site_root):
    text = pdf_text(book_pdf)
    contents_end = text.index("Contents") + len("Contents")
    order = []
    for doc in toc_order():
        title = words(chapter_title(site_root, doc))
        assert title in text, f"chapter {doc} ({title!r}) is not in the PDF's text"
        # after the contents (which list it too), each title comes after the one before
        order.append(text.index(title, text.index(title, contents_end)))
    assert order == sorted(order), "the chapters are not in the table of contents' order"


def test_pdf_edition_shows_every_animation_as_a_filmstrip(book_pdf, site_root, tmp_path_factory):
    players = site_players(site_root)
    assert players, "the site has no animation to check"
    text = pdf_text(book_pdf)
    images = pdf_images(book_pdf, tmp_path_factory.mktemp("book-images"))
    for doc, player in players:
        assert_filmstrip(player, text, images, f"{PDF_NAME} ({doc})")
    assert_no_controls([player for _, player in players], text, PDF_NAME)


def test_the_printed_single_page_holds_every_frame_inline(book_pdf, site_root):
    """Issue 13: only the site's pages take their frames from files (``_static/anim``); the
    single page that ``make pdf`` prints holds every animation's frames inline, the same
    frames as the site's players."""
    single = pdf_tool().SINGLE
    page = (single / "book-print.html").read_text("utf-8")
    printed = {player.content_id: player.frames for player in read_players(page)}  # no base
    assert not (single / "_static" / "anim").exists()
    for doc, player in site_players(site_root):
        assert printed.get(player.content_id) == player.frames, f"{doc}: {player.content_id}"


def test_pdf_edition_typesets_the_math(book_pdf):
    """The math is typeset in KaTeX's fonts (at build time, _ext/katex_math.py), not printed as
    TeX source nor in a fallback font."""
    fonts = poppler("pdffonts", str(book_pdf))
    for font in ("KaTeX_Main-Regular", "KaTeX_Math-Italic"):
        assert f"+{font} " in fonts, f"{font} is not embedded:\n{fonts}"
    text = pdf_text(book_pdf)
    for source in ("\\frac", "\\nabla", "\\lambda", "$$"):
        assert source not in text, f"TeX source {source!r} is printed"


def test_pdf_edition_has_links_out_and_within(book_pdf):
    """Links to the web work; the contents and the cross-references jump within the PDF (never
    to a file on the machine that printed it); the PDF has an outline."""
    listed = poppler("pdfinfo", "-url", str(book_pdf)).splitlines()[1:]
    urls = [line.split()[-1] for line in listed if line.strip()]
    assert any(url.startswith("https://github.com/") for url in urls), urls
    assert all(url.startswith(("https://", "http://", "mailto:")) for url in urls), urls
    raw = book_pdf.read_bytes()
    chapters = len(toc_order())
    assert raw.count(b"/Dest") >= 10 * chapters, "too few links within the book"
    assert b"/Outlines" in raw, "no outline (bookmarks)"
    assert b"/work/" not in raw and b"file:" not in raw, "a path of the printing machine"


def test_pdf_edition_dates_are_pinned(book_pdf):
    info = poppler("pdfinfo", "-isodates", str(book_pdf))
    dates = re.findall(r"^(?:CreationDate|ModDate):\s+(\S+)", info, re.M)
    assert dates and all(date.startswith("2026-01-01T00:00:00") for date in dates), info


def test_every_download_menu_links_the_pdf_edition(site_root, book_pdf):
    pages = content_pages(site_root)
    for doc in pages:
        soup = soup_of(site_root / doc)
        menu = soup.select_one(".dropdown-download-buttons")
        assert menu is not None, f"{doc}: no download menu"
        links = [a["href"] for a in menu.select("a[href]") if a["href"].endswith(PDF_NAME)]
        assert len(links) == 1, f"{doc}: the download menu does not link {PDF_NAME}"
        assert (site_root / doc).parent.joinpath(links[0]).resolve() == book_pdf.resolve()


# --- a chapter printed by the browser ---------------------------------------------------------


def test_printing_the_animation_chapter_gives_filmstrips(tab, site_root, tmp_path):
    """What a reader gets from Print on ``book/animation.html``: every animation as a filmstrip,
    no controls, and the print readiness signal the PDF edition waits for."""
    doc = "book/animation.html"
    players = read_players(read_html(site_root / doc), base=(site_root / doc).parent)
    assert players, f"{doc} has no animation"
    tab.goto(doc)
    tab.page.wait_for_function(
        "() => Array.from(document.querySelectorAll('.descent-anim'))"
        ".every((p) => p.dataset.filmstrip === 'ready')"
    )
    pdf = tmp_path / "animation.pdf"
    tab.page.pdf(path=str(pdf), format="A4")
    text = pdf_text(pdf)
    images = pdf_images(pdf, tmp_path / "images")
    for player in players:
        assert_filmstrip(player, text, images, doc)
    assert_no_controls(players, text, doc)
    assert not tab.problems(), tab.problems()


# --- the PDF edition's tool (tools/pdf.py), on small inputs --------------------------------


def pdf_tool():
    spec = importlib.util.spec_from_file_location("pdf_tool", ROOT / "tools" / "pdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SINGLE_PAGE = """<html><head></head><body><article class="bd-article">
<section id="intro"><h1>Book</h1></section>
<span id="document-book/a"></span><section id="a"><h2>1. A</h2>
<span id="id1"></span><p><a href="#id1">here</a> <a href="book/intro.html#b">to B</a>
<a href="_downloads/x.zip">zip</a> <a href="https://example.org/">out</a></p></section>
<span id="document-book/b"></span><section id="b"><h2>2. B</h2>
<p><a href="#id1">back</a></p><span id="id1"></span></section>
</article></body></html>"""


def test_single_page_ids_become_unique_and_links_follow_their_chapter():
    tool = pdf_tool()
    soup = BeautifulSoup(SINGLE_PAGE, "html.parser")
    tool.local_links(soup, "book/intro.html", "https://site.example/book/")
    assert tool.unique_ids(soup) == 1
    ids = [tag["id"] for tag in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))
    links = [a["href"] for a in soup.find_all("a")]
    # chapter A's link keeps its own id1; chapter B's (written before its target) follows
    # the renamed one; the link to chapter B jumps within the page; a download goes to the site
    assert links == [
        "#id1",
        "#b",
        "https://site.example/book/_downloads/x.zip",
        "https://example.org/",
        "#id1-2",
    ]


def test_pdf_dates_are_pinned_in_place(tmp_path):
    tool = pdf_tool()
    pdf = tmp_path / "x.pdf"
    body = b"%PDF-1.4\n<</CreationDate (D:20991231235959+01'00') /ModDate (D:20991231235959Z)>>\n"
    pdf.write_bytes(body)
    tool.pin_dates(pdf)
    pinned = pdf.read_bytes()
    assert len(pinned) == len(body), "byte offsets must not move"
    assert b"(D:20260101000000+00'00')" in pinned and b"(D:20260101000000Z)" in pinned
