"""Colours of animation frames: RGBA levels packed and unpacked, flattened onto white, compared
(PSNR), and mapped to a palette: chosen from the colours' counts, each colour to its **exact**
nearest entry.

Pillow's own palette lookup (``Image.quantize(palette=…)``) is not exact: it returned
(250, 252, 253) for pure white, a 37 dB tint over a whole plot; :func:`_nearest` is.
Reference for PSNR: ``10·log10(MAX² / MSE)``, e.g. Gonzalez & Woods, *Digital Image
Processing*, 4th ed., §8.1.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

__all__ = ["on_white", "psnr"]

_EXACT = 16  # the most frequent colours, kept exactly when a palette cannot hold every colour
_SAMPLE = 1_000_000  # pixels (colours repeated by their counts) the palette is chosen from
_CHUNK = 4096  # colours looked up per vectorised step of the nearest-colour search


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
