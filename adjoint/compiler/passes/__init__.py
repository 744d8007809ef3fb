"""IR -> IR passes, each in its own module. ``optimize`` runs the standard pipeline."""
from .simplify import simplify
from .cse import cse
from .dce import dce
from .residuals import residuals


def optimize(func, check=None):
    """Algebraic simplification, common subexpressions, dead code: until nothing changes.
    ``check(func, pass_name)``, when given, runs after every pass (the IR verifier)."""
    def run(pass_, func):
        func = pass_(func)
        if check is not None:
            check(func, pass_.__name__)
        return func

    for _ in range(4):
        before = _count(func)
        func = run(dce, run(cse, run(simplify, func)))
        if _count(func) == before:
            break
    return run(residuals, func)


def _count(func):
    from ..ir import walk
    return sum(1 for _ in walk(func.body.ops))
