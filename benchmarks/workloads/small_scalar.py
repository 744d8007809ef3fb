"""small-scalar: sin(x) * cos(y) + x * y * y on Python floats; gradients w.r.t. x and y.

No arrays at all: the cost is interpreter and call overhead."""
import numpy as np

import adjoint

import peers
from harness import Contender

NAME = "small_scalar"
TITLE = "sin(x)cos(y) + x*y*y, Python floats"
TARGET = 0.6
NOTE = "Python floats in and out"


def small_loss(x, y):
    return np.sin(x) * np.cos(y) + x * y * y


def hand_grad(x, y):
    return np.cos(x) * np.cos(y) + y * y, -np.sin(x) * np.sin(y) + 2 * x * y


def make_inputs():
    return {"x": 0.7, "y": 1.3}


def adjoint_contenders(inp):
    return [Contender("adjoint grad()", adjoint.grad(small_loss, grad_position=(0, 1)), (inp["x"], inp["y"]))]


def _make(np_):
    return lambda x, y: np_.sin(x) * np_.cos(y) + x * y * y


def peers_for(inp):
    args = (inp["x"], inp["y"])
    return {
        "autograd": lambda: peers.autograd_grad(_make, (0, 1), args),
        "jax-jit": lambda: peers.jax_grad(_make, (0, 1), args, True),
        "jax-eager": lambda: peers.jax_grad(_make, (0, 1), args, False),
        "torch": lambda: peers.torch_grad(lambda torch, x, y: torch.sin(x) * torch.cos(y) + x * y * y, 2, args),
        "tangent": lambda: peers.tangent_grad(small_loss, (0, 1), args),
    }
