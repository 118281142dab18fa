"""The player's frame store (`descent.jshtml`): keyframes and deltas, composited exactly.

The frames here are drawn with numpy (no matplotlib), small, and made to hit every case: a
line that moves, a path that grows, a frame equal to the one before (an empty delta), a frame
that changes everywhere, and one that a keyframe stores in fewer bytes than a delta. Compositing
is checked in Python, with an independent compositor, and in Chromium, pixel for pixel.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from bs4 import BeautifulSoup
from PIL import Image

import harness
from descent.jshtml import (
    KEYFRAME_INTERVAL,
    PALETTE_SIZE,
    Frame,
    decode_frame,
    decode_frames,
    encode_frames,
    quantize_frames,
    render_html,
    standalone_page,
)

HEIGHT, WIDTH, COUNT = 48, 64, 30
INTERVAL = 8  # keyframe interval in these tests: several keyframes in 30 frames
SAME, NOISY = 10, 19  # frame SAME equals the one before; frame NOISY changes everywhere


def synthetic_frames() -> np.ndarray:
    """``(COUNT, HEIGHT, WIDTH, 3)`` uint8: a grey frame, a line turning about the centre with
    a soft edge, a path of red dots growing, and a counter square changing colour."""
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    frames = []
    for k in range(COUNT):
        t = k - 1 if k == SAME else k  # frame SAME repeats frame SAME - 1
        frame = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
        frame[[4, HEIGHT - 5], 4 : WIDTH - 4] = 120  # a box
        slope = -1 + t / 12
        distance = np.abs(rows - (HEIGHT / 2 + slope * (cols - WIDTH / 2))) / np.hypot(1, slope)
        ink = np.clip(1.5 - distance, 0, 1)[..., None]  # anti-aliased, a few grey levels
        frame[:] = (frame * (1 - ink) + np.array([0, 60, 160]) * ink).astype(np.uint8)
        for j in range(t + 1):
            frame[8 + j, 6 + 2 * (j % 20) : 8 + 2 * (j % 20)] = (220, 40, 30)
        frame[40:44, 52:60] = (8 * t, 200 - 5 * t, 90)
        frames.append(frame)
    noise = np.random.default_rng(3).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    frames[NOISY] = noise // 64 * 64  # 64 colours everywhere: exact in the palette
    return np.stack(frames)


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return synthetic_frames()


@pytest.fixture(scope="module")
def quantized(frames) -> np.ndarray:
    """The frames as the palette shows them: what every composited frame must equal."""
    indices, palette = quantize_frames(frames)
    return palette[indices]


@pytest.fixture(scope="module")
def encoded(frames) -> list[Frame]:
    return encode_frames(frames, keyframe_interval=INTERVAL)


def rgba(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def composite(encoded: list[Frame], start: int, stop: int) -> np.ndarray:
    """Frames ``start … stop`` drawn one over the other as ``drawImage`` does: a keyframe
    covers everything, a delta's opaque pixels cover the canvas at its offset."""
    canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for frame in encoded[start : stop + 1]:
        if frame.png:
            pixels = rgba(frame.png)
            x, y = frame.offset or (0, 0)
            height, width = pixels.shape[:2]
            region = canvas[y : y + height, x : x + width]
            opaque = pixels[..., 3] == 255
            assert np.all(opaque | (pixels[..., 3] == 0)), "alpha is all or nothing"
            region[opaque] = pixels[..., :3][opaque]
    return canvas


def keyframe_of(encoded: list[Frame], k: int) -> int:
    return max(j for j in range(k + 1) if encoded[j].is_key)


# --- quantization ------------------------------------------------------------------------------


def test_quantize_keeps_an_entry_free_and_is_exact_for_few_colours(frames):
    indices, palette = quantize_frames(frames)
    assert indices.shape == frames.shape[:3] and indices.dtype == np.uint8
    assert palette.dtype == np.uint8 and len(palette) < PALETTE_SIZE
    assert int(indices.max()) < len(palette)
    few = frames[NOISY : NOISY + 1]  # 64 colours: the palette holds every one of them
    few_indices, few_palette = quantize_frames(few)
    assert np.array_equal(few_palette[few_indices], few)


def test_quantize_rejects_other_shapes():
    with pytest.raises(ValueError, match="frames"):
        quantize_frames(np.zeros((4, 4, 3), np.uint8))


# --- keyframes and deltas ----------------------------------------------------------------------


def test_every_composited_frame_is_exactly_the_quantized_frame(encoded, quantized):
    """Stepping forward: keyframe, then each delta over the frame before."""
    for k in range(COUNT):
        start = keyframe_of(encoded, k)
        assert np.array_equal(composite(encoded, start, k), quantized[k]), f"frame {k}"
    assert np.array_equal(decode_frames(encoded), quantized)


def test_a_jump_composites_from_the_keyframe(encoded, quantized):
    """A jump (the slider) draws the frame's keyframe and the deltas after it, at most
    INTERVAL - 1 of them; the library's reference compositor agrees."""
    for k in range(COUNT):
        start = keyframe_of(encoded, k)
        assert k - start < INTERVAL
        assert np.array_equal(decode_frame(encoded, k), quantized[k]), f"frame {k}"


def test_keyframes_at_the_start_and_every_interval(encoded):
    keys = [k for k, frame in enumerate(encoded) if frame.is_key]
    assert keys == list(range(0, COUNT, INTERVAL))
    assert not encoded[NOISY].is_key, "a delta of a frame changing everywhere can be smaller"


def test_a_keyframe_where_a_delta_would_be_larger():
    """Two colours at random, then one colour: the delta is the random half of the pixels
    that changed, the keyframe a flat picture, far smaller; so frame 1 is a keyframe."""
    noise = np.random.default_rng(4).integers(0, 2, (HEIGHT, WIDTH), dtype=np.uint8)
    two = np.array([[250, 250, 250], [30, 90, 200]], np.uint8)[noise]
    frames = np.stack([two, np.full_like(two, 250), two])
    first, flat, again = encode_frames(frames)
    assert first.is_key and flat.is_key and not again.is_key
    assert np.array_equal(decode_frames([first, flat, again]), frames)


def test_an_unchanged_frame_is_an_empty_delta(encoded):
    assert encoded[SAME] == Frame(b"", (0, 0))
    assert all(frame.png for k, frame in enumerate(encoded) if k != SAME)


def test_keyframes_share_the_palette_and_deltas_are_cropped_and_transparent(frames, encoded):
    indices, palette = quantize_frames(frames)
    shared = {tuple(colour) for colour in palette.tolist()}
    for k, frame in enumerate(encoded):
        if not frame.png:
            continue
        image = Image.open(io.BytesIO(frame.png))
        assert image.format == "PNG" and image.mode == "P"
        colours = np.asarray(image.getpalette(), np.uint8).reshape(-1, 3)
        if frame.is_key:
            assert image.size == (WIDTH, HEIGHT) and "transparency" not in image.info
            assert np.array_equal(colours, palette)
            continue
        assert image.info["transparency"] == 0  # index 0: one byte of tRNS
        assert {tuple(c) for c in colours[1:].tolist()} <= shared
        changed = indices[k] != indices[k - 1]
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        assert frame.offset == (cols[0], rows[0]), f"frame {k}: the box starts at a change"
        assert image.size == (cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]), f"frame {k}"
        opaque = rgba(frame.png)[..., 3] == 255
        assert np.array_equal(opaque, changed[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def test_deltas_are_a_fraction_of_keyframes(frames, encoded):
    keyframes_only = encode_frames(frames, keyframe_interval=1)
    assert all(frame.is_key for frame in keyframes_only)
    for delta, whole in zip(encoded, keyframes_only, strict=True):
        assert len(delta.png) < len(whole.png) or delta == whole
    # tiny frames: a PNG's own overhead is much of each; the chapter's are 4-5 times smaller
    assert sum(len(f.png) for f in encoded) < 0.7 * sum(len(f.png) for f in keyframes_only)
    default = encode_frames(frames)
    assert [k for k, frame in enumerate(default) if frame.is_key] == [0, KEYFRAME_INTERVAL]


def test_same_frames_same_bytes(frames, encoded):
    again = encode_frames(frames.copy(), keyframe_interval=INTERVAL)
    assert again == encoded
    labels = [f"frame {k}" for k in range(COUNT)]
    first = render_html(encoded, size=(WIDTH, HEIGHT), alt="A test.", labels=labels)
    assert render_html(again, size=(WIDTH, HEIGHT), alt="A test.", labels=labels) == first


def test_the_html_holds_every_stored_frame_and_its_place(encoded):
    labels = [f"frame {k}" for k in range(COUNT)]
    page = render_html(encoded, size=(WIDTH, HEIGHT), alt="A test.", labels=labels)
    soup = BeautifulSoup(page, "html.parser")
    src = soup.select_one("img.descent-frame")["src"]
    assert base64.b64decode(src.removeprefix("data:image/png;base64,")) == encoded[0].png
    script = soup.select_one("script").get_text()
    rest = re.search(r"const rest = (\[.*?\]);", script, re.S).group(1)
    assert [base64.b64decode(s) for s in re.findall(r'"([^"]*)"', rest)] == [
        f.png for f in encoded[1:]
    ]
    at = re.search(r"const at = (\[.*?\]);\n", script, re.S).group(1)
    assert at.count("null") == sum(f.is_key for f in encoded)
    assert "http" not in page.lower()


def test_render_html_needs_a_keyframe_first(encoded):
    with pytest.raises(ValueError, match="keyframe"):
        render_html(encoded[1:], size=(WIDTH, HEIGHT), alt="A test.", labels=["x"] * 29)
    with pytest.raises(ValueError, match="label"):
        render_html(encoded, size=(WIDTH, HEIGHT), alt="A test.", labels=["x"])


# --- in a browser ------------------------------------------------------------------------------

# The frame on screen: the <img> drawn on a fresh canvas, read back as RGBA.
READ_FRAME = """async (root) => {
  const img = root.querySelector("img.descent-frame");
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const pen = canvas.getContext("2d");
  pen.drawImage(img, 0, 0);
  return Array.from(pen.getImageData(0, 0, canvas.width, canvas.height).data);
}"""

SEEK = """(root, k) => {
  const slider = root.querySelector("input.descent-slider");
  slider.value = k;
  slider.dispatchEvent(new Event("input"));
}"""


@pytest.mark.browser
def test_the_browser_shows_exactly_the_composited_frames(encoded, quantized, tmp_path):
    from playwright.sync_api import sync_playwright

    labels = [f"frame {k} of {COUNT - 1}" for k in range(COUNT)]
    alt = "A synthetic test animation: a line turning and a path growing."
    page_path = tmp_path / "player.html"
    player = render_html(encoded, size=(WIDTH, HEIGHT), alt=alt, labels=labels)
    page_path.write_text(standalone_page(player, "Frames"), encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=harness.chromium(), args=harness.CHROMIUM_ARGS
        )
        try:
            tab = browser.new_page()
            errors = []
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(page_path.as_uri())
            root = tab.locator(".descent-anim")
            handle = root.element_handle()

            def on_screen(k: int) -> np.ndarray:
                tab.wait_for_function(
                    "([el, k]) => el.dataset.frame === String(k)", arg=[handle, k]
                )
                rgba = np.array(root.evaluate(READ_FRAME), np.uint8).reshape(HEIGHT, WIDTH, 4)
                assert (rgba[..., 3] == 255).all(), f"frame {k}: not opaque"
                return rgba[..., :3]

            assert np.array_equal(on_screen(0), quantized[0])  # before any script ran too
            # jumps: back and forth, onto and around keyframes, the empty delta, the noise
            for k in (5, 0, COUNT - 1, 11, SAME, SAME - 1, NOISY, NOISY + 1, 7, 8, 3, 17):
                root.evaluate(SEEK, k)
                assert np.array_equal(on_screen(k), quantized[k]), f"jump to frame {k}"
                assert root.locator("img").get_attribute("alt") == f"{alt} Showing {labels[k]}."
                slider = root.locator("input.descent-slider")
                assert slider.get_attribute("aria-valuetext") == labels[k]
            # steps: forward draws one delta on the last frame, backward starts again
            for k in range(18, 25):
                root.locator(".descent-next").click()
                assert np.array_equal(on_screen(k), quantized[k]), f"step to frame {k}"
            root.locator(".descent-prev").click()
            assert np.array_equal(on_screen(23), quantized[23])
            assert root.locator("canvas").count() == 0, "the canvas stays offscreen"
            assert errors == []
        finally:
            browser.close()
