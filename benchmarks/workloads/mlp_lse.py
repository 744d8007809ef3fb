"""mlp_lse: the mlp workload's network with the loss written out as NumPy: the max-shifted
log-sum-exp (``logits - max(logits)``, ``log(sum(exp(shifted)))``), integer labels, mean over the
batch; x (64, 784) float32. The gradient of ``np.max(..., keepdims=True)`` must stay float32, or
every later product runs in float64 (issue 15)."""
import numpy as np

import adjoint

from workloads import mlp
from harness import Contender

NAME = "mlp_lse"
TITLE = "MLP 784-256-10 tanh, written-out log-sum-exp, f32"
TARGET = 1.05
NOTE = "the loss as NumPy code (max-shifted log-sum-exp), adjoint.grad on a function"


def mlp_lse_loss(W1, b1, W2, b2, x, labels):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    n = x.shape[0]
    return -np.mean(logp[np.arange(n), labels])


hand_grad = mlp.hand_grad
make_inputs = mlp.make_inputs
peers_for = mlp.peers_for


def adjoint_contenders(inp):
    return [Contender("adjoint grad()", adjoint.grad(mlp_lse_loss, grad_position=(0, 1, 2, 3)), mlp._args(inp))]
