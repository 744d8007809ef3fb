"""Expressions: names (resolved against the function's environment, closure, globals and
builtins, and read from outside with guards), attributes, subscripts, operators, comparisons,
boolean operators, conditional expressions, comprehensions, f-strings and calls.
"""
import builtins
import inspect
import operator
import types

from .. import gastutil, ir
from .. import rules as P
from ..hooks import is_array_object, is_cell, registry
from ..sources import CALL, EPOCH, Source
from .control import SymbolicRange
from .python_calls import LocalFunction, _known_true

g = gastutil.nodes

BINOPS = {g.Add: operator.add, g.Sub: operator.sub, g.Mult: operator.mul, g.Div: operator.truediv,
          g.Pow: operator.pow, g.MatMult: operator.matmul, g.FloorDiv: operator.floordiv,
          g.Mod: operator.mod}

UNARYOPS = {g.USub: operator.neg, g.UAdd: operator.pos, g.Not: operator.not_, g.Invert: operator.invert}

CMPOPS = {g.Lt: operator.lt, g.LtE: operator.le, g.Gt: operator.gt, g.GtE: operator.ge,
          g.Eq: operator.eq, g.NotEq: operator.ne, g.Is: operator.is_, g.IsNot: operator.is_not,
          g.In: lambda a, b: a in b, g.NotIn: lambda a, b: a not in b}


class BoundMethod:
    """``x.sum`` where x is a Value: a Tensor method waiting for its call."""

    def __init__(self, fn, self_value):
        self.fn, self.self_value = fn, self_value


def constant(L, node):
    return node.value


def name(L, node):
    return load_name(L, node)


def load_name(L, node):
    name = node.id
    if name in L.env:
        return L.env[name]
    if name in L.closure:
        k = L.fn.__code__.co_freevars.index(name)
        # The called function's own cells are found again by position: each closure a def
        # makes shares the compiled code (and is checked against it).
        source = Source(("closure", k, name) if L.fn is L.ctx.main_fn
                        else ("cell", L.fn.__closure__[k], name))
        return L.ctx.read(L.closure[name], source, CALL, name)
    if name in L.globals:
        value = L.globals[name]
        if L.globals.get("__name__", "").startswith("adjoint.") and not is_array_object(value):
            return value            # adjoint's own modules (rules, ops): their globals are constants
        return L.ctx.read(value, Source(("global_in", L.globals, name)), CALL, name)
    if hasattr(builtins, name):
        return getattr(builtins, name)
    if name in L.loop_locals:
        raise L.error(node, "`%s` is assigned only inside the loop at line %d"
                      % (name, L.loop_locals[name].line),
                      hint="give it a value before the loop so the loop can carry it")
    raise L.error(node, "name `%s` is not defined" % name)


def attribute(L, node):
    base = L.expr(node.value)
    attr = node.attr
    if isinstance(base, ir.Value):
        return tensor_attribute(L, base, attr, node)
    try:
        value = getattr(base, attr)
    except AttributeError:
        raise L.error(node, "`%s` has no attribute `%s`" % (_describe(base), attr)) from None
    return read_from(L, base, value, lambda s: s.attr(attr), _path_hint(node))


def read_from(L, base, value, step, hint):
    """``value`` read from the object ``base``: guarded when ``base`` came from outside.
    A Cell counts its changes, so what is read off a Cell is checked only after one."""
    source = L.ctx.source_of(base)
    if source is None:
        return L.materialize(value, hint)
    tier = EPOCH if is_cell(base) and not isinstance(value, (list, dict, set)) else CALL
    return L.ctx.read(value, step(source), tier, hint)


def tensor_attribute(L, value, attr, node):
    member = inspect.getattr_static(registry.tensor_type, attr, None) if registry.tensor_type else None
    if isinstance(member, property):
        return L.inline(member.fget, [value], {}, node)
    if isinstance(member, types.FunctionType):
        return BoundMethod(member, value)
    # Not a Tensor attribute: maybe the value is something else (an opaque call's result).
    return L.opaque_call(getattr, [value, attr], {}, node)


def tuple_display(L, node):
    return tuple(elements(L, node.elts))


def list_display(L, node):
    return list(elements(L, node.elts))


def elements(L, elts):
    out = []
    for e in elts:
        if isinstance(e, g.Starred):
            out.extend(iterate(L, L.expr(e.value), e))
        else:
            out.append(L.expr(e))
    return out


class Spread:
    """``*lst`` of a list built at run time: its items are not known now (np.stack takes it)."""

    def __init__(self, value):
        self.value = value


def iterate(L, value, node):
    if isinstance(value, ir.Value) and value.kind == "list":
        return [Spread(value)]
    if isinstance(value, ir.Value):
        raise L.error(node, "cannot unpack a Tensor with `*`", hint="index it instead")
    return list(value)


def dict_display(L, node):
    return {L.expr(k): L.expr(v) for k, v in zip(node.keys, node.values)}


def slice_expr(L, node):
    parts = [L.expr(p) if p is not None else None for p in (node.lower, node.upper, node.step)]
    if any(isinstance(p, ir.Value) for p in parts):
        return L.call_prim(P.make_slice, parts, {}, node)
    return slice(*parts)


def subscript(L, node):
    base = L.expr(node.value)
    index = L.expr(node.slice)
    if isinstance(base, ir.Value) and base.kind == "list":
        return L.call_prim(P.list_getitem, [base, index], {}, node)
    if isinstance(base, ir.Value):
        parts = list(index) if isinstance(index, tuple) else [index]
        return L.call_prim(P.getitem, [base] + parts, {}, node)
    if isinstance(index, ir.Value):
        raise L.error(node, "cannot index the Python object `%s` with a Tensor" % _describe(base))
    try:
        value = base[index]
    except (IndexError, KeyError, TypeError) as exc:
        raise L.error(node, "indexing failed while compiling: %s" % exc) from None
    if not _hashable(index):
        return L.materialize(value, _path_hint(node.value))
    return read_from(L, base, value, lambda s: s.item(index), _path_hint(node.value))


def binop(L, node):
    left, right = node.left, node.right
    if isinstance(node.op, g.Mult):
        # (-a) * b is -(a * b) exactly; written so, a * b can be shared (x * x in -x * x).
        for neg, other, flip in ((left, right, False), (right, left, True)):
            if isinstance(neg, g.UnaryOp) and isinstance(neg.op, g.USub):
                a, b = L.expr(neg.operand), L.expr(other)
                if isinstance(a, ir.Value) or isinstance(b, ir.Value):
                    product = L.apply(operator.mul, [b, a] if flip else [a, b], {}, node)
                    return L.apply(operator.neg, [product], {}, node)
                return L.apply(operator.mul, [-a, b] if not flip else [b, -a], {}, node)
    return L.apply(BINOPS[type(node.op)], [L.expr(left), L.expr(right)], {}, node)


def unaryop(L, node):
    operand = L.expr(node.operand)
    if isinstance(operand, ir.Value):
        if isinstance(node.op, g.Not):
            return L.call_prim(P.logical_not, [operand], {}, node)
        if isinstance(node.op, g.UAdd):
            return operand
    return L.apply(UNARYOPS[type(node.op)], [operand], {}, node)


def compare(L, node):
    left = L.expr(node.left)
    result = None
    for op, right_node in zip(node.ops, node.comparators):
        right = L.expr(right_node)
        fn = CMPOPS[type(op)]
        if isinstance(op, (g.Is, g.IsNot)) and (left is None or right is None):
            step = (left is right) == isinstance(op, g.Is)  # a Tensor value is never None
            result = step if result is None else L.apply(P.logical_and, [result, step], {}, node)
            left = right
            continue
        if isinstance(op, (g.Is, g.IsNot, g.In, g.NotIn)) and (
                isinstance(left, ir.Value) or isinstance(right, ir.Value)):
            raise L.error(node, "`%s` on a Tensor is not supported" % type(op).__name__.lower())
        step = L.apply(fn, [left, right], {}, node)
        result = step if result is None else L.apply(
            P.logical_and, [result, step], {}, node)
        left = right
    return result


def boolop(L, node):
    """``and``/``or`` short-circuit on values known now, as Python does; between Tensor
    values they become logical_and/logical_or."""
    is_and = isinstance(node.op, g.And)
    result = _UNSET
    for value_node in node.values:
        value = L.expr(value_node)
        if result is _UNSET or not isinstance(result, ir.Value):
            result = value          # a known value that did not decide: Python takes the next
        else:
            prim = P.logical_and if is_and else P.logical_or
            result = L.call_prim(prim, [result, value], {}, node)
        if not isinstance(result, ir.Value) and (not result if is_and else bool(result)):
            return result
    return result


def ifexp(L, node):
    test = L.expr(node.test)
    if not isinstance(test, ir.Value):
        return L.expr(node.body if test else node.orelse)
    # `a if cond else b` on a Tensor: an if op with one result; only the taken side runs.
    values = []
    for branch in (node.body, node.orelse):
        sub = L.child(L.env)
        with L.ctx.region() as ops:
            values.append((ops, sub.expr(branch)))
    (then_ops, a), (else_ops, b) = values
    return L.emit_if(node, test, then_ops, else_ops, [(None, a, b)])[0]


def listcomp(L, node):
    """``[f(x) for x in xs if c]`` over Python iterables: built now, element by element."""
    out = []
    _comprehend(L, node, node.generators, dict(L.env), out)
    return out


def _comprehend(L, node, generators, env, out):
    gen, rest = generators[0], generators[1:]
    iterable = L.child(env).expr(gen.iter)
    if isinstance(iterable, (ir.Value, SymbolicRange)):
        raise L.error(node, "a comprehension over a Tensor or a run-time range is not supported",
                      hint="use a for loop over range(...)")
    for item in iterable:
        sub = L.child(dict(env))
        sub.assign(gen.target, item)
        if not all(_known_true(sub, sub.expr(c), c) for c in gen.ifs):
            continue
        if rest:
            _comprehend(L, node, rest, sub.env, out)
        else:
            out.append(sub.expr(node.elt))


def lambda_expr(L, node):
    return LocalFunction(L, node, "<lambda>")


def joinedstr(L, node):
    """An f-string: made now from values known now; otherwise a str.format call in the
    generated code (f"{x.shape} {loss:.3f}" prints the values of that run)."""
    fmt, values = [], []
    for v in node.values:
        if isinstance(v, g.Constant):
            fmt.append(str(v.value).replace("{", "{{").replace("}", "}}"))
            continue
        value = L.expr(v.value)
        spec = L.expr(v.format_spec) if v.format_spec else ""
        if isinstance(spec, ir.Value):
            raise L.error(node, "an f-string whose format spec is a Tensor value is not supported")
        conversion = {115: "!s", 114: "!r", 97: "!a"}.get(v.conversion, "")
        fmt.append("{%s%s}" % (conversion, ":" + spec if spec else ""))
        values.append(value)
    fmt = "".join(fmt)
    if not ir.has_values(values):
        return fmt.format(*values)
    return L.call_prim(P.format_str, [fmt] + values, {}, node)


def formattedvalue(L, node):
    return L.expr(node.value)


def call(L, node):
    func = L.expr(node.func)
    args = elements(L, node.args)
    kwargs = {}
    for kw in node.keywords:
        if kw.arg is None:
            kwargs.update(L.expr(kw.value))
        else:
            kwargs[kw.arg] = L.expr(kw.value)
    return L.apply(func, args, kwargs, node)



_UNSET = object()


def _hashable(value):
    try:
        hash(value)
        return True
    except TypeError:
        return False


def _describe(obj):
    return type(obj).__name__ if not isinstance(obj, types.ModuleType) else obj.__name__


def _path_hint(node):
    """``self.lin.weight`` -> 'self_lin_weight': the name an input gets in generated code."""
    parts = []
    while isinstance(node, g.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, g.Name):
        parts.append(node.id)
    return "_".join(reversed(parts)) or "const"
