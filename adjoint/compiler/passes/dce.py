"""Dead code elimination.

Before::   %1 = sin(%x); %2 = cos(%x); return %2
After::    %2 = cos(%x); return %2

Ops whose results nothing needs are dropped, unless they have effects (print, sens checks),
at every depth. A structured op is kept whole when any of its results (or its tape) is needed.
"""
from .. import ir


def _needs(op):
    """Values a kept op reads (what it saves on a tape counts once the tape is needed)."""
    out = op.values()
    for block in op.blocks:
        out.extend(y for y in block.yields if isinstance(y, ir.Value))
    if "pops" in op.attrs:
        out.append(op.attrs["pops"])
    return out


def _effects(op):
    return not op.prim.pure or any(_effects(o) for b in op.blocks for o in b.ops)


def _produces(op):
    return list(op.results) + [tape for tape, _ in ir.tapes(op)]


def dce(func):
    live = {o for o in func.outputs if isinstance(o, ir.Value)}
    ops = list(ir.walk(func.body.ops))
    kept = set()
    changed = True
    saving = set()
    while changed:
        changed = False
        for op in reversed(ops):
            if op not in kept and (_effects(op) or any(r in live for r in _produces(op))):
                kept.add(op)
                live.update(_needs(op))
                changed = True
            if op in kept:
                for tape, saved in ir.tapes(op):
                    if tape in live and tape not in saving:
                        saving.add(tape)
                        live.update(saved)
                        changed = True
    _sweep(func.body, kept, saving)
    return func


def _sweep(block, kept, saving):
    block.ops = [op for op in block.ops if op in kept]
    for op in block.ops:
        if "tapes" in op.attrs:         # a tape nothing pops is not written
            op.attrs["tapes"] = [entry for entry in op.attrs["tapes"] if entry[0] in saving]
        for inner in op.blocks:
            _sweep(inner, kept, saving)
