"""Reverse-mode AD on the IR.

``differentiate(func, wrt, sens)`` returns a new Func that runs the forward ops, seeds the
output's adjoint (with ones, or with the ``sens`` argument), then walks the ops backwards and,
for each op on an active path, inlines its primitive's rule (ordinary Python in bprop form,
lowered like user code) to turn the adjoint of its result into adjoints of its arguments.
Adjoints of values used more than once are summed; inputs no gradient reaches get zeros.
"""
import inspect

from ..errors import SourceError, UnsupportedError
from . import ir
from .activity import Tapes, active_values
from .frontend import parse_function
from . import rules as P
from .lowering import Context, Lowerer
from .passes.shapes import SameShape


class ReverseContext(Context):
    """The IR builder of a reverse sweep, and what the reversal of loops shares: the forward
    ops, the tapes and their pushes, and for second derivatives the lists of adjoints of
    popped values (``dtapes``: origin tape -> (list, positions)) still to be made."""

    def __init__(self, forward_ops):
        super().__init__()
        self.forward_ops = forward_ops
        self.tapes = Tapes(forward_ops)
        self.dtapes = {}
        self.new_dtapes = []            # lists made before the outermost reverse loop
        self.loop_depth = 0             # reverse loops being built around the current op
        self._branch_values = None

    def branch_values(self):
        """{value: the conditions of the ``if``s whose branches define it} for the function
        being differentiated: such a value exists only when its branch ran."""
        if self._branch_values is None:
            found = self._branch_values = {}
            for o in ir.walk(self.forward_ops):
                if o.prim is ir.IF:
                    for b in o.blocks:
                        for inner in ir.walk(b.ops):
                            for r in inner.results:
                                found.setdefault(r, set()).add(o.args[0])
        return self._branch_values


class Adjoints:
    """The adjoint contributions collected so far for each Value."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.parts = {}

    def add(self, value, grad):
        self.parts.setdefault(value, []).append(grad)

    def total(self, value, loc, role="grad"):
        """The summed adjoint of ``value``, or None when nothing reached it."""
        parts = self.parts.pop(value, None)
        if not parts:
            return None
        if add_for(value) is P.add:     # (a list times 2 would be twice as long)
            parts = _merge_repeats(self.ctx, parts, loc, role)
        total = parts[0]
        for part in parts[1:]:
            total = self.ctx.emit(add_for(value), [ir.operand(total), ir.operand(part)], loc, role)
        _mark_adjoint(total, value)
        return total


def add_for(value):
    """The addition for gradients of ``value``: item by item for a run-time list."""
    return P.add_lists if isinstance(value, ir.Value) and value.kind == "list" else P.add


def _merge_repeats(ctx, parts, loc, role):
    """The same contribution k times (x * x gives two) is added once, times k."""
    counts = {}
    for p in parts:
        key = p if isinstance(p, ir.Value) else ("const", id(p))
        counts[key] = counts.get(key, 0) + 1
    if all(n == 1 for n in counts.values()):
        return parts
    merged, seen = [], set()
    for p in parts:
        key = p if isinstance(p, ir.Value) else ("const", id(p))
        if key in seen:
            continue
        seen.add(key)
        n = counts[key]
        merged.append(p if n == 1 else ctx.emit(P.mul, [ir.operand(p), ir.Const(n)], loc, role))
    return merged


def _variadic_diff(prim):
    return any(prim.signature.parameters[n].kind is inspect.Parameter.VAR_POSITIONAL for n in prim.diff)


def _mark_adjoint(grad, value):
    """Name ``grad`` after ``value`` (``dx``), unless it already has a name of its own."""
    if isinstance(grad, ir.Value) and grad.op is not None and grad.op.role == "grad" \
            and grad.name is None and grad.adjoint_of is None:
        grad.adjoint_of = value


def differentiate(func, wrt, sens=False, seeded=None):
    """The adjoint of ``func`` with respect to the parameters ``wrt`` (a list of Values).

    The result takes ``func``'s parameters (plus ``dout`` when ``sens``) and its outputs are
    the forward outputs followed by one gradient per ``wrt`` entry. ``seeded``: the indices of
    the outputs to differentiate (default: all, their gradients summed).
    """
    seeded = list(range(len(func.outputs))) if seeded is None else list(seeded)
    tuple_sens = len(seeded) > 1          # the sens is then a flat tuple, one per seeded output
    forward = list(func.body.ops)
    ctx = ReverseContext(forward)
    ctx.ops = func.body.ops                # reversal appends here (and puts tapes before loops)
    active = active_values(forward, wrt, [func.outputs[i] for i in seeded], ctx.tapes)
    _check_rules(ctx.ops, active)
    adjoints = Adjoints(ctx)
    params = list(func.params)

    seed_loc = _last_loc(func)
    shapes = SameShape(func)
    if sens:
        dout = ir.Value("sens")
        params.append(dout)
    for j, i in enumerate(seeded):
        out = func.outputs[i]
        if out not in active:
            continue
        if sens:
            seed = dout if not tuple_sens else _tuple_item(ctx, dout, j, seed_loc)
            seed = ctx.emit(P.check_sens, [seed, out, ir.Const(func.name)], seed_loc, "grad")
        elif shapes.is_scalar(out):
            seed = 1.0        # the output is a number: no ones array is needed
        else:
            seed = _ones_like(ctx, out, seed_loc)
        if isinstance(seed, ir.Value):
            seed.name = "dout" if len(seeded) == 1 else "dout%d" % i
        adjoints.add(out, seed)

    reverse_ops(ctx, forward, adjoints, active, in_loop=False, container=ctx.ops)

    grads = []
    for v in wrt:
        total = adjoints.total(v, seed_loc)
        if total is None:
            total = ctx.emit(P.zeros_like, [v], None, "grad")
        elif not isinstance(total, ir.Value):
            total = ctx.emit(P.mul, [ir.Const(total), _ones_like(ctx, v, seed_loc)], seed_loc, "grad")
        if isinstance(total, ir.Value) and total.op is not None and total.op.role == "grad" \
                and total.name in (None, "dout"):
            total.name, total.adjoint_of = None, v
        grads.append(total)

    result = ir.Func(func.name + "_grad", params, ir.Block(ctx.ops), list(func.outputs) + grads)
    result.scalar_params = set(func.scalar_params)
    return result


def reverse_ops(ctx, ops, adjoints, active, in_loop, container=None):
    """Append the reverse sweep of ``ops`` to ``ctx``: adjoints of results -> of arguments.
    ``container``: the list ``ops`` live in (a loop's tape is made there, before the loop)."""
    from .reverse_control import reverse_structured
    container = ops if container is None else container
    for op in reversed(list(ops)):
        if op.prim.rule_kind == "structured":
            reverse_structured(ctx, op, adjoints, active, in_loop, container)
            continue
        if op.result not in active:
            continue
        dresult = adjoints.total(op.result, op.loc)
        if dresult is None:
            continue
        _apply_rule(ctx, op, dresult, active, adjoints)


def _ones_like(ctx, v, loc):
    return ctx.emit(P.ones_like, [v], loc, "grad")


def _tuple_item(ctx, tup, i, loc):
    return ctx.emit(P.tuple_getitem, [tup, ir.Const(i)], loc, "grad")


def _last_loc(func):
    """Where the seed is charged: the line that computed the (first) output, else the last."""
    for out in func.outputs:
        if isinstance(out, ir.Value) and out.op is not None and out.op.loc is not None:
            return out.op.loc
    for op in reversed(func.body.ops):
        if op.loc is not None:
            return op.loc
    return None


def _check_rules(ops, active):
    """Every op a gradient must flow through needs a rule; report all that have none."""
    missing = []
    for op in ir.walk(ops):
        if op.prim.rule_kind == "structured":
            continue
        if op.result in active and not op.prim.differentiable:
            what = op.prim.name
            if op.prim.emit == "call":
                from .lowering.calls import callable_name
                what = callable_name(op.args[0].value)
            missing.append(SourceError(
                "adjoint has no derivative rule for `%s`, and a gradient flows through it here" % what,
                op.loc, hint="use an operation adjoint knows (see docs/ops.md), cut the path with "
                             "ops.stop_gradient, or put the computation in a Cell with a bprop method"))
    if len(missing) == 1:
        raise missing[0]
    if missing:
        raise UnsupportedError(missing)


def _apply_rule(ctx, op, dresult, active, adjoints):
    prim = op.prim
    rule = prim.rule
    src = parse_function(rule)
    env = _bind_rule(prim, rule, op, dresult)
    lowerer = Lowerer(ctx, src, rule, env, loc_override=op.loc, role="grad")
    result = lowerer.run()
    targets = _diff_targets(prim, op)
    if len(targets) == 1 and not _variadic_diff(prim):
        grads = [result]
    elif isinstance(result, tuple):
        grads = list(result)
    else:
        grads = [_tuple_item(ctx, result, i, op.loc) for i in range(len(targets))]
    for target, grad in zip(targets, grads):
        if isinstance(target, ir.Value) and target in active and grad is not None:
            adjoints.add(target, grad)


def _bind_rule(prim, rule, op, dresult):
    """The rule's parameters bound to the op's arguments (as abstract values), out and dout."""
    names = [p for p in inspect.signature(rule).parameters.values() if p.name not in ("out", "dout")]
    env = bind_arguments(names, op)
    env["dout"] = dresult
    return env


def bind_arguments(params, op):
    """A rule's parameters for the op's arguments (``params``: inspect.Parameters; a ``*`` one
    takes a tuple of them) bound to those arguments as abstract values, and ``out`` to its result."""
    args = [a if isinstance(a, ir.Value) else a.value for a in op.args]
    env, i = {}, 0
    for p in params:
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            n_after = len(params) - params.index(p) - 1
            env[p.name] = tuple(args[i:len(args) - n_after])
            i = len(args) - n_after
        else:
            env[p.name] = args[i]
            i += 1
    env["out"] = op.result
    return env


def _diff_targets(prim, op):
    """The op arguments that the rule returns gradients for, in order."""
    params = prim.params
    targets = []
    var = [n for n in params if prim.signature.parameters[n].kind is inspect.Parameter.VAR_POSITIONAL]
    if var:
        k = params.index(var[0])
        n_after = len(params) - k - 1
        n_var = len(op.args) - k - n_after
        positions = {}
        for j, name in enumerate(params):
            if j < k:
                positions[name] = [j]
            elif j == k:
                positions[name] = list(range(k, k + n_var))
            else:
                positions[name] = [j - 1 + n_var]
    else:
        positions = {name: [j] for j, name in enumerate(params)}
    for name in prim.diff:
        targets.extend(op.args[j] for j in positions[name])
    return targets
