"""Tensor, Parameter and ParameterTuple: thin MindSpore-style wrappers around numpy.ndarray.

Generated gradient code never sees these: they are unwrapped on entry and wrapped on exit.
Methods and operators are written in terms of primitives, so the compiler can inline them
when a ``construct`` calls ``x.sum()`` or ``x @ w``.
"""
import warnings

import numpy as np

from . import dtype as mstype
from .compiler import hooks
from .compiler.runtime import is_duck_array
from .compiler import rules as P
from .compiler.hooks import structure_changed, unwrap, unwrap_args, wrap_result  # noqa: F401


def _default_dtype(data):
    """MindSpore's dtype for Python data: floats are float32, ints int64."""
    arr = np.asarray(data)
    if arr.dtype == np.float64:
        return np.float32
    return arr.dtype


class Tensor:
    __slots__ = ("_data", "__weakref__")
    __array_priority__ = 100

    def __init__(self, input_data=None, dtype=None, shape=None, init=None, const_arg=False):
        if isinstance(input_data, Tensor):
            data = input_data._data
        elif input_data is None and shape is not None:
            data = np.zeros(shape, dtype=mstype.to_numpy(dtype or mstype.float32))
        elif isinstance(input_data, np.ndarray):
            data = input_data
        elif isinstance(input_data, np.generic):
            data = np.asarray(input_data)
        elif is_duck_array(input_data):
            warnings.warn("Tensor(%s) computes it into a NumPy array; to keep it lazy, pass the "
                          "%s itself to the gradient function" % ((type(input_data).__name__,) * 2),
                          UserWarning, stacklevel=2)
            data = np.asarray(input_data)
        else:
            data = np.asarray(input_data, dtype=_default_dtype(input_data))
        if dtype is not None:
            data = data.astype(mstype.to_numpy(dtype), copy=False)
        object.__setattr__(self, "_data", np.asarray(data))

    # -- conversion -------------------------------------------------------------------------
    def asnumpy(self):
        return self._data

    numpy = asnumpy

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        wrapped, inputs, kwargs = unwrap_args(inputs, kwargs)
        return wrap_result(getattr(ufunc, method)(*inputs, **kwargs))

    def __array_function__(self, func, types, args, kwargs):
        wrapped, args, kwargs = unwrap_args(args, kwargs)
        return wrap_result(func(*args, **kwargs))

    def item(self):
        return self._data.item()

    def __float__(self):
        return float(self._data)

    def __int__(self):
        return int(self._data)

    def __index__(self):
        return int(self._data)

    def __bool__(self):
        return bool(self._data)

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return (Tensor(v) for v in self._data)

    # -- properties -------------------------------------------------------------------------
    @property
    def shape(self):
        return P.shape(self)

    @property
    def ndim(self):
        return P.ndim(self)

    @property
    def size(self):
        return P.size(self)

    @property
    def dtype(self):
        return mstype.from_numpy(P.dtype_of(self))

    @property
    def T(self):
        return P.transpose(self)

    @property
    def mT(self):
        return P.mT(self)

    # -- printing ---------------------------------------------------------------------------
    def __str__(self):
        return str(self._data)

    def __format__(self, spec):
        return format(str(self), spec)

    def __repr__(self):
        return "Tensor(shape=%s, dtype=%s, value=%s)" % (
            list(self._data.shape), self.dtype, format_value(self._data))

    # -- arithmetic -------------------------------------------------------------------------
    def __add__(self, other):
        return P.add(self, other)

    def __radd__(self, other):
        return P.add(other, self)

    def __sub__(self, other):
        return P.sub(self, other)

    def __rsub__(self, other):
        return P.sub(other, self)

    def __mul__(self, other):
        return P.mul(self, other)

    def __rmul__(self, other):
        return P.mul(other, self)

    def __truediv__(self, other):
        return P.truediv(self, other)

    def __rtruediv__(self, other):
        return P.truediv(other, self)

    def __pow__(self, other):
        return P.power(self, other)

    def __rpow__(self, other):
        return P.power(other, self)

    def __matmul__(self, other):
        return P.matmul(self, other)

    def __rmatmul__(self, other):
        return P.matmul(other, self)

    def __neg__(self):
        return P.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return P.absolute(self)

    def __lt__(self, other):
        return P.less(self, other)

    def __le__(self, other):
        return P.less_equal(self, other)

    def __gt__(self, other):
        return P.greater(self, other)

    def __ge__(self, other):
        return P.greater_equal(self, other)

    def __eq__(self, other):
        return P.equal(self, other)

    def __ne__(self, other):
        return P.not_equal(self, other)

    __hash__ = object.__hash__

    def __getitem__(self, index):
        return P.getitem(self, index)

    def __setitem__(self, index, value):
        """``t[i] = v`` changes the Tensor in place, as in MindSpore."""
        self._data[unwrap(index)] = unwrap(value)

    # -- methods ----------------------------------------------------------------------------
    def sum(self, axis=None, dtype=None, keepdims=False, initial=None):
        return P.sum(self, axis, keepdims)

    def mean(self, axis=None, keep_dims=False, keepdims=None):
        # MindSpore spells it keep_dims; NumPy code (ndarrays are lowered like Tensors) keepdims.
        return P.mean(self, axis, keep_dims if keepdims is None else keepdims)

    def max(self, axis=None, keepdims=False, initial=None, where=True, return_indices=False):
        return P.amax(self, axis, keepdims)

    def min(self, axis=None, keepdims=False, initial=None, where=True, return_indices=False):
        return P.amin(self, axis, keepdims)

    def reshape(self, *shape):
        return P.reshape(self, P.shape_arg(shape))

    def view(self, *shape):
        return P.reshape(self, P.shape_arg(shape))

    def transpose(self, *axes):
        return P.transpose(self, P.axes_arg(axes))

    def expand_dims(self, axis):
        return P.expand_dims(self, axis)

    def squeeze(self, axis=None):
        return P.squeeze(self, axis)

    def flatten(self):
        return P.reshape(self, (-1,))

    def astype(self, dtype):
        return P.astype(self, P.np_dtype(dtype))

    def exp(self):
        return P.exp(self)

    def log(self):
        return P.log(self)

    def abs(self):
        return P.absolute(self)

    def sqrt(self):
        return P.sqrt(self)

    def square(self):
        return P.square(self)

    def tanh(self):
        return P.tanh(self)

    def sigmoid(self):
        return P.sigmoid(self)

    def copy(self):
        return P.copy(self)

    def dot(self, other):
        return P.matmul(self, other)

    # (MindSpore's names and NumPy's both work: ndarrays in compiled code are lowered as Tensors)
    def ravel(self):
        return P.reshape(self, (-1,))

    def clip(self, min=None, max=None):
        """Gradient: passes through at the bounds, inclusive (as MindSpore)."""
        return P.clip(self, min, max)

    def clamp(self, min=None, max=None):
        return P.clip(self, min, max)

    def cumsum(self, axis=None, dtype=None):
        return P.cumsum(self, axis)

    def prod(self, axis=None, keep_dims=False, dtype=None, keepdims=None):
        return P.prod(self, P.reduce_axis(axis), keep_dims if keepdims is None else keepdims)

    def var(self, axis=None, ddof=0, keepdims=False):
        return P.np_var(self, P.reduce_axis(axis), None, None, ddof, keepdims)

    def std(self, axis=None, ddof=0, keepdims=False):
        """Gradient: NaN where the variance is 0 (as MindSpore)."""
        return P.np_std(self, P.reduce_axis(axis), None, None, ddof, keepdims)

    def logsumexp(self, dim, keepdim=False):
        """Gradient: softmax(x) along dim."""
        return P.logsumexp(self, P.reduce_axis(dim), keepdim)

    def norm(self, ord=None, dim=None, keepdim=False, *, dtype=None):
        """ops.norm.

        Gradient: NaN at 0 for the 2-norm, 0 at 0 for ord=1; ord=inf/-inf sends it to the
        first largest/smallest |x| (as MindSpore)."""
        return P.np_norm(self, ord, P.reduce_axis(dim), keepdim)

    def argmax(self, axis=None, keepdims=False):
        """Gradient: none (indices)."""
        out = P.argmax(self, axis)
        return P.expand_dims(out, axis) if keepdims and not P.is_none(axis) else out

    def argmin(self, axis=None, keepdims=False):
        """Gradient: none (indices)."""
        out = P.argmin(self, axis)
        return P.expand_dims(out, axis) if keepdims and not P.is_none(axis) else out

    def argsort(self, axis=-1, descending=False, kind=None, order=None):
        """Gradient: none (indices)."""
        if P.is_str(descending):            # NumPy's argsort(axis, kind)
            return P.argsort(self, axis, descending)
        if descending:
            return P.argsort(-self, axis, "stable")
        return P.argsort(self, axis, "stable" if P.is_none(kind) else kind)

    def repeat(self, repeats, axis=None):
        """NumPy's repeat: each element repeats times along axis (flattened when axis is None)."""
        return P.repeat(self, repeats, axis)

    def tile(self, reps):
        return P.tile(self, reps)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None):
        return P.np_trace(self, offset, axis1, axis2)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return P.diagonal(self, offset, axis1, axis2)

    def swapaxes(self, axis0, axis1):
        return P.swapaxes(self, axis0, axis1)

    def moveaxis(self, source, destination):
        return P.moveaxis(self, source, destination)

    def flip(self, dims):
        return P.flip(self, P.axis_tuple(dims))

    def take(self, indices, axis=None, mode="raise"):
        return P.np_take(self, indices, axis, None, mode)

    def gather(self, input_indices, axis, batch_dims=0):
        return P.getitem(self, *P.take_index(axis, input_indices))

    def gather_elements(self, dim, index):
        return P.take_along_axis(self, index, dim)

    def unsqueeze(self, dim):
        return P.expand_dims(self, dim)

    def permute(self, *axis):
        return P.transpose(self, P.axes_arg(axis))

    def outer(self, vec2):
        return P.np_outer(self, vec2)

    def matmul(self, tensor2):
        return P.matmul(self, tensor2)

    def det(self):
        return P.det(self)

    def inverse(self):
        return P.inv(self)

    def add(self, other):
        return P.add(self, other)

    def sub(self, other):
        return P.sub(self, other)

    def mul(self, other):
        return P.mul(self, other)

    def div(self, other):
        return P.truediv(self, other)

    def neg(self):
        return P.negative(self)

    def pow(self, exponent):
        return P.power(self, exponent)

    def maximum(self, other):
        return P.maximum(self, other)

    def minimum(self, other):
        return P.minimum(self, other)

    def softmax(self, axis, dtype=None):
        return P.softmax(self, axis)

    def sin(self):
        return P.sin(self)

    def cos(self):
        return P.cos(self)

    def tan(self):
        return P.tan(self)

    def sinh(self):
        return P.sinh(self)

    def cosh(self):
        return P.cosh(self)

    def asin(self):
        return P.arcsin(self)

    arcsin = asin

    def acos(self):
        return P.arccos(self)

    arccos = acos

    def atan(self):
        return P.arctan(self)

    arctan = atan

    def asinh(self):
        return P.arcsinh(self)

    arcsinh = asinh

    def acosh(self):
        return P.arccosh(self)

    arccosh = acosh

    def atanh(self):
        return P.arctanh(self)

    arctanh = atanh

    def atan2(self, other):
        return P.arctan2(self, other)

    arctan2 = atan2

    def log1p(self):
        return P.log1p(self)

    def expm1(self):
        return P.expm1(self)

    def log2(self):
        return P.log2(self)

    def log10(self):
        return P.log10(self)

    def erf(self):
        return P.erf(self)

    def erfc(self):
        return P.erfc(self)

    def reciprocal(self):
        return P.reciprocal(self)

    def rsqrt(self):
        return P.reciprocal(P.sqrt(self))

    def logaddexp(self, other):
        return P.logaddexp(self, other)


class Parameter(Tensor):
    """A Tensor that a Cell owns and that gradients can be taken with respect to."""

    __slots__ = ("name", "_requires_grad")

    def __init__(self, default_input, name=None, requires_grad=True, layerwise_parallel=False,
                 parallel_optimizer=True):
        if isinstance(default_input, Tensor):
            data = default_input._data
        else:
            data = np.asarray(default_input)
        Tensor.__init__(self, data.copy() if data.base is not None else data)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "_requires_grad", bool(requires_grad))

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        object.__setattr__(self, "_requires_grad", bool(value))
        structure_changed()

    @property
    def data(self):
        return self

    def set_data(self, data):
        value = data._data if isinstance(data, Tensor) else np.asarray(data)
        object.__setattr__(self, "_data", value.astype(self._data.dtype, copy=False))
        return self

    def __str__(self):
        return repr(self)

    def __repr__(self):
        return "Parameter (name=%s, shape=%s, dtype=%s, requires_grad=%s)" % (
            self.name, tuple(self._data.shape), self.dtype, self._requires_grad)


class ParameterTuple(tuple):
    """A tuple of Parameters, as passed to ``GradOperation(get_by_list=True)``."""

    def __new__(cls, iterable=()):
        items = tuple(iterable)
        for p in items:
            if not isinstance(p, Parameter):
                from .errors import ArgumentError
                raise ArgumentError("ParameterTuple holds Parameters; got %s" % type(p).__name__)
        return tuple.__new__(cls, items)


def format_value(arr):
    """The ``value=`` part of MindSpore's Tensor repr: ``%.8e`` floats, ``, `` separators."""
    if arr.size == 0:
        return " "
    if arr.ndim == 0:
        return " %s" % _scalar_text(arr)
    if arr.dtype.kind == "f":
        fmt = "% .4e" if arr.dtype == np.float16 else "% .8e"
        width = len(fmt % 1.0)
        body = np.array2string(arr, separator=", ", threshold=1000,
                               formatter={"float_kind": lambda v: (fmt % v).rjust(width)})
    else:
        body = np.array2string(arr, separator=", ", threshold=1000)
    if arr.ndim > 2:        # MindSpore separates the 2-D blocks of a 3-D Tensor without blank lines
        body = "\n".join(line for line in body.split("\n") if line.strip())
    return ("\n" if arr.ndim > 1 else " ") + body


def _scalar_text(arr):
    """A 0-d Tensor's value as MindSpore prints it: C++ stream formatting (six significant
    digits, like %g) for floats, ``value= 0.98344``; integers and bools as they are."""
    v = arr.item()
    if isinstance(v, float):
        return "%g" % v
    return str(v)


def _tensor_of(array):
    t = Tensor.__new__(Tensor)
    object.__setattr__(t, "_data", array)
    return t


hooks.register_array_type(Tensor, lambda t: t._data, _tensor_of)
