"""docs/ops.md, generated from the rule table: ``python -m adjoint.docs_ops > docs/ops.md``.

Every NumPy and ``math`` function that stands for a primitive or a composition of primitives
(``prims.ALIASES``), every ``adjoint.ops`` function, Primitive class and Tensor member, with
the primitives it is made of and what is special about its derivative: the docstrings of
those primitives' rules, and any ``Gradient:`` paragraph of its own docstring. A test
(tests/test_docs_ops.py) fails when the committed file differs from this output.
"""
import ast
import inspect
import math
import operator
import re
import textwrap
import types

import numpy as np

from . import ops
from .compiler import prims
from .compiler import rules as P
from .ops.primitives import Primitive
from .tensor import Tensor

HEADER = """\
# Supported operations

Generated from adjoint's rule table by `python -m adjoint.docs_ops > docs/ops.md`; do not edit
(a test fails when this file is stale).

Each entry is lowered to the primitives listed with it, and differentiated by their rules
(`adjoint/compiler/rules/`). *Derivative* says what is special about its gradient: a
subgradient at a kink, how ties are shared, where it is NaN or infinite; blank when it is the
textbook derivative. *no gradient* marks what carries none (comparisons, indices, shapes,
constructors): fine on values no gradient flows through, an error naming your line when one
would. Something missing? A function adjoint has no rule for is still called (on values no
gradient needs); for one a gradient flows through, write it with these operations, cut the
path with `ops.stop_gradient`, or give a Cell a `bprop`.
"""


# -- which primitives a callable is made of --------------------------------------------------------
def _resolve(node, fn, scope):
    """The object a Name/Attribute expression in fn's source refers to, or None."""
    if isinstance(node, ast.Name):
        if node.id in scope:
            return scope[node.id]
        return fn.__globals__.get(node.id, getattr(__builtins__, node.id, None)
                                  if not isinstance(__builtins__, dict) else __builtins__.get(node.id))
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, fn, scope)
        if base is None:
            return None
        try:
            return inspect.getattr_static(base, node.attr) if isinstance(base, type) else getattr(base, node.attr)
        except AttributeError:
            return None
    return None


def _is_helper(obj):
    return getattr(obj, "_adjoint_compile_time", False) or getattr(obj, "_adjoint_static", False)


def prims_used(fn, depth=0, seen=None):
    """The primitives (in order of first use) a function lowers to, following the adjoint
    functions, Tensor methods and aliases it calls."""
    seen = set() if seen is None else seen
    if id(fn) in seen or depth > 6:
        return []
    seen.add(id(fn))
    if isinstance(fn, prims.Prim):
        return [fn]
    target = prims.lookup(fn)
    if isinstance(target, prims.Prim):
        return [target]
    if target is not None:
        fn = target
    if isinstance(fn, property):
        fn = fn.fget
    if not isinstance(fn, types.FunctionType) or _is_helper(fn):
        return []
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return []
    scope = dict(inspect.getclosurevars(fn).nonlocals)
    scope.setdefault("self", Tensor)            # a Tensor method's self.<method>
    tests = set()                   # conditions: decided while compiling in library code
    for node in ast.walk(tree.body[0]):
        if isinstance(node, (ast.If, ast.IfExp, ast.While, ast.Assert)):
            tests.update(id(n) for n in ast.walk(node.test))
    out, indexing = [], False
    for node in ast.walk(tree.body[0]):
        if id(node) in tests:
            continue
        if isinstance(node, ast.Call):
            callee = _resolve(node.func, fn, scope)
        elif isinstance(node, ast.BinOp):
            callee = _OPERATORS.get(type(node.op))
        elif isinstance(node, ast.UnaryOp) and not isinstance(node.operand, ast.Constant):
            callee = _OPERATORS.get(type(node.op))
        elif isinstance(node, ast.Compare):
            callee = _OPERATORS.get(type(node.ops[0]))
        else:
            indexing = indexing or (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load))
            continue
        if callee is not None and not _is_helper(callee):
            for p in prims_used(callee, depth + 1, seen):
                if p not in out:
                    out.append(p)
    if not out and indexing:        # x[i] (subscripts of Python lists don't count otherwise)
        out.append(P.getitem)
    return out


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
              ast.USub: operator.neg, ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
              ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}


# -- derivative notes ---------------------------------------------------------------------------------
def _one_line(text):
    return re.sub(r"\s+", " ", text).strip()


def rule_note(prim):
    """What the primitive's rule docstring says (its derivative's particulars)."""
    if prim.rule_kind == "vjp" and prim.rule.__doc__:
        return _one_line(prim.rule.__doc__)
    return ""


def own_note(fn):
    """The ``Gradient:`` paragraph of a function's docstring."""
    doc = inspect.getdoc(fn) or ""
    for paragraph in doc.split("\n\n"):
        at = paragraph.find("Gradient:")
        if at >= 0:
            return _one_line(paragraph[at + len("Gradient:"):])
    return ""


def derivative(fn, used):
    """The Derivative column of an entry made of the primitives ``used``."""
    if used and all(p.nondiff or p.boolean for p in used):
        return "no gradient"
    notes = []
    mine = own_note(fn) if fn is not None else ""
    differentiable = [p for p in used if p.rule_kind == "vjp"]
    if mine:
        notes.append(mine)
    elif len(differentiable) == 1:      # (a composition says what matters in its own docstring)
        note = rule_note(differentiable[0])
        if note:
            notes.append(note)
    if any(p.rule_kind is None for p in used):
        notes.append("(uses %s, which has no derivative rule)"
                     % ", ".join("`%s`" % p.name for p in used if p.rule_kind is None))
    return " ".join(notes)


def _cell(text):
    return text.replace("|", "\\|")


def _prim_list(used):
    return ", ".join("`%s`" % p.name for p in used)


def _row(name, used, note):
    return "| %s | %s | %s |" % (_cell(name), _prim_list(used), _cell(note))


# -- the entries -------------------------------------------------------------------------------------
def _qualified(obj):
    module = getattr(obj, "__module__", None) or ("numpy" if isinstance(obj, np.ufunc) else "")
    if module == "numpy" or module.startswith("numpy."):
        sub = [part for part in module.split(".")[1:] if not part.startswith("_")]
        return "np." + "".join(part + "." for part in sub if part == "linalg") + obj.__name__
    if module == "math":
        return "math." + obj.__name__
    return None


def numpy_and_math_entries():
    """(kind, qualified name, target) for every NumPy/math callable in the alias table."""
    entries = {}
    for obj, target in prims.ALIASES.values():
        name = _qualified(obj)
        if name is not None:
            entries[name] = (obj, target)
    return sorted(entries.items())


def ops_functions():
    return sorted(n for n in dir(ops) if not n.startswith("_") and isinstance(getattr(ops, n), types.FunctionType))


def primitive_classes():
    return sorted(n for n in dir(ops) if isinstance(getattr(ops, n), type)
                  and issubclass(getattr(ops, n), Primitive) and getattr(ops, n) is not Primitive)


def tensor_members():
    return sorted(n for n, v in vars(Tensor).items()
                  if not n.startswith("_") and isinstance(v, (types.FunctionType, property)))


def _signature(fn, drop_self=False):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return "(...)"
    params = list(sig.parameters.values())
    if drop_self and params:
        params = params[1:]
    return str(sig.replace(parameters=params))


# The autodiff entry points (documented in README.md) and Tensor conversions: no primitives.
NOT_OPERATIONS = {"grad", "value_and_grad", "asnumpy", "numpy", "item"}


def counts():
    rules = [p for p in prims.PRIMS.values() if p.rule_kind == "vjp"]
    return {
        "primitives with a derivative rule": len(rules),
        "primitives without a gradient (comparisons, shapes, indices...)":
            sum(1 for p in prims.PRIMS.values() if p.rule_kind == "nondiff"),
        "NumPy functions": sum(1 for name, _ in numpy_and_math_entries() if name.startswith("np.")),
        "math functions": sum(1 for name, _ in numpy_and_math_entries() if name.startswith("math.")),
        "adjoint.ops functions": len(ops_functions()),
        "Primitive classes": len(primitive_classes()),
        "Tensor methods": sum(1 for n in tensor_members() if isinstance(vars(Tensor)[n], types.FunctionType)),
        "Tensor properties": sum(1 for n in tensor_members() if isinstance(vars(Tensor)[n], property)),
    }


def generate():
    lines = [HEADER]
    lines.append("Counts: " + "; ".join("%d %s" % (v, k) for k, v in counts().items()) + ".\n")

    entries = numpy_and_math_entries()
    for title, prefix, intro in [
            ("NumPy functions", "np.", "On arrays and numbers, as NumPy computes them."),
            ("`math` functions", "math.", "On numbers: the same primitives as NumPy's functions "
                                          "(on constants the Python result, so float32 stays float32).")]:
        lines.append("## %s\n\n%s\n" % (title, intro))
        lines.append("| Function | Primitives | Derivative |\n|---|---|---|")
        for name, (obj, target) in entries:
            if name.startswith(prefix):
                used = prims_used(obj)
                fn = target if isinstance(target, types.FunctionType) else None
                lines.append(_row("`%s`" % name, used, derivative(fn, used)))
        lines.append("")

    lines.append("## `adjoint.ops` functions\n\nMindSpore's functional operations, with MindSpore's "
                 "signatures; eager on Tensors, inlined when compiled.\n")
    lines.append("| Function | Primitives | Derivative |\n|---|---|---|")
    for name in ops_functions():
        fn = getattr(ops, name)
        if name in NOT_OPERATIONS:
            continue
        used = prims_used(fn)
        lines.append(_row("`ops.%s%s`" % (name, _signature(fn)), used, derivative(fn, used)))
    lines.append("")

    lines.append("## Primitive classes\n\nMade in `__init__` (their arguments are constants while "
                 "compiling), called in `construct`.\n")
    lines.append("| Class | Primitives | Derivative |\n|---|---|---|")
    for name in primitive_classes():
        cls = getattr(ops, name)
        call = cls.__call__
        init = cls.__init__ if "__init__" in _class_dict(cls) else None
        text = "`ops.%s%s%s`" % (name, _signature(init, True) if init else "()", _signature(call, True))
        used = prims_used(call)
        lines.append(_row(text, used, derivative(call, used)))
    lines.append("")

    lines.append("## Tensor methods and properties\n\nAlso on NumPy arrays inside compiled code (an "
                 "ndarray is lowered like a Tensor): NumPy's keyword spellings work too.\n")
    lines.append("| Member | Primitives | Derivative |\n|---|---|---|")
    for name in tensor_members():
        if name in NOT_OPERATIONS:
            continue
        member = vars(Tensor)[name]
        if isinstance(member, property):
            used = prims_used(member.fget)
            lines.append(_row("`x.%s`" % name, used, derivative(member.fget, used)))
        else:
            used = prims_used(member)
            lines.append(_row("`x.%s%s`" % (name, _signature(member, True)), used, derivative(member, used)))
    lines.append("")

    lines.append("## Primitives\n\nWhat the IR is made of. *Facts* are what the optimisation passes "
                 "may assume without knowing shapes (`prims.py`). *Tangent* is how forward mode gets "
                 "the primitive's: its jvp rule, the primitive itself on the tangents (linear), the sum "
                 "over its arguments (multilinear), or its vjp rule transposed.\n")
    lines.append("| Primitive | Arguments | Gradient | Tangent | Derivative | Facts |\n|---|---|---|---|---|---|")
    for name in sorted(prims.PRIMS):
        p = prims.PRIMS[name]
        grad = {"vjp": "rule", "nondiff": "none"}.get(p.rule_kind, "no rule")
        if p.rule_kind == "vjp":
            grad += " (%s)" % ", ".join(p.diff)
        tangent = p.tangent_kind or ("none" if p.rule_kind == "nondiff" else "no rule")
        lines.append("| `%s` | `%s` | %s | %s | %s | %s |" % (name, _cell(str(p.signature)[1:-1]), grad, tangent,
                                                              _cell(rule_note(p)), _cell(_facts(p))))
    lines.append("")
    return "\n".join(lines)


def _class_dict(cls):
    out = {}
    for klass in reversed(cls.__mro__):
        out.update(vars(klass))
    return out if cls.__init__ is not object.__init__ else {}


def _facts(p):
    facts = []
    if p.shape is not None:
        facts.append("shape: %s" % (p.shape if isinstance(p.shape, str) else "like arg %d" % p.shape[1]))
    if p.shape_only:
        facts.append("shape-only args: %s" % ", ".join(str(k) for k in p.shape_only))
    for flag in ("commutative", "boolean", "linear", "multilinear"):
        if getattr(p, flag):
            facts.append(flag)
    if not p.pure:
        facts.append("effects")
    return "; ".join(facts)


def main():
    import sys
    sys.stdout.write(generate())


if __name__ == "__main__":
    main()


# (math and P are imported for their side effect of filling the rule table.)
assert math and P
