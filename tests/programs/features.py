"""Python that users write in code adjoint compiles (issue 12): loops over a Tensor's rows,
f-strings and str.format of run-time values, item and slice assignment, lists built in
run-time loops, recursion."""
import numpy as np


def over_rows(x, w):
    s = np.zeros(3)
    for row in x:
        s = s + np.tanh(row * w)
    return np.sum(s * s)


def over_pairs(x):
    t = 0.0
    for a, b in x:
        t = t + a * np.sin(b)
    return t


def prints_values(x):
    loss = np.sum(x * x)
    print(f"shape {x.shape} loss {loss:.3f} {{braces}} {x.shape[0]!r}")
    print("n={} mean={:.2f}".format(x.shape[0], np.mean(x)))
    return loss
