"""Helpers for arrays of other libraries (Dask, CuPy...) where NumPy's dispatch protocols do
not reach: the scatter-add of a gather's gradient (``np.add.at``, a ufunc method Dask does not
implement). Imported only when such an array reaches ``runtime.getitem_grad``; NumPy code
never comes here, and Dask is imported only for a Dask array.
"""
import numpy as np


def is_dask(x):
    return hasattr(x, "__dask_graph__") and hasattr(x, "chunks")


def add_at(g, shape, dtype, index, x_chunks=None):
    """``np.add.at(zeros(shape, dtype), index, g)`` without converting g (or index) to NumPy:
    a Dask graph for Dask arrays, the library's own ``add.at`` for the others (CuPy has one)."""
    parts = index if type(index) is tuple else (index,)
    if is_dask(g) or any(is_dask(p) for p in parts):
        return _dask_add_at(g, shape, np.dtype(dtype), parts, x_chunks)
    out = np.zeros_like(g, dtype=dtype, shape=shape)
    np.add.at(out, index, g)
    return out


def _is_basic(p):
    return p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))


def _dask_add_at(g, shape, dtype, parts, x_chunks):
    import dask.array as da

    arrays = [k for k, p in enumerate(parts) if not _is_basic(p)]
    if not arrays:
        # ints and slices: every element of x is picked at most once, so adding is writing
        out = da.zeros(shape, dtype=dtype, chunks=x_chunks or "auto")
        out[parts] = g
        return out
    k = arrays[0]
    idx = parts[k]
    if (len(arrays) == 1 and all(p == slice(None) for p in parts[:k] + parts[k + 1:])
            and np.dtype(idx.dtype).kind in "iu"):
        return _dask_scatter_rows(da, g, shape, dtype, idx, k, x_chunks)
    raise NotImplementedError(
        "the gradient of x[index] on Dask arrays supports ints and slices, or one integer array "
        "along one axis (x[i], x[:, i]); got an index of %s" %
        ", ".join(type(p).__name__ if not hasattr(p, "dtype") else "%s array" % p.dtype for p in parts))


def _dask_scatter_rows(da, g, shape, dtype, idx, axis, x_chunks):
    """The gradient of ``x[(slice(None),) * axis + (idx,)]``: block (i, r) of the result holds
    block i of g scattered (NumPy's ``add.at``) into the rows of row-block r, and the blocks
    of g are summed in a tree. The rows are chunked like x when x is a Dask array, so no task
    holds more than one block of g and one block of rows."""
    g = da.asarray(g)
    idx = da.asarray(idx)
    m = idx.ndim
    shape = tuple(int(n) for n in shape)
    # g is shaped x.shape[:axis] + idx.shape + x.shape[axis+1:]: bring idx's axes to the front
    if axis:
        g = da.moveaxis(g, list(range(axis, axis + m)), list(range(m)))
    n_rows = shape[axis]
    rest = shape[:axis] + shape[axis + 1:]
    if x_chunks is not None:
        row_chunks = x_chunks[axis]
    else:
        row_chunks = da.core.normalize_chunks("auto", (n_rows,) + rest, dtype=dtype)[0]
    rows = da.arange(n_rows, chunks=(row_chunks,))
    idx = idx.rechunk(g.chunks[:m])
    g_ind = tuple("i%d" % j for j in range(g.ndim))
    out_ind = g_ind[:m] + ("v",) + g_ind[m:]
    parts = da.blockwise(_scatter_block, out_ind, g, g_ind, idx, g_ind[:m], rows, ("v",),
                         n_rows=n_rows, out_dtype=dtype,
                         adjust_chunks={a: 1 for a in g_ind[:m]}, dtype=dtype,
                         meta=np.empty((0,) * len(out_ind), dtype))
    out = parts.sum(axis=tuple(range(m)), dtype=dtype)
    if axis:
        out = da.moveaxis(out, 0, axis)
    return out


def _scatter_block(gb, ib, rows, n_rows, out_dtype):
    """One block of g added at its indices ib into the rows ``rows`` (a contiguous range)."""
    lo = int(rows[0]) if len(rows) else 0
    out = np.zeros((len(rows),) + gb.shape[ib.ndim:], out_dtype)
    ib = np.where(ib < 0, ib + n_rows, ib)
    here = (ib >= lo) & (ib < lo + len(rows))
    np.add.at(out, ib[here] - lo, gb[here])
    return out.reshape((1,) * ib.ndim + out.shape)
