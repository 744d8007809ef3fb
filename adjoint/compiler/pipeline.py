"""The whole compiler for one request: lower -> differentiate -> optimize -> generate -> compile.

A ``Request`` says what to differentiate (which arguments, which Parameters, with a sens or
not, with aux outputs or not) and how the result is laid out; ``compile_request`` returns a
``Compiled`` that holds the generated function, its source and its IR before and after.
"""
import inspect
import os
import time


from ..errors import SourceError
import numpy as np

from . import checks, codegen, gastutil, ir, names
from .fence import check_function
from .cache import array_paths
from .frontend import parse_function
from .lower import Context, Lowerer
from .passes import optimize
from .prims import is_literal
from .sources import EPOCH, Source, path_source
from .trees import flatten, map_leaves
from .reverse import differentiate
from .hooks import unwrap
from .runtime import is_duck_array
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
        self.checks = checks.enabled()      # ADJOINT_CHECK: run-time invariants in the code
        # Some arguments are arrays of another library (Dask): loop accumulators are then not
        # updated in place (``dW += g`` cannot write a Dask g into a NumPy dW).
        self.duck_arrays = False

    def key(self):
        return (self.positions, self.n_weights, self.sens, self.has_aux, self.layout, self.optimize,
                self.checks, self.duck_arrays)


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
    ctx = Context(fn, self_obj)
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
    given = set(bound.arguments)
    bound.apply_defaults()
    env = dict(bound.arguments)
    for name in env:
        if name not in given:           # a default value: read from the function, guarded
            env[name] = ctx.read(env[name], Source(("default", name)), EPOCH, name)
    lowerer = Lowerer(ctx, src, fn, env)
    if self_obj is not None and callable(getattr(type(self_obj), "bprop", None)):
        result = lowerer.bprop_call(self_obj, call_args[1:], kwargs or {}, src.node)
    else:
        result = lowerer.run()
    leaves, tree = flatten(result)
    outputs = [o if isinstance(o, ir.Value) else ir.Const(o) for o in leaves]
    func = ir.Func(src.qualname, params, ir.Block(ctx.ops), outputs, tree)
    func.scalar_params = scalars
    return func, ctx, src


def check_outputs(func, seeded, src):
    """What a gradient differentiates must be a number or an array: refuse None, strings,
    booleans (a comparison) and other objects, at the function's return."""
    for i in seeded:
        out = func.outputs[i]
        what = None
        if isinstance(out, ir.Const):
            value = out.value
            if value is None:
                what = "None"
            elif isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, complex, np.number)):
                what = "a %s (%r)" % (type(value).__name__, value) if is_literal(value) else "a %s" % type(value).__name__
        elif out.op is not None and out.op.prim.boolean:
            what = "a boolean (the result of `%s`)" % out.op.prim.name
        if what is None:
            continue
        returns = sorted((n for n in gastutil.walk_function(src.node) if isinstance(n, gastutil.nodes.Return)),
                         key=lambda n: (n.lineno, n.col_offset))
        if returns:
            where, how = src.loc(returns[-1]), ""
        else:
            where, how = src.loc(src.node), " (it has no `return`)"
        part = "" if func.output_tree.is_leaf else " part of its result"
        raise SourceError("%s returns %s%s; only numbers and arrays%s can be differentiated"
                          % (src.qualname, what, how, part), where,
                          hint="return the value to differentiate (a loss), e.g. `return np.sum(...)`")


def compile_request(fn, self_obj, args, weights, request, kwargs=None):
    """Compile the gradient of ``fn`` (with ``self_obj`` bound, if a method) for ``request``.

    ``weights``: the Parameter objects to differentiate with respect to, in order.
    """
    start = time.perf_counter()
    func, ctx, src = lower(fn, self_obj, args, kwargs)
    arg_params = list(func.params)
    paths = array_paths(self_obj)
    # Weights the function never reads still get (zero) gradients: make them inputs too.
    for w in weights:
        if id(w) in paths:
            source = path_source(paths[id(w)])
            ctx.input_for(w, w.name or "weight", source, source.tier_of_last_step(fn, self_obj))
        else:
            ctx.input_for(w, getattr(w, "name", None) or "weight", Source(("const", w)))
    inputs = [obj for obj, _ in ctx.inputs.values()]
    for obj, v in ctx.inputs.values():
        if id(obj) in paths:       # name Parameters by where they live: self.lin.weight -> self_lin_weight
            v.name = "_".join(["self"] + [str(p) for p in paths[id(obj)]])
    sources = [ctx.input_sources.get(id(obj)) or (Source(("const", obj)), EPOCH) for obj in inputs]
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
    seeded = _seeded(func, request)
    check_outputs(func, seeded, src)
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
            return func.output_tree.unflatten(outputs)
        if kind == "aux":
            return tuple(func.output_tree.unflatten(outputs)[1:])
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
    # read by codegen_plan: loop accumulators are updated in place only on NumPy arrays
    adj.in_place_ok = not (request.duck_arrays or any(is_duck_array(unwrap(obj)) for obj in inputs))
    generated = codegen.build(adj, name, returns, header, request.checks)
    compiled = Compiled(generated, inputs, ir_before, ir_after, request.layout,
                        time.perf_counter() - start, src.qualname)
    compiled.input_sources = sources               # where each input is read again at a call
    compiled.guards = list(ctx.guards.values())    # what else compilation read from outside
    compiled.func, compiled.returns = adj, returns   # for inlining into a higher-order gradient
    compiled.output_tree = func.output_tree
    return compiled


def _seeded(func, request):
    """The indices of the outputs to differentiate: all, or with has_aux the first element's."""
    if not request.has_aux:
        return list(range(len(func.outputs)))
    tree = func.output_tree
    if tree.kind not in (tuple, list) or not tree.children:
        raise SourceError("%s must return a tuple (loss, aux...) when has_aux=True" % func.name)
    return list(range(tree.children[0].n_leaves))


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
    return map_leaves(lambda v: next(it) if isinstance(v, ir.Value) else
                      v if isinstance(v, ir.Const) else ir.Const(v), returns)
