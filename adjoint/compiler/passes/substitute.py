"""Replace uses of Values (shared by the passes)."""
from .. import ir


def substitute(func, mapping):
    """Rewrite every use of a Value in ``mapping`` (Value -> Value or Const), chasing chains."""
    if not mapping:
        return func

    def resolve(a):
        while isinstance(a, ir.Value) and a in mapping:
            a = mapping[a]
        return a

    for op in func.body.ops:
        op.args = [resolve(a) for a in op.args]
    func.outputs = [_unconst(resolve(o)) for o in func.outputs]
    return func


def _unconst(a):
    return a
