"""Helpers that generated code calls on arrays of an array-API namespace (torch, JAX, CuPy,
array_api_strict...): ``rx.unbroadcast(xp, g, x)``, with the namespace first and then the
primitive's own arguments (``compiler/namespaces.py`` says which primitive calls which).

Only functions of the array API standard are called on arrays (``xp.sum(x, axis=...)``,
``xp.permute_dims``, ``xp.take``...): no ``.kind`` on dtypes (``xp.isdtype``), no methods
beyond the standard's (``xp.astype(x, t)``, not ``x.astype``), keyword arguments where the
standard makes them keyword-only, indexes in the standard's form (a trailing ``...``; integer
arrays only with integers, else ``xp.take``). What the standard does not have is done per
library, chosen by ``library(xp)``: scatter-add (torch ``index_add_``/``index_put_``, JAX
``.at[].add``, CuPy ``cupyx.scatter_add``, else a one-hot product), writes into a copy (JAX
``.at[].set``), conversions to and from NumPy. NumPy code never comes here.
"""
import builtins

import numpy as np

from ..errors import RunTimeRefusal
from .runtime import _axes

_sum = builtins.sum          # (this module defines its own sum, for the namespace)


# -- which library ----------------------------------------------------------------------------
_LIBRARIES = {"array_api_compat.torch": "torch", "jax.numpy": "jax", "array_api_compat.cupy": "cupy",
              "cupy": "cupy", "array_api_strict": "array_api_strict"}


def library(xp):
    """'torch', 'jax', 'cupy', 'array_api_strict', or the namespace's module name."""
    name = getattr(xp, "__name__", "")
    return _LIBRARIES.get(name, name)


def device(x):
    """The device an array lives on (None for numbers)."""
    if isinstance(x, (int, float, bool, complex)):
        return None
    try:
        from array_api_compat import device as _device
    except ImportError:                     # (namespaces.py asks for array_api_compat first)
        return getattr(x, "device", None)
    return _device(x)


def is_float(xp, dtype):
    return xp.isdtype(dtype, "real floating")


def float_dtype(xp, x):
    """x's dtype if it is a real floating dtype, else the namespace's default float dtype."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and is_float(xp, dtype):
        return dtype
    return _default_float(xp, x)


def _default_float(xp, x=None):
    info = getattr(xp, "__array_namespace_info__", None)
    if info is not None:
        try:
            return info().default_dtypes(device=device(x) if x is not None else None)["real floating"]
        except Exception:
            pass
    return xp.float64


def _is_array(x):
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, (tuple, list))


def asarray(xp, value, like):
    """A number or NumPy value as an array of the namespace, on ``like``'s device, in
    ``like``'s float dtype when both are floats."""
    if _is_array(value) and not isinstance(value, (np.ndarray, np.generic)):
        return value
    return to_namespace(xp, value, like)


def _shape(x):
    """The shape of an array or number; a tuple *is* a shape (saved instead of its array)."""
    try:
        return tuple(x.shape)
    except AttributeError:
        return x if type(x) is tuple else ()


# -- the boundary: NumPy values in, NumPy gradients out ----------------------------------------
def to_namespace(xp, x, like):
    """A NumPy array or number (a NumPy weight, a Tensor's data, a float argument) as an array
    of ``like``'s namespace, on its device; floats in ``like``'s float dtype when that is a
    float (the mixed-input policy: NumPy weights with torch data compute in the data's dtype)."""
    if _is_array(x) and not isinstance(x, (np.ndarray, np.generic)):
        return x                        # already an array of a namespace
    dtype = None
    host_float = isinstance(x, float) or (isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f")
    like_dtype = getattr(like, "dtype", None)
    if host_float and like_dtype is not None and is_float(xp, like_dtype):
        dtype = like_dtype
    if isinstance(x, np.generic):
        x = np.asarray(x)
    return xp.asarray(x, dtype=dtype, device=device(like))


def from_host(xp, value, device):
    """What a function without a rule returned while the code ran: NumPy arrays and scalars
    as arrays of the namespace on ``device``; anything else as it is."""
    if isinstance(value, (np.ndarray, np.generic)):
        return xp.asarray(np.asarray(value), device=device)
    if type(value) in (tuple, list):
        return type(value)(from_host(xp, v, device) for v in value)
    return value


def to_numpy(xp, x):
    """An array of the namespace as a NumPy array (copied to the host if need be)."""
    if isinstance(x, (np.ndarray, np.generic, int, float, bool, complex)):
        return np.asarray(x)
    lib = library(xp)
    if lib == "torch":
        return x.detach().cpu().numpy()
    if lib == "cupy":
        return x.get()
    try:
        return np.from_dlpack(x)
    except Exception:
        return np.asarray(x)


def to_host(xp, g, x):
    """The gradient ``g`` of a NumPy value ``x`` (an argument, a Parameter) back in NumPy (the
    call returns it in x's type and dtype)."""
    return to_numpy(xp, g)


# -- elementwise ------------------------------------------------------------------------------
def sigmoid(xp, x):
    return 1.0 / (1.0 + xp.exp(-x))


def relu(xp, x):
    return xp.maximum(x, xp.zeros((), dtype=x.dtype, device=device(x)))


def positive(xp, x):
    """1 where x > 0, else 0, in x's float dtype (relu's derivative; relu'(0) = 0)."""
    return xp.astype(x > 0, float_dtype(xp, x))


def exp2(xp, x):
    return 2.0 ** x


def reciprocal(xp, x):
    return 1.0 / x


def logaddexp2(xp, x, y):
    return xp.logaddexp(x * 0.6931471805599453, y * 0.6931471805599453) / 0.6931471805599453


_NUMPY_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "asinh": "arcsinh", "acosh": "arccosh",
                "atanh": "arctanh", "atan2": "arctan2"}


def elementwise(xp, name, *args):
    """``xp.<name>(*args)``; on numbers alone (no array among them), a number (NumPy's function
    on them), since the standard's functions take arrays."""
    for a in args:
        if _is_array(a) and not isinstance(a, (np.ndarray, np.generic)):
            return getattr(xp, name)(*args)
    return getattr(np, _NUMPY_NAMES.get(name, name))(*args).item()


def where(xp, cond, x, y):
    if not _is_array(cond):
        return x if cond else y
    if not _is_array(x) and not _is_array(y):       # (two numbers: the standard wants an array)
        x = xp.asarray(x, device=device(cond))
    return xp.where(cond, x, y)


def clip(xp, x, lo=None, hi=None):
    # (arrays as bounds are in the standard since 2023.12; NumPy's clip broadcasts them too)
    if lo is not None and hi is not None and (_is_array(lo) or _is_array(hi)):
        return xp.minimum(xp.maximum(x, lo), hi)
    return xp.clip(x, min=lo, max=hi)


def tie_mask(xp, x, y, out):
    """1 where x wins, 0 where y wins, 0.5 on ties (MindSpore's maximum/minimum rule)."""
    dtype = float_dtype(xp, out)
    return (xp.astype(x == out, dtype) + xp.astype(y != out, dtype)) * 0.5


def softplus(xp, x):
    return xp.logaddexp(xp.zeros((), dtype=x.dtype, device=device(x)), x)


# -- erf and erfc (no SciPy, and not in the standard) --------------------------------------------
def erf(xp, x):
    return _special_function(xp, "erf", x, _erf_generic)


def erfc(xp, x):
    return _special_function(xp, "erfc", x, _erfc_generic)


def _special_function(xp, name, x, generic):
    """torch's or JAX's own ``name`` (erf, erfc), else ``generic`` in the standard's functions."""
    lib = library(xp)
    if lib == "torch":
        import torch
        return getattr(torch.special, name)(x)
    if lib == "jax":
        import jax.scipy.special as jss
        return getattr(jss, name)(x)
    return generic(xp, x)


def _poly(coeffs, z):
    total = coeffs[0]
    for c in coeffs[1:]:
        total = total * z + c
    return total


def _erfc_positive_generic(xp, a):
    """erfc(a) for a >= 0.5 by the regions of runtime_ops (each computed everywhere, then
    picked with ``where``): a Taylor polynomial around the nearest anchor below 2, Laplace's
    continued fraction beyond."""
    from . import runtime_ops as ro
    coeffs = ro._taylor_coefficients()
    out = xp.zeros_like(a)
    for k, anchor in enumerate(ro._ANCHORS):
        lo = 0.5 + k * ro._ANCHOR_STEP
        hi = lo + ro._ANCHOR_STEP if k < len(ro._ANCHORS) - 1 else 2.0
        h = a - float(anchor)
        out = xp.where((a >= lo) & (a < hi), _poly([float(c) for c in coeffs[k]], h), out)
    safe = xp.where(a >= 2.0, a, xp.full_like(a, 2.0))
    t = safe
    for k in range(64, 0, -1):
        t = safe + (0.5 * k) / t
    tail = xp.exp(-safe * safe) * ro._ONE_OVER_SQRT_PI / t
    return xp.where(a >= 2.0, tail, out)


def _erf_generic(xp, x):
    from . import runtime_ops as ro
    a = xp.abs(x)
    small = ro._MACLAURIN
    series = a * _poly(small, a * a)
    big = 1.0 - _erfc_positive_generic(xp, xp.where(a < 0.5, xp.full_like(a, 0.5), a))
    return xp.where(xp.isnan(x), x, xp.where(a < 0.5, series, big) * xp.sign(x))


def _erfc_generic(xp, x):
    from . import runtime_ops as ro
    a = xp.abs(x)
    series = a * _poly(ro._MACLAURIN, a * a)
    tail = _erfc_positive_generic(xp, xp.where(a < 0.5, xp.full_like(a, 0.5), a))
    big = xp.where(x < 0, 2.0 - tail, tail)
    return xp.where(xp.isnan(x), x, xp.where(a < 0.5, 1.0 - series * xp.sign(x), big))


# -- reductions -------------------------------------------------------------------------------
def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def sum(xp, x, axis=None, keepdims=False):
    return xp.sum(x, axis=_axis(axis), keepdims=keepdims)


def mean(xp, x, axis=None, keepdims=False):
    return xp.mean(x, axis=_axis(axis), keepdims=keepdims)


def amax(xp, x, axis=None, keepdims=False):
    return xp.max(x, axis=_axis(axis), keepdims=keepdims)


def amin(xp, x, axis=None, keepdims=False):
    return xp.min(x, axis=_axis(axis), keepdims=keepdims)


def prod(xp, x, axis=None, keepdims=False):
    return xp.prod(x, axis=_axis(axis), keepdims=keepdims)


def argmax(xp, x, axis=None):
    return xp.argmax(x, axis=axis)


def argmin(xp, x, axis=None):
    return xp.argmin(x, axis=axis)


def argsort(xp, x, axis=-1, kind=None):
    return xp.argsort(x, axis=axis, stable=True)


def cumsum(xp, x, axis=None):
    if axis is None:
        x, axis = xp.reshape(x, (-1,)), 0
    return xp.cumulative_sum(x, axis=axis)


def unbroadcast(xp, g, x):
    """Sum ``g`` down to the shape of ``x`` (undoes broadcasting)."""
    shape = _shape(x)
    gshape = _shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and gshape[i + extra] != 1)
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return xp.reshape(g, shape) if _shape(g) != shape else g


def broadcast_like(xp, g, x):
    shape = _shape(x)
    if _shape(g) == shape:
        return g
    if not _is_array(g):
        g = xp.asarray(g, device=device(x) if _is_array(x) else None)
    return xp.broadcast_to(g, shape)


def unreduce(xp, g, x, axis=None, keepdims=False):
    """Broadcast the gradient of a reduction back to the shape of its input ``x``."""
    shape = _shape(x)
    if not _is_array(g):            # a constant seed: a fresh array in x's float dtype
        dtype = float_dtype(xp, x) if _is_array(x) else _default_float(xp)
        return xp.full(shape, g, dtype=dtype, device=device(x) if _is_array(x) else None)
    if not keepdims and axis is not None:
        for a in sorted(_axes(axis, len(shape))):
            g = xp.expand_dims(g, axis=a)
    return xp.broadcast_to(g, shape)


def reduced_size(xp, x, axis=None):
    shape = _shape(x)
    n = 1
    for a in _axes(axis, len(shape)):
        n *= shape[a]
    return n


def extreme_weights(xp, x, out, axis=None, keepdims=False):
    dtype = float_dtype(xp, x)
    mask = xp.astype(x == unreduce(xp, out, x, axis, keepdims), dtype)
    return mask / xp.sum(mask, axis=_axis(axis), keepdims=True)


def softmax(xp, x, axis=-1):
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


def log_softmax(xp, x, axis=-1):
    shifted = x - xp.max(x, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


# -- products ---------------------------------------------------------------------------------
def mT(xp, x):
    return xp.matrix_transpose(x) if x.ndim >= 2 else x


def matmul_dx(xp, g, x, y):
    """The gradient of ``x @ y`` with respect to x (of which only the shape is used)."""
    x_ndim = len(_shape(x))
    if y.ndim == 1:
        gx = g[..., None] * y if x_ndim > 1 else g * y
    elif x_ndim == 1:
        gx = (y @ g[..., None])[..., 0]
        return xp.sum(gx, axis=tuple(range(gx.ndim - 1))) if gx.ndim > 1 else gx
    else:
        gx = g @ xp.matrix_transpose(y)
    return unbroadcast(xp, gx, x)


def matmul_dy(xp, g, x, y):
    """The gradient of ``x @ y`` with respect to y (of which only the shape is used)."""
    y_ndim = len(_shape(y))
    if x.ndim == 1:
        gy = x[..., None] * g[..., None, :] if y_ndim > 1 else g * x
        if y_ndim > 1 and gy.ndim > 2:
            gy = xp.sum(gy, axis=tuple(range(gy.ndim - 2)))
    elif y_ndim == 1:
        gy = (xp.matrix_transpose(x) @ g[..., None])[..., 0]
    else:
        gy = xp.matrix_transpose(x) @ g
    return unbroadcast(xp, gy, y)


def inv(xp, x):
    return xp.linalg.inv(x)


def det(xp, x):
    return xp.linalg.det(x)


def solve(xp, a, b):
    if b.ndim == 1:                 # (NumPy's rule: a vector b is one right-hand side)
        return xp.linalg.solve(a, b[:, None])[:, 0]
    return xp.linalg.solve(a, b)


# -- shape and layout -------------------------------------------------------------------------
def shape_of(xp, x):
    return _shape(x)


def reshape(xp, x, shape):
    return xp.reshape(x, tuple(shape) if isinstance(shape, list) else shape)


def transpose(xp, x, axes=None):
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    return xp.permute_dims(x, tuple(axes))


def swapaxes(xp, x, axis1, axis2):
    axes = list(range(x.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return xp.permute_dims(x, tuple(axes))


def moveaxis(xp, x, source, destination):
    return xp.moveaxis(x, _axis(source), _axis(destination))


def expand_dims(xp, x, axis):
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    ndim = x.ndim + len(axes)
    for a in sorted(a % ndim for a in axes):
        x = xp.expand_dims(x, axis=a)
    return x


def squeeze(xp, x, axis=None):
    if axis is None:
        axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
        if not axis:
            return x
    return xp.squeeze(x, axis=_axis(axis))


def broadcast_to(xp, x, shape):
    if not _is_array(x):
        x = xp.asarray(x)
    return xp.broadcast_to(x, tuple(shape))


def astype(xp, x, dtype):
    if not _is_array(x):
        x = xp.asarray(x)
    return xp.astype(x, dtype)


def cast_like(xp, g, x):
    """``g`` in the dtype of ``x`` (the gradient of a cast)."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or not _is_array(g) or g.dtype == dtype:
        return g
    return xp.astype(g, dtype)


def copy(xp, x):
    return xp.asarray(x, copy=True)


def atleast_1d(xp, x):
    return xp.reshape(x, (1,)) if x.ndim == 0 else x


def atleast_2d(xp, x):
    return xp.reshape(x, (1,) * (2 - x.ndim) + tuple(x.shape)) if x.ndim < 2 else x


def flip(xp, x, axis=None):
    return xp.flip(x, axis=_axis(axis))


def roll(xp, x, shift, axis=None):
    return xp.roll(x, shift, axis=_axis(axis))


def _tri_mask(xp, x, k, lower):
    n, m = x.shape[-2], x.shape[-1]
    rows = xp.reshape(xp.arange(n, device=device(x)), (n, 1))
    cols = xp.reshape(xp.arange(m, device=device(x)), (1, m))
    return (cols - rows <= k) if lower else (cols - rows >= k)


def tril(xp, x, k=0):
    return xp.where(_tri_mask(xp, x, k, True), x, xp.zeros_like(x))


def triu(xp, x, k=0):
    return xp.where(_tri_mask(xp, x, k, False), x, xp.zeros_like(x))


def tile(xp, x, reps):
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    return xp.tile(x, reps)


def repeat(xp, x, repeats, axis=None):
    if axis is None:
        x, axis = xp.reshape(x, (-1,)), 0
    if isinstance(repeats, (list, tuple)) or (_is_array(repeats) and repeats.ndim):
        repeats = xp.asarray(repeats, device=device(x))
    return xp.repeat(x, repeats, axis=axis)


def concat(xp, *xs, axis=0):
    return xp.concat(list(xs), axis=axis)


def stack(xp, *xs, axis=0):
    return xp.stack(list(xs), axis=axis)


def _along(ndim, axis, index):
    return (slice(None),) * (axis % ndim) + (index, Ellipsis)


def index_along(xp, g, i, axis=0):
    return g[_along(g.ndim, axis, i)]


def put_along(xp, g, x, i, axis=0):
    """Zeros shaped like ``x`` with ``g`` as the i-th slice along axis (the gradient of stack)."""
    shape = _shape(x)
    axis %= len(shape)
    before = xp.zeros(shape[:axis] + (i % shape[axis],) + shape[axis + 1:], dtype=g.dtype, device=device(g))
    after = xp.zeros(shape[:axis] + (shape[axis] - 1 - i % shape[axis],) + shape[axis + 1:], dtype=g.dtype,
                     device=device(g))
    return xp.concat([before, xp.expand_dims(g, axis=axis), after], axis=axis)


def _concat_piece(axis, k, xs):
    sizes = [_shape(x)[axis] for x in xs]
    start = 0
    for s in sizes[:k]:
        start += s
    return start, start + sizes[k]


def concat_part(xp, g, k, axis, *xs):
    start, stop = _concat_piece(axis, k, xs)
    return g[_along(g.ndim, axis, slice(start, stop))]


def concat_part_grad(xp, g, whole, k, axis, *xs):
    shape = _shape(whole)
    axis %= len(shape)
    start, stop = _concat_piece(axis, k, xs)
    parts = []
    if start:
        parts.append(xp.zeros(shape[:axis] + (start,) + shape[axis + 1:], dtype=g.dtype, device=device(g)))
    parts.append(g)
    if shape[axis] - stop:
        parts.append(xp.zeros(shape[:axis] + (shape[axis] - stop,) + shape[axis + 1:], dtype=g.dtype,
                              device=device(g)))
    return xp.concat(parts, axis=axis) if len(parts) > 1 else g


def zeros_like(xp, x):
    if type(x) is list:
        return [zeros_like(xp, v) for v in x]
    if not _is_array(x):
        return 0.0 * x
    return xp.zeros_like(x)


def ones_like(xp, x):
    if type(x) is list:
        return [ones_like(xp, v) for v in x]
    if not _is_array(x):
        return 0.0 * x + 1.0
    return xp.ones_like(x)


def zeros_like_tuple(xp, t, i, g):
    return tuple(g if j == i else zeros_like(xp, v) for j, v in enumerate(t))


def diagonal(xp, x, offset=0, axis1=0, axis2=1):
    moved = xp.moveaxis(x, (axis1, axis2), (-2, -1))
    return xp.linalg.diagonal(moved, offset=offset)


def diag(xp, x, k=0):
    if x.ndim == 2:
        return xp.linalg.diagonal(x, offset=k)
    n = x.shape[0] + abs(k)
    rows = xp.reshape(xp.arange(n, device=device(x)), (n, 1))
    cols = xp.reshape(xp.arange(n, device=device(x)), (1, n))
    out = xp.zeros((n, n), dtype=x.dtype, device=device(x))
    on = (cols - rows) == k
    # the i-th element of x sits at row i + max(-k, 0)
    pos = xp.clip(rows - max(-k, 0), min=0, max=x.shape[0] - 1)
    values = xp.take(x, xp.reshape(pos, (-1,)), axis=0)
    return xp.where(on, xp.reshape(values, (n, 1)), out)


# -- indexing in the standard's form ------------------------------------------------------------
def _is_int(p):
    return isinstance(p, (int, np.integer)) and not isinstance(p, bool)


def _is_basic(p):
    return p is None or p is Ellipsis or isinstance(p, slice) or _is_int(p)


def _index_parts(xp, x, index):
    """The index as a tuple, with NumPy arrays and lists made arrays of the namespace."""
    parts = index if type(index) is tuple else (index,)
    out = []
    for p in parts:
        if isinstance(p, (np.integer, np.bool_)):
            p = p.item()
        elif isinstance(p, (list, np.ndarray)):
            p = xp.asarray(np.asarray(p), device=device(x))
        out.append(p)
    return tuple(out)


def _expand(parts, ndim):
    """Basic parts spelled out: an explicit trailing ``...`` when they do not say every axis."""
    if any(p is Ellipsis for p in parts):
        return parts
    named = _sum(1 for p in parts if p is not None)
    return parts + (Ellipsis,) if named < ndim else parts


class _Plan:
    """How an index with arrays is applied in the standard's form: the basic parts (arrays
    replaced by full slices), then one gather along ``axis`` of the result with the flattened
    ``index`` (integer arrays and ints on adjacent axes, made one linear index), reshaped to
    ``shape``; or a boolean ``mask`` over the leading axes."""

    def __init__(self, xp, x, parts):
        self.mask = None
        arrays = [k for k, p in enumerate(parts) if not _is_basic(p)]
        if len(arrays) == 1 and len(parts) == 1 and xp.isdtype(parts[0].dtype, "bool"):
            self.mask = parts[0]
            return
        for k in arrays:
            if not xp.isdtype(parts[k].dtype, "integral"):
                raise RunTimeRefusal("an index that mixes a boolean mask with other indexes has no "
                                     "array-API form; index with the mask alone (x[mask])")
        adv = [k for k, p in enumerate(parts) if k in arrays or _is_int(p)]
        first, last = adv[0], adv[-1]
        if any(not (k in arrays or _is_int(parts[k])) for k in range(first, last + 1)):
            raise RunTimeRefusal("an index whose integer arrays are separated by slices (x[i, :, j]) "
                                 "has no array-API form; index in two steps")
        if any(p is Ellipsis for p in parts[first:]):
            raise RunTimeRefusal("an index with `...` after an integer array has no array-API form; "
                                 "spell out the axes with `:`")
        # the axes of x the advanced group covers
        ax = 0
        for p in parts[:first]:
            if p is Ellipsis:
                ax = x.ndim - _sum(1 for q in parts if q is not None and q is not Ellipsis) + ax
                ax = max(ax, 0)
            elif p is not None:
                ax += 1
        self.x_axis = ax
        group = parts[first:last + 1]
        self.dims = tuple(x.shape[ax:ax + len(group)])
        # the result of the basic parts keeps the group's axes, in place
        basic = list(parts[:first]) + [slice(None)] * len(group) + list(parts[last + 1:])
        self.basic = tuple(basic)
        self.lead = _sum(1 for p in parts[:first] if p is not None and not _is_int(p))
        self.group = group

    def linear(self, xp, like):
        """The group's indexes as one linear index (broadcast together), and its shape."""
        dev = device(like)
        idx = [xp.asarray(p, device=dev) if _is_int(p) else p for p in self.group]
        shapes = [tuple(i.shape) for i in idx]
        shape = np.broadcast_shapes(*shapes)
        total = None
        stride = 1
        for i, n in reversed(list(zip(idx, self.dims))):
            i = xp.where(i < 0, i + n, i)
            part = i * stride if stride != 1 else i
            total = part if total is None else total + part
            stride *= n
        total = xp.broadcast_to(total, shape)
        return xp.astype(xp.reshape(total, (-1,)), xp.int64), shape


def _merge_axes(xp, y, start, count):
    """y with ``count`` axes from ``start`` merged into one."""
    shape = tuple(y.shape)
    merged = 1
    for n in shape[start:start + count]:
        merged *= n
    return xp.reshape(y, shape[:start] + (merged,) + shape[start + count:])


def getitem(xp, x, *index):
    """``x[index]`` in the standard's form."""
    if not _is_array(x):                            # a tuple, a list, a shape
        return x[index[0] if len(index) == 1 else index]
    parts = _index_parts(xp, x, index)
    if all(_is_basic(p) for p in parts):
        return x[_expand(parts, x.ndim)]
    plan = _Plan(xp, x, parts)
    if plan.mask is not None:
        return x[plan.mask]
    y = x[_expand(plan.basic, x.ndim)]
    lin, shape = plan.linear(xp, x)
    y = _merge_axes(xp, y, plan.lead, len(plan.group))
    y = xp.take(y, lin, axis=plan.lead)
    ys = tuple(y.shape)
    return xp.reshape(y, ys[:plan.lead] + tuple(shape) + ys[plan.lead + 1:])


def _scatter_rows(xp, out, axis, lin, g):
    """``out`` with g's slices added at the linear indices ``lin`` along ``axis`` (repeats add
    up), per library: in place where the library can, else a new array."""
    lib = library(xp)
    if lib == "torch":
        return out.index_add_(axis, lin, g)
    if lib == "jax":
        return out.at[(slice(None),) * axis + (lin,)].add(g)
    if lib == "cupy":
        import cupyx
        cupyx.scatter_add(out, (slice(None),) * axis + (lin,), g)
        return out
    # no scatter in the standard: a one-hot matrix (n x m) times g's rows
    n = out.shape[axis]
    m = lin.shape[0]
    onehot = xp.astype(xp.reshape(xp.arange(n, device=device(out)), (n, 1)) == xp.reshape(lin, (1, m)),
                       out.dtype)
    moved = xp.moveaxis(g, axis, 0)
    rest = tuple(moved.shape[1:])
    summed = xp.reshape(onehot @ xp.reshape(moved, (m, -1)), (n,) + rest)
    return out + xp.moveaxis(summed, 0, axis)


def _add_into(xp, out, parts, g):
    """``out[parts] += g`` (repeats add up): in place on libraries that can change an array,
    a new array on JAX; returns the result."""
    if all(_is_basic(p) for p in parts):
        key = tuple(p for p in parts if p is not None)
        key = _expand(key, out.ndim)
        target_shape = tuple(out[key].shape)
        if not _is_array(g) or tuple(g.shape) != target_shape:
            g = xp.reshape(broadcast_like(xp, g, target_shape if not any(p is None for p in parts)
                                          else tuple(out[_expand(parts, out.ndim)].shape)), target_shape)
        if library(xp) == "jax":
            return out.at[key].add(g)
        out[key] = out[key] + g
        return out
    plan = _Plan(xp, out, parts)
    if plan.mask is not None:
        lin_parts = xp.nonzero(plan.mask)
        plan = _Plan(xp, out, tuple(lin_parts))
    view_shape = tuple(out[_expand(plan.basic, out.ndim)].shape)
    lin, shape = plan.linear(xp, out)
    # g is shaped view_shape with the group's axes replaced by shape: flatten it to one axis
    g = xp.broadcast_to(g, view_shape[:plan.lead] + tuple(shape) + view_shape[plan.lead + len(plan.group):]) \
        if _is_array(g) else xp.full(view_shape[:plan.lead] + tuple(shape) + view_shape[plan.lead + len(plan.group):],
                                     g, dtype=out.dtype, device=device(out))
    g = _merge_axes(xp, g, plan.lead, len(shape))
    if all(isinstance(p, slice) and p == slice(None) for p in plan.basic[:len(plan.basic)]
           if p is not None) and not any(p is None for p in plan.basic):
        merged = _merge_axes(xp, out, plan.x_axis, len(plan.group))
        merged = _scatter_rows(xp, merged, plan.x_axis, lin, xp.astype(g, out.dtype))
        return xp.reshape(merged, tuple(out.shape))
    raise RunTimeRefusal("the gradient of an index that mixes integer arrays with partial slices or "
                         "new axes (x[1:, i]) has no array-API form here; index in two steps "
                         "(y = x[1:], then y[:, i])")


def getitem_grad(xp, g, x, *index):
    """Zeros shaped like ``x`` with ``g`` added at ``index`` (repeats add up)."""
    shape = _shape(x)
    dtype = float_dtype(xp, x) if _is_array(x) else (g.dtype if _is_array(g) else _default_float(xp))
    out = xp.zeros(shape, dtype=dtype, device=device(g) if _is_array(g) else None)
    return _add_into(xp, out, _index_parts(xp, out, index), g)


def scatter_add(xp, acc, g, *index):
    """``acc + getitem_grad(g, acc, *index)``, into ``acc`` itself where the library can."""
    return _add_into(xp, acc, _index_parts(xp, acc, index), g)


def setitem(xp, x, v, *index):
    """A copy of ``x`` with ``v`` at ``index``."""
    parts = _index_parts(xp, x, index)
    lib = library(xp)
    key = parts[0] if len(parts) == 1 else parts
    if lib == "jax":
        return x.at[key].set(v)
    if not all(_is_basic(p) for p in parts) and lib not in ("torch", "cupy"):
        raise RunTimeRefusal("assignment at integer-array or boolean indexes (y[i] = v) has no "
                             "array-API form; build the array with xp.where instead")
    out = xp.asarray(x, copy=True)
    out[_expand(parts, x.ndim) if all(_is_basic(p) for p in parts) else key] = v
    return out


def check_unshared(xp, x, names, index, *others):
    """Before ``y[index] = v`` (adjoint assigns into a copy): no other live name may share the
    memory. torch tells by storage; other libraries cannot tell, so such a call is refused."""
    for name, other in zip(names, others):
        items = other if type(other) is list else (other,)
        for item in items:
            if not _is_array(item):
                continue
            if library(xp) == "torch":
                if item.untyped_storage().data_ptr() != x.untyped_storage().data_ptr():
                    continue
            raise RunTimeRefusal("`%s` may share memory with the items this assigns (one may be a view "
                                 "of the other); adjoint assigns into a copy, so `%s` would not see the "
                                 "change. Make one of them a copy" % (name, name))


def take_along_axis(xp, x, indices, axis):
    if axis is None:
        return xp.take(xp.reshape(x, (-1,)), xp.reshape(indices, (-1,)), axis=0)
    return xp.take_along_axis(x, indices, axis=axis)


def take_along_axis_grad(xp, g, x, indices, axis):
    shape = _shape(x)
    out = xp.zeros(shape, dtype=g.dtype, device=device(g))
    if axis is None:
        flat = _scatter_rows(xp, xp.reshape(out, (-1,)), 0, xp.reshape(indices, (-1,)), xp.reshape(g, (-1,)))
        return xp.reshape(flat, shape)
    axis %= len(shape)
    gshape = tuple(g.shape)
    index = []
    for d in range(len(shape)):
        if d == axis:
            index.append(xp.broadcast_to(indices, gshape))
        else:
            index.append(xp.broadcast_to(xp.reshape(xp.arange(gshape[d], device=device(g)),
                                                    (-1,) + (1,) * (len(shape) - d - 1)), gshape))
    return _add_into(xp, out, tuple(index), g)


# -- training-layer helpers -------------------------------------------------------------------
def assign(xp, variable, value):
    """Write ``value`` into the Parameter's array (a NumPy array), in place."""
    np.copyto(variable, to_numpy(xp, value), casting="unsafe")
    return variable


def dropout_mask(xp, x, p):
    """A fresh mask drawn from NumPy's global generator (as in NumPy code: ``np.random.seed``
    repeats it), made an array of the namespace on x's device, in x's float dtype."""
    shape = _shape(x)
    dtype = float_dtype(xp, x)
    if p >= 1:
        return xp.zeros(shape, dtype=dtype, device=device(x))
    keep = np.random.random_sample(shape) >= p
    return xp.asarray(keep * (1.0 / (1.0 - p)), dtype=dtype, device=device(x))


# -- lists built while the code runs -------------------------------------------------------------
def list_extend_zeros(xp, g, lst):
    return g + [zeros_like(xp, lst[-1])]


def list_scatter(xp, g, lst, i):
    out = [zeros_like(xp, v) for v in lst]
    out[i] = g
    return out


def stack_list(xp, lst, axis=0):
    return xp.stack(list(lst), axis=axis)


def unstack_list(xp, g, axis=0):
    moved = xp.moveaxis(g, axis, 0)
    return [moved[i, ...] for i in range(moved.shape[0])]


def concat_list(xp, lst, axis=0):
    return xp.concat(list(lst), axis=axis)


def split_list(xp, g, lst, axis=0):
    out, start = [], 0
    for v in lst:
        n = _shape(v)[axis]
        out.append(g[_along(g.ndim, axis, slice(start, start + n))])
        start += n
    return out


def check_sens(xp, sens, out, name):
    from ..errors import ArgumentError
    if _shape(sens) != _shape(out):
        raise ArgumentError("sens for the output of %s must have shape %s, the output's; got %s"
                            % (name, _shape(out), _shape(sens)))
    return sens


# -- losses -----------------------------------------------------------------------------------
def _class_rows(xp, target, logits, label_smoothing):
    axis = 1 if logits.ndim > 1 else 0
    n_classes = logits.shape[axis]
    dtype = float_dtype(xp, logits)
    if not is_float(xp, target.dtype):             # class indices
        classes = xp.reshape(xp.arange(n_classes, device=device(logits)), (-1,) + (1,) * (logits.ndim - 1 - axis))
        return xp.astype(xp.expand_dims(target, axis=axis) == classes, dtype), True
    rows = xp.astype(target, dtype)
    if label_smoothing:
        rows = rows * (1 - label_smoothing) + label_smoothing / n_classes
    return rows, False


def ce_weights(xp, target, logits, weight=None, ignore_index=-100, label_smoothing=0.0):
    """runtime_nn.ce_weights in the namespace's functions."""
    rows, indices = _class_rows(xp, target, logits, label_smoothing)
    axis = 1 if logits.ndim > 1 else 0
    n_classes = logits.shape[axis]
    shape = (-1,) + (1,) * (logits.ndim - 2) if logits.ndim > 1 else (-1,)
    w = None if weight is None else xp.reshape(xp.astype(asarray(xp, weight, logits), rows.dtype), shape)
    if not indices:
        return rows if w is None else rows * w
    valid = None
    if 0 <= ignore_index < n_classes:
        valid = xp.astype(xp.expand_dims(target != ignore_index, axis=axis), rows.dtype)
    if w is None:
        coef = rows * (1 - label_smoothing) + label_smoothing / n_classes if label_smoothing else rows
    else:
        picked = xp.sum(rows * w, axis=axis, keepdims=True)
        coef = rows * picked * (1 - label_smoothing)
        if label_smoothing:
            coef = coef + w * (label_smoothing / n_classes)
    return coef if valid is None else coef * valid


def ce_denominator(xp, target, logits, weight=None, ignore_index=-100):
    dtype = float_dtype(xp, logits)
    axis = 1 if logits.ndim > 1 else 0
    if is_float(xp, target.dtype):
        return xp.asarray(target.size // logits.shape[axis], dtype=dtype, device=device(logits))
    valid = xp.astype(target != ignore_index, dtype)
    if weight is None:
        return xp.sum(valid)
    w = xp.astype(asarray(xp, weight, logits), dtype)
    picked = xp.take(w, xp.reshape(xp.where(target != ignore_index, target, xp.zeros_like(target)), (-1,)),
                     axis=0)
    return xp.sum(xp.reshape(picked, tuple(target.shape)) * valid)


# -- the transposes of diagonals, tiling and repeating -------------------------------------------
def diagonal_grad(xp, g, x, offset=0, axis1=0, axis2=1):
    """Zeros shaped like ``x`` with ``g`` on the diagonal that diagonal(x, offset, axis1,
    axis2) reads (a mask and a gather: the standard has no scatter)."""
    shape = _shape(x)
    nd = len(shape)
    a1, a2 = axis1 % nd, axis2 % nd
    rest = [d for d in range(nd) if d not in (a1, a2)]
    n, m = shape[a1], shape[a2]
    k = g.shape[-1] if g.ndim else 0
    dev = device(g)
    rows = xp.reshape(xp.arange(n, device=dev), (n, 1))
    cols = xp.reshape(xp.arange(m, device=dev), (1, m))
    on = (cols - rows) == offset
    if k == 0:
        return xp.zeros(shape, dtype=g.dtype, device=dev)
    pos = xp.clip(rows - max(-offset, 0), min=0, max=k - 1)                 # (n, 1)
    picked = xp.take(g, xp.reshape(pos, (-1,)), axis=g.ndim - 1)             # (..., n)
    full = xp.where(on, xp.expand_dims(picked, axis=-1), xp.zeros((), dtype=g.dtype, device=dev))
    # full is laid out (rest..., n, m): put the two axes back where x has them
    order = rest + [a1, a2]
    return xp.permute_dims(full, tuple(order.index(d) for d in range(nd)))


def diag_grad(xp, g, x, k=0):
    shape = _shape(x)
    if len(shape) == 1:
        return xp.linalg.diagonal(g, offset=k)
    return diagonal_grad(xp, g, shape, k)


def tile_grad(xp, g, x, reps):
    from .runtime_ops import tile_layout
    shape = _shape(x)
    interleaved, tile_axes = tile_layout(shape, (reps,) if isinstance(reps, int) else tuple(reps))
    return xp.reshape(xp.sum(xp.reshape(g, interleaved), axis=tile_axes), shape)


def repeat_grad(xp, g, x, repeats, axis=None):
    shape = _shape(x)
    if axis is None:
        n, axis = 1, 0
        for s in shape:
            n *= s
    else:
        axis %= len(shape)
        n = shape[axis]
    counts = np.asarray(repeats if not _is_array(repeats) or isinstance(repeats, np.ndarray)
                        else to_numpy(xp, repeats)).reshape(-1)
    gs = tuple(g.shape)
    if counts.size == 1:
        r = int(counts[0])
        out = xp.sum(xp.reshape(g, gs[:axis] + (n, r) + gs[axis + 1:]), axis=axis + 1)
    else:                   # each run's sum: differences of the cumulative sum at the run ends
        ends = np.cumsum(counts)
        starts = ends - counts
        cs = xp.cumulative_sum(g, axis=axis, include_initial=True)
        dev = device(g)
        out = xp.take(cs, xp.asarray(ends, device=dev), axis=axis) - xp.take(cs, xp.asarray(starts, device=dev),
                                                                              axis=axis)
    return xp.reshape(out, shape)
