"""Colours of animation frames: RGBA levels packed and unpacked, flattened onto white, and
compared (PSNR). Palettes are chosen in `descent.palette`.

Reference for PSNR: ``10·log10(MAX² / MSE)``, e.g. Gonzalez & Woods, *Digital Image
Processing*, 4th ed., §8.1.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["on_white", "psnr"]


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
