"""The book's animations of gradient descent, each a :class:`~descent.animation.JsAnimation`:

- :func:`animate_line` — the notes' animation: the data in orange and the line moving to
  them, one frame per step;
- :func:`animate_panels` — the same run in three synchronised panels: the line, the path on
  the loss surface, and the loss so far;
- :func:`animate_lr` — a learning-rate explorer: one frame per learning rate, each showing
  where `steps` steps at that rate end up, so the player's slider is an lr slider.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.animation import adjusted_figsize
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
    check_lrs,
    check_steps,
    check_xy,
)
from .animation import JsAnimation, frame_indices
from .loss import critical_lr
from .plots import data_ylim, describe_line, plot_contour, plot_data, plot_line, plot_loss
from .style import BLACK, LINE_COLOR, VERMILION
from .train import History, fit

__all__ = ["animate_line", "animate_lr", "animate_panels"]


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


def _run_frames(
    x: ArrayLike, y: ArrayLike, history: History, max_frames: int
) -> tuple[Tensor, Tensor, History, list[int]]:
    """A run's animation inputs, checked: ``(x, y, history, keys)``, `keys` the rows shown."""
    x, y = check_xy(x, y)
    history = check_history(history)
    return x, y, history, frame_indices(len(history.params), max_frames)


def _run_animation(
    figure: Figure,
    draw: Callable[[int], None],
    x: Tensor,
    history: History,
    keys: list[int],
    interval: float,
) -> JsAnimation:
    """The player of a run: frames `keys` labelled by step, described by :func:`_describe_run`."""
    return JsAnimation(
        figure,
        draw,
        keys,
        labels=_step_labels(history, keys),
        alt=_describe_run(len(x), history, len(keys)),
        interval=interval,
    )


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
    x, y, history, keys = _run_frames(x, y, history, max_frames)
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

    return _run_animation(figure, draw, x, history, keys, interval)


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
    x, y, history, keys = _run_frames(x, y, history, max_frames)
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
    The animation's ``runs`` holds the :class:`~descent.train.History` behind each frame
    (``runs[k].lr`` the rate of frame k), so they need not be computed again.
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
    animation = JsAnimation(
        figure,
        draw,
        range(len(chosen)),
        labels=labels,
        alt=_describe_lrs(len(x), a0, steps, chosen, runs, critical),
        slider_label="Learning rate",
        interval=interval,
    )
    animation.runs = runs
    return animation


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
