"""Optional peer AD systems: autograd, JAX (jit and eager), PyTorch, tangent.

None is a dependency of adjoint. Each is found with importlib; a missing or broken one raises
``Unavailable`` with the reason, and the runner prints it as a skipped row.
Every peer is called NumPy in -> NumPy out, so its conversions are part of its time.
"""
import importlib
import importlib.util

PEERS = ("autograd", "jax-jit", "jax-eager", "torch", "tangent")
_MODULE = {"autograd": "autograd", "jax-jit": "jax", "jax-eager": "jax", "torch": "torch",
           "tangent": "tangent"}
_STATUS = {}


class Unavailable(Exception):
    pass


def load(module):
    """Import ``module`` or raise Unavailable saying why (not installed / fails to import)."""
    if module in _STATUS:
        mod, why = _STATUS[module]
        if mod is None:
            raise Unavailable(why)
        return mod
    if importlib.util.find_spec(module) is None:
        _STATUS[module] = (None, "not installed")
        raise Unavailable("not installed")
    try:
        mod = importlib.import_module(module)
        if module == "jax":
            mod.config.update("jax_enable_x64", True)     # float64 workloads stay float64
    except Exception as exc:                                # noqa: BLE001 - any import failure
        why = "installed but import fails: %s: %s" % (type(exc).__name__, str(exc).splitlines()[0][:90])
        _STATUS[module] = (None, why)
        raise Unavailable(why) from None
    _STATUS[module] = (mod, None)
    return mod


def status():
    """{peer: 'X.Y' (its version) or the reason it is skipped}, for the report header."""
    out = {}
    for peer in PEERS:
        try:
            mod = load(_MODULE[peer])
            out[peer] = _dist_version(_MODULE[peer]) or getattr(mod, "__version__", "?")
        except Unavailable as exc:
            out[peer] = "skipped: %s" % exc
    return out


def _dist_version(name):
    try:
        from importlib.metadata import version as dist_version
        return dist_version(name)
    except Exception:                                       # noqa: BLE001
        return None


# -- generic builders -----------------------------------------------------------------------------
def autograd_grad(make_fn, argnums, args):
    """``make_fn(anp)`` returns the function written with autograd.numpy."""
    autograd = load("autograd")
    import autograd.numpy as anp
    g = autograd.grad(make_fn(anp), argnums)
    return lambda: g(*args)


def jax_grad(make_fn, argnums, args, jit):
    """``make_fn(jnp)`` returns the function written with jax.numpy; results come back as NumPy."""
    jax = load("jax")
    import numpy as np
    import jax.numpy as jnp
    g = jax.grad(make_fn(jnp), argnums)
    if jit:
        g = jax.jit(g)
    return lambda: tuple(np.asarray(r) for r in g(*args))


def torch_grad(fn, n_wrt, args):
    """``fn(torch, *tensors)`` is the loss; the first ``n_wrt`` arguments are differentiated.
    NumPy arrays enter with ``torch.from_numpy`` (no copy), Python floats as 0-d float64 tensors."""
    torch = load("torch")

    def conv(a, grad):
        t = torch.tensor(a, dtype=torch.float64) if isinstance(a, float) else torch.from_numpy(a)
        return t.requires_grad_(True) if grad else t

    def call():
        ts = [conv(a, i < n_wrt) for i, a in enumerate(args)]
        loss = fn(torch, *ts)
        return tuple(g.numpy() for g in torch.autograd.grad(loss, ts[:n_wrt]))
    return call


def tangent_grad(fn, wrt, args):
    tangent = load("tangent")
    g = tangent.grad(fn, wrt=wrt)
    return lambda: g(*args)


# -- Hessian-vector products (forward over reverse where the peer has forward mode) ------------------
def jax_hvp(make_fn, args, jit):
    """``jax.jvp(jax.grad(f), (x,), (v,))[1]``, jitted or eager; NumPy in and out."""
    jax = load("jax")
    import numpy as np
    import jax.numpy as jnp
    f = make_fn(jnp)

    def hvp(x, v):
        return jax.jvp(jax.grad(f), (x,), (v,))[1]
    if jit:
        hvp = jax.jit(hvp)
    return lambda: (np.asarray(hvp(*args)),)


def autograd_hvp(make_fn, args):
    """autograd has no forward mode: ``grad`` of ``<grad f(x), v>`` (reverse over reverse)."""
    autograd = load("autograd")
    import autograd.numpy as anp
    f = make_fn(anp)
    g = autograd.grad(lambda x, v: anp.sum(autograd.grad(f)(x) * v))
    return lambda: (g(*args),)


def torch_hvp(fn, args):
    """``torch.autograd.functional.hvp`` (reverse over reverse, double backward)."""
    torch = load("torch")
    x, v = (torch.from_numpy(a) for a in args)
    return lambda: (torch.autograd.functional.hvp(lambda t: fn(torch, t), x, v)[1].numpy(),)
