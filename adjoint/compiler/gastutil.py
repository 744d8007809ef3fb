"""The one place that imports gast, so a release of it can't break the rest."""
import ast

import gast

parse = gast.parse
dump = gast.dump
nodes = gast            # node classes: gastutil.nodes.Name, ...


def to_source(node):
    """Python source for a gast node (module, statement or expression)."""
    tree = ast.fix_missing_locations(gast.gast_to_ast(node))
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
