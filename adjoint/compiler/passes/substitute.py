"""Replace uses of Values (shared by the passes)."""
from .. import ir


def resolve(mapping, a):
    while isinstance(a, ir.Value) and a in mapping:
        a = mapping[a]
    return a


def substitute(func, mapping):
    """Rewrite every use of a Value in ``mapping`` (Value -> Value or Const), at any depth."""
    if not mapping:
        return func
    substitute_ops(func.body.ops, mapping)
    func.outputs = [resolve(mapping, o) for o in func.outputs]
    return func


def substitute_ops(ops, mapping):
    """The same for a list of ops (and the blocks they own)."""
    for op in ir.walk(ops):
        op.args = [resolve(mapping, a) for a in op.args]
        for block in op.blocks:
            block.yields = [resolve(mapping, y) for y in block.yields]
