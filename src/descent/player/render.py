"""The player as HTML: one self-contained, accessible fragment per animation.

matplotlib's ``FuncAnimation.to_jshtml()`` loads its button icons from a CDN, gives the frame
no alt text and the slider no label, and draws a random element id on every call. This player
keeps the idea (frames as base64 PNGs in the page, a slider and buttons) and fixes those:

- the frames are :mod:`descent.codec`'s keyframes and deltas, composited on a canvas, exactly;
- everything is inline (no URL at all), and the same frames give the same bytes;
- the fragment has no element id: its script finds its own root (``document.currentScript``),
  and the label wraps the slider, so one animation shown twice on a page gives two valid,
  independent players with no help from the author;
- the image's alt text says what the animation shows and which frame is on screen, the
  slider has a label and a spoken value, every button has a name, focus is visible;
- nothing moves until the reader presses Play (so ``prefers-reduced-motion`` is respected);
  playback loops.

The markup, style and script are package data, real files next to this module:
``player.html`` (a ``string.Template``), ``player.css`` and ``player.js``. The frame data
travel in a ``<script type="application/json" class="descent-data">`` block;
:func:`descent.player.read.read_players` reads them back.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from string import Template

from .._checks import check_float
from ..codec import Frame

__all__ = ["check_interval", "content_id", "render_html", "standalone_page"]


@cache
def _resource(name: str) -> str:
    """The text of the package data file `name` (``player.js``, ``player.css``, ``player.html``)."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def _compact(text: str, comment: str) -> str:
    """`text` without its comments, blank lines and indentation: the code as the page holds
    it, once per player. `comment` is ``"/*"`` for CSS (every ``/* … */``, over any number of
    lines) or ``"//"`` for JavaScript (whole lines starting with it)."""
    if comment == "/*":
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith(comment))


def _json(value: object) -> str:
    """`value` as JSON that is safe inside ``<script>``: no ``<``, so nothing can close it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _attribute(text: str) -> str:
    """`text` escaped for an HTML attribute value in double quotes (or element text)."""
    return html.escape(text, quote=True)


def content_id(frames: Sequence[Frame], *texts: str) -> str:
    """A name for an animation: ``"descent-anim-"`` + 12 hex digits of a SHA-256 of its frames
    and texts, so the same animation always gets the same name and others differ. The player
    carries it as ``data-content-id`` (not an element id: two copies of one animation share it).
    """
    offsets = json.dumps([_at(frame) for frame in frames]).encode()
    digest = hashlib.sha256()
    for part in (*(frame.png for frame in frames), offsets, *(t.encode() for t in texts)):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return "descent-anim-" + digest.hexdigest()[:12]


def check_interval(interval: object) -> int | float:
    """A time per frame in ms, as matplotlib's ``FuncAnimation(interval=…)`` takes it: any
    finite number > 0 (``20`` or ``12.5``), an int when it is whole (so the page reads
    ``20``, not ``20.0``). Raises ValueError (TypeError for a non-number), naming interval.
    """
    value = check_float(interval, "interval", positive=True)
    return int(value) if value.is_integer() else value


def _at(frame: Frame) -> list[int] | None:
    """Where a frame is drawn: None (a keyframe), ``[x, y]`` or ``[x, y, 1]`` (replacing)."""
    if frame.offset is None:
        return None
    return [*frame.offset, 1] if frame.replace else list(frame.offset)


def _player_data(
    frames: Sequence[Frame], *, alt: str, labels: Sequence[str], interval: float
) -> dict[str, object]:
    """What the player's JSON block holds: ``alt``, ``labels``, ``interval`` (ms), ``rest`` (the
    base64 PNGs of frames 1, 2, …; frame 0 is the ``<img>``'s) and ``at`` (None for a keyframe,
    else the ``[x, y]`` of the delta, ``[x, y, 1]`` for one that replaces its box)."""
    return {
        "alt": alt,
        "labels": list(labels),
        "interval": interval,
        "rest": [base64.b64encode(frame.png).decode("ascii") for frame in frames[1:]],
        "at": [_at(frame) for frame in frames],
    }


def _check(frames: Sequence[Frame], labels: Sequence[str]) -> None:
    if len(frames) == 0 or len(labels) != len(frames):
        raise ValueError(
            f"need one label per frame and at least one frame, got {len(frames)} "
            f"frames and {len(labels)} labels"
        )
    if not frames[0].is_key:
        raise ValueError("the first frame must be a keyframe")


def render_html(
    frames: Sequence[Frame],
    *,
    size: tuple[int, int],
    alt: str,
    labels: Sequence[str],
    slider_label: str = "Step",
    interval: float = 100,
) -> str:
    """The player for `frames` (from :func:`descent.codec.encode_frames`, of
    ``size = (width, height)`` px), as an HTML fragment (a ``<div class="descent-anim">``).

    ``alt`` describes the whole animation; ``labels[i]`` names frame i (``"step 3 of 50"``)
    and is read out with it. ``interval`` is the time per frame in ms while playing.
    Raises ValueError without one label per frame, without a keyframe first, or for an
    `interval` that is not a number > 0 (TypeError if it is not a number).
    """
    _check(frames, labels)
    interval = check_interval(interval)
    data = _player_data(frames, alt=alt, labels=labels, interval=interval)
    return (
        Template(_resource("player.html"))
        .substitute(
            content_id=content_id(frames, alt, slider_label, str(interval), *labels),
            css=_compact(_resource("player.css"), "/*"),
            first=base64.b64encode(frames[0].png).decode("ascii"),
            width=int(size[0]),
            height=int(size[1]),
            first_alt=_attribute(f"{alt} Showing {labels[0]}."),
            slider_label=_attribute(slider_label),
            last=len(frames) - 1,
            first_label=_attribute(labels[0]),
            data=_json(data),
            script=_compact(_resource("player.js"), "//"),
        )
        .rstrip("\n")
    )


def standalone_page(fragment: str, title: str) -> str:
    """A minimal HTML page (language, charset, viewport, title, one heading) around `fragment`."""
    title = html.escape(title, quote=False)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n"
        f"{fragment}\n</main>\n</body>\n</html>\n"
    )
