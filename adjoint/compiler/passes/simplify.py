"""Algebraic simplification of single ops.

Before::   %1 = mul(%g, 1); %2 = negative(%3); %4 = negative(%2); %5 = tuple_getitem(%t, 0)
           where %t = make_tuple(%a, %b); %6 = unbroadcast(%d, %x) where %d = exp(%x)
After::    uses of %1 read %g, uses of %4 read %3, uses of %5 read %a, uses of %6 read %d
"""
from .. import ir
from .. import rules as P
from .shapes import SameShape
from .substitute import substitute


_UNDO_BROADCAST = (P.unbroadcast_p, P.broadcast_like_p)


def _made_by(v, prim):
    return isinstance(v, ir.Value) and v.op is not None and v.op.prim is prim


def _is_const(a, value):
    return isinstance(a, ir.Const) and type(a.value) in (int, float) and a.value == value


def _ones_like_seed(a):
    """``unreduce(1.0, x)``: the gradient of a full sum, all ones."""
    return (_made_by(a, P.unreduce_p) and _is_const(a.op.args[0], 1) and isinstance(a.op.args[2], ir.Const)
            and a.op.args[2].value is None)


def _scatter_of_full_reduction(op):
    """``getitem_grad(unreduce(g, x[i]), x, i)`` with a full reduction: scatter the number g."""
    g = op.args[0]
    if not _made_by(g, P.unreduce_p):
        return False
    _, y, axis, keepdims = g.op.args
    gathered = y.op if isinstance(y, ir.Value) else None
    return (isinstance(axis, ir.Const) and axis.value is None and isinstance(keepdims, ir.Const)
            and keepdims.value is False and gathered is not None and gathered.prim is P.getitem
            and gathered.args == op.args[1:])


def _number(a):
    return isinstance(a, ir.Const) and type(a.value) in (int, float)


def _scaled(v):
    """(y, c) when ``v`` is ``y * c`` with c a number; else None."""
    if not _made_by(v, P.mul):
        return None
    a, b = v.op.args
    if _number(b) and isinstance(a, ir.Value):
        return a, b.value
    if _number(a) and isinstance(b, ir.Value):
        return b, a.value
    return None


def _folded(op, shapes, uses):
    """Rewrite ``op`` in place where numbers can be gathered: ``(y * a) * b`` -> ``y * (a*b)``,
    ``-(y * a)`` and ``(-y) * a`` -> ``y * -a``, ``-((-y) * z)`` -> ``y * z``, and the seed of a full reduction
    times a number times ``y`` -> ``y`` times that number (the ones need not be made). True
    when it did."""
    prim, args = op.prim, op.args
    if prim is P.mul:
        for a, b in (args, args[::-1]):
            inner = _scaled(a) if uses.get(a) == 1 else None
            if inner is not None and _number(b):
                op.args = [inner[0], ir.Const(inner[1] * b.value)]
                return True
            if _made_by(a, P.negative) and uses.get(a) == 1 and _number(b):
                op.args = [a.op.args[0], ir.Const(-b.value)]       # (-y) * a -> y * -a
                return True
            seed = _scaled(a)
            if seed is not None and _ones_like_seed(seed[0]) and isinstance(b, ir.Value) \
                    and shapes.same(b, seed[0].op.args[1]):
                op.args = [b, ir.Const(seed[1])]
                return True
    if prim is P.negative and uses.get(args[0]) == 1:
        inner = _scaled(args[0])
        if inner is not None:
            op.prim, op.args = P.mul, [inner[0], ir.Const(-inner[1])]
            return True
        if _made_by(args[0], P.mul):
            x, y = args[0].op.args
            for m, other in ((x, y), (y, x)):
                if _made_by(m, P.negative) and uses.get(m) == 1:
                    op.prim, op.args = P.mul, [m.op.args[0], other]
                    return True
    return False


def _merge_scatters(func, uses):
    """``getitem_grad(a, x, i) + getitem_grad(b, x, i)`` -> ``getitem_grad(a + b, x, i)``: one
    array of zeros scattered into, not two (the gradient of a value indexed twice alike); and
    with another index j: ``scatter_add(getitem_grad(a, x, i), b, j)``, b added into the first
    array's slice j (it is fresh and read by nothing else)."""
    def same_index(p, q):
        if len(p) != len(q):
            return False
        for a, b in zip(p, q):
            if isinstance(a, ir.Value) or isinstance(b, ir.Value):
                if a is not b:
                    return False
            elif not (type(a.value) is type(b.value) and _const_key(a.value) == _const_key(b.value)):
                return False
        return True

    def visit(block):
        for op in list(block.ops):
            for inner in op.blocks:
                visit(inner)
            if op.prim is not P.add:
                continue
            a, b = op.args
            for acc, part in ((a, b), (b, a)):      # into another slice: added in place
                if (_made_by(part, P.getitem_grad_p) and uses.get(part) == 1 and uses.get(acc) == 1
                        and _scatter_base(acc) is part.op.args[1]
                        and not (_made_by(acc, P.getitem_grad_p) and same_index(acc.op.args[2:], part.op.args[2:]))):
                    op.prim, op.args = P.scatter_add_p, [acc, part.op.args[0]] + list(part.op.args[2:])
                    break
            if op.prim is not P.add:
                continue
            if not (_made_by(a, P.getitem_grad_p) and _made_by(b, P.getitem_grad_p)
                    and uses.get(a) == 1 and uses.get(b) == 1):
                continue
            if a.op.args[1] is not b.op.args[1] or not same_index(a.op.args[2:], b.op.args[2:]):
                continue
            total = ir.Value()
            block.ops.insert(block.ops.index(op), ir.Op(P.add, [a.op.args[0], b.op.args[0]], total,
                                                       op.loc, op.role))
            op.prim, op.args = P.getitem_grad_p, [total] + list(a.op.args[1:])
    visit(func.body)


def _scatter_base(v):
    """The array whose gradient ``v`` is, when ``v`` is a fresh scatter into zeros shaped like it."""
    while _made_by(v, P.scatter_add_p):
        v = v.op.args[0]
    return v.op.args[1] if _made_by(v, P.getitem_grad_p) else None


def _const_key(v):
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    try:
        hash(v)
        return v
    except TypeError:
        return ("id", id(v))


def _simplified(op, shapes):
    prim, args = op.prim, op.args
    if prim is P.getitem_grad_p and _scatter_of_full_reduction(op):
        op.args = [args[0].op.args[0]] + args[1:]      # in place: the op stays, g is the number
        return None
    if prim is P.mul:            # ones * y -> y, when y has the ones' shape
        for a, b in (args, args[::-1]):
            if _ones_like_seed(a) and shapes.same(b, a.op.args[1]):
                return b
    if prim in _UNDO_BROADCAST and shapes.same(args[0], args[1]):
        return args[0]
    if prim in _UNDO_BROADCAST and isinstance(args[0], ir.Const) \
            and shapes.is_scalar(args[1]) and isinstance(args[0].value, (int, float)):
        return args[0]           # a number stays a number
    if prim is P.mul:
        if _is_const(args[1], 1):
            return args[0]
        if _is_const(args[0], 1):
            return args[1]
    if prim in (P.add, P.sub) and _is_const(args[1], 0):
        return args[0]
    if prim is P.add and _is_const(args[0], 0):
        return args[1]
    if prim is P.truediv and _is_const(args[1], 1):
        return args[0]
    if prim is P.negative and _made_by(args[0], P.negative):
        return args[0].op.args[0]
    if prim is P.tuple_getitem and _made_by(args[0], P.make_tuple) and isinstance(args[1], ir.Const):
        return args[0].op.args[args[1].value]
    if (prim is P.identity or prim in _UNDO_BROADCAST) and isinstance(args[0], ir.Value) \
            and len(args) > 1 and args[0] is args[1]:
        return args[0]
    return None


def _rewrite(op, uses):
    """Rewrite ops in place: ``a + a`` -> ``a * 2``; ``(u + a) + a`` -> ``u + a * 2`` (a sum of
    gradient parts where one part came twice, as the two factors of ``x * x`` give)."""
    if op.prim is not P.add or not isinstance(op.args[1], ir.Value):
        return
    t, a = op.args
    if t is a:
        op.prim, op.args = P.mul, [a, ir.Const(2)]
    elif (_made_by(t, P.add)
          and t.op.args[1] is a and uses.get(t) == 1 and len(t.op.results) == 1):
        u = t.op.args[0]
        t.op.prim, t.op.args = P.mul, [a, ir.Const(2)]
        op.args = [u, t]


def simplify(func):
    mapping = {}
    shapes = SameShape(func)
    uses = _count_uses(func)
    for op in ir.walk(func.body.ops):
        if any(isinstance(a, ir.Value) and a in mapping for a in op.args):
            op.args = [_chase(mapping, a) for a in op.args]
        _rewrite(op, uses)
        while _folded(op, shapes, uses):
            pass
        new = _simplified(op, shapes)
        if isinstance(new, ir.Const):
            mapping[op.result] = new
        elif isinstance(new, ir.Value):
            mapping[op.result] = new
            if new.name is None and op.result.name is not None and new.op is not None:
                new.name = op.result.name
    func = substitute(func, mapping)
    _merge_scatters(func, _count_uses(func))
    return func


def _count_uses(func):
    uses = {}
    for op in ir.walk(func.body.ops):
        for v in ir.used_values(op) if op.blocks else op.values():
            uses[v] = uses.get(v, 0) + 1
    for v in func.outputs:
        uses[v] = uses.get(v, 0) + 1
    return uses


def _chase(mapping, a):
    while isinstance(a, ir.Value) and a in mapping:
        a = mapping[a]
    return a
