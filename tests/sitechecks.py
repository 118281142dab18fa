"""Checks over the built site's HTML: functions that return a list of problems (empty = fine).

Per page (BeautifulSoup): images have real alt text; animations are complete, appear once and
have no static twin; no error output outside cells tagged ``raises-exception``; no path of the
build machine; no memory address in an output; no script, style, font or image from another host.
Over the site: internal links, assets and ``#anchors`` resolve (lychee, offline); external links
are listed, never fetched; stylesheets name no missing or foreign file; the downloadable notebooks
were executed. ``tests/test_site_html.py`` runs them on the built site and on planted faults.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from conftest import BASEURL, PREFIX, ROOT, installed_tool, soup_of
from descent.player import read_players
from descent.player.datafile import data_urls

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


def animations(soup: BeautifulSoup) -> list[Tag]:
    return soup.select(".descent-anim")


def frames_of(anim: Tag, base: Path | None = None) -> list[str] | None:
    """The animation's frames as data URLs, read by `descent.player.read_players` (the first
    from its ``<img>``, the rest from its JSON data, inline or in the site's data file, read
    from `base`, the page's folder), or None when they cannot be read."""
    try:
        (player,) = read_players(str(anim), base=base)
    except ValueError:
        return None
    return [f"data:image/png;base64,{base64.b64encode(f.png).decode()}" for f in player.frames]


def animation_key(anim: Tag, base: Path | None = None) -> str:
    """What an animation shows: a hash of its frames (or, if they cannot be found, of its
    markup); `base` is the page's folder (see :func:`frames_of`)."""
    frames = frames_of(anim, base)
    content = "\n".join(frames) if frames else str(anim)
    return hashlib.sha256(content.encode()).hexdigest()


def animation_problems(soup: BeautifulSoup, base: Path | None = None) -> list[str]:
    """Each player is complete (frame image, slider over every frame, Play, Pause, its
    script, its data: inline, or in the data file its ``data-src`` names relative to `base`,
    the page's folder), and no animation appears twice on the page. matplotlib's own player
    is not used."""
    found = []
    seen: dict[str, str] = {}
    for n, anim in enumerate(animations(soup), 1):
        where = f"animation {n} ({anim.get('data-content-id', '?')})"
        parts = {
            "frame <img>": anim.select("img"),
            "slider input[type=range].descent-slider": anim.select(
                "input[type=range].descent-slider"
            ),
            "Play button.descent-play": anim.select("button.descent-play"),
            "Pause button.descent-pause": anim.select("button.descent-pause"),
            "<script>": anim.select("script:not([type])"),
            "JSON data <script>": anim.select('script[type="application/json"].descent-data'),
        }
        for name, tags in parts.items():
            if len(tags) != 1:
                found.append(f"{where}: {len(tags)} × {name}, expected exactly one")
        frames = frames_of(anim, base)
        if frames is None:
            found.append(f"{where}: its frames cannot be read (img + JSON data block or file)")
        else:
            if len(frames) < 2:
                found.append(f"{where}: {len(frames)} frame(s), nothing to animate")
            slider = anim.select_one("input.descent-slider")
            if slider is not None and slider.get("max") != str(len(frames) - 1):
                found.append(f"{where}: slider max={slider.get('max')} but {len(frames)} frames")
        key = animation_key(anim, base)
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
        where = f"animation {n} ({anim.get('data-content-id', '?')})"
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


# --- stylesheets and page metadata -------------------------------------------------------------


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


def og(soup: BeautifulSoup, name: str) -> str | None:
    tag = soup.find("meta", attrs={"property": name})
    return tag.get("content") if tag else None


# --- internal links and #anchors: lychee -------------------------------------------------------

# Offline: nothing is fetched. --include-fragments: every `#anchor` must be an id (or a named
# <a>) of its target page. --include-verbatim: lychee treats <script> (and <pre>/<code>) as
# verbatim and skips it by default; a missing <script src> is a broken page, so check it too.
LYCHEE_FLAGS = [
    "--offline", "--include-fragments", "--include-verbatim", "--no-ignore", "--hidden",
    "--no-progress", "--format", "json", "--max-concurrency", "16",
]  # fmt: skip


def lychee_command(pages: Iterable[str], root: Path) -> list[str]:
    """lychee over ``pages`` (relative to ``site``) as Pages serves them: ``root`` is the web
    server's root, with the site at ``root/PREFIX``; links to the production host
    (``https://descent-book.github.io/…``) are read from ``root`` too, so a link outside the
    prefix (``/basic.css``) is as broken here as it is on Pages."""
    host = urlsplit(BASEURL)
    production = re.escape(f"{host.scheme}://{host.netloc}/")
    return [
        installed_tool("lychee"), *LYCHEE_FLAGS,
        "--root-dir", str(root), "--remap", f"^{production} {root.as_uri()}/",
        "--", *pages,
    ]  # fmt: skip


def served_root(site: Path, workdir: Path) -> Path:
    """A folder laid out like the web server: ``workdir/<PREFIX>`` is a link to ``site``."""
    if not PREFIX.strip("/"):
        return site.resolve()  # served at the host's root: nothing to mount
    mount = workdir / PREFIX.strip("/")
    mount.parent.mkdir(parents=True, exist_ok=True)
    mount.symlink_to(site.resolve(), target_is_directory=True)
    return workdir


def link_problems(site: Path, pages: Iterable[str]) -> list[str]:
    """Every link and asset of ``pages`` (paths relative to ``site``) that does not resolve
    inside the site, and every ``#fragment`` that is no id of its target: one line each,
    ``page:line: url: why``. Raises RuntimeError when lychee itself fails or checks nothing."""
    pages = list(pages)
    with tempfile.TemporaryDirectory(prefix="lychee-") as workdir:
        root = served_root(site, Path(workdir))
        proc = subprocess.run(
            lychee_command(pages, root),
            cwd=site, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if proc.returncode not in (0, 2):  # 2: some links are broken
            raise RuntimeError(f"lychee failed ({proc.returncode}):\n{proc.stderr}")
        report = json.loads(proc.stdout)
        if report["total"] == 0 and pages:
            raise RuntimeError(f"lychee found no link in {len(pages)} page(s):\n{proc.stderr}")
        return sorted(
            [
                f"{page}:{error['span']['line']}: {readable(error['url'], site, root)}: "
                f"{error['status']['text']}"
                for page, errors in report["error_map"].items()
                for error in errors
            ]
            + data_file_problems(site, pages)
        )


def data_file_problems(site: Path, pages: Iterable[str]) -> list[str]:
    """What lychee does not read: the data file each player's ``data-src`` names (fetched by
    its script) exists in the site. One line per missing file, ``page: url: why``."""
    found = []
    for page in pages:
        for url in data_urls((site / page).read_text("utf-8")):
            target = (site / page).parent / unquote(urlsplit(url).path)
            if not target.resolve().is_relative_to(site.resolve()) or not target.is_file():
                found.append(f"{page}: {url}: a player's data file, not in the site")
    return found


def readable(url: str, site: Path, root: Path) -> str:
    """A ``file://`` URL of lychee's report as a path of the site (or of the server's root)."""
    for folder, shown in ((site.resolve(), ""), (root, "/")):
        prefix = folder.as_uri() + "/"
        if url.startswith(prefix):
            return shown + unquote(url[len(prefix) :])
    return url
