"""loop_all: the loop workload's RNN, gradients w.r.t. everything: Wh, Wx, the starting state h
and the sequence xs (each step's gradient goes into its slice of dxs)."""
import numpy as np

import adjoint

from harness import Contender
from workloads import loop

NAME = "loop_all"
TITLE = "RNN 20 steps, w.r.t. Wh, Wx, h0 and the sequence, f64"
TARGET = 1.05
NOTE = "the sequence's gradient is written into its slice each reverse step (put_slice), not a full-size array"

STEPS = loop.STEPS
rnn_loss = loop.rnn_loss
make_inputs = loop.make_inputs


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


def adjoint_contenders(inp):
    return [Contender("adjoint grad()", adjoint.grad(rnn_loss, grad_position=(0, 1, 2, 3)), loop._args(inp))]


def peers_for(inp):
    return loop.peers_for(inp, (0, 1, 2, 3))
