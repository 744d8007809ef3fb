"""Higher-order gradients: a gradient function called inside compiled code.

``GradOperation()(self.net)(x)`` inside a ``construct`` is compiled to its adjoint (IR made of
primitives, each with a rule), and that IR is copied in place, so differentiating the outer
function differentiates the inner adjoint: second and third derivatives, source to source.
"""
import numpy as np

from ..errors import SourceError
from . import ir
from .sources import Guard
from .trees import map_leaves


def inline_gradient(lowerer, gradfn, args, kwargs, node):
    from .pipeline import ARRAY, compile_request
    if kwargs:
        raise lowerer.error(node, "call a gradient function with positional arguments only")
    args = list(args)
    sens = args.pop() if gradfn.sens else None
    marks = [ARRAY if isinstance(a, ir.Value) else a for a in args]
    examples = [np.zeros(1) if m is ARRAY else m for m in marks]
    try:
        request = gradfn.request(examples)
        kinds = [a.kind if isinstance(a, ir.Value) else None for a in args]
        compiled = compile_request(gradfn.fn, gradfn.self_obj, marks, gradfn.weights, request, kinds=kinds)
    except SourceError:
        raise
    except Exception as exc:
        raise lowerer.error(node, "cannot compile this gradient inside compiled code: %s" % exc) from None
    func = compiled.func
    params = [a for a in args if isinstance(a, ir.Value)]
    # What the inner gradient reads from outside is read (and checked) by the outer code too;
    # its roots are fixed here, since the inner function object is itself checked.
    for obj, v, (source, tier) in zip(compiled.inputs, func.params[len(params):], compiled.input_sources):
        params.append(lowerer.ctx.input_for(obj, v.name, source.absolute(gradfn.fn, gradfn.self_obj), tier))
    for guard in compiled.guards:
        lowerer.ctx.guard(Guard(guard.source.absolute(gradfn.fn, gradfn.self_obj), guard.mode,
                                guard.expected, guard.tier))
    if gradfn.sens:
        params.append(lowerer.operand(sens, node) if not isinstance(sens, ir.Value) else sens)
    mapping = {}
    for old, new in zip(func.params, params):
        mapping[old] = new
    lowerer.ctx.ops.extend(_clone_ops(func.body.ops, mapping))
    return _rebuild(compiled.returns, mapping)


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
