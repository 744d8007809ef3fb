"""Reverse mode through structured control flow.

``if``: the reverse sweep is an ``if`` on the same condition; each branch turns the adjoints of
the results into adjoints of the values the branch read from outside (zeros where the other
branch contributed and this one did not).

``for`` / ``while``: a tape is made before the forward loop (``_tape = []``), which pushes, at the
end of each iteration, the values its reverse reads (``_tape.append((h, a))``); the reverse
sweep is a loop over the same iterations backwards (``for t in reversed(range(n))`` /
``for _ in range(len(_tape))``) that pops them (freeing memory as it goes), carries the
adjoints of the loop-carried variables, and accumulates the adjoints of values the body read
from outside the loop. Which values (or only their shapes) are saved is settled after dead
code elimination (passes/residuals.py).
"""
from . import ir
from .activity import loop_parts
from .ir import CUSTOM, FOR, IF, NEW_LIST, TAPE_LEN, TAPE_POP, TAPE_PUSH
from . import rules as P
from .passes.substitute import substitute_ops


def reverse_structured(ctx, op, adjoints, active, in_loop, container):
    if op.prim is TAPE_POP:
        _reverse_tape_pop(ctx, op, adjoints, active)
    elif op.prim in (NEW_LIST, TAPE_PUSH, TAPE_LEN):
        return
    elif op.prim is CUSTOM:
        _reverse_bprop(ctx, op, adjoints, active)
    elif op.prim is IF:
        _reverse_if(ctx, op, adjoints, active, in_loop)
    else:
        _reverse_loop(ctx, op, adjoints, active, container)


def _results_adjoints(op, adjoints, active, results):
    """The summed adjoint of each result (None for results no gradient reaches)."""
    out = []
    for r in results:
        if r in active:
            out.append(adjoints.total(r, op.loc))
        else:
            adjoints.parts.pop(r, None)
            out.append(None)
    return out


def _reverse_block(ctx, op, block_ops, seeds, active, in_loop, summed=None):
    """Reverse ``block_ops`` from ``seeds`` [(value, adjoint)]; returns (ops, {outer value:
    total}). Values for which ``summed(v)`` is false get their list of parts instead."""
    from .reverse import Adjoints, reverse_ops
    with ctx.region() as rops:
        badj = Adjoints(ctx)
        for value, grad in seeds:
            if grad is not None and isinstance(value, ir.Value) and value in active:
                badj.add(value, grad)
        reverse_ops(ctx, block_ops, badj, active, in_loop)
        totals = {}
        for v in list(badj.parts):
            if summed is not None and not summed(v):
                totals[v] = badj.parts.pop(v)
                continue
            total = badj.total(v, op.loc)
            if total is not None:
                totals[v] = total
    return rops, totals


def _reverse_if(ctx, op, adjoints, active, in_loop):
    dres = _results_adjoints(op, adjoints, active, op.results)
    # Code differentiated before (a higher-order gradient) may read values from inside a
    # branch directly: their adjoints enter the reverse of that branch too.
    pending = []
    for block in op.blocks:
        inner = [r for o in ir.walk(block.ops) for r in o.results if r in adjoints.parts]
        pending.append([(r, adjoints.total(r, op.loc)) for r in inner])
    if all(d is None for d in dres) and not any(pending) and not _pops_adjoints(ctx, op):
        return
    branches = [_reverse_block(ctx, op, block.ops, list(zip(block.yields, dres)) + extra, active, in_loop)
                for block, extra in zip(op.blocks, pending)]
    if in_loop:
        _export_branch_values(op, branches)
    targets = []
    for _, totals in branches:
        targets.extend(v for v in totals if v not in targets)
    blocks = []
    for rops, totals in branches:
        yields = []
        with ctx.into(rops):
            for v in targets:
                total = totals.get(v)
                if total is None and op.args[0] in ctx.branch_values().get(v, ()):
                    total = ir.Const(None)     # v exists only on the other path: its adjoint too
                elif total is None:
                    total = ctx.emit(P.zeros_like, [v], op.loc, "grad")
                yields.append(ir.operand(total))
        blocks.append(ir.Block(rops, [], yields))
    results = [_adjoint_value(v) for v in targets]
    ctx.ops.append(ir.Op(IF, [op.args[0]], None, op.loc, "grad", blocks=blocks, results=results))
    for v, r in zip(targets, results):
        adjoints.add(v, r)


def _pops_adjoints(ctx, op):
    """Does a loop inside ``op`` have adjoints waiting on a list (a second-order sweep pushed
    them)? Then ``op`` is reversed even when no adjoint reached its results."""
    return any(t in ctx.dtapes for block in op.blocks for o in ir.walk(block.ops) for t, _ in ir.tapes(o))


def _export_branch_values(op, branches):
    """Inside a loop, values a reverse branch reads from its forward branch become results of
    the forward ``if`` (None on the other path), so the tape can save them every iteration."""
    for k, (rops, totals) in enumerate(branches):
        inner = {r for o in ir.walk(op.blocks[k].ops) for r in o.results}
        needed = [v for v in _referenced(rops, totals.values()) if v in inner]
        mapping = {}
        for v in needed:
            r = ir.Value(v.name, kind=v.kind)
            r.op = op
            op.results.append(r)
            for j, block in enumerate(op.blocks):
                block.yields.append(v if j == k else ir.Const(None))
            mapping[v] = r
        substitute_ops(rops, mapping)
        for key in list(totals):
            totals[key] = mapping.get(totals[key], totals[key])


def _reverse_loop(ctx, op, adjoints, active, container):
    is_for = op.prim is FOR
    body = op.blocks[-1]
    index = body.args[0] if is_for else None
    inits, _, carried = loop_parts(op)
    dres = _results_adjoints(op, adjoints, active, op.results)
    # A loop whose tape a reverse sweep read, differentiated again: the adjoints of what it
    # saved come back, one iteration at a time, on the list that sweep's reverse filled.
    dtape_pops = []
    for tape, saved in ir.tapes(op):
        hit = ctx.dtapes.get(tape)
        if hit is not None:
            dtape, positions = hit
            results = [_adjoint_value(saved[k]) for k in positions]
            dtape_pops.append((ir.Op(TAPE_POP, [dtape], None, op.loc, "grad", results=results),
                               [(saved[k], r) for k, r in zip(positions, results)]))
    if all(d is None for d in dres) and not dtape_pops and not _pops_adjoints(ctx, op):
        return
    # A carried variable needs an adjoint through the reverse loop when its result does (the
    # last iteration's value reaches it) or its block argument does (the body reads it).
    keep = [k for k, a in enumerate(carried) if a in active or op.results[k] in active]
    dcarry_in = [_adjoint_value(carried[k]) for k in keep]
    seeds = [(body.yields[k], d) for k, d in zip(keep, dcarry_in)]
    seeds += [pair for _, pairs in dtape_pops for pair in pairs]
    new_dtapes = ctx.new_dtapes
    mark = len(new_dtapes)
    ctx.loop_depth += 1
    defined_inside = set(body.args) | {r for o in ir.walk(body.ops) for r in o.results}
    try:
        # (what the body read from outside comes back part by part: each is added into the
        # loop's accumulator on its own, in place, or into the slice it belongs to)
        rops, totals = _reverse_block(ctx, op, body.ops, seeds, active, in_loop=True,
                                      summed=lambda v: v in defined_inside)
    finally:
        ctx.loop_depth -= 1
    rops[:0] = [pop for pop, _ in dtape_pops]
    if ctx.loop_depth == 0:
        # Lists of adjoints pushed by this loop (and loops nested in it) are made once, before it.
        for dtape in new_dtapes[mark:]:
            ctx.ops.append(ir.Op(NEW_LIST, [], dtape, op.loc, "grad"))
        del new_dtapes[mark:]
    dcarry_out = [totals.pop(carried[k], None) for k in keep]
    outer = [v for v in totals if v not in carried and v is not index]
    acc_in = [_adjoint_value(v) for v in outer]
    with ctx.into(rops):
        for j, k in enumerate(keep):
            if dcarry_out[j] is None:
                dcarry_out[j] = ctx.emit(P.zeros_like, [carried[k]], op.loc, "grad")
        from .reverse import add_for
        acc_out = []
        for a, v in zip(acc_in, outer):
            for part in totals[v]:
                a = ctx.emit(add_for(v), [a, ir.operand(part)], op.loc, "grad")
                a.adjoint_of = v
            acc_out.append(a)

    # What the reverse body reads from the forward body is saved on a tape, once per iteration.
    defined = set(body.args) | {r for o in body.ops for r in o.results}
    saved = [v for v in _referenced(rops, dcarry_out + acc_out) if v in defined and v is not index]
    saved.sort(key=_definition_order(body))
    rindex = ir.Value(index.name if index is not None else None)
    restored = [ir.Value(v.name, kind=v.kind) for v in saved]
    mapping = dict(zip(saved, restored))
    if index is not None:
        mapping[index] = rindex
    substitute_ops(rops, mapping)
    dcarry_out = [mapping.get(v, v) for v in dcarry_out]
    # A tape is written when the reverse reads saved values, or needs the trip count (a while:
    # a loop whose bounds are not known before it runs).
    counted = not is_for
    if saved or counted:
        tape = ir.Value("_tape")
        container.insert(container.index(op), ir.Op(NEW_LIST, [], tape, op.loc, op.role))
        body.ops.append(ir.Op(TAPE_PUSH, [tape] + saved, None, None, op.role, results=[]))
        rops.insert(0, ir.Op(TAPE_POP, [tape], None, op.loc, "grad", results=restored))

    # Initial adjoints: of the loop's results (zeros where none reached them), of outer values.
    dinit = []
    for k in keep:
        d = dres[k]
        if d is None:
            d = ctx.emit(P.zeros_like, [op.results[k]], op.loc, "grad")
        dinit.append(ir.operand(d))
    acc_init = [ctx.emit(P.zeros_like, [v], op.loc, "grad") for v in outer]
    for z, v in zip(acc_init, outer):
        z.adjoint_of = v
        z.op.attrs["fresh"] = True      # owned by the loop: accumulated in place, never shared
    if is_for:
        bounds = op.args[:3]
    else:                                   # as many iterations as the forward loop ran
        bounds = [ir.Const(0), ctx.emit(TAPE_LEN, [tape], op.loc, "grad"), ir.Const(1)]
    results = [_adjoint_value(inits[k]) if isinstance(inits[k], ir.Value) else ir.Value() for k in keep]
    results += [_adjoint_value(v) for v in outer]
    rev = ir.Op(FOR, list(bounds) + dinit + acc_init, None, op.loc, "grad",
                blocks=[ir.Block(rops, [rindex] + dcarry_in + acc_in, [ir.operand(d) for d in dcarry_out] + acc_out)],
                results=results)
    rev.attrs["reverse"] = is_for and not op.attrs.get("reverse")
    rev.attrs["accumulators"] = len(outer)
    ctx.ops.append(rev)
    for k, r in zip(keep, results):
        if isinstance(inits[k], ir.Value) and inits[k] in active:
            adjoints.add(inits[k], r)
    for v, r in zip(outer, results[len(keep):]):
        adjoints.add(v, r)


def _reverse_tape_pop(ctx, op, adjoints, active):
    """The reverse of popping saved values: push their adjoints, for the loop that saved them."""
    from ..errors import SourceError
    totals = [adjoints.total(r, op.loc) if r in active else None for r in op.results]
    positions = [k for k, t in enumerate(totals) if t is not None]
    if not positions:
        return
    tape = ctx.tapes.origin(op.args[0])
    if tape is None:
        raise SourceError("adjoint cannot tell which loop saved these values (a compiler limit)",
                          op.loc, hint="unroll the inner loop (loop over a Python tuple)")
    dtape = ir.Value("_dtape")
    if tape in ctx.dtapes:
        raise SourceError("these saved values are popped twice (a compiler limit)", op.loc)
    ctx.dtapes[tape] = (dtape, positions)
    ctx.new_dtapes.append(dtape)
    ctx.ops.append(ir.Op(TAPE_PUSH, [dtape] + [ir.operand(totals[k]) for k in positions], None,
                         op.loc, "grad", results=[]))


def _reverse_bprop(ctx, op, adjoints, active):
    """Inline the Cell's ``bprop(self, *inputs, out, dout)`` for the adjoints of its inputs."""
    import inspect
    from ..errors import SourceError
    from .frontend import parse_function
    from .lowering import Lowerer
    dres = _results_adjoints(op, adjoints, active, op.results)
    if all(d is None for d in dres):
        return
    cell, tree = op.attrs["bprop"]
    bprop = type(cell).bprop
    for k, d in enumerate(dres):
        if d is None:
            dres[k] = ctx.emit(P.zeros_like, [op.results[k]], op.loc, "grad")
    inputs = [a if isinstance(a, ir.Value) else a.value for a in op.args]
    out, dout = tree.unflatten(op.results), tree.unflatten(dres)
    params = list(inspect.signature(bprop).parameters)
    if len(params) != len(inputs) + 3:
        raise SourceError("%s.bprop must take (self, %s, out, dout)" % (
            type(cell).__name__, ", ".join("x%d" % i for i in range(len(inputs)))), op.loc)
    env = dict(zip(params, [cell] + inputs + [out, dout]))
    grads = Lowerer(ctx, parse_function(bprop, op.loc), bprop, env, loc_override=op.loc, role="grad").run()
    if not isinstance(grads, tuple) or len(grads) != len(inputs):
        raise SourceError("%s.bprop must return a tuple with one gradient per input (%d)"
                          % (type(cell).__name__, len(inputs)), op.loc)
    for arg, grad in zip(op.args, grads):
        if isinstance(arg, ir.Value) and arg in active and grad is not None:
            adjoints.add(arg, grad)


def _adjoint_value(v):
    d = ir.Value(kind="list" if v.kind == "list" else None)   # (a list's adjoint is a list)
    d.adjoint_of = v
    return d


def _referenced(ops, extra=()):
    """Values read by ``ops`` (at any depth) and by ``extra``, in first-use order."""
    seen = []
    for op in ops:
        for v in ir.used_values(op):
            if v not in seen:
                seen.append(v)
    for v in extra:
        if isinstance(v, ir.Value) and v not in seen:
            seen.append(v)
    return seen


def _definition_order(block):
    order = {v: i for i, v in enumerate(block.args)}
    for i, o in enumerate(block.ops):
        for r in o.results:
            order[r] = len(block.args) + i
    return lambda v: order[v]
