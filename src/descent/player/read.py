"""Players read back out of HTML: what a page holds, as the codec's frames and the texts.

Tests, the benchmark and the chapters check what a page really holds; they read it here, with
the standard library's HTML parser, rather than each with its own regular expressions:
:func:`read_players` gives every player on a page, :func:`referenced_urls` every URL the page
would fetch or link to (to check that a player loads nothing from anywhere).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..codec import Frame
from .datafile import data_file_name, put_data_back

__all__ = ["PlayerData", "inline_data", "read_players", "referenced_urls"]

_DATA_URI = "data:image/png;base64,"


@dataclass(frozen=True)
class PlayerData:
    """One player as a page holds it.

    frames: the stored frames (keyframes and deltas), for :func:`descent.codec.decode_frames`.
    size: the frame size in pixels, ``(width, height)``.
    alt: the text alternative of the whole animation; labels: one name per frame.
    slider_label: the slider's label; interval: ms per frame while playing.
    content_id: the animation's name (``data-content-id``), shared by copies of it.
    source: the player's own markup, exactly as it is in the page (``<div …>…</div>``; on the
    site, without its frames: :func:`inline_data` puts them back).
    """

    frames: list[Frame]
    size: tuple[int, int]
    alt: str
    labels: list[str]
    slider_label: str
    interval: int | float
    content_id: str
    source: str


class _Player:
    """What the parser has seen of one player so far."""

    def __init__(self, start: int, attrs: dict[str, str | None]) -> None:
        self.start, self.attrs, self.depth = start, attrs, 1
        self.img: dict[str, str | None] = {}
        self.label: list[str] | None = None
        self.slider_label, self.data = "", ""
        self.data_src: str | None = None  # the site's form: the data file's URL
        self.in_data = False


class _Reader(HTMLParser):
    """Collects every ``<div class="descent-anim">`` of a page (players are not nested)."""

    def __init__(self, text: str, load: Callable[[str, str], bytes]) -> None:
        super().__init__(convert_charrefs=True)
        self.text, self.found, self.player, self.load = text, [], None, load
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named, player = dict(attrs), self.player
        classes = (named.get("class") or "").split()
        if player is None:
            if tag == "div" and "descent-anim" in classes:
                self.player = _Player(self._offset(), named)
            return
        player.depth += tag == "div"
        if tag == "img" and "descent-frame" in classes:
            player.img = named
        elif tag == "label" and "descent-slider-label" in classes:
            player.label = []
        elif tag == "input" and player.label is not None:
            player.slider_label, player.label = "".join(player.label).strip(), None
        elif tag == "script" and named.get("type") == "application/json":
            player.in_data = "descent-data" in classes
            if player.in_data:
                player.data_src = named.get("data-src")

    def handle_data(self, data: str) -> None:
        player = self.player
        if player is not None and player.in_data:
            player.data += data
        elif player is not None and player.label is not None:
            player.label.append(data)

    def handle_endtag(self, tag: str) -> None:
        player = self.player
        if player is None:
            return
        if tag == "script":
            player.in_data = False
        elif tag == "div":
            player.depth -= 1
            if player.depth == 0:
                end = self.text.index(">", self._offset()) + 1
                source = self.text[player.start : end]
                self.found.append(_finish(player, source, len(self.found), self.load))
                self.player = None


def _number(value: object) -> int | float:
    """A JSON number as the player wrote it: an int if whole, else a float."""
    number = float(value)
    return int(number) if number.is_integer() else number


def _finish(
    player: _Player, source: str, index: int, load: Callable[[str, str], bytes]
) -> PlayerData:
    """The :class:`PlayerData` of a parsed player (number `index` on its page); ``load(url,
    suffix)`` gives the bytes of a file of the site's form (its first frame, its data)."""
    where = f"player {index + 1}"
    src = player.img.get("src") or ""
    try:
        first = (
            base64.b64decode(src[len(_DATA_URI) :], validate=True)
            if src.startswith(_DATA_URI)
            else (src and load(src, ".png"))
        )
        text = player.data or (player.data_src and load(player.data_src, ".json").decode("utf-8"))
    except (ValueError, binascii.Error) as error:
        raise ValueError(f"{where}: {error}") from error
    if not first or not text:
        raise ValueError(f"{where}: no frame image (a PNG) or no JSON data (inline or a file)")
    try:
        data = json.loads(text)
        pngs = [first, *(base64.b64decode(p, validate=True) for p in data["rest"])]
        at = data["at"]
        frames = [
            Frame(png, None if o is None else (int(o[0]), int(o[1])), len(o or ()) > 2)
            for png, o in zip(pngs, at, strict=True)
        ]
        size = (int(player.img["width"] or ""), int(player.img["height"] or ""))
        return PlayerData(
            frames=frames,
            size=size,
            alt=str(data["alt"]),
            labels=[str(label) for label in data["labels"]],
            slider_label=player.slider_label,
            interval=_number(data["interval"]),
            content_id=player.attrs.get("data-content-id") or "",
            source=source,
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise ValueError(f"{where}: its data cannot be read: {error!r}") from error


def read_players(html: str, *, base: str | Path | None = None) -> list[PlayerData]:
    """Every player (``<div class="descent-anim">``) in `html` (a page or a fragment), in page
    order, read with the standard library's ``html.parser``.

    `base` is the folder the page is in (``site/book`` for ``site/book/animation.html``): a
    site's player keeps its first frame and its data in files
    (:mod:`descent.player.datafile`), which its ``<img>`` and ``data-src`` name relative to
    the page. Raises ValueError naming the player (``player 2``) if one lacks its frame image
    or its JSON data, or if these do not fit together (one ``at`` entry per frame), or if a
    file is missing or not named by the hash of its bytes, or if `base` is needed but not
    given. TypeError if `html` is not a str.
    """
    if not isinstance(html, str):
        raise TypeError(f"html must be a str, got {type(html).__name__}")
    reader = _Reader(html, lambda url, suffix: _read_file(base, url, suffix))
    reader.feed(html)
    reader.close()
    if reader.player is not None:
        raise ValueError(f"player {len(reader.found) + 1}: its <div> is never closed")
    return reader.found


def inline_data(html: str, base: str | Path | None) -> str:
    """`html` (a site's page, str, as the book's build wrote it) with each player's first frame
    and data put back inline from the files they name relative to the page's folder `base`:
    the players as :func:`~descent.player.render.render_html` wrote them. Raises ValueError
    naming the file if one is missing or not named by the hash of its bytes, or if there is
    one and `base` is None.
    """
    return put_data_back(html, lambda url: _read_file(base, url, None))


def _read_file(base: str | Path | None, url: str, suffix: str | None) -> bytes:
    """The bytes of the file at the page-relative `url`, from the page's folder `base`; its
    name must be the hash of its bytes and `suffix` (unless `suffix` is None)."""
    if base is None:
        raise ValueError(f"{url}: the player's frames are in files: pass base, the page's folder")
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or parts.path.startswith("/"):
        raise ValueError(f"{url}: a player's data file must be a page-relative URL")
    try:
        data = (Path(base) / unquote(parts.path)).read_bytes()
    except OSError as error:
        raise ValueError(f"{url}: the player's data file cannot be read: {error}") from error
    if suffix is not None and data_file_name(data, suffix) != parts.path.rsplit("/", 1)[-1]:
        raise ValueError(f"{url}: the file's name is not the hash of its bytes")
    return data


# Attributes whose value is a URL (or, for srcset, a list of them) that a browser fetches or
# links to; style and script text are searched for CSS ``url(…)``/``@import`` and JS strings.
# data-src: a player's data file on the site (descent.player.datafile), which player.js fetches.
_URL_ATTRIBUTES = {
    "src", "href", "srcset", "action", "formaction", "poster", "data", "xlink:href", "data-src",
}  # fmt: skip
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.I)
_JS_URL = re.compile(r"""(['"`])((?:[a-z][a-z0-9+.-]*:)?//[^'"`\s]+)\1""", re.I)


class _UrlReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.code: str | None = None  # "css" or "js" inside <style> or a script of code

    def _css(self, text: str) -> None:
        self.urls += [m.group(2) or m.group(4) for m in _CSS_URL.finditer(text)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "srcset":
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]
            elif name in _URL_ATTRIBUTES:
                self.urls.append(value.strip())
            elif name == "style":
                self._css(value)
        kind = dict(attrs).get("type") or "text/javascript"
        if tag == "style":
            self.code = "css"
        elif tag == "script" and "json" not in kind:
            self.code = "js"

    def handle_data(self, data: str) -> None:
        if self.code == "css":
            self._css(data)
        elif self.code == "js":
            self.urls += [m.group(2) for m in _JS_URL.finditer(data)]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self.code = None


def referenced_urls(html: str) -> list[str]:
    """Every URL in `html` that a browser would fetch or link to, except ``data:`` URIs, in
    document order: URL attributes (``src``, ``href``, ``srcset`` …, and ``data-src``: a
    player's data file, which its script fetches), CSS ``url(…)`` and
    ``@import`` in ``<style>`` and ``style=""``, and absolute or protocol-relative URLs in
    string literals of scripts (not in JSON data blocks). Base64 text never counts, whatever
    letters it spells. Raises TypeError if `html` is not a str.
    """
    if not isinstance(html, str):
        raise TypeError(f"html must be a str, got {type(html).__name__}")
    reader = _UrlReader()
    reader.feed(html)
    reader.close()
    return [url for url in reader.urls if not url.lower().startswith("data:")]
