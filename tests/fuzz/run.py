"""Run one generated case against adjoint and classify it.

Classes: ``ok``; ``wrong`` (numbers differ from the finite-difference oracle at a point where
the program is smooth, or the result has the wrong structure, type, dtype or shape, or the
gradient call changed its inputs); ``crash`` (an exception that is not a clean refusal:
``GradRuntimeError``, an error inside the compiler, a timeout); ``refused``
(``SourceError``/``UnsupportedError``/``ArgumentError``: grouped by cause); ``skipped`` (every
point tried is near a kink, or the program itself misbehaves when run eagerly).
"""
import importlib.util
import itertools
import os
import re
import signal
import sys
import tempfile
import traceback
from dataclasses import dataclass, field

import numpy as np

import adjoint
import adjoint.ops as ops
from adjoint import ParameterTuple, Tensor
from adjoint.errors import ArgumentError, GradRuntimeError, RunTimeRefusal, SourceError

from . import oracle
from .gen import draw_inputs

TMPDIR = None
_counter = itertools.count()
MAX_ATTEMPTS = 4


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout("timed out")


class deadline:
    """Raise Timeout in this (main) thread after ``seconds``."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)
        return False


@dataclass
class Result:
    cls: str                         # ok / wrong / crash / refused / skipped
    cause: str = ""
    stage: str = ""                  # "first-order" for the inner check of a second-order case
    inputs: list = None
    expected: object = None
    actual: object = None
    message: str = ""
    adjoint_source: str = ""
    attempts: int = 0
    extra: dict = field(default_factory=dict)


# -- modules ---------------------------------------------------------------------------------
def tmpdir():
    global TMPDIR
    if TMPDIR is None:
        TMPDIR = tempfile.mkdtemp(prefix="adjoint-fuzz-")
    return TMPDIR


def load_module(source, probe=None):
    """Write source to a new file and import it (adjoint reads the source back)."""
    n = next(_counter)
    name = "fuzzprog_%d_%d" % (os.getpid(), n)
    path = os.path.join(tmpdir(), name + ".py")
    with open(path, "w") as fh:
        fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    if probe is not None:
        mod._K = probe
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return mod


def unload(mod):
    if mod is None:
        return
    sys.modules.pop(mod.__name__, None)
    try:
        os.unlink(mod.__file__)
    except OSError:
        pass


# -- values ----------------------------------------------------------------------------------
def as64(v, kind):
    if kind == "py":
        return float(v)
    if kind == "np0":
        return np.float64(v)
    return np.array(v, dtype=np.float64)


def copy_in(v, kind):
    """A fresh copy of an input as the program receives it."""
    if kind == "tensor":
        return Tensor(np.array(v))
    if kind == "py":
        return float(v)
    if kind == "np0":
        return v
    return np.array(v)


def to_np(out):
    if isinstance(out, Tensor):
        return np.array(out.asnumpy())
    if isinstance(out, (tuple, list)):
        return tuple(to_np(o) for o in out)
    return np.asarray(out)


def flat_leaves(out):
    if isinstance(out, tuple):
        return [x for o in out for x in flat_leaves(o)]
    return [out]


def contract(out, sens):
    """<out, sens> (sens None: every output seeded with ones)."""
    outs = flat_leaves(to_np(out))
    if sens is None:
        return float(sum(np.sum(np.asarray(o, dtype=np.float64)) for o in outs))
    ss = flat_leaves(to_np(sens))
    return float(sum(np.sum(np.asarray(o, dtype=np.float64) * np.asarray(s, dtype=np.float64))
                     for o, s in zip(outs, ss)))


def finite_small(out, limit=1e5):
    for o in flat_leaves(to_np(out)):
        a = np.asarray(o, dtype=np.float64)
        if not np.all(np.isfinite(a)) or np.any(np.abs(a) > limit):
            return False
    return True


# -- the program as a target ---------------------------------------------------------------
class Target:
    """A function or Cell of a module, callable eagerly, with its Parameters."""

    def __init__(self, mod, kind, entry, pdt=None):
        self.mod, self.kind = mod, kind
        if kind == "func":
            self.obj = getattr(mod, entry)
            self.params = []
        else:
            old = getattr(mod, "PDT", None)
            if pdt is not None:
                mod.PDT = pdt
            try:
                self.obj = eval(entry, mod.__dict__)
            finally:
                if pdt is not None:
                    mod.PDT = old
            self.params = list(self.obj.trainable_params())

    def __call__(self, args):
        return self.obj(*args)


def eager(target, values, kinds):
    return target([copy_in(v, k) for v, k in zip(values, kinds)])


def make_gradfn(target, api):
    c = api["call"]
    obj = target.obj
    if c == "gradop":
        op = ops.GradOperation(get_all=api.get("get_all", False), get_by_list=api.get("get_by_list", False),
                               sens_param=api.get("sens", False))
        if api.get("get_by_list"):
            return op(obj, ParameterTuple(obj.trainable_params()))
        return op(obj)
    fn = adjoint.grad if c == "grad" else adjoint.value_and_grad
    weights = obj.trainable_params() if api.get("weights") else None
    return fn(obj, grad_position=api.get("pos", 0), weights=weights, has_aux=api.get("has_aux", False))


class Leaf:
    __slots__ = ("tag", "i")

    def __init__(self, tag, i):
        self.tag, self.i = tag, i

    def __repr__(self):
        name = {"x": "d_input", "w": "d_param", "out": "value", "aux": "aux"}[self.tag]
        return "%s%s" % (name, "" if self.i is None else "[%d]" % self.i)


def layout(api, n_in, n_w, n_out):
    """MindSpore's return structure of this call (see shared/SEMANTICS.md)."""
    c = api["call"]
    ins = tuple(Leaf("x", i) for i in range(n_in))
    ws = tuple(Leaf("w", j) for j in range(n_w))
    if c == "gradop":
        ga, gl = api.get("get_all", False), api.get("get_by_list", False)
        if ga and gl:
            return (ins, ws)
        if ga:
            return ins
        if gl:
            return ws
        return Leaf("x", 0)
    pos = api.get("pos", 0)
    if isinstance(pos, int):
        g_in = Leaf("x", pos)
    elif pos is None:
        g_in = None
    else:
        g_in = Leaf("x", pos[0]) if len(pos) == 1 else tuple(Leaf("x", p) for p in pos)
    if api.get("weights"):
        grads = (g_in, ws) if g_in is not None else ws
    else:
        grads = g_in
    has_aux = api.get("has_aux", False)
    if c == "value_and_grad":
        val = tuple(Leaf("out", k) for k in range(n_out)) if has_aux else Leaf("out", None)
        return (val, grads)
    if has_aux:
        return (grads, tuple(Leaf("aux", k) for k in range(1, n_out)))
    return grads


def leaves_of(lay):
    if isinstance(lay, Leaf):
        return [lay]
    return [x for e in lay for x in leaves_of(e)]


def structure_str(v):
    if isinstance(v, tuple):
        return "(" + ", ".join(structure_str(e) for e in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, Tensor):
        return "Tensor%s:%s" % (list(v.shape), v.asnumpy().dtype)
    if isinstance(v, np.ndarray):
        return "ndarray%s:%s" % (list(v.shape), v.dtype)
    if isinstance(v, np.generic):
        return "%s" % type(v).__name__
    return type(v).__name__


def _pretty(v):
    if isinstance(v, tuple):
        return tuple(_pretty(e) for e in v)
    if isinstance(v, Tensor):
        return v.asnumpy()
    return v


# -- exceptions ------------------------------------------------------------------------------
_NAME_RE = re.compile(r"\b(?:v|t|n|acc|c|u|eu|fn|helper|Sub|sub|W|C|IDX|ONES|w|g|fuzzprog_\d+_)\d+\b")


def normalize(msg):
    lines = [ln for ln in str(msg).splitlines() if ln.strip()]
    line = lines[0] if lines else ""
    line = re.sub(r"^\S*?\.py:\d+(?::\d+)?:\s*", "", line)
    line = re.sub(r"\(\S+\.py, line \d+\)", "(generated code)", line)
    line = re.sub(r"/\S+/", "", line)
    line = re.sub(r"'[^']*'", "'_'", line)
    line = re.sub(r'"[^"]*"', '"_"', line)
    line = _NAME_RE.sub("X", line)
    line = re.sub(r"\(\d+(, \d+)*,?\)", "(S)", line)
    line = re.sub(r"\d+", "N", line)
    return line.strip()[:160]


def adjoint_frame(tb):
    """The innermost frame of the traceback inside the adjoint package, as module:function."""
    where = None
    for fr in traceback.extract_tb(tb):
        if os.sep + "adjoint" + os.sep in fr.filename and "adjoint-generated" not in fr.filename:
            rel = fr.filename.split(os.sep + "adjoint" + os.sep, 1)[1]
            where = "%s:%s" % (rel, fr.name)
    return where


def classify_exception(e):
    if isinstance(e, (SourceError, ArgumentError)):
        return "refused", "%s: %s" % (type(e).__name__, normalize(getattr(e, "message", None) or e))
    if isinstance(e, Timeout):
        return "crash", "timeout"
    inner = e.__cause__ or e.__context__
    if isinstance(e, GradRuntimeError) and isinstance(inner, RunTimeRefusal):
        return "refused", "RunTimeRefusal: %s" % normalize(inner)
    name = type(e).__name__
    msg = normalize(e)
    if isinstance(e, GradRuntimeError) and inner is not None:
        name = "GradRuntimeError(%s)" % type(inner).__name__
        msg = normalize(inner)
    where = adjoint_frame(e.__traceback__)
    return "crash", "%s: %s%s" % (name, msg, " [in %s]" % where if where else "")


def adjoint_source(gradfn, args):
    try:
        with deadline(10):
            return gradfn.compiled(*(list(args) + ([None] if gradfn.sens else []))).source
    except BaseException as e:     # noqa: B902
        return "(no source: %s: %s)" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")


# -- checking one call at one point ----------------------------------------------------------
def _leaf_type_ok(val, kind, dt):
    if kind == "tensor" or kind == "param":
        if not isinstance(val, Tensor):
            return "expected a Tensor, got %s" % structure_str(val)
        a = val.asnumpy()
    elif kind == "py":
        if not isinstance(val, float) or isinstance(val, np.generic):
            return "expected a Python float, got %s" % structure_str(val)
        return None
    elif kind == "np0":
        if not isinstance(val, (np.generic, np.ndarray)) or isinstance(val, Tensor):
            return "expected a NumPy scalar, got %s" % structure_str(val)
        a = np.asarray(val)
    else:
        if not isinstance(val, np.ndarray):
            return "expected an ndarray, got %s" % structure_str(val)
        a = val
    if a.dtype != np.dtype(dt):
        return "dtype %s, expected %s" % (a.dtype, np.dtype(dt))
    return None


class Point:
    """Everything known at one input point: the oracle's side."""


def _force(p, w):
    """Set a Parameter of the oracle's own float64 instance to w, keeping float64 (set_data
    would cast to the Parameter's dtype, and a float32 Parameter would spoil the differences)."""
    object.__setattr__(p, "_data", np.array(w, dtype=np.float64))


def check_point(case, kind, mod, probe_mod, entry, api, values, in_kinds, margin_fn=None):
    """Compare adjoint with the oracle at ``values``. Returns a Result whose cls is ok, wrong,
    crash, refused, skipped (eager misbehaves) or "kink"."""
    dt = case.dtype
    target = Target(mod, kind, entry)
    n_in = len(values)
    # the program on its own inputs (its dtype)
    try:
        with deadline(10), np.errstate(over="raise", invalid="raise", divide="raise"):
            out = eager(target, values, in_kinds)
    except BaseException as e:     # noqa: B902
        return Result("skipped", "eager: %s: %s" % (type(e).__name__, normalize(e)))
    if not finite_small(out):
        return Result("skipped", "eager: huge or non-finite output")
    out_np = to_np(out)
    n_out = len(out_np) if isinstance(out_np, tuple) else 1
    has_aux = api.get("has_aux", False)
    if has_aux and not isinstance(out_np, tuple):
        return Result("skipped", "eager: has_aux needs a tuple output")
    # the sensitivity
    sens = None
    if api.get("sens"):
        rng = np.random.default_rng([case.seed, case.index, 7])

        def mk(o):
            s = np.round(rng.uniform(-1.0, 1.0, size=np.shape(o)), 2).astype(np.asarray(o).dtype)
            return Tensor(s) if kind == "cell" else s
        sens = tuple(mk(o) for o in out_np) if isinstance(out_np, tuple) else mk(out_np)
    # adjoint
    gradfn = None
    args = [copy_in(v, k) for v, k in zip(values, in_kinds)]
    before = [to_np(a) for a in args]
    try:
        with deadline(30):
            gradfn = make_gradfn(target, api)
            actual = gradfn(*(args + ([sens] if sens is not None else [])))
    except BaseException as e:     # noqa: B902
        if isinstance(e, KeyboardInterrupt):
            raise
        cls, cause = classify_exception(e)
        res = Result(cls, cause, message="".join(traceback.format_exception(type(e), e, e.__traceback__))[-6000:])
        if gradfn is not None and cls == "crash":
            res.adjoint_source = adjoint_source(gradfn, args)
        return res
    src = lambda: adjoint_source(gradfn, [copy_in(v, k) for v, k in zip(values, in_kinds)])  # noqa: E731
    for a, b in zip(args, before):
        if not np.array_equal(to_np(a), b):
            return Result("wrong", "the gradient call changed an input in place", actual=_pretty(actual),
                          adjoint_source=src())
    # expected structure
    lay = layout(api, n_in, len(target.params), n_out)
    problems = []

    def walk(l, a, path):
        if isinstance(l, Leaf):
            return
        if type(a) is not tuple or len(a) != len(l):
            problems.append("at %s: expected a %d-tuple, got %s" % (path or "top", len(l), structure_str(a)))
            return
        for k, (le, ae) in enumerate(zip(l, a)):
            walk(le, ae, path + "[%d]" % k)
    walk(lay, actual, "")
    if problems:
        return Result("wrong", "structure: " + problems[0], actual=structure_str(actual),
                      expected=repr(lay), adjoint_source=src())
    pairs = []

    def collect(l, a):
        if isinstance(l, Leaf):
            pairs.append((l, a))
        else:
            for le, ae in zip(l, a):
                collect(le, ae)
    collect(lay, actual)
    # types, dtypes and shapes
    for l, a in pairs:
        if l.tag == "x":
            why = _leaf_type_ok(a, in_kinds[l.i], np.asarray(values[l.i]).dtype if in_kinds[l.i] != "py" else None)
            shape = np.shape(values[l.i])
        elif l.tag == "w":
            p = target.params[l.i]
            why = _leaf_type_ok(a, "param", p.asnumpy().dtype)
            shape = p.asnumpy().shape
        else:
            continue
        if why is None and np.shape(_pretty(a)) != shape:
            why = "shape %s, expected %s" % (np.shape(_pretty(a)), shape)
        if why:
            return Result("wrong", "dtype/type/shape: gradient of %r: %s" % (l, why.split(",")[0]
                                                                            if "dtype" in why else why),
                          actual=_pretty(actual), extra={"why": why}, adjoint_source=src())
    # the oracle: float64, a fresh copy of the program (probe module: stop_gradient replays)
    fd_mod = probe_mod if probe_mod is not None else mod
    probe = getattr(fd_mod, "_K", None)
    t64 = Target(fd_mod, kind, entry, pdt=np.float64)
    vals64 = [as64(v, k) for v, k in zip(values, in_kinds)]
    base_params = [np.array(p.asnumpy(), dtype=np.float64) for p in target.params]
    kinds64 = [k if k != "np0" else "py" for k in in_kinds]
    sens64 = None if sens is None else to_np(sens)

    def F(allvals, contract_with=sens64, first_only=has_aux):
        xs, ws = allvals[:n_in], allvals[n_in:]
        if probe is not None:
            probe.start("replay")        # stop_gradient values as at the base point
        for p, w in zip(t64.params, ws):
            _force(p, w)
        o = eager(t64, xs, kinds64)
        if first_only:
            o = to_np(o)[0]
            return contract(o, contract_with[0] if isinstance(contract_with, tuple) else contract_with)
        return contract(o, contract_with)

    allvals = vals64 + base_params
    try:
        with deadline(60):
            if probe is not None:
                probe.start("record")
            out64 = eager(t64, vals64, kinds64)
            if probe is not None:
                probe.start("replay")
            base = F(allvals)
            slots = sorted({l.i if l.tag == "x" else n_in + l.i for l, _ in pairs if l.tag in ("x", "w")})
            fd1 = oracle.fd_gradient(F, allvals, slots, oracle.H_SMALL)
    except BaseException as e:     # noqa: B902
        if isinstance(e, KeyboardInterrupt):
            raise
        return Result("skipped", "oracle: %s: %s" % (type(e).__name__, normalize(e)))
    finally:
        for p, w in zip(t64.params, base_params):
            _force(p, w)
    gmax = max([float(np.max(np.abs(g))) for g in fd1.values() if np.size(g)] + [0.0])
    scale = max(1.0, abs(base), gmax)
    mismatches = []
    expected = {}
    for l, a in pairs:
        if l.tag in ("x", "w"):
            slot = l.i if l.tag == "x" else n_in + l.i
            e = fd1[slot]
            expected[repr(l)] = e
            if not oracle.close(_pretty(a), e, dt, scale):
                mismatches.append(repr(l))
        else:
            o64 = to_np(out64)
            e = o64 if l.i is None else (o64[l.i] if isinstance(o64, tuple) else o64)
            expected[repr(l)] = e
            ae = to_np(a)
            ok = True
            if isinstance(e, tuple) != isinstance(ae, tuple):
                ok = False
            else:
                for x, y in zip(flat_leaves(ae), flat_leaves(e)) if isinstance(e, tuple) else [(ae, e)]:
                    if not oracle.close(x, y, dt, max(1.0, float(np.max(np.abs(np.asarray(y, float)), initial=0)))):
                        ok = False
            if not ok:
                mismatches.append(repr(l))
    actual_p = {repr(l): _pretty(a) for l, a in pairs}
    if not mismatches:
        return Result("ok")
    # a mismatch: is this point smooth?
    margin = probe.margin if probe is not None else float("inf")
    where = probe.where if probe is not None else None
    if margin_fn is not None:
        m2, w2 = margin_fn(vals64)
        if m2 < margin:
            margin, where = m2, w2
    if margin < oracle.kink_tol(dt):
        return Result("kink", "near a kink: %s (margin %.2g)" % (where, margin))
    if probe is not None and probe.largest > oracle.TOO_LARGE:
        # (x + h == x at 1e19: finite differences see nothing; the program is ill-posed here)
        return Result("skipped", "values of %.0e: too large for finite differences" % probe.largest)
    try:
        with deadline(60):
            if probe is not None:
                probe.start("replay")
            fd2 = oracle.fd_gradient(F, allvals, slots, oracle.H_LARGE)
    except BaseException as e:     # noqa: B902
        if isinstance(e, KeyboardInterrupt):
            raise
        return Result("kink", "oracle at the larger step: %s" % type(e).__name__)
    finally:
        for p, w in zip(t64.params, base_params):
            _force(p, w)
    if not oracle.fd_agree(fd1, fd2, scale):
        return Result("kink", "finite differences disagree between step sizes")
    if probe is not None and probe.crossed:
        # (a steep program: within one step a comparison, max/min or abs decided otherwise,
        # so both step sizes may measure a plateau beyond a kink that is far from the point)
        return Result("kink", "a decision changes within the finite-difference step")
    # (the small step's rounding error can exceed the tolerance where the function is
    # ill-conditioned: adjoint agreeing with the larger step's differences is not wrong)
    mismatches = [m for m in mismatches
                  if not any(repr(l) == m and l.tag in ("x", "w") and oracle.close(
                      _pretty(a), fd2[l.i if l.tag == "x" else n_in + l.i], dt, scale) for l, a in pairs)]
    if not mismatches:
        return Result("ok")
    if probe is None and margin_fn is None and kind == "func":
        pass
    return Result("wrong", "values differ from finite differences: " + ", ".join(mismatches),
                  expected=expected, actual=actual_p, adjoint_source=src(),
                  extra={"sens": sens64, "value": base})


def run_case(case, shrinking=False, attempts=MAX_ATTEMPTS):
    """Classify one case, trying other input points when the first is near a kink."""
    mod = probe_mod = inner_probe = None
    try:
        try:
            mod = load_module(case.source)
            if case.order == 1:
                probe_mod = load_module(oracle.probe_source(case.source), probe=oracle.Probe())
            else:
                inner_probe = load_module(oracle.probe_source(_strip_outer(case)), probe=oracle.Probe())
        except BaseException as e:     # noqa: B902
            if isinstance(e, KeyboardInterrupt):
                raise
            return Result("skipped", "import: %s: %s" % (type(e).__name__, normalize(e)))
        last = None
        for attempt in range(attempts):
            values = case.inputs if attempt == 0 else draw_inputs(case, attempt)
            if case.order == 1:
                res = check_point(case, case.kind, mod, probe_mod, case.entry, case.api, values, case.in_kinds)
            else:
                res = _check_second(case, mod, inner_probe, values)
            res.inputs = values
            res.attempts = attempt + 1
            if res.cls != "kink":
                return res
            last = res
            if shrinking:
                break
        last.cls = "skipped"
        last.message = last.cause
        last.cause = "kink"
        return last
    finally:
        unload(mod)
        unload(probe_mod)
        unload(inner_probe)
        adjoint.clear_cache()


def _strip_outer(case):
    """The module without the outer (second-order) part: only used eagerly, for kink margins."""
    text = case.source
    cut = text.find("\ngf = adjoint.grad(") if "\ngf = adjoint.grad(" in text else -1
    if cut < 0:
        cut = text.find("\ndef h(")
    if cut < 0:
        cut = text.find("\nclass GradNet(")
    return text[:cut] + "\n" if cut >= 0 else text


def _check_second(case, mod, inner_probe, values):
    """Second order: first the inner gradient against FD, then the outer against FD of the
    (checked) first-order gradient."""
    first = check_point(case, case.kind, mod, inner_probe, case.inner, case.inner_api, values, case.in_kinds)
    if first.cls != "ok":
        first.stage = "first-order"
        if first.cls in ("wrong", "crash", "refused"):
            first.cause = "first order: " + first.cause
        return first

    def margins(vals64):
        probe = inner_probe._K
        probe.start("record")
        t = Target(inner_probe, case.kind, case.inner, pdt=np.float64)
        try:
            eager(t, vals64, [k if k != "np0" else "py" for k in case.in_kinds])
        except Exception:
            return 0.0, "inner program failed"
        return probe.margin, probe.where
    return check_point(case, case.kind, mod, None, case.entry, case.api, values, case.in_kinds,
                       margin_fn=margins)
