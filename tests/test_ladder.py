"""The equivalence ladder: fit, fit_module and fit_learner take the same steps, quietly."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

from descent import Line, critical_lr, fit, fit_learner, fit_module, linear_data

X, Y = linear_data()
A0 = (-1.0, 1.0)
CRITICAL = critical_lr(X)
LRS = [0.1, 0.5 * CRITICAL, 0.99 * CRITICAL]


def assert_same_history(got, want, rtol=1e-5, atol=1e-6):
    assert got.steps == want.steps and got.overflowed == want.overflowed
    assert (got.lr, got.batch_size) == (want.lr, want.batch_size)
    np.testing.assert_allclose(got.params.numpy(), want.params.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(got.losses.numpy(), want.losses.numpy(), rtol=rtol, atol=atol)


def test_line_is_x_at_a():
    line = Line((3.0, 2.0))
    assert [p.shape for p in line.parameters()] == [(2,)]
    np.testing.assert_allclose(
        line(X).detach().numpy(), X.double().numpy() @ np.array([3.0, 2.0]), rtol=1e-6, atol=1e-6
    )


def np_descent(lr, steps):
    """Full-batch gradient descent a ← a − lr (2/n) xᵀ(x a − y), in NumPy float64."""
    x, y = X.double().numpy(), Y.double().numpy()
    p = [np.array(A0)]
    for _ in range(steps):
        p.append(p[-1] - lr * 2 / len(x) * x.T @ (x @ p[-1] - y))
    return np.stack(p)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
@pytest.mark.parametrize("rung", [fit_module, fit_learner])
def test_rungs_do_not_depend_on_the_callers_grad_mode(rung, mode):
    """Called inside no_grad or inference_mode, a rung still takes the gradient steps (it
    used to fail inside torch: "element 0 of tensors does not require grad")."""
    with mode():
        h = rung(X, Y, A0, lr=0.1, steps=5)
    np.testing.assert_allclose(h.params.numpy(), np_descent(0.1, 5), rtol=0, atol=1e-5)


@pytest.mark.parametrize("lr", LRS)
def test_fit_module_agrees_with_fit(lr):
    assert_same_history(fit_module(X, Y, A0, lr=lr, steps=200), fit(X, Y, A0, lr=lr, steps=200))


def test_fit_module_flags_divergence_like_fit():
    lr = 3 * CRITICAL
    ours, module = fit(X, Y, A0, lr=lr, steps=500), fit_module(X, Y, A0, lr=lr, steps=500)
    assert ours.overflowed and module.overflowed
    assert abs(ours.steps - module.steps) <= 1  # rounding may move the overflow by a step
    k = min(ours.steps, module.steps) + 1
    np.testing.assert_allclose(module.losses[:k].numpy(), ours.losses[:k].numpy(), rtol=1e-4)


@pytest.mark.parametrize("lr", LRS)
def test_fit_learner_agrees_with_fit(lr):
    assert_same_history(fit_learner(X, Y, A0, lr=lr, steps=60), fit(X, Y, A0, lr=lr, steps=60))


def test_fit_learner_edge_cases():
    assert fit_learner(X, Y, A0, lr=0.1, steps=0).params.tolist() == [list(A0)]
    blown = fit_learner(X, Y, A0, lr=1e4, steps=200)
    assert blown.overflowed and blown.steps < 200 and torch.isfinite(blown.losses).all()


def test_fit_learner_is_silent_writes_nothing_and_keeps_the_global_rng(
    capfd, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    torch_state, py_state = torch.get_rng_state(), random.getstate()
    np_state = np.random.get_state()[1].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        fit_learner(X, Y, A0, lr=0.1, steps=5)
        with warnings.catch_warnings():
            # fastai.basics (imported by the progress module) trips a pandas deprecation
            # at import: not ours. Importing it adds a progress bar to every new Learner.
            warnings.simplefilter("ignore")
            import fastai.callback.progress  # noqa: F401
        fit_learner(X, Y, A0, lr=0.1, steps=5)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert list(tmp_path.iterdir()) == []
    assert torch.equal(torch.get_rng_state(), torch_state) and random.getstate() == py_state
    assert np.array_equal(np.random.get_state()[1], np_state)


def test_fresh_process_imports_fastai_lazily_and_prints_nothing():
    """In a new interpreter (where fastai's import-time warnings would show) with every
    warning displayed: ``import descent`` does not load fastai, and fit_learner is silent."""
    code = textwrap.dedent("""
        import sys
        import descent
        assert "fastai" not in sys.modules, "descent imported fastai eagerly"
        x, y = descent.linear_data()
        h = descent.fit_learner(x, y, (-1.0, 1.0), lr=0.1, steps=3)
        assert "fastai" in sys.modules and h.steps == 3
    """)
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
