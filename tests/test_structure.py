"""Nested Cells, methods, helpers, custom bprop and higher-order gradients."""
import numpy as np
import pytest

import adjoint
import adjoint.ops as ops
from adjoint import ParameterTuple, Tensor
from fd import numeric_grad
from programs import structure as S

X = np.array([0.3, -0.7, 1.1])


def cell_loss(net, params):
    """The Cell's output as a function of its input and Parameters (for finite differences)."""
    def loss(x, *values):
        saved = [p.asnumpy().copy() for p in params]
        for p, v in zip(params, values):
            p.set_data(v)
        try:
            return net(Tensor(np.asarray(x))).asnumpy()
        finally:
            for p, v in zip(params, saved):
                p.set_data(v)
    return loss


def test_sub_cells_methods_super_and_helpers():
    net = S.Model()
    params = net.trainable_params()
    assert [p.name for p in params] == ["b", "encoder.w", "doubled.w"]
    (dx,), dparams = ops.GradOperation(get_all=True, get_by_list=True)(net, ParameterTuple(params))(Tensor(X))
    loss = cell_loss(net, params)
    args = [X] + [p.asnumpy() for p in params]
    np.testing.assert_allclose(dx.asnumpy(), numeric_grad(loss, args, 0), rtol=1e-6, atol=1e-8)
    for i, d in enumerate(dparams):
        np.testing.assert_allclose(d.asnumpy(), numeric_grad(loss, args, i + 1), rtol=1e-6, atol=1e-8)


def test_parameters_are_named_by_where_they_live_in_generated_code():
    net = S.Model()
    src = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params())).source
    assert "self_encoder_w" in src and "self_doubled_w" in src and "dself_b" in src


def test_bprop_replaces_the_derivative_of_a_sub_cell():
    net = S.UsesScaled()
    x = np.array([1.0, 2.0])
    (dx,), (dw,) = ops.GradOperation(get_all=True, get_by_list=True)(
        net, ParameterTuple(net.trainable_params()))(Tensor(x))
    w = net.w.asnumpy()
    y = np.maximum(x * w, 0)
    # d/dy sum(y*y) = 2y; bprop: 3 * that; chain through x * w
    np.testing.assert_allclose(dx.asnumpy(), 3 * 2 * y * w + 1)
    np.testing.assert_allclose(dw.asnumpy(), 3 * 2 * y * x)


def test_bprop_of_the_differentiated_cell_itself():
    out = ops.GradOperation()(S.Scaled())(Tensor(np.array([1.0, -2.0])))
    assert out.asnumpy().tolist() == [3.0, 3.0]


def second(x):
    return -np.sin(x) * x * x + 4 * x * np.cos(x) + 2 * np.sin(x)


def test_second_and_third_derivatives_of_a_cell():
    x = np.array([0.7, 1.3])
    first = S.GradNet(S.Poly())(Tensor(x)).asnumpy()
    np.testing.assert_allclose(first, np.cos(x) * x * x + 2 * x * np.sin(x))
    d2 = ops.GradOperation()(S.GradNet(S.Poly()))(Tensor(x)).asnumpy()
    np.testing.assert_allclose(d2, second(x))
    d3 = ops.GradOperation()(S.GradNet(S.GradNet(S.Poly())))(Tensor(x)).asnumpy()
    np.testing.assert_allclose(d3, -np.cos(x) * x * x - 6 * x * np.sin(x) + 6 * np.cos(x))


@pytest.mark.parametrize("x", [np.array([0.4, 0.9]), np.array([-0.4, -0.9])])
def test_second_derivative_of_a_branch(x):
    d2 = ops.GradOperation()(S.GradNet(S.Branchy()))(Tensor(x)).asnumpy()
    expected = 6 * x if x.sum() > 0 else np.exp(x)
    np.testing.assert_allclose(d2, expected)


def test_grad_of_a_function_that_calls_grad():
    assert adjoint.grad(S.df)(0.5) == pytest.approx(-np.sin(0.5) * 0.5 + 2 * np.cos(0.5))


def looping_first(x):
    """d/dx of Looping: y <- sin(y) * x three times, by forward-mode chain rule."""
    y, dy = x, np.ones_like(x)
    for _ in range(3):
        y, dy = np.sin(y) * x, np.cos(y) * dy * x + np.sin(y)
    return dy


@pytest.mark.parametrize("x", [np.array([0.5, -1.2]), np.array([2.0])])
def test_second_derivative_through_a_loop(x):
    d1 = S.GradNet(S.Looping())(Tensor(x)).asnumpy()
    np.testing.assert_allclose(d1, looping_first(x), rtol=1e-10)
    d2 = ops.GradOperation()(S.GradNet(S.Looping()))(Tensor(x)).asnumpy()
    np.testing.assert_allclose(d2, numeric_grad(lambda v: np.sum(looping_first(v)), [x], 0), rtol=1e-6)


def test_source_defined_by_exec_is_a_clear_error():
    namespace = {"np": np}
    exec("def hidden(x):\n    return np.sin(x)\n", namespace)

    def calls_hidden(x):
        return namespace["hidden"](x) * 2.0
    with pytest.raises(adjoint.SourceError, match="cannot find the source of hidden") as info:
        adjoint.grad(calls_hidden)(1.0)
    assert info.value.loc is not None and info.value.loc.file.endswith("test_structure.py")
