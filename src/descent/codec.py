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
  it returned (250, 252, 253) for pure white, a 37 dB tint over a whole plot;
- a segment whose palette would lose more than :data:`MIN_PSNR` allows (3D surfaces,
  images, thousands of hues) is stored *lossless*, as truecolour PNGs, exactly;
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

_EXACT = 16  # the most frequent colours, kept exactly when a palette cannot hold every colour
_SAMPLE = 1_000_000  # pixels (colours repeated by their counts) the palette is chosen from
_CHUNK = 4096  # colours looked up per vectorised step of the nearest-colour search


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


def _as_rgba(frame: np.ndarray, name: str = "frame") -> np.ndarray:
    """An ``(H, W, 3)`` or ``(H, W, 4)`` uint8 frame as contiguous RGBA ``(H, W, 4)`` uint8."""
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[-1] not in (3, 4) or frame.dtype != np.uint8:
        raise ValueError(
            f"{name} must be uint8 of shape (H, W, 3) or (H, W, 4), got {frame.dtype} {frame.shape}"
        )
    if frame.shape[-1] == 3:
        frame = np.concatenate([frame, np.full((*frame.shape[:2], 1), 255, np.uint8)], -1)
    return np.ascontiguousarray(frame)


def _packed(rgba: np.ndarray) -> np.ndarray:
    """RGBA ``(..., 4)`` uint8 (contiguous) as one uint32 per pixel ``(...)``."""
    return rgba.view(np.uint32)[..., 0]


def _unpacked(packed: np.ndarray) -> np.ndarray:
    """uint32 colours ``(K,)`` back to RGBA ``(K, 4)`` uint8."""
    return np.ascontiguousarray(packed, dtype=np.uint32).view(np.uint8).reshape(-1, 4)


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


def psnr(reference: np.ndarray, test: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of `test` against `reference`, both uint8 ``(..., 3)``
    RGB or ``(..., 4)`` RGBA (flattened onto white first), of one shape; ``inf`` if equal.

    ``10·log10(255² / MSE)`` over all pixels and channels. Raises ValueError if shapes differ.
    """
    a, b = (
        on_white(x) if np.asarray(x).shape[-1] == 4 else np.asarray(x) for x in (reference, test)
    )
    if a.shape != b.shape:
        raise ValueError(f"reference and test differ in shape: {a.shape} and {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _choose_palette(colours: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    """At most `size` RGBA colours ``(N, 4)`` uint8 for the distinct `colours` (uint32 ``(K,)``)
    seen `counts` times: all of them if they fit; else the :data:`_EXACT` most frequent,
    exactly, and the rest chosen by Pillow's maximum coverage (RGB) or octree (RGBA) over
    the colours weighted by their counts (a sample of at most ``_SAMPLE`` pixels)."""
    order = np.argsort(-counts, kind="stable")
    if len(colours) <= size:
        return _unpacked(colours[order])
    exact = _unpacked(colours[order[:_EXACT]])
    scale = min(1.0, _SAMPLE / float(counts.sum()))
    weights = np.maximum(1, np.round(counts * scale)).astype(np.int64)
    sample = np.repeat(_unpacked(colours), weights, axis=0)
    opaque = bool((sample[:, 3] == 255).all())
    image = Image.fromarray(sample[None, :, :3] if opaque else sample[None])
    method = Image.Quantize.MAXCOVERAGE if opaque else Image.Quantize.FASTOCTREE
    spread = image.quantize(size - _EXACT, method=method, dither=Image.Dither.NONE)
    entries = len(np.unique(np.asarray(spread)))
    mode = "RGB" if opaque else "RGBA"
    chosen = np.asarray(spread.getpalette(rawmode=mode), np.uint8).reshape(-1, len(mode))[:entries]
    if opaque:
        chosen = np.concatenate([chosen, np.full((len(chosen), 1), 255, np.uint8)], 1)
    return _dedupe(exact, chosen)[:size]


def _dedupe(first: np.ndarray, more: np.ndarray) -> np.ndarray:
    """`first` ``(N, 4)`` then the rows of `more` not in it, in order."""
    seen = set(_packed(np.ascontiguousarray(first)).tolist())
    extra = [
        row
        for row, p in zip(more, _packed(np.ascontiguousarray(more)).tolist(), strict=True)
        if p not in seen
    ]
    return np.concatenate([first, np.array(extra, np.uint8).reshape(-1, 4)])


def _nearest(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """For each RGBA colour ``(K, 4)`` uint8, the index ``(K,)`` uint8 of its nearest `palette`
    entry ``(N, 4)`` (Euclidean in RGBA levels, ties to the lower index): exact, in chunks."""
    pal = palette.astype(np.float64)
    pal_norm = (pal**2).sum(1)
    out = np.empty(len(colours), np.uint8)
    for start in range(0, len(colours), _CHUNK):
        block = colours[start : start + _CHUNK].astype(np.float64)
        # |c − p|² − |c|² = |p|² − 2 c·p: integers below 2⁵³, so exact, and one matrix product
        distance = pal_norm[None] - 2 * block @ pal.T
        out[start : start + _CHUNK] = distance.argmin(1)
    return out


def _squared_error(colours: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """Summed squared error over RGB, flattened onto white, of each colour ``(K, 4)`` shown as
    `mapped` ``(K, 4)``: ``(K,)`` float64."""
    return ((on_white(colours).astype(np.float64) - on_white(mapped)) ** 2).sum(-1)


_FAST_ABOVE = 1 << 17  # pixels: a larger image is deflated at level 6 (10× faster than 9)


def _png(image: Image.Image, best: bool = False) -> bytes:
    """`image` as PNG bytes, deflated at level 9 if `best` or if it is small (at most
    ``_FAST_ABOVE`` pixels), else at level 6: level 9 makes a 640 × 480 plot ~12 % smaller
    and takes ~10× longer (~40 ms)."""
    level = 9 if best or image.width * image.height <= _FAST_ABOVE else 6
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def _palette_png(indices: np.ndarray, palette: np.ndarray, best: bool = False) -> bytes:
    """Indices ``(H, W)`` uint8 into RGBA `palette` ``(N, 4)`` as a palette PNG (with a
    ``tRNS`` chunk only if some entry is not opaque)."""
    image = Image.fromarray(indices)
    opaque = bool((palette[:, 3] == 255).all())
    image.putpalette((palette[:, :3] if opaque else palette).tobytes(), "RGB" if opaque else "RGBA")
    return _png(image, best)


def _truecolour_png(rgba: np.ndarray, best: bool = False) -> bytes:
    """RGBA ``(H, W, 4)`` as a truecolour PNG (RGB if every pixel is opaque)."""
    opaque = bool((rgba[..., 3] == 255).all())
    return _png(Image.fromarray(np.ascontiguousarray(rgba[..., :3]) if opaque else rgba), best)


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
        colours, inverse = np.unique(np.concatenate(segment.colours), return_inverse=True)
        totals = np.bincount(inverse, weights=np.concatenate(segment.counts))
        # the whole palette; then, if it leaves a wide margin, a half or three-quarter one
        # (smaller PNGs) if that still keeps 2 dB above min_psnr
        palette, lut, scores = self._palette(segment, colours, totals, self.colors - 1)
        if min(scores) >= self.min_psnr + 6 and len(colours) >= self.colors:
            for size in (self.colors // 2, 3 * self.colors // 4):
                smaller = self._palette(segment, colours, totals, size - 1)
                if min(smaller[2]) >= self.min_psnr + 2:
                    palette, lut, scores = smaller
                    break
        lossless = min(scores) < self.min_psnr
        for k, blob in enumerate(segment.blobs):
            rgba = np.frombuffer(zlib.decompress(blob), np.uint8).reshape(self._shape)
            if lossless:
                self._store(rgba, None, None, first=k == 0)
            else:
                indices = lut[np.searchsorted(colours, _packed(rgba))]
                self._store(palette[indices], indices, palette, first=k == 0)
            self.psnr.append(math.inf if lossless else scores[k])
            self.lossless.append(lossless)

    def _palette(
        self, segment: _Segment, colours: np.ndarray, totals: np.ndarray, size: int
    ) -> tuple[np.ndarray, np.ndarray, list[float]]:
        """A palette of at most `size` colours for `segment` (its distinct `colours`, seen
        `totals` times): ``(palette (N, 4), lut (K,) of each colour's entry, PSNR per frame)``."""
        palette = _choose_palette(colours, totals, size)
        lut = _nearest(_unpacked(colours), palette)
        error = _squared_error(_unpacked(colours), palette[lut])
        pixels = self._shape[0] * self._shape[1] * 3
        scores = []
        for seen, counts in zip(segment.colours, segment.counts, strict=True):
            mse = float(error[np.searchsorted(colours, seen)] @ counts) / pixels
            scores.append(math.inf if mse == 0 else 10 * math.log10(255**2 / mse))
        return palette, lut, scores

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


def _keyed_png(pixels: np.ndarray, mask: np.ndarray) -> bytes:
    """Opaque RGBA `pixels` ``(h, w, 4)``, transparent where `mask` ``(h, w)`` is False, as an
    RGB PNG whose one ``tRNS`` colour (a colour no kept pixel has) marks the transparent
    pixels: 3 bytes a pixel rather than 4, and as exact."""
    used = set(np.unique(_packed(np.ascontiguousarray(pixels[mask]))).tolist())
    key = next(c for c in range(1 << 24) if (c | 0xFF000000) not in used)  # RGBA little-endian
    colour = (key & 0xFF, (key >> 8) & 0xFF, key >> 16)
    rgb = np.ascontiguousarray(pixels[..., :3])
    rgb[~mask] = colour
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=6, transparency=colour)
    return buffer.getvalue()


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


def read_png(png: bytes) -> np.ndarray:
    """A PNG (any mode: palette, RGB, RGBA) as RGBA levels ``(H, W, 4)`` uint8.

    Raises PIL's ``UnidentifiedImageError`` (an ``OSError``) if `png` is not an image.
    """
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"))


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
