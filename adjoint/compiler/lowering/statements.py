"""Statements: assignments (to names, tuples, Python list items), augmented assignment (in
place for NumPy arrays, as NumPy does it), return, assert, nested defs and bare expressions.
"""
import sys

from .. import gastutil, ir
from .. import rules as P
from .expressions import BINOPS
from .python_calls import LocalFunction

g = gastutil.nodes


def expression(L, node):
    if isinstance(node.value, g.Constant):      # docstrings
        return
    call = node.value
    if (isinstance(call, g.Call) and isinstance(call.func, g.Attribute) and call.func.attr == "append"
            and isinstance(call.func.value, g.Name) and len(call.args) == 1 and not call.keywords):
        lst = L.env.get(call.func.value.id)
        if isinstance(lst, ir.Value) and lst.kind == "list":     # a list built at run time
            new = L.call_prim(P.list_append, [lst, L.expr(call.args[0])], {}, node)
            update_aliases(L, node, call.func.value.id, lst, new, in_place=True)
            L.env[call.func.value.id] = new
            return
    L.expr(node.value)


def pass_(L, node):
    pass


def return_(L, node):
    L.do_return(node, L.expr(node.value) if node.value is not None else None)


def assign_stmt(L, node):
    value = L.expr(node.value)
    for target in node.targets:
        L.assign(target, value)


def ann_assign(L, node):
    if node.value is not None:
        L.assign(node.target, L.expr(node.value))


def set_item(L, target, base, index, value):
    """``y[i] = v``: y becomes a copy with v at i (``setitem``); like NumPy's (and MindSpore's)
    in-place change, every other name for that array here sees it."""
    parts = list(index) if isinstance(index, tuple) else [index]
    _check_unshared(L, target, base, parts)
    new = L.call_prim(P.setitem, [base, value] + parts, {}, target)
    new.kind = base.kind
    update_aliases(L, target, target.value.id, base, new, in_place=True)
    L.env[target.value.id] = new


def _check_unshared(L, target, base, parts):
    """``y[i] = v`` assigns into a copy of y: refuse an array y is read from (a Parameter, a
    global); at run time, check that no other name still held here or by a caller views y's
    memory (or y theirs), which the copy would leave behind."""
    name = target.value.id
    for obj, value in L.ctx.inputs.values():
        if value is base:
            raise L.error(target, "`%s[...] = ...` would change, in place, an array read from "
                          "outside the function (a Parameter or a global); adjoint does not "
                          "change those" % name, hint="assign into a copy: `%s = %s.copy()`" % (name, name))
    roots = L.ctx.roots(base)
    names, suspects = [], []
    lowerer = L
    while lowerer is not None:
        for key, v in lowerer.env.items():
            for item in (v if isinstance(v, (list, tuple)) else (v,)):
                if (isinstance(item, ir.Value) and item is not base and item.kind != "number"
                        and item not in suspects and roots & L.ctx.roots(item)):
                    names.append("an item the loop goes through" if key.startswith("$items") else key)
                    suspects.append(item)
        lowerer = lowerer.caller
    for obj, value in L.ctx.inputs.values():        # (a view of a Parameter: `y = self.w[0]`)
        if value in roots and value not in suspects:
            names.append(getattr(value, "name", None) or "an array read from outside")
            suspects.append(value)
    if suspects:
        index = L.call_prim(P.make_tuple, parts, {}, target) if any(
            isinstance(p, ir.Value) for p in parts) else tuple(parts)
        L.call_prim(P.check_unshared, [base, tuple(names), index] + suspects, {}, target)


def aug_assign(L, node):
    target = node.target
    if isinstance(target, g.Subscript):            # y[i] += v: y[i] = y[i] + v
        current = L.expr(target)
        value = L.apply(BINOPS[type(node.op)], [current, L.expr(node.value)], {}, node)
        L.assign(target, value)
        return
    if not isinstance(target, g.Name):
        raise L.error(node, "augmented assignment to %s is not supported" % type(target).__name__,
                      hint="assign to a plain name, e.g. `y = y + x`")
    current = L.load_name(target)
    value = L.apply(BINOPS[type(node.op)], [current, L.expr(node.value)], {}, node)
    if isinstance(current, ir.Value) and isinstance(value, ir.Value):
        value.kind = value.kind or current.kind
        update_aliases(L, node, target.id, current, value)
    L.assign(target, value)


def update_aliases(L, node, name, old, new, in_place=False):
    """``a += b`` on a NumPy array changes it in place: every other name for that array here
    (and the Python lists and tuples holding it) sees the new value, as in NumPy. On a Tensor
    it makes a new Tensor and other names keep the old one, as in MindSpore. ``y[i] = v``
    (``in_place``) changes both in place. An array a caller also holds is refused: a value the
    caller already took for an expression would have to change too."""
    if old.kind == "number" or (old.kind == "tensor" and not in_place):
        return
    if isinstance(node, g.AugAssign):
        stmt, hint = "`%s %s= ...`" % (name, _op_symbol(node.op)), \
            "write `%s = %s %s ...` to make a new array" % (name, name, _op_symbol(node.op))
    elif isinstance(node, g.Expr):
        stmt, hint = "`%s.append(...)`" % name, "return the list's items instead"
    else:
        stmt, hint = "`%s[...] = ...`" % name, "make a new array (np.where, concatenation) instead"
    what = {"ndarray": "a NumPy array", "list": "a list"}.get(old.kind, "an array")
    lowerer = L.caller
    while lowerer is not None:
        for key, v in lowerer.env.items():
            if _holds(v, old):
                raise L.error(node, "%s changes, in place, %s the caller holds as `%s`; adjoint "
                              "does not follow in-place changes into a caller" % (stmt, what, key),
                              hint=hint)
        lowerer = lowerer.caller
    for key, v in list(L.env.items()):
        if key == name or not _holds(v, old):
            continue
        if old.kind is None and not in_place:
            raise L.error(node, "%s changes an array that is also `%s`, and adjoint cannot tell "
                          "whether it is a NumPy array (changed in place for both) or a Tensor "
                          "(rebound)" % (stmt, key), hint=hint)
        if v is old:
            L.env[key] = new
        elif isinstance(v, list):
            v[:] = [new if item is old else item for item in v]
        else:
            L.env[key] = tuple(new if item is old else item for item in v)


def assert_(L, node):
    """As Python runs it: when the condition is known now, now (a failure raises the user's
    AssertionError from the call); otherwise in the generated code, at every call."""
    if sys.flags.optimize:
        return
    test = L.expr(node.test)
    msg = L.expr(node.msg) if node.msg is not None else None
    if not isinstance(test, ir.Value):
        if not test:
            raise AssertionError(*(() if msg is None else (msg,)))
        return
    L.call_prim(P.assert_, [test, msg], {}, node)


def function_def(L, node):
    if node.decorator_list:
        raise L.error(node, "decorated nested functions are not supported",
                      hint="define the function at module level")
    L.env[node.name] = LocalFunction(L, node, node.name)


def assign(L, target, value):
    if isinstance(target, g.Name):
        if isinstance(value, ir.Value) and value.name is None and not L.loc_override:
            value.name = target.id
        L.env[target.id] = value
    elif isinstance(target, (g.Tuple, g.List)):
        if any(isinstance(t, g.Starred) for t in target.elts):
            raise L.error(target, "starred assignment is not supported",
                          hint="unpack into a fixed number of names")
        if isinstance(value, ir.Value):
            items = [L.call_prim(P.getitem, [value, i], {}, target)
                     for i in range(len(target.elts))]
        else:
            items = list(value)
            if len(items) != len(target.elts):
                raise L.error(target, "cannot unpack %d values into %d names"
                              % (len(items), len(target.elts)))
        for t, v in zip(target.elts, items):
            L.assign(t, v)
    elif isinstance(target, g.Attribute):
        raise L.error(target, "cannot store to `%s` inside code adjoint compiles"
                      % gastutil.to_source(target),
                      hint="construct must not change the Cell's state; keep the value in a "
                              "local variable")
    elif isinstance(target, g.Subscript):
        base = L.expr(target.value)
        index = L.expr(target.slice)
        if isinstance(base, list):
            base[index] = value
        elif isinstance(base, ir.Value) and isinstance(target.value, g.Name):
            set_item(L, target, base, index, value)
        else:
            raise L.error(target, "item assignment `%s = ...` is not supported"
                          % gastutil.to_source(target),
                          hint="assign into an array held by a plain name, or build a new array")
    else:
        raise L.error(target, "cannot assign to %s" % type(target).__name__)



def _holds(v, value):
    """``v`` is ``value`` or a Python list/tuple holding it."""
    return v is value or (isinstance(v, (list, tuple)) and any(item is value for item in v))


def _op_symbol(op):
    return {g.Add: "+", g.Sub: "-", g.Mult: "*", g.Div: "/", g.Pow: "**", g.MatMult: "@",
            g.FloorDiv: "//", g.Mod: "%"}.get(type(op), "?")
