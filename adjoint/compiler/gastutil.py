"""The one place that imports gast and astor, so a release of either can't break the rest."""
import ast

import astor
import gast

parse = gast.parse
dump = gast.dump
nodes = gast            # node classes: gastutil.nodes.Name, ...


def to_source(node):
    """Python source for a gast node (module, statement or expression)."""
    tree = gast.gast_to_ast(node)
    if isinstance(tree, ast.expr):
        tree = ast.Expression(tree)
        ast.fix_missing_locations(tree)
        return astor.to_source(tree.body, pretty_source=_one_line).strip()
    ast.fix_missing_locations(tree)
    return astor.to_source(tree, pretty_source=_one_line)


def _one_line(pieces):
    # astor wraps long lines at odd places (``np\n.sin``); keep each statement on one line.
    return "".join(pieces)


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
