"""``GradFunction``: the callable that ``GradOperation(...)(net)`` and ``adjoint.grad(...)`` return.

A call unwraps Tensors, finds the compiled adjoint for this configuration (a dict look-up when
nothing has changed), runs it on raw arrays, and wraps the gradients in the dtypes MindSpore
gives them. ``.source`` and ``.ir`` show the generated code.
"""
import inspect
import os
import re
import types
import warnings

import numpy as np

from .compiler import cache, hooks
from .compiler.hooks import EPOCH
from .compiler.pipeline import ARRAY, SCALAR, Request, compile_request
from .compiler.checks import enabled as checks_enabled
from .compiler.runtime import is_duck_array, unknown_shape_message
from .compiler.namespaces import is_namespace_array, namespace_for
from .compiler.sources import CALL, Source, snapshot
from .compiler.specialize import rerunnable, specialize
from .compiler.trees import flatten, map_leaves
from .errors import AdjointError, ArgumentError, GradRuntimeError, shown_path
from .tensor import Parameter, Tensor, unwrap

_SCALARS = (float, int, complex)
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
    if type(a) in _SCALARS or isinstance(a, np.generic):
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
        loops or look-ups, and returns _MISS for any other call. ``n_tangents``: forward mode's
        tangents, after the arguments."""
        types = tuple(type(a) for a in args)
        stub = self._stubs.get(types)
        if stub is None:
            stub = self._stubs[types] = _make_stub(self, types, args, sens, n_tangents,
                                                   special=SPECIALIZE_AT == 1)
        return stub

    def upgrade(self, stub, args, sens, n_tangents):
        """The second call through ``stub``: replace it by one with a special version (built
        now, not at the first call: a gradient called once never pays for it). Returns _MISS,
        so that the caller looks the stub up again."""
        types = tuple(type(a) for a in args[:len(self.pattern)])
        if self._stubs.get(types) is stub:
            self._stubs[types] = _make_stub(self, types, args, sens, n_tangents, special=True)
        return _MISS


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
            if out is not _MISS:
                return out
        if kwargs or self.prefix_args or self.prefix_kwargs or any(type(a) in _CONTAINERS for a in args):
            from .calling import call_structured      # keywords, pytrees, partial's arguments
            return call_structured(self, args, kwargs)
        inputs = args
        if self.sens:
            if not args:
                raise ArgumentError("%s(sens_param=True): the last argument must be the sens "
                                    "(the output's gradient); no arguments were given" % self.api)
            _unwrap_sens(args[-1])            # checks what the sens is
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
        if out is _MISS:    # it made way for one with a special version (_Entry.upgrade)
            stub = self._stub = entry.stub(inputs, self.sens, self.n_tangents)
            out = stub(args)
        if out is _MISS:    # cannot happen: the stub was made for these very arguments
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
            if type(args[p]) in _CONTAINERS:
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
        if kwargs or self.prefix_args or self.prefix_kwargs or any(type(a) in _CONTAINERS for a in args):
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


_CONTAINERS = (tuple, list, dict)


def _fast_table(target):
    d = getattr(target, "__dict__", None)
    if d is None:
        return {}
    table = d.get("_adjoint_fast")
    if table is None:
        table = {}
        object.__setattr__(target, "_adjoint_fast", table)   # (Cell.__setattr__ would count a change)
    return table


def _unwrap_sens(sens):
    """The sens's leaves as arrays (or numbers): a Tensor, or a tuple of them for a tuple output."""
    def leaf(s):
        if isinstance(s, Tensor):
            return s._data
        if isinstance(s, (np.ndarray, np.generic)) or type(s) in _SCALARS or is_duck_array(s) \
                or is_namespace_array(s):
            return s
        raise ArgumentError("the sens must be a Tensor (or a tuple of Tensors for a tuple output); got %s"
                            % type(s).__name__)
    return map_leaves(leaf, sens)


def _sens_for(sens, compiled):
    """The sens as the generated code takes it: one array for a single output, else a flat
    tuple with one per output; a clear error when its structure is not the output's."""
    leaves, given = flatten(_unwrap_sens(sens))
    tree = getattr(compiled, "sens_tree", compiled.output_tree)
    if tree.n_leaves == 1 and len(leaves) == 1:
        return leaves[0]
    if len(leaves) != tree.n_leaves or _loose(given) != _loose(tree):
        raise ArgumentError("the sens must have the structure of %s's output, %s; got %s"
                            % (compiled.qualname, tree.describe(), given.describe()))
    return tuple(leaves)


def _loose(tree):
    """A tree's structure with tuples and lists alike (either may carry a sens)."""
    return tree.describe().replace("[", "(").replace("]", ")")


_MISS = object()


def _make_stub(entry, types, args, sens, n_tangents=0, special=False):
    """Generate the call path for arguments of these types (see _Entry.stub)."""
    n = len(types)
    names = ["a%d" % i for i in range(n)]
    env = {"_S": EPOCH, "_EPOCH": entry.epoch, "_MISS": _MISS, "_FN": entry.compiled.fn,
           "_TC": _tensor_cast, "_T": _tensor, "_C": _cast, "_WV": _wrap_value, "_AE": AdjointError, "_RE": _runtime_error,
           "_COMPILED": entry.compiled, "_US": _sens_for, "_unwrap": unwrap, "_snap": snapshot,
           "_KS": _known_shape, "_SC": _scalar_or_lazy}
    checks = ["type(%s) is not _t%d" % (a, i) for i, a in enumerate(names)]
    for i, t in enumerate(types):
        env["_t%d" % i] = t
    call = []
    known = []                      # arrays of other libraries must know their shapes (Dask)
    for i, k in enumerate(entry.pattern):
        if k == "D":
            known.append("    _KS(a%d, %d)" % (i, i))
        if k == "X":                # (same type, another device: another entry)
            env["_dv%d" % i] = _device(args[i])
            known.append("    if _DV(a%d) != _dv%d: return _MISS" % (i, i))
            env["_DV"], env["_XC"] = _device, _cast_namespace
        if isinstance(k, str):
            call.append("%s._data" % names[i] if k == "T" else names[i])
        elif type(args[i]) in _CONTAINERS:  # (a tuple of arrays may not compare: _same)
            env["_k%d" % i] = args[i]
            env["_same"] = _same_constant
            checks.append("not _same(a%d, _k%d)" % (i, i))
        else:                       # a constant the code was compiled for
            env["_k%d" % i] = args[i]
            checks.append("not (a%d is _k%d or a%d == _k%d)" % (i, i, i, i))
    guards = []
    for j, g in enumerate(entry.call_guards):
        read = _read_code(g.source, entry, env)
        env["_e%d" % j] = g.expected
        if g.mode == "is":
            guards.append("%s is not _e%d" % (read, j))
        elif g.mode == "==":
            env["_ty%d" % j] = type(g.expected)
            guards.append("type(_v) is not _ty%d or _v != _e%d" % (j, j))
            guards[-1] = ("(_v := %s, " % read) + guards[-1] + ")[1]"
        else:
            guards.append("_snap(%s) != _e%d" % (read, j))
    for j, (source, tier) in enumerate(entry.compiled.input_sources):
        if tier == CALL:            # read again at every call
            call.append("_unwrap(%s)" % _read_code(source, entry, env))
            continue
        obj = env["_i%d" % j] = source.read(entry.fn, entry.self_obj)
        call.append("_i%d._data" % j if isinstance(obj, Tensor) else "_i%d" % j)
    for j, w in enumerate(entry.weights):
        env["_dt%d" % j] = w._data.dtype
    tensors = "T" in entry.pattern or bool(entry.weights)
    duck = "D" in entry.pattern

    def wrap(layout, expr, facts=None):
        """``facts`` (a special version's, compiler/specialize.py): 'float' or the dtype of a
        fresh array, per leaf, where known: no conversion, or only a type check."""
        if layout and isinstance(layout[0], str):
            kind, i = layout
            if kind == "dw":
                if facts is not None and facts == env["_dt%d" % i]:
                    return "(_T(_v) if type(_v := %s) is _nd else _TC(_v, _dt%d))" % (expr, i)
                return "_TC(%s, _dt%d)" % (expr, i)
            if kind == "dx":
                k = entry.pattern[i]
                if k == "T":
                    if facts is not None and facts == args[i]._data.dtype:
                        return "(_T(_v) if type(_v := %s) is _nd else _TC(_v, a%d._data.dtype))" % (expr, i)
                    return "_TC(%s, a%d._data.dtype)" % (expr, i)
                if k == "A" and facts is not None and facts == args[i].dtype:
                    return "(_v if type(_v := %s) is _nd else _C(_v, a%d.dtype))" % (expr, i)
                if k in ("A", "D"):
                    return "_C(%s, a%d.dtype)" % (expr, i)
                if k == "X":
                    return "_XC(%s, a%d.dtype)" % (expr, i)
                if facts == "float" and types[i] is float:
                    return expr
                if duck:            # a number's gradient may be a lazy 0-d array: kept so
                    return "_SC(%s, _t%d)" % (expr, i)
                return "_t%d(%s)" % (i, expr)
            if not tensors and facts == "float":
                return expr
            return "_WV(%s, %r)" % (expr, tensors)
        subs = facts if facts is not None else (None,) * len(layout)
        parts = [wrap(sub, "%s[%d]" % (expr, k), f) for k, (sub, f) in enumerate(zip(layout, subs))]
        if all(p == "%s[%d]" % (expr, k) for k, p in enumerate(parts)):
            return expr                 # (the special version returns it as it is laid out)
        return "(%s)" % "".join(p + ", " for p in parts) if len(parts) == 1 else "(%s)" % ", ".join(parts)

    argc = n + (1 if sens else 0) + n_tangents
    lines = ["def stub(args):",
             "    if _S[0] != _EPOCH or len(args) != %d:" % argc,
             "        return _MISS"]
    if n:
        lines.append("    %s, = args%s" % (", ".join(names), "" if argc == n else "[:%d]" % n))
        lines.append("    if %s:" % " or ".join(checks))
        lines.append("        return _MISS")
        lines += known
    if not special and SPECIALIZE_AT > 1 and _may_specialize(entry):
        env["_n"], env["_UP"] = [SPECIALIZE_AT - 1], entry.upgrade
        lines += ["    if not _n[0]:",      # called again: the special version is worth making
                  "        return _UP(stub, args, %r, %d)" % (bool(sens), n_tangents),
                  "    _n[0] -= 1"]
    if guards:                      # what compilation read from outside still holds
        lines += ["    try:",
                  "        if %s:" % " or ".join(guards),
                  "            return _MISS",
                  "    except Exception:",
                  "        return _MISS"]
    if sens:
        call.append("_US(args[-1], _COMPILED)")
    call.extend("_unwrap(args[%d])" % (n + k) for k in range(n_tangents))
    if "X" in entry.pattern:        # a NumPy sens or tangent joins the arguments' namespace
        like = names[entry.pattern.index("X")]
        env["_XN"] = _in_namespace_of
        call[len(call) - n_tangents - (1 if sens else 0):] = [
            "_XN(%s, %s)" % (c, like) for c in call[len(call) - n_tangents - (1 if sens else 0):]]
    special = _special_call(entry, args, call, env) if special and _may_specialize(entry) else None
    if special is None:
        run = ["        r = _FN(%s)" % ", ".join(call)]
    else:                           # a version for arguments shaped as at the first call
        guard, facts = special
        if all(c.isidentifier() for c in call):      # the arguments as they came: no copies
            xs, run = ", ".join(call), []
            guard = re.sub(r"\b_x(\d+)\b", lambda m: call[int(m.group(1))], guard)
        else:
            xs = ", ".join("_x%d" % i for i in range(len(call)))
            run = ["        %s = %s" % (xs, ", ".join(call))] if len(call) > 1 else \
                  ["        %s = %s" % (xs, call[0])] if call else []
        fast = ["    try:",
                "        r = _FS(%s)" % xs,
                "    except Exception:",              # (math.log(0.0)...): the general code decides
                "        r = _MISS",
                "    if r is not _MISS:",
                "        return " + wrap(entry.compiled.layout, "r", facts)]
        if guard:
            fast = ["    if %s:" % guard] + ["    " + line for line in fast]
        run += ["    " + line for line in fast] + ["        r = _FN(%s)" % xs]
        env["_nd"] = np.ndarray
    lines += ["    try:"] + run + [
              "    except (_AE, AssertionError):",   # the user's own asserts fail as in Python
              "        raise",
              "    except Exception as exc:",
              "        raise _RE(exc, _COMPILED) from exc",
              "    return " + wrap(entry.compiled.layout, "r")]
    exec("\n".join(lines), env)
    return env["stub"]



# The call at which a stub makes its special version (compiler/specialize.py): the second by
# default (a gradient called once never pays for it); 1 at the first (the tests and the
# fuzzer: every gradient they check runs it), 0 never.
SPECIALIZE_AT = int(os.environ.get("ADJOINT_SPECIALIZE_AT", "2"))


def _may_specialize(entry):
    """A special version may be made: a gradient with no effects (run again when the special
    one raises), not split (vjp), not checking its invariants (ADJOINT_CHECK), on NumPy arrays
    (not Dask's, nor a namespace's: specialize.py rebuilds NumPy code)."""
    compiled = entry.compiled
    return (getattr(compiled, "func", None) is not None and compiled.pullback is None
            and not checks_enabled() and "D" not in entry.pattern and "X" not in entry.pattern
            and getattr(compiled.func, "in_place_ok", True) and rerunnable(compiled.func))


def _special_call(entry, args, call, env):
    """The guard for a special version of the gradient (compiler/specialize.py) for calls
    like this one, with that version in ``env['_FS']``; None when it would not pay."""
    compiled = entry.compiled
    values = []
    for i, k in enumerate(entry.pattern):
        if isinstance(k, str):
            values.append(args[i]._data if k == "T" else args[i])
    for j, (source, tier) in enumerate(compiled.input_sources):
        obj = env.get("_i%d" % j)
        values.append(obj._data if isinstance(obj, Tensor) else obj)   # (None: read at each call)
    values += [None] * (len(call) - len(values))                       # sens, tangents
    floats = [type(v) is float for v in values]
    arrays = [type(v) is np.ndarray for v in values]
    shapes = [v.shape if a else None for a, v in zip(arrays, values)]
    dtypes = [v.dtype if a else None for a, v in zip(arrays, values)]
    try:
        special = specialize(compiled, shapes, dtypes, floats, compiled.header)
    except Exception:                   # (an unforeseen IR: the general code is still right)
        return None
    if special is None:
        return None
    generated, facts = special
    env["_FS"] = generated.fn
    guard, first = [], {}
    for i, (shape, dtype) in enumerate(zip(shapes, dtypes)):
        if shape is None:
            continue
        k = first.setdefault(shape, i)
        if k != i:
            guard.append("_x%d.shape == _x%d.shape" % (i, k))
        env["_xd%d" % i] = dtype
        guard.append("_x%d.dtype is _xd%d" % (i, i))
    return " and ".join(guard), facts


def _read_code(source, entry, env):
    """Python for reading ``source`` again in a stub (its fixed objects put in ``env``)."""
    name = "_r%d" % len(env)
    kind = source.root[0]
    if kind == "global_in":
        env[name] = source.root[1]
        text = "%s[%r]" % (name, source.root[2])
    elif kind in ("closure", "cell"):
        env[name] = entry.fn.__closure__[source.root[1]] if kind == "closure" else source.root[1]
        text = name + ".cell_contents"
    else:
        env[name] = Source(source.root).read(entry.fn, entry.self_obj)
        text = name
    for k, (step, key) in enumerate(source.steps):
        if step == "attr":
            text = "%s.%s" % (text, key) if key.isidentifier() else "getattr(%s, %r)" % (text, key)
        elif type(key) in (int, str):
            text = "%s[%r]" % (text, key)
        else:
            env["%s_%d" % (name, k)] = key
            text = "%s[%s_%d]" % (text, name, k)
    return text


def _same_constant(a, k):
    try:
        return a is k or bool(a == k)
    except Exception:
        return False


def _tensor(array):
    """A Tensor of a fresh NumPy array (no cast, no copy)."""
    t = Tensor.__new__(Tensor)
    t._data = array
    return t


def _tensor_cast(g, dtype):
    """A gradient as a Tensor of ``dtype`` (see _cast). An array of another library (a Dask
    array) is returned as it is, cast lazily: wrapping it in a Tensor would compute it."""
    if type(g) is np.ndarray:
        if g.dtype != dtype:
            g = g.astype(dtype)
        elif not g.flags.writeable:
            g = g.copy()
    else:
        g = _cast(g, dtype)
        if type(g) is not np.ndarray:
            return g
    t = Tensor.__new__(Tensor)
    t._data = g
    return t


def _scalar_or_lazy(g, kind):
    """The gradient of a number argument as that kind of number, unless it is a lazy array
    (a call on Dask arrays): then that array, so nothing is computed."""
    return g if is_duck_array(g) else kind(g)


def _device(x):
    from array_api_compat import device
    return device(x)


def _in_namespace_of(value, like):
    """``value`` (an array, a number, or a tuple of them) as arrays of ``like``'s namespace."""
    from array_api_compat import array_namespace
    from .compiler.runtime_xp import to_namespace
    return map_leaves(lambda v: to_namespace(array_namespace(like), v, like), value)


def _cast_namespace(g, dtype):
    """The gradient of an array of a namespace, in that array's dtype (in its namespace)."""
    if getattr(g, "dtype", dtype) == dtype:
        return g
    from array_api_compat import array_namespace
    return array_namespace(g).astype(g, dtype)


def _known_shape(a, i):
    """Gradients need shapes: refuse a Dask array with unknown chunk sizes (NaN in its shape)."""
    shape = getattr(a, "shape", ())
    if any(n != n for n in shape):
        raise ArgumentError("argument %d: %s" % (i, unknown_shape_message(a)))


def _wrap_value(v, tensors):
    if not tensors:
        return v
    return map_leaves(lambda x: Tensor(np.asarray(x)) if isinstance(x, (np.ndarray, np.generic)) else x, v)


def _cast(g, dtype):
    """The gradient in the dtype of its input (MindSpore's rule), writeable. An array of
    another library keeps its type and is cast with its own (lazy) ``astype``."""
    if type(g) is not np.ndarray:
        if is_duck_array(g):
            return g if g.dtype == dtype else g.astype(dtype)
        g = np.asarray(g)
    if g.dtype != dtype:
        return g.astype(dtype)
    if not g.flags.writeable:
        return g.copy()
    return g


def _runtime_error(exc, compiled):
    """A GradRuntimeError naming the user's line for an exception raised in generated code."""
    tb = exc.__traceback__
    loc = None
    unknown = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == compiled.generated.filename:
            loc = compiled.generated.line_locs.get(tb.tb_lineno, loc)
            unknown = _unknown_shapes(tb.tb_frame.f_locals) or unknown
        tb = tb.tb_next
    what = "%s: %s" % (type(exc).__name__, exc)
    if unknown:                     # a Dask array with unknown chunk sizes made the shapes NaN
        what += ("\n(the gradient needs shapes, and %s %s unknown sizes: a Dask array whose rows "
                 "were selected by a mask? call `.compute_chunk_sizes()` on it, or select with "
                 "np.where instead)" % (", ".join(unknown), "has" if len(unknown) == 1 else "have"))
    if loc is None:
        return GradRuntimeError("the gradient of %s failed: %s" % (compiled.qualname, what))
    return GradRuntimeError("%s:%d: %s\n    %s\n(in the gradient of %s; generated code: %s)"
                            % (shown_path(loc.file), loc.line, what, loc.text.strip(),
                               compiled.qualname, compiled.generated.filename))


def _unknown_shapes(names):
    """'X (shape (nan, 3))' for each array among a frame's locals whose shape has NaNs."""
    out = []
    for name, v in names.items():
        shape = getattr(v, "shape", None) if is_duck_array(v) else None
        if type(shape) is tuple and any(n != n for n in shape):
            out.append("`%s` (shape %s)" % (name, shape))
    return out


hooks.register_gradient_function(GradFunction)
