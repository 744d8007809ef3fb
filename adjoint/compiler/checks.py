"""Run-time invariants of generated code, checked when ``ADJOINT_CHECK=1`` is set.

Generated with checks, an adjoint also verifies, as it runs, that every gradient has the shape
and float dtype of the value it is the gradient of, and that a program whose float inputs are
all float32 computes in float32 from end to end. A failure is adjoint's bug, not the user's:
the message names the user's line the value came from.
"""
import os

import numpy as np

from ..errors import AdjointError


class InvariantError(AdjointError):
    """Generated code broke one of its own invariants (a bug in adjoint: please report it)."""


def enabled():
    return os.environ.get("ADJOINT_CHECK", "") not in ("", "0")


def float_kind(*args):
    """float32 when every float array argument is float32 and no integer array would promote
    it to float64 under NumPy's rules (numbers don't count), else None."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    kinds = {a.dtype for a in arrays if a.dtype.kind == "f"}
    if kinds != {np.dtype(np.float32)}:
        return None
    if any(np.result_type(a.dtype, np.float32) != np.float32 for a in arrays):
        return None
    return np.dtype(np.float32)


def check_value(value, fkind, what, where):
    """A float32 program computes in float32: no float64 array may appear in it."""
    if fkind is not None and isinstance(value, np.ndarray) and value.dtype.kind == "f" \
            and value.dtype != fkind:
        raise InvariantError("%s: %s is %s in a program whose inputs are all %s (adjoint bug: "
                             "please report it)" % (where, what, value.dtype, fkind))
    return value


def check_adjoint(grad, value, what, where):
    """A gradient has the shape of its value and, for a float value, the same dtype. (In a
    program that mixes float32 and float64, NumPy's promotion computes the reverse sweep in
    float64; the API casts each gradient to its input's dtype at the end. So the dtype is
    checked here only for gradients of float64 values; check_value covers float32 programs.)"""
    if grad is None or isinstance(grad, (tuple, list)) or isinstance(value, (tuple, list)):
        return grad
    gshape, vshape = np.shape(grad), np.shape(value)
    if gshape != vshape:
        raise InvariantError("%s: the gradient %s has shape %s but its value has shape %s (adjoint "
                             "bug: please report it)" % (where, what, gshape, vshape))
    vdtype = getattr(value, "dtype", None)
    gdtype = getattr(grad, "dtype", None)
    if vdtype == np.float64 and gdtype is not None and gdtype != vdtype and isinstance(grad, np.ndarray):
        raise InvariantError("%s: the gradient %s is %s but its value is %s (adjoint bug: please "
                             "report it)" % (where, what, gdtype, vdtype))
    return grad
