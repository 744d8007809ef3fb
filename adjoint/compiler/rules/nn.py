"""Neural-network primitives: softmax, log_softmax."""
import numpy as np

from .. import runtime as rt
from ..prims import Prim, SAME

softmax = Prim("softmax", rt.softmax, "x, axis=-1", shape=SAME)
log_softmax = Prim("log_softmax", rt.log_softmax, "x, axis=-1", shape=SAME)


@softmax.vjp
def _(x, axis, out, dout):
    return out * (dout - np.sum(dout * out, axis, keepdims=True))


@log_softmax.vjp
def _(x, axis, out, dout):
    return dout - np.exp(out) * np.sum(dout, axis, keepdims=True)


# -- forward mode -------------------------------------------------------------------------------
softmax.jvp_from_vjp()      # (its Jacobian, diag(s) - s s^T, is symmetric)


@log_softmax.jvp
def _(x, axis, out, dx):
    return dx - np.sum(np.exp(out) * dx, axis, keepdims=True)
