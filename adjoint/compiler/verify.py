"""The IR verifier: the invariants every pass must keep, checked after each one in the tests
(and, for users, when ``ADJOINT_VERIFY=1`` is set).

* every Value is defined once (a parameter, a block argument, an op result or a tape);
* every use (an op's arguments, a block's yields, a function's outputs, what a loop saves on
  its tape) is defined before it and in scope: in the same block or an enclosing one;
* structured ops have the blocks, block arguments and yields their kind needs, and a tape is
  written by the loop that owns it before anything pops it.

One exception is part of the design: a branch of the ``if`` that reverses another ``if`` on the
*same condition* may read the values that the matching branch of that earlier ``if`` defined
(the two run together or not at all).
"""
from . import ir


class IRError(AssertionError):
    """The IR broke an invariant: a compiler bug, never a user error."""


def verify(func, stage="?"):
    """Raise IRError naming the first broken invariant of ``func`` (after ``stage``)."""
    _Verifier(func, stage).run()
    return func


class _Verifier:
    def __init__(self, func, stage):
        self.func, self.stage = func, stage
        self.defined = set()

    def fail(self, message, op=None):
        where = ""
        if op is not None:
            where = "\n  at: %r" % (op,)
            if op.loc is not None:
                where += "  (%s)" % op.loc.short()
        raise IRError("IR verifier, after %s: %s%s\n%s" % (self.stage, message, where, ir.print_func(self.func)))

    def define(self, value, op=None):
        if not isinstance(value, ir.Value):
            self.fail("%r is defined but is not a Value" % (value,), op)
        if value in self.defined:
            self.fail("%r is defined twice" % (value,), op)
        self.defined.add(value)

    def use(self, value, scope, op=None, what="read"):
        if isinstance(value, ir.Const):
            return
        if not isinstance(value, ir.Value):
            self.fail("%s %r is neither a Value nor a Const" % (what, value), op)
        if value not in scope.values:
            self.fail("%r is %s where it is not defined (or not in scope)" % (value, what), op)

    def run(self):
        scope = _Scope(None)
        for p in self.func.params:
            self.define(p)
            scope.values.add(p)
        self.block(self.func.body.ops, scope)
        for out in self.func.outputs:
            self.use(out, scope, what="returned")

    def block(self, ops, scope):
        for op in ops:
            self.op(op, scope)

    def op(self, op, scope):
        for r in op.results:
            if r.op is not op:
                self.fail("result %r does not point back at its op" % (r,), op)
        for a in op.args:
            self.use(a, scope, op)
        if op.blocks:
            self.structured(op, scope)
        elif op.prim.rule_kind != "structured" and not op.prim.is_variadic() \
                and len(op.args) != len(op.prim.params):
            self.fail("%s takes %d arguments, got %d" % (op.prim.name, len(op.prim.params), len(op.args)), op)
        for r in op.results:
            self.define(r, op)
            scope.values.add(r)

    def structured(self, op, scope):
        kind = op.prim
        if kind is ir.IF:
            if len(op.blocks) != 2 or any(b.args for b in op.blocks):
                self.fail("an if has two blocks without arguments", op)
            for k, block in enumerate(op.blocks):
                inner = _Scope(scope)
                inner.enter_matching(scope, op.args[0], k)
                self.checked_block(op, block, inner, len(op.results))
                scope.record_branch(op.args[0], k, block, inner)
            return
        if kind is ir.CUSTOM:
            self.checked_block(op, op.blocks[0], _Scope(scope), len(op.results))
            return
        if kind not in ir.STRUCTURED_LOOPS:
            self.fail("unknown structured op with blocks", op)
        inits = op.args[3:] if kind is ir.FOR else op.args
        body = op.blocks[-1]
        carried = body.args[1:] if kind is ir.FOR else body.args
        if len(carried) != len(inits) or len(op.results) != len(inits):
            self.fail("a loop carries %d values from %d initial values into %d results"
                      % (len(carried), len(inits), len(op.results)), op)
        if kind is ir.WHILE:
            cond = op.blocks[0]
            if len(op.blocks) != 2 or cond.args != body.args or len(cond.yields) != 1:
                self.fail("a while has a condition block yielding one value, sharing the body's arguments", op)
            inner = _Scope(scope)
            for a in body.args:           # the condition and the body share their arguments
                self.define(a, op)
                inner.values.add(a)
            self.block(cond.ops, inner)
            self.use(cond.yields[0], inner, op, "the loop condition")
            body_scope = _Scope(scope)
            body_scope.values |= set(body.args)
            self.block(body.ops, body_scope)
        else:
            if len(op.blocks) != 1:
                self.fail("a for has one block", op)
            body_scope = _Scope(scope)
            for a in body.args:
                self.define(a, op)
                body_scope.values.add(a)
            self.block(body.ops, body_scope)
        if len(body.yields) != len(carried):
            self.fail("a loop body yields %d values for %d carried ones" % (len(body.yields), len(carried)), op)
        for y in body.yields:
            self.use(y, body_scope, op, "yielded")

    def checked_block(self, op, block, scope, n_results):
        self.block(block.ops, scope)
        if len(block.yields) != n_results:
            self.fail("a block yields %d values for %d results" % (len(block.yields), n_results), op)
        for y in block.yields:
            self.use(y, scope, op, "yielded")


class _Scope:
    """The values visible at a point: this block's so far, then the enclosing blocks'."""

    def __init__(self, parent):
        self.parent = parent
        self.values = _Chain(parent.values if parent is not None else None)
        self.branches = {}          # (condition Value, branch index) -> values it defined

    def record_branch(self, cond, k, block, inner):
        """Remember what branch ``k`` of an ``if`` on ``cond`` defined (and, for ifs nested in
        it, what their branches defined)."""
        if isinstance(cond, ir.Value):
            values, nested = self.branches.setdefault((cond, k), (set(), {}))
            values.update(r for op in block.ops for r in op.results)
            for key, (inner_values, inner_nested) in inner.branches.items():
                v, n = nested.setdefault(key, (set(), {}))
                v.update(inner_values)
                n.update(inner_nested)

    def enter_matching(self, outer, cond, k):
        """This is branch ``k`` of an ``if`` on ``cond``: see what matching branches defined."""
        scope = outer
        while scope is not None:
            hit = scope.branches.get((cond, k))
            if hit is not None:
                self.values |= hit[0]
                for key, value in hit[1].items():
                    self.branches.setdefault(key, value)
            scope = scope.parent


class _Chain:
    """A set that also sees its parent's members (scopes nest; inner additions stay inner)."""

    def __init__(self, parent):
        self.parent, self.own = parent, set()

    def add(self, v):
        self.own.add(v)

    def __ior__(self, other):
        self.own |= set(other)
        return self

    def __contains__(self, v):
        chain = self
        while chain is not None:
            if v in chain.own:
                return True
            chain = chain.parent
        return False
