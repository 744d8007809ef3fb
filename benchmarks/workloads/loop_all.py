"""loop_all: the loop workload's RNN, gradients w.r.t. everything: Wh, Wx, the starting state h
and the sequence xs (each step's gradient goes into its slice of dxs)."""
import numpy as np

import adjoint

import peers
from harness import Contender

NAME = "loop_all"
TITLE = "RNN 20 steps, w.r.t. Wh, Wx, h0 and the sequence, f64"
TARGET = 1.05
NOTE = "the sequence's gradient is added into its slice each reverse step (add_at), not a full-size array"

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
    dxs = np.empty_like(xs)
    for t in reversed(range(STEPS)):
        da = dh * (1 - hs[t + 1] * hs[t + 1])
        dWh += hs[t].T @ da
        dWx += xs[t].T @ da
        dxs[t] = da @ Wx.T
        dh = da @ Wh.T
    return dWh, dWx, dh, dxs


def make_inputs():
    r = np.random.default_rng(2)
    return {"Wh": r.standard_normal((128, 128)) * 0.1, "Wx": r.standard_normal((64, 128)) * 0.1,
            "h": r.standard_normal((32, 128)) * 0.5, "xs": r.standard_normal((STEPS, 32, 64))}


def _args(inp):
    return inp["Wh"], inp["Wx"], inp["h"], inp["xs"]


def adjoint_contenders(inp):
    return [Contender("adjoint grad()", adjoint.grad(rnn_loss, grad_position=(0, 1, 2, 3)), _args(inp))]


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


def peers_for(inp):
    args = _args(inp)
    return {
        "autograd": lambda: peers.autograd_grad(_make, (0, 1, 2, 3), args),
        "jax-jit": lambda: peers.jax_grad(_make, (0, 1, 2, 3), args, True),
        "jax-eager": lambda: peers.jax_grad(_make, (0, 1, 2, 3), args, False),
        "torch": lambda: peers.torch_grad(_torch_loss, 4, args),
        "tangent": lambda: peers.tangent_grad(rnn_loss, (0, 1, 2, 3), args),
    }
