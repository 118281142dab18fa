"""Argument validation: the one place where `descent` checks what it is given.

Every public function in the package validates its arguments with these helpers, so a
mistake fails at once, with a message that names the argument, instead of deep inside torch.
The rules:

- a value of the wrong *kind* (a str where a number belongs, a dict for a pair, a float
  number of steps) raises ``TypeError``;
- a value of the right kind but the wrong *size* or *range* (three numbers for a pair, a
  negative lr, a NaN) raises ``ValueError``;
- every message reads ``"<name> must be <rule>, got <value>"``.

Each check returns the value in the form the library computes with (a float32 tensor, a
Python ``float`` or ``int``), so callers write ``lr = check_lr(lr)`` and move on.

Public helpers (stable names; other modules of the package import them), plus the type
aliases ``PairLike`` and ``ArrayLike`` for signatures:

=========================================  =================================================
``as_pair(value, name)``                   two finite real numbers → float32 tensor ``(2,)``
``check_x(x, name="x")``                   inputs → float32 tensor ``(n, 2)``, n ≥ 1
``check_xy(x, y)``                         inputs and targets → ``(n, 2)`` and ``(n,)``
``check_tensor(value, name)``              a floating-point ``torch.Tensor``, unchanged
``check_param(a, name="a")``               a trainable ``(2,)`` leaf tensor, unchanged
``check_grad_empty(a, name="a")``          a tensor whose ``.grad`` is None or all zero
``as_float32(value, name)``                finite real tensor/array → detached float32 tensor
``check_float(value, name, positive=)``    a finite real number → ``float``
``check_int(value, name, low=, high=)``    an int in ``low..high`` → ``int``
``check_lr(lr)``                           a finite number > 0 → ``float``
``check_steps(steps)``                     an int ≥ 0 → ``int``
``check_n(n)``                             an int ≥ 1 → ``int``
``check_batch_size(batch_size, n)``        ``None`` or an int in ``1..n``
``check_seed(seed)``                       an int in ``0..2**64 - 1`` (what torch accepts)
``check_choice(value, name, choices)``     one of a few strings → ``str``
``check_lrs(lrs)``                         increasing finite numbers > 0 → ``list[float]``
``check_history(history, name=)``          a `descent.train.History`, unchanged
``check_histories(histories)``             a History or a non-empty sequence → list
``check_axes(ax)``                         a matplotlib ``Axes``, unchanged
=========================================  =================================================
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:  # the checks below import these when called: train and plots import _checks
    from matplotlib.axes import Axes

    from .train import History

__all__ = [
    "ArrayLike",
    "PairLike",
    "as_float32",
    "as_pair",
    "check_axes",
    "check_batch_size",
    "check_choice",
    "check_float",
    "check_grad_empty",
    "check_histories",
    "check_history",
    "check_int",
    "check_lr",
    "check_lrs",
    "check_n",
    "check_param",
    "check_seed",
    "check_steps",
    "check_tensor",
    "check_x",
    "check_xy",
]

PairLike = Sequence[float] | Tensor | np.ndarray
"""What `as_pair` accepts: ``(3.0, 2.0)``, ``[3, 2]``, ``tensor([3., 2.])``, an array."""

ArrayLike = Tensor | np.ndarray
"""What `check_x` and `check_xy` accept."""

MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed accepts 0..2**64 - 1


def _describe(value: Any) -> str:
    """`repr` of a value plus its type, short enough for an error message."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def _is_bool(value: Any) -> bool:
    """True for Python and NumPy booleans (which would otherwise pass as the ints 0 and 1)."""
    return isinstance(value, bool | np.bool_)


def _is_real_dtype(dtype: torch.dtype) -> bool:
    """True for the integer and floating dtypes: not bool, not complex."""
    return dtype != torch.bool and not dtype.is_complex


def _real(value: Any, name: str) -> float:
    """A real number (Python, NumPy, or a 0-d real tensor/array) as a float; not a bool."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return float(value)
    if isinstance(value, Tensor) and value.ndim == 0 and _is_real_dtype(value.dtype):
        return float(value.item())
    if isinstance(value, numbers.Real) and not _is_bool(value):
        return float(value)
    raise TypeError(f"{name} must be a real number, got {_describe(value)}")


def check_float(value: Any, name: str, *, positive: bool = False) -> float:
    """A finite real number (and > 0 if `positive`), as a Python float.

    Accepts ``int``, ``float``, NumPy scalars and 0-d tensors; rejects ``bool`` (TypeError).
    """
    number = _real(value, name)
    rule = "a finite number > 0" if positive else "a finite number"
    if not math.isfinite(number) or (positive and number <= 0):
        raise ValueError(f"{name} must be {rule}, got {number!r}")
    return number


def check_int(value: Any, name: str, *, low: int = 0, high: int | None = None) -> int:
    """An integer in ``low..high`` (inclusive; no upper bound if `high` is None), as an int.

    Accepts Python and NumPy integers; rejects ``bool`` and floats such as ``3.0`` (TypeError).
    """
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {_describe(value)}")
    number = int(value)
    if number < low or (high is not None and number > high):
        rule = f"an int >= {low}" if high is None else f"an int in {low}..{high}"
        raise ValueError(f"{name} must be {rule}, got {number!r}")
    return number


def check_lr(lr: Any) -> float:
    """The learning rate: a finite real number > 0, as a float."""
    return check_float(lr, "lr", positive=True)


def check_lrs(lrs: Any) -> list[float]:
    """Learning rates: a non-empty, strictly increasing sequence of finite numbers > 0."""
    if isinstance(lrs, Tensor | np.ndarray):
        lrs = lrs.tolist()
    if not isinstance(lrs, Sequence) or isinstance(lrs, str):
        raise TypeError(f"lrs must be a sequence of numbers, got {type(lrs).__name__}")
    if len(lrs) == 0:
        raise ValueError("lrs must not be empty")
    values = [check_float(lr, f"lrs[{i}]", positive=True) for i, lr in enumerate(lrs)]
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"lrs must be strictly increasing, got {values}")
    return values


def check_steps(steps: Any) -> int:
    """The number of gradient steps: an int >= 0."""
    return check_int(steps, "steps", low=0)


def check_n(n: Any) -> int:
    """The number of data points: an int >= 1."""
    return check_int(n, "n", low=1)


def check_seed(seed: Any) -> int:
    """A seed for ``torch.Generator.manual_seed``: an int in ``0..2**64 - 1``."""
    return check_int(seed, "seed", low=0, high=MAX_SEED)


def check_batch_size(batch_size: Any, n: int) -> int | None:
    """``None`` (full batch) or the number of rows per step: an int in ``1..n``."""
    if batch_size is None:
        return None
    return check_int(batch_size, "batch_size", low=1, high=n)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """One of a few allowed strings (TypeError if not a str, ValueError if not a choice)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_describe(value)}")
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_text(value: Any, name: str) -> str:
    """A non-empty str, e.g. a text alternative (TypeError if not a str, ValueError if blank)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_describe(value)}")
    if not value.strip():
        raise ValueError(f"{name} must be a non-empty str, got {value!r}")
    return value


def check_labels(labels: Any, name: str = "labels") -> list[str]:
    """One label per frame, as str: a sequence of them, not one str (TypeError otherwise)."""
    if isinstance(labels, str | bytes):
        raise TypeError(f"{name} must be a sequence of str (one per frame), got one str")
    try:
        return [str(label) for label in labels]
    except TypeError:
        raise TypeError(f"{name} must be a sequence of str, got {_describe(labels)}") from None


def check_tensor(value: Any, name: str) -> Tensor:
    """A floating-point ``torch.Tensor``, returned unchanged (same dtype, autograd graph kept)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(value)}")
    if not value.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value


def _real_tensor(value: Any, name: str) -> Tensor:
    """A real-valued Tensor or ndarray as a detached float32 tensor (TypeError otherwise).

    Whatever the caller left on it: ``requires_grad`` is dropped (the values are read, never
    differentiated), and a tensor made under ``torch.inference_mode()`` is copied into an
    ordinary one, which autograd may use.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
        value = torch.from_numpy(np.asarray(value, dtype=np.float32).copy())
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array, got {_describe(value)}")
    if not _is_real_dtype(value.dtype):
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    value = value.detach().to(torch.float32)
    return value.clone() if value.is_inference() else value


def _check_finite(t: Tensor, name: str) -> Tensor:
    """`t` itself, if every entry is finite (ValueError otherwise)."""
    finite = torch.isfinite(t)
    if not finite.all():
        bad = t[~finite]
        raise ValueError(
            f"{name} must contain only finite numbers, got {bad.numel()} "
            f"non-finite (first: {bad[0].item()!r})"
        )
    return t


def as_float32(value: ArrayLike, name: str) -> Tensor:
    """A tensor or array of finite real numbers, any shape, as a detached float32 tensor.

    ``requires_grad`` is dropped: the result holds the values only. A non-real dtype or
    another type raises TypeError, a NaN or inf ValueError.
    """
    return _check_finite(_real_tensor(value, name), name)


def as_pair(value: PairLike, name: str) -> Tensor:
    """Two finite real numbers, e.g. the parameters ``a = (slope, intercept)``.

    Accepts a list or tuple of two numbers, or a tensor/array of shape ``(2,)``. Returns a
    NEW float32 tensor of shape ``(2,)`` (detached: never an alias of the caller's tensor).
    A str, dict, set, ... raises TypeError; the wrong length or a NaN/inf raises ValueError.
    """
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError(f"{name} must have exactly two numbers, got {len(value)}: {value!r}")
        pair = torch.tensor([_real(v, f"each entry of {name}") for v in value])
    elif isinstance(value, Tensor | np.ndarray):
        pair = _real_tensor(value, name)
        if pair.shape != (2,):
            raise ValueError(f"{name} must have shape (2,), got {tuple(pair.shape)}")
    else:
        raise TypeError(
            f"{name} must be a list, tuple, tensor or array of two numbers, got {_describe(value)}"
        )
    return _check_finite(pair.to(torch.float32).clone(), name)


def check_x(x: ArrayLike, name: str = "x") -> Tensor:
    """The inputs: a tensor (or array) of shape ``(n, 2)``, n ≥ 1, of finite real numbers.

    Returns it as a detached float32 tensor (the same tensor when it already is one).
    """
    x = _real_tensor(x, name)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, 2) with n >= 1, got {tuple(x.shape)}")
    return _check_finite(x, name)


def check_xy(x: ArrayLike, y: ArrayLike) -> tuple[Tensor, Tensor]:
    """Inputs ``x`` of shape ``(n, 2)`` and targets ``y`` of shape ``(n,)``, as float32.

    A ``y`` of shape ``(n, 1)`` is refused: ``y - x @ a`` would broadcast to ``(n, n)``.
    """
    x = check_x(x)
    y = _real_tensor(y, "y")
    n = x.shape[0]
    if y.shape != (n,):
        raise ValueError(f"y must have shape (n,) = ({n},) to match x, got {tuple(y.shape)}")
    return x, _check_finite(y, "y")


def check_param(a: Any, name: str = "a") -> Tensor:
    """A trainable parameter: a finite float32 leaf tensor of shape ``(2,)`` with
    ``requires_grad``, not made under ``torch.inference_mode()`` (such a tensor cannot be
    updated in place). Raises TypeError for another dtype, ValueError otherwise.

    Returned unchanged (it is updated in place by a gradient step).
    """
    a = check_tensor(a, name)
    if a.shape != (2,):
        raise ValueError(f"{name} must have shape (2,), got {tuple(a.shape)}")
    if a.dtype != torch.float32:
        raise TypeError(f"{name} must be float32 (the data are float32), got {a.dtype}")
    if not a.requires_grad:
        raise ValueError(
            f"{name} must be a leaf tensor with requires_grad=True (e.g. nn.Parameter), "
            "got requires_grad=False"
        )
    if not a.is_leaf:
        raise ValueError(
            f"{name} must be a leaf tensor (e.g. nn.Parameter), got a tensor computed from "
            "others (a non-leaf): gradient descent updates leaves"
        )
    if not bool(torch.isfinite(a.detach()).all()):
        raise ValueError(f"{name} must be finite, got {a.detach().tolist()}")
    if a.is_inference():
        raise ValueError(
            f"{name} must be an ordinary tensor that can be updated in place, got an inference "
            "tensor (made under torch.inference_mode()): make it outside that block"
        )
    return a


def check_grad_empty(a: Tensor, name: str = "a") -> Tensor:
    """A parameter whose ``.grad`` holds nothing (None or all zeros), returned unchanged.

    ``backward()`` *adds* into ``.grad``, so a gradient left there by an earlier
    ``backward()`` would be added to the next one, and a step would move by their sum.
    """
    grad = a.grad
    if grad is not None and bool(grad.any()):
        raise ValueError(
            f"{name}.grad must be None or zero before a step (backward() adds into it, so "
            f"the step would use this left-over gradient plus its own), got "
            f"{name}.grad = {grad.tolist()}; clear it first with {name}.grad = None"
        )
    return a


def check_history(history: Any, name: str = "history") -> History:
    """A `descent.train.History` (TypeError otherwise), returned unchanged."""
    from .train import History

    if not isinstance(history, History):
        raise TypeError(f"{name} must be a descent.train.History, got {type(history).__name__}")
    return history


def check_histories(histories: Any) -> list[History]:
    """One History or a non-empty sequence of them, as a list."""
    from .train import History

    if isinstance(histories, History):
        return [histories]
    if not isinstance(histories, Sequence) or isinstance(histories, str):
        raise TypeError(
            f"histories must be a History or a sequence of them, got {type(histories).__name__}"
        )
    if len(histories) == 0:
        raise ValueError("histories must not be empty")
    return [check_history(h, f"histories[{i}]") for i, h in enumerate(histories)]


def check_axes(ax: Any) -> Axes:
    """A matplotlib ``Axes`` (TypeError otherwise), returned unchanged."""
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax
