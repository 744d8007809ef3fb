"""The fence: before lowering, find every construct adjoint cannot compile, and report them
all at once, each with file, line and column."""
from ..errors import SourceError, UnsupportedError
from . import gastutil

g = gastutil.nodes

_REFUSED = {
    g.Try: ("try/except", "exceptions cannot be differentiated; check inputs before calling the gradient"),
    g.With: ("with", "move the `with` block outside construct"),
    g.Raise: ("raise", "check inputs before calling the gradient"),
    g.Global: ("global", "pass the value as an argument or keep it on the Cell"),
    g.Nonlocal: ("nonlocal", "return the value instead of assigning to an outer variable"),
    g.Yield: ("yield", "return a tuple instead of yielding"),
    g.YieldFrom: ("yield from", "return a tuple instead of yielding"),
    g.Await: ("await", "construct must be an ordinary (not async) function"),
    g.AsyncFunctionDef: ("async def", "construct must be an ordinary (not async) function"),
    g.AsyncFor: ("async for", "construct must be an ordinary (not async) function"),
    g.AsyncWith: ("async with", "construct must be an ordinary (not async) function"),
    g.Delete: ("del", "just stop using the variable"),
    g.ClassDef: ("class definitions", "define the class outside construct"),
    g.Import: ("import", "import at module level"),
    g.ImportFrom: ("import", "import at module level"),
    g.SetComp: ("set comprehensions", "build the collection with a for loop"),
    g.DictComp: ("dict comprehensions", "build the collection with a for loop"),
    g.GeneratorExp: ("generator expressions", "build a tuple with a for loop"),
}


_MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
             "add", "discard", "sort", "reverse", "set_data", "fill", "resize", "put"}


def refusal(node):
    """(what to call the construct, a hint) for a node code adjoint compiles cannot contain."""
    what, hint = _REFUSED.get(type(node), ("`%s`" % type(node).__name__.lower(), None))
    return what, hint


def problems(src):
    """Every unsupported construct in the parsed function ``src``, as SourceErrors."""
    found = []
    for stmt in src.node.body:
        for node in g.walk(stmt):
            refused = _REFUSED.get(type(node))
            if refused is not None:
                what, hint = refused
                found.append(SourceError("%s: not supported in code adjoint compiles" % what,
                                         src.loc(node), hint))
            elif isinstance(node, (g.Assign, g.AugAssign, g.AnnAssign)):
                targets = node.targets if isinstance(node, g.Assign) else [node.target]
                for t in targets:
                    for sub in g.walk(t):
                        if isinstance(sub, g.Attribute) and isinstance(getattr(sub, "ctx", None), g.Store):
                            found.append(SourceError(
                                "cannot store to `%s`: construct must not change the Cell's state"
                                % gastutil.to_source(sub), src.loc(sub),
                                "keep the value in a local variable"))
            elif (isinstance(node, g.Call) and isinstance(node.func, g.Attribute)
                  and node.func.attr in _MUTATORS and _rooted_at_self(node.func.value, src)):
                found.append(SourceError(
                    "`%s(...)` changes the Cell's state inside construct" % gastutil.to_source(node.func),
                    src.loc(node), "construct must not change the Cell; keep lists in local variables"))
    found.sort(key=lambda e: (e.loc.line, e.loc.col))
    return found


def _rooted_at_self(node, src):
    """Is ``node`` an attribute path that starts at the method's ``self``?"""
    args = src.node.args.args
    if not args:
        return False
    self_name = args[0].id
    while isinstance(node, (g.Attribute, g.Subscript)):
        node = node.value
    return isinstance(node, g.Name) and node.id == self_name and _is_method(src)


def _is_method(src):
    return "." in src.qualname and "<locals>" not in src.qualname.split(".")[-1]


_CHECKED = set()


def check_function(src):
    """Raise UnsupportedError listing every problem in ``src`` (checked once per function)."""
    code = src.code
    if code in _CHECKED:
        return
    found = problems(src)
    if found:
        raise UnsupportedError(found)
    _CHECKED.add(code)
