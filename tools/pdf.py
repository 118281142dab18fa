"""The PDF edition: the whole book as one PDF, printed from the outputs the site already shows.

Usage: ``python tools/pdf.py`` (``make pdf``), after ``make book``. Steps:

1. Sphinx's ``singlehtml`` builder, through Jupyter Book with the same ``_config.yml``, the same
   doctrees and the same execution cache (keyed by ``_ext/execution_cache.py``): every chapter in
   ``_toc.yml`` order on one page. A line of its log saying a notebook was *executed* fails the
   step: the PDF must show the outputs the site shows, not a second run's.
2. That page, made printable (:func:`printable`): a cover and a table of contents in front, every
   chapter on a new page, every ``id`` unique.
3. Debian's Chromium (the one the browser tests use), driven by Playwright, waits until the fonts
   (KaTeX's, for the math typeset at build time) have loaded and every animation has made its
   filmstrip (``data-filmstrip="ready"``, see ``src/descent/player/player.js``), then prints it
   with ``page.pdf()``: A4, the print stylesheet (``_static/print.css``), a running header and
   page numbers, an outline.
4. The PDF's dates are pinned (:func:`pin_dates`) so the same book gives the same bytes, and it is
   copied into the site as ``_build/html/book.pdf``, which every page's download menu links
   (``_ext/pdfedition.py``).

Why this route: Jupyter Book's ``pdfhtml`` builder (pyppeteer) downloads a Chromium of its own
at build time, which fails offline; ``pdflatex`` needs a TeX Live installation of several
hundred MB and renders the animations, HTML outputs and the print stylesheet not at all. The
single-page HTML printed by the Chromium the tests already drive reuses all of them.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml
from bs4 import BeautifulSoup, Tag

import harness

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
SINGLE = BUILD / "singlehtml"
OUT = BUILD / "pdf" / "book.pdf"
SITE_COPY = BUILD / "html" / "book.pdf"
LOG = BUILD / "pdf" / "singlehtml.log"
JB = str(Path(sys.executable).parent / "jupyter-book")
EXECUTED = re.compile(r"Executing notebook")
PINNED_DATE = b"20260101000000"  # the book's copyright year, never the build time

# What the single page needs on paper beyond the site's print stylesheet: each chapter (a
# document's <section>, after Sphinx's <span id="document-…">) on a new page, the book's title
# shown (the theme hides a page's first <h1> in print, as its own print header repeats it), and
# the cover and contents set apart.
PDF_CSS = """
@media print {
  #jb-print-docs-body { display: none !important; }
  .bd-main .bd-content .bd-article h1:first-of-type { display: block !important; }
  span[id^="document-"] + section { break-before: page; }
  .pdf-cover { break-after: page; text-align: center; padding-top: 30vh; }
  .pdf-cover h1 { font-size: 2.6em; break-before: auto !important; }
  .pdf-cover p { font-size: 1.2em; }
  .pdf-contents { break-after: page; }
  .pdf-contents ol { list-style: none; padding-left: 1.2em; }
  .pdf-contents > ol { padding-left: 0; }
  .pdf-contents li { margin: 0.2em 0; }
  .pdf-contents a { text-decoration: none; color: #000; }
  .pdf-contents a::after { content: none !important; }
}
"""

HEADER = (
    '<div style="font-size:8px; width:100%; margin:0 15mm; color:#555; '
    'font-family:sans-serif;">{title}</div>'
)
FOOTER = (
    '<div style="font-size:8px; width:100%; text-align:center; color:#555; '
    'font-family:sans-serif;"><span class="pageNumber"></span> / '
    '<span class="totalPages"></span></div>'
)


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def build_singlehtml() -> Path:
    """Build the book as one HTML page from the cached outputs; fail if any cell runs."""
    LOG.parent.mkdir(parents=True, exist_ok=True)
    cmd = [JB, "build", str(ROOT), "--builder", "singlehtml", "-W", "-n", "--keep-going"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    LOG.write_text(text, encoding="utf-8")
    ran = [line for line in text.splitlines() if EXECUTED.search(line)]
    if ran:
        sys.exit(
            "pdf: the single-page build executed notebooks instead of reusing the site's "
            "outputs (run `make book` first, with the same sources):\n  " + "\n  ".join(ran[:5])
        )
    if done.returncode:
        problems = [line for line in text.splitlines() if re.search(r"WARNING|ERROR", line)]
        sys.exit(f"pdf: the single-page build failed, see {LOG}\n" + "\n".join(problems[-20:]))
    root = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]
    return SINGLE / f"{root}.html"  # the root document holds the whole book


def documents(soup: BeautifulSoup) -> list[list[Tag]]:
    """The page's elements, split where each document (chapter) of the book starts."""
    parts: list[list[Tag]] = [[]]
    for element in soup.find_all(True):
        if element.name == "span" and (element.get("id") or "").startswith("document-"):
            parts.append([])
        parts[-1].append(element)
    return parts


def unique_ids(soup: BeautifulSoup) -> int:
    """Give every ``id`` that an earlier chapter already used a numbered suffix (Sphinx numbers
    anonymous targets ``id1``, ``id2`` … per document) and point that chapter's own links at
    the new name; return how many ids were renamed."""
    seen: set[str] = set()
    renamed = 0
    for part in documents(soup):
        mine: dict[str, str] = {}
        for element in part:
            ident = element.get("id")
            if not ident:
                continue
            if ident in seen:
                new, n = ident, 1
                while new in seen:
                    n += 1
                    new = f"{ident}-{n}"
                element["id"] = mine[ident] = new
                renamed += 1
            seen.add(element["id"])
        for element in part:
            target = element.get("href") or ""
            if target.startswith("#") and target[1:] in mine:
                element["href"] = "#" + mine[target[1:]]
    return renamed


def heading_text(heading: Tag) -> str:
    text = re.sub(r"\s+", " ", heading.get_text(" ", strip=True))
    return text.removesuffix("#").strip()


def contents(soup: BeautifulSoup) -> Tag:
    """A table of contents: the book's opening page, then every chapter and its sections,
    linked (Sphinx's single page makes a chapter's title an ``h2``, its sections ``h3``)."""
    nav = soup.new_tag("nav", attrs={"class": "pdf-contents", "aria-label": "Contents"})
    heading = soup.new_tag("h2")
    heading.string = "Contents"
    nav.append(heading)
    top = soup.new_tag("ol")
    nav.append(top)

    def entry(section: Tag, level: str) -> Tag:
        item = soup.new_tag("li")
        link = soup.new_tag("a", href="#" + section["id"])
        link.string = heading_text(section.find(level))
        item.append(link)
        return item

    article = soup.select_one("article.bd-article")
    first = article.find("section")
    if first is not None and first.find("h1"):
        top.append(entry(first, "h1"))
    for start in article.select('span[id^="document-"]'):
        chapter = start.find_next_sibling("section")
        if chapter is None or chapter.find("h2") is None:
            continue
        item = entry(chapter, "h2")
        sections = [s for s in chapter.find_all("section", recursive=False) if s.find("h3")]
        if sections:
            inner = soup.new_tag("ol")
            inner.extend(entry(s, "h3") for s in sections)
            item.append(inner)
        top.append(item)
    return nav


def cover(soup: BeautifulSoup, settings: dict) -> Tag:
    """The title page: title, author, copyright and where the book lives online."""
    page = soup.new_tag("section", attrs={"class": "pdf-cover"})
    for tag, text in (
        ("h1", settings["title"]),
        ("p", settings["author"]),
        ("p", f"© {settings['copyright']}"),
        ("p", settings["html"]["baseurl"]),
    ):
        element = soup.new_tag(tag)
        element.string = str(text)
        page.append(element)
    return page


def local_links(soup: BeautifulSoup, here: str, baseurl: str) -> None:
    """Links within the book jump within the PDF; other links into the site go to the site.

    Sphinx's single page links its own sections as ``<root document>.html#target``; in a PDF
    that would be a link to a file on the machine that printed it. It becomes ``#target``.
    Any other relative link (a download) becomes an absolute link to the published site.
    """
    for link in soup.find_all("a", href=True):
        parts = urlsplit(link["href"])
        if parts.scheme or parts.netloc or not parts.path:
            continue
        if parts.path == here and parts.fragment:
            link["href"] = "#" + parts.fragment
        else:
            link["href"] = urljoin(baseurl, link["href"])


def printable(index: Path, settings: dict) -> Path:
    """The single page with a cover, contents, unique ids and the PDF's own style."""
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")
    local_links(soup, index.relative_to(SINGLE).as_posix(), settings["html"]["baseurl"])
    renamed = unique_ids(soup)
    ids = {element["id"] for element in soup.find_all(id=True)}
    # every link of the book's text that jumps within the PDF lands somewhere
    links = soup.select('article.bd-article a[href^="#"]')
    dangling = sorted({a["href"] for a in links if a["href"][1:] not in ids})
    if dangling:
        sys.exit(f"pdf: links to no target on the single page: {dangling[:10]}")
    article = soup.select_one("article.bd-article")
    article.insert(0, contents(soup))
    article.insert(0, cover(soup, settings))
    style = soup.new_tag("style")
    style.string = PDF_CSS
    soup.head.append(style)
    # Sphinx writes the root document where its name says (book/intro.html) but with links
    # relative to the output folder (_static/…): the printable page goes there.
    printable = SINGLE / "book-print.html"
    printable.write_text(str(soup), encoding="utf-8")
    print(f"pdf: {printable.relative_to(ROOT)} ({renamed} repeated ids renamed)")
    return printable


# Ready to print: every animation has made its filmstrip (player.js) …
FILMSTRIPS_JS = """() => Array.from(document.querySelectorAll(".descent-anim"))
  .every((player) => player.dataset.filmstrip === "ready")"""
# … the fonts the page uses (KaTeX's too: the math is typeset at build time, _ext/katex_math.py)
# have loaded, and every image has.
SETTLED_JS = """async () => {
  await document.fonts.ready;
  await Promise.all(Array.from(document.images).map((i) => i.decode().catch(() => null)));
}"""


def print_pdf(page_file: Path, target: Path, title: str) -> None:
    """Print ``page_file`` to ``target`` in Chromium, once every filmstrip is ready."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=harness.chromium(), args=harness.CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_function(FILMSTRIPS_JS, timeout=120_000, polling=250)
        page.evaluate(SETTLED_JS)
        page.emulate_media(media="print")
        target.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(
            path=str(target),
            format="A4",
            print_background=True,
            display_header_footer=True,
            header_template=HEADER.format(title=html.escape(title)),
            footer_template=FOOTER,
            margin={"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"},
            outline=True,
            tagged=True,
        )
        browser.close()


def pin_dates(pdf: Path) -> None:
    """Replace the PDF's creation and modification dates (the print time, in the printing
    machine's time zone) by a fixed date in UTC, byte for byte the same length, so the offsets
    in the PDF stay valid and the same book gives the same bytes."""
    stamp = re.compile(rb"(/(?:CreationDate|ModDate)\s*\(D:)\d{14}([+\-Z]?)(\d{2}'\d{2}'?)?")

    def fixed(match: re.Match) -> bytes:
        zone = match.group(3) or b""
        sign = b"+" if match.group(2) in (b"+", b"-") else match.group(2)
        return match.group(1) + PINNED_DATE + sign + re.sub(rb"\d", b"0", zone)

    pdf.write_bytes(stamp.sub(fixed, pdf.read_bytes()))


def main() -> int:
    start = time.monotonic()
    settings = config()
    index = build_singlehtml()
    print(f"pdf: single-page build in {time.monotonic() - start:.0f} s, no cell executed")
    page_file = printable(index, settings)
    print_pdf(page_file, OUT, settings["title"])
    pin_dates(OUT)
    if SITE_COPY.parent.is_dir():
        shutil.copyfile(OUT, SITE_COPY)
    size = OUT.stat().st_size / 1e6
    print(f"pdf: {OUT.relative_to(ROOT)} ({size:.1f} MB) in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
