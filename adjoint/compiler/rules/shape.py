"""Shape and layout primitives (reshape, transpose, concat...) and their derivative rules."""
import numpy as np

from .. import runtime as rt
from ..prims import Prim, RESHAPE, SAME, SHAPE, alias, like, nondiff
from ..runtime import unbroadcast, broadcast_like, inv_perm, index_along, put_along, concat_part, concat_part_grad

shape = Prim("shape", np.shape, attr="shape", shape=SHAPE)
ndim = Prim("ndim", np.ndim, attr="ndim")
size = Prim("size", np.size, attr="size")
dtype_of = Prim("dtype_of", lambda x: np.asarray(x).dtype, attr="dtype")
inv_perm_p = Prim("inv_perm", rt.inv_perm, "axes")
zeros_like = Prim("zeros_like", rt.zeros_like, shape=like(0))
ones_like = Prim("ones_like", rt.ones_like, shape=like(0))
alias(np.zeros_like, zeros_like)
alias(np.ones_like, ones_like)
shape_of = Prim("shape_of", np.shape, emit="np.shape", shape=SHAPE)     # np.shape(x): works on numbers too
nondiff(shape, shape_of, ndim, size, dtype_of, inv_perm_p, zeros_like, ones_like)

reshape = Prim("reshape", np.reshape, "x, shape", emit="np.reshape", keywords=(), diff=("x",), shape=RESHAPE, linear=True)
transpose = Prim("transpose", np.transpose, "x, axes=None", emit="np.transpose", keywords=(), linear=True)
expand_dims = Prim("expand_dims", np.expand_dims, "x, axis", emit="np.expand_dims", keywords=(), diff=("x",), linear=True)
squeeze = Prim("squeeze", np.squeeze, "x, axis=None", emit="np.squeeze", keywords=(), linear=True)
swapaxes = Prim("swapaxes", np.swapaxes, "x, axis1, axis2", emit="np.swapaxes", diff=("x",), linear=True)
broadcast_to = Prim("broadcast_to", np.broadcast_to, "x, shape", emit="np.broadcast_to", diff=("x",), linear=True)
concat = Prim("concat", rt.concat, "*xs, axis=0", diff=("xs",), linear=True)
stack = Prim("stack", rt.stack, "*xs, axis=0", diff=("xs",), linear=True)
astype = Prim("astype", lambda x, dtype: np.asarray(x).astype(dtype), "x, dtype", method="astype", diff=("x",), shape=SAME, linear=True)
copy = Prim("copy", np.copy, emit="np.copy", shape=SAME, linear=True)
unbroadcast_p = Prim("unbroadcast", rt.unbroadcast, "g, x", diff=("g",), shape=like(1), shape_only=(1,), linear=True)
broadcast_like_p = Prim("broadcast_like", rt.broadcast_like, "g, x", diff=("g",), shape=like(1), shape_only=(1,), linear=True)
index_along_p = Prim("index_along", rt.index_along, "g, i, axis=0", diff=("g",), linear=True)
put_along_p = Prim("put_along", rt.put_along, "g, x, i, axis=0", diff=("g",), shape=like(1), shape_only=(1,), linear=True)
concat_part_p = Prim("concat_part", rt.concat_part, "g, k, axis, *xs", diff=("g",), linear=True)
concat_part_grad_p = Prim("concat_part_grad", rt.concat_part_grad, "g, whole, k, axis, *xs", diff=("g",), shape=like(1), shape_only=(1,), linear=True)
cast_like = Prim("cast_like", rt.cast_like, "g, x", diff=("g",), shape=SAME, linear=True)
identity = Prim("identity", rt.identity, shape=SAME, linear=True)


@reshape.vjp
def _(x, shape_, out, dout):
    return np.reshape(dout, np.shape(x))


@transpose.vjp
def _(x, axes, out, dout):
    return np.transpose(dout, inv_perm(axes))


@expand_dims.vjp
def _(x, axis, out, dout):
    return np.reshape(dout, np.shape(x))


@squeeze.vjp
def _(x, axis, out, dout):
    return np.reshape(dout, np.shape(x))


@swapaxes.vjp
def _(x, axis1, axis2, out, dout):
    return np.swapaxes(dout, axis1, axis2)


@broadcast_to.vjp
def _(x, shape_, out, dout):
    return unbroadcast(dout, x)


@concat.vjp
def _(*xs, axis, out, dout):
    return tuple([concat_part(dout, k, axis, *xs) for k in range(len(xs))])


@stack.vjp
def _(*xs, axis, out, dout):
    return tuple([index_along(dout, k, axis) for k in range(len(xs))])


@astype.vjp
def _(x, dtype, out, dout):
    return rt.cast_like(dout, x)


@copy.vjp
def _(x, out, dout):
    return dout


@identity.vjp
def _(x, out, dout):
    return dout


@unbroadcast_p.vjp
def _(g, x, out, dout):
    return broadcast_like(dout, g)


@broadcast_like_p.vjp
def _(g, x, out, dout):
    return unbroadcast(dout, g)


@index_along_p.vjp
def _(g, i, axis, out, dout):
    return put_along(dout, g, i, axis)


@put_along_p.vjp
def _(g, x, i, axis, out, dout):
    return index_along(dout, i, axis)


@concat_part_p.vjp
def _(g, k, axis, *xs, out, dout):
    return concat_part_grad(dout, g, k, axis, *xs)


@concat_part_grad_p.vjp
def _(g, whole, k, axis, *xs, out, dout):
    return concat_part(dout, k, axis, *xs)


@cast_like.vjp
def _(g, x, out, dout):
    return rt.cast_like(dout, g)


def np_concatenate(arrays, axis=0):
    return concat(*arrays, axis=axis)


def np_stack(arrays, axis=0):
    return stack(*arrays, axis=axis)


alias(np.concatenate, np_concatenate)
alias(np.stack, np_stack)
