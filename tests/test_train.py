"""Training wrappers and the functional training loop of MindSpore 2.x tutorials: losses and
Parameters after 3 steps equal MindSpore 2.10's (recorded in mindspore_recorded.py)."""
import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, Tensor
from mindspore_recorded import TRAINING

# the inputs of the MindSpore probe
W1 = (np.arange(12).reshape(4, 3) % 5 - 2).astype(np.float32) * np.float32(0.3)
B1 = np.array([0.1, -0.1, 0.2, 0.0], np.float32)
W2 = (np.arange(8).reshape(2, 4) % 3 - 1).astype(np.float32) * np.float32(0.4)
B2 = np.array([0.05, -0.05], np.float32)
X = (np.arange(15).reshape(5, 3) % 4 - 1.5).astype(np.float32) * np.float32(0.5)
Y = np.array([0, 1, 1, 0, 1], np.int32)


def make(bn=False):
    layers = [nn.Dense(3, 4, weight_init=Tensor(W1), bias_init=Tensor(B1)), nn.ReLU()]
    if bn:
        layers.append(nn.BatchNorm1d(4))
    layers.append(nn.Dense(4, 2, weight_init=Tensor(W2), bias_init=Tensor(B2)))
    return nn.SequentialCell(layers)


def close(got, want):
    np.testing.assert_allclose(np.asarray(got, np.float64).ravel(), np.asarray(want, np.float64), rtol=2e-6, atol=3e-7)


@pytest.mark.parametrize("bn", [False, True])
def test_train_one_step_cell_equals_mindspore(bn):
    net = make(bn)
    loss_net = nn.WithLossCell(net, nn.CrossEntropyLoss())
    step = nn.TrainOneStepCell(loss_net, nn.Momentum(net.trainable_params(), 0.1, 0.9))
    step.set_train()
    assert all(c.training for _, c in step.cells_and_names())
    want = TRAINING["TrainOneStepCell Momentum bn=%s" % bn]
    losses = []
    for _ in range(3):
        loss = step(Tensor(X), Tensor(Y))
        assert loss.shape == () and loss.dtype == adjoint.float32
        losses.append(float(loss.asnumpy()))
    close(losses, want["losses"])
    assert [p.name for p in net.get_parameters()] == list(want["params"])
    for p in net.get_parameters():
        close(p.asnumpy(), want["params"][p.name])   # BatchNorm's moving statistics too: written once per step


def test_functional_training_loop_equals_mindspore():
    net = make()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.Adam(net.trainable_params(), 1e-2)

    def forward_fn(data, label):
        logits = net(data)
        loss = loss_fn(logits, label)
        return loss, logits

    grad_fn = adjoint.value_and_grad(forward_fn, None, optimizer.parameters, has_aux=True)
    want = TRAINING["functional value_and_grad has_aux Adam"]
    for i in range(3):
        (loss, logits), grads = grad_fn(Tensor(X), Tensor(Y))
        optimizer(grads)
        close([float(loss.asnumpy())], [want["losses"][i]])
        close(logits.asnumpy()[0], want["logits0"][i])
    for p in net.get_parameters():
        close(p.asnumpy(), want["params"][p.name])


def test_sens_scales_the_gradients():
    net = make()
    step = nn.TrainOneStepCell(nn.WithLossCell(net, nn.CrossEntropyLoss()), nn.SGD(net.trainable_params(), 0.1),
                               sens=2.0)
    want = TRAINING["TrainOneStepCell SGD sens=2.0"]
    close([float(step(Tensor(X), Tensor(Y)).asnumpy())], [want["loss"]])
    close(net[0].bias.asnumpy(), want["0.bias"])
    with pytest.raises(ValueError):
        nn.TrainOneStepCell(nn.WithLossCell(net, nn.CrossEntropyLoss()), nn.SGD(net.trainable_params()), sens=0)


def test_with_loss_cell_keeps_the_backbone_names_and_is_differentiable():
    net = make()
    loss_net = nn.WithLossCell(net, nn.CrossEntropyLoss())
    assert [p.name for p in loss_net.trainable_params()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert loss_net.backbone_network is net
    grads = ops.GradOperation(get_by_list=True)(loss_net, adjoint.ParameterTuple(loss_net.trainable_params()))(
        Tensor(X), Tensor(Y))
    assert [g.shape for g in grads] == [(4, 3), (4,), (2, 4), (2,)]
    eval_net = nn.WithEvalCell(net, nn.CrossEntropyLoss())
    loss, out, label = eval_net(Tensor(X), Tensor(Y))
    assert out.shape == (5, 2) and label is not None and loss.shape == ()


def test_training_steps_reuse_the_compiled_gradient():
    net = make()
    step = nn.TrainOneStepCell(nn.WithLossCell(net, nn.CrossEntropyLoss()), nn.Adam(net.trainable_params()))
    step(Tensor(X), Tensor(Y))
    step(Tensor(X), Tensor(Y))           # (a stub makes its special version by the second call)
    misses = adjoint.cache_info()["misses"]
    stub = step._grad_fn._stub
    for _ in range(5):
        step(Tensor(X), Tensor(Y))
    assert adjoint.cache_info()["misses"] == misses         # nothing compiled again
    assert step._grad_fn._stub is stub                      # and the fast call path stayed valid


def test_return_grad_and_names():
    net = make()
    opt = nn.Momentum(net.trainable_params(), 0.1, 0.9)
    step = nn.TrainOneStepCell(nn.WithLossCell(net, nn.CrossEntropyLoss()), opt, return_grad=True)
    loss, grads = step(Tensor(X), Tensor(Y))
    assert list(grads) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    names = [p.name for p in step.trainable_params()]
    assert names[:4] == ["0.weight", "0.bias", "2.weight", "2.bias"]       # as MindSpore: no prefix
    assert "global_step" in names and "moments.0.weight" in names


def test_a_dropout_network_trains_and_evaluates():
    np.random.seed(0)
    net = nn.SequentialCell([nn.Dense(3, 16), nn.ReLU(), nn.Dropout(p=0.2), nn.Dense(16, 2)])
    step = nn.TrainOneStepCell(nn.WithLossCell(net, nn.CrossEntropyLoss()), nn.Adam(net.trainable_params(), 0.05))
    step.set_train()
    x = np.random.randn(64, 3).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int32)
    first = float(step(Tensor(x), Tensor(y)).asnumpy())
    for _ in range(60):
        last = float(step(Tensor(x), Tensor(y)).asnumpy())
    assert last < first / 2
    net.set_train(False)
    a, b = net(Tensor(x)).asnumpy(), net(Tensor(x)).asnumpy()
    np.testing.assert_array_equal(a, b)                      # no dropout in evaluation
    assert (a.argmax(1) == y).mean() > 0.9


def test_optimizer_rejects_gradients_for_other_parameters():
    net = make()
    opt = nn.SGD(net.trainable_params(), 0.1)
    extra = Parameter(np.zeros(2, np.float32), name="extra")
    with pytest.raises(ValueError):
        opt((Tensor(np.zeros(2, np.float32)),))
    assert extra.name == "extra"


DROP_NET = nn.SequentialCell([nn.Dense(3, 4, weight_init=Tensor(W1), bias_init=Tensor(B1)), nn.Dropout(p=0.5)])


def drop_forward(x):
    return ops.sum(DROP_NET(x))


def test_a_function_using_a_global_cell_sees_its_set_train():
    # the functional style: value_and_grad of a function that calls a global network
    grad = adjoint.grad(drop_forward, None, DROP_NET.trainable_params())
    DROP_NET.set_train(False)
    eval_db = grad(Tensor(X))[1].asnumpy()
    np.testing.assert_allclose(eval_db, np.full(4, 5.0))          # no dropout: every row counts
    DROP_NET.set_train(True)
    np.random.seed(3)
    train_db = grad(Tensor(X))[1].asnumpy()
    assert not np.allclose(train_db, eval_db)                     # not the evaluation-mode code
    assert set(np.unique(train_db / 2.0).tolist()) <= set(range(6))
    DROP_NET.set_train(False)
    np.testing.assert_allclose(grad(Tensor(X))[1].asnumpy(), eval_db)
