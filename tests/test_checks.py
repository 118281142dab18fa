"""Argument validation: every bad input fails at once, with the right type and its name."""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from torch import nn

from descent import (
    History,
    JsAnimation,
    Line,
    animate_line,
    animate_lr,
    animate_panels,
    critical_lr,
    eigen,
    fit,
    fit_learner,
    fit_module,
    hessian,
    least_squares,
    linear_data,
    mse,
    mse_grad,
    plot_contour,
    plot_data,
    plot_line,
    plot_loss,
    plot_lr_grid,
    predicted_excess_loss,
    predicted_excess_terms,
    sgd_step,
)
from descent._checks import (
    as_pair,
    check_batch_size,
    check_choice,
    check_float,
    check_int,
    check_lr,
    check_n,
    check_param,
    check_seed,
    check_steps,
    check_x,
    check_xy,
)

X, Y = linear_data(n=10)
NAN, INF = float("nan"), float("inf")


def fit_with(**changes):
    """A call of `fit` with good arguments, except for `changes`."""
    kwargs = {"x": X, "y": Y, "a0": (0.0, 0.0), "lr": 0.1, "steps": 3} | changes
    return lambda: fit(**kwargs)


BAD_INPUTS = [
    # as_pair: kind → TypeError, size or value → ValueError
    ("pair str", lambda: as_pair("ab", "a0"), TypeError, "a0"),
    ("pair dict", lambda: as_pair({0: 1.0, 1: 2.0}, "a0"), TypeError, "a0"),
    ("pair set", lambda: as_pair({1.0, 2.0}, "a0"), TypeError, "a0"),
    ("pair number", lambda: as_pair(3.0, "a0"), TypeError, "a0"),
    ("pair None", lambda: as_pair(None, "a0"), TypeError, "a0"),
    ("pair of str", lambda: as_pair(["3", 2], "a0"), TypeError, "a0"),
    ("pair of bool", lambda: as_pair([True, 2.0], "a0"), TypeError, "a0"),
    ("pair complex", lambda: as_pair(torch.ones(2, dtype=torch.cfloat), "a"), TypeError, "a"),
    ("pair bool tensor", lambda: as_pair(torch.ones(2, dtype=torch.bool), "a"), TypeError, "a"),
    ("pair bool array", lambda: as_pair(np.ones(2, dtype=bool), "a"), TypeError, "a"),
    ("pair too short", lambda: as_pair([1.0], "a0"), ValueError, "a0"),
    ("pair too long", lambda: as_pair((1.0, 2.0, 3.0), "a0"), ValueError, "a0"),
    ("pair empty", lambda: as_pair([], "a0"), ValueError, "a0"),
    ("pair tensor (3,)", lambda: as_pair(torch.zeros(3), "a_star"), ValueError, "a_star"),
    ("pair tensor (1,2)", lambda: as_pair(torch.zeros(1, 2), "a_star"), ValueError, "a_star"),
    ("pair array (2,2)", lambda: as_pair(np.zeros((2, 2)), "a0"), ValueError, "a0"),
    ("pair nan", lambda: as_pair([NAN, 1.0], "a0"), ValueError, "a0"),
    ("pair inf", lambda: as_pair((1.0, -INF), "a0"), ValueError, "a0"),
    ("pair tensor nan", lambda: as_pair(torch.tensor([0.0, NAN]), "a0"), ValueError, "a0"),
    # x and y
    ("x list", lambda: check_x([[0.0, 1.0]]), TypeError, "x"),
    ("x str", lambda: check_x("x"), TypeError, "x"),
    ("x bool", lambda: check_x(torch.ones(3, 2, dtype=torch.bool)), TypeError, "x"),
    ("x complex", lambda: check_x(np.ones((3, 2), dtype=complex)), TypeError, "x"),
    ("x 1-d", lambda: check_x(torch.ones(4)), ValueError, "x"),
    ("x (n,3)", lambda: check_x(torch.ones(4, 3)), ValueError, "x"),
    ("x (0,2)", lambda: check_x(torch.ones(0, 2)), ValueError, "x"),
    ("x (n,2,1)", lambda: check_x(torch.ones(4, 2, 1)), ValueError, "x"),
    ("x nan", lambda: check_x(torch.tensor([[NAN, 1.0]])), ValueError, "x"),
    ("x named", lambda: check_x(torch.ones(4), name="inputs"), ValueError, "inputs"),
    ("y (n,1)", lambda: check_xy(X, Y[:, None]), ValueError, "y"),
    ("y short", lambda: check_xy(X, Y[:-1]), ValueError, "y"),
    ("y list", lambda: check_xy(X, Y.tolist()), TypeError, "y"),
    ("y inf", lambda: check_xy(X, torch.full((10,), INF)), ValueError, "y"),
    # numbers
    ("lr nan", lambda: check_lr(NAN), ValueError, "lr"),
    ("lr inf", lambda: check_lr(INF), ValueError, "lr"),
    ("lr zero", lambda: check_lr(0), ValueError, "lr"),
    ("lr negative", lambda: check_lr(-0.1), ValueError, "lr"),
    ("lr str", lambda: check_lr("0.1"), TypeError, "lr"),
    ("lr bool", lambda: check_lr(True), TypeError, "lr"),
    ("lr numpy bool", lambda: check_lr(np.bool_(True)), TypeError, "lr"),
    ("lr None", lambda: check_lr(None), TypeError, "lr"),
    ("lr complex", lambda: check_lr(1j), TypeError, "lr"),
    ("lr tensor (1,)", lambda: check_lr(torch.ones(1)), TypeError, "lr"),
    ("steps negative", lambda: check_steps(-1), ValueError, "steps"),
    ("steps float", lambda: check_steps(3.0), TypeError, "steps"),
    ("steps bool", lambda: check_steps(False), TypeError, "steps"),
    ("steps str", lambda: check_steps("3"), TypeError, "steps"),
    ("n zero", lambda: check_n(0), ValueError, "n"),
    ("n float", lambda: check_n(100.0), TypeError, "n"),
    ("batch_size zero", lambda: check_batch_size(0, 10), ValueError, "batch_size"),
    ("batch_size > n", lambda: check_batch_size(11, 10), ValueError, "batch_size"),
    ("batch_size float", lambda: check_batch_size(2.0, 10), TypeError, "batch_size"),
    ("batch_size bool", lambda: check_batch_size(True, 10), TypeError, "batch_size"),
    ("seed negative", lambda: check_seed(-1), ValueError, "seed"),
    ("seed too big", lambda: check_seed(2**64), ValueError, "seed"),
    ("seed str", lambda: check_seed("0"), TypeError, "seed"),
    ("choice unknown", lambda: check_choice("gauss", "noise", ("a", "b")), ValueError, "noise"),
    ("choice not str", lambda: check_choice(1, "noise", ("a", "b")), TypeError, "noise"),
    ("float named", lambda: check_float(NAN, "alpha"), ValueError, "alpha"),
    ("int range", lambda: check_int(5, "frames", low=0, high=4), ValueError, "frames"),
    ("param plain tensor", lambda: check_param(torch.zeros(2)), ValueError, "a"),
    ("param shape", lambda: check_param(nn.Parameter(torch.zeros(3))), ValueError, "a"),
    ("param int", lambda: check_param([0.0, 0.0]), TypeError, "a"),
    # the public functions check through _checks, naming their own arguments
    ("linear_data noise", lambda: linear_data(noise="gaussian"), ValueError, "noise"),
    ("linear_data noise type", lambda: linear_data(noise=None), TypeError, "noise"),
    ("linear_data n", lambda: linear_data(n=0), ValueError, "n"),
    ("linear_data a", lambda: linear_data(a="32"), TypeError, "a"),
    ("linear_data seed", lambda: linear_data(seed=-3), ValueError, "seed"),
    ("mse broadcast", lambda: mse(Y, Y[:, None]), ValueError, "y_hat"),
    ("mse not tensor", lambda: mse(Y.tolist(), Y), TypeError, "y"),
    ("mse int tensor", lambda: mse(Y, torch.ones(10, dtype=torch.long)), TypeError, "y_hat"),
    ("mse empty", lambda: mse(torch.ones(0), torch.ones(0)), ValueError, "y"),
    ("mse_grad a", lambda: mse_grad(X, Y, [1.0, 2.0, 3.0]), ValueError, "a"),
    ("mse_grad y", lambda: mse_grad(X, Y[:, None], [1.0, 2.0]), ValueError, "y"),
    ("hessian x", lambda: hessian(X.T), ValueError, "x"),
    ("eigen x", lambda: eigen("x"), TypeError, "x"),
    ("least_squares y", lambda: least_squares(X, Y[:5]), ValueError, "y"),
    ("critical_lr x", lambda: critical_lr(torch.zeros(0, 2)), ValueError, "x"),
    ("predicted lr", lambda: predicted_excess_loss(X, (0, 0), (1, 1), -1.0, 5), ValueError, "lr"),
    (
        "predicted steps",
        lambda: predicted_excess_loss(X, (0, 0), (1, 1), 0.1, 1.5),
        TypeError,
        "steps",
    ),
    (
        "predicted a_star",
        lambda: predicted_excess_loss(X, (0, 0), "ab", 0.1, 5),
        TypeError,
        "a_star",
    ),
    ("fit lr nan", fit_with(lr=NAN), ValueError, "lr"),
    ("fit lr bool", fit_with(lr=True), TypeError, "lr"),
    ("fit steps", fit_with(steps=-2), ValueError, "steps"),
    ("fit a0 dict", fit_with(a0={"a": 1}), TypeError, "a0"),
    ("fit a0 length", fit_with(a0=[1.0]), ValueError, "a0"),
    ("fit batch_size", fit_with(batch_size=11), ValueError, "batch_size"),
    ("fit seed", fit_with(batch_size=2, seed="zero"), TypeError, "seed"),
    ("fit y shape", fit_with(y=Y[:, None]), ValueError, "y"),
    ("fit a0 overflows", fit_with(x=X * 1e20, a0=(1.0, 1.0)), ValueError, "a0"),
    ("sgd_step lr", lambda: sgd_step(nn.Parameter(torch.zeros(2)), X, Y, 0), ValueError, "lr"),
    ("sgd_step a", lambda: sgd_step(torch.zeros(2), X, Y, 0.1), ValueError, "a"),
    ("fit_module lr", lambda: fit_module(X, Y, (0, 0), lr=-1, steps=1), ValueError, "lr"),
    ("fit_module a0", lambda: fit_module(X, Y, "ab", lr=0.1, steps=1), TypeError, "a0"),
    ("fit_learner steps", lambda: fit_learner(X, Y, (0, 0), lr=0.1, steps=-1), ValueError, "steps"),
    ("fit_learner x", lambda: fit_learner(X[:, :1], Y, (0, 0), lr=0.1, steps=1), ValueError, "x"),
]


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_raises_naming_the_argument(call, error, name):
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error
    assert re.search(rf"(^|\W){re.escape(name)}\W", str(info.value)), str(info.value)


def test_message_shows_the_rule_and_the_value():
    with pytest.raises(ValueError, match=r"^lr must be a finite number > 0, got nan$"):
        check_lr(NAN)
    with pytest.raises(TypeError, match=r"^steps must be an int, got 2\.5 \(float\)$"):
        check_steps(2.5)


PAIRS = [
    (3, 2),
    [3.0, 2.0],
    (np.float32(3), np.int64(2)),
    (torch.tensor(3.0), 2),
    torch.tensor([3, 2]),
    torch.tensor([3.0, 2.0], dtype=torch.float64),
    np.array([3, 2.0]),
]


@pytest.mark.parametrize("value", PAIRS)
def test_as_pair_accepts_two_numbers_as_float32(value):
    pair = as_pair(value, "a")
    assert pair.dtype == torch.float32 and pair.shape == (2,)
    assert pair.tolist() == [3.0, 2.0]


def test_as_pair_returns_a_detached_copy():
    a = nn.Parameter(torch.tensor([1.0, 2.0]))
    pair = as_pair(a, "a")
    pair += 1
    assert a.tolist() == [1.0, 2.0] and not pair.requires_grad


@pytest.mark.parametrize(
    "x",
    [torch.ones(5, 2, dtype=torch.float64), np.ones((5, 2)), torch.ones(5, 2, dtype=torch.int64)],
)
def test_check_x_converts_real_arrays_to_float32(x):
    checked = check_x(x)
    assert checked.dtype == torch.float32 and checked.shape == (5, 2)
    assert torch.equal(checked, torch.ones(5, 2))


def test_check_x_does_not_copy_float32_and_detaches():
    x = torch.ones(3, 2, requires_grad=True)
    checked = check_x(x)
    assert not checked.requires_grad and checked.data_ptr() == x.data_ptr()


@settings(max_examples=40, deadline=None)
@given(lr=st.floats(min_value=1e-12, max_value=1e12), steps=st.integers(0, 10**6))
def test_good_numbers_pass_through(lr, steps):
    assert check_lr(lr) == lr and type(check_lr(lr)) is float
    assert check_steps(steps) == steps and type(check_steps(np.int64(steps))) is int


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 1000), data=st.data())
def test_batch_size_range_is_1_to_n(n, data):
    assert check_batch_size(None, n) is None
    size = data.draw(st.integers(-5, n + 5))
    if 1 <= size <= n:
        assert check_batch_size(size, n) == size
    else:
        with pytest.raises(ValueError, match="batch_size"):
            check_batch_size(size, n)


def test_check_float_positive_flag():
    assert check_float(-2, "shift") == -2.0
    assert math.isclose(check_float(np.float32(0.5), "lr", positive=True), 0.5)
    with pytest.raises(ValueError, match="shift must be a finite number > 0"):
        check_float(0.0, "shift", positive=True)


# --- tensors that still require grad: read as values, never a failure inside torch ----------


def _values(result):
    """What a call returned, as plain values to compare: arrays, floats, tuples of them."""
    if isinstance(result, torch.Tensor):
        return result.detach().numpy()
    if isinstance(result, History):
        return _values((result.params, result.losses, result.overflowed, result.lr))
    if isinstance(result, tuple | list):
        return tuple(_values(r) for r in result)
    if isinstance(result, JsAnimation):
        return result.rgb_frames
    if isinstance(result, Figure):
        result.canvas.draw()
        pixels = np.asarray(result.canvas.buffer_rgba()).copy()
        plt.close(result)
        return pixels
    if isinstance(result, Artist):
        return result.get_offsets() if hasattr(result, "get_offsets") else result.get_xydata()
    if isinstance(result, nn.Module):
        return _values(list(result.parameters()))
    return result


def _stepped(x, y, a0):
    a = nn.Parameter(as_pair(a0, "a0"))
    sgd_step(a, x, y, 0.1)
    return a


def _history(x, y, a0):
    """A hand-made History of `a0` and its loss, as a reader's loop would record it."""
    params = torch.stack([a0 * 1.0, a0 * 0.5])
    return History(params, torch.stack([mse(y, x @ p) for p in params]), False, 0.1, None)


def _ax():
    return Figure().add_subplot()


SMALL = {"figsize": (4.0, 2.0), "dpi": 30}
READERS = {  # each public entry point that only reads the values of the tensors it is given
    "mse": lambda x, y, a: mse(y, x @ a),
    "mse_grad": lambda x, y, a: mse_grad(x, y, a),
    "hessian": lambda x, y, a: hessian(x),
    "eigen": lambda x, y, a: eigen(x),
    "least_squares": lambda x, y, a: least_squares(x, y),
    "critical_lr": lambda x, y, a: critical_lr(x),
    "predicted_excess_loss": lambda x, y, a: predicted_excess_loss(x, a, a * 2, 0.1, 3),
    "predicted_excess_terms": lambda x, y, a: predicted_excess_terms(x, a, a * 2, 0.1, 3),
    "fit": lambda x, y, a: fit(x, y, a, lr=0.1, steps=3),
    "fit minibatch": lambda x, y, a: fit(x, y, a, lr=0.1, steps=3, batch_size=4),
    "fit_module": lambda x, y, a: fit_module(x, y, a, lr=0.1, steps=3),
    "fit_learner": lambda x, y, a: fit_learner(x, y, a, lr=0.1, steps=2),
    "Line": lambda x, y, a: Line(a),
    "sgd_step": _stepped,
    "History": _history,
    "plot_data": lambda x, y, a: plot_data(_ax(), x, y),
    "plot_line": lambda x, y, a: plot_line(_ax(), x, a),
    "plot_loss": lambda x, y, a: plot_loss(_ax(), _history(x, y, a)),
    "plot_loss x y": lambda x, y, a: plot_loss(_ax(), _history(x, y, a), x, y),
    "plot_contour": lambda x, y, a: plot_contour(_ax(), x, y, _history(x, y, a)),
    "plot_lr_grid": lambda x, y, a: plot_lr_grid(x, y, a, [0.1, 0.5], 3),
    "animate_line": lambda x, y, a: animate_line(x, y, _history(x, y, a), **SMALL),
    "animate_panels": lambda x, y, a: animate_panels(x, y, _history(x, y, a), **SMALL),
    "animate_lr": lambda x, y, a: animate_lr(x, y, a, [0.1, 0.5], 3, **SMALL),
}


@pytest.mark.parametrize("call", READERS.values(), ids=READERS.keys())
def test_tensors_that_require_grad_are_read_as_values(call):
    """The rule: a bad argument fails at once naming it, or works. A tensor that requires
    grad is not bad where only its values are read: the result is that of its values."""
    a0 = torch.tensor([-1.0, 1.0])
    tracked = [t.clone().requires_grad_() for t in (X, Y, a0)]
    np.testing.assert_equal(_values(call(*tracked)), _values(call(X, Y, a0)))
