"""A gallery of varied matplotlib animations, none made by `descent`: what a reader may bring.

Each maker returns a *fresh* ``FuncAnimation`` built through pyplot, as a notebook would, and
closes its figure as the notes do. ``small=True`` gives a small, short version for tests
(a few frames of a small figure); the default is the full size the benchmark measures.
The makers are deterministic: two fresh instances draw the same frames, even the stateful
one (its random walk is seeded), so one instance can be compared with another.

Used by tests/test_gallery.py (every animation through the player) and bench/gallery_bench.py
(each against matplotlib's ``to_jshtml()``).
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

__all__ = ["GALLERY", "make"]

Maker = Callable[..., FuncAnimation]


def _figure(small: bool, **kwargs: object):
    size = (2.4, 1.8) if small else (6.4, 4.8)
    dpi = kwargs.pop("dpi", 50 if small else 100)
    return plt.subplots(figsize=size, dpi=dpi, **kwargs)


def _count(small: bool, full: int = 60) -> int:
    return 5 if small else full


def line(small: bool = False, frames: int = 60, dpi: float | None = None) -> FuncAnimation:
    """A sine wave travelling right: one line, matplotlib's default style."""
    fig, ax = _figure(small, **({} if dpi is None else {"dpi": dpi}))
    x = np.linspace(0, 2 * np.pi, 200)
    (curve,) = ax.plot(x, np.sin(x))
    plt.close(fig)

    def update(i: int) -> tuple:
        curve.set_ydata(np.sin(x - i / 10))
        return (curve,)

    return FuncAnimation(fig, update, frames=_count(small, frames), interval=40)


def scatter(small: bool = False) -> FuncAnimation:
    """300 points of many hues (viridis) drifting on circles."""
    fig, ax = _figure(small)
    rng = np.random.default_rng(0)
    radius, phase = rng.uniform(0.2, 1, 300), rng.uniform(0, 2 * np.pi, 300)
    dots = ax.scatter(radius * np.cos(phase), radius * np.sin(phase), c=phase, s=12)
    ax.set(xlim=(-1.1, 1.1), ylim=(-1.1, 1.1))
    plt.close(fig)

    def update(i: int) -> tuple:
        angle = phase + i / 15 / radius
        dots.set_offsets(np.c_[radius * np.cos(angle), radius * np.sin(angle)])
        return (dots,)

    return FuncAnimation(fig, update, frames=_count(small), interval=50)


def histogram(small: bool = False) -> FuncAnimation:
    """A histogram of a growing normal sample, bar heights changing (``frames`` a range)."""
    fig, ax = _figure(small)
    sample = np.random.default_rng(1).normal(size=3000)
    edges = np.linspace(-4, 4, 33)
    bars = ax.bar(edges[:-1], np.zeros(32), width=np.diff(edges), align="edge", color="C1")
    ax.set(ylim=(0, 320), title="a growing sample")
    plt.close(fig)

    def update(n: int) -> list:
        counts, _ = np.histogram(sample[: 50 * (n + 1)], edges)
        for bar, count in zip(bars, counts, strict=True):
            bar.set_height(count)
        return list(bars)

    return FuncAnimation(fig, update, frames=range(_count(small)), interval=80)


def blitted(small: bool = False) -> FuncAnimation:
    """``blit=True`` with an ``init_func``: the moving line and dot are ``animated``."""
    fig, ax = _figure(small)
    x = np.linspace(0, 2 * np.pi, 200)
    (curve,) = ax.plot([], [], color="C2")
    (dot,) = ax.plot([], [], "o", color="C3")
    ax.set(xlim=(0, 2 * np.pi), ylim=(-1.2, 1.2))
    plt.close(fig)

    def init() -> tuple:
        curve.set_data([], [])
        dot.set_data([], [])
        return curve, dot

    def update(i: int) -> tuple:
        curve.set_data(x, np.cos(x + i / 8))
        dot.set_data([x[i % 200]], [np.cos(x[i % 200] + i / 8)])
        return curve, dot

    return FuncAnimation(fig, update, frames=_count(small), init_func=init, blit=True, interval=30)


class Walk:
    """A stateful update function: each call takes one more step of a seeded random walk.
    ``calls`` counts the calls."""

    def __init__(self, trace) -> None:
        self.trace, self.calls = trace, 0
        self.rng = np.random.default_rng(2)
        self.points = [(0.0, 0.0)]

    def __call__(self, _: object) -> tuple:
        self.calls += 1
        x, y = self.points[-1]
        dx, dy = self.rng.normal(size=2)
        self.points.append((x + dx, y + dy))
        self.trace.set_data(*np.transpose(self.points))
        return (self.trace,)


def stateful(small: bool = False) -> FuncAnimation:
    """A random walk that advances on every call (a generator of frames, ``save_count``)."""
    fig, ax = _figure(small)
    (trace,) = ax.plot([], [], "-o", ms=3)
    ax.set(xlim=(-15, 15), ylim=(-15, 15))
    plt.close(fig)
    walk = Walk(trace)
    count = _count(small)
    animation = FuncAnimation(fig, walk, frames=iter(range(count)), save_count=count)
    animation.walk = walk
    return animation


def heatmap(small: bool = False) -> FuncAnimation:
    """``imshow`` of a travelling wave field with a colour bar (a smooth colour map)."""
    fig, ax = _figure(small)
    yy, xx = np.mgrid[0:1:60j, 0:1:80j]
    image = ax.imshow(np.sin(8 * xx) * np.cos(6 * yy), cmap="magma", vmin=-1, vmax=1)
    fig.colorbar(image)
    plt.close(fig)

    def update(i: int) -> tuple:
        image.set_data(np.sin(8 * xx + i / 4) * np.cos(6 * yy - i / 6))
        return (image,)

    return FuncAnimation(fig, update, frames=_count(small), interval=60)


def contour(small: bool = False) -> FuncAnimation:
    """Filled contours redrawn every frame (``fargs`` gives the grid)."""
    fig, ax = _figure(small)
    grid = np.meshgrid(np.linspace(-2, 2, 80), np.linspace(-2, 2, 80))
    plt.close(fig)

    def update(i: int, xx: np.ndarray, yy: np.ndarray) -> tuple:
        ax.clear()
        z = np.exp(-((xx - np.cos(i / 6)) ** 2) - (yy - np.sin(i / 6)) ** 2)
        return (ax.contourf(xx, yy, z, levels=12, cmap="viridis"),)

    return FuncAnimation(fig, update, frames=_count(small), fargs=grid, interval=60)


def surface(small: bool = False) -> FuncAnimation:
    """A shaded 3D surface turning: ~45 000 colours a segment, which a palette of 127 still
    keeps above 40 dB (``photo`` is the animation that takes the lossless path)."""
    fig, ax = _figure(small, subplot_kw={"projection": "3d"})
    xx, yy = np.meshgrid(np.linspace(-3, 3, 40), np.linspace(-3, 3, 40))
    ax.plot_surface(xx, yy, np.sin(np.hypot(xx, yy)), cmap="coolwarm")
    plt.close(fig)

    def update(i: int) -> tuple:
        ax.view_init(elev=30, azim=4 * i)
        return ()

    return FuncAnimation(fig, update, frames=_count(small, 40), interval=80)


def photo(small: bool = False) -> FuncAnimation:
    """A photograph-like picture panning: an RGB image with a seeded fine texture (almost
    every pixel its own colour), which no palette of 127 colours keeps at 40 dB, so every
    segment takes the lossless path."""
    fig, ax = _figure(small)
    size = 64 if small else 256
    yy, xx = np.mgrid[0:size, 0 : 2 * size] / size
    base = np.stack([0.5 + 0.5 * np.sin(3 * xx + yy), 0.5 + 0.5 * np.cos(2 * yy), xx / 2], -1)
    noise = np.random.default_rng(3).standard_normal(base.shape)
    picture = np.clip(base + 0.08 * noise, 0, 1)
    image = ax.imshow(picture[:, :size], interpolation="bilinear")
    ax.set_axis_off()
    plt.close(fig)

    def update(i: int) -> tuple:
        image.set_data(picture[:, 2 * i : 2 * i + size])
        return (image,)

    return FuncAnimation(fig, update, frames=_count(small, 40), interval=80)


def transparent(small: bool = False) -> FuncAnimation:
    """A line on a transparent figure and axes (``set_alpha(0)``): stored with its alpha."""
    fig, ax = _figure(small)
    fig.patch.set_alpha(0)
    ax.patch.set_alpha(0)
    x = np.linspace(0, 1, 50)
    (curve,) = ax.plot(x, x, color="C4", lw=3)
    ax.set(ylim=(0, 1))
    plt.close(fig)

    def update(i: int) -> tuple:
        curve.set_ydata(x ** (1 + i / 10))
        return (curve,)

    return FuncAnimation(fig, update, frames=_count(small), interval=50)


def high_dpi(small: bool = False) -> FuncAnimation:
    """The travelling sine at dpi 200."""
    return line(small, frames=60, dpi=100 if small else 200)


def long(small: bool = False) -> FuncAnimation:
    """300 frames of 640 × 480 (20 in the small version)."""
    return line(small, frames=300 if not small else 20)


def still(small: bool = False) -> FuncAnimation:
    """Frames that never change: every delta is empty."""
    fig, ax = _figure(small)
    ax.plot([0, 1], [1, 0], color="C0")
    ax.set_title("nothing moves")
    plt.close(fig)
    return FuncAnimation(fig, lambda i: (), frames=_count(small, 30), interval=100)


GALLERY: dict[str, Maker] = {
    "line": line,
    "scatter": scatter,
    "histogram": histogram,
    "blitted": blitted,
    "stateful": stateful,
    "heatmap": heatmap,
    "contour": contour,
    "surface": surface,
    "photo": photo,
    "transparent": transparent,
    "high_dpi": high_dpi,
    "long": long,
    "still": still,
}
"""Every animation of the gallery, by name."""


def make(name: str, small: bool = False) -> FuncAnimation:
    """A fresh instance of the gallery's animation `name` (KeyError names the choices)."""
    if name not in GALLERY:
        raise KeyError(f"no animation {name!r}; choose from {sorted(GALLERY)}")
    return GALLERY[name](small)
