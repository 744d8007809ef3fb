"""NumPy helpers for training layers that generated code calls by name: parameter writes
(``assign``), dropout masks, the coefficients of the classification losses, and small
shape helpers of the normalisation layers."""
import numpy as np

from .runtime import is_duck_array


def _arr(x):
    """x as an array: an ndarray, or an array of another library left as it is (a Dask array:
    np.asarray would compute it)."""
    return x if type(x) is np.ndarray or is_duck_array(x) else np.asarray(x)


def _number(x, dtype):
    """A count or sum as a number of ``dtype``; a lazy 0-d array stays one (cast lazily)."""
    return x.astype(dtype) if is_duck_array(x) else dtype.type(x)


# -- effects ----------------------------------------------------------------------------------
def assign(variable, value):
    """Write ``value`` into the Parameter's array, in place (``ops.assign``); return it."""
    np.copyto(variable, value, casting="unsafe")
    return variable


def dropout_mask(x, p):
    """A fresh random mask shaped like ``x``: 0 with probability ``p``, else ``1 / (1 - p)``
    (in x's float dtype). Drawn from NumPy's global generator, so ``np.random.seed`` repeats it."""
    dtype = np.result_type(x)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    if p >= 1:
        return np.zeros(np.shape(x), dtype)
    keep = np.random.random_sample(np.shape(x)) >= p
    return keep * dtype.type(1.0 / (1.0 - p))


# -- elementwise ------------------------------------------------------------------------------
def softplus(x):
    """log(1 + exp(x)), without overflow."""
    return np.logaddexp(0, x)


# -- losses -----------------------------------------------------------------------------------
def _class_targets(target, logits, label_smoothing):
    """Targets as rows of class weights shaped like ``logits`` (N, C, ...), and which samples
    count (class indices equal to ignore_index do not)."""
    target = _arr(target)
    logits = _arr(logits)
    n_classes = logits.shape[1] if logits.ndim > 1 else logits.shape[0]
    axis = 1 if logits.ndim > 1 else 0
    dtype = logits.dtype if logits.dtype.kind == "f" else np.dtype(np.float64)
    if target.dtype.kind in "iub":          # class indices
        classes = np.arange(n_classes).reshape((-1,) + (1,) * (logits.ndim - 1 - axis))
        onehot = np.equal(np.expand_dims(target, axis), classes).astype(dtype)
        return onehot, True
    probs = target.astype(dtype, copy=False)
    if label_smoothing:
        probs = probs * dtype.type(1 - label_smoothing) + dtype.type(label_smoothing / n_classes)
    return probs, False


def _class_shape(logits):
    ndim = np.ndim(logits)
    return (-1,) + (1,) * (ndim - 2) if ndim > 1 else (-1,)


def ce_weights(target, logits, weight=None, ignore_index=-100, label_smoothing=0.0):
    """Coefficients ``c`` shaped like ``logits`` such that the per-sample loss is
    ``-sum(c * log_softmax(logits), axis=1)`` (MindSpore's/PyTorch's cross entropy: class
    weights, ignore_index and label smoothing for class indices; weights and smoothing for
    class probabilities)."""
    rows, indices = _class_targets(target, logits, label_smoothing)
    dtype = rows.dtype
    w = None if weight is None else np.asarray(weight, dtype).reshape(_class_shape(logits))
    if not indices:
        return rows if w is None else rows * w
    n_classes = rows.shape[1] if rows.ndim > 1 else rows.shape[0]
    axis = 1 if rows.ndim > 1 else 0
    # an ignored label outside [0, C) already has a row of zeros
    valid = np.expand_dims(_arr(target) != ignore_index, axis) if 0 <= ignore_index < n_classes else True
    if w is None:
        coef = rows * dtype.type(1 - label_smoothing) + dtype.type(label_smoothing / n_classes) \
            if label_smoothing else rows
    else:
        picked = np.sum(rows * w, axis=axis, keepdims=True)         # w[y]
        coef = rows * picked * dtype.type(1 - label_smoothing)
        if label_smoothing:
            coef = coef + w * dtype.type(label_smoothing / n_classes)
    return coef if valid is True else coef * valid


def ce_denominator(target, logits, weight=None, ignore_index=-100):
    """What 'mean' divides the summed loss by: the summed weights of the counted samples'
    classes for class indices (their number without weights), the number of samples for
    class probabilities."""
    target = _arr(target)
    logits = _arr(logits)
    dtype = logits.dtype if logits.dtype.kind == "f" else np.dtype(np.float64)
    if target.dtype.kind not in "iub":
        return dtype.type(target.size // (logits.shape[1] if logits.ndim > 1 else logits.shape[0]))
    valid = target != ignore_index
    if weight is None:
        return _number(np.count_nonzero(valid), dtype)
    w = np.asarray(weight, dtype)
    if is_duck_array(target):               # (a NumPy w indexed by a Dask array would compute it)
        w = np.asarray(w, like=target)
    return _number(np.sum(w[np.where(valid, target, 0)] * valid), dtype)


# -- normalisation ----------------------------------------------------------------------------
def batch_axes(x):
    """The axes BatchNorm averages over: all but the channels (axis 1)."""
    return (0,) + tuple(range(2, np.ndim(x)))


def channel_shape(x):
    """(1, C, 1, ...): a per-channel vector shaped to broadcast against x."""
    shape = np.shape(x)
    return (1, shape[1]) + (1,) * (len(shape) - 2)


def tail_axes(x, begin):
    """The axes from ``begin`` to the last (LayerNorm's normalised axes)."""
    ndim = np.ndim(x)
    return tuple(range(begin % ndim, ndim))
