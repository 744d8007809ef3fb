"""Calls in code being compiled: a primitive becomes an op (or is folded when its operands
are known), a Python function, a sub-Cell, a Tensor method or an ops wrapper is inlined from its
source, a pure callable on known values runs now, and anything else (random numbers, I/O...)
becomes a call that runs with the generated code.
"""
import inspect
import types

import numpy as np

from ...errors import SourceError
from .. import ir
from .. import rules as P
from ..frontend import parse_function
from ..hooks import is_cell, is_gradient_function, is_gradient_maker
from ..prims import Prim, is_literal, lookup
from ..trees import flatten
from .expressions import BINOPS, CMPOPS, UNARYOPS, BoundMethod, Spread
from .python_calls import SPECIAL_CALLS, LocalFunction

PURE_BUILTINS = {len, range, min, max, abs, int, float, bool, tuple, list, dict, enumerate, zip,
                 isinstance, issubclass, getattr, hasattr, round, sum, sorted, reversed, str, repr,
                 type, slice, all, any, divmod, pow, callable, id, map, filter, hash}

CONTAINER_BUILTINS = {enumerate, zip, list, tuple, reversed, dict, iter, len, isinstance}

MAX_DEPTH = 64


def apply(L, func, args, kwargs, node):
    """Call ``func`` on abstract arguments: emit, fold, or inline."""
    if isinstance(func, BoundMethod):
        return L.inline(func.fn, [func.self_value] + list(args), kwargs, node)
    if isinstance(func, LocalFunction):
        return func.call(args, kwargs, node)
    if is_gradient_function(func):
        from ..higher import inline_gradient
        return inline_gradient(L, func, args, kwargs, node)
    if is_gradient_maker(func) and not ir.has_values(args):
        return L.run_now(func, args, kwargs, node)
    if isinstance(func, ir.Value):
        raise L.error(node, "calling a Tensor value is not supported")
    if isinstance(func, Prim):
        return L.call_prim(func, args, kwargs, node)
    lower_with = getattr(func, "_adjoint_lower", None)
    if lower_with is not None:              # (ops.jvp, adjoint.hvp: their compiled code, inlined)
        return lower_with(L, args, kwargs, node)
    if getattr(func, "_adjoint_compile_time", False):
        try:
            return func(*args, **kwargs)    # inspects abstract values, decides now
        except SourceError as exc:          # (one with no place is about this call)
            if exc.loc is not None:
                raise
            raise L.error(node, exc.message, exc.hint) from None
    has_values = ir.has_values(args) or ir.has_values(list(kwargs.values()))
    if not has_values and _key(func) in _PYTHON_OPERATORS:
        return L.run_now(func, args, kwargs, node)      # 2 * 3 stays a Python int
    target = lookup(func)
    if target is not None:
        if isinstance(target, Prim):
            return L.call_prim(target, args, kwargs, node)
        return L.inline(target, args, kwargs, node)
    if getattr(func, "_adjoint_static", False) and not has_values:
        return func(*args, **kwargs)
    special = SPECIAL_CALLS.get(_key(func))
    if special is not None:
        return special(L, args, kwargs, node)
    if func in PURE_BUILTINS and not has_values:
        return L.run_now(func, args, kwargs, node)
    owner = getattr(func, "__self__", None)
    if isinstance(owner, str) and getattr(func, "__name__", "") == "format" and has_values and not kwargs:
        return L.call_prim(P.format_str, [owner] + list(args), {}, node)   # "{}".format(x.shape)
    if isinstance(owner, (list, dict, set)):
        if L.ctx.source_of(owner) is not None:          # a list from outside: changed at
            return L.opaque_call(func, args, kwargs, node, pure=False)   # every call
        return L.run_now(func, args, kwargs, node)      # xs.append(h): Python bookkeeping
    if func in CONTAINER_BUILTINS and not any(isinstance(a, ir.Value) for a in args):
        return L.run_now(func, args, kwargs, node)      # enumerate((x, y)), zip(...)
    if is_cell(func):
        if callable(getattr(type(func), "bprop", None)):
            return L.bprop_call(func, args, kwargs, node)
        if func.__dict__.get("_recompute"):     # Cell.recompute(): its values are computed again
            from ..recompute import lower_marked
            return lower_marked(L, lambda: L.inline(type(func).construct, [func] + list(args), kwargs, node))
        return L.inline(type(func).construct, [func] + list(args), kwargs, node)
    if isinstance(func, types.MethodType) and isinstance(func.__func__, types.FunctionType):
        return L.inline(func.__func__, [func.__self__] + list(args), kwargs, node)
    if isinstance(func, types.FunctionType):
        return L.inline(func, args, kwargs, node)
    if isinstance(func, type):
        if not has_values:                  # objects are made while compiling
            return L.run_now(func, args, kwargs, node)
        return L.opaque_call(func, args, kwargs, node)   # float(x): when it runs
    if isinstance(func, np.vectorize) and lookup(func.pyfunc) is not None:
        return L.apply(func.pyfunc, args, kwargs, node)     # np.vectorize(math.erf)
    call = getattr(type(func), "__call__", None)
    # (NumPy's callable objects, np.vectorize(f)..., run as they are: inlined, an error would
    # name a line of NumPy's source instead of the user's)
    if isinstance(call, types.FunctionType) and not (call.__module__ or "").startswith("numpy"):
        return L.inline(call, [func] + list(args), kwargs, node)
    pure = is_pure_callable(func, kwargs)
    if not has_values and pure:
        return L.run_now(func, args, kwargs, node)
    # Random numbers, the clock, I/O...: called when the gradient runs, every time.
    return L.opaque_call(func, args, kwargs, node, pure)


def opaque_call(L, func, args, kwargs, node, pure=True):
    """A call adjoint has no rule for: kept as is, made when the generated code runs (with
    no derivative: differentiating through it is an error). An impure one is never merged
    with another or dropped."""
    operands = [ir.Const(func)] + [L.operand(a, node) for a in args]
    operands += [L.operand(v, node) for v in kwargs.values()]
    prim = P.call if pure else P.call_effect
    return L.ctx.emit(prim, operands, L.loc(node), L.role, kwnames=tuple(kwargs))


def bprop_call(L, cell, args, kwargs, node):
    """A Cell with a ``bprop`` method: its construct runs as usual; its gradient is bprop's."""
    from ..ir import CUSTOM
    if kwargs:
        raise L.error(node, "call a Cell that has a bprop with positional arguments only")
    with L.ctx.region() as ops:
        result = L.inline(type(cell).construct, [cell] + list(args), {}, node)
    flat, tree = flatten(result)
    results = [ir.Value() for _ in flat]
    op = ir.Op(CUSTOM, [L.operand(a, node) for a in args], None, L.loc(node), L.role,
               blocks=[ir.Block(ops, [], [L.operand(f, node) for f in flat])], results=results)
    op.attrs["bprop"] = (cell, tree)
    L.ctx.ops.append(op)
    return tree.unflatten(results)


_PER_ELEMENT = {id(f) for f in (np.vectorize, np.frompyfunc, np.apply_along_axis, np.apply_over_axes,
                                 np.piecewise)}


def run_now(L, func, args, kwargs, node):
    if id(func) in _PER_ELEMENT and not (args and lookup(args[0]) is not None):
        raise L.error(node, "`%s` runs a Python function piece by piece; adjoint cannot "
                      "differentiate through it" % callable_name(func),
                      hint="write the function with array operations (np.where for conditions)")
    try:
        return func(*args, **kwargs)
    except Exception as exc:
        raise L.error(node, "calling `%s` while compiling failed: %s: %s"
                      % (callable_name(func), type(exc).__name__, exc)) from None


def call_prim(L, prim, args, kwargs, node):
    spread = [a for a in args if isinstance(a, Spread)]
    if spread:                      # np.stack(outs) / np.concatenate(outs) of a run-time list
        together = {P.stack: P.stack_list, P.concat: P.concat_list}.get(prim)
        if together is None or len(args) != 1:
            raise L.error(node, "`%s` cannot take the items of a list built while the code runs"
                          % prim.name, hint="np.stack or np.concatenate it first")
        return call_prim(L, together, [spread[0].value], kwargs, node)
    try:
        bound = prim.bind(args, kwargs)
    except TypeError as exc:
        raise L.error(node, "bad arguments for `%s`: %s" % (prim.name, exc)) from None
    operands = [L.operand(a, node) for a in bound]
    if prim.pure and not any(isinstance(a, ir.Value) for a in operands):
        folded = fold(L, prim, operands)
        if folded is not _NOFOLD:
            return folded
    if prim is P.tuple_getitem:
        src = operands[0]
        if isinstance(src, ir.Value) and src.op is not None and src.op.prim is P.make_tuple \
                and isinstance(operands[1], ir.Const):
            picked = src.op.args[operands[1].value]
            return picked if isinstance(picked, ir.Value) else picked.value
    return L.ctx.emit(prim, operands, L.loc(node), L.role)


def fold(L, prim, operands):
    try:
        positional, keywords = prim.split([o.value for o in operands])
        result = prim.impl(*positional, **keywords)
    except Exception:
        return _NOFOLD
    if is_literal(result):
        return result
    return _NOFOLD


def inline(L, fn, args, kwargs, node, loc_override=None, role=None):
    """Lower the body of the Python function ``fn`` with its parameters bound to ``args``."""
    where = L.loc(node)
    src = parse_function(fn, where)
    try:
        bound = inspect.signature(fn, follow_wrapped=False).bind(*args, **kwargs)
    except TypeError as exc:
        raise SourceError("bad call of %s: %s" % (src.qualname, exc), where) from None
    bound.apply_defaults()
    if L.ctx.depth >= MAX_DEPTH:
        raise _too_deep(L, where)
    if loc_override is None and _is_library(fn):
        loc_override = L.loc_override or where
    elif loc_override is None:
        loc_override = L.loc_override
    inner = type(L)(L.ctx, src, fn, dict(bound.arguments), loc_override, role or L.role)
    inner.caller, inner.call_loc = L, where
    L.ctx.depth += 1
    try:
        return inner.run()
    finally:
        L.ctx.depth -= 1



def _too_deep(L, where):
    """The error for calls nested MAX_DEPTH deep: name the function that keeps calling itself."""
    counts, lowerer = {}, L
    while lowerer is not None:
        counts[lowerer.src] = counts.get(lowerer.src, 0) + 1
        lowerer = lowerer.caller
    src = max(counts, key=counts.get)
    lowerer = L
    while lowerer.src is not src:
        lowerer = lowerer.caller
    where = lowerer.call_loc or where           # (the call of itself, not the deepest call)
    if counts[src] < 2:
        return SourceError("calls nest more than %d deep" % MAX_DEPTH, where,
                           hint="adjoint inlines calls: flatten the chain of helpers")
    return SourceError("%s calls itself more than %d deep: to a depth decided by the data?"
                       % (src.qualname, counts[src]), where,
                       hint="adjoint compiles recursion whose depth depends on a Tensor when it "
                            "calls itself once, in return statements (`return %s(...)`, `return x + "
                            "%s(...)`); otherwise write it as a while loop" % (src.node.name, src.node.name))


_NOFOLD = object()

_PYTHON_OPERATORS = {id(f) for f in list(BINOPS.values()) + list(UNARYOPS.values()) + list(CMPOPS.values())}


def _key(obj):
    return id(obj)


_NUMPY_EFFECTS = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis", "save",
                  "savez", "savez_compressed", "savetxt", "load", "loadtxt", "genfromtxt", "fromfile",
                  "tofile", "seterr", "seterrcall", "set_printoptions", "setbufsize", "memmap"}


_PURE_MODULES = ("math", "cmath", "operator")


def is_pure_callable(func, kwargs=None):
    """Is calling ``func`` on constants the same now and at every run? (So it may be called
    while compiling.) math, operator, NumPy except np.random and what writes or does I/O,
    and ufuncs without ``out=``; anything else is called when the generated code runs."""
    if kwargs and "out" in kwargs:
        return False
    if func in PURE_BUILTINS:
        return True
    if isinstance(func, np.ufunc):
        return True
    owner = getattr(func, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        return False                    # a method of an object (rng.normal, file.write...)
    module = getattr(func, "__module__", None) or ""
    if module in _PURE_MODULES:
        return True
    if module == "numpy" or module.startswith("numpy.") and not module.startswith("numpy.random"):
        return getattr(func, "__name__", "") not in _NUMPY_EFFECTS
    return False


def _is_library(fn):
    module = getattr(fn, "__module__", "") or ""
    return module == "adjoint" or module.startswith("adjoint.")


def _describe(obj):
    return type(obj).__name__ if not isinstance(obj, types.ModuleType) else obj.__name__


def callable_name(fn):
    if isinstance(fn, np.vectorize):
        return "np.vectorize(%s)" % callable_name(fn.pyfunc)
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    if module.startswith("numpy"):
        module = "np" + "".join("." + part for part in module.split(".")[1:] if not part.startswith("_"))
    return "%s.%s" % (module, name) if module and module != "builtins" else name
