"""Elementwise functions beyond the basics, and their derivative rules: inverse trigonometric
and hyperbolic functions, exp/log variants, erf/erfc, arctan2, logaddexp, clip; and the
``math`` module's functions on numbers (``math.sin(x)`` is ``np.sin``'s primitive).

A rule's docstring is its note in docs/ops.md (subgradients, ties, where it is undefined).
Constants in rules are Python floats, so a float32 program stays float32.
"""
import math

import numpy as np

from .. import runtime_ops as ro
from ...errors import SourceError
from ..prims import BROADCAST, Prim, SAME, alias
from ..runtime import unbroadcast
from .elementwise import absent, absolute, cos, exp, log, power, sin, sqrt, tan, tanh
from .training import is_none

log1p = Prim("log1p", np.log1p, emit="np.log1p", shape=SAME)
expm1 = Prim("expm1", np.expm1, emit="np.expm1", shape=SAME)
exp2 = Prim("exp2", np.exp2, emit="np.exp2", shape=SAME)
log2 = Prim("log2", np.log2, emit="np.log2", shape=SAME)
log10 = Prim("log10", np.log10, emit="np.log10", shape=SAME)
arcsin = Prim("arcsin", np.arcsin, emit="np.arcsin", shape=SAME)
arccos = Prim("arccos", np.arccos, emit="np.arccos", shape=SAME)
arctan = Prim("arctan", np.arctan, emit="np.arctan", shape=SAME)
sinh = Prim("sinh", np.sinh, emit="np.sinh", shape=SAME)
cosh = Prim("cosh", np.cosh, emit="np.cosh", shape=SAME)
arcsinh = Prim("arcsinh", np.arcsinh, emit="np.arcsinh", shape=SAME)
arccosh = Prim("arccosh", np.arccosh, emit="np.arccosh", shape=SAME)
arctanh = Prim("arctanh", np.arctanh, emit="np.arctanh", shape=SAME)
reciprocal = Prim("reciprocal", np.reciprocal, emit="np.reciprocal", shape=SAME)
erf = Prim("erf", ro.erf, emit="erf", shape=SAME)
erfc = Prim("erfc", ro.erfc, emit="erfc", shape=SAME)
arctan2 = Prim("arctan2", np.arctan2, "y, x", emit="np.arctan2", shape=BROADCAST)
logaddexp = Prim("logaddexp", np.logaddexp, "x, y", emit="np.logaddexp", shape=BROADCAST, commutative=True)
logaddexp2 = Prim("logaddexp2", np.logaddexp2, "x, y", emit="np.logaddexp2", shape=BROADCAST, commutative=True)
clip = Prim("clip", np.clip, "x, lo=None, hi=None", emit="np.clip", keywords=(), diff=("x", "lo", "hi"))

# (Constants are written as literals: log(2) = 0.6931471805599453, log(10) = 2.302585092994046,
# 2 / sqrt(pi) = 1.1283791670955126; a module global would be one more guard at every call.)


@log1p.vjp
def _(x, out, dout):
    return dout / (1 + x)


@expm1.vjp
def _(x, out, dout):
    return dout * (out + 1)


@exp2.vjp
def _(x, out, dout):
    return dout * out * 0.6931471805599453


@log2.vjp
def _(x, out, dout):
    return dout / (x * 0.6931471805599453)


@log10.vjp
def _(x, out, dout):
    return dout / (x * 2.302585092994046)


@arcsin.vjp
def _(x, out, dout):
    """Infinite at x = +-1."""
    return dout / np.sqrt(1 - x * x)


@arccos.vjp
def _(x, out, dout):
    """Infinite at x = +-1."""
    return -dout / np.sqrt(1 - x * x)


@arctan.vjp
def _(x, out, dout):
    return dout / (1 + x * x)


@sinh.vjp
def _(x, out, dout):
    return dout * np.cosh(x)


@cosh.vjp
def _(x, out, dout):
    return dout * np.sinh(x)


@arcsinh.vjp
def _(x, out, dout):
    return dout / np.sqrt(x * x + 1)


@arccosh.vjp
def _(x, out, dout):
    """Infinite at x = 1."""
    return dout / np.sqrt((x - 1) * (x + 1))


@arctanh.vjp
def _(x, out, dout):
    """Infinite at x = +-1."""
    return dout / (1 - x * x)


@reciprocal.vjp
def _(x, out, dout):
    return -(dout * out * out)


@erf.vjp
def _(x, out, dout):
    return dout * (1.1283791670955126 * np.exp(-(x * x)))


@erfc.vjp
def _(x, out, dout):
    return dout * (-1.1283791670955126 * np.exp(-(x * x)))


@arctan2.vjp
def _(y, x, out, dout):
    """NaN at x = y = 0 (as MindSpore)."""
    scale = dout / (x * x + y * y)
    return unbroadcast(scale * x, y), unbroadcast(-(scale * y), x)


@logaddexp.vjp
def _(x, y, out, dout):
    return unbroadcast(dout * np.exp(x - out), x), unbroadcast(dout * np.exp(y - out), y)


@logaddexp2.vjp
def _(x, y, out, dout):
    return unbroadcast(dout * np.exp2(x - out), x), unbroadcast(dout * np.exp2(y - out), y)


@clip.vjp
def _(x, lo, hi, out, dout):
    """Passes through where lo <= x <= hi, the bounds included (as MindSpore's clamp); a
    bound gets it where it is the result (hi wherever lo > hi)."""
    if is_none(lo):
        return unbroadcast(np.where(x <= hi, dout, 0), x), None, unbroadcast(np.where(x > hi, dout, 0), hi)
    if is_none(hi):
        return unbroadcast(np.where(x >= lo, dout, 0), x), unbroadcast(np.where(x < lo, dout, 0), lo), None
    inside = np.logical_and(x >= lo, x <= hi)
    lo_wins = np.logical_and(x < lo, lo <= hi)
    hi_wins = np.logical_or(x > hi, lo > hi)
    return (unbroadcast(np.where(inside, dout, 0), x), unbroadcast(np.where(lo_wins, dout, 0), lo),
            unbroadcast(np.where(hi_wins, dout, 0), hi))


def np_clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    """np.clip(a, a_min, a_max); NumPy 2's min=/max= spellings too."""
    return clip(a, min if is_none(a_min) else a_min, max if is_none(a_max) else a_max)


alias(np.clip, np_clip)


# -- math on numbers: the same primitives; a call on constants is made now, as Python would --
def known(*values):
    """Are all these values known while compiling (no Tensor values among them)?"""
    from .. import ir
    return not ir.has_values(values)


known._adjoint_compile_time = True


def call_now(fn, *args):
    """fn(*args) while compiling (a math function on constants gives a Python float)."""
    try:
        return fn(*args)
    except Exception as exc:
        raise SourceError("%s(%s) failed while compiling: %s: %s" % (
            getattr(fn, "__name__", fn), ", ".join(repr(a) for a in args), type(exc).__name__, exc))


call_now._adjoint_compile_time = True


def math_function(fn, prim):
    """The lowering target of math.<fn>: the primitive on Tensor values, fn itself on numbers
    known while compiling."""
    def target(x):
        if known(x):
            return call_now(fn, x)
        return prim(x)
    return target


def math_function2(fn, prim):
    def target(x, y):
        if known(x, y):
            return call_now(fn, x, y)
        return prim(x, y)
    return target


def math_log(x, base=None):
    if known(x, base):
        return call_now(math.log, x) if is_none(base) else call_now(math.log, x, base)
    if is_none(base):
        return log(x)
    if known(base):
        return log(x) / call_now(math.log, base)       # (a Python float: float32 stays float32)
    return log(x) / log(base)


for _fn, _prim in [(math.sin, sin), (math.cos, cos), (math.tan, tan), (math.exp, exp), (math.sqrt, sqrt),
                   (math.tanh, tanh), (math.sinh, sinh), (math.cosh, cosh), (math.asin, arcsin),
                   (math.acos, arccos), (math.atan, arctan), (math.asinh, arcsinh), (math.acosh, arccosh),
                   (math.atanh, arctanh), (math.erf, erf), (math.erfc, erfc), (math.log1p, log1p),
                   (math.expm1, expm1), (math.log2, log2), (math.log10, log10), (math.fabs, absolute)]:
    alias(_fn, math_function(_fn, _prim))
if hasattr(math, "exp2"):
    alias(math.exp2, math_function(math.exp2, exp2))
alias(math.atan2, math_function2(math.atan2, arctan2))
alias(math.pow, math_function2(math.pow, power))
alias(math.log, math_log)


# -- forward mode (the one-argument functions get theirs from their vjp rules, transposed) -------
@arctan2.jvp
def _(y, x, out, dy, dx):
    scale = 1 / (x * x + y * y)
    if absent(dx):
        return dy * x * scale
    if absent(dy):
        return -(dx * y * scale)
    return (dy * x - dx * y) * scale


@logaddexp.jvp
def _(x, y, out, dx, dy):
    if absent(dy):
        return dx * np.exp(x - out)
    if absent(dx):
        return dy * np.exp(y - out)
    return dx * np.exp(x - out) + dy * np.exp(y - out)


@logaddexp2.jvp
def _(x, y, out, dx, dy):
    if absent(dy):
        return dx * np.exp2(x - out)
    if absent(dx):
        return dy * np.exp2(y - out)
    return dx * np.exp2(x - out) + dy * np.exp2(y - out)
