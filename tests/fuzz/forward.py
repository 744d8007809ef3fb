"""Forward mode against reverse mode on a generated program (``--forward``).

For a first-order program that passed its check, the tangent of the sum of its outputs along a
random direction v (``adjoint.jvp`` with respect to every input) must be ``<gradient, v>`` from
``adjoint.grad`` with respect to every input. Both use the same subgradients at kinks (the jvp
rules come from the vjp rules' conventions), so no kink margin is needed: an ``ok`` program
must agree to rounding.
"""
import numpy as np

import adjoint
from adjoint import Tensor
from adjoint.errors import ArgumentError, SourceError

from . import run


def _leaves(out):
    return run.flat_leaves(run.to_np(out))


def check_forward(case):
    """('ok' | 'wrong' | 'crash' | 'refused' | 'skipped', cause) for the program's forward mode."""
    if case.order != 1 or not case.in_kinds:
        return "skipped", "not a first-order program"
    mod = None
    try:
        mod = run.load_module(case.source)
        target = run.Target(mod, case.kind, case.entry)
        n = len(case.inputs)
        rng = np.random.default_rng([case.seed, case.index, 11])
        args = [run.copy_in(v, k) for v, k in zip(case.inputs, case.in_kinds)]
        tangents = []
        for a, k in zip(args, case.in_kinds):
            t = np.round(rng.uniform(-1.0, 1.0, size=np.shape(run.to_np(a))), 2)
            if k == "tensor":
                tangents.append(Tensor(t.astype(run.to_np(a).dtype)))
            elif k == "py":
                tangents.append(float(t))
            elif k == "np0":
                dt = np.asarray(a).dtype
                tangents.append(dt.type(t) if isinstance(a, np.generic) else np.asarray(t, dt))
            else:
                tangents.append(t.astype(a.dtype))
        try:
            with run.deadline(30):
                out, tan = adjoint.jvp(target.obj, tuple(args), tuple(tangents))
                grads = adjoint.grad(target.obj, grad_position=tuple(range(n)))(*args)
        except (SourceError, ArgumentError) as e:
            return "refused", run.normalize(getattr(e, "message", None) or e)
        except Exception as e:     # noqa: BLE001
            return "crash", "%s: %s" % (type(e).__name__, run.normalize(e))
        grads = grads if isinstance(grads, tuple) else (grads,)
        forward = sum(float(np.sum(np.asarray(t, np.float64))) for t in _leaves(tan))
        reverse = sum(float(np.sum(np.asarray(run.to_np(g), np.float64) * np.asarray(run.to_np(t), np.float64)))
                      for g, t in zip(grads, tangents))
        scale = max(1.0, abs(reverse), sum(float(np.sum(np.abs(np.asarray(run.to_np(g), np.float64))))
                                           for g in grads))
        tol = 1e-3 if case.dtype == "float32" else 1e-9
        if not np.isfinite(forward) or abs(forward - reverse) > tol * scale:
            return "wrong", "jvp %.10g, <grad, v> %.10g" % (forward, reverse)
        return "ok", ""
    except Exception as e:     # noqa: BLE001
        return "skipped", "%s: %s" % (type(e).__name__, run.normalize(e))
    finally:
        run.unload(mod)
        adjoint.clear_cache()
