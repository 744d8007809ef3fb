"""Linear algebra and its derivative rules: matrix products, inverse, determinant, solve,
einsum, diagonals, trace, outer products and norms."""
import operator

import numpy as np

from .. import runtime as rt
from .. import runtime_ops as ro
from ..prims import Prim, alias, like, nondiff
from ..runtime import matmul_dx, matmul_dy, unbroadcast
from .elementwise import absent
from .shape import astype, dtype_of
from ..runtime import broadcast_like

matmul = Prim("matmul", np.matmul, "x, y", infix="@")
matmul_dx_p = Prim("matmul_dx", rt.matmul_dx, "g, x, y", diff=("g", "y"), shape=like(1), shape_only=(1,), multilinear=True)
matmul_dy_p = Prim("matmul_dy", rt.matmul_dy, "g, x, y", diff=("g", "x"), shape=like(2), shape_only=(2,), multilinear=True)
mT = Prim("mT", rt.mT, linear=True)
alias(np.dot, matmul)
alias(operator.matmul, matmul)   # np.dot agrees with matmul on vectors and matrices


@matmul.vjp
def _(x, y, out, dout):
    return matmul_dx(dout, x, y), matmul_dy(dout, x, y)


@matmul_dx_p.vjp
def _(g, x, y, out, dout):
    # out = g @ y.T  (bilinear in g and y)
    return np.matmul(dout, y), matmul_dy(g, dout, y)


@matmul_dy_p.vjp
def _(g, x, y, out, dout):
    # out = x.T @ g  (bilinear in g and x)
    return np.matmul(x, dout), matmul_dx(g, x, dout)


@mT.vjp
def _(x, out, dout):
    return mT(dout)


# -- inverse, determinant, solve ----------------------------------------------------------------
inv = Prim("inv", np.linalg.inv, emit="np.linalg.inv")
det = Prim("det", np.linalg.det, emit="np.linalg.det")
solve = Prim("solve", np.linalg.solve, "a, b", emit="np.linalg.solve")


@inv.vjp
def _(x, out, dout):
    """(A singular matrix fails in the forward call.)"""
    return -(rt.mT(out) @ dout @ rt.mT(out))


@det.vjp
def _(x, out, dout):
    """det(x) inv(x).T: a singular matrix fails in the gradient's inverse."""
    return np.expand_dims(dout * out, (-2, -1)) * rt.mT(np.linalg.inv(x))


@solve.vjp
def _(a, b, out, dout):
    db = np.linalg.solve(rt.mT(a), dout)
    return -matmul_dx(db, a, out), unbroadcast(db, b)


# -- einsum -----------------------------------------------------------------------------------
einsum = Prim("einsum", ro.einsum, "subscripts, *operands", diff=("operands",), multilinear=True)
einsum_grad_p = Prim("einsum_grad", ro.einsum_grad, "g, k, subscripts, *operands", diff=("g", "operands"))


def replace_at(items, k, value):
    """The tuple ``items`` with ``value`` in place of item k."""
    return tuple(items[:k]) + (value,) + tuple(items[k + 1:])


replace_at._adjoint_compile_time = True


@einsum.vjp
def _(subscripts, *operands, out, dout):
    return tuple([ro.einsum_grad(dout, k, subscripts, *operands) for k in range(len(operands))])


@einsum_grad_p.vjp
def _(g, k, subscripts, *operands, out, dout):
    # einsum_grad(g, k, ...) is the derivative of <g, einsum(operands)> in operand k: linear in
    # g and in every other operand, so its derivatives are the einsum and the other operands'
    # einsum_grad with dout put in the place of operand k.
    swapped = replace_at(operands, k, dout)
    return tuple([ro.einsum(subscripts, *swapped) if j < 0 else
                  (None if j == k else ro.einsum_grad(g, j, subscripts, *swapped))
                  for j in range(-1, len(operands))])


def np_einsum(*operands, out=None, optimize=False, **kwargs):
    return einsum(operands[0], *operands[1:])


alias(np.einsum, np_einsum)


# -- diagonals, trace, outer ------------------------------------------------------------------
diag = Prim("diag", np.diag, "x, k=0", emit="np.diag", keywords=(), diff=("x",), linear=True)
diag_grad_p = Prim("diag_grad", ro.diag_grad, "g, x, k=0", diff=("g",), shape=like(1), shape_only=(1,),
                   linear=True)
diagonal = Prim("diagonal", np.diagonal, "x, offset=0, axis1=0, axis2=1", emit="np.diagonal", diff=("x",),
                linear=True)
diagonal_grad_p = Prim("diagonal_grad", ro.diagonal_grad, "g, x, offset=0, axis1=0, axis2=1", diff=("g",),
                       shape=like(1), shape_only=(1,), linear=True)
doubled_shape = Prim("doubled_shape", ro.doubled_shape, shape_only=(0,))
nondiff(doubled_shape)


@diag.vjp
def _(x, k, out, dout):
    return ro.diag_grad(dout, x, k)


@diag_grad_p.vjp
def _(g, x, k, out, dout):
    return np.diag(dout, k)


@diagonal.vjp
def _(x, offset, axis1, axis2, out, dout):
    return ro.diagonal_grad(dout, x, offset, axis1, axis2)


@diagonal_grad_p.vjp
def _(g, x, offset, axis1, axis2, out, dout):
    return np.diagonal(dout, offset, axis1, axis2)


def np_trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return np.sum(np.diagonal(a, offset, axis1, axis2), -1)


def np_outer(a, b, out=None):
    return np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))


alias(np.trace, np_trace)
alias(np.outer, np_outer)


# -- norms --------------------------------------------------------------------------------------
def norm_kind(ord, axis):
    """Which norm np.linalg.norm computes, decided while compiling: 'fro' (the 2-norm of the
    flattened values), 'vector' or 'matrix' (axis a pair); SVD-based norms are refused."""
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        if ord in (2, -2, "nuc"):
            from ...errors import SourceError
            raise SourceError("norm with ord=%r of a matrix needs singular values, which adjoint "
                              "does not differentiate" % (ord,), hint="use ord='fro', 1, -1, inf or -inf")
        return "fro" if ord is None or ord == "fro" else "matrix"
    if ord is None or (ord == 2 and axis is not None):
        return "fro"
    if isinstance(ord, str):
        from ...errors import SourceError
        raise SourceError("norm with ord=%r needs a pair of axes" % (ord,), hint="give axis=(0, 1)")
    return "vector"


norm_kind._adjoint_compile_time = True


def np_norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm for vectors (any ord), matrices (axis a pair: 'fro', 1, -1, inf, -inf)
    and the 2-norm of all values (ord None).

    Gradient: NaN at x = 0 for the 2-norm, 0 at x = 0 for ord=1 (as MindSpore); ord=inf/-inf
    sends it to the first largest/smallest |x| (as MindSpore); matrix norms share ties of
    their max/min equally."""
    kind = norm_kind(ord, axis)
    if kind == "fro":
        return np.sqrt(np.sum(x * x, axis, keepdims=keepdims))
    if kind == "matrix":
        return matrix_norm(x, ord, axis, keepdims)
    if axis is None:
        assert np.ndim(x) == 1, "norm with an ord and no axis: adjoint computes vector norms " \
                                "(give axis=(0, 1) for a matrix norm)"
        axis = 0
    return vector_norm(x, ord, axis, keepdims)


def vector_norm(x, ord, axis, keepdims):
    if ord == 2:
        return np.sqrt(np.sum(x * x, axis, keepdims=keepdims))
    if ord == 1:
        return np.sum(np.abs(x), axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(astype(np.not_equal(x, 0), dtype_of(x)), axis, keepdims=keepdims)
    size = np.abs(x)
    if ord == float("inf") or ord == -float("inf"):
        pick = np.argmax(size, axis) if ord > 0 else np.argmin(size, axis)
        first = np.take_along_axis(size, np.expand_dims(pick, axis), axis)
        return first if keepdims else np.squeeze(first, axis)
    return np.sum(size ** ord, axis, keepdims=keepdims) ** (1.0 / ord)


def matrix_norm(x, ord, axis, keepdims):
    rows, cols = axis
    if ord == 1 or ord == -1:
        sums = np.sum(np.abs(x), rows, keepdims=True)
        out = np.max(sums, cols, keepdims=True) if ord == 1 else np.min(sums, cols, keepdims=True)
    else:
        sums = np.sum(np.abs(x), cols, keepdims=True)
        out = np.max(sums, rows, keepdims=True) if ord > 0 else np.min(sums, rows, keepdims=True)
    return out if keepdims else np.squeeze(out, (rows, cols))


alias(np.linalg.norm, np_norm)


# -- forward mode -------------------------------------------------------------------------------
@matmul.jvp
def _(x, y, out, dx, dy):
    if absent(dy):
        return np.matmul(dx, y)
    if absent(dx):
        return np.matmul(x, dy)
    return np.matmul(dx, y) + np.matmul(x, dy)


@inv.jvp
def _(x, out, dx):
    return -(out @ dx @ out)


@solve.jvp
def _(a, b, out, da, db):
    if absent(da):
        return np.linalg.solve(a, db)
    if absent(db):
        return -np.linalg.solve(a, np.matmul(da, out))
    return np.linalg.solve(a, broadcast_like(db, out) - np.matmul(da, out))


@einsum_grad_p.jvp
def _(g, k, subscripts, *operands, out, dg, doperands):
    # linear in g and in every operand but k (on which it does not depend)
    total = None if absent(dg) else ro.einsum_grad(dg, k, subscripts, *operands)
    for j in range(len(operands)):
        if j != k and not absent(doperands[j]):
            part = ro.einsum_grad(g, k, subscripts, *replace_at(operands, j, doperands[j]))
            total = part if total is None else total + part
    return total
