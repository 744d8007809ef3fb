"""Common subexpression elimination.

Before::   %1 = mul(%x, %y); %2 = mul(%x, %y); %3 = add(%1, %2)
After::    %1 = mul(%x, %y); %3 = add(%1, %1)

Forward and reverse code share what they both compute (``np.cos(x)`` in a rule and in the
user's code become one). A nested block may reuse what its enclosing blocks computed, never
the other way round, and never across sibling blocks.
"""
from .. import ir
from .substitute import resolve, substitute


def _key(op):
    parts = []
    for a in op.args:
        if isinstance(a, ir.Value):
            parts.append(("v", a.id))
        elif isinstance(a.value, slice):     # (slices are not hashable before Python 3.12)
            parts.append(("s", _slice_key(a.value)))
        else:
            try:
                hash(a.value)
                parts.append(("c", type(a.value), a.value))
            except TypeError:
                parts.append(("o", id(a.value)))
    if op.prim.commutative:
        parts.sort(key=repr)          # x * y and y * x are one product
    return (op.prim.name, tuple(parts), op.kwnames)


def _slice_key(s):
    try:
        return hash((s.start, s.stop, s.step)) and (s.start, s.stop, s.step)
    except TypeError:
        return ("o", id(s))


def _cse_block(block, seen, mapping):
    kept = []
    for op in block.ops:
        op.args = [resolve(mapping, a) for a in op.args]
        for inner in op.blocks:
            _cse_block(inner, dict(seen), mapping)
            inner.yields = [resolve(mapping, y) for y in inner.yields]
        if op.prim.pure and not op.blocks and len(op.results) == 1 and not op.attrs.get("fresh") \
                and not op.attrs.get("recomputed"):          # (a checkpoint's copy stays a copy)
            key = _key(op)
            first = seen.get(key)
            if first is not None:
                mapping[op.result] = first
                if first.name is None and op.result.name is not None:
                    first.name = op.result.name
                continue
            seen[key] = op.result
        kept.append(op)
    block.ops = kept


def cse(func):
    mapping = {}
    _cse_block(func.body, {}, mapping)
    return substitute(func, mapping)
