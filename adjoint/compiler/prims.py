"""Primitives: the operations the IR is made of.

A primitive has a canonical signature (``Prim('sum', np.sum, 'x, axis=None, keepdims=False')``),
a NumPy implementation that generated code calls, a way to be printed in generated code, and
optionally a derivative rule in bprop form registered with ``@prim.vjp``::

    exp = Prim('exp', np.exp, 'x', emit='np.exp')

    @exp.vjp
    def _(x, out, dout):
        return dout * out

and a forward-mode rule registered with ``@prim.jvp``: the tangent of the result from one
tangent per differentiable argument (None where that argument has none)::

    @exp.jvp
    def _(x, out, dx):
        return dx * out

Rules are ordinary Python: the lowering inlines them like any other function, so the reverse
sweep and the tangent code are built from primitives too (and can be differentiated again).
A primitive without a jvp rule gets its tangent from its facts: ``linear`` (the primitive
applied to the tangents), ``multilinear`` (linear in each argument alone: the sum over the
arguments of the primitive with that one replaced by its tangent), or else from its vjp rule,
which is linear in ``dout``: its transpose (``compiler/forward.py``).
"""
import inspect

import numpy as np

from .hooks import unwrap_args, wrap_result

# Every primitive by name, and every Python object that stands for one (np.exp -> exp).
PRIMS = {}
ALIASES = {}

# What a primitive's result is shaped like, known without knowing any shape (``shape=``):
SAME = "same"              # like its first argument (exp, negative...)
BROADCAST = "broadcast"    # like its arguments broadcast together (add, mul...)
REDUCE = "reduce"          # (x, axis, keepdims): a number when axis is None and not keepdims
SHAPE = "shape"            # the result *is* a shape tuple
RESHAPE = "reshape"        # (x, shape): like the array whose shape the second argument is


def like(k):
    """Shaped like argument ``k`` (unbroadcast(g, x) is shaped like x: like(1))."""
    return ("like", k)


class Prim:
    """A primitive and the facts the passes may use about it: ``shape`` (above),
    ``shape_only`` (argument positions read only for their shape: a saved shape will do),
    ``commutative``, ``boolean`` (the result is a truth value: no gradient, and not something
    to differentiate), ``linear`` (linear in its differentiable arguments, taken together),
    ``multilinear`` (linear in each differentiable argument when the others are fixed, as a
    product is), ``kind`` (its result's run-time kind when the operands don't tell: 'list' for
    a run-time list)."""

    def __init__(self, name, impl, sig="x", emit=None, infix=None, unary=None, attr=None,
                 method=None, subscript=False, diff=None, pure=True, keywords=None,
                 shape=None, shape_only=(), commutative=False, boolean=False, linear=False,
                 multilinear=False, kind=None):
        self.name = name
        self.impl = impl
        self.kind = kind            # what its result is at run time, when not its operands' kind
        self.shape, self.shape_only = shape, tuple(shape_only)
        self.commutative, self.boolean, self.linear = commutative, boolean, linear
        self.multilinear = multilinear
        self.jvp_rule = None
        self.signature = inspect.signature(eval("lambda %s: None" % sig))
        self.params = list(self.signature.parameters)
        self.emit = emit or name
        self.infix, self.unary, self.attr, self.method = infix, unary, attr, method
        self.subscript = subscript
        self.pure = pure
        # Which parameters carry gradients; the rule returns one gradient per name, in order.
        if diff is None:
            diff = tuple(p.name for p in self.signature.parameters.values()
                         if p.default is inspect.Parameter.empty
                         and p.kind is not inspect.Parameter.VAR_POSITIONAL)
        self.diff = tuple(diff)
        # Parameters printed as keywords when they differ from their defaults.
        if keywords is None:
            keywords = tuple(p.name for p in self.signature.parameters.values()
                             if p.default is not inspect.Parameter.empty)
        self.keywords = tuple(keywords)
        self.rule = None
        self.rule_kind = None        # 'vjp' or 'nondiff'
        PRIMS[name] = self
        if impl is not None:
            alias(impl, self)

    def vjp(self, fn):
        """Register ``fn(*params, out, dout)`` as this primitive's derivative rule."""
        self.rule, self.rule_kind = fn, "vjp"
        return fn

    def jvp(self, fn):
        """Register ``fn(*params, out, *tangents)`` as this primitive's forward-mode rule: one
        tangent per differentiable parameter (``diff``, in order; a tuple for a ``*`` one), None
        for an argument without one; it returns the tangent of the result."""
        self.jvp_rule = fn
        return fn

    def jvp_from_vjp(self):
        """Declare the Jacobian symmetric (an elementwise function of one array, softmax): the
        vjp rule, its ``dout`` given the tangent, is then the jvp rule (forward.py binds the
        parameters after ``out`` to the tangents)."""
        assert self.rule is not None and len(self.diff) == 1, self.name
        self.jvp_rule = self.rule

    @property
    def tangent_kind(self):
        """How forward mode gets this primitive's tangent: 'rule', 'linear', 'multilinear',
        'transposed' (from the vjp rule) or None (not differentiable)."""
        if not self.differentiable:
            return None
        if self.jvp_rule is not None:
            return "rule"
        if self.linear:
            return "linear"
        if self.multilinear:
            return "multilinear"
        return "transposed"

    @property
    def differentiable(self):
        return self.rule_kind == "vjp"

    @property
    def nondiff(self):
        return self.rule_kind == "nondiff"

    def bind(self, args, kwargs):
        """Canonical positional argument list (defaults filled) for a call; TypeError if it doesn't fit."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        out = []
        for name, param in self.signature.parameters.items():
            value = bound.arguments[name]
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                out.extend(value)
            else:
                out.append(value)
        return out

    def is_variadic(self):
        return any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in self.signature.parameters.values())

    def __call__(self, *args, **kwargs):
        """Eager call, on Tensors or arrays: unwrap, run the NumPy implementation, wrap."""
        wrapped, args, kwargs = unwrap_args(args, kwargs)
        positional, keywords = self.split(self.bind(args, kwargs))
        result = self.impl(*positional, **keywords)
        return wrap_result(result) if wrapped else result

    def split(self, values):
        """Canonical argument values -> (positional, keywords), as generated code passes them."""
        positional, keywords = [], {}
        params = list(self.signature.parameters.values())
        n_var = len(values) - (len(params) - 1) if self.is_variadic() else 0
        i = 0
        for p in params:
            if p.kind is inspect.Parameter.VAR_POSITIONAL:
                positional.extend(values[i:i + n_var])
                i += n_var
                continue
            if p.name in self.keywords:
                if values[i] is not p.default:
                    keywords[p.name] = values[i]
            else:
                positional.append(values[i])
            i += 1
        return positional, keywords

    def __repr__(self):
        return "<primitive %s>" % self.name


def nondiff(*prims):
    """Mark primitives whose outputs carry no gradient (comparisons, shapes, argmax...)."""
    for p in prims:
        p.rule_kind = "nondiff"


def alias(obj, target):
    """Make a Python object (np.exp, a Tensor method...) lower to a primitive or a translator function."""
    ALIASES[_key(obj)] = (obj, target)


def lookup(obj):
    """The primitive or translator that ``obj`` stands for, or None."""
    try:
        hit = ALIASES.get(_key(obj))
    except TypeError:
        return None
    return hit[1] if hit is not None else None


def _key(obj):
    # Identity for most objects; bound builtin methods (np.add.at) compare by value.
    return id(obj)


def undifferentiable_callables(namespace):
    """Public callables of a module (e.g. numpy) that have no rule: the gap in coverage."""
    missing = []
    for name in sorted(dir(namespace)):
        if name.startswith("_"):
            continue
        obj = getattr(namespace, name)
        if not callable(obj) or isinstance(obj, type):
            continue
        if (getattr(obj, "__module__", "") or "").startswith("adjoint."):
            continue        # adjoint's own functions are compiled from source, from primitives
        target = lookup(obj)
        if target is None:
            missing.append(name)
        elif isinstance(target, Prim) and target.rule_kind is None:
            missing.append(name)
    return missing


LITERAL_TYPES = (bool, int, float, complex, str, type(None), type(Ellipsis), slice)


def is_literal(value):
    """Can this constant be written into generated source as a literal?"""
    if isinstance(value, LITERAL_TYPES):
        return True
    if isinstance(value, tuple):
        return all(is_literal(v) for v in value)
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return True
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return True
    return False
