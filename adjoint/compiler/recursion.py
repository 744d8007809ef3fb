"""Recursion as loops, so its depth may depend on the data.

adjoint compiles calls by inlining them, so a function that calls itself to a depth decided by
its data would be inlined forever. A function whose calls of itself are all in ``return``
statements (``return f(...)``, ``return x + f(...)``, also as a branch of ``a if c else b``)
is rewritten, before lowering, into loops over its levels:

    def nested(x):                          def nested(x):
        if x.sum() > 1:                         _depth, _x_at = 0, []
            return x + nested(x * 0.5)          while True:
        return x                                    nested     # (read: the code is guarded on it)
                                                    if x.sum() > 1:
                                                        _x_at.append(x)      # what the rest needs
                                                        _depth = _depth + 1
                                                        x = x * 0.5
                                                        continue
                                                    _result = x
                                                    break
                                                for _level in range(_depth):  # back up the levels
                                                    x = _x_at[_depth - 1 - _level]
                                                    _result = x + _result
                                                return _result

The first loop goes down (a tail call, ``return f(...)``, just moves on; a call whose result
the return expression uses saves, per level, the values that expression reads), the second
comes back up. With only tail calls there is no way back, and a return inside the loop ends
the function. The compiler keeps each loop a loop op on a Tensor condition (tapes, reverse
sweeps, lists built at run time) or unrolls it when the depth is known while compiling.
Left as it was (a depth known while compiling still inlines, a data-dependent one is refused):
two different return expressions that use the result, a call of itself outside a return or in
a loop, keyword-only, variadic or defaulted parameters left out.
"""
import copy

from . import gastutil

g = gastutil.nodes

RESULT, DEPTH, LEVEL = "_result", "_depth", "_level"


class _Unsupported(Exception):
    pass


def recursion_as_loops(node, fn):
    """``node`` (the FunctionDef of ``fn``) with its recursion made loops, or ``node``."""
    name = node.name
    if not _refers_to(fn, name) or not _calls(node.body, name):
        return node
    args = node.args
    if args.vararg or args.kwarg or args.kwonlyargs or getattr(args, "posonlyargs", None):
        return node
    rewrite = _Rewrite(name, [a.id for a in args.args], node.body)
    try:
        rewrite.find_way_up(node.body)
        body = rewrite.statements(node.body)
    except _Unsupported:
        return node
    new = copy.copy(node)
    read_name = g.Expr(value=_name(name))
    if rewrite.up is None:                      # tail calls only: returns end the function
        end = g.Return(value=g.Constant(value=None, kind=None))
        loop = g.While(test=g.Constant(value=True, kind=None), body=[read_name] + body + [end], orelse=[])
        new.body = [loop]
    else:
        end = [_assign(RESULT, g.Constant(value=None, kind=None)), g.Break()]
        loop = g.While(test=g.Constant(value=True, kind=None), body=[read_name] + body + end, orelse=[])
        new.body = rewrite.start() + [loop] + rewrite.back_up()
    for n in g.walk(g.Module(body=new.body, type_ignores=[])):
        if not hasattr(n, "lineno") and isinstance(n, (g.stmt, g.expr)):
            g.copy_location(n, node.body[0])
    return new


class _Rewrite:
    """The statements of the way down; ``up``: the return expression of the way back up (with
    the call replaced by ``_result``) and the names it reads."""

    def __init__(self, name, params, body):
        self.name, self.params = name, params
        self.local = set(params) | {n.id for s in body for n in g.walk(s)
                                    if isinstance(n, g.Name) and isinstance(n.ctx, g.Store)}
        self.up = None
        self.saved = []

    def find_way_up(self, stmts):
        """The return expression that uses the call's result (at most one kind of them)."""
        for s in stmts:
            for n in g.walk(s):
                if isinstance(n, g.Return) and n.value is not None:
                    for value in _returned_values(n.value):
                        if _calls([value], self.name) and not _is_call_of(value, self.name):
                            call, up = _split(value, self.name)
                            if self.up is not None and gastutil.dump(up) != gastutil.dump(self.up):
                                raise _Unsupported()        # two different ways back up
                            self.up = up
                            self.saved = [v for v in _reads(up, exclude=(RESULT, self.name))
                                          if v in self.local]

    def statements(self, stmts):
        out = []
        for s in stmts:
            if isinstance(s, g.Return) and s.value is not None and _calls([s.value], self.name):
                out.extend(self.returned(s, s.value))
            elif isinstance(s, g.Return):
                out.extend(self.base(s, s.value))
            elif isinstance(s, g.If):
                if _calls([s.test], self.name):
                    raise _Unsupported()
                new = copy.copy(s)
                new.body = self.statements(s.body)
                new.orelse = self.statements(s.orelse)
                out.append(new)
            elif _calls([s], self.name) or (self.up is not None and _returns(s)):
                raise _Unsupported()    # (in a loop, an assignment, an expression...)
            else:
                out.append(s)
        return out

    def base(self, stmt, value):
        """``return value`` without a call of itself: the bottom level (or, with tail calls
        only, the end of the function)."""
        if value is None:
            value = g.Constant(value=None, kind=None)
        if self.up is None:
            return [g.copy_location(g.Return(value=value), stmt)]
        return [g.copy_location(_assign(RESULT, value), stmt), g.copy_location(g.Break(), stmt)]

    def returned(self, stmt, value):
        """Statements for ``return value`` where ``value`` calls the function."""
        if isinstance(value, g.IfExp):
            if _calls([value.test], self.name):
                raise _Unsupported()
            branch = g.If(test=value.test, body=self.returned_or_base(stmt, value.body),
                          orelse=self.returned_or_base(stmt, value.orelse))
            return [g.copy_location(branch, value)]
        if _is_call_of(value, self.name):
            return self.go_down(value)
        call, _ = _split(value, self.name)
        pushes = [g.Expr(value=g.Call(func=g.Attribute(value=_name(_stack(v)), attr="append", ctx=g.Load()),
                                      args=[_name(v)], keywords=[])) for v in self.saved]
        count = _assign(DEPTH, g.BinOp(left=_name(DEPTH), op=g.Add(), right=g.Constant(value=1, kind=None)))
        return [g.copy_location(n, value) for n in pushes + [count]] + self.go_down(call)

    def returned_or_base(self, stmt, value):
        if _calls([value], self.name):
            return self.returned(stmt, value)
        return self.base(stmt, value)

    def go_down(self, call):
        args = _bind(call, self.params)
        if _calls(args, self.name):
            raise _Unsupported()
        targets = g.Tuple(elts=[_name(p, store=True) for p in self.params], ctx=g.Store())
        assign = g.Assign(targets=[targets], value=g.Tuple(elts=args, ctx=g.Load()), type_comment=None)
        return [g.copy_location(assign, call), g.copy_location(g.Continue(), call)]

    def start(self):
        """``_depth = 0``, ``_result = 0.0`` (set at the bottom) and an empty list per saved
        name, before the way down."""
        return [_assign(DEPTH, g.Constant(value=0, kind=None)),
                _assign(RESULT, g.Constant(value=0.0, kind=None))] + [
            _assign(_stack(v), g.List(elts=[], ctx=g.Load())) for v in self.saved]

    def back_up(self):
        """The loop over the levels, last first, then ``return _result``."""
        index = g.BinOp(left=g.BinOp(left=_name(DEPTH), op=g.Sub(), right=g.Constant(value=1, kind=None)),
                        op=g.Sub(), right=_name(LEVEL))
        body = [_assign(v, g.Subscript(value=_name(_stack(v)), slice=index, ctx=g.Load()))
                for v in self.saved]
        body.append(_assign(RESULT, self.up))
        loop = g.For(target=_name(LEVEL, store=True),
                     iter=g.Call(func=_name("range"), args=[_name(DEPTH)], keywords=[]),
                     body=body, orelse=[], type_comment=None)
        return [loop, g.Return(value=_name(RESULT))]


def _returns(stmt):
    return any(isinstance(n, g.Return) for n in g.walk(stmt))


def _split(value, name):
    """(the one call of ``name`` in ``value``, ``value`` with that call as ``_result``)."""
    calls = [n for n in g.walk(value) if _is_call_of(n, name)]
    if len(calls) != 1 or any(isinstance(n, (g.Lambda, g.ListComp, g.SetComp, g.DictComp, g.GeneratorExp))
                              for n in g.walk(value)):
        raise _Unsupported()
    return calls[0], _replace(value, calls[0])


def _returned_values(value):
    """The values a return expression may give: both branches of ``a if c else b``."""
    if isinstance(value, g.IfExp):
        return _returned_values(value.body) + _returned_values(value.orelse)
    return [value]


def _replace(value, call):
    """A copy of ``value`` with ``call`` replaced by ``_result`` (the rest shared)."""
    if value is call:
        return g.copy_location(_name(RESULT), call)
    new = copy.copy(value)
    for field, old in g.iter_fields(value):
        if isinstance(old, list):
            setattr(new, field, [_replace(v, call) if isinstance(v, g.AST) else v for v in old])
        elif isinstance(old, g.AST):
            setattr(new, field, _replace(old, call))
    return new


def _reads(expr, exclude):
    """The names ``expr`` reads, in order (each once)."""
    out = []
    for n in g.walk(expr):
        if isinstance(n, g.Name) and isinstance(n.ctx, g.Load) and n.id not in exclude and n.id not in out:
            out.append(n.id)
    return out


def _stack(v):
    return "_%s_at" % v


def _name(id_, store=False):
    return gastutil.name(id_, store=store)


def _assign(target, value):
    return g.Assign(targets=[_name(target, store=True)], value=value, type_comment=None)


def _refers_to(fn, name):
    """Does ``name`` inside ``fn`` mean ``fn`` itself (a module-level def)?"""
    return getattr(fn, "__globals__", {}).get(name) is fn and name not in fn.__code__.co_freevars


def _is_call_of(node, name):
    return isinstance(node, g.Call) and isinstance(node.func, g.Name) and node.func.id == name


def _calls(nodes, name):
    return any(_is_call_of(n, name) for node in nodes for n in g.walk(node))


def _bind(call, params):
    """The argument expression for each parameter (every one given, no * or **)."""
    if len(call.args) > len(params) or any(isinstance(a, g.Starred) for a in call.args):
        raise _Unsupported()
    bound = dict(zip(params, call.args))
    for kw in call.keywords:
        if kw.arg is None or kw.arg not in params or kw.arg in bound:
            raise _Unsupported()
        bound[kw.arg] = kw.value
    if len(bound) != len(params):
        raise _Unsupported()            # (defaults: left as a call)
    return [bound[p] for p in params]
