"""Programs with nested Cells, methods, helpers, bprop and higher-order gradients."""
import numpy as np

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter


def helper(x, w):
    return inner_helper(x) * w


def inner_helper(x):
    return np.tanh(x) + x * x


class Encoder(nn.Cell):
    def __init__(self, scale):
        super().__init__()
        self.w = Parameter(np.array([0.5, -1.5, 2.0]), name="w")
        self.scale = scale

    def encode(self, x):
        return ops.sigmoid(x * self.w) * self.scale

    def construct(self, x):
        return self.encode(x) + helper(x, self.w)


class Doubled(Encoder):
    def construct(self, x):
        return super().construct(x) * 2.0 + self.encode(x)


class Model(nn.Cell):
    def __init__(self):
        super().__init__()
        self.b = Parameter(np.array([0.1, 0.2, 0.3]), name="b")
        self.encoder = Encoder(3.0)
        self.doubled = Doubled(0.5)

    def construct(self, x):
        h = self.encoder(x) + self.encoder(x * 0.5)      # the same sub-Cell twice
        return ops.sum(h * self.encoder.encode(x) + self.doubled(h) + self.b * x)


class Scaled(nn.Cell):
    """Its gradient is whatever bprop says (here: 3 * dout, ignoring relu's kink)."""

    def construct(self, x):
        return ops.relu(x)

    def bprop(self, x, out, dout):
        return (dout * 3.0 + out * 0.0,)


class UsesScaled(nn.Cell):
    def __init__(self):
        super().__init__()
        self.scaled = Scaled()
        self.w = Parameter(np.array([1.0, -2.0]), name="w")

    def construct(self, x):
        y = self.scaled(x * self.w)
        return ops.sum(y * y + x)


class Poly(nn.Cell):
    def construct(self, x):
        return ops.sin(x) * x * x


class Branchy(nn.Cell):
    def construct(self, x):
        if ops.sum(x) > 0:
            y = x * x * x
        else:
            y = ops.exp(x)
        return y


class Looping(nn.Cell):
    def construct(self, x):
        y = x
        for i in range(3):
            y = ops.sin(y) * x
        return y


class GradNet(nn.Cell):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.grad_op = ops.GradOperation()

    def construct(self, x):
        gradient_function = self.grad_op(self.net)
        return gradient_function(x)


def f(x):
    return np.sin(x) * x


def df(x):
    return adjoint.grad(f)(x)
