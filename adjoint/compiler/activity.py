"""Activity analysis: which values lie on a path from a differentiated input to an output.

A value is *varied* if it depends on a differentiated input through ops that carry gradients
(``stop_gradient``, comparisons and shape queries cut the dependence), and *useful* if an
output depends on it through such ops. Only values that are both need adjoints. Structured
ops are looked into: a branch's yields flow to the ``if``'s results, a loop's yields flow
back to its carried block arguments (iterated until nothing changes).
"""
from . import ir


def loop_parts(op):
    """(initial values, body block, carried block arguments) of a for/while op."""
    body = op.blocks[-1]
    if op.prim is ir.FOR:
        return op.args[3:], body, body.args[1:]
    return op.args, body, body.args


def _varied(ops, varied, tapes):
    for op in ops:
        prim = op.prim
        if prim is ir.IF:
            for block in op.blocks:
                _varied(block.ops, varied, tapes)
            for k, r in enumerate(op.results):
                if any(b.yields[k] in varied for b in op.blocks if isinstance(b.yields[k], ir.Value)):
                    varied.add(r)
        elif prim in ir.STRUCTURED_LOOPS:
            inits, body, carried = loop_parts(op)
            for _ in range(len(carried) + 1):
                before = len(varied)
                for init, arg, y in zip(inits, carried, body.yields):
                    if init in varied or y in varied:
                        varied.add(arg)
                for block in op.blocks:
                    _varied(block.ops, varied, tapes)
                if len(varied) == before:
                    break
            for arg, r in zip(carried, op.results):
                if arg in varied:
                    varied.add(r)
        elif prim is ir.CUSTOM:
            if any(v in varied for v in op.values()):
                varied.update(op.results)
        elif prim is ir.TAPE_POP:
            saved = tapes.saved(op.args[0])
            if saved is None:
                varied.update(op.results)      # unknown: be safe (the reverse refuses it)
            else:
                varied.update(r for r, v in zip(op.results, saved) if v in varied)
        elif op.prim.nondiff:
            continue
        elif any(v in varied for v in op.values()):
            varied.update(op.results)


class Tapes:
    """The tapes of a function and what each iteration pushes on them, to follow a value popped
    from a tape back to the value that was pushed."""

    def __init__(self, ops):
        self.pushes = {o.args[0]: o for o in ir.walk(ops) if o.prim is ir.TAPE_PUSH}

    def origin(self, tape):
        """The list a loop's body pushes onto, for a tape Value that may have been saved on an
        outer loop's tape and popped again there (an inner loop's tape, one per outer
        iteration), or exported by a branch; None if unknown."""
        for _ in range(64):
            if tape is None or tape.op is None:
                return None
            if tape.op.prim is ir.NEW_LIST:
                return tape
            if tape.op.prim is ir.IF:           # a tape a branch made, exported by its if
                k = tape.op.results.index(tape)
                found = [b.yields[k] for b in tape.op.blocks if isinstance(b.yields[k], ir.Value)]
                tape = found[0] if found else None
                continue
            if tape.op.prim is not ir.TAPE_POP:
                return None
            saved = self.saved(tape.op.args[0])
            if saved is None:
                return None
            tape = saved[tape.op.results.index(tape)]
        return None

    def saved(self, tape):
        """The values pushed on ``tape`` each iteration (None if unknown)."""
        push = self.pushes.get(self.origin(tape))
        return push.args[1:] if push is not None else None


def _useful(ops, useful, tapes):
    for op in reversed(ops):
        prim = op.prim
        if prim is ir.TAPE_POP:
            saved = tapes.saved(op.args[0]) or ()
            useful.update(v for r, v in zip(op.results, saved) if r in useful and isinstance(v, ir.Value))
            continue
        if prim is ir.IF:
            for k, r in enumerate(op.results):
                if r in useful:
                    useful.update(b.yields[k] for b in op.blocks if isinstance(b.yields[k], ir.Value))
            for block in op.blocks:
                _useful(block.ops, useful, tapes)
        elif prim in ir.STRUCTURED_LOOPS:
            inits, body, carried = loop_parts(op)
            for _ in range(len(carried) + 1):
                before = len(useful)
                for init, arg, y, r in zip(inits, carried, body.yields, op.results):
                    if r in useful or arg in useful:
                        if isinstance(y, ir.Value):
                            useful.add(y)
                        if isinstance(init, ir.Value):
                            useful.add(init)
                _useful(body.ops, useful, tapes)
                if len(useful) == before:
                    break
        elif op.prim.nondiff:
            continue
        elif any(r in useful for r in op.results):
            useful.update(op.values())


def varied_values(ops, wrt, tapes):
    varied = set(wrt)
    _varied(ops, varied, tapes)
    return varied


def useful_values(ops, outputs, tapes):
    useful = {o for o in outputs if isinstance(o, ir.Value)}
    _useful(ops, useful, tapes)
    return useful


def active_values(ops, wrt, outputs, tapes):
    return varied_values(ops, wrt, tapes) & useful_values(ops, outputs, tapes)
