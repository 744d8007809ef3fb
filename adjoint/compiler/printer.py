"""Python source for the ``ast`` nodes codegen builds, as ``ast.unparse`` writes them, faster.

``ast.unparse`` is general (a visitor object per call, a context manager per parenthesis);
generated code is made of a dozen node types, and printing was the largest part of compiling a
long function. ``source(node)`` handles those types with ``ast.unparse``'s precedence rules and
hands anything else to it, so the text is the same (checked against it under ADJOINT_VERIFY).
"""
import ast
import math

_BINOP = {ast.Add: ("+", 13), ast.Sub: ("-", 13), ast.Mult: ("*", 14), ast.MatMult: ("@", 14),
          ast.Div: ("/", 14), ast.Mod: ("%", 14), ast.FloorDiv: ("//", 14), ast.Pow: ("**", 16),
          ast.LShift: ("<<", 12), ast.RShift: (">>", 12), ast.BitOr: ("|", 9), ast.BitXor: ("^", 10),
          ast.BitAnd: ("&", 11)}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
_CMP = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
TUPLE, TEST, NOT, CMP, FACTOR, POWER, ATOM = 2, 4, 7, 8, 15, 16, 18


class _Other(Exception):
    """A node this printer leaves to ast.unparse."""


def expr(node, prec=TEST):
    """An expression's source, in a context of precedence ``prec`` (ast._Precedence's values)."""
    t = type(node)
    if t is ast.Name:
        return node.id
    if t is ast.Constant:
        v = node.value
        if v is None or v is True or v is False or type(v) is int or type(v) is str and v.isidentifier():
            return repr(v)
        if type(v) is float and math.isfinite(v):
            return repr(v)
        raise _Other
    if t is ast.BinOp:
        op, p = _BINOP[type(node.op)]
        left, right = (p + 1, p) if p == POWER else (p, p + 1)
        text = "%s %s %s" % (expr(node.left, left), op, expr(node.right, right))
        return "(%s)" % text if prec > p else text
    if t is ast.UnaryOp:
        if type(node.op) is ast.Not:
            text, p = "not " + expr(node.operand, NOT), NOT
        else:
            text, p = _UNARY[type(node.op)] + expr(node.operand, FACTOR), FACTOR
        return "(%s)" % text if prec > p else text
    if t is ast.Call:
        parts = [expr(a) for a in node.args]
        for k in node.keywords:
            if k.arg is None:
                raise _Other
            parts.append("%s=%s" % (k.arg, expr(k.value)))
        return "%s(%s)" % (expr(node.func, ATOM), ", ".join(parts))
    if t is ast.Attribute:
        base = expr(node.value, ATOM)
        if type(node.value) is ast.Constant and isinstance(node.value.value, int):
            base += " "
        return "%s.%s" % (base, node.attr)
    if t is ast.Subscript:
        index = node.slice
        if type(index) is ast.Tuple and index.elts:
            inner = _items(index.elts)
        else:
            inner = expr(index)
        return "%s[%s]" % (expr(node.value, ATOM), inner)
    if t is ast.Tuple:
        text = _items(node.elts)
        return "(%s)" % text if not node.elts or prec > TUPLE else text
    if t is ast.List:
        return "[%s]" % ", ".join(expr(e) for e in node.elts)
    if t is ast.Slice:
        text = ("" if node.lower is None else expr(node.lower)) + ":" + \
               ("" if node.upper is None else expr(node.upper))
        if node.step is not None:
            text += ":" + expr(node.step)
        return text
    if t is ast.Compare:
        parts = [expr(node.left, CMP + 1)]
        for op, right in zip(node.ops, node.comparators):
            parts.append("%s %s" % (_CMP[type(op)], expr(right, CMP + 1)))
        text = " ".join(parts)
        return "(%s)" % text if prec > CMP else text
    raise _Other


def _items(elts):
    if len(elts) == 1:
        return expr(elts[0]) + ","
    return ", ".join(expr(e) for e in elts)


def source(node):
    """``ast.unparse(node)`` for an expression or a simple statement (no trailing newline)."""
    try:
        t = type(node)
        if t is ast.Assign:
            return "%s = %s" % (" = ".join(expr(target, TUPLE) for target in node.targets), expr(node.value))
        if t is ast.AugAssign:
            return "%s %s= %s" % (expr(node.target), _BINOP[type(node.op)][0], expr(node.value))
        if t is ast.Expr:
            return expr(node.value, 3)
        if t is ast.Return:
            return "return" if node.value is None else "return " + expr(node.value)
        if isinstance(node, ast.expr):
            return expr(node)
    except _Other:
        pass
    return ast.unparse(node)
