"""The whole compiler for one request: lower -> differentiate -> optimize -> generate -> compile.

A ``Request`` says what to differentiate (which arguments, which Parameters, with a sens or
not, with aux outputs or not) and how the result is laid out; ``compile_request`` returns a
``Compiled`` that holds the generated function, its source and its IR before and after.
"""
import contextlib
import inspect
import os
import sys
import time


from ..errors import SourceError
import numpy as np

from . import checks, codegen, gastutil, ir
from . import names as naming
from .fence import check_function
from .cache import array_paths
from .frontend import parse_function
from .lowering import Context, Lowerer
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

    def __init__(self, positions, n_weights, sens, has_aux, layout, optimize=True, mode="vjp", split=False):
        self.positions, self.n_weights = tuple(positions), n_weights
        self.sens, self.has_aux, self.layout = sens, has_aux, layout
        self.optimize = optimize
        # 'vjp': reverse mode (gradients); 'jvp': forward mode, the generated function takes one
        # tangent per differentiated leaf after its inputs and returns ('tan', None) leaves
        self.mode = mode
        # split: the layout is a pair (what the forward part returns, what the pullback returns);
        # the pullback takes the residuals and the sens (passes/split.py; ops.vjp)
        self.split = split
        self.checks = checks.enabled()      # ADJOINT_CHECK: run-time invariants in the code
        # Some arguments are arrays of another library (Dask): loop accumulators are then not
        # updated in place (``dW += g`` cannot write a Dask g into a NumPy dW).
        self.duck_arrays = False
        # Some arguments are arrays of an array-API library (torch, JAX...): the code is generated
        # against that namespace (compiler/namespaces.py), a Namespace
        self.namespace = None

    def key(self):
        return (self.positions, self.n_weights, self.sens, self.has_aux, self.layout, self.optimize,
                self.checks, self.mode, self.split, self.duck_arrays,
                None if self.namespace is None else self.namespace.key)


class Compiled:
    def __init__(self, generated, inputs, ir_before, ir_after, layout, seconds, qualname):
        self.generated = generated
        self.fn = generated.fn
        self.source = generated.source
        self.inputs = inputs                  # objects read from Cells/globals, in call order
        # the IR after is printed when asked for (compiled.func stays as it is: it is only ever
        # copied, by specialize.py and higher.py)
        self.ir_before, self._ir_after = ir_before, ir_after
        self.layout = layout                  # what the generated function returns (Request.layout)
        self.seconds = seconds
        self.qualname = qualname

    @property
    def ir_after(self):
        if not isinstance(self._ir_after, str):
            self._ir_after = "\n\n# pullback\n".join(map(str, self._ir_after))
        return self._ir_after

    @property
    def ir(self):
        return "# before differentiation\n%s\n\n# after\n%s\n" % (self.ir_before, self.ir_after)


def is_mark(a):
    return a is ARRAY or a is SCALAR


def has_marks(a):
    """Is ``a`` a mark, or a tuple/list/dict holding one (an argument that is a pytree)?"""
    return any(is_mark(leaf) for leaf in flatten(a)[0]) if isinstance(a, (tuple, list, dict)) else is_mark(a)


def lower(fn, self_obj, args, kwargs=None, kinds=None, names=None):
    """The SSA Func of ``fn`` called with ``args`` (ARRAY marks an array argument, SCALAR a
    number, anything else is a known constant; a tuple, list or dict may hold marks: a pytree),
    plus the Context that lists what it read from outside. ``kwargs``: keyword arguments, marked
    the same way. ``kinds``: per argument (and per leaf of a pytree), 'tensor', 'ndarray' or
    'number' when known. ``names``: the arguments' names (default: the parameters').
    The Func's parameters are the marked leaves: of the arguments in order, then of the
    keyword arguments in order of their names; ``func.arg_values[i]`` lists argument i's."""
    with _room_to_inline():
        return _lower(fn, self_obj, args, kwargs, kinds, names)


@contextlib.contextmanager
def _room_to_inline():
    """Each inlined call nests a chain of Python calls in the lowering: room for MAX_DEPTH
    levels below whatever called the gradient (a test runner's frames, say)."""
    old = sys.getrecursionlimit()
    if old < 6000:
        sys.setrecursionlimit(6000)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _lower(fn, self_obj, args, kwargs, kinds, names):
    src = parse_function(fn)
    check_function(src)
    sig = inspect.signature(fn, follow_wrapped=False)
    ctx = Context(fn, self_obj)
    params, call_args = [], []
    user_params = _param_names(sig, len(args), self_obj is not None)
    scalars = set()
    arg_values = []

    def bind_marks(a, name, kind):
        """``a`` with its marks made parameters (named ``name``, ``name_key``...)."""
        if not has_marks(a):
            return a, []
        if is_mark(a):
            leaves, tree, kind_leaves, paths = [a], None, [kind], [""]
        else:
            leaves, tree = flatten(a)
            kind_leaves = flatten(kind)[0] if isinstance(kind, (tuple, list, dict)) else [None] * len(leaves)
            paths = _leaf_paths(a)
        made, values = [], []
        for leaf, k, path in zip(leaves, kind_leaves, paths):
            if is_mark(leaf):
                v = ir.Value(name + path, kind=k)
                params.append(v)
                values.append(v)
                if leaf is SCALAR:
                    scalars.add(v)
                made.append(v)
            else:
                made.append(leaf)
        return (made[0] if tree is None else tree.unflatten(made)), values

    for i, a in enumerate(args):
        name = names[i] if names and i < len(names) else user_params[i]
        value, values = bind_marks(a, name, kinds[i] if kinds else None)
        call_args.append(value)
        arg_values.append(values)
    bound_kwargs = {}
    for key in sorted(kwargs or {}):
        bound_kwargs[key] = bind_marks(kwargs[key], key, None)[0]
    if self_obj is not None:
        call_args.insert(0, self_obj)
    try:
        bound = sig.bind(*call_args, **bound_kwargs)
    except TypeError as exc:
        raise SourceError("%s: %s" % (src.qualname, exc), src.loc(src.node)) from None
    given = set(bound.arguments)
    bound.apply_defaults()
    env = dict(bound.arguments)
    for name in env:
        kind = sig.parameters[name].kind
        if name not in given and kind not in (kind.VAR_POSITIONAL, kind.VAR_KEYWORD):
            # a default value: read from the function, guarded
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
    func.arg_values = arg_values
    return func, ctx, src


def _param_names(sig, n_args, bound_self):
    """A name for each of ``n_args`` arguments: its parameter's, ``args0``... for ``*args``."""
    params = list(sig.parameters.values())[1 if bound_self else 0:]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    star = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    return [positional[i] if i < len(positional) else
            "%s%d" % (star, i - len(positional)) if star else "arg%d" % i for i in range(n_args)]


def _leaf_paths(value):
    """``_w``, ``_0_b``...: a suffix per leaf of a pytree, from its keys and positions."""
    if isinstance(value, dict):
        return ["_%s%s" % (_key_text(k), p) for k, v in value.items() for p in _leaf_paths(v)]
    if isinstance(value, (tuple, list)):
        return ["_%d%s" % (i, p) for i, v in enumerate(value) for p in _leaf_paths(v)]
    return [""]


def _key_text(key):
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in str(key))
    return text or "k"


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


def compile_request(fn, self_obj, args, weights, request, kwargs=None, kinds=None, names=None,
                    qualname=None):
    """Compile the gradient of ``fn`` (with ``self_obj`` bound, if a method) for ``request``.

    ``weights``: the Parameter objects to differentiate with respect to, in order. ``args``,
    ``kwargs``, ``kinds``, ``names``: as ``lower`` takes them. ``qualname``: what the generated
    code says it was made from (default: fn's name).
    """
    start = time.perf_counter()
    func, ctx, src = lower(fn, self_obj, args, kwargs, kinds, names)
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
    if request.namespace is not None:      # NumPy arguments and inputs converted to the namespace
        from .namespaces import convert_inputs
        convert_inputs(func, *_host_values(func, kinds, arg_params, input_values, inputs), loc=src.loc(src.node))
    check = _checker()
    if check:
        check(func, "lowering")
    ir_before = str(func)

    wrt, starts = [], {}
    for i in request.positions:
        values = _differentiated(func, args, i)
        starts[i] = (len(wrt), len(values))
        wrt.extend(values)
    n_pos = len(wrt)
    wrt += [ctx.inputs[id(w)][1] for w in weights]
    seeded = _seeded(func, request)
    check_outputs(func, seeded, src)
    if request.mode == "jvp":
        from .forward import jvp
        adj = jvp(func, wrt, seeded)
    else:
        adj = differentiate(func, wrt, request.sens, seeded)
    n_out = len(func.outputs)
    outputs, grads = adj.outputs[:n_out], adj.outputs[n_out:]

    def resolve(leaf):
        kind, i = leaf
        if kind == "dx":
            start, n = starts[i]
            if not isinstance(args[i], (tuple, list, dict)):
                return grads[start]
            found = iter(grads[start:start + n])      # a pytree: its gradients in its structure
            return map_leaves(lambda a: next(found) if a is ARRAY or a is SCALAR else None, args[i])
        if kind == "dw":
            return grads[n_pos + i]
        if kind == "out":
            whole = func.output_tree.unflatten(outputs)
            return whole if i is None else whole[i]
        if kind == "aux":
            rest = tuple(func.output_tree.unflatten(outputs)[1:])
            # 'one': a lone aux output by itself, several as a tuple (MindSpore's jvp, vjp, jac*)
            return rest[0] if i == "one" and len(rest) == 1 else rest
        if kind == "tan":          # forward mode: the tangents of the seeded outputs
            if request.has_aux:
                return func.output_tree.children[0].unflatten(grads)
            return func.output_tree.unflatten(grads)
        raise AssertionError(leaf)

    returns = _map_layout(request.layout, resolve)
    adj.outputs = [v for v in ir.leaves(returns) if isinstance(v, ir.Value)]
    if check:
        check(adj, "differentiation")
    if request.optimize:
        adj = optimize(adj, check)
    if request.mode == "vjp" and any(op.attrs.get("recompute") for op in adj.body.ops):
        from .recompute import rematerialize       # checkpointed regions: recomputed in the reverse
        from .passes import dce
        adj = dce(rematerialize(adj))
        if check:
            check(adj, "rematerialize")
    # optimize may have replaced returned values: re-resolve through the final outputs
    returns = _relink(returns, adj)
    ir_after = (adj,)
    title = qualname or src.qualname
    name = naming.function_name(title, "jvp" if request.mode == "jvp" else "grad")
    header = "Generated by adjoint from %s (%s). Do not edit." % (title, os.path.basename(src.file))
    # read by codegen_plan: loop accumulators are updated in place only on NumPy arrays
    in_place_ok = not (request.duck_arrays or any(is_duck_array(unwrap(obj)) for obj in inputs))
    if request.namespace is not None:
        in_place_ok = request.namespace.can_mutate
    pullback = None
    if request.split:
        parts = _split(adj, returns, check)
        if parts is not None:
            adj, returns, pullback_func, pullback_returns = parts
            name = naming.function_name(title, "forward")
            pullback_func.in_place_ok = in_place_ok
            pullback_func.namespace = request.namespace
            pullback = codegen.build(pullback_func, naming.function_name(title, "pullback"), pullback_returns,
                                     header, request.checks)
            ir_after = (adj, pullback_func)
    adj.in_place_ok = in_place_ok
    adj.namespace = request.namespace       # read by codegen: NumPy code when None
    generated = codegen.build(adj, name, returns, header, request.checks)
    compiled = Compiled(generated, inputs, ir_before, ir_after, request.layout,
                        time.perf_counter() - start, title)
    # split: fn returns (first, residuals), pullback(*residuals, sens) returns second; when the
    # function cannot be split, pullback is None and fn returns (first, second) from the sens
    compiled.pullback = pullback
    compiled.header = header
    if pullback is not None:
        compiled.source = "%s\n\n%s" % (compiled.source, pullback.source)
    compiled.input_sources = sources               # where each input is read again at a call
    compiled.guards = list(ctx.guards.values())    # what else compilation read from outside
    compiled.func, compiled.returns = adj, returns   # for inlining into a higher-order gradient
    compiled.output_tree = func.output_tree
    # what a sens (or a tangent's output) is shaped like: the differentiated outputs
    compiled.sens_tree = func.output_tree.children[0] if request.has_aux else func.output_tree
    return compiled


def _host_values(func, kinds, arg_params, input_values, inputs):
    """(the parameters that are NumPy values, the first that is an array of the namespace):
    arguments of kind 'tensor', 'ndarray' or 'number', and inputs read from outside."""
    host, ref = [], None
    for k, values in zip(kinds or [], func.arg_values):
        for v in values:
            if k in ("tensor", "ndarray", "number"):
                host.append(v)
            elif ref is None:
                ref = v
    host.extend(v for v, obj in zip(input_values, inputs) if not _is_namespace_input(obj))
    if ref is None:
        raise SourceError("%s: no argument is an array of the namespace the call was compiled for" % func.name)
    return host, ref


def _is_namespace_input(obj):
    from .namespaces import is_namespace_array
    return is_namespace_array(unwrap(obj))


def _split(adj, returns, check):
    """The adjoint split where the sens (its last parameter) enters: (forward Func, what it
    returns, pullback Func, what that returns), or None."""
    from .passes.split import split
    first, second = returns
    leaves2, tree2 = flatten(second)
    parts = split(adj, [adj.params[-1]], ir.leaves(first), leaves2)
    if parts is None:
        return None
    forward, back, residuals = parts
    if check:
        check(forward, "split (forward)")
        check(back, "split (pullback)")
    return forward, (first, tuple(residuals)), back, tree2.unflatten(back.outputs)


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


def _differentiated(func, args, i):
    """The parameters of argument ``i`` (its leaves, for a pytree) to differentiate."""
    if not has_marks(args[i]):
        raise SourceError("argument %d is not a Tensor and cannot be differentiated" % i)
    return func.arg_values[i]


def _map_layout(layout, fn):
    if isinstance(layout, tuple) and layout and isinstance(layout[0], str):
        return fn(layout)
    return tuple(_map_layout(x, fn) for x in layout)


def _relink(returns, adj):
    """After optimization, returned Values may have been replaced; follow adj.outputs."""
    it = iter(adj.outputs)
    return map_leaves(lambda v: next(it) if isinstance(v, ir.Value) else
                      v if isinstance(v, ir.Const) else ir.Const(v), returns)
