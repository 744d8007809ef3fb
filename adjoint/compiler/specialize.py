"""A second version of a compiled gradient for calls whose arguments look like the first call's.

The general code must work for any shapes, so it keeps ``unbroadcast(g, x)`` calls and
computes forward values only for their shape. When a call stub sees the same facts at every
call (which array arguments share a shape, their dtypes, which arguments are Python floats),
it can run code built with those facts, behind guards that check them:

- arguments with equal shapes are shaped alike (``passes/shapes.py`` then drops the
  ``unbroadcast`` calls between them);
- a value read only for its shape and dtype is read from an argument of that shape and dtype
  instead, so forward values computed only for that go (dead code);
- on Python floats, ``np.sin`` and its kin become ``math.sin`` (plain floats, no NumPy scalar
  on the way). Where ``math`` raises and NumPy would not (``math.log(0.0)``, ``1.0 / 0.0``), the
  stub runs the general code instead, so results never depend on which version ran.

Only pure gradients are specialized: the fallback may run the general code after the special
one failed part way.
"""

from . import chunking, codegen, ir
from . import rules as P
from .higher import _clone_ops, _rebuild
from .math_names import MATH
from .passes import optimize
from .passes.shapes import SameShape
from .prims import BROADCAST, SAME

# elementwise primitives whose result has their float operands' dtype (given one dtype)
_KEEPS_DTYPE = frozenset(
    name for name in ("absolute arccos arccosh arcsin arcsinh arctan arctanh copy cos cosh erf erfc exp "
                      "exp2 expm1 floor identity ipow log log10 log1p log2 log_softmax negative pos "
                      "positive reciprocal relu sigmoid sign sin sinh softmax softplus sqrt square "
                      "stop_gradient tan tanh add arctan2 logaddexp logaddexp2 maximum minimum mul "
                      "power sub truediv").split())

_FLOAT_INFIX = ("+", "-", "*", "/")


def rerunnable(func):
    """No op with an effect (a write, a random draw, a print): running it twice is harmless."""
    return all(op.prim.pure or op.prim in ir.TAPE_OPS for op in ir.walk(func.body.ops))


def specialize(compiled, shapes, dtypes, floats, header=""):
    """The gradient of ``compiled`` rebuilt for arguments with these facts, one per parameter
    of ``compiled.func``: ``shapes`` (a tuple, or None when not known), ``dtypes`` (a dtype, or
    None), ``floats`` (True for a Python float). Returns a ``codegen.Generated``, or None when
    the facts change nothing worth a second version; else (that, what each returned value
    certainly is: see ``_leaf_facts``)."""
    func, returns = compiled.func, compiled.returns
    mapping = {}
    params = [ir.Value(p.name, kind=p.kind) for p in func.params]
    mapping.update(zip(func.params, params))
    body = ir.Block(_clone_ops(func.body.ops, mapping))
    # one output per Value the gradient returns (``func.outputs`` may hold constants where
    # optimisation replaced one: they are in ``returns`` already)
    returns = _rebuild(returns, mapping)
    outputs = [v for v in ir.leaves(returns) if isinstance(v, ir.Value)]
    new = ir.Func(func.name, params, body, outputs, func.output_tree)
    new.scalar_params = {mapping[p] for p in func.scalar_params}
    pairs = [(mapping[a], mapping[b]) for a, b in getattr(func, "shape_pairs", ())]
    first = {}
    for p, shape in zip(params, shapes):
        if shape is not None:
            other = first.setdefault(shape, p)
            if other is not p:
                pairs.append((p, other))
    new.shape_pairs = pairs
    float_params = {p for p, f in zip(params, floats) if f}
    big = [p for p, shape in zip(params, shapes) if shape is not None and _size(shape) >= chunking.MIN_SIZE]
    if not pairs and not float_params and not (big and chunking.regions(func, [func.params[params.index(p)]
                                                                               for p in big])):
        return None
    check = _checker()
    known = {p: d for p, d in zip(params, dtypes) if d is not None}
    _read_from_params(new, known)
    new = optimize(new, check)
    _copy_returned_params(new, float_params)
    if big:
        found = chunking.regions(new, big)
        if found:
            chunking.chunk(new, found, _name(compiled), header)
            if check:
                check(new, "chunking")
    returns = _relink(returns, new)
    floats_known = _python_floats(new, float_params)
    generated = codegen.build(new, _name(compiled), returns, header, floats=floats_known)
    return generated, _leaf_facts(new, returns, known, floats_known)


def _leaf_facts(func, returns, known, floats):
    """What each returned value certainly is, in the structure of ``returns``: 'float' (a Python
    float), a dtype (a fresh ndarray or NumPy scalar of that dtype, not a view of anything), or
    None (not known)."""
    from .trees import map_leaves
    dtypes = dict(known)
    fresh = set()
    for op in ir.walk(func.body.ops):
        d = _dtype_of(op, dtypes)
        if d is None and op.prim in (P.unreduce_p, P.copy) and not op.blocks:
            x = op.args[1] if op.prim is P.unreduce_p else op.args[0]
            if op.prim is P.copy or (isinstance(op.args[0], ir.Const) and type(op.args[0].value) in (int, float)):
                d = dtypes.get(x) if isinstance(x, ir.Value) else None
        if d is not None:
            dtypes[op.result] = d
            if op.prim.name not in ("identity", "stop_gradient"):
                fresh.add(op.result)

    def fact(v):
        if v in floats:
            return "float"
        return dtypes[v] if v in fresh else None
    return map_leaves(lambda v: fact(v) if isinstance(v, ir.Value) else None, returns)


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _checker():
    """The IR verifier after every pass, when ADJOINT_VERIFY is set (as in pipeline.py)."""
    import os
    if os.environ.get("ADJOINT_VERIFY", "") not in ("", "0"):
        from .verify import verify
        return verify
    return None


def _name(compiled):
    return compiled.generated.name + "_special"


def _relink(returns, func):
    from .trees import map_leaves
    it = iter(func.outputs)
    return map_leaves(lambda v: next(it) if isinstance(v, ir.Value) else
                      v if isinstance(v, ir.Const) else ir.Const(v), returns)


def _copy_returned_params(func, floats):
    """A gradient that came out as an argument itself (``d(w*x)/dw`` is ``x`` when the ones
    seed goes): a copy, so that changing the gradient in place leaves the argument alone."""
    params = set(func.params)
    for i, v in enumerate(func.outputs):
        if v in params and v not in floats:
            out = ir.Value(v.name)
            func.body.ops.append(ir.Op(P.copy, [v], out, role="grad"))
            func.outputs[i] = out


def _read_from_params(func, known):
    """Where an op reads a value only for its shape (and dtype), read a parameter known to have
    both instead: the value may then not be computed at all."""
    shapes = SameShape(func)
    dtypes = dict(known)
    by_class = {}
    for p in func.params:
        if p in known:
            by_class.setdefault((shapes.find(p), known[p]), p)
    for op in ir.walk(func.body.ops):
        for r in op.results:
            d = _dtype_of(op, dtypes)
            if d is not None:
                dtypes[r] = d
        only = op.prim.shape_only if not op.blocks else ()
        for k in only:
            v = op.args[k] if k < len(op.args) else None
            if not isinstance(v, ir.Value) or v.op is None or v not in dtypes:
                continue
            p = by_class.get((shapes.find(v), dtypes[v]))
            if p is not None:
                op.args[k] = p


def _dtype_of(op, dtypes):
    """The dtype of an elementwise op's result when its array operands all have one float dtype
    and the rest are Python numbers (which do not change it)."""
    if op.blocks or len(op.results) != 1 or op.prim.name not in _KEEPS_DTYPE \
            or op.prim.shape not in (SAME, BROADCAST):
        return None
    found = None
    for a in op.args:
        if isinstance(a, ir.Value):
            d = dtypes.get(a)
            if d is None or (found is not None and d != found) or d.kind != "f":
                return None
            found = d
        elif type(a.value) not in (int, float):
            return None
    return found


def _python_floats(func, params):
    """Values certainly Python floats when ``params`` are: sums, products, quotients and
    negations of them and of numbers, and the math twins of NumPy functions of them."""
    floats = set(params)
    if not floats:
        return floats
    for op in ir.walk(func.body.ops):
        if op.blocks or len(op.results) != 1:
            continue
        prim, args = op.prim, op.args
        values = [a for a in args if isinstance(a, ir.Value)]
        if not values or not all(v in floats for v in values):
            continue
        consts_ok = all(type(a.value) in (int, float) for a in args if isinstance(a, ir.Const))
        if prim.infix in _FLOAT_INFIX and consts_ok:
            floats.add(op.result)
        elif (prim.unary or prim is P.ipow) and consts_ok:
            floats.add(op.result)
        elif prim.emit in MATH and len(args) == 1:
            floats.add(op.result)
    return floats
