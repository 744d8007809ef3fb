"""Indexing, slicing and gathering: ``x[i]``, ``x[:, 1:3]``, ``x[idx_array]``, np.take,
np.take_along_axis, and np.sort (a gather at the sorting permutation)."""
import numpy as np

from .. import runtime as rt
from .. import runtime_ops as ro
from ..prims import Prim, alias, like, nondiff
from ..runtime import getitem_grad, unbroadcast

getitem = Prim("getitem", rt.getitem, "x, *index", subscript=True, diff=("x",), linear=True)
getitem_grad_p = Prim("getitem_grad", rt.getitem_grad, "g, x, *index", diff=("g",), shape=like(1), shape_only=(1,), linear=True)
take_along_axis = Prim("take_along_axis", ro.take_along_axis, "x, indices, axis", diff=("x",), linear=True)
take_along_axis_grad_p = Prim("take_along_axis_grad", ro.take_along_axis_grad, "g, x, indices, axis", diff=("g",),
                              shape=like(1), shape_only=(1,), linear=True)
setitem = Prim("setitem", rt.setitem, "x, v, *index", diff=("x", "v"), shape=like(0), linear=True)
check_unshared = Prim("check_unshared", rt.check_unshared, "x, names, index, *others", pure=False)
# acc + getitem_grad(g, acc, *index), in place: made only by simplify from a sum of two scatters
# into fresh arrays, so acc is never read by anything else
scatter_add_p = Prim("scatter_add", rt.scatter_add, "acc, g, *index", diff=("acc", "g"), shape=like(0),
                     linear=True)
argsort = Prim("argsort", np.argsort, "x, axis=-1, kind=None", emit="np.argsort")
nondiff(argsort, check_unshared)


@getitem.vjp
def _(x, *index, out, dout):
    return getitem_grad(dout, x, *index)


@setitem.vjp
def _(x, v, *index, out, dout):
    # (the slot's old value is overwritten: no gradient to x there)
    return rt.setitem(dout, 0.0, *index), unbroadcast(rt.getitem(dout, *index), v)


@getitem_grad_p.vjp
def _(g, x, *index, out, dout):
    # (g may be broadcast into the rows: simplify scatters a full reduction's number as it is)
    return unbroadcast(rt.getitem(dout, *index), g)


@scatter_add_p.vjp
def _(acc, g, *index, out, dout):
    return dout, unbroadcast(rt.getitem(dout, *index), g)


@take_along_axis.vjp
def _(x, indices, axis, out, dout):
    return ro.take_along_axis_grad(dout, x, indices, axis)


@take_along_axis_grad_p.vjp
def _(g, x, indices, axis, out, dout):
    return ro.take_along_axis(dout, indices, axis)


def np_take_along_axis(arr, indices, axis=-1):
    return take_along_axis(arr, indices, axis)


def take_index(axis, indices):
    """The index tuple that takes ``indices`` along ``axis``."""
    if axis >= 0:
        return (slice(None),) * axis + (indices,)
    return (Ellipsis, indices) + (slice(None),) * (-axis - 1)


take_index._adjoint_compile_time = True


def np_take(a, indices, axis=None, out=None, mode="raise"):
    """np.take: indexing (of the flattened array when axis is None); mode 'wrap'/'clip' fold
    the indices first.

    Gradient: scattered back to the elements taken; one taken twice gets both."""
    if mode == "wrap":
        indices = np.mod(indices, np.shape(a)[axis] if axis is not None else np.size(a))
    elif mode == "clip":
        indices = np.clip(indices, 0, (np.shape(a)[axis] if axis is not None else np.size(a)) - 1)
    if axis is None:
        return getitem(np.reshape(a, (-1,)), indices)
    return getitem(a, *take_index(axis, indices))


def np_sort(a, axis=-1, kind=None, order=None, stable=None):
    """The values at the sorting permutation (a stable sort).

    Gradient: each element's goes back from the position it was sorted to; tied elements keep
    their order (as MindSpore)."""
    if axis is None:
        a = np.reshape(a, (-1,))
        axis = -1
    return take_along_axis(a, np.argsort(a, axis, "stable"), axis)


def sort_descending(a, axis=-1):
    """Sorted largest first (a stable sort of -a).

    Gradient: tied elements keep their order (as MindSpore)."""
    order = np.argsort(-a, axis, "stable")
    return take_along_axis(a, order, axis), order


alias(np.take_along_axis, np_take_along_axis)
alias(np.take, np_take)
alias(np.sort, np_sort)
