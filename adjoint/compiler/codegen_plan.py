"""The decisions codegen makes before printing: which temporaries fold into the expression
that uses them, which values share one Python name (loop variables), which loop
accumulators add in place, and after which statement each name can be freed.
"""
from . import ir
from . import rules as P
from .activity import loop_parts


class Plan:
    """Mixin for codegen's emitter: fills ``names``, ``inline``, ``in_place`` and ``frees``."""

    # -- decisions --------------------------------------------------------------------------
    def plan(self):
        """Count uses, pick temporaries to fold into expressions, give loop variables one name."""
        uses, user, self.block_of = {}, {}, {}
        self.yield_uses = {}
        all_ops = list(ir.walk(self.func.body.ops))
        self._index_blocks(self.func.body.ops)
        for op in all_ops:
            for v in op.values():
                uses[v] = uses.get(v, 0) + 1
                user[v] = op
            for block in op.blocks:
                for y in block.yields:
                    if isinstance(y, ir.Value):
                        self.yield_uses[y] = self.yield_uses.get(y, 0) + 1
            for v in ir.saved_values(op):
                uses[v] = uses.get(v, 0) + 2
            if op.prim is P.ipow:               # printed n times: never fold an expression in
                uses[op.args[0]] = uses.get(op.args[0], 0) + 2
        for v in _leaves(self.returns):
            if isinstance(v, ir.Value):
                uses[v] = uses.get(v, 0) + 2
        self.uses = uses
        # Names first: loop variables, results and yields that share one Python name.
        for p in self.func.params:
            self.names[p] = self.namer.fresh(p.name or "arg")
        self.in_place = set()
        for op in all_ops:
            if op.blocks:
                self._name_structured(op)
                self._in_place_accumulators(op)
        # Then fold temporaries into the expression that uses them, where that moves no read
        # past a write of the same name (not when checking: every value is checked on its own).
        for op in all_ops if not self.checks else ():
            if op.prim is ir.WHILE:
                cond = op.blocks[0].yields[0]
                if isinstance(cond, ir.Value) and cond.op is not None and cond.name is None \
                        and self.yield_uses.get(cond) == 1 and not uses.get(cond) and not cond.op.blocks:
                    self.inline[cond] = cond.op        # `while <condition>:`
            if op.blocks or len(op.results) != 1:
                continue
            v = op.result
            u = user.get(v)
            if (v.name is None and uses.get(v, 0) == 1 and v not in self.yield_uses and op.prim.pure
                    and u is not None and self.block_of[u] is self.block_of[op]
                    and (u in self.in_place and u.args[1] is v
                         or _line(u.loc) == _line(op.loc) and u.role == op.role)
                    and op.prim is not P.make_slice and self._safe_to_move(op, u)):
                self.inline[v] = op

    def _reads(self, op):
        """Values an op's expression reads, through the temporaries folded into it."""
        out = []
        for a in op.values():
            inner = self.inline.get(a)
            out.extend(self._reads(inner) if inner is not None else [a])
        return out

    def _safe_to_move(self, op, user):
        """Folding ``op`` into ``user`` evaluates it later: no statement in between may assign
        a name ``op`` reads (only shared names, from loop variables, can be assigned twice)."""
        read = {self.names[v] for v in self._reads(op) if v in self.names}
        if not read:
            return True
        ops = self.block_of[op]
        for between in ops[ops.index(op) + 1:ops.index(user)]:
            for written in ir.walk([between]):
                if any(self.names.get(r) in read for r in written.results):
                    return False
        return True

    def _index_blocks(self, ops):
        for op in ops:
            self.block_of[op] = ops
            for block in op.blocks:
                self._index_blocks(block.ops)

    def _name_structured(self, op):
        """Results, block arguments and (where safe) yielded values of a structured op share
        one Python name, so the generated loop reads like the user's."""
        if op.prim in (ir.IF, ir.CUSTOM):
            for k, r in enumerate(op.results):
                for block in op.blocks:
                    self._coalesce(block, block.yields[k], r, arg=None)
            return
        if not op.blocks:
            return
        body = op.blocks[-1]
        _, _, carried = loop_parts(op)
        if op.prim is ir.FOR and body.args[0] not in self.uses:
            self.names[body.args[0]] = "_"
        for arg, r, y in zip(carried, op.results, body.yields):
            self.names[arg] = self.name_of(r)
            self._coalesce(body, y, r, arg)

    def _in_place_accumulators(self, op):
        """In a reverse loop, ``dW = dW + part`` becomes ``dW += part`` when dW started as
        zeros made for this loop alone (so no other value shares its array), and the
        arguments are NumPy arrays (``func.in_place_ok``: a Dask part cannot be added into a
        NumPy dW in place)."""
        n = op.attrs.get("accumulators", 0)
        if not n or not getattr(self.func, "in_place_ok", True):     # (False for Dask arguments)
            return
        body = op.blocks[-1]
        for arg, init, y in zip(body.args[-n:], op.args[-n:], body.yields[-n:]):
            if not (isinstance(init, ir.Value) and init.op is not None and init.op.attrs.get("fresh")
                    and self.uses.get(init) == 1):
                continue
            if (isinstance(y, ir.Value) and y.op is not None and y.op.prim is P.add
                    and y.op.args[0] is arg and self.names.get(y) == self.names.get(arg)
                    and self.block_of.get(y.op) is body.ops):
                self.in_place.add(y.op)

    def _coalesce(self, block, y, result, arg):
        if not isinstance(y, ir.Value) or y in self.names or y in self.inline or y.op is None:
            return
        if self.block_of.get(y.op) is not block.ops or self.uses.get(y, 0) or self.yield_uses.get(y) != 1:
            return
        name = self.name_of(result)
        holders = [v for v, n in self.names.items() if n == name and v is not result]
        if arg is not None:
            holders.append(arg)
        # Writing `name` early must not clobber a value the rest of the block still reads.
        if any(self._used_after(block, y.op, v) for v in holders):
            return
        self.names[y] = name

    def _used_after(self, block, op, value):
        """Is ``value`` read after ``op``: by a later op, by the block's yields (they are a
        parallel copy: ``a, b = b, a * 2`` must not write ``b`` before ``a`` reads it), or by
        the loop's tape."""
        after = block.ops[block.ops.index(op) + 1:]
        for later in after:
            if value in ir.used_values(later):
                return True
        if any(y is value for y in block.yields):
            return True
        loop = _owner(self.func.body.ops, block)
        return loop is not None and value in ir.saved_values(loop)

    def plan_frees(self):
        """After which statement each name is read for the last time, so its array is freed
        at once (peak memory close to hand-written code): at the function's top level, and in
        loop bodies, whose values live one iteration (branch values may be read by a later
        reverse branch, so branches keep theirs)."""
        self.frees, self.no_free_after = {}, None
        keep = {v for v in _leaves(self.returns) if isinstance(v, ir.Value)}
        self._plan_block_frees(self.func.body.ops, keep, final=True)
        for op in ir.walk(self.func.body.ops):
            if op.prim in ir.STRUCTURED_LOOPS:
                body = op.blocks[-1]
                keep = {y for y in body.yields if isinstance(y, ir.Value)}
                keep.update(ir.saved_values(op))
                self._plan_block_frees(body.ops, keep, final=False)

    def _plan_block_frees(self, ops, keep, final):
        stmts = [op for op in ops if op.result not in self.inline]
        defined = {}
        for op in stmts:
            for r in op.results + [tape for tape, _ in ir.tapes(op)]:
                defined[r] = op
        last = {}
        for op in stmts:
            for v in self._all_reads(op):
                if v in defined and v not in keep:
                    last[v] = op
        if final and stmts:
            self.no_free_after = stmts[-1]      # returning frees everything anyway
        for v, op in last.items():
            if op is not defined[v] or v in self._reads(op):
                self.frees.setdefault(op, []).append(v)

    def _all_reads(self, op):
        """Every value a statement reads, at any depth, through folded temporaries."""
        out = []
        for inner in ir.walk([op]):
            vals = ir.used_values(inner) + ir.saved_values(inner) if inner.blocks else inner.values()
            if "pops" in inner.attrs and not inner.blocks:
                vals.append(inner.attrs["pops"])
            for v in vals:
                folded = self.inline.get(v)
                out.extend(self._all_reads(folded) if folded is not None else [v])
        return out


def _owner(ops, block):
    """The op that owns ``block`` (searched from ``ops``), or None."""
    for op in ir.walk(ops):
        if any(b is block for b in op.blocks):
            return op
    return None


def _line(loc):
    return loc.key if loc is not None else None


_leaves = ir.leaves
