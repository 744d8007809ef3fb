"""Targets for ``adjoint dump`` (tests/test_cli.py asserts the line numbers marked below)."""
import numpy as np

import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter

from cli_helpers import SCALE          # a sibling module: the file's directory is on sys.path


class Net(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.array([2.0, 3.0], np.float32), name="w")
        self.b = Parameter(np.array([0.5, -1.0], np.float32), name="b")

    def construct(self, x):
        return self.w * x + self.b


class Sized(nn.Cell):
    def __init__(self, n, scale=1.0):
        super().__init__()
        self.w = Parameter(np.full((n,), scale, np.float32), name="w")

    def construct(self, x):
        return ops.sum(np.tanh(self.w * x)) * SCALE


def loss(x, y):
    return ops.sum(np.sin(x) * y)


class Unsupported(nn.Cell):
    def construct(self, x):
        try:                                   # line 36
            y = x * 2
        except ValueError:
            y = x
        return y


class Broken(nn.Cell):
    def __init__(self):
        super().__init__()
        raise RuntimeError("cannot build")     # line 46


net = Net()
COUNT = 3


class NoConstruct(nn.Cell):
    pass
