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


class ReduceProd(_Reduce):
    def __call__(self, x, axis=()):
        return P.prod(x, P.reduce_axis(axis), self.keep_dims)


class OneHot(Primitive):
    def __init__(self, axis=-1):
        self.axis = axis

    def __call__(self, indices, depth, on_value, off_value):
        """Gradient: to on_value and off_value, none to the indices."""
        out = P.where(P.expand_dims(indices, -1) == P.ms_arange(depth), on_value, off_value)
        return out if self.axis == -1 else P.moveaxis(out, -1, self.axis)


class Softplus(Primitive):
    def __call__(self, input_x):
        return P.softplus(input_x)


class GeLU(Primitive):
    """The tanh form (as MindSpore's GeLU primitive; ops.gelu's default is the erf form)."""

    def __call__(self, x):
        inner = 0.7978845608028654 * (x + 0.044715 * (x * x * x))
        return 0.5 * x * (1 + P.tanh(inner))


class Erf(Primitive):
    def __call__(self, x):
        return P.erf(x)


class Erfc(Primitive):
    def __call__(self, x):
        return P.erfc(x)


class Log1p(Primitive):
    def __call__(self, x):
        return P.log1p(x)


class Expm1(Primitive):
    def __call__(self, x):
        return P.expm1(x)


class Atan2(Primitive):
    def __call__(self, x, y):
        return P.arctan2(x, y)


class Atan(Primitive):
    def __call__(self, x):
        return P.arctan(x)


class Asin(Primitive):
    def __call__(self, x):
        return P.arcsin(x)


class ACos(Primitive):
    def __call__(self, x):
        return P.arccos(x)


class Sinh(Primitive):
    def __call__(self, x):
        return P.sinh(x)


class Cosh(Primitive):
    def __call__(self, x):
        return P.cosh(x)


class Asinh(Primitive):
    def __call__(self, x):
        return P.arcsinh(x)


class Acosh(Primitive):
    def __call__(self, x):
        return P.arccosh(x)


class Atanh(Primitive):
    def __call__(self, x):
        return P.arctanh(x)


class Reciprocal(Primitive):
    def __call__(self, x):
        return P.reciprocal(x)


class Rsqrt(Primitive):
    def __call__(self, x):
        return P.reciprocal(P.sqrt(x))


class Tan(Primitive):
    def __call__(self, x):
        return P.tan(x)


class CumSum(Primitive):
    """Cumulative sum along axis; exclusive leaves each element out, reverse runs from the end."""

    def __init__(self, exclusive=False, reverse=False):
        self.exclusive, self.reverse = exclusive, reverse

    def __call__(self, input, axis):
        x = P.flip(input, axis) if self.reverse else input
        out = P.cumsum(x, axis)
        if self.exclusive:
            out = out - x
        return P.flip(out, axis) if self.reverse else out


class Einsum(Primitive):
    def __init__(self, equation):
        self.equation = equation

    def __call__(self, x):
        return P.einsum(self.equation, *x)


class Gather(Primitive):
    def __init__(self, batch_dims=0):
        self.batch_dims = batch_dims

    def __call__(self, input_params, input_indices, axis):
        return P.getitem(input_params, *P.take_index(axis, input_indices))


class GatherD(Primitive):
    def __call__(self, x, dim, index):
        return P.take_along_axis(x, index, dim)


class Tile(Primitive):
    def __call__(self, input, dims):
        return P.tile(input, dims)


class Split(Primitive):
    def __init__(self, axis=0, output_num=1):
        self.axis, self.output_num = axis, output_num

    def __call__(self, input_x):
        return tuple(P.np_split(input_x, self.output_num, self.axis))


class Sort(Primitive):
    def __init__(self, axis=-1, descending=False):
        self.axis, self.descending = axis, descending

    def __call__(self, x):
        if self.descending:
            values, order = P.sort_descending(x, self.axis)
        else:
            order = P.argsort(x, self.axis, "stable")
            values = P.take_along_axis(x, order, self.axis)
        return values, P.astype(order, P.int32)


class ReverseV2(Primitive):
    def __init__(self, axis):
        self.axis = axis

    def __call__(self, x):
        return P.flip(x, P.axis_tuple(self.axis))


class MatrixInverse(Primitive):
    def __init__(self, adjoint=False):
        self.adjoint = adjoint

    def __call__(self, x):
        return P.inv(P.mT(x) if self.adjoint else x)


class MatrixDeterminant(Primitive):
    def __call__(self, x):
        return P.det(x)


class Trace(Primitive):
    def __call__(self, x):
        return P.np_trace(x)


class Pad(Primitive):
    """Zeros around x: paddings gives (before, after) for each axis, the first axis first."""

    def __init__(self, paddings):
        self.paddings = paddings

    def __call__(self, input_x):
        return P.pad(input_x, self.paddings)


class Tril(Primitive):
    def __init__(self, diagonal=0):
        self.diagonal = diagonal

    def __call__(self, x):
        return P.tril(x, self.diagonal)


class Triu(Primitive):
    def __init__(self, diagonal=0):
        self.diagonal = diagonal

    def __call__(self, x):
        return P.triu(x, self.diagonal)


class Ones(Primitive):
    def __call__(self, shape, type=None):
        return P.as_tensor(P.ms_ones(shape, P.np_dtype_or_none(type)))


class Zeros(Primitive):
    def __call__(self, shape, type=None):
        return P.as_tensor(P.ms_zeros(shape, P.np_dtype_or_none(type)))
