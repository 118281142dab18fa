"""The player's frame codec (`descent.codec`): keyframes and deltas, composited exactly; and
the player's HTML (`descent.player`) holding them, read back by `descent.player.read_players`.

The frames here are drawn with numpy (no matplotlib), small, and made to hit every case: a
line that moves, a path that grows, a frame equal to the one before (an empty delta), a frame
that changes everywhere, and one that a keyframe stores in fewer bytes than a delta. Compositing
is checked here in Python, with an independent compositor; tests/test_player_js.py checks it in
Chromium, pixel for pixel, with the same frames.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from descent.codec import (
    DELTA_SKIP,
    KEYFRAME_INTERVAL,
    MIN_PSNR,
    PALETTE_SIZE,
    Frame,
    FrameEncoder,
    decode_frame,
    decode_frames,
    encode_frames,
    on_white,
    psnr,
    quantize_frames,
    read_png,
)
from descent.player import read_players, referenced_urls, render_html
from descent.png import _first_unused

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


def segments(count: int, interval: int = INTERVAL) -> list[slice]:
    """The encoder's segments: `interval` frames each, a palette each."""
    return [slice(start, min(start + interval, count)) for start in range(0, count, interval)]


@pytest.fixture(scope="module")
def quantized(frames, encoded) -> np.ndarray:
    """What every composited frame must equal: each pixel's exact nearest colour in its
    segment's palette (read from the segment's keyframe, searched here by brute force), or
    the frame itself where the segment is stored lossless; and within MIN_PSNR of it."""
    shown = []
    for part in segments(COUNT):
        key = Image.open(io.BytesIO(encoded[part.start].png))
        if key.mode != "P":
            shown.append(frames[part])
            continue
        palette = np.asarray(key.getpalette(), np.int64).reshape(-1, 3)
        pixels = frames[part].reshape(-1, 1, 3).astype(np.int64)
        nearest = ((pixels - palette[None]) ** 2).sum(-1).argmin(-1)
        shown.append(palette[nearest].astype(np.uint8).reshape(frames[part].shape))
        assert min(map(psnr, frames[part], shown[-1])) >= MIN_PSNR
    return np.concatenate(shown)


def most_changed(frames: np.ndarray) -> list[int]:
    """The frames that change in more than DELTA_SKIP of their pixels: stored whole."""
    return [
        k
        for k in range(1, len(frames))
        if (frames[k] != frames[k - 1]).any(axis=-1).mean() > DELTA_SKIP
    ]


@pytest.fixture(scope="module")
def encoded(frames) -> list[Frame]:
    return encode_frames(frames, keyframe_interval=INTERVAL)


def rgba(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def composite(encoded: list[Frame], start: int, stop: int) -> np.ndarray:
    """Frames ``start … stop`` drawn one over the other as ``drawImage`` does: a keyframe
    covers everything, a delta's opaque pixels cover the canvas at its offset. RGB: these
    frames are opaque."""
    canvas = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    for frame in encoded[start : stop + 1]:
        if frame.png:
            pixels = rgba(frame.png)
            x, y = frame.offset or (0, 0)
            height, width = pixels.shape[:2]
            region = canvas[y : y + height, x : x + width]
            opaque = pixels[..., 3] == 255
            assert np.all(opaque | (pixels[..., 3] == 0)), "alpha is all or nothing"
            assert not frame.replace, "opaque frames: deltas are drawn over"
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
    decoded = decode_frames(encoded)
    assert np.array_equal(decoded[..., :3], quantized) and (decoded[..., 3] == 255).all()


def test_a_jump_composites_from_the_keyframe(encoded, quantized):
    """A jump (the slider) draws the frame's keyframe and the deltas after it, at most
    INTERVAL - 1 of them; the library's reference compositor agrees."""
    for k in range(COUNT):
        start = keyframe_of(encoded, k)
        assert k - start < INTERVAL
        assert np.array_equal(decode_frame(encoded, k)[..., :3], quantized[k]), f"frame {k}"


def test_keyframes_at_the_start_of_every_segment_and_where_most_pixels_changed(frames, encoded):
    keys = [k for k, frame in enumerate(encoded) if frame.is_key]
    skipped = most_changed(frames)
    assert NOISY in skipped and NOISY + 1 in skipped  # noise, then back to a plot
    assert {*range(0, COUNT, INTERVAL), *skipped} <= set(keys)
    assert not any(encoded[k].is_key for k in range(NOISY - 2, NOISY)), "deltas before"


def test_a_keyframe_where_a_delta_would_be_larger():
    """A few dots at random (30 % of the pixels), then none: frame 1 changes in fewer than
    DELTA_SKIP of the pixels, so a delta is tried, but it is the scattered dots, while the
    keyframe is a flat picture, far smaller: frame 1 is a keyframe."""
    dots = np.random.default_rng(4).random((HEIGHT, WIDTH)) < 0.3
    two = np.array([[250, 250, 250], [30, 90, 200]], np.uint8)[dots.astype(np.uint8)]
    frames = np.stack([two, np.full_like(two, 250), two])
    assert max(most_changed(frames), default=None) is None
    first, flat, again = encode_frames(frames)
    assert first.is_key and flat.is_key and len(flat.png) < len(first.png) / 4
    assert np.array_equal(decode_frames([first, flat, again])[..., :3], frames)


def test_an_unchanged_frame_is_an_empty_delta(encoded):
    assert encoded[SAME] == Frame(b"", (0, 0))
    assert all(frame.png for k, frame in enumerate(encoded) if k != SAME)


def test_keyframes_share_their_segments_palette_and_deltas_are_cropped_and_transparent(
    frames, encoded, quantized
):
    for part in segments(COUNT):
        key = Image.open(io.BytesIO(encoded[part.start].png))
        palette = np.asarray(key.getpalette(), np.uint8).reshape(-1, 3)
        assert len(palette) < PALETTE_SIZE
        shared = {tuple(colour) for colour in palette.tolist()}
        for k in range(part.start, part.stop):
            frame = encoded[k]
            if not frame.png:
                continue
            image = Image.open(io.BytesIO(frame.png))
            assert image.format == "PNG" and image.mode == "P"
            colours = np.asarray(image.getpalette(), np.uint8).reshape(-1, 3)
            if frame.is_key:
                assert image.size == (WIDTH, HEIGHT) and "transparency" not in image.info
                assert np.array_equal(colours, palette), "one palette for the segment"
                continue
            assert image.info["transparency"] == 0  # index 0: one byte of tRNS
            assert {tuple(c) for c in colours[1:].tolist()} <= shared
            changed = (quantized[k] != quantized[k - 1]).any(axis=-1)  # as shown
            rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
            assert frame.offset == (cols[0], rows[0]), f"frame {k}: the box starts at a change"
            assert image.size == (cols[-1] + 1 - cols[0], rows[-1] + 1 - rows[0]), f"frame {k}"
            opaque = rgba(frame.png)[..., 3] == 255
            assert np.array_equal(opaque, changed[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def test_keyframes_at_the_default_interval_and_where_most_pixels_changed(frames):
    """(These tiny frames change along a whole diagonal each step, so their deltas are not
    smaller than whole frames; tests/test_animation.py measures that on real plots.)"""
    keyframes_only = encode_frames(frames, keyframe_interval=1)
    assert all(frame.is_key for frame in keyframes_only)
    default = encode_frames(frames)
    keys = {k for k, frame in enumerate(default) if frame.is_key}
    assert {0, KEYFRAME_INTERVAL, *most_changed(frames)} <= keys


def test_same_frames_same_bytes(frames, encoded):
    again = encode_frames(frames.copy(), keyframe_interval=INTERVAL)
    assert again == encoded
    labels = [f"frame {k}" for k in range(COUNT)]
    first = render_html(encoded, size=(WIDTH, HEIGHT), alt="A test.", labels=labels)
    assert render_html(again, size=(WIDTH, HEIGHT), alt="A test.", labels=labels) == first


def test_the_html_holds_every_stored_frame_and_its_place(encoded):
    labels = [f"frame {k}" for k in range(COUNT)]
    page = render_html(encoded, size=(WIDTH, HEIGHT), alt="A test.", labels=labels, interval=70)
    soup = BeautifulSoup(page, "html.parser")  # an independent parser
    src = soup.select_one("img.descent-frame")["src"]
    assert base64.b64decode(src.removeprefix("data:image/png;base64,")) == encoded[0].png
    data = soup.select_one('script[type="application/json"].descent-data').string
    assert "<" not in data  # nothing can close the script
    (player,) = read_players(page)
    assert player.frames == encoded
    assert sum(f.is_key for f in player.frames) == sum(f.is_key for f in encoded) > 1
    assert (player.size, player.alt, player.labels) == ((WIDTH, HEIGHT), "A test.", labels)
    assert (player.slider_label, player.interval, player.source) == ("Step", 70, page)
    assert referenced_urls(page) == []


def test_texts_that_look_like_markup_stay_text(encoded):
    """An alt text or label holding ``</script>``, quotes or ``&`` cannot break the page: it is
    escaped in attributes and in the JSON block, and reads back unchanged."""
    alt = 'A "test" </script><script>alert(1)</script> & more.'
    labels = [f"<b>frame</b> {k} & '{k}'" for k in range(COUNT)]
    page = render_html(encoded, size=(WIDTH, HEIGHT), alt=alt, labels=labels, slider_label="<i>")
    soup = BeautifulSoup(page, "html.parser")
    assert [s.get("type") for s in soup.select("script")] == ["application/json", None]
    assert soup.select_one("img")["alt"] == f"{alt} Showing {labels[0]}."
    (player,) = read_players(page)
    assert (player.alt, player.labels, player.slider_label) == (alt, labels, "<i>")


def test_read_players_names_a_broken_player(encoded):
    page = render_html(encoded, size=(WIDTH, HEIGHT), alt="A test.", labels=["x"] * COUNT)
    assert len(read_players(page + "<p>between</p>" + page)) == 2
    with pytest.raises(ValueError, match="player 2"):
        read_players(page + page.replace('"at":[', '"at":[null,'))
    with pytest.raises(ValueError, match="player 1"):
        read_players(page.replace('class="descent-data"', 'class="other"'))
    with pytest.raises(TypeError, match="html"):
        read_players(page.encode())


def test_referenced_urls_finds_urls_not_letters_in_base64():
    fragment = (
        "<div style=\"background:url('https://cdn.example/b.png')\">"
        '<img src="data:image/png;base64,aHR0cDovL2h0dHA=" srcset="a.png 1x, //cdn.example/b 2x">'
        '<a href="#here">x</a><style>@import "https://fonts.example/f.css";</style>'
        '<script type="application/json">{"a": "https://not.loaded/x"}</script>'
        '<script>fetch("https://api.example/v1"); const t = "http is a word";</script></div>'
    )
    assert referenced_urls(fragment) == [
        "https://cdn.example/b.png",
        "a.png",
        "//cdn.example/b",
        "#here",
        "https://fonts.example/f.css",
        "https://api.example/v1",
    ]


def test_on_white_flattens_as_a_browser_shows_a_transparent_pixel():
    # c·α/255 + 255·(1 − α/255), rounded: 200·128/255 + 127 = 227.4, 100·128/255 + 127 = 177.2
    rgba = np.array([[[0, 0, 0, 0], [0, 0, 0, 255], [200, 100, 0, 128], [10, 20, 30, 1]]], np.uint8)
    assert on_white(rgba).tolist() == [
        [[255, 255, 255], [0, 0, 0], [227, 177, 127], [254, 254, 254]]
    ]
    with pytest.raises(ValueError, match="rgba"):
        on_white(rgba[..., :3])
    png = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(png, format="PNG")
    assert np.array_equal(read_png(png.getvalue()), rgba)


def test_render_html_needs_a_keyframe_first(encoded):
    delta = next(k for k, frame in enumerate(encoded) if not frame.is_key)
    with pytest.raises(ValueError, match="keyframe"):
        rest = encoded[delta:]
        render_html(rest, size=(WIDTH, HEIGHT), alt="A test.", labels=["x"] * len(rest))
    with pytest.raises(ValueError, match="label"):
        render_html(encoded, size=(WIDTH, HEIGHT), alt="A test.", labels=["x"])


def test_a_picture_no_palette_can_keep_is_stored_lossless():
    """Full-colour noise (thousands of colours): a palette would lose far more than MIN_PSNR,
    so the segment is stored as truecolour PNGs, exactly; a small change is a delta whose
    unchanged pixels carry the PNG's one transparent key colour (``tRNS``)."""
    rng = np.random.default_rng(5)
    first = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    second = first.copy()
    second[5:9, 10:20] = rng.integers(0, 256, (4, 10, 3), dtype=np.uint8)
    encoder = FrameEncoder()
    encoder.add(first)
    encoder.add(second)
    stored = encoder.close()
    assert encoder.lossless == [True, True] and encoder.psnr == [np.inf, np.inf]
    assert np.array_equal(decode_frames(stored)[..., :3], np.stack([first, second]))
    key, delta = (Image.open(io.BytesIO(frame.png)) for frame in stored)
    assert key.mode == "RGB" and delta.mode == "RGB" and "transparency" in delta.info
    assert delta.size == (10, 4) and stored[1].offset == (10, 5)


def test_player_style_keeps_every_rule_after_a_comment_of_several_lines():
    """A CSS comment over two lines once left its second line in the page, which broke the rule
    after it (the caption of a described animation lost its colours): comments go whole."""
    from descent.player.render import _compact

    css = "/* one\n   two */\n.a {\n  color: #111;\n}\n/* three */\n.b { margin: 0; }\n"
    assert _compact(css, "/*") == ".a {\ncolor: #111;\n}\n.b { margin: 0; }"
    assert _compact("// a\nconst x = 1; // kept\n", "//") == "const x = 1; // kept"


def test_a_panning_picture_is_stored_lossless_in_colour_keyed_deltas():
    """A picture of ~88 000 colours panning one pixel a frame on a white page: judged lossless
    on its busiest frame (``palette._MANY``); it changes in under DELTA_SKIP of the frame, so
    the frames after the first are deltas whose key colour is the least unused one (black,
    here unused). Composited, the frames are exact."""
    picture = np.random.default_rng(9).integers(1, 256, (300, 320, 3), dtype=np.uint8)
    frames = np.full((3, 400, 640, 3), 255, np.uint8)
    for k in range(3):
        frames[k, 50:350, 100:400] = picture[:, k : k + 300]
    changed = (frames[1] != frames[0]).any(-1)
    assert changed.mean() < DELTA_SKIP
    encoder = FrameEncoder()
    for frame in frames:
        encoder.add(frame)
    stored = encoder.close()
    assert encoder.lossless == [True] * 3 and [frame.is_key for frame in stored] == [1, 0, 0]
    assert np.array_equal(decode_frames(stored)[..., :3], frames)
    for frame in stored[1:]:
        image = Image.open(io.BytesIO(frame.png))
        assert image.mode == "RGB" and image.info["transparency"] == (0, 0, 0)


@pytest.mark.parametrize("used", [[], [0], [0, 1, 2, 4], [1, 0xFFFFFF], list(range(300))])
def test_a_colour_key_is_the_least_colour_no_kept_pixel_has(used):
    """The key colour of a delta's PNG, against a search of every colour in order."""
    rgb = np.array(used * 2, np.uint32)  # each colour twice
    expected = next(c for c in range(1 << 24) if c not in set(used))
    assert _first_unused(rgb) == expected
