"""From a Python function to its parsed source, with positions in the user's file.

``parse_function(fn)`` finds the source of ``fn`` (a ``construct`` method, a helper, a rule),
parses it with gast once per code object, and remembers how to turn a node into a ``Loc``.
"""
import inspect
import linecache
import textwrap

from ..errors import Loc, SourceError
from . import gastutil
from .recursion import recursion_as_loops

_CACHE = {}


class SourceFunction:
    """A parsed function: its gast FunctionDef and the way back to user-file positions."""

    def __init__(self, fn, node, file, first_line, indent, lines):
        self.code = fn.__code__
        self.qualname = getattr(fn, "__qualname__", getattr(fn, "__name__", "?"))
        self.node = node
        self.file = file
        self.first_line = first_line    # file line of the source's first line
        self.indent = indent            # columns removed by dedent
        self.lines = lines              # the file's lines, for showing context

    def loc(self, node):
        line = getattr(node, "lineno", 1) + self.first_line - 1
        col = getattr(node, "col_offset", 0) + self.indent
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Loc(self.file, line, col, text.rstrip("\n"))


def parse_function(fn, where=None):
    """The SourceFunction of ``fn``; SourceError (at ``where``) when its source can't be read."""
    code = fn.__code__
    hit = _CACHE.get(code)
    if hit is not None:
        return hit
    name = getattr(fn, "__qualname__", repr(fn))
    if code.co_name == "<lambda>":
        result = _parse_lambda(fn, where)
        _CACHE[code] = result
        return result
    try:
        # (by the code object: inspect would follow a functools.wraps decorator's __wrapped__ to
        # the decorated function's source, and the wrapper would be compiled as that function)
        lines, first_line = inspect.getsourcelines(code)
        file = inspect.getsourcefile(fn) or code.co_filename
        all_lines = linecache.getlines(file) or lines
    except (OSError, TypeError):
        raise _no_source(fn, where) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = _leading(text) - _leading(dedented)
    module = gastutil.parse(dedented)
    node = module.body[0]
    if not isinstance(node, (gastutil.nodes.FunctionDef,)):
        line = max(first_line, 1) + getattr(node, "lineno", 1) - 1
        text = all_lines[line - 1].rstrip("\n") if 0 < line <= len(all_lines) else ""
        loc = Loc(file, line, len(text) - len(text.lstrip()), text)
        if isinstance(node, gastutil.nodes.AsyncFunctionDef):
            raise SourceError("cannot compile %s: it is an `async def`" % name, loc,
                              hint="construct must be an ordinary (not async) function")
        raise SourceError("cannot compile %s: its source is not a def statement" % name, loc)
    if first_line == 0:
        first_line = 1
    node = recursion_as_loops(node, fn)
    result = SourceFunction(fn, node, file, first_line, indent, all_lines)
    _CACHE[code] = result
    return result


def _no_source(fn, where):
    code = fn.__code__
    name = getattr(fn, "__qualname__", repr(fn))
    return SourceError("cannot find the source of %s (defined in %s)" % (name, code.co_filename),
                       where, hint="adjoint compiles Python source; define the function in a .py file "
                                   "or a notebook cell (not with exec or in an interactive prompt), or "
                                   "give the Cell a bprop method")


_FILES = {}


def _parse_lambda(fn, where):
    """A lambda's node, found in its file by the positions of its code: the lambda on its first
    line whose body holds every position its instructions come from (the innermost such, so
    several lambdas on one line, and lambdas in lambdas, are told apart). It is given to the
    lowering as ``def <lambda>(args): return body``, with the file's own positions."""
    code = fn.__code__
    file = code.co_filename
    lines = linecache.getlines(file, fn.__globals__)
    if not lines:
        raise _no_source(fn, where)
    tree, first = _parse_lines(file, lines, code.co_firstlineno)
    if tree is None:
        raise _no_source(fn, where)
    spans = [(l, c, el, ec) for l, el, c, ec in _positions(code)
             if None not in (l, el, c, ec) and (l, c) != (el, ec)]
    found = []
    for node in gastutil.nodes.walk(tree):
        if not isinstance(node, gastutil.nodes.Lambda) or node.lineno + first - 1 != code.co_firstlineno:
            continue
        body = node.body
        lo = (body.lineno + first - 1, body.col_offset)
        hi = (body.end_lineno + first - 1, body.end_col_offset)
        if all(lo <= (l, c) and (el, ec) <= hi for l, c, el, ec in spans):
            found.append((hi[0] - lo[0], hi[1] - lo[1], node))
    if not found:
        raise SourceError("cannot find the source of the lambda %s on line %d of %s"
                          % (getattr(fn, "__qualname__", "<lambda>"), code.co_firstlineno, file), where,
                          hint="define the function with def")
    found.sort(key=lambda t: (t[0], t[1]))
    lam = found[0][2]
    ret = gastutil.nodes.Return(value=lam.body)
    gastutil.nodes.copy_location(ret, lam.body)
    node = gastutil.nodes.FunctionDef(name="<lambda>", args=lam.args, body=[ret], decorator_list=[],
                                      returns=None, type_comment=None, type_params=[])
    gastutil.nodes.copy_location(node, lam)
    qualname = _assigned_name(tree, lam) or getattr(fn, "__qualname__", "<lambda>")
    result = SourceFunction(fn, node, file, first, 0, lines)
    result.qualname = qualname
    return result


def _positions(code):
    try:
        return list(code.co_positions())
    except AttributeError:              # Python < 3.11: only the first line is known
        return []


def _parse_lines(file, lines, line):
    """The parsed module of a file (cached while its text is unchanged), and the file line of
    its first line; when the whole file does not parse (a notebook cell with magics...), the
    shortest run of lines from ``line`` that does."""
    key = (file, len(lines), hash("".join(lines)))
    hit = _FILES.get(key)
    if hit is None:
        try:
            hit = (gastutil.parse("".join(lines)), 1)
        except SyntaxError:
            hit = (None, 1)
        _FILES[key] = hit
    if hit[0] is not None:
        return hit
    for end in range(line, min(len(lines), line + 50) + 1):
        text, first = "".join(lines[line - 1:end]), line
        if text[:1].isspace():               # an indented line: keep its columns
            text, first = "if True:\n" + text, line - 1
        try:
            return gastutil.parse(text), first
        except SyntaxError:
            continue
    return None, 1


def _assigned_name(tree, lam):
    """``loss`` for ``loss = lambda ...``: how the user calls the lambda."""
    for node in gastutil.nodes.walk(tree):
        if isinstance(node, gastutil.nodes.Assign) and node.value is lam and len(node.targets) == 1 \
                and isinstance(node.targets[0], gastutil.nodes.Name):
            return node.targets[0].id
    return None


def _leading(text):
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return len(first) - len(first.lstrip())


def closure_vars(fn):
    """The values of ``fn``'s free variables by name (cells that are still empty are left out)."""
    out = {}
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
            try:
                out[name] = cell.cell_contents
            except ValueError:
                pass
    return out
