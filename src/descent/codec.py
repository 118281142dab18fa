"""The frame codec of our animation player: RGBA frames as PNG keyframes and deltas, streamed.

matplotlib's ``FuncAnimation.to_jshtml()`` stores every frame as a full RGBA PNG. This codec
stores them as APNG or GIF do, frame by frame as they come (:class:`FrameEncoder`), so memory
holds a few frames, never all of them:

- frames come in *segments* of at most :data:`KEYFRAME_INTERVAL` frames, spooled compressed
  (zlib) until the segment is complete; each segment starts with a *keyframe* (a whole
  picture) and has its own palette of at most ``PALETTE_SIZE - 1`` colours, read from the
  colour counts of its frames: if they have no more colours than that, every colour is kept
  and the segment is exact; otherwise the most frequent colours are kept exactly, the rest
  spread over the remaining colours, and each pixel gets its **exact** nearest palette colour
  (each distinct colour is looked up once, vectorised). Pillow's own lookup is not exact:
  it returned (250, 252, 253) for pure white, a 37 dB tint over a whole plot. A smaller
  palette (smaller PNGs) is taken where it loses little, the size the segment before chose
  first (`descent.palette`);
- a segment whose palette would lose more than :data:`MIN_PSNR` allows (photographs, noise,
  tens of thousands of hues) is stored *lossless*, as truecolour PNGs, exactly; a segment
  with a frame of very many colours is first judged on that frame alone by a fast quantizer,
  and stored lossless untried where even that frame's own palette loses far too much
  (`descent.palette`: the slow quantizer took 13 s on such a segment);
- every other frame is a *delta*: the box of pixels that changed since the frame before,
  transparent where they did not, with its place in the frame; or, where changed pixels are
  themselves translucent, a *replacing* box (cleared, then drawn). A frame that changes in
  more than :data:`DELTA_SKIP` of its pixels is stored as a keyframe without trying a delta;
- transparency is kept (RGBA in, RGBA palettes and PNGs out);
- `byte_limit` (the player's ``animation.embed_limit``) is enforced frame by frame: an
  :class:`EmbedLimitError` names the limit, never a shorter animation;
- the same frames give the same bytes.

Lossless frames are PNG, not lossless WebP: on this book's 3D-surface frames lossless WebP
(Pillow, ``method=4``) was 25-35 % smaller but 6-10× slower to encode, and PNG decodes in
every browser. :func:`decode_frames` and :func:`decode_frame` composite stored frames exactly
as the player (`descent.player`) draws them on its canvas; :func:`read_png`, :func:`on_white`
and :func:`psnr` turn any PNG, ours or matplotlib's, into levels to compare.

References: the PNG specification (W3C, 3rd ed.), palette images with ``tRNS`` alpha; the APNG
frame-disposal model (``APNG_DISPOSE_OP``/``BLEND_OP``), which the deltas follow.
"""

from __future__ import annotations

import io
import math
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .colour import _as_rgba, _packed, _unpacked, on_white, psnr
from .palette import PixelLookup, _choose_palette, _nearest, segment_palette
from .png import _keyed_png, _palette_png, _png, _truecolour_png, read_png

__all__ = [
    "DELTA_SKIP",
    "KEYFRAME_INTERVAL",
    "MIN_PSNR",
    "PALETTE_SIZE",
    "EmbedLimitError",
    "Frame",
    "FrameEncoder",
    "FrameSpool",
    "decode_frame",
    "decode_frames",
    "encode_frames",
    "on_white",
    "psnr",
    "quantize_frames",
    "read_png",
]

PALETTE_SIZE = 128
"""Entries in a palette, one of them kept for "transparent" (the unchanged pixels of a delta),
so a segment has at most 127 colours. A figure of flat colours on white needs few."""

KEYFRAME_INTERVAL = 20
"""A keyframe at least every this many frames (a segment), so showing any frame composites at
most ``KEYFRAME_INTERVAL - 1`` deltas on its keyframe, and memory holds at most this many
frames, compressed."""

MIN_PSNR = 40.0
"""The least PSNR (dB, frames flattened onto white) a palette may leave; below it, the
segment is stored lossless."""

DELTA_SKIP = 0.5
"""A frame that changes in more than this fraction of its pixels is stored as a keyframe."""


class EmbedLimitError(RuntimeError):
    """The frames would be larger than the embedding limit (``animation.embed_limit``)."""


@dataclass(frozen=True)
class Frame:
    """One stored frame: a keyframe (``offset`` is None) or a delta.

    png: a keyframe's whole picture, or a delta's box of changed pixels (transparent where
    the pixel did not change), as a PNG (palette or truecolour); ``b""`` if nothing changed.
    offset: None for a keyframe; for a delta, ``(x, y)`` of its box's top-left corner.
    replace: for a delta, whether its box replaces what was there (cleared, then drawn) rather
    than being drawn over it; used when changed pixels are translucent.
    """

    png: bytes
    offset: tuple[int, int] | None = None
    replace: bool = False

    @property
    def is_key(self) -> bool:
        """Whether this is a keyframe (a whole picture, replacing whatever was there)."""
        return self.offset is None


@dataclass
class _Segment:
    """A segment's frames as spooled: zlib-compressed RGBA, their distinct colours and counts."""

    blobs: list[bytes]
    colours: list[np.ndarray]
    counts: list[np.ndarray]


class FrameSpool:
    """Frames kept on disk, zlib-compressed, in a temporary file: memory holds one at a time.

    ``append(frame)`` adds an RGBA ``(H, W, 4)`` uint8 frame; iterating yields them back, in
    order, one array at a time. `len` is how many frames it holds.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the spool)
        self._spans: list[tuple[int, int]] = []
        self.shape: tuple[int, int, int] | None = None

    def append_compressed(self, blob: bytes, shape: tuple[int, int, int]) -> None:
        """Add a frame already compressed with ``zlib.compress(frame.tobytes())``."""
        if self.shape is not None and shape != self.shape:
            raise ValueError(f"frame shape {shape} differs from the first frame's {self.shape}")
        self.shape = shape
        self._file.seek(0, io.SEEK_END)
        self._spans.append((self._file.tell(), len(blob)))
        self._file.write(blob)

    def append(self, frame: np.ndarray) -> None:
        """Add RGBA `frame` ``(H, W, 4)`` uint8."""
        frame = _as_rgba(frame)
        self.append_compressed(zlib.compress(frame.tobytes(), 1), frame.shape)

    def __len__(self) -> int:
        return len(self._spans)

    def __iter__(self) -> Iterator[np.ndarray]:
        for start, length in self._spans:
            self._file.seek(start)
            raw = zlib.decompress(self._file.read(length))
            yield np.frombuffer(raw, np.uint8).reshape(self.shape)


class FrameEncoder:
    """Encode frames as they come: ``add(frame)`` for each, then ``close()`` → the frames.

    colors: palette entries per segment, one kept for transparent (2 … 256).
    keyframe_interval: frames per segment (≥ 1). min_psnr: the least PSNR (dB) a palette may
    leave on any frame of a segment before the segment is stored lossless.
    byte_limit: the most base64 bytes of frame data allowed (None: no limit); going over it
    raises :class:`EmbedLimitError`, whose message names `limit_name`.
    spool: a :class:`FrameSpool` that also receives every frame (as it came), or None.

    After ``close()``: ``frames`` (the :class:`Frame` s), ``psnr`` (per frame, dB, ``inf``
    where exact) and ``lossless`` (per frame, whether its segment was stored lossless).
    """

    def __init__(
        self,
        colors: int = PALETTE_SIZE,
        keyframe_interval: int = KEYFRAME_INTERVAL,
        *,
        min_psnr: float = MIN_PSNR,
        byte_limit: int | None = None,
        limit_name: str = "byte_limit",
        spool: FrameSpool | None = None,
    ) -> None:
        if not isinstance(colors, int) or not 2 <= colors <= 256:
            raise ValueError(f"colors must be an int from 2 to 256, got {colors!r}")
        if not isinstance(keyframe_interval, int) or keyframe_interval < 1:
            raise ValueError(f"keyframe_interval must be an int ≥ 1, got {keyframe_interval!r}")
        self.colors, self.keyframe_interval, self.min_psnr = colors, keyframe_interval, min_psnr
        self.byte_limit, self.limit_name, self.spool = byte_limit, limit_name, spool
        self.frames: list[Frame] = []
        self.psnr: list[float] = []
        self.lossless: list[bool] = []
        self._segment = _Segment([], [], [])
        self._shape: tuple[int, int, int] | None = None
        self._shown: np.ndarray | None = None  # the previous frame as the player shows it
        self._bytes = 0
        self._key_bytes = 0  # the size of the last keyframe
        self._keys_win = False  # whether a keyframe beat a delta in this segment
        self._palette_size: int | None = None  # the size the segment before chose
        self._lookup = PixelLookup()

    def add(self, frame: np.ndarray) -> None:
        """Take the next frame, RGB ``(H, W, 3)`` or RGBA ``(H, W, 4)`` uint8 (same size
        throughout, else ValueError)."""
        frame = _as_rgba(frame)
        if self._shape is not None and frame.shape != self._shape:
            raise ValueError(f"frame shape {frame.shape} differs from the first's {self._shape}")
        self._shape = frame.shape
        colours, counts = np.unique(_packed(frame), return_counts=True)
        blob = zlib.compress(frame.tobytes(), 1)
        if self.spool is not None:
            self.spool.append_compressed(blob, frame.shape)
        segment = self._segment
        segment.blobs.append(blob)
        segment.colours.append(colours)
        segment.counts.append(counts)
        if len(segment.blobs) == self.keyframe_interval:
            self._flush()

    def close(self) -> list[Frame]:
        """Encode what is left; return every :class:`Frame` (ValueError if none came)."""
        self._flush()
        if not self.frames:
            raise ValueError("no frames were added")
        return self.frames

    def _flush(self) -> None:
        segment, self._segment = self._segment, _Segment([], [], [])
        if not segment.blobs:
            return
        height, width = self._shape[:2]
        choice = segment_palette(
            segment.colours, segment.counts, height * width, self.colors, self.min_psnr,
            hint=self._palette_size,
        )  # fmt: skip
        lossless = not choice.keeps(self.min_psnr)
        self._palette_size = None if lossless else choice.size
        if not lossless:
            self._lookup.use(choice.colours, choice.lut)
            entries = _packed(choice.palette)  # each entry as one uint32
        for k, blob in enumerate(segment.blobs):
            rgba = np.frombuffer(zlib.decompress(blob), np.uint8).reshape(self._shape)
            if lossless:
                self._store(rgba, None, None, first=k == 0)
            else:
                indices = self._lookup(_packed(rgba))
                shown = np.take(entries, indices).view(np.uint8).reshape(self._shape)
                self._store(shown, indices, choice.palette, first=k == 0)
            self.psnr.append(math.inf if lossless else choice.scores[k])
            self.lossless.append(lossless)

    def _store(
        self, shown: np.ndarray, indices: np.ndarray | None, palette: np.ndarray | None, first: bool
    ) -> None:
        """Store one frame, shown as RGBA `shown` ``(H, W, 4)`` (its palette `indices` and
        `palette`, or None when lossless), as a keyframe or a delta on the frame before."""
        previous, self._shown = self._shown, shown
        changed = None if previous is None else _packed(previous) != _packed(shown)
        if first:
            self._keys_win = False
        # a whole frame when most pixels changed, or when keyframes beat deltas on the frame
        # before in this segment (a turning 3D view: no need to encode both every time)
        whole = first or changed is None or changed.mean() > DELTA_SKIP
        whole = whole or (self._keys_win and bool(changed.any()))  # (unchanged: empty delta)
        frame = None if whole else _delta(changed, shown, indices, palette)
        # a keyframe may be smaller: try it too (palette PNGs only; truecolour ones are slow)
        if frame is None or (palette is not None and 2 * len(frame.png) > self._key_bytes):
            key = Frame(
                _truecolour_png(shown, first)
                if palette is None
                else _palette_png(indices, palette, first)
            )
            if frame is None or len(key.png) < len(frame.png):
                self._keys_win = frame is not None
                frame = key
        if frame.is_key:
            self._key_bytes = len(frame.png)
        self._bytes += 4 * -(-len(frame.png) // 3)
        if self.byte_limit is not None and self._bytes > self.byte_limit:
            raise EmbedLimitError(
                f"the animation's frames reach {self._bytes} bytes (base64) at frame "
                f"{len(self.frames)}, over the limit of {self.byte_limit} bytes set by "
                f"{self.limit_name}; raise it, or use fewer or smaller frames"
            )
        self.frames.append(frame)


def _delta(
    changed: np.ndarray, shown: np.ndarray, indices: np.ndarray | None, palette: np.ndarray | None
) -> Frame:
    """What changed (mask `changed` ``(H, W)`` bool) to give frame `shown` ``(H, W, 4)``.

    The box holding every changed pixel is cut out. If all changed pixels are opaque, the
    unchanged ones in the box become transparent (drawn over the frame before); else the box
    replaces what was there. A palette delta's palette holds only the colours it uses (and
    transparent first), so it is small and often fits 4 bits per pixel.
    """
    if not changed.any():
        return Frame(b"", (0, 0))
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    top, left = int(rows[0]), int(cols[0])
    box = np.s_[top : rows[-1] + 1, left : cols[-1] + 1]
    mask, pixels = changed[box], shown[box]
    replace = not bool((pixels[mask][:, 3] == 255).all())
    if palette is None:
        if replace:
            return Frame(_png(Image.fromarray(np.ascontiguousarray(pixels))), (left, top), True)
        return Frame(_keyed_png(pixels, mask), (left, top))
    cut = indices[box]
    used = np.flatnonzero(np.bincount(cut.ravel() if replace else cut[mask], minlength=256))
    local = np.zeros(256, np.uint8)
    local[used] = np.arange(len(used)) + (0 if replace else 1)
    entries = palette[used]
    if replace:
        return Frame(_palette_png(local[cut], entries), (left, top), True)
    entries = np.concatenate([np.zeros((1, 4), np.uint8), entries])
    return Frame(_palette_png(np.where(mask, local[cut], 0), entries), (left, top))


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] not in (3, 4) or frames.dtype != np.uint8:
        raise ValueError(
            f"frames must be uint8 of shape (F, H, W, 3) or (F, H, W, 4), got {frames.dtype} "
            f"{frames.shape}"
        )
    return frames


def quantize_frames(
    frames: np.ndarray, colors: int = PALETTE_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``(F, H, W, C)`` uint8 (C = 3 or 4) → ``(indices, palette)``: indices ``(F, H,
    W)`` uint8 into one ``palette`` ``(N, C)`` uint8 of ``N < colors`` colours, chosen as a
    segment's palette is (:class:`FrameEncoder`), each pixel mapped to its exact nearest entry.
    Raises ValueError for other shapes or dtypes.
    """
    frames = _check_frames(frames)
    rgba = np.stack([_as_rgba(frame) for frame in frames])
    colours, inverse, counts = np.unique(_packed(rgba), return_inverse=True, return_counts=True)
    palette = _choose_palette(colours, counts, colors - 1)
    indices = _nearest(_unpacked(colours), palette)[inverse.reshape(rgba.shape[:3])]
    return indices, palette[:, : frames.shape[-1]]


def encode_frames(
    frames: np.ndarray | Sequence[np.ndarray],
    colors: int = PALETTE_SIZE,
    keyframe_interval: int = KEYFRAME_INTERVAL,
    *,
    min_psnr: float = MIN_PSNR,
    byte_limit: int | None = None,
) -> list[Frame]:
    """Frames ``(F, H, W, 3)`` or ``(F, H, W, 4)`` uint8 (an array, or a sequence of frames)
    → F :class:`Frame` s, keyframes and deltas, by a :class:`FrameEncoder`.

    Composited in order (:func:`decode_frames`) they give exactly the frames, where a
    segment's colours fit its palette or it is lossless, else each pixel's nearest colour.
    """
    encoder = FrameEncoder(colors, keyframe_interval, min_psnr=min_psnr, byte_limit=byte_limit)
    for frame in frames:
        encoder.add(frame)
    return encoder.close()


def _draw(canvas: np.ndarray | None, frame: Frame) -> np.ndarray:
    """`frame` drawn on `canvas` ``(H, W, 4)`` as the player draws it: a keyframe replaces
    the canvas, a replacing delta its box, a delta's opaque pixels the pixels under them."""
    if frame.is_key:
        return read_png(frame.png).copy()
    if canvas is None:
        raise ValueError("the first frame must be a keyframe")
    if frame.png:
        rgba = read_png(frame.png)
        (x, y), (height, width) = frame.offset, rgba.shape[:2]
        region = canvas[y : y + height, x : x + width]
        if frame.replace:
            region[:] = rgba
        else:
            opaque = rgba[..., 3] == 255
            region[opaque] = rgba[opaque]
    return canvas


def decode_frames(frames: Sequence[Frame]) -> np.ndarray:
    """What the player shows, frame after frame: ``(F, H, W, 4)`` uint8 RGBA."""
    canvas, shown = None, []
    for frame in frames:
        canvas = _draw(canvas, frame)
        shown.append(canvas.copy())
    return np.stack(shown)


def decode_frame(frames: Sequence[Frame], k: int) -> np.ndarray:
    """What the player shows on a jump to frame `k`: its keyframe, then the deltas up to it,
    RGBA ``(H, W, 4)`` uint8."""
    start = max(j for j in range(k + 1) if frames[j].is_key)
    canvas = None
    for frame in frames[start : k + 1]:
        canvas = _draw(canvas, frame)
    return canvas
