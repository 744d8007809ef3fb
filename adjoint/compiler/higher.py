"""Higher-order gradients: a gradient function called inside compiled code.

``GradOperation()(self.net)(x)`` inside a ``construct`` is compiled to its adjoint (IR made of
primitives, each with a rule), and that IR is copied in place, so differentiating the outer
function differentiates the inner adjoint: second and third derivatives, source to source.
"""
from ..errors import SourceError
from . import ir
from .sources import Guard
from .trees import flatten, map_leaves


def inline_gradient(lowerer, gradfn, args, kwargs, node):
    """The adjoint IR of ``gradfn`` called with ``args`` and ``kwargs`` (abstract values; a
    tuple, list or dict may hold Values), copied in place; returns its results."""
    from .pipeline import ARRAY, Request, compile_request
    n_tangents = getattr(gradfn, "n_tangents", 0)       # forward mode: the call ends with tangents
    tangents = list(args[len(args) - n_tangents:]) if n_tangents else []
    args = list(args[:len(args) - n_tangents]) if n_tangents else list(args)
    args = list(getattr(gradfn, "prefix_args", ())) + list(args)
    n_prefix = len(args) - len(_user(args, gradfn))
    kwargs = dict(getattr(gradfn, "prefix_kwargs", {}), **kwargs)
    sens = None
    if gradfn.sens:
        if "sens" in kwargs:
            sens = kwargs.pop("sens")
        elif len(args) > n_prefix:
            sens = args.pop()
        else:
            raise lowerer.error(node, "this gradient function takes the sens (the output's gradient) last")

    def mark(a):
        return map_leaves(lambda v: ARRAY if isinstance(v, ir.Value) else v, a) \
            if isinstance(a, (tuple, list, dict)) else ARRAY if isinstance(a, ir.Value) else a

    def kind(a):
        return map_leaves(lambda v: v.kind if isinstance(v, ir.Value) else None, a) \
            if isinstance(a, (tuple, list, dict)) else a.kind if isinstance(a, ir.Value) else None

    marks = [mark(a) for a in args]
    kwmarks = {k: mark(v) for k, v in kwargs.items()}
    try:
        positions, layout = gradfn.layout_fn(len(args) - n_prefix, len(gradfn.weights), gradfn.single_weight)
        for p in positions:
            if p >= len(args) - n_prefix:
                raise SourceError("cannot differentiate argument %d: the gradient function was called "
                                  "with %d argument(s)" % (p, len(args) - n_prefix), lowerer.loc(node))
        positions = tuple(p + n_prefix for p in positions)
        layout = _shift(layout, n_prefix)
        request = Request(positions, len(gradfn.weights), gradfn.sens, gradfn.has_aux, layout,
                          mode=getattr(gradfn, "mode", "vjp"))
        compiled = compile_request(gradfn.fn, gradfn.self_obj, marks, gradfn.weights, request,
                                   kwargs=kwmarks, kinds=[kind(a) for a in args],
                                   names=gradfn._names(len(args)) if hasattr(gradfn, "_names") else None,
                                   qualname=getattr(gradfn, "title", None))
    except SourceError:
        raise
    except Exception as exc:
        raise lowerer.error(node, "cannot compile this gradient inside compiled code: %s" % exc) from None
    func = compiled.func
    params = [v for a in args for v in flatten(a)[0] if isinstance(v, ir.Value)]
    params += [v for k in sorted(kwargs) for v in flatten(kwargs[k])[0] if isinstance(v, ir.Value)]
    # What the inner gradient reads from outside is read (and checked) by the outer code too;
    # its roots are fixed here, since the inner function object is itself checked.
    for obj, v, (source, tier) in zip(compiled.inputs, func.params[len(params):], compiled.input_sources):
        params.append(lowerer.ctx.input_for(obj, v.name, source.absolute(gradfn.fn, gradfn.self_obj), tier))
    for guard in compiled.guards:
        lowerer.ctx.guard(Guard(guard.source.absolute(gradfn.fn, gradfn.self_obj), guard.mode,
                                guard.expected, guard.tier))
    if gradfn.sens:
        params.append(lowerer.operand(sens, node) if not isinstance(sens, ir.Value) else sens)
    for p, t in zip(positions, tangents):       # a tangent per leaf of each differentiated argument
        found = flatten(args[p])[0] if isinstance(args[p], (tuple, list, dict)) else [args[p]]
        given = flatten(t)[0] if isinstance(t, (tuple, list, dict)) else [t]
        if len(given) != len(found):
            raise lowerer.error(node, "a tangent must have its argument's structure")
        params.extend(lowerer.operand(g, node) for a, g in zip(found, given) if isinstance(a, ir.Value))
    mapping = {}
    for old, new in zip(func.params, params):
        mapping[old] = new
    lowerer.ctx.ops.extend(_clone_ops(func.body.ops, mapping))
    return _rebuild(compiled.returns, mapping)


def _user(args, gradfn):
    return args[len(getattr(gradfn, "prefix_args", ())):]


def _shift(layout, n):
    if not n:
        return layout
    if isinstance(layout, tuple) and layout and isinstance(layout[0], str):
        return ("dx", layout[1] + n) if layout[0] == "dx" else layout
    return tuple(_shift(x, n) for x in layout)


def _map(mapping, a):
    if isinstance(a, ir.Value):
        return mapping.get(a, a)
    return a


def _clone_ops(ops, mapping):
    out = []
    for op in ops:
        results = []
        for r in op.results:
            new = ir.Value(r.name, kind=r.kind)
            new.adjoint_of = mapping.get(r.adjoint_of, None) if r.adjoint_of is not None else None
            mapping[r] = new
            results.append(new)
        blocks, fresh = [], {}
        for block in op.blocks:
            args = []
            for a in block.args:          # (a while's two blocks share their arguments)
                if a not in fresh:
                    fresh[a] = mapping[a] = ir.Value(a.name, kind=a.kind)
                args.append(fresh[a])
            inner = _clone_ops(block.ops, mapping)
            blocks.append(ir.Block(inner, args, [_map(mapping, y) for y in block.yields]))
        new_op = ir.Op(op.prim, [_map(mapping, a) for a in op.args], None, op.loc, op.role,
                       op.kwnames, blocks=blocks, results=results)
        new_op.attrs.update(op.attrs)       # (constants only: values are arguments)
        out.append(new_op)
    return out


def _rebuild(returns, mapping):
    return map_leaves(lambda r: r.value if isinstance(r, ir.Const) else _map(mapping, r), returns)
