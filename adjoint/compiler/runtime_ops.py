"""NumPy helpers for the wider set of primitives (``rules/special.py`` and the products,
einsum, diagonal, tiling, padding and gather primitives): generated code calls them by name.

Like ``runtime.py`` they work on ndarrays and numbers, keep the input's float dtype, and read
an argument that the passes may replace by its shape (``shape_only``) only through ``_shape``.
"""
import math

import numpy as np

from .runtime import _axes, _shape, unbroadcast


# -- erf and erfc -----------------------------------------------------------------------------
# No SciPy. Three regions of |x|, each accurate to a few ulp in float64 (tests compare with
# the C library's erf/erfc through Python's math module, and with SciPy when it is installed):
#   |x| < 0.5:       erf by its Maclaurin series (13 terms); erfc = 1 - erf.
#   0.5 <= |x| < 2:  erfc by its Taylor series around the nearest of six anchors (spacing 1/4):
#                    erfc(a+h) = erfc(a) - 2/sqrt(pi) e^(-a^2) sum_n (-1)^n H_n(a) h^(n+1)/(n+1)!
#                    (H_n the Hermite polynomials); erfc(a) computed once, in 50-digit decimal.
#   |x| >= 2:        erfc by Laplace's continued fraction, evaluated backwards.
# exp(-x^2) is computed as exp(-hi^2) exp(-lo (hi + x)) with x = hi + lo and hi holding 26
# bits, so the rounding of x^2 (relative error ~x^2 ulp) does not reach the tail.
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ONE_OVER_SQRT_PI = 1.0 / math.sqrt(math.pi)
_ANCHOR_STEP = 0.25
_ANCHORS = np.arange(0.625, 2.0, _ANCHOR_STEP)          # 0.625 ... 1.875: h in [-1/8, 1/8)
_TAYLOR_TERMS = 18
_ANCHOR_COEFFS = None
# 2/sqrt(pi) (-1)^n / (n! (2n + 1)), highest power first
_MACLAURIN = [2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(12, -1, -1)]


def _exp_neg_square(x):
    hi = (x.view(np.uint64) & np.uint64(0xFFFFFFFFF8000000)).view(np.float64)
    lo = x - hi
    return np.exp(-hi * hi) * np.exp(-lo * (hi + x))


def _erf_series(a):
    """erf(a) for 0 <= a < 0.5: a * P(a^2), P the Maclaurin series of erf(a)/a, 13 terms
    (alternating, but its first term dominates: no cancellation)."""
    z = a * a
    total = np.full_like(a, _MACLAURIN[0])
    for c in _MACLAURIN[1:]:
        total *= z
        total += c
    return a * total


def _taylor_coefficients():
    """Row j: the Taylor coefficients of erfc around anchor j, highest power first, computed
    once in 50-digit decimal arithmetic (erfc(a) by the series 2/sqrt(pi) exp(-a^2)
    sum_k 2^k a^(2k+1) / (2k+1)!!, whose terms are all positive, then the Hermite terms)."""
    global _ANCHOR_COEFFS
    if _ANCHOR_COEFFS is None:
        from decimal import Decimal, localcontext
        rows = []
        with localcontext() as ctx:
            ctx.prec = 50
            pi = Decimal("3.14159265358979323846264338327950288419716939937510582097494")
            for anchor in _ANCHORS:
                a = Decimal(float(anchor))          # the anchors are exact binary fractions
                a2 = a * a
                scale = 2 / pi.sqrt() * (-a2).exp()
                term = total = a
                k = 0
                while term > Decimal(10) ** -55:
                    k += 1
                    term = term * 2 * a2 / (2 * k + 1)
                    total += term
                coeffs = [1 - scale * total]
                h_prev, h_cur = Decimal(0), Decimal(1)          # H_{-1} (unused), H_0
                factorial = Decimal(1)
                for n in range(_TAYLOR_TERMS - 1):
                    factorial *= n + 1
                    coeffs.append(-scale * (-1) ** n * h_cur / factorial)
                    h_prev, h_cur = h_cur, 2 * a * h_cur - 2 * n * h_prev
                rows.append([float(c) for c in reversed(coeffs)])
        _ANCHOR_COEFFS = np.array(rows)
    return _ANCHOR_COEFFS


def _erfc_taylor(a):
    """erfc(a) for 0.5 <= a < 2: a polynomial in h = a - anchor (|h| <= 1/8), by Horner, one
    anchor at a time (so the coefficients are numbers, not gathered arrays)."""
    coeffs = _taylor_coefficients()
    j = np.minimum(((a - 0.5) / _ANCHOR_STEP).astype(np.intp), len(_ANCHORS) - 1)
    out = np.empty_like(a)
    for k, anchor in enumerate(_ANCHORS):
        m = j == k
        if not m.any():
            continue
        h = a[m] - anchor
        total = np.full_like(h, coeffs[k, 0])
        for c in coeffs[k, 1:]:
            total *= h
            total += c
        out[m] = total
    return out


def _erfc_fraction(a):
    """erfc(a) for a >= 2: exp(-a^2)/sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + ...))))."""
    out = np.zeros_like(a)
    for lo, hi, depth in ((2.0, 2.5, 64), (2.5, 4.0, 40), (4.0, 27.5, 24)):
        m = (a >= lo) & (a < hi)
        if not m.any():
            continue
        x = a[m]
        t = x.copy()
        for k in range(depth, 0, -1):
            t = x + (0.5 * k) / t
        out[m] = _exp_neg_square(x) * _ONE_OVER_SQRT_PI / t
    return out                                              # (a >= 27.5: erfc underflows to 0)


def _erfc_positive(a):
    """erfc(a) for a >= 0.5 (float64 array)."""
    out = np.empty_like(a)
    mid = a < 2.0
    if mid.any():
        out[mid] = _erfc_taylor(a[mid])
    if not mid.all():
        out[~mid] = _erfc_fraction(a[~mid])
    return out


def _special(fn, x):
    """Apply fn (on float64 arrays) to x: numbers and arrays, computed in float64, returned in
    x's float dtype (float64 for integers); other array types through their map_blocks."""
    if type(x) is not np.ndarray and not isinstance(x, (float, int, np.number)):
        if hasattr(x, "map_blocks"):                        # Dask and friends
            return x.map_blocks(lambda b: _special(fn, b), dtype=x.dtype)
        x = np.asarray(x)
    arr = np.asarray(x)
    dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64)
    flat = np.array(arr, dtype=np.float64).reshape(-1)
    out = fn(flat).reshape(arr.shape).astype(dtype, copy=False)
    return out if type(x) is np.ndarray else out[()]


def _erf64(x):
    a = np.abs(x)
    out = np.empty_like(x)
    small = a < 0.5
    if small.any():
        out[small] = _erf_series(a[small])
    if not small.all():
        out[~small] = 1.0 - _erfc_positive(a[~small])
    out = np.copysign(out, x)
    out[np.isnan(x)] = np.nan
    return out


def _erfc64(x):
    a = np.abs(x)
    out = np.empty_like(x)
    small = a < 0.5
    if small.any():
        out[small] = 1.0 - _erf_series(a[small]) * np.sign(x[small])
    big = ~small
    if big.any():
        tail = _erfc_positive(a[big])
        out[big] = np.where(x[big] < 0, 2.0 - tail, tail)
    out[np.isnan(x)] = np.nan
    return out


def erf(x):
    """The error function, elementwise (x's float dtype)."""
    return _special(_erf64, x)


def erfc(x):
    """1 - erf(x), accurate in the tail (x's float dtype)."""
    return _special(_erfc64, x)


# -- products ---------------------------------------------------------------------------------
def _groups(x, axis):
    """x with the reduced axes moved last and flattened into one: (array (..., n), undo)."""
    x = np.asarray(x)
    axes = _axes(axis, x.ndim)
    rest = [d for d in range(x.ndim) if d not in axes]
    perm = rest + list(axes)
    moved = np.transpose(x, perm)
    shape = moved.shape
    flat = moved.reshape(shape[:len(rest)] + (-1,))

    def undo(y):
        return np.transpose(np.reshape(y, shape), np.argsort(perm))
    return flat, undo


def _exclusive_products(y):
    """For each position k along the last axis: the products of the entries before and after k."""
    left = np.ones_like(y)
    right = np.ones_like(y)
    if y.shape[-1] > 1:
        np.cumprod(y[..., :-1], axis=-1, out=left[..., 1:])
        right[..., :-1] = np.cumprod(y[..., :0:-1], axis=-1)[..., ::-1]
    return left, right


def prod_others(x, axis=None):
    """For each element, the product of the *other* elements it is reduced with (the gradient
    of np.prod without dividing by x, so exact where x has zeros)."""
    y, undo = _groups(x, axis)
    left, right = _exclusive_products(y)
    return undo(left * right)


def prod_others_grad(g, x, axis=None):
    """The gradient of sum(g * prod_others(x)) with respect to x: for each k, the sum over
    i != k of g_i times the product of the elements other than i and k (by two scans, exact
    with zeros)."""
    y, undo = _groups(x, axis)
    gy, _ = _groups(g, axis)
    left, right = _exclusive_products(y)
    n = y.shape[-1]
    before = np.zeros_like(gy * y)          # sum_{i<k} g_i prod_{j<k, j!=i} y_j
    after = np.zeros_like(before)           # sum_{i>k} g_i prod_{j>k, j!=i} y_j
    for k in range(1, n):
        before[..., k] = before[..., k - 1] * y[..., k - 1] + gy[..., k - 1] * left[..., k - 1]
    for k in range(n - 2, -1, -1):
        after[..., k] = after[..., k + 1] * y[..., k + 1] + gy[..., k + 1] * right[..., k + 1]
    return undo(before * right + left * after)


# -- einsum -----------------------------------------------------------------------------------
def einsum(subscripts, *operands):
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


def _einsum_terms(subscripts):
    """The input terms and the output term of an einsum, the implicit output made explicit."""
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        inputs, output = spec.split("->")
    else:
        inputs = spec
        letters = [c for c in inputs if c.isalpha()]
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    return inputs.split(","), output


def einsum_grad(g, k, subscripts, *operands):
    """The gradient of ``einsum(subscripts, *operands)`` with respect to operand k (of which
    only the shape is used): an einsum of g with the other operands, with a ones factor for
    the labels only operand k has, summed over broadcast ellipsis axes, and written back into
    repeated labels (diagonals) and the operand's own label order."""
    inputs, output = _einsum_terms(subscripts)
    term = inputs[k]
    shape = _shape(operands[k])
    pre, ellipsis, post = term.partition("...")
    n_ell = len(shape) - len(pre) - len(post) if ellipsis else 0
    axis_of = {c: i for i, c in enumerate(pre)}
    axis_of.update({c: len(shape) - len(post) + i for i, c in enumerate(post)})
    unique = "".join(dict.fromkeys(pre + post))
    terms, arrays = [output], [g]
    for j, other in enumerate(operands):
        if j != k:
            terms.append(inputs[j])
            arrays.append(other)
    dtype = np.result_type(*arrays)
    present = set("".join(terms))
    missing = "".join(c for c in unique if c not in present)
    if missing:
        terms.append(missing)
        arrays.append(np.ones([shape[axis_of[c]] for c in missing], dtype))
    ell_shape = tuple(shape[len(pre):len(pre) + n_ell])
    if ellipsis and "..." not in "".join(terms):
        terms.append("...")
        arrays.append(np.ones(ell_shape, dtype))
    # the result's leading axes are the broadcast ellipsis axes of all the terms (summed down
    # to this operand's own), then its labels, each once
    target = ("..." if "..." in "".join(terms) else "") + unique
    r = np.einsum(",".join(terms) + "->" + target, *arrays, optimize=len(arrays) > 2)
    r = unbroadcast(r, ell_shape + tuple(shape[axis_of[c]] for c in unique))
    own = ("..." if ellipsis else "") + unique
    if term == own:
        return r
    out = np.zeros(shape, r.dtype)
    np.einsum(term + "->" + own, out)[...] = r             # a writeable view of out
    return out


# -- diagonals --------------------------------------------------------------------------------
def diag_grad(g, x, k=0):
    """The gradient of np.diag(x, k): the k-th diagonal of g when x is a vector, else g written
    on the k-th diagonal of zeros shaped like x."""
    shape = _shape(x)
    if len(shape) == 1:
        return np.diagonal(g, k).copy()
    return diagonal_grad(g, shape, k)


def diagonal_grad(g, x, offset=0, axis1=0, axis2=1):
    """Zeros shaped like ``x`` with ``g`` on the diagonal np.diagonal(x, offset, axis1, axis2) reads."""
    shape = _shape(x)
    out = np.zeros(shape, np.result_type(g))
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    n = np.shape(g)[-1] if np.ndim(g) else 0
    i = np.arange(n) + max(-offset, 0)
    view[..., i, i + offset] = g
    return out


# -- tiling, repeating, padding ---------------------------------------------------------------
def tile_grad(g, x, reps):
    """The gradient of np.tile(x, reps): the tiles of g summed, shaped like x."""
    shape = _shape(x)
    interleaved, tile_axes = tile_layout(shape, (reps,) if np.ndim(reps) == 0 else tuple(reps))
    summed = np.reshape(g, interleaved).sum(axis=tile_axes)
    return np.reshape(summed, shape)


def tile_layout(shape, reps):
    """np.tile(x, reps)'s result seen as (reps0, shape0, reps1, shape1, ...), and the axes of
    the repetitions in it (summing over them gives the gradient of x)."""
    d = max(len(reps), len(shape))
    full_shape = (1,) * (d - len(shape)) + tuple(shape)
    full_reps = (1,) * (d - len(reps)) + tuple(reps)
    interleaved = []
    for r, s in zip(full_reps, full_shape):
        interleaved += [r, s]
    return tuple(interleaved), tuple(range(0, 2 * d, 2))


def repeat_grad(g, x, repeats, axis=None):
    """The gradient of np.repeat(x, repeats, axis): each run of repeated copies summed."""
    shape = _shape(x)
    if axis is None:
        n, axis = int(np.prod(shape)), 0
    else:
        axis %= len(shape)
        n = shape[axis]
    if np.ndim(repeats) == 0 or np.size(repeats) == 1:
        r = int(np.reshape(repeats, -1)[0])
        gs = np.shape(g)
        split = gs[:axis] + (n, r) + gs[axis + 1:]
        out = np.reshape(g, split).sum(axis=axis + 1)
    else:
        counts = np.asarray(repeats)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        out = np.add.reduceat(g, np.minimum(starts, max(np.shape(g)[axis] - 1, 0)), axis=axis) \
            if np.shape(g)[axis] else np.zeros(np.shape(g)[:axis] + (n,) + np.shape(g)[axis + 1:], np.result_type(g))
        if (counts == 0).any():                    # reduceat gives g[start] for an empty run
            mask = (counts != 0).reshape((-1,) + (1,) * (out.ndim - axis - 1))
            out = out * mask.astype(out.dtype)
    return np.reshape(out, shape)


def _pad_width(pad_width, ndim):
    return np.broadcast_to(np.asarray(pad_width, dtype=np.intp).reshape(-1, 2) if np.ndim(pad_width)
                           else np.full((1, 2), pad_width, dtype=np.intp), (ndim, 2))


def pad(x, pad_width, mode="constant", constant_values=0):
    if mode == "constant":
        return np.pad(x, pad_width, mode="constant", constant_values=constant_values)
    return np.pad(x, pad_width, mode=mode)


def pad_grad(g, x, pad_width, mode="constant"):
    """The gradient of np.pad(x, pad_width, mode): the inner block of g for 'constant'; for
    the modes that copy x's own elements outward ('edge', 'reflect', 'symmetric', 'wrap'), each
    padded element's gradient added to the element it copies."""
    shape = _shape(x)
    widths = _pad_width(pad_width, len(shape))
    if mode == "constant":
        return g[tuple(slice(int(b), int(b) + n) for (b, _), n in zip(widths, shape))]
    size = int(np.prod(shape))
    source = np.pad(np.arange(size).reshape(shape), widths, mode=mode)
    out = np.bincount(source.reshape(-1), weights=np.reshape(g, -1), minlength=size)
    return out.reshape(shape).astype(np.result_type(g), copy=False)


def torch_pad_width(x, padding):
    """MindSpore's (and PyTorch's) padding, pairs for the *last* axes first, as np.pad's width."""
    ndim = len(_shape(x))               # (x may be its saved shape: shape-only argument)
    pairs = [(int(padding[i]), int(padding[i + 1])) for i in range(0, len(padding), 2)]
    return tuple([(0, 0)] * (ndim - len(pairs)) + pairs[::-1])


# -- gathers ----------------------------------------------------------------------------------
def take_along_axis(x, indices, axis):
    return np.take_along_axis(x, indices, axis)


def take_along_axis_grad(g, x, indices, axis):
    """The gradient of np.take_along_axis(x, indices, axis): g added at the places it was taken
    from (repeated indices add up)."""
    shape = _shape(x)
    out = np.zeros(shape, np.result_type(g))
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    gshape = np.shape(g)
    axis %= len(shape)
    index = []
    for d in range(len(shape)):
        if d == axis:
            index.append(np.broadcast_to(indices, gshape))
        else:
            index.append(np.arange(gshape[d]).reshape((-1,) + (1,) * (len(shape) - d - 1)))
    np.add.at(out, tuple(index), g)
    return out


def hstack_axis(x):
    """np.hstack joins 1-D arrays along axis 0, others along axis 1."""
    return 0 if np.ndim(x) == 1 else 1


def doubled_shape(x):
    """x's shape twice (the shape of MindSpore's ops.diag of x)."""
    return tuple(_shape(x)) * 2


# -- MindSpore's constructors -----------------------------------------------------------------
def ms_ones(shape, dtype=None):
    return np.ones(shape, dtype=np.float32 if dtype is None else dtype)


def ms_zeros(shape, dtype=None):
    return np.zeros(shape, dtype=np.float32 if dtype is None else dtype)


def ms_arange(start=0, end=None, step=1, dtype=None):
    """ops.arange: int64 for integer arguments, float32 when any is a float (MindSpore's)."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        floats = any(isinstance(v, (float, np.floating)) or np.asarray(v).dtype.kind == "f"
                     for v in (start, end, step))
        dtype = np.float32 if floats else np.int64
    return np.arange(start, end, step, dtype=dtype)
