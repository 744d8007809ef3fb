"""Gradient checkpointing: Cell.recompute() and adjoint.recompute(block, *args) give the same
gradients with the marked part's values computed again in the reverse sweep (peak memory
drops); what has effects (a dropout mask) is kept, not drawn again."""
import tracemalloc

import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import ParameterTuple, Tensor
from fd import numeric_grad


class Block(nn.Cell):
    def __init__(self, width, depth):
        super().__init__()
        self.layers = nn.CellList([nn.Dense(width, width, activation="tanh") for _ in range(depth)])

    def construct(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Deep(nn.Cell):
    def __init__(self, width=16, blocks=3, depth=3):
        super().__init__()
        self.blocks = nn.CellList([Block(width, depth) for _ in range(blocks)])

    def construct(self, x):
        for b in self.blocks:
            x = b(x)
        return (x * x).sum()


def _grads(net, x):
    return [g.asnumpy() for g in ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))(x)]


def _peak(fn):
    fn()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_cell_recompute_gives_the_same_gradients_with_less_memory():
    np.random.seed(0)
    net = Deep()
    x = Tensor(np.random.default_rng(1).standard_normal((256, 16)).astype(np.float32))
    want = _grads(net, x)
    grad_fn = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    before = _peak(lambda: grad_fn(x))
    for b in net.blocks:
        b.recompute()                       # a change: the next call compiles again
    got = [g.asnumpy() for g in grad_fn(x)]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    after = _peak(lambda: grad_fn(x))
    assert after < 0.75 * before, (after, before)
    src = grad_fn.source
    assert "# recomputed: x = layer(x)" in src


def mlp_block(x, w1, w2):
    return np.tanh(np.tanh(x @ w1) @ w2)


def test_the_function_form_and_the_checkpoint_decorator():
    rng = np.random.default_rng(2)
    x, w1, w2 = rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def plain(x, w1, w2):
        return np.sum(mlp_block(mlp_block(x, w1, w2), w2, w1) ** 2)

    def marked(x, w1, w2):
        h = adjoint.recompute(mlp_block, x, w1, w2)
        return np.sum(adjoint.recompute(mlp_block, h, w2, w1) ** 2)
    block = adjoint.remat(mlp_block)

    def decorated(x, w1, w2):
        return np.sum(block(block(x, w1, w2), w2, w1) ** 2)
    want = adjoint.grad(plain, (0, 1, 2))(x, w1, w2)
    for f in (marked, decorated):
        got = adjoint.grad(f, (0, 1, 2))(x, w1, w2)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        assert "# recomputed:" in adjoint.grad(f, (0, 1, 2)).compiled(x, w1, w2).source
    np.testing.assert_allclose(want[1], numeric_grad(plain, [x, w1, w2], 1), rtol=1e-6)
    # eagerly, recompute just calls the block
    np.testing.assert_allclose(adjoint.recompute(mlp_block, x, w1, w2, use_reentrant=False), mlp_block(x, w1, w2))


def test_what_has_effects_is_kept_not_drawn_again():
    class Noisy(nn.Cell):
        def __init__(self):
            super().__init__()
            self.dense = nn.Dense(8, 8, activation="tanh")
            self.drop = nn.Dropout(p=0.5)

        def construct(self, x):
            return self.drop(self.dense(x)) * 2.0

    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.inner = Noisy()

        def construct(self, x):
            return (self.inner(x) ** 2).sum()
    net = Net()
    net.set_train()
    x = Tensor(np.random.default_rng(3).standard_normal((5, 8)).astype(np.float32))
    np.random.seed(4)
    want = _grads(net, x)
    net.inner.recompute()
    np.random.seed(4)
    got = _grads(net, x)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_recompute_with_vjp_value_and_grad_and_second_order():
    rng = np.random.default_rng(5)
    x, w1, w2 = rng.standard_normal((2, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def marked(x, w1, w2):
        return np.sum(adjoint.recompute(mlp_block, x, w1, w2) ** 2)

    def plain(x, w1, w2):
        return np.sum(mlp_block(x, w1, w2) ** 2)
    out, pullback = ops.vjp(marked, x, w1, w2)
    np.testing.assert_allclose(pullback(1.0)[1], adjoint.grad(plain, 1)(x, w1, w2), rtol=1e-12)
    value, g = adjoint.value_and_grad(marked, 2)(x, w1, w2)
    assert value == pytest.approx(plain(x, w1, w2))
    v = rng.standard_normal((3, 3))
    np.testing.assert_allclose(adjoint.hvp(lambda w: marked(x, w, w2), w1, v),
                               adjoint.hvp(lambda w: plain(x, w, w2), w1, v), rtol=1e-10)
