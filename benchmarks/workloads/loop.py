"""loop: 20-step RNN h = tanh(h @ Wh + xs[t] @ Wx), h (32, 128), xs (20, 32, 64), float64;
loss sum(h_20); gradients w.r.t. Wh and Wx. Written with ``for t in range(20)``."""
import numpy as np

import adjoint

import peers
from harness import Contender

NAME = "loop"
TITLE = "RNN 20 steps, h (32,128), x_t (32,64), f64"
TARGET = 0.95
NOTE = "for t in range(20): the compiler keeps the loop and records a tape (it does not unroll it)"

STEPS = 20


def rnn_loss(Wh, Wx, h, xs):
    for t in range(20):
        h = np.tanh(h @ Wh + xs[t] @ Wx)
    return np.sum(h)


def hand_grad(Wh, Wx, h, xs):
    hs = [h]
    for t in range(STEPS):
        h = np.tanh(h @ Wh + xs[t] @ Wx)
        hs.append(h)
    dh = np.ones_like(h)
    dWh = np.zeros_like(Wh)
    dWx = np.zeros_like(Wx)
    for t in reversed(range(STEPS)):
        da = dh * (1 - hs[t + 1] * hs[t + 1])
        dWh += hs[t].T @ da
        dWx += xs[t].T @ da
        dh = da @ Wh.T
    return dWh, dWx


def make_inputs():
    r = np.random.default_rng(2)
    return {"Wh": r.standard_normal((128, 128)) * 0.1, "Wx": r.standard_normal((64, 128)) * 0.1,
            "h": r.standard_normal((32, 128)) * 0.5, "xs": r.standard_normal((STEPS, 32, 64))}


def _args(inp):
    return inp["Wh"], inp["Wx"], inp["h"], inp["xs"]


def adjoint_contenders(inp):
    return [Contender("adjoint grad()", adjoint.grad(rnn_loss, grad_position=(0, 1)), _args(inp))]


def _make(np_):
    def loss(Wh, Wx, h, xs):
        for t in range(STEPS):
            h = np_.tanh(h @ Wh + xs[t] @ Wx)
        return np_.sum(h)
    return loss


def _torch_loss(torch, Wh, Wx, h, xs):
    for t in range(STEPS):
        h = torch.tanh(h @ Wh + xs[t] @ Wx)
    return torch.sum(h)


def peers_for(inp, positions=(0, 1)):
    """Each peer's gradient of the RNN w.r.t. the arguments at ``positions`` (the first ones)."""
    args = _args(inp)
    return {
        "autograd": lambda: peers.autograd_grad(_make, positions, args),
        "jax-jit": lambda: peers.jax_grad(_make, positions, args, True),
        "jax-eager": lambda: peers.jax_grad(_make, positions, args, False),
        "torch": lambda: peers.torch_grad(_torch_loss, len(positions), args),
        "tangent": lambda: peers.tangent_grad(rnn_loss, positions, args),
    }
