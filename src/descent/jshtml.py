"""Our own jshtml: an animation as one self-contained, accessible HTML fragment.

matplotlib's ``FuncAnimation.to_jshtml()`` stores every frame as a full RGBA PNG, loads its
button icons from a CDN, gives the frame no alt text and the slider no label, and draws a
random element id on every call. This renderer keeps the idea (frames as base64 PNGs in a
JS array, a slider and buttons) and fixes those:

- frames share one palette of at most 128 colours (no dithering) and are saved as palette
  PNGs, about a third of the bytes of the RGBA frames, with no visible difference;
- everything is inline (no URL at all), and the same frames give the same bytes: the
  element id is a hash of the content;
- the image's alt text says what the animation shows and which frame is on screen, the
  slider has a label and a spoken value, every button has a name, focus is visible;
- nothing moves until the reader presses Play (so ``prefers-reduced-motion`` is respected);
  playback loops; several players on one page each run their own copy of the script.

The two steps are :func:`encode_frames` (RGB frames → palette PNGs) and :func:`render_html`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections.abc import Sequence

import numpy as np
from PIL import Image, PngImagePlugin

__all__ = ["PALETTE_SIZE", "content_id", "encode_frames", "render_html", "standalone_page"]

PALETTE_SIZE = 128
"""Colours in the shared palette. A figure of flat colours on white needs few; 128 keeps the
anti-aliased edges of text and lines within a few levels of the original."""

_PIXELS_FOR_PALETTE = 8_000_000  # at most this many pixels are read to choose the palette


def _shared_palette(frames: np.ndarray, colors: int) -> Image.Image:
    """A palette image of at most `colors` colours chosen from ``frames`` (F, H, W, 3) uint8.

    Every frame is read (rows thinned evenly past 8 M pixels), so a colour that shows in only
    a few frames, such as a "diverged" label, still gets its entry.
    """
    count, height, width, _ = frames.shape
    stride = max(1, -(-count * height * width // _PIXELS_FOR_PALETTE))
    sample = frames[:, ::stride].reshape(-1, width, 3)
    return Image.fromarray(sample).quantize(
        colors=colors, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE
    )


def _png(image: Image.Image, pad: int = 0) -> bytes:
    """`image` as PNG bytes; `pad` > 0 adds a text chunk (``pad`` − 1 dots) before the pixels."""
    info = None
    if pad:
        info = PngImagePlugin.PngInfo()
        info.add_text("p", "." * (pad - 1))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True, pnginfo=info)
    return buffer.getvalue()


def _url_free_png(image: Image.Image) -> bytes:
    """`image` as a PNG whose base64 text never contains "http", in any case.

    A megabyte of base64 spells "http" somewhere by chance about once in twenty animations
    (and "HtTp" almost always); the page must hold no such string. When it happens, a small
    text chunk shifts the bytes after it and the encoding is tried again.
    """
    for pad in range(16):
        png = _png(image, pad)
        if b"http" not in base64.b64encode(png).lower():
            return png
    raise RuntimeError("could not encode a frame without the letters 'http'")  # never seen


def encode_frames(frames: np.ndarray, colors: int = PALETTE_SIZE) -> list[bytes]:
    """RGB frames ``(F, H, W, 3)`` uint8 → F palette PNGs (bytes) sharing one palette.

    Each frame is mapped to the palette's nearest colours without dithering (dithering would
    add noise that compresses badly and shimmers from frame to frame) and saved with
    ``optimize=True``.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(
            f"frames must be uint8 of shape (F, H, W, 3), got {frames.dtype} {frames.shape}"
        )
    palette = _shared_palette(frames, colors)
    return [
        _url_free_png(Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE))
        for frame in frames
    ]


# The player. {…} fields are filled by `render_html`; the script's own braces are doubled.
_TEMPLATE = """\
<div class="descent-anim" id="{id}" data-frame="0">
<style>{css}</style>
<img class="descent-frame" src="data:image/png;base64,{first}" width="{width}" \
height="{height}" alt="{first_alt}">
<div class="descent-controls" role="group" aria-label="Animation controls" hidden>
{buttons}
<label class="descent-slider-label">{slider_label}
<input type="range" class="descent-slider" min="0" max="{last}" value="0" step="1" \
aria-valuetext="{first_label}"></label>
<span class="descent-counter">{first_label}</span>
</div>
<script>{script}</script>
</div>"""

_CSS = """
.descent-anim{margin:0 0 1em;max-width:100%}
.descent-anim .descent-frame{display:block;max-width:100%;height:auto}
.descent-anim .descent-controls{display:flex;flex-wrap:wrap;align-items:center;gap:4px;
margin-top:4px;font:14px/1.4 system-ui,sans-serif}
.descent-anim .descent-controls[hidden]{display:none}
.descent-anim button{display:inline-flex;align-items:center;justify-content:center;
width:36px;height:32px;padding:0;border:1px solid #555;border-radius:4px;
background:#fff;color:#111;cursor:pointer}
.descent-anim button:hover{background:#e8f1f8}
.descent-anim button.descent-on{background:#0072b2;border-color:#0072b2;color:#fff}
.descent-anim button:focus-visible,.descent-anim input:focus-visible{outline:3px solid #0072b2;
outline-offset:2px}
.descent-anim svg{width:16px;height:16px;fill:currentColor}
.descent-anim .descent-slider-label{display:inline-flex;align-items:center;gap:6px;
flex:1 1 12em;margin-left:6px}
.descent-anim .descent-slider{flex:1 1 auto;min-width:6em}
.descent-anim .descent-counter{font-variant-numeric:tabular-nums;min-width:9em}
"""

# (class suffix, accessible name, SVG path in a 16×16 box)
_BUTTONS = (
    ("first", "First frame", "M1 2h2v12H1zM9 2v12L3 8zM15 2v12L9 8z"),
    ("prev", "Previous frame", "M2 2h2v12H2zM14 2v12L5 8z"),
    ("play", "Play", "M4 2l10 6-10 6z"),
    ("pause", "Pause", "M3 2h4v12H3zM9 2h4v12H9z"),
    ("next", "Next frame", "M12 2h2v12h-2zM2 2l9 6-9 6z"),
    ("last", "Last frame", "M13 2h2v12h-2zM1 2l6 6-6 6zM7 2l6 6-6 6z"),
)

# Runs once per copy of the fragment on the page; initialises every player with this id that
# has not been initialised yet, so two identical animations on one page each work alone.
_SCRIPT = """
(() => {{
const id = {id}, alt = {alt}, labels = {labels}, interval = {interval};
const rest = {rest};
document.querySelectorAll('.descent-anim[id="' + id + '"]').forEach((root) => {{
  if (root.dataset.ready) return;
  root.dataset.ready = "1";
  const $ = (name) => root.querySelector(".descent-" + name);
  const img = $("frame"), slider = $("slider"), counter = $("counter"), play = $("play");
  const src = [img.getAttribute("src")].concat(rest.map((f) => "data:image/png;base64," + f));
  let i = 0, timer = null;
  const show = (k) => {{
    i = (k + src.length) % src.length;
    img.src = src[i];
    img.alt = alt + " Showing " + labels[i] + ".";
    slider.value = i;
    slider.setAttribute("aria-valuetext", labels[i]);
    counter.textContent = labels[i];
    root.dataset.frame = i;
  }};
  const stop = () => {{
    clearInterval(timer);
    timer = null;
    play.classList.remove("descent-on");
  }};
  const tick = () => (root.isConnected ? show(i + 1) : stop());
  play.onclick = () => {{
    if (timer === null) timer = setInterval(tick, interval);
    play.classList.add("descent-on");
  }};
  $("pause").onclick = stop;
  const jump = (k) => () => {{ stop(); show(k()); }};
  $("first").onclick = jump(() => 0);
  $("prev").onclick = jump(() => i - 1);
  $("next").onclick = jump(() => i + 1);
  $("last").onclick = jump(() => src.length - 1);
  slider.oninput = () => show(Number(slider.value));
  $("controls").hidden = false;
}});
}})();
"""


def _js(value: object) -> str:
    """`value` as a JS literal that is safe inside ``<script>`` (no ``<`` to close it)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def _buttons() -> str:
    """The six control buttons, each with an accessible name and an inline SVG icon."""
    return "\n".join(
        f'<button type="button" class="descent-{name}" aria-label="{label}" title="{label}">'
        f'<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="{path}"/>'
        f"</svg></button>"
        for name, label, path in _BUTTONS
    )


def _attribute(text: str) -> str:
    """`text` escaped for an HTML attribute value in double quotes."""
    return html.escape(text, quote=True)


def content_id(pngs: Sequence[bytes], *texts: str) -> str:
    """The player's element id: ``"descent-anim-"`` + 12 hex digits of a SHA-256 of the
    frames and texts, so the same animation always gets the same id and others differ."""
    digest = hashlib.sha256()
    for part in (*pngs, *(t.encode() for t in texts)):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return "descent-anim-" + digest.hexdigest()[:12]


def render_html(
    pngs: Sequence[bytes],
    *,
    size: tuple[int, int],
    alt: str,
    labels: Sequence[str],
    slider_label: str = "Step",
    interval: int = 100,
    ordinal: int = 0,
) -> str:
    """The player for frames ``pngs`` (F PNGs of ``size = (width, height)`` px), as HTML.

    ``alt`` describes the whole animation; ``labels[i]`` names frame i (``"step 3 of 50"``)
    and is read out with it. ``interval`` is the time per frame in ms while playing.
    ``ordinal`` > 0 is appended to the id, to tell apart two copies of one animation on a page.
    """
    if len(pngs) == 0 or len(labels) != len(pngs):
        raise ValueError(
            f"need one label per frame and at least one frame, got {len(pngs)} "
            f"frames and {len(labels)} labels"
        )
    element_id = content_id(pngs, alt, slider_label, str(interval), *labels)
    if ordinal:
        element_id += f"-{ordinal}"
    frames = [base64.b64encode(png).decode("ascii") for png in pngs]
    script = _SCRIPT.format(
        id=_js(element_id),
        alt=_js(alt),
        labels=_js(list(labels)),
        interval=int(interval),
        rest=_js(frames[1:]),
    )
    attr = _attribute
    return _TEMPLATE.format(
        id=attr(element_id),
        css=_CSS.strip(),
        first=frames[0],
        width=size[0],
        height=size[1],
        first_alt=attr(f"{alt} Showing {labels[0]}."),
        buttons=_buttons(),
        slider_label=attr(slider_label),
        last=len(pngs) - 1,
        first_label=attr(labels[0]),
        script=script.strip(),
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
