"""gast -> SSA IR, by abstract interpretation of the function's source.

The lowering walks the source of ``construct`` (and, inlined, of every helper, sub-Cell, Tensor
method and derivative rule it calls). ``state.Lowerer`` holds one function body's state and
dispatches each statement and expression to the function that lowers it:

    builder.py       the IR builder a compilation shares (ops, inputs, sources, guards)
    state.py         a body's state (environment, location, loop frame) and the dispatch
    statements.py    assignments, return, assert, nested defs
    expressions.py   names, attributes, subscripts, operators, comprehensions
    calls.py         primitives, inlining, pure calls now and impure calls at run time
    control.py       if / for / while, and break / continue / return inside loops
    scan.py          what a body assigns, changes in place, appends to, jumps by (its syntax)
    python_calls.py  builtins that need care (print, len, range...), local functions
"""
from .builder import Context
from .state import Lowerer

__all__ = ["Context", "Lowerer"]
