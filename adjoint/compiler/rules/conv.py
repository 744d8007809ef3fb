"""Convolution, pooling and bias primitives (NCHW) and their derivative rules.

The implementations are in ``runtime_conv.py`` (im2col and one BLAS product; no Python loop
over pixels). Every rule is made of primitives of this family, each linear in the argument it
differentiates, so gradients of gradients work: the input gradient of a convolution is a
transposed convolution (``conv2d_grad_input``), whose own gradients are a convolution and a
weight gradient, and so on.
"""
from .. import runtime_conv as rc
from ..prims import Prim, like

__all__ = ["conv2d", "conv2d_grad_input", "conv2d_grad_weight", "max_pool2d", "max_pool2d_grad",
           "max_pool2d_pick", "avg_pool2d", "avg_pool2d_grad", "bias_add", "bias_add_grad", "bias_broadcast"]

_GEOMETRY = "stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1"
_POOL = "kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0), ceil_mode=False"
_AVG = _POOL + ", count_include_pad=True, divisor_override=0"

conv2d = Prim("conv2d", rc.conv2d, "x, w, " + _GEOMETRY, multilinear=True)
conv2d_grad_input = Prim("conv2d_grad_input", rc.conv2d_grad_input, "g, x, w, " + _GEOMETRY, diff=("g", "w"), shape=like(1), shape_only=(1,), multilinear=True)
conv2d_grad_weight = Prim("conv2d_grad_weight", rc.conv2d_grad_weight, "g, x, w, " + _GEOMETRY, diff=("g", "x"), shape=like(2), shape_only=(2,), multilinear=True)
max_pool2d = Prim("max_pool2d", rc.max_pool2d, "x, " + _POOL)
max_pool2d_grad = Prim("max_pool2d_grad", rc.max_pool2d_grad, "g, x, out, " + _POOL, diff=("g",), shape=like(1), linear=True)
max_pool2d_pick = Prim("max_pool2d_pick", rc.max_pool2d_pick, "g, x, out, " + _POOL, diff=("g",), linear=True)
avg_pool2d = Prim("avg_pool2d", rc.avg_pool2d, "x, " + _AVG, linear=True)
avg_pool2d_grad = Prim("avg_pool2d_grad", rc.avg_pool2d_grad, "g, x, " + _AVG, diff=("g",), shape=like(1), shape_only=(1,), linear=True)
bias_add = Prim("bias_add", rc.bias_add, "x, b", shape=like(0), linear=True)
bias_add_grad = Prim("bias_add_grad", rc.bias_add_grad, "g", linear=True)
bias_broadcast = Prim("bias_broadcast", rc.bias_broadcast, "d, g", diff=("d",), shape=like(1), shape_only=(1,), linear=True)



@conv2d.vjp
def _(x, w, stride, padding, dilation, groups, out, dout):
    # the weight gradient first: it takes the windows conv2d kept, freeing them before the
    # input gradient allocates its own
    dw = conv2d_grad_weight(dout, x, w, stride, padding, dilation, groups)
    return conv2d_grad_input(dout, x, w, stride, padding, dilation, groups), dw


@conv2d_grad_input.vjp
def _(g, x, w, stride, padding, dilation, groups, out, dout):
    # out = conv_transpose(g, w): linear in g (adjoint: the convolution) and in w
    return (conv2d(dout, w, stride, padding, dilation, groups),
            conv2d_grad_weight(g, dout, w, stride, padding, dilation, groups))


@conv2d_grad_weight.vjp
def _(g, x, w, stride, padding, dilation, groups, out, dout):
    # out = rows(g).T @ im2col(x): linear in g (adjoint: convolve x with dout) and in x
    return (conv2d(x, dout, stride, padding, dilation, groups),
            conv2d_grad_input(g, x, dout, stride, padding, dilation, groups))


@max_pool2d.vjp
def _(x, kernel, stride, padding, ceil_mode, out, dout):
    """To the first maximum of each window (as MindSpore)."""
    return max_pool2d_grad(dout, x, out, kernel, stride, padding, ceil_mode)


@max_pool2d_grad.vjp
def _(g, x, out_, kernel, stride, padding, ceil_mode, out, dout):
    return max_pool2d_pick(dout, x, out_, kernel, stride, padding, ceil_mode)


@max_pool2d_pick.vjp
def _(g, x, out_, kernel, stride, padding, ceil_mode, out, dout):
    return max_pool2d_grad(dout, x, out_, kernel, stride, padding, ceil_mode)


@avg_pool2d.vjp
def _(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, out, dout):
    return avg_pool2d_grad(dout, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)


@avg_pool2d_grad.vjp
def _(g, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, out, dout):
    return avg_pool2d(dout, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)


@bias_add.vjp
def _(x, b, out, dout):
    return dout, bias_add_grad(dout)


@bias_add_grad.vjp
def _(g, out, dout):
    return bias_broadcast(dout, g)


@bias_broadcast.vjp
def _(d, g, out, dout):
    return bias_add_grad(dout)
