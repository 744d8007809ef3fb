"""What the API layer registers so the compiler can recognise its objects without importing it
(as autograd's core takes ``register_box``): the array wrapper (Tensor) and how to unwrap and
wrap it, the class whose methods compiled code inlines for array values, the Cell class,
gradient functions and the objects that make them, and how a dtype is written.

The compiler imports only this module; ``adjoint.tensor``, ``adjoint.nn``, ``adjoint.gradfn``
and ``adjoint.ops`` fill it in when they are imported.
"""
import numpy as np

from .runtime import is_duck_array

# Bumped whenever something compiled code may depend on changes in a Cell (an attribute is set,
# a Parameter's requires_grad flips, a Cell class gets a new attribute); entries made at an
# older count re-check their guards before they are used again.
EPOCH = [0]


def structure_changed():
    EPOCH[0] += 1


class _Registry:
    array_types = (np.ndarray,)       # objects that are arrays (become inputs of compiled code)
    tensor_type = None                # the wrapper; its methods/properties are inlined on Values
    unwrap = staticmethod(lambda x: x)
    wrap = staticmethod(lambda x: x)
    cell_type = None
    gradient_function_type = None     # called inside compiled code: its adjoint is inlined
    gradient_maker_types = ()         # GradOperation-like objects: applied while compiling
    to_numpy_dtype = staticmethod(np.dtype)


registry = _Registry()


def register_array_type(cls, unwrap, wrap):
    """``cls`` wraps an ndarray: ``unwrap(obj)`` gives it, ``wrap(ndarray)`` makes one."""
    registry.array_types = (np.ndarray, cls)
    registry.tensor_type = cls
    registry.unwrap, registry.wrap = staticmethod(unwrap), staticmethod(wrap)


def register_cell_type(cls):
    registry.cell_type = cls


def register_gradient_function(cls):
    """``cls``: what a gradient call returns (it has ``fn``, ``self_obj``, ``weights``, ``sens``
    and ``request(args)``); inside compiled code, calling one inlines its adjoint."""
    registry.gradient_function_type = cls


def register_gradient_maker(cls):
    """Objects that make a gradient function when applied (GradOperation): applied while compiling."""
    registry.gradient_maker_types += (cls,)


def register_dtype_conversion(fn):
    registry.to_numpy_dtype = staticmethod(fn)


def is_array_object(obj):
    """An array (an input of compiled code, read again at every call): an ndarray, a Tensor,
    or an array of another library such as Dask (a global or Cell attribute holding one)."""
    return isinstance(obj, registry.array_types) or is_duck_array(obj)


def is_cell(obj):
    return registry.cell_type is not None and isinstance(obj, registry.cell_type)


def is_gradient_function(obj):
    return registry.gradient_function_type is not None and isinstance(obj, registry.gradient_function_type)


def is_gradient_maker(obj):
    return isinstance(obj, registry.gradient_maker_types) if registry.gradient_maker_types else False


def unwrap(value):
    """Tensors (also inside tuples/lists) as their arrays."""
    if registry.tensor_type is not None and isinstance(value, registry.tensor_type):
        return registry.unwrap(value)
    if type(value) in (tuple, list) and any(isinstance(v, registry.array_types) for v in value):
        return type(value)(unwrap(v) for v in value)
    return value


def unwrap_args(args, kwargs):
    """Unwrap Tensors among call arguments; say whether there were any."""
    wrapped = False
    out = []
    for a in args:
        u = unwrap(a)
        wrapped = wrapped or u is not a
        out.append(u)
    if kwargs:
        kw = {}
        for k, a in kwargs.items():
            u = unwrap(a)
            wrapped = wrapped or u is not a
            kw[k] = u
        kwargs = kw
    return wrapped, out, kwargs


def wrap_result(value):
    """Arrays (also in tuples) as Tensors, for an eager call on Tensors."""
    if isinstance(value, np.ndarray):
        return registry.wrap(value)
    if isinstance(value, np.generic):
        return registry.wrap(np.asarray(value))
    if isinstance(value, tuple) and any(isinstance(v, (np.ndarray, np.generic)) for v in value):
        return tuple(wrap_result(v) for v in value)
    return value
