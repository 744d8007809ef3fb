"""Split a gradient function where its late parameters enter: the forward part, and the pullback.

``ops.vjp(fn, *inputs)`` gives the outputs now and a function of the sens later. The adjoint
IR already runs the forward ops first; the ops that read the sens (and what depends on them)
are the pullback. Values the pullback reads from the forward part are its *residuals*: the
forward part returns them, the pullback takes them as parameters.

Before::   %y = sin(%x); %c = cos(%x); %g = mul(%sens, %c); return %y, %g
After::    forward(%x) -> (%y, (%c,));   pullback(%c, %sens) -> %g

Structured ops move whole. A reverse ``if`` reads values from inside the branches of the
forward ``if`` on the same condition: those become results of the forward ``if`` (None on the
other path), as loops export them to their tapes. A tape is a residual too: the pullback pops a
copy of it (so it may run many times); and a loop accumulator made of zeros is made again in
the pullback (it is added into in place).
"""
from .. import ir
from .. import rules as P


def split(func, late, first, second):
    """(forward Func, pullback Func, residuals), or None when the outputs of the first part
    need the late parameters. ``late``: the parameters only the pullback takes;
    ``first``/``second``: the Values each part returns (leaves of what it returns)."""
    late_values = set(late)
    is_late = set()
    for op in func.body.ops:
        if set(ir.used_values(op)) & late_values:
            is_late.add(op)
            late_values.update(op.results)
    for op in func.body.ops:                # zeros a reverse loop adds into in place
        if op.attrs.get("fresh") and op not in is_late and \
                any(o in is_late and op.result in ir.used_values(o) for o in func.body.ops):
            is_late.add(op)
            late_values.update(op.results)
    early_ops = [op for op in func.body.ops if op not in is_late]
    late_ops = [op for op in func.body.ops if op in is_late]
    if any(set(ir.used_values(op)) & late_values for op in early_ops):
        return None
    for v in first:
        if isinstance(v, ir.Value) and v in late_values:
            return None                      # (an output depends on the late parameters)
    if not _export_branch_reads(early_ops, late_ops):
        return None
    _export_branch_reads(early_ops, late_ops)
    defined_early = set(p for p in func.params if p not in late) | {r for op in early_ops for r in op.results}
    residuals = []
    for op in late_ops:
        for v in ir.used_values(op):
            if v in defined_early and v not in residuals:
                residuals.append(v)
    for v in second:
        if isinstance(v, ir.Value) and v in defined_early and v not in residuals:
            residuals.append(v)
    # the pullback's own copies of the residuals (a tape is popped: it gets a copy of it)
    params2, mapping, copies = [], {}, []
    for v in residuals:
        p = ir.Value(v.name, kind=v.kind)
        p.adjoint_of = v.adjoint_of
        params2.append(p)
        if v.op is not None and v.op.prim is ir.NEW_LIST:
            c = ir.Value(v.name)
            copies.append(ir.Op(P.copy_tape, [p], c, v.op.loc, "grad"))
            mapping[v] = c
        else:
            mapping[v] = p
    from .substitute import resolve, substitute_ops
    substitute_ops(late_ops, mapping)
    forward = ir.Func(func.name, [p for p in func.params if p not in late], ir.Block(early_ops),
                      list(first) + residuals)
    forward.scalar_params = {p for p in func.scalar_params if p not in late}
    pullback = ir.Func(func.name + "_pullback", params2 + list(late), ir.Block(copies + late_ops),
                       [resolve(mapping, v) for v in second])
    pullback.scalar_params = {mapping[v] for v in residuals if v in func.scalar_params} | \
        {p for p in late if p in func.scalar_params}
    return forward, pullback, residuals


def _export_branch_reads(early_ops, late_ops):
    """Values a late op reads from inside an early ``if``'s branch become results of that if.
    False when one is deeper (inside a loop or an if within the branch)."""
    inside, deeper = {}, set()
    for op in early_ops:
        for k, block in enumerate(op.blocks):
            for inner in block.ops:
                for r in inner.results:
                    if op.prim is ir.IF:
                        inside[r] = (op, k)
                    else:
                        deeper.add(r)
                for nested in ir.walk([o for b in inner.blocks for o in b.ops]):
                    deeper.update(nested.results)
    if not inside and not deeper:
        return True
    mapping = {}
    for op in late_ops:
        for v in ir.used_values(op):
            if v in deeper and v not in inside:
                return False
            if v in inside and v not in mapping:
                owner, k = inside[v]
                r = ir.Value(v.name)
                r.op = owner
                owner.results.append(r)
                for j, block in enumerate(owner.blocks):
                    block.yields.append(v if j == k else ir.Const(None))
                mapping[v] = r
    if mapping:
        from .substitute import substitute_ops
        substitute_ops(late_ops, mapping)
    return True
