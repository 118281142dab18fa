"""Animations shown in a notebook by our own player (`descent.player`): :class:`JsAnimation`.

The book's three animations of gradient descent are built by :mod:`descent.animate`. A
`JsAnimation` is a figure plus a function that draws frame `key` on it, or any matplotlib
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
from matplotlib.animation import Animation, FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._checks import check_int, check_labels, check_text
from .codec import Frame, on_white
from .player import content_id, render_html, standalone_page
from .player.grab import Rendering, matplotlib_jshtml, render
from .player.render import check_interval

__all__ = ["JsAnimation", "frame_indices"]

T = TypeVar("T")

_NO_LAYOUT = {"figure.autolayout": False, "figure.constrained_layout.use": False}
"""rcParams under which ``Figure.set_layout_engine(None)`` removes the layout engine.

``set_layout_engine("none")`` would leave a placeholder engine, and ``savefig`` lays out (a
whole draw without rendering) before it draws any figure that has an engine."""


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
        if not callable(draw):
            raise TypeError(f"draw must be callable, got {type(draw).__name__}")
        if not isinstance(keys, Sequence) or isinstance(keys, str):
            raise TypeError(f"keys must be a sequence (one per frame), got {type(keys).__name__}")
        labels = check_labels(labels)
        if len(keys) == 0 or len(labels) != len(keys):
            raise ValueError(
                f"need at least one frame and one label per frame, got "
                f"{len(keys)} keys and {len(labels)} labels"
            )
        self.figure, self.draw, self.keys = figure, draw, list(keys)
        self._labels: list[str] | None = labels
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

        Its frames are drawn once, when first needed. Raises TypeError for anything else or a
        text that is not a str, ValueError for a blank text; when the frames are drawn,
        ValueError for an animation that never ends (``frames=None`` without ``save_count``)
        or `labels` not one per frame, and :class:`~descent.codec.EmbedLimitError` past
        ``animation.embed_limit``.
        """
        if not isinstance(animation, Animation):
            raise TypeError(
                f"animation must be a matplotlib Animation, got {type(animation).__name__}"
            )
        self = cls.__new__(cls)
        self.figure, self.draw, self.keys = animation._fig, None, None
        self._labels = None if labels is None else check_labels(labels)
        self._describe(alt, slider_label, getattr(animation, "_interval", 200), caption)
        self._animation, self._rendering, self._layout_frozen = animation, None, True
        self._rc = {key: value for key, value in mpl.rcParams.items() if key != "backend"}
        return self

    def _describe(self, alt: str, slider_label: str, interval: float, caption: str | None) -> None:
        self.alt = check_text(alt, "alt")
        self.slider_label = check_text(slider_label, "slider_label")
        self.interval = check_interval(interval)
        self.caption = None if caption is None else check_text(caption, "caption")

    def _freeze_layout(self) -> tuple:
        """Lay the figure out for the first frame and keep that layout, and the places of
        its titles and axis labels, for all frames (the ``init_func`` of the animation of a
        `draw`: so `draw` runs once per frame)."""
        if not self._layout_frozen:
            self.draw(self.keys[0])
            self.figure.canvas.draw()
            # No layout engine at all (see _NO_LAYOUT): `savefig` would otherwise draw every
            # frame twice, once without rendering to lay it out.
            with mpl.rc_context(_NO_LAYOUT):
                self.figure.set_layout_engine(None)
            _freeze_placement(self.figure)
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
            # A frozen layout stays frozen: `savefig` puts the figure's engine back after
            # each frame with `set_layout_engine`, which turns None into the rcParams' engine.
            # Ours: frozen, no layout engine, so matplotlib's idle draw would change no pixel.
            ours = self._animation is None
            with mpl.rc_context(_NO_LAYOUT if ours else {}):
                self._rendering = render(animation, idle_draws=not ours)
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


def _freeze_placement(figure: Figure) -> None:
    """Keep every axis label and title of `figure` where its last draw placed them.

    On every draw, matplotlib places each axis label beside its tick labels and each title
    above whatever rises over the axes, measuring the extents of all tick labels to do so:
    a quarter of the drawing time of the book's animations, to find the same places again
    while the ticks do not move. An axis label is pinned, in the same coordinates, by
    ``Axis.set_label_coords``; a title by switching off ``Axes._autotitlepos``, which
    ``set_title(y=…)`` also does (matplotlib has no other switch, and ``set_title`` would
    also reset the title's style).
    """
    for ax in figure.axes:
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label
            axis.set_label_coords(*label.get_position(), transform=label.get_transform())
        ax._autotitlepos = False


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
