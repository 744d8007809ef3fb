"""seed: sum(w * x + b) on shape (1,) float32, gradients w.r.t. w and b.

Almost no arithmetic: this measures per-call overhead. adjoint is called as in MindSpore's
tutorial: an nn.Cell with Parameters w, b and ``GradOperation(get_by_list=True)``, Tensor in,
Tensors out. The plain-function form (``adjoint.grad``, arrays in and out) is a second row.
"""
import numpy as np

import adjoint
from adjoint import Parameter, ParameterTuple, Tensor, nn, ops

import peers
from harness import Contender

NAME = "seed"
TITLE = "sum(w*x+b), (1,) f32, d/dw,b"
TARGET = 1.0
COMPILE_TARGET_MS = 20.0
NOTE = "adjoint row = nn.Cell + GradOperation(get_by_list=True), Tensor in/out"


class SeedNet(nn.Cell):
    def __init__(self, w, b):
        super().__init__()
        self.w = Parameter(w, name='w')
        self.b = Parameter(b, name='b')

    def construct(self, x):
        return ops.sum(self.w * x + self.b)


def seed_loss(w, b, x):
    return np.sum(w * x + b)


def hand_grad(w, b, x):
    # w, b and x all have shape (1,): nothing to sum over, and nothing of the forward is needed
    return x * np.ones_like(w), np.ones_like(b)


def make_inputs():
    return {"w": np.array([6.0], np.float32), "b": np.array([1.0], np.float32),
            "x": np.array([100.0], np.float32)}


def adjoint_contenders(inp):
    net = SeedNet(inp["w"].copy(), inp["b"].copy())
    cell = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    fn = adjoint.grad(seed_loss, grad_position=(0, 1))
    return [Contender("adjoint Cell", cell, (Tensor(inp["x"]),)),
            Contender("adjoint grad()", fn, (inp["w"], inp["b"], inp["x"]))]


def peers_for(inp):
    w, b, x = inp["w"], inp["b"], inp["x"]
    return {
        "autograd": lambda: peers.autograd_grad(lambda np_: lambda w, b, x: np_.sum(w * x + b), (0, 1), (w, b, x)),
        "jax-jit": lambda: peers.jax_grad(lambda np_: lambda w, b, x: np_.sum(w * x + b), (0, 1), (w, b, x), True),
        "jax-eager": lambda: peers.jax_grad(lambda np_: lambda w, b, x: np_.sum(w * x + b), (0, 1), (w, b, x), False),
        "torch": lambda: peers.torch_grad(lambda torch, w, b, x: torch.sum(w * x + b), 2, (w, b, x)),
        "tangent": lambda: peers.tangent_grad(seed_loss, (0, 1), (w, b, x)),
    }
