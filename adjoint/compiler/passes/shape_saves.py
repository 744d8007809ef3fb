"""Read a value's shape, not the value, when only the shape is needed late.

Before::   %t = matmul(%x, %w); %h = tanh(%t) ... (much later) %g = unbroadcast(%d, %t)
After::    %t = matmul(%x, %w); %s = shape_of(%t); %h = tanh(%t) ... %g = unbroadcast(%d, %s)

A reverse sweep often needs a forward value only for its shape (to undo broadcasting). Keeping
the array alive for that holds memory the hand-written gradient would have freed; after this
pass the array can be freed after its last real use (codegen's ``del``).
"""
from .. import ir
from ..lower import _P
from ..prims import SHAPE


MIN_GAP = 4     # statements between the last real use and the first shape use


def save_shapes(func):
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
        positions = () if _reads_dtype(op) else op.prim.shape_only
        for k, a in enumerate(op.args):
            if a in defined:
                if k in positions:
                    shape_uses.setdefault(a, []).append((op, k, i))
                else:
                    last_value_use[a] = max(last_value_use.get(a, -1), i)
        others = ir.used_values(op) if op.blocks else []
        others += ir.saved_values(op)
        for a in others:
            if a in defined and a not in op.args:
                last_value_use[a] = max(last_value_use.get(a, -1), i)
    for o in func.outputs:
        if o in defined:
            last_value_use[o] = len(top)
    inserted = []
    for v, uses in shape_uses.items():
        first_shape_use = min(i for _, _, i in uses)
        if first_shape_use - max(last_value_use.get(v, -1), defined[v]) <= MIN_GAP:
            continue            # the value would not live long for its shape alone: not worth it
        shape = ir.Value(None)
        op = v.op
        inserted.append((defined[v], ir.Op(_P().shape_of, [v], shape, op.loc, op.role)))
        for user, k, _ in uses:
            user.args[k] = shape
    for at, new in sorted(inserted, key=lambda p: p[0], reverse=True):
        top.insert(at + 1, new)
    return func


def _reads_dtype(op):
    """``unreduce(1.0, x)`` (a constant seed) makes its array in x's dtype: x's shape won't do."""
    return op.prim is _P().unreduce_p and isinstance(op.args[0], ir.Const)
