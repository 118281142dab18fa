"""A player's frame data in a file of its own: the site's form of a player.

:func:`~descent.player.render.render_html` writes a self-contained player: its frame data
travel inline, in a ``<script type="application/json" class="descent-data">`` block. That is
right for a notebook or a download, but on a web page that block (hundreds of kB) comes before
the rest of the article. On the site, each block moves to a file named by the SHA-256 of its
bytes (so the same data give the same file, in every build), and the block is left empty with a
``data-src`` attribute, the file's URL relative to the page::

    <script type="application/json" class="descent-data" data-src="../_static/anim/<hash>.json">
    </script>

``player.js`` fetches that file once the page has loaded. :func:`move_data_out` makes the site's
form, :func:`put_data_back` restores the inline one, byte for byte; the book's Sphinx extension
``_ext/player_data.py`` calls the first, :func:`descent.player.read.read_players` the second.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

__all__ = ["DATA_FOLDER", "data_file_name", "data_urls", "move_data_out", "put_data_back"]

DATA_FOLDER = "_static/anim"  # where the site keeps the files, relative to its root
_OPEN = '<script type="application/json" class="descent-data"'
# The JSON holds no "<" (render.py escapes it), so the block ends at the first "<".
_INLINE = re.compile(re.escape(_OPEN) + r">([^<]*)</script>")
_EXTERNAL = re.compile(re.escape(_OPEN) + r' data-src="([^"<>]*)"></script>')


def data_file_name(data: bytes) -> str:
    """The file name of a player's data `data` (bytes): 16 hex digits of their SHA-256 and
    ``.json``. Raises TypeError if `data` is not bytes."""
    if not isinstance(data, bytes):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    return hashlib.sha256(data).hexdigest()[:16] + ".json"


def move_data_out(html: str, url_of: Callable[[str], str]) -> tuple[str, dict[str, bytes]]:
    """`html` (a page or a fragment, str) with every player's inline data block emptied and
    pointing at a file, and those files as ``{name: bytes}`` (UTF-8 JSON; name from
    :func:`data_file_name`). ``url_of(name)`` gives the URL the page uses for the file
    ``name``. A page without inline data comes back unchanged, with ``{}``.
    Raises TypeError if `html` is not a str.
    """
    if not isinstance(html, str):
        raise TypeError(f"html must be a str, got {type(html).__name__}")
    files: dict[str, bytes] = {}

    def external(match: re.Match[str]) -> str:
        data = match.group(1).encode("utf-8")
        name = data_file_name(data)
        files[name] = data
        url = url_of(name)
        if any(c in url for c in '"<>'):
            raise ValueError(f"url_of({name!r}) gave {url!r}, not a plain URL")
        return f'{_OPEN} data-src="{url}"></script>'

    return _INLINE.sub(external, html), files


def data_urls(html: str) -> list[str]:
    """The ``data-src`` URLs of the players in `html` whose data are in a file, in page order."""
    return _EXTERNAL.findall(html)


def put_data_back(html: str, read: Callable[[str], bytes]) -> str:
    """`html` with every player's data inline again: ``read(url)`` gives the bytes of the file a
    ``data-src`` names. The inverse of :func:`move_data_out`. Raises ValueError naming the URL
    when the file's name is not the hash of its bytes (or it is not UTF-8)."""

    def inline(match: re.Match[str]) -> str:
        url = match.group(1)
        data = read(url)
        if data_file_name(data) != url.rsplit("/", 1)[-1]:
            raise ValueError(f"{url}: the file's name is not the hash of its bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{url}: not UTF-8 text: {error}") from error
        if "<" in text:
            raise ValueError(f"{url}: holds a '<', which no player's data holds")
        return f"{_OPEN}>{text}</script>"

    return _EXTERNAL.sub(inline, html)
