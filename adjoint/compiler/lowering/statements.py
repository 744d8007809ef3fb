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


def aug_assign(L, node):
    target = node.target
    if not isinstance(target, g.Name):
        raise L.error(node, "augmented assignment to %s is not supported" % type(target).__name__,
                      hint="assign to a plain name, e.g. `y = y + x`")
    current = L.load_name(target)
    value = L.apply(BINOPS[type(node.op)], [current, L.expr(node.value)], {}, node)
    if isinstance(current, ir.Value) and isinstance(value, ir.Value):
        value.kind = value.kind or current.kind
        update_aliases(L, node, target.id, current, value)
    L.assign(target, value)


def update_aliases(L, node, name, old, new):
    """``a += b`` on a NumPy array changes it in place: every other name for that array here
    (and the Python lists and tuples holding it) sees the new value, as in NumPy. On a Tensor
    it makes a new Tensor and other names keep the old one, as in MindSpore. An array a
    caller also holds is refused: a value the caller already took for an expression would
    have to change too."""
    if old.kind in ("tensor", "number"):
        return
    what = "a NumPy array" if old.kind == "ndarray" else "an array (NumPy's or a Tensor)"
    lowerer = L.caller
    while lowerer is not None:
        for key, v in lowerer.env.items():
            if _holds(v, old):
                raise L.error(node, "`%s %s= ...` changes, in place, %s the caller holds as "
                              "`%s`; adjoint does not follow in-place changes into a caller"
                              % (name, _op_symbol(node.op), what, key),
                              hint="write `%s = %s %s ...` to make a new array"
                                      % (name, name, _op_symbol(node.op)))
        lowerer = lowerer.caller
    for key, v in list(L.env.items()):
        if key == name or not _holds(v, old):
            continue
        if old.kind is None:
            raise L.error(node, "`%s %s= ...` changes an array that is also `%s`, and adjoint "
                          "cannot tell whether it is a NumPy array (changed in place for both) "
                          "or a Tensor (rebound)" % (name, _op_symbol(node.op), key),
                          hint="write `%s = %s %s ...` to make a new array"
                                  % (name, name, _op_symbol(node.op)))
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
        if isinstance(base, list):
            base[L.expr(target.slice)] = value
        else:
            raise L.error(target, "item assignment `%s = ...` is not supported"
                          % gastutil.to_source(target),
                          hint="build a new array instead, e.g. with np.where or concatenation")
    else:
        raise L.error(target, "cannot assign to %s" % type(target).__name__)



def _holds(v, value):
    """``v`` is ``value`` or a Python list/tuple holding it."""
    return v is value or (isinstance(v, (list, tuple)) and any(item is value for item in v))


def _op_symbol(op):
    return {g.Add: "+", g.Sub: "-", g.Mult: "*", g.Div: "/", g.Pow: "**", g.MatMult: "@",
            g.FloorDiv: "//", g.Mod: "%"}.get(type(op), "?")
