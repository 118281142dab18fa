"""The animations (`descent.animation`) and their HTML player (`descent.player`).

Animations here are small (3 × 2 in at 40 dpi, a dozen frames) so they render in well under a
second; what is checked does not depend on the size. The byte ratio against matplotlib's
``to_jshtml()`` is measured by the benchmark, not here.
"""

from __future__ import annotations

import base64
import io
import itertools
import re
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image

from descent import codec
from descent.animate import animate_line, animate_lr, animate_panels
from descent.animation import JsAnimation, frame_indices
from descent.codec import PALETTE_SIZE, decode_frame, decode_frames, encode_frames
from descent.data import linear_data
from descent.loss import critical_lr
from descent.player import read_players, referenced_urls
from descent.train import History, fit

SMALL = {"figsize": (3.0, 2.0), "dpi": 40}
A0 = (-1.0, 1.0)


@pytest.fixture(scope="module")
def data():
    return linear_data(n=30)


@pytest.fixture(scope="module")
def run(data):
    x, y = data
    return fit(x, y, A0, lr=0.3, steps=12)


@pytest.fixture(scope="module")
def anim(data, run) -> JsAnimation:
    x, y = data
    return animate_line(x, y, run, **SMALL)


@pytest.fixture(scope="module")
def page(anim) -> str:
    return anim.to_html()


def frames_of(html: str) -> list[bytes]:
    """The PNGs the one player in `html` holds, one per frame (keyframes and deltas, ``b""``
    for a frame equal to the one before)."""
    (player,) = read_players(html)
    return [frame.png for frame in player.frames]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images, in dB (inf if identical)."""
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


# --- frames ------------------------------------------------------------------------------------


@given(count=st.integers(1, 500), budget=st.integers(2, 200))
def test_frame_indices_keep_first_and_last_within_budget(count, budget):
    kept = frame_indices(count, budget)
    assert len(kept) == min(count, budget)
    assert kept[0] == 0 and kept[-1] == count - 1
    assert all(a < b for a, b in itertools.pairwise(kept))


def test_one_frame_per_step(anim, page, run):
    assert anim.frame_count == run.steps + 1 == len(frames_of(page))
    assert anim.labels[0] == "step 0 of 12" and anim.labels[-1] == "step 12 of 12"


def test_a_frame_budget_subsamples_keeping_the_ends(data, run):
    x, y = data
    thin = animate_line(x, y, run, max_frames=5, **SMALL)
    assert thin.frame_count == 5 == len(frames_of(thin.to_html()))
    assert thin.labels == [f"step {t} of 12" for t in (0, 3, 6, 9, 12)]


def test_frames_are_palette_pngs_close_to_the_render(anim, page):
    """What the player shows (keyframes and deltas composited) is close to the render, and
    exactly the quantized frames; the HTML holds exactly the encoded frames."""
    reference = anim.rgb_frames
    width, height = anim.size
    assert reference.shape == (anim.frame_count, height, width, 3)
    assert frames_of(page) == anim.png_frames
    first = Image.open(io.BytesIO(anim.png_frames[0]))
    assert first.format == "PNG" and first.mode == "P" and first.size == (width, height)
    assert len(first.getpalette()) // 3 < PALETTE_SIZE
    shown = decode_frames(anim.encoded_frames)
    assert (shown[..., 3] == 255).all()
    for decoded, rgb, measured in zip(shown[..., :3], reference, anim.psnr, strict=True):
        assert psnr(decoded, rgb) >= codec.MIN_PSNR  # what was measured is what is stored
        assert psnr(decoded, rgb) == pytest.approx(measured)
        assert np.abs(decoded.astype(int) - rgb).max() <= 64


def test_a_moving_line_is_stored_as_small_deltas(data):
    """Consecutive frames differ in a few pixels, so after the first keyframe each frame is
    a delta, cropped to what changed, and the whole is a fraction of full frames."""
    x, y = data
    long_run = fit(x, y, A0, lr=0.1, steps=30)
    moving = animate_line(x, y, long_run, **SMALL)
    frames = moving.encoded_frames
    keys = [k for k, frame in enumerate(frames) if frame.is_key]
    assert keys[0] == 0 and all(
        b - a <= codec.KEYFRAME_INTERVAL for a, b in itertools.pairwise(keys)
    )
    assert len(keys) <= 3
    width, height = moving.size
    for frame in frames:
        image = Image.open(io.BytesIO(frame.png))
        assert image.mode == "P"
        if not frame.is_key:
            assert image.info["transparency"] == 0 and image.size < (width, height)
    whole = sum(len(f.png) for f in encode_frames(moving.rgb_frames, keyframe_interval=1))
    assert sum(len(f.png) for f in frames) < 0.5 * whole
    for k in (1, 13, 30):  # a jump composites from the keyframe: the same picture
        assert np.array_equal(decode_frame(frames, k), decode_frames(frames)[k])


# --- the HTML ----------------------------------------------------------------------------------


def test_same_inputs_give_identical_bytes(data, run, page):
    x, y = data
    assert animate_line(x, y, run, **SMALL).to_html() == page


def test_the_content_id_is_a_hash_of_the_content(data, run, anim, page):
    x, y = data
    root = BeautifulSoup(page, "html.parser").select_one("div.descent-anim")
    assert root["data-content-id"] == anim.content_id == read_players(page)[0].content_id
    assert re.fullmatch(r"descent-anim-[0-9a-f]{12}", anim.content_id)
    other = animate_line(x, y, fit(x, y, A0, lr=0.2, steps=12), **SMALL)
    assert other.content_id != anim.content_id


def test_one_animation_twice_on_a_page_gives_no_duplicate_id(anim, page):
    """Issue 12 item 7: the player has no element id, so showing an animation twice (two
    cells, or ``display`` twice) gives valid HTML with no help from the author."""
    twice = BeautifulSoup(
        f"<main>{anim._repr_html_()}<p>text</p>{anim.to_html()}</main>", "html.parser"
    )
    assert len(twice.select("div.descent-anim")) == 2
    assert [tag["id"] for tag in twice.find_all(id=True)] == []
    assert not twice.select("[for], [aria-labelledby], [aria-describedby], [aria-controls]")
    assert twice.select_one("input.descent-slider").find_parent("label") is not None


def test_alt_text_and_control_names(anim, page):
    soup = BeautifulSoup(page, "html.parser")
    image = soup.select_one("img.descent-frame")
    assert image["alt"].startswith(anim.alt) and "step 0 of 12" in image["alt"]
    assert "fitting a line to 30 data points" in anim.alt
    slider = soup.select_one("input.descent-slider")
    assert slider.find_parent("label").get_text(strip=True) == "Step"
    assert (slider["min"], slider["max"], slider["aria-valuetext"]) == ("0", "12", "step 0 of 12")
    buttons = soup.select(".descent-controls button")
    names = [b["aria-label"] for b in buttons]
    assert names == ["First frame", "Previous frame", "Play", "Pause", "Next frame", "Last frame"]
    assert all(b["type"] == "button" and b.select_one("svg[aria-hidden=true]") for b in buttons)
    assert soup.select_one(".descent-counter").get_text() == "step 0 of 12"


def test_nothing_from_another_host(page):
    assert referenced_urls(page) == []
    soup = BeautifulSoup(page, "html.parser")
    assert not soup.select("link, iframe, [href]")
    assert all(tag["src"].startswith("data:image/png;base64,") for tag in soup.select("[src]"))
    assert "url(" not in page and "@import" not in page


def test_never_plays_by_itself(page):
    script = BeautifulSoup(page, "html.parser").select_one("script:not([type])").get_text()
    assert script.count("setInterval(") == 1 and "play.onclick" in script  # only on Play


# --- figures -----------------------------------------------------------------------------------


def test_no_figure_is_left_open(data, run):
    x, y = data
    before = plt.get_fignums()
    animate_panels(x, y, run, max_frames=3, **SMALL).to_html()
    assert plt.get_fignums() == before


def test_a_pyplot_figure_is_closed_after_rendering():
    fig, ax = plt.subplots(figsize=(2, 1), dpi=30)
    (line,) = ax.plot([0, 1], [0, 0])
    anim = JsAnimation(
        fig,
        lambda k: line.set_ydata([0, k]),
        [0, 1, 2],
        labels=["a", "b", "c"],
        alt="A line tilting.",
    )
    assert fig.number in plt.get_fignums()
    assert anim.frame_count == 3 and len(frames_of(anim.to_html())) == 3
    assert fig.number not in plt.get_fignums()


def test_frames_are_encoded_in_order_beside_the_drawing():
    """Frames are encoded on a worker thread while the next ones are drawn: the same bytes as
    encoding them one after another on the caller's thread."""
    fig = Figure(figsize=(2, 1), dpi=30)
    (line,) = fig.add_subplot().plot([0, 30], [0, 0])
    anim = JsAnimation(
        fig,
        lambda k: line.set_ydata([0, k]),
        list(range(30)),
        labels=[str(k) for k in range(30)],
        alt="A line tilting.",
    )
    assert anim.encoded_frames == encode_frames(anim.rgba_frames)


def test_an_encoding_error_stops_the_drawing_and_is_raised():
    """The encoder's EmbedLimitError, raised on its thread, reaches the caller, and stops
    the drawing a few frames after it (at the first segment of 20 frames, not at 60)."""
    calls = []
    fig = Figure(figsize=(2, 1), dpi=30)
    (line,) = fig.add_subplot().plot([0, 60], [0, 0])

    def update(i):
        calls.append(i)
        line.set_ydata([0, i])
        return (line,)

    with mpl.rc_context({"animation.embed_limit": 1e-4}):  # MB: ~100 bytes
        ours = JsAnimation.of(FuncAnimation(fig, update, frames=range(60)), alt="Too big.")
    with pytest.raises(codec.EmbedLimitError, match=r"animation\.embed_limit"):
        ours.to_html()
    assert codec.KEYFRAME_INTERVAL <= len(calls) < 40


def test_save_html_writes_a_standalone_page(anim, page, tmp_path):
    path = anim.save_html(tmp_path / "player.html", title="A line <fit>")
    soup = BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")
    assert soup.html["lang"] == "en" and soup.title.get_text() == "A line <fit>"
    assert str(soup.select_one("div.descent-anim")) == str(BeautifulSoup(page, "html.parser"))


def test_default_jshtml_renders_the_same_frames(data):
    x, y = data
    odd = animate_lr(x, y, A0, [0.1, 0.5], 3, figsize=(3.0, 2.1), dpi=45)  # 135 × 94.5 px
    width, height = odd.size
    assert width % 2 == height % 2 == 0  # rounded as matplotlib's writers would round it
    default = odd.default_jshtml()
    payloads = re.findall(r"data:image/png;base64,([^\"]+)", default)
    assert len(payloads) == odd.frame_count and "<img" in default
    first = Image.open(io.BytesIO(base64.b64decode(payloads[0].replace("\\\n", ""))))
    assert np.array_equal(np.asarray(first.convert("RGB")), odd.rgb_frames[0])
    assert odd.size == (width, height)


def default_frame_count(html: str) -> int:
    """How many frames matplotlib's player holds: its ``frames[k] = "data:…"`` lines."""
    return len(re.findall(r'^\s*frames\[\d+\] = "data:image/png;base64,', html, re.M))


def test_default_jshtml_keeps_every_frame_past_the_embed_limit(data):
    """matplotlib stops adding frames at ``animation.embed_limit`` and only logs a warning;
    default_jshtml must still hold all 41 frames (0.3 MB fell at 19 of them)."""
    x, y = data
    long_run = fit(x, y, A0, lr=0.1, steps=40)
    anim = animate_line(x, y, long_run, max_frames=41, dpi=60)
    assert anim.frame_count == 41
    with mpl.rc_context({"animation.embed_limit": 0.3}):
        html = anim.default_jshtml()
        assert mpl.rcParams["animation.embed_limit"] == 0.3, "the caller's setting is kept"
    assert len(html.encode()) > 0.3 * 1024**2, "past the limit, so the limit was in play"
    assert default_frame_count(html) == 41


def test_default_jshtml_frames_do_not_depend_on_savefig_settings(data, run):
    """A caller's ``savefig.facecolor`` would recolour matplotlib's PNGs behind the axes."""
    x, y = data
    anim = animate_line(x, y, run, max_frames=2, **SMALL)
    with mpl.rc_context({"savefig.facecolor": "red"}):
        default = anim.default_jshtml()
    payload = re.search(r"data:image/png;base64,([^\"]+)", default).group(1)
    first = Image.open(io.BytesIO(base64.b64decode(payload.replace("\\\n", ""))))
    assert np.array_equal(np.asarray(first.convert("RGB")), anim.rgb_frames[0])


def test_frames_do_not_depend_on_the_rcparams_when_shown(data, run):
    """Frames are drawn lazily, when shown: they use the rcParams of when the animation was
    made (tick labels, made on the first draw, used to take the ones in force when shown)."""
    x, y = data
    made_with = {"xtick.labelsize": 16, "ytick.color": "red", "axes.unicode_minus": False}
    with mpl.rc_context(made_with):
        shown_later = animate_panels(x, y, run, max_frames=2, **SMALL)
        reference = animate_panels(x, y, run, max_frames=2, **SMALL).rgb_frames
    before = dict(mpl.rcParams)
    assert np.array_equal(shown_later.rgb_frames, reference)
    assert dict(mpl.rcParams) == before, "the caller's rcParams are left as they were"
    plain = animate_panels(x, y, run, max_frames=2, **SMALL).rgb_frames
    assert not np.array_equal(plain, reference), "the settings do show in the frames"


@pytest.mark.parametrize("builder", [animate_line, animate_panels])
def test_every_frame_is_drawn_once(data, run, builder, monkeypatch):
    """One figure draw to lay out the first frame, then one per frame: a frozen layout has no
    layout engine left, so ``savefig`` does not draw each frame a second time to lay it out
    (a placeholder engine made it; the cold build spent a third of its animation time so)."""
    from matplotlib.figure import Figure

    x, y = data
    anim = builder(x, y, run, max_frames=6, **SMALL)
    draws = []
    original = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda fig, r: draws.append(fig) or original(fig, r))
    assert anim.frame_count == 6 and len(anim.encoded_frames) == 6
    assert len(draws) == 1 + 6
    assert anim.figure.get_layout_engine() is None, "the layout stays frozen after rendering"


@pytest.mark.parametrize("builder", [animate_line, animate_panels, animate_lr])
def test_titles_and_axis_labels_kept_in_place_give_the_same_frames(data, run, builder, monkeypatch):
    """Titles and axis labels stay where the first frame placed them (matplotlib would place
    them again on every draw): every frame is the same, pixel for pixel, as when they are."""
    from descent import animation

    x, y = data
    make = {
        animate_lr: lambda: animate_lr(x, y, A0, [0.1, 0.5, 1.0, 3.0], 6, **SMALL),
        animate_line: lambda: animate_line(x, y, run, **SMALL),
        animate_panels: lambda: animate_panels(x, y, run, **SMALL),
    }[builder]
    kept = make()
    frozen = kept.rgba_frames
    assert all(not ax._autotitlepos for ax in kept.figure.axes), "titles kept in place"
    monkeypatch.setattr(animation, "_freeze_placement", lambda figure: None)
    placed_each_time = make()
    assert np.array_equal(frozen, placed_each_time.rgba_frames)
    assert all(ax._autotitlepos is not False for ax in placed_each_time.figure.axes)


@pytest.mark.parametrize("builder", [animate_line, animate_panels])
def test_a_history_that_requires_grad_is_animated_by_its_values(data, builder):
    """A reader's own record of a loop, without .detach(), animates exactly like the detached
    record (it used to fail inside torch: "Can't call numpy() on Tensor that requires grad")."""
    x, y = data
    detached = fit(x, y, A0, lr=0.3, steps=3)
    params = detached.params.clone().requires_grad_()
    losses = detached.losses.clone().requires_grad_()
    recorded = History(params * 1.0, losses * 1.0, False, 0.3, None)
    mine = builder(x, y, recorded, **SMALL)
    assert np.array_equal(mine.rgb_frames, builder(x, y, detached, **SMALL).rgb_frames)


# --- the three builders ------------------------------------------------------------------------


def test_animate_panels_has_three_panels(data, run):
    x, y = data
    panels = animate_panels(x, y, run, max_frames=4, **SMALL)
    assert len(panels.figure.axes) == 3 and panels.frame_count == 4
    assert panels.alt.startswith("Three panels.") and "log scale" in panels.alt
    assert len(frames_of(panels.to_html())) == 4


def test_animate_lr_has_one_frame_per_learning_rate(data):
    x, y = data
    critical = critical_lr(x)
    lrs = [0.2 * critical, 0.6 * critical, 1.4 * critical]
    explorer = animate_lr(x, y, A0, lrs, 10, **SMALL)
    assert explorer.frame_count == 3 and explorer.slider_label == "Learning rate"
    assert [label.endswith("diverged") for label in explorer.labels] == [False, False, True]
    assert f"{critical:.3g}" in explorer.alt and "diverge" in explorer.alt
    # the run behind each frame, kept: the very run fit() gives at that rate
    assert [run.lr for run in explorer.runs] == lrs
    for run, lr in zip(explorer.runs, lrs, strict=True):
        again = fit(x, y, A0, lr=lr, steps=10)
        assert torch.equal(run.params, again.params) and run.diverged == again.diverged
    html = explorer.to_html()
    assert len(frames_of(html)) == 3
    label = BeautifulSoup(html, "html.parser").select_one("label.descent-slider-label")
    assert label.get_text(strip=True) == "Learning rate"
    thinned = animate_lr(x, y, A0, np.linspace(0.1, 0.5, 9), 5, max_frames=3, **SMALL)
    assert thinned.labels[-1].startswith("lr = 0.5 (3 of 3)")
    assert [run.lr for run in thinned.runs] == pytest.approx([0.1, 0.3, 0.5])


BAD_CALLS = [  # (error, the argument it must name, the call)
    (TypeError, "history", lambda x, y, run: animate_line(x, y, "run")),
    (ValueError, "y", lambda x, y, run: animate_line(x, y[:-2], run)),
    (ValueError, "max_frames", lambda x, y, run: animate_line(x, y, run, max_frames=1)),
    (TypeError, "max_frames", lambda x, y, run: animate_panels(x, y, run, max_frames=2.5)),
    (ValueError, "interval", lambda x, y, run: animate_line(x, y, run, interval=0)),
    (ValueError, "figsize", lambda x, y, run: animate_line(x, y, run, figsize=(0, 2))),
    (ValueError, "dpi", lambda x, y, run: animate_line(x, y, run, dpi=-5)),
    (ValueError, "lrs", lambda x, y, run: animate_lr(x, y, A0, [0.3, 0.1], 5)),
    (ValueError, "steps", lambda x, y, run: animate_lr(x, y, A0, [0.1], -2)),
    (ValueError, "a0", lambda x, y, run: animate_lr(x, y, (1.0,), [0.1], 2)),
]


@pytest.mark.parametrize(("error", "name", "call"), BAD_CALLS)
def test_bad_input_raises_naming_the_argument(error, name, call, data, run):
    x, y = data
    with pytest.raises(error, match=rf"(?<![\w\[]){re.escape(name)}(?![\w\[])"):
        call(x, y, run)


# --- in a browser ------------------------------------------------------------------------------


@pytest.mark.browser
def test_play_and_pause_in_a_browser(anim, data, run, tmp_path, browser):
    from axe_playwright_python.sync_playwright import Axe

    x, y = data
    second_player = animate_line(x, y, run, max_frames=4, **SMALL).to_html()
    page_path = tmp_path / "animation.html"
    page_path.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Two players</title>'
        f"</head><body><main><h1>Two players</h1>{anim.to_html()}{second_player}</main>"
        "</body></html>",
        encoding="utf-8",
    )
    context = browser.new_context()
    try:
        tab = context.new_page()
        requests, errors = [], []
        tab.on("request", lambda r: requests.append(r.url))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(page_path.as_uri())
        first, second = tab.locator(".descent-anim").all()
        frame = lambda root: int(root.get_attribute("data-frame"))  # noqa: E731
        assert frame(first) == 0 and first.locator(".descent-controls").is_visible()
        violations = Axe().run(tab).response["violations"]
        assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []

        first.locator(".descent-play").click()
        tab.wait_for_function(
            "el => Number(el.dataset.frame) >= 3", arg=first.element_handle(), timeout=5000
        )
        first.locator(".descent-pause").click()
        stopped = frame(first)
        tab.wait_for_timeout(4 * anim.interval)
        assert frame(first) == stopped
        assert frame(second) == 0  # the other player did not move
        image = first.locator(".descent-frame")
        assert image.get_attribute("alt").endswith(f"Showing step {stopped} of 12.")

        first.locator(".descent-last").click()
        first.locator(".descent-next").click()  # loops to the start
        assert frame(first) == 0
        # nothing from the network: the page, data: URIs, and blob: URLs (the filmstrip's
        # pictures, which the player encodes from its own canvas)
        assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []
        assert errors == []
    finally:
        context.close()
