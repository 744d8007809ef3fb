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

from ..errors import SourceError
from . import gastutil, ir
from .prims import is_literal
from .trees import flatten

g = gastutil.nodes

from .ir import CUSTOM, FOR, IF, WHILE

MAX_UNROLL = 100000


class SymbolicRange:
    """``range(start, stop, step)`` where some bound is only known at run time."""

    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step


def _P():
    from . import rules
    return rules


class _RunTimeTrips(Exception):
    """An unrolled while's trips depend on a Tensor (a break under an if on one)."""


class Fallback(Exception):
    """A loop body needs Python state a loop op cannot carry: unroll it instead."""


def assigned_names(stmts):
    """Names the statements assign, in order of first assignment (nested defs excluded)."""
    out = []

    def add(target):
        for node in g.walk(target):
            if isinstance(node, g.Name) and isinstance(node.ctx, g.Store) and node.id not in out:
                out.append(node.id)

    def visit(node):
        if isinstance(node, (g.FunctionDef, g.Lambda, g.ClassDef)):
            if isinstance(node, (g.FunctionDef, g.ClassDef)) and node.name not in out:
                out.append(node.name)
            return
        if isinstance(node, g.Assign):
            for t in node.targets:
                add(t)
        elif isinstance(node, (g.AugAssign, g.AnnAssign)):
            add(node.target)
        elif isinstance(node, g.For):
            add(node.target)
        for child in g.iter_child_nodes(node):
            visit(child)

    for s in stmts:
        visit(s)
    return out


def jumps(stmts):
    """(break or continue of this loop, return) in a loop body: nested loops' own break and
    continue don't count, their returns do; nested functions don't."""
    own, ret, _ = _jumps(stmts)
    return own, ret


def breaks(stmts):
    """Does a ``break`` of this loop (not of a nested one) appear in the body?"""
    return _jumps(stmts)[2]


def _jumps(stmts):
    own, ret, brk = False, False, False
    todo = [(s, True) for s in stmts]
    while todo:
        node, this_loop = todo.pop()
        if isinstance(node, (g.FunctionDef, g.Lambda, g.ClassDef)):
            continue
        if isinstance(node, (g.Break, g.Continue)) and this_loop:
            own = True
            brk = brk or isinstance(node, g.Break)
        elif isinstance(node, g.Return):
            ret = True
        inner = this_loop and not isinstance(node, (g.For, g.While))
        todo.extend((c, inner) for c in g.iter_child_nodes(node))
    return own, ret, brk


_frame_ids = itertools.count(1)


class Frame:
    """A loop whose body jumps: the names its iterations carry, and the keys of its flags in
    the environment (``done`` after a break or return, ``ret`` and the value after a return)."""

    def __init__(self, names, breaks, returns, loop_op=False):
        n = next(_frame_ids)
        self.loop_op = loop_op
        self.names = list(names)
        self.done = "$done%d" % n if breaks or returns else None
        self.ret = "$ret%d" % n if returns else None
        self.retval = "$retval%d" % n if returns else None
        self.retval_tree = None
        self.retval_args = None          # a loop op's block arguments carrying the value

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
    return isinstance(value, ir.Value) or (is_literal(value) and not isinstance(value, (str, type)))


class ControlFlow:
    """Mixin for the Lowerer: statements that steer control."""

    jump = None                 # 'break' / 'continue' / 'return' / 'end': the iteration is over
    cont = None                 # what follows the statement being lowered (a Continuation)
    frame = None                # the innermost loop whose body jumps

    def child(self, env):
        sub = type(self)(self.ctx, self.src, self.fn, env, self.loc_override, self.role)
        sub.frame, sub.caller = self.frame, self.caller
        sub.lists = {}              # id -> (list, its items) for lists this branch changed
        return sub

    def body(self, stmts):
        """Lower statements in order. While one is lowered, ``self.cont`` is what follows it to
        the end of the function or of the loop iteration (the rest of this list, then the
        enclosing code's rest), so an ``if`` on a Tensor whose branch returns or jumps can lower
        all of it in the other branch."""
        outer = self.cont
        try:
            for k, stmt in enumerate(stmts):
                if self.returned or self.jump:
                    return
                self.cont = Continuation(stmts[k + 1:], outer)
                if isinstance(stmt, g.If):
                    self.lower_if(stmt)
                else:
                    self.stmt(stmt)
        finally:
            self.cont = outer

    # -- if ---------------------------------------------------------------------------------
    def stmt_If(self, node):
        self.lower_if(node)

    def lower_if(self, node):
        self.node_loc = node
        test = self.expr(node.test)
        if not isinstance(test, ir.Value):
            self.body(node.body if test else node.orelse)
            return
        then_s, else_s = list(node.body), list(node.orelse)
        self.branch(node, test, lambda sub: sub.body(then_s), lambda sub: sub.body(else_s),
                    assigned_names(then_s + else_s))

    def branch(self, node, test, lower_then, lower_else, names):
        """An if op on the Tensor ``test``; its branches yield the ``names`` they assign.

        When a branch returns from the function, the function ends inside this ``if``: the other
        branch goes on with everything that follows, and both yield the return value. Inside a
        loop frame, when a branch jumps (break, continue, return), the iteration ends inside it:
        the other branch goes on to the end of the iteration, and both yield its end state."""
        branches = [self._branch(node, lower_then), self._branch(node, lower_else)]
        if any(sub.returned for _, sub in branches):
            for ops, sub in branches:
                if not sub.returned:
                    with self.ctx.into(ops):
                        self._in_branch(node, sub, lambda sub: self._finish(node, sub))
            (then_ops, a), (else_ops, b) = branches
            flat_a, tree = flatten(a.result)
            flat_b, tree_b = flatten(b.result)
            if tree != tree_b:
                raise self.error(node, "the branches of this `if` return different structures",
                                 hint="return tuples of the same length from both branches")
            results = self.emit_if(node, test, then_ops, else_ops,
                                   [(None, x, y) for x, y in zip(flat_a, flat_b)])
            self.result, self.returned = tree.unflatten(results), True
            return
        if self.frame is not None and any(sub.jump for _, sub in branches):
            for ops, sub in branches:
                if not sub.jump and sub.cont is not None:
                    with self.ctx.into(ops):
                        self._in_branch(node, sub, lambda sub: sub.cont.run(sub))
            self.merge(node, test, branches, self.frame.state())
            self.jump = "end"               # this iteration's rest was lowered in the branches
            return
        self.merge(node, test, branches, names)

    def merge(self, node, test, branches, names):
        """Emit the if op: each name whose value differs between the branches gets a result,
        and so does each item of a Python list the branches changed differently."""
        (then_ops, a), (else_ops, b) = branches
        frame = self.frame
        pairs = []
        for lst, items_a, items_b in _changed_lists(a, b):
            if len(items_a) != len(items_b):
                raise self.error(node, "a Python list gets %d items in one branch of this `if` on a "
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
                self.env.pop(name, None)       # defined on one path only
                continue
            if va is vb:
                self.env[name] = va
                continue
            flat_a, tree = flatten(va)
            flat_b, tree_b = flatten(vb)
            if tree != tree_b:
                raise self.error(node, "`%s` has a different structure in each branch" % name)
            pairs.append((name, flat_a, flat_b, tree))
        flat = [(name if isinstance(name, str) and not name.startswith("$") else None, x, y)
                for name, fa, fb, _ in pairs for x, y in zip(fa, fb)]
        results = self.emit_if(node, test, then_ops, else_ops, flat)
        i = 0
        for name, fa, fb, tree in pairs:
            value = tree.unflatten(results[i:i + len(fa)])
            if isinstance(name, tuple):
                name[0][name[1]] = value             # an item of a list
            else:
                self.env[name] = value
            i += len(fa)

    def _branch(self, node, lower):
        """Lower one branch of an ``if`` on a Tensor into a fresh op list: (ops, its lowerer)."""
        sub = self.child(dict(self.env))
        sub.cont = self.cont
        with self.ctx.region() as ops:
            self._in_branch(node, sub, lower)
        return ops, sub

    def _in_branch(self, node, sub, lower):
        """Lower (part of) a branch; the Python lists it changes are put back as they were and
        their new items kept on ``sub.lists`` (merged with the other branch's afterwards)."""
        snapshot = _list_snapshot(self.env)
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

    def _finish(self, node, sub):
        """Lower, on ``sub``, everything that follows the statement being lowered now."""
        if sub.cont is not None:
            sub.cont.run(sub)
        if not sub.returned:
            raise self.error(node, "the function returns inside this `if` on a Tensor, but "
                             "on the other path it reaches its end without `return`",
                             hint="return a value on every path")

    def emit_if(self, node, test, then_ops, else_ops, triples):
        """An if op yielding, per (variable name or None, then value, else value), one result."""
        for name, x, y in triples:
            for v in (x, y):
                if not yieldable(v):
                    raise self.error(node, "%s is a %s in a branch of an `if` on a Tensor; only "
                                     "Tensors and numbers can differ between branches"
                                     % ("`%s`" % name if name else "the result", type(v).__name__))
        then_b = ir.Block(then_ops, [], [self.operand(x, node) for _, x, _ in triples])
        else_b = ir.Block(else_ops, [], [self.operand(y, node) for _, _, y in triples])
        results = [ir.Value(name, kind=_same_kind(x, y))
                   for (name, _, _), x, y in zip(triples, then_b.yields, else_b.yields)]
        self.ctx.ops.append(ir.Op(IF, [test], None, self.loc(node), self.role,
                                  blocks=[then_b, else_b], results=results))
        return results

    # -- jumps ------------------------------------------------------------------------------
    def stmt_Break(self, node):
        self.env[self.frame.done] = True
        self.jump = "break"

    def stmt_Continue(self, node):
        self.jump = "continue"

    def do_return(self, node, value):
        """``return value``: from the function, or, inside a loop frame, set its flags."""
        frame = self.frame
        if frame is None:
            self.result, self.returned = value, True
            return
        frame.note_return(self, node, value)
        self.env[frame.done] = self.env[frame.ret] = True
        self.env[frame.retval] = value
        self.jump = "return"

    def _open_frame(self, node, names, loop_op=False):
        """A Frame for the loop ``node`` when its body jumps (else None)."""
        own, ret = jumps(node.body)
        if not (own or ret):
            return None
        return Frame(names, own, ret, loop_op)

    def _close_frame(self, node, frame, done, ret, retval):
        """After a loop frame: drop its flags; ``if returned: return value``."""
        for key in (frame.done, frame.ret, frame.retval):
            self.env.pop(key, None)
        if frame.ret is None or ret is False:
            return
        if ret is True:
            return self.do_return(node, retval)
        self.branch(node, ret, lambda sub: sub.do_return(node, retval), lambda sub: None, [])

    def _skip_when_done(self, node, frame, lower):
        """Lower one iteration; when the frame's ``done`` is set at run time, it does nothing."""
        done = self.env.get(frame.done, False) if frame is not None and frame.done else False
        if not isinstance(done, ir.Value):
            lower(self)
            self.jump = None
            return
        self.branch(node, done, lambda sub: None, lambda sub: (lower(sub), setattr(sub, "jump", None)),
                    frame.state())

    # -- for --------------------------------------------------------------------------------
    def stmt_For(self, node):
        if node.orelse:
            raise self.error(node, "`for ... else` is not supported", hint="use a flag variable")
        iterable = self.expr(node.iter)
        if isinstance(iterable, (range, SymbolicRange)) and isinstance(node.target, g.Name):
            fallback = None
            state = self._save_state()
            try:
                with self.ctx.region() as ops:
                    self.loop_op(node, iterable)
                self.ctx.ops.extend(ops)
                return
            except Fallback as why:
                fallback = why
                self._restore_state(state)
            except SourceError:
                # e.g. self.layers[i]: fine once i is known. Unrolling reports real errors again.
                if isinstance(iterable, SymbolicRange):
                    raise
                self._restore_state(state)
            if fallback is not None and isinstance(iterable, SymbolicRange):
                raise self.error(node, "this loop over a range known only at run time needs "
                                 "Python state a loop can't carry (%s)" % fallback,
                                 hint="loop over a constant range, or carry only Tensors and numbers")
        if isinstance(iterable, ir.Value):
            raise self.error(node, "cannot iterate over a Tensor directly",
                             hint="loop over range(x.shape[0]) and index x[i]")
        if isinstance(iterable, SymbolicRange):
            raise self.error(node, "unpacking the index of a run-time range is not supported")
        self.unroll(node, iterable)

    def _save_state(self):
        """What lowering a statement may change here, to try one way and then another."""
        return (dict(self.env), _list_snapshot(self.env), self.jump, self.returned, self.result,
                dict(self.loop_locals))

    def _restore_state(self, state):
        env, lists, self.jump, self.returned, self.result, loop_locals = state
        self.env.clear()
        self.env.update(env)
        _restore_lists(lists)
        self.loop_locals.clear()
        self.loop_locals.update(loop_locals)

    def unroll(self, node, iterable):
        """Lower the body once per item (the loop's Python objects differ per iteration)."""
        items = []
        for item in iterable:
            items.append(item)
            if len(items) > MAX_UNROLL:
                raise self.error(node, "loop runs more than %d times while compiling" % MAX_UNROLL)
        items = self.ctx.read_items(iterable, items)
        self._unrolled(node, iter(items), lambda item: self.assign(node.target, item))

    def unroll_while(self, node, test):
        def tests():
            count, value = 0, test
            while value:
                yield None
                count += 1
                if count > MAX_UNROLL:
                    raise self.error(node, "loop runs more than %d times while compiling" % MAX_UNROLL)
                frame = self.frame
                if frame is not None and frame.done and isinstance(self.env.get(frame.done), ir.Value):
                    raise _RunTimeTrips()
                value = self.expr(node.test)
                if isinstance(value, ir.Value):
                    raise self.error(node, "this loop's condition became a Tensor value after %d "
                                     "iteration(s)" % count,
                                     hint="use a Tensor condition from the start, or a Python counter")
        self._unrolled(node, tests(), lambda item: None)

    def _unrolled(self, node, items, start):
        """The iterations of an unrolled loop, on this lowerer's own environment."""
        outer_frame, outer_cont = self.frame, self.cont
        frame = self.frame = self._open_frame(node, assigned_names(node.body))
        self.cont = None                            # an iteration ends with the loop body
        try:
            if frame is not None and frame.done:
                self.env[frame.done] = False
            if frame is not None and frame.ret:
                self.env[frame.ret] = False
            for item in items:
                if frame is not None and frame.done and self.env[frame.done] is True:
                    break
                start(item)
                self._skip_when_done(node, frame, lambda sub: sub.body(node.body))
        finally:
            self.frame, self.cont = outer_frame, outer_cont
        if frame is not None:
            done, ret = self.env.get(frame.done), self.env.get(frame.ret)
            retval = self.env.get(frame.retval)
            self._close_frame(node, frame, done, ret, retval)

    def loop_op(self, node, rng):
        """A ``for`` op over ``rng``; raises Fallback when the body needs unrolling."""
        target = node.target.id
        names = [n for n in assigned_names(node.body) if n != target]
        carried = [n for n in names if n in self.env]
        frame = self._open_frame(node, carried, loop_op=True)
        inits, args, sub = self._loop_start(node, carried, frame)
        index = ir.Value(target)
        sub.env[target] = index
        ops, yields = self._loop_body(node, sub, carried, frame,
                                      lambda s: s._skip_when_done(node, frame, lambda b: b.body(node.body)))
        bounds = [self.operand(b, node) for b in (rng.start, rng.stop, rng.step)]
        body = ir.Block(ops, [index] + args, yields)
        self._loop_end(node, FOR, bounds + inits, [body], carried, frame, [body])
        for n in names:
            if n not in carried:
                self.loop_locals[n] = self.loc(node)

    def _loop_start(self, node, carried, frame):
        """Initial values and block arguments of the carried variables (and the frame's flags),
        and the body's lowerer."""
        inits = []
        for n in carried:
            if not yieldable(self.env[n]):
                raise Fallback("`%s` is a %s" % (n, type(self.env[n]).__name__))
            inits.append(self.operand(self.env[n], node))
        args = [ir.Value(n, kind=getattr(i, "kind", None)) for n, i in zip(carried, inits)]
        env = dict(self.env)
        env.update(zip(carried, args))
        for key in (frame.done, frame.ret) if frame is not None else ():
            if key is not None:
                inits.append(ir.Const(False))
                args.append(ir.Value(_flag_name(key)))
                env[key] = args[-1]
        sub = self.child(env)
        sub.frame, sub.cont = frame, None
        return inits, args, sub

    def _loop_body(self, node, sub, carried, frame, lower):
        """Lower the body into a block; its yields are the carried variables' new values."""
        snapshot = _list_snapshot(self.env)
        with self.ctx.region() as ops:
            try:
                lower(sub)
            finally:
                changed = _restore_lists(snapshot)
        if changed:
            raise Fallback("a Python list changes in the loop")
        yields = [self._yield(node, sub, n) for n in carried]
        if frame is None:
            return ops, yields
        for key in (frame.done, frame.ret):
            if key is not None:
                yields.append(self._yield(node, sub, key))
        if frame.retval_tree is not None:       # the value to return, carried from its return
            value = sub.env.get(frame.retval, _MISSING)
            leaves = flatten(value)[0] if value is not _MISSING else None
            for k, arg in enumerate(frame.retval_args):
                leaf = leaves[k] if leaves is not None else arg
                yields.append(self.operand(leaf, node) if yieldable(leaf) else self._bad_yield(node, "the returned value", leaf))
        return ops, yields

    def _yield(self, node, sub, name):
        value = sub.env.get(name)
        if not yieldable(value):
            raise Fallback("`%s` becomes a %s" % (name.lstrip("$"), type(value).__name__))
        return self.operand(value, node)

    def _bad_yield(self, node, what, value):
        raise Fallback("%s is a %s" % (what, type(value).__name__))

    def _loop_end(self, node, prim, args, blocks, carried, frame, arg_blocks, only_by_return=False):
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
        self.ctx.ops.append(ir.Op(prim, args, None, self.loc(node), self.role, blocks=blocks,
                                  results=results))
        for n, r in zip(carried, results):
            self.env[n] = r
        if frame is None:
            return
        flags = iter(results[len(carried):])
        done = next(flags) if frame.done else None
        ret = next(flags) if frame.ret else False
        retval = frame.retval_tree.unflatten(list(flags)) if frame.retval_args else None
        if only_by_return and frame.retval_args:
            ret = True                      # `while True` without break: it ends by returning
        self._close_frame(node, frame, done, ret if frame.retval_args else False, retval)

    # -- while ------------------------------------------------------------------------------
    def stmt_While(self, node):
        if node.orelse:
            raise self.error(node, "`while ... else` is not supported", hint="use a flag variable")
        with self.ctx.region() as probe:
            test = self.expr(node.test)
        if not isinstance(test, ir.Value):
            self.ctx.ops.extend(probe)
            state = self._save_state()
            try:
                with self.ctx.region() as ops:
                    self.unroll_while(node, test)
                self.ctx.ops.extend(ops)
                return
            except _RunTimeTrips:
                # A jump on a Tensor decides when the loop ends: not known while compiling, so
                # it is a while op after all (its Python counters carried as values).
                self._restore_state(state)
            try:
                return self.while_op(node, forever=isinstance(node.test, g.Constant) and node.test.value is True)
            except Fallback as why:
                raise self.error(node, "this `while` needs Python state a loop can't carry (%s)" % why,
                                 hint="carry only Tensors and numbers through the loop") from None
        try:
            return self.while_op(node)
        except Fallback as why:
            raise self.error(node, "this `while` on a Tensor needs Python state a loop can't carry (%s)"
                             % why, hint="carry only Tensors and numbers through the loop") from None

    def while_op(self, node, forever=False):
        """A while op; ``forever``: its condition is always true (it ends by break or return)."""
        carried = [n for n in assigned_names(node.body) if n in self.env]
        frame = self._open_frame(node, carried, loop_op=True)
        inits, args, sub = self._loop_start(node, carried, frame)
        with self.ctx.region() as cond_ops:
            done = sub.env.get(frame.done) if frame is not None and frame.done else None
            if done is None:
                cond = sub.expr(node.test)
            else:                               # not after a break: `not done and test`
                with self.ctx.region() as probe:
                    test = sub.expr(node.test)
                if not probe and not isinstance(test, ir.Value):
                    cond = sub.call_prim(_P().logical_not, [done], {}, node) if test else False
                else:
                    cond = sub.select(node, done, lambda s: False, lambda s: s.expr(node.test))
        ops, yields = self._loop_body(node, sub, carried, frame,
                                      lambda s: (s.body(node.body), setattr(s, "jump", None)))
        blocks = [ir.Block(cond_ops, args, [self.operand(cond, node)]), ir.Block(ops, args, yields)]
        only_by_return = forever and frame is not None and not breaks(node.body)
        self._loop_end(node, WHILE, inits, blocks, carried, frame, blocks, only_by_return)

    def select(self, node, test, then_value, else_value):
        """``then_value() if test else else_value()`` on a Tensor ``test``: one result."""
        values = []
        for lower in (then_value, else_value):
            sub = self.child(self.env)
            with self.ctx.region() as ops:
                values.append((ops, lower(sub)))
        (then_ops, a), (else_ops, b) = values
        return self.emit_if(node, test, then_ops, else_ops, [(None, a, b)])[0]


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
