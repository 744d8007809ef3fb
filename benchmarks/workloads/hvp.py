"""hvp: the Hessian-vector product of the 1,000-dimensional Rosenbrock function
``sum(100 (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)``, float64, against one written by hand.

adjoint computes it by forward over reverse: ``adjoint.hvp(f, x, v)`` (the same compiled code as
``ops.jvp(adjoint.grad(f), x, v)``) is the tangent code of f's gradient, one generated function;
and, for comparison, by reverse over reverse: the gradient of ``<grad f(x), v>``."""
import numpy as np

import adjoint
from adjoint.functional import hvp_function

import peers
from harness import Contender

NAME = "hvp"
TITLE = "Hessian-vector product, Rosenbrock n=1000, f64"
TARGET = 1.5
NOTE = ("forward over reverse: the tangent code of the gradient (adjoint.hvp / ops.jvp(grad(f))); "
        "reverse over reverse: grad of <grad f, v>")

N = 1000


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def grad_dot_v(x, v):
    return np.sum(adjoint.grad(rosenbrock)(x) * v)


def hand_grad(x, v):
    # d2f/dx_i2 = 1200 x_i^2 - 400 x_{i+1} + 2 (+ 200 for i > 0), d2f/dx_i dx_{i+1} = -400 x_i
    xm, xp, vm, vp = x[:-1], x[1:], v[:-1], v[1:]
    hv = np.zeros_like(x)
    hv[:-1] = (1200.0 * xm * xm - 400.0 * xp + 2.0) * vm - 400.0 * xm * vp
    hv[1:] += 200.0 * vp - 400.0 * xm * vm
    return (hv,)


def make_inputs():
    r = np.random.default_rng(3)
    return {"x": r.standard_normal(N), "v": r.standard_normal(N)}


def adjoint_contenders(inp):
    args = (inp["x"], inp["v"])
    return [Contender("adjoint.hvp fwd/rev", hvp_function(rosenbrock), args),
            Contender("grad(<grad, v>) rev/rev", adjoint.grad(grad_dot_v), args)]


def _make(np_):
    return lambda x: np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _torch_f(torch, x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def peers_for(inp):
    args = (inp["x"], inp["v"])
    return {
        "autograd": lambda: peers.autograd_hvp(_make, args),
        "jax-jit": lambda: peers.jax_hvp(_make, args, True),
        "jax-eager": lambda: peers.jax_hvp(_make, args, False),
        "torch": lambda: peers.torch_hvp(_torch_f, args),
    }
