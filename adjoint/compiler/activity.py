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


def _varied(ops, varied):
    for op in ops:
        prim = op.prim
        if prim is ir.IF:
            for block in op.blocks:
                _varied(block.ops, varied)
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
                    _varied(block.ops, varied)
                if len(varied) == before:
                    break
            for arg, r in zip(carried, op.results):
                if arg in varied:
                    varied.add(r)
        elif prim is ir.CUSTOM:
            if any(v in varied for v in op.values()):
                varied.update(op.results)
        elif prim is ir.TAPE_POP:
            saved = saved_for(op.args[0])
            if saved is None:
                varied.update(op.results)      # unknown: be safe (the reverse refuses it)
            else:
                varied.update(r for r, v in zip(op.results, saved) if v in varied)
        elif op.prim.nondiff:
            continue
        elif any(v in varied for v in op.values()):
            varied.update(op.results)


def origin_tape(tape):
    """The tape a loop wrote, for a tape Value that may have been saved on an outer loop's tape
    and popped again there (an inner loop's tape, one per outer iteration); None if unknown."""
    for _ in range(64):
        if tape is None or tape.op is None:
            return None
        if any(t is tape for t, _ in ir.tapes(tape.op)):
            return tape
        if tape.op.prim is ir.IF:           # a tape a branch wrote, exported by its if
            k = tape.op.results.index(tape)
            found = [b.yields[k] for b in tape.op.blocks if isinstance(b.yields[k], ir.Value)]
            tape = found[0] if found else None
            continue
        if tape.op.prim is not ir.TAPE_POP:
            return None
        outer = origin_tape(tape.op.args[0])
        if outer is None:
            return None
        saved = dict((id(t), s) for t, s in ir.tapes(outer.op))[id(outer)]
        tape = saved[tape.op.results.index(tape)]
    return None


def saved_for(tape):
    """The values a tape holds each iteration, in the loop that wrote it (None if unknown)."""
    origin = origin_tape(tape)
    if origin is None:
        return None
    for t, saved in ir.tapes(origin.op):
        if t is origin:
            return saved
    return None


def _useful(ops, useful):
    for op in reversed(ops):
        prim = op.prim
        if prim is ir.TAPE_POP:
            saved = saved_for(op.args[0]) or ()
            useful.update(v for r, v in zip(op.results, saved) if r in useful and isinstance(v, ir.Value))
            continue
        if prim is ir.IF:
            for k, r in enumerate(op.results):
                if r in useful:
                    useful.update(b.yields[k] for b in op.blocks if isinstance(b.yields[k], ir.Value))
            for block in op.blocks:
                _useful(block.ops, useful)
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
                _useful(body.ops, useful)
                if len(useful) == before:
                    break
        elif op.prim.nondiff:
            continue
        elif any(r in useful for r in op.results):
            useful.update(op.values())


def varied_values(ops, wrt):
    varied = set(wrt)
    _varied(ops, varied)
    return varied


def useful_values(ops, outputs):
    useful = {o for o in outputs if isinstance(o, ir.Value)}
    _useful(ops, useful)
    return useful


def active_values(ops, wrt, outputs):
    return varied_values(ops, wrt) & useful_values(ops, outputs)
