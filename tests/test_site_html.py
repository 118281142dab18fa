"""The built site as HTML (BeautifulSoup): what every page holds, and what its links point to.

Every page: images have real alt text; animations are complete, appear once and have no static
twin; no error output outside cells tagged ``raises-exception``; no path of the build machine;
no memory address in an output; no script, style, font or image from another host; every
internal link and ``#anchor`` resolves. The site: external links are listed (never fetched) in
``_build/external-links.txt``; the 404 page works under the Pages prefix; ``index.html`` leads to
the intro; every executable chapter offers its executed notebook; OpenGraph tags and image.

The checks are functions returning a list of problems (empty = fine); the last section runs them
on small pages with known faults, so a check that stopped finding anything would fail too.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup, Tag

from conftest import BASEURL, CONFIG, PREFIX, ROOT, read_html, soup_of

# --- helpers ----------------------------------------------------------------------------------


def describe(tag: Tag, length: int = 160) -> str:
    """A tag, shortened for a failure message (long data: URLs cut)."""
    text = re.sub(r"(data:[^;,]+[;,]\w*,?)[^\"' )]{20,}", r"\1…", str(tag))
    return re.sub(r"\s+", " ", text)[:length]


def classes(tag: Tag) -> list[str]:
    value = tag.get("class") or []
    return value.split() if isinstance(value, str) else list(value)


def text_nodes(tag: Tag) -> Iterator[str]:
    """The text a reader sees in ``tag``: every string outside ``<script>`` and ``<style>``."""
    for string in tag.find_all(string=True):
        if not any(parent.name in ("script", "style") for parent in string.parents):
            yield str(string)


# Long base64 runs (inline frames, fonts) spell anything by chance; they are not text.
BASE64_RUN = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+|[A-Za-z0-9+/]{100,}={0,2}")


def without_base64(text: str) -> str:
    return BASE64_RUN.sub("[base64]", text)


# --- images -----------------------------------------------------------------------------------

IMAGE_FILE = re.compile(r"\.(png|jpe?g|gif|svg|webp|avif|bmp|tiff?)\b", re.IGNORECASE)
GENERIC_ALT = {
    "image", "img", "figure", "fig", "plot", "graph", "chart", "picture", "photo", "output",
    "untitled", "png", "svg", "jpg", "animation", "frame", "alt", "alt text", "todo",
}  # fmt: skip
FIGURE_REPR = re.compile(r"<(Figure|Axes|matplotlib)\b[^>]*>")


def alt_problems(soup: BeautifulSoup) -> list[str]:
    """Every ``<img>`` needs alt text that says something: not empty, not a file name or hash,
    not a generic word, not matplotlib's ``<Figure size …>``, at least two words."""
    found = []
    for img in soup.find_all("img"):
        alt = img.get("alt")
        src = img.get("src", "")
        stem = Path(urlsplit(src).path).stem if not src.startswith("data:") else ""
        text = (alt or "").strip()
        why = None
        if alt is None:
            why = "no alt attribute"
        elif not text:
            why = "empty alt"
        elif IMAGE_FILE.search(text) or (
            len(stem) >= 4 and re.search(rf"\b{re.escape(stem)}\b", text)
        ):
            why = f"alt is a file name: {text!r}"
        elif re.fullmatch(r"[0-9a-f]{12,}", text, re.IGNORECASE):
            why = f"alt is a hash: {text!r}"
        elif text.lower().strip(".!: ") in GENERIC_ALT:
            why = f"alt is a generic word: {text!r}"
        elif FIGURE_REPR.search(text):
            why = f"alt is a Python repr: {text!r}"
        elif len(text.split()) < 2:
            why = f"alt is one word, it describes nothing: {text!r}"
        if why:
            found.append(f"{why}: {describe(img)}")
    return found


# --- animations -------------------------------------------------------------------------------

ANIM_ID = re.compile(r"descent-anim-[0-9a-f]+(?:-\d+)?")
FRAMES_JS = re.compile(r"\brest\s*=\s*(\[[^\]]*\])")


def animations(soup: BeautifulSoup) -> list[Tag]:
    return soup.select(".descent-anim")


def frames_of(anim: Tag) -> list[str] | None:
    """The animation's frames as data URLs (the first from its ``<img>``, the rest from its
    script), or None when they cannot be found."""
    img = anim.find("img")
    script = anim.find("script")
    match = FRAMES_JS.search(script.get_text()) if script else None
    if img is None or match is None:
        return None
    try:
        rest = json.loads(match.group(1))
    except json.JSONDecodeError:
        return None
    return [img.get("src", ""), *(f"data:image/png;base64,{frame}" for frame in rest)]


def animation_key(anim: Tag) -> str:
    """What an animation shows, independent of its element id: a hash of its frames (or, if
    they cannot be found, of its markup with the ids taken out)."""
    frames = frames_of(anim)
    content = "\n".join(frames) if frames else ANIM_ID.sub("", str(anim))
    return hashlib.sha256(content.encode()).hexdigest()


def animation_problems(soup: BeautifulSoup) -> list[str]:
    """Each player is complete (frame image, slider over every frame, Play, Pause, its
    script), and no animation appears twice on the page. matplotlib's own player is not used."""
    found = []
    seen: dict[str, str] = {}
    for n, anim in enumerate(animations(soup), 1):
        where = f"animation {n} (#{anim.get('id', '?')})"
        parts = {
            "frame <img>": anim.select("img"),
            "slider input[type=range].descent-slider": anim.select(
                "input[type=range].descent-slider"
            ),
            "Play button.descent-play": anim.select("button.descent-play"),
            "Pause button.descent-pause": anim.select("button.descent-pause"),
            "<script>": anim.select("script"),
        }
        for name, tags in parts.items():
            if len(tags) != 1:
                found.append(f"{where}: {len(tags)} × {name}, expected exactly one")
        frames = frames_of(anim)
        if frames is None:
            found.append(f"{where}: its frames cannot be found (img + `rest = [...]` in script)")
        else:
            if len(frames) < 2:
                found.append(f"{where}: {len(frames)} frame(s), nothing to animate")
            slider = anim.select_one("input.descent-slider")
            if slider is not None and slider.get("max") != str(len(frames) - 1):
                found.append(f"{where}: slider max={slider.get('max')} but {len(frames)} frames")
        key = animation_key(anim)
        if key in seen:
            found.append(f"{where}: the same animation as {seen[key]} (shown twice)")
        seen.setdefault(key, where)
    for player in soup.select("[id^=_anim_img], .anim-buttons"):
        found.append(f"matplotlib's jshtml player (CDN icons, no alt): {describe(player)}")
    return found


def twin_problems(soup: BeautifulSoup) -> list[str]:
    """The cell that shows an animation shows nothing else of the figure: no static ``<img>``
    (the figure left open) and no ``<Figure size …>`` text."""
    found = []
    for n, anim in enumerate(animations(soup), 1):
        cell = anim.find_parent(class_="cell") or anim.find_parent(class_="cell_output")
        if cell is None:
            continue
        where = f"animation {n} (#{anim.get('id', '?')})"
        for img in cell.find_all("img"):
            if img.find_parent(class_="descent-anim") is None:
                found.append(f"{where}: a static twin in its cell: {describe(img)}")
        for output in cell.select(".cell_output"):
            for text in text_nodes(output):
                if FIGURE_REPR.search(text):
                    found.append(f"{where}: its cell also prints {text.strip()[:80]!r}")
    return found


# --- outputs ----------------------------------------------------------------------------------

ERROR_OUTPUT = ".output.traceback, [class*=highlight-ipythontb], .output.stderr"
TRACEBACK_TEXT = "Traceback (most recent call last)"


def error_output_problems(soup: BeautifulSoup) -> list[str]:
    """Tracebacks and stderr only in cells tagged ``raises-exception``."""
    found = []
    outputs = set(soup.select(ERROR_OUTPUT))
    outputs.update(
        output
        for output in soup.select(".cell_output")
        if any(TRACEBACK_TEXT in text for text in text_nodes(output))
    )
    for output in outputs:
        cell = output.find_parent(class_="cell")
        if cell is not None and "tag_raises-exception" in classes(cell):
            continue
        text = " ".join(" ".join(text_nodes(output)).split())
        found.append(f"error output outside a raises-exception cell: {text[:300]!r}")
    return sorted(found)


def raises_exception_problems(soup: BeautifulSoup) -> list[str]:
    """A cell tagged ``raises-exception`` shows its error (unless its output is removed)."""
    found = []
    for n, cell in enumerate(soup.select(".cell.tag_raises-exception"), 1):
        if "tag_remove-output" in classes(cell):
            continue
        if not cell.select(ERROR_OUTPUT):
            source = (
                " ".join(cell.select_one(".cell_input").get_text().split())[:120]
                if (cell.select_one(".cell_input"))
                else "(input hidden)"
            )
            found.append(f"raises-exception cell {n} shows no error: {source!r}")
    return found


MEMORY_ADDRESS = re.compile(r"\b0x[0-9a-f]{6,}\b", re.IGNORECASE)
OUTPUTS = ".cell_output, .pasted-text, .pasted-inline, .output"


def memory_address_problems(soup: BeautifulSoup) -> list[str]:
    """No ``0x7f…`` memory address (a repr that changes every run) in any output."""
    found = set()
    for output in soup.select(OUTPUTS):
        for text in text_nodes(output):
            for match in MEMORY_ADDRESS.finditer(text):
                start = max(0, match.start() - 60)
                found.add(f"memory address in an output: {text[start : match.end() + 20]!r}")
    return sorted(found)


BUILD_PATHS = re.compile(
    "|".join(
        [
            r"(?<![\w.~-])/tmp(?:/|\b)",
            r"(?<![\w.~-])/root/",
            r"(?<![\w.~-])/home/[^/\s\"'<>]+",
            r"[/\\]site-packages|site-packages[/\\]",
            r"[/\\]dist-packages|dist-packages[/\\]",
            r"(?<![\w.~-])/usr/(?:local/)?lib/python",
            r"(?<![\w.~-])/Users/[^/\s\"'<>]+",
            r"[A-Za-z]:\\\\?Users\\",
            re.escape(str(ROOT)),
        ]
    )
)


def build_path_problems(text: str) -> list[str]:
    """Paths of the machine that built the site (temp dirs, home dirs, installed packages)."""
    text = without_base64(text)
    found = set()
    for match in BUILD_PATHS.finditer(text):
        start = max(0, match.start() - 60)
        context = " ".join(text[start : match.end() + 40].split())
        found.add(f"build-machine path {match.group(0)!r} in …{context}…")
    return sorted(found)


# --- URLs: assets, links, anchors --------------------------------------------------------------

URL_ATTRIBUTES = [
    ("a", "href"), ("area", "href"), ("link", "href"), ("script", "src"), ("img", "src"),
    ("img", "srcset"), ("source", "src"), ("source", "srcset"), ("video", "src"),
    ("video", "poster"), ("audio", "src"), ("track", "src"), ("iframe", "src"),
    ("embed", "src"), ("object", "data"), ("input", "src"), ("form", "action"),
    ("image", "href"), ("image", "xlink:href"), ("use", "href"), ("use", "xlink:href"),
]  # fmt: skip
# Elements whose URL the browser fetches on its own (as opposed to a link a reader follows).
LOADED_LINK_RELS = {
    "stylesheet", "preload", "modulepreload", "prefetch", "preconnect", "dns-prefetch",
    "icon", "shortcut", "apple-touch-icon", "mask-icon", "manifest",
}  # fmt: skip
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")
SKIPPED_SCHEMES = ("data", "javascript", "blob", "about")


def urls_in(soup: BeautifulSoup) -> Iterator[tuple[Tag, str, bool]]:
    """(element, URL, fetched by the browser?) for every URL attribute of the page."""
    for name, attribute in URL_ATTRIBUTES:
        for tag in soup.find_all(name):
            value = tag.get(attribute)
            if not value:
                continue
            values = (
                [v.strip().split()[0] for v in value.split(",") if v.strip()]
                if (attribute == "srcset")
                else [value.strip()]
            )
            if name == "a" or name == "area" or name == "form":
                loaded = False
            elif name == "link":
                loaded = bool(set(map(str.lower, tag.get("rel") or [])) & LOADED_LINK_RELS)
            else:
                loaded = True
            for url in values:
                yield tag, url, loaded


def css_urls(text: str) -> Iterator[str]:
    for match in CSS_URL.finditer(text):
        yield (match.group(2) or match.group(4)).strip()


def page_url(doc: str) -> str:
    """Where ``doc`` lives in production (``https://…/descent/book/intro.html``)."""
    return urljoin(BASEURL, doc)


def to_site_path(url: str) -> str | None:
    """The site-relative file a production URL points to, or None if it is not in the site."""
    if not url.startswith(BASEURL):
        return None
    return unquote(urlsplit(url).path[len(PREFIX) :])


def is_external(url: str) -> bool:
    parts = urlsplit(url)
    return (
        bool(parts.scheme) and parts.scheme not in SKIPPED_SCHEMES and not (url.startswith(BASEURL))
    )


def foreign_asset_problems(soup: BeautifulSoup, doc: str) -> list[str]:
    """Nothing the browser fetches by itself (script, style, font, image, frame …) comes from
    another host: not in attributes, not in ``<style>``/``style=``, not named in inline scripts."""
    found = []
    base = page_url(doc)
    for tag, url, loaded in urls_in(soup):
        if loaded and is_external(urljoin(base, url)):
            found.append(f"<{tag.name}> from another host: {url} in {describe(tag)}")
    styles = [style.get_text() for style in soup.find_all("style")]
    styles += [tag["style"] for tag in soup.find_all(style=True)]
    for css in styles:
        for url in css_urls(css):
            if is_external(urljoin(base, url)):
                found.append(f"CSS url() from another host: {url}")
    for script in soup.find_all("script", src=False):
        for url in re.findall(r"https?://[\w.-]+\.[a-z]{2,}[^\s\"'`<>)]*", script.get_text()):
            if is_external(urljoin(base, url)):
                found.append(f"inline script names a URL on another host: {url}")
    return found


def ids_of(path: Path) -> set[str]:
    soup = soup_of(path)
    return {tag["id"] for tag in soup.find_all(id=True)} | {
        tag["name"] for tag in soup.find_all("a", attrs={"name": True})
    }


def target_problem(site: Path, rel: str, fragment: str) -> str | None:
    """Why a site-relative target (and its #fragment) does not resolve, or None."""
    target = site / rel
    if rel == "" or rel.endswith("/") or target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return "no such file in the site"
    fragment = unquote(fragment)
    if fragment and target.suffix == ".html" and fragment not in ids_of(target):
        return f"no id {fragment!r} in {target.relative_to(site).as_posix()}"
    return None


def link_problems(soup: BeautifulSoup, doc: str, site: Path) -> list[str]:
    """Every link and asset inside the site exists, and every ``#fragment`` is an id there.
    A root-relative URL outside the Pages prefix (``/basic.css``) is broken on Pages."""
    found = []
    base = page_url(doc)
    for tag, url, _ in urls_in(soup):
        if urlsplit(url).scheme in SKIPPED_SCHEMES or url.startswith("mailto:"):
            continue
        absolute = urljoin(base, url)
        if is_external(absolute):
            if urlsplit(absolute).netloc == urlsplit(BASEURL).netloc:
                found.append(f"{url}: outside the book's prefix {PREFIX} ({describe(tag)})")
            continue
        rel = to_site_path(absolute)
        if rel is None:
            found.append(f"{url}: not under {BASEURL} ({describe(tag)})")
            continue
        why = target_problem(site, rel, urlsplit(absolute).fragment)
        if why:
            found.append(f"{url}: {why} ({describe(tag)})")
    return sorted(set(found))


def external_links(soup: BeautifulSoup, doc: str) -> Iterator[str]:
    base = page_url(doc)
    for _tag, url, _loaded in urls_in(soup):
        absolute = urljoin(base, url)
        if is_external(absolute) and urlsplit(absolute).netloc != urlsplit(BASEURL).netloc:
            yield absolute


# --- notebooks ----------------------------------------------------------------------------------


def notebook_problems(notebook: dict) -> list[str]:
    """The downloadable notebook was executed: it has outputs, every code cell ran, and errors
    only in cells tagged ``raises-exception``."""
    found = []
    code = [cell for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"]
    if not code:
        return ["the notebook has no code cell"]
    if not any(cell.get("outputs") for cell in code):
        found.append(f"none of its {len(code)} code cells has an output")
    for n, cell in enumerate(code, 1):
        tags = cell.get("metadata", {}).get("tags", [])
        first = "".join(cell.get("source", "")).strip().splitlines()[:1]
        # The reader notebook's install cell (_ext/reader.py) runs at the reader's, not here.
        if cell.get("execution_count") is None and not {"skip-execution", "install"} & set(tags):
            found.append(f"code cell {n} was not executed: {first}")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and "raises-exception" not in tags:
            found.append(f"code cell {n} has an error output: {errors[0].get('ename')}")
    return found


# === the tests over the built site ============================================================


def test_images_have_real_alt_text(site_root: Path, doc: str) -> None:
    problems = alt_problems(soup_of(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_animations_are_complete_and_appear_once(site_root: Path, doc: str) -> None:
    problems = animation_problems(soup_of(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_no_animation_appears_on_two_pages(site_root: Path, pages: list[str]) -> None:
    where = defaultdict(list)
    for doc in pages:
        for anim in animations(soup_of(site_root / doc)):
            where[animation_key(anim)].append(f"{doc}#{anim.get('id', '?')}")
    twice = [places for places in where.values() if len({p.split("#")[0] for p in places}) > 1]
    assert not twice, "the same animation on several pages:\n  " + "\n  ".join(map(str, twice))


def test_no_static_twin_of_an_animation(site_root: Path, doc: str) -> None:
    problems = twin_problems(soup_of(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_no_error_output_outside_raises_exception_cells(site_root: Path, doc: str) -> None:
    problems = error_output_problems(soup_of(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_raises_exception_cells_show_their_error(site_root: Path, doc: str) -> None:
    problems = raises_exception_problems(soup_of(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_no_memory_address_in_outputs(site_root: Path, doc: str) -> None:
    problems = memory_address_problems(soup_of(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def test_no_build_machine_path_in_the_page(site_root: Path, doc: str) -> None:
    problems = build_path_problems(read_html(site_root / doc))
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


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


def test_nothing_loads_from_another_host(site_root: Path, doc: str) -> None:
    problems = foreign_asset_problems(soup_of(site_root / doc), doc)
    assert not problems, f"{doc}:\n  " + "\n  ".join(problems)


def stylesheets(site_root: Path, pages: Iterable[str]) -> set[Path]:
    """The local stylesheets the pages link, and those they ``@import``."""
    found: set[Path] = set()
    for doc in pages:
        for tag, url, loaded in urls_in(soup_of(site_root / doc)):
            rel = to_site_path(urljoin(page_url(doc), url))
            if tag.name == "link" and loaded and rel and rel.endswith(".css"):
                found.add(site_root / rel)
    todo = list(found)
    while todo:
        sheet = todo.pop()
        if not sheet.is_file():
            continue
        for url in css_urls(sheet.read_text(errors="replace")):
            target = (sheet.parent / urlsplit(url).path).resolve()
            if target.suffix == ".css" and target not in found:
                found.add(target)
                todo.append(target)
    return found


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


def test_internal_links_and_anchors_resolve(site_root: Path, doc: str) -> None:
    problems = link_problems(soup_of(site_root / doc), doc, site_root)
    assert not problems, f"{doc}: broken links:\n  " + "\n  ".join(problems)


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


def test_the_404_page_works_under_the_pages_prefix(site_root: Path) -> None:
    """``404.html`` is served for any missing path at any depth, so every URL it uses must be
    root-relative under the prefix (``/descent/_static/…``) and exist in the site."""
    page = site_root / "404.html"
    assert page.is_file(), "the site has no 404.html"
    problems = []
    soup = soup_of(page)
    for tag, url, _loaded in urls_in(soup):
        parts = urlsplit(url)
        if parts.scheme or url.startswith(("#", "mailto:")):
            continue
        if not url.startswith(PREFIX):
            problems.append(f"{url}: relative or outside {PREFIX}, broken below the root")
            continue
        why = target_problem(site_root, unquote(parts.path[len(PREFIX) :]), parts.fragment)
        if why:
            problems.append(f"{url}: {why} ({describe(tag)})")
    assert soup.find("link", rel="stylesheet"), "404.html links no stylesheet"
    assert not problems, "404.html:\n  " + "\n  ".join(problems)


def test_the_pages_prefix_is_the_one_the_site_is_published_under() -> None:
    """The 404 page's prefix and the base URL agree (both say where Pages serves the book)."""
    prefix = CONFIG["sphinx"]["config"]["notfound_urls_prefix"]
    assert prefix == PREFIX, f"notfound_urls_prefix {prefix!r} but html.baseurl path {PREFIX!r}"


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


def og(soup: BeautifulSoup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"property": name})
    return tag.get("content") if tag else None


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


def anim_html(element_id: str = "descent-anim-0123456789ab", frames=GOOD_ANIM_FRAMES) -> str:
    rest = json.dumps(frames[1:])
    return (
        f'<div class="descent-anim" id="{element_id}"><img src="data:image/png;base64,'
        f'{frames[0]}" alt="The line moves towards the points.">'
        f'<button class="descent-play"></button><button class="descent-pause"></button>'
        f'<input type="range" class="descent-slider" min="0" max="{len(frames) - 1}">'
        f"<script>const rest = {rest};</script></div>"
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
            anim_html() + anim_html("descent-anim-0123456789ab-1"),
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


def test_link_check_finds_faults(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.html").write_text('<h1 id="top">A</h1>')
    (tmp_path / "book" / "b.html").write_text('<h1 id="b">B</h1>')
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "s.css").write_text("")
    doc = "book/b.html"
    good = '<a href="a.html#top">x</a><link rel="stylesheet" href="../_static/s.css"><a href="#">'
    assert not link_problems(soup(good), doc, tmp_path)
    for bad in [
        '<a href="a.html#nowhere">',
        '<a href="c.html">',
        '<a href="/basic.css">',
        '<script src="../_static/missing.js"></script>',
        '<a href="#absent">',
    ]:
        assert link_problems(soup(bad), doc, tmp_path), bad
