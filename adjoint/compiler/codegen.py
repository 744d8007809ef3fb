"""IR -> Python source -> function.

Each op becomes one assignment (temporaries used once inside the same source line are folded
into the expression that uses them); each group of ops is preceded by a comment naming the
user's line. The source is built as standard ``ast`` nodes, printed as ast.unparse would print
them (printer.py, faster), compiled under a file name of its own and registered with
``linecache`` so tracebacks and debuggers show it.
"""
import hashlib
import linecache
import os

import numpy as np

from . import gastutil, ir
from . import rules as P
from .activity import loop_parts
from .codegen_plan import Plan, _line
from .math_names import MATH

g = gastutil.pyast

_INFIX = {"+": g.Add, "-": g.Sub, "*": g.Mult, "/": g.Div, "**": g.Pow, "@": g.MatMult,
          "//": g.FloorDiv, "%": g.Mod}
_LABELS = {"grad": "grad of: ", "tangent": "tangent of: ", "recompute": "recomputed: "}   # by role
_COMPARE = {"<": g.Lt, "<=": g.LtE, ">": g.Gt, ">=": g.GtE, "==": g.Eq, "!=": g.NotEq}


class Generated:
    """Generated source and what is needed to run it."""

    def __init__(self, name, source, namespace, line_locs, filename):
        self.name, self.source, self.namespace = name, source, namespace
        self.line_locs, self.filename = line_locs, filename
        self.fn = None

    def compile(self):
        code = compile(self.source, self.filename, "exec")
        lines = self.source.splitlines(True)
        linecache.cache[self.filename] = (len(self.source), None, lines, self.filename)
        namespace = dict(self.namespace)
        exec(code, namespace)
        self.fn = namespace[self.name]
        return self.fn


def generate(func, name, returns, header="", checks=False, floats=()):
    """Source for ``func`` as a Python function ``name`` returning the nested tuple ``returns``
    (of Values and Consts); with ``checks``, it verifies its own invariants as it runs.
    ``floats``: Values known to be Python floats (``math`` functions of them: specialize.py)."""
    return _Emitter(func, name, returns, header, checks, floats).emit()


class _Emitter:
    def __init__(self, func, name, returns, header, checks=False, floats=()):
        self.func, self.name, self.returns, self.header = func, name, returns, header
        self.checks = checks
        self.floats = floats
        self.uses_math = False
        self.imports = set()
        self.extra = {}          # names bound in the module for non-literal constants
        self._read_index = {}    # id(op list) -> (it, op positions, last statement reading each name)
        self.xp = _namespace_emission(func)    # None for NumPy code

    # -- expressions ------------------------------------------------------------------------
    def arg(self, a, in_subscript=False):
        if isinstance(a, ir.Value):
            op = self.inline.get(a)
            if op is not None:
                return self.expr(op)
            return gastutil.ast_name(self.name_of(a))
        return self.const(a.value, in_subscript)

    def const(self, value, in_subscript=False):
        if self.xp is not None:
            node = self.xp.const(self, value)
            if node is not None:
                return node
        if isinstance(value, slice) and in_subscript:
            parts = [None if p is None else self.const(p) for p in (value.start, value.stop, value.step)]
            return g.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(value, tuple):
            return g.Tuple(elts=[self.const(v, in_subscript) for v in value], ctx=g.Load())
        if isinstance(value, (bool, int, float, complex, str, type(None), type(Ellipsis))):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                return g.UnaryOp(op=g.USub(), operand=gastutil.ast_constant(-value))
            return gastutil.ast_constant(value)
        if isinstance(value, slice):
            return self.call_expr("slice", [self.const(p) for p in (value.start, value.stop, value.step)], [])
        if isinstance(value, np.generic):
            return self.call_expr("np.%s" % type(value).__name__, [self.const(value.item())], [])
        if isinstance(value, type) and issubclass(value, np.generic):
            return gastutil.ast_expr("np.%s" % value.__name__)
        if isinstance(value, np.dtype):
            return self.call_expr("np.dtype", [gastutil.ast_constant(value.name)], [])
        module_path = _module_path(value)
        if module_path is not None:
            return gastutil.ast_expr(module_path)
        key = "_const%d" % (len(self.extra) + 1)
        for k, v in self.extra.items():
            if v is value:
                key = k
                break
        self.extra[key] = value
        return gastutil.ast_name(key)

    def call_expr(self, func, args, keywords):
        return g.Call(func=gastutil.ast_expr(func), args=args, keywords=keywords)

    def expr(self, op):
        prim, args = op.prim, op.args
        if self.xp is not None:
            node = self.xp.expr(self, op)
            if node is not None:
                return node
        if self.floats and prim is P.power and args[0] in self.floats and (
                isinstance(args[1], ir.Const) or args[1] in self.floats):
            # Python's ** gives a complex number for a negative base where the general code's
            # NumPy float gives nan: math.pow raises instead, and the stub runs the general code
            self.uses_math = True
            return self.call_expr("math.pow", [self.arg(args[0]), self.arg(args[1])], [])
        if prim.infix:
            left, right = self.arg(args[0]), self.arg(args[1])
            if prim.infix in _COMPARE:
                return g.Compare(left=left, ops=[_COMPARE[prim.infix]()], comparators=[right])
            return g.BinOp(left=left, op=_INFIX[prim.infix](), right=right)
        if prim.unary:
            return g.UnaryOp(op=g.USub(), operand=self.arg(args[0]))
        if prim is P.ipow:                    # x ** 3 -> x * x * x
            base = self.arg(args[0])
            expr = base
            for _ in range(args[1].value - 1):
                expr = g.BinOp(left=expr, op=g.Mult(), right=base)
            return expr
        if prim.attr:
            return g.Attribute(value=self.arg(args[0]), attr=prim.attr, ctx=g.Load())
        if prim.subscript:
            index = [self.arg(a, in_subscript=True) for a in args[1:]]
            index = index[0] if len(index) == 1 else g.Tuple(elts=index, ctx=g.Load())
            return g.Subscript(value=self.arg(args[0]), slice=index, ctx=g.Load())
        if prim.emit == "call":
            n_kw = len(op.kwnames)
            positional = [self.arg(a) for a in args[1:len(args) - n_kw]]
            keywords = [g.keyword(arg=k, value=self.arg(a))
                        for k, a in zip(op.kwnames, args[len(args) - n_kw:])]
            return g.Call(func=self.const(args[0].value), args=positional, keywords=keywords)
        if prim is ir.TAPE_LEN:
            return self.call_expr("len", [self.arg(args[0])], [])
        if prim is P.make_tuple:
            return g.Tuple(elts=[self.arg(a) for a in args], ctx=g.Load())
        if op in self.plan.covered:             # zeros, unless the loop writes every row
            self.imports.add(("adjoint.compiler.runtime_slices", "empty_if_covered"))
            return self.call_expr("empty_if_covered", [self.arg(args[0])] +
                                  [self.arg(b) for b in self.plan.covered[op]], [])
        positional, keywords = self.call_args(prim, args)
        if self.floats and prim.emit in MATH and args[0] in self.floats and not keywords:
            self.uses_math = True
            return self.call_expr(MATH[prim.emit], positional, [])
        if prim.method:
            return g.Call(func=g.Attribute(value=positional[0], attr=prim.method, ctx=g.Load()),
                          args=positional[1:], keywords=keywords)
        if not prim.emit.startswith("np.") and prim.emit not in ("print", "slice"):
            self.imports.add((prim.impl.__module__, prim.emit))
        return self.call_expr(prim.emit, positional, keywords)

    def call_args(self, prim, args):
        params = list(prim.signature.parameters.values())
        n_var = len(args) - (len(params) - 1) if prim.is_variadic() else 0
        positional, keywords, i = [], [], 0
        for p in params:
            if p.kind is p.VAR_POSITIONAL:
                positional.extend(self.arg(a) for a in args[i:i + n_var])
                i += n_var
                continue
            a = args[i]
            i += 1
            if p.name in prim.keywords:
                if isinstance(a, ir.Const) and _same(a.value, p.default):
                    continue
                keywords.append(g.keyword(arg=p.name, value=self.arg(a)))
            else:
                positional.append(self.arg(a))
        return positional, keywords

    # -- statements -------------------------------------------------------------------------
    def emit(self):
        self.plan = plan = Plan(self.func, self.returns, self.checks)
        self.name_of = plan.name_of
        self.names, self.inline, self.in_place, self.uses = plan.names, plan.inline, plan.in_place, plan.uses
        self.frees, self.no_free_after = plan.frees, plan.no_free_after
        self.lines = []
        if self.checks:
            self.frees = {}             # every value stays readable for the checks
            self.visible = set(self.func.params)
            self.imports.update(("adjoint.compiler.checks", n) for n in
                                ("check_adjoint", "check_value", "float_kind"))
            self.line(1, "_fkind = float_kind(%s)" % ", ".join(self.names[p] for p in self.func.params))
        self.block(self.func.body.ops, 1)
        ret = self.returns_expr(self.returns)
        self.line(1, gastutil.unparse(g.Return(value=ret)).rstrip("\n"))

        params = ", ".join(self.names[p] for p in self.func.params)
        lines = []
        if self.header:
            lines.extend("# " + h for h in self.header.splitlines())
        if self.xp is not None:
            lines.extend(self.xp.imports())
        elif any("np." in text for _, text, _ in self.lines if not text.lstrip().startswith("#")):
            lines.append("import numpy as np")
        if self.uses_math:
            lines.append("import math")
        by_module = {}
        for module, name in sorted(self.imports):
            by_module.setdefault(module, []).append(name)
        for module, names_ in sorted(by_module.items()):
            lines.append("from %s import %s" % (module, ", ".join(names_)))
        if self.extra:
            lines.append("# not literal, passed in by adjoint: %s" % ", ".join(sorted(self.extra)))
        lines.append("")
        lines.append("")
        lines.append("def %s(%s):" % (self.name, params))
        locs = {}
        for depth, text, loc in self.lines:
            lines.append("    " * depth + text)
            if loc is not None:
                locs[len(lines)] = loc
        source = "\n".join(lines) + "\n"
        return source, locs, dict(self.extra)

    def line(self, depth, text, loc=None):
        self.lines.append((depth, text, loc))

    def nested(self, depth, emit):
        """Emit a nested block's statements; ``pass`` when none came out (all folded away)."""
        start = len(self.lines)
        emit()
        if not any(d == depth and not t.startswith("#") for d, t, _ in self.lines[start:]):
            self.line(depth, "pass")

    def stmt(self, depth, node, loc=None):
        for piece in gastutil.unparse(node).rstrip("\n").splitlines():
            self.line(depth, piece, loc)

    def assign(self, depth, targets, value, loc=None):
        if len(targets) == 1:
            target = gastutil.ast_name(targets[0], store=True)
        else:
            target = g.Tuple(elts=[gastutil.ast_name(t, store=True) for t in targets], ctx=g.Store())
        self.stmt(depth, g.Assign(targets=[target], value=value), loc)

    def block(self, ops, depth):
        group = None
        for op in ops:
            if op.result in self.inline:
                continue
            key = (_line(op.loc), op.role)
            if op.loc is not None and key != group:
                group = key
                label = _LABELS.get(op.role, "")
                self.line(depth, "# %s%s  [%s]" % (label, op.loc.text.strip(), op.loc.short()))
            prim = op.prim
            if prim is ir.IF:
                self.emit_if(op, depth)
            elif prim is ir.CUSTOM:
                self.block(op.blocks[0].ops, depth)
                self.finish_block(op.blocks[0], op.results, depth)
            elif prim in ir.STRUCTURED_LOOPS:
                self.emit_loop(op, depth)
            elif prim is ir.TAPE_POP:
                tape = self.name_of(op.args[0])
                if op.results:
                    self.assign(depth, [self.name_of(r) for r in op.results],
                                gastutil.ast_expr("%s.pop()" % tape), op.loc)
                else:                       # a while's trip count: nothing else was saved
                    self.line(depth, "%s.pop()" % tape, op.loc)
            elif prim is ir.NEW_LIST:
                self.line(depth, "%s = []" % self.name_of(op.result), op.loc)
            elif prim is ir.TAPE_PUSH:
                items = [gastutil.unparse(self.arg(a)) for a in op.args[1:]]
                packed = items[0] if len(items) == 1 else "(%s)" % ", ".join(items) if items else "None"
                self.line(depth, "%s.append(%s)" % (self.name_of(op.args[0]), packed))
            elif prim is P.print_:
                self.stmt(depth, g.Expr(value=self.expr(op)), op.loc)
            elif prim is P.assert_:
                msg = op.args[1]
                self.stmt(depth, g.Assert(test=self.arg(op.args[0]),
                                          msg=None if isinstance(msg, ir.Const) and msg.value is None
                                          else self.arg(msg)), op.loc)
            elif op in self.in_place:
                self.accumulate(op, depth)
            else:
                self.assign(depth, [self.name_of(op.result)], self.expr(op), op.loc)
            if self.checks:
                self.emit_checks(op, depth)
            self.free_after(op, ops, depth)

    def accumulate(self, op, depth):
        """``dW += part`` into a loop's own accumulator; a part that scatters into zeros
        (the gradient of ``x[i]``) is added into the slice instead: ``add_at(dxs, g, i)``."""
        acc, part = op.args
        if op in self.plan.slice_writes:        # each slice written once
            g_, _, index = part.op.args
            self.imports.add(("adjoint.compiler.runtime_slices", "put_slice"))
            call = self.call_expr("put_slice", [gastutil.ast_name(self.name_of(op.result)), self.arg(g_),
                                                self.arg(index)], [])
            self.stmt(depth, g.Expr(value=call), op.loc)
            return
        scatter = self.inline.get(part)
        if scatter is not None and scatter.prim is P.getitem_grad_p:
            g_, _, *index = scatter.args
            if self.xp is not None:       # dxs = rx.scatter_add(xp, dxs, g, i): in place where it can be
                name = self.name_of(op.result)
                self.assign(depth, [name], self.xp.accumulate(self, gastutil.ast_name(name), self.arg(g_),
                                                              [self.arg(i) for i in index]), op.loc)
                return
            self.imports.add((P.getitem_grad_p.impl.__module__, "add_at"))
            call = self.call_expr("add_at", [gastutil.ast_name(self.name_of(op.result))] +
                                  [self.arg(g_)] + [self.arg(i) for i in index], [])
            self.stmt(depth, g.Expr(value=call), op.loc)
            return
        self.stmt(depth, g.AugAssign(target=gastutil.ast_name(self.name_of(op.result), store=True),
                                     op=g.Add(), value=self.arg(part)), op.loc)

    def emit_checks(self, op, depth):
        """(ADJOINT_CHECK) float32 stays float32; a gradient has its value's shape and dtype
        (when that value is still readable here: an argument or a top-level value)."""
        where = repr(op.loc.short() if op.loc is not None else "?")
        for r in op.results:
            if r not in self.names or op.prim in (ir.NEW_LIST, ir.TAPE_PUSH):
                continue
            name = self.name_of(r)
            self.line(depth, "check_value(%s, _fkind, %r, %s)" % (name, name, where))
            primal = r.adjoint_of
            if primal is not None and primal in self.visible and primal in self.names:
                self.line(depth, "check_adjoint(%s, %s, %r, %s)" % (name, self.name_of(primal), name, where))
        if depth == 1:
            self.visible.update(op.results)

    def free_after(self, op, ops, depth):
        values = self.frees.get(op)
        if not values or op is self.no_free_after:
            return
        keep = {self.name_of(v) for v in ir.leaves(self.returns) if isinstance(v, ir.Value)}
        # (a name a later statement still reads stays: loop variables share names)
        position, last_read = self._last_reads(ops)
        here = position[op]
        names = sorted(n for n in {self.name_of(v) for v in values} - keep
                       if last_read.get(n, -1) <= here)
        if names:
            self.line(depth, "del " + ", ".join(names))

    def _last_reads(self, ops):
        """({op: its index}, {name: the index of the last statement of ``ops`` reading it}),
        computed once per op list."""
        hit = self._read_index.get(id(ops))
        if hit is None or hit[0] is not ops:
            position, last_read = {}, {}
            for i, later in enumerate(ops):
                position[later] = i
                if later.result not in self.inline:
                    for v in self.plan.all_reads(later):
                        if v in self.names:
                            last_read[self.name_of(v)] = i
            hit = self._read_index[id(ops)] = (ops, position, last_read)
        return hit[1], hit[2]

    def finish_block(self, block, results, depth):
        """Assign yielded values to the results' names (one tuple assignment when several)."""
        targets, values = [], []
        for y, r in zip(block.yields, results):
            if isinstance(y, ir.Value) and self.name_of(y) == self.name_of(r):
                continue
            targets.append(self.name_of(r))
            values.append(self.arg(y))
        if len(targets) == 1:
            self.assign(depth, targets, values[0])
        elif targets:
            self.assign(depth, targets, g.Tuple(elts=values, ctx=g.Load()))

    def emit_if(self, op, depth):
        then_b, else_b = op.blocks
        if self._does_nothing(then_b, op.results) and not self._does_nothing(else_b, op.results):
            test = g.UnaryOp(op=g.Not(), operand=self.arg(op.args[0]))
            self.line(depth, "if %s:" % gastutil.unparse(test), op.loc)
            self.nested(depth + 1, lambda: (self.block(else_b.ops, depth + 1),
                                            self.finish_block(else_b, op.results, depth + 1)))
            return
        self.line(depth, "if %s:" % gastutil.unparse(self.arg(op.args[0])), op.loc)
        self.nested(depth + 1, lambda: (self.block(then_b.ops, depth + 1),
                                        self.finish_block(then_b, op.results, depth + 1)))
        start = len(self.lines)
        self.line(depth, "else:")
        self.nested(depth + 1, lambda: (self.block(else_b.ops, depth + 1),
                                        self.finish_block(else_b, op.results, depth + 1)))
        if self.lines[-1] == (depth + 1, "pass", None):
            del self.lines[start:]          # an else with nothing to do is left out

    def _does_nothing(self, block, results):
        """A branch with no statements whose yields are already in the results' names."""
        return (all(o.result in self.inline for o in block.ops) and not block.ops
                and all(isinstance(y, ir.Value) and self.names.get(y) == self.name_of(r)
                        for y, r in zip(block.yields, results)))

    def emit_loop(self, op, depth):
        is_while = op.prim is ir.WHILE
        inits, body, _ = loop_parts(op)
        pairs = [(self.name_of(r), a) for r, a in zip(op.results, inits)
                 if not (isinstance(a, ir.Value) and self.name_of(a) == self.name_of(r))]
        if pairs:
            targets = [t for t, _ in pairs]
            values = [self.arg(a) for _, a in pairs]
            if len(targets) == 1:
                self.assign(depth, targets, values[0])
            else:
                self.assign(depth, targets, g.Tuple(elts=values, ctx=g.Load()))
        # Values read only to start the loop can go before it runs (the loop rebinds its copy).
        body_reads = set()
        for block in op.blocks:
            for inner in block.ops:
                body_reads.update(self.plan.all_reads(inner))
            body_reads.update(y for y in block.yields if isinstance(y, ir.Value))
        starters = [v for v in self.frees.get(op, ()) if v not in body_reads and v in inits]
        if starters:
            self.frees[op] = [v for v in self.frees[op] if v not in starters]
            self.line(depth, "del " + ", ".join(sorted(self.name_of(v) for v in starters)))
        if is_while:
            cond_block = op.blocks[0]
            cond = cond_block.yields[0]
            if all(o.result in self.inline for o in cond_block.ops):
                self.line(depth, "while %s:" % gastutil.unparse(self.arg(cond)), op.loc)
            else:
                self.line(depth, "while True:", op.loc)
                self.block(cond_block.ops, depth + 1)
                self.line(depth + 1, "if not %s:" % gastutil.unparse(self.arg(cond)))
                self.line(depth + 2, "break")
        else:
            index = self.name_of(body.args[0]) if body.args[0] in self.names or body.args[0] in self.uses \
                else "_"
            header = "for %s in %s:" % (index, self.range_text(op.args[:3], op.attrs.get("reverse")))
            self.line(depth, header, op.loc)
        self.nested(depth + 1, lambda: (self.block(body.ops, depth + 1),
                                        self.finish_block(body, op.results, depth + 1)))

    def range_text(self, bounds, reverse):
        start, stop, step = [repr(b.value) if isinstance(b, ir.Const) else gastutil.unparse(self.arg(b))
                             for b in bounds]
        if step == "1":
            text = "range(%s)" % stop if start == "0" else "range(%s, %s)" % (start, stop)
        else:
            text = "range(%s, %s, %s)" % (start, stop, step)
        return "reversed(%s)" % text if reverse else text

    def returns_expr(self, value):
        if isinstance(value, tuple):
            return g.Tuple(elts=[self.returns_expr(v) for v in value], ctx=g.Load())
        if isinstance(value, list):
            return g.List(elts=[self.returns_expr(v) for v in value], ctx=g.Load())
        if isinstance(value, dict):
            return g.Dict(keys=[self.const(k) for k in value], values=[self.returns_expr(v) for v in value.values()])
        return self.arg(value if isinstance(value, (ir.Value, ir.Const)) else ir.Const(value))


def _module_path(value):
    """'np.arange' for numpy.arange: a name generated code can use for a library function."""
    name = getattr(value, "__name__", None)
    if name is None or not callable(value):
        return None
    for prefix, module in (("np", np), ("np.linalg", np.linalg), ("np.random", np.random)):
        if getattr(module, name, None) is value:
            return "%s.%s" % (prefix, name)
    return None


def _namespace_emission(func):
    """How to print for an array namespace (compiler/namespaces.py), or None for NumPy code."""
    ns = getattr(func, "namespace", None)
    if ns is None:
        return None
    from .namespaces import Emission
    return Emission(ns)


def _same(a, b):
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def build(func, name, returns, header="", checks=False, floats=()):
    """Generate, name a file for, and compile ``func``; returns a compiled ``Generated``."""
    source, locs, extra = generate(func, name, returns, header, checks, floats)
    namespace = {"np": np}
    xp = _namespace_emission(func)
    namespace.update(extra if xp is None else xp.values(extra))
    digest = hashlib.sha1(source.encode()).hexdigest()[:10]
    filename = _write(name, digest, source)
    gen = Generated(name, source, namespace, locs, filename)
    gen.compile()
    return gen


def _write(name, digest, source):
    """Generated source lives in memory, registered with linecache under this name, so
    tracebacks and debuggers show it; it is written to a file only in $ADJOINT_GENERATED_DIR."""
    folder = os.environ.get("ADJOINT_GENERATED_DIR")
    if not folder:
        return "<adjoint-generated %s_%s>" % (name, digest)
    path = os.path.join(os.path.abspath(folder), "%s_%s.py" % (name, digest))
    try:
        if not os.path.exists(path):
            os.makedirs(folder, exist_ok=True)
            tmp = path + ".%d.tmp" % os.getpid()
            with open(tmp, "w") as fh:
                fh.write(source)
            os.replace(tmp, path)
    except OSError:
        return "<adjoint-generated %s_%s>" % (name, digest)
    return path
