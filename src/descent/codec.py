"""The frame codec of our animation player: RGB frames as palette PNG keyframes and deltas.

matplotlib's ``FuncAnimation.to_jshtml()`` stores every frame as a full RGBA PNG. This codec
stores them as APNG or GIF do:

- frames share one palette of at most 127 colours (no dithering), with no visible difference;
- a *keyframe* (a whole palette PNG) every :data:`KEYFRAME_INTERVAL` frames, and every other
  frame as a *delta*, a PNG of just the box of pixels that changed since the frame before,
  transparent where they did not, with its place in the frame. A plot changes little from
  frame to frame (a line moves, a path grows), so a delta is a fraction of a keyframe;
- the same frames give the same bytes.

The steps are :func:`quantize_frames` (RGB frames → palette indices and the palette) and
:func:`encode_frames` (→ :class:`Frame` s, keyframes and deltas); :func:`decode_frames` and
:func:`decode_frame` composite stored frames exactly as the player (`descent.player`) draws
them on its canvas. :func:`read_png` and :func:`on_white` turn any PNG, ours or matplotlib's
RGBA frames, into RGB levels to compare.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = [
    "KEYFRAME_INTERVAL",
    "PALETTE_SIZE",
    "Frame",
    "decode_frame",
    "decode_frames",
    "encode_frames",
    "on_white",
    "quantize_frames",
    "read_png",
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


def _png(image: Image.Image, transparency: int | None = None) -> bytes:
    """`image` as optimized PNG bytes; `transparency` is the palette index to mark transparent
    (a one-entry tRNS chunk if 0)."""
    extra = {} if transparency is None else {"transparency": transparency}
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True, **extra)
    return buffer.getvalue()


def _palette_png(pixels: np.ndarray, palette: np.ndarray, transparency: int | None) -> bytes:
    """Indices ``(H, W)`` uint8 into `palette` ``(N, 3)`` as a palette PNG."""
    image = Image.fromarray(pixels)
    image.putpalette(palette.tobytes())
    return _png(image, transparency)


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


def read_png(png: bytes) -> np.ndarray:
    """A PNG (any mode: palette, RGB, RGBA) as RGBA levels ``(H, W, 4)`` uint8.

    Raises PIL's ``UnidentifiedImageError`` (an ``OSError``) if `png` is not an image.
    """
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"))


def on_white(rgba: np.ndarray) -> np.ndarray:
    """RGBA levels ``(..., 4)`` uint8 flattened onto a white background: RGB ``(..., 3)`` uint8.

    Each channel becomes ``round((c·α + 255·(255 − α)) / 255)``, what a browser shows of a
    transparent pixel on a white page (and what Agg's canvas holds under a transparent figure).
    """
    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim < 1 or rgba.shape[-1] != 4:
        raise ValueError(f"rgba must be uint8 of shape (..., 4), got {rgba.dtype} {rgba.shape}")
    wide = rgba.astype(np.uint16)
    alpha = wide[..., 3:]
    return ((wide[..., :3] * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def _draw(canvas: np.ndarray | None, frame: Frame) -> np.ndarray:
    """`frame` drawn on `canvas` ``(H, W, 3)`` as the player's ``drawImage`` draws it."""
    if frame.is_key:
        return read_png(frame.png)[..., :3].copy()
    if canvas is None:
        raise ValueError("the first frame must be a keyframe")
    if frame.png:
        rgba = read_png(frame.png)
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
