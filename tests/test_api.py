"""Return structures, dtypes and values of GradOperation, grad and value_and_grad.

Expected structures are MindSpore 2.10's, observed on the real thing (see SEMANTICS.md).
"""
import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, ParameterTuple, Tensor
from adjoint import dtype as mstype
from fd import numeric_grad


class WXYB(nn.Cell):
    """f = w * x * y + b"""

    def __init__(self):
        super().__init__()
        self.w = Parameter(Tensor(np.array([6.0], np.float32)), name="w")
        self.b = Parameter(Tensor(np.array([1.0], np.float32)), name="b")

    def construct(self, x, y):
        return self.w * x * y + self.b


class TwoOut(nn.Cell):
    def construct(self, x, y):
        return x * y, x + y


class Unused(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.array([2.0, 3.0]), name="w")
        self.unused = Parameter(np.array([1.0, 1.0]), name="unused")

    def construct(self, x, z):
        return x * self.w


def T(v, dt=mstype.float32):
    return Tensor(np.array(v), dtype=dt)


def vals(t):
    return t.asnumpy().tolist()


x, y = T([100.0]), T([3.0])


def test_default_gives_a_bare_tensor_for_the_first_input_only():
    out = ops.GradOperation()(WXYB())(x, y)
    assert isinstance(out, Tensor) and vals(out) == [18.0]


def test_get_all_gives_one_gradient_per_input():
    out = ops.GradOperation(get_all=True)(WXYB())(x, y)
    assert isinstance(out, tuple) and [vals(g) for g in out] == [[18.0], [600.0]]


def test_get_all_with_one_input_gives_a_1_tuple():
    class One(nn.Cell):
        def construct(self, x):
            return x * x
    out = ops.GradOperation(get_all=True)(One())(T([3.0]))
    assert isinstance(out, tuple) and len(out) == 1 and vals(out[0]) == [6.0]


def test_get_by_list_gives_parameter_gradients_in_list_order():
    net = WXYB()
    params = ParameterTuple(net.trainable_params())
    dw, db = ops.GradOperation(get_by_list=True)(net, params)(x, y)
    assert vals(dw) == [300.0] and vals(db) == [1.0]
    db2, dw2 = ops.GradOperation(get_by_list=True)(net, [net.b, net.w])(x, y)
    assert vals(db2) == [1.0] and vals(dw2) == [300.0]


def test_get_by_list_with_a_single_parameter_gives_a_bare_tensor():
    net = WXYB()
    out = ops.GradOperation(get_by_list=True)(net, net.w)(x, y)
    assert isinstance(out, Tensor) and vals(out) == [300.0]


def test_get_all_and_get_by_list_nest_inputs_then_parameters():
    net = WXYB()
    (dx, dy), (dw, db) = ops.GradOperation(get_all=True, get_by_list=True)(
        net, ParameterTuple(net.trainable_params()))(x, y)
    assert [vals(dx), vals(dy), vals(dw), vals(db)] == [[18.0], [600.0], [300.0], [1.0]]


def test_tuple_output_without_sens_sums_the_outputs_gradients():
    dx, dy = ops.GradOperation(get_all=True)(TwoOut())(T([2.0]), T([3.0]))
    assert vals(dx) == [4.0] and vals(dy) == [3.0]


def test_tuple_output_with_a_tuple_of_sens():
    dx, dy = ops.GradOperation(get_all=True, sens_param=True)(TwoOut())(
        T([2.0]), T([3.0]), (T([10.0]), T([100.0])))
    assert vals(dx) == [130.0] and vals(dy) == [120.0]


def test_non_scalar_output_is_seeded_with_ones():
    class Sq(nn.Cell):
        def construct(self, x):
            return x * x
    out = ops.GradOperation()(Sq())(T([1.0, 2.0, 3.0]))
    assert vals(out) == [2.0, 4.0, 6.0]


def test_inputs_and_parameters_that_do_not_reach_the_output_get_zeros_of_their_dtype():
    net = Unused()
    (dx, dz), (dw, du) = ops.GradOperation(get_all=True, get_by_list=True)(
        net, ParameterTuple(net.trainable_params()))(T([1.0, 2.0]), Tensor(np.array([5, 6], np.int32)))
    assert vals(dz) == [0, 0] and dz.dtype == mstype.int32
    assert vals(du) == [0.0, 0.0] and du.dtype == mstype.float64
    assert vals(dw) == [1.0, 2.0] and dw.dtype == mstype.float64
    assert vals(dx) == [2.0, 3.0] and dx.dtype == mstype.float32


def test_integer_input_gradient_is_cast_to_the_input_dtype():
    class Scale(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(Tensor(np.array([2.5], np.float32)), name="w")

        def construct(self, x):
            return x * self.w
    net = Scale()
    (dx,), (dw,) = ops.GradOperation(get_all=True, get_by_list=True)(
        net, ParameterTuple(net.trainable_params()))(Tensor(np.array([3], np.int32)))
    assert repr(dx) == "Tensor(shape=[1], dtype=Int32, value= [2])"
    assert vals(dw) == [3.0] and dw.dtype == mstype.float32


def test_each_gradient_takes_the_dtype_of_what_it_is_taken_with_respect_to():
    class Mixed(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.array([6.0]), name="w")
        def construct(self, x):
            return self.w * x
    net = Mixed()
    (dx,), (dw,) = ops.GradOperation(get_all=True, get_by_list=True)(net, [net.w])(T([100.0]))
    assert dx.dtype == mstype.float32 and dw.dtype == mstype.float64


def test_requires_grad_false_leaves_a_parameter_out_of_trainable_params():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(Tensor(np.array([6], np.float32)), name="w")
            self.b = Parameter(Tensor(np.array([1.0], np.float32)), name="b", requires_grad=False)

        def construct(self, x):
            return x * self.w + self.b
    net = Net()
    assert [p.name for p in net.trainable_params()] == ["w"]
    assert [p.name for p in net.get_parameters()] == ["w", "b"]


def test_stop_gradient_cuts_every_path_through_its_value():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.array([2.0]), name="w")

        def construct(self, x):
            y = x * self.w
            z = ops.stop_gradient(y) * x + y
            return z
    out = ops.GradOperation()(Net())(T([3.0]))
    # dz/dx = stop(y) + w = 6 + 2
    assert vals(out) == [8.0]


def test_a_parameter_used_twice_accumulates_its_gradient():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.array([2.0, 3.0]), name="w")

        def construct(self, x):
            return ops.sum(self.w * x + self.w * self.w)
    net = Net()
    (dw,) = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))(
        Tensor(np.array([1.0, 5.0])))
    assert vals(dw) == [1.0 + 4.0, 5.0 + 6.0]


def test_grad_operation_on_a_plain_function():
    def f(a, b):
        return a * a * b
    assert vals(ops.GradOperation()(f)(T([2.0]), T([3.0]))) == [12.0]


# -- adjoint.grad / value_and_grad -----------------------------------------------------------------
def fxy(x, y):
    return x * x * y


def faux(x, y):
    return x * x * y, x + y


def test_grad_positions():
    a, b = T([2.0]), T([3.0])
    assert vals(adjoint.grad(fxy)(a, b)) == [12.0]
    assert isinstance(adjoint.grad(fxy, (0,))(a, b), Tensor)
    assert vals(adjoint.grad(fxy, (1,))(a, b)) == [4.0]
    assert vals(adjoint.grad(fxy, 1)(a, b)) == [4.0]
    ga, gb = adjoint.grad(fxy, (0, 1))(a, b)
    assert vals(ga) == [12.0] and vals(gb) == [4.0]


def test_grad_has_aux_returns_grads_then_the_aux_tuple():
    g, aux = adjoint.grad(faux, 0, has_aux=True)(T([2.0]), T([3.0]))
    assert vals(g) == [12.0] and isinstance(aux, tuple) and vals(aux[0]) == [5.0]


def test_grad_of_tuple_output_without_aux_sums():
    ga, gb = adjoint.grad(faux, (0, 1))(T([2.0]), T([3.0]))
    assert vals(ga) == [13.0]   # 2xy + 1
    assert vals(gb) == [5.0]    # x*x + 1


def test_value_and_grad_structures():
    value, g = adjoint.value_and_grad(fxy)(T([2.0]), T([3.0]))
    assert vals(value) == [12.0] and vals(g) == [12.0]
    (out, aux), g = adjoint.value_and_grad(faux, 0, has_aux=True)(T([2.0]), T([3.0]))
    assert vals(out) == [12.0] and vals(aux) == [5.0] and vals(g) == [12.0]


def test_grad_with_weights_on_a_cell():
    class Lin(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(Tensor(np.array([6.0], np.float32)), name="w")
            self.b = Parameter(Tensor(np.array([1.0], np.float32)), name="b")

        def construct(self, x):
            return self.w * x + self.b
    net = Lin()
    params = net.trainable_params()
    dx, (dw, db) = adjoint.grad(net, 0, weights=params)(T([100.0]))
    assert [vals(dx), vals(dw), vals(db)] == [[6.0], [100.0], [1.0]]
    dw, db = adjoint.grad(net, None, weights=params)(T([100.0]))
    assert vals(dw) == [100.0]
    assert vals(adjoint.grad(net, None, weights=net.w)(T([100.0]))) == [100.0]
    value, (dx, (dw, db)) = adjoint.value_and_grad(net, 0, weights=params)(T([100.0]))
    assert vals(value) == [601.0]


def test_grad_needs_a_position_or_weights():
    with pytest.raises(adjoint.ArgumentError, match="can not be None at the same time"):
        adjoint.grad(fxy, None)


def test_grad_position_out_of_range():
    with pytest.raises(adjoint.ArgumentError, match="exceed input size"):
        adjoint.grad(fxy, 2)(T([1.0]), T([1.0]))


def test_plain_numpy_function_gets_numpy_results_matching_finite_differences():
    def f(x, y):
        return np.sum(np.sin(x) * np.cos(y) + x * y * y)
    a = np.array([0.3, 0.5, -1.2])
    b = np.array([1.2, -0.7, 0.1])
    ga, gb = adjoint.grad(f, grad_position=(0, 1))(a, b)
    assert type(ga) is np.ndarray and ga.dtype == np.float64
    np.testing.assert_allclose(ga, numeric_grad(f, [a, b], 0), rtol=1e-6)
    np.testing.assert_allclose(gb, numeric_grad(f, [a, b], 1), rtol=1e-6)


def test_python_floats_give_python_floats():
    def f(x, y):
        return np.sin(x) * np.cos(y) + x * y * y
    gx, gy = adjoint.grad(f, (0, 1))(0.5, 1.5)
    assert type(gx) is float and type(gy) is float
    assert gx == pytest.approx(np.cos(0.5) * np.cos(1.5) + 1.5 * 1.5)
    assert gy == pytest.approx(-np.sin(0.5) * np.sin(1.5) + 2 * 0.5 * 1.5)


def test_calling_a_cell_runs_construct_on_tensors():
    out = WXYB()(T([2.0]), T([3.0]))
    assert isinstance(out, Tensor) and vals(out) == [37.0] and out.dtype == mstype.float32


def test_primitive_instances_created_in_init_work_in_construct():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.mul = ops.Mul()
            self.matmul = ops.MatMul(transpose_b=True)
            self.reduce = ops.ReduceSum(keep_dims=False)
            self.w = Parameter(np.arange(6.0).reshape(2, 3), name="w")

        def construct(self, x):
            return self.reduce(self.mul(self.matmul(x, self.w), 2.0))
    net = Net()
    xs = np.random.default_rng(0).standard_normal((4, 3))
    gx = ops.GradOperation()(net)(Tensor(xs)).asnumpy()
    np.testing.assert_allclose(gx, numeric_grad(lambda a: net(Tensor(a)).asnumpy(), [xs], 0), rtol=1e-6)
