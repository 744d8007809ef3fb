"""Cells with code adjoint refuses; tests assert the reported lines."""
import numpy as np

import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter


class ManyProblems(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.ones(2), name="w")

    def construct(self, x):
        try:                                   # line 15
            y = x * self.w
        except ValueError:
            y = x
        self.cached = y                        # line 19
        global COUNTER                         # line 20
        return y


def no_rule(x):
    return x


class NoRule(nn.Cell):
    def construct(self, x):
        y = np.fft.fft(x)                      # line 30
        return np.sum(y.real)


class ShapeMismatch(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.ones((3, 4)), name="w")

    def construct(self, x):
        h = x @ self.w                         # line 40
        return ops.sum(h)


class TensorBreak(nn.Cell):
    def construct(self, x):
        for i in range(3):
            if ops.sum(x) > 0:
                break                          # line 48
            x = x * 2
        return x


def undefined_name(x):
    return x * not_defined_anywhere            # line 54


class StateChanges(nn.Cell):
    def __init__(self):
        super().__init__()
        self.history = []

    def construct(self, x):
        self.history.append(x)                 # line 63
        self.calls = 1                         # line 64
        return x


def per_element(x):
    square = np.vectorize(lambda t: t * t)      # line marked in test_errors
    return np.sum(square(x))
