"""Our player for every matplotlib animation a notebook displays: :func:`use_player`.

``descent.use_player()`` (a visible call, in the notebook itself, so a reader who downloads
the chapter gets the same player) registers a ``text/html`` formatter for
``matplotlib.animation.Animation`` with IPython's display formatter. Then a cell whose last
value is an animation, such as the notes'
``animation.FuncAnimation(fig, animate, np.arange(0, 100), interval=20)``, shows our light,
accessible, deterministic player, drawn once (:meth:`descent.animation.JsAnimation.of`),
instead of matplotlib's ``_repr_html_`` (which shows nothing unless
``rc('animation', html=…)`` is set).
The formatter closes the animation's figure in pyplot, so the inline backend does not also show
the static figure at the end of the cell; an animation displayed twice is drawn once.

A displayed animation needs a text alternative and a caption, given beforehand with
:func:`describe` (on the animation or on its figure). Without them the player still shows,
with a generic text alternative, and a :class:`MissingDescriptionWarning` is issued: on the
kernel's stderr, which the book's strict build (``stderr_output: warn`` under ``-W``) turns
into an error naming the chapter.

Source: IPython's ``DisplayFormatter`` and ``BaseFormatter.for_type`` (IPython.core.formatters).
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.animation import Animation
from matplotlib.figure import Figure

from .._checks import check_labels, check_text

__all__ = ["MissingDescriptionWarning", "describe", "use_player"]


class MissingDescriptionWarning(UserWarning):
    """An animation was displayed without a text alternative or a caption."""


warnings.simplefilter("always", MissingDescriptionWarning)

_descriptions: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def describe(
    target: Animation | Figure,
    *,
    alt: str,
    caption: str,
    labels: Sequence[str] | None = None,
    slider_label: str = "Frame",
) -> Animation | Figure:
    """Give the animation `target` (or every animation of the figure `target`) its text
    alternative `alt`, its `caption`, and optionally one label per frame and the slider's
    label, for when it is displayed (:func:`use_player`). Returns `target`.

    Raises TypeError if `target` is neither an ``Animation`` nor a ``Figure``, if `alt`,
    `caption` or `slider_label` is not a str, or `labels` is one str or not a sequence;
    ValueError if one of those texts is blank or the animation was already shown.
    """
    if not isinstance(target, Animation | Figure):
        raise TypeError(
            f"target must be a matplotlib Animation or Figure, got {type(target).__name__}"
        )
    for name, text in (("alt", alt), ("caption", caption), ("slider_label", slider_label)):
        check_text(text, name)
    labels = None if labels is None else check_labels(labels)
    if getattr(target, "_descent_player", None) is not None:
        raise ValueError(
            "target was already shown, and its player drawn with its first description: "
            "describe an animation before showing it"
        )
    _descriptions[target] = {
        "alt": alt,
        "caption": caption,
        "labels": labels,
        "slider_label": slider_label,
    }
    return target


def player_html(animation: Animation) -> str:
    """The player of `animation` as HTML, described by :func:`describe` (warning with
    :class:`MissingDescriptionWarning` if it was not); drawn once per animation."""
    from ..animation import JsAnimation  # descent.animation imports this package

    player = getattr(animation, "_descent_player", None)
    if player is None:
        description = _descriptions.get(animation) or _descriptions.get(animation._fig)
        if description is None:
            warnings.warn(
                "an animation was displayed without a text alternative and a caption: call "
                "descent.describe(animation_or_figure, alt=..., caption=...) before showing it",
                MissingDescriptionWarning,
                stacklevel=2,
            )
            description = {"alt": "An animation (not described).", "caption": None}
        player = JsAnimation.of(animation, **description)
        animation._descent_player = player
    plt.close(animation._fig)  # else the inline backend also shows the static figure
    return player.to_html()


def use_player() -> bool:
    """Show every matplotlib ``Animation`` that IPython displays with our player. Returns
    whether it was registered (False outside IPython, where nothing displays animations)."""
    try:
        from IPython import get_ipython  # optional: only in a notebook
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(Animation, player_html)
    formatters["text/plain"].for_type(Animation, _plain_text)
    return True


def _plain_text(animation: Animation, printer, cycle: bool) -> None:
    """The text an animation shows as: its class, not its memory address (which would make
    every executed notebook differ)."""
    printer.text(f"<{type(animation).__name__}, played by descent's player>")
