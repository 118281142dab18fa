"""A player's frame data in files of their own: the site's form of a player.

:func:`~descent.player.render.render_html` writes a self-contained player: its first frame is a
PNG data URI in its ``<img>``, the rest of its data travel inline in a
``<script type="application/json" class="descent-data">`` block. That is right for a notebook or
a download, but on a web page that block (hundreds of kB) comes before the rest of the article.
On the site, each block moves to a file named by the SHA-256 of its bytes (so the same data give
the same file, in every build), and the block is left empty with a ``data-src`` attribute, the
file's URL relative to the page; the first frame, likewise, moves to a PNG file that the
``<img>`` loads lazily (the page's HTML is then a fifth of its size)::

    <img class="descent-frame" src="../_static/anim/<hash>.png" loading="lazy" width=… …>
    …
    <script type="application/json" class="descent-data" data-src="../_static/anim/<hash>.json">
    </script>

``player.js`` fetches the data once the page has loaded. :func:`move_data_out` makes the site's
form, :func:`put_data_back` restores the inline one, byte for byte; the book's Sphinx extension
``_ext/player_data.py`` calls the first, :func:`descent.player.read.read_players` the second.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

__all__ = ["DATA_FOLDER", "data_file_name", "data_urls", "move_data_out", "put_data_back"]

DATA_FOLDER = "_static/anim"  # where the site keeps the files, relative to its root
_DATA = '<script type="application/json" class="descent-data"'
_POSTER = '<img class="descent-frame"'
# The JSON holds no "<" (render.py escapes it), so the block ends at the first "<".
_INLINE_DATA = re.compile(re.escape(_DATA) + r">([^<]*)</script>")
_INLINE_POSTER = re.compile(re.escape(_POSTER) + r' src="data:image/png;base64,([A-Za-z0-9+/=]*)"')
_FILE_DATA = re.compile(re.escape(_DATA) + r' data-src="([^"<>]*)"></script>')
_FILE_POSTER = re.compile(re.escape(_POSTER) + r' src="([^"<>]*)" loading="lazy"')


def data_file_name(data: bytes, suffix: str = ".json") -> str:
    """The file name of a player's data `data` (bytes): 16 hex digits of their SHA-256 and
    `suffix` (``".json"`` for the data, ``".png"`` for the first frame).
    Raises TypeError if `data` is not bytes."""
    if not isinstance(data, bytes):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    return hashlib.sha256(data).hexdigest()[:16] + suffix


def move_data_out(html: str, url_of: Callable[[str], str]) -> tuple[str, dict[str, bytes]]:
    """`html` (a page or a fragment, str) with every player's inline data block emptied and
    its first frame taken out of its ``<img>``, both pointing at files instead, and those
    files as ``{name: bytes}`` (UTF-8 JSON, PNG; names from :func:`data_file_name`).
    ``url_of(name)`` gives the URL the page uses for the file ``name``. A page without inline
    data comes back unchanged, with ``{}``. Raises TypeError if `html` is not a str,
    ValueError if `url_of` gives a URL with ``"``, ``<`` or ``>``.
    """
    if not isinstance(html, str):
        raise TypeError(f"html must be a str, got {type(html).__name__}")
    files: dict[str, bytes] = {}

    def keep(data: bytes, suffix: str) -> str:
        name = data_file_name(data, suffix)
        files[name] = data
        url = url_of(name)
        if any(c in url for c in '"<>'):
            raise ValueError(f"url_of({name!r}) gave {url!r}, not a plain URL")
        return url

    html = _INLINE_DATA.sub(
        lambda m: f'{_DATA} data-src="{keep(m[1].encode("utf-8"), ".json")}"></script>', html
    )
    html = _INLINE_POSTER.sub(
        lambda m: f'{_POSTER} src="{keep(base64.b64decode(m[1]), ".png")}" loading="lazy"', html
    )
    return html, files


def data_urls(html: str) -> list[str]:
    """The URLs of the files that the players in `html` take their data and first frames from
    (the site's form), in page order."""
    found = [*_FILE_DATA.finditer(html), *_FILE_POSTER.finditer(html)]
    return [match[1] for match in sorted(found, key=lambda match: match.start())]


def put_data_back(html: str, read: Callable[[str], bytes]) -> str:
    """`html` with every player's data and first frame inline again: ``read(url)`` gives the
    bytes of the file a ``data-src`` or the ``<img>`` names. The inverse of
    :func:`move_data_out`. Raises ValueError naming the URL when a file's name is not the hash
    of its bytes, or the data are not UTF-8 text without ``<``."""

    def checked(url: str, suffix: str) -> bytes:
        data = read(url)
        if data_file_name(data, suffix) != url.rsplit("/", 1)[-1]:
            raise ValueError(f"{url}: the file's name is not the hash of its bytes")
        return data

    def data(match: re.Match[str]) -> str:
        try:
            text = checked(match[1], ".json").decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{match[1]}: not UTF-8 text: {error}") from error
        if "<" in text:
            raise ValueError(f"{match[1]}: holds a '<', which no player's data holds")
        return f"{_DATA}>{text}</script>"

    def poster(match: re.Match[str]) -> str:
        png = base64.b64encode(checked(match[1], ".png")).decode("ascii")
        return f'{_POSTER} src="data:image/png;base64,{png}"'

    return _FILE_POSTER.sub(poster, _FILE_DATA.sub(data, html))
