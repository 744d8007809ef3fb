"""The decisions codegen makes before printing, as named analyses over the IR whose results a
``Plan`` holds: how often each value is read (``count_uses``), which values share one Python name
(loop variables and the values a branch yields: ``share_names``), which loop accumulators add in
place (``accumulate_in_place``), which temporaries fold into the expression that uses them
(``fold_temporaries``) and after which statement each name can be freed (``plan_frees``).
"""
from . import ir, names
from . import rules as P
from .activity import loop_parts
from .names import Namer


class Plan:
    """What codegen decided for one function: names, folded temporaries, in-place additions,
    frees. ``name_of`` gives a value its Python name (the user's where it has one)."""

    def __init__(self, func, returns, checks=False):
        self.func, self.returns, self.checks = func, returns, checks
        self.namer = Namer(_imported_names() | _namespace_names(func))
        self.names, self.inline, self.in_place = {}, {}, set()
        self.slice_writes, self.covered = set(), {}
        self.block_of = index_blocks(func.body.ops)
        self.uses, self.user, self.yield_uses = count_uses(func, returns)
        for p in func.params:
            self.names[p] = self.namer.fresh(p.name or "arg")
        for op in ir.walk(func.body.ops):
            if op.blocks:
                share_names(self, op)
                accumulate_in_place(self, op)
                write_slices(self, op)
        if not checks:            # (when checking, every value is checked on its own)
            fold_temporaries(self)
        self.frees, self.no_free_after = plan_frees(self)

    def name_of(self, v):
        name = self.names.get(v)
        if name is None:
            hint = v.name
            if hint is None and v.adjoint_of is not None:
                hint = names.adjoint_of(self.name_of(v.adjoint_of))
            name = self.names[v] = self.namer.fresh(hint)
        return name

    def reads(self, op):
        """Values an op's expression reads, through the temporaries folded into it."""
        out = []
        for a in op.values():
            inner = self.inline.get(a)
            out.extend(self.reads(inner) if inner is not None else [a])
        return out

    def all_reads(self, op):
        """Every value a statement reads, at any depth, through folded temporaries."""
        out = []
        for inner in ir.walk([op]):
            vals = ir.used_values(inner) if inner.blocks else inner.values()
            for v in vals:
                folded = self.inline.get(v)
                out.extend(self.all_reads(folded) if folded is not None else [v])
        return out


def _imported_names():
    """The names generated code may import (runtime helpers, checks): never a value's name,
    or ``sigmoid = sigmoid(x)`` would make the helper a local of the generated function."""
    from .prims import PRIMS
    return {p.emit for p in PRIMS.values() if p.emit.isidentifier()} | {
        "check_adjoint", "check_value", "float_kind", "add_at"}


def _namespace_names(func):
    """Names code for an array namespace binds (``xp``, ``rx``): never a value's name."""
    if getattr(func, "namespace", None) is None:
        return set()
    from .namespaces import NAMES
    return set(NAMES)


def index_blocks(ops, out=None):
    """{op: the op list (block) holding it}."""
    out = {} if out is None else out
    for op in ops:
        out[op] = ops
        for block in op.blocks:
            index_blocks(block.ops, out)
    return out


def count_uses(func, returns):
    """(reads per value, the op that reads it last, yields per value). A returned value and the
    base of ``ipow`` (printed n times) count more, so they are never folded."""
    uses, user, yield_uses = {}, {}, {}
    for op in ir.walk(func.body.ops):
        for v in op.values():
            uses[v] = uses.get(v, 0) + 1
            user[v] = op
        for block in op.blocks:
            for y in block.yields:
                if isinstance(y, ir.Value):
                    yield_uses[y] = yield_uses.get(y, 0) + 1
        if op.prim is P.ipow:
            uses[op.args[0]] = uses.get(op.args[0], 0) + 2
    for v in ir.leaves(returns):
        if isinstance(v, ir.Value):
            uses[v] = uses.get(v, 0) + 2
    return uses, user, yield_uses


def fold_temporaries(plan):
    """Fold a temporary used once, on the same source line, into the expression that uses it,
    where that moves no read past a write of the same name."""
    for op in ir.walk(plan.func.body.ops):
        if op.prim is ir.WHILE:
            cond = op.blocks[0].yields[0]
            if isinstance(cond, ir.Value) and cond.op is not None and cond.name is None \
                    and plan.yield_uses.get(cond) == 1 and not plan.uses.get(cond) and not cond.op.blocks:
                plan.inline[cond] = cond.op        # `while <condition>:`
        if op.blocks or len(op.results) != 1:
            continue
        v = op.result
        u = plan.user.get(v)
        if (v.name is None and plan.uses.get(v, 0) == 1 and v not in plan.yield_uses
                and op not in plan.in_place and (op.prim.pure or op.prim is ir.TAPE_LEN)
                and u is not None and plan.block_of[u] is plan.block_of[op]
                and (u in plan.in_place and u.args[1] is v
                     or _line(u.loc) == _line(op.loc) and u.role == op.role)
                and op.prim is not P.make_slice and _safe_to_move(plan, op, u)):
            plan.inline[v] = op


def _safe_to_move(plan, op, user):
    """Folding ``op`` into ``user`` evaluates it later: no statement in between may assign
    a name ``op`` reads (only shared names, from loop variables, can be assigned twice)."""
    read = {plan.names[v] for v in plan.reads(op) if v in plan.names}
    if not read:
        return True
    ops = plan.block_of[op]
    for between in ops[ops.index(op) + 1:ops.index(user)]:
        for written in ir.walk([between]):
            if any(plan.names.get(r) in read for r in written.results):
                return False
    return True


def share_names(plan, op):
    """Results, block arguments and (where safe) yielded values of a structured op share
    one Python name, so the generated loop reads like the user's."""
    if op.prim in (ir.IF, ir.CUSTOM):
        for k, r in enumerate(op.results):
            for block in op.blocks:
                _coalesce(plan, block, block.yields[k], r, arg=None)
        return
    if not op.blocks:
        return
    body = op.blocks[-1]
    _, _, carried = loop_parts(op)
    if op.prim is ir.FOR and body.args[0] not in plan.uses:
        plan.names[body.args[0]] = "_"
    for arg, r, y in zip(carried, op.results, body.yields):
        plan.names[arg] = plan.name_of(r)
        _coalesce(plan, body, y, r, arg)


def _coalesce(plan, block, y, result, arg):
    if not isinstance(y, ir.Value) or y in plan.names or y in plan.inline or y.op is None:
        return
    if plan.block_of.get(y.op) is not block.ops or plan.uses.get(y, 0) or plan.yield_uses.get(y) != 1:
        return
    name = plan.name_of(result)
    holders = [v for v, n in plan.names.items() if n == name and v is not result]
    if arg is not None:
        holders.append(arg)
    # Writing `name` early must not clobber a value the rest of the block still reads.
    if any(_used_after(plan, block, y.op, v) for v in holders):
        return
    plan.names[y] = name


def _used_after(plan, block, op, value):
    """Is ``value`` read after ``op``: by a later op, by the block's yields (they are a
    parallel copy: ``a, b = b, a * 2`` must not write ``b`` before ``a`` reads it), or by
    the loop's tape."""
    after = block.ops[block.ops.index(op) + 1:]
    for later in after:
        if value in ir.used_values(later):
            return True
    if any(y is value for y in block.yields):
        return True
    return False


def accumulate_in_place(plan, op):
    """In a reverse loop, ``dW = dW + part`` becomes ``dW += part`` when dW started as
    zeros made for this loop alone (so no other value shares its array), and the arguments
    are NumPy arrays (``func.in_place_ok``: a Dask part cannot be added into a NumPy dW in
    place)."""
    n = op.attrs.get("accumulators", 0)
    if not n or not getattr(plan.func, "in_place_ok", True):
        return
    body = op.blocks[-1]
    for arg, init, y in zip(body.args[-n:], op.args[-n:], body.yields[-n:]):
        if not (isinstance(init, ir.Value) and init.op is not None and init.op.attrs.get("fresh")
                and plan.uses.get(init) == 1):
            continue
        # dW = ((dW + a) + b): each addition in place, all under dW's name
        chain, v = [], y
        while (isinstance(v, ir.Value) and v.op is not None and v.op.prim is P.add
               and plan.block_of.get(v.op) is body.ops and (v is y or plan.uses.get(v) == 1)):
            chain.append(v)
            v = v.op.args[0]
        if v is not arg or not chain or plan.names.get(y) != plan.names.get(arg):
            continue
        for link in chain:
            if link not in plan.names or plan.names[link] == plan.names[arg]:
                plan.names[link] = plan.names[arg]
                plan.in_place.add(link.op)


def write_slices(plan, op):
    """In a ``for`` loop whose counter t runs over distinct non-negative numbers, an accumulator
    (zeros made for this loop alone) whose only addition is the gradient of ``x[t]`` gets each
    slice once: ``dxs[t] = g`` (``put_slice``), not zeros scattered into and added. When the
    loop covers every row (known only at run time: ``range(len(xs))``), the zeros need not be
    made either (``empty_if_covered``)."""
    if op.prim is not ir.FOR or not op.attrs.get("accumulators"):
        return
    if getattr(plan.func, "namespace", None) is not None:
        return                  # (put_slice is NumPy's: namespace code scatters, rx.scatter_add)
    start, _, step = op.args[:3]
    if not (_int_const(start) and start.value >= 0 and _int_const(step) and step.value > 0):
        return
    n = op.attrs["accumulators"]
    body = op.blocks[-1]
    counter = body.args[0]
    for arg, init, y in zip(body.args[-n:], op.args[-n:], body.yields[-n:]):
        if not (isinstance(y, ir.Value) and y.op in plan.in_place and y.op.args[0] is arg):
            continue                        # (a chain of several additions: not once per slice)
        part = y.op.args[1]
        if not (isinstance(part, ir.Value) and part.op is not None and part.op.prim is P.getitem_grad_p
                and plan.uses.get(part) == 1 and plan.block_of.get(part.op) is body.ops
                and len(part.op.args) == 3 and part.op.args[2] is counter):
            continue
        plan.slice_writes.add(y.op)
        if init.op is not None and init.op.prim is P.zeros_like and part.op.args[1] is init.op.args[0]:
            plan.covered[init.op] = op.args[:3]


def _int_const(a):
    return isinstance(a, ir.Const) and type(a.value) is int


def plan_frees(plan):
    """({statement: the values last read there}, the final statement): each name is freed
    right after its last read (peak memory close to hand-written code), at the function's
    top level and in loop bodies, whose values live one iteration (branch values may be read
    by a later reverse branch, so branches keep theirs). Returning frees everything anyway."""
    frees = {}
    keep = {v for v in ir.leaves(plan.returns) if isinstance(v, ir.Value)}
    top = _block_frees(plan, plan.func.body.ops, keep, frees, final=True)
    for op in ir.walk(plan.func.body.ops):
        if op.prim in ir.STRUCTURED_LOOPS:
            body = op.blocks[-1]
            _block_frees(plan, body.ops, {y for y in body.yields if isinstance(y, ir.Value)}, frees, final=False)
    return frees, (top[-1] if top else None)


def _block_frees(plan, ops, keep, frees, final):
    """Add this block's frees to ``frees``; returns its statements."""
    kept_names = {plan.names[v] for v in keep if v in plan.names}   # (names values share)
    stmts = [op for op in ops if op.result not in plan.inline]
    defined = {r: op for op in stmts for r in op.results}
    last = {}
    for op in stmts:
        for v in plan.all_reads(op):
            if v in defined and v not in keep:
                last[v] = op
    for v, op in last.items():
        if op.prim is ir.TAPE_PUSH and not final:
            continue            # the tape holds it; the next iteration rebinds the name
        if plan.names.get(v) in kept_names:
            continue            # an accumulator's earlier link: its name is yielded
        if op is not defined[v] or v in plan.reads(op):
            frees.setdefault(op, []).append(v)
    return stmts


def _line(loc):
    return loc.key if loc is not None else None
