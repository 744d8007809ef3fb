"""Forward mode: every primitive's tangent (explicit rule, linear, multilinear or transposed from
its vjp rule) against directional finite differences, from the rule table's specs; forward mode
through if/for/while; forward over reverse (Hessian-vector products) against finite differences
of the gradient; the generated tangent code.
"""
import numpy as np
import pytest

import adjoint
import adjoint.ops as ops
from adjoint import Tensor
from adjoint.compiler import prims
from test_rules import SPECS, _inputs, on_tensors, weighted

pytestmark = pytest.mark.filterwarnings("ignore::adjoint.AdjointWarning")


def directional(fn, args, tangents, eps=1e-6):
    """(fn(args + eps t) - fn(args - eps t)) / 2 eps, in float64."""
    up = fn(*[np.asarray(a, np.float64) + eps * t for a, t in zip(args, tangents)])
    down = fn(*[np.asarray(a, np.float64) - eps * t for a, t in zip(args, tangents)])
    return (np.asarray(up, np.float64) - np.asarray(down, np.float64)) / (2 * eps)


def _tangents(args, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, size=np.shape(a)) for a in args]


@pytest.mark.parametrize("name,fn,shapes,domain", SPECS, ids=[s[0] for s in SPECS])
def test_tangent_matches_finite_differences(name, fn, shapes, domain):
    args = _inputs(shapes, domain)
    tangents = _tangents(args)
    if name.startswith("one_hot"):
        tangents = [np.zeros(()), tangents[1]]        # (an index: no tangent of its own)
    out, tan = adjoint.jvp(fn, tuple(args), tuple(tangents))
    np.testing.assert_allclose(np.asarray(out), np.asarray(on_tensors(fn)(*args)), rtol=1e-12, atol=1e-12)
    assert np.shape(tan) == np.shape(out)
    np.testing.assert_allclose(tan, directional(on_tensors(fn), args, tangents), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,fn,shapes,domain", SPECS[::8], ids=[s[0] for s in SPECS[::8]])
def test_forward_over_reverse_hessian_vector_product(name, fn, shapes, domain):
    args = _inputs(shapes, domain)
    tangents = _tangents(args)
    out_shape = np.shape(on_tensors(fn)(*args))
    loss = weighted(fn, np.random.default_rng(1).uniform(0.5, 1.5, size=out_shape))
    positions = tuple(range(len(args)))
    hv = adjoint.hvp(loss, tuple(args), tuple(tangents))
    hv = hv if isinstance(hv, tuple) else (hv,)
    grad = adjoint.grad(loss, positions)

    def gradient(*a):
        g = grad(*a)
        return np.concatenate([np.ravel(x) for x in (g if isinstance(g, tuple) else (g,))])
    want = directional(gradient, args, tangents, eps=1e-5)
    np.testing.assert_allclose(np.concatenate([np.ravel(h) for h in hv]), want, rtol=1e-4, atol=1e-5)


def test_every_differentiable_primitive_has_forward_mode():
    kinds = {}
    for p in prims.PRIMS.values():
        if p.differentiable:
            assert p.tangent_kind in ("rule", "linear", "multilinear", "transposed"), p.name
            kinds.setdefault(p.tangent_kind, []).append(p.name)
    assert {"mul", "matmul", "exp", "tanh", "add"} <= set(kinds["rule"])
    assert {"sum", "reshape", "getitem", "concat", "unbroadcast", "unreduce", "transpose"} <= set(kinds["linear"])
    assert {"conv2d", "einsum", "matmul_dx"} <= set(kinds["multilinear"])


# -- MindSpore's jvp ------------------------------------------------------------------------------
X = Tensor(np.array([[1, 2], [3, 4]]).astype(np.float32))
V = Tensor(np.array([[1, 1], [1, 1]]).astype(np.float32))


def cube_plus(x, y):
    return x ** 3 + y


def two_out(x, y):
    return x ** 3 + y, y * 2


def three_out(x, y):
    return x ** 3 + y, y, x


def test_jvp_values_and_structures_as_mindspore():
    # MindSpore 2.10 (CPU): jvp(fn, (x, y), (v, v)) -> ([[2, 10], [30, 68]], [[4, 13], [28, 49]])
    out, tan = ops.jvp(cube_plus, (X, X), (V, V))
    assert isinstance(out, Tensor) and out.dtype == adjoint.float32
    assert out.asnumpy().tolist() == [[2, 10], [30, 68]] and tan.asnumpy().tolist() == [[4, 13], [28, 49]]
    # a single Tensor input: jvp(cube, x, v) -> ([[1, 8], [27, 64]], [[3, 12], [27, 48]])
    out, tan = ops.jvp(lambda x: x ** 3, X, V)
    assert tan.asnumpy().tolist() == [[3, 12], [27, 48]]
    # tuple output: ((out1, out2), (jvp1, jvp2)) -> jvp2 = [[2, 2], [2, 2]]
    (o1, o2), (t1, t2) = ops.jvp(two_out, (X, X), (V, V))
    assert o2.asnumpy().tolist() == [[2, 4], [6, 8]] and t2.asnumpy().tolist() == [[2, 2], [2, 2]]
    # has_aux, one aux: (out1, jvp1, y * 2) (the aux by itself)
    out, tan, aux = ops.jvp(two_out, (X, X), (V, V), has_aux=True)
    assert tan.asnumpy().tolist() == [[4, 13], [28, 49]] and isinstance(aux, Tensor)
    assert aux.asnumpy().tolist() == [[2, 4], [6, 8]]
    # has_aux, two aux: (out1, jvp1, (y, x))
    out, tan, aux = ops.jvp(three_out, (X, X), (V, V), has_aux=True)
    assert isinstance(aux, tuple) and len(aux) == 2 and aux[1].asnumpy().tolist() == [[1, 2], [3, 4]]
    # float64 stays float64 (MindSpore 2.10: TFloat64)
    out, tan = ops.jvp(lambda x: x ** 3, Tensor(np.array([1.0, 2.0])), Tensor(np.array([1.0, 1.0])))
    assert tan.dtype == adjoint.float64 and tan.asnumpy().tolist() == [3.0, 12.0]


def test_jvp_on_numpy_arrays_numbers_pytrees_and_keywords():
    out, tan = adjoint.jvp(np.sin, 0.3, 1.0)
    assert tan == pytest.approx(np.cos(0.3))

    def f(p, x):
        return np.sum(p["w"] * x) + np.sum(p["b"] ** 2)
    p = {"w": np.array([1.0, 2.0]), "b": np.array([3.0])}
    t = {"w": np.array([1.0, 0.0]), "b": np.array([1.0])}
    out, tan = adjoint.jvp(f, (p, np.array([2.0, 5.0])), (t, np.zeros(2)))
    assert tan == pytest.approx(2.0 + 6.0)


def test_the_tangent_code_is_readable():
    g = adjoint.functional._tangent_fn(cube_plus, 2, False, "jvp")
    src = g.compiled(X, X, V, V).source
    assert "def cube_plus_jvp(x, y, x_dot, y_dot):" in src
    assert "# tangent of: return x ** 3 + y" in src
    assert "x_dot * (3 * (x * x)) + y_dot" in src


# -- control flow ---------------------------------------------------------------------------------
def branchy(x, w):
    if np.sum(x) > 0:
        y = np.sin(x) * w
    else:
        y = np.cos(x) * w * w
    return y


def looped(x, w):
    h = x
    for t in range(3):
        h = np.tanh(h * w + 0.1 * t)
    return h


def whiled(x, w):
    s = x
    n = 0
    while np.sum(s) < 5.0:
        s = s * 1.5 + w * w
        n = n + 1
    return s * n


def early(x, w):
    for i in range(4):
        x = x * w
        if np.sum(x) > 3.0:
            return x * 2.0
    return x


@pytest.mark.parametrize("fn", [branchy, looped, whiled, early])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_forward_mode_through_control_flow(fn, sign):
    x, w = sign * np.array([0.3, 0.8]), np.array([1.2, 0.9])
    t = _tangents([x, w], seed=5)
    out, tan = adjoint.jvp(fn, (x, w), tuple(t))
    np.testing.assert_allclose(tan, directional(fn, [x, w], t), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn", [branchy, looped, whiled, early])
def test_forward_over_reverse_through_control_flow(fn):
    x, w = np.array([0.3, 0.8]), np.array([1.2, 0.9])
    t = _tangents([x, w], seed=6)

    def loss(x, w):
        return np.sum(fn(x, w) ** 2)
    hx, hw = adjoint.hvp(loss, (x, w), tuple(t))
    grad = adjoint.grad(loss, (0, 1))
    want = directional(lambda a, b: np.concatenate(grad(a, b)), [x, w], t, eps=1e-5)
    np.testing.assert_allclose(np.concatenate([hx, hw]), want, rtol=1e-5, atol=1e-7)


# -- composition: forward mode inside compiled code ------------------------------------------------
def quartic(x):
    return np.sum(np.sin(x) * x ** 2)


def test_reverse_over_forward_and_forward_over_forward():
    x, v = np.array([0.3, -0.7, 1.1]), np.array([1.0, 0.5, -2.0])

    def directional_derivative(x):
        return ops.jvp(quartic, (x,), (v,))[1]         # inlined: its tangent code
    np.testing.assert_allclose(adjoint.grad(directional_derivative)(x), adjoint.hvp(quartic, x, v), rtol=1e-12)

    def second(x):
        return ops.jvp(directional_derivative, (x,), (v,))[1]
    assert second(x) == pytest.approx(v @ adjoint.hessian(quartic)(x) @ v, rel=1e-12)

    def hv_total(x):
        return np.sum(adjoint.hvp(quartic, x, v))       # third order: reverse over forward over reverse
    np.testing.assert_allclose(adjoint.grad(hv_total)(x), numeric_third(x, v), rtol=1e-5)


def numeric_third(x, v, eps=1e-4):
    return np.array([(np.sum(adjoint.hvp(quartic, x + eps * e, v)) - np.sum(adjoint.hvp(quartic, x - eps * e, v)))
                     / (2 * eps) for e in np.eye(len(x))])
