"""Training: the notes' gradient-descent loop, with a record of every step.

The notes' loop is::

    a = nn.Parameter(a)
    for t in range(steps):
        loss = mse(y, x @ a)
        loss.backward()
        with torch.no_grad():
            a.sub_(lr * a.grad)
            a.grad.zero_()

:func:`sgd_step` is one turn of that loop, word for word; :func:`fit` runs it and returns a
:class:`History` of the parameters and the full-data loss after every step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ._checks import (
    ArrayLike,
    PairLike,
    as_float32,
    as_pair,
    check_batch_size,
    check_grad_empty,
    check_int,
    check_lr,
    check_param,
    check_seed,
    check_steps,
    check_xy,
)
from .data import SEED
from .loss import mse

__all__ = ["History", "fit", "sgd_step"]

RISE_TOLERANCE = 1e-5
"""Relative rise of the last loss that counts as rising (``History.diverged``): well above
float32's wobble of about one ulp (3e-7 relative) at the minimum."""


@dataclass(frozen=True)
class History:
    """What a run of gradient descent did, one row per visited point ``a_t``.

    Attributes:
        params: ``(T, 2)`` float32; row 0 is the start ``a0``, row t the parameters after
            t steps.
        losses: ``(T,)`` float32; ``losses[t]`` is the FULL-data mse at ``params[t]`` (also
            for mini-batch runs, whose steps each see only a batch).
        overflowed: True if the run stopped early because the loss or the parameters
            overflowed float32 (stopped being finite); the rows kept are the finite ones, so
            nothing here is NaN or inf. Whether the run *diverged* is :attr:`diverged`.
        lr: the learning rate.
        batch_size: rows per step, or None for full batch.

    A History holds values only: `params` and `losses` may be given as any real tensors or
    arrays (e.g. a hand-written loop's record that still requires grad) and are kept as
    detached float32 tensors. Wrong shapes or non-finite entries raise ValueError, wrong
    types TypeError, each naming the field.
    """

    params: Tensor
    losses: Tensor
    overflowed: bool
    lr: float
    batch_size: int | None

    def __post_init__(self) -> None:
        params = as_float32(self.params, "params")
        losses = as_float32(self.losses, "losses")
        T = len(params) if params.ndim else 0
        if params.shape != (T, 2) or losses.shape != (T,) or T < 1:
            raise ValueError(
                f"History needs params (T, 2) and losses (T,) with T >= 1, got "
                f"{tuple(params.shape)} and {tuple(losses.shape)}"
            )
        if not isinstance(self.overflowed, bool | np.bool_):
            raise TypeError(f"overflowed must be a bool, got {type(self.overflowed).__name__}")
        batch_size = self.batch_size
        if batch_size is not None:
            batch_size = check_int(batch_size, "batch_size", low=1)
        fields = {
            "params": params,
            "losses": losses,
            "overflowed": bool(self.overflowed),
            "lr": check_lr(self.lr),
            "batch_size": batch_size,
        }
        for name, value in fields.items():  # frozen: set through object
            object.__setattr__(self, name, value)

    @property
    def final(self) -> Tensor:
        """The last parameters reached, shape ``(2,)``."""
        return self.params[-1]

    @property
    def steps(self) -> int:
        """The number of steps taken and kept, ``T − 1``."""
        return len(self.params) - 1

    @property
    def diverged(self) -> bool:
        """Whether the run diverged (overflowed, or its loss rose).

        True if it overflowed (:attr:`overflowed`), if its loss ended above where it started,
        or, for full batch, if its loss was still rising at the last step. Full-batch descent
        on this quadratic loss never raises the loss below the critical rate, so a rise at the
        end means a direction is growing, even while the loss is still below its start (just
        above the critical rate, the slow direction's fall can hide that for a while).
        Mini-batch losses rise by chance, so for them only the first two tests apply. A rise
        counts if it exceeds ``RISE_TOLERANCE`` (``1e-5``) of the loss before it.
        """
        losses = self.losses
        if self.overflowed or float(losses[-1]) > float(losses[0]):
            return True
        if self.batch_size is not None or len(losses) < 2:
            return False
        return float(losses[-1]) > float(losses[-2]) * (1 + RISE_TOLERANCE)

    @property
    def outcome(self) -> str:
        """How the run ended, in a few words.

        ``"MSE 0.083"``, or how it diverged (``"diverged: overflow at step 17"``,
        ``"diverged: MSE rose to 1.2e+03"``).
        """
        if self.overflowed:
            return f"diverged: overflow at step {self.steps + 1}"
        if self.diverged:
            return f"diverged: MSE rose to {float(self.losses[-1]):.3g}"
        return f"MSE {float(self.losses[-1]):.3f}"


class Trace:
    """Builds a History row by row: the parameters after each step and the full-data loss there.

    The training loops (``fit`` here, ``fit_module`` and ``fit_learner`` in ``ladder``) share
    it, so they record and detect an overflow the same way.
    """

    def __init__(self, x: Tensor, y: Tensor, a0: Tensor) -> None:
        self.x, self.y = x, y
        self.params: list[Tensor] = []
        self.losses: list[Tensor] = []
        self.overflowed = False
        if not self.record(a0):
            raise ValueError(
                f"the loss at a0 = {a0.tolist()} is not finite: "
                "x, y or a0 are too large for float32"
            )

    def record(self, a: Tensor) -> bool:
        """Append ``a`` and ``L(a)`` if both are finite; else flag the overflow, return False."""
        with torch.no_grad():
            a = a.detach().clone()
            loss = mse(self.y, self.x @ a)
        if not (torch.isfinite(a).all() and torch.isfinite(loss)):
            self.overflowed = True
            return False
        self.params.append(a)
        self.losses.append(loss)
        return True

    def history(self, *, lr: float, batch_size: int | None) -> History:
        """The rows recorded so far, as a History."""
        return History(
            torch.stack(self.params), torch.stack(self.losses), self.overflowed, lr, batch_size
        )


@contextmanager
def autograd_on() -> Iterator[None]:
    """Autograd on for the block, whatever the caller's mode: the training loops need it.

    A caller's ``torch.no_grad()``, ``torch.set_grad_enabled(False)`` or
    ``torch.inference_mode()`` would otherwise make ``loss.backward()`` fail deep inside
    torch. Also usable as a decorator.
    """
    with torch.inference_mode(False), torch.enable_grad():
        yield


@autograd_on()
def sgd_step(a: nn.Parameter, x: Tensor, y: Tensor, lr: float) -> Tensor:
    """One step of gradient descent on ``L(a) = mse(y, x @ a)``, in place: ``a ← a − lr ∇L(a)``.

    a: ``(2,)`` parameter (``requires_grad``), x: ``(b, 2)``, y: ``(b,)``. The gradient comes
    from autograd, exactly as in the notes, and ``a.grad`` is zero afterwards. Returns
    ``L(a)`` before the step (0-d, detached). Works the same under ``torch.no_grad()``.

    Raises ValueError if ``a.grad`` already holds a non-zero gradient (from a ``backward()``
    the caller ran): ``backward()`` adds into ``a.grad``, so the step would move by that old
    gradient plus this one. Clear it first (``a.grad = None``).
    """
    check_grad_empty(check_param(a))
    x, y = check_xy(x, y)
    lr = check_lr(lr)
    loss = mse(y, x @ a)
    loss.backward()
    with torch.no_grad():
        a.sub_(lr * a.grad)
        a.grad.zero_()
    return loss.detach()


def _batches(n: int, batch_size: int | None, seed: int) -> Iterator[Tensor | slice]:
    """The rows each step uses: all of them, or `batch_size` distinct rows drawn afresh
    each step from a private generator seeded with `seed`."""
    if batch_size is None:
        while True:
            yield slice(None)
    generator = torch.Generator().manual_seed(seed)
    while True:
        yield torch.randperm(n, generator=generator)[:batch_size]


@autograd_on()
def fit(
    x: ArrayLike,
    y: ArrayLike,
    a0: PairLike,
    *,
    lr: float,
    steps: int,
    batch_size: int | None = None,
    seed: int | None = None,
) -> History:
    """Fit ``y ≈ x @ a`` from ``a0`` by `steps` steps of (stochastic) gradient descent.

    x: ``(n, 2)``, y: ``(n,)``, a0: two numbers. Full batch by default (then the History has
    ``steps + 1`` rows); with `batch_size`, each step uses that many distinct rows sampled
    from a private ``torch.Generator`` seeded with `seed` (default ``SEED``), so runs are
    reproducible and the global RNG is untouched. `seed` is unused for full batch.

    If the loss or the parameters stop being finite (lr too large), the run stops there and
    returns the finite rows with ``overflowed=True``. Runs the same under ``torch.no_grad()``.
    """
    x, y = check_xy(x, y)
    a0 = as_pair(a0, "a0")
    lr, steps = check_lr(lr), check_steps(steps)
    batch_size = check_batch_size(batch_size, len(x))
    seed = SEED if seed is None else check_seed(seed)

    trace = Trace(x, y, a0)
    a = nn.Parameter(a0.clone())
    batches = _batches(len(x), batch_size, seed)
    for _ in range(steps):
        rows = next(batches)
        sgd_step(a, x[rows], y[rows], lr)
        if not trace.record(a):
            break
    return trace.history(lr=lr, batch_size=batch_size)
