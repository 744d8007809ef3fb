"""Forward mode (tangents) on the IR.

``jvp(func, wrt, seeded)`` returns a new Func that takes, after ``func``'s parameters, one
tangent per ``wrt`` value and returns ``func``'s outputs followed by the tangents of the
seeded outputs. Each op on an active path is followed by the ops computing its result's
tangent from its arguments' tangents: the primitive's jvp rule (ordinary Python, lowered like
user code), or the primitive itself on the tangents when it is ``linear``, the sum over its
arguments when it is ``multilinear``, or else the transpose of its vjp rule (a vjp rule is
linear in ``dout``; differentiating ``<vjp(dout), t>`` with respect to ``dout`` gives J t).
So the tangent code is made of primitives with rules too: reverse over forward and forward
over reverse (a Hessian-vector product is the jvp of a gradient's IR) both work.

Structured ops carry tangents next to their values: an ``if`` yields the tangents of what it
yields (zeros on a branch where a value has none), a loop carries the tangents of what it
carries, a tape push saves the tangents of what it saves (and its pops restore them). A Cell
with a ``bprop`` is differentiated through its ``construct`` (a bprop gives the vjp only).

    func f(%x):                          func f_jvp(%x, %x_dot):
      %1 = sin(%x)                         %1 = sin(%x)
      %y = mul(%1, %x)                     %2 = cos(%x)
      return %y                            %1_dot = mul(%x_dot, %2)
                                           %y = mul(%1, %x)
                                           %y_dot = add(mul(%1_dot, %x), mul(%1, %x_dot))
                                           return %y, %y_dot
"""
import inspect

from ..errors import SourceError
from . import ir
from . import rules as P
from .activity import Tapes, active_values, loop_parts
from .frontend import parse_function
from .ir import CUSTOM, FOR, IF, NEW_LIST, TAPE_LEN, TAPE_POP, TAPE_PUSH, WHILE
from .lowering import Context, Lowerer

ROLE = "tangent"


def jvp(func, wrt, seeded=None):
    """The tangent function of ``func`` with respect to the parameters ``wrt``."""
    from .reverse import _check_rules
    seeded = list(range(len(func.outputs))) if seeded is None else list(seeded)
    outputs = [func.outputs[i] for i in seeded]
    tapes = Tapes(func.body.ops)
    active = active_values(func.body.ops, wrt, outputs, tapes)
    _check_rules(func.body.ops, active)
    fw = _Forward(active, tapes)
    tangent_params = []
    for v in wrt:
        t = ir.Value(_dot_name(v), kind=v.kind)
        tangent_params.append(t)
        fw.pair(v, t)
    body = fw.block(func.body.ops)
    with fw.ctx.into(body):
        final = [fw.rn(o) for o in func.outputs]
        tangents = [fw.tangent_or_zeros(o, _last_loc(func)) for o in (final[i] for i in seeded)]
    result = ir.Func(func.name + "_jvp", list(func.params) + tangent_params, ir.Block(body),
                     final + tangents, func.output_tree)
    result.scalar_params = set(func.scalar_params) | {t for v, t in zip(wrt, tangent_params)
                                                      if v in func.scalar_params}
    result.shape_pairs = list(getattr(func, "shape_pairs", ())) + fw.shape_pairs
    return result


def _last_loc(func):
    for op in reversed(func.body.ops):
        if op.loc is not None:
            return op.loc
    return None


def _dot_name(v):
    """``x_dot`` for the tangent of ``x`` (``dx_dot`` for an adjoint's)."""
    if not isinstance(v, ir.Value):
        return None
    if v.name:
        return v.name + "_dot"
    if v.adjoint_of is not None and v.adjoint_of.name:
        return "d%s_dot" % v.adjoint_of.name
    return None


class _Forward:
    def __init__(self, active, tapes):
        self.ctx = Context()
        self.active, self.tapes = active, tapes
        self.T = {}                     # value -> its tangent (absent: zero)
        self.rename = {}                # a bprop Cell's results -> what its construct yields
        self.saved = {}                 # origin tape -> positions whose tangents are pushed too
        self.shape_pairs = []           # (tangent, value): the same shape (for SameShape)

    def pair(self, v, t):
        self.T[v] = t
        if isinstance(t, ir.Value):
            self.shape_pairs.append((t, v))

    def rn(self, a):
        while isinstance(a, ir.Value) and a in self.rename:
            a = self.rename[a]
        return a

    def tangent(self, a):
        a = self.rn(a)
        return self.T.get(a) if isinstance(a, ir.Value) else None

    def zeros(self, v, loc, fresh=False):
        """A zero tangent shaped like ``v`` (None stays None: a value that does not exist)."""
        if isinstance(v, ir.Const) and v.value is None:
            return v
        z = self.ctx.emit(P.zeros_like, [ir.operand(v)], loc, ROLE)
        if fresh:
            z.op.attrs["fresh"] = True      # a loop accumulator's: added into in place
        if isinstance(v, ir.Value):
            self.shape_pairs.append((z, v))
        return z

    def tangent_or_zeros(self, v, loc, fresh=False):
        v = self.rn(v)
        t = self.tangent(v)
        return t if t is not None else self.zeros(v, loc, fresh)

    # -- blocks ---------------------------------------------------------------------------------
    def block(self, ops):
        """The ops of a block with their tangents (a new list)."""
        with self.ctx.region() as out:
            for op in ops:
                self.op(op)
        return out

    def op(self, op):
        if self.rename:
            op.args = [self.rn(a) for a in op.args]
        prim = op.prim
        if prim is IF:
            return self.if_(op)
        if prim is FOR or prim is WHILE:
            return self.loop(op)
        if prim is CUSTOM:
            return self.custom(op)
        if prim is TAPE_PUSH:
            return self.push(op)
        if prim is TAPE_POP:
            return self.pop(op)
        self.ctx.ops.append(op)
        if prim in (NEW_LIST, TAPE_LEN) or op.result not in self.active:
            return
        t = self.rule(op)
        if isinstance(t, ir.Value):
            self.pair(op.result, t)
            if t.name is None and t.adjoint_of is None and t.op is not None and t.op.role == ROLE:
                t.name = _dot_name(op.result)

    def finish(self, block, extra):
        block.yields = [self.rn(y) for y in block.yields] + extra

    # -- structured ops -------------------------------------------------------------------------
    def if_(self, op):
        ks = [k for k, r in enumerate(op.results) if r in self.active]
        for block in op.blocks:
            block.ops = self.block(block.ops)
            with self.ctx.into(block.ops):
                extra = [self.tangent_or_zeros(block.yields[k], op.loc) for k in ks]
            self.finish(block, extra)
        for k in ks:
            t = ir.Value(_dot_name(op.results[k]))
            t.op = op
            op.results.append(t)
            self.pair(op.results[k], t)
        self.ctx.ops.append(op)

    def loop(self, op):
        """Carry a tangent next to each active carried value: regular ones first, then the
        loop's accumulators (a reverse loop's ``dW += part``), whose tangents accumulate too."""
        is_for = op.prim is FOR
        inits, body, carried = loop_parts(op)
        n = len(carried)
        n_acc = op.attrs.get("accumulators", 0)
        ks = [k for k in range(n) if carried[k] in self.active or op.results[k] in self.active]
        regular, accs = [k for k in ks if k < n - n_acc], [k for k in ks if k >= n - n_acc]
        t_inits = {k: self.tangent_or_zeros(inits[k], op.loc, fresh=k >= n - n_acc) for k in ks}
        t_args = {}
        for k in ks:
            t_args[k] = ir.Value(_dot_name(carried[k]), kind=carried[k].kind)
            self.pair(carried[k], t_args[k])
        for block in op.blocks[:-1]:                 # a while's condition
            block.ops = self.block(block.ops)
            block.yields = [self.rn(y) for y in block.yields]
        body.ops = self.block(body.ops)
        with self.ctx.into(body.ops):
            t_yields = {k: self.tangent_or_zeros(body.yields[k], op.loc) for k in ks}
        yields = [self.rn(y) for y in body.yields]
        t_res = {}
        for k in ks:
            t_res[k] = ir.Value(_dot_name(op.results[k]))
            t_res[k].op = op
            self.pair(op.results[k], t_res[k])
        cut = n - n_acc

        def order(items, tangents):
            return (items[:cut] + [tangents[k] for k in regular] + items[cut:] + [tangents[k] for k in accs])
        head = list(op.args[:3]) if is_for else []
        index = [body.args[0]] if is_for else []
        new_args = index + order(list(carried), t_args)
        op.args = head + order([self.rn(a) for a in inits], t_inits)
        for block in op.blocks:
            block.args = new_args
        body.yields = order(yields, t_yields)
        op.results = order(list(op.results), t_res)
        if n_acc:
            op.attrs["accumulators"] = n_acc + len(accs)
        self.ctx.ops.append(op)

    def custom(self, op):
        """A Cell with a bprop: forward mode goes through its construct, inlined here."""
        block = op.blocks[0]
        for inner in block.ops:
            self.op(inner)
        for r, y in zip(op.results, block.yields):
            self.rename[r] = self.rn(y)

    def push(self, op):
        """Save, next to each active value, its tangent (the pops of this tape restore them)."""
        origin = self.tapes.origin(op.args[0])
        values = [self.rn(a) for a in op.args[1:]]
        positions = [k for k, v in enumerate(values) if isinstance(v, ir.Value) and v in self.active]
        with self.ctx.into(self.ctx.ops):
            extra = [self.tangent_or_zeros(values[k], op.loc) for k in positions]
        self.saved[origin] = positions
        op.args = [op.args[0]] + values + extra
        self.ctx.ops.append(op)

    def pop(self, op):
        origin = self.tapes.origin(op.args[0])
        positions = self.saved.get(origin, [])
        self.ctx.ops.append(op)
        for k in positions:
            if k >= len(op.results):
                continue
            t = ir.Value(_dot_name(op.results[k]))
            t.op = op
            op.results.append(t)
            self.pair(op.results[k], t)

    # -- primitives -----------------------------------------------------------------------------
    def rule(self, op):
        """The tangent of ``op``'s result (None when it has none)."""
        from .reverse import _diff_targets
        prim = op.prim
        targets = _diff_targets(prim, op)
        tans = [self.tangent(a) if isinstance(a, ir.Value) and a in self.active else None for a in targets]
        if all(t is None for t in tans):
            return None
        start = len(self.ctx.ops)
        if prim.jvp_rule is not None:
            t = self.explicit(op, targets, tans)
        elif prim.linear:
            t = self.linear(op, tans)
        elif prim.multilinear:
            t = self.multilinear(op, tans)
        else:
            t = self.transposed(op, targets, tans)
        for new in ir.walk(self.ctx.ops[start:]):
            new.role = ROLE
        if t is None or isinstance(t, ir.Value):
            return t
        if isinstance(t, ir.Const) and t.value is None:
            return None
        return self.ctx.emit(P.mul, [ir.operand(t), self.ctx.emit(P.ones_like, [op.result], op.loc, ROLE)],
                             op.loc, ROLE)

    def _diff_positions(self, op):
        prim = op.prim
        params = prim.params
        var = [n for n in params if prim.signature.parameters[n].kind is inspect.Parameter.VAR_POSITIONAL]
        if var:
            k = params.index(var[0])
            n_var = len(op.args) - (len(params) - 1)
            where = {}
            for j, name in enumerate(params):
                where[name] = [j] if j < k else list(range(k, k + n_var)) if j == k else [j - 1 + n_var]
        else:
            where = {name: [j] for j, name in enumerate(params)}
        return [j for name in prim.diff for j in where[name]]

    def linear(self, op, tans):
        """A linear primitive: itself on the tangents (zeros for arguments without one)."""
        args = list(op.args)
        for j, t in zip(self._diff_positions(op), tans):
            if t is not None:
                args[j] = t
            elif isinstance(args[j], ir.Value):
                args[j] = self.zeros(args[j], op.loc)
            else:
                args[j] = ir.Const(0.0)
        return self.ctx.emit(op.prim, args, op.loc, ROLE, kwnames=op.kwnames)

    def multilinear(self, op, tans):
        """Linear in each argument alone: the sum, over the arguments with a tangent, of the
        primitive with that argument replaced by its tangent."""
        total = None
        for j, t in zip(self._diff_positions(op), tans):
            if t is None:
                continue
            args = list(op.args)
            args[j] = t
            part = self.ctx.emit(op.prim, args, op.loc, ROLE, kwnames=op.kwnames)
            total = part if total is None else self.ctx.emit(P.add, [total, part], op.loc, ROLE)
        return total

    def explicit(self, op, targets, tans):
        rule = op.prim.jvp_rule
        env = _bind_jvp(op.prim, rule, op, tans)
        return Lowerer(self.ctx, parse_function(rule), rule, env, loc_override=op.loc, role=ROLE).run()

    def transposed(self, op, targets, tans):
        """From the vjp rule, linear in dout: lowered with ``dout`` a stand-in shaped like the
        result, then differentiated with respect to it, seeded with the arguments' tangents."""
        from .reverse import Adjoints, ReverseContext, _bind_rule, reverse_ops
        prim = op.prim
        start = len(self.ctx.ops)
        u = self.ctx.emit(P.identity, [op.result], op.loc, ROLE)
        with self.ctx.region() as region:
            env = _bind_rule(prim, prim.rule, op, u)
            result = Lowerer(self.ctx, parse_function(prim.rule), prim.rule, env, loc_override=op.loc,
                             role=ROLE).run()
        if len(targets) == 1 and not any(prim.signature.parameters[n].kind is inspect.Parameter.VAR_POSITIONAL
                                         for n in prim.diff):
            grads = [result]
        elif isinstance(result, tuple):
            grads = list(result)
        else:
            raise SourceError("adjoint cannot make forward mode from the rule of `%s`" % prim.name, op.loc)
        self.ctx.ops.extend(region)
        rctx = ReverseContext(region)
        rctx.ops = self.ctx.ops
        seeds = [(g, t) for g, t in zip(grads, tans) if isinstance(g, ir.Value) and t is not None]
        active = active_values(region, [u], [g for g, _ in seeds], Tapes(region))
        adjoints = Adjoints(rctx)
        for g, t in seeds:
            if g in active:
                adjoints.add(g, t)
        reverse_ops(rctx, region, adjoints, active, in_loop=False)
        total = adjoints.total(u, op.loc)
        # u stands for a value shaped like the result: what still reads it (for its shape)
        # reads the result itself
        for new in ir.walk(self.ctx.ops[start:]):
            new.args = [op.result if a is u else a for a in new.args]
        return total


def _bind_jvp(prim, rule, op, tans):
    """The jvp rule's parameters: the op's arguments, ``out``, then a tangent per diff
    parameter (a tuple of them for a ``*`` one)."""
    from .reverse import bind_arguments
    names = list(inspect.signature(rule).parameters.values())
    k_out = [p.name for p in names].index("out")
    env = bind_arguments(names[:k_out], op)
    tangent_names = [p.name for p in names[k_out + 1:]]
    it = iter(tans)
    n_var = len(op.args) - (len(prim.params) - 1)
    for name in prim.diff:
        if prim.signature.parameters[name].kind is inspect.Parameter.VAR_POSITIONAL:
            env[tangent_names.pop(0)] = tuple(next(it) for _ in range(n_var))
        else:
            env[tangent_names.pop(0)] = next(it)
    return env
