"""Running an elementwise region of generated code over chunks of its arrays (chunking.py).

Each chunk's temporaries fit in the cache and are freed (and reused by malloc) at once; every
element goes through the same NumPy functions as in the whole-array code, so the results are
the same bits."""
import numpy as np


def chunked(kernel, chunk, *inputs):
    """``kernel`` (a function of chunks of equally shaped arrays, and of numbers, returning a
    tuple of chunks) run over all of them; its results as arrays of the inputs' shape."""
    shape, flat = None, []
    for a in inputs:
        if type(a) is np.ndarray:
            shape = a.shape
            a = a.reshape(-1)               # (a view of a contiguous array, else a copy)
        flat.append(a)
    if shape is None:                       # (numbers and NumPy scalars: one call)
        return kernel(*inputs)
    n = 1
    for d in shape:
        n *= d
    arrays = [type(a) is np.ndarray for a in flat]
    outs = None
    for i in range(0, n, chunk):
        j = i + chunk
        res = kernel(*[a[i:j] if is_array else a for a, is_array in zip(flat, arrays)])
        if outs is None:
            outs = [np.empty(n, np.result_type(r)) for r in res]
        for o, r in zip(outs, res):
            o[i:j] = r
    return tuple(o.reshape(shape) for o in outs)
