"""A segment's palette (`descent.palette`): the exact nearest entry of every colour, the pixel
lookup (a table for opaque colours, a binary search for translucent ones), the size the segment
before chose tried first, and palettes of any size from 2 entries. Every expected value is
computed here independently, by brute force.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import descent.palette as palette_module
from descent.codec import MIN_PSNR, PALETTE_SIZE, decode_frames, encode_frames
from descent.colour import _packed, _unpacked
from descent.palette import PixelLookup, _hopeless, _nearest, segment_palette


def brute_nearest(colours: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Each colour's nearest palette entry by squared distance in int64, first on ties."""
    distance = ((colours[:, None].astype(np.int64) - palette[None].astype(np.int64)) ** 2).sum(-1)
    return distance.argmin(1)


def test_nearest_is_exact_at_the_extremes_and_breaks_ties_to_the_lower_entry():
    """Colours and entries at 0 and 255 give the largest sums (|p|² = 4·255²): float32 keeps
    them exact. A palette holding an entry twice maps its colour to the first."""
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (5000, 4), dtype=np.uint8)
    colours[:64] = rng.choice(np.array([0, 255], np.uint8), (64, 4))
    palette = rng.integers(0, 256, (127, 4), dtype=np.uint8)
    palette[:16] = rng.choice(np.array([0, 1, 254, 255], np.uint8), (16, 4))
    palette[100] = palette[7]  # a tie: entry 7 wins
    assert np.array_equal(_nearest(colours, palette), brute_nearest(colours, palette))
    assert _nearest(palette[100:101], palette)[0] == 7


def test_pixel_lookup_by_table_and_by_search_give_each_colours_entry():
    """One lookup, reused: opaque colours (the table), other opaque colours (entries of the
    segment before left in the table), then translucent ones (the search)."""
    rng = np.random.default_rng(1)
    lookup = PixelLookup()
    for alpha in (255, 255, 128):
        rgba = rng.integers(0, 256, (3000, 4), dtype=np.uint8)
        rgba[:, 3] = alpha
        rgba[::2, 3] = 255  # translucent segments mix opaque pixels in
        colours = np.unique(_packed(rgba))
        lut = rng.integers(0, 127, len(colours), dtype=np.uint8)
        lookup.use(colours, lut)
        pixels = rng.choice(colours, (40, 50))
        expected = lut[[np.flatnonzero(colours == p)[0] for p in pixels.ravel()]]
        assert np.array_equal(lookup(pixels).ravel(), expected)


def gradient_segment() -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Three frames of a smooth two-colour gradient (a few thousand colours): each frame's
    distinct colours (packed, sorted), their counts, and the pixels of a frame."""
    rows, cols = np.mgrid[0:60, 0:90]
    colours, counts = [], []
    for shift in range(3):
        rgb = np.stack([(rows * 4 + shift) % 256, (cols * 3) % 256, (rows + cols) % 256], -1)
        rgba = np.concatenate([rgb, np.full((60, 90, 1), 255)], -1).astype(np.uint8)
        seen, times = np.unique(_packed(rgba), return_counts=True)
        colours.append(seen)
        counts.append(times)
    return colours, counts, 60 * 90


def test_the_hint_is_taken_when_it_keeps_the_margin_and_else_ignored():
    colours, counts, pixels = gradient_segment()
    plain = segment_palette(colours, counts, pixels, PALETTE_SIZE, MIN_PSNR)
    assert plain.size == PALETTE_SIZE - 1 and plain.keeps(MIN_PSNR) is False  # needs lossless
    # a lower bar: the whole palette keeps it, with room; a hint that keeps 2 dB over it wins
    bar = min(plain.scores) - 10
    whole = segment_palette(colours, counts, pixels, PALETTE_SIZE, bar)
    hinted = segment_palette(colours, counts, pixels, PALETTE_SIZE, bar, hint=95)
    assert hinted.size == 95 and len(hinted.palette) <= 95 and hinted.keeps(bar + 2)
    # each score is the PSNR of the frame mapped to its colours' entries (on white: opaque)
    rgba = _unpacked(colours[0])
    mapped = hinted.palette[hinted.lut[np.searchsorted(hinted.colours, colours[0])]]
    squared = ((rgba[:, :3].astype(np.float64) - mapped[:, :3]) ** 2).sum(-1) @ counts[0]
    assert hinted.scores[0] == pytest.approx(10 * np.log10(255**2 / (squared / (3 * pixels))))
    # a hint that cannot keep the margin changes nothing
    unhelpful = segment_palette(colours, counts, pixels, PALETTE_SIZE, bar, hint=3)
    assert unhelpful.size == whole.size and np.array_equal(unhelpful.palette, whole.palette)


@pytest.mark.parametrize("colors", [2, 3, 8, 32])
def test_a_small_palette_holds_many_colours_each_pixel_at_its_nearest_entry(colors):
    """64 colours into palettes of 2 … 32 entries (one kept for transparent): the smaller
    palettes tried (half, three quarters) and the most frequent colours kept exactly fit
    any size (Pillow refused a negative number of colours: "bad number of colors")."""
    rows, cols = np.mgrid[0:60, 0:90]
    rgb = np.stack([rows * 4 % 256, cols * 3 % 256, (rows + cols) % 256], -1) // 64 * 64 + 20
    frames = np.stack([rgb, rgb[::-1]]).astype(np.uint8)
    stored = encode_frames(frames, colors=colors, min_psnr=0)
    shown = decode_frames(stored)
    for frame, picture in zip(frames, shown, strict=True):
        palette = np.unique(picture.reshape(-1, 4), axis=0)
        assert len(palette) <= colors - 1
        nearest = palette[brute_nearest(frame.reshape(-1, 3), palette[:, :3])]
        assert np.array_equal(picture.reshape(-1, 4), nearest)


def colour_counts(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An RGB frame's distinct colours (packed RGBA, sorted) and their counts."""
    rgba = np.concatenate([frame, np.full((*frame.shape[:2], 1), 255, np.uint8)], -1)
    return np.unique(_packed(rgba), return_counts=True)


def test_a_segment_with_a_frame_of_too_many_colours_is_judged_lossless_by_a_fast_quantizer(
    monkeypatch,
):
    """A frame of uniform colour noise (~88 000 colours, over ``_MANY``): 127 colours for the
    RGB cube leave at best ~25 dB (cells of side 256/∛127 ≈ 51 levels: an error of 51²/12 a
    channel), far under MIN_PSNR − _MARGIN. The segment is judged on that frame alone by the
    median cut, never by the slow maximum coverage, and gets no palette."""
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)
    plain = np.full((300, 300, 3), 255, np.uint8)
    seen = [colour_counts(frame) for frame in (plain, noise, plain)]
    assert len(seen[1][0]) > palette_module._MANY
    methods = []
    quantize = Image.Image.quantize

    def spy(self, *args, **kwargs):
        methods.append(kwargs.get("method"))
        return quantize(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "quantize", spy)
    choice = segment_palette(
        [c for c, _ in seen], [n for _, n in seen], 300 * 300, PALETTE_SIZE, MIN_PSNR
    )
    assert methods == [Image.Quantize.MEDIANCUT]
    assert choice.size == 0 and len(choice.palette) == 0 and not choice.keeps(MIN_PSNR)
    # no 127 colours do better than a lattice of cubes (the best lattice in 3D gains 0.17
    # dB); the median cut does worse, within a few dB
    cube = 10 * np.log10(255**2 / ((256 / 127 ** (1 / 3)) ** 2 / 12))  # ≈ 24.8 dB
    assert choice.scores == [choice.scores[0]] * 3
    assert cube - 6 < choice.scores[0] < cube + 0.5


def test_a_frame_of_many_colours_a_palette_keeps_goes_the_usual_way():
    """A high-dpi figure with a small photograph: 75 000 noise colours, once each, on 6.5
    million white pixels. The palette's ~22 dB on the photograph (previous test), diluted by
    the exact white, leaves ~41 dB: within _MARGIN of MIN_PSNR, so the segment is not judged
    lossless untried, though its frame has over ``_MANY`` colours."""
    rng = np.random.default_rng(8)
    noise = rng.integers(0, 256, (76_800, 3), dtype=np.uint8)
    opaque = np.concatenate([noise, np.full((len(noise), 1), 255, np.uint8)], -1)
    colours, counts = np.unique(_packed(opaque), return_counts=True)
    white = _packed(np.full((1, 4), 255, np.uint8))
    colours, counts = np.append(colours, white), np.append(counts, 2560 * 2560)
    assert len(colours) > palette_module._MANY and np.all(np.diff(colours.astype(np.int64)) > 0)
    assert _hopeless(colours, counts, int(counts.sum()), PALETTE_SIZE - 1, MIN_PSNR) is None
    # the same colours seen as often as the white (a frame of noise only): judged lossless
    alone = _hopeless(colours[:-1], counts[:-1], int(counts[:-1].sum()), PALETTE_SIZE - 1, MIN_PSNR)
    assert alone is not None and alone < MIN_PSNR - palette_module._MARGIN
