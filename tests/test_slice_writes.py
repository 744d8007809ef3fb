"""A loop's gradient of ``xs[t]`` written into its slice once per iteration (put_slice), in an
accumulator left uninitialised only when the loop writes every row (empty_if_covered)."""
import numpy as np
import pytest

import adjoint
from tests.fd import numeric_grad

RNG = np.random.default_rng(3)
WH, WX = RNG.standard_normal((3, 3)) * 0.5, RNG.standard_normal((2, 3)) * 0.5


def rnn(wh, wx, xs):
    h = np.zeros((4, 3))
    for t in range(xs.shape[0]):
        h = np.tanh(h @ wh + xs[t] @ wx)
    return np.sum(h * h)


def rnn_from_one(wh, wx, xs):
    h = np.zeros((4, 3))
    for t in range(1, xs.shape[0]):
        h = np.tanh(h @ wh + xs[t] @ wx)
    return np.sum(h * h)


def rnn_first_three(wh, wx, xs):
    h = np.zeros((4, 3))
    for t in range(3):
        h = np.tanh(h @ wh + xs[t] @ wx)
    return np.sum(h * h)


def rnn_every_other(wh, wx, xs):
    h = np.zeros((4, 3))
    for t in range(0, xs.shape[0], 2):
        h = np.tanh(h @ wh + xs[t] @ wx)
    return np.sum(h * h)


def rnn_twice(wh, wx, xs):
    h = np.zeros((4, 3))
    for t in range(xs.shape[0]):
        h = np.tanh(h @ wh + xs[t] @ wx + np.sin(xs[t]) @ wx)
    return np.sum(h * h)


@pytest.mark.parametrize("fn, rows_without_gradient", [
    (rnn, []), (rnn_from_one, [0]), (rnn_first_three, [3, 4]), (rnn_every_other, [1, 3]), (rnn_twice, [])])
def test_the_sequence_gradient_matches_finite_differences(fn, rows_without_gradient):
    xs = RNG.standard_normal((5, 4, 2))
    g = adjoint.grad(fn, (0, 1, 2))
    for _ in range(2):                  # (uninitialised memory the second time is not zeros)
        dwh, dwx, dxs = g(WH, WX, xs)
        np.testing.assert_allclose(dxs, numeric_grad(fn, (WH, WX, xs), 2), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(dwh, numeric_grad(fn, (WH, WX, xs), 0), rtol=1e-5, atol=1e-7)
        for row in rows_without_gradient:
            assert not dxs[row].any()


def test_each_slice_is_written_once_and_the_zeros_go_when_every_row_is():
    source = adjoint.grad(rnn, (0, 1, 2)).compiled(WH, WX, np.ones((5, 4, 2))).source
    assert "put_slice(dxs" in source and "empty_if_covered(xs, 0, " in source
    assert "add_at" not in source
    twice = adjoint.grad(rnn_twice, (0, 1, 2)).compiled(WH, WX, np.ones((5, 4, 2))).source
    assert "put_slice" not in twice        # two parts per slice: added
