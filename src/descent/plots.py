"""Plots of the data, the fitted line, the loss curve and the loss surface.

Each ``plot_*`` helper draws on an ``Axes`` you pass and returns the artists it drew, except
:func:`plot_lr_grid`, which makes a figure of several panels and returns it. None of them sets
a style (that is `descent.style`) or keeps any state: the same call draws the same picture.

Parameters are ``a = (a₀, a₁)`` = (slope, intercept), since row i of ``x`` is ``(x_i, 1)``
and the line is ``y = x @ a = a₀ x + a₁``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ._checks import (
    ArrayLike,
    PairLike,
    as_pair,
    check_axes,
    check_histories,
    check_history,
    check_lrs,
    check_steps,
    check_x,
    check_xy,
)
from .loss import critical_lr, eigen, least_squares, mse, predicted_excess_terms
from .style import BLACK, COLORS, DATA_COLOR, GREEN, LINE_COLOR, VERMILION
from .train import History, fit

__all__ = [
    "data_ylim",
    "describe_line",
    "plot_contour",
    "plot_data",
    "plot_line",
    "plot_loss",
    "plot_lr_grid",
]

A0_LABEL = "a₀ (slope)"
A1_LABEL = "a₁ (intercept)"
STEP_LABEL = "step t"
MSE_LABEL = "MSE"


def describe_line(a: PairLike) -> str:
    """``a = (a₀, a₁)`` as the text ``"y = 3.00x + 2.50"`` (with true minus signs)."""
    a0, a1 = as_pair(a, "a").tolist()
    sign = "−" if a1 < 0 else "+"
    return f"y = {_number(a0)}x {sign} {_number(abs(a1))}".replace("-", "−")


def _number(value: float) -> str:
    """Two decimals (``"2.50"``), or two digits for huge values (``"-1.6e+17"``)."""
    return f"{value:.2f}" if abs(value) < 1e4 else f"{value:.2g}"


def _run_label(history: History) -> str:
    """``"lr = 0.1"``, plus the batch size for a mini-batch run."""
    label = f"lr = {history.lr:g}"
    return label if history.batch_size is None else f"{label}, batch {history.batch_size}"


def data_ylim(y: ArrayLike, pad: float = 0.1) -> tuple[float, float]:
    """The range of the targets ``y`` (n,), widened by `pad` of its length on each side.

    Plots of a moving or diverging line fix their y range to this, so the data stay put and
    a bad line leaves the picture instead of squashing the data.
    """
    low, high = float(y.min()), float(y.max())
    margin = pad * (high - low) or 1.0
    return low - margin, high + margin


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A tensor as a float64 NumPy array (detached)."""
    return t.detach().double().numpy()


# --- the helpers ---------------------------------------------------------------------------


def plot_data(ax: Axes, x: ArrayLike, y: ArrayLike, **kwargs: Any) -> PathCollection:
    """Scatter the data: ``x[:, 0]`` (n,) against ``y`` (n,), in orange as in the notes.

    Keyword arguments go to ``ax.scatter`` (defaults: the data colour, size 16, label "data").
    Labels the axes ``x`` and ``y``. Returns the scatter's ``PathCollection``.
    """
    ax = check_axes(ax)
    x, y = check_xy(x, y)
    kwargs = {"color": DATA_COLOR, "s": 16, "label": "data", "zorder": 2, **kwargs}
    points = ax.scatter(_numpy(x[:, 0]), _numpy(y), **kwargs)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return points


def plot_line(ax: Axes, x: ArrayLike, a: PairLike, **kwargs: Any) -> Line2D:
    """Draw the line ``y = a₀ x + a₁`` across the range of ``x[:, 0]`` (x: (n, 2), a: (2,)).

    Keyword arguments go to ``ax.plot`` (defaults: the line colour, label ``"y = …"``).
    Returns the ``Line2D``; its x data are the two ends ``[min x, max x]``.
    """
    ax = check_axes(ax)
    x = check_x(x)
    a = as_pair(a, "a")
    ends = np.array([float(x[:, 0].min()), float(x[:, 0].max())])
    kwargs = {"color": LINE_COLOR, "label": describe_line(a), "zorder": 3, **kwargs}
    (line,) = ax.plot(ends, float(a[0]) * ends + float(a[1]), **kwargs)
    return line


def plot_loss(
    ax: Axes, history: History, x: ArrayLike | None = None, y: ArrayLike | None = None
) -> list[Line2D]:
    """The loss curve of a run on a log axis, and, given the data, its exact prediction.

    Without ``x`` and ``y``: one line, ``history.losses`` (T,) against the step t.

    With ``x`` (n, 2) and ``y`` (n,) and a full-batch run, the axis shows the *excess* loss
    ``L(a_t) − L(a*)`` instead (a* = least squares), so that the geometric decay is a straight
    line, and overlays what the Hessian's eigenvalues λ₁ ≤ λ₂ predict: the total, and each
    eigen-direction's share, which shrinks by ``(1 − lr·λ_i)²`` per step. Four lines, each
    named in the legend. The axis stops at float32's resolution of the loss, ``8 ε L(a*)``:
    below it the measured loss is rounding noise and is not drawn.
    For a mini-batch run the prediction does not apply and only the loss is drawn.

    Returns the lines drawn, measured first.
    """
    ax = check_axes(ax)
    history = check_history(history)
    if (x is None) != (y is None):
        missing = "y" if y is None else "x"
        raise ValueError(f"plot_loss needs both x and y for the prediction; {missing} is None")
    steps = np.arange(len(history.losses))
    ax.set_xlabel(STEP_LABEL)
    ax.set_yscale("log")
    if x is None or history.batch_size is not None:
        ax.set_ylabel(MSE_LABEL)
        (line,) = ax.plot(steps, _numpy(history.losses), color=LINE_COLOR, label="MSE")
        return [line]

    x, y = check_xy(x, y)
    a_star = least_squares(x, y)
    floor = float(mse(y.double(), x.double() @ a_star.double()))
    measured = _numpy(history.losses) - floor
    resolution = 8 * np.finfo(np.float32).eps * floor  # float32 losses are no finer than this
    measured[measured <= resolution] = np.nan
    terms = _numpy(predicted_excess_terms(x, history.params[0], a_star, history.lr, history.steps))
    terms[~np.isfinite(terms)] = np.nan  # overflow of a diverging run: off the chart
    lams = eigen(x).values.tolist()
    ax.set_ylabel("MSE − min MSE (excess)")
    lines = [
        ax.plot(steps, measured, color=LINE_COLOR, lw=3, alpha=0.6, label="measured")[0],
        ax.plot(
            steps,
            terms.sum(axis=1),
            color=BLACK,
            lw=1.5,
            ls="--",
            label="predicted from the Hessian",
        )[0],
    ]
    for i, (lam, color) in enumerate(zip(lams, (VERMILION, GREEN), strict=True)):
        k = i + 1
        rate = rf"$\propto(1-\mathrm{{lr}}\,\lambda_{k})^{{2t}}$"
        label = rf"direction $\lambda_{k}$ = {lam:.2f}: {rate}"
        lines.append(ax.plot(steps, terms[:, i], color=color, lw=1.5, ls=":", label=label)[0])
    if resolution > 0:  # below it nothing can be measured: show the predictions down to it
        ax.set_ylim(bottom=max(ax.get_ylim()[0], resolution))
    ax.legend()
    return lines


def _loss_grid(x: torch.Tensor, y: torch.Tensor, a0s: np.ndarray, a1s: np.ndarray) -> np.ndarray:
    """The mse at every grid point ``(a0s[j], a1s[i])``: shape ``(len(a1s), len(a0s))``."""
    x, y = _numpy(x), _numpy(y)
    lines = x[:, 0, None, None] * a0s[None, None, :] + x[:, 1, None, None] * a1s[None, :, None]
    return ((y[:, None, None] - lines) ** 2).mean(axis=0)


def plot_contour(
    ax: Axes,
    x: ArrayLike,
    y: ArrayLike,
    histories: History | Sequence[History],
    labels: Sequence[str] | None = None,
) -> list[Line2D]:
    """The loss surface over ``(a₀, a₁)`` as contours, with each run's path and the minimum.

    x: (n, 2), y: (n,). The view is a square centred on the least-squares minimum a*, wide
    enough for every start (and so for every converging path, which only gets closer to a*);
    a diverging path leaves it. Axes have equal scales, so the bowl's true shape shows.
    Contours are drawn at geometrically spaced excess losses.

    ``labels`` (one per run) default to ``"lr = …"``. Returns the paths' lines, in order.
    """
    ax = check_axes(ax)
    x, y = check_xy(x, y)
    histories = check_histories(histories)
    if labels is None:
        labels = [_run_label(h) for h in histories]
    elif isinstance(labels, str) or len(labels) != len(histories):
        raise ValueError(
            f"labels must be a sequence of {len(histories)} str (one per run), got {labels!r}"
        )
    a_star = _numpy(least_squares(x, y))
    radius = max(float(np.linalg.norm(_numpy(h.params[0]) - a_star)) for h in histories)
    half = 1.15 * max(radius, 0.5)
    a0s = np.linspace(a_star[0] - half, a_star[0] + half, 121)
    a1s = np.linspace(a_star[1] - half, a_star[1] + half, 121)
    surface = _loss_grid(x, y, a0s, a1s)
    floor = surface.min()
    levels = floor + np.geomspace(2e-3, 0.7, 9) * (surface.max() - floor)
    ax.contour(a0s, a1s, surface, levels=levels, colors="#aaaaaa", linewidths=0.8, zorder=1)

    paths = []
    for h, label, color in zip(histories, labels, itertools.cycle(COLORS), strict=False):
        p = _numpy(h.params)
        paths.append(
            ax.plot(p[:, 0], p[:, 1], "o-", color=color, ms=3, lw=1.2, label=label, zorder=3)[0]
        )
    ax.plot(*a_star, ls="", marker="*", ms=13, color=BLACK, zorder=4, label="minimum a*")
    ax.set_xlim(a0s[0], a0s[-1])
    ax.set_ylim(a1s[0], a1s[-1])
    ax.set_aspect("equal")
    ax.set_xlabel(A0_LABEL)
    ax.set_ylabel(A1_LABEL)
    ax.legend(loc="upper left")
    return paths


def plot_lr_grid(
    x: ArrayLike, y: ArrayLike, a0: PairLike, lrs: Sequence[float], steps: int
) -> Figure:
    """Small multiples: the fit after `steps` full-batch steps from `a0`, one panel per lr.

    x: (n, 2), y: (n,), a0: (2,), lrs: increasing learning rates. Each panel is titled with
    its lr as a multiple of the critical lr ``2/λmax`` and how the run ended ("MSE …" or
    "diverged"); the figure's title gives the critical lr. Returns the (pyplot) Figure:
    in a notebook it shows like any figure; close it with ``plt.close(fig)`` when done.
    """
    x, y = check_xy(x, y)
    a0 = as_pair(a0, "a0")
    lrs = check_lrs(lrs)
    steps = check_steps(steps)
    critical = critical_lr(x)
    ncols = min(len(lrs), 3)
    nrows = math.ceil(len(lrs) / ncols)
    width = plt.rcParams["figure.figsize"][0]
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, 0.5 + 2.3 * nrows), sharex=True, sharey=True, squeeze=False
    )
    ylim = data_ylim(y, 0.15)
    for ax, lr in zip(axes.flat, lrs, strict=False):
        run = fit(x, y, a0, lr=lr, steps=steps)
        plot_data(ax, x, y, s=8)
        plot_line(ax, x, run.final, color=VERMILION if run.diverged else LINE_COLOR)
        ax.set_ylim(*ylim)
        ax.set_title(
            f"lr = {lr:g} ({lr / critical:.2f}× critical)\n{run.outcome}",
            fontsize=plt.rcParams["xtick.labelsize"],
        )
        ax.label_outer()
    for ax in axes.flat[len(lrs) :]:
        ax.remove()
    start = ", ".join(f"{v:g}".replace("-", "−") for v in a0.tolist())
    fig.suptitle(
        f"{steps} steps of gradient descent from a = ({start}); "
        f"critical lr = 2/λmax = {critical:.3g}"
    )
    return fig
