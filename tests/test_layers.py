"""Convolution, pooling, normalisation, dropout, embedding and the new losses: values equal
MindSpore 2.10's (recorded in mindspore_recorded.py), gradients equal float64 central finite
differences, parameter names and orders are MindSpore's, and state written by construct
(BatchNorm's moving statistics, ops.assign) is written once per call and never differentiated."""
import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, ParameterTuple, Tensor
from adjoint import dtype as mstype
from fd import numeric_grad
from mindspore_recorded import LAYERS
from test_nn import Weighted, check_grads

RNG = np.random.RandomState(3)
# the inputs the MindSpore probe used
X = (np.arange(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) % 7 - 3).astype(np.float32) * np.float32(0.25)
W = (np.arange(3 * 2 * 3 * 3).reshape(3, 2, 3, 3) % 5 - 2).astype(np.float32) * np.float32(0.1)
W2 = (np.arange(4 * 1 * 2 * 2).reshape(4, 1, 2, 2) % 3 - 1).astype(np.float32) * np.float32(0.3)
B = np.array([0.1, -0.2, 0.3], np.float32)
XB = (np.arange(4 * 3).reshape(4, 3) ** 1.5 % 5).astype(np.float32)
LOGITS = np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [0.0, 0.1, -0.2], [1.5, 1.5, 0.0]], np.float32)
LABELS = np.array([1, 2, 0, 1], np.int32)
PROBS = np.array([[0.1, 0.8, 0.1], [0.0, 0.2, 0.8], [1.0, 0.0, 0.0], [0.3, 0.3, 0.4]], np.float32)
TARGETS = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0], [0.2, 0.9, 0.0], [1.0, 1.0, 0.0]], np.float32)
CW = Tensor(np.array([1.0, 2.0, 0.5], np.float32))
W3, PW3 = Tensor(np.array([1.0, 0.5, 2.0], np.float32)), Tensor(np.array([2.0, 1.0, 0.5], np.float32))


def rand(*shape):
    return RNG.randn(*shape)


def close(got, want, atol=2e-6):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=1e-5, atol=atol)


class SumOfSquares(nn.Cell):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def construct(self, x):
        y = self.net(x)
        return ops.sum(y * y)


# -- Conv2d -------------------------------------------------------------------------------------
CONV_CASES = {"same": {}, "valid": dict(pad_mode="valid"),
              "pad(1,0,2,1)": dict(pad_mode="pad", padding=(1, 0, 2, 1)), "same stride2": dict(stride=2),
              "valid stride2 dilation(1,2)": dict(pad_mode="valid", stride=2, dilation=(1, 2)),
              "same dilation2": dict(dilation=2)}


@pytest.mark.parametrize("label", list(CONV_CASES))
def test_conv2d_equals_mindspore(label):
    conv = nn.Conv2d(2, 3, 3, weight_init=Tensor(W), bias_init=Tensor(B), has_bias=True, **CONV_CASES[label])
    want = LAYERS["conv " + label]
    out = conv(Tensor(X)).asnumpy()
    assert list(out.shape) == want["shape"] and out.dtype == np.float32
    close(out.sum(axis=(0, 1)), want["out_sum01"])
    dx, (dw, db) = adjoint.grad(SumOfSquares(conv), 0, conv.trainable_params())(Tensor(X))
    assert dx.dtype == mstype.float32 and dw.dtype == mstype.float32
    close(dx.asnumpy()[0, 0], want["dx00"], atol=1e-5)
    close(dw.asnumpy()[0, 0], want["dweight00"], atol=2e-5)
    close(db.asnumpy(), want["dbias"], atol=2e-5)


def test_grouped_conv2d_equals_mindspore():
    conv = nn.Conv2d(2, 4, 2, group=2, weight_init=Tensor(W2), pad_mode="same")
    out = conv(Tensor(X)).asnumpy()
    assert list(out.shape) == LAYERS["conv group2 k2 same"]["shape"]
    close(out.sum(axis=(0, 1)), LAYERS["conv group2 k2 same"]["out_sum01"])
    assert nn.Conv2d(2, 4, (2, 3), stride=(2, 1))(Tensor(X)).shape == (2, 4, 3, 5)


@pytest.mark.parametrize("kw", [dict(), dict(pad_mode="valid", has_bias=True),
                                dict(pad_mode="pad", padding=(1, 0, 0, 2), stride=2),
                                dict(dilation=(2, 1), has_bias=True), dict(group=2, has_bias=True, stride=(1, 2))],
                         ids=["same", "valid-bias", "pad-stride", "dilation", "group"])
def test_conv2d_gradients(kw):
    conv = nn.Conv2d(4, 6, 3, weight_init=rand(6, 4 // kw.get("group", 1), 3, 3),
                     bias_init=rand(6) if kw.get("has_bias") else None, **kw)
    x = rand(2, 4, 6, 5)
    out = conv(Tensor(x))
    check_grads(Weighted(conv, rand(*out.shape)), [x])


def test_conv2d_parameters_init_and_repr():
    np.random.seed(0)
    conv = nn.Conv2d(3, 8, 3, has_bias=True)
    assert [(p.name, p.shape, p.dtype) for p in conv.trainable_params()] == [
        ("weight", (8, 3, 3, 3), mstype.float32), ("bias", (8,), mstype.float32)]
    bound = 1 / np.sqrt(27)               # HeUniform(sqrt(5)) and the bias: 1/sqrt(fan_in)
    assert bound * 0.9 < np.abs(conv.weight.asnumpy()).max() <= bound
    assert np.abs(conv.bias.asnumpy()).max() <= bound
    assert [p.name for p in nn.Conv2d(1, 2, 3).trainable_params()] == ["weight"]     # has_bias=False by default
    assert repr(nn.Conv2d(1, 2, 3)) == (
        "Conv2d(input_channels=1, output_channels=2, kernel_size=(3, 3), stride=(1, 1), pad_mode=same, padding=0, "
        "dilation=(1, 1), group=1, has_bias=False, weight_init=HeUniform, bias_init=None, format=NCHW)")
    for bad in (dict(pad_mode="full"), dict(padding=1), dict(group=2), dict(kernel_size=0)):
        args = dict(in_channels=3, out_channels=4, kernel_size=3)
        args.update(bad)
        with pytest.raises((ValueError, TypeError)):
            nn.Conv2d(**args)


def test_conv2d_second_order():
    # d/dw of sum((d loss / dx)^2): the input gradient of a convolution, differentiated again
    conv = nn.Conv2d(2, 3, 3, weight_init=rand(3, 2, 3, 3), pad_mode="same")
    r = rand(2, 3, 4, 4)

    class InputGradNorm(nn.Cell):
        def __init__(self):
            super().__init__()
            self.inner = Weighted(conv, r)
            self.grad = ops.GradOperation()

        def construct(self, x):
            dx = self.grad(self.inner)(x)
            return ops.sum(dx * dx * x)

    net = InputGradNorm()
    x = rand(2, 2, 4, 4)
    (dx,), (dw,) = ops.GradOperation(get_all=True, get_by_list=True)(net, ParameterTuple([conv.weight]))(Tensor(x))
    w0 = conv.weight.asnumpy().copy()

    def f(x_, w_):
        conv.weight.set_data(w_)
        try:
            return _eager_input_grad_norm(conv, r, x_)
        finally:
            conv.weight.set_data(w0)

    close(dx.asnumpy(), numeric_grad(f, [x, w0], 0), atol=1e-6)
    close(dw.asnumpy(), numeric_grad(f, [x, w0], 1), atol=1e-6)


def _eager_input_grad_norm(conv, r, x):
    g = adjoint.grad(Weighted(conv, r))(Tensor(x)).asnumpy()
    return np.sum(g * g * x)


# -- pooling ------------------------------------------------------------------------------------
POOLS = {"MaxPool2d(2,2)": lambda: nn.MaxPool2d(2, 2),
         "MaxPool2d(3,2,same)": lambda: nn.MaxPool2d(3, 2, pad_mode="same"),
         "MaxPool2d(3,1,pad,padding=1)": lambda: nn.MaxPool2d(3, 1, pad_mode="pad", padding=1),
         "MaxPool2d(2,2,pad,ceil_mode=True)": lambda: nn.MaxPool2d(2, 2, pad_mode="pad", ceil_mode=True),
         "AvgPool2d(2,2)": lambda: nn.AvgPool2d(2, 2),
         "AvgPool2d(3,2,same)": lambda: nn.AvgPool2d(3, 2, pad_mode="same"),
         "AvgPool2d(3,1,pad,padding=1)": lambda: nn.AvgPool2d(3, 1, pad_mode="pad", padding=1),
         "AvgPool2d(3,1,pad,padding=1,count_include_pad=False)":
             lambda: nn.AvgPool2d(3, 1, pad_mode="pad", padding=1, count_include_pad=False)}


@pytest.mark.parametrize("label", list(POOLS))
def test_pooling_equals_mindspore_and_its_gradient_finite_differences(label):
    pool = POOLS[label]()
    out = pool(Tensor(X)).asnumpy()
    want = LAYERS["pool " + label]
    assert list(out.shape) == want["shape"] and out.dtype == np.float32
    close(out[1, 1], want["out11"])
    x = (RNG.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) + 1.0) / 50       # no ties
    check_grads(Weighted(pool, rand(*pool(Tensor(x)).shape)), [x])


def test_max_pool_gradient_goes_to_the_first_maximum_as_mindspore():
    xt = np.array([[[[1, 1, 0, 2], [0, 1, 2, 2], [3, 0, 0, 0], [0, 3, 0, 0]]]], np.float32)
    for pool, key in [(nn.MaxPool2d(2, 2), "maxpool tie grad"),
                      (nn.MaxPool2d(3, 1, pad_mode="same"), "maxpool overlap grad")]:
        g = adjoint.grad(Weighted(pool, np.ones(pool(Tensor(xt)).shape, np.float32)))(Tensor(xt))
        close(g.asnumpy()[0, 0], LAYERS[key])
    assert repr(nn.MaxPool2d(2, 2)) == "MaxPool2d(kernel_size=2, stride=2, pad_mode=VALID)"
    assert repr(nn.AvgPool2d(2, 2)) == "AvgPool2d(kernel_size=2, stride=2, pad_mode=VALID)"


# -- BatchNorm ------------------------------------------------------------------------------------
def test_batchnorm1d_training_and_moving_statistics_equal_mindspore():
    bn = nn.BatchNorm1d(3)
    assert bn.training is False
    bn.set_train(True)
    want = LAYERS["bn1d train"]
    close(bn(Tensor(XB)).asnumpy(), want["out"])
    close(bn.moving_mean.asnumpy(), want["moving_mean"])
    close(bn.moving_variance.asnumpy(), want["moving_variance"])    # updated with the unbiased variance
    bn(Tensor(XB))
    close(bn.moving_mean.asnumpy(), LAYERS["bn1d train twice"]["moving_mean"])
    close(bn.moving_variance.asnumpy(), LAYERS["bn1d train twice"]["moving_variance"])


def test_batchnorm_inside_a_gradient_call_updates_the_statistics_once():
    bn = nn.BatchNorm1d(3, momentum=0.5)
    bn.set_train(True)
    net = Weighted(bn, np.arange(12.).reshape(4, 3).astype(np.float32))
    dx, (dgamma, dbeta) = adjoint.grad(net, 0, net.trainable_params())(Tensor(XB))
    want = LAYERS["bn1d(momentum=0.5) grad"]
    close(dx.asnumpy(), want["dx"], atol=1e-5)
    close(dgamma.asnumpy(), want["dgamma"], atol=1e-5)
    close(dbeta.asnumpy(), want["dbeta"])
    close(bn.moving_mean.asnumpy(), want["moving_mean"])
    close(bn.moving_variance.asnumpy(), want["moving_variance"])
    assert [p.name for p in net.trainable_params()] == ["net.gamma", "net.beta"]     # moving stats: not trainable
    bn.set_train(False)
    close(bn(Tensor(XB)).asnumpy(), LAYERS["bn1d(momentum=0.5) eval"])


def test_a_gradient_changes_after_set_train_false():
    bn = nn.BatchNorm1d(3, momentum=0.5)
    net = Weighted(bn, np.arange(12.).reshape(4, 3).astype(np.float32))
    net.set_train(True)
    grad = adjoint.grad(net, 0, net.trainable_params())
    train_dx = grad(Tensor(XB))[0].asnumpy()
    stats = bn.moving_mean.asnumpy().copy()
    net.set_train(False)                      # the same GradFunction: the structure changed, so new code
    eval_dx = grad(Tensor(XB))[0].asnumpy()
    assert not np.allclose(train_dx, eval_dx)
    scale = np.ones(3) / np.sqrt(bn.moving_variance.asnumpy() + 1e-5)
    close(eval_dx, np.arange(12.).reshape(4, 3) * scale)          # eval: an affine map of x
    np.testing.assert_array_equal(bn.moving_mean.asnumpy(), stats)  # eval does not write
    net.set_train(True)
    close(grad(Tensor(XB))[0].asnumpy(), train_dx, atol=1e-5)


def test_batchnorm2d_equals_mindspore():
    bn = nn.BatchNorm2d(2, momentum=0.8, eps=1e-3)
    bn.set_train()
    xb4 = X[:, :, :3, :4]
    want = LAYERS["bn2d(momentum=0.8, eps=1e-3) train"]
    close(bn(Tensor(xb4)).asnumpy()[1, 1], want["out11"])
    close(bn.moving_mean.asnumpy(), want["moving_mean"])
    close(bn.moving_variance.asnumpy(), want["moving_variance"])
    bn.set_train(False)
    close(bn(Tensor(xb4)).asnumpy()[0, 0], LAYERS["bn2d(momentum=0.8, eps=1e-3) eval"]["out00"])


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (5, 3)), (nn.BatchNorm2d, (4, 3, 2, 3))])
def test_batchnorm_gradients(cls, shape, training):
    bn = cls(3, gamma_init=rand(3), beta_init=rand(3), moving_mean_init=rand(3),
             moving_var_init=np.abs(rand(3)) + 0.5, dtype=mstype.float64)
    bn.set_train(training)
    check_grads(Weighted(bn, rand(*shape)), [rand(*shape)], rtol=1e-5, atol=1e-7)


def test_batchnorm_names_and_use_batch_statistics():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 2, 3)
            self.bn = nn.BatchNorm2d(2)
            self.emb = nn.Embedding(5, 3)
            self.ln = nn.LayerNorm((3,))
            self.bn1 = nn.BatchNorm1d(3)

        def construct(self, x):
            return x

    net = Net()
    # as MindSpore 2.10 lists them
    assert [(p.name, p.shape, p.requires_grad) for p in net.get_parameters()] == [
        ("conv1.weight", (2, 1, 3, 3), True), ("bn.moving_mean", (2,), False), ("bn.moving_variance", (2,), False),
        ("bn.gamma", (2,), True), ("bn.beta", (2,), True), ("emb.embedding_table", (5, 3), True),
        ("ln.gamma", (3,), True), ("ln.beta", (3,), True), ("bn1.moving_mean", (3,), False),
        ("bn1.moving_variance", (3,), False), ("bn1.gamma", (3,), True), ("bn1.beta", (3,), True)]
    assert [p.name for p in net.trainable_params()] == [
        "conv1.weight", "bn.gamma", "bn.beta", "emb.embedding_table", "ln.gamma", "ln.beta", "bn1.gamma", "bn1.beta"]
    always = nn.BatchNorm1d(3, use_batch_statistics=True)
    always(Tensor(XB))                          # not training, but batch statistics: still updates
    close(always.moving_mean.asnumpy(), LAYERS["bn1d train"]["moving_mean"])
    assert repr(nn.BatchNorm1d(2)).startswith("BatchNorm1d(num_features=2, eps=1e-05, momentum=0.9, gamma=Parameter (")


# -- LayerNorm ------------------------------------------------------------------------------------
def test_layernorm_equals_mindspore():
    close(nn.LayerNorm((3,))(Tensor(XB)).asnumpy(), LAYERS["layernorm((3,))"])
    ln = nn.LayerNorm((5, 5), begin_norm_axis=2, begin_params_axis=2)
    close(ln(Tensor(X)).asnumpy()[0, 0, 0], LAYERS["layernorm((5,5), 2, 2) [0,0,0]"])
    ln = nn.LayerNorm((2, 5, 5), begin_norm_axis=1, begin_params_axis=1)
    close(ln(Tensor(X)).asnumpy()[1, 1, 1], LAYERS["layernorm((2,5,5), 1, 1) [1,1,1]"])
    assert ln.gamma.shape == (2, 5, 5)


@pytest.mark.parametrize("shape, args", [((4, 3), ((3,),)), ((2, 3, 4), ((3, 4), 1, 1)), ((2, 3, 4), ((3, 4), -2, -2))])
def test_layernorm_gradients(shape, args):
    ln = nn.LayerNorm(*args, gamma_init=rand(*args[0]), beta_init=rand(*args[0]), dtype=mstype.float64)
    check_grads(Weighted(ln, rand(*shape)), [rand(*shape)], rtol=1e-5, atol=1e-7)


def test_ops_layer_norm_and_batch_norm():
    x = rand(4, 3)
    got = ops.layer_norm(Tensor(x), (3,), Tensor(np.full(3, 2.0)), Tensor(np.ones(3))).asnumpy()
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * 2 + 1
    close(got, want)
    mean = Parameter(np.zeros(3, np.float32), name="m")
    var = Parameter(np.ones(3, np.float32), name="v")
    ops.batch_norm(Tensor(XB), mean, var, Tensor(np.ones(3, np.float32)), Tensor(np.zeros(3, np.float32)),
                   training=True, momentum=0.1)
    close(mean.asnumpy(), LAYERS["bn1d train"]["moving_mean"])      # momentum 0.1 = nn's 0.9
    close(var.asnumpy(), LAYERS["bn1d train"]["moving_variance"])


# -- Dropout ----------------------------------------------------------------------------------------
def test_dropout_masks_scales_and_is_the_identity_in_eval_mode():
    drop = nn.Dropout(p=0.25)
    ones = Tensor(np.ones((1000, 100), np.float32))
    assert drop.training is False and drop(ones) is ones
    drop.set_train()
    a, b = drop(ones).asnumpy(), drop(ones).asnumpy()
    assert a.dtype == np.float32 and set(np.unique(a).tolist()) == {0.0, np.float32(1 / 0.75)}
    assert 0.73 < (a != 0).mean() < 0.77
    assert (a != b).any()                                             # a fresh mask every call
    assert repr(nn.Dropout(p=0.3)) == "Dropout(p=0.3)" and repr(nn.Dropout(keep_prob=0.8)) == "Dropout(keep_prob=0.8)"
    assert abs(nn.Dropout(keep_prob=0.8).p - 0.2) < 1e-12
    assert ops.dropout(ones, 0.5, training=False) is ones
    with pytest.raises(ValueError):
        nn.Dropout(p=1.0)


def test_dropout_gradient_uses_the_mask_of_its_own_forward_and_a_new_one_each_call():
    drop = nn.Dropout(p=0.5)
    drop.set_train()
    net = Weighted(drop, np.full((3, 4), 2.0))
    x = rand(3, 4)
    grad = adjoint.value_and_grad(net, 0)
    seen = set()
    for _ in range(4):
        out, dx = grad(Tensor(x))
        mask = dx.asnumpy() / 2.0
        assert set(np.unique(mask).tolist()) <= {0.0, 2.0}
        close(out.asnumpy(), np.sum(x * mask * 2.0))       # the forward used the same mask
        seen.add(mask.tobytes())
    assert len(seen) > 1
    np.random.seed(5)
    first = grad(Tensor(x))[1].asnumpy()
    np.random.seed(5)
    np.testing.assert_array_equal(grad(Tensor(x))[1].asnumpy(), first)   # np.random.seed repeats it
    drop.set_train(False)
    close(grad(Tensor(x))[1].asnumpy(), np.full((3, 4), 2.0))


# -- Embedding ------------------------------------------------------------------------------------
def test_embedding_equals_mindspore():
    emb = nn.Embedding(5, 3, embedding_table=Tensor(np.arange(15, dtype=np.float32).reshape(5, 3)))
    assert [p.name for p in emb.trainable_params()] == ["embedding_table"]
    ids = Tensor(np.array([[0, 4], [4, 2]], np.int32))
    close(emb(ids).asnumpy(), LAYERS["embedding out"])
    (dtable,) = adjoint.grad(Weighted(emb, np.arange(12.).reshape(2, 2, 3).astype(np.float32)), None,
                             emb.trainable_params())(ids)
    close(dtable.asnumpy(), LAYERS["embedding grad"])
    table = Tensor(np.arange(15, dtype=np.float32).reshape(5, 3))
    onehot = nn.Embedding(5, 3, use_one_hot=True, embedding_table=table)
    close(onehot(ids).asnumpy(), LAYERS["embedding out"])
    assert not nn.Embedding(5, 3, padding_idx=1).embedding_table.asnumpy()[1].any()
    np.random.seed(0)
    assert 0.005 < nn.Embedding(50, 20).embedding_table.asnumpy().std() < 0.015      # Normal(0.01)


@pytest.mark.parametrize("one_hot", [False, True])
def test_embedding_gradients(one_hot):
    emb = nn.Embedding(6, 4, embedding_table=rand(6, 4), use_one_hot=one_hot)
    ids = Tensor(np.array([[1, 5, 1], [0, 2, 2]], np.int32))
    net = Weighted(emb, rand(2, 3, 4))
    (dtable,) = adjoint.grad(net, None, net.trainable_params())(ids)

    def f(table):
        emb.embedding_table.set_data(table)
        return float(net(ids).asnumpy())

    table = emb.embedding_table.asnumpy().copy()
    close(dtable.asnumpy(), numeric_grad(f, [table], 0), atol=1e-8)


# -- losses ----------------------------------------------------------------------------------------
LOSSES = {
    "CrossEntropyLoss()": (lambda: nn.CrossEntropyLoss(), LABELS),
    "CrossEntropyLoss(reduction='sum')": (lambda: nn.CrossEntropyLoss(reduction="sum"), LABELS),
    "CrossEntropyLoss(reduction='none')": (lambda: nn.CrossEntropyLoss(reduction="none"), LABELS),
    "CrossEntropyLoss(weight=cw)": (lambda: nn.CrossEntropyLoss(weight=CW), LABELS),
    "CrossEntropyLoss(weight=cw, reduction='none')": (lambda: nn.CrossEntropyLoss(weight=CW, reduction="none"), LABELS),
    "CrossEntropyLoss(ignore_index=2)": (lambda: nn.CrossEntropyLoss(ignore_index=2), LABELS),
    "CrossEntropyLoss(label_smoothing=0.1)": (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), LABELS),
    "CrossEntropyLoss(weight=cw, label_smoothing=0.1)":
        (lambda: nn.CrossEntropyLoss(weight=CW, label_smoothing=0.1), LABELS),
    "CrossEntropyLoss() probs": (lambda: nn.CrossEntropyLoss(), PROBS),
    "CrossEntropyLoss(weight=cw) probs": (lambda: nn.CrossEntropyLoss(weight=CW), PROBS),
    "CrossEntropyLoss(label_smoothing=0.2) probs": (lambda: nn.CrossEntropyLoss(label_smoothing=0.2), PROBS),
    "NLLLoss()": (lambda: nn.NLLLoss(), LABELS),
    "NLLLoss(weight=cw)": (lambda: nn.NLLLoss(weight=CW), LABELS),
    "NLLLoss(reduction='sum')": (lambda: nn.NLLLoss(reduction="sum"), LABELS),
    "NLLLoss(reduction='none', ignore_index=1)": (lambda: nn.NLLLoss(reduction="none", ignore_index=1), LABELS),
    "NLLLoss(ignore_index=1)": (lambda: nn.NLLLoss(ignore_index=1), LABELS),
    "BCEWithLogitsLoss()": (lambda: nn.BCEWithLogitsLoss(), TARGETS),
    "BCEWithLogitsLoss(reduction='sum')": (lambda: nn.BCEWithLogitsLoss(reduction="sum"), TARGETS),
    "BCEWithLogitsLoss(reduction='none', weight=W3, pos_weight=PW3)":
        (lambda: nn.BCEWithLogitsLoss(reduction="none", weight=W3, pos_weight=PW3), TARGETS),
    "SmoothL1Loss()": (lambda: nn.SmoothL1Loss(), TARGETS),
    "SmoothL1Loss(beta=0.5, reduction='mean')": (lambda: nn.SmoothL1Loss(beta=0.5, reduction="mean"), TARGETS),
    "SmoothL1Loss(reduction='sum')": (lambda: nn.SmoothL1Loss(reduction="sum"), TARGETS),
}


class SumOf(nn.Cell):
    def __init__(self, loss):
        super().__init__()
        self.loss = loss

    def construct(self, logits, labels):
        return ops.sum(self.loss(logits, labels))


@pytest.mark.parametrize("label", list(LOSSES))
def test_losses_equal_mindspore_and_finite_differences(label):
    make, target = LOSSES[label]
    loss = make()
    want = LAYERS["loss " + label]
    got = loss(Tensor(LOGITS), Tensor(target))
    assert got.dtype == mstype.float32
    close(got.asnumpy(), want["value"])
    dlogits = ops.GradOperation()(SumOf(loss))(Tensor(LOGITS), Tensor(target))
    close(dlogits.asnumpy(), want["grad_of_sum"])
    # float64 finite differences, away from SmoothL1's kinks
    logits = LOGITS.astype(np.float64) + (0.013 if "SmoothL1" in label else 0.0)
    tgt = Tensor(target.astype(np.float64) if target.dtype.kind == "f" else target)
    analytic = ops.GradOperation()(SumOf(loss))(Tensor(logits), tgt).asnumpy()

    def f(lg):
        return float(SumOf(loss)(Tensor(lg), tgt).asnumpy())

    close(analytic, numeric_grad(f, [logits], 0), atol=1e-7)


def test_loss_reprs_defaults_and_errors():
    for cls in (nn.CrossEntropyLoss, nn.BCEWithLogitsLoss, nn.SmoothL1Loss, nn.NLLLoss):
        assert repr(cls()) == cls.__name__ + "()"
    assert nn.SmoothL1Loss().reduction == "none" and nn.CrossEntropyLoss().reduction == "mean"
    with pytest.raises(ValueError):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError):
        nn.SmoothL1Loss(beta=0.0)


# -- state written by construct ---------------------------------------------------------------------
class Counter(nn.Cell):
    """Counts its calls in a Parameter with ops.assign, and remembers the last input's mean."""

    def __init__(self):
        super().__init__()
        self.w = Parameter(np.array([2.0]), name="w")
        self.calls = Parameter(np.zeros(1), name="calls", requires_grad=False)
        self.last = Parameter(np.zeros(1), name="last", requires_grad=False)

    def construct(self, x):
        y = ops.sum(self.w * x * x)
        ops.assign(self.calls, self.calls + 1)
        ops.assign(self.last, ops.reshape(ops.mean(x * self.w), (1,)))
        return y


def test_assign_writes_parameters_after_each_call_and_is_not_differentiated():
    net = Counter()
    x = np.array([1.0, 2.0, 3.0])
    grad = ops.GradOperation(get_all=True, get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    (dx,), (dw,) = grad(Tensor(x))
    close(dx.asnumpy(), 2 * 2.0 * x)                   # the assigns do not touch the gradient
    close(dw.asnumpy(), [np.sum(x * x)])
    assert net.calls.asnumpy().tolist() == [1.0] and net.last.asnumpy().tolist() == [4.0]
    grad(Tensor(x))
    net(Tensor(x))                                     # eager calls write too
    assert net.calls.asnumpy().tolist() == [3.0]
    assert [p.name for p in net.trainable_params()] == ["w"]


def test_the_fence_still_refuses_other_mutations():
    class Stores(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.ones(2), name="w")

        def construct(self, x):
            self.cache = x
            self.w.set_data(x)
            return ops.sum(self.w * x)

    with pytest.raises(adjoint.UnsupportedError) as info:
        ops.GradOperation()(Stores())(Tensor(np.ones(2)))
    text = str(info.value)
    assert "self.cache" in text and "set_data" in text
