"""What a gradient function differentiates: anything callable whose source can be found.

``resolve(target)`` says which Python function is compiled, bound to what (``self_obj``), and
with which arguments already given (a ``functools.partial``'s):

* a Cell: its ``construct``, bound to it;
* a ``def`` or ``lambda`` function (also from a notebook cell): itself;
* a bound method of any object, a callable object whose class defines ``__call__``: the
  method's function, bound to the object;
* ``functools.partial(f, *args, **kwargs)``: ``f`` resolved, with those arguments first;
* what has no Python source of its own but that compiled code can call -- a gradient
  function (``grad(grad(f))``), a NumPy ufunc or function adjoint has a rule for
  (``grad(np.sin)``), a primitive: ``call_through(self, *args, **kwargs)``, bound to it,
  which calls it (compiled code then inlines the gradient's IR or the primitive).
"""
import functools
import inspect
import types

import numpy as np

from .compiler import hooks
from .compiler.prims import Prim, lookup
from .errors import ArgumentError


def call_through(self, *args, **kwargs):
    return self(*args, **kwargs)


class Resolved:
    __slots__ = ("fn", "self_obj", "args", "kwargs", "title", "signature_of")

    def __init__(self, fn, self_obj, args=(), kwargs=None, title=None, signature_of=None):
        self.fn, self.self_obj = fn, self_obj
        self.args, self.kwargs = tuple(args), dict(kwargs or {})
        self.title = title                  # the name generated code is given (None: fn's)
        self.signature_of = signature_of    # whose parameters name the arguments (None: fn's)


def resolve(target, api="grad"):
    from .nn.cell import Cell
    if isinstance(target, functools.partial):
        inner = resolve(target.func, api)
        kwargs = dict(inner.kwargs)
        kwargs.update(target.keywords)
        title = inner.title or _qualname(inner.fn)
        return Resolved(inner.fn, inner.self_obj, inner.args + tuple(target.args), kwargs,
                        "partial(%s)" % title, inner.signature_of or _plain(inner))
    if isinstance(target, Cell):
        return Resolved(type(target).construct, target)
    if _through(target):
        return Resolved(call_through, target, title=_callable_title(target),
                        signature_of=_signature_source(target))
    if isinstance(target, types.MethodType) and isinstance(target.__func__, types.FunctionType):
        return Resolved(target.__func__, target.__self__)
    if isinstance(target, types.FunctionType):
        return Resolved(target, None)
    call = getattr(type(target), "__call__", None)
    if isinstance(call, types.FunctionType) and not isinstance(target, type):
        return Resolved(call, target)
    raise ArgumentError(
        "%s: cannot differentiate a %s: give a Cell, a function (def or lambda), a bound method, "
        "a functools.partial, a callable object, a gradient function, a NumPy ufunc or an adjoint op"
        % (api, type(target).__name__))


def _through(target):
    """Called through ``call_through``: what compiled code can call but has no source to compile."""
    if hooks.is_gradient_function(target) or isinstance(target, (Prim, np.ufunc)):
        return True
    try:
        return lookup(target) is not None     # np.sum, math.sin...: their rule, not their source
    except TypeError:
        return False


def _plain(resolved):
    """The function whose parameters name a resolved target's arguments."""
    return resolved.fn if resolved.self_obj is None else (resolved.fn, resolved.self_obj)


def _signature_source(target):
    """What names the arguments of ``target``: an inner gradient function's own target."""
    if hooks.is_gradient_function(target):
        inner = target.names_from
        if inner is not None:
            return inner
        return target.fn if target.self_obj is None else (target.fn, target.self_obj)
    return target


def _qualname(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def _callable_title(target):
    if hooks.is_gradient_function(target):
        inner = target.title or _qualname(target.fn)
        return "%s(%s)" % (target.api, inner)
    if isinstance(target, Prim):
        return target.name
    module = getattr(target, "__module__", None) or ""
    name = _qualname(target)
    if isinstance(target, np.ufunc) or module.startswith("numpy"):
        return "np." + name
    return name


def _parameters(source, n_prefix):
    """The positional parameters (names) a call supplies, after ``n_prefix`` given ones."""
    if isinstance(source, tuple):               # (function, the object it is bound to)
        fn, _ = source
        params = list(inspect.signature(fn).parameters.values())[1:]
    else:
        try:
            params = list(inspect.signature(source).parameters.values())
        except (TypeError, ValueError):
            n_in = getattr(source, "nin", 1)    # a ufunc: x1, x2 (as NumPy names them)
            return [("x" if n_in == 1 else "x%d" % (i + 1), True) for i in range(n_in)]
    out = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            out.append((p.name, p.default is p.empty))
        elif p.kind is p.VAR_POSITIONAL:
            out.append(("*" + p.name, False))
            break
    return out[n_prefix:]


def argument_names(source, n):
    """Names for the first ``n`` arguments of a call."""
    params = _parameters(source, 0)
    names = []
    for i in range(n):
        if i < len(params) and not params[i][0].startswith("*"):
            names.append(params[i][0])
        else:
            star = next((p[0][1:] for p in params if p[0].startswith("*")), "arg")
            names.append("%s%d" % (star, i))
    return names


def example_args(source, n_prefix=0):
    """Tensors for the required parameters of ``source`` (for ``.source`` with no call yet)."""
    from .tensor import Tensor
    return tuple(Tensor(np.zeros(1, np.float32)) for name, required in _parameters(source, n_prefix)
                 if required and not name.startswith("*"))


class Identity:
    """An object compared by identity (and kept alive) in a cache key."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return isinstance(other, Identity) and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)


def constant_spec(value):
    """A hashable summary of a partial's arguments (arrays and other objects by identity)."""
    if isinstance(value, dict):
        return tuple((k, constant_spec(v)) for k, v in sorted(value.items(), key=lambda kv: str(kv[0])))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__,) + tuple(constant_spec(v) for v in value)
    if hooks.is_array_object(value):
        return ("array", Identity(value))
    try:
        hash(value)
        return value
    except TypeError:
        return ("id", Identity(value))
