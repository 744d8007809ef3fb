"""Tail recursion as a loop: ``def shrink(x): return shrink(x * 0.5) if x.sum() > 1 else x``.

adjoint compiles calls by inlining them, so a function that calls itself to a depth decided by
its data would be inlined forever. When every call of a function to itself is a tail call
(``return f(...)``, also as a branch of ``return a if c else b``), the function is the loop

    def shrink(x):
        while True:
            shrink                      # (read, so the compiled code is guarded on the name)
            if x.sum() > 1:
                x = x * 0.5
                continue
            return x

which the rest of the compiler keeps as a loop on a Tensor condition (a while op with a tape)
or unrolls when the condition is known while compiling. Anything else (a call to itself whose
result is then used, one inside a loop, keyword-only or variadic parameters) is left as it
was: a depth known while compiling still inlines, a data-dependent one is refused.
"""
import copy

from . import gastutil

g = gastutil.nodes


class _NotTail(Exception):
    pass


def loop_for_tail_calls(node, fn):
    """``node`` (the FunctionDef of ``fn``) with its self tail calls made a loop, or ``node``."""
    name = node.name
    if not _refers_to(fn, name) or not _calls(node.body, name):
        return node
    args = node.args
    if args.vararg or args.kwarg or args.kwonlyargs or getattr(args, "posonlyargs", None):
        return node
    params = [a.id for a in args.args]
    try:
        body = _statements(node.body, name, params)
    except _NotTail:
        return node
    new = copy.copy(node)
    read_name = g.Expr(value=g.Name(id=name, ctx=g.Load(), annotation=None, type_comment=None))
    end = g.Return(value=g.Constant(value=None, kind=None))     # (falling off the end)
    loop = g.While(test=g.Constant(value=True, kind=None), body=[read_name] + body + [end], orelse=[])
    for n in (read_name, read_name.value, end, end.value, loop, loop.test):
        g.copy_location(n, node.body[0])
    new.body = [loop]
    return new


def _refers_to(fn, name):
    """Does ``name`` inside ``fn`` mean ``fn`` itself (a module-level def)?"""
    return getattr(fn, "__globals__", {}).get(name) is fn and name not in fn.__code__.co_freevars


def _calls(nodes, name):
    return any(isinstance(n, g.Call) and isinstance(n.func, g.Name) and n.func.id == name
               for node in nodes for n in g.walk(node))


def _statements(stmts, name, params):
    out = []
    for s in stmts:
        if isinstance(s, g.Return) and s.value is not None and _calls([s.value], name):
            out.extend(_tail_return(s, s.value, name, params))
        elif isinstance(s, g.If):
            new = copy.copy(s)
            if _calls([s.test], name):
                raise _NotTail()
            new.body = _statements(s.body, name, params)
            new.orelse = _statements(s.orelse, name, params)
            out.append(new)
        elif _calls([s], name):
            raise _NotTail()            # (in a loop, an assignment, an expression...)
        else:
            out.append(s)
    return out


def _tail_return(stmt, value, name, params):
    """Statements for ``return value`` where ``value`` is a tail call or an ``a if c else b``
    with tail calls in it."""
    if isinstance(value, g.IfExp):
        if _calls([value.test], name):
            raise _NotTail()
        branch = g.If(test=value.test, body=_tail_return(stmt, value.body, name, params),
                      orelse=_tail_return(stmt, value.orelse, name, params))
        return [g.copy_location(branch, value)]
    if not _calls([value], name):
        return [g.copy_location(g.Return(value=value), stmt)]
    if not (isinstance(value, g.Call) and isinstance(value.func, g.Name) and value.func.id == name):
        raise _NotTail()                # f(x) + 1: the result is used
    args = _bind(value, params)
    if _calls(args, name):
        raise _NotTail()
    targets = g.Tuple(elts=[g.Name(id=p, ctx=g.Store(), annotation=None, type_comment=None)
                            for p in params], ctx=g.Store())
    assign = g.Assign(targets=[targets], value=g.Tuple(elts=args, ctx=g.Load()), type_comment=None)
    for n in (assign, targets, *targets.elts, assign.value):
        g.copy_location(n, value)
    return [assign, g.copy_location(g.Continue(), value)]


def _bind(call, params):
    """The argument expression for each parameter (every one given, no * or **)."""
    if len(call.args) > len(params) or any(isinstance(a, g.Starred) for a in call.args):
        raise _NotTail()
    bound = dict(zip(params, call.args))
    for kw in call.keywords:
        if kw.arg is None or kw.arg not in params or kw.arg in bound:
            raise _NotTail()
        bound[kw.arg] = kw.value
    if len(bound) != len(params):
        raise _NotTail()                # (defaults: left as a call)
    return [bound[p] for p in params]
