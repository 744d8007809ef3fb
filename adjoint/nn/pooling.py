"""``MaxPool2d`` and ``AvgPool2d`` (NCHW), as MindSpore 2.x: pad_mode 'valid' (default),
'same' (output ceil(H / stride); padding never counts) or 'pad' (``padding``, ``ceil_mode``;
for the average, ``count_include_pad`` and ``divisor_override``)."""
from ..compiler import rules as P
from .cell import Cell
from .conv import _pad_mode_arg, _pair_arg, _padding_arg

__all__ = ["MaxPool2d", "AvgPool2d"]


class _Pool2d(Cell):
    def __init__(self, kernel_size, stride, pad_mode, padding, ceil_mode, data_format):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = kernel_size
        self.stride = stride
        self._kernel = _pair_arg(kernel_size, "kernel_size", name)
        self._stride = _pair_arg(stride, "stride", name)
        self.pad_mode = _pad_mode_arg(pad_mode, name)
        self.padding = _padding_arg(padding, self.pad_mode, name)
        if ceil_mode and self.pad_mode != "pad":
            raise ValueError("For '%s', 'ceil_mode' needs pad_mode='pad', but got pad_mode='%s'."
                             % (name, self.pad_mode))
        self.ceil_mode = bool(ceil_mode)
        if data_format != "NCHW":
            raise ValueError("For '%s', only data_format='NCHW' is supported, but got %r." % (name, data_format))
        self.format = data_format
        self._padding = P.padding_arg(self.pad_mode, self.padding)

    def extend_repr(self):
        return "kernel_size=%s, stride=%s, pad_mode=%s" % (self.kernel_size, self.stride, self.pad_mode.upper())


class MaxPool2d(_Pool2d):
    """The maximum over kernel_size windows: ``MaxPool2d(kernel_size=1, stride=1,
    pad_mode='valid', padding=0, dilation=1, return_indices=False, ceil_mode=False,
    data_format='NCHW')``. The gradient goes to the first maximum of each window."""

    def __init__(self, kernel_size=1, stride=1, pad_mode="valid", padding=0, dilation=1, return_indices=False,
                 ceil_mode=False, data_format="NCHW"):
        super().__init__(kernel_size, stride, pad_mode, padding, ceil_mode, data_format)
        if dilation not in (1, (1, 1)) or return_indices:
            raise ValueError("For 'MaxPool2d', dilation and return_indices are not supported "
                             "(got dilation=%r, return_indices=%r)" % (dilation, return_indices))

    def construct(self, x):
        return P.max_pool2d(x, self._kernel, self._stride, self._padding, self.ceil_mode)


class AvgPool2d(_Pool2d):
    """The mean over kernel_size windows: ``AvgPool2d(kernel_size=1, stride=1,
    pad_mode='valid', padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None, data_format='NCHW')``."""

    def __init__(self, kernel_size=1, stride=1, pad_mode="valid", padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None, data_format="NCHW"):
        super().__init__(kernel_size, stride, pad_mode, padding, ceil_mode, data_format)
        self.count_include_pad = bool(count_include_pad)
        self.divisor_override = divisor_override or 0

    def construct(self, x):
        return P.avg_pool2d(x, self._kernel, self._stride, self._padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)
