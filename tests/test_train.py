"""Training: fit takes the notes' steps, records them honestly, and flags divergence."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from descent import SEED, History, critical_lr, fit, least_squares, linear_data, mse, sgd_step

X, Y = linear_data()
A0 = (-1.0, 1.0)
CRITICAL = critical_lr(X)


def np_grad(x, y, a):
    """∇L(a) = (2/n) xᵀ(x a − y), in NumPy float64."""
    x, y, a = (np.asarray(t, dtype=np.float64) for t in (x, y, a))
    return 2 / len(x) * x.T @ (x @ a - y)


def np_losses(x, y, params):
    """The full-data mse at each row of params, in NumPy float64."""
    x, y, p = (t.double().numpy() for t in (x, y, params))
    return ((x @ p.T - y[:, None]) ** 2).mean(axis=0)


def test_history_rows_are_gradient_steps_and_their_full_losses():
    lr, steps = 0.1, 40
    h = fit(X, Y, A0, lr=lr, steps=steps)
    assert h.params.shape == (steps + 1, 2) and h.losses.shape == (steps + 1,)
    assert h.params.dtype == h.losses.dtype == torch.float32
    assert h.params[0].tolist() == list(A0) and h.steps == steps
    assert torch.equal(h.final, h.params[-1])
    assert (h.lr, h.batch_size, h.overflowed) == (lr, None, False)
    p = h.params.double().numpy()
    for t in range(steps):
        np.testing.assert_allclose(p[t + 1], p[t] - lr * np_grad(X, Y, p[t]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.losses.numpy(), np_losses(X, Y, h.params), rtol=1e-5)


def test_sgd_step_is_the_notes_loop():
    """The notes' loop, written out here, and sgd_step agree exactly."""
    lr = 0.1
    a_notes = nn.Parameter(torch.tensor(A0))
    a_ours = nn.Parameter(torch.tensor(A0))
    for _ in range(20):
        y_hat = X @ a_notes
        loss = ((Y - y_hat) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            a_notes.sub_(lr * a_notes.grad)
            a_notes.grad.zero_()
        returned = sgd_step(a_ours, X, Y, lr)
        assert returned.item() == loss.item() and not returned.requires_grad
        assert torch.equal(a_ours, a_notes) and torch.all(a_ours.grad == 0)


def test_sgd_step_refuses_a_left_over_gradient():
    """A gradient left in a.grad by the caller's own backward() would be added to the step's
    (backward() accumulates): sgd_step refuses it, naming a.grad, and moves nothing."""
    lr = 0.1
    a = nn.Parameter(torch.tensor(A0))
    mse(Y, X @ a).backward()  # look at the gradient once, as a reader would
    with pytest.raises(ValueError, match=r"^a\.grad must be None or zero") as info:
        sgd_step(a, X, Y, lr)
    assert str(a.grad.tolist()) in str(info.value)
    assert a.tolist() == list(A0), "nothing moved"
    a.grad = None
    sgd_step(a, X, Y, lr)
    expected = np.array(A0) - lr * np_grad(X, Y, A0)  # a ← a − lr ∇L(a), in NumPy
    np.testing.assert_allclose(a.detach().numpy(), expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(expected, [-0.7262, 1.2733], atol=1e-4)  # the numbers


def test_sgd_step_accepts_a_zeroed_gradient():
    lr = 0.1
    a = nn.Parameter(torch.tensor(A0))
    mse(Y, X @ a).backward()
    a.grad.zero_()
    sgd_step(a, X, Y, lr)
    expected = np.array(A0) - lr * np_grad(X, Y, A0)
    np.testing.assert_allclose(a.detach().numpy(), expected, rtol=0, atol=1e-6)


GRAD_MODES = {
    "no_grad": torch.no_grad,
    "set_grad_enabled(False)": lambda: torch.set_grad_enabled(False),
    "inference_mode": torch.inference_mode,
}


@pytest.mark.parametrize("mode", GRAD_MODES.values(), ids=GRAD_MODES.keys())
def test_training_does_not_depend_on_the_callers_grad_mode(mode):
    """fit and sgd_step called inside no_grad/inference_mode take the same steps as outside,
    the NumPy recursion a ← a − lr ∇L(a), instead of failing inside torch; the caller's mode
    is restored afterwards."""
    lr, steps = 0.1, 5
    p = [np.array(A0)]
    for _ in range(steps):
        p.append(p[-1] - lr * np_grad(X, Y, p[-1]))
    a = nn.Parameter(torch.tensor(A0))
    with mode():
        h = fit(X, Y, A0, lr=lr, steps=steps, batch_size=None)
        sgd_step(a, X, Y, lr)
        assert not torch.is_grad_enabled()
    np.testing.assert_allclose(h.params.numpy(), np.stack(p), rtol=0, atol=1e-5)
    np.testing.assert_allclose(a.detach().numpy(), p[1], rtol=0, atol=1e-6)


def test_sgd_step_refuses_a_parameter_made_in_inference_mode():
    with torch.inference_mode():
        a = nn.Parameter(torch.tensor(A0))
    with pytest.raises(ValueError, match=r"^a must be an ordinary tensor"):
        sgd_step(a, X, Y, 0.1)


def test_history_holds_values_only():
    """A hand-written loop's record that still requires grad (or is float64, or a NumPy
    array) is kept as detached float32 values, so every reader of a History works."""
    h = fit(X, Y, A0, lr=0.1, steps=3)
    params = h.params.double().requires_grad_()
    losses = (h.losses.double().requires_grad_() * 1.0).numpy(force=True)
    mine = History(params * 1.0, losses, False, 0.1, None)
    for field, reference in [(mine.params, h.params), (mine.losses, h.losses)]:
        assert not field.requires_grad and field.dtype == torch.float32
        assert torch.equal(field, reference)


BAD_HISTORIES = [  # (error, the field it must name, the fields changed)
    (TypeError, "params", {"params": [[0.0, 0.0]]}),
    (TypeError, "losses", {"losses": torch.zeros(1, dtype=torch.complex64)}),
    (ValueError, "losses", {"losses": torch.tensor([math.nan])}),
    (ValueError, "params", {"params": torch.tensor([[0.0, math.inf]])}),
    (TypeError, "overflowed", {"overflowed": "no"}),
    (ValueError, "lr", {"lr": 0}),
    (ValueError, "batch_size", {"batch_size": 0}),
    (TypeError, "batch_size", {"batch_size": 2.0}),
]


@pytest.mark.parametrize(("error", "name", "changes"), BAD_HISTORIES)
def test_a_bad_history_fails_at_once_naming_the_field(error, name, changes):
    fields = {
        "params": torch.zeros(1, 2),
        "losses": torch.zeros(1),
        "overflowed": False,
        "lr": 0.1,
        "batch_size": None,
    }
    with pytest.raises(error, match=rf"^{name} must"):
        History(**(fields | changes))


def test_fit_does_not_touch_its_arguments():
    a0 = torch.tensor(A0)
    x, y = X.clone(), Y.clone()
    fit(x, y, a0, lr=0.1, steps=5)
    fit(x, y, a0, lr=0.1, steps=5, batch_size=10)
    assert a0.tolist() == list(A0) and torch.equal(x, X) and torch.equal(y, Y)


def test_zero_steps_is_just_the_start():
    h = fit(X, Y, A0, lr=0.1, steps=0)
    assert h.steps == 0 and h.params.tolist() == [list(A0)]
    assert math.isclose(h.losses.item(), np_losses(X, Y, h.params)[0], rel_tol=1e-6)


@pytest.mark.parametrize("factor", [0.5, 0.99])
def test_below_critical_the_loss_never_rises_and_reaches_least_squares(factor):
    h = fit(X, Y, A0, lr=factor * CRITICAL, steps=600)
    assert not h.overflowed and h.steps == 600
    losses = h.losses.double().numpy()
    change = np.diff(losses) / losses[:-1]
    # at the bottom, float32 rounding jiggles the loss by an ulp (float32 eps ≈ 1.2e-7)
    assert change.max() <= 4e-7
    above_the_floor = losses[:-1] - losses.min() > 1e-4
    assert above_the_floor.sum() >= 5 and np.all(change[above_the_floor] < 0)
    np.testing.assert_allclose(h.final.numpy(), least_squares(X, Y).numpy(), atol=1e-4)


def test_just_above_critical_the_loss_grows_until_it_diverges():
    h = fit(X, Y, A0, lr=1.05 * CRITICAL, steps=1000)
    losses = h.losses.double().numpy()
    assert h.overflowed and h.steps < 1000  # stopped early, at the overflow
    assert np.all(np.diff(losses[-50:]) > 0)  # the steep direction's error grows ×1.1 a step
    assert losses[-1] > 1e30 * losses[0]
    assert torch.isfinite(h.params).all() and torch.isfinite(h.losses).all()


def test_huge_lr_diverges_within_a_few_steps():
    h = fit(X, Y, A0, lr=1e6, steps=100)
    assert h.overflowed and 1 <= h.steps < 20
    assert torch.isfinite(h.params).all() and torch.isfinite(h.losses).all()


@settings(max_examples=30, deadline=None)
@given(
    lr=st.floats(1e-3, 1e3),
    steps=st.integers(0, 120),
    batch_size=st.one_of(st.none(), st.integers(1, 100)),
)
def test_histories_are_finite_or_flagged_overflowed(lr, steps, batch_size):
    h = fit(X, Y, A0, lr=lr, steps=steps, batch_size=batch_size)
    assert torch.isfinite(h.params).all() and torch.isfinite(h.losses).all()
    assert h.params.shape == (h.steps + 1, 2) and h.losses.shape == (h.steps + 1,)
    assert h.steps == steps if not h.overflowed else h.steps < steps
    if h.overflowed and batch_size is None:
        assert lr > CRITICAL  # full-batch descent below 2/λmax cannot blow up


@settings(max_examples=15, deadline=None)
@given(batch_size=st.integers(1, 100), seed=st.integers(0, 2**63))
def test_minibatch_runs_are_reproducible_and_leave_the_global_rng_alone(batch_size, seed):
    before = torch.get_rng_state()
    first = fit(X, Y, A0, lr=0.1, steps=15, batch_size=batch_size, seed=seed)
    second = fit(X, Y, A0, lr=0.1, steps=15, batch_size=batch_size, seed=seed)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(first.params, second.params) and torch.equal(first.losses, second.losses)
    assert first.batch_size == batch_size


def test_minibatch_default_seed_and_different_seeds():
    default = fit(X, Y, A0, lr=0.1, steps=20, batch_size=5)
    assert torch.equal(default.params, fit(X, Y, A0, lr=0.1, steps=20, batch_size=5, seed=0).params)
    other = fit(X, Y, A0, lr=0.1, steps=20, batch_size=5, seed=1)
    assert not torch.equal(default.params, other.params)


def test_minibatch_losses_are_full_data_losses():
    h = fit(X, Y, A0, lr=0.1, steps=30, batch_size=7)
    np.testing.assert_allclose(h.losses.numpy(), np_losses(X, Y, h.params), rtol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 7])
def test_each_minibatch_step_uses_distinct_rows(batch_size):
    """On n = 8 points, every step is the gradient of exactly `batch_size` distinct rows.

    For b = 1 the step matches one row's gradient; for b = 7 it matches the mean gradient of
    all rows but one. Sampling with replacement (a repeated row) would match neither.
    """
    x, y = linear_data(8, seed=3)
    lr = 0.2
    h = fit(x, y, A0, lr=lr, steps=25, batch_size=batch_size, seed=5)
    xn, yn = x.double().numpy(), y.double().numpy()
    p = h.params.double().numpy()
    for t in range(h.steps):
        if batch_size == 1:
            subsets = [[i] for i in range(8)]
        else:
            subsets = [[i for i in range(8) if i != j] for j in range(8)]
        candidates = [p[t] - lr * np_grad(xn[s], yn[s], p[t]) for s in subsets]
        errors = [np.abs(c - p[t + 1]).max() for c in candidates]
        assert min(errors) < 1e-5, (t, errors)


def test_minibatch_of_all_rows_is_full_batch_up_to_rounding():
    full = fit(X, Y, A0, lr=0.3, steps=50)
    everything = fit(X, Y, A0, lr=0.3, steps=50, batch_size=100, seed=9)
    np.testing.assert_allclose(everything.params.numpy(), full.params.numpy(), atol=1e-5)


def test_history_is_frozen_and_checks_its_shapes():
    h = fit(X, Y, A0, lr=0.1, steps=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        h.lr = 1.0
    with pytest.raises(ValueError, match="History"):
        History(torch.zeros(4, 2), torch.zeros(3), False, 0.1, None)
    with pytest.raises(ValueError, match="History"):
        History(torch.zeros(0, 2), torch.zeros(0), False, 0.1, None)


def test_fit_uses_float32_and_matches_mse_of_the_final_row():
    h = fit(X.double().numpy(), Y.double().numpy(), np.array(A0), lr=0.2, steps=10)
    assert h.params.dtype == torch.float32
    assert math.isclose(h.losses[-1].item(), mse(Y, X @ h.final).item(), rel_tol=1e-6)


def test_distances_are_each_rows_euclidean_distance_from_a_point():
    run = fit(X, Y, A0, lr=0.1, steps=20)
    a_star = least_squares(X, Y)
    want = np.linalg.norm(run.params.double().numpy() - a_star.double().numpy(), axis=1)
    got = run.distances(a_star)
    assert got.shape == (21,) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    assert float(run.distances(A0)[0]) == 0.0
    assert torch.equal(run.distances([3.0, 2.0]), run.distances(torch.tensor([3.0, 2.0])))


@pytest.mark.parametrize(
    ("a", "error"), [((1.0,), ValueError), ((math.nan, 1.0), ValueError), ("ab", TypeError)]
)
def test_distances_refuses_anything_but_a_finite_pair(a, error):
    with pytest.raises(error, match=r"\ba\b"):
        fit(X, Y, A0, lr=0.1, steps=1).distances(a)


def test_diverged_tells_runs_that_do_not_converge():
    x, y = linear_data(n=40)
    critical = critical_lr(x)
    assert not fit(x, y, (-1.0, 1.0), lr=0.5 * critical, steps=30).diverged
    assert fit(x, y, (-1.0, 1.0), lr=1.5 * critical, steps=30).diverged


def test_diverged_catches_a_run_whose_loss_is_still_below_its_start() -> None:
    # Just above the critical rate, from the notes' start, the slow direction's fall hides the
    # growing fast direction: the loss ends below where it started, yet it is rising.
    x, y = linear_data(seed=SEED)
    critical = critical_lr(x)
    run = fit(x, y, (-1.0, 1.0), lr=1.01 * critical, steps=20)
    assert not run.overflowed and float(run.losses[-1]) < float(run.losses[0])
    assert run.diverged
    assert not fit(x, y, (-1.0, 1.0), lr=0.99 * critical, steps=20).diverged
    assert not fit(x, y, (-1.0, 1.0), lr=0.5 * critical, steps=300).diverged  # at the floor


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: nn.Parameter(torch.tensor([-1.0, 1.0]).double()), TypeError, "float32"),
        (lambda: nn.Parameter(torch.tensor([-1.0, 1.0]).half()), TypeError, "float32"),
        (lambda: nn.Parameter(torch.tensor([[-1.0, 1.0]]))[0], ValueError, "non-leaf"),
        (lambda: nn.Parameter(torch.tensor([float("nan"), 1.0])), ValueError, "finite"),
    ],
)
def test_sgd_step_refuses_a_parameter_it_cannot_update_naming_it(make, error, match):
    """A float64 parameter crashed inside torch (addmv: Double and Float), a non-leaf was told
    it had requires_grad=True, a NaN one returned a NaN loss: each is now named and explained."""
    x, y = linear_data(seed=0)
    with pytest.raises(error, match=rf"^a must .*{match}"):
        sgd_step(make(), x, y, 0.1)
