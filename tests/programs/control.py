"""Programs with control flow, differentiated in tests/test_control_flow.py (and elsewhere)."""
import math

import numpy as np

import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter


def branch(x, y):
    if np.sum(x) > 0:
        z = x * y
    elif np.sum(y) > 0:
        z = np.sin(x) * y
    else:
        z = np.exp(x)
    return np.sum(z * z)


def early_return(x):
    if np.sum(x) > 0:
        return np.sum(x * x)
    y = np.exp(x)
    return np.sum(y)


def conditional_expression(x):
    y = x * 2.0 if np.sum(x) > 0 else np.cos(x)
    return np.sum(y * x)


def constant_condition(x, scale=2.0):
    if scale > 1:
        y = x * scale
    else:
        y = np.sin(x)
    return np.sum(y)


def rnn(Wh, Wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(h @ Wh + xs[t] @ Wx)
    return np.sum(h)


def nested_loops(x, w):
    acc = x * 0.0
    for i in range(3):
        for j in range(2):
            acc = acc + np.sin(x * w + i) * (j + 1)
    return np.sum(acc * acc)


def loop_with_branch(x, n):
    acc = x * 0.0
    for i in range(n):
        if np.sum(acc) > 1.0:
            acc = acc + np.sin(x)
        else:
            acc = acc + x * x
    return np.sum(acc)


def tensor_while(x):
    y = x
    while np.sum(y * y) < 100.0:
        y = y * 1.5 + 0.1
    return np.sum(y)


def python_while(x):
    i = 0
    y = x
    while i < 3:
        y = np.tanh(y) + x
        i += 1
    return np.sum(y)


def loop_over_tuple(x, y):
    total = 0.0
    for k, v in enumerate((x, y, x * y)):
        total = total + np.sum(v * v) * (k + 1)
    for a, b in zip((x, y), (y, x)):
        total = total + np.sum(a * np.exp(b))
    return total


def break_and_continue(x):
    acc = x
    for i in range(10):
        if i == 1:
            continue
        if i == 4:
            break
        acc = acc * np.cos(acc) + x
    return np.sum(acc)


def append_then_stack(x, w):
    hs = []
    h = x
    for t in range(3):
        h = np.tanh(h * w)
        hs.append(h)
    return np.sum(np.stack(hs) * np.arange(1.0, 4.0)[:, None])


def comprehension_and_helpers(x, w):
    """Docstrings, defaults, lambdas, nested defs, comprehensions, math constants."""
    def scaled(v, k=2.0):
        return v * k

    square = lambda v: v * v  # noqa: E731
    parts = [scaled(x * w, k) for k in (1.0, 2.0, 3.0) if k != 2.0]
    assert len(parts) == 2
    a, b = parts
    y = x
    y += square(a) + b * math.pi
    print("shape", x.shape, len(parts))
    return np.sum(y) + x.shape[0]


def augmented_does_not_mutate(x):
    y = x
    y += x
    y *= 3.0
    return np.sum(y * x)


class RNNCell(nn.Cell):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.wh = Parameter(rng.standard_normal((4, 4)) * 0.4, name="wh")
        self.wx = Parameter(rng.standard_normal((3, 4)) * 0.4, name="wx")

    def construct(self, xs):
        h = ops.zeros_like(xs[0] @ self.wx)
        for t in range(xs.shape[0]):
            if ops.sum(h) > 0.5:
                h = ops.tanh(h @ self.wh + xs[t] @ self.wx)
            else:
                h = ops.sigmoid(h @ self.wh) + xs[t] @ self.wx
        return ops.sum(h * h)


# A Cell whose loop over a sequence accumulates its Parameters' gradients
class RNN(nn.Cell):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.wh = Parameter(rng.standard_normal((6, 6)) * 0.3, name="wh")
        self.wx = Parameter(rng.standard_normal((5, 6)) * 0.3, name="wx")

    def construct(self, xs):
        h = ops.zeros_like(xs[0] @ self.wx)
        for t in range(xs.shape[0]):
            h = ops.tanh(h @ self.wh + xs[t] @ self.wx)
        return ops.sum(h * h)
