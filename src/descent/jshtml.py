"""Our own jshtml: an animation as one self-contained, accessible HTML fragment.

matplotlib's ``FuncAnimation.to_jshtml()`` stores every frame as a full RGBA PNG, loads its
button icons from a CDN, gives the frame no alt text and the slider no label, and draws a
random element id on every call. This renderer keeps the idea (frames as base64 PNGs in a
JS array, a slider and buttons) and fixes those:

- frames share one palette of at most 127 colours (no dithering), with no visible difference;
- frames are stored as in APNG or GIF: a *keyframe* (a whole palette PNG) every
  :data:`KEYFRAME_INTERVAL` frames, and every other frame as a *delta*, a PNG of just the box
  of pixels that changed since the frame before, transparent where they did not, with its
  place in the frame. A plot changes little from frame to frame (a line moves, a path grows),
  so a delta is a fraction of a keyframe. The player composites them on a canvas, exactly;
- everything is inline (no URL at all), and the same frames give the same bytes: the
  element id is a hash of the content;
- the image's alt text says what the animation shows and which frame is on screen, the
  slider has a label and a spoken value, every button has a name, focus is visible;
- nothing moves until the reader presses Play (so ``prefers-reduced-motion`` is respected);
  playback loops; several players on one page each run their own copy of the script.

The steps are :func:`quantize_frames` (RGB frames → palette indices and the palette),
:func:`encode_frames` (→ keyframes and deltas) and :func:`render_html`; :func:`decode_frames`
and :func:`decode_frame` composite stored frames as the player does.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, PngImagePlugin

__all__ = [
    "KEYFRAME_INTERVAL",
    "PALETTE_SIZE",
    "Frame",
    "content_id",
    "decode_frame",
    "decode_frames",
    "encode_frames",
    "quantize_frames",
    "render_html",
    "standalone_page",
]

PALETTE_SIZE = 128
"""Entries in a palette, one of them kept for "transparent" (the unchanged pixels of a delta),
so a frame has at most 127 colours. A figure of flat colours on white needs few; 127 keep the
anti-aliased edges of text and lines within a few levels of the original."""

KEYFRAME_INTERVAL = 20
"""A keyframe at least every this many frames, so that showing any frame composites at most
``KEYFRAME_INTERVAL - 1`` deltas on its keyframe (a fraction of a millisecond each)."""

_PIXELS_FOR_PALETTE = 8_000_000  # at most this many pixels are read to choose the palette


@dataclass(frozen=True)
class Frame:
    """One stored frame: a keyframe (``offset`` is None) or a delta.

    png: a keyframe's whole picture, or a delta's box of changed pixels (transparent where
    the pixel did not change), as a palette PNG; empty (``b""``) if nothing changed.
    offset: None for a keyframe; for a delta, ``(x, y)`` of its box's top-left corner.
    """

    png: bytes
    offset: tuple[int, int] | None = None

    @property
    def is_key(self) -> bool:
        """Whether this is a keyframe (a whole picture, drawn over whatever was there)."""
        return self.offset is None


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


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(
            f"frames must be uint8 of shape (F, H, W, 3), got {frames.dtype} {frames.shape}"
        )
    return frames


def quantize_frames(
    frames: np.ndarray, colors: int = PALETTE_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """RGB frames ``(F, H, W, 3)`` uint8 → ``(indices, palette)``: the frames as indices
    ``(F, H, W)`` uint8 into one shared ``palette`` ``(N, 3)`` uint8 of ``N < colors`` colours
    (one entry of `colors` is kept for "transparent").

    Each pixel gets the palette's nearest colour, without dithering (dithering would add noise
    that compresses badly and shimmers from frame to frame). Pillow's lookup (a cache of the
    colours seen) maps 100 frames of 700 × 400 px in under 0.1 s; ``np.unique`` over the
    packed colours, to map each distinct colour once, takes 40 times as long.
    """
    frames = _check_frames(frames)
    palette_image = _shared_palette(frames, colors - 1)
    indices = np.stack(
        [
            np.asarray(
                Image.fromarray(frame).quantize(palette=palette_image, dither=Image.Dither.NONE)
            )
            for frame in frames
        ]
    )
    palette = np.asarray(palette_image.getpalette(), dtype=np.uint8).reshape(-1, 3)
    return indices, palette


def _png(image: Image.Image, pad: int = 0, transparency: int | None = None) -> bytes:
    """`image` as PNG bytes; `pad` > 0 adds a text chunk (``pad`` − 1 dots) before the pixels;
    `transparency` is the palette index to mark transparent (a one-entry tRNS chunk if 0)."""
    info = None
    if pad:
        info = PngImagePlugin.PngInfo()
        info.add_text("p", "." * (pad - 1))
    extra = {} if transparency is None else {"transparency": transparency}
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True, pnginfo=info, **extra)
    return buffer.getvalue()


def _url_free_png(image: Image.Image, transparency: int | None = None) -> bytes:
    """`image` as a PNG whose base64 text never contains "http", in any case.

    A megabyte of base64 spells "http" somewhere by chance about once in twenty animations
    (and "HtTp" almost always); the page must hold no such string. When it happens, a small
    text chunk shifts the bytes after it and the encoding is tried again.
    """
    for pad in range(16):
        png = _png(image, pad, transparency)
        if b"http" not in base64.b64encode(png).lower():
            return png
    raise RuntimeError("could not encode a frame without the letters 'http'")  # never seen


def _palette_png(pixels: np.ndarray, palette: np.ndarray, transparency: int | None) -> bytes:
    """Indices ``(H, W)`` uint8 into `palette` ``(N, 3)`` as a palette PNG."""
    image = Image.fromarray(pixels)
    image.putpalette(palette.tobytes())
    return _url_free_png(image, transparency)


def _keyframe(frame: np.ndarray, palette: np.ndarray) -> Frame:
    """A whole frame (indices ``(H, W)``) as a palette PNG with the shared palette."""
    return Frame(_palette_png(frame, palette, None))


def _delta(before: np.ndarray, after: np.ndarray, palette: np.ndarray) -> Frame:
    """What changed from frame `before` to frame `after` (indices ``(H, W)``), as a delta.

    The box that holds every changed pixel is cut out; in it, the pixels that did not change
    get index 0, transparent. Its palette is transparent plus only the colours it uses
    (in the shared palette's order), so it is small and often fits 4 bits per pixel.
    """
    changed = before != after
    if not changed.any():
        return Frame(b"", (0, 0))
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    top, left = int(rows[0]), int(cols[0])
    box = np.s_[top : rows[-1] + 1, left : cols[-1] + 1]
    pixels, mask = after[box], changed[box]
    used = np.flatnonzero(np.bincount(pixels[mask], minlength=len(palette)))
    local = np.zeros(256, dtype=np.uint8)
    local[used] = np.arange(1, len(used) + 1)
    local_palette = np.concatenate([np.zeros((1, 3), np.uint8), palette[used]])
    return Frame(_palette_png(np.where(mask, local[pixels], 0), local_palette, 0), (left, top))


def encode_frames(
    frames: np.ndarray,
    colors: int = PALETTE_SIZE,
    keyframe_interval: int = KEYFRAME_INTERVAL,
) -> list[Frame]:
    """RGB frames ``(F, H, W, 3)`` uint8 → F :class:`Frame` s, keyframes and deltas.

    Frame 0 is a keyframe, and so is every frame `keyframe_interval` frames after the last
    keyframe; every other frame is a delta on the frame before, unless a keyframe would be
    smaller (a frame that changes almost everywhere). Composited in order
    (:func:`decode_frames`) they give exactly the quantized frames of :func:`quantize_frames`.
    """
    indices, palette = quantize_frames(frames, colors)
    encoded: list[Frame] = []
    key_bytes, since_key = 0, 0
    for k, frame in enumerate(indices):
        candidate = None
        if k and since_key < keyframe_interval:
            candidate = _delta(indices[k - 1], frame, palette)
            if 2 * len(candidate.png) > key_bytes:  # a keyframe might be smaller: try it
                key = _keyframe(frame, palette)
                if len(key.png) < len(candidate.png):
                    candidate = key
        if candidate is None:
            candidate = _keyframe(frame, palette)
        if candidate.is_key:
            key_bytes, since_key = len(candidate.png), 0
        encoded.append(candidate)
        since_key += 1
    return encoded


def _rgba(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"))


def _draw(canvas: np.ndarray | None, frame: Frame) -> np.ndarray:
    """`frame` drawn on `canvas` ``(H, W, 3)`` as the player's ``drawImage`` draws it."""
    if frame.is_key:
        return _rgba(frame.png)[..., :3].copy()
    if canvas is None:
        raise ValueError("the first frame must be a keyframe")
    if frame.png:
        rgba = _rgba(frame.png)
        (x, y), (height, width) = frame.offset, rgba.shape[:2]
        opaque = rgba[..., 3] == 255
        canvas[y : y + height, x : x + width][opaque] = rgba[..., :3][opaque]
    return canvas


def decode_frames(frames: Sequence[Frame]) -> np.ndarray:
    """What the player shows, frame after frame: ``(F, H, W, 3)`` uint8 RGB."""
    canvas, shown = None, []
    for frame in frames:
        canvas = _draw(canvas, frame)
        shown.append(canvas.copy())
    return np.stack(shown)


def decode_frame(frames: Sequence[Frame], k: int) -> np.ndarray:
    """What the player shows on a jump to frame `k`: its keyframe, then the deltas up to it."""
    start = max(j for j in range(k + 1) if frames[j].is_key)
    canvas = None
    for frame in frames[start : k + 1]:
        canvas = _draw(canvas, frame)
    return canvas


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
# Frame k is composited on an offscreen canvas (its keyframe, then the deltas after it, or
# just the next delta when stepping on from the frame drawn last) and shown in the <img>.
_SCRIPT = """
(() => {{
const id = {id}, alt = {alt}, labels = {labels}, interval = {interval};
// Frames 1, 2, …: base64 PNGs, "" for a frame that equals the one before; at[k] is null if
// frame k is a keyframe, else the [x, y] at which its delta is drawn over frame k - 1.
const rest = {rest};
const at = {at};
document.querySelectorAll('.descent-anim[id="' + id + '"]').forEach((root) => {{
  if (root.dataset.ready) return;
  root.dataset.ready = "1";
  const $ = (name) => root.querySelector(".descent-" + name);
  const img = $("frame"), slider = $("slider"), counter = $("counter"), play = $("play");
  const count = rest.length + 1;
  // The frames are decoded when first needed, or once the page has loaded and the browser is
  // idle: decoding hundreds of images must not hold up the page's load.
  let pictures = null, decoded = null;
  const prepare = () => {{
    if (decoded === null) {{
      pictures = [img.getAttribute("src")]
        .concat(rest.map((f) => f && "data:image/png;base64," + f))
        .map((src) => src && Object.assign(new Image(), {{ src }}));
      decoded = Promise.all(pictures.map((p) => p && p.decode()));
    }}
    return decoded;
  }};
  const later = () => (window.requestIdleCallback || setTimeout)(prepare);
  if (document.readyState === "complete") later();
  else window.addEventListener("load", later, {{ once: true }});
  const canvas = document.createElement("canvas");
  canvas.width = img.getAttribute("width");
  canvas.height = img.getAttribute("height");
  const pen = canvas.getContext("2d");
  let i = 0, drawn = -1, shown = 0, timer = null;
  const paint = () => {{
    if (shown === i) return;
    let k = i;
    while (at[k]) k--;  // back to frame i's keyframe,
    if (drawn >= k && drawn < i) k = drawn + 1;  // or on from the frame drawn last
    for (; k <= i; k++) if (pictures[k]) pen.drawImage(pictures[k], ...(at[k] || [0, 0]));
    drawn = shown = i;
    img.src = canvas.toDataURL();
    img.alt = alt + " Showing " + labels[i] + ".";
    slider.value = i;
    slider.setAttribute("aria-valuetext", labels[i]);
    counter.textContent = labels[i];
    root.dataset.frame = i;
  }};
  const show = (k) => {{
    i = (k + count) % count;
    prepare().then(paint);
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
  $("last").onclick = jump(() => count - 1);
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


def content_id(frames: Sequence[Frame], *texts: str) -> str:
    """The player's element id: ``"descent-anim-"`` + 12 hex digits of a SHA-256 of the
    frames and texts, so the same animation always gets the same id and others differ."""
    offsets = json.dumps([frame.offset for frame in frames]).encode()
    digest = hashlib.sha256()
    for part in (*(frame.png for frame in frames), offsets, *(t.encode() for t in texts)):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return "descent-anim-" + digest.hexdigest()[:12]


def render_html(
    frames: Sequence[Frame],
    *,
    size: tuple[int, int],
    alt: str,
    labels: Sequence[str],
    slider_label: str = "Step",
    interval: int = 100,
    ordinal: int = 0,
) -> str:
    """The player for `frames` (from :func:`encode_frames`, of ``size = (width, height)`` px),
    as HTML.

    ``alt`` describes the whole animation; ``labels[i]`` names frame i (``"step 3 of 50"``)
    and is read out with it. ``interval`` is the time per frame in ms while playing.
    ``ordinal`` > 0 is appended to the id, to tell apart two copies of one animation on a page.
    """
    if len(frames) == 0 or len(labels) != len(frames):
        raise ValueError(
            f"need one label per frame and at least one frame, got {len(frames)} "
            f"frames and {len(labels)} labels"
        )
    if not frames[0].is_key:
        raise ValueError("the first frame must be a keyframe")
    element_id = content_id(frames, alt, slider_label, str(interval), *labels)
    if ordinal:
        element_id += f"-{ordinal}"
    pngs = [base64.b64encode(frame.png).decode("ascii") for frame in frames]
    script = _SCRIPT.format(
        id=_js(element_id),
        alt=_js(alt),
        labels=_js(list(labels)),
        interval=int(interval),
        rest=_js(pngs[1:]),
        at=_js([None if f.offset is None else list(f.offset) for f in frames]),
    )
    attr = _attribute
    return _TEMPLATE.format(
        id=attr(element_id),
        css=_CSS.strip(),
        first=pngs[0],
        width=size[0],
        height=size[1],
        first_alt=attr(f"{alt} Showing {labels[0]}."),
        buttons=_buttons(),
        slider_label=attr(slider_label),
        last=len(frames) - 1,
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
