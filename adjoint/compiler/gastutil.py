"""The one place that imports gast, so a release of it can't break the rest."""
import ast

import gast

parse = gast.parse
dump = gast.dump
nodes = gast            # node classes: gastutil.nodes.Name, ...


pyast = ast            # what generated code is built of: the standard library's nodes


def to_source(node):
    """Python source for a gast node (module, statement or expression)."""
    return unparse(gast.gast_to_ast(node))


def unparse(tree):
    """Python source for a standard ``ast`` node (codegen builds those: no conversion)."""
    if isinstance(tree, ast.stmt):      # (ast.unparse reads only a statement's own line number)
        tree.lineno = 1
    if isinstance(tree, ast.expr):
        return ast.unparse(tree)
    if isinstance(tree, (ast.Assign, ast.Return)) and isinstance(tree.value, ast.Tuple) and tree.value.elts:
        # ``a, b = x, y`` and ``return dx, dy``, without the parentheses ast.unparse adds
        elts = tree.value.elts
        value = ", ".join(ast.unparse(e) for e in elts) + ("," if len(elts) == 1 else "")
        if isinstance(tree, ast.Return):
            return "return %s\n" % value
        return "%s = %s\n" % (" = ".join(_bare(t) for t in tree.targets), value)
    return ast.unparse(tree) + "\n"


def _bare(target):
    """``a, b`` for a tuple target (ast.unparse writes ``(a, b)``)."""
    if isinstance(target, ast.Tuple) and target.elts:
        return ", ".join(ast.unparse(e) for e in target.elts) + ("," if len(target.elts) == 1 else "")
    return ast.unparse(target)


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
