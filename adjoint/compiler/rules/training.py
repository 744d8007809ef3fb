"""Primitives of training layers: Parameter writes, dropout masks, softplus, the loss
coefficients and the shape helpers of the normalisation layers.

``assign`` and ``dropout_mask`` have effects (``pure=False``): never folded while compiling,
never shared by CSE, always kept by DCE, so each call of the generated code writes the
Parameter (BatchNorm's moving statistics) and draws a fresh mask. Neither is differentiated.
"""
from .. import runtime_nn as rn
from ..prims import Prim, SAME, like, nondiff
from .elementwise import sigmoid

__all__ = ["assign", "dropout_mask", "softplus", "ce_weights", "ce_denominator", "batch_axes",
           "channel_shape", "tail_axes", "is_none", "pair", "padding_arg"]

assign = Prim("assign", rn.assign, "variable, value", pure=False)
dropout_mask = Prim("dropout_mask", rn.dropout_mask, "x, p", pure=False, shape=like(0))
softplus = Prim("softplus", rn.softplus, shape=SAME)
ce_weights = Prim("ce_weights", rn.ce_weights, "target, logits, weight=None, ignore_index=-100, label_smoothing=0.0", shape=like(1))
ce_denominator = Prim("ce_denominator", rn.ce_denominator, "target, logits, weight=None, ignore_index=-100")
batch_axes = Prim("batch_axes", rn.batch_axes)
channel_shape = Prim("channel_shape", rn.channel_shape)
tail_axes = Prim("tail_axes", rn.tail_axes, "x, begin")
nondiff(assign, dropout_mask, ce_weights, ce_denominator, batch_axes, channel_shape, tail_axes)



@softplus.vjp
def _(x, out, dout):
    return dout * sigmoid(x)


def is_none(value):
    """``value is None``, decided while compiling (``x is None`` on a Tensor value is refused)."""
    return value is None


is_none._adjoint_compile_time = True


def pair(value):
    """MindSpore's int-or-tuple arguments (kernel_size, stride, dilation) as a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            return (int(value[0]),) * 2
        if len(value) == 4:             # MindSpore's (1, 1, h, w) form
            return (int(value[2]), int(value[3]))
        return tuple(int(v) for v in value)
    return (int(value), int(value))


def padding_arg(pad_mode, padding):
    """MindSpore's pad_mode/padding pair as the runtime's padding: 'same', 'valid' or
    (top, bottom, left, right)."""
    mode = pad_mode.lower() if isinstance(pad_mode, str) else pad_mode
    if mode == "same":
        return "same"
    if mode == "valid":
        return (0, 0, 0, 0)
    if isinstance(padding, int):
        return (padding,) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return (padding[0], padding[0], padding[1], padding[1])
    return padding


for _helper in (pair, padding_arg):
    _helper._adjoint_static = True


softplus.jvp_from_vjp()
