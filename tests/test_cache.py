"""The compile cache: keyed on what generated code depends on, and nothing else."""
import numpy as np

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, ParameterTuple, Tensor


def misses():
    return adjoint.cache_info()["misses"]


def make_net_class(scale=2.0):
    class Net(nn.Cell):
        def __init__(self, factor=scale, w=(1.0, 2.0)):
            super().__init__()
            self.factor = factor
            self.w = Parameter(np.array(w), name="w")
            self.b = Parameter(np.array([0.5, 0.5]), name="b")

        def construct(self, x):
            y = self.w * x * self.factor + self.b
            if self.factor > 2.5:
                y = y * y
            return ops.sum(y)
    return Net


Net = make_net_class()
X = Tensor(np.array([3.0, 4.0]))


def grads(net):
    g = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))(X)
    return [t.asnumpy().tolist() for t in g]


def test_second_call_compiles_nothing():
    net = Net()
    grads(net)
    before = misses()
    for _ in range(3):
        assert grads(net) == [[6.0, 8.0], [1.0, 1.0]]
    assert misses() == before
    assert adjoint.cache_info()["hits"] >= 0


def test_instances_with_the_same_structure_share_code_but_use_their_own_parameters():
    a, b = Net(w=(1.0, 2.0)), Net(w=(5.0, 6.0))
    grads(a)
    before = misses()
    assert grads(b) == [[6.0, 8.0], [1.0, 1.0]]
    assert misses() == before
    # dL/dx differs with w: each instance's own Parameters are read
    ga = ops.GradOperation()(a)(X).asnumpy().tolist()
    gb = ops.GradOperation()(b)(X).asnumpy().tolist()
    assert ga == [2.0, 4.0] and gb == [10.0, 12.0]


def test_different_constant_attributes_never_share_an_entry():
    low, high = Net(factor=2.0), Net(factor=3.0)
    assert grads(low) == [[6.0, 8.0], [1.0, 1.0]]
    # factor 3 takes the `if` branch: L = sum((3wx + b)^2)
    y = 3 * np.array([1.0, 2.0]) * np.array([3.0, 4.0]) + 0.5
    assert np.allclose(grads(high)[0], 2 * y * 3 * np.array([3.0, 4.0]))


def test_redefining_the_class_compiles_again():
    grads(Net())
    before = misses()
    Again = make_net_class()
    grads(Again())
    assert misses() == before + 1


def test_changing_requires_grad_compiles_again_and_changes_the_result():
    net = Net()
    assert len(grads(net)) == 2
    before = misses()
    net.b.requires_grad = False
    assert grads(net) == [[6.0, 8.0]]
    assert misses() == before + 1


def test_new_parameter_values_are_read_without_recompiling():
    net = Net()
    grads(net)
    before = misses()
    net.w.set_data(np.array([10.0, 10.0]))
    assert ops.GradOperation()(net)(X).asnumpy().tolist() == [20.0, 20.0]
    assert misses() == before


def test_replacing_a_parameter_object_is_seen():
    net = Net()
    assert ops.GradOperation()(net)(X).asnumpy().tolist() == [2.0, 4.0]
    net.w = Parameter(np.array([7.0, 7.0]), name="w")
    assert ops.GradOperation()(net)(X).asnumpy().tolist() == [14.0, 14.0]


W = np.array([2.0, 3.0])


def uses_global(x):
    return np.sum(W * x)


def test_rebinding_a_global_array_is_seen():
    global W
    g = adjoint.grad(uses_global)
    assert g(np.ones(2)).tolist() == [2.0, 3.0]
    W = np.array([4.0, 5.0])
    assert g(np.ones(2)).tolist() == [4.0, 5.0]


def test_clear_cache_forgets_everything():
    net = Net()
    grads(net)
    adjoint.clear_cache()
    info = adjoint.cache_info()
    assert info["entries"] == 0 and info["misses"] == 0
    grads(net)
    info = adjoint.cache_info()
    assert info["misses"] == 1 and info["compiled"][0]["function"].endswith("Net.construct")
    assert info["compiled"][0]["seconds"] > 0
