"""Elementwise primitives (broadcasting) and their derivative rules."""
import operator

import numpy as np

from .. import runtime as rt
from ..prims import BROADCAST, Prim, SAME, alias, like, nondiff
from ..runtime import broadcast_like, unbroadcast, tie_mask

add = Prim("add", np.add, "x, y", infix="+", shape=BROADCAST, commutative=True, linear=True)
sub = Prim("sub", np.subtract, "x, y", infix="-", shape=BROADCAST, linear=True)
mul = Prim("mul", np.multiply, "x, y", infix="*", shape=BROADCAST, commutative=True)
truediv = Prim("truediv", np.true_divide, "x, y", infix="/", shape=BROADCAST)
power = Prim("power", np.power, "x, y", infix="**", shape=BROADCAST)
negative = Prim("negative", np.negative, "x", unary="-", shape=SAME, linear=True)
maximum = Prim("maximum", np.maximum, "x, y", emit="np.maximum", shape=BROADCAST, commutative=True)
minimum = Prim("minimum", np.minimum, "x, y", emit="np.minimum", shape=BROADCAST, commutative=True)
where = Prim("where", np.where, "cond, x, y", emit="np.where", diff=("x", "y"))

exp = Prim("exp", np.exp, emit="np.exp", shape=SAME)
log = Prim("log", np.log, emit="np.log", shape=SAME)
sin = Prim("sin", np.sin, emit="np.sin", shape=SAME)
cos = Prim("cos", np.cos, emit="np.cos", shape=SAME)
tan = Prim("tan", np.tan, emit="np.tan", shape=SAME)
tanh = Prim("tanh", np.tanh, emit="np.tanh", shape=SAME)
sqrt = Prim("sqrt", np.sqrt, emit="np.sqrt", shape=SAME)
square = Prim("square", np.square, emit="np.square", shape=SAME)
absolute = Prim("absolute", np.absolute, emit="np.abs", shape=SAME)
sigmoid = Prim("sigmoid", rt.sigmoid, emit="sigmoid", shape=SAME)
relu = Prim("relu", rt.relu, emit="relu", shape=SAME)
floor_divide = Prim("floor_divide", np.floor_divide, "x, y", infix="//", shape=BROADCAST)
mod = Prim("mod", np.mod, "x, y", infix="%", shape=BROADCAST)
identity_p = Prim("pos", rt.identity, emit="identity", shape=SAME, linear=True)

for _op, _prim in [(operator.add, add), (operator.sub, sub), (operator.mul, mul),
                   (operator.truediv, truediv), (operator.neg, negative),
                   (np.abs, absolute), (abs, absolute), (np.divide, truediv),
                   (operator.matmul, None), (operator.pos, identity_p)]:
    if _prim is None:
        continue
    alias(_op, _prim)


@add.vjp
def _(x, y, out, dout):
    return unbroadcast(dout, x), unbroadcast(dout, y)


@sub.vjp
def _(x, y, out, dout):
    return unbroadcast(dout, x), unbroadcast(-dout, y)


@mul.vjp
def _(x, y, out, dout):
    return unbroadcast(dout * y, x), unbroadcast(dout * x, y)


@truediv.vjp
def _(x, y, out, dout):
    return unbroadcast(dout / y, x), unbroadcast(-dout * out / y, y)


@power.vjp
def _(x, y, out, dout):
    """In the exponent: out * log(x) where x > 0, 0 elsewhere."""
    return (unbroadcast(dout * y * x ** (y - 1), x),
            unbroadcast(dout * out * np.log(np.where(x > 0, x, 1)), y))


ipow = Prim("ipow", rt.ipow, "x, n", diff=("x",), shape=SAME)


def small_int_exponent(y):
    """``x ** 2`` .. ``x ** 4`` with a constant exponent become multiplications."""
    return type(y) is int and 2 <= y <= 4


small_int_exponent._adjoint_compile_time = True


def python_pow(x, y):
    if small_int_exponent(y) and y == 2:
        return mul(x, x)                 # shared with other x * x by CSE
    if small_int_exponent(y):
        return ipow(x, y)
    return power(x, y)


alias(operator.pow, python_pow)


@ipow.vjp
def _(x, n, out, dout):
    return dout * (n * x) if n == 2 else dout * (n * python_pow(x, n - 1))


@negative.vjp
def _(x, out, dout):
    return -dout


@maximum.vjp
def _(x, y, out, dout):
    """Split 1/2-1/2 on ties (as MindSpore)."""
    mask = tie_mask(x, y, out)
    return unbroadcast(dout * mask, x), unbroadcast(dout * (1 - mask), y)


@minimum.vjp
def _(x, y, out, dout):
    """Split 1/2-1/2 on ties (as MindSpore)."""
    mask = tie_mask(x, y, out)
    return unbroadcast(dout * mask, x), unbroadcast(dout * (1 - mask), y)


@where.vjp
def _(cond, x, y, out, dout):
    """None to the condition."""
    return unbroadcast(np.where(cond, dout, 0), x), unbroadcast(np.where(cond, 0, dout), y)


@identity_p.vjp
def _(x, out, dout):
    return dout


@exp.vjp
def _(x, out, dout):
    return dout * out


@log.vjp
def _(x, out, dout):
    """Infinite at x = 0."""
    return dout / x


@sin.vjp
def _(x, out, dout):
    return dout * np.cos(x)


@cos.vjp
def _(x, out, dout):
    return -(dout * np.sin(x))


@tan.vjp
def _(x, out, dout):
    return dout * (1 + out * out)


@tanh.vjp
def _(x, out, dout):
    return dout * (1 - out * out)


@sqrt.vjp
def _(x, out, dout):
    """Infinite at x = 0 (as MindSpore)."""
    return dout / (2 * out)


@square.vjp
def _(x, out, dout):
    return dout * (2 * x)


@absolute.vjp
def _(x, out, dout):
    """0 at x = 0 (as MindSpore)."""
    return dout * np.sign(x)


@sigmoid.vjp
def _(x, out, dout):
    return dout * out * (1 - out)


positive = Prim("positive", rt.positive, shape=SAME)


@relu.vjp
def _(x, out, dout):
    """0 at x = 0 (as MindSpore)."""
    return dout * positive(x)


# Comparisons and friends carry no gradient.
less = Prim("less", np.less, "x, y", infix="<", shape=BROADCAST, boolean=True)
less_equal = Prim("less_equal", np.less_equal, "x, y", infix="<=", shape=BROADCAST, boolean=True)
greater = Prim("greater", np.greater, "x, y", infix=">", shape=BROADCAST, boolean=True)
greater_equal = Prim("greater_equal", np.greater_equal, "x, y", infix=">=", shape=BROADCAST, boolean=True)
equal = Prim("equal", np.equal, "x, y", infix="==", shape=BROADCAST, commutative=True, boolean=True)
not_equal = Prim("not_equal", np.not_equal, "x, y", infix="!=", shape=BROADCAST, commutative=True, boolean=True)
logical_and = Prim("logical_and", np.logical_and, "x, y", emit="np.logical_and", shape=BROADCAST, commutative=True, boolean=True)
logical_or = Prim("logical_or", np.logical_or, "x, y", emit="np.logical_or", shape=BROADCAST, commutative=True, boolean=True)
logical_not = Prim("logical_not", np.logical_not, emit="np.logical_not", shape=SAME, boolean=True)
sign = Prim("sign", np.sign, emit="np.sign", shape=SAME)
floor = Prim("floor", np.floor, emit="np.floor", shape=SAME)
tie = Prim("tie_mask", rt.tie_mask, "x, y, out", shape=like(2))
nondiff(floor_divide, mod, less, less_equal, greater, greater_equal, equal, not_equal, logical_and, logical_or,
        logical_not, sign, floor, tie, positive)
for _op, _prim in [(operator.lt, less), (operator.le, less_equal), (operator.gt, greater),
                   (operator.ge, greater_equal), (operator.eq, equal), (operator.ne, not_equal)]:
    alias(_op, _prim)
alias(operator.floordiv, floor_divide)
alias(operator.mod, mod)


# -- forward mode (jvp rules: the tangent of the result from the arguments' tangents) ----------
# A tangent is None where an argument has none (known while compiling: ``absent``). A result's
# tangent has the result's shape: where broadcasting made the result larger than the one
# argument with a tangent, broadcast_like makes it so (dropped when the shapes are the same).

def absent(tangent):
    """Has this argument no tangent? (Decided while compiling.)"""
    return tangent is None


absent._adjoint_compile_time = True

# Functions of one array applied element by element: the Jacobian is diagonal, so the vjp rule
# with the tangent as its ``dout`` is the jvp rule too
for _prim in (exp, log, sin, cos, tan, tanh, sqrt, square, absolute, sigmoid, relu, ipow):
    _prim.jvp_from_vjp()


@add.jvp
def _(x, y, out, dx, dy):
    if absent(dy):
        return broadcast_like(dx, out)
    if absent(dx):
        return broadcast_like(dy, out)
    return dx + dy


@sub.jvp
def _(x, y, out, dx, dy):
    if absent(dy):
        return broadcast_like(dx, out)
    if absent(dx):
        return broadcast_like(-dy, out)
    return dx - dy


@mul.jvp
def _(x, y, out, dx, dy):
    if absent(dy):
        return dx * y
    if absent(dx):
        return x * dy
    return dx * y + x * dy


@truediv.jvp
def _(x, y, out, dx, dy):
    if absent(dy):
        return broadcast_like(dx / y, out)
    if absent(dx):
        return -(dy * out) / y
    return (dx - dy * out) / y


@power.jvp
def _(x, y, out, dx, dy):
    if absent(dy):
        return dx * (y * x ** (y - 1))
    part = dy * (out * np.log(np.where(x > 0, x, 1)))
    if absent(dx):
        return part
    return dx * (y * x ** (y - 1)) + part


@maximum.jvp
def _(x, y, out, dx, dy):
    mask = tie_mask(x, y, out)
    if absent(dy):
        return dx * mask
    if absent(dx):
        return dy * (1 - mask)
    return dx * mask + dy * (1 - mask)


@minimum.jvp
def _(x, y, out, dx, dy):
    mask = tie_mask(x, y, out)
    if absent(dy):
        return dx * mask
    if absent(dx):
        return dy * (1 - mask)
    return dx * mask + dy * (1 - mask)


@where.jvp
def _(cond, x, y, out, dx, dy):
    if absent(dy):
        return broadcast_like(np.where(cond, dx, 0), out)
    if absent(dx):
        return broadcast_like(np.where(cond, 0, dy), out)
    return broadcast_like(np.where(cond, dx, dy), out)
