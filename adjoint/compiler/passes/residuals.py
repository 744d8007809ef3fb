"""Residuals: what the reverse sweep keeps of the forward one, chosen after dead code is gone.

A loop pushes on its tape, each iteration, the values its reverse reads; the reverse pops them.
Once DCE has removed what nothing needs:

* a pushed value no pop's result is used any more is not pushed;
* a value whose popped copy is read only for its shape (``unbroadcast(g, x)``) is pushed as its
  shape, computed right after it in the forward loop, so the array goes with its iteration;
* a tape left with nothing to carry is not made (unless its length counts a while's trips).

Before::   for ...: %t = matmul(%h, %w); ...; tape_push(%tape, %h, %t)
           for ...: %h2, %t2 = tape_pop(%tape); ... unbroadcast(%d, %t2)
After::    for ...: %t = matmul(%h, %w); %s = shape_of(%t); ...; tape_push(%tape, %h, %s)
           for ...: %h2, %t2 = tape_pop(%tape); ... unbroadcast(%d, %t2)

At the top level the same holds without a tape: a value read only for its shape, long after its
last real use, is read as its shape computed right after it (so codegen can free the array).
"""
from .. import ir
from ..activity import Tapes
from .. import rules as P
from ..prims import SHAPE

MIN_GAP = 4     # top level: statements between the last real use and the first shape use


def residuals(func):
    _loop_residuals(func)
    _top_level_shapes(func)
    return func


def _uses(func):
    """{value: [(op, argument position)]}; position None for a use that needs the whole value
    (a block's yield, a function output, a structured op's operand)."""
    uses = {}
    for op in ir.walk(func.body.ops):
        for k, a in enumerate(op.args):
            if isinstance(a, ir.Value):
                uses.setdefault(a, []).append((op, k if not op.blocks else None))
        for block in op.blocks:
            for y in block.yields:
                if isinstance(y, ir.Value):
                    uses.setdefault(y, []).append((op, None))
    for o in func.outputs:
        if isinstance(o, ir.Value):
            uses.setdefault(o, []).append((None, None))
    return uses


def _loop_residuals(func):
    tapes = Tapes(func.body.ops)
    pops, counted = {}, set()
    for op in ir.walk(func.body.ops):
        if op.prim is ir.TAPE_POP or op.prim is ir.TAPE_LEN:
            origin = tapes.origin(op.args[0])
            if op.prim is ir.TAPE_LEN or origin is None:
                counted.add(origin)             # (an unknown pop: keep that tape as it is)
            if op.prim is ir.TAPE_POP:
                pops.setdefault(origin, []).append(op)
    if None in counted:
        return
    uses = _uses(func)
    blocks = _blocks_of(func.body)
    for tape, push in tapes.pushes.items():
        readers = pops.get(tape, [])
        keep = []
        for k, v in enumerate(push.args[1:]):
            restored = [pop.results[k] for pop in readers]
            where = [u for r in restored for u in uses.get(r, ())]
            if not where:
                continue                                            # nothing reads it
            if isinstance(v, ir.Value) and _only_shapes(where) and not _is_shape(v):
                v = _shape_after(v, blocks[push])
            keep.append((k, v))
        push.args = [tape] + [v for _, v in keep]
        for pop in readers:
            pop.results = [pop.results[k] for k, _ in keep]
        if not keep and not readers and tape not in counted:
            _drop(blocks, push)
            _drop(blocks, tape.op)


def _only_shapes(where):
    return all(op is not None and k is not None and k in _shape_positions(op) for op, k in where)


def _shape_positions(op):
    """The arguments ``op`` reads only for their shape. (``unreduce(1.0, x)``, a constant seed,
    makes its array in x's dtype: there x's shape won't do.)"""
    if op.prim is P.unreduce_p and isinstance(op.args[0], ir.Const):
        return ()
    return op.prim.shape_only


def _is_shape(v):
    return v.op is not None and v.op.prim.shape == SHAPE


def _shape_after(v, block):
    """``np.shape(v)``, inserted right after v's definition in ``block``."""
    shape = ir.Value(None)
    at = next((i + 1 for i, o in enumerate(block.ops) if v in o.results), 0)
    loc, role = (v.op.loc, v.op.role) if v.op is not None else (None, "fwd")
    block.ops.insert(at, ir.Op(P.shape_of, [v], shape, loc, role))
    return shape


def _blocks_of(block, out=None):
    """{op: the block holding it} (the function's body is a block too)."""
    out = {} if out is None else out
    for op in block.ops:
        out[op] = block
        for inner in op.blocks:
            _blocks_of(inner, out)
    return out


def _drop(blocks, op):
    blocks[op].ops.remove(op)


def _top_level_shapes(func):
    top = func.body.ops
    position = {}
    for i, op in enumerate(top):
        for inner in ir.walk([op]):
            position[inner] = i
    # (a value that already is a shape, from an inlined gradient, is its own shape)
    defined = {op.result: i for i, op in enumerate(top) if not op.blocks and len(op.results) == 1
               and op.prim.shape != SHAPE}
    shape_uses, last_value_use = {}, {}
    for op, i in position.items():
        positions = _shape_positions(op)
        for k, a in enumerate(op.args):
            if a in defined:
                if k in positions:
                    shape_uses.setdefault(a, []).append((op, k, i))
                else:
                    last_value_use[a] = max(last_value_use.get(a, -1), i)
        for a in (ir.used_values(op) if op.blocks else []):
            if a in defined and a not in op.args:
                last_value_use[a] = max(last_value_use.get(a, -1), i)
    for o in func.outputs:
        if o in defined:
            last_value_use[o] = len(top)
    inserted = []
    for v, found in shape_uses.items():
        first_shape_use = min(i for _, _, i in found)
        if first_shape_use - max(last_value_use.get(v, -1), defined[v]) <= MIN_GAP:
            continue            # the value would not live long for its shape alone: not worth it
        shape = ir.Value(None)
        inserted.append((defined[v], ir.Op(P.shape_of, [v], shape, v.op.loc, v.op.role)))
        for user, k, _ in found:
            user.args[k] = shape
    for at, new in sorted(inserted, key=lambda p: p[0], reverse=True):
        top.insert(at + 1, new)
