"""PNG bytes of animation frames, written and read with Pillow: palette, truecolour and
colour-keyed PNGs (the PNG specification, W3C 3rd ed.: palette images with ``tRNS``).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from .colour import _packed

__all__ = ["read_png"]

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


def _keyed_png(pixels: np.ndarray, mask: np.ndarray) -> bytes:
    """Opaque RGBA `pixels` ``(h, w, 4)``, transparent where `mask` ``(h, w)`` is False, as an
    RGB PNG whose one ``tRNS`` colour (a colour no kept pixel has) marks the transparent
    pixels: 3 bytes a pixel rather than 4, and as exact."""
    key = _first_unused(_packed(np.ascontiguousarray(pixels[mask])) & 0xFFFFFF)
    colour = (key & 0xFF, (key >> 8) & 0xFF, key >> 16)  # packed little-endian: R lowest
    rgb = np.ascontiguousarray(pixels[..., :3])
    rgb[~mask] = colour
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", compress_level=6, transparency=colour)
    return buffer.getvalue()


def _first_unused(rgb: np.ndarray) -> int:
    """The least packed RGB colour (0 … 2²⁴ − 1) not among `rgb` ``(n,)`` uint32: at most n,
    so only the colours up to n are marked seen (O(n), where a sort and a set of every colour
    took 50 ms for a 370 × 370 box of a photograph). ValueError if all 2²⁴ are used."""
    seen = np.zeros(len(rgb) + 1, bool)
    seen[rgb[rgb <= len(rgb)]] = True
    key = int(np.argmin(seen))
    if key >= 1 << 24:
        raise ValueError("every RGB colour is used: no colour is left for a transparent key")
    return key


def read_png(png: bytes) -> np.ndarray:
    """A PNG (any mode: palette, RGB, RGBA) as RGBA levels ``(H, W, 4)`` uint8.

    Raises PIL's ``UnidentifiedImageError`` (an ``OSError``) if `png` is not an image.
    """
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGBA"))
