"""Loop accumulators written one slice per iteration (codegen_plan.write_slices)."""
import numpy as np

from .runtime import add_at, zeros_like


def empty_if_covered(x, start, stop, step):
    """The accumulator for the gradient of ``x[t]``, t in range(start, stop, step): left
    uninitialised when the loop writes every row of a float array, else zeros."""
    if (type(x) is np.ndarray and x.dtype.kind == "f" and x.ndim and start == 0 and step == 1
            and stop == x.shape[0]):
        return np.empty(x.shape, x.dtype)
    return zeros_like(x)


def put_slice(acc, g, i):
    """``acc[i] = g``: the loop writes each slice of a float accumulator once (else added,
    with NumPy's casting rules for adding)."""
    if type(acc) is np.ndarray and acc.dtype.kind == "f":
        acc[i] = g
    else:
        add_at(acc, g, i)
