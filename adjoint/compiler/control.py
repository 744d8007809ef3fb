"""Lowering of control flow into structured ops (if / for / while owning nested blocks).

* ``if`` on a value known when compiling lowers only the branch taken; on a Tensor it becomes
  an ``if`` op whose branches yield the variables they assign (early ``return`` in a branch
  moves the statements that follow into the other branch).
* ``for`` over ``range(...)`` becomes a ``for`` op carrying the variables the body reassigns;
  ``for`` over Python tuples, lists, ``enumerate``, ``zip`` or a ``CellList`` is unrolled (each
  iteration sees different Python objects), and so is a range loop whose body needs Python
  state a loop op cannot carry (``list.append``, ``break``...), when its length is known.
* ``while`` on a Tensor condition becomes a ``while`` op; on a Python condition it is unrolled.
"""
from ..errors import SourceError
from . import gastutil, ir
from .prims import Prim, is_literal
from .trees import flatten

g = gastutil.nodes

IF = Prim("if", None, "cond")
FOR = Prim("for", None, "start, stop, step, *inits")
WHILE = Prim("while", None, "*inits")
TAPE_POP = Prim("tape_pop", None, "tape", pure=False)
CUSTOM = Prim("bprop_call", None, "*args")     # a Cell call whose gradient its bprop gives
# Second derivatives of loops: the adjoints of values popped from a tape go back on a list.
NEW_LIST = Prim("new_list", None, "", pure=False)
TAPE_PUSH = Prim("tape_push", None, "tape, *values", pure=False)
DTAPE_POP = Prim("dtape_pop", None, "tape", pure=False)
for _p in (IF, FOR, WHILE, TAPE_POP, CUSTOM, NEW_LIST, TAPE_PUSH, DTAPE_POP):
    _p.rule_kind = "structured"

MAX_UNROLL = 100000


class SymbolicRange:
    """``range(start, stop, step)`` where some bound is only known at run time."""

    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step


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


def contains_return(stmts):
    for s in stmts:
        for node in g.walk(s):
            if isinstance(node, g.Return):
                return True
    return False


def yieldable(value):
    return isinstance(value, ir.Value) or (is_literal(value) and not isinstance(value, (str, type)))


class ControlFlow:
    """Mixin for the Lowerer: statements that steer control."""

    jump = None                 # 'break' / 'continue' pending in an unrolled loop
    cont = None                 # what follows the statement being lowered (a Continuation)
    in_tensor_branch = False    # lowering a branch of an `if` on a Tensor
    in_loop_op = False          # lowering the body of a loop op (no break/continue/return)

    def child(self, env):
        sub = type(self)(self.ctx, self.src, self.fn, env, self.loc_override, self.role)
        sub.in_tensor_branch = self.in_tensor_branch
        sub.in_loop_op = self.in_loop_op
        return sub

    def body(self, stmts):
        """Lower statements in order. While one is lowered, ``self.cont`` is what follows it to
        the end of the function (the rest of this list, then the enclosing code's rest), so an
        ``if`` on a Tensor with a ``return`` in one branch can lower all of it in the other."""
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
        self.tensor_if(node, test)

    def tensor_if(self, node, test):
        """An ``if`` on a Tensor: an if op whose branches yield what they assign. When a branch
        returns (or an ``if`` nested in it does), the function ends inside this ``if``: the
        other branch goes on with everything that follows, and both yield the return value."""
        if self.in_loop_op and (contains_return(node.body) or contains_return(node.orelse)):
            raise Fallback("return in a loop")
        then_s, else_s = list(node.body), list(node.orelse)
        branches = []
        for stmts in (then_s, else_s):
            branches.append(self._branch(node, lambda sub, stmts=stmts: sub.body(stmts)))
        if any(sub.returned for _, sub in branches):
            for k, (ops, sub) in enumerate(branches):
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
                                   [("the returned value", x, y) for x, y in zip(flat_a, flat_b)])
            self.result, self.returned = tree.unflatten(results), True
            return
        (then_ops, a), (else_ops, b) = branches
        pairs = []
        for name in assigned_names(then_s + else_s):
            va, vb = a.env.get(name, _MISSING), b.env.get(name, _MISSING)
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
        flat = [(name, x, y) for name, fa, fb, _ in pairs for x, y in zip(fa, fb)]
        results = self.emit_if(node, test, then_ops, else_ops, flat)
        i = 0
        for name, fa, fb, tree in pairs:
            self.env[name] = tree.unflatten(results[i:i + len(fa)])
            i += len(fa)

    def _branch(self, node, lower):
        """Lower one branch of an ``if`` on a Tensor into a fresh op list: (ops, its lowerer)."""
        sub = self.child(dict(self.env))
        sub.in_tensor_branch = True
        sub.cont = self.cont
        with self.ctx.region() as ops:
            self._in_branch(node, sub, lower)
        return ops, sub

    def _in_branch(self, node, sub, lower):
        snapshot = _list_snapshot(self.env)
        try:
            lower(sub)
        finally:
            changed = _restore_lists(snapshot)
        if changed:
            raise self.error(node, "a Python list changed inside an `if` on a Tensor value",
                             hint="build the list outside the branch, or use np.where")

    def _finish(self, node, sub):
        """Lower, on ``sub``, everything that follows the statement being lowered now; a break
        or continue there belongs to an unrolled loop of this branch, not to the ``if``."""
        if sub.cont is not None:
            sub.in_tensor_branch = False
            sub.cont.run(sub)
        if not sub.returned:
            raise self.error(node, "the function returns inside this `if` on a Tensor, but "
                             "on the other path it reaches its end without `return`",
                             hint="return a value on every path")

    def emit_if(self, node, test, then_ops, else_ops, triples):
        for name, x, y in triples:
            for v in (x, y):
                if not yieldable(v):
                    raise self.error(node, "`%s` is a %s in a branch of an `if` on a Tensor; only "
                                     "Tensors and numbers can differ between branches"
                                     % (name, type(v).__name__))
        results = [ir.Value(name if name != "out" else None) for name, _, _ in triples]
        then_b = ir.Block(then_ops, [], [self.operand(x, node) for _, x, _ in triples])
        else_b = ir.Block(else_ops, [], [self.operand(y, node) for _, _, y in triples])
        self.ctx.ops.append(ir.Op(IF, [test], None, self.loc(node), self.role,
                                  blocks=[then_b, else_b], results=results))
        return results

    # -- for --------------------------------------------------------------------------------
    def stmt_For(self, node):
        if node.orelse:
            raise self.error(node, "`for ... else` is not supported", hint="use a flag variable")
        iterable = self.expr(node.iter)
        if isinstance(iterable, (range, SymbolicRange)) and isinstance(node.target, g.Name):
            try:
                return self.loop_op(node, iterable)
            except Fallback as why:
                if isinstance(iterable, SymbolicRange):
                    raise self.error(node, "this loop over a range known only at run time needs "
                                     "Python state a loop can't carry (%s)" % why,
                                     hint="loop over a constant range, or carry only Tensors and numbers") from None
            except SourceError:
                # e.g. self.layers[i]: fine once i is known. Unrolling reports real errors again.
                if isinstance(iterable, SymbolicRange):
                    raise
        if isinstance(iterable, ir.Value):
            raise self.error(node, "cannot iterate over a Tensor directly",
                             hint="loop over range(x.shape[0]) and index x[i]")
        if isinstance(iterable, SymbolicRange):
            raise self.error(node, "unpacking the index of a run-time range is not supported")
        self.unroll(node, iterable)

    def unroll(self, node, iterable):
        items = []
        for item in iterable:
            items.append(item)
            if len(items) > MAX_UNROLL:
                raise self.error(node, "loop runs more than %d times while compiling" % MAX_UNROLL)
        UnrolledFor(node, items, self.cont).run(self)

    def loop_op(self, node, rng):
        """A ``for`` op over ``rng``; raises Fallback when the body needs unrolling."""
        target = node.target.id
        names = [n for n in assigned_names(node.body) if n != target]
        carried = [n for n in names if n in self.env]
        inits, args, sub = self._loop_start(node, carried)
        index = ir.Value(target)
        sub.env[target] = index
        ops, yields = self._loop_body(node, sub, carried)
        bounds = [self.operand(b, node) for b in (rng.start, rng.stop, rng.step)]
        self._loop_end(node, FOR, bounds + inits, [ir.Block(ops, [index] + args, yields)], carried)
        for n in names:
            if n not in carried:
                self.loop_locals[n] = self.loc(node)

    def _loop_start(self, node, carried):
        """Initial values and block arguments of the carried variables, and the body's lowerer."""
        inits = []
        for n in carried:
            if not yieldable(self.env[n]):
                raise Fallback("`%s` is a %s" % (n, type(self.env[n]).__name__))
            inits.append(self.operand(self.env[n], node))
        args = [ir.Value(n) for n in carried]
        env = dict(self.env)
        env.update(zip(carried, args))
        sub = self.child(env)
        sub.in_loop_op, sub.in_tensor_branch = True, False
        return inits, args, sub

    def _loop_body(self, node, sub, carried):
        """Lower the body into a block; its yields are the carried variables' new values."""
        snapshot = _list_snapshot(self.env)
        with self.ctx.region() as ops:
            try:
                sub.body(node.body)
            finally:
                changed = _restore_lists(snapshot)
        if changed:
            raise Fallback("a Python list changes in the loop")
        yields = []
        for n in carried:
            if not yieldable(sub.env.get(n)):
                raise Fallback("`%s` becomes a %s" % (n, type(sub.env.get(n)).__name__))
            yields.append(self.operand(sub.env[n], node))
        return ops, yields

    def _loop_end(self, node, prim, args, blocks, carried):
        results = [ir.Value(n) for n in carried]
        self.ctx.ops.append(ir.Op(prim, args, None, self.loc(node), self.role, blocks=blocks,
                                  results=results))
        for n, r in zip(carried, results):
            self.env[n] = r

    # -- while ------------------------------------------------------------------------------
    def stmt_While(self, node):
        if node.orelse:
            raise self.error(node, "`while ... else` is not supported", hint="use a flag variable")
        with self.ctx.region() as probe:
            test = self.expr(node.test)
        if not isinstance(test, ir.Value):
            self.ctx.ops.extend(probe)
            return self.unroll_while(node, test)
        try:
            return self.while_op(node)
        except Fallback as why:
            raise self.error(node, "this `while` on a Tensor needs Python state a loop can't carry (%s)"
                             % why, hint="carry only Tensors and numbers through the loop") from None

    def unroll_while(self, node, test):
        UnrolledWhile(node, test, self.cont).run(self)

    def while_op(self, node):
        carried = [n for n in assigned_names(node.body) if n in self.env]
        inits, args, sub = self._loop_start(node, carried)
        with self.ctx.region() as cond_ops:
            cond = sub.expr(node.test)
        ops, yields = self._loop_body(node, sub, carried)
        blocks = [ir.Block(cond_ops, args, [self.operand(cond, node)]), ir.Block(ops, args, yields)]
        self._loop_end(node, WHILE, inits, blocks, carried)

    # -- break / continue -------------------------------------------------------------------
    def stmt_Break(self, node):
        self._jump(node, "break")

    def stmt_Continue(self, node):
        self._jump(node, "continue")

    def _jump(self, node, kind):
        if self.in_loop_op:
            raise Fallback(kind)
        if self.in_tensor_branch:
            raise self.error(node, "`%s` under an `if` on a Tensor value is not supported" % kind,
                             hint="loop over a range known when compiling, with a condition known "
                                  "when compiling, or compute a mask with np.where")
        self.jump = kind


class Continuation:
    """What follows a statement up to the end of the function: the rest of its statement list,
    then ``then`` (the rest of the enclosing loop iteration, loop or statement list)."""

    def __init__(self, stmts, then):
        self.stmts, self.then = stmts, then

    def run(self, lowerer):
        if not lowerer.jump:                # a break/continue skips the rest of the body
            saved, lowerer.cont = lowerer.cont, self.then
            try:
                lowerer.body(self.stmts)
            finally:
                lowerer.cont = saved
        if not lowerer.returned and self.then is not None:
            self.then.run(lowerer)


class UnrolledFor:
    """The iterations of an unrolled ``for`` from ``items`` on, then what follows the loop."""

    def __init__(self, node, items, then):
        self.node, self.items, self.then = node, items, then

    def run(self, lowerer):
        if lowerer.jump == "break":
            lowerer.jump, items = None, []
        else:
            lowerer.jump, items = None, self.items
        for k, item in enumerate(items):
            lowerer.assign(self.node.target, item)
            rest = UnrolledFor(self.node, items[k + 1:], self.then)
            if _iteration(lowerer, self.node, rest):
                break
        if not lowerer.returned and self.then is not None:
            self.then.run(lowerer)


class UnrolledWhile:
    """The iterations of a ``while`` on a Python condition, then what follows the loop."""

    def __init__(self, node, test, then):
        self.node, self.test, self.then = node, test, then

    def run(self, lowerer):
        test = self.test
        if lowerer.jump == "break":
            test = False
        elif lowerer.jump == "continue" or test is _RETEST:
            test = self._retest(lowerer, 1)
        lowerer.jump = None
        count = 0
        while test:
            if _iteration(lowerer, self.node, UnrolledWhile(self.node, _RETEST, self.then)):
                break
            count += 1
            if count > MAX_UNROLL:
                raise lowerer.error(self.node, "loop runs more than %d times while compiling" % MAX_UNROLL)
            test = self._retest(lowerer, count)
        if not lowerer.returned and self.then is not None:
            self.then.run(lowerer)

    def _retest(self, lowerer, count):
        test = lowerer.expr(self.node.test)
        if isinstance(test, ir.Value):
            raise lowerer.error(self.node, "this loop's condition became a Tensor value after %d "
                                "iteration(s)" % count,
                                hint="use a Tensor condition from the start, or a Python counter")
        return test


_RETEST = object()


def _iteration(lowerer, node, rest):
    """Lower one copy of a loop body, with ``rest`` (the later iterations and what follows the
    loop) as its continuation; True when the loop ends here (break, return)."""
    saved, lowerer.cont = lowerer.cont, rest
    try:
        lowerer.body(node.body)
    finally:
        lowerer.cont = saved
    stop = lowerer.returned or lowerer.jump == "break"
    lowerer.jump = None
    return stop


_MISSING = object()


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
