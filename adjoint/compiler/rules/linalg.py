"""Matrix products and their derivative rules."""
import operator

import numpy as np

from .. import runtime as rt
from ..prims import Prim, alias, like
from ..runtime import matmul_dx, matmul_dy

matmul = Prim("matmul", np.matmul, "x, y", infix="@")
matmul_dx_p = Prim("matmul_dx", rt.matmul_dx, "g, x, y", diff=("g", "y"), shape=like(1), shape_only=(1,))
matmul_dy_p = Prim("matmul_dy", rt.matmul_dy, "g, x, y", diff=("g", "x"), shape=like(2), shape_only=(2,))
mT = Prim("mT", rt.mT)
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
