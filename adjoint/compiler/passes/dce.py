"""Dead code elimination.

Before::   %1 = sin(%x); %2 = cos(%x); return %2
After::    %2 = cos(%x); return %2

Ops whose results nothing needs are dropped, unless they have effects (print, sens checks),
at every depth. A structured op is kept whole when any of its results is needed. A push onto a
tape is needed only when something pops that tape (or reads its length).
"""
from .. import ir


def _needs(op):
    """Values a kept op reads (a push: what it pushes, not the tape it pushes onto)."""
    out = op.values()[1:] if op.prim is ir.TAPE_PUSH else op.values()
    for block in op.blocks:
        out.extend(y for y in block.yields if isinstance(y, ir.Value))
    return out


def _effects(op):
    if op.prim in (ir.TAPE_PUSH, ir.NEW_LIST):
        return False                     # needed when the tape is
    return not op.prim.pure or any(_effects(o) for b in op.blocks for o in b.ops)


def _needed(op, live):
    if op.prim is ir.TAPE_PUSH:
        return op.args[0] in live
    return _effects(op) or any(r in live for r in op.results)


def dce(func):
    live = {o for o in func.outputs if isinstance(o, ir.Value)}
    ops = list(ir.walk(func.body.ops))
    kept = set()
    changed = True
    while changed:
        changed = False
        for op in reversed(ops):
            if op not in kept and _needed(op, live):
                kept.add(op)
                live.update(_needs(op))
                changed = True
    _sweep(func.body, kept)
    return func


def _sweep(block, kept):
    block.ops = [op for op in block.ops if op in kept]
    for op in block.ops:
        for inner in op.blocks:
            _sweep(inner, kept)
