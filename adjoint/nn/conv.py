"""``Conv2d`` (NCHW), as MindSpore 2.x: weight (out_channels, in_channels / group, kh, kw),
optional bias, pad_mode 'same' / 'valid' / 'pad'. The construct calls ``ops.conv2d`` (a
primitive with its own derivative rules: im2col and one BLAS product)."""
import math

import numpy as np

from .. import dtype as mstype
from ..compiler import rules as P
from ..tensor import Parameter, Tensor
from .cell import Cell
from .layers import _he_std, _positive_int, _uniform, initializer

__all__ = ["Conv2d"]


def _pair_arg(value, arg, cls_name, allow_zero=False):
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not (isinstance(value, tuple) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise TypeError("For '%s', the '%s' must be an int or a tuple of two ints, but got %r."
                        % (cls_name, arg, value))
    if any(v < (0 if allow_zero else 1) for v in value):
        raise ValueError("For '%s', the '%s' must be %s, but got %r."
                         % (cls_name, arg, "non-negative" if allow_zero else "positive", value))
    return value


def _padding_arg(padding, pad_mode, cls_name):
    if isinstance(padding, int) and not isinstance(padding, bool):
        if padding < 0:
            raise ValueError("For '%s', the 'padding' must be non-negative, but got %d." % (cls_name, padding))
    elif isinstance(padding, tuple) and len(padding) in (2, 4) and all(isinstance(p, int) for p in padding):
        if any(p < 0 for p in padding):
            raise ValueError("For '%s', the 'padding' must be non-negative, but got %r." % (cls_name, padding))
    else:
        raise TypeError("For '%s', the 'padding' must be an int or a tuple of 2 or 4 ints, but got %r."
                        % (cls_name, padding))
    if pad_mode != "pad" and padding not in (0, (0, 0), (0, 0, 0, 0)):
        raise ValueError("For '%s', the 'padding' must be 0 when 'pad_mode' is not 'pad', but got "
                         "padding=%r and pad_mode='%s'." % (cls_name, padding, pad_mode))
    return padding


def _pad_mode_arg(pad_mode, cls_name):
    mode = pad_mode.lower() if isinstance(pad_mode, str) else None
    if mode not in ("same", "valid", "pad"):
        raise ValueError("For '%s', the 'pad_mode' must be one of ['same', 'valid', 'pad'], but got %r."
                         % (cls_name, pad_mode))
    return mode


class Conv2d(Cell):
    """2-D convolution over NCHW input.

    ``Conv2d(in_channels, out_channels, kernel_size, stride=1, pad_mode='same', padding=0,
    dilation=1, group=1, has_bias=False, weight_init=None, bias_init=None, data_format='NCHW',
    dtype=float32)``. By default (as MindSpore 2.x) the weight is HeUniform(negative_slope=
    sqrt(5)) and the bias uniform in ``±1/sqrt(fan_in)``; Parameters ``weight`` and ``bias``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, pad_mode="same", padding=0,
                 dilation=1, group=1, has_bias=False, weight_init=None, bias_init=None,
                 data_format="NCHW", dtype=mstype.float32):
        super().__init__()
        name = "Conv2d"
        self.in_channels = _positive_int(in_channels, "in_channels", name)
        self.out_channels = _positive_int(out_channels, "out_channels", name)
        self.kernel_size = _pair_arg(kernel_size, "kernel_size", name)
        self.stride = _pair_arg(stride, "stride", name)
        self.dilation = _pair_arg(dilation, "dilation", name)
        self.pad_mode = _pad_mode_arg(pad_mode, name)
        self.padding = _padding_arg(padding, self.pad_mode, name)
        self.group = _positive_int(group, "group", name)
        if self.in_channels % self.group or self.out_channels % self.group:
            raise ValueError("For 'Conv2d', the 'in_channels' (%d) and 'out_channels' (%d) must be "
                             "divisible by 'group' (%d)." % (self.in_channels, self.out_channels, self.group))
        if data_format != "NCHW":
            raise ValueError("For 'Conv2d', only data_format='NCHW' is supported, but got %r." % (data_format,))
        self.data_format = data_format
        if not isinstance(has_bias, bool):
            raise TypeError("For 'Conv2d', the 'has_bias' must be bool, but got %s." % type(has_bias).__name__)
        self.has_bias = has_bias
        shape = (self.out_channels, self.in_channels // self.group) + self.kernel_size
        np_dtype = mstype.to_numpy(dtype)
        self.weight_init, self.bias_init = weight_init, bias_init
        if weight_init is None:
            bound = _he_std(shape, math.sqrt(5), "HeUniform") * math.sqrt(3.0)
            weight = Tensor(_uniform(bound)(shape).astype(np_dtype))
        else:
            weight = initializer(weight_init, shape, dtype)
        self.weight = Parameter(weight, name="weight")
        self.bias = None
        if has_bias:
            if bias_init is None:
                fan_in = shape[1] * shape[2] * shape[3]
                bias = Tensor(_uniform(1.0 / math.sqrt(fan_in))((self.out_channels,)).astype(np_dtype))
            else:
                bias = initializer(bias_init, (self.out_channels,), dtype)
            self.bias = Parameter(bias, name="bias")
        self._padding = P.padding_arg(self.pad_mode, self.padding)

    def construct(self, x):
        output = P.conv2d(x, self.weight, self.stride, self._padding, self.dilation, self.group)
        if self.has_bias:
            output = P.bias_add(output, self.bias)
        return output

    def extend_repr(self):
        return ("input_channels=%d, output_channels=%d, kernel_size=%s, stride=%s, pad_mode=%s, "
                "padding=%s, dilation=%s, group=%d, has_bias=%s, weight_init=%s, bias_init=%s, format=%s"
                % (self.in_channels, self.out_channels, self.kernel_size, self.stride, self.pad_mode,
                   self.padding, self.dilation, self.group, self.has_bias,
                   _init_text(self.weight_init, "HeUniform"), _init_text(self.bias_init, None),
                   self.data_format))


def _init_text(init, default):
    if init is None:
        return default
    if isinstance(init, (Tensor, np.ndarray)):
        return "Tensor"
    return init
