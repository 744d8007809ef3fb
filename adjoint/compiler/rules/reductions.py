"""Reductions over axes and their derivative rules."""
import numpy as np

from .. import runtime as rt
from ..prims import Prim, REDUCE, alias, like, nondiff
from ..runtime import unreduce, reduced_size, extreme_weights

sum = Prim("sum", np.sum, "x, axis=None, keepdims=False", emit="np.sum", shape=REDUCE)
mean = Prim("mean", np.mean, "x, axis=None, keepdims=False", emit="np.mean", shape=REDUCE)
amax = Prim("amax", np.max, "x, axis=None, keepdims=False", emit="np.max", shape=REDUCE)
amin = Prim("amin", np.min, "x, axis=None, keepdims=False", emit="np.min", shape=REDUCE)
argmax = Prim("argmax", np.argmax, "x, axis=None", emit="np.argmax")
argmin = Prim("argmin", np.argmin, "x, axis=None", emit="np.argmin")

unreduce_p = Prim("unreduce", rt.unreduce, "g, x, axis=None, keepdims=False", diff=("g",), shape=like(1), shape_only=(1,))
reduced_size_p = Prim("reduced_size", rt.reduced_size, "x, axis=None", shape_only=(0,))
extreme_weights_p = Prim("extreme_weights", rt.extreme_weights, "x, out, axis=None, keepdims=False", shape=like(0))
nondiff(argmax, argmin, reduced_size_p, extreme_weights_p)


@sum.vjp
def _(x, axis, keepdims, out, dout):
    return unreduce(dout, x, axis, keepdims)


@mean.vjp
def _(x, axis, keepdims, out, dout):
    return unreduce(dout / reduced_size(x, axis), x, axis, keepdims)


@amax.vjp
def _(x, axis, keepdims, out, dout):
    return extreme_weights(x, out, axis, keepdims) * unreduce(dout, x, axis, keepdims)


@amin.vjp
def _(x, axis, keepdims, out, dout):
    return extreme_weights(x, out, axis, keepdims) * unreduce(dout, x, axis, keepdims)


@unreduce_p.vjp
def _(g, x, axis, keepdims, out, dout):
    return np.sum(dout, axis, keepdims=keepdims)


alias(np.amax, amax)
alias(np.amin, amin)
