"""The loss and its closed forms, each checked against NumPy float64 arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from descent import (
    critical_lr,
    eigen,
    fit,
    hessian,
    least_squares,
    linear_data,
    mse,
    mse_grad,
    predicted_excess_loss,
    predicted_excess_terms,
)

X, Y = linear_data()
A0 = (-1.0, 1.0)  # the notes' starting guess


def np_data(x, y):
    return x.double().numpy(), y.double().numpy()


def np_loss(x, y, a):
    """The mse in NumPy float64."""
    return np.mean((x @ np.asarray(a, dtype=np.float64) - y) ** 2)


def np_star(x, y):
    return np.linalg.lstsq(x, y, rcond=None)[0]


data = st.builds(
    linear_data,
    n=st.integers(2, 300),
    a=st.tuples(*[st.floats(-5, 5)] * 2),
    noise=st.sampled_from(["uniform", "normal"]),
    seed=st.integers(0, 2**32),
)
pairs = st.tuples(*[st.floats(-10, 10)] * 2)


@settings(max_examples=25, deadline=None)
@given(xy=data, a=pairs)
def test_mse_is_the_mean_of_squares(xy, a):
    x, y = xy
    y_hat = x @ torch.tensor(a)
    loss = mse(y, y_hat)
    assert loss.shape == ()
    expected = np.mean((y.double().numpy() - y_hat.double().numpy()) ** 2)
    assert math.isclose(loss.item(), expected, rel_tol=1e-5, abs_tol=1e-6)


def test_mse_refuses_what_torch_would_broadcast():
    y_hat = (X @ torch.tensor([3.0, 2.0]))[:, None]  # (n, 1): the classic mistake
    assert (Y - y_hat).shape == (100, 100)  # what torch alone would compute the mean of
    with pytest.raises(ValueError, match=r"\(100,\) and \(100, 1\)"):
        mse(Y, y_hat)


def test_mse_gradcheck_float64():
    y = torch.randn(7, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y_hat = torch.randn(
        7, dtype=torch.float64, requires_grad=True, generator=torch.Generator().manual_seed(2)
    )
    assert torch.autograd.gradcheck(lambda p: mse(y, p), (y_hat,))
    assert torch.autograd.gradgradcheck(lambda p: mse(y, p), (y_hat,))


@settings(max_examples=25, deadline=None)
@given(xy=data, a=pairs)
def test_mse_grad_is_the_formula(xy, a):
    x, y = np_data(*xy)
    a32 = np.array(a, dtype=np.float32).astype(np.float64)
    expected = 2 / len(x) * x.T @ (x @ a32 - y)
    np.testing.assert_allclose(mse_grad(*xy, a).numpy(), expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(xy=data, a=pairs)
def test_mse_grad_is_what_autograd_computes(xy, a):
    x, y = xy
    p = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    mse(y.double(), x.double() @ p).backward()
    np.testing.assert_allclose(mse_grad(x, y, a).numpy(), p.grad.numpy(), rtol=1e-5, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(xy=data)
def test_hessian_is_2_over_n_xtx_and_autograds_hessian(xy):
    x, y = xy
    xn = x.double().numpy()
    H = hessian(x)
    assert H.shape == (2, 2) and H.dtype == torch.float32
    np.testing.assert_allclose(H.numpy(), 2 / len(xn) * xn.T @ xn, rtol=1e-6, atol=1e-7)
    auto = torch.autograd.functional.hessian(
        lambda a: mse(y.double(), x.double() @ a), torch.zeros(2, dtype=torch.float64)
    )
    np.testing.assert_allclose(H.numpy(), auto.numpy(), rtol=1e-6, atol=1e-7)


@settings(max_examples=25, deadline=None)
@given(xy=data)
def test_eigen_matches_numpy_and_diagonalises_h(xy):
    x, _ = xy
    xn = x.double().numpy()
    H = 2 / len(xn) * xn.T @ xn
    values, vectors = eigen(x)
    np.testing.assert_allclose(values.numpy(), np.linalg.eigvalsh(H), rtol=1e-5, atol=1e-6)
    assert values[0] <= values[1]
    v = vectors.double().numpy()
    np.testing.assert_allclose(v.T @ v, np.eye(2), atol=1e-6)
    np.testing.assert_allclose(H @ v, v * values.double().numpy(), atol=1e-5)
    # sign convention: each column's largest-magnitude entry is positive
    assert all(v[np.argmax(abs(v[:, i])), i] > 0 for i in range(2))


@settings(max_examples=25, deadline=None)
@given(xy=data)
def test_critical_lr_is_2_over_the_largest_eigenvalue(xy):
    x, _ = xy
    xn = x.double().numpy()
    lam_max = np.linalg.eigvalsh(2 / len(xn) * xn.T @ xn)[-1]
    assert math.isclose(critical_lr(x), 2 / lam_max, rel_tol=1e-9)


def test_critical_lr_of_zero_inputs_is_infinite():
    assert critical_lr(torch.zeros(3, 2)) == math.inf


@settings(max_examples=25, deadline=None)
@given(xy=data)
def test_least_squares_matches_numpy_lstsq(xy):
    a_star = least_squares(*xy)
    x, y = np_data(*xy)
    assert a_star.shape == (2,) and a_star.dtype == torch.float32
    np.testing.assert_allclose(a_star.numpy(), np_star(x, y), rtol=1e-5, atol=1e-5)


def test_least_squares_is_where_the_gradient_vanishes():
    a_star = least_squares(X, Y)
    assert torch.linalg.norm(mse_grad(X, Y, a_star)) < 1e-6
    x, y = np_data(X, Y)
    # and it beats every nearby point
    for delta in [(1e-3, 0), (0, 1e-3), (-1e-3, 1e-3)]:
        assert np_loss(x, y, a_star.numpy() + delta) > np_loss(x, y, a_star.numpy())


def test_least_squares_of_one_point_is_the_minimum_norm_solution():
    x, y = torch.tensor([[0.5, 1.0]]), torch.tensor([2.0])
    expected = np.linalg.lstsq(x.double().numpy(), y.double().numpy(), rcond=None)[0]
    np.testing.assert_allclose(least_squares(x, y).numpy(), expected, rtol=1e-6)


def excess_losses(history, x, y):
    """Actual L(a_t) − L* of a run, the minimum L* computed in NumPy float64."""
    xn, yn = np_data(x, y)
    return history.losses.double().numpy() - np_loss(xn, yn, np_star(xn, yn))


@pytest.mark.parametrize("factor", [0.1, 0.5, 0.99, 1.05])
def test_predicted_excess_loss_matches_the_run(factor):
    """The closed form ½ Σ λ_i c_i² (1 − lr λ_i)^{2t} tracks the actual full-batch losses."""
    lr, steps = factor * critical_lr(X), 150
    history = fit(X, Y, A0, lr=lr, steps=steps)
    predicted = predicted_excess_loss(X, A0, least_squares(X, Y), lr, steps)
    assert predicted.shape == (steps + 1,) and not history.overflowed
    actual = excess_losses(history, X, Y)
    clear = predicted.numpy() > 1e-3  # well above float32 noise in the losses (~1e-8)
    assert clear.sum() >= 10
    np.testing.assert_allclose(actual[clear], predicted.numpy()[clear], rtol=1e-3)
    if factor < 1:
        assert np.all(np.diff(predicted.numpy()) <= 0)
    else:
        assert predicted[-1] > predicted[0]


def test_predicted_terms_are_geometric_per_direction():
    """Column i of the terms shrinks (or grows) by (1 − lr λ_i)² every step, from its start."""
    lr, steps = 0.7, 30
    a_star = least_squares(X, Y)
    terms = predicted_excess_terms(X, A0, a_star, lr, steps).double().numpy()
    assert terms.shape == (steps + 1, 2)
    xn = X.double().numpy()
    lam, vec = np.linalg.eigh(2 / len(xn) * xn.T @ xn)
    c = vec.T @ (np.array(A0) - a_star.double().numpy())
    np.testing.assert_allclose(terms[0], 0.5 * lam * c**2, rtol=1e-5)
    np.testing.assert_allclose(
        terms[1:] / terms[:-1], np.tile((1 - lr * lam) ** 2, (steps, 1)), rtol=1e-5
    )
    np.testing.assert_allclose(
        terms.sum(1), predicted_excess_loss(X, A0, a_star, lr, steps).numpy(), rtol=1e-6
    )


def test_predicted_excess_at_the_start_is_the_loss_gap():
    x, y = np_data(X, Y)
    predicted = predicted_excess_loss(X, A0, np_star(x, y), 0.1, 0)
    assert predicted.shape == (1,)
    assert math.isclose(
        predicted.item(), np_loss(x, y, A0) - np_loss(x, y, np_star(x, y)), rel_tol=1e-5
    )


def test_predicted_excess_is_zero_from_the_minimum_even_for_huge_lr():
    a_star = least_squares(X, Y)
    predicted = predicted_excess_loss(X, a_star, a_star, 1e6, 500)
    assert torch.all(predicted == 0)
    exploding = predicted_excess_loss(X, A0, a_star, 1e6, 500)
    assert torch.isinf(exploding[-1]) and not torch.isnan(exploding).any()
