"""mlp: x (64, 784) float32, 784 -> 256 tanh -> 10, softmax cross-entropy with integer labels
(mean over the batch); gradients w.r.t. W1, b1, W2, b2. As a plain function (``adjoint.grad``)
and as an nn.Cell (``GradOperation(get_by_list=True)``)."""
import numpy as np

import adjoint
from adjoint import Parameter, ParameterTuple, Tensor, nn, ops

import peers
from harness import Contender

NAME = "mlp"
TITLE = "MLP 784-256-10 tanh, xent, B=64, f32"
TARGET = 1.05
NOTE = "rows: adjoint.grad on a function (arrays) and GradOperation on an nn.Cell (Tensors)"


def mlp_loss(W1, b1, W2, b2, x, labels):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    logp = ops.log_softmax(logits, axis=-1)
    n = x.shape[0]
    return -np.mean(logp[np.arange(n), labels])


class MLP(nn.Cell):
    def __init__(self, W1, b1, W2, b2):
        super().__init__()
        self.W1 = Parameter(W1, name='W1')
        self.b1 = Parameter(b1, name='b1')
        self.W2 = Parameter(W2, name='W2')
        self.b2 = Parameter(b2, name='b2')

    def construct(self, x, labels):
        h = ops.tanh(ops.matmul(x, self.W1) + self.b1)
        logits = ops.matmul(h, self.W2) + self.b2
        logp = ops.log_softmax(logits, axis=-1)
        n = x.shape[0]
        return -ops.mean(logp[np.arange(n), labels])


def _log_softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def hand_grad(W1, b1, W2, b2, x, labels):
    # the forward as written, up to log_softmax (the loss value itself is not needed)
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    logp = _log_softmax(logits)
    n = x.shape[0]
    # d(-mean(logp[i, labels[i]])) / d logits = (softmax - onehot) / n
    dlogits = np.exp(logp)
    dlogits[np.arange(n), labels] -= 1
    dlogits /= n
    dW2 = h.T @ dlogits
    db2 = np.sum(dlogits, axis=0)
    dpre = (dlogits @ W2.T) * (1 - h * h)
    dW1 = x.T @ dpre
    db1 = np.sum(dpre, axis=0)
    return dW1, db1, dW2, db2


def make_inputs():
    r = np.random.default_rng(0)
    return {"W1": (r.standard_normal((784, 256)) * 0.05).astype(np.float32),
            "b1": (r.standard_normal(256) * 0.1).astype(np.float32),
            "W2": (r.standard_normal((256, 10)) * 0.05).astype(np.float32),
            "b2": (r.standard_normal(10) * 0.1).astype(np.float32),
            "x": r.standard_normal((64, 784)).astype(np.float32),
            "labels": r.integers(0, 10, 64)}


def _args(inp):
    return tuple(inp[k] for k in ("W1", "b1", "W2", "b2", "x", "labels"))


def adjoint_contenders(inp):
    fn = adjoint.grad(mlp_loss, grad_position=(0, 1, 2, 3))
    net = MLP(*(inp[k].copy() for k in ("W1", "b1", "W2", "b2")))
    cell = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    return [Contender("adjoint grad()", fn, _args(inp)),
            Contender("adjoint Cell", cell, (Tensor(inp["x"]), Tensor(inp["labels"])))]


def _make(np_):
    def loss(W1, b1, W2, b2, x, labels):
        h = np_.tanh(x @ W1 + b1)
        logits = h @ W2 + b2
        shifted = logits - np_.max(logits, axis=-1, keepdims=True)
        logp = shifted - np_.log(np_.sum(np_.exp(shifted), axis=-1, keepdims=True))
        n = x.shape[0]
        return -np_.mean(logp[np.arange(n), labels])
    return loss


def _torch_loss(torch, W1, b1, W2, b2, x, labels):
    h = torch.tanh(x @ W1 + b1)
    logp = torch.log_softmax(h @ W2 + b2, dim=-1)
    return -torch.mean(logp[torch.arange(x.shape[0]), labels])


def _tangent_loss(W1, b1, W2, b2, x, labels):
    h = np.tanh(np.dot(x, W1) + b1)
    logits = np.dot(h, W2) + b2
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return -np.mean(logp[np.arange(x.shape[0]), labels])


def peers_for(inp):
    args = _args(inp)
    wrt = (0, 1, 2, 3)
    return {
        "autograd": lambda: peers.autograd_grad(_make, wrt, args),
        "jax-jit": lambda: peers.jax_grad(_make, wrt, args, True),
        "jax-eager": lambda: peers.jax_grad(_make, wrt, args, False),
        "torch": lambda: peers.torch_grad(_torch_loss, 4, args),
        "tangent": lambda: peers.tangent_grad(_tangent_loss, wrt, args),
    }
