"""NumPy convolution and pooling (NCHW) that generated code calls by name.

Each function is a primitive's implementation (``rules/conv.py`` gives the derivatives).
Convolution is im2col then one BLAS matrix product: the windows of the (padded) input are
copied into a matrix with one row per output pixel, ``(N*OH*OW, kh*kw*C)``, one strided copy
per kernel offset (never a Python loop over pixels), and multiplied by the weight matrix.
Pooling takes the maximum or the sum of the ``kh*kw`` strided slices of the input, one NumPy
call per kernel offset.

Outputs are NCHW arrays whose memory is laid out NHWC (a transposed view of the matrix
product's result): the next layer reads them through strides, and gradients flowing back
have the same layout, so the reverse products need no copies either.

The window matrix of a convolution's input is remembered for as long as that input array
lives (a weak reference, at most a few entries): the weight gradient of the same convolution,
later in the same generated function, reuses it instead of copying the windows again, as
hand-written code keeps its im2col matrix from the forward pass for the backward one.

Geometry arguments are tuples: ``stride``, ``dilation`` and ``kernel`` are ``(h, w)``;
``padding`` is ``(top, bottom, left, right)`` or the string ``'same'`` (TensorFlow's rule,
as MindSpore: the output has ``ceil(H / stride)`` rows, the odd padding row at the bottom).
"""
import weakref
from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import as_strided


def _shape(x):
    """The shape of an array, or a shape given as a tuple (saved instead of the array)."""
    return x if type(x) is tuple else np.shape(x)


def same_pads(size, kernel, stride, dilation):
    """TensorFlow/MindSpore 'same' padding of one axis: (before, after)."""
    out = -(-size // stride)
    need = max(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - size)
    return need // 2, need - need // 2


def resolve_padding(padding, hw, kernel, stride, dilation=(1, 1)):
    """(top, bottom, left, right) for a padding that may be 'same' or 'valid'."""
    if padding == "same":
        return same_pads(hw[0], kernel[0], stride[0], dilation[0]) + same_pads(hw[1], kernel[1], stride[1],
                                                                                dilation[1])
    if padding == "valid":
        return (0, 0, 0, 0)
    return tuple(padding)


def _out_size(size, kernel, stride, dilation, before, after, ceil_mode=False):
    span = size + before + after - dilation * (kernel - 1) - 1
    if span < 0:
        raise ValueError("the kernel (%d, dilation %d) is larger than the padded input (%d)"
                         % (kernel, dilation, size + before + after))
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + before:        # the last window must start inside the input
        out -= 1
    return out


def _nhwc_empty(shape, dtype):
    """An uninitialised NCHW array whose memory is laid out NHWC."""
    n, c, h, w = shape
    return np.empty((n, h, w, c), dtype).transpose(0, 3, 1, 2)


def _padded(x, pads, value):
    """``x`` with ``pads`` rows/columns of ``value`` around it (itself when no padding)."""
    top, bottom, left, right = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = _nhwc_empty((n, c, h + top + bottom, w + left + right), x.dtype)
    out.fill(value)
    out[:, :, top:top + h, left:left + w] = x
    return out


def _geometry(shape, kernel, stride, padding, dilation, ceil_mode=False):
    """Padding, output size and extra (ceil-mode) padding for an NCHW input of ``shape``."""
    h, w = shape[2], shape[3]
    pads = resolve_padding(padding, (h, w), kernel, stride, dilation)
    oh = _out_size(h, kernel[0], stride[0], dilation[0], pads[0], pads[1], ceil_mode)
    ow = _out_size(w, kernel[1], stride[1], dilation[1], pads[2], pads[3], ceil_mode)
    # rows/columns beyond the padding that a ceil-mode window reaches
    extra_h = max(0, (oh - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - (h + pads[0] + pads[1]))
    extra_w = max(0, (ow - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1 - (w + pads[2] + pads[3]))
    return pads, oh, ow, extra_h, extra_w


def _offsets(kernel, stride, dilation, oh, ow):
    """For each kernel offset (i, j), in row-major order: the slices of the padded input that
    the offset sees across all output pixels."""
    for i in range(kernel[0]):
        rows = slice(i * dilation[0], i * dilation[0] + (oh - 1) * stride[0] + 1, stride[0])
        for j in range(kernel[1]):
            cols = slice(j * dilation[1], j * dilation[1] + (ow - 1) * stride[1] + 1, stride[1])
            yield i, j, rows, cols


# -- convolution ------------------------------------------------------------------------------
def _im2col(xp, kernel, stride, dilation, oh, ow):
    """The windows of the padded input as a matrix (N*OH*OW, kh*kw*C), columns ordered
    (i, j, c). With NHWC memory and several channels, one strided copy (a window's row of
    kw*C values is contiguous, so NumPy copies long runs); otherwise one copy per kernel
    offset."""
    n, c = xp.shape[0], xp.shape[1]
    kh, kw = kernel
    cols = np.empty((n, oh, ow, kh, kw, c), xp.dtype)
    s_n, s_c, s_h, s_w = xp.strides
    if c > 1 and s_c == xp.itemsize:
        view = as_strided(xp, cols.shape, (s_n, s_h * stride[0], s_w * stride[1], s_h * dilation[0],
                                           s_w * dilation[1], s_c), writeable=False)
        np.copyto(cols, view)
    else:
        for i, j, rows, cs in _offsets(kernel, stride, dilation, oh, ow):
            cols[:, :, :, i, j, :] = xp[:, :, rows, cs].transpose(0, 2, 3, 1)
    return cols.reshape(n * oh * ow, kh * kw * c)


def _col2im(dcols, xshape, kernel, stride, dilation, pads, oh, ow, dtype):
    """The adjoint of _im2col: add every row's window back where it came from."""
    n, c, h, w = xshape
    top, bottom, left, right = pads
    kh, kw = kernel
    hp = max(h + top + bottom, (oh - 1) * stride[0] + dilation[0] * (kh - 1) + 1)
    wp = max(w + left + right, (ow - 1) * stride[1] + dilation[1] * (kw - 1) + 1)
    dxp = np.zeros((n, hp, wp, c), dtype)           # NHWC memory
    d6 = dcols.reshape(n, oh, ow, kh, kw, c)
    for i, j, rows, cs in _offsets(kernel, stride, dilation, oh, ow):
        dxp[:, rows, cs, :] += d6[:, :, :, i, j, :]
    return dxp[:, top:top + h, left:left + w, :].transpose(0, 3, 1, 2)


_WINDOWS = OrderedDict()      # id(x) -> (weakref to x, geometry, [im2col matrix per group])
_WINDOWS_MAX = 8


def _remember(x, key, cols):
    ident = id(x)
    try:
        ref = weakref.ref(x, lambda _, ident=ident: _WINDOWS.pop(ident, None))
    except TypeError:
        return
    _WINDOWS.pop(ident, None)
    _WINDOWS[ident] = (ref, key, cols)          # the newest last
    while len(_WINDOWS) > _WINDOWS_MAX:
        try:
            _WINDOWS.popitem(last=False)
        except KeyError:                        # emptied meanwhile (another thread, a callback)
            break


def _recall(x, key):
    """The windows conv2d copied from x, once (they are forgotten when taken)."""
    hit = _WINDOWS.get(id(x))
    if hit is not None and hit[0]() is x and hit[1] == key:
        del _WINDOWS[id(x)]
        return hit[2]
    return None


def _weight_matrix(w):
    """(O, C, kh, kw) -> (O, kh*kw*C), the column order of _im2col."""
    o = w.shape[0]
    return w.transpose(0, 2, 3, 1).reshape(o, -1)


def _rows(g):
    """(N, O, OH, OW) -> (N*OH*OW, O): free when g's memory is NHWC."""
    n, o, oh, ow = g.shape
    return g.transpose(0, 2, 3, 1).reshape(n * oh * ow, o)


def _groups(total, groups):
    size = total // groups
    return [slice(k * size, (k + 1) * size) for k in range(groups)]


def conv2d(x, w, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """2-D convolution (cross-correlation, as every framework) of x (N, C, H, W) with w
    (O, C/groups, kh, kw): (N, O, OH, OW)."""
    x = np.asarray(x)
    w = np.asarray(w)
    n = x.shape[0]
    o, kernel = w.shape[0], w.shape[2:]
    pads, oh, ow, _, _ = _geometry(x.shape, kernel, stride, padding, dilation)
    xp = _padded(x, pads, 0)
    dtype = np.result_type(x.dtype, w.dtype)
    if groups == 1:
        cols = [_im2col(xp, kernel, stride, dilation, oh, ow)]
        out = cols[0] @ _weight_matrix(w).T
    else:
        out = np.empty((n * oh * ow, o), dtype)
        cols = []
        for ci, co in zip(_groups(x.shape[1], groups), _groups(o, groups)):
            cols.append(_im2col(xp[:, ci], kernel, stride, dilation, oh, ow))
            out[:, co] = cols[-1] @ _weight_matrix(w[co]).T
    _remember(x, _window_key(x, kernel, stride, padding, dilation, groups), cols)
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


def _window_key(x, kernel, stride, padding, dilation, groups):
    return (x.shape, x.dtype, x.strides, tuple(kernel), tuple(stride), padding, tuple(dilation), groups)


def _transposed_pads(xshape, kernel, dilation, pads, oh, ow):
    """The padding of g with which a stride-1 convolution by the flipped kernel gives the
    gradient of x directly, or None when it would be negative (then: scatter)."""
    out = []
    for size, k, d, before, n_out in ((xshape[2], kernel[0], dilation[0], pads[0], oh),
                                      (xshape[3], kernel[1], dilation[1], pads[2], ow)):
        lo = d * (k - 1) - before
        hi = size + d * (k - 1) - n_out - lo
        if lo < 0 or hi < 0:
            return None
        out += [lo, hi]
    return tuple(out)


def _flipped(w, groups):
    """(O, C/groups, kh, kw) -> (C, O/groups, kh, kw), spatially flipped: the kernel of the
    transposed convolution."""
    o, cg = w.shape[0], w.shape[1]
    og = o // groups
    t = w.reshape(groups, og, cg, *w.shape[2:]).swapaxes(1, 2)[..., ::-1, ::-1]
    return t.reshape(groups * cg, og, *w.shape[2:])


def conv2d_grad_input(g, x, w, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """The gradient of conv2d with respect to x (of which only the shape is used): the
    transposed convolution of g with w. Linear in g and in w."""
    xshape = _shape(x)
    w = np.asarray(w)
    g = np.asarray(g)
    o, kernel = w.shape[0], w.shape[2:]
    pads, oh, ow, _, _ = _geometry(xshape, kernel, stride, padding, dilation)
    dtype = np.result_type(g.dtype, w.dtype)
    if tuple(stride) == (1, 1):
        tpads = _transposed_pads(xshape, kernel, dilation, pads, oh, ow)
        if tpads is not None:     # a convolution of g with the flipped kernel: im2col + one product
            return conv2d(g, _flipped(w, groups), (1, 1), tpads, dilation, groups)
    rows = _rows(g)
    if groups == 1:
        return _col2im(rows @ _weight_matrix(w), xshape, kernel, stride, dilation, pads, oh, ow, dtype)
    parts = []
    for ci, co in zip(_groups(xshape[1], groups), _groups(o, groups)):
        sub = (xshape[0], ci.stop - ci.start) + tuple(xshape[2:])
        parts.append(_col2im(rows[:, co] @ _weight_matrix(w[co]), sub, kernel, stride, dilation, pads,
                             oh, ow, dtype))
    return np.concatenate(parts, axis=1)


def conv2d_grad_weight(g, x, w, stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """The gradient of conv2d with respect to w (of which only the shape is used):
    rows(g).T @ im2col(x). Linear in g and in x."""
    x = np.asarray(x)
    g = np.asarray(g)
    wshape = _shape(w)
    o, cg, kh, kw = wshape
    kernel = (kh, kw)
    pads, oh, ow, _, _ = _geometry(x.shape, kernel, stride, padding, dilation)
    cols = _recall(x, _window_key(x, kernel, stride, padding, dilation, groups))
    if cols is None:
        xp = _padded(x, pads, 0)
        cols = [_im2col(xp[:, ci], kernel, stride, dilation, oh, ow) for ci in _groups(x.shape[1], groups)]
    rows = _rows(g)
    if groups == 1:
        dw = rows.T @ cols[0]
        return dw.reshape(o, kh, kw, cg).transpose(0, 3, 1, 2)
    out = np.empty((o, cg, kh, kw), np.result_type(g.dtype, x.dtype))
    for k, co in enumerate(_groups(o, groups)):
        dw = rows[:, co].T @ cols[k]
        out[co] = dw.reshape(co.stop - co.start, kh, kw, cg).transpose(0, 3, 1, 2)
    return out


# -- pooling ----------------------------------------------------------------------------------
# Pooling works on the channels-last view of its input (x.transpose(0, 2, 3, 1)): for this
# module's NHWC-laid-out arrays the slices of one kernel row then read whole (W, C) rows of
# memory at once.
def _pool_setup(x, kernel, stride, padding, ceil_mode, fill):
    pads, oh, ow, extra_h, extra_w = _geometry(np.shape(x), kernel, stride, padding, (1, 1), ceil_mode)
    top, bottom, left, right = pads
    return _padded(np.asarray(x), (top, bottom + extra_h, left, right + extra_w), fill), pads, oh, ow


def _span(k, s, n):
    return slice(k, k + (n - 1) * s + 1, s)


def _fill_value(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool2d(x, kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0), ceil_mode=False):
    """The maximum over each window (padding never wins): the maximum over the kernel's rows,
    then over its columns (kh - 1 + kw - 1 NumPy calls)."""
    x = np.asarray(x)
    xp, _, oh, ow = _pool_setup(x, kernel, stride, padding, ceil_mode, _fill_value(x.dtype))
    xh = xp.transpose(0, 2, 3, 1)
    rows = xh[:, _span(0, stride[0], oh)]
    for i in range(1, kernel[0]):
        rows = np.maximum(rows, xh[:, _span(i, stride[0], oh)])
    out = rows[:, :, _span(0, stride[1], ow)]
    if kernel[1] == 1:
        out = out.copy()
    for j in range(1, kernel[1]):
        out = np.maximum(out, rows[:, :, _span(j, stride[1], ow)])
    return out.transpose(0, 3, 1, 2)


def _max_masks(x, out, kernel, stride, padding, ceil_mode):
    """For each kernel offset, where that offset holds its window's maximum (the first one in
    row-major order when several do: the gradient goes to one element, as MindSpore). Yields
    channels-last (N, OH, OW, C) masks with the matching slices of the padded input."""
    x = np.asarray(x)
    xp, pads, oh, ow = _pool_setup(x, kernel, stride, padding, ceil_mode, _fill_value(x.dtype))
    xh = xp.transpose(0, 2, 3, 1)
    outh = np.asarray(out).transpose(0, 2, 3, 1)
    taken = None
    last = kernel[0] * kernel[1] - 1
    for k, (i, j) in enumerate((i, j) for i in range(kernel[0]) for j in range(kernel[1])):
        rows, cols = _span(i, stride[0], oh), _span(j, stride[1], ow)
        hit = xh[:, rows, cols] == outh
        if taken is None:
            taken = hit.copy() if last else hit
        else:
            hit &= ~taken
            if k < last:
                taken |= hit
        yield rows, cols, hit, xh.shape, pads


def max_pool2d_grad(g, x, out, kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0), ceil_mode=False):
    """The gradient of max_pool2d: each output's gradient goes to its window's (first) maximum."""
    x = np.asarray(x)
    gh = np.asarray(g).transpose(0, 2, 3, 1)
    n, c, h, w = x.shape
    dtype = gh.dtype if gh.dtype.kind == "f" else np.dtype(np.float64)
    disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]
    dxh = None
    for rows, cols, hit, pshape, pads in _max_masks(x, out, kernel, stride, padding, ceil_mode):
        if dxh is None:
            # windows that tile the padded input exactly write every element: no zeros needed
            tiled = tuple(stride) == tuple(kernel) and pshape[1] == hit.shape[1] * kernel[0] \
                and pshape[2] == hit.shape[2] * kernel[1]
            dxh = (np.empty if tiled else np.zeros)(pshape, dtype)
        if disjoint:
            np.multiply(gh, hit, out=dxh[:, rows, cols])      # windows do not overlap: write, no add
        else:
            dxh[:, rows, cols] += gh * hit
    top, left = pads[0], pads[2]
    return dxh[:, top:top + h, left:left + w].transpose(0, 3, 1, 2)


def max_pool2d_pick(g, x, out, kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0), ceil_mode=False):
    """For x-shaped g: g at each window's maximum (the derivative of max_pool2d_grad in its g)."""
    g = np.asarray(g)
    n, c, h, w = np.shape(x)
    picked = None
    for rows, cols, hit, pshape, pads in _max_masks(x, out, kernel, stride, padding, ceil_mode):
        if picked is None:
            gp = _padded(g, (pads[0], pshape[1] - h - pads[0], pads[2], pshape[2] - w - pads[2]), 0)
            gh = gp.transpose(0, 2, 3, 1)
            picked = np.zeros(hit.shape, g.dtype)
        picked += gh[:, rows, cols] * hit
    return picked.transpose(0, 3, 1, 2)


def _nhwc_zeros(shape, dtype):
    n, c, h, w = shape
    return np.zeros((n, h, w, c), dtype).transpose(0, 3, 1, 2)


def _avg_divisor(shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, dtype):
    """What each window's sum is divided by: a number, or an (OH, OW) array where windows
    overlap the padding (that is not counted) or reach past the input in ceil mode."""
    if divisor_override:
        return dtype.type(divisor_override)
    pads, oh, ow, extra_h, extra_w = _geometry(shape, kernel, stride, padding, (1, 1), ceil_mode)
    h, w = shape[2], shape[3]
    top, bottom, left, right = pads
    exclude = padding == "same" or not count_include_pad
    if exclude:
        inside = np.zeros((h + top + bottom + extra_h, w + left + right + extra_w), dtype)
        inside[top:top + h, left:left + w] = 1
    else:
        if not (extra_h or extra_w):
            return dtype.type(kernel[0] * kernel[1])
        inside = np.zeros((h + top + bottom + extra_h, w + left + right + extra_w), dtype)
        inside[:h + top + bottom, :w + left + right] = 1
    count = np.zeros((oh, ow), dtype)
    for _, _, rows, cols in _offsets(kernel, stride, (1, 1), oh, ow):
        count += inside[rows, cols]
    if (count == count.flat[0]).all():
        return dtype.type(count.flat[0])
    return count


def _float(dtype):
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def avg_pool2d(x, kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0), ceil_mode=False,
               count_include_pad=True, divisor_override=0):
    """The mean over each window. Padding counts in the divisor when ``count_include_pad``
    (never in 'same' mode, as MindSpore)."""
    x = np.asarray(x)
    dtype = _float(x.dtype)
    xp, _, oh, ow = _pool_setup(x, kernel, stride, padding, ceil_mode, 0)
    total = None
    for _, _, rows, cols in _offsets(kernel, stride, (1, 1), oh, ow):
        if total is None:
            total = xp[:, :, rows, cols].astype(dtype)
        else:
            total += xp[:, :, rows, cols]
    divisor = _avg_divisor(x.shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, dtype)
    total /= divisor
    return total


def avg_pool2d_grad(g, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0, 0, 0), ceil_mode=False,
                    count_include_pad=True, divisor_override=0):
    """The gradient of avg_pool2d (x only for its shape): each window's share, spread back."""
    xshape = _shape(x)
    g = np.asarray(g)
    dtype = _float(g.dtype)
    n, c, h, w = xshape
    pads, oh, ow, extra_h, extra_w = _geometry(xshape, kernel, stride, padding, (1, 1), ceil_mode)
    top, bottom, left, right = pads
    share = g / _avg_divisor(xshape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, dtype)
    dxp = _nhwc_zeros((n, c, h + top + bottom + extra_h, w + left + right + extra_w), dtype)
    for _, _, rows, cols in _offsets(kernel, stride, (1, 1), oh, ow):
        dxp[:, :, rows, cols] += share
    return dxp[:, :, top:top + h, left:left + w]


# -- bias -------------------------------------------------------------------------------------
def bias_add(x, b):
    """x + b along axis 1 (the channels of NCHW, the features of (N, C))."""
    x = np.asarray(x)
    b = np.asarray(b)
    if x.ndim == 2:
        return x + b
    return x + b.reshape((-1,) + (1,) * (x.ndim - 2))


def bias_add_grad(g):
    """The gradient of bias_add with respect to the bias: g summed over every axis but 1."""
    g = np.asarray(g)
    rows = _rows(g) if g.ndim == 4 else g if g.ndim == 2 else None    # free for NHWC memory
    if rows is not None and rows.dtype.kind == "f" and rows.flags.c_contiguous:
        return np.ones(rows.shape[0], rows.dtype) @ rows        # a BLAS product: one pass, vectorised
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


def bias_broadcast(d, g):
    """d (C,) spread over the shape of g along axis 1: the derivative of bias_add_grad."""
    shape = _shape(g)
    d = np.asarray(d)
    return np.broadcast_to(d.reshape((-1,) + (1,) * (len(shape) - 2)), shape)
