"""The SSA intermediate representation and its printer.

A ``Func`` has parameters and a body ``Block``: a list of ``Op``s, each applying a primitive to
``Value``s and ``Const``s and defining exactly one new ``Value``. Values are assigned once.
Printed, the IR of ``f = self.w * x + self.b`` reads::

    func Net.construct(%self_w, %x, %self_b):
      %1 = mul(%self_w, %x)                      # seed.py:9
      %f = add(%1, %self_b)                      # seed.py:9
      return %f
"""
import itertools

from .prims import is_literal

_ids = itertools.count(1)


class Value:
    __slots__ = ("id", "name", "op", "adjoint_of")

    def __init__(self, name=None, op=None):
        self.id = next(_ids)
        self.name = name        # the user's variable name, when there is one
        self.op = op            # the Op that defines it (None for parameters)
        self.adjoint_of = None  # for a gradient: the Value it is the gradient of (names it dx)

    def __repr__(self):
        if self.name is None and self.adjoint_of is not None:
            return "%d" + repr(self.adjoint_of)[1:]
        return "%" + (self.name or str(self.id))


class Const:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return _const_text(self.value)


class Op:
    """``result = prim(*args)``; the last ``len(kwnames)`` args are passed by keyword.

    ``loc`` is the user's source position; ``role`` is 'fwd' for the user's computation and
    'grad' for code the reverse transform added for the op at ``loc``.
    """

    __slots__ = ("prim", "args", "kwnames", "result", "loc", "role")

    def __init__(self, prim, args, result, loc=None, role="fwd", kwnames=()):
        self.prim, self.args, self.result = prim, list(args), result
        self.loc, self.role, self.kwnames = loc, role, tuple(kwnames)
        result.op = self

    def values(self):
        return [a for a in self.args if isinstance(a, Value)]

    def __repr__(self):
        return "%r = %s(%s)" % (self.result, self.prim.name, ", ".join(map(repr, self.args)))


class Block:
    __slots__ = ("ops",)

    def __init__(self, ops=None):
        self.ops = ops if ops is not None else []


class Func:
    """A function in SSA form. ``outputs`` is a list of Value/Const; ``tuple_output`` says
    whether the user returned a tuple (of those outputs) or a single value."""

    def __init__(self, name, params, body, outputs, tuple_output=False):
        self.name, self.params, self.body = name, list(params), body
        self.outputs, self.tuple_output = list(outputs), tuple_output

    def __str__(self):
        return print_func(self)


def print_func(func):
    lines = ["func %s(%s):" % (func.name, ", ".join(repr(p) for p in func.params))]
    for op in func.body.ops:
        text = "  " + repr(op)
        if op.loc is not None:
            text = text.ljust(48) + "  # %s%s" % ("grad of " if op.role == "grad" else "", op.loc.short())
        lines.append(text)
    outs = ", ".join(repr(o) for o in func.outputs)
    lines.append("  return " + ("(%s)" % outs if func.tuple_output and len(func.outputs) == 1 else outs))
    return "\n".join(lines)


def _const_text(value):
    if is_literal(value) and not isinstance(value, type):
        return repr(value)
    return "<%s>" % type(value).__name__


def uses(func):
    """How many times each Value is read (by ops and by the outputs)."""
    count = {}
    for op in func.body.ops:
        for v in op.values():
            count[v] = count.get(v, 0) + 1
    for o in func.outputs:
        if isinstance(o, Value):
            count[o] = count.get(o, 0) + 1
    return count
