"""The data: the notes' line plus noise, reproducible and independent of the global RNG."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from descent import SEED, linear_data

seeds = st.integers(0, 2**64 - 1)
pairs = st.tuples(*[st.floats(-10, 10)] * 2)


def test_default_is_the_notes_data():
    """With the global RNG seeded the same way, the notes' own code makes the same tensors."""
    x, y = linear_data()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        n = 100
        x_notes = torch.ones(n, 2)
        x_notes[:, 0].uniform_(-1.0, 1)
        a = torch.tensor([3.0, 2])
        y_notes = x_notes @ a + torch.rand(n)
    assert torch.equal(x, x_notes) and torch.equal(y, y_notes)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 500), a=pairs, noise=st.sampled_from(["uniform", "normal"]), seed=seeds)
def test_shapes_dtypes_and_columns(n, a, noise, seed):
    x, y = linear_data(n, a, noise=noise, seed=seed)
    assert x.shape == (n, 2) and y.shape == (n,)
    assert x.dtype == y.dtype == torch.float32
    assert torch.all(x[:, 1] == 1)
    assert torch.all((x[:, 0] >= -1) & (x[:, 0] < 1))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 300), a=pairs, seed=seeds)
def test_uniform_noise_lies_in_0_1(n, a, seed):
    x, y = linear_data(n, a, seed=seed)
    line = x.double().numpy() @ np.array(a, dtype=np.float32).astype(np.float64)
    residual = y.double().numpy() - line
    assert np.all(residual >= -1e-5) and np.all(residual < 1 + 1e-5)


@pytest.mark.parametrize(
    ("noise", "mean", "std"), [("uniform", 0.5, (1 / 12) ** 0.5), ("normal", 0.0, 0.25)]
)
def test_noise_distribution(noise, mean, std):
    n = 40_000
    x, y = linear_data(n, (3.0, 2.0), noise=noise, seed=7)
    residual = (y - x @ torch.tensor([3.0, 2.0])).double().numpy()
    assert abs(residual.mean() - mean) < 5 * std / n**0.5
    assert abs(residual.std() - std) < 0.01
    uniform_x = x[:, 0].double().numpy()
    assert abs(uniform_x.mean()) < 0.02 and abs(uniform_x.var() - 1 / 3) < 0.01


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 200), seed=seeds, noise=st.sampled_from(["uniform", "normal"]))
def test_same_seed_same_tensors_and_global_rng_untouched(n, seed, noise):
    before = torch.get_rng_state()
    first = linear_data(n, noise=noise, seed=seed)
    second = linear_data(n, noise=noise, seed=seed)
    assert torch.equal(torch.get_rng_state(), before)
    assert all(torch.equal(u, v) for u, v in zip(first, second, strict=True))


@settings(max_examples=20, deadline=None)
@given(seeds=st.lists(seeds, min_size=2, max_size=2, unique=True))
def test_different_seeds_differ(seeds):
    (x1, y1), (x2, y2) = (linear_data(50, seed=s) for s in seeds)
    assert not torch.equal(x1, x2) and not torch.equal(y1, y2)


def test_noise_kinds_differ_and_the_rng_is_not_shared_with_the_caller():
    x_u, y_u = linear_data(noise="uniform")
    x_n, y_n = linear_data(noise="normal")
    assert torch.equal(x_u, x_n)  # x is drawn first, from the same seed
    assert not torch.equal(y_u, y_n)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)  # the global RNG, in any state, changes nothing
        assert torch.equal(linear_data()[1], y_u)


def test_data_do_not_depend_on_the_default_dtype():
    """Under torch.set_default_dtype(torch.float64) the data are still the notes' float32
    tensors (before, x was float64 and `x @ a` failed)."""
    x, y = linear_data()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        x64, y64 = linear_data()
        xn, yn = linear_data(noise="normal")
    finally:
        torch.set_default_dtype(previous)
    assert x64.dtype == y64.dtype == xn.dtype == yn.dtype == torch.float32
    assert torch.equal(x64, x) and torch.equal(y64, y)
    assert torch.equal(yn, linear_data(noise="normal")[1])
