"""Lowering of control flow into structured ops (if / for / while owning nested blocks).

* ``if`` on a value known when compiling lowers only the branch taken; on a Tensor it becomes
  an ``if`` op whose branches yield the variables they assign. When a branch returns, the
  function ends inside the ``if``: the other branch lowers everything that follows.
* ``for`` over ``range(...)`` becomes a ``for`` op carrying the variables the body reassigns;
  ``for`` over Python tuples, lists, ``enumerate``, ``zip`` or a ``CellList`` is unrolled (each
  iteration sees different Python objects), and so is a range loop whose body needs Python
  state a loop op cannot carry (``list.append``...), when its length is known.
* ``while`` on a Tensor condition becomes a ``while`` op; on a Python condition it is unrolled.
* ``break``, ``continue`` and ``return`` inside a loop, on any condition, are a loop *frame*:
  the loop carries a ``done`` flag (and a ``returned`` flag and the value to return); a jump
  under an ``if`` on a Tensor ends that branch's iteration, the other branch lowers the rest
  of the iteration, and the two yield the iteration's end state. An iteration that starts with
  ``done`` set does nothing; after the loop, ``if returned: return value``.
"""
import itertools

from ...errors import SourceError
from .. import gastutil, ir
from .. import rules as P
from ..ir import FOR, IF, WHILE
from ..hooks import is_array_object
from ..prims import is_literal
from ..trees import flatten
from .scan import appended_lists, assigned_names, breaks, changed_in_place, jumps

g = gastutil.nodes

MAX_UNROLL = 100000
# A constant range loop that appends to a Python list is unrolled up to this many iterations
# (then np.stack sees the items); longer, or of a length known only at run time, it stays a
# loop and the list is built as it runs.
MAX_UNROLLED_APPENDS = 32


class SymbolicRange:
    """``range(start, stop, step)`` where some bound is only known at run time."""

    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step


class _RunTimeTrips(Exception):
    """An unrolled while's trips depend on a Tensor (a break under an if on one)."""


class Fallback(Exception):
    """A loop body needs Python state a loop op cannot carry: unroll it instead."""


class _Uncarried(Fallback):
    """The body changed, in place through another name, variables the loop did not carry
    (``v = x; v[0] = e``): lower it again carrying them."""

    def __init__(self, names):
        super().__init__("`%s` changes in the loop without being assigned" % names[0])
        self.names = names


def _carrying_more(L, lower):
    """``lower(extra)`` a loop op, again with more carried names while the body changes
    uncarried ones in place (each try starts from the same state)."""
    extra = []
    while True:
        state = _save_state(L)
        try:
            with L.ctx.region() as ops:
                lower(list(extra))
            L.ctx.ops.extend(ops)
            return
        except _Uncarried as why:
            _restore_state(L, state)
            new = [n for n in why.names if n not in extra]
            if not new:
                raise
            extra += new


def _aliases(L, names):
    """The other names here for the values ``names`` hold: a change in place to one (``y[i] =
    v``) is seen through all, so a loop must carry them too."""
    values = [L.env[n] for n in names
              if isinstance(L.env.get(n), ir.Value) or is_array_object(L.env.get(n))]
    return [k for k, v in L.env.items()
            if k not in names and not k.startswith("$") and any(v is x for x in values)]


def _shared(L, name):
    """Whether the Python list ``name`` holds is also reachable another way (another name, a
    list or tuple holding it, a caller): appending to a copy built at run time would then
    leave those behind."""
    lst = L.env[name]
    lowerer = L
    while lowerer is not None:
        for key, v in lowerer.env.items():
            if lowerer is L and key == name:
                continue
            if v is lst or (isinstance(v, (list, tuple, dict)) and any(
                    item is lst for item in (v.values() if isinstance(v, dict) else v))):
                return True
        lowerer = lowerer.caller
    return False


_frame_ids = itertools.count(1)


class Frame:
    """A loop whose body jumps: the names its iterations carry, and the keys of its flags in
    the environment (``done`` after a break or return, ``ret`` and the value after a return)."""

    def __init__(self, names, breaks, returns, loop_op=False, has_break=True):
        n = next(_frame_ids)
        self.loop_op = loop_op
        self.has_break = has_break           # (without one, `done` means it returned)
        self.names = list(names)
        self.done = "$done%d" % n if breaks or returns else None
        self.ret = "$ret%d" % n if returns else None
        self.retval = "$retval%d" % n if returns else None
        self.retval_tree = None
        self.retval_args = None          # a loop op's block arguments carrying the value
        self.outer = []                  # the names defined before the loop

    def state(self):
        """The environment keys an iteration's end state is made of."""
        return self.names + [k for k in (self.done, self.ret, self.retval) if k is not None]

    def note_return(self, lowerer, node, value):
        leaves, tree = flatten(value)
        if self.retval_tree is None:
            self.retval_tree = tree
            if self.loop_op:             # carried from here on: paths that don't return pass it on
                self.retval_args = [ir.Value("retval") for _ in range(tree.n_leaves)]
        elif tree != self.retval_tree:
            raise lowerer.error(node, "the returns inside this loop give different structures",
                                hint="return tuples of the same length")

    def placeholder(self):
        """The value to return on paths that have not returned (never used)."""
        if self.retval_args is not None:
            return self.retval_tree.unflatten(self.retval_args)
        return self.retval_tree.unflatten([0.0] * self.retval_tree.n_leaves)


def yieldable(value):
    """Can a loop carry it, or a branch yield it? Values, numbers, arrays known now (inputs)."""
    return (isinstance(value, ir.Value) or is_array_object(value)
            or (is_literal(value) and not isinstance(value, (str, type))))


def lower_if(L, node):
    L.node_loc = node
    test = L.expr(node.test)
    if not isinstance(test, ir.Value):
        L.body(node.body if test else node.orelse)
        return
    then_s, else_s = list(node.body), list(node.orelse)
    L.branch(node, test, lambda sub: sub.body(then_s), lambda sub: sub.body(else_s),
             assigned_names(then_s + else_s))


def branch(L, node, test, lower_then, lower_else, names):
    """An if op on the Tensor ``test``; its branches yield the ``names`` they assign.

    When a branch returns from the function, the function ends inside this ``if``: the other
    branch goes on with everything that follows, and both yield the return value. Inside a
    loop frame, when a branch jumps (break, continue, return), the iteration ends inside it:
    the other branch goes on to the end of the iteration, and both yield its end state."""
    branches = [_branch(L, node, lower_then), _branch(L, node, lower_else)]
    if any(sub.returned for _, sub in branches):
        for ops, sub in branches:
            if not sub.returned:
                with L.ctx.into(ops):
                    _in_branch(L, node, sub, lambda sub: _finish(L, node, sub))
        (then_ops, a), (else_ops, b) = branches
        flat_a, tree = flatten(a.result)
        flat_b, tree_b = flatten(b.result)
        if tree != tree_b:
            raise L.error(node, "the branches of this `if` return different structures",
                          hint="return tuples of the same length from both branches")
        results = L.emit_if(node, test, then_ops, else_ops,
                            [(None, x, y) for x, y in zip(flat_a, flat_b)])
        L.result, L.returned = tree.unflatten(results), True
        return
    if L.frame is not None and any(sub.jump for _, sub in branches):
        for ops, sub in branches:
            if not sub.jump and sub.cont is not None:
                with L.ctx.into(ops):
                    _in_branch(L, node, sub, lambda sub: sub.cont.run(sub))
        _keep_changed_outside(L, branches)
        merge(L, node, test, branches, L.frame.state())
        L.jump = "end"               # this iteration's rest was lowered in the branches
        return
    # (names changed through another name, ``z = y; y[0] = v``, differ between branches too)
    names = list(names) + [k for k in L.env if k not in names and not k.startswith("$")
                           and any(sub.env.get(k, L.env[k]) is not L.env[k] for _, sub in branches)]
    merge(L, node, test, branches, names)


def _keep_changed_outside(L, branches):
    """Names from before the loop that a branch changed without assigning them (``v = x;
    v[i] = y`` changes ``x``) must be part of the iteration's end state: a loop op is lowered
    again carrying them, an unrolled loop's frame takes them on."""
    frame = L.frame
    state = frame.state()
    changed = [k for k in frame.outer if k in L.env and k not in state
               and any(sub.env.get(k, L.env[k]) is not L.env[k] for _, sub in branches)]
    if changed and frame.loop_op:
        raise _Uncarried(changed)
    frame.names += changed


def merge(L, node, test, branches, names):
    """Emit the if op: each name whose value differs between the branches gets a result,
    and so does each item of a Python list the branches changed differently."""
    (then_ops, a), (else_ops, b) = branches
    frame = L.frame
    pairs = []
    for lst, items_a, items_b in _changed_lists(a, b):
        # (after a `return` in a loop nothing reads the list again: the other path's stands)
        if a.leaving and not b.leaving:
            items_a = _dead_like(items_a, items_b)
        elif b.leaving and not a.leaving:
            items_b = _dead_like(items_b, items_a)
        if len(items_a) != len(items_b):
            raise L.error(node, "a Python list gets %d items in one branch of this `if` on a "
                          "Tensor and %d in the other" % (len(items_a), len(items_b)),
                          hint="append to the list in both branches, or after the if")
        lst[:] = items_a
        for k, (x, y) in enumerate(zip(items_a, items_b)):
            if x is not y:
                pairs.append(((lst, k), [x], [y], flatten(x)[1]))
    for name in names:
        va, vb = a.env.get(name, _MISSING), b.env.get(name, _MISSING)
        if frame is not None and name == frame.retval and (va is _MISSING) != (vb is _MISSING):
            va = frame.placeholder() if va is _MISSING else va      # (not returned there)
            vb = frame.placeholder() if vb is _MISSING else vb
        if va is _MISSING or vb is _MISSING:
            L.env.pop(name, None)       # defined on one path only
            continue
        if va is vb:
            L.env[name] = va
            continue
        flat_a, tree = flatten(va)
        flat_b, tree_b = flatten(vb)
        if tree != tree_b:
            raise L.error(node, "`%s` has a different structure in each branch" % name)
        pairs.append((name, flat_a, flat_b, tree))
    flat = [(name if isinstance(name, str) and not name.startswith("$") else None, x, y)
            for name, fa, fb, _ in pairs for x, y in zip(fa, fb)]
    # (two names for one array on both paths, ``z = y; y[0] = e``, stay one array after)
    first = {}
    for k, (_, x, y) in enumerate(flat):
        first.setdefault((id(x), id(y)), k)
    unique = sorted(set(first.values()))
    emitted = dict(zip(unique, L.emit_if(node, test, then_ops, else_ops, [flat[k] for k in unique])))
    results = [emitted[first[(id(x), id(y))]] for _, x, y in flat]
    i = 0
    for name, fa, fb, tree in pairs:
        value = tree.unflatten(results[i:i + len(fa)])
        if isinstance(name, tuple):
            name[0][name[1]] = value             # an item of a list
        else:
            L.env[name] = value
        i += len(fa)


def _branch(L, node, lower):
    """Lower one branch of an ``if`` on a Tensor into a fresh op list: (ops, its lowerer)."""
    sub = L.child(dict(L.env))
    sub.cont = L.cont
    with L.ctx.region() as ops:
        _in_branch(L, node, sub, lower)
    return ops, sub


def _in_branch(L, node, sub, lower):
    """Lower (part of) a branch; the Python lists it changes are put back as they were and
    their new items kept on ``sub.lists`` (merged with the other branch's afterwards)."""
    snapshot = _list_snapshot(L.env)
    for lst, items in snapshot:                 # resume from what this branch did so far
        if id(lst) in sub.lists:
            lst[:] = sub.lists[id(lst)][1]
    try:
        lower(sub)
    finally:
        for lst, items in snapshot:
            if len(lst) != len(items) or any(a is not b for a, b in zip(lst, items)):
                sub.lists[id(lst)] = (lst, list(lst))
            lst[:] = items


def _finish(L, node, sub):
    """Lower, on ``sub``, everything that follows the statement being lowered now."""
    if sub.cont is not None:
        sub.cont.run(sub)
    if not sub.returned:
        raise L.error(node, "the function returns inside this `if` on a Tensor, but "
                      "on the other path it reaches its end without `return`",
                      hint="return a value on every path")


def emit_if(L, node, test, then_ops, else_ops, triples):
    """An if op yielding, per (variable name or None, then value, else value), one result."""
    for name, x, y in triples:
        for v in (x, y):
            if not yieldable(v):
                raise L.error(node, "%s is a %s in a branch of an `if` on a Tensor; only "
                              "Tensors and numbers can differ between branches"
                              % ("`%s`" % name if name else "the result", type(v).__name__))
    then_b = ir.Block(then_ops, [], [L.operand(x, node) for _, x, _ in triples])
    else_b = ir.Block(else_ops, [], [L.operand(y, node) for _, _, y in triples])
    results = [ir.Value(name, kind=_same_kind(x, y))
               for (name, _, _), x, y in zip(triples, then_b.yields, else_b.yields)]
    L.ctx.ops.append(ir.Op(IF, [test], None, L.loc(node), L.role,
                           blocks=[then_b, else_b], results=results))
    L.ctx.share(results, then_b.yields + else_b.yields)
    return results


def break_(L, node):
    L.env[L.frame.done] = True
    L.jump = "break"


def continue_(L, node):
    L.jump = "continue"


def do_return(L, node, value):
    """``return value``: from the function, or, inside a loop frame, set its flags."""
    frame = L.frame
    if frame is None:
        L.result, L.returned = value, True
        return
    frame.note_return(L, node, value)
    L.env[frame.done] = L.env[frame.ret] = True
    L.env[frame.retval] = value
    L.jump = "return"
    L.leaving = True


def _open_frame(L, node, names, loop_op=False):
    """A Frame for the loop ``node`` when its body jumps (else None)."""
    own, ret = jumps(node.body)
    if not (own or ret):
        return None
    frame = Frame(names, own, ret, loop_op, has_break=breaks(node.body))
    frame.outer = [k for k in L.env if not k.startswith("$")]
    return frame


def _close_frame(L, node, frame, done, ret, retval):
    """After a loop frame: drop its flags; ``if returned: return value``."""
    for key in (frame.done, frame.ret, frame.retval):
        L.env.pop(key, None)
    if frame.ret is None or ret is False:
        return
    if ret is True:
        return L.do_return(node, retval)
    L.branch(node, ret, lambda sub: sub.do_return(node, retval), lambda sub: None, [])


def _skip_when_done(L, node, frame, lower):
    """Lower one iteration; when the frame's ``done`` is set at run time, it does nothing."""
    done = L.env.get(frame.done, False) if frame is not None and frame.done else False
    if not isinstance(done, ir.Value):
        lower(L)
        L.jump = None
        return
    L.branch(node, done, lambda sub: setattr(sub, "leaving", not frame.has_break),
             lambda sub: (lower(sub), setattr(sub, "jump", None)), frame.state())


def for_(L, node):
    if node.orelse:
        raise L.error(node, "`for ... else` is not supported", hint="use a flag variable")
    iterable = L.expr(node.iter)
    rows = None
    if isinstance(iterable, ir.Value):      # for row in x: over its first axis (or a run-time list)
        rows = iterable
        if rows.kind == "list":
            length = L.call_prim(P.list_len, [rows], {}, node)
        else:
            length = L.call_prim(P.getitem, [L.call_prim(P.shape, [rows], {}, node), 0], {}, node)
        iterable = SymbolicRange(0, length, 1)
    if isinstance(iterable, (range, SymbolicRange)) and (isinstance(node.target, g.Name) or rows is not None):
        fallback = None
        state = _save_state(L)
        try:
            with L.ctx.region() as ops:
                _carrying_more(L, lambda extra: loop_op(L, node, iterable, rows, extra))
            L.ctx.ops.extend(ops)
            return
        except Fallback as why:
            fallback = why
            _restore_state(L, state)
        except SourceError:
            # e.g. L.layers[i]: fine once i is known. Unrolling reports real errors again.
            if isinstance(iterable, SymbolicRange):
                raise
            _restore_state(L, state)
        if fallback is not None and isinstance(iterable, SymbolicRange):
            raise L.error(node, "this loop over a range known only at run time needs "
                          "Python state a loop can't carry (%s)" % fallback,
                          hint="loop over a constant range, or carry only Tensors and numbers")
    if isinstance(iterable, SymbolicRange):
        raise L.error(node, "unpacking the index of a run-time range is not supported")
    unroll(L, node, iterable)


def _save_state(L):
    """What lowering a statement may change here, to try one way and then another."""
    return (dict(L.env), _list_snapshot(L.env), L.jump, L.returned, L.result,
            dict(L.loop_locals))


def _restore_state(L, state):
    env, lists, L.jump, L.returned, L.result, loop_locals = state
    L.env.clear()
    L.env.update(env)
    _restore_lists(lists)
    L.loop_locals.clear()
    L.loop_locals.update(loop_locals)


def unroll(L, node, iterable):
    """Lower the body once per item (the loop's Python objects differ per iteration)."""
    items = []
    for item in iterable:
        items.append(item)
        if len(items) > MAX_UNROLL:
            raise L.error(node, "loop runs more than %d times while compiling" % MAX_UNROLL)
    items = L.ctx.read_items(iterable, items)
    if not any(isinstance(item, (ir.Value, list, tuple)) for item in items):
        _unrolled(L, node, iter(items), lambda item: L.assign(node.target, item))
        return
    # The items wait where an in-place change to one (``v[0] = e`` while iterating over
    # ``(y, v)``) updates them, as Python's iterator would see it.
    key = "$items%d" % next(_frame_ids)
    L.env[key] = list(items)
    try:
        _unrolled(L, node, iter(range(len(items))), lambda k: L.assign(node.target, L.env[key][k]))
    finally:
        L.env.pop(key, None)


def unroll_while(L, node, test):
    def tests():
        count, value = 0, test
        while value:
            yield None
            count += 1
            if count > MAX_UNROLL:
                raise L.error(node, "loop runs more than %d times while compiling" % MAX_UNROLL)
            frame = L.frame
            if frame is not None and frame.done and isinstance(L.env.get(frame.done), ir.Value):
                raise _RunTimeTrips()
            value = L.expr(node.test)
            if isinstance(value, ir.Value):
                raise L.error(node, "this loop's condition became a Tensor value after %d "
                              "iteration(s)" % count,
                              hint="use a Tensor condition from the start, or a Python counter")
    _unrolled(L, node, tests(), lambda item: None)


def _unrolled(L, node, items, start):
    """The iterations of an unrolled loop, on this lowerer's own environment."""
    outer_frame, outer_cont = L.frame, L.cont
    frame = L.frame = _open_frame(L, node, assigned_names(node.body))
    L.cont = None                            # an iteration ends with the loop body
    try:
        if frame is not None and frame.done:
            L.env[frame.done] = False
        if frame is not None and frame.ret:
            L.env[frame.ret] = False
        for item in items:
            if frame is not None and frame.done and L.env[frame.done] is True:
                break
            start(item)
            _skip_when_done(L, node, frame, lambda sub: sub.body(node.body))
    finally:
        L.frame, L.cont = outer_frame, outer_cont
    if frame is not None:
        done, ret = L.env.get(frame.done), L.env.get(frame.ret)
        retval = L.env.get(frame.retval)
        _close_frame(L, node, frame, done, ret, retval)


def loop_op(L, node, rng, rows=None, extra=()):
    """A ``for`` op over ``rng`` (or, with ``rows``, over the first axis of that array);
    raises Fallback when the body needs unrolling."""
    targets = assigned_names([g.Assign(targets=[node.target], value=node.iter, type_comment=None)])
    names = [n for n in assigned_names(node.body) if n not in targets]
    carried = [n for n in names if n in L.env]
    changed = changed_in_place(node.body)
    carried += [n for n in list(_aliases(L, changed)) + list(extra) if n not in carried]
    if rows is not None:
        for n in changed:
            if isinstance(L.env.get(n), ir.Value) and L.ctx.roots(L.env[n]) & L.ctx.roots(rows):
                raise L.error(node, "this loop changes `%s` in place while it goes through "
                              "its items" % n, hint="loop over a copy, or over range(len(...))")
    if isinstance(rng, SymbolicRange) or len(rng) > MAX_UNROLLED_APPENDS:
        _build_lists_at_run_time(L, node, carried, targets)
    frame = _open_frame(L, node, carried, loop_op=True)
    inits, args, sub = _loop_start(L, node, carried, frame)
    index = ir.Value(node.target.id if rows is None else None)

    def iteration(s):
        if rows is not None:
            item = P.list_getitem if rows.kind == "list" else P.getitem
            s.assign(node.target, s.call_prim(item, [rows, index], {}, node))
        s.body(node.body)
    if rows is None:
        sub.env[node.target.id] = index
    ops, yields = _loop_body(L, node, sub, carried, frame,
                             lambda s: _skip_when_done(s, node, frame, iteration))
    bounds = [L.operand(b, node) for b in (rng.start, rng.stop, rng.step)]
    body = ir.Block(ops, [index] + args, yields)
    _loop_end(L, node, FOR, bounds + inits, [body], carried, frame, [body])
    for n in names:
        if n not in carried:
            L.loop_locals[n] = L.loc(node)


def _build_lists_at_run_time(L, node, carried, targets=()):
    """The Python lists the loop body appends to become lists built at run time (make_list),
    carried by the loop; not when the list is also reachable another way."""
    for n in appended_lists(node.body):
        if isinstance(L.env.get(n), list) and n not in targets and not _shared(L, n):
            L.env[n] = L.call_prim(P.make_list, list(L.env[n]), {}, node)
            L.env[n].name = n
            if n not in carried:
                carried.append(n)


def _loop_start(L, node, carried, frame):
    """Initial values and block arguments of the carried variables (and the frame's flags),
    and the body's lowerer."""
    inits = []
    for n in carried:
        value = L.env[n]
        if not yieldable(value):
            raise Fallback("`%s` is a %s" % (n, type(value).__name__))
        # (an array known now, np.zeros(3), enters as an input named after the variable)
        inits.append(L.ctx.input_for(value, n) if is_array_object(value) else L.operand(value, node))
    args = [ir.Value(n, kind=getattr(i, "kind", None)) for n, i in zip(carried, inits)]
    env = dict(L.env)
    env.update(zip(carried, args))
    shared = {}
    changed = changed_in_place(node.body)
    for n in carried:       # two names for one array the body changes in place stay one in it
        first = next(m for m in carried if L.env[m] is L.env[n])
        if first != n and (isinstance(L.env[n], ir.Value) or is_array_object(L.env[n])) \
                and any(L.env.get(m) is L.env[n] for m in changed):
            env[n] = env[first]
            shared[n] = first
    for key in (frame.done, frame.ret) if frame is not None else ():
        if key is not None:
            inits.append(ir.Const(False))
            args.append(ir.Value(_flag_name(key)))
            env[key] = args[-1]
    L.ctx.share(args, inits)        # (what one iteration leaves may view what another made)
    sub = L.child(env)
    sub.frame, sub.cont = frame, None
    sub.shared_names = shared
    return inits, args, sub


def _loop_body(L, node, sub, carried, frame, lower):
    """Lower the body into a block; its yields are the carried variables' new values."""
    snapshot = _list_snapshot(L.env)
    with L.ctx.region() as ops:
        try:
            lower(sub)
        finally:
            changed = _restore_lists(snapshot)
    if changed:
        raise Fallback("a Python list changes in the loop")
    uncarried = [key for key, value in sub.env.items()
                 if key in L.env and key not in carried and not key.startswith("$")
                 and value is not L.env[key] and isinstance(L.env[key], ir.Value)]
    if uncarried:
        raise _Uncarried(uncarried)
    yields = [_yield(L, node, sub, n) for n in carried]
    for n, first in sub.shared_names.items():
        if yields[carried.index(n)] is not yields[carried.index(first)]:
            raise Fallback("`%s` and `%s` are one array when the loop starts but not when an "
                           "iteration ends" % (n, first))
    if frame is None:
        return ops, yields
    for key in (frame.done, frame.ret):
        if key is not None:
            yields.append(_yield(L, node, sub, key))
    if frame.retval_tree is not None:       # the value to return, carried from its return
        value = sub.env.get(frame.retval, _MISSING)
        leaves = flatten(value)[0] if value is not _MISSING else None
        for k, arg in enumerate(frame.retval_args):
            leaf = leaves[k] if leaves is not None else arg
            yields.append(L.operand(leaf, node) if yieldable(leaf) else _bad_yield(L, node, "the returned value", leaf))
    return ops, yields


def _yield(L, node, sub, name):
    value = sub.env.get(name)
    if not yieldable(value):
        raise Fallback("`%s` becomes a %s" % (name.lstrip("$"), type(value).__name__))
    return L.operand(value, node)


def _bad_yield(L, node, what, value):
    raise Fallback("%s is a %s" % (what, type(value).__name__))


def _loop_end(L, node, prim, args, blocks, carried, frame, arg_blocks, only_by_return=False):
    """The loop op; its results become the carried variables (and, after a frame, the
    flags: ``if returned: return value``)."""
    if frame is not None and frame.retval_args:
        args = args + [ir.Const(0.0)] * len(frame.retval_args)   # (never returned)
        for block in arg_blocks:
            block.args.extend(frame.retval_args)
    n_flags = len(args) - (3 if prim is FOR else 0) - len(carried)
    flag_names = [_flag_name(k) for k in (frame.done, frame.ret) if k is not None] if frame else []
    flag_names += ["retval"] * (n_flags - len(flag_names))
    body = blocks[-1]
    results = [ir.Value(n) for n in carried + flag_names]
    for k, (arg, r) in enumerate(zip(body.args[-len(body.yields):] if body.yields else [], results)):
        kind = _same_kind(arg, body.yields[k])
        arg.kind = r.kind = kind            # (what the loop carries keeps one kind, or none)
    L.ctx.ops.append(ir.Op(prim, args, None, L.loc(node), L.role, blocks=blocks,
                           results=results))
    L.ctx.share(results, list(args) + list(body.args) + list(body.yields))
    for n, r in zip(carried, results):
        L.env[n] = r
    if frame is None:
        return
    flags = iter(results[len(carried):])
    done = next(flags) if frame.done else None
    ret = next(flags) if frame.ret else False
    retval = frame.retval_tree.unflatten(list(flags)) if frame.retval_args else None
    if only_by_return and frame.retval_args:
        ret = True                      # `while True` without break: it ends by returning
    _close_frame(L, node, frame, done, ret if frame.retval_args else False, retval)


def while_(L, node):
    if node.orelse:
        raise L.error(node, "`while ... else` is not supported", hint="use a flag variable")
    with L.ctx.region() as probe:
        test = L.expr(node.test)
    if not isinstance(test, ir.Value):
        L.ctx.ops.extend(probe)
        state = _save_state(L)
        try:
            with L.ctx.region() as ops:
                unroll_while(L, node, test)
            L.ctx.ops.extend(ops)
            return
        except _RunTimeTrips:
            # A jump on a Tensor decides when the loop ends: not known while compiling, so
            # it is a while op after all (its Python counters carried as values).
            _restore_state(L, state)
            unrolling_failed = None
        except SourceError as error:
            # (e.g. a list appended on one path of a jump on a Tensor: unrolled, the lists
            # differ; as a while op, built at run time, they do not)
            if not jumps(node.body)[0] and not jumps(node.body)[1]:
                raise
            _restore_state(L, state)
            unrolling_failed = error
        try:
            forever = isinstance(node.test, g.Constant) and node.test.value is True
            return _carrying_more(L, lambda extra: while_op(L, node, forever, extra))
        except (Fallback, SourceError) as why:
            if unrolling_failed is not None:
                raise unrolling_failed from None
            if isinstance(why, SourceError):
                raise
            raise L.error(node, "this `while` needs Python state a loop can't carry (%s)" % why,
                          hint="carry only Tensors and numbers through the loop") from None
    try:
        return _carrying_more(L, lambda extra: while_op(L, node, extra=extra))
    except Fallback as why:
        raise L.error(node, "this `while` on a Tensor needs Python state a loop can't carry (%s)"
                      % why, hint="carry only Tensors and numbers through the loop") from None


def while_op(L, node, forever=False, extra=()):
    """A while op; ``forever``: its condition is always true (it ends by break or return)."""
    carried = [n for n in assigned_names(node.body) if n in L.env]
    carried += [n for n in list(_aliases(L, changed_in_place(node.body))) + list(extra)
                if n not in carried]
    _build_lists_at_run_time(L, node, carried)
    frame = _open_frame(L, node, carried, loop_op=True)
    inits, args, sub = _loop_start(L, node, carried, frame)
    with L.ctx.region() as cond_ops:
        done = sub.env.get(frame.done) if frame is not None and frame.done else None
        if done is None:
            cond = sub.expr(node.test)
        else:                               # not after a break: `not done and test`
            with L.ctx.region() as probe:
                test = sub.expr(node.test)
            if not probe and not isinstance(test, ir.Value):
                cond = sub.call_prim(P.logical_not, [done], {}, node) if test else False
            else:
                cond = sub.select(node, done, lambda s: False, lambda s: s.expr(node.test))
    ops, yields = _loop_body(L, node, sub, carried, frame,
                             lambda s: (s.body(node.body), setattr(s, "jump", None)))
    blocks = [ir.Block(cond_ops, args, [L.operand(cond, node)]), ir.Block(ops, args, yields)]
    only_by_return = forever and frame is not None and not breaks(node.body)
    _loop_end(L, node, WHILE, inits, blocks, carried, frame, blocks, only_by_return)


def select(L, node, test, then_value, else_value):
    """``then_value() if test else else_value()`` on a Tensor ``test``: one result."""
    values = []
    for lower in (then_value, else_value):
        sub = L.child(L.env)
        with L.ctx.region() as ops:
            values.append((ops, lower(sub)))
    (then_ops, a), (else_ops, b) = values
    return L.emit_if(node, test, then_ops, else_ops, [(None, a, b)])[0]



class Continuation:
    """What follows a statement up to the end of the function (or of the loop iteration): the
    rest of its statement list, then ``then`` (the enclosing statement list's rest)."""

    def __init__(self, stmts, then):
        self.stmts, self.then = stmts, then

    def run(self, lowerer):
        if not lowerer.jump:
            saved, lowerer.cont = lowerer.cont, self.then
            try:
                lowerer.body(self.stmts)
            finally:
                lowerer.cont = saved
        if not lowerer.returned and not lowerer.jump and self.then is not None:
            self.then.run(lowerer)


def _same_kind(a, b):
    ka, kb = ir.join_kinds([a]), ir.join_kinds([b])
    return ka if ka == kb else None


def _flag_name(key):
    """'$done3' -> 'done', '$ret3' -> 'returned': what generated code calls a frame's flags."""
    base = key[1:].rstrip("0123456789")
    return {"ret": "returned"}.get(base, base)


_MISSING = object()


def _changed_lists(a, b):
    """(list, its items after branch a, after branch b) for each list a branch changed."""
    out = []
    for key in list(a.lists) + [k for k in b.lists if k not in a.lists]:
        lst = (a.lists.get(key) or b.lists.get(key))[0]
        out.append((lst, a.lists.get(key, (lst, list(lst)))[1], b.lists.get(key, (lst, list(lst)))[1]))
    return out


def _dead_like(dead, live):
    """Items for a path whose list is never read again, shaped like ``live``'s: the items it
    shares, zeros for the rest (the branches must yield something)."""
    out = []
    for k, item in enumerate(live):
        if k < len(dead) and dead[k] is item:
            out.append(item)
        else:
            leaves, tree = flatten(item)
            out.append(tree.unflatten([0.0] * len(leaves)))
    return out


def _list_snapshot(env):
    return [(v, list(v)) for v in env.values() if isinstance(v, list)]


def _restore_lists(snapshot):
    """Put lists back as they were; say whether any had changed."""
    changed = False
    for lst, items in snapshot:
        if len(lst) != len(items) or any(a is not b for a, b in zip(lst, items)):
            changed = True
            lst[:] = items
    return changed
