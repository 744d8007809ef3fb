"""``adjoint.check_grad``: check adjoint's gradient of your own function against finite differences.

    adjoint.check_grad(loss, w, x, y)                 # every array/number argument
    adjoint.check_grad(loss, w, x, y, grad_position=0, order=2)

First order compares each gradient with float64 central differences of the function (the sum
of its outputs, as a gradient call seeds every output with ones). Second order compares
Hessian-vector products ``d/dx <grad f(x), v>`` for a random ``v``, computed by differentiating
the gradient again, with central differences of the (first-order) gradient along ``v``.
"""
import warnings

import numpy as np

from .compiler.cache import AdjointWarning
from .errors import AdjointError, ArgumentError
from .tensor import Tensor


class GradCheckError(AdjointError, AssertionError):
    """adjoint's gradient and finite differences disagree."""


def check_grad(fn, *args, order=1, grad_position=None, eps=1e-6, rtol=None, atol=None, seed=0):
    """Raise GradCheckError if adjoint's gradient of ``fn`` at ``args`` disagrees with finite
    differences; return ``{argument index: largest absolute error}`` otherwise.

    ``grad_position``: an int or tuple (default: every argument that is an array or a number).
    ``order``: 1 (gradients) or 2 (Hessian-vector products). Tolerances default to 1e-5 relative
    and 1e-6 absolute, or 2e-3 / 1e-4 when an argument is float32.
    """
    from .api import grad
    if order not in (1, 2):
        raise ArgumentError("check_grad: order must be 1 or 2; got %r" % (order,))
    positions = _positions(args, grad_position)
    low = any(np.asarray(_data(args[i])).dtype == np.float32 for i in positions)
    rtol = rtol if rtol is not None else (2e-3 if low else 1e-5)
    atol = atol if atol is not None else (1e-4 if low else 1e-6)
    grad_fn = grad(fn, grad_position=tuple(positions))
    if order == 1:
        analytic = grad_fn(*args)
        expected = [_numeric_grad(lambda *a: _total(fn(*a)), args, i, eps) for i in positions]
        return _compare("gradient", fn, positions, analytic, expected, rtol, atol)
    rng = np.random.default_rng(seed)
    vs = [rng.standard_normal(np.shape(_data(args[i]))) for i in positions]

    def directional(*a):                  # <grad f(a), v>, differentiated again by adjoint
        grads = grad_fn(*a)
        if not isinstance(grads, tuple):
            grads = (grads,)
        total = 0.0
        for g, v in zip(grads, vs):
            total = total + np.sum(g * v)
        return total

    with warnings.catch_warnings():     # (each check makes its own `directional`: recompiled)
        warnings.simplefilter("ignore", AdjointWarning)
        analytic = grad(directional, grad_position=tuple(positions))(*args)
    expected = [np.zeros(np.shape(v)) for v in vs]
    h = 1e-4
    for sign in (1.0, -1.0):
        moved = list(_float64(args))
        for i, v in zip(positions, vs):
            moved[i] = moved[i] + sign * h * v
        grads = grad(fn, grad_position=tuple(positions))(*moved)
        for k, g in enumerate(grads if isinstance(grads, tuple) else (grads,)):
            expected[k] = expected[k] + sign * np.asarray(_data(g), np.float64) / (2 * h)
    return _compare("Hessian-vector product", fn, positions, analytic, expected,
                    max(rtol, 1e-4), max(atol, 1e-5))


def _positions(args, grad_position):
    if grad_position is None:
        positions = [i for i, a in enumerate(args) if _differentiable(a)]
    elif isinstance(grad_position, int):
        positions = [grad_position]
    else:
        positions = list(grad_position)
    if not positions:
        raise ArgumentError("check_grad: no argument to differentiate (give arrays or numbers)")
    return positions


def _differentiable(a):
    a = _data(a)
    return (isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f") or type(a) is float


def _data(a):
    return a._data if isinstance(a, Tensor) else a


def _float64(args):
    out = []
    for a in args:
        d = _data(a)
        if isinstance(d, (np.ndarray, np.generic)) and d.dtype.kind == "f":
            d = np.asarray(d, np.float64)
            out.append(Tensor(d) if isinstance(a, Tensor) else d)
        else:
            out.append(a)
    return out


def _total(out):
    """The sum of every output (a gradient call seeds each with ones)."""
    if isinstance(out, dict):
        out = list(out.values())
    if isinstance(out, (tuple, list)):
        return sum(_total(o) for o in out)
    return float(np.sum(np.asarray(_data(out), np.float64)))


def _numeric_grad(f, args, i, eps):
    args = _float64(args)
    x = _data(args[i])
    wrap = isinstance(args[i], Tensor)
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        hi, lo = list(args), list(args)
        hi[i], lo[i] = float(x) + eps, float(x) - eps
        return (f(*hi) - f(*lo)) / (2 * eps)
    x = np.array(x, np.float64)
    out = np.zeros_like(x)
    flat = x.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        values = []
        for step in (eps, -eps):
            flat[k] = old + step
            moved = list(args)
            moved[i] = Tensor(x.copy()) if wrap else x.copy()
            values.append(f(*moved))
        flat[k] = old
        out.reshape(-1)[k] = (values[0] - values[1]) / (2 * eps)
    return out


def _compare(what, fn, positions, analytic, expected, rtol, atol):
    if len(positions) == 1 and not isinstance(analytic, tuple):
        analytic = (analytic,)
    errors = {}
    for i, got, want in zip(positions, analytic, expected):
        got = np.asarray(_data(got), np.float64)
        want = np.asarray(want, np.float64)
        if got.shape != want.shape:
            raise GradCheckError("%s of %s with respect to argument %d has shape %s; finite "
                                 "differences give %s" % (what, _name(fn), i, got.shape, want.shape))
        err = np.abs(got - want)
        errors[i] = float(err.max()) if err.size else 0.0
        bad = err > atol + rtol * np.abs(want)
        if np.any(bad):
            k = np.unravel_index(int(np.argmax(np.where(bad, err, -1))), err.shape) if err.ndim else ()
            raise GradCheckError(
                "%s of %s with respect to argument %d differs from finite differences at %s: adjoint "
                "gives %r, finite differences %r (%d of %d elements differ; rtol=%g, atol=%g)"
                % (what, _name(fn), i, [int(j) for j in k] if k != () else "the value", float(got[k]), float(want[k]),
                   int(bad.sum()), bad.size, rtol, atol))
    return errors


def _name(fn):
    return getattr(fn, "__qualname__", None) or type(fn).__name__
