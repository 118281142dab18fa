"""The equivalence ladder: one gradient descent, written three ways.

1. :func:`descent.train.fit` — the notes' loop: a bare ``nn.Parameter``, ``loss.backward()``,
   ``a.sub_(lr * a.grad)``.
2. :func:`fit_module` — PyTorch's idiom: the model is a module, :class:`Line`, and
   ``torch.optim.SGD`` does the update.
3. :func:`fit_learner` — fastai's idiom: a ``Learner`` over ``DataLoaders``, with fastai's
   own ``SGD`` optimizer (no momentum, no weight decay), one full batch per epoch.

Each rung only packages the one below it: for the same data, start and learning rate, all
three visit the same parameters, and their Histories agree to float rounding.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from types import SimpleNamespace

import torch
from torch import Tensor, nn

from ._checks import ArrayLike, PairLike, as_pair, check_lr, check_steps, check_xy
from .loss import mse
from .train import History, Trace, autograd_on

__all__ = ["Line", "fit_learner", "fit_module"]


class Line(nn.Module):
    """The model ``y_hat = x @ a``, with one parameter ``a = (slope, intercept)`` of shape (2,)."""

    def __init__(self, a0: PairLike = (0.0, 0.0)) -> None:
        super().__init__()
        self.a = nn.Parameter(as_pair(a0, "a0"))

    def forward(self, x: Tensor) -> Tensor:
        """x: ``(n, 2)`` → predictions ``(n,)``."""
        return x @ self.a


@autograd_on()
def fit_module(x: ArrayLike, y: ArrayLike, a0: PairLike, *, lr: float, steps: int) -> History:
    """Full-batch gradient descent with ``torch.optim.SGD`` on a :class:`Line` module.

    Same arguments and History as ``fit`` (full batch); stops with ``overflowed=True`` when the
    loss or the parameters stop being finite. Runs the same under ``torch.no_grad()``.
    """
    x, y = check_xy(x, y)
    lr, steps = check_lr(lr), check_steps(steps)
    model = Line(a0)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.0, weight_decay=0.0)
    trace = Trace(x, y, model.a)
    for _ in range(steps):
        loss = mse(y, model(x))
        loss.backward()
        opt.step()
        opt.zero_grad()
        if not trace.record(model.a):
            break
    return trace.history(lr=lr, batch_size=None)


@contextmanager
def _global_rng_kept() -> Iterator[None]:
    """Restore torch's and Python's global RNG states on exit.

    Importing fastai draws from Python's ``random``; its DataLoader draws from both (to seed
    workers) even when it does not shuffle. The book's later cells must not feel that.
    """
    state = random.getstate()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        random.setstate(state)


def _fastai() -> SimpleNamespace:
    """The few fastai names `fit_learner` uses, imported on first call (fastai is slow to load)."""
    with warnings.catch_warnings():
        # fastai.layers decorates functions with @torch.jit.script at import time, and torch
        # 2.13 deprecates torch.jit.script with a DeprecationWarning, which pytest and
        # `python -W default` would print. Only that warning is silenced, only here.
        warnings.filterwarnings(
            "ignore",
            message=r"`torch\.jit\.script` is deprecated",
            category=DeprecationWarning,
            module=r"torch\.jit",
        )
        from fastai.callback.core import Callback, CancelFitException, CancelValidException
        from fastai.data.core import DataLoaders
        from fastai.data.load import DataLoader
        from fastai.learner import Learner
        from fastai.optimizer import SGD
    return SimpleNamespace(
        Callback=Callback,
        CancelFitException=CancelFitException,
        CancelValidException=CancelValidException,
        DataLoaders=DataLoaders,
        DataLoader=DataLoader,
        Learner=Learner,
        SGD=SGD,
    )


def _loss_func(y_hat: Tensor, y: Tensor) -> Tensor:
    """fastai calls ``loss_func(prediction, target)``; our mse takes ``(y, y_hat)``."""
    return mse(y, y_hat)


def _learner(fa: SimpleNamespace, x: Tensor, y: Tensor, model: Line, trace: Trace):
    """A quiet fastai Learner: full batch, no shuffle, plain SGD, recording into `trace`."""

    class RecordSteps(fa.Callback):
        """Record ``a`` after every optimizer step; skip validation (the trace has the loss)."""

        def after_step(self) -> None:
            if not trace.record(self.learn.model.a):
                raise fa.CancelFitException

        def before_validate(self) -> None:
            raise fa.CancelValidException

    cpu = torch.device("cpu")
    dataset = torch.utils.data.TensorDataset(x, y)

    def loader():
        return fa.DataLoader(dataset, bs=len(x), shuffle=False, drop_last=False, device=cpu)

    dls = fa.DataLoaders(loader(), loader(), device=cpu)  # fastai requires a valid set
    learn = fa.Learner(
        dls,
        model,
        loss_func=_loss_func,
        opt_func=partial(fa.SGD, mom=0.0, wd=0.0),
        cbs=[RecordSteps()],
    )
    if hasattr(learn, "progress"):  # present once anything imported fastai.callback.progress
        learn.remove_cb(learn.progress)
    return learn


@autograd_on()
def fit_learner(x: ArrayLike, y: ArrayLike, a0: PairLike, *, lr: float, steps: int) -> History:
    """Full-batch gradient descent through fastai's ``Learner``: `steps` epochs of one batch.

    Same arguments and History as ``fit`` (full batch). Prints nothing (no progress bar, no
    table of losses), writes no files, and leaves the global RNG states as it found them.
    Runs the same under ``torch.no_grad()``. Imports fastai on first use, which takes a few
    seconds.
    """
    x, y = check_xy(x, y)
    lr, steps = check_lr(lr), check_steps(steps)
    model = Line(a0)
    trace = Trace(x, y, model.a)
    with _global_rng_kept():
        learn = _learner(_fastai(), x, y, model, trace)
        with learn.no_logging():
            learn.fit(steps, lr=lr)
    return trace.history(lr=lr, batch_size=None)
