"""Call stubs: the straight-line code a ``GradFunction`` runs for calls like the last one.

A stub is generated once per compiled entry and argument types: it checks the argument types
and the guards, unwraps Tensors, calls the generated adjoint (or its special version,
``compiler/specialize.py``, from the second call) and wraps the gradients in the types and
dtypes MindSpore gives them. Any other call gets ``MISS`` and takes the general path
(``gradfn.py``). Also here: the sens's checks and the conversions stubs use.
"""
import os
import re

import numpy as np

from .compiler.checks import enabled as checks_enabled
from .compiler.namespaces import is_namespace_array
from .compiler.runtime import is_duck_array, unknown_shape_message
from .compiler.hooks import EPOCH
from .compiler.sources import CALL, Source, snapshot
from .compiler.specialize import rerunnable, specialize
from .compiler.trees import flatten, map_leaves
from .errors import AdjointError, ArgumentError, GradRuntimeError, shown_path
from .tensor import Tensor, unwrap

SCALARS = (float, int, complex)
CONTAINERS = (tuple, list, dict)


def unwrap_sens(sens):
    """The sens's leaves as arrays (or numbers): a Tensor, or a tuple of them for a tuple output."""
    def leaf(s):
        if isinstance(s, Tensor):
            return s._data
        if isinstance(s, (np.ndarray, np.generic)) or type(s) in SCALARS or is_duck_array(s) \
                or is_namespace_array(s):
            return s
        raise ArgumentError("the sens must be a Tensor (or a tuple of Tensors for a tuple output); got %s"
                            % type(s).__name__)
    return map_leaves(leaf, sens)


def sens_for(sens, compiled):
    """The sens as the generated code takes it: one array for a single output, else a flat
    tuple with one per output; a clear error when its structure is not the output's."""
    leaves, given = flatten(unwrap_sens(sens))
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


MISS = object()


def make_stub(entry, types, args, sens, n_tangents=0, special=False):
    """Generate the call path for arguments of these types (see _Entry.stub)."""
    n = len(types)
    names = ["a%d" % i for i in range(n)]
    env = {"_S": EPOCH, "_EPOCH": entry.epoch, "MISS": MISS, "_FN": entry.compiled.fn,
           "_TC": tensor_cast, "_T": _tensor, "_C": cast, "_WV": wrap_value, "_AE": AdjointError, "_RE": runtime_error,
           "_COMPILED": entry.compiled, "_US": sens_for, "_unwrap": unwrap, "_snap": snapshot,
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
            known.append("    if _DV(a%d) != _dv%d: return MISS" % (i, i))
            env["_DV"], env["_XC"] = _device, _cast_namespace
        if isinstance(k, str):
            call.append("%s._data" % names[i] if k == "T" else names[i])
        elif type(args[i]) in CONTAINERS:  # (a tuple of arrays may not compare: _same)
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
             "        return MISS"]
    if n:
        lines.append("    %s, = args%s" % (", ".join(names), "" if argc == n else "[:%d]" % n))
        lines.append("    if %s:" % " or ".join(checks))
        lines.append("        return MISS")
        lines += known
    if not special and SPECIALIZE_AT > 1 and _may_specialize(entry):
        env["_n"], env["_UP"] = [SPECIALIZE_AT - 1], entry.upgrade
        lines += ["    if not _n[0]:",      # called again: the special version is worth making
                  "        return _UP(stub, args, %r, %d)" % (bool(sens), n_tangents),
                  "    _n[0] -= 1"]
    if guards:                      # what compilation read from outside still holds
        lines += ["    try:",
                  "        if %s:" % " or ".join(guards),
                  "            return MISS",
                  "    except Exception:",
                  "        return MISS"]
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
                "        r = MISS",
                "    if r is not MISS:",
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


def tensor_cast(g, dtype):
    """A gradient as a Tensor of ``dtype`` (see cast). An array of another library (a Dask
    array) is returned as it is, cast lazily: wrapping it in a Tensor would compute it."""
    if type(g) is np.ndarray:
        if g.dtype != dtype:
            g = g.astype(dtype)
        elif not g.flags.writeable:
            g = g.copy()
    else:
        g = cast(g, dtype)
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


def wrap_value(v, tensors):
    if not tensors:
        return v
    return map_leaves(lambda x: Tensor(np.asarray(x)) if isinstance(x, (np.ndarray, np.generic)) else x, v)


def cast(g, dtype):
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


def runtime_error(exc, compiled):
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
