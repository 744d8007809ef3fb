"""Dead code elimination.

Before::   %1 = sin(%x); %2 = cos(%x); return %2
After::    %2 = cos(%x); return %2

Ops whose result no output needs are dropped, unless they have effects (print, sens checks).
"""
from .. import ir


def dce(func):
    live = {o for o in func.outputs if isinstance(o, ir.Value)}
    kept = []
    for op in reversed(func.body.ops):
        if op.result in live or not op.prim.pure:
            kept.append(op)
            live.update(op.values())
    kept.reverse()
    func.body.ops = kept
    return func
