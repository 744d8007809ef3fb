"""Optimizers: Parameter values after 1-3 steps equal MindSpore 2.10's (recorded in
mindspore_recorded.py), learning-rate schedules, groups, state Parameters and errors."""
import numpy as np
import pytest

import adjoint.nn as nn
from adjoint import Parameter, Tensor
from mindspore_recorded import LR_SCHEDULES, OPTIMIZER_STEPS

W0 = np.array([[0.5, -0.3, 0.8], [0.1, 0.2, -0.6]], np.float32)
B0 = np.array([0.1, -0.2, 0.3], np.float32)
G0 = np.array([1.0, 0.9, 1.1], np.float32)
BE0 = np.array([0.0, 0.05, -0.05], np.float32)


def grads(t):
    """The gradients given at step t (0, 1, 2), in the order of the optimizer's Parameters."""
    return (np.sin(np.arange(6).reshape(2, 3) + t).astype(np.float32) * np.float32(0.5),
            (np.cos(np.arange(3) + t) * 0.3).astype(np.float32),
            (np.sin(np.arange(3) * 2.0 + t) * 0.2).astype(np.float32),
            (np.cos(np.arange(3) * 0.5 + t) * 0.4).astype(np.float32))


def params():
    return [Parameter(W0.copy(), name="w"), Parameter(B0.copy(), name="b"), Parameter(G0.copy(), name="gamma"),
            Parameter(BE0.copy(), name="beta")]


def groups(p):
    return [{"params": [p[0], p[2]], "weight_decay": 0.05}, {"params": [p[1], p[3]], "lr": 0.02}]


MAKERS = {
    "SGD(lr=0.1)": lambda p: nn.SGD(p, learning_rate=0.1),
    "SGD(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)":
        lambda p: nn.SGD(p, learning_rate=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)":
        lambda p: nn.SGD(p, learning_rate=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "SGD(lr=[0.1, 0.05, 0.02], momentum=0.5)": lambda p: nn.SGD(p, learning_rate=[0.1, 0.05, 0.02], momentum=0.5),
    "Momentum(lr=0.1, momentum=0.9)": lambda p: nn.Momentum(p, 0.1, 0.9),
    "Momentum(lr=0.1, momentum=0.9, weight_decay=0.01)": lambda p: nn.Momentum(p, 0.1, 0.9, weight_decay=0.01),
    "Momentum(lr=0.1, momentum=0.9, use_nesterov=True)": lambda p: nn.Momentum(p, 0.1, 0.9, use_nesterov=True),
    "Momentum(lr=0.1, momentum=0.9, loss_scale=2.0)": lambda p: nn.Momentum(p, 0.1, 0.9, loss_scale=2.0),
    "Adam(lr=0.01)": lambda p: nn.Adam(p, learning_rate=0.01),
    "Adam(lr=0.01, weight_decay=0.1)": lambda p: nn.Adam(p, learning_rate=0.01, weight_decay=0.1),
    "Adam(lr=0.01, use_nesterov=True)": lambda p: nn.Adam(p, learning_rate=0.01, use_nesterov=True),
    "Adam(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)":
        lambda p: nn.Adam(p, learning_rate=0.05, beta1=0.8, beta2=0.99, eps=1e-6),
    "AdamWeightDecay(lr=0.01, weight_decay=0.1)": lambda p: nn.AdamWeightDecay(p, learning_rate=0.01, weight_decay=0.1),
    "AdamWeightDecay(lr=0.01)": lambda p: nn.AdamWeightDecay(p, learning_rate=0.01),
    "Adam(lr=cosine_decay_lr(0.001, 0.01, 6, 2, 3))":
        lambda p: nn.Adam(p, learning_rate=nn.cosine_decay_lr(0.001, 0.01, 6, 2, 3)),
    "Momentum(groups: [w, gamma] weight_decay=0.05; [b, beta] lr=0.02; weight_decay=0.01)":
        lambda p: nn.Momentum(groups(p), 0.1, 0.9, weight_decay=0.01),
    "Adam(groups: [w, gamma] weight_decay=0.05; [b, beta] lr=0.02; lr=0.01)":
        lambda p: nn.Adam(groups(p), learning_rate=0.01),
    "SGD(groups: [w, gamma] weight_decay=0.05; [b, beta] lr=0.02; lr=0.1, momentum=0.9)":
        lambda p: nn.SGD(groups(p), learning_rate=0.1, momentum=0.9),
}


def test_every_recorded_configuration_is_tested():
    assert set(MAKERS) == set(OPTIMIZER_STEPS)


@pytest.mark.parametrize("label", list(MAKERS))
def test_three_steps_equal_mindspore(label):
    ps = params()
    opt = MAKERS[label](ps)
    for t in range(3):
        # the gradients come in the order of opt.parameters (group order for groups), as MindSpore takes them
        assert opt(tuple(Tensor(g) for g in grads(t))) == (True,) * 4
        assert int(opt.global_step.asnumpy()[0]) == t + 1
        for p, want in zip(ps, OPTIMIZER_STEPS[label][t]):
            assert p.dtype == Tensor(W0).dtype                # updated in place, still float32
            np.testing.assert_allclose(p.asnumpy().ravel(), np.array(want, np.float32), rtol=0, atol=2e-7,
                                       err_msg="%s, step %d, %s" % (label, t + 1, p.name))


def test_weight_decay_skips_gamma_and_beta_names_but_not_a_bias():
    p = [Parameter(np.ones(2, np.float32), name="dense.bias"), Parameter(np.ones(2, np.float32), name="bn.gamma"),
         Parameter(np.ones(2, np.float32), name="ln.beta")]
    nn.SGD(p, 0.5, weight_decay=0.1)(tuple(Tensor(np.zeros(2, np.float32)) for _ in p))
    np.testing.assert_allclose(p[0].asnumpy(), [0.95, 0.95])
    assert p[1].asnumpy().tolist() == [1.0, 1.0] and p[2].asnumpy().tolist() == [1.0, 1.0]


def test_learning_rate_schedules_equal_mindspore():
    for expression, want in LR_SCHEDULES.items():
        assert eval("nn." + expression) == want, expression
    assert nn.piecewise_constant_lr([2, 5], [0.1, 0.05]) == [0.1, 0.1, 0.05, 0.05, 0.05]
    assert nn.warmup_lr(0.1, 4, 1, 2) == [0.0, 0.05, 0.1, 0.1]
    np.testing.assert_allclose(nn.inverse_decay_lr(0.1, 0.5, 4, 1, 2), [0.1, 0.08, 0.1 / 1.5, 0.1 / 1.75])
    np.testing.assert_allclose(nn.natural_exp_decay_lr(0.1, 0.5, 3, 1, 1), 0.1 * np.exp(-0.5 * np.arange(3)))
    np.testing.assert_allclose(nn.polynomial_decay_lr(0.1, 0.01, 4, 1, 2, 1.0), [0.1, 0.055, 0.01, 0.01])


def test_a_learning_rate_list_keeps_its_last_value_and_a_callable_is_called_with_the_step():
    p = Parameter(np.zeros(1, np.float32), name="p")
    opt = nn.SGD([p], [0.5, 0.25])
    for _ in range(3):
        opt((Tensor(np.ones(1, np.float32)),))
    assert p.asnumpy().tolist() == [-1.0]
    seen = []

    def schedule(step):
        seen.append(int(step.asnumpy()))
        return Tensor(np.float32(0.1))

    q = Parameter(np.zeros(1, np.float32), name="q")
    opt = nn.SGD([q], schedule)
    opt((Tensor(np.ones(1, np.float32)),))
    opt((Tensor(np.ones(1, np.float32)),))
    assert seen == [0, 1] and abs(q.asnumpy()[0] + 0.2) < 1e-7
    assert float(nn.SGD([q], 0.3).get_lr()) == np.float32(0.3)


def test_state_parameters_are_named_as_mindspore():
    dense = nn.Dense(3, 2)
    names = [p.name for p in nn.Adam(dense.trainable_params(), 1e-3).get_parameters()]
    assert names == ["global_step", "learning_rate", "weight", "bias", "beta1_power", "beta2_power",
                     "moment1.weight", "moment1.bias", "moment2.weight", "moment2.bias"]
    p = Parameter(np.ones(2, np.float32), name="p")
    assert [q.name for q in nn.SGD([p], 0.1, momentum=0.9).get_parameters()] == [
        "global_step", "learning_rate", "p", "momentum", "accum.p", "stat.p"]
    assert [q.name for q in nn.AdamWeightDecay([p]).get_parameters()] == [
        "global_step", "learning_rate", "p", "adam_m.p", "adam_v.p"]
    mom = nn.Momentum([p], 0.1, 0.9)
    assert [q.name for q in mom.moments] == ["moments.p"]
    assert list(mom.parameters) == [p]


def test_grads_alias_nothing_the_optimizer_writes():
    p = Parameter(np.ones(3, np.float32), name="w")
    g = np.full(3, 2.0, np.float32)
    nn.SGD([p], 0.1, weight_decay=0.5)((Tensor(g),))
    assert g.tolist() == [2.0, 2.0, 2.0]         # the gradient array is not written
    np.testing.assert_allclose(p.asnumpy(), 1 - 0.1 * (2 + 0.5))


def test_bad_arguments_are_refused():
    p = Parameter(np.ones(2, np.float32), name="p")
    with pytest.raises(TypeError):
        nn.SGD(p, 0.1)
    with pytest.raises(ValueError):
        nn.SGD([], 0.1)
    with pytest.raises(ValueError):
        nn.SGD([p], 0.1, nesterov=True)                # needs momentum > 0
    with pytest.raises(ValueError):
        nn.Adam([p], beta1=1.0)
    with pytest.raises(ValueError):
        nn.Momentum([p], -0.1, 0.9)
    with pytest.raises(KeyError):
        nn.SGD([{"params": [p], "momentum": 0.9}], 0.1)
    with pytest.raises(ValueError, match="2 gradients for 1 Parameters"):
        nn.SGD([p], 0.1)((Tensor(np.ones(2, np.float32)),) * 2)
    with pytest.raises(ValueError, match="shape"):
        nn.SGD([p], 0.1)((Tensor(np.ones(3, np.float32)),))


def test_order_params_sets_the_order_of_grouped_parameters():
    a, b = Parameter(np.ones(1, np.float32), name="a"), Parameter(np.ones(1, np.float32), name="b")
    opt = nn.SGD([{"params": [a], "lr": 0.5}, {"params": [b]}, {"order_params": [b, a]}], 0.1)
    assert list(opt.parameters) == [b, a]
    opt((Tensor(np.ones(1, np.float32)), Tensor(np.ones(1, np.float32))))
    assert abs(a.asnumpy()[0] - 0.5) < 1e-7 and abs(b.asnumpy()[0] - 0.9) < 1e-7
