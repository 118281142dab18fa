"""Any matplotlib animation's frames, drawn once, as matplotlib's own movie writers draw them.

:func:`render` hands a :class:`FrameGrabber` — a matplotlib movie writer whose "movie" is our
player — to the animation's own ``Animation.save``. So every frame is drawn by matplotlib's
code, with the same calls in the same order as when it saves a movie: ``_init_draw`` (the
``init_func``, or the first frame), then ``_draw_next_frame(d, blit=False)`` for every frame
of ``new_saved_frame_seq()`` (its ``frames``, ``fargs``, ``save_count``), with the canvas in
saving mode (so the artists a ``blit=True`` animation marks ``animated`` are drawn), and
``savefig(format="rgba")`` as the pipe writers (ffmpeg, ImageMagick) grab a frame. Each
frame is drawn exactly once: a stateful update function (a simulation that advances) is
called once per frame, and what it drew is what is stored, compared and measured.

Frames are drawn on a ``FigureCanvasAgg`` of our own, attached for the rendering and the
figure's own canvas put back afterwards: in matplotlib 3.11, ``plt.close(fig)`` replaces a
pyplot figure's canvas by a bare ``FigureCanvasBase``, which cannot render. Each frame goes
to a :class:`~descent.codec.FrameEncoder` as it is drawn, which encodes it on a worker thread
while the next frame is drawn (in order; memory holds a few frames), and to a
:class:`~descent.codec.FrameSpool` on disk, from which :func:`matplotlib_jshtml` builds
matplotlib's own ``to_jshtml()`` player of the *same* frames, for comparison.

Source: ``matplotlib/animation.py`` (3.11): ``Animation.save``, ``AbstractMovieWriter``,
``HTMLWriter``; ``backend_agg.FigureCanvasAgg.print_raw`` and ``print_png``.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TypeVar

import matplotlib as mpl
import numpy as np
from matplotlib.animation import AbstractMovieWriter, Animation, FuncAnimation, HTMLWriter
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

from ..codec import EmbedLimitError, Frame, FrameEncoder, FrameSpool, on_white

T = TypeVar("T")
R = TypeVar("R")

__all__ = ["FrameGrabber", "Rendering", "embed_limit", "matplotlib_jshtml", "render"]


class _Canvas(FigureCanvasAgg):
    """An Agg canvas whose ``draw_idle`` does what the figure's own canvas would have done.

    ``Animation._post_draw`` asks for an idle draw after each frame, before the writer's
    ``savefig``. A canvas that renders and draws at once when idle (Agg, the notebook's inline
    backend: ``FigureCanvasBase.draw_idle`` calls ``draw``) draws the frame fully there, which
    runs a layout engine (``tight``, ``constrained``) once more on the frame's new content: the
    frame ``savefig`` then stores is laid out twice, and ours must be too (with a no-op, a
    figure whose layout changes between frames came out a few pixels off: 19.7 dB). The bare
    ``FigureCanvasBase`` that ``plt.close`` leaves on a figure cannot render (its ``draw`` does
    nothing), and a GUI canvas only schedules a draw for its event loop, which a save never
    runs: for those, as for them, nothing happens (each frame drawn once).
    """

    def __init__(self, figure: object, draws_when_idle: bool) -> None:
        super().__init__(figure)
        self._draws_when_idle = draws_when_idle

    def draw_idle(self, *args: object, **kwargs: object) -> None:
        if self._draws_when_idle:
            FigureCanvasBase.draw_idle(self, *args, **kwargs)


def draws_when_idle(canvas: FigureCanvasBase) -> bool:
    """Whether `canvas` draws the figure at once when asked for an idle draw: a canvas that
    renders (its class overrides ``draw``) and keeps ``FigureCanvasBase.draw_idle``."""
    kind = type(canvas)
    return kind.draw is not FigureCanvasBase.draw and kind.draw_idle is FigureCanvasBase.draw_idle


class FrameGrabber(AbstractMovieWriter):
    """A matplotlib movie writer that hands every frame, RGBA ``(H, W, 4)`` uint8, to `sink`.

    It keeps transparency (``_supports_transparency``), draws on a ``FigureCanvasAgg`` it
    attaches in ``setup`` and takes away in ``finish`` (putting the figure's canvas back), and
    writes no file. ``size`` is the last frame's ``(width, height)`` in pixels.
    """

    def __init__(self, sink: Callable[[np.ndarray], None], idle_draws: bool = True) -> None:
        super().__init__()
        self.sink = sink
        self.idle_draws = idle_draws  # False: idle draws do nothing, whatever the canvas
        self.size: tuple[int, int] | None = None
        self._original = None

    def _supports_transparency(self) -> bool:
        return True

    def setup(self, fig, outfile, dpi=None) -> None:
        self.fig, self.outfile = fig, outfile
        self.dpi = fig.dpi if dpi is None else dpi
        self._original = fig.canvas
        # ours: pyplot cannot take it away meanwhile; idle draws as the figure's own canvas
        self._canvas = _Canvas(fig, self.idle_draws and draws_when_idle(fig.canvas))

    def grab_frame(self, **savefig_kwargs) -> None:
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="rgba", dpi=self.dpi, **savefig_kwargs)
        renderer = self._canvas.renderer  # the renderer that drew these bytes
        width, height = int(renderer.width), int(renderer.height)
        self.size = (width, height)
        self.sink(np.frombuffer(buffer.getbuffer(), np.uint8).reshape(height, width, 4))

    def finish(self) -> None:
        if self._original is not None:
            self.fig.set_canvas(self._original)
            self._original = None


@dataclass
class Rendering:
    """An animation rendered once: its stored frames and what was measured while storing.

    frames: the :class:`~descent.codec.Frame` s of the player; size: ``(width, height)`` px;
    spool: every frame as drawn (RGBA, on disk); psnr: per frame, dB against the drawn frame
    flattened onto white (``inf`` where exact); lossless: per frame, whether it was stored
    without a palette; dpi: the resolution the frames were drawn at.
    """

    frames: list[Frame]
    size: tuple[int, int]
    spool: FrameSpool
    psnr: list[float]
    lossless: list[bool]
    dpi: float


def embed_limit() -> tuple[int, str]:
    """matplotlib's ``animation.embed_limit`` (MB) as bytes, and its name for messages."""
    megabytes = float(mpl.rcParams["animation.embed_limit"])
    return int(megabytes * 1024 * 1024), f"rcParams['animation.embed_limit'] = {megabytes:g} MB"


def endless(animation: Animation) -> bool:
    """Whether saving `animation` would never end: a ``FuncAnimation`` with ``frames=None``
    counts frames with ``itertools.count`` and, without ``save_count``, saves them all
    (matplotlib 3.11 ``FuncAnimation.__init__`` and ``new_saved_frame_seq``)."""
    return (
        isinstance(animation, FuncAnimation)
        and getattr(animation, "_iter_gen", None) is itertools.count
        and getattr(animation, "_save_count", None) is None
    )


def render(animation: Animation, idle_draws: bool = True) -> Rendering:
    """Draw every frame of `animation` (any ``matplotlib.animation.Animation``: a
    ``FuncAnimation`` or an ``ArtistAnimation``) once, through its own ``save``, and encode
    them for the player. The idle draw matplotlib asks for after each frame draws as the
    figure's own canvas would (``_Canvas``); ``idle_draws=False`` skips it, for a figure
    with no layout engine, where it changes no pixel.

    Raises TypeError for anything else, ValueError (naming ``frames``) for an animation that
    never ends (``endless``), :class:`~descent.codec.EmbedLimitError` (naming
    ``animation.embed_limit``) as soon as the frames outgrow that limit, and whatever the
    animation's own functions raise.
    """
    if not isinstance(animation, Animation):
        raise TypeError(f"animation must be a matplotlib Animation, got {type(animation).__name__}")
    if endless(animation):
        raise ValueError(
            "frames: this FuncAnimation has no end (frames=None and no save_count): "
            "give frames, or save_count, the number of frames to play"
        )
    limit, name = embed_limit()
    spool = FrameSpool()
    encoder = FrameEncoder(byte_limit=limit, limit_name=name, spool=spool)
    with _Background(encoder.add) as sink:
        grabber = FrameGrabber(sink.put, idle_draws)
        animation.save("descent-player.html", writer=grabber)
    frames = encoder.close()
    return Rendering(frames, grabber.size, spool, encoder.psnr, encoder.lossless, grabber.dpi)


class _Background:
    """Feed items, in order, to `consume` on one worker thread while the caller goes on.

    Encoding a frame (zlib, PNG, numpy's sorts) mostly runs without the GIL, so it overlaps
    the drawing of the next frame. ``put`` blocks while :data:`_QUEUED` items wait (memory
    holds a few frames) and re-raises, at the next ``put`` or on leaving the ``with`` block,
    whatever `consume` raised (the rest are then dropped). One thread, in order: the same
    frames give the same bytes.
    """

    def __init__(self, consume: Callable[[np.ndarray], None]) -> None:
        self._consume = consume
        self._queue: queue.Queue = queue.Queue(maxsize=_QUEUED)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="descent-encoder", daemon=True)

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self._error is None:
                try:
                    self._consume(item)
                except BaseException as error:  # re-raised in the caller
                    self._error = error

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, item: np.ndarray) -> None:
        self._raise()
        self._queue.put(item)

    def __enter__(self) -> _Background:
        self._thread.start()
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        if kind is None:
            self._raise()


_QUEUED = 3
"""Frames drawn but not yet encoded, at most."""

_DONE = object()


class _PNGSource:
    """Stands in for the figure in :class:`_ReplayHTMLWriter`: "saves" the next given PNG."""

    def __init__(self, pngs: Iterator[bytes]) -> None:
        self.pngs = pngs

    def savefig(self, file, **_: object) -> None:
        file.write(next(self.pngs))


class _ReplayHTMLWriter(HTMLWriter):
    """matplotlib's ``HTMLWriter``, run unchanged, on frames already drawn; it raises
    :class:`~descent.codec.EmbedLimitError` where matplotlib would drop frames."""

    def __init__(self, pngs: Iterator[bytes], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._source = _PNGSource(pngs)

    def grab_frame(self, **savefig_kwargs) -> None:
        figure, self.fig = self.fig, self._source
        try:
            super().grab_frame(**savefig_kwargs)
        finally:
            self.fig = figure
        if self._hit_limit:
            limit, name = embed_limit()
            raise EmbedLimitError(
                f"matplotlib's player of this animation would drop frames: over {limit} bytes "
                f"({name}); raise that limit"
            )


def _matplotlib_png(rgba: np.ndarray, dpi: float) -> bytes:
    """A frame as matplotlib's ``savefig(format="png")`` writes it (``print_png`` →
    ``mpl.image.imsave``), flattened onto white as its ``HTMLWriter`` (no transparency) has it."""
    if (rgba[..., 3] != 255).any():
        rgba = np.concatenate([on_white(rgba), np.full((*rgba.shape[:2], 1), 255, np.uint8)], -1)
    buffer = io.BytesIO()
    mpl.image.imsave(buffer, rgba, format="png", origin="upper", dpi=dpi)
    return buffer.getvalue()


def matplotlib_jshtml(rendering: Rendering, interval: float, default_mode: str = "loop") -> str:
    """matplotlib's ``to_jshtml()`` of the frames of `rendering`, without drawing them again:
    its ``HTMLWriter`` fed with each spooled frame as matplotlib's PNG. `interval` is ms per
    frame. Every frame is kept: matplotlib's ``animation.embed_limit`` (past which it drops
    frames, only logging) is lifted, and :class:`~descent.codec.EmbedLimitError` is raised
    should its writer still stop.
    """
    pngs = _ahead(functools.partial(_matplotlib_png, dpi=rendering.dpi), rendering.spool)
    writer = _ReplayHTMLWriter(
        pngs,
        fps=1000 / interval,
        codec="none",
        embed_frames=True,
        default_mode=default_mode,
        embed_limit=math.inf,  # every frame: matplotlib would drop those past its limit
    )
    with TemporaryDirectory() as folder:
        path = Path(folder, "temp.html")
        writer.setup(_SizeOnly(rendering), path, rendering.dpi)
        try:
            for _ in range(len(rendering.spool)):
                writer.grab_frame()
        finally:
            writer.finish()
        return path.read_text()


def _ahead(function: Callable[[T], R], items: Iterable[T], window: int = _QUEUED) -> Iterator[R]:
    """``function(item)`` for each of `items`, in order, computed on two threads up to
    `window` items ahead of the consumer (PNG encoding runs without the GIL)."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="descent-png") as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) > window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _SizeOnly:
    """What ``HTMLWriter.setup`` reads of a figure: its size and dpi (no figure is touched)."""

    def __init__(self, rendering: Rendering) -> None:
        self.dpi = rendering.dpi
        width, height = rendering.size
        self._inches = np.array([width / self.dpi, height / self.dpi])

    def get_size_inches(self) -> np.ndarray:
        return self._inches


def worst_psnr(rendering: Rendering) -> float:
    """The lowest per-frame PSNR (dB) of `rendering`, ``inf`` if every frame is exact."""
    return min(rendering.psnr, default=math.inf)
