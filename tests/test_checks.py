"""ADJOINT_CHECK=1: generated code checks its own invariants as it runs."""
import numpy as np
import pytest

import adjoint
from adjoint.compiler import runtime
from adjoint.compiler.checks import InvariantError


def mlp(w1, w2, x, labels):
    h = np.tanh(x @ w1)
    logits = h @ w2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(x.shape[0]), labels])


def scaled(x):
    # (over an axis: a full sum's seed times 2.0 is folded into exp(x) * 2.0, and unreduce,
    # which the tests below break on purpose, would not run at all)
    return np.sum(np.exp(x) * 2.0, axis=0)


@pytest.fixture
def checking(monkeypatch):
    monkeypatch.setenv("ADJOINT_CHECK", "1")
    yield
    adjoint.clear_cache()


def _mlp_args(dtype):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((5, 4)).astype(dtype), rng.standard_normal((4, 3)).astype(dtype),
            rng.standard_normal((6, 5)).astype(dtype), np.array([0, 1, 2, 0, 1, 2]))


def test_a_float32_mlp_stays_float32_and_matches_unchecked_code(checking):
    args = _mlp_args(np.float32)
    checked = adjoint.grad(mlp, (0, 1))(*args)
    source = adjoint.grad(mlp, (0, 1)).compiled(*args).source
    assert "check_value(" in source and "check_adjoint(" in source
    adjoint.clear_cache()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("ADJOINT_CHECK")
        plain = adjoint.grad(mlp, (0, 1))(*args)
    for a, b in zip(checked, plain):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_float64_value_in_a_float32_program_is_reported(checking, monkeypatch):
    monkeypatch.setattr(runtime, "unreduce", _promoting(runtime.unreduce))
    with pytest.raises(InvariantError, match=r"test_checks.py:\d+: .* is float64 in a program whose inputs are all float32"):
        adjoint.grad(scaled)(np.ones(3, np.float32))


def test_a_gradient_of_the_wrong_shape_is_reported(checking, monkeypatch):
    monkeypatch.setattr(runtime, "unreduce", lambda g, x, axis=None, keepdims=False: np.ones(7))
    with pytest.raises(InvariantError, match=r"the gradient .* has shape \(7,\) but its value has shape \(3,\)"):
        adjoint.grad(scaled)(np.ones(3))


def _promoting(fn):
    def wrapped(*args, **kwargs):
        return np.asarray(fn(*args, **kwargs), np.float64)
    return wrapped
