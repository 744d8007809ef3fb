"""IR -> IR passes, each in its own module. ``optimize`` runs the standard pipeline."""
from .simplify import simplify
from .cse import cse
from .dce import dce
from .shape_saves import save_shapes


def optimize(func):
    """Algebraic simplification, common subexpressions, dead code: until nothing changes."""
    for _ in range(4):
        before = _count(func)
        func = dce(cse(simplify(func)))
        if _count(func) == before:
            break
    return save_shapes(func)


def _count(func):
    from ..ir import walk
    return sum(1 for _ in walk(func.body.ops))
