"""Generated source, compared with golden files a person can read (tests/golden/*.py).

Refresh on purpose only: ADJOINT_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""
import importlib.util
import contextlib
import io
import os

import numpy as np
import pytest

import adjoint
import adjoint.ops as ops
from adjoint import ParameterTuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GOLDEN = os.path.join(HERE, "golden")


def load_example(name):
    path = os.path.join(ROOT, "examples", name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    with contextlib.redirect_stdout(io.StringIO()):
        spec.loader.exec_module(module)
    return module


def seed_grad_by_list(name):
    net = load_example(name).Net()
    return ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))


def mlp_loss(W1, b1, W2, b2, x, labels):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    logp = ops.log_softmax(logits, axis=-1)
    return -np.mean(logp[np.arange(x.shape[0]), labels])


def control_grad(name, positions):
    from programs import control
    return adjoint.grad(getattr(control, name), grad_position=positions)


def nested_cells():
    from programs import structure
    net = structure.Model()
    return ops.GradOperation(get_all=True, get_by_list=True)(net, ParameterTuple(net.trainable_params()))


def mlp_cell():
    import adjoint.nn as nn
    net = nn.SequentialCell([nn.Dense(4, 3, weight_init="ones", bias_init="zeros", activation="tanh"),
                             nn.Dense(3, 2, weight_init="ones", bias_init="zeros")])
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")

    class WithLoss(nn.Cell):
        def __init__(self):
            super().__init__()
            self.net, self.loss = net, loss

        def construct(self, x, labels):
            return self.loss(self.net(x), labels)
    cell = WithLoss()
    return ops.GradOperation(get_by_list=True)(cell, ParameterTuple(cell.trainable_params()))


CASES = {
    "seed_1": lambda: ops.GradOperation()(load_example("seed_1").Net()),
    "seed_2": lambda: seed_grad_by_list("seed_2"),
    "seed_3": lambda: seed_grad_by_list("seed_3"),
    "seed_4": lambda: ops.GradOperation(sens_param=True)(load_example("seed_4").Net()),
    "seed_5": lambda: seed_grad_by_list("seed_5"),
    "mlp_function": lambda: adjoint.grad(mlp_loss, grad_position=(0, 1, 2, 3)),
    "if_branch": lambda: control_grad("branch", (0, 1)),
    "for_rnn": lambda: control_grad("rnn", (0, 1)),
    "while_loop": lambda: control_grad("tensor_while", 0),
    "loop_with_branch": lambda: control_grad("loop_with_branch", 0),
    "nested_cells": nested_cells,
    "mlp_cell": mlp_cell,
}

EXAMPLE_ARGS = {
    "mlp_cell": lambda: (np.zeros((5, 4)), np.zeros(5, np.int64)),
    "if_branch": lambda: (np.ones(2), np.ones(2)),
    "for_rnn": lambda: (np.ones((2, 2)), np.ones((3, 2)), np.ones((4, 3)), np.ones((1, 2))),
    "while_loop": lambda: (np.ones(2),),
    "loop_with_branch": lambda: (np.ones(2), 3),
    "mlp_function": lambda: (np.zeros((4, 3)), np.zeros(3), np.zeros((3, 2)), np.zeros(2),
                             np.zeros((5, 4)), np.zeros(5, np.int64)),
}


def source_of(name):
    gradfn = CASES[name]()
    args = EXAMPLE_ARGS[name]() if name in EXAMPLE_ARGS else ()
    return gradfn.compiled(*args).source


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_source_matches_golden(name):
    source = source_of(name)
    path = os.path.join(GOLDEN, name + ".py")
    if os.environ.get("ADJOINT_UPDATE_GOLDEN"):
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as fh:
            fh.write(source)
    with open(path) as fh:
        assert source == fh.read(), "generated source changed; review and refresh the golden file"


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_source_is_deterministic(name):
    assert source_of(name) == source_of(name)


def test_golden_module_is_self_contained_and_runs():
    # The generated source can be written to a file, imported and called on arrays.
    namespace = {}
    with open(os.path.join(GOLDEN, "seed_1.py")) as fh:
        exec(compile(fh.read(), "seed_1_golden.py", "exec"), namespace)
    dx = namespace["Net_construct_grad"](np.array([100.0], np.float32), np.array([6.0]), np.array([1.0]))
    assert dx.tolist() == [6.0]
