"""Any matplotlib animation through our player (issue 16): the gallery of bench/gallery.py,
each against matplotlib's own frames of a fresh instance, and the seven faults found when
varied animations were first tried, each pinned at its right value.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.animation import FuncAnimation
from matplotlib.figure import Figure
from PIL import Image

import descent
from descent import JsAnimation
from descent.codec import MIN_PSNR, EmbedLimitError, FrameEncoder, decode_frames, on_white, psnr
from descent.player import read_players
from descent.player.notebook import MissingDescriptionWarning, player_html

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import gallery  # noqa: E402


def matplotlib_frames(page: str) -> list[np.ndarray]:
    """The frames of matplotlib's ``to_jshtml()`` page, flattened onto white."""
    found = re.findall(r'= "data:image/png;base64,([A-Za-z0-9+/=\\\n]+)"', page)
    pngs = [base64.b64decode(text.replace("\\\n", "")) for text in found]
    return [on_white(np.asarray(Image.open(io.BytesIO(p)).convert("RGBA"))) for p in pngs]


def played(page: str) -> np.ndarray:
    """What our player shows, frame after frame, flattened onto white ``(F, H, W, 3)``."""
    (player,) = read_players(page)
    return on_white(decode_frames(player.frames))


@pytest.mark.parametrize("name", sorted(gallery.GALLERY))
def test_every_gallery_animation_plays_as_matplotlib_saves_it(name):
    ours = JsAnimation.of(gallery.make(name, small=True), alt=f"The {name} animation.")
    page = ours.to_html()
    shown = played(page)
    reference = matplotlib_frames(gallery.make(name, small=True).to_jshtml())
    assert len(shown) == len(reference) == ours.frame_count
    worst = min(psnr(theirs, mine) for theirs, mine in zip(reference, shown, strict=True))
    assert worst >= MIN_PSNR, f"{name}: worst frame {worst:.1f} dB"
    assert worst == pytest.approx(min(ours.psnr), abs=0.5) or worst > 60


def growing_axis(layout: str) -> FuncAnimation:
    """An open pyplot figure (not closed: its canvas is a live Agg canvas) whose layout engine
    must make room for longer tick labels as the y axis grows (a newcomer's case)."""
    fig, ax = plt.subplots(figsize=(3, 2), dpi=60, layout=layout)
    (line,) = ax.plot([0, 1], [0, 1])
    ax.set_ylabel("y")

    def update(i: int) -> tuple:
        ax.set_ylim(0, 10**i)
        line.set_ydata([0, 10**i])
        return (line,)

    return FuncAnimation(fig, update, frames=4)


@pytest.mark.parametrize("layout", ["tight", "constrained"])
def test_a_layout_engine_lays_each_frame_out_as_matplotlib_does(layout):
    """matplotlib's idle draw after each frame (a full draw on an Agg canvas) runs the layout
    engine once more before ``savefig``; ours did nothing there, and frames trailed matplotlib's
    layout by one pass (19.7 dB under ``tight``). Exact now."""
    try:
        ours = JsAnimation.of(growing_axis(layout), alt="A y axis growing tenfold a frame.")
        shown = played(ours.to_html())
        reference = matplotlib_frames(growing_axis(layout).to_jshtml())
    finally:
        plt.close("all")
    assert len(shown) == len(reference) == 4
    assert [psnr(theirs, mine) for theirs, mine in zip(reference, shown, strict=True)] == [
        pytest.approx(p, abs=0.01) for p in ours.psnr
    ], "every frame as matplotlib saves it, but for the palette"
    assert min(ours.psnr) >= MIN_PSNR


# --- the seven faults of issue 16 ----------------------------------------------------------------


def test_the_photo_takes_the_lossless_path_and_its_frames_are_exact():
    """The gallery's photograph-like picture: no palette keeps it, every frame is stored
    lossless and shows exactly matplotlib's own frame."""
    ours = JsAnimation.of(gallery.make("photo", small=True), alt="A picture panning.")
    shown = played(ours.to_html())
    reference = matplotlib_frames(gallery.make("photo", small=True).to_jshtml())
    assert ours._rendered().lossless == [True] * ours.frame_count == [True] * len(reference)
    assert ours.psnr == [np.inf] * len(reference)
    assert np.array_equal(shown, np.stack(reference))


def test_fault_1_a_plain_line_frame_keeps_its_colours():
    """One frame of one straight line, matplotlib's default style: 37 dB before (Pillow's
    lookup tinted white to (250, 252, 253)); the exact nearest colour gives over 55 dB."""
    fig = mpl.figure.Figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    canvas = mpl.backends.backend_agg.FigureCanvasAgg(fig)
    canvas.draw()
    frame = np.asarray(canvas.buffer_rgba()).copy()
    encoder = FrameEncoder()
    encoder.add(frame)
    stored = decode_frames(encoder.close())[0]
    assert psnr(frame, stored) >= 55 and encoder.psnr == [pytest.approx(psnr(frame, stored))]
    white = (frame[..., :3] == 255).all(-1)
    assert (stored[white] == 255).all(), "white stays exactly white"


def test_fault_2_a_pyplot_figure_renders_twice():
    """``plt.close`` (matplotlib 3.11) replaces the canvas by a bare ``FigureCanvasBase``."""
    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)
    (curve,) = ax.plot([0, 1], [0, 1])
    plt.close(fig)
    first = JsAnimation.of(FuncAnimation(fig, lambda i: (curve,), frames=3), alt="One.")
    assert first.frame_count == 3 and first.to_html()
    canvas = fig.canvas
    second = JsAnimation.of(FuncAnimation(fig, lambda i: (curve,), frames=2), alt="Two.")
    assert second.frame_count == 2 and second.to_html()
    assert fig.canvas is canvas, "the figure's own canvas is put back"
    assert np.array_equal(first.rgb_frames[0], second.rgb_frames[0])


def test_fault_3_blitted_artists_are_drawn():
    """``blit=True`` marks the moving line ``animated``: matplotlib's writers draw it, so do we."""
    ours = JsAnimation.of(gallery.make("blitted", small=True), alt="Blitted.")
    shown = played(ours.to_html())
    green = np.array(mpl.colors.to_rgb("C2")) * 255
    for frame in shown:
        assert (np.abs(frame.astype(float) - green).sum(-1) < 100).sum() > 40, "the line is there"
    assert not np.array_equal(shown[0], shown[-1]), "and it moves"


def test_fault_4_a_stateful_update_is_called_once_per_frame():
    """Each call of the walk takes a step: drawn once (matplotlib's ``_init_draw`` call, then
    one per frame), and what was drawn is what is stored, compared and measured."""
    animation = gallery.make("stateful", small=True)
    ours = JsAnimation.of(animation, alt="A walk.")
    page = ours.to_html()
    frames = ours.frame_count
    assert animation.walk.calls == frames + 1
    reference, theirs = ours.rgb_frames, ours.default_jshtml()
    assert ours.psnr and animation.walk.calls == frames + 1, "nothing drawn again"
    assert np.array_equal(np.stack(matplotlib_frames(theirs)), reference)
    for drawn, shown in zip(reference, played(page), strict=True):
        assert psnr(drawn, shown) >= MIN_PSNR


@pytest.mark.parametrize("interval", [10.0, 12.5])
def test_fault_5_float_intervals_are_accepted(interval):
    fig = plt.figure(figsize=(1, 1), dpi=30)
    plt.close(fig)
    ours = JsAnimation.of(FuncAnimation(fig, lambda i: (), frames=2, interval=interval), alt="x")
    (player,) = read_players(ours.to_html())
    assert player.interval == interval and isinstance(player.interval, float) == (interval % 1 > 0)
    still = FuncAnimation(fig, lambda i: (), frames=2, interval=0)
    still._draw_was_started = True  # it is never drawn: no "deleted without rendering" warning
    with pytest.raises(ValueError, match="interval"):
        JsAnimation.of(still, alt="x")


def test_fault_6_a_transparent_figure_is_stored_with_its_alpha():
    ours = JsAnimation.of(gallery.make("transparent", small=True), alt="Transparent.")
    drawn = ours.rgba_frames
    (player,) = read_players(ours.to_html())
    stored = decode_frames(player.frames)
    assert (drawn[..., 3] == 0).mean() > 0.5, "the background is see-through"
    assert np.array_equal(stored[..., 3] == 0, drawn[..., 3] == 0), "see-through where drawn so"
    assert all(map(lambda a, b: psnr(a, b) >= MIN_PSNR, drawn, stored))
    assert any(f.replace for f in player.frames[1:]) or all(f.is_key for f in player.frames)


MEMORY_PROBE = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {bench!r})
    import gallery
    from descent import JsAnimation
    from measure import peak_rss  # not ru_maxrss: at least this test process's RSS on Linux
    animation = gallery.make("long")  # 300 frames of 640 x 480
    before = peak_rss()
    ours = JsAnimation.of(animation, alt="Long.")
    size = len(ours.to_html())
    grown = (peak_rss() - before) / 1024
    print(json.dumps({{"kb": grown, "frames": ours.frame_count, "size": ours.size}}))
    """
)


def test_fault_7_memory_is_bounded_by_a_few_frames():
    """Before: ~15 bytes per pixel per frame (+1.36 GB for these 300 frames). Now the peak
    grows by far less than 1 byte per pixel per frame: a few frames, compressed."""
    probe = MEMORY_PROBE.format(bench=str(ROOT / "bench"))
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=600
    )
    facts = json.loads(done.stdout.splitlines()[-1])
    assert facts["frames"] == 300 and facts["size"] == [640, 480]
    per_pixel_frame = facts["kb"] * 1024 / (300 * 640 * 480)
    assert per_pixel_frame < 1.0, f"{per_pixel_frame:.2f} B/px/frame"


# --- limits, formatter ----------------------------------------------------------------------------


def test_the_embed_limit_fails_loudly_naming_the_rc_parameter():
    with mpl.rc_context({"animation.embed_limit": 0.001}):  # MB
        ours = JsAnimation.of(gallery.make("scatter", small=True), alt="Too big.")
        with pytest.raises(EmbedLimitError, match=r"animation\.embed_limit"):
            ours.to_html()


def test_use_player_shows_a_described_animation_and_closes_its_figure():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert descent.use_player()
    animation = gallery.make("line", small=True)
    fig = animation._fig
    descent.describe(fig, alt="A sine wave travelling right.", caption="Figure 1: a wave.")
    data, _ = shell.display_formatter.format(animation)
    page = data["text/html"]
    (player,) = read_players(page)
    assert player.alt == "A sine wave travelling right." and len(player.frames) == 5
    assert "<figcaption>Figure 1: a wave.</figcaption>" in page
    assert shell.display_formatter.format(animation)[0]["text/html"] == page, "drawn once"
    assert plt.get_fignums() == []


def test_an_undescribed_animation_warns():
    animation = gallery.make("still", small=True)
    with pytest.warns(MissingDescriptionWarning, match="descent.describe"):
        page = player_html(animation)
    assert read_players(page)[0].alt
    with pytest.raises(ValueError, match="caption"):
        descent.describe(animation, alt="Still.", caption=" ")
    with pytest.raises(TypeError, match="target"):
        descent.describe("figure", alt="x", caption="y")


def test_describing_an_animation_after_it_was_shown_is_refused():
    """The player is drawn once, with the description it had then: a later describe() would
    be silently ignored, so it raises (and a str of labels is not one label per frame)."""
    animation = gallery.make("still", small=True)
    descent.describe(animation, alt="Still.", caption="Nothing moves.")
    assert read_players(player_html(animation))[0].alt == "Still."
    with pytest.raises(ValueError, match="already shown"):
        descent.describe(animation, alt="Another.", caption="Another caption.")
    with pytest.raises(TypeError, match="labels"):
        descent.describe(Figure(), alt="x", caption="y", labels="abc")


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"alt": ""}, ValueError, "alt"),
        ({"alt": "   "}, ValueError, "alt"),
        ({"alt": None}, TypeError, "alt"),
        ({"alt": 5}, TypeError, "alt"),
        ({"alt": "A line.", "labels": "abc"}, TypeError, "labels"),
        ({"alt": "A line.", "labels": 5}, TypeError, "labels"),
        ({"alt": "A line.", "caption": ""}, ValueError, "caption"),
        ({"alt": "A line.", "slider_label": None}, TypeError, "slider_label"),
    ],
)
def test_of_names_a_bad_description_before_drawing(kwargs, error, names):
    """A newcomer's inputs: an empty or non-str text, one str (split into one label per
    character) or an int as labels were accepted or crashed unnamed; now refused by name,
    before any frame is drawn — as describe() refuses them."""
    anim = gallery.make("line", small=True)
    calls = []
    anim._func = lambda *a, f=anim._func: calls.append(1) or f(*a)
    with pytest.raises(error, match=names):
        JsAnimation.of(anim, **kwargs)
    with pytest.raises(error, match=names):
        descent.describe(anim, **{"alt": "A line.", "caption": "A caption.", **kwargs})
    assert calls == []


def test_a_draw_animation_names_its_bad_draw_and_keys():
    fig = Figure()
    with pytest.raises(TypeError, match="draw"):
        JsAnimation(fig, None, [0, 1], labels=["a", "b"], alt="Two frames.")
    with pytest.raises(TypeError, match="keys"):
        JsAnimation(fig, print, (k for k in range(2)), labels=["a", "b"], alt="Two frames.")


def test_an_endless_animation_is_refused_before_drawing():
    """``frames=None`` without ``save_count`` saves forever in matplotlib (a newcomer's render
    ran for minutes): refused at once, naming frames; with ``save_count`` it plays."""
    fig, _ = plt.subplots(figsize=(2, 1.5), dpi=40)
    calls = []
    plt.close(fig)
    endless = FuncAnimation(fig, lambda i: calls.append(i) or (), frames=None)
    with pytest.raises(ValueError, match="frames"):
        JsAnimation.of(endless, alt="Nothing moves.").to_html()
    assert calls == []
    bounded = FuncAnimation(fig, lambda i: (), frames=None, save_count=3, cache_frame_data=False)
    assert JsAnimation.of(bounded, alt="Nothing moves.").frame_count == 3
