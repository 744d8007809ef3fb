"""``GradFunction``: the callable that ``GradOperation(...)(net)`` and ``adjoint.grad(...)`` return.

A call unwraps Tensors, finds the compiled adjoint for this configuration (a dict look-up when
nothing has changed), runs it on raw arrays, and wraps the gradients in the dtypes MindSpore
gives them. ``.source`` and ``.ir`` show the generated code.
"""
import inspect
import types

import numpy as np

from .compiler import cache
from .compiler.pipeline import ARRAY, SCALAR, Request, compile_request
from .errors import AdjointError, ArgumentError, GradRuntimeError
from .tensor import STRUCTURE, Parameter, Tensor, unwrap

_SCALARS = (float, int, complex)
_RUNTIME_KINDS = ("T", "A", "S")       # argument kinds that are values at run time


def _kind(a):
    """How an argument enters compiled code: 'T' Tensor, 'A' ndarray, 'S' Python number;
    anything else is a compile-time constant and is part of the key itself."""
    if isinstance(a, Tensor):
        return "T"
    if isinstance(a, np.ndarray):
        return "A"
    if type(a) in _SCALARS or isinstance(a, np.generic):
        return "S"
    try:
        hash(a)
    except TypeError:
        raise ArgumentError("cannot pass a %s here: arguments must be Tensors, arrays, numbers or "
                            "hashable constants" % type(a).__name__) from None
    return ("K", a)


class _Entry:
    """A compiled adjoint bound to one target: the objects it reads, and call stubs."""

    __slots__ = ("epoch", "compiled", "inputs", "refs", "pattern", "weights", "_stubs")

    def __init__(self, epoch, compiled, inputs, refs, pattern, weights):
        self.epoch, self.compiled, self.inputs, self.refs = epoch, compiled, inputs, refs
        self.pattern, self.weights, self._stubs = pattern, weights, {}

    def stub(self, args, sens):
        """The call path for calls like this one (same argument types and constants, nothing
        changed since): generated once, it unwraps, calls and wraps with no loops or look-ups,
        and returns _MISS for any other call."""
        types = tuple(type(a) for a in args)
        stub = self._stubs.get(types)
        if stub is None:
            stub = self._stubs[types] = _make_stub(self, types, args, sens)
        return stub


class GradFunction:
    def __init__(self, target, weights=None, single_weight=False, layout_fn=None, sens=False,
                 has_aux=False, api="GradOperation", optimize=True):
        self.target = target
        self.fn, self.self_obj = _unbind(target)
        self.weights = list(weights or ())
        for w in self.weights:
            if not isinstance(w, Parameter):
                raise ArgumentError("%s: weights must be Parameters; got %s" % (api, type(w).__name__))
        self.single_weight = single_weight
        self.layout_fn = layout_fn
        self.sens, self.has_aux, self.api = sens, has_aux, api
        self.optimize = optimize
        self._stub = None          # the last call's fast path (see _Entry.stub)
        self._config = (layout_fn.__qualname__ if layout_fn else None, getattr(layout_fn, "key", None),
                        sens, has_aux, single_weight, optimize, tuple(map(id, self.weights)))

    # -- calling ----------------------------------------------------------------------------
    def __call__(self, *args):
        stub = self._stub
        if stub is not None:
            out = stub(args)
            if out is not _MISS:
                return out
        inputs = args
        if self.sens:
            if not args:
                raise ArgumentError("%s(sens_param=True): the last argument must be the sens "
                                    "(the output's gradient); no arguments were given" % self.api)
            _unwrap_sens(args[-1])            # checks what the sens is
            inputs = args[:-1]
        pattern = tuple(map(_kind, inputs))
        entry = self._entry(inputs, pattern)
        stub = self._stub = entry.stub(inputs, self.sens)
        out = stub(args)
        if out is _MISS:    # cannot happen: the stub was made for these very arguments
            raise AdjointError("internal error: no call path for %s" % self.fn.__qualname__)
        return out

    def _entry(self, args, pattern):
        fast = _fast_table(self.target)
        key = (self._config, pattern)
        entry = fast.get(key)
        if entry is not None and entry.epoch == STRUCTURE[0]:
            return entry
        entry = self._slow_entry(args, pattern)
        fast[key] = entry
        return entry

    def _slow_entry(self, args, pattern):
        self._check_arity(args)
        paths = cache.array_paths(self.self_obj)
        weight_keys = tuple(("path", paths[id(w)]) if id(w) in paths else ("id", id(w))
                            for w in self.weights)
        request = self._request(args)
        # The function object itself: a redefined class or function, or another closure of
        # the same code, compiles again.
        code_key = self.fn
        key = (code_key, request.key(), pattern, weight_keys,
               cache.structure(self.self_obj) if self.self_obj is not None else _cells_read(self.fn))
        compiled = cache.lookup(key)
        if compiled is None:
            marks = [SCALAR if k == "S" else ARRAY if k in _RUNTIME_KINDS else a for a, k in zip(args, pattern)]
            compiled = compile_request(self.fn, self.self_obj, marks, self.weights, request)
            compiled.input_refs = [("path", paths[id(o)]) if id(o) in paths else ref
                                   for o, ref in zip(compiled.inputs, compiled.refs)]
            cache.store(key, compiled)
        inputs = [cache.resolve(self.self_obj, ref) for ref in compiled.input_refs]
        return _Entry(STRUCTURE[0], compiled, inputs, compiled.input_refs, pattern, self.weights)

    def _check_arity(self, args):
        sig = inspect.signature(self.fn)
        bound_args = ((self.self_obj,) if self.self_obj is not None else ()) + tuple(args)
        try:
            sig.bind(*bound_args)
        except TypeError:
            raise ArgumentError(_arity_message(self.fn, sig, len(bound_args))) from None

    def _request(self, args):
        positions, layout = self.layout_fn(len(args), len(self.weights), self.single_weight)
        for p in positions:
            if p >= len(args):
                raise ArgumentError("%s: cannot differentiate argument %d of %s: it was called with "
                                    "%d argument(s)" % (self.api, p, self.fn.__qualname__, len(args)))
            if _kind(args[p]) not in _RUNTIME_KINDS:
                raise ArgumentError("%s differentiates argument %d of %s, which must be a Tensor, "
                                    "an array or a number; got %s %r"
                                    % (self.api, p, self.fn.__qualname__, type(args[p]).__name__, args[p]))
        return Request(positions, len(self.weights), self.sens, self.has_aux, layout, self.optimize)

    # -- inspection -------------------------------------------------------------------------
    def compiled(self, *args):
        """The Compiled adjoint for these example arguments (default: every parameter a Tensor)."""
        if not args:
            args = self._example_args()
        if self.sens:
            args = args[:-1]
        return self._entry(args, tuple(map(_kind, args))).compiled

    def _example_args(self):
        sig = inspect.signature(self.fn)
        params = list(sig.parameters.values())[1 if self.self_obj is not None else 0:]
        args = []
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is not p.empty:
                break
            args.append(Tensor(np.zeros(1, np.float32)))
        if self.sens:
            args.append(None)
        return tuple(args)

    @property
    def source(self):
        """The generated adjoint, as a self-contained Python module."""
        return self.compiled().source

    @property
    def ir(self):
        """The SSA IR, printed, before and after differentiation."""
        return self.compiled().ir


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


def _unbind(target):
    from .nn.cell import Cell
    if isinstance(target, Cell):
        return type(target).construct, target
    if isinstance(target, types.MethodType):
        return target.__func__, target.__self__
    if isinstance(target, types.FunctionType):
        return target, None
    raise ArgumentError("cannot differentiate a %s: give a Cell or a Python function"
                        % type(target).__name__)


def _cells_read(fn):
    """The structure of the Cells a plain function names as globals or closure variables
    (``def forward_fn(x): return net(x)``): their training mode and other constant attributes
    decide what is compiled, as a Cell's own structure does for GradOperation of a Cell."""
    from .nn.cell import Cell
    found = []
    for name in fn.__code__.co_names:
        obj = fn.__globals__.get(name)
        if isinstance(obj, Cell):
            found.append((name, cache.structure(obj)))
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        try:
            obj = cell.cell_contents
        except ValueError:
            continue
        if isinstance(obj, Cell):
            found.append((name, cache.structure(obj)))
    return tuple(found) or None


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
    if isinstance(sens, Tensor):
        return sens._data
    if isinstance(sens, (tuple, list)):
        return tuple(_unwrap_sens(s) for s in sens)
    if isinstance(sens, (np.ndarray, np.generic)) or type(sens) in _SCALARS:
        return sens
    raise ArgumentError("the sens must be a Tensor (or a tuple of Tensors for a tuple output); got %s"
                        % type(sens).__name__)


_MISS = object()


def _make_stub(entry, types, args, sens):
    """Generate the call path for arguments of these types (see _Entry.stub)."""
    n = len(types)
    names = ["a%d" % i for i in range(n)]
    env = {"_S": STRUCTURE, "_EPOCH": entry.epoch, "_MISS": _MISS, "_FN": entry.compiled.fn,
           "_T": _tensor, "_C": _cast, "_WV": _wrap_value, "_AE": AdjointError, "_RE": _runtime_error,
           "_COMPILED": entry.compiled, "_US": _unwrap_sens, "_R": cache.resolve, "_unwrap": unwrap}
    checks = ["type(%s) is not _t%d" % (a, i) for i, a in enumerate(names)]
    for i, t in enumerate(types):
        env["_t%d" % i] = t
    call = []
    for i, k in enumerate(entry.pattern):
        if isinstance(k, str):
            call.append("%s._data" % names[i] if k == "T" else names[i])
        else:                       # a constant the code was compiled for
            env["_k%d" % i] = args[i]
            checks.append("not (a%d is _k%d or a%d == _k%d)" % (i, i, i, i))
    for j, (obj, ref) in enumerate(zip(entry.inputs, entry.refs)):
        env["_i%d" % j] = obj
        if ref[0] in ("global", "closure"):       # read again at every call
            env["_ref%d" % j] = ref
            call.append("_unwrap(_R(None, _ref%d))" % j)
        else:
            call.append("_i%d._data" % j if isinstance(obj, Tensor) else "_i%d" % j)
    for j, w in enumerate(entry.weights):
        env["_dt%d" % j] = w._data.dtype
    tensors = "T" in entry.pattern or bool(entry.weights)

    def wrap(layout, expr):
        if layout and isinstance(layout[0], str):
            kind, i = layout
            if kind == "dw":
                return "_T(_C(%s, _dt%d))" % (expr, i)
            if kind == "dx":
                k = entry.pattern[i]
                if k == "T":
                    return "_T(_C(%s, a%d._data.dtype))" % (expr, i)
                if k == "A":
                    return "_C(%s, a%d.dtype)" % (expr, i)
                return "_t%d(%s)" % (i, expr)
            return "_WV(%s, %r)" % (expr, tensors)
        parts = [wrap(sub, "%s[%d]" % (expr, k)) for k, sub in enumerate(layout)]
        return "(%s)" % "".join(p + ", " for p in parts) if len(parts) == 1 else "(%s)" % ", ".join(parts)

    argc = n + (1 if sens else 0)
    lines = ["def stub(args):",
             "    if _S[0] != _EPOCH or len(args) != %d:" % argc,
             "        return _MISS"]
    if n:
        lines.append("    %s, = args[:%d]" % (", ".join(names), n))
        lines.append("    if %s:" % " or ".join(checks))
        lines.append("        return _MISS")
    if sens:
        call.append("_US(args[-1])")
    lines += ["    try:",
              "        r = _FN(%s)" % ", ".join(call),
              "    except _AE:",
              "        raise",
              "    except Exception as exc:",
              "        raise _RE(exc, _COMPILED) from exc",
              "    return " + wrap(entry.compiled.layout, "r")]
    exec("\n".join(lines), env)
    return env["stub"]


def _tensor(array):
    t = Tensor.__new__(Tensor)
    t._data = array
    return t


def _wrap_value(v, tensors):
    if isinstance(v, tuple):
        return tuple(_wrap_value(x, tensors) for x in v)
    if tensors and isinstance(v, (np.ndarray, np.generic)):
        return Tensor(np.asarray(v))
    return v


def _cast(g, dtype):
    if type(g) is not np.ndarray:
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
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == compiled.generated.filename:
            loc = compiled.generated.line_locs.get(tb.tb_lineno, loc)
        tb = tb.tb_next
    if loc is None:
        return GradRuntimeError("the gradient of %s failed: %s: %s" % (compiled.qualname,
                                                                       type(exc).__name__, exc))
    return GradRuntimeError("%s:%d: %s: %s\n    %s\n(in the gradient of %s; generated code: %s)"
                            % (loc.file, loc.line, type(exc).__name__, exc, loc.text.strip(),
                               compiled.qualname, compiled.generated.filename))
