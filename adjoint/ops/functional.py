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
