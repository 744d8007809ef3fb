"""The reference gradients: float64 central finite differences, kink-aware.

* ``fd_gradient(F, values, slots, rel_step)`` differentiates a scalar function of a list of
  float64 values (arrays or floats) by central differences, element by element, with a step
  ``rel_step * max(1, |x|)``.
* ``probe_source(text)`` rewrites a program so that running it records how close it came to a
  kink: the margin of every comparison (branch conditions, ``np.where``, ``while``), of every
  abs/relu argument, of every maximum/minimum pair and of the two largest (smallest) entries
  of every max (min) reduction. It also makes ``ops.stop_gradient`` replayable: in "record" mode
  the values are saved, in "replay" mode (every finite-difference evaluation) the saved values
  are returned, so finite differences see no path through them, as autodiff does not.
* ``smooth_at(...)``: a point is trusted only if no recorded margin is within ``kink_tol``,
  finite differences at two step sizes (1e-6 and 1e-4, relative) agree, and every evaluation
  of the differences decides every comparison, max/min and abs as the point itself does
  (``Probe.crossed``: a steep program can carry a point across a kink far away within one
  step, and both step sizes then see the same plateau).

JAX and autograd are not used: neither is a dependency, and neither runs the fuzzer's NumPy
programs (in-place item assignment, Cells, MindSpore ops) as they are.
"""
import ast
import math

import numpy as np

H_SMALL = 1e-6
H_LARGE = 1e-4
TOO_LARGE = 1e8         # values this large (compared or stopped) leave finite differences blind

_KINK_FUNCS = {"abs", "absolute", "maximum", "minimum", "max", "min", "amax", "amin", "relu"}


class Probe:
    """The object generated code calls as ``_K``."""

    def __init__(self):
        self.mode = "off"
        self.margin = math.inf
        self.where = None
        self.saved = {}
        self.counts = {}
        self.largest = 0.0          # the largest magnitude seen (compared or stopped) when recording
        self.decisions = []         # what the recorded run decided, in order (see _decide)
        self.position = 0
        self.crossed = False        # a replayed run decided something otherwise

    def start(self, mode):
        self.mode = mode
        self.counts = {}
        self.position = 0
        if mode == "record":
            self.margin = math.inf
            self.where = None
            self.saved = {}
            self.largest = 0.0
            self.decisions = []
            self.crossed = False

    def _decide(self, decision):
        """Record what the program decided here (record mode), or note that a replayed run
        decided otherwise (replay mode: a finite-difference evaluation)."""
        d = np.asarray(decision).tobytes() + bytes(str(np.shape(decision)), "ascii")
        if self.mode == "record":
            self.decisions.append(d)
        elif self.mode == "replay":
            if self.position >= len(self.decisions) or self.decisions[self.position] != d:
                self.crossed = True
        self.position += 1

    def _size(self, *values):
        if self.mode == "record":
            for v in values:
                a = self._arr(v)
                if a.size:
                    self.largest = max(self.largest, float(np.max(np.abs(a))))

    def _note(self, m, what):
        if self.mode == "record" and m < self.margin:
            self.margin, self.where = float(m), what

    @staticmethod
    def _arr(v):
        return np.asarray(v, dtype=np.float64)

    def cmp(self, a, b, op):
        if not (isinstance(a, int) and isinstance(b, int)):
            self._size(a, b)
            A, B = self._arr(a), self._arr(b)
            scale = 1.0 + np.maximum(np.abs(A), np.abs(B))
            m = np.min(np.abs(A - B) / scale) if np.size(A - B) else math.inf
            self._note(m, "comparison %s" % op)
        if op == ">":
            res = a > b
        elif op == "<":
            res = a < b
        elif op == ">=":
            res = a >= b
        else:
            res = a <= b
        if not (isinstance(a, int) and isinstance(b, int)):
            self._decide(self._arr(res) != 0)
        return res

    def call(self, fn, name, *args, **kw):
        res = fn(*args, **kw)
        if self.mode in ("record", "replay"):
            self._kink(name, args, kw, module_fn=True)
        return res

    def meth(self, obj, name, *args, **kw):
        res = getattr(obj, name)(*args, **kw)
        if self.mode in ("record", "replay"):
            self._kink(name, (obj,) + args, kw, module_fn=True)
        return res

    def _kink(self, name, args, kw, module_fn):
        if not args:
            return
        if name in ("abs", "absolute", "relu"):
            x = self._arr(args[0])
            self._note(np.min(np.abs(x)) if x.size else math.inf, name)
            self._decide(x > 0)
            return
        if name in ("maximum", "minimum"):
            a, b = self._arr(args[0]), self._arr(args[1])
            d = np.abs(a - b) / (1.0 + np.maximum(np.abs(a), np.abs(b)))
            self._note(np.min(d) if d.size else math.inf, name)
            self._decide(a > b)
            return
        # max/min/amax/amin reductions: the gap between the two extreme entries
        x = self._arr(args[0])
        axis = kw.get("axis", kw.get("dim", args[1] if len(args) > 1 else None))
        if isinstance(axis, (list, tuple)) or not (axis is None or isinstance(axis, (int, np.integer))):
            return
        if x.ndim == 0:
            return
        if axis is None:
            x = x.reshape(-1)
            axis = 0
        if x.shape[axis] < 2:
            return
        self._decide(np.argmax(x, axis=axis) if name in ("max", "amax") else np.argmin(x, axis=axis))
        s = np.sort(x, axis=axis)
        if name in ("max", "amax"):
            top, second = np.take(s, -1, axis=axis), np.take(s, -2, axis=axis)
        else:
            top, second = np.take(s, 0, axis=axis), np.take(s, 1, axis=axis)
        gap = np.abs(top - second) / (1.0 + np.abs(top))
        self._note(np.min(gap), name + " reduction")

    def stop(self, value, site):
        n = self.counts.get(site, 0)
        self.counts[site] = n + 1
        key = (site, n)
        if self.mode == "record":
            self._size(value)
            self.saved[key] = _copy(value)
        elif self.mode == "replay" and key in self.saved:
            old = self.saved[key]
            if np.shape(old) == np.shape(value):
                return _copy(old)
        return value


def _copy(v):
    try:
        from adjoint import Tensor
        if isinstance(v, Tensor):
            return Tensor(np.array(v.asnumpy()))
    except ImportError:          # pragma: no cover
        pass
    if isinstance(v, np.ndarray):
        return v.copy()
    return v


class _ProbeTransformer(ast.NodeTransformer):
    def __init__(self):
        self.sites = 0

    def visit_Compare(self, node):
        self.generic_visit(node)
        if len(node.ops) != 1:
            return node
        op = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<="}.get(type(node.ops[0]))
        if op is None:
            return node
        return ast.copy_location(ast.Call(func=_k("cmp"), args=[node.left, node.comparators[0], ast.Constant(op)],
                                          keywords=[]), node)

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "stop_gradient":
            self.sites += 1
            return ast.copy_location(ast.Call(func=_k("stop"), args=[node.args[0], ast.Constant(self.sites)],
                                              keywords=[]), node)
        if isinstance(f, ast.Name) and f.id == "abs":
            return ast.copy_location(ast.Call(func=_k("call"), args=[f, ast.Constant("abs")] + node.args,
                                              keywords=node.keywords), node)
        if isinstance(f, ast.Attribute) and f.attr in _KINK_FUNCS:
            if isinstance(f.value, ast.Name) and f.value.id in ("np", "ops", "numpy"):
                return ast.copy_location(ast.Call(func=_k("call"), args=[f, ast.Constant(f.attr)] + node.args,
                                                  keywords=node.keywords), node)
            return ast.copy_location(ast.Call(func=_k("meth"), args=[f.value, ast.Constant(f.attr)] + node.args,
                                              keywords=node.keywords), node)
        return node


def _k(name):
    return ast.Attribute(value=ast.Name("_K", ast.Load()), attr=name, ctx=ast.Load())


def probe_source(text):
    tree = _ProbeTransformer().visit(ast.parse(text))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


# -- finite differences ----------------------------------------------------------------------
def _perturbed(values, slot, k, delta):
    out = list(values)
    v = values[slot]
    if isinstance(v, float):
        out[slot] = v + delta
    else:
        a = np.array(v, dtype=np.float64, copy=True)
        a.reshape(-1)[k] += delta
        out[slot] = a
    return out


def fd_gradient(F, values, slots, rel_step):
    """{slot: gradient of F(values) w.r.t. values[slot]} by central differences."""
    grads = {}
    for slot in slots:
        v = values[slot]
        flat = np.asarray(v, dtype=np.float64).reshape(-1)
        g = np.zeros(flat.shape)
        for k in range(flat.size):
            h = rel_step * max(1.0, abs(flat[k]))
            up = F(_perturbed(values, slot, k, h))
            down = F(_perturbed(values, slot, k, -h))
            g[k] = (up - down) / (2 * h)
        grads[slot] = g.reshape(np.shape(v))
    return grads


def tolerances(dtype):
    """(rtol, atol factor) for comparing a gradient computed in dtype with float64 FD."""
    if np.dtype(dtype) == np.float32:
        return 2e-3, 2e-4
    return 2e-5, 2e-7


def close(actual, expected, dtype, scale):
    """Elementwise |a - e| <= atol * scale + rtol * |e|, with scale a magnitude of the problem."""
    rtol, af = tolerances(dtype)
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return False
    if not np.all(np.isfinite(a)):
        return False
    return bool(np.all(np.abs(a - e) <= af * scale + rtol * np.abs(e)))


def fd_agree(g1, g2, scale):
    """Do finite differences at two step sizes agree (no kink between the steps)?"""
    for k in g1:
        a, b = np.asarray(g1[k]), np.asarray(g2[k])
        if not np.all(np.abs(a - b) <= 1e-6 * scale + 2e-4 * np.abs(b)):
            return False
    return True


def kink_tol(dtype):
    return 1e-3 if np.dtype(dtype) == np.float32 else 2e-4
