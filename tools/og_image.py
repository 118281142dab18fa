"""Draw the social-preview image (``_static/og-image.png``, 1200 × 630 px) from the library.

The picture a shared link shows: the notes' 100 points and the line gradient descent fits
through them, with a few of the lines it tried on the way. Rerun after changing the plot style:
``.venv/bin/python tools/og_image.py``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import descent
from descent.plots import plot_data, plot_line

OUT = Path(__file__).resolve().parent.parent / "_static" / "og-image.png"


def main() -> None:
    descent.use_style()
    x, y = descent.linear_data(seed=descent.SEED)
    history = descent.fit(x, y, (-1.0, 1.0), lr=0.1, steps=100)
    fig, ax = plt.subplots(figsize=(12, 6.3), dpi=100)
    plot_data(ax, x, y)
    for t in (0, 5, 15, 40):
        plot_line(ax, x, history.params[t], color="0.75", linewidth=1.5)
    plot_line(ax, x, history.final, linewidth=3)
    ax.set_title("Gradient descent, executed", fontsize=28, loc="left")
    ax.set_xlabel("x", fontsize=16)
    ax.set_ylabel("y", fontsize=16)
    ax.tick_params(labelsize=14)
    fig.savefig(OUT, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")


if __name__ == "__main__":
    main()
