"""Our own jshtml: the player of descent's animations, and its reader.

- :mod:`descent.player.render` — an animation's frames (:mod:`descent.codec`) as one
  self-contained, accessible HTML fragment; its markup, style and script are the package data
  files ``player.html``, ``player.css`` and ``player.js`` beside it;
- :mod:`descent.player.grab` — any matplotlib animation's frames, drawn once by its own
  ``Animation.save`` into our movie writer;
- :mod:`descent.player.notebook` — ``use_player()``: every animation a notebook displays,
  in this player; ``describe()``: its text alternative and caption;
- :mod:`descent.player.datafile` — the site's form of a player: its frame data in a file of
  its own, named by their hash, fetched after the page has loaded;
- :mod:`descent.player.read` — players read back out of a page
  (:func:`~descent.player.read.read_players`, from the site's data files too), and the URLs a
  page references (:func:`~descent.player.read.referenced_urls`).
"""

from .read import PlayerData, inline_data, read_players, referenced_urls
from .render import content_id, render_html, standalone_page

__all__ = [
    "PlayerData",
    "content_id",
    "inline_data",
    "read_players",
    "referenced_urls",
    "render_html",
    "standalone_page",
]
