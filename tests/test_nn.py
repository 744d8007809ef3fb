"""adjoint.nn layers, containers and losses: MindSpore's names, reprs and initialisers, and
gradients checked against float64 central finite differences."""
from collections import OrderedDict

import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, ParameterTuple, Tensor
from adjoint import dtype as mstype
from fd import numeric_grad

RNG = np.random.RandomState(0)
X = RNG.randn(4, 3)


def rand(*shape):
    return RNG.randn(*shape)


def dense64(n_in, n_out, **kw):
    """A Dense with float64 weights given as ndarrays (bias too unless has_bias=False)."""
    if kw.get("has_bias", True):
        kw.setdefault("bias_init", rand(n_out))
    return nn.Dense(n_in, n_out, weight_init=rand(n_out, n_in), **kw)


class Weighted(nn.Cell):
    """sum(net(x) * r) with a fixed random r: a scalar that depends on every output."""

    def __init__(self, net, r):
        super().__init__()
        self.net = net
        self.r = Tensor(r)

    def construct(self, x):
        return ops.sum(self.net(x) * self.r)


def cell_fn(net, params):
    """net's output as a numpy function of (*inputs, *parameter values), for finite differences."""
    def f(*args):
        n_in = len(args) - len(params)
        saved = [p.asnumpy().copy() for p in params]
        for p, v in zip(params, args[n_in:]):
            p.set_data(np.asarray(v))
        try:
            out = net(*[Tensor(np.asarray(a)) for a in args[:n_in]])
            return np.sum(out.asnumpy())
        finally:
            for p, v in zip(params, saved):
                p.set_data(v)
    return f


def check_grads(net, inputs, rtol=1e-6, atol=1e-8):
    """GradOperation(get_all, get_by_list) on net agrees with finite differences everywhere."""
    params = net.trainable_params()
    tensors = [Tensor(a) for a in inputs]
    dxs, dws = ops.GradOperation(get_all=True, get_by_list=True)(net, ParameterTuple(params))(*tensors)
    f = cell_fn(net, params)
    args = list(inputs) + [p.asnumpy().copy() for p in params]
    assert len(dxs) == len(inputs) and len(dws) == len(params)
    for i, d in enumerate(list(dxs) + list(dws)):
        if np.asarray(args[i]).dtype.kind != "f":
            assert not np.any(d.asnumpy())
            continue
        np.testing.assert_allclose(d.asnumpy(), numeric_grad(f, args, i), rtol=rtol, atol=atol,
                                   err_msg="gradient %d" % i)
    return dxs, dws


def names(net):
    return [p.name for p in net.trainable_params()]


# -- Dense --------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "softmax", "logsoftmax",
                                        "leakyrelu"])
def test_dense_gradients_with_each_activation(activation):
    net = Weighted(dense64(3, 5, activation=activation), rand(4, 5))
    check_grads(net, [X])


@pytest.mark.parametrize("activation", [nn.Tanh(), nn.Softmax(axis=0), ops.Sigmoid()],
                         ids=["cell", "cell-with-attr", "primitive"])
def test_dense_activation_given_as_an_object(activation):
    check_grads(Weighted(dense64(3, 2, activation=activation), rand(4, 2)), [X])


def test_dense_without_bias():
    net = dense64(3, 2, has_bias=False)
    assert names(net) == ["weight"] and net.bias is None
    check_grads(Weighted(net, rand(4, 2)), [X])
    np.testing.assert_allclose(net(Tensor(X)).asnumpy(), X @ net.weight.asnumpy().T)


def test_dense_forward_is_x_times_weight_transposed_plus_bias():
    net = dense64(3, 2, activation="tanh")
    expected = np.tanh(X @ net.weight.asnumpy().T + net.bias.asnumpy())
    np.testing.assert_allclose(net(Tensor(X)).asnumpy(), expected)


def test_dense_on_a_batch_of_matrices_and_a_vector():
    net = Weighted(dense64(3, 2, activation="sigmoid"), rand(5, 4, 2))
    check_grads(net, [rand(5, 4, 3)])
    check_grads(Weighted(dense64(3, 2), rand(2)), [rand(3)])


def test_eager_call_equals_compiled_forward():
    net = nn.SequentialCell(dense64(3, 4, activation="relu"), dense64(4, 2), nn.LogSoftmax())
    out, (dx, dws) = adjoint.value_and_grad(net, 0, net.trainable_params())(Tensor(X))
    np.testing.assert_allclose(out.asnumpy(), net(Tensor(X)).asnumpy(), rtol=1e-12)
    assert dx.shape == (4, 3) and [d.shape for d in dws] == [(4, 3), (4,), (2, 4), (2,)]


def test_dense_parameters_and_repr():
    net = nn.Dense(3, 2)
    assert [(p.name, p.shape, p.dtype) for p in net.trainable_params()] == [
        ("weight", (2, 3), mstype.float32), ("bias", (2,), mstype.float32)]
    assert repr(net) == "Dense(input_channels=3, output_channels=2, has_bias=True)"
    assert repr(nn.Dense(3, 2, has_bias=False)) == "Dense(input_channels=3, output_channels=2)"
    assert repr(nn.Dense(3, 2, activation="relu")) == (
        "Dense(input_channels=3, output_channels=2, has_bias=True, activation=ReLU()\n"
        "  (activation): ReLU()\n)")
    for cell, text in [(nn.ReLU(), "ReLU()"), (nn.Tanh(), "Tanh()"), (nn.Sigmoid(), "Sigmoid()"),
                       (nn.Softmax(), "Softmax()"), (nn.LogSoftmax(), "LogSoftmax()"),
                       (nn.Flatten(), "Flatten()"), (nn.MSELoss(), "MSELoss()")]:
        assert repr(cell) == text


# -- initialisers -------------------------------------------------------------------------------
def test_default_init_is_mindsporess_he_uniform_and_uniform_bias():
    np.random.seed(1)
    net = nn.Dense(25, 400)
    w, b = net.weight.asnumpy(), net.bias.asnumpy()
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= 1 / 5 and np.abs(w).max() > 0.19     # HeUniform(sqrt(5)): 1/sqrt(in)
    assert np.abs(b).max() <= 1 / 5 and np.abs(b).max() > 0.15
    assert abs(w.mean()) < 0.01
    np.random.seed(1)
    np.testing.assert_array_equal(nn.Dense(25, 400).weight.asnumpy(), w)   # numpy's seed decides


def test_init_from_tensor_and_ndarray_keeps_their_dtype_and_copies():
    w = rand(2, 3)
    net = nn.Dense(3, 2, weight_init=w, bias_init=Tensor(np.array([1.0, 2.0]), mstype.float16))
    assert net.weight.dtype == mstype.float64 and net.bias.dtype == mstype.float16
    np.testing.assert_array_equal(net.weight.asnumpy(), w)
    w[0, 0] = 100.0
    assert net.weight.asnumpy()[0, 0] != 100.0
    assert nn.Dense(3, 2, weight_init=Tensor([[1.0] * 3] * 2)).weight.dtype == mstype.float32


@pytest.mark.parametrize("init", ["normal", "zeros", "ones", "uniform", "he_uniform", "heuniform",
                                  "he_normal", "xavier_uniform", "XavierUniform", "xavier_normal",
                                  "truncatednormal", 0.5])
@pytest.mark.parametrize("dt", [mstype.float32, mstype.float64, mstype.float16])
def test_named_inits_give_the_right_shapes_and_dtypes(init, dt):
    net = nn.Dense(6, 4, weight_init=init, bias_init="zeros" if not isinstance(init, str)
                   or "he" in init.lower() or "xavier" in init.lower() else init, dtype=dt)
    assert net.weight.shape == (4, 6) and net.bias.shape == (4,)
    assert net.weight.dtype == dt and net.bias.dtype == dt
    w = net.weight.asnumpy().astype(np.float64)
    bounds = {"zeros": (0, 0), "ones": (1, 1), 0.5: (0.5, 0.5), "uniform": (0, 0.07),
              "truncatednormal": (0, 0.02 + 1e-3), "he_uniform": (0, np.sqrt(6 / 6) + 1e-3),
              "xavier_uniform": (0, np.sqrt(6 / 10) + 1e-3)}
    if init in bounds:
        low, high = bounds[init]
        assert low <= np.abs(w).max() <= high
    if init == "normal":
        assert 0 < w.std() < 0.05


def test_bad_inits_and_arguments_are_refused():
    with pytest.raises(ValueError):
        nn.Dense(3, 2, weight_init=np.zeros((3, 2)))
    with pytest.raises(ValueError):
        nn.Dense(3, 2, bias_init=np.zeros(3))
    with pytest.raises(ValueError):
        nn.Dense(3, 2, weight_init="no_such_init")
    with pytest.raises(ValueError):
        nn.Dense(3, 2, bias_init="he_uniform")       # fan_in needs 2 dimensions
    with pytest.raises(KeyError):
        nn.Dense(3, 2, activation="no_such_activation")
    with pytest.raises(TypeError):
        nn.Dense(3, 2, activation=np.tanh)
    with pytest.raises(ValueError):
        nn.Dense(0, 2)
    with pytest.raises(TypeError):
        nn.Dense(3.0, 2)
    with pytest.raises(ValueError):
        nn.MSELoss(reduction="avg")
    with pytest.raises(TypeError):
        nn.SequentialCell(nn.ReLU(), np.tanh)


# -- activations and Flatten ---------------------------------------------------------------------
@pytest.mark.parametrize("cell, ref", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Softmax(), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    (nn.Softmax(axis=0), lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True)),
    (nn.LogSoftmax(), lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    (nn.LeakyReLU(0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    (nn.Flatten(), lambda x: x.reshape(x.shape[0], -1)),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Cell) else "")
def test_activations_and_flatten(cell, ref):
    x = rand(3, 2, 4) if isinstance(cell, nn.Flatten) else rand(3, 4)
    np.testing.assert_allclose(cell(Tensor(x)).asnumpy(), ref(x), rtol=1e-12)
    check_grads(Weighted(cell, rand(*ref(x).shape)), [x])


# -- containers ---------------------------------------------------------------------------------
def test_sequential_cell_names_its_parameters_by_position():
    seq = nn.SequentialCell([nn.Dense(3, 4), nn.ReLU(), nn.Dense(4, 2)])
    assert names(seq) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert names(nn.SequentialCell(nn.Dense(3, 4), nn.ReLU(), nn.Dense(4, 2))) == names(seq)
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Dense)
    assert repr(seq) == (
        "SequentialCell(\n"
        "  (0): Dense(input_channels=3, output_channels=4, has_bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dense(input_channels=4, output_channels=2, has_bias=True)\n)")
    named = nn.SequentialCell(OrderedDict([("fc", nn.Dense(3, 4)), ("act", nn.Tanh())]))
    assert names(named) == ["fc.weight", "fc.bias"]


def test_sequential_mlp_gradients():
    seq = nn.SequentialCell([dense64(3, 5, activation="tanh"), nn.ReLU(), dense64(5, 4), nn.Sigmoid(),
                             dense64(4, 2), nn.Softmax()])
    check_grads(Weighted(seq, rand(4, 2)), [X])


def test_sequential_in_a_cell_after_the_cells_own_parameters():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.features = nn.SequentialCell(dense64(3, 4, activation="tanh"), dense64(4, 2))
            self.scale = Parameter(np.array([1.5, -0.5]), name="scale")

        def construct(self, x):
            return ops.sum(self.features(x) * self.scale)

    net = Net()
    assert names(net) == ["scale", "features.0.weight", "features.0.bias",
                          "features.1.weight", "features.1.bias"]
    check_grads(net, [X])


def test_sequential_append_insert_delete_and_slice():
    seq = nn.SequentialCell(dense64(3, 4))
    seq.append(nn.Tanh())
    seq.append(dense64(4, 2))
    assert names(seq) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    seq.insert(1, dense64(4, 4))
    assert names(seq) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"]
    assert [type(c).__name__ for c in seq] == ["Dense", "Dense", "Tanh", "Dense"]
    check_grads(Weighted(seq, rand(4, 2)), [X])
    del seq[1]                                     # Weighted named it "net": the prefix stays
    assert names(seq) == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"] and len(seq) == 3
    seq[1] = nn.Sigmoid()
    assert isinstance(seq.cell_list[1], nn.Sigmoid)
    head = seq[:2]
    assert isinstance(head, nn.SequentialCell) and len(head) == 2


def test_appending_after_compiling_recompiles():
    seq = nn.SequentialCell(dense64(3, 2))
    grad = ops.GradOperation()(seq)
    first = grad(Tensor(X)).asnumpy()
    np.testing.assert_allclose(first, np.tile(seq[0].weight.asnumpy().sum(0), (4, 1)))
    seq.append(nn.Tanh())
    out = seq[0](Tensor(X)).asnumpy()
    expected = (1 - np.tanh(out) ** 2) @ seq[0].weight.asnumpy()
    np.testing.assert_allclose(grad(Tensor(X)).asnumpy(), expected)


def test_names_keep_the_outer_prefix_when_a_container_changes():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.body = nn.SequentialCell(dense64(3, 3))

        def construct(self, x):
            return self.body(x)

    net = Net()
    net.body.insert(0, dense64(3, 3))
    assert names(net) == ["body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias"]


class Stack(nn.Cell):
    def __init__(self, sizes):
        super().__init__()
        self.bias = Parameter(rand(sizes[-1]), name="bias")
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            layers.append(dense64(a, b, activation="tanh"))
        self.layers = nn.CellList(layers)

    def construct(self, x):
        for layer in self.layers:
            x = layer(x)
        return x + self.bias


def test_cell_list_loop_names_and_gradients():
    net = Stack([3, 5, 4, 2])
    assert names(net) == ["bias", "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                          "layers.2.weight", "layers.2.bias"]
    assert len(net.layers) == 3 and isinstance(net.layers[2], nn.Dense)
    check_grads(Weighted(net, rand(4, 2)), [X])


def test_cell_list_append_extend_and_indexing_in_construct():
    class Pick(nn.Cell):
        def __init__(self):
            super().__init__()
            self.cells = nn.CellList([dense64(3, 3, activation="sigmoid")])
            self.cells.extend([dense64(3, 2), nn.Tanh()])

        def construct(self, x):
            return self.cells[2](self.cells[1](self.cells[0](x)))

    net = Pick()
    assert names(net) == ["cells.0.weight", "cells.0.bias", "cells.1.weight", "cells.1.bias"]
    assert repr(net.cells).startswith("CellList(\n  (0): Dense(input_channels=3, output_channels=3")
    check_grads(Weighted(net, rand(4, 2)), [X])


def test_cell_list_indexed_by_a_range_loop():
    class Indexed(Stack):
        def construct(self, x):
            for i in range(len(self.layers)):
                x = self.layers[i](x)
            return x + self.bias

    check_grads(Weighted(Indexed([3, 4, 2]), rand(4, 2)), [X])


def test_grad_of_a_cell_without_parameters_with_an_empty_parameter_tuple():
    dxs, dws = ops.GradOperation(get_all=True, get_by_list=True)(nn.Tanh(), ParameterTuple())(Tensor(X))
    assert dws == () and dxs[0].shape == X.shape


# -- losses ---------------------------------------------------------------------------------------
REDUCTIONS = ["none", "mean", "sum"]


def reduce(x, reduction):
    return {"none": x, "mean": np.mean(x), "sum": np.sum(x)}[reduction]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss_cls, ref", [(nn.MSELoss, lambda d: d * d), (nn.L1Loss, np.abs)],
                         ids=["MSELoss", "L1Loss"])
def test_regression_losses(loss_cls, ref, reduction):
    loss = loss_cls(reduction=reduction)
    logits, labels = rand(4, 3), rand(4, 3)
    labels[np.abs(logits - labels) < 1e-2] += 0.1            # away from L1's kink
    np.testing.assert_allclose(loss(Tensor(logits), Tensor(labels)).asnumpy(),
                               reduce(ref(logits - labels), reduction), rtol=1e-12)
    check_grads(loss, [logits, labels])
    assert loss_cls().reduction == "mean"


def cross_entropy(logits, onehot):
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -(onehot * logp).sum(-1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_softmax_cross_entropy_dense(reduction):
    loss = nn.SoftmaxCrossEntropyWithLogits(reduction=reduction)
    logits = rand(4, 3)
    labels = np.eye(3)[[0, 2, 1, 2]] * 0.8 + 0.2 / 3             # smoothed rows that sum to 1
    np.testing.assert_allclose(loss(Tensor(logits), Tensor(labels)).asnumpy(),
                               reduce(cross_entropy(logits, labels), reduction), rtol=1e-12)
    dlogits, dlabels = ops.GradOperation(get_all=True)(loss)(Tensor(logits), Tensor(labels))
    f = cell_fn(loss, [])
    np.testing.assert_allclose(dlogits.asnumpy(), numeric_grad(f, [logits, labels], 0), rtol=1e-6, atol=1e-8)
    assert not np.any(dlabels.asnumpy())          # as MindSpore: no gradient flows to the labels


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("int_dtype", [np.int32, np.int64])
def test_softmax_cross_entropy_sparse(reduction, int_dtype):
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction=reduction)
    logits, labels = rand(5, 4), np.array([0, 3, 1, 1, 2], dtype=int_dtype)
    expected = reduce(cross_entropy(logits, np.eye(4)[labels]), reduction)
    np.testing.assert_allclose(loss(Tensor(logits), Tensor(labels)).asnumpy(), expected, rtol=1e-12)
    (dlogits, dlabels), _ = check_grads(loss, [logits, labels])
    assert dlabels.dtype == mstype.from_numpy(int_dtype)
    if reduction == "sum":
        softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        np.testing.assert_allclose(dlogits.asnumpy(), softmax - np.eye(4)[labels], rtol=1e-10)


def test_softmax_cross_entropy_defaults_to_no_reduction():
    loss = nn.SoftmaxCrossEntropyWithLogits()
    assert loss.sparse is False and loss.reduction == "none"
    assert loss(Tensor(rand(4, 3)), Tensor(np.eye(3)[[0, 1, 2, 0]])).shape == (4,)


def test_training_step_with_a_loss_cell():
    class WithLoss(nn.Cell):
        def __init__(self, net, loss):
            super().__init__()
            self.net, self.loss = net, loss

        def construct(self, x, y):
            return self.loss(self.net(x), y)

    net = WithLoss(nn.SequentialCell(dense64(3, 8, activation="relu"), dense64(8, 3)),
                   nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"))
    assert names(net)[0] == "net.0.weight"
    x, y = rand(16, 3), np.array([0, 1, 2, 1] * 4, dtype=np.int32)
    check_grads(net, [x, y])
    grad_fn = adjoint.value_and_grad(net, None, net.trainable_params())
    first = None
    for _ in range(30):
        value, grads = grad_fn(Tensor(x), Tensor(y))
        first = float(value.asnumpy()) if first is None else first
        for p, g in zip(net.trainable_params(), grads):
            p.set_data(p.asnumpy() - 0.5 * g.asnumpy())
    assert float(value.asnumpy()) < first
