"""The one place that imports gast, so a release of it can't break the rest."""
import ast
import os

import gast

from . import printer

parse = gast.parse
dump = gast.dump
nodes = gast            # node classes: gastutil.nodes.Name, ...


pyast = ast            # what generated code is built of: the standard library's nodes


def to_source(node):
    """Python source for a gast node (module, statement or expression)."""
    return unparse(gast.gast_to_ast(node))


def unparse(tree):
    """Python source for a standard ``ast`` node (codegen builds those: no conversion), as
    ast.unparse writes it, by printer.py (checked against ast.unparse under ADJOINT_VERIFY)."""
    if isinstance(tree, ast.stmt):      # (ast.unparse reads only a statement's own line number)
        tree.lineno = 1
    text = _unparse(tree, printer.source)
    if _CHECK:
        slow = _unparse(tree, ast.unparse)
        if slow != text:
            raise AssertionError("printer.py wrote %r where ast.unparse writes %r" % (text, slow))
    return text


_CHECK = os.environ.get("ADJOINT_VERIFY", "") not in ("", "0")


def _unparse(tree, show):
    if isinstance(tree, ast.expr):
        return show(tree)
    if isinstance(tree, (ast.Assign, ast.Return)) and isinstance(tree.value, ast.Tuple) and tree.value.elts:
        # ``a, b = x, y`` and ``return dx, dy``, without the parentheses ast.unparse adds
        elts = tree.value.elts
        value = ", ".join(show(e) for e in elts) + ("," if len(elts) == 1 else "")
        if isinstance(tree, ast.Return):
            return "return %s\n" % value
        return "%s = %s\n" % (" = ".join(_bare(t, show) for t in tree.targets), value)
    return show(tree) + "\n"


def _bare(target, show):
    """``a, b`` for a tuple target (ast.unparse writes ``(a, b)``)."""
    if isinstance(target, ast.Tuple) and target.elts:
        return ", ".join(show(e) for e in target.elts) + ("," if len(target.elts) == 1 else "")
    return show(target)


def walk_function(node):
    """The nodes of a function's body, not entering nested functions, lambdas or classes."""
    todo = list(node.body)
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
            todo.extend(gast.iter_child_nodes(n))


def name(id_, store=False):
    return gast.Name(id=id_, ctx=gast.Store() if store else gast.Load(), annotation=None,
                     type_comment=None)


def constant(value):
    return gast.Constant(value=value, kind=None)


def parse_expr(text):
    return gast.parse(text, mode="eval").body


def ast_name(id_, store=False):
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def ast_constant(value):
    return ast.Constant(value=value)


_EXPRS = {}


def ast_expr(text):
    """The ``ast`` expression ``text`` (parsed once: a tree may share it, unparse only reads it)."""
    node = _EXPRS.get(text)
    if node is None:
        node = _EXPRS[text] = ast.parse(text, mode="eval").body
    return node
