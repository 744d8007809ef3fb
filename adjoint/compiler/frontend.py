"""From a Python function to its parsed source, with positions in the user's file.

``parse_function(fn)`` finds the source of ``fn`` (a ``construct`` method, a helper, a rule),
parses it with gast once per code object, and remembers how to turn a node into a ``Loc``.
"""
import inspect
import linecache
import textwrap

from ..errors import Loc, SourceError
from . import gastutil
from .tailcalls import loop_for_tail_calls

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
        raise SourceError("cannot compile the lambda %s: adjoint compiles functions written with def"
                          % name, where, hint="write it as a def function")
    try:
        lines, first_line = inspect.getsourcelines(fn)
        file = inspect.getsourcefile(fn) or code.co_filename
        all_lines = linecache.getlines(file) or lines
    except (OSError, TypeError):
        raise SourceError("cannot find the source of %s (defined in %s)" % (name, code.co_filename),
                          where, hint="adjoint compiles Python source; define the function in a .py file "
                                      "(not with exec or in an interactive prompt), or give the Cell a "
                                      "bprop method") from None
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
    node = loop_for_tail_calls(node, fn)
    result = SourceFunction(fn, node, file, first_line, indent, all_lines)
    _CACHE[code] = result
    return result


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
