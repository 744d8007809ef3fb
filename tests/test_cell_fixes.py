"""Cell naming, set_train and Tensor printing, as MindSpore 2.10 does them (the expected
strings and names were printed by MindSpore 2.10.0 on CPU)."""
import numpy as np

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, ParameterTuple, Tensor


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.a = Parameter(Tensor(np.array([1.0], np.float32)), name="a")
        self.w = Parameter(Tensor(np.array([1.0], np.float32)), name="foo")

    def construct(self, x):
        return self.a * x * self.w


class GradNet(nn.Cell):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.params = ParameterTuple(net.trainable_params())
        self.grad_op = ops.GradOperation(get_by_list=True)

    def construct(self, x):
        return self.grad_op(self.net, self.params)(x)


def names(cell):
    return [p.name for p in cell.trainable_params()]


def test_parameter_names_follow_where_they_live_as_mindspore():
    net = Net()
    assert names(net) == ["a", "foo"]
    g1 = GradNet(net)
    assert names(net) == ["net.a", "net.w"]        # the attribute path, not the old name
    GradNet(net)
    assert names(net) == ["net.a", "net.w"]        # a second wrapper does not prefix again
    GradNet(g1)
    assert names(net) == ["net.net.a", "net.net.w"]
    dx = g1(Tensor(np.array([2.0], np.float32)))
    assert [float(d.asnumpy()[0]) for d in dx] == [2.0, 2.0]


def test_nested_wrappers_and_auto_prefix_false():
    class Lin(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(Tensor(np.ones(2, np.float32)), name="w")

        def construct(self, x):
            return x * self.w

    class Outer(nn.Cell):
        def __init__(self):
            super().__init__()
            self.lin = Lin()

        def construct(self, x):
            return self.lin(x)

    class Wrap(nn.Cell):
        def __init__(self, net, auto_prefix=True):
            super().__init__(auto_prefix=auto_prefix)
            self.net = net

        def construct(self, x):
            return self.net(x)

    o = Outer()
    assert names(o) == ["lin.w"]
    w = Wrap(o)
    assert names(o) == ["net.lin.w"]
    Wrap(o)
    assert names(o) == ["net.lin.w"]
    Wrap(w)
    assert names(o) == ["net.net.lin.w"]
    o2 = Outer()
    Wrap(o2, auto_prefix=False)
    assert names(o2) == ["lin.w"]


def test_set_train_reaches_every_cell_and_counts_as_a_change():
    from adjoint.compiler.hooks import EPOCH as STRUCTURE
    seq = nn.SequentialCell([nn.Dense(2, 2), nn.SequentialCell([nn.ReLU()])])
    assert seq.training is False
    before = STRUCTURE[0]
    assert seq.set_train() is seq
    assert STRUCTURE[0] > before
    assert all(c.training for _, c in seq.cells_and_names())
    seq.set_train(False)
    assert not any(c.training for _, c in seq.cells_and_names())


def test_tensor_repr_as_mindspore():
    assert repr(Tensor(np.float32(0.98343992))) == "Tensor(shape=[], dtype=Float32, value= 0.98344)"
    assert repr(Tensor(276)) == "Tensor(shape=[], dtype=Int64, value= 276)"
    assert repr(Tensor(np.float16(0.3))) == "Tensor(shape=[], dtype=Float16, value= 0.300049)"
    assert repr(Tensor(np.float32(123456789.0))) == "Tensor(shape=[], dtype=Float32, value= 1.23457e+08)"
    assert repr(Tensor(np.float32(2.0))) == "Tensor(shape=[], dtype=Float32, value= 2)"
    assert repr(Tensor(np.float32(1e-7))) == "Tensor(shape=[], dtype=Float32, value= 1e-07)"
    assert repr(Tensor(True)) == "Tensor(shape=[], dtype=Bool, value= True)"
    assert repr(Tensor(np.arange(12, dtype=np.float32).reshape(2, 2, 3))) == (
        "Tensor(shape=[2, 2, 3], dtype=Float32, value=\n"
        "[[[ 0.00000000e+00,  1.00000000e+00,  2.00000000e+00],\n"
        "  [ 3.00000000e+00,  4.00000000e+00,  5.00000000e+00]],\n"
        " [[ 6.00000000e+00,  7.00000000e+00,  8.00000000e+00],\n"
        "  [ 9.00000000e+00,  1.00000000e+01,  1.10000000e+01]]])")
    assert repr(Tensor(np.arange(24, dtype=np.int32).reshape(2, 3, 4))) == (
        "Tensor(shape=[2, 3, 4], dtype=Int32, value=\n"
        "[[[ 0,  1,  2,  3],\n"
        "  [ 4,  5,  6,  7],\n"
        "  [ 8,  9, 10, 11]],\n"
        " [[12, 13, 14, 15],\n"
        "  [16, 17, 18, 19],\n"
        "  [20, 21, 22, 23]]])")
    text = repr(Tensor(np.arange(24, dtype=np.float32).reshape(2, 1, 3, 4)))
    assert "\n\n" not in text and text.count("\n") == 6


def test_value_and_grad_still_prints_a_scalar_loss_as_mindspore():
    out, _ = adjoint.value_and_grad(Net(), 0)(Tensor(np.array([0.98343992], np.float32)))
    assert repr(out.sum()) == "Tensor(shape=[], dtype=Float32, value= 0.98344)"
