"""The loss, and the exact geometry of the bowl it makes.

For data ``x`` (n, 2) and ``y`` (n,), the mean squared error of the line ``x @ a`` is::

    L(a) = (1/n) ‖x a − y‖²

a quadratic in ``a``, so everything about it is known in closed form::

    gradient   ∇L(a) = (2/n) xᵀ(x a − y)
    Hessian    H = (2/n) xᵀx            (the same at every a)
    minimum    a* solves xᵀx a* = xᵀy   (least squares)
    shape      L(a) = L(a*) + ½ (a − a*)ᵀ H (a − a*)

Gradient descent ``a ← a − lr ∇L(a)`` therefore moves as ``a_t − a* = (I − lr H)ᵗ (a0 − a*)``:
along each eigenvector e_i of H (eigenvalue λ_i) the error shrinks by the factor ``1 − lr λ_i``
per step. It converges iff every ``|1 − lr λ_i| < 1``, i.e. iff ``lr < 2 / λmax``.

The closed forms here compute in float64 and return float32, the dtype the book trains in.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

from ._checks import (
    ArrayLike,
    PairLike,
    as_pair,
    check_lr,
    check_steps,
    check_tensor,
    check_x,
    check_xy,
)

__all__ = [
    "Eigen",
    "critical_lr",
    "eigen",
    "hessian",
    "least_squares",
    "min_mse",
    "mse",
    "mse_grad",
    "predicted_excess_loss",
    "predicted_excess_terms",
]


def mse(y: Tensor, y_hat: Tensor) -> Tensor:
    """Mean squared error ``mean((y − y_hat)²)``, a 0-d tensor (differentiable).

    `y` and `y_hat` must have exactly the same shape, typically ``(n,)``. Torch would happily
    broadcast a ``(n,)`` target against a ``(n, 1)`` prediction into an ``(n, n)`` matrix of
    every pairwise difference and return the mean of *that*: a finite, plausible, wrong
    number. So a shape mismatch raises ValueError here instead.
    """
    y, y_hat = check_tensor(y, "y"), check_tensor(y_hat, "y_hat")
    if y.shape != y_hat.shape:
        raise ValueError(
            f"y and y_hat must have the same shape, got {tuple(y.shape)} and "
            f"{tuple(y_hat.shape)} (torch would broadcast them)"
        )
    if y.numel() == 0:
        raise ValueError("y must not be empty, got shape " + str(tuple(y.shape)))
    return ((y - y_hat) ** 2).mean()


def mse_grad(x: ArrayLike, y: ArrayLike, a: PairLike) -> Tensor:
    """The analytic gradient ``∇L(a) = (2/n) xᵀ(x a − y)``, shape ``(2,)``.

    x: ``(n, 2)``, y: ``(n,)``, a: ``(2,)``. What ``loss.backward()`` puts in ``a.grad``.
    """
    x, y = check_xy(x, y)
    x, y, a = x.double(), y.double(), as_pair(a, "a").double()
    return (2 / len(x) * x.T @ (x @ a - y)).float()


def _hessian64(x: Tensor) -> Tensor:
    """``(2/n) xᵀx`` in float64, for an already-checked ``x`` of shape ``(n, 2)``."""
    x = x.double()
    return 2 / len(x) * x.T @ x


def hessian(x: ArrayLike) -> Tensor:
    """The Hessian of the loss, ``H = (2/n) xᵀx``, shape ``(2, 2)``; free of y and a."""
    return _hessian64(check_x(x)).float()


class Eigen(NamedTuple):
    """Eigen-decomposition of the Hessian: ``H = vectors @ diag(values) @ vectors.T``."""

    values: Tensor
    """``(2,)``, ascending: λmin, λmax (the bowl's curvature along each axis)."""
    vectors: Tensor
    """``(2, 2)``, orthonormal; column ``vectors[:, i]`` belongs to ``values[i]``."""


def _eigen64(x: Tensor) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors of the Hessian, float64, signs fixed."""
    values, vectors = torch.linalg.eigh(_hessian64(x))
    biggest = vectors.abs().argmax(dim=0)  # per column, the row of its largest entry
    signs = torch.sign(vectors[biggest, torch.arange(2)])
    return values, vectors * signs


def eigen(x: ArrayLike) -> Eigen:
    """Eigenvalues (ascending, shape ``(2,)``) and eigenvectors (columns, ``(2, 2)``) of H.

    Each eigenvector's sign is fixed so that its largest-magnitude entry is positive, so
    the arrows a plot draws along them are the same on every machine.
    """
    values, vectors = _eigen64(check_x(x))
    return Eigen(values.float(), vectors.float())


def least_squares(x: ArrayLike, y: ArrayLike) -> Tensor:
    """The minimiser ``a*`` of the loss in closed form, shape ``(2,)``.

    Solves ``min ‖x a − y‖`` with ``torch.linalg.lstsq`` in float64 (the minimum-norm
    solution if x has rank < 2, e.g. n = 1), returned as float32.
    """
    x, y = check_xy(x, y)
    solution = torch.linalg.lstsq(x.double(), y.double()[:, None]).solution
    return solution[:, 0].float()


def min_mse(x: ArrayLike, y: ArrayLike) -> float:
    """The lowest loss any line reaches, ``L(a*)`` with ``a* = least_squares(x, y)``.

    x: ``(n, 2)``, y: ``(n,)``, any real dtype; computed in float64 (a float32 loss is no finer
    than about one part in 10⁷ of itself, too coarse to subtract from a loss near the floor).
    Raises ValueError or TypeError, naming the argument, for the inputs ``least_squares``
    refuses.
    """
    x, y = check_xy(x, y)
    a_star = least_squares(x, y).double()
    return float(mse(y.double(), x.double() @ a_star))


def critical_lr(x: ArrayLike) -> float:
    """The learning rate ``2 / λmax`` at which gradient descent stops converging.

    Below it the loss falls every step; above it the error along the steepest direction
    grows by ``|1 − lr λmax| > 1`` per step. ``inf`` if H = 0 (x all zeros).
    """
    lam_max = float(_eigen64(check_x(x))[0][-1])
    return 2 / lam_max if lam_max > 0 else math.inf


def predicted_excess_terms(
    x: ArrayLike, a0: PairLike, a_star: PairLike, lr: float, steps: int
) -> Tensor:
    """Full-batch gradient descent's excess loss, split per eigen-direction: ``(steps+1, 2)``.

    Row t, column i is ``½ λ_i (e_iᵀ(a0 − a*))² (1 − lr λ_i)^{2t}``: the part of
    ``L(a_t) − L(a*)`` along the eigenvector e_i (columns in the order of ``eigen(x)``,
    ascending λ). Each column is geometric with ratio ``(1 − lr λ_i)²`` per step, so on a
    log axis it is a straight line. Exact for this quadratic loss when `a_star` is the least
    squares solution; entries may be ``inf`` when lr is far above critical.
    """
    x = check_x(x)
    a0, a_star = as_pair(a0, "a0").double(), as_pair(a_star, "a_star").double()
    lr, steps = check_lr(lr), check_steps(steps)
    values, vectors = _eigen64(x)
    c = vectors.T @ (a0 - a_star)  # a0 − a* in the eigenbasis
    scale = 0.5 * values * c**2  # the excess at t = 0, per direction
    t = torch.arange(steps + 1, dtype=torch.float64)[:, None]
    decay = ((1 - lr * values) ** 2) ** t
    terms = torch.where(scale == 0, 0.0, scale * decay)  # 0, not 0·inf = nan
    return terms.float()


def predicted_excess_loss(
    x: ArrayLike, a0: PairLike, a_star: PairLike, lr: float, steps: int
) -> Tensor:
    """Predicted ``L(a_t) − L(a*)`` for t = 0..steps of full-batch gradient descent: ``(steps+1,)``.

    ``Σ_i ½ λ_i (e_iᵀ(a0 − a*))² (1 − lr λ_i)^{2t}``, the sum of `predicted_excess_terms`.
    Add ``mse(y, x @ a_star)`` to get the loss curve itself.
    """
    return predicted_excess_terms(x, a0, a_star, lr, steps).sum(dim=1)
