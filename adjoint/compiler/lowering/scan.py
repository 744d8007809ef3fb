"""What a body of statements does, read from its syntax alone: which names it assigns or
changes in place, which lists it appends to, whether it jumps (break, continue, return).
Control-flow lowering (control.py) decides from these what a loop or branch must carry."""
from .. import gastutil

g = gastutil.nodes


def assigned_names(stmts):
    """Names the statements assign or change in place (``y[i] = v``, ``outs.append(v)``), in
    order of first assignment (nested defs excluded)."""
    out = []

    def add(target):
        for node in g.walk(target):
            if isinstance(node, g.Name) and isinstance(node.ctx, g.Store) and node.id not in out:
                out.append(node.id)
            elif isinstance(node, g.Subscript):
                root = _root_name(node)
                if root is not None and root not in out:
                    out.append(root)

    def visit(node):
        if isinstance(node, (g.FunctionDef, g.Lambda, g.ClassDef)):
            if isinstance(node, (g.FunctionDef, g.ClassDef)) and node.name not in out:
                out.append(node.name)
            return
        if isinstance(node, g.Assign):
            for t in node.targets:
                add(t)
        elif isinstance(node, (g.AugAssign, g.AnnAssign)):
            add(node.target)
        elif isinstance(node, g.For):
            add(node.target)
        elif _is_append(node) and node.value.func.value.id not in out:
            out.append(node.value.func.value.id)
        for child in g.iter_child_nodes(node):
            visit(child)

    for s in stmts:
        visit(s)
    return out


def _root_name(target):
    """``y`` for the target ``y[i][j]``; None when it is not a name's item."""
    while isinstance(target, g.Subscript):
        target = target.value
    return target.id if isinstance(target, g.Name) else None


def _is_append(node):
    """``n.append(...)`` as a statement."""
    return (isinstance(node, g.Expr) and isinstance(node.value, g.Call)
            and isinstance(node.value.func, g.Attribute) and node.value.func.attr == "append"
            and isinstance(node.value.func.value, g.Name))


def changed_in_place(stmts):
    """Names whose value the statements change in place: ``y[i] = v``, ``y[i] += v`` and
    ``n.append(v)`` (nested defs excluded)."""
    found = []
    for s in stmts:
        for node in g.walk(s):
            if isinstance(node, (g.Assign, g.AugAssign)):
                targets = node.targets if isinstance(node, g.Assign) else [node.target]
                names = [_root_name(t) for t in targets if isinstance(t, g.Subscript)]
            elif _is_append(node):
                names = [node.value.func.value.id]
            else:
                names = []
            found.extend(n for n in names if n is not None and n not in found)
    return found


def appended_lists(stmts):
    """Names ``n`` of the ``n.append(...)`` statements in a loop body (nested defs excluded)."""
    found = []
    for s in stmts:
        for node in g.walk(s):
            if _is_append(node) and node.value.func.value.id not in found:
                found.append(node.value.func.value.id)
    return found


def jumps(stmts):
    """(break or continue of this loop, return) in a loop body: nested loops' own break and
    continue don't count, their returns do; nested functions don't."""
    own, ret, _ = _jumps(stmts)
    return own, ret


def breaks(stmts):
    """Does a ``break`` of this loop (not of a nested one) appear in the body?"""
    return _jumps(stmts)[2]


def _jumps(stmts):
    own, ret, brk = False, False, False
    todo = [(s, True) for s in stmts]
    while todo:
        node, this_loop = todo.pop()
        if isinstance(node, (g.FunctionDef, g.Lambda, g.ClassDef)):
            continue
        if isinstance(node, (g.Break, g.Continue)) and this_loop:
            own = True
            brk = brk or isinstance(node, g.Break)
        elif isinstance(node, g.Return):
            ret = True
        inner = this_loop and not isinstance(node, (g.For, g.While))
        todo.extend((c, inner) for c in g.iter_child_nodes(node))
    return own, ret, brk
