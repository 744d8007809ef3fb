"""``GradFunction``: the callable that ``GradOperation(...)(net)`` and ``adjoint.grad(...)`` return.

A call unwraps Tensors, finds the compiled adjoint for this configuration (a dict look-up when
nothing has changed), runs it on raw arrays, and wraps the gradients in the dtypes MindSpore
gives them. ``.source`` and ``.ir`` show the generated code.
"""
import inspect
import types
import warnings

import numpy as np

from . import stubs
from .compiler import cache, hooks
from .compiler.hooks import EPOCH
from .compiler.pipeline import ARRAY, SCALAR, Request, compile_request
from .compiler.runtime import is_duck_array
from .compiler.namespaces import is_namespace_array, namespace_for
from .compiler.sources import CALL
from .errors import AdjointError, ArgumentError
from .stubs import CONTAINERS, MISS, SCALARS, make_stub, unwrap_sens
from .tensor import Parameter, Tensor

_RUNTIME_KINDS = ("T", "A", "S", "D", "X")  # argument kinds that are values at run time


def _kind(a):
    """How an argument enters compiled code: 'T' Tensor, 'A' ndarray, 'S' Python number,
    'D' an array of another library that implements NumPy's ``__array_function__`` protocol
    (a Dask array: passed as it is, so it stays lazy); anything else is a compile-time
    constant and is part of the key itself."""
    if isinstance(a, Tensor):
        return "T"
    if isinstance(a, np.ndarray):
        return "A"
    if type(a) in SCALARS or isinstance(a, np.generic):
        return "S"
    if is_namespace_array(a):      # torch, JAX, CuPy...: code against its array namespace
        return "X"
    if is_duck_array(a):
        return "D"
    try:
        hash(a)
    except TypeError:
        raise ArgumentError("cannot pass a %s here: arguments must be Tensors, arrays, numbers or "
                            "hashable constants" % type(a).__name__) from None
    return ("K", a)


class _Entry:
    """A compiled adjoint bound to one target: where it reads its inputs, the guards checked
    at every call, and call stubs."""

    __slots__ = ("epoch", "compiled", "fn", "self_obj", "pattern", "weights", "call_guards", "_stubs")

    def __init__(self, epoch, compiled, fn, self_obj, pattern, weights):
        self.epoch, self.compiled, self.fn, self.self_obj = epoch, compiled, fn, self_obj
        self.pattern, self.weights, self._stubs = pattern, weights, {}
        self.call_guards = [g for g in compiled.guards if g.tier == CALL]

    def valid(self):
        """Nothing changed since this entry was made: no Cell, and no value a guard checks."""
        return self.epoch == EPOCH[0] and all(g.holds(self.fn, self.self_obj) for g in self.call_guards)

    def stub(self, args, sens, n_tangents=0):
        """The call path for calls like this one (same argument types and constants, nothing
        changed since): generated once, it checks the guards, unwraps, calls and wraps with no
        loops or look-ups, and returns MISS for any other call. ``n_tangents``: forward mode's
        tangents, after the arguments."""
        types = tuple(type(a) for a in args)
        stub = self._stubs.get(types)
        if stub is None:
            stub = self._stubs[types] = make_stub(self, types, args, sens, n_tangents,
                                                   special=stubs.SPECIALIZE_AT == 1)
        return stub

    def upgrade(self, stub, args, sens, n_tangents):
        """The second call through ``stub``: replace it by one with a special version (built
        now, not at the first call: a gradient called once never pays for it). Returns MISS,
        so that the caller looks the stub up again."""
        types = tuple(type(a) for a in args[:len(self.pattern)])
        if self._stubs.get(types) is stub:
            self._stubs[types] = make_stub(self, types, args, sens, n_tangents, special=True)
        return MISS


class GradFunction:
    def __init__(self, target, weights=None, single_weight=False, layout_fn=None, sens=False,
                 has_aux=False, api="GradOperation", optimize=True, mode="vjp", n_tangents=0, split=False):
        from .targets import resolve
        self.target = target
        # what is compiled: fn (bound to self_obj); a functools.partial's arguments come first
        resolved = resolve(target, api)
        self.fn, self.self_obj = resolved.fn, resolved.self_obj
        self.prefix_args, self.prefix_kwargs = resolved.args, resolved.kwargs
        self.title, self.names_from = resolved.title, resolved.signature_of
        self.mode = mode
        self.n_tangents = n_tangents     # forward mode: the call ends with this many tangents
        self.split = split               # ops.vjp: a forward part and a pullback (calling.py)
        self.weights = list(weights or ())
        for w in self.weights:
            if not isinstance(w, Parameter):
                raise ArgumentError("%s: weights must be Parameters; got %s" % (api, type(w).__name__))
        self.single_weight = single_weight
        self.layout_fn = layout_fn
        self.sens, self.has_aux, self.api = sens, has_aux, api
        self.optimize = optimize
        self._stub = None          # the last call's fast path (see _Entry.stub)
        self._own_fast = None      # entries, when the target cannot keep them (see _fast_table)
        self._seen = {}            # structured calls by their arguments' fingerprint (calling.py)
        self._config = (layout_fn.__qualname__ if layout_fn else None, getattr(layout_fn, "key", None),
                        sens, has_aux, single_weight, optimize, tuple(map(id, self.weights)), mode, split)

    # -- calling ----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        stub = self._stub
        if stub is not None and not kwargs:
            out = stub(args)
            if out is not MISS:
                return out
        if kwargs or self.prefix_args or self.prefix_kwargs or any(type(a) in CONTAINERS for a in args):
            from .calling import call_structured      # keywords, pytrees, partial's arguments
            return call_structured(self, args, kwargs)
        inputs = args
        if self.sens:
            if not args:
                raise ArgumentError("%s(sens_param=True): the last argument must be the sens "
                                    "(the output's gradient); no arguments were given" % self.api)
            unwrap_sens(args[-1])            # checks what the sens is
            inputs = args[:-1]
        elif self.n_tangents:
            if len(args) < self.n_tangents:
                raise ArgumentError("%s: the call needs %d tangent(s) after the arguments"
                                    % (self.api, self.n_tangents))
            inputs = args[:-self.n_tangents]
        pattern = tuple(map(_kind, inputs))
        entry = self._entry(inputs, pattern)
        stub = self._stub = entry.stub(inputs, self.sens, self.n_tangents)
        out = stub(args)
        if out is MISS:    # it made way for one with a special version (_Entry.upgrade)
            stub = self._stub = entry.stub(inputs, self.sens, self.n_tangents)
            out = stub(args)
        if out is MISS:    # cannot happen: the stub was made for these very arguments
            raise AdjointError("internal error: no call path for %s" % self.fn.__qualname__)
        return out

    def _entry(self, args, pattern):
        fast = self._fast_table()
        key = (self._config, pattern)
        if "X" in pattern:          # (the library and device are part of what was compiled)
            key += (namespace_for([(i, a) for i, (a, k) in enumerate(zip(args, pattern)) if k == "X"]).key,)
        entry = fast.get(key)
        if entry is not None and entry.valid():
            return entry
        entry = self._slow_entry(args, pattern)
        fast[key] = entry
        return entry

    def _slow_entry(self, args, pattern):
        self._check_arity(args)
        paths = cache.array_paths(self.self_obj)
        weight_keys = tuple(("path", paths[id(w)]) if id(w) in paths else ("id", id(w))
                            for w in self.weights)
        request = self.request(args)
        request.duck_arrays = "D" in pattern
        if "X" in pattern:
            if "D" in pattern:
                raise ArgumentError("a call takes arrays of one library besides NumPy: Dask arrays and "
                                    "arrays of an array-API library cannot be mixed")
            request.namespace = namespace_for([(i, a) for i, (a, k) in enumerate(zip(args, pattern)) if k == "X"])
        # By code, not function object: the closures one def makes share compiled versions
        # (each version's guards check what it read from the closure).
        key = (self.fn.__code__, id(self.fn.__globals__), request.key(), pattern, weight_keys,
               cache.structure(self.self_obj) if self.self_obj is not None else None)
        compiled, reason = cache.find(key, self.fn, self.self_obj)
        if compiled is None:
            marks = [SCALAR if k == "S" else ARRAY if k in _RUNTIME_KINDS else a for a, k in zip(args, pattern)]
            kinds = [{"T": "tensor", "A": "ndarray", "S": "number"}.get(k) if isinstance(k, str) else None
                     for k in pattern]
            compiled = compile_request(self.fn, self.self_obj, marks, self.weights, request, kinds=kinds,
                                       names=self._names(len(args)), qualname=self.title)
            cache.store(key, compiled, reason)
        return _Entry(EPOCH[0], compiled, self.fn, self.self_obj, pattern, self.weights)

    def _names(self, n):
        """The arguments' names in generated code: the parameters' of what was differentiated
        (the inner function of grad(grad(f)), of a partial...), or None (fn's own)."""
        if self.names_from is None:
            return None
        from .targets import argument_names
        return argument_names(self.names_from, n)

    def _check_arity(self, args, kwargs=None):
        sig = inspect.signature(self.fn, follow_wrapped=False)
        bound_args = ((self.self_obj,) if self.self_obj is not None else ()) + tuple(args)
        try:
            sig.bind(*bound_args, **(kwargs or {}))
        except TypeError as exc:
            if kwargs:
                raise ArgumentError("%s(): %s" % (self.fn.__qualname__, exc)) from None
            raise ArgumentError(_arity_message(self.fn, sig, len(bound_args))) from None

    def _fast_table(self):
        """Entries by configuration and argument pattern: kept on the Cell or function itself (so
        gradient functions made anew for it share them), else on this gradient function."""
        from .nn.cell import Cell
        if isinstance(self.target, (Cell, types.FunctionType)):
            return _fast_table(self.target)
        if self._own_fast is None:
            self._own_fast = {}
        return self._own_fast

    def _adjoint_structure(self):
        """What compiled code that calls this gradient function depends on (its key in the
        cache when it is itself differentiated: grad(grad(f))). The function and what it is
        bound to are part of it by identity: the inlined gradient reads their closure cells,
        Parameters and a partial's arrays where they are (the key keeps them alive)."""
        from .targets import Identity, constant_spec
        return (self.fn, Identity(self.self_obj), self._config,
                cache.structure(self.self_obj) if self.self_obj is not None else None,
                constant_spec(self.prefix_args), constant_spec(self.prefix_kwargs))

    def request(self, args):
        """The Request (what to differentiate, how to lay it out) for a call with ``args``."""
        positions, layout = self.layout_fn(len(args), len(self.weights), self.single_weight)
        for p in positions:
            if p >= len(args):
                raise ArgumentError("%s: cannot differentiate argument %d of %s: it was called with "
                                    "%d argument(s)" % (self.api, p, self.fn.__qualname__, len(args)))
            if type(args[p]) in CONTAINERS:
                continue                    # a pytree: its leaves are checked where it is flattened
            if _kind(args[p]) not in _RUNTIME_KINDS:
                raise ArgumentError("%s differentiates argument %d of %s, which must be a Tensor, "
                                    "an array or a number; got %s %r"
                                    % (self.api, p, self.fn.__qualname__, type(args[p]).__name__, args[p]))
            _warn_if_integer(self, p, args[p])
        return Request(positions, len(self.weights), self.sens, self.has_aux, layout, self.optimize,
                       self.mode, self.split)

    # -- inspection -------------------------------------------------------------------------
    def compiled(self, *args, **kwargs):
        """The Compiled adjoint for these example arguments (default: every parameter a Tensor)."""
        if not args and not kwargs:
            args = self._example_args()
        if self.n_tangents:
            args = args[:-self.n_tangents]
        if kwargs or self.prefix_args or self.prefix_kwargs or any(type(a) in CONTAINERS for a in args):
            from .calling import structured_entry
            return structured_entry(self, args, kwargs)[0].compiled
        if self.sens:
            args = args[:-1]
        return self._entry(args, tuple(map(_kind, args))).compiled

    def _example_args(self):
        if self.names_from is not None:             # a wrapped callable: its parameters
            from .targets import example_args
            args = example_args(self.names_from, len(self.prefix_args))
            return args + ((None,) if self.sens else ()) + args[:self.n_tangents]
        sig = inspect.signature(self.fn, follow_wrapped=False)
        params = list(sig.parameters.values())[1 if self.self_obj is not None else 0:]
        args = []
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
                break
            args.append(Tensor(np.zeros(1, np.float32)))
        if self.sens:
            args.append(None)
        return tuple(args) + tuple(args[:self.n_tangents])

    @property
    def source(self):
        """The generated adjoint, as a self-contained Python module."""
        return self.compiled().source

    @property
    def ir(self):
        """The SSA IR, printed, before and after differentiation."""
        return self.compiled().ir


_WARNED_INTEGER = set()


def _warn_if_integer(gradfn, p, arg):
    """MindSpore casts the gradient of an integer input to its integer dtype (truncating it);
    adjoint does too, but NumPy users (JAX and autograd raise or give floats) hear it once."""
    if (isinstance(arg, np.ndarray) or _kind(arg) == "D") and np.dtype(arg.dtype).kind in "iub":
        what, dtype = "an integer array", arg.dtype
    elif type(arg) in (int, bool) or (isinstance(arg, np.generic) and arg.dtype.kind in "iub"):
        what, dtype = "an integer", type(arg).__name__
    else:
        return
    key = (gradfn.fn.__code__, p)
    if key in _WARNED_INTEGER:
        return
    _WARNED_INTEGER.add(key)
    warnings.warn("%s differentiates argument %d of %s, %s: as in MindSpore, its gradient is "
                  "computed as if it were real and then cast to %s (truncated); pass floats for "
                  "float gradients" % (gradfn.api, p, gradfn.fn.__qualname__, what, dtype),
                  cache.AdjointWarning, stacklevel=4)


def _arity_message(fn, sig, given):
    """Python's own wording: 'Net.construct() takes 2 positional arguments but 3 were given'."""
    params = [p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p.name for p in params if p.default is p.empty]
    name = fn.__qualname__ + "()"
    if given > len(params):
        takes = ("%d positional argument%s" % (len(params), "" if len(params) == 1 else "s")
                 if len(required) == len(params) else
                 "from %d to %d positional arguments" % (len(required), len(params)))
        return "%s takes %s but %d %s given" % (name, takes, given, "was" if given == 1 else "were")
    missing = required[given:]
    quoted = ["'%s'" % m for m in missing]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    return "%s missing %d required positional argument%s: %s" % (
        name, len(missing), "" if len(missing) == 1 else "s", listed)


def _fast_table(target):
    d = getattr(target, "__dict__", None)
    if d is None:
        return {}
    table = d.get("_adjoint_fast")
    if table is None:
        table = {}
        object.__setattr__(target, "_adjoint_fast", table)   # (Cell.__setattr__ would count a change)
    return table


hooks.register_gradient_function(GradFunction)
