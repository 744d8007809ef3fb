"""Algebraic simplification of single ops.

Before::   %1 = mul(%g, 1); %2 = negative(%3); %4 = negative(%2); %5 = tuple_getitem(%t, 0)
           where %t = make_tuple(%a, %b); %6 = unbroadcast(%d, %x) where %d = exp(%x)
After::    uses of %1 read %g, uses of %4 read %3, uses of %5 read %a, uses of %6 read %d
"""
from .. import ir
from .shapes import SameShape
from .substitute import substitute


def _is_const(a, value):
    return isinstance(a, ir.Const) and type(a.value) in (int, float) and a.value == value


def _ones_like_seed(a):
    """``unreduce(1.0, x)``: the gradient of a full sum, all ones."""
    return (isinstance(a, ir.Value) and a.op is not None and a.op.prim.name == "unreduce"
            and _is_const(a.op.args[0], 1) and isinstance(a.op.args[2], ir.Const)
            and a.op.args[2].value is None)


def _simplified(op, shapes):
    name, args = op.prim.name, op.args
    if name == "mul":            # ones * y -> y, when y has the ones' shape
        for a, b in (args, args[::-1]):
            if _ones_like_seed(a) and shapes.same(b, a.op.args[1]):
                return b
    if name in ("unbroadcast", "broadcast_like") and shapes.same(args[0], args[1]):
        return args[0]
    if name in ("unbroadcast", "broadcast_like") and isinstance(args[0], ir.Const) \
            and shapes.is_scalar(args[1]) and isinstance(args[0].value, (int, float)):
        return args[0]           # a number stays a number
    if name == "mul":
        if _is_const(args[1], 1):
            return args[0]
        if _is_const(args[0], 1):
            return args[1]
    if name in ("add", "sub") and _is_const(args[1], 0):
        return args[0]
    if name == "add" and _is_const(args[0], 0):
        return args[1]
    if name == "truediv" and _is_const(args[1], 1):
        return args[0]
    if name == "negative" and isinstance(args[0], ir.Value) and args[0].op is not None \
            and args[0].op.prim.name == "negative":
        return args[0].op.args[0]
    if name == "tuple_getitem" and isinstance(args[0], ir.Value) and args[0].op is not None \
            and args[0].op.prim.name == "make_tuple" and isinstance(args[1], ir.Const):
        return args[0].op.args[args[1].value]
    if name in ("identity", "unbroadcast", "broadcast_like") and isinstance(args[0], ir.Value) \
            and len(args) > 1 and args[0] is args[1]:
        return args[0]
    return None


def simplify(func):
    mapping = {}
    shapes = SameShape(func)
    for op in ir.walk(func.body.ops):
        if any(isinstance(a, ir.Value) and a in mapping for a in op.args):
            op.args = [_chase(mapping, a) for a in op.args]
        new = _simplified(op, shapes)
        if isinstance(new, ir.Const):
            mapping[op.result] = new
        elif isinstance(new, ir.Value):
            mapping[op.result] = new
            if new.name is None and op.result.name is not None and new.op is not None:
                new.name = op.result.name
    return substitute(func, mapping)


def _chase(mapping, a):
    while isinstance(a, ir.Value) and a in mapping:
        a = mapping[a]
    return a
