"""NumPy helpers that generated code calls by name (``from adjoint.compiler.runtime import ...``).

Each is a primitive's implementation; the rules in ``rules/`` give their derivatives. They work
on raw ndarrays and Python numbers and take fast paths where shapes already agree.

They also work on arrays of other libraries that implement NumPy's dispatch protocols
(``__array_function__``/``__array_ufunc__``: Dask, CuPy...), without converting them: every
helper keeps its ndarray fast path first (``type(x) is np.ndarray``), and only the other
branch asks ``is_duck_array`` (no ``np.asarray``, which would compute a Dask array).
"""
import numpy as np

from ..errors import RunTimeRefusal


def is_duck_array(x):
    """An array of another library that NumPy functions dispatch to (a Dask or CuPy array):
    it is kept as it is, never converted with ``np.asarray``. (adjoint's Tensor has the
    protocol too: callers unwrap Tensors first, or test for them before.)"""
    return not isinstance(x, (np.ndarray, np.generic)) and hasattr(type(x), "__array_function__")


_ndarray = np.ndarray


def _any_duck(items):
    for x in items:
        if type(x) is not np.ndarray and is_duck_array(x):
            return True
    return False


def _float_dtype(x):
    """x's dtype if it is a float dtype, else float64 (the dtype of a gradient of x)."""
    dtype = getattr(x, "dtype", None)
    return dtype if dtype is not None and dtype.kind == "f" else np.dtype(np.float64)


def zeros_like(x):
    """np.zeros_like, without its overhead for the common case of an ndarray (and, for a list
    built while the code runs, a list of zeros)."""
    if type(x) is np.ndarray:
        return np.zeros(x.shape, x.dtype)
    if type(x) is list:
        return [zeros_like(v) for v in x]
    return np.zeros_like(x)


def ones_like(x):
    if type(x) is np.ndarray:
        out = np.empty(x.shape, x.dtype)
        out.fill(1)
        return out
    if type(x) is list:
        return [ones_like(v) for v in x]
    return np.ones_like(x)


def identity(x):
    return x


def stop_gradient(x):
    return x


def _shape(x):
    """The shape of an array or number; a tuple *is* a shape (saved instead of its array)."""
    try:
        return x.shape
    except AttributeError:
        return x if type(x) is tuple else ()


def unbroadcast(g, x):
    """Sum ``g`` down to the shape of ``x`` (undoes NumPy broadcasting)."""
    shape = _shape(x)
    gshape = _shape(g)
    if gshape == shape:
        return g
    extra = len(gshape) - len(shape)
    if extra > 0 and gshape[extra:] == shape:      # a bias: only leading axes were added
        return g.sum(axis=0) if extra == 1 else g.sum(axis=tuple(range(extra)))
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and gshape[i + extra] != 1)
    g = np.sum(g, axis=axes, keepdims=True) if axes else g
    return np.reshape(g, shape) if extra or np.shape(g) != shape else g


def broadcast_like(g, x):
    """Broadcast ``g`` to the shape of ``x`` (the derivative of unbroadcast)."""
    shape = _shape(x)
    if _shape(g) == shape:
        return g
    return np.broadcast_to(g, shape)


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(a % ndim for a in axis)
    return (axis % ndim,)


def ipow(x, n):
    """``x ** n`` for a small constant integer n, by multiplication (libm's pow is slow)."""
    out = x * x
    for _ in range(n - 2):
        out = out * x
    return out


def unreduce(g, x, axis=None, keepdims=False):
    """Broadcast the gradient of a reduction back to the shape of its input ``x``."""
    if type(g) in (float, int):          # a constant seed: a fresh array in x's float dtype
        if type(x) is not _ndarray and is_duck_array(x):      # (_ndarray: one global look-up)
            return np.full_like(x, g, dtype=_float_dtype(x))   # lazy, chunked like x (Dask)
        dtype = getattr(x, "dtype", None)
        out = np.empty(_shape(x), dtype=dtype if dtype is not None and dtype.kind == "f" else np.float64)
        out.fill(g)                      # (np.full is several times slower on small arrays)
        return out
    shape = _shape(x)
    if not keepdims and axis is not None:
        g = np.expand_dims(g, _axes(axis, len(shape)))
    return np.broadcast_to(g, shape)


def reduced_size(x, axis=None):
    """How many elements a reduction over ``axis`` folds into one."""
    shape = _shape(x)
    n = 1
    for a in _axes(axis, len(shape)):
        n *= shape[a]
    if n != n:                           # NaN: a Dask array whose chunk sizes are unknown
        raise ValueError(unknown_shape_message(x))
    return n


def unknown_shape_message(x):
    return ("an array of shape %s has unknown sizes (a Dask array whose rows were selected by a "
            "mask?): gradients need every shape; call `x.compute_chunk_sizes()` on it first"
            % (tuple(_shape(x)),))


def extreme_weights(x, out, axis=None, keepdims=False):
    """How the gradient of max/min is shared: equally among the elements that reach the
    extreme (1/count there, 0 elsewhere), in x's float dtype."""
    if type(x) is not np.ndarray and not is_duck_array(x):
        x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    mask = (x == unreduce(out, x, axis, keepdims)).astype(dtype)
    return mask / mask.sum(axis=axis, keepdims=True)


def tie_mask(x, y, out):
    """1 where x wins, 0 where y wins, 0.5 on ties (MindSpore's maximum/minimum rule)."""
    if type(out) is not np.ndarray and is_duck_array(out):
        dtype = _float_dtype(out)
        return ((x == out).astype(dtype) + (y != out).astype(dtype)) * dtype.type(0.5)
    dtype = np.result_type(out) if np.ndim(out) else np.asarray(out).dtype
    if dtype.kind != "f":
        dtype = np.float64
    return (np.asarray(x == out, dtype) + np.asarray(y != out, dtype)) * np.asarray(0.5, dtype)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def positive(x):
    """1 where x > 0, else 0, in x's float dtype (relu's derivative; relu'(0) = 0)."""
    mask = x > 0
    dtype = getattr(x, "dtype", None)
    return mask.astype(dtype if dtype is not None and dtype.kind == "f" else np.float64) \
        if isinstance(mask, np.ndarray) or is_duck_array(mask) else float(mask)


def relu(x):
    return np.maximum(x, 0)


def softmax(x, axis=-1):
    if type(x) is not np.ndarray and not is_duck_array(x):
        x = np.asarray(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    if type(x) is not np.ndarray and not is_duck_array(x):
        x = np.asarray(x)              # (array methods: cheaper than np.max/np.sum on small arrays)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def mT(x):
    """Swap the last two axes (a no-op on vectors)."""
    return np.swapaxes(x, -1, -2) if np.ndim(x) >= 2 else x


def matmul_dx(g, x, y):
    """The gradient of ``x @ y`` with respect to x (of which only the shape is used)."""
    x_ndim = len(_shape(x))
    if x_ndim == 2 and type(y) is np.ndarray and y.ndim == 2:
        return g @ y.T                  # matrices: the common case, without the general path
    if np.ndim(y) == 1:
        gx = np.multiply.outer(g, y) if x_ndim > 1 else g * y
    elif x_ndim == 1:
        gx = np.matmul(y, g) if np.ndim(y) == 2 else np.sum(np.matmul(y, g[..., None])[..., 0],
                                                            axis=tuple(range(np.ndim(y) - 2)))
        return gx
    else:
        gx = np.matmul(g, mT(y))
    return unbroadcast(gx, x)


def matmul_dy(g, x, y):
    """The gradient of ``x @ y`` with respect to y (of which only the shape is used)."""
    y_ndim = len(_shape(y))
    if y_ndim == 2 and type(x) is np.ndarray and x.ndim == 2:
        return x.T @ g
    if np.ndim(x) == 1:
        gy = np.multiply.outer(x, g) if y_ndim > 1 else g * x
    elif y_ndim == 1:
        gy = np.matmul(mT(x), g[..., None])[..., 0] if np.ndim(x) > 2 else np.matmul(mT(x), g)
    else:
        gy = np.matmul(mT(x), g)
    return unbroadcast(gy, y)


def inv_perm(axes):
    """The permutation that undoes ``np.transpose(x, axes)`` (None stays None)."""
    if axes is None:
        return None
    return tuple(int(i) for i in np.argsort(axes))


def getitem(x, *index):
    return x[index[0] if len(index) == 1 else index]


def setitem(x, v, *index):
    """A copy of ``x`` with ``v`` at ``index`` (``y[i] = v`` on a value, without changing it)."""
    out = x.copy() if hasattr(x, "copy") else np.array(x)
    out[index[0] if len(index) == 1 else index] = v
    return out


def check_unshared(x, names, index, *others):
    """Before ``y[index] = v``: adjoint assigns into a copy of ``y``, so no other array the code
    still holds may share the memory assigned to (a view of ``y``, or ``y`` a view of it)."""
    region = _assigned_region(np.asarray(x), index)
    for name, other in zip(names, others):
        items = other if type(other) is list else (other,)
        for item in items:
            if np.isscalar(item):
                continue
            item = np.asarray(item)
            if np.may_share_memory(region, item) and np.shares_memory(region, item):
                what = name if " " in name else "`%s`" % name
                raise RunTimeRefusal("%s shares memory with the items this assigns (one is a view "
                                     "of the other); adjoint assigns into a copy, so %s would not "
                                     "see the change. Make one of them a copy, e.g. `.copy()`"
                                     % (what[0].upper() + what[1:] if " " in name else what, what))


def _assigned_region(x, index):
    """A view of the items ``x[index] = v`` writes (all of x when the index picks by arrays)."""
    basic = (int, np.integer, slice, type(None), type(Ellipsis))
    if not all(isinstance(i, basic) for i in index):
        return x
    if any(i is Ellipsis for i in index):
        return x[index]
    return x[index + (Ellipsis,)]          # (a 0-d view, not a copied number, for x[i] on 1-d)


def getitem_grad(g, x, *index):
    """Scatter the gradient of ``x[index]`` back into zeros shaped like ``x`` (repeats add up)."""
    idx = index[0] if len(index) == 1 else index
    dtype = getattr(x, "dtype", None)             # the gradient of x has x's (float) dtype
    if dtype is None or dtype.kind != "f":
        dtype = np.result_type(g, np.float32) if isinstance(g, np.ndarray) else np.float64
    if _any_duck((g, x) + index):
        from .runtime_duck import add_at       # (Dask does not implement np.add.at)
        return add_at(g, _shape(x), dtype, idx, getattr(x, "chunks", None))
    out = np.zeros(_shape(x), dtype=dtype)
    parts = idx if isinstance(idx, tuple) else (idx,)
    if all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts):
        out[idx] = g                    # basic indexing picks each element once: no np.add.at
    else:
        np.add.at(out, idx, g)
    return out


def scatter_add(acc, g, *index):
    """``acc + getitem_grad(g, acc, *index)``, added into ``acc`` itself: a fresh array (the
    gradient of one slice of x) gets the gradient of another slice (passes/simplify.py).
    Out of place for arrays of other libraries (Dask cannot add into an array in place)."""
    if type(acc) is not np.ndarray or _any_duck((g,) + index):
        return acc + getitem_grad(g, acc, *index)
    add_at(acc, g, *index)
    return acc


def add_at(acc, g, *index):
    """``acc[index] += g`` in place; integer-array indices that repeat add up (np.add.at)."""
    idx = index[0] if len(index) == 1 else index
    parts = idx if isinstance(idx, tuple) else (idx,)
    if all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts):
        acc[idx] += g
    else:
        np.add.at(acc, idx, g)


def _along(ndim, axis, index):
    """An index that picks ``index`` along ``axis`` (and everything along the other axes)."""
    return (slice(None),) * (axis % ndim) + (index,)


def index_along(g, i, axis=0):
    """``g``'s i-th slice along ``axis`` (a view): the gradient of one input of np.stack."""
    return g[_along(np.ndim(g), axis, i)]


def put_along(g, x, i, axis=0):
    """Zeros shaped like ``x`` (only its shape is used) with ``g`` as the i-th slice along axis."""
    shape = _shape(x)
    if type(g) is not np.ndarray and is_duck_array(g):      # (setitem would compute a Dask g)
        axis %= len(shape)
        pad = [(0, 0)] * len(shape)
        pad[axis] = (i % shape[axis], shape[axis] - 1 - i % shape[axis])
        return np.pad(np.expand_dims(g, axis), pad)
    out = np.zeros(shape, dtype=np.result_type(g))
    out[_along(len(shape), axis, i)] = g
    return out


def _concat_piece(axis, k, xs):
    sizes = [_shape(x)[axis] for x in xs]
    start = sum(sizes[:k])
    return _along(len(_shape(xs[k])), axis, slice(start, start + sizes[k]))


def concat_part(g, k, axis, *xs):
    """The part of ``g`` (the gradient of np.concatenate(xs, axis)) that belongs to xs[k]."""
    return g[_concat_piece(axis, k, xs)]


def concat_part_grad(g, whole, k, axis, *xs):
    """Zeros shaped like ``whole`` with ``g`` in the place of xs[k] (the adjoint of concat_part)."""
    if type(g) is not np.ndarray and is_duck_array(g):      # (setitem would compute a Dask g)
        shape = _shape(whole)
        axis %= len(shape)
        piece = _concat_piece(axis, k, xs)[axis]
        pad = [(0, 0)] * len(shape)
        pad[axis] = (piece.start, shape[axis] - piece.stop)
        return np.pad(g, pad)
    out = np.zeros(_shape(whole), dtype=np.result_type(g))
    out[_concat_piece(axis, k, xs)] = g
    return out


def concat(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


def stack(*xs, axis=0):
    return np.stack(xs, axis=axis)


def make_tuple(*xs):
    return xs


def tuple_getitem(t, i):
    return t[i]


def zeros_like_tuple(t, i, g):
    """A tuple of zeros shaped like ``t`` with ``g`` at position ``i``."""
    return tuple(g if j == i else np.zeros_like(v) for j, v in enumerate(t))


def cast_like(g, x):
    """``g`` in the dtype of ``x`` (the gradient of a cast)."""
    dtype = x.dtype if type(x) is np.ndarray or is_duck_array(x) else np.asarray(x).dtype
    gdtype = g.dtype if type(g) is np.ndarray or is_duck_array(g) else np.asarray(g).dtype
    return g.astype(dtype) if gdtype != dtype else g


def check_sens(sens, out, name):
    """A sens given by the user must have the output's shape."""
    from ..errors import ArgumentError
    if np.shape(sens) != _shape(out):
        raise ArgumentError("sens for the output of %s must have shape %s, the output's; got %s"
                            % (name, tuple(_shape(out)), tuple(np.shape(sens))))
    return sens


def copy_tape(tape):
    """A loop's tape (lists of saved tuples, inner loops' tapes among them) copied down to the
    arrays, which are shared: a pullback pops its copy and may run again."""
    if type(tape) is list:
        return [copy_tape(x) for x in tape]
    if type(tape) is tuple:
        return tuple(copy_tape(x) for x in tape)
    return tape
