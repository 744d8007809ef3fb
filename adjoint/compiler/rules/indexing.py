"""Indexing and slicing: ``x[i]``, ``x[:, 1:3]``, ``x[idx_array]``."""
from .. import runtime as rt
from ..prims import Prim, like
from ..runtime import getitem_grad

getitem = Prim("getitem", rt.getitem, "x, *index", subscript=True, diff=("x",))
getitem_grad_p = Prim("getitem_grad", rt.getitem_grad, "g, x, *index", diff=("g",), shape=like(1), shape_only=(1,))


@getitem.vjp
def _(x, *index, out, dout):
    return getitem_grad(dout, x, *index)


@getitem_grad_p.vjp
def _(g, x, *index, out, dout):
    return rt.getitem(dout, *index)
