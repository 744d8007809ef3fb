"""Gradient checkpointing: values of a marked part of the forward computation are not kept for
the reverse sweep but computed again there.

A Cell whose ``recompute()`` was called (MindSpore's ``Cell.recompute``), or a call made through
``adjoint.recompute(block, *args)``, is lowered as usual and its ops are marked with a region
number (``lower_marked``). After differentiation and optimisation, ``rematerialize`` finds, per
region, the values its ops define that the reverse sweep reads (not the region's outputs, which
are kept, as in MindSpore), copies the ops that compute them (from the region's inputs, which
are kept) right before the first reverse op that reads one, and makes the reverse read the
copies. The originals are then freed as soon as the forward is done with them: the peak memory
of a deep network holds the regions' inputs and one region's values instead of all values.

Before::   %h1 = tanh(%a)  [region 1]   ...   %d = mul(%g, sub(1, mul(%h1, %h1)))
After::    %h1 = tanh(%a)  [region 1]   ...   %h1' = tanh(%a); %d = mul(%g, sub(1, mul(%h1', %h1')))

Only pure primitive ops at the function's top level are computed again: an op with effects (a
dropout mask), a loop or a branch inside a region keeps its values.
"""
import itertools

from . import ir
from .trees import flatten

_regions = itertools.count(1)


def lower_marked(L, lower):
    """Lower ``lower()`` (a call) as a recomputed region: its ops get the region's number, the
    ops defining what it returns are marked as its outputs."""
    region = next(_regions)
    ops = L.ctx.ops
    start = len(ops)
    result = lower()
    outputs = {v for v in flatten(result)[0] if isinstance(v, ir.Value)}
    for op in ir.walk(ops[start:]):
        op.attrs.setdefault("recompute", region)
        if any(r in outputs for r in op.results):
            op.attrs["recompute_out"] = True
    return result


def rematerialize(func):
    """Recompute, in the reverse sweep, the values of marked regions it reads."""
    top = func.body.ops
    if not any(op.attrs.get("recompute") for op in top):
        return func
    last_forward = max((i for i, op in enumerate(top) if op.role == "fwd"), default=-1)
    regions = {}
    for op in top[:last_forward + 1]:
        region = op.attrs.get("recompute")
        if region is not None and op.role == "fwd":
            regions.setdefault(region, []).append(op)
    for region_ops in regions.values():
        _rematerialize_region(top, region_ops, last_forward + 1)
    return func


def _recomputable(op):
    return (op.prim.pure and not op.blocks and len(op.results) == 1 and op.prim.rule_kind != "structured"
            and not op.attrs.get("recompute_out"))


def _rematerialize_region(top, region_ops, reverse_start):
    defined = {op.result: op for op in region_ops if _recomputable(op)}
    if not defined:
        return
    first, needed = None, set()
    for i in range(reverse_start, len(top)):
        used = {v for v in ir.used_values(top[i]) if v in defined}
        if used:
            needed |= used
            first = i if first is None else first
    if not needed:
        return
    # the values needed and, within the region, what they are computed from
    todo = list(needed)
    while todo:
        v = todo.pop()
        for a in defined[v].values():
            if a in defined and a not in needed:
                needed.add(a)
                todo.append(a)
    mapping, clones = {}, []
    for op in region_ops:
        if op.result not in needed:
            continue
        new = ir.Value(op.result.name, kind=op.result.kind)
        new.adjoint_of = op.result.adjoint_of
        clone = ir.Op(op.prim, [mapping.get(a, a) for a in op.args], new, op.loc, "recompute", op.kwnames)
        clone.attrs["recomputed"] = True
        clones.append(clone)
        mapping[op.result] = new
    from .passes.substitute import substitute_ops
    substitute_ops(top[first:], mapping)
    top[first:first] = clones
