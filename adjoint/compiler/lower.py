"""gast -> SSA IR, by abstract interpretation of the function's source.

The lowering walks the source of ``construct`` (and, inlined, of every helper, sub-Cell, Tensor
method and derivative rule it calls) with an environment that maps names to *abstract values*:

* an ``ir.Value``: an array (or number) only known when the generated code runs;
* any other Python object: known now (constants, modules, Cells, Python tuples of values...).

Operations on Values become ``Op``s in the function being built; operations on known objects are
simply carried out (``2 * math.pi``, ``self.flag``, ``len(xs)`` on a Python list), which is how
constant folding, compile-time ``if`` and inlining come for free.
"""
import builtins
import contextlib
import sys
import inspect
import operator
import types

import numpy as np

from ..errors import SourceError
from . import gastutil, ir
from .frontend import closure_vars, parse_function
from .control import ControlFlow, SymbolicRange
from .python_calls import SPECIAL_CALLS, LocalFunction, _has_values, _known_true, _P  # noqa: F401
from .hooks import is_array_object, is_cell, is_gradient_function, is_gradient_maker, registry
from .prims import Prim, is_literal, lookup
from .sources import CALL, EPOCH, Guard, Source, guard_for, is_library_module
from .trees import flatten

g = gastutil.nodes

BINOPS = {g.Add: operator.add, g.Sub: operator.sub, g.Mult: operator.mul, g.Div: operator.truediv,
          g.Pow: operator.pow, g.MatMult: operator.matmul, g.FloorDiv: operator.floordiv,
          g.Mod: operator.mod}
UNARYOPS = {g.USub: operator.neg, g.UAdd: operator.pos, g.Not: operator.not_, g.Invert: operator.invert}
CMPOPS = {g.Lt: operator.lt, g.LtE: operator.le, g.Gt: operator.gt, g.GtE: operator.ge,
          g.Eq: operator.eq, g.NotEq: operator.ne, g.Is: operator.is_, g.IsNot: operator.is_not,
          g.In: lambda a, b: a in b, g.NotIn: lambda a, b: a not in b}

# Builtins that are simply run when their arguments are known.
PURE_BUILTINS = {len, range, min, max, abs, int, float, bool, tuple, list, dict, enumerate, zip,
                 isinstance, issubclass, getattr, hasattr, round, sum, sorted, reversed, str, repr,
                 type, slice, all, any, divmod, pow, callable, id, map, filter, hash}

# Builtins that only rearrange Python containers: fine when the elements are Tensor values.
CONTAINER_BUILTINS = {enumerate, zip, list, tuple, reversed, dict, iter, len, isinstance}

MAX_DEPTH = 64


class BoundMethod:
    """``x.sum`` where x is a Value: a Tensor method waiting for its call."""

    def __init__(self, fn, self_value):
        self.fn, self.self_value = fn, self_value


class Context:
    """What one compilation builds: the ops, the inputs read from Cells and globals (and where
    each is read again at a call), and the guards on every other value read from outside."""

    def __init__(self, main_fn=None, self_obj=None):
        self.ops = []
        self.inputs = {}            # id(obj) -> (obj, Value): Parameters and constant arrays
        self.input_sources = {}     # id(obj) -> (Source, tier): where each input is read again
        self.sources = {}           # id(obj) -> (obj, Source): objects read from outside
        self.guards = {}            # Source -> Guard
        self.library = set()        # ids of library modules (their attributes are constants)
        self.main_fn, self.self_obj = main_fn, self_obj
        if self_obj is not None:
            self.sources[id(self_obj)] = (self_obj, Source(("self",)))
        self.depth = 0

    @contextlib.contextmanager
    def region(self):
        """Collect the ops emitted inside the ``with`` into a fresh list (a nested block)."""
        outer, self.ops = self.ops, []
        try:
            yield self.ops
        finally:
            self.ops = outer

    @contextlib.contextmanager
    def into(self, ops):
        """Emit into an existing op list (a block built earlier)."""
        outer, self.ops = self.ops, ops
        try:
            yield ops
        finally:
            self.ops = outer

    def emit(self, prim, args, loc, role="fwd", name=None, kwnames=()):
        value = ir.Value(name)
        self.ops.append(ir.Op(prim, args, value, loc, role, kwnames))
        return value

    def input_for(self, obj, hint, source=None, tier=EPOCH):
        hit = self.inputs.get(id(obj))
        if hit is None:
            hit = (obj, ir.Value(hint))
            self.inputs[id(obj)] = hit
        if source is not None:
            self.input_sources.setdefault(id(obj), (source, tier))
        return hit[1]

    def guard(self, guard):
        self.guards.setdefault(guard.source, guard)

    def read(self, value, source, tier, hint):
        """A value read from outside the function at ``source``: an array becomes an input (read
        again at every call); anything else is guarded, and remembered as the source of what is
        read from it. Attributes of library modules (np.exp) are constants."""
        if is_array_object(value):
            return self.input_for(value, hint, source, tier)
        if isinstance(value, types.ModuleType) and is_library_module(value):
            self.library.add(id(value))
            self.guard(Guard(source, "is", value, tier))
            return value
        guard = guard_for(value, source, tier)
        self.guard(guard)
        if guard.mode != "==":
            self.sources.setdefault(id(value), (value, source))
        return value

    def source_of(self, obj):
        """Where ``obj`` was read from outside, or None (a constant, or made while compiling).
        A Cell reached some other way (an item of a list a loop went through...) is its own
        root: what is read off it is still checked."""
        if id(obj) in self.library:
            return None
        hit = self.sources.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        return Source(("const", obj)) if is_cell(obj) else None

    def read_items(self, container, items):
        """The items of ``container`` a loop goes through: read from it, so guarded like it."""
        source = self.source_of(container)
        if source is None or not isinstance(container, (list, tuple)) or len(items) != len(container):
            return items
        tier = EPOCH if is_cell(container) else CALL
        return [self.read(item, source.item(k), tier, "item") for k, item in enumerate(items)]


class Lowerer(ControlFlow):
    """Lowers one function body. ``loc_override``: charge every op to this location instead
    (for library code such as Tensor methods and derivative rules)."""

    def __init__(self, ctx, src, fn, env, loc_override=None, role="fwd"):
        self.ctx, self.src, self.env = ctx, src, env
        self.fn = fn            # this function object: its globals and closure (src is shared per code)
        self.globals = self.fn.__globals__
        self.closure = closure_vars(self.fn)
        self.loc_override, self.role = loc_override, role
        self.node_loc = None
        self.returned, self.result = False, None
        self.loop_locals = {}       # names assigned only inside a loop op -> the loop's Loc

    # -- entry ------------------------------------------------------------------------------
    def run(self):
        return self.run_body(self.src.node.body)

    def run_body(self, stmts):
        self.body(stmts)
        return self.result

    def loc(self, node):
        if self.loc_override is not None:
            return self.loc_override
        return self.src.loc(node)

    def error(self, node, message, hint=None):
        return SourceError(message, self.loc(node), hint)

    # -- statements -------------------------------------------------------------------------
    def stmt(self, node):
        self.node_loc = node
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            raise self.error(node, "`%s` statements are not supported in code adjoint compiles"
                             % type(node).__name__.lower(), hint=_hint_for(node))
        method(node)

    def stmt_Expr(self, node):
        if isinstance(node.value, g.Constant):      # docstrings
            return
        self.expr(node.value)

    def stmt_Pass(self, node):
        pass

    def stmt_Return(self, node):
        self.do_return(node, self.expr(node.value) if node.value is not None else None)

    def stmt_Assign(self, node):
        value = self.expr(node.value)
        for target in node.targets:
            self.assign(target, value)

    def stmt_AnnAssign(self, node):
        if node.value is not None:
            self.assign(node.target, self.expr(node.value))

    def stmt_AugAssign(self, node):
        target = node.target
        if not isinstance(target, g.Name):
            raise self.error(node, "augmented assignment to %s is not supported" % type(target).__name__,
                             hint="assign to a plain name, e.g. `y = y + x`")
        current = self.load_name(target)
        value = self.apply(BINOPS[type(node.op)], [current, self.expr(node.value)], {}, node)
        self.assign(target, value)

    def stmt_Assert(self, node):
        """As Python runs it: when the condition is known now, now (a failure raises the user's
        AssertionError from the call); otherwise in the generated code, at every call."""
        if sys.flags.optimize:
            return
        test = self.expr(node.test)
        msg = self.expr(node.msg) if node.msg is not None else None
        if not isinstance(test, ir.Value):
            if not test:
                raise AssertionError(*(() if msg is None else (msg,)))
            return
        self.call_prim(_P().assert_, [test, msg], {}, node)

    def assign(self, target, value):
        if isinstance(target, g.Name):
            if isinstance(value, ir.Value) and value.name is None and not self.loc_override:
                value.name = target.id
            self.env[target.id] = value
        elif isinstance(target, (g.Tuple, g.List)):
            if any(isinstance(t, g.Starred) for t in target.elts):
                raise self.error(target, "starred assignment is not supported",
                                 hint="unpack into a fixed number of names")
            if isinstance(value, ir.Value):
                items = [self.call_prim(_P().getitem, [value, i], {}, target)
                         for i in range(len(target.elts))]
            else:
                items = list(value)
                if len(items) != len(target.elts):
                    raise self.error(target, "cannot unpack %d values into %d names"
                                     % (len(items), len(target.elts)))
            for t, v in zip(target.elts, items):
                self.assign(t, v)
        elif isinstance(target, g.Attribute):
            raise self.error(target, "cannot store to `%s` inside code adjoint compiles"
                             % gastutil.to_source(target),
                             hint="construct must not change the Cell's state; keep the value in a "
                                  "local variable")
        elif isinstance(target, g.Subscript):
            base = self.expr(target.value)
            if isinstance(base, list):
                base[self.expr(target.slice)] = value
            else:
                raise self.error(target, "item assignment `%s = ...` is not supported"
                                 % gastutil.to_source(target),
                                 hint="build a new array instead, e.g. with np.where or concatenation")
        else:
            raise self.error(target, "cannot assign to %s" % type(target).__name__)

    # -- expressions ------------------------------------------------------------------------
    def expr(self, node):
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            raise self.error(node, "%s expressions are not supported in code adjoint compiles"
                             % type(node).__name__, hint=_hint_for(node))
        return method(node)

    def expr_Constant(self, node):
        return node.value

    def expr_Name(self, node):
        return self.load_name(node)

    def load_name(self, node):
        name = node.id
        if name in self.env:
            return self.env[name]
        if name in self.closure:
            k = self.fn.__code__.co_freevars.index(name)
            # The called function's own cells are found again by position: each closure a def
            # makes shares the compiled code (and is checked against it).
            source = Source(("closure", k, name) if self.fn is self.ctx.main_fn
                            else ("cell", self.fn.__closure__[k], name))
            return self.ctx.read(self.closure[name], source, CALL, name)
        if name in self.globals:
            return self.ctx.read(self.globals[name], Source(("global_in", self.globals, name)), CALL, name)
        if hasattr(builtins, name):
            return getattr(builtins, name)
        if name in self.loop_locals:
            raise self.error(node, "`%s` is assigned only inside the loop at line %d"
                             % (name, self.loop_locals[name].line),
                             hint="give it a value before the loop so the loop can carry it")
        raise self.error(node, "name `%s` is not defined" % name)

    def materialize(self, obj, hint):
        """Arrays known now (constant Tensors made or reached while compiling) become inputs."""
        if is_array_object(obj):
            return self.ctx.input_for(obj, hint, Source(("const", obj)))
        return obj

    def expr_Attribute(self, node):
        base = self.expr(node.value)
        attr = node.attr
        if isinstance(base, ir.Value):
            return self.tensor_attribute(base, attr, node)
        try:
            value = getattr(base, attr)
        except AttributeError:
            raise self.error(node, "`%s` has no attribute `%s`" % (_describe(base), attr)) from None
        return self.read_from(base, value, lambda s: s.attr(attr), _path_hint(node))

    def read_from(self, base, value, step, hint):
        """``value`` read from the object ``base``: guarded when ``base`` came from outside.
        A Cell counts its changes, so what is read off a Cell is checked only after one."""
        source = self.ctx.source_of(base)
        if source is None:
            return self.materialize(value, hint)
        tier = EPOCH if is_cell(base) and not isinstance(value, (list, dict, set)) else CALL
        return self.ctx.read(value, step(source), tier, hint)

    def tensor_attribute(self, value, attr, node):
        member = inspect.getattr_static(registry.tensor_type, attr, None) if registry.tensor_type else None
        if isinstance(member, property):
            return self.inline(member.fget, [value], {}, node)
        if isinstance(member, types.FunctionType):
            return BoundMethod(member, value)
        # Not a Tensor attribute: maybe the value is something else (an opaque call's result).
        return self.opaque_call(getattr, [value, attr], {}, node)

    def expr_Tuple(self, node):
        return tuple(self.elements(node.elts))

    def expr_List(self, node):
        return list(self.elements(node.elts))

    def elements(self, elts):
        out = []
        for e in elts:
            if isinstance(e, g.Starred):
                out.extend(self.iterate(self.expr(e.value), e))
            else:
                out.append(self.expr(e))
        return out

    def iterate(self, value, node):
        if isinstance(value, ir.Value):
            raise self.error(node, "cannot unpack a Tensor with `*`", hint="index it instead")
        return list(value)

    def expr_Dict(self, node):
        return {self.expr(k): self.expr(v) for k, v in zip(node.keys, node.values)}

    def expr_Slice(self, node):
        parts = [self.expr(p) if p is not None else None for p in (node.lower, node.upper, node.step)]
        if any(isinstance(p, ir.Value) for p in parts):
            return self.call_prim(_P().make_slice, parts, {}, node)
        return slice(*parts)

    def expr_Subscript(self, node):
        base = self.expr(node.value)
        index = self.expr(node.slice)
        if isinstance(base, ir.Value):
            parts = list(index) if isinstance(index, tuple) else [index]
            return self.call_prim(_P().getitem, [base] + parts, {}, node)
        if isinstance(index, ir.Value):
            raise self.error(node, "cannot index the Python object `%s` with a Tensor" % _describe(base))
        try:
            value = base[index]
        except (IndexError, KeyError, TypeError) as exc:
            raise self.error(node, "indexing failed while compiling: %s" % exc) from None
        if not _hashable(index):
            return self.materialize(value, _path_hint(node.value))
        return self.read_from(base, value, lambda s: s.item(index), _path_hint(node.value))

    def expr_BinOp(self, node):
        left, right = node.left, node.right
        if isinstance(node.op, g.Mult):
            # (-a) * b is -(a * b) exactly; written so, a * b can be shared (x * x in -x * x).
            for neg, other, flip in ((left, right, False), (right, left, True)):
                if isinstance(neg, g.UnaryOp) and isinstance(neg.op, g.USub):
                    a, b = self.expr(neg.operand), self.expr(other)
                    if isinstance(a, ir.Value) or isinstance(b, ir.Value):
                        product = self.apply(operator.mul, [b, a] if flip else [a, b], {}, node)
                        return self.apply(operator.neg, [product], {}, node)
                    return self.apply(operator.mul, [-a, b] if not flip else [b, -a], {}, node)
        return self.apply(BINOPS[type(node.op)], [self.expr(left), self.expr(right)], {}, node)

    def expr_UnaryOp(self, node):
        operand = self.expr(node.operand)
        if isinstance(operand, ir.Value):
            if isinstance(node.op, g.Not):
                return self.call_prim(_P().logical_not, [operand], {}, node)
            if isinstance(node.op, g.UAdd):
                return operand
        return self.apply(UNARYOPS[type(node.op)], [operand], {}, node)

    def expr_Compare(self, node):
        left = self.expr(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators):
            right = self.expr(right_node)
            fn = CMPOPS[type(op)]
            if isinstance(op, (g.Is, g.IsNot, g.In, g.NotIn)) and (
                    isinstance(left, ir.Value) or isinstance(right, ir.Value)):
                raise self.error(node, "`%s` on a Tensor is not supported" % type(op).__name__.lower())
            step = self.apply(fn, [left, right], {}, node)
            result = step if result is None else self.apply(
                _P().logical_and, [result, step], {}, node)
            left = right
        return result

    def expr_BoolOp(self, node):
        """``and``/``or`` short-circuit on values known now, as Python does; between Tensor
        values they become logical_and/logical_or."""
        is_and = isinstance(node.op, g.And)
        result = _UNSET
        for value_node in node.values:
            value = self.expr(value_node)
            if result is _UNSET or not isinstance(result, ir.Value):
                result = value          # a known value that did not decide: Python takes the next
            else:
                prim = _P().logical_and if is_and else _P().logical_or
                result = self.call_prim(prim, [result, value], {}, node)
            if not isinstance(result, ir.Value) and (not result if is_and else bool(result)):
                return result
        return result

    def expr_IfExp(self, node):
        test = self.expr(node.test)
        if not isinstance(test, ir.Value):
            return self.expr(node.body if test else node.orelse)
        # `a if cond else b` on a Tensor: an if op with one result; only the taken side runs.
        values = []
        for branch in (node.body, node.orelse):
            sub = self.child(self.env)
            with self.ctx.region() as ops:
                values.append((ops, sub.expr(branch)))
        (then_ops, a), (else_ops, b) = values
        return self.emit_if(node, test, then_ops, else_ops, [(None, a, b)])[0]

    def expr_ListComp(self, node):
        """``[f(x) for x in xs if c]`` over Python iterables: built now, element by element."""
        out = []
        self._comprehend(node, node.generators, dict(self.env), out)
        return out

    def _comprehend(self, node, generators, env, out):
        gen, rest = generators[0], generators[1:]
        iterable = self.child(env).expr(gen.iter)
        if isinstance(iterable, (ir.Value, SymbolicRange)):
            raise self.error(node, "a comprehension over a Tensor or a run-time range is not supported",
                             hint="use a for loop over range(...)")
        for item in iterable:
            sub = self.child(dict(env))
            sub.assign(gen.target, item)
            if not all(_known_true(sub, sub.expr(c), c) for c in gen.ifs):
                continue
            if rest:
                self._comprehend(node, rest, sub.env, out)
            else:
                out.append(sub.expr(node.elt))

    def stmt_FunctionDef(self, node):
        if node.decorator_list:
            raise self.error(node, "decorated nested functions are not supported",
                             hint="define the function at module level")
        self.env[node.name] = LocalFunction(self, node, node.name)

    def expr_Lambda(self, node):
        return LocalFunction(self, node, "<lambda>")

    def expr_JoinedStr(self, node):
        parts = []
        for v in node.values:
            if isinstance(v, g.Constant):
                parts.append(str(v.value))
            else:
                value = self.expr(v.value)
                if isinstance(value, ir.Value):
                    raise self.error(node, "an f-string of a Tensor value is not supported",
                                     hint="print the Tensor with print(x) instead")
                parts.append(format(value, self.expr(v.format_spec) if v.format_spec else ""))
        return "".join(parts)

    def expr_FormattedValue(self, node):
        return self.expr(node.value)

    def expr_Call(self, node):
        func = self.expr(node.func)
        args = self.elements(node.args)
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is None:
                kwargs.update(self.expr(kw.value))
            else:
                kwargs[kw.arg] = self.expr(kw.value)
        return self.apply(func, args, kwargs, node)

    # -- calls ------------------------------------------------------------------------------
    def apply(self, func, args, kwargs, node):
        """Call ``func`` on abstract arguments: emit, fold, or inline."""
        if isinstance(func, BoundMethod):
            return self.inline(func.fn, [func.self_value] + list(args), kwargs, node)
        if isinstance(func, LocalFunction):
            return func.call(args, kwargs, node)
        if is_gradient_function(func):
            from .higher import inline_gradient
            return inline_gradient(self, func, args, kwargs, node)
        if is_gradient_maker(func) and not _has_values(args):
            return self.run_now(func, args, kwargs, node)
        if isinstance(func, ir.Value):
            raise self.error(node, "calling a Tensor value is not supported")
        if isinstance(func, Prim):
            return self.call_prim(func, args, kwargs, node)
        if getattr(func, "_adjoint_compile_time", False):
            try:
                return func(*args, **kwargs)    # inspects abstract values, decides now
            except SourceError as exc:          # (one with no place is about this call)
                if exc.loc is not None:
                    raise
                raise self.error(node, exc.message, exc.hint) from None
        has_values = _has_values(args) or _has_values(list(kwargs.values()))
        if not has_values and _key(func) in _PYTHON_OPERATORS:
            return self.run_now(func, args, kwargs, node)      # 2 * 3 stays a Python int
        target = lookup(func)
        if target is not None:
            if isinstance(target, Prim):
                return self.call_prim(target, args, kwargs, node)
            return self.inline(target, args, kwargs, node)
        if getattr(func, "_adjoint_static", False) and not has_values:
            return func(*args, **kwargs)
        special = SPECIAL_CALLS.get(_key(func))
        if special is not None:
            return special(self, args, kwargs, node)
        if func in PURE_BUILTINS and not has_values:
            return self.run_now(func, args, kwargs, node)
        owner = getattr(func, "__self__", None)
        if isinstance(owner, (list, dict, set)):
            if self.ctx.source_of(owner) is not None:          # a list from outside: changed at
                return self.opaque_call(func, args, kwargs, node, pure=False)   # every call
            return self.run_now(func, args, kwargs, node)      # xs.append(h): Python bookkeeping
        if func in CONTAINER_BUILTINS and not any(isinstance(a, ir.Value) for a in args):
            return self.run_now(func, args, kwargs, node)      # enumerate((x, y)), zip(...)
        if is_cell(func):
            if callable(getattr(type(func), "bprop", None)):
                return self.bprop_call(func, args, kwargs, node)
            return self.inline(type(func).construct, [func] + list(args), kwargs, node)
        if isinstance(func, types.MethodType) and isinstance(func.__func__, types.FunctionType):
            return self.inline(func.__func__, [func.__self__] + list(args), kwargs, node)
        if isinstance(func, types.FunctionType):
            return self.inline(func, args, kwargs, node)
        if isinstance(func, type):
            if not has_values:                  # objects are made while compiling
                return self.run_now(func, args, kwargs, node)
            return self.opaque_call(func, args, kwargs, node)   # float(x): when it runs
        if isinstance(func, np.vectorize) and lookup(func.pyfunc) is not None:
            return self.apply(func.pyfunc, args, kwargs, node)     # np.vectorize(math.erf)
        call = getattr(type(func), "__call__", None)
        # (NumPy's callable objects, np.vectorize(f)..., run as they are: inlined, an error
        # would name a line of NumPy's source instead of the user's)
        if isinstance(call, types.FunctionType) and not (call.__module__ or "").startswith("numpy"):
            return self.inline(call, [func] + list(args), kwargs, node)
        pure = is_pure_callable(func, kwargs)
        if not has_values and pure:
            return self.run_now(func, args, kwargs, node)
        # Random numbers, the clock, I/O...: called when the gradient runs, every time.
        return self.opaque_call(func, args, kwargs, node, pure)

    def opaque_call(self, func, args, kwargs, node, pure=True):
        """A call adjoint has no rule for: kept as is, made when the generated code runs (with
        no derivative: differentiating through it is an error). An impure one is never merged
        with another or dropped."""
        operands = [ir.Const(func)] + [self.operand(a, node) for a in args]
        operands += [self.operand(v, node) for v in kwargs.values()]
        prim = _P().call if pure else _P().call_effect
        return self.ctx.emit(prim, operands, self.loc(node), self.role, kwnames=tuple(kwargs))

    def bprop_call(self, cell, args, kwargs, node):
        """A Cell with a ``bprop`` method: its construct runs as usual; its gradient is bprop's."""
        from .control import CUSTOM
        if kwargs:
            raise self.error(node, "call a Cell that has a bprop with positional arguments only")
        with self.ctx.region() as ops:
            result = self.inline(type(cell).construct, [cell] + list(args), {}, node)
        flat, tree = flatten(result)
        results = [ir.Value() for _ in flat]
        op = ir.Op(CUSTOM, [self.operand(a, node) for a in args], None, self.loc(node), self.role,
                   blocks=[ir.Block(ops, [], [self.operand(f, node) for f in flat])], results=results)
        op.attrs["bprop"] = (cell, tree)
        self.ctx.ops.append(op)
        return tree.unflatten(results)

    def run_now(self, func, args, kwargs, node):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            raise self.error(node, "calling `%s` while compiling failed: %s: %s"
                             % (_callable_name(func), type(exc).__name__, exc)) from None

    def call_prim(self, prim, args, kwargs, node):
        try:
            bound = prim.bind(args, kwargs)
        except TypeError as exc:
            raise self.error(node, "bad arguments for `%s`: %s" % (prim.name, exc)) from None
        operands = [self.operand(a, node) for a in bound]
        if prim.pure and not any(isinstance(a, ir.Value) for a in operands):
            folded = self.fold(prim, operands)
            if folded is not _NOFOLD:
                return folded
        if prim is _P().tuple_getitem:
            src = operands[0]
            if isinstance(src, ir.Value) and src.op is not None and src.op.prim is _P().make_tuple \
                    and isinstance(operands[1], ir.Const):
                picked = src.op.args[operands[1].value]
                return picked if isinstance(picked, ir.Value) else picked.value
        return self.ctx.emit(prim, operands, self.loc(node), self.role)

    def fold(self, prim, operands):
        try:
            positional, keywords = prim.split([o.value for o in operands])
            result = prim.impl(*positional, **keywords)
        except Exception:
            return _NOFOLD
        if is_literal(result):
            return result
        return _NOFOLD

    def operand(self, value, node):
        """An op argument: Values stay, known objects become Consts, tuples of Values are built."""
        if isinstance(value, ir.Value):
            return value
        if isinstance(value, (tuple, list)) and _has_values(value):
            parts = [self.operand(v, node) for v in value]
            return self.ctx.emit(_P().make_tuple, parts, self.loc(node), self.role)
        if isinstance(value, BoundMethod):
            raise self.error(node, "a Tensor method must be called here")
        if is_array_object(value):
            return self.ctx.input_for(value, "const")
        return ir.Const(value)

    def inline(self, fn, args, kwargs, node, loc_override=None, role=None):
        """Lower the body of the Python function ``fn`` with its parameters bound to ``args``."""
        where = self.loc(node)
        src = parse_function(fn, where)
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise SourceError("bad call of %s: %s" % (src.qualname, exc), where) from None
        bound.apply_defaults()
        if self.ctx.depth >= MAX_DEPTH:
            raise SourceError("calls nest more than %d deep (is %s recursive?)" % (MAX_DEPTH, src.qualname),
                              where, hint="adjoint inlines calls; recursion is not supported")
        if loc_override is None and _is_library(fn):
            loc_override = self.loc_override or where
        elif loc_override is None:
            loc_override = self.loc_override
        inner = Lowerer(self.ctx, src, fn, dict(bound.arguments), loc_override, role or self.role)
        self.ctx.depth += 1
        try:
            return inner.run()
        finally:
            self.ctx.depth -= 1


_NOFOLD = object()
_UNSET = object()
_PYTHON_OPERATORS = {id(f) for f in list(BINOPS.values()) + list(UNARYOPS.values()) + list(CMPOPS.values())}


def _key(obj):
    return id(obj)


# NumPy functions that write to their arguments, touch files or global state.
_NUMPY_EFFECTS = {"copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis", "save",
                  "savez", "savez_compressed", "savetxt", "load", "loadtxt", "genfromtxt", "fromfile",
                  "tofile", "seterr", "seterrcall", "set_printoptions", "setbufsize", "memmap"}
_PURE_MODULES = ("math", "cmath", "operator")


def is_pure_callable(func, kwargs=None):
    """Is calling ``func`` on constants the same now and at every run? (So it may be called
    while compiling.) math, operator, NumPy except np.random and what writes or does I/O,
    and ufuncs without ``out=``; anything else is called when the generated code runs."""
    if kwargs and "out" in kwargs:
        return False
    if func in PURE_BUILTINS:
        return True
    if isinstance(func, np.ufunc):
        return True
    owner = getattr(func, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        return False                    # a method of an object (rng.normal, file.write...)
    module = getattr(func, "__module__", None) or ""
    if module in _PURE_MODULES:
        return True
    if module == "numpy" or module.startswith("numpy.") and not module.startswith("numpy.random"):
        return getattr(func, "__name__", "") not in _NUMPY_EFFECTS
    return False


def _hashable(value):
    try:
        hash(value)
        return True
    except TypeError:
        return False


def _is_library(fn):
    module = getattr(fn, "__module__", "") or ""
    return module == "adjoint" or module.startswith("adjoint.")


def _describe(obj):
    return type(obj).__name__ if not isinstance(obj, types.ModuleType) else obj.__name__


def _callable_name(fn):
    if isinstance(fn, np.vectorize):
        return "np.vectorize(%s)" % _callable_name(fn.pyfunc)
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    if module.startswith("numpy"):
        module = "np" + "".join("." + part for part in module.split(".")[1:] if not part.startswith("_"))
    return "%s.%s" % (module, name) if module and module != "builtins" else name


def _path_hint(node):
    """``self.lin.weight`` -> 'self_lin_weight': the name an input gets in generated code."""
    parts = []
    while isinstance(node, g.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, g.Name):
        parts.append(node.id)
    return "_".join(reversed(parts)) or "const"


def _hint_for(node):
    hints = {
        "Try": "exceptions cannot be differentiated; check inputs before calling the gradient",
        "With": "move the `with` block outside construct",
        "Global": "pass the value as an argument or keep it on the Cell",
        "Nonlocal": "return the value instead of assigning to an outer variable",
        "Yield": "return a tuple instead of yielding",
        "YieldFrom": "return a tuple instead of yielding",
        "Await": "construct must be an ordinary (not async) function",
        "AsyncFunctionDef": "construct must be an ordinary (not async) function",
        "Lambda": "write the function with def",
        "ListComp": "build the list with a for loop",
        "Delete": "just stop using the variable",
        "Raise": "check inputs before calling the gradient",
    }
    return hints.get(type(node).__name__)
