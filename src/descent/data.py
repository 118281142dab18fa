"""The data: points scattered around a line, as in fastai's ``lesson2-sgd`` notes.

The notes write::

    n = 100
    x = torch.ones(n, 2); x[:, 0].uniform_(-1., 1)
    a = tensor(3., 2)
    y = x @ a + torch.rand(n)

so row ``i`` of ``x`` is ``(x_i, 1)`` and ``y_i = 3 x_i + 2 + noise_i``: the second column of
ones turns the intercept into a second weight. :func:`linear_data` makes exactly this, from its
own random generator, so the book's numbers never depend on what ran before.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import PairLike, as_pair, check_choice, check_n, check_seed

__all__ = ["NOISES", "SEED", "linear_data"]

SEED = 0
"""The book's one seed. Every random draw in the book (data, mini-batches) starts from it,
so each chapter shows the same numbers on every build."""

NOISES = ("uniform", "normal")
"""The noise models. ``"uniform"`` is U(0, 1), the notes' ``torch.rand(n)``;
``"normal"`` is N(0, 0.25²), the noise in fastai's course version of the notebook."""

NORMAL_STD = 0.25


def _noise(kind: str, n: int, generator: torch.Generator) -> Tensor:
    """``n`` draws of the named noise, shape ``(n,)``."""
    if kind == "uniform":
        return torch.rand(n, generator=generator, dtype=torch.float32)
    return NORMAL_STD * torch.randn(n, generator=generator, dtype=torch.float32)


def linear_data(
    n: int = 100,
    a: PairLike = (3.0, 2.0),
    *,
    noise: str = "uniform",
    seed: int = SEED,
) -> tuple[Tensor, Tensor]:
    """``n`` noisy points on the line ``y = a[0]·x + a[1]``.

    Returns ``(x, y)``: ``x`` of shape ``(n, 2)`` float32 with ``x[:, 0] ~ U(-1, 1)`` and
    ``x[:, 1] == 1``; ``y = x @ a + noise`` of shape ``(n,)``.

    The draws come from a private ``torch.Generator`` seeded with `seed`, in the notes' order
    (``x`` first, then the noise), so the global RNG is never touched, the same seed always
    gives the same tensors, and with ``torch.manual_seed(seed)`` the notes' own code gives
    the same numbers as ``linear_data(seed=seed)``.
    """
    n = check_n(n)
    a = as_pair(a, "a")
    noise = check_choice(noise, "noise", NOISES)
    generator = torch.Generator().manual_seed(check_seed(seed))
    x = torch.ones(n, 2, dtype=torch.float32)  # float32 whatever torch's default dtype
    x[:, 0].uniform_(-1.0, 1.0, generator=generator)
    y = x @ a + _noise(noise, n, generator)
    return x, y
