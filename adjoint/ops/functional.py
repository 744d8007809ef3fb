"""MindSpore's functional operations (``ops.exp``, ``ops.sum``...), with MindSpore's signatures.

Each is written with primitives, so it runs eagerly on Tensors and the compiler inlines it.
"""
from ..compiler import rules as P


def add(input, other):
    return P.add(input, other)


def sub(input, other):
    return P.sub(input, other)


def mul(input, other):
    return P.mul(input, other)


def div(input, other, rounding_mode=None):
    return P.truediv(input, other)


def neg(input):
    return P.negative(input)


def pow(input, exponent):
    return P.power(input, exponent)


def exp(input):
    return P.exp(input)


def log(input):
    return P.log(input)


def sin(input):
    return P.sin(input)


def cos(input):
    return P.cos(input)


def tan(input):
    return P.tan(input)


def tanh(input):
    return P.tanh(input)


def sigmoid(input):
    return P.sigmoid(input)


def relu(input):
    return P.relu(input)


def sqrt(x):
    return P.sqrt(x)


def square(input):
    return P.square(input)


def abs(input):
    return P.absolute(input)


def maximum(input, other):
    return P.maximum(input, other)


def minimum(input, other):
    return P.minimum(input, other)


def where(condition, input, other):
    return P.where(condition, input, other)


def select(cond, input, other):
    return P.where(cond, input, other)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    return P.sum(input, dim, keepdim)


def mean(input, axis=None, keep_dims=False):
    return P.mean(input, axis, keep_dims)


def amax(input, axis=None, keepdims=False):
    return P.amax(input, axis, keepdims)


def amin(input, axis=None, keepdims=False):
    return P.amin(input, axis, keepdims)


def max(input, axis=None, keepdims=False, *, initial=None, where=None):
    """MindSpore 2.x ``ops.max``: (values, indices)."""
    return P.amax(input, axis, keepdims), P.argmax(input, axis)


def min(input, axis=None, keepdims=False, *, initial=None, where=None):
    return P.amin(input, axis, keepdims), P.argmin(input, axis)


def argmax(input, dim=None, keepdim=False):
    return P.argmax(input, dim)


def matmul(input, other):
    return P.matmul(input, other)


def bmm(input_x, mat2):
    return P.matmul(input_x, mat2)


def dot(input, other):
    return P.matmul(input, other)


def reshape(input, shape):
    return P.reshape(input, shape)


def transpose(input, input_perm):
    return P.transpose(input, input_perm)


def permute(input, axis):
    return P.transpose(input, axis)


def expand_dims(input_x, axis):
    return P.expand_dims(input_x, axis)


def unsqueeze(input, dim):
    return P.expand_dims(input, dim)


def squeeze(input, axis=None):
    return P.squeeze(input, axis)


def concat(tensors, axis=0):
    return P.concat(*tensors, axis=axis)


cat = concat


def stack(tensors, axis=0):
    return P.stack(*tensors, axis=axis)


def broadcast_to(input, shape):
    return P.broadcast_to(input, shape)


def softmax(input, axis=-1, *, dtype=None):
    return P.softmax(input, axis)


def log_softmax(logits, axis=-1):
    return P.log_softmax(logits, axis)


def cast(input, dtype):
    return P.astype(input, P.np_dtype(dtype))


def ones_like(input, *, dtype=None):
    return P.ones_like(input)


def zeros_like(input, *, dtype=None):
    return P.zeros_like(input)


def stop_gradient(value):
    """The value, through which no gradient flows."""
    return P.stop_gradient(value)


def shape(input):
    return P.shape(input)


def rank(input):
    return P.ndim(input)


def size(input):
    return P.size(input)


# -- more elementwise functions -------------------------------------------------------------------
def clamp(input, min=None, max=None):
    """min(max(input, min), max).

    Gradient: passes through at the bounds, inclusive (as MindSpore's clamp)."""
    return P.clip(input, min, max)


def clip(input, min=None, max=None):
    """ops.clamp.

    Gradient: passes through at the bounds, inclusive (as MindSpore)."""
    return P.clip(input, min, max)


def clip_by_value(x, clip_value_min=None, clip_value_max=None):
    """minimum(maximum(x, min), max).

    Gradient: split 1/2-1/2 between x and a bound equal to it (as MindSpore's clip_by_value,
    unlike clamp)."""
    if not P.is_none(clip_value_min):
        x = P.maximum(x, clip_value_min)
    if not P.is_none(clip_value_max):
        x = P.minimum(x, clip_value_max)
    return x


def erf(input):
    return P.erf(input)


def erfc(input):
    return P.erfc(input)


def log1p(input):
    return P.log1p(input)


def expm1(input):
    return P.expm1(input)


def exp2(input):
    return P.exp2(input)


def log2(input):
    return P.log2(input)


def log10(input):
    return P.log10(input)


def atan2(input, other):
    return P.arctan2(input, other)


def arctan2(input, other):
    return P.arctan2(input, other)


def atan(input):
    return P.arctan(input)


def arctan(input):
    return P.arctan(input)


def asin(input):
    return P.arcsin(input)


def arcsin(input):
    return P.arcsin(input)


def acos(input):
    return P.arccos(input)


def arccos(input):
    return P.arccos(input)


def sinh(input):
    return P.sinh(input)


def cosh(input):
    return P.cosh(input)


def asinh(input):
    return P.arcsinh(input)


def arcsinh(input):
    return P.arcsinh(input)


def acosh(input):
    return P.arccosh(input)


def arccosh(input):
    return P.arccosh(input)


def atanh(input):
    return P.arctanh(input)


def arctanh(input):
    return P.arctanh(input)


def reciprocal(input):
    return P.reciprocal(input)


def rsqrt(input):
    return P.reciprocal(P.sqrt(input))


def logaddexp(input, other):
    return P.logaddexp(input, other)


def logaddexp2(input, other):
    return P.logaddexp2(input, other)


def gelu(input, approximate="none"):
    """x * Phi(x) with the normal CDF by erf (approximate='none') or by tanh ('tanh')."""
    if approximate == "tanh":
        inner = 0.7978845608028654 * (input + 0.044715 * (input * input * input))
        return 0.5 * input * (1 + P.tanh(inner))
    return 0.5 * input * (1 + P.erf(input * 0.7071067811865476))


# -- more reductions --------------------------------------------------------------------------------
def prod(input, axis=None, keep_dims=False, dtype=None):
    """Gradient: exact where input has zeros (as MindSpore)."""
    return P.prod(input, P.reduce_axis(axis), keep_dims)


def cumsum(x, axis, dtype=None):
    return P.cumsum(x, axis)


def var(input, axis=None, ddof=0, keepdims=False):
    return P.np_var(input, P.reduce_axis(axis), None, None, ddof, keepdims)


def std(input, axis=None, ddof=0, keepdims=False):
    """Gradient: NaN where the variance is 0 (as MindSpore)."""
    return P.np_std(input, P.reduce_axis(axis), None, None, ddof, keepdims)


def logsumexp(input, dim, keepdim=False):
    """Gradient: softmax(input) along dim."""
    return P.logsumexp(input, P.reduce_axis(dim), keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector norms (any ord), matrix norms (dim a pair: 'fro', 1, -1, inf, -inf) and the
    2-norm of all values (ord None). With an ord and no dim, A must be a vector.

    Gradient: NaN at 0 for the 2-norm, 0 at 0 for ord=1; ord=inf/-inf sends it to the first
    largest/smallest |x| (as MindSpore)."""
    return P.np_norm(A, ord, P.reduce_axis(dim), keepdim)


# -- linear algebra -------------------------------------------------------------------------------
def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = operands[0]
    return P.einsum(equation, *operands)


def inverse(input):
    return P.inv(input)


def det(input):
    return P.det(input)


def matrix_determinant(input):
    return P.det(input)


def trace(input):
    return P.np_trace(input)


def diag(input):
    """A tensor with input's values on its diagonal: shape input.shape * 2 (for a vector, the
    diagonal matrix)."""
    return P.reshape(P.diag(P.reshape(input, (-1,))), P.doubled_shape(input))


def diagonal(input, offset=0, dim1=0, dim2=1):
    return P.diagonal(input, offset, dim1, dim2)


def outer(input, vec2):
    return P.np_outer(input, vec2)


# -- rearranging --------------------------------------------------------------------------------------
def tile(input, dims):
    return P.tile(input, dims)


def flip(input, dims):
    return P.flip(input, P.axis_tuple(dims))


def roll(input, shifts, dims=None):
    return P.roll(input, shifts, dims)


def tril(input, diagonal=0):
    return P.tril(input, diagonal)


def triu(input, diagonal=0):
    return P.triu(input, diagonal)


def moveaxis(x, source, destination):
    return P.moveaxis(x, source, destination)


def movedim(x, source, destination):
    return P.moveaxis(x, source, destination)


def swapaxes(input, axis0, axis1):
    return P.swapaxes(input, axis0, axis1)


def ravel(input):
    return P.reshape(input, (-1,))


def repeat_interleave(input, repeats, axis=None):
    return P.repeat(input, repeats, axis)


def split(tensor, split_size_or_sections, axis=0):
    """Pieces of the given sizes, or of split_size_or_sections elements each (then the
    Tensor's shape must be known: eagerly, not while compiling)."""
    return tuple(P.np_split(tensor, P.split_points(tensor, split_size_or_sections, axis), axis))


def hstack(tensors):
    return P.np_hstack(tensors)


def vstack(inputs):
    return P.np_vstack(inputs)


def pad(input_x, padding, mode="constant", value=None):
    """Padding as MindSpore gives it: (before, after) pairs for the *last* axes first; modes
    'constant', 'reflect', 'replicate', 'circular'."""
    mode = P.ms_pad_mode(mode)
    width = P.torch_pad_width(input_x, padding)
    return P.pad(input_x, width, mode, 0 if P.is_none(value) else value)


# -- gathering and sorting ----------------------------------------------------------------------------
def gather_elements(input, dim, index):
    return P.take_along_axis(input, index, dim)


def sort(input_x, axis=-1, descending=False):
    """(values, indices), a stable sort.

    Gradient: each value's goes back to where it came from; tied elements keep their order
    (as MindSpore)."""
    if descending:
        values, order = P.sort_descending(input_x, axis)
    else:
        order = P.argsort(input_x, axis, "stable")
        values = P.take_along_axis(input_x, order, axis)
    return values, P.astype(order, P.int32)


def argsort(input, axis=-1, descending=False):
    """Indices of a stable sort.

    Gradient: none (indices)."""
    order = P.argsort(-input if descending else input, axis, "stable")
    return P.astype(order, P.int32)


# -- constructors (no gradient) -------------------------------------------------------------------
def ones(shape, dtype=None):
    """float32 unless dtype is given."""
    return P.as_tensor(P.ms_ones(shape, P.np_dtype_or_none(dtype)))


def zeros(size, dtype=None):
    return P.as_tensor(P.ms_zeros(size, P.np_dtype_or_none(dtype)))


def arange(start=0, end=None, step=1, *, dtype=None):
    """int64 for integer arguments, float32 when one is a float (as MindSpore)."""
    return P.as_tensor(P.ms_arange(start, end, step, P.np_dtype_or_none(dtype)))
