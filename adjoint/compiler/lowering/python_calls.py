"""Python inside compiled code: builtins that need care, and functions defined locally.

``print`` becomes an effect in the forward code; ``len``, ``isinstance``, ``sum``, ``super``
and ``range`` are answered while compiling when they can be; a ``def`` or ``lambda`` inside
``construct`` is a ``LocalFunction``, lowered in place at each call.
"""
import inspect
import operator

from .. import gastutil, ir
from .. import rules as P
from ..hooks import registry
from .control import SymbolicRange

g = gastutil.nodes


class LocalFunction:
    """A def or lambda inside the code being compiled; calling it lowers its body in place,
    seeing the enclosing function's variables as they are at the call."""

    def __init__(self, lowerer, node, name):
        self.lowerer, self.node, self.name = lowerer, node, name
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or getattr(args, "posonlyargs", None):
            raise lowerer.error(node, "nested functions with *args, **kwargs or keyword-only "
                                "parameters are not supported", hint="use plain parameters")
        self.params = [a.id for a in args.args]
        self.defaults = [lowerer.expr(d) for d in args.defaults]

    def call(self, args, kwargs, node):
        outer = self.lowerer
        n_required = len(self.params) - len(self.defaults)
        bound = dict(zip(self.params[n_required:], self.defaults))
        if len(args) > len(self.params):
            raise outer.error(node, "%s() takes %d arguments but %d were given"
                              % (self.name, len(self.params), len(args)))
        bound.update(zip(self.params, args))
        for k, v in kwargs.items():
            if k not in self.params:
                raise outer.error(node, "%s() got an unexpected keyword argument '%s'" % (self.name, k))
            bound[k] = v
        missing = [p for p in self.params if p not in bound]
        if missing:
            raise outer.error(node, "%s() missing argument(s): %s" % (self.name, ", ".join(missing)))
        env = dict(outer.env)
        env.update(bound)
        sub = outer.child(env)
        sub.frame = sub.cont = None         # its own function: returns return from it
        sub.caller = outer
        if isinstance(self.node, g.Lambda):
            return sub.expr(self.node.body)
        return sub.run_body(self.node.body)


def _known_true(lowerer, value, node):
    if isinstance(value, ir.Value):
        raise lowerer.error(node, "a comprehension condition on a Tensor value is not supported",
                            hint="use np.where, or a for loop with an if")
    return bool(value)


def _special_print(lowerer, args, kwargs, node):
    operands = [lowerer.operand(a, node) for a in args]
    lowerer.ctx.emit(P.print_, operands, lowerer.loc(node), lowerer.role)
    return None


def _special_len(lowerer, args, kwargs, node):
    (value,) = args
    if isinstance(value, ir.Value) and value.kind == "list":
        return lowerer.call_prim(P.list_len, [value], {}, node)
    if isinstance(value, ir.Value):
        shape = lowerer.call_prim(P.shape, [value], {}, node)
        return lowerer.call_prim(P.getitem, [shape, 0], {}, node)
    return lowerer.run_now(len, args, kwargs, node)


def _special_isinstance(lowerer, args, kwargs, node):
    value, types_ = args
    if isinstance(value, ir.Value):
        classes = types_ if isinstance(types_, tuple) else (types_,)
        return any(c in registry.array_types or c is object for c in classes)
    return isinstance(value, types_)


def _special_super(lowerer, args, kwargs, node):
    """``super().construct(x)`` inside a method: the class and self of the enclosing method."""
    if args:
        return lowerer.run_now(super, args, kwargs, node)
    cls = lowerer.closure.get("__class__")
    params = list(inspect.signature(lowerer.fn).parameters)
    if cls is None or not params or params[0] not in lowerer.env:
        raise lowerer.error(node, "super() without arguments works only in methods")
    return super(cls, lowerer.env[params[0]])


def _special_range(lowerer, args, kwargs, node):
    if not ir.has_values(args):
        return lowerer.run_now(range, args, kwargs, node)
    if len(args) == 1:
        return SymbolicRange(0, args[0], 1)
    start, stop, step = (list(args) + [1])[:3]
    return SymbolicRange(start, stop, step)


def _special_sum(lowerer, args, kwargs, node):
    """``sum(values)`` of a Python list of Tensors: added up one by one."""
    if not args or isinstance(args[0], ir.Value) or not ir.has_values(list(args[0])):
        if args and isinstance(args[0], ir.Value):
            raise lowerer.error(node, "use np.sum or ops.sum to sum a Tensor")
        return lowerer.run_now(sum, args, kwargs, node)
    total = args[1] if len(args) > 1 else 0
    for item in args[0]:
        total = lowerer.apply(operator.add, [total, item], {}, node)
    return total


SPECIAL_CALLS = {id(super): _special_super, id(sum): _special_sum, id(print): _special_print, id(len): _special_len, id(isinstance): _special_isinstance,
                 id(range): _special_range}
