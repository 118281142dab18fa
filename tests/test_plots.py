"""The plot helpers (`descent.plots`) and the plot style (`descent.style`).

Helpers are drawn on a bare ``matplotlib.figure.Figure`` (outside pyplot), so no test leaves
a figure open; the one helper that makes a pyplot figure is closed by its test.
"""

from __future__ import annotations

import io
import re

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from descent.data import linear_data
from descent.loss import critical_lr, least_squares
from descent.plots import (
    describe_line,
    plot_contour,
    plot_data,
    plot_line,
    plot_loss,
    plot_lr_grid,
)
from descent.style import COLORS, DATA_COLOR, STYLE, use_style
from descent.train import fit

A0 = (-1.0, 1.0)


@pytest.fixture(scope="module")
def data():
    return linear_data(n=40)


@pytest.fixture(scope="module")
def run(data):
    x, y = data
    return fit(x, y, A0, lr=0.3, steps=40)


@pytest.fixture
def ax():
    return Figure().add_subplot()


# --- style -------------------------------------------------------------------------------------


def test_style_text_is_at_least_10_pt():
    sizes = {
        k: v
        for k, v in STYLE.items()
        if k.endswith(("font.size", "titlesize", "labelsize", "legend.fontsize"))
    }
    assert sizes and all(v >= 10 for v in sizes.values()), sizes


def test_style_line_colours_never_look_like_data():
    cycle = [c["color"] for c in STYLE["axes.prop_cycle"]]
    assert DATA_COLOR not in cycle and list(COLORS) == cycle


def test_use_style_sets_the_rcparams():
    with mpl.rc_context():
        use_style()
        assert mpl.rcParams["figure.figsize"] == [7.0, 4.0]
        assert mpl.rcParams["xtick.labelsize"] == 10
        assert to_hex(mpl.rcParams["figure.facecolor"]) == "#ffffff"


def test_png_output_is_deterministic(data):
    x, y = data

    def png() -> bytes:
        with mpl.rc_context(STYLE):
            fig = Figure()
            plot_data(fig.add_subplot(), x, y)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
            return buffer.getvalue()

    assert png() == png()


# --- data and line -----------------------------------------------------------------------------


def test_plot_data_scatters_x_against_y_in_orange(ax, data):
    x, y = data
    points = plot_data(ax, x, y)
    assert np.allclose(points.get_offsets(), np.column_stack([x[:, 0], y]))
    assert to_hex(points.get_facecolor()[0]) == DATA_COLOR.lower()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")


def test_plot_line_spans_the_data_and_follows_a(ax, data):
    x, _ = data
    line = plot_line(ax, x, (3.0, -0.5))
    ends = np.array([x[:, 0].min(), x[:, 0].max()])
    assert np.allclose(line.get_xdata(), ends)
    assert np.allclose(line.get_ydata(), 3.0 * ends - 0.5)
    assert line.get_label() == "y = 3.00x − 0.50"
    assert plot_line(ax, x, torch.tensor([1.0, 2.0]), label="start").get_label() == "start"


@pytest.mark.parametrize(
    ("a", "text"),
    [
        ((3, 2), "y = 3.00x + 2.00"),
        ((-1, -0.25), "y = −1.00x − 0.25"),
        ((-1.5e17, 2e18), "y = −1.5e+17x + 2e+18"),
    ],
)
def test_describe_line(a, text):
    assert describe_line(a) == text


# --- loss curve --------------------------------------------------------------------------------


def test_plot_loss_alone_is_one_log_curve(ax, run):
    (line,) = plot_loss(ax, run)
    assert ax.get_yscale() == "log"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("step t", "MSE")
    assert np.allclose(line.get_ydata(), run.losses.numpy())
    assert list(line.get_xdata()) == list(range(run.steps + 1))


def test_plot_loss_with_data_overlays_the_hessian_prediction(ax, data, run):
    x, y = data
    lines = plot_loss(ax, run, x, y)
    assert ax.get_yscale() == "log" and "excess" in ax.get_ylabel()
    labels = [line.get_label() for line in lines]
    assert len(lines) == 4 and labels[0] == "measured" and "predicted" in labels[1]
    assert all("lambda" in label for label in labels[2:])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == labels
    measured, total = lines[0].get_ydata(), lines[1].get_ydata()
    resolved = np.nan_to_num(measured) > 100 * ax.get_ylim()[0]  # well above the noise floor
    assert resolved.sum() > 5
    assert np.allclose(measured[resolved], total[resolved], rtol=0.01, atol=0)
    assert np.allclose(lines[2].get_ydata() + lines[3].get_ydata(), total, rtol=1e-5)


def test_plot_loss_hides_the_rounding_noise_of_a_converged_run(ax, data):
    x, y = data
    converged = fit(x, y, A0, lr=0.5, steps=100)
    measured = plot_loss(ax, converged, x, y)[0].get_ydata()
    assert np.isnan(measured[-1])  # at float32's resolution: not drawn, not a wiggle
    assert np.nanmin(measured) > ax.get_ylim()[0]


def test_plot_loss_of_a_mini_batch_run_has_no_prediction(ax, data):
    x, y = data
    noisy = fit(x, y, A0, lr=0.1, steps=10, batch_size=8)
    assert len(plot_loss(ax, noisy, x, y)) == 1


# --- loss surface ------------------------------------------------------------------------------


def test_plot_contour_draws_paths_minimum_and_contours(ax, data, run):
    x, y = data
    other = fit(x, y, (5.0, 0.0), lr=0.8, steps=20)
    paths = plot_contour(ax, x, y, [run, other])
    assert len(paths) == 2
    assert np.allclose(paths[0].get_xydata(), run.params.numpy())
    assert [p.get_label() for p in paths] == ["lr = 0.3", "lr = 0.8"]
    star = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(star) == 1 and np.allclose(star[0].get_xydata()[0], least_squares(x, y))
    assert ax.collections, "no contours drawn"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("a₀ (slope)", "a₁ (intercept)")
    assert ax.get_aspect() == 1.0


def test_plot_contour_view_holds_every_start(ax, data, run):
    x, y = data
    plot_contour(ax, x, y, run, labels=["run"])
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    a0 = run.params[0].tolist()
    assert x0 < a0[0] < x1 and y0 < a0[1] < y1


# --- small multiples ---------------------------------------------------------------------------


def test_plot_lr_grid_titles_each_lr_and_marks_critical(data):
    x, y = data
    critical = critical_lr(x)
    lrs = [0.1 * critical, 0.5 * critical, 1.5 * critical]
    fig = plot_lr_grid(x, y, A0, lrs, 30)
    try:
        assert isinstance(fig, Figure) and len(fig.axes) == 3
        titles = [ax.get_title() for ax in fig.axes]
        assert "0.10× critical" in titles[0] and "1.50× critical" in titles[2]
        assert "diverged" in titles[2] and "diverged" not in titles[0]
        assert f"{critical:.3g}" in fig.get_suptitle()
        assert all(len(ax.get_lines()) == 1 and ax.collections for ax in fig.axes)
    finally:
        plt.close(fig)


# --- bad input ---------------------------------------------------------------------------------


BAD_CALLS = [  # (error, the argument it must name, the call)
    (TypeError, "ax", lambda ax, x, y, run: plot_data("ax", x, y)),
    (ValueError, "x", lambda ax, x, y, run: plot_data(ax, x[:, :1], y)),
    (ValueError, "y", lambda ax, x, y, run: plot_data(ax, x, y[:-1])),
    (ValueError, "a", lambda ax, x, y, run: plot_line(ax, x, (1.0, 2.0, 3.0))),
    (TypeError, "a", lambda ax, x, y, run: plot_line(ax, x, "ab")),
    (TypeError, "history", lambda ax, x, y, run: plot_loss(ax, [1.0, 2.0])),
    (ValueError, "y", lambda ax, x, y, run: plot_loss(ax, run, x)),
    (ValueError, "histories", lambda ax, x, y, run: plot_contour(ax, x, y, [])),
    (TypeError, "histories[1]", lambda ax, x, y, run: plot_contour(ax, x, y, [run, "run"])),
    (ValueError, "labels", lambda ax, x, y, run: plot_contour(ax, x, y, run, labels=["a", "b"])),
    (ValueError, "lrs", lambda ax, x, y, run: plot_lr_grid(x, y, A0, [], 5)),
    (ValueError, "lrs", lambda ax, x, y, run: plot_lr_grid(x, y, A0, [0.2, 0.1], 5)),
    (ValueError, "lrs[1]", lambda ax, x, y, run: plot_lr_grid(x, y, A0, [0.1, -1.0], 5)),
    (TypeError, "lrs", lambda ax, x, y, run: plot_lr_grid(x, y, A0, 0.1, 5)),
    (ValueError, "steps", lambda ax, x, y, run: plot_lr_grid(x, y, A0, [0.1], -1)),
    (TypeError, "steps", lambda ax, x, y, run: plot_lr_grid(x, y, A0, [0.1], 2.5)),
    (ValueError, "a0", lambda ax, x, y, run: plot_lr_grid(x, y, (1.0, float("nan")), [0.1], 5)),
]


def names(text: str) -> str:
    """A regex matching `text` as a whole name (not part of a longer one)."""
    return rf"(?<![\w\[]){re.escape(text)}(?![\w\[])"


@pytest.mark.parametrize(("error", "name", "call"), BAD_CALLS)
def test_bad_input_raises_naming_the_argument(error, name, call, ax, data, run):
    x, y = data
    with pytest.raises(error, match=names(name)):
        call(ax, x, y, run)
    assert plt.get_fignums() == []
