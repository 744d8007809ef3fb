"""Gradient calls with keyword arguments, pytree arguments and a partial's arguments.

``grad(loss)(params, x, scale=3.0)`` where ``params`` is a dict (or a tuple, a list, nested)
of arrays: each array (and each float) in it is an argument of the generated code of its own,
named after its key (``params_w``); the lowering sees the dict, so ``params["w"]`` is that
value. A differentiated argument that is a pytree gets its gradients back in its structure
(JAX's convention; ``grad_position`` counts top-level arguments). Keyword arguments are never
differentiated (as in MindSpore and JAX); arrays among them are run-time inputs too.

Calls like these take this path (a little slower than a plain call's generated stub): the
arguments are flattened, the entry for their structure looked up (or compiled), the generated
function called with the leaves, and its results cast and wrapped like the arguments they are
the gradients of.
"""
import numpy as np

from . import gradfn as G
from . import stubs as S
from .compiler import cache
from .compiler.hooks import EPOCH
from .compiler.pipeline import ARRAY, SCALAR, Request, compile_request
from .compiler.sources import CALL
from .compiler.trees import flatten
from .errors import AdjointError, ArgumentError
from .tensor import Tensor, unwrap

_KINDS = {"T": "tensor", "A": "ndarray", "S": "number"}
_INTS = (int, bool)


def _leaf(value, differentiated, in_tree):
    """The kind of one leaf: 'T', 'A', 'S' (values at run time) or ('K', value) (a constant).
    In a pytree that is not differentiated, integers are constants (indices, sizes)."""
    if in_tree and not differentiated and type(value) in _INTS:
        return ("K", value)
    return G._kind(value)


def describe(value, differentiated):
    """(spec, mark, kind, leaves) of one argument: ``spec`` is hashable (part of the cache
    key), ``mark`` what the compiler is given (ARRAY/SCALAR at run-time leaves), ``kind`` the
    run-time kinds in the same structure, ``leaves`` the run-time values in order."""
    if type(value) not in S.CONTAINERS:
        k = G._kind(value)
        if k == "X":
            _refuse_namespace(value)
        if isinstance(k, str):
            return k, (SCALAR if k == "S" else ARRAY), _KINDS[k], [value]
        return k, value, None, []
    found, tree = flatten(value)
    if not differentiated and not any(isinstance(v, (Tensor, np.ndarray)) for v in found):
        try:
            hash(value)
            return ("K", value), value, None, []   # (2, 3): a constant, as before
        except TypeError:
            pass
    specs, marks, kinds, leaves = [], [], [], []
    for v in found:
        k = _leaf(v, differentiated, True)
        if k == "X":
            _refuse_namespace(v)
        specs.append(k)
        if isinstance(k, str):
            marks.append(SCALAR if k == "S" else ARRAY)
            kinds.append(_KINDS[k])
            leaves.append(v)
        else:
            marks.append(v)
            kinds.append(None)
    return ("P", tree, tuple(specs)), tree.unflatten(marks), tree.unflatten(kinds), leaves


def _refuse_namespace(value):
    raise ArgumentError("a %s array as a keyword argument, inside a tuple, list or dict, or with a "
                        "functools.partial: adjoint takes arrays of array-API libraries (torch, JAX...) "
                        "only as plain positional arguments for now" % type(value).__module__.split(".")[0])


class Plan:
    """One structured call, flattened."""

    __slots__ = ("args", "specs", "kw_specs", "marks", "kinds", "kw_marks", "leaves", "positions",
                 "layout", "n_prefix", "sens")


def plan(gf, args, kwargs, sens_given=True):
    p = Plan()
    kwargs = dict(kwargs)
    p.sens = None
    if gf.sens and sens_given:
        if "sens" in kwargs:
            p.sens = kwargs.pop("sens")
        elif args:
            args, p.sens = args[:-1], args[-1]
        else:
            raise ArgumentError("%s(sens_param=True): the last argument must be the sens (the "
                                "output's gradient); no arguments were given" % gf.api)
        S.unwrap_sens(p.sens)
    positions, layout = gf.layout_fn(len(args), len(gf.weights), gf.single_weight)
    for q in positions:
        if q >= len(args):
            raise ArgumentError("%s: cannot differentiate argument %d of %s: it was called with %d "
                                "argument(s)" % (gf.api, q, gf.title or gf.fn.__qualname__, len(args)))
    n = p.n_prefix = len(gf.prefix_args)
    full = tuple(gf.prefix_args) + tuple(args)
    kw = dict(gf.prefix_kwargs)
    kw.update(kwargs)
    p.positions = tuple(q + n for q in positions)
    p.layout = _shift(layout, n) if n else layout
    diff = set(p.positions)
    p.args, p.specs, p.marks, p.kinds, p.leaves = full, [], [], [], []
    for i, a in enumerate(full):
        spec, mark, kind, leaves = describe(a, i in diff)
        if i in diff and not isinstance(spec, str) and spec[0] != "P":
            raise ArgumentError("%s differentiates argument %d of %s, which must be a Tensor, an array, "
                                "a number or a tuple, list or dict of them; got %s %r"
                                % (gf.api, i - n, gf.title or gf.fn.__qualname__, type(a).__name__, a))
        if i in diff and spec[0] == "P" and not leaves:
            raise ArgumentError("%s differentiates argument %d of %s, a %s with no Tensor, array or "
                                "float in it" % (gf.api, i - n, gf.title or gf.fn.__qualname__,
                                                 type(a).__name__))
        p.specs.append(spec)
        p.marks.append(mark)
        p.kinds.append(kind)
        p.leaves.extend(leaves)
    p.kw_specs, p.kw_marks = [], {}
    for key in sorted(kw):
        spec, mark, kind, leaves = describe(kw[key], False)
        p.kw_specs.append((key, spec))
        p.kw_marks[key] = mark
        p.leaves.extend(leaves)
    return p


def _shift(layout, n):
    if isinstance(layout, tuple) and layout and isinstance(layout[0], str):
        return ("dx", layout[1] + n) if layout[0] == "dx" else layout
    return tuple(_shift(x, n) for x in layout)


def structured_entry(gf, args, kwargs, sens_given=True):
    """(entry, plan) for a call with keywords, pytrees or a partial's arguments."""
    p = plan(gf, args, kwargs, sens_given)
    pattern = ("S", tuple(p.specs), tuple(p.kw_specs), p.positions, p.layout)
    fast = gf._fast_table()
    key = (gf._config, pattern)
    entry = fast.get(key)
    if entry is None or not entry.valid():
        entry = _compile(gf, p, pattern)
        fast[key] = entry
    return entry, p


def _compile(gf, p, pattern):
    gf._check_arity(p.args, {k: None for k, _ in p.kw_specs})
    request = Request(p.positions, len(gf.weights), gf.sens, gf.has_aux, p.layout, gf.optimize, gf.mode,
                      split=gf.split)
    paths = cache.array_paths(gf.self_obj)
    weight_keys = tuple(("path", paths[id(w)]) if id(w) in paths else ("id", id(w)) for w in gf.weights)
    key = (gf.fn.__code__, id(gf.fn.__globals__), request.key(), pattern, weight_keys,
           cache.structure(gf.self_obj) if gf.self_obj is not None else None)
    compiled, reason = cache.find(key, gf.fn, gf.self_obj)
    if compiled is None:
        for i in p.positions:
            for leaf in flatten(p.args[i])[0]:
                G._warn_if_integer(gf, i - p.n_prefix, leaf) if type(leaf) not in S.CONTAINERS else None
        compiled = compile_request(gf.fn, gf.self_obj, p.marks, gf.weights, request, kwargs=p.kw_marks,
                                   kinds=p.kinds, names=gf._names(len(p.args)), qualname=gf.title)
        cache.store(key, compiled, reason)
    entry = G._Entry(EPOCH[0], compiled, gf.fn, gf.self_obj, pattern, gf.weights)
    entry._stubs = _readers(entry)          # (structured entries have no stubs: their readers)
    return entry


def _readers(entry):
    """How each input of the generated code is read at a call: again (from a global...) or
    the object fixed when the entry was made."""
    out = []
    for source, tier in entry.compiled.input_sources:
        if tier == CALL:
            out.append((True, source))
        else:
            out.append((False, source.read(entry.fn, entry.self_obj)))
    return out


def _fingerprint(value, leaves):
    """A hashable summary of an argument's structure and leaf types (constants by value), its
    leaves appended to ``leaves``: what a call's entry is found again by, in one walk."""
    t = type(value)
    if t is tuple or t is list:
        return (t, tuple([_fingerprint(v, leaves) for v in value]))
    if t is dict:
        return (dict, tuple([(k, _fingerprint(v, leaves)) for k, v in value.items()]))
    leaves.append(value)
    if t is Tensor or t is np.ndarray or t is float:
        return t
    return (t, value)


class _Seen:
    """What a structured call found last time for arguments with this fingerprint."""

    __slots__ = ("entry", "mask", "args", "tensors")


def call_structured(gf, args, kwargs):
    """The gradient call ``gf(*args, **kwargs)`` (forward mode: ``args`` end with a tangent per
    differentiated argument, each in its argument's structure)."""
    if not gf.sens and not gf.n_tangents:
        full = tuple(gf.prefix_args) + args
        kw = dict(gf.prefix_kwargs, **kwargs) if gf.prefix_kwargs else kwargs
        candidates = []
        try:
            key = (len(args), tuple([_fingerprint(a, candidates) for a in full]),
                   tuple([(k, _fingerprint(kw[k], candidates)) for k in sorted(kw)]))
            seen = gf._seen.get(key)
        except TypeError:               # (an unhashable constant: the general path says so)
            key, seen = None, None
        if seen is not None and seen.entry.valid():
            seen.args = full
            return _run_entry(gf, seen.entry, [c for c, m in zip(candidates, seen.mask) if m], seen, (),
                              None)
        entry, p = structured_entry(gf, args, kwargs)
        if key is not None:
            seen = _Seen()
            seen.entry, seen.tensors = entry, any(isinstance(v, Tensor) for v in p.leaves) or bool(gf.weights)
            mask, j = [], 0
            for c in candidates:
                hit = j < len(p.leaves) and c is p.leaves[j]
                mask.append(hit)
                j += hit
            if j == len(p.leaves):
                seen.mask = mask
                gf._seen[key] = seen
        return _run_entry(gf, entry, p.leaves, p, (), None)
    tangents = ()
    if gf.n_tangents:
        if len(args) < gf.n_tangents:
            raise ArgumentError("%s: the call needs %d tangent(s) after the arguments" % (gf.api, gf.n_tangents))
        args, tangents = args[:-gf.n_tangents], args[-gf.n_tangents:]
    entry, p = structured_entry(gf, args, kwargs)
    trailing = _tangent_leaves(gf, p, tangents) if tangents else ()
    return _run_entry(gf, entry, p.leaves, p, trailing, p.sens)


def _run_entry(gf, entry, leaves, p, trailing, sens):
    """Call the entry's generated code on the leaves (and inputs, tangents, sens); wrap."""
    values = [unwrap(v) for v in leaves]
    for again, what in entry._stubs:
        values.append(unwrap(what.read(entry.fn, entry.self_obj)) if again else unwrap(what))
    values.extend(unwrap(t) for t in trailing)
    compiled = entry.compiled
    if gf.sens:
        values.append(S.sens_for(sens, compiled))
    try:
        result = compiled.fn(*values)
    except (AdjointError, AssertionError):
        raise
    except Exception as exc:
        raise S.runtime_error(exc, compiled) from exc
    tensors = getattr(p, "tensors", None)
    if tensors is None:
        tensors = any(isinstance(v, Tensor) for v in leaves) or bool(gf.weights)
    return wrap(compiled.layout, result, p, gf, tensors)


def _tangent_leaves(gf, p, tangents):
    """The tangents' leaves the generated code takes: for each differentiated argument, one per
    run-time leaf of it, from a tangent of the same structure."""
    out = []
    for i, t in zip(p.positions, tangents):
        arg = p.args[i]
        if type(arg) not in S.CONTAINERS:
            out.append(t)
            continue
        found, tree = flatten(arg)
        given, given_tree = flatten(t)
        if given_tree != tree:
            raise ArgumentError("%s: the tangent of argument %d must have its structure, %s; got %s"
                                % (gf.api, i - p.n_prefix, tree.describe(), given_tree.describe()))
        out.extend(g for a, g in zip(found, given) if isinstance(G._kind(a), str))
    return out


def wrap(layout, value, p, gf, tensors):
    """The generated code's results as the user gets them: gradients cast to their argument's
    dtype (Tensors for Tensors, numbers for numbers), values as Tensors when any input was one."""
    if isinstance(layout, tuple) and layout and isinstance(layout[0], str):
        kind, i = layout
        if kind == "dx":
            return _like(value, p.args[i])
        if kind == "dw":
            return S.tensor_cast(value, gf.weights[i]._data.dtype)
        return S.wrap_value(value, tensors)
    return tuple(wrap(sub, v, p, gf, tensors) for sub, v in zip(layout, value))


def _like(grad, arg):
    """``grad`` in the structure of ``arg``, each leaf cast like the argument's leaf."""
    if type(arg) in S.CONTAINERS:
        if isinstance(arg, dict):
            return {k: _like(grad[k], v) for k, v in arg.items()}
        items = [_like(g, a) for g, a in zip(grad, arg)]
        return items if isinstance(arg, list) else tuple(items)
    if grad is None:
        return None                     # (a constant in a pytree: no gradient)
    if isinstance(arg, Tensor):
        return S.tensor_cast(grad, arg._data.dtype)
    if isinstance(arg, np.ndarray):
        return S.cast(grad, arg.dtype)
    return type(arg)(grad)              # a number: float, np.float32...


def forward_and_pullback(gf, inputs, has_aux):
    """ops.vjp's work: run the forward part of ``gf`` (a gradient function with a sens, whose
    layout is a pair: outputs, gradients) now; return ``(outputs, pullback)`` (``(first output,
    pullback, aux)`` with ``has_aux``), ``pullback(v)`` giving the gradients for the sens ``v``.
    The pullback takes the forward part's residuals (passes/split.py) and may run many times."""
    entry, p = structured_entry(gf, tuple(inputs), {}, sens_given=False)
    compiled = entry.compiled
    first_layout, second_layout = compiled.layout
    tensors = any(isinstance(v, Tensor) for v in p.leaves) or bool(gf.weights)
    values = [unwrap(v) for v in p.leaves]
    for again, what in entry._stubs:
        values.append(unwrap(what.read(entry.fn, entry.self_obj)) if again else unwrap(what))
    if compiled.pullback is not None:
        first, residuals = _run(compiled.fn, values, compiled)
        back = compiled.pullback.fn

        def pullback(v):
            return wrap(second_layout, _run(back, list(residuals) + [S.sens_for(v, compiled)], compiled),
                        p, gf, tensors)
    else:                       # (not split: the whole gradient runs at each pullback)
        first = None

        def pullback(v):
            return wrap(second_layout, _run(compiled.fn, values + [S.sens_for(v, compiled)], compiled)[1],
                        p, gf, tensors)
        first = _forward_only(gf, inputs)
    outputs = wrap(first_layout, first, p, gf, tensors) if compiled.pullback is not None else first
    pullback.source = compiled.source
    if has_aux:
        return outputs[0], pullback, outputs[1]
    return outputs[0], pullback


def _run(fn, values, compiled):
    try:
        return fn(*values)
    except (AdjointError, AssertionError):
        raise
    except Exception as exc:
        raise S.runtime_error(exc, compiled) from exc


def _forward_only(gf, inputs):
    """The outputs (and aux) by calling the function itself (when the gradient cannot be split)."""
    out = gf.target(*inputs)
    if gf.has_aux:
        rest = tuple(out[1:])
        return (out[0], rest[0] if len(rest) == 1 else rest)
    return (out,)
