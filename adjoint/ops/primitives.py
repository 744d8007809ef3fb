"""MindSpore's primitive classes (``ops.Mul()``, ``ops.MatMul(transpose_b=True)``...).

An instance is created in ``__init__`` and called in ``construct``; its ``__call__`` is written
with primitives, so the compiler inlines it with the instance's attributes as constants.
"""
from ..compiler import rules as P


class Primitive:
    """Base of primitive classes; attributes set in __init__ are compile-time constants."""

    def __repr__(self):
        attrs = ", ".join("%s=%r" % kv for kv in sorted(vars(self).items()))
        return "Prim[%s](%s)" % (type(self).__name__, attrs) if attrs else "Prim[%s]" % type(self).__name__


class Add(Primitive):
    def __call__(self, x, y):
        return P.add(x, y)


class Sub(Primitive):
    def __call__(self, x, y):
        return P.sub(x, y)


class Mul(Primitive):
    def __call__(self, x, y):
        return P.mul(x, y)


class RealDiv(Primitive):
    def __call__(self, x, y):
        return P.truediv(x, y)


Div = RealDiv


class Neg(Primitive):
    def __call__(self, x):
        return P.negative(x)


class Pow(Primitive):
    def __call__(self, x, y):
        return P.power(x, y)


class Exp(Primitive):
    def __call__(self, x):
        return P.exp(x)


class Log(Primitive):
    def __call__(self, x):
        return P.log(x)


class Sin(Primitive):
    def __call__(self, x):
        return P.sin(x)


class Cos(Primitive):
    def __call__(self, x):
        return P.cos(x)


class Tanh(Primitive):
    def __call__(self, x):
        return P.tanh(x)


class Sigmoid(Primitive):
    def __call__(self, x):
        return P.sigmoid(x)


class ReLU(Primitive):
    def __call__(self, x):
        return P.relu(x)


class Sqrt(Primitive):
    def __call__(self, x):
        return P.sqrt(x)


class Square(Primitive):
    def __call__(self, x):
        return P.square(x)


class Abs(Primitive):
    def __call__(self, x):
        return P.absolute(x)


class Maximum(Primitive):
    def __call__(self, x, y):
        return P.maximum(x, y)


class Minimum(Primitive):
    def __call__(self, x, y):
        return P.minimum(x, y)


class Select(Primitive):
    def __call__(self, cond, x, y):
        return P.where(cond, x, y)


class _Reduce(Primitive):
    def __init__(self, keep_dims=False):
        self.keep_dims = keep_dims


class ReduceSum(_Reduce):
    def __call__(self, x, axis=()):
        return P.sum(x, P.reduce_axis(axis), self.keep_dims)


class ReduceMean(_Reduce):
    def __call__(self, x, axis=()):
        return P.mean(x, P.reduce_axis(axis), self.keep_dims)


class ReduceMax(_Reduce):
    def __call__(self, x, axis=()):
        return P.amax(x, P.reduce_axis(axis), self.keep_dims)


class ReduceMin(_Reduce):
    def __call__(self, x, axis=()):
        return P.amin(x, P.reduce_axis(axis), self.keep_dims)


class MatMul(Primitive):
    def __init__(self, transpose_a=False, transpose_b=False):
        self.transpose_a, self.transpose_b = transpose_a, transpose_b

    def __call__(self, x, y):
        if self.transpose_a:
            x = P.mT(x)
        if self.transpose_b:
            y = P.mT(y)
        return P.matmul(x, y)


class BatchMatMul(MatMul):
    pass


class Reshape(Primitive):
    def __call__(self, x, shape):
        return P.reshape(x, shape)


class Transpose(Primitive):
    def __call__(self, x, perm):
        return P.transpose(x, perm)


class ExpandDims(Primitive):
    def __call__(self, x, axis):
        return P.expand_dims(x, axis)


class Squeeze(Primitive):
    def __init__(self, axis=()):
        self.axis = axis

    def __call__(self, x):
        return P.squeeze(x, P.reduce_axis(self.axis))


class Concat(Primitive):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, xs):
        return P.concat(*xs, axis=self.axis)


class Stack(Primitive):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, xs):
        return P.stack(*xs, axis=self.axis)


class Softmax(Primitive):
    def __init__(self, axis=-1):
        self.axis = axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis

    def __call__(self, x):
        return P.softmax(x, self.axis)


class LogSoftmax(Softmax):
    def __call__(self, x):
        return P.log_softmax(x, self.axis)


class Cast(Primitive):
    def __call__(self, x, dtype):
        return P.astype(x, P.np_dtype(dtype))


class OnesLike(Primitive):
    def __call__(self, x):
        return P.ones_like(x)


class ZerosLike(Primitive):
    def __call__(self, x):
        return P.zeros_like(x)


class StopGradient(Primitive):
    def __call__(self, x):
        return P.stop_gradient(x)


class Shape(Primitive):
    def __call__(self, x):
        return P.shape(x)
