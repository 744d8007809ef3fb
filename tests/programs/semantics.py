"""Functions that read values from outside their arguments; tests/test_semantics.py changes
those values between calls and checks that each gradient sees them as Python would."""
import numpy as np

import adjoint.nn as nn
from adjoint import Parameter

s = 2.0
s64 = np.float64(2.0)
N = 2
FLAG = True
CFG = {"scale": 2.0}
LOG = []
SCALE = 3.0


def uses_global(x):
    return np.sum(s * x)


def uses_numpy_scalar(x):
    return np.sum(s64 * x)


def uses_range(x):
    for i in range(N):
        x = x * 2.0
    return np.sum(x)


def uses_flag(x):
    if FLAG:
        return np.sum(x * x)
    return np.sum(x)


def uses_dict(x):
    return np.sum(CFG["scale"] * x)


def make_counter_loss():
    c = 1.0

    def loss(x):
        return np.sum(c * x)

    def bump():
        nonlocal c
        c = c + 1.0
    return loss, bump


def make_loss(c):
    def loss(x):
        return np.sum((x - c) ** 2)
    return loss


class Settings:
    factor = 2.0


def uses_class_attribute(x):
    return np.sum(Settings.factor * x)


class Scaled(nn.Cell):
    factor = 2.0

    def construct(self, x):
        return (x * self.factor * SCALE).sum()


class WithConfig(nn.Cell):
    def __init__(self):
        super().__init__()
        self.cfg = Settings()

    def construct(self, x):
        return (x * self.cfg.factor).sum()


class Net(nn.Cell):
    def __init__(self, alpha):
        super().__init__()
        self.w = Parameter(np.array([1.0, 2.0]), name="w")
        self.alpha = alpha

    def construct(self, x):
        return (self.w * x * self.alpha).sum()


model = Net(2.0)


def forward_fn(x):
    return model(x)


def dropout(x):
    mask = np.random.rand(3) > 0.5
    return np.sum(x * mask)


rng = np.random.default_rng(0)


def noisy(x):
    return np.sum(x * rng.standard_normal(3))


def log_value(v):
    LOG.append(v)


def logged(x):
    y = np.sum(x * x)
    log_value(len(LOG))
    return y


def checked(x):
    assert x.shape[0] == 3, "need 3"
    return np.sum(x)


def checked_now(x):
    assert N == 2, "N must be 2"
    return np.sum(x)
