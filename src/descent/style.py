"""The book's plot style: the one place that sets matplotlib's rcParams.

Chapters call :func:`use_style` once, in their first cell; the helpers in `descent.plots` and
`descent.animation` draw with whatever style is active and never set one themselves.

The figures are made for a book column about 700 px wide: a figure 7 in wide at 100 dpi is
shown at its natural size, so 10 pt text there is about 14 px on screen. The colours are the
Okabe–Ito palette, which stays distinguishable for the common forms of colour blindness; the
data are orange, as in the notes, and orange is kept out of the line colour cycle so a line
never looks like data.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
from matplotlib import cycler

__all__ = ["COLORS", "DATA_COLOR", "LINE_COLOR", "STYLE", "use_style"]

# Okabe & Ito (2008), "Color Universal Design": colour-blind-safe on white.
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
BLUE = "#0072B2"
VERMILION = "#D55E00"
PURPLE = "#CC79A7"
BLACK = "#000000"

DATA_COLOR = ORANGE
"""The data scatter (orange, as in the notes)."""

LINE_COLOR = BLUE
"""The fitted line, the first trajectory, the measured loss."""

COLORS = (BLUE, VERMILION, GREEN, PURPLE, SKY_BLUE, BLACK)
"""The line colour cycle, Okabe–Ito without orange (the data's colour) and yellow (too pale
on white)."""

STYLE: dict[str, Any] = {
    # Size: 7 in × 4 in at 100 dpi is 700 × 400 px, the width of the book's column.
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": "figure",  # PNGs as drawn: same pixels inline, saved, and in animations
    "figure.constrained_layout.use": True,  # labels never clipped, no tight_layout calls
    "figure.facecolor": "white",  # opaque: readable on the theme's dark mode too
    "savefig.facecolor": "white",
    # Text: 10 pt is the smallest size anywhere (tick labels and legends).
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "figure.titlesize": 12,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    # Ink: no box around the plot, a faint grid to read values off a log axis.
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=list(COLORS)),
    "lines.linewidth": 2.0,
    "lines.markersize": 5.0,
    "image.cmap": "viridis",
    # Determinism: same figure, same bytes. PNG output carries no timestamp; SVG ids are
    # random unless salted (an SVG still needs metadata={"Date": None} for identical bytes).
    "svg.hashsalt": "descent",
    "svg.fonttype": "path",
}
"""The rcParams :func:`use_style` applies, with the reason for each group in a comment."""


def use_style() -> None:
    """Apply :data:`STYLE` to matplotlib's global rcParams (call once per chapter/notebook).

    Idempotent. To use the style only for a block, ``with matplotlib.rc_context(STYLE): ...``.
    """
    mpl.rcParams.update(STYLE)
