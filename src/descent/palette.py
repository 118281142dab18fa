"""Palettes of animation frames: a segment's palette chosen from its colours' counts, how much
it loses, and each colour mapped to its **exact** nearest entry.

Pillow's own palette lookup (``Image.quantize(palette=…)``) is not exact: it returned
(250, 252, 253) for pure white, a 37 dB tint over a whole plot; :func:`_nearest` is.
:func:`segment_palette` is the codec's choice for a segment of frames (`descent.codec`), and
:class:`PixelLookup` maps the segment's pixels to it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .colour import _packed, _unpacked, on_white

__all__ = ["PaletteChoice", "PixelLookup", "segment_palette"]

_EXACT = 16  # the most frequent colours, kept exactly when a palette cannot hold every colour
# pixels (colours repeated by their counts) the palette is chosen from: on the gallery's scatter
# and 3D surface (30 000-45 000 colours a segment) the same palettes as from 1 000 000 pixels,
# in under half the quantizer's time
_SAMPLE = 250_000
# colours looked up per step of the nearest-colour search: a (1024, 4) × (4, N) product is
# small enough that OpenBLAS computes it on one thread; from 2048 rows on it starts threads
# whose spinning cost 5-10× the CPU time of the product itself
_CHUNK = 1024
# distinct colours in one frame above which a segment is first tested for the lossless path on
# that frame alone (:func:`_hopeless`): 7× the most in a frame of the gallery's palette
# animations (its 3D surface: 8 991; scatter 5 691), 2¹⁶; its photo has ~130 000
_MANY = 1 << 16
# dB under `min_psnr` that a palette of the most colourful frame's own must lose before its
# segment is stored lossless untried: a margin for the fast quantizer (median cut, 0.2 s on a
# frame of 130 000 colours, where maximum coverage took 13 s on a segment of them) doing worse
# than the segment's: 2 dB worse on the busiest frames of the gallery's surface and scatter,
# 2 dB better on its photo. A wrong call only stores a segment exactly, in more bytes
_MARGIN = 3.0


@dataclass(frozen=True)
class PaletteChoice:
    """A segment's palette and what it loses.

    colours: the segment's distinct colours, packed RGBA ``(K,)`` uint32, sorted;
    palette: ``(N, 4)`` uint8 RGBA, N ≤ `size`; lut: ``(K,)`` uint8, each colour's nearest
    entry; scores: per frame, the PSNR (dB, on white; ``inf`` where exact); size: the most
    entries the palette was allowed.
    """

    colours: np.ndarray
    palette: np.ndarray
    lut: np.ndarray
    scores: list[float]
    size: int

    def keeps(self, min_psnr: float) -> bool:
        """Whether every frame keeps at least `min_psnr` dB (else: store them lossless)."""
        return min(self.scores) >= min_psnr


def segment_palette(
    colours: Sequence[np.ndarray],
    counts: Sequence[np.ndarray],
    pixels: int,
    colors: int,
    min_psnr: float,
    hint: int | None = None,
) -> PaletteChoice:
    """The palette of a segment of frames, from each frame's distinct `colours` (packed
    ``(K_f,)`` uint32, sorted) seen `counts` ``(K_f,)`` times in its `pixels` pixels.

    The whole palette (``colors - 1`` entries); then, if it leaves a wide margin (6 dB over
    `min_psnr`), a half or a three-quarter one (smaller PNGs) if that keeps 2 dB over
    `min_psnr`. `hint`, the size the segment before chose, is tried first, and taken if it
    keeps those 2 dB: consecutive segments of an animation look alike, and each palette
    tried costs a quantization and a nearest-colour search. Where the choice keeps less
    than `min_psnr` (:meth:`PaletteChoice.keeps`) the segment is to be stored lossless.

    A segment with a frame of more than :data:`_MANY` colours is first tried on that frame
    alone, with a fast quantizer (:func:`_hopeless`): if a palette of its own leaves it
    :data:`_MARGIN` dB under `min_psnr`, no palette is chosen (``size`` 0, every score that
    frame's PSNR) and the segment is to be stored lossless.
    """
    busiest = max(range(len(colours)), key=lambda k: len(colours[k]))
    if len(colours[busiest]) > _MANY:
        score = _hopeless(colours[busiest], counts[busiest], pixels, colors - 1, min_psnr)
        if score is not None:
            empty = np.zeros(0, np.uint32)
            none = np.zeros((0, 4), np.uint8)
            return PaletteChoice(empty, none, np.zeros(0, np.uint8), [score] * len(colours), 0)
    distinct, inverse = np.unique(np.concatenate(colours), return_inverse=True)
    totals = np.bincount(inverse, weights=np.concatenate(counts))
    where = [np.searchsorted(distinct, seen) for seen in colours]
    rgba = _unpacked(distinct)
    tried: dict[int, PaletteChoice] = {}

    def attempt(size: int) -> PaletteChoice:
        if size not in tried:
            palette = _choose_palette(distinct, totals, size)
            lut = _nearest(rgba, palette)
            error = _squared_error(rgba, palette[lut])
            scores = [_psnr(float(np.sum(error[at] * seen)) / (3 * pixels)) for at, seen in
                      zip(where, counts, strict=True)]  # fmt: skip
            tried[size] = PaletteChoice(distinct, palette, lut, scores, size)
        return tried[size]

    full = colors - 1
    if hint is not None and hint < full and attempt(hint).keeps(min_psnr + 2):
        return tried[hint]
    choice = attempt(full)
    if choice.keeps(min_psnr + 6) and len(distinct) >= colors:
        for size in (colors // 2 - 1, 3 * colors // 4 - 1):
            if size >= 2 and attempt(size).keeps(min_psnr + 2):
                return tried[size]
    return choice


def _hopeless(
    colours: np.ndarray, counts: np.ndarray, pixels: int, size: int, min_psnr: float
) -> float | None:
    """The PSNR (dB) a palette of `size` entries chosen fast (median cut) for one frame's
    `colours` ``(K,)`` uint32 seen `counts` ``(K,)`` times in `pixels` pixels leaves on it, if
    that is :data:`_MARGIN` dB or more under `min_psnr`; else None (a palette may do)."""
    palette = _choose_palette(colours, counts, size, fast=True)
    rgba = _unpacked(colours)
    error = _squared_error(rgba, palette[_nearest(rgba, palette)])
    score = _psnr(float(np.sum(error * counts)) / (3 * pixels))
    return score if score < min_psnr - _MARGIN else None


def _psnr(mse: float) -> float:
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


class PixelLookup:
    """Each pixel's palette entry: ``lookup(packed)`` maps packed RGBA pixels ``(...)`` uint32,
    every one of them among `colours` ``(K,)`` uint32 (sorted), to ``lut`` ``(K,)`` uint8.

    Opaque colours go through a table of all 2²⁴ RGB colours (16 MB, made once per lookup
    object and reused: set for `colours` by :meth:`use`), one indexing step per frame, 6×
    faster than a binary search; colours with alpha through ``np.searchsorted``.
    """

    def __init__(self) -> None:
        self._table: np.ndarray | None = None
        self._colours = self._lut = np.zeros(0, np.uint32)
        self._dense = False

    def use(self, colours: np.ndarray, lut: np.ndarray) -> None:
        """Look up into `lut` ``(K,)`` uint8 for the segment's `colours` ``(K,)`` uint32."""
        self._colours, self._lut = colours, lut
        # little-endian packing puts alpha in the top byte (big-endian: the binary search)
        self._dense = sys.byteorder == "little" and bool(colours.min() >= 0xFF000000)
        if self._dense:
            if self._table is None:
                self._table = np.zeros(1 << 24, np.uint8)
            self._table[colours & 0xFFFFFF] = lut

    def __call__(self, packed: np.ndarray) -> np.ndarray:
        if self._dense:
            return np.take(self._table, packed & 0xFFFFFF)
        return self._lut[np.searchsorted(self._colours, packed)]


def _choose_palette(
    colours: np.ndarray, counts: np.ndarray, size: int, fast: bool = False
) -> np.ndarray:
    """At most `size` RGBA colours ``(N, 4)`` uint8 for the distinct `colours` (uint32 ``(K,)``)
    seen `counts` times: all of them if they fit; else the :data:`_EXACT` most frequent (at
    most half of `size`), exactly, and the rest chosen by Pillow's maximum coverage (RGB;
    median cut if `fast`) or octree (RGBA) over the colours weighted by their counts (a sample
    of at most ``_SAMPLE`` pixels). `size` ≥ 1."""
    order = np.argsort(-counts, kind="stable")
    if len(colours) <= size:
        return _unpacked(colours[order])
    kept = min(_EXACT, size // 2)
    exact = _unpacked(colours[order[:kept]])
    scale = min(1.0, _SAMPLE / float(counts.sum()))
    weights = np.maximum(1, np.round(counts * scale)).astype(np.int64)
    sample = np.repeat(_unpacked(colours), weights, axis=0)
    opaque = bool((sample[:, 3] == 255).all())
    image = Image.fromarray(sample[None, :, :3] if opaque else sample[None])
    method = Image.Quantize.FASTOCTREE
    if opaque:
        method = Image.Quantize.MEDIANCUT if fast else Image.Quantize.MAXCOVERAGE
    spread = image.quantize(size - kept, method=method, dither=Image.Dither.NONE)
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
    pal = palette.astype(np.float32)
    pal_norm = (pal**2).sum(1)
    out = np.empty(len(colours), np.uint8)
    for start in range(0, len(colours), _CHUNK):
        block = colours[start : start + _CHUNK].astype(np.float32)
        # |c − p|² − |c|² = |p|² − 2 c·p: every sum an integer of magnitude < 2²⁰, exact in
        # float32 whatever the order of summation, and one matrix product
        distance = pal_norm[None] - 2 * (block @ pal.T)
        out[start : start + _CHUNK] = distance.argmin(1)
    return out


def _squared_error(colours: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """Summed squared error over RGB, flattened onto white, of each colour ``(K, 4)`` shown as
    `mapped` ``(K, 4)``: ``(K,)`` float64."""
    return ((on_white(colours).astype(np.float64) - on_white(mapped)) ** 2).sum(-1)
