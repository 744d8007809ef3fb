"""IR -> Python source -> function.

Each op becomes one assignment (temporaries used once inside the same source line are folded
into the expression that uses them); each group of ops is preceded by a comment naming the
user's line. The source is built as gast nodes, printed with astor, compiled under a real
file name and registered with ``linecache`` so tracebacks and debuggers show it.
"""
import hashlib
import linecache
import os
import tempfile

import numpy as np

from . import gastutil, ir
from . import names
from .names import Namer
from .prims import is_literal

g = gastutil.nodes

_INFIX = {"+": g.Add, "-": g.Sub, "*": g.Mult, "/": g.Div, "**": g.Pow, "@": g.MatMult,
          "//": g.FloorDiv, "%": g.Mod}
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


def generate(func, name, returns, header=""):
    """Source for ``func`` as a Python function ``name`` returning the nested tuple ``returns``
    (of Values and Consts)."""
    return _Emitter(func, name, returns, header).emit()


class _Emitter:
    def __init__(self, func, name, returns, header):
        self.func, self.name, self.returns, self.header = func, name, returns, header
        self.namer = Namer()
        self.names = {}
        self.inline = {}
        self.imports = set()
        self.extra = {}          # names bound in the module for non-literal constants

    # -- decisions --------------------------------------------------------------------------
    def plan(self):
        uses, user = {}, {}
        for op in self.func.body.ops:
            for v in op.values():
                uses[v] = uses.get(v, 0) + 1
                user[v] = op
        for v in _leaves(self.returns):
            if isinstance(v, ir.Value):
                uses[v] = uses.get(v, 0) + 2
        for op in self.func.body.ops:
            v = op.result
            u = user.get(v)
            if (v.name is None and uses.get(v, 0) == 1 and op.prim.pure and u is not None
                    and _line(u.loc) == _line(op.loc) and u.role == op.role and op.prim.name != "make_slice"):
                self.inline[v] = op
        for p in self.func.params:
            self.names[p] = self.namer.fresh(p.name or "arg")

    def name_of(self, v):
        name = self.names.get(v)
        if name is None:
            hint = v.name
            if hint is None and v.adjoint_of is not None:
                hint = names.adjoint_of(self.name_of(v.adjoint_of))
            name = self.names[v] = self.namer.fresh(hint)
        return name

    # -- expressions ------------------------------------------------------------------------
    def arg(self, a, in_subscript=False):
        if isinstance(a, ir.Value):
            op = self.inline.get(a)
            if op is not None:
                return self.expr(op)
            return gastutil.name(self.name_of(a))
        return self.const(a.value, in_subscript)

    def const(self, value, in_subscript=False):
        if isinstance(value, slice) and in_subscript:
            parts = [None if p is None else self.const(p) for p in (value.start, value.stop, value.step)]
            return g.Slice(lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(value, tuple):
            return g.Tuple(elts=[self.const(v, in_subscript) for v in value], ctx=g.Load())
        if isinstance(value, (bool, int, float, complex, str, type(None), type(Ellipsis))):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                return g.UnaryOp(op=g.USub(), operand=gastutil.constant(-value))
            return gastutil.constant(value)
        if isinstance(value, slice):
            return self.call_expr("slice", [self.const(p) for p in (value.start, value.stop, value.step)], [])
        if isinstance(value, np.generic):
            return self.call_expr("np.%s" % type(value).__name__, [self.const(value.item())], [])
        if isinstance(value, type) and issubclass(value, np.generic):
            return gastutil.parse_expr("np.%s" % value.__name__)
        if isinstance(value, np.dtype):
            return self.call_expr("np.dtype", [gastutil.constant(value.name)], [])
        module_path = _module_path(value)
        if module_path is not None:
            return gastutil.parse_expr(module_path)
        key = "_const%d" % (len(self.extra) + 1)
        for k, v in self.extra.items():
            if v is value:
                key = k
                break
        self.extra[key] = value
        return gastutil.name(key)

    def call_expr(self, func, args, keywords):
        return g.Call(func=gastutil.parse_expr(func), args=args, keywords=keywords)

    def expr(self, op):
        prim, args = op.prim, op.args
        if prim.infix:
            left, right = self.arg(args[0]), self.arg(args[1])
            if prim.infix in _COMPARE:
                return g.Compare(left=left, ops=[_COMPARE[prim.infix]()], comparators=[right])
            return g.BinOp(left=left, op=_INFIX[prim.infix](), right=right)
        if prim.unary:
            return g.UnaryOp(op=g.USub(), operand=self.arg(args[0]))
        if prim.attr:
            return g.Attribute(value=self.arg(args[0]), attr=prim.attr, ctx=g.Load())
        if prim.subscript:
            index = [self.arg(a, in_subscript=True) for a in args[1:]]
            index = index[0] if len(index) == 1 else g.Tuple(elts=index, ctx=g.Load())
            return g.Subscript(value=self.arg(args[0]), slice=index, ctx=g.Load())
        if prim.name == "call":
            n_kw = len(op.kwnames)
            positional = [self.arg(a) for a in args[1:len(args) - n_kw]]
            keywords = [g.keyword(arg=k, value=self.arg(a))
                        for k, a in zip(op.kwnames, args[len(args) - n_kw:])]
            return g.Call(func=self.const(args[0].value), args=positional, keywords=keywords)
        if prim.name == "make_tuple":
            return g.Tuple(elts=[self.arg(a) for a in args], ctx=g.Load())
        positional, keywords = self.call_args(prim, args)
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
        self.plan()
        body, line_locs = [], []
        group = None
        for op in self.func.body.ops:
            if op.result in self.inline:
                continue
            key = (_line(op.loc), op.role)
            if op.loc is not None and key != group:
                group = key
                text = op.loc.text.strip()
                label = "grad of: " if op.role == "grad" else ""
                body.append(("# %s%s  [%s]" % (label, text, op.loc.short()), None))
            expr = self.expr(op)
            if op.prim.name == "print":
                stmt = g.Expr(value=expr)
            else:
                stmt = g.Assign(targets=[gastutil.name(self.name_of(op.result), store=True)],
                                value=expr, type_comment=None)
            body.append((gastutil.to_source(stmt).rstrip("\n"), op.loc))
        ret = self.returns_expr(self.returns)
        body.append((gastutil.to_source(g.Return(value=ret)).rstrip("\n"), None))

        params = ", ".join(self.names[p] for p in self.func.params)
        lines = []
        if self.header:
            lines.extend("# " + h for h in self.header.splitlines())
        lines.append("import numpy as np")
        by_module = {}
        for module, name in sorted(self.imports):
            by_module.setdefault(module, []).append(name)
        for module, names in sorted(by_module.items()):
            lines.append("from %s import %s" % (module, ", ".join(names)))
        if self.extra:
            lines.append("# not literal, passed in by adjoint: %s" % ", ".join(sorted(self.extra)))
        lines.append("")
        lines.append("")
        lines.append("def %s(%s):" % (self.name, params))
        locs = {}
        for text, loc in body:
            for piece in text.splitlines():
                lines.append("    " + piece)
                if loc is not None:
                    locs[len(lines)] = loc
        source = "\n".join(lines) + "\n"
        return source, locs, dict(self.extra)

    def returns_expr(self, value):
        if isinstance(value, tuple):
            return g.Tuple(elts=[self.returns_expr(v) for v in value], ctx=g.Load())
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


def _line(loc):
    return loc.key if loc is not None else None


def _leaves(value):
    if isinstance(value, tuple):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _same(a, b):
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def build(func, name, returns, header="", tag=""):
    """Generate, name a file for, and compile ``func``; returns a compiled ``Generated``."""
    source, locs, extra = generate(func, name, returns, header)
    namespace = {"np": np}
    namespace.update(extra)
    digest = hashlib.sha1(source.encode()).hexdigest()[:10]
    filename = _write(name, digest, source)
    gen = Generated(name, source, namespace, locs, filename)
    gen.compile()
    return gen


def _write(name, digest, source):
    """Generated source lives in a real file, so debuggers and tracebacks can open it."""
    folder = os.path.join(tempfile.gettempdir(), "adjoint-generated")
    path = os.path.join(folder, "%s_%s.py" % (name, digest))
    try:
        if not os.path.exists(path):
            os.makedirs(folder, exist_ok=True)
            tmp = path + ".%d.tmp" % os.getpid()
            with open(tmp, "w") as fh:
                fh.write(source)
            os.replace(tmp, path)
    except OSError:
        return "<adjoint %s>" % name
    return path
