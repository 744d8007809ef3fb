"""Common subexpression elimination.

Before::   %1 = mul(%x, %y); %2 = mul(%x, %y); %3 = add(%1, %2)
After::    %1 = mul(%x, %y); %3 = add(%1, %1)

Forward and reverse code share what they both compute (``np.cos(x)`` in a rule and in the
user's code become one).
"""
from .. import ir
from .substitute import substitute


def _key(op):
    parts = []
    for a in op.args:
        if isinstance(a, ir.Value):
            parts.append(("v", a.id))
        else:
            try:
                hash(a.value)
                parts.append(("c", type(a.value), a.value))
            except TypeError:
                parts.append(("o", id(a.value)))
    return (op.prim.name, tuple(parts), op.kwnames)


def cse(func):
    seen = {}
    mapping = {}
    kept = []
    for op in func.body.ops:
        op.args = [mapping.get(a, a) if isinstance(a, ir.Value) else a for a in op.args]
        if op.prim.pure:
            key = _key(op)
            first = seen.get(key)
            if first is not None:
                mapping[op.result] = first
                if first.name is None and op.result.name is not None:
                    first.name = op.result.name
                continue
            seen[key] = op.result
        kept.append(op)
    func.body.ops = kept
    return substitute(func, mapping)
