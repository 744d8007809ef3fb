"""Reductions over axes (sums, means, extremes, products, variances), cumulative sums, and
their derivative rules."""
import numpy as np

from .. import runtime as rt
from .. import runtime_ops as ro
from ..prims import Prim, REDUCE, alias, like, nondiff
from ..runtime import unreduce, reduced_size, extreme_weights
from .structural import stop_gradient
from .training import is_none

sum = Prim("sum", np.sum, "x, axis=None, keepdims=False", emit="np.sum", shape=REDUCE, linear=True)
mean = Prim("mean", np.mean, "x, axis=None, keepdims=False", emit="np.mean", shape=REDUCE, linear=True)
amax = Prim("amax", np.max, "x, axis=None, keepdims=False", emit="np.max", shape=REDUCE)
amin = Prim("amin", np.min, "x, axis=None, keepdims=False", emit="np.min", shape=REDUCE)
argmax = Prim("argmax", np.argmax, "x, axis=None", emit="np.argmax")
argmin = Prim("argmin", np.argmin, "x, axis=None", emit="np.argmin")

unreduce_p = Prim("unreduce", rt.unreduce, "g, x, axis=None, keepdims=False", diff=("g",), shape=like(1), shape_only=(1,), linear=True)
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
    """Shared equally by the elements that reach the maximum (as MindSpore)."""
    return extreme_weights(x, out, axis, keepdims) * unreduce(dout, x, axis, keepdims)


@amin.vjp
def _(x, axis, keepdims, out, dout):
    """Shared equally by the elements that reach the minimum (as MindSpore)."""
    return extreme_weights(x, out, axis, keepdims) * unreduce(dout, x, axis, keepdims)


@unreduce_p.vjp
def _(g, x, axis, keepdims, out, dout):
    return np.sum(dout, axis, keepdims=keepdims)


alias(np.amax, amax)
alias(np.amin, amin)


# -- products, cumulative sums, variance ------------------------------------------------------

prod = Prim("prod", np.prod, "x, axis=None, keepdims=False", emit="np.prod", shape=REDUCE)
prod_others_p = Prim("prod_others", ro.prod_others, "x, axis=None", shape=like(0))
prod_others_grad_p = Prim("prod_others_grad", ro.prod_others_grad, "g, x, axis=None", diff=("g", "x"),
                          shape=like(1))
cumsum = Prim("cumsum", np.cumsum, "x, axis=None", emit="np.cumsum", keywords=(), linear=True)


@prod.vjp
def _(x, axis, keepdims, out, dout):
    """Exact where x has zeros (the product of the other elements, computed without dividing),
    as MindSpore's ReduceProd; third and higher derivatives divide by x."""
    return unreduce(dout, x, axis, keepdims) * ro.prod_others(x, axis)


@prod_others_p.vjp
def _(x, axis, out, dout):
    return ro.prod_others_grad(dout, x, axis)


@prod_others_grad_p.vjp
def _(g, x, axis, out, dout):
    """NaN where a factor is zero (it divides by x)."""
    # out_k = sum_{i != k} g_i prod_{j != i, k} x_j is symmetric in (g, dout), so its
    # derivative in g is itself; in x (u = 1/x, P the product, G = sum g u, H = sum dout u):
    # d/dx_m sum(dout * out) = sum(dout * out) u_m - P u_m^2 (g_m H + dout_m G - 2 g_m dout_m u_m)
    u = 1 / x
    total = np.sum(dout * out, axis, keepdims=True)
    product = np.prod(x, axis, keepdims=True)
    sg = np.sum(g * u, axis, keepdims=True)
    sh = np.sum(dout * u, axis, keepdims=True)
    dx = total * u - product * (u * u) * (g * sh + dout * sg - 2 * g * dout * u)
    return ro.prod_others_grad(dout, x, axis), dx


@cumsum.vjp
def _(x, axis, out, dout):
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(dout, 0), 0), 0), np.shape(x))
    return np.flip(np.cumsum(np.flip(dout, axis), axis), axis)


def np_prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return prod(a, axis, keepdims)


def np_cumsum(a, axis=None, dtype=None, out=None):
    return cumsum(a, axis)


def np_var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
           correction=None):
    """mean(|a - mean(a)|^2) over axis, divided by N - ddof (``correction`` is ddof's other name)."""
    if not is_none(correction):
        ddof = correction
    centred = a - np.mean(a, axis, keepdims=True)
    return np.sum(centred * centred, axis, keepdims=keepdims) / (reduced_size(a, axis) - ddof)


def np_std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None,
           correction=None):
    """sqrt(var).

    Gradient: NaN where the variance is 0 (as MindSpore's std)."""
    return np.sqrt(np_var(a, axis, None, None, ddof, keepdims, None, None, correction))


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over axis, shifted by the maximum (no overflow); its gradient is
    softmax(x) along axis."""
    shift = stop_gradient(np.max(x, axis, keepdims=True))
    total = np.log(np.sum(np.exp(x - shift), axis, keepdims=keepdims))
    if keepdims:
        return total + shift
    return total + np.squeeze(shift, axis)


alias(np.prod, np_prod)
alias(np.cumsum, np_cumsum)
alias(np.var, np_var)
alias(np.std, np_std)


# -- forward mode -------------------------------------------------------------------------------
@prod.jvp
def _(x, axis, keepdims, out, dx):
    return np.sum(dx * ro.prod_others(x, axis), axis, keepdims=keepdims)
