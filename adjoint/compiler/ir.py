"""The SSA intermediate representation and its printer.

A ``Func`` has parameters and a body ``Block``: a list of ``Op``s, each applying a primitive to
``Value``s and ``Const``s and defining new ``Value``s. Values are assigned once. Control flow
is *structured*, as in MLIR's ``scf`` dialect: an ``if``, ``for`` or ``while`` op owns nested
blocks; a block takes arguments (the loop index, loop-carried values) and yields values (the
branch's or iteration's results). Printed, the IR of ``f = self.w * x + self.b`` reads::

    func Net.construct(%x, %self_w, %self_b):
      %1 = mul(%self_w, %x)                      # seed.py:9
      %f = add(%1, %self_b)                      # seed.py:9
      return %f

and a loop ``for t in range(3): h = np.tanh(h @ w)``::

      %h_1 = for(0, 3, 1, %h) (%t, %h_2):
        %1 = matmul(%h_2, %w)
        %h_3 = tanh(%1)
        yield %h_3
"""
import itertools

from .prims import Prim, is_literal
from .trees import LEAF, flatten

_ids = itertools.count(1)

# Structured ops: they own blocks (if, for, while, a Cell call with its own bprop) or move
# values between a loop and its reverse (the tape; and, for second derivatives, lists of the
# adjoints of popped values).
IF = Prim("if", None, "cond")
FOR = Prim("for", None, "start, stop, step, *inits")
WHILE = Prim("while", None, "*inits")
CUSTOM = Prim("bprop_call", None, "*args")     # a Cell call whose gradient its bprop gives
# A loop's tape: made before the loop, pushed at the end of each iteration with what the reverse
# sweep reads, popped by the reverse loop (its length is a while's trip count). Second
# derivatives of loops put the adjoints of popped values on such lists too.
NEW_LIST = Prim("new_list", None, "", pure=False)
TAPE_PUSH = Prim("tape_push", None, "tape, *values", pure=False)
TAPE_POP = Prim("tape_pop", None, "tape", pure=False)
TAPE_LEN = Prim("tape_len", None, "tape", pure=False)
for _p in (IF, FOR, WHILE, CUSTOM, NEW_LIST, TAPE_PUSH, TAPE_POP, TAPE_LEN):
    _p.rule_kind = "structured"
STRUCTURED_LOOPS = (FOR, WHILE)
TAPE_OPS = (NEW_LIST, TAPE_PUSH, TAPE_POP, TAPE_LEN)


class Value:
    __slots__ = ("id", "name", "op", "adjoint_of", "kind")

    def __init__(self, name=None, op=None, kind=None):
        self.id = next(_ids)
        self.name = name        # the user's variable name, when there is one
        self.op = op            # the Op that defines it (None for parameters and block arguments)
        self.adjoint_of = None  # for a gradient: the Value it is the gradient of (names it dx)
        # What it is at run time, when known: 'ndarray' (changed in place by `a += b`, as NumPy
        # does), 'tensor' (rebound, as MindSpore does) or 'number'.
        self.kind = kind

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
    """``results = prim(*args)``; the last ``len(kwnames)`` args are passed by keyword.

    ``loc`` is the user's source position; ``role`` is 'fwd' for the user's computation and
    'grad' for code the reverse transform added for the op at ``loc``. Structured ops (if,
    for, while) own ``blocks`` and may define several results; ``attrs`` holds constant extras
    (never Values: every value an op reads is one of its arguments).
    """

    __slots__ = ("prim", "args", "kwnames", "results", "loc", "role", "blocks", "attrs")

    def __init__(self, prim, args, result, loc=None, role="fwd", kwnames=(), blocks=(), results=None):
        self.prim, self.args = prim, list(args)
        self.results = list(results) if results is not None else [result]
        self.loc, self.role, self.kwnames = loc, role, tuple(kwnames)
        self.blocks = list(blocks)
        self.attrs = {}
        for r in self.results:
            r.op = self

    @property
    def result(self):
        """The (first) result; None for an op with none (a tape pop that only counts)."""
        return self.results[0] if self.results else None

    def values(self):
        return [a for a in self.args if isinstance(a, Value)]

    def __repr__(self):
        res = ", ".join(map(repr, self.results))
        return "%s = %s(%s)" % (res, self.prim.name, ", ".join(map(repr, self.args)))


class Block:
    __slots__ = ("ops", "args", "yields")

    def __init__(self, ops=None, args=(), yields=()):
        self.ops = ops if ops is not None else []
        self.args = list(args)
        self.yields = list(yields)


class Func:
    """A function in SSA form. ``outputs`` is a list of Value/Const, the leaves of what the
    user returned; ``output_tree`` its structure (a single value, a tuple, a dict...)."""

    def __init__(self, name, params, body, outputs, output_tree=LEAF):
        self.name, self.params, self.body = name, list(params), body
        self.outputs, self.output_tree = list(outputs), output_tree
        self.scalar_params = set()     # parameters known to be numbers (shape ())

    def __str__(self):
        return print_func(self)


def has_values(items):
    """Do these (possibly nested tuples, lists, slices of) abstract values hold a Value?"""
    for v in items:
        if isinstance(v, Value):
            return True
        if isinstance(v, (tuple, list)) and has_values(v):
            return True
        if isinstance(v, slice) and has_values([v.start, v.stop, v.step]):
            return True
    return False


def join_kinds(values):
    """The run-time kind of an op's result from its operands': a Tensor anywhere makes a Tensor
    (its operators win), else an ndarray anywhere an ndarray; numbers give a number."""
    kinds = set()
    for v in values:
        if isinstance(v, Value):
            kinds.add(v.kind)
        elif isinstance(v, Const):
            kinds.add("ndarray" if type(v.value).__module__ == "numpy" and hasattr(v.value, "shape")
                      and getattr(v.value, "ndim", 0) else "number")
    if kinds == {"list"}:
        return "list"                       # (a run-time list stays one; mixed with arrays, unknown)
    if "list" in kinds:
        return None
    for kind in ("tensor", None, "ndarray"):
        if kind in kinds:
            return kind
    return "number" if kinds else None


def operand(value):
    """An op argument: a Value or Const as it is, anything else as a Const."""
    return value if isinstance(value, (Value, Const)) else Const(value)


def leaves(value):
    """The Values/Consts in a nested container (what a function returns)."""
    return flatten(value)[0]


def walk(ops):
    """Every op in ``ops`` and, depth first, in the blocks they own."""
    for op in ops:
        yield op
        for block in op.blocks:
            yield from walk(block.ops)


def tapes(op):
    """The tapes a loop writes, as [(tape, [values pushed each iteration])]: its body's pushes."""
    if op.prim not in STRUCTURED_LOOPS:
        return []
    return [(o.args[0], o.args[1:]) for o in op.blocks[-1].ops if o.prim is TAPE_PUSH]


def used_values(op):
    """Values an op reads: its arguments and, for structured ops, what its blocks read and yield."""
    out = op.values()
    for block in op.blocks:
        for inner in block.ops:
            out.extend(used_values(inner))
        out.extend(y for y in block.yields if isinstance(y, Value))
    return out


def print_func(func):
    """The function as text; each Value printed under a name unique in it (``%y``, ``%y.2``)."""
    show = _Names()
    lines = ["func %s(%s):" % (func.name, ", ".join(show(p) for p in func.params))]
    _print_ops(func.body.ops, lines, "  ", show)
    lines.append("  return " + _show_tree(func.output_tree, [show(o) for o in func.outputs]))
    return "\n".join(lines)


def _show_tree(tree, texts):
    if tree.n_leaves != len(texts):         # after differentiation: outputs, then gradients
        return ", ".join(texts)
    text = tree.describe()
    for t in texts:
        text = text.replace("*", t, 1)
    return text


class _Names:
    def __init__(self):
        self.given, self.taken = {}, set()

    def __call__(self, v):
        if not isinstance(v, Value):
            return repr(v)
        name = self.given.get(v)
        if name is None:
            base = repr(v)
            name, n = base, 1
            while name in self.taken:
                n += 1
                name = "%s.%d" % (base, n)
            self.taken.add(name)
            self.given[v] = name
        return name


def _print_ops(ops, lines, indent, show):
    for op in ops:
        res = ", ".join(show(r) for r in op.results)
        text = indent + "%s = %s(%s)" % (res, op.prim.name, ", ".join(show(a) for a in op.args))
        if op.blocks:
            for k, block in enumerate(op.blocks):
                head = text if k == 0 else indent + "else" if op.prim is IF else indent + "do"
                if block.args:
                    head += " (%s)" % ", ".join(show(a) for a in block.args)
                lines.append(head + ":")
                _print_ops(block.ops, lines, indent + "  ", show)
                lines.append(indent + "  yield " + ", ".join(show(y) for y in block.yields))
            continue
        if op.loc is not None:
            label = {"grad": "grad of ", "tangent": "tangent of ", "recompute": "recomputed "}.get(op.role, "")
            text = text.ljust(48) + "  # %s%s" % (label, op.loc.short())
        lines.append(text)


def _const_text(value):
    if is_literal(value) and not isinstance(value, type):
        return repr(value)
    return "<%s>" % type(value).__name__
