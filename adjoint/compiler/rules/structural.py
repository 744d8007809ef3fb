"""Primitives about program structure: tuples, stop_gradient, sens checks, argument helpers."""
import numpy as np

from .. import runtime as rt
from ..hooks import registry
from ..prims import Prim, SAME, like, nondiff

make_tuple = Prim("make_tuple", rt.make_tuple, "*xs", diff=("xs",), linear=True)
tuple_getitem = Prim("tuple_getitem", rt.tuple_getitem, "t, i", subscript=True, diff=("t",), linear=True)
zeros_like_tuple = Prim("zeros_like_tuple", rt.zeros_like_tuple, "t, i, g", diff=("g",), linear=True)
stop_gradient = Prim("stop_gradient", rt.stop_gradient, shape=SAME)
check_sens = Prim("check_sens", rt.check_sens, "sens, out, name", diff=("sens",), pure=False, shape=like(1), shape_only=(1,), linear=True)
make_slice = Prim("make_slice", slice, "start, stop, step=None", emit="slice", keywords=())
nondiff(stop_gradient, make_slice)


@make_tuple.vjp
def _(*xs, out, dout):
    return dout


@tuple_getitem.vjp
def _(t, i, out, dout):
    return rt.zeros_like_tuple(t, i, dout)


@zeros_like_tuple.vjp
def _(t, i, g, out, dout):
    return dout[i]


@check_sens.vjp
def _(sens, out_, name, out, dout):
    return dout


def shape_arg(shape):
    """``x.reshape(2, 3)`` and ``x.reshape((2, 3))`` both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def axes_arg(axes):
    """``x.transpose()``, ``x.transpose(1, 0)`` and ``x.transpose((1, 0))``."""
    if not axes:
        return None
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        return tuple(axes[0])
    return tuple(axes)


int32 = np.int32            # (MindSpore's index dtype: ops.sort, ops.argsort)


def np_dtype(dtype):
    """A NumPy dtype from a MindSpore-style dtype, a NumPy dtype or a Python type."""
    return registry.to_numpy_dtype(dtype).type


def as_tensor(value):
    """Eagerly, an array as a Tensor (``ops.ones(...)`` makes one, as MindSpore); in compiled
    code the value itself."""
    from .. import ir
    from ..hooks import wrap_result
    return value if isinstance(value, ir.Value) else wrap_result(value)


as_tensor._adjoint_compile_time = True


def is_str(value):
    return isinstance(value, str)


def np_dtype_or_none(dtype):
    return None if dtype is None else np_dtype(dtype)


# Evaluated at compile time: they only rearrange constant arguments.
for _helper in (shape_arg, axes_arg, np_dtype, np_dtype_or_none, is_str):
    _helper._adjoint_static = True


print_ = Prim("print", print, "*xs", emit="print", pure=False)
# An f-string or str.format of values known when the code runs: 'x: {} {!r:>8}'.format(a, b)
format_str = Prim("format", str.format, "fmt, *values", method="format", diff=())


def _assert(test, msg=None):
    if not test:
        raise AssertionError(*(() if msg is None else (msg,)))


assert_ = Prim("assert", _assert, "test, msg=None", pure=False)
nondiff(print_, assert_, format_str)

# A pullback's own copy of a tape the forward part filled (passes/split.py).
copy_tape = Prim("copy_tape", rt.copy_tape, "tape", emit="copy_tape", pure=False)
copy_tape.rule_kind = "nondiff"


def reduce_axis(axis):
    """MindSpore's reduce ops take ``()`` for "all axes"; NumPy takes None."""
    if axis == () or axis == []:
        return None
    return tuple(axis) if isinstance(axis, list) else axis


reduce_axis._adjoint_static = True


# A call to a function adjoint has no rule for. Fine on values no gradient flows through
# (``np.arange(n)``); an error (naming the function) when a gradient would need it.
call = Prim("call", None, "fn, *args", emit="call")
# The same for a call with effects (random numbers, I/O, a list from outside): never merged or dropped.
call_effect = Prim("call_effect", None, "fn, *args", emit="call", pure=False)
