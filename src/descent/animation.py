"""Animations of gradient descent, shown in a notebook by our own player (`descent.player`).

Three builders, each returning a :class:`JsAnimation`:

- :func:`animate_line` — the notes' animation: the data in orange and the line moving to
  them, one frame per step;
- :func:`animate_panels` — the same run in three synchronised panels: the line, the path on
  the loss surface, and the loss so far;
- :func:`animate_lr` — a learning-rate explorer: one frame per learning rate, each showing
  where `steps` steps at that rate end up, so the player's slider is an lr slider.

A `JsAnimation` is a figure plus a function that draws frame `key` on it, or any matplotlib
``Animation`` (:meth:`JsAnimation.of`; ``descent.use_player()`` shows every animation a
notebook displays that way). Nothing is drawn until it is first shown (``_repr_html_``) or
asked for; then every frame is drawn once, by matplotlib's own ``Animation.save`` into our
movie writer (:mod:`descent.player.grab`), encoded as it comes (:mod:`descent.codec`), and the
figure is closed, so a notebook shows the player and never the static figure beside it.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import Animation, FuncAnimation, adjusted_figsize
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from ._checks import (
    ArrayLike,
    PairLike,
    as_pair,
    check_float,
    check_history,
    check_int,
    check_lrs,
    check_steps,
    check_xy,
)
from .codec import Frame, on_white
from .loss import critical_lr
from .player import content_id, render_html, standalone_page
from .player.grab import Rendering, matplotlib_jshtml, render
from .player.render import check_interval
from .plots import data_ylim, describe_line, plot_contour, plot_data, plot_line, plot_loss
from .style import BLACK, LINE_COLOR, VERMILION
from .train import History, fit

__all__ = ["JsAnimation", "animate_line", "animate_lr", "animate_panels", "frame_indices"]

T = TypeVar("T")


def _in_own_rc(method: Callable[..., T]) -> Callable[..., T]:
    """Run a `JsAnimation` method under the rcParams that were active when it was made.

    Frames are rendered lazily, and matplotlib reads some rcParams only when it draws (tick
    labels, for one, are made on the first draw): without this, the frames would depend on
    the rcParams in force whenever the animation happens to be shown.
    """

    @functools.wraps(method)
    def in_own_rc(self: JsAnimation, *args: Any, **kwargs: Any) -> T:
        with mpl.rc_context(self._rc):
            return method(self, *args, **kwargs)

    return in_own_rc


class JsAnimation:
    """An animation played by our player: ``draw(key)`` puts frame `key` on `figure`, for each
    key in `keys` (or any matplotlib ``Animation``, by :meth:`JsAnimation.of`).

    labels: one short name per frame (``"step 12 of 100"``), read out as the frame changes.
    alt: a text alternative describing the whole animation; caption: shown under the player
    (in a ``<figure>``), or None.
    slider_label: what the slider moves through (``"Step"``, ``"Learning rate"``).
    interval: milliseconds per frame while playing, a number > 0 (``20`` or ``12.5``).

    Nothing is drawn until the animation is first shown or asked for; then every frame is
    drawn once, as matplotlib's movie writers draw it (`descent.player.grab`), and encoded
    as it comes. The layout of `draw` animations is computed on the first frame and then
    frozen, so nothing jumps. The frames are drawn under the
    rcParams in force when the animation was made, whenever it is shown.
    """

    def __init__(
        self,
        figure: Figure,
        draw: Callable[[Any], object],
        keys: Sequence[Hashable],
        *,
        labels: Sequence[str],
        alt: str,
        slider_label: str = "Step",
        interval: float = 100,
        caption: str | None = None,
    ) -> None:
        if not isinstance(figure, Figure):
            raise TypeError(f"figure must be a matplotlib Figure, got {type(figure).__name__}")
        if len(keys) == 0 or len(labels) != len(keys):
            raise ValueError(
                f"need at least one frame and one label per frame, got "
                f"{len(keys)} keys and {len(labels)} labels"
            )
        self.figure, self.draw, self.keys = figure, draw, list(keys)
        self._labels: list[str] | None = [str(label) for label in labels]
        self._describe(alt, slider_label, interval, caption)
        if not isinstance(figure.canvas, FigureCanvasAgg):
            FigureCanvasAgg(figure)
        self._animation: Animation | None = None
        self._rendering: Rendering | None = None
        self._layout_frozen = False
        self._rc = {key: value for key, value in mpl.rcParams.items() if key != "backend"}

    @classmethod
    def of(
        cls,
        animation: Animation,
        *,
        alt: str,
        labels: Sequence[str] | None = None,
        slider_label: str = "Frame",
        caption: str | None = None,
    ) -> JsAnimation:
        """Any matplotlib ``Animation`` (a ``FuncAnimation`` with its ``frames``, ``fargs``,
        ``init_func``, ``save_count``, ``blit`` and ``interval``, or an ``ArtistAnimation``)
        played by our player. `labels` (one per frame) default to ``"frame k of N"``.

        Its frames are drawn once, when first needed. Raises TypeError for anything else.
        """
        if not isinstance(animation, Animation):
            raise TypeError(
                f"animation must be a matplotlib Animation, got {type(animation).__name__}"
            )
        self = cls.__new__(cls)
        self.figure, self.draw, self.keys = animation._fig, None, None
        self._labels = None if labels is None else [str(label) for label in labels]
        self._describe(alt, slider_label, getattr(animation, "_interval", 200), caption)
        self._animation, self._rendering, self._layout_frozen = animation, None, True
        self._rc = {key: value for key, value in mpl.rcParams.items() if key != "backend"}
        return self

    def _describe(self, alt: str, slider_label: str, interval: float, caption: str | None) -> None:
        self.alt, self.slider_label = str(alt), str(slider_label)
        self.interval = check_interval(interval)
        self.caption = None if caption is None else str(caption)

    def _freeze_layout(self) -> tuple:
        """Lay the figure out for the first frame and keep that layout for all frames (the
        ``init_func`` of the animation of a `draw`: so `draw` runs once per frame)."""
        if not self._layout_frozen:
            self.draw(self.keys[0])
            self.figure.canvas.draw()
            self.figure.set_layout_engine("none")
            self._layout_frozen = True
        return ()

    @_in_own_rc
    def _rendered(self) -> Rendering:
        """Every frame, drawn once (on first use) and stored."""
        if self._rendering is None:
            animation = self._animation or FuncAnimation(
                self.figure,
                self.draw,
                frames=self.keys,
                init_func=self._freeze_layout,
                interval=self.interval,
                repeat=True,
                cache_frame_data=False,
            )
            self._rendering = render(animation)
            if self._labels is not None and len(self._labels) != len(self._rendering.frames):
                raise ValueError(
                    f"labels: {len(self._labels)} given, for {len(self._rendering.frames)} frames"
                )
            plt.close(self.figure)  # a no-op unless the figure came from pyplot
        return self._rendering

    @property
    def frame_count(self) -> int:
        """How many frames the animation has."""
        return len(self.keys) if self.keys is not None else len(self._rendered().frames)

    @property
    def labels(self) -> list[str]:
        """One name per frame, read out as it is shown."""
        if self._labels is None:
            count = self.frame_count
            return [f"frame {k + 1} of {count}" for k in range(count)]
        return self._labels

    @property
    def size(self) -> tuple[int, int]:
        """Frame size in pixels, ``(width, height)``."""
        if self._rendering is not None:
            return self._rendering.size
        width, height = self.figure.canvas.get_width_height(physical=True)
        return width, height

    @property
    def rgba_frames(self) -> np.ndarray:
        """Every frame as it was drawn (once), RGBA ``(F, H, W, 4)`` uint8, read back from the
        spool; transparency kept. The array is large, so it is not kept."""
        return np.stack(list(self._rendered().spool))

    @property
    def rgb_frames(self) -> np.ndarray:
        """Every frame as it was drawn, flattened onto white, uint8 ``(F, H, W, 3)``: the
        reference the stored frames are compared with (never drawn again)."""
        return np.stack([on_white(frame) for frame in self._rendered().spool])

    @property
    def encoded_frames(self) -> list[Frame]:
        """Every frame as stored in the HTML, a keyframe or a delta (see `descent.codec`)."""
        return self._rendered().frames

    @property
    def psnr(self) -> list[float]:
        """Per frame, the PSNR (dB) of the stored frame against the drawn one, both flattened
        onto white; ``inf`` where it is exact (all its colours kept, or stored lossless)."""
        return list(self._rendered().psnr)

    @property
    def png_frames(self) -> list[bytes]:
        """The PNG of every stored frame, as embedded in the HTML. Keyframes (the first among
        them) hold a whole frame, deltas what changed (``b""`` if nothing did)."""
        return [frame.png for frame in self.encoded_frames]

    def to_html(self) -> str:
        """The player as a self-contained HTML fragment (identical bytes for identical frames),
        inside a ``<figure>`` with a ``<figcaption>`` if the animation has a caption.

        It has no element id, so the same animation can be shown twice on one page.
        """
        player = render_html(
            self.encoded_frames,
            size=self.size,
            alt=self.alt,
            labels=self.labels,
            slider_label=self.slider_label,
            interval=self.interval,
        )
        if self.caption is None:
            return player
        caption = html.escape(self.caption, quote=False)
        return (
            f'<figure class="descent-figure">\n{player}\n<figcaption>{caption}</figcaption>'
            "\n</figure>"
        )

    def _repr_html_(self) -> str:
        """What Jupyter shows: the player."""
        return self.to_html()

    @property
    def content_id(self) -> str:
        """The animation's name, a hash of its content (the player's ``data-content-id``)."""
        return content_id(
            self.encoded_frames, self.alt, self.slider_label, str(self.interval), *self.labels
        )

    def save_html(self, path: str, *, title: str = "Animation") -> str:
        """Write a minimal standalone page holding the player to `path` (a str or a
        ``pathlib.Path``); returns the path as a str."""
        Path(path).write_text(standalone_page(self.to_html(), title), encoding="utf-8")
        return str(path)

    def default_jshtml(self) -> str:
        """The same animation as matplotlib's own ``to_jshtml()`` (for comparison), built from
        the very frames drawn for our player (nothing is drawn again): matplotlib's
        ``HTMLWriter`` and RGBA PNG frames, the same interval, and every one of the
        `frame_count` frames (matplotlib's ``animation.embed_limit``, past which it silently
        drops frames, is lifted). Raises RuntimeError if the HTML holds another number.
        """
        page = matplotlib_jshtml(self._rendered(), self.interval)
        embedded = page.count('= "data:image/png;base64,')
        if embedded != self.frame_count:
            raise RuntimeError(
                f"matplotlib's to_jshtml() embedded {embedded} of {self.frame_count} frames"
            )
        return page

    def __repr__(self) -> str:
        if self._rendering is None and self.keys is None:
            return "<JsAnimation: not rendered yet>"
        width, height = self.size
        return f"<JsAnimation: {self.frame_count} frames of {width}×{height} px>"


def frame_indices(count: int, max_frames: int) -> list[int]:
    """Which of `count` frames to keep under a budget of `max_frames` (≥ 2).

    All of them if they fit; else `max_frames` evenly spaced indices, always including the
    first (0) and the last (count − 1). Increasing, without repeats.
    """
    count = check_int(count, "count", low=1)
    max_frames = check_int(max_frames, "max_frames", low=2)
    if count <= max_frames:
        return list(range(count))
    spacing = (count - 1) / (max_frames - 1)  # > 1, so rounding never repeats an index
    return [math.floor(k * spacing + 0.5) for k in range(max_frames)]


def _new_figure(figsize: PairLike | None, dpi: float | None, height_ratio: float) -> Figure:
    """A figure outside pyplot, drawn by Agg, laid out by constrained layout.

    Default size: the style's figure width, and `height_ratio` times that as height. The size
    is rounded to whole, even pixels, as matplotlib's movie writers (``to_jshtml`` too) round
    it, so that :meth:`JsAnimation.default_jshtml` renders exactly the same frames.
    """
    if figsize is None:
        width = mpl.rcParams["figure.figsize"][0]
        figsize = (width, height_ratio * width)
    width, height = as_pair(figsize, "figsize").tolist()
    if min(width, height) <= 0:
        raise ValueError(f"figsize must be two numbers > 0 (inches), got {figsize!r}")
    dpi = mpl.rcParams["figure.dpi"] if dpi is None else check_float(dpi, "dpi", positive=True)
    pixels = (round(width * dpi) / dpi, round(height * dpi) / dpi)
    figure = Figure(figsize=adjusted_figsize(*pixels, dpi, 2), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _describe_run(n: int, history: History, frames: int) -> str:
    """The text alternative of an animation of `history` on `n` points, in `frames` frames."""
    p, losses = history.params, history.losses.tolist()
    pace = (
        "one frame per step"
        if frames == len(p)
        else f"{frames} frames evenly spread over the steps"
    )
    batch = "" if history.batch_size is None else f", batches of {history.batch_size}"
    text = (
        f"Gradient descent fitting a line to {n} data points, {history.steps} steps at "
        f"lr = {history.lr:g}{batch}, {pace}. The line starts at {describe_line(p[0])} and "
        f"ends at {describe_line(p[-1])}; the MSE goes from {losses[0]:.3g} to "
        f"{losses[-1]:.3g}."
    )
    return text + (" The run diverged." if history.diverged else "")


def _step_labels(history: History, keys: Sequence[int]) -> list[str]:
    """``"step t of T"`` for each kept row t."""
    return [f"step {t} of {history.steps}" for t in keys]


def animate_line(
    x: ArrayLike,
    y: ArrayLike,
    history: History,
    *,
    max_frames: int = 100,
    interval: float = 50,
    figsize: PairLike | None = None,
    dpi: float | None = None,
) -> JsAnimation:
    """The notes' animation: the data (orange) and the line ``x @ a_t`` moving, step by step.

    x: (n, 2), y: (n,), history: the run (T rows). One frame per row t = 0 … T−1, or
    `max_frames` of them evenly spread (the first and last always kept). The title gives the
    step, the line and its MSE. `interval` is ms per frame while playing.
    """
    x, y = check_xy(x, y)
    history = check_history(history)
    keys = frame_indices(len(history.params), max_frames)
    figure = _new_figure(figsize, dpi, height_ratio=4 / 7)
    ax = figure.add_subplot()
    plot_data(ax, x, y)
    line = plot_line(ax, x, history.params[0])
    ax.set_ylim(data_ylim(y))
    ends, params, losses = line.get_xdata(), history.params.double().numpy(), history.losses

    def draw(t: int) -> None:
        line.set_ydata(params[t, 0] * ends + params[t, 1])
        ax.set_title(
            f"step {t} of {history.steps}:   {describe_line(params[t])},   "
            f"MSE {float(losses[t]):.3g}"
        )

    return JsAnimation(
        figure,
        draw,
        keys,
        labels=_step_labels(history, keys),
        alt=_describe_run(len(x), history, len(keys)),
        interval=interval,
    )


def animate_panels(
    x: ArrayLike,
    y: ArrayLike,
    history: History,
    *,
    max_frames: int = 100,
    interval: float = 50,
    figsize: PairLike | None = None,
    dpi: float | None = None,
) -> JsAnimation:
    """One run in three synchronised panels: the data and the current line | the path so far
    on the loss surface over (a₀, a₁) | the loss so far on a log axis.

    x: (n, 2), y: (n,), history: the run (T rows); frames as in :func:`animate_line`.
    """
    x, y = check_xy(x, y)
    history = check_history(history)
    keys = frame_indices(len(history.params), max_frames)
    figure = _new_figure(figsize, dpi, height_ratio=0.42)
    ax_fit, ax_bowl, ax_loss = figure.subplots(1, 3, width_ratios=[1, 1, 1])
    params, losses = history.params.double().numpy(), history.losses.double().numpy()

    plot_data(ax_fit, x, y, s=8)
    line = plot_line(ax_fit, x, history.params[0])
    ax_fit.set_ylim(data_ylim(y))
    ends = line.get_xdata()
    ax_fit.set_title("data and line")

    (path,) = plot_contour(ax_bowl, x, y, history)
    ax_bowl.get_legend().remove()
    (here,) = ax_bowl.plot([], [], "o", color=VERMILION, ms=7, zorder=5)
    ax_bowl.set_title("path on the loss surface")

    (curve,) = plot_loss(ax_loss, history)
    ax_loss.autoscale_view()
    ax_loss.set_ylim(ax_loss.get_ylim())  # the whole run's range, fixed
    ax_loss.set_xlim(0, max(history.steps, 1))
    ax_loss.set_title("loss so far")
    steps = np.arange(len(losses))

    def draw(t: int) -> None:
        line.set_ydata(params[t, 0] * ends + params[t, 1])
        path.set_data(params[: t + 1, 0], params[: t + 1, 1])
        here.set_data(params[t : t + 1, 0], params[t : t + 1, 1])
        curve.set_data(steps[: t + 1], losses[: t + 1])
        figure.suptitle(
            f"step {t} of {history.steps}:   {describe_line(params[t])},   MSE {losses[t]:.3g}"
        )

    alt = (
        "Three panels. " + _describe_run(len(x), history, len(keys)) + " Left: the data "
        "and the current line. Middle: the path of (slope, intercept) over the contours of "
        "the loss, towards the least-squares minimum (star). Right: the MSE so far, on a "
        "log scale."
    )
    return JsAnimation(
        figure, draw, keys, labels=_step_labels(history, keys), alt=alt, interval=interval
    )


def animate_lr(
    x: ArrayLike,
    y: ArrayLike,
    a0: PairLike,
    lrs: Sequence[float],
    steps: int,
    *,
    max_frames: int = 100,
    interval: float = 800,
    figsize: PairLike | None = None,
    dpi: float | None = None,
) -> JsAnimation:
    """A learning-rate explorer: one frame per learning rate in `lrs` (increasing).

    Frame k shows the line after `steps` full-batch steps from `a0` at ``lrs[k]`` over the
    data, the loss curve of that run (log axis, the same range in every frame), and where
    ``lrs[k]`` lies against the critical lr ``2/λmax`` (dashed). Frames whose run diverged
    say so. More than `max_frames` rates are thinned evenly, keeping the first and last.
    """
    x, y = check_xy(x, y)
    a0 = as_pair(a0, "a0")
    lrs = check_lrs(lrs)
    steps = check_steps(steps)
    keys = frame_indices(len(lrs), max_frames)
    chosen = [lrs[k] for k in keys]
    runs = [fit(x, y, a0, lr=lr, steps=steps) for lr in chosen]
    critical = critical_lr(x)

    figure = _new_figure(figsize, dpi, height_ratio=0.6)
    axes = figure.subplot_mosaic([["fit", "loss"], ["lr", "lr"]], height_ratios=[1, 0.16])
    ax_fit, ax_loss, ax_lr = axes["fit"], axes["loss"], axes["lr"]

    plot_data(ax_fit, x, y, s=8)
    line = plot_line(ax_fit, x, a0)
    ax_fit.set_ylim(data_ylim(y))
    ends = line.get_xdata()
    verdict = ax_fit.text(
        0.5,
        0.8,
        "",
        transform=ax_fit.transAxes,
        ha="center",
        va="center",
        fontsize=16,
        fontweight="bold",
        color=VERMILION,
        bbox={"facecolor": "white", "edgecolor": VERMILION, "alpha": 0.9},
    )

    (curve,) = plot_loss(ax_loss, runs[0])
    finite = np.concatenate([r.losses.double().numpy() for r in runs])
    start = float(runs[0].losses[0])
    ax_loss.set_ylim(0.5 * finite[finite > 0].min(), 1e3 * start)
    ax_loss.set_xlim(0, max(steps, 1))

    _draw_lr_axis(ax_lr, chosen, critical)
    (marker,) = ax_lr.plot([], [], "v", color=LINE_COLOR, ms=11, zorder=4)

    def draw(k: int) -> None:
        run, lr = runs[k], chosen[k]
        final = run.final.double().numpy()
        line.set_ydata(final[0] * ends + final[1])
        bad = run.diverged
        line.set_color(VERMILION if bad else LINE_COLOR)
        verdict.set_text("diverged" if bad else "")
        verdict.set_visible(bad)
        curve.set_data(np.arange(len(run.losses)), run.losses.double().numpy())
        marker.set_data([lr], [0.6])
        ax_fit.set_title(f"lr = {lr:g} ({lr / critical:.2f}× critical): after {steps} steps")
        ax_loss.set_title(run.outcome)

    labels = [
        f"lr = {lr:g} ({k + 1} of {len(chosen)})" + (", diverged" if r.diverged else "")
        for k, (lr, r) in enumerate(zip(chosen, runs, strict=True))
    ]
    return JsAnimation(
        figure,
        draw,
        range(len(chosen)),
        labels=labels,
        alt=_describe_lrs(len(x), a0, steps, chosen, runs, critical),
        slider_label="Learning rate",
        interval=interval,
    )


def _draw_lr_axis(ax: Axes, lrs: Sequence[float], critical: float) -> None:
    """A number line of the learning rates (grey ticks), the critical lr dashed."""
    high = max(lrs[-1], critical) if math.isfinite(critical) else lrs[-1]
    ax.set_xlim(0, 1.08 * high)
    ax.plot(lrs, np.zeros(len(lrs)), "|", color="#777777", ms=12)
    label = "learning rate lr"
    if math.isfinite(critical):
        ax.axvline(critical, color=BLACK, ls="--", lw=1.2)
        label += f"   (dashed: critical lr = 2/λmax = {critical:.3g})"
    ax.set_ylim(-0.6, 1.2)
    ax.set_yticks([])
    ax.grid(False)
    ax.spines[["left", "top", "right"]].set_visible(False)
    ax.set_xlabel(label)


def _describe_lrs(
    n: int, a0: Tensor, steps: int, lrs: Sequence[float], runs: Sequence[History], critical: float
) -> str:
    """The text alternative of :func:`animate_lr`'s animation."""
    bad = [f"{lr:g}" for lr, run in zip(lrs, runs, strict=True) if run.diverged]
    outcome = (
        f"the runs with lr = {', '.join(bad)} diverge." if bad else "none of these runs diverges."
    )
    return (
        f"Learning-rate explorer, one frame per learning rate, {len(lrs)} rates from "
        f"{lrs[0]:g} to {lrs[-1]:g}: the line fitted to {n} data points after {steps} steps "
        f"of gradient descent from a = ({float(a0[0]):g}, {float(a0[1]):g}), and its loss "
        f"curve. The critical learning rate 2/λmax is {critical:.3g}; {outcome}"
    )
