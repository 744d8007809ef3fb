"""IR -> IR passes, each in its own module. ``optimize`` runs the standard pipeline."""
from .simplify import simplify
from .cse import cse
from .dce import dce


def optimize(func):
    """Algebraic simplification, common subexpressions, dead code: until nothing changes."""
    for _ in range(4):
        before = len(func.body.ops)
        func = dce(cse(simplify(func)))
        if len(func.body.ops) == before:
            break
    return func
