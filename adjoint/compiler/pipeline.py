"""The whole compiler for one request: lower -> differentiate -> optimize -> generate -> compile.

A ``Request`` says what to differentiate (which arguments, which Parameters, with a sens or
not, with aux outputs or not) and how the result is laid out; ``compile_request`` returns a
``Compiled`` that holds the generated function, its source and its IR before and after.
"""
import inspect
import os
import time


from ..errors import SourceError
from . import codegen, ir, names
from .fence import check_function
from .cache import array_paths
from .frontend import parse_function
from .lower import Context, Lowerer
from .passes import optimize
from .reverse import differentiate
from .verify import verify

ARRAY = "<array>"       # an argument that is an array at run time
SCALAR = "<scalar>"     # an argument that is a number at run time (shape (): no broadcasting)


class Request:
    """What gradient to build.

    ``layout`` is a nested tuple whose leaves are ('dx', i) (gradient of argument i),
    ('dw', j) (gradient of weight j), ('out', None) (the whole output), ('out', k), or
    ('aux', None) (the outputs after the first, as a tuple).
    """

    def __init__(self, positions, n_weights, sens, has_aux, layout, optimize=True):
        self.positions, self.n_weights = tuple(positions), n_weights
        self.sens, self.has_aux, self.layout = sens, has_aux, layout
        self.optimize = optimize

    def key(self):
        return (self.positions, self.n_weights, self.sens, self.has_aux, self.layout, self.optimize)


class Compiled:
    def __init__(self, generated, inputs, ir_before, ir_after, layout, seconds, qualname):
        self.generated = generated
        self.fn = generated.fn
        self.source = generated.source
        self.inputs = inputs                  # objects read from Cells/globals, in call order
        self.ir_before, self.ir_after = ir_before, ir_after
        self.layout = layout                  # what the generated function returns (Request.layout)
        self.seconds = seconds
        self.qualname = qualname

    @property
    def ir(self):
        return "# before differentiation\n%s\n\n# after\n%s\n" % (self.ir_before, self.ir_after)


def lower(fn, self_obj, args, kwargs=None):
    """The SSA Func of ``fn`` called with ``args`` (ARRAY marks an array argument, anything
    else is a known constant), plus the Context that lists what it read from outside."""
    src = parse_function(fn)
    check_function(src)
    sig = inspect.signature(fn)
    ctx = Context()
    params, call_args = [], []
    user_params = list(sig.parameters)
    offset = 1 if self_obj is not None else 0
    scalars = set()
    for i, a in enumerate(args):
        if a is ARRAY or a is SCALAR:
            name = user_params[i + offset] if i + offset < len(user_params) else "arg%d" % i
            v = ir.Value(name)
            params.append(v)
            call_args.append(v)
            if a is SCALAR:
                scalars.add(v)
        else:
            call_args.append(a)
    if self_obj is not None:
        call_args.insert(0, self_obj)
    try:
        bound = sig.bind(*call_args, **(kwargs or {}))
    except TypeError as exc:
        raise SourceError("%s: %s" % (src.qualname, exc), src.loc(src.node)) from None
    bound.apply_defaults()
    lowerer = Lowerer(ctx, src, fn, dict(bound.arguments))
    if self_obj is not None and callable(getattr(type(self_obj), "bprop", None)):
        result = lowerer.bprop_call(self_obj, call_args[1:], kwargs or {}, src.node)
    else:
        result = lowerer.run()
    outputs = list(result) if isinstance(result, tuple) else [result]
    outputs = [lowerer.operand(o, src.node) if not isinstance(o, ir.Value) else o for o in outputs]
    func = ir.Func(src.qualname, params, ir.Block(ctx.ops), outputs, isinstance(result, tuple))
    func.scalar_params = scalars
    return func, ctx, src


def compile_request(fn, self_obj, args, weights, request, kwargs=None):
    """Compile the gradient of ``fn`` (with ``self_obj`` bound, if a method) for ``request``.

    ``weights``: the Parameter objects to differentiate with respect to, in order.
    """
    start = time.perf_counter()
    func, ctx, src = lower(fn, self_obj, args, kwargs)
    arg_params = list(func.params)
    # Weights the function never reads still get (zero) gradients: make them inputs too.
    for w in weights:
        ctx.input_for(w, getattr(w, "name", None) or "weight")
    inputs = [obj for obj, _ in ctx.inputs.values()]
    paths = array_paths(self_obj)
    for obj, v in ctx.inputs.values():
        if id(obj) in paths:       # name Parameters by where they live: self.lin.weight -> self_lin_weight
            v.name = "_".join(["self"] + [str(p) for p in paths[id(obj)]])
    refs = [ctx.refs.get(id(obj), ("obj", obj)) for obj in inputs]
    input_values = [v for _, v in ctx.inputs.values()]
    for obj, v in ctx.inputs.values():
        v.name = v.name or "const"
    func.params = arg_params + input_values
    check = _checker()
    if check:
        check(func, "lowering")
    ir_before = str(func)

    wrt = [arg_params[_array_index(args, i)] for i in request.positions]
    wrt += [ctx.inputs[id(w)][1] for w in weights]
    seeded = [0] if request.has_aux else None
    adj = differentiate(func, wrt, request.sens, seeded)
    n_out = len(func.outputs)
    outputs, grads = adj.outputs[:n_out], adj.outputs[n_out:]
    n_pos = len(request.positions)

    def resolve(leaf):
        kind, i = leaf
        if kind == "dx":
            return grads[request.positions.index(i)]
        if kind == "dw":
            return grads[n_pos + i]
        if kind == "out":
            if i is None:
                return tuple(outputs) if func.tuple_output else outputs[0]
            return outputs[i]
        if kind == "aux":
            return tuple(outputs[1:])
        raise AssertionError(leaf)

    returns = _map_layout(request.layout, resolve)
    adj.outputs = [v for v in ir.leaves(returns) if isinstance(v, ir.Value)]
    if check:
        check(adj, "differentiation")
    if request.optimize:
        adj = optimize(adj, check)
    # optimize may have replaced returned values: re-resolve through the final outputs
    returns = _relink(returns, adj)
    ir_after = str(adj)
    name = names.function_name(src.qualname)
    header = "Generated by adjoint from %s (%s). Do not edit." % (src.qualname, os.path.basename(src.file))
    generated = codegen.build(adj, name, returns, header)
    compiled = Compiled(generated, inputs, ir_before, ir_after, request.layout,
                        time.perf_counter() - start, src.qualname)
    compiled.refs = refs
    compiled.func, compiled.returns = adj, returns   # for inlining into a higher-order gradient
    return compiled


def _checker():
    """The IR verifier after every stage, when ADJOINT_VERIFY is set (the test suite sets it)."""
    if os.environ.get("ADJOINT_VERIFY", "") not in ("", "0"):
        return verify
    return None


def _array_index(args, i):
    """Position among the array arguments of argument ``i``."""
    if args[i] is not ARRAY and args[i] is not SCALAR:
        raise SourceError("argument %d is not a Tensor and cannot be differentiated" % i)
    return sum(1 for a in args[:i] if a is ARRAY or a is SCALAR)


def _map_layout(layout, fn):
    if isinstance(layout, tuple) and layout and isinstance(layout[0], str):
        return fn(layout)
    return tuple(_map_layout(x, fn) for x in layout)


def _relink(returns, adj):
    """After optimization, returned Values may have been replaced; follow adj.outputs."""
    it = iter(adj.outputs)

    def walk(v):
        if isinstance(v, tuple):
            return tuple(walk(x) for x in v)
        if isinstance(v, ir.Value):
            return next(it)
        return ir.Const(v) if not isinstance(v, ir.Const) else v

    return walk(returns)
