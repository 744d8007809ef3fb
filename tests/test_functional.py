"""ops.vjp, ops.linearize, jacfwd, jacrev, hessian and hvp: values against finite differences
(second order for hessian and hvp), Jacobians against stacked gradients, and the structures
MindSpore 2.10 gives (recorded on CPU, PyNative mode, where noted)."""
import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, Tensor
from fd import numeric_grad


def T(v):
    return Tensor(np.array(v, np.float32))


def vals(t):
    return t.asnumpy().tolist()


X2 = T([[1, 2], [3, 4]])
Y2 = T([[1, 2], [3, 4]])
V2 = T([[1, 1], [1, 1]])


def cube_plus(x, y):
    return x ** 3 + y


def two_out(x, y):
    return x ** 3 + y, y * 2


def three_out(x, y):
    return x ** 3 + y, y, x


# -- vjp ----------------------------------------------------------------------------------------
def test_vjp_as_mindspore():
    # MindSpore 2.10: outputs [[2, 10], [30, 68]]; vjp_fn(v) -> ([[3, 12], [27, 48]], [[1, 1], [1, 1]])
    out, vjp_fn = ops.vjp(cube_plus, X2, Y2)
    assert vals(out) == [[2, 10], [30, 68]]
    gx, gy = vjp_fn(V2)
    assert vals(gx) == [[3, 12], [27, 48]] and vals(gy) == [[1, 1], [1, 1]]
    # one input: still a tuple, (grad,)
    out, vjp_fn = ops.vjp(lambda x: x ** 3, X2)
    g = vjp_fn(V2)
    assert isinstance(g, tuple) and len(g) == 1 and vals(g[0]) == [[3, 12], [27, 48]]
    # tuple output: vjp_fn takes one cotangent per output -> ([[3, 12], [27, 48]], [[3, 3], [3, 3]])
    out, vjp_fn = ops.vjp(two_out, X2, Y2)
    assert vals(out[1]) == [[2, 4], [6, 8]]
    assert [vals(g) for g in vjp_fn((V2, V2))] == [[[3, 12], [27, 48]], [[3, 3], [3, 3]]]
    # has_aux: (first output, vjp_fn, aux); aux by itself when there is one, else a tuple
    out, vjp_fn, aux = ops.vjp(three_out, X2, Y2, has_aux=True)
    assert isinstance(aux, tuple) and len(aux) == 2 and vals(aux[1]) == [[1, 2], [3, 4]]
    assert [vals(g) for g in vjp_fn(V2)] == [[[3, 12], [27, 48]], [[1, 1], [1, 1]]]
    out, vjp_fn, aux = ops.vjp(two_out, X2, Y2, has_aux=True)
    assert isinstance(aux, Tensor) and vals(aux) == [[2, 4], [6, 8]]


class WXXB(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(T([2.0, 3.0]), name="w")
        self.b = Parameter(T([1.0]), name="b")

    def construct(self, x):
        return self.w * x * x + self.b


def test_vjp_with_weights_as_mindspore():
    net, x, v = WXXB(), T([1.0, 2.0]), T([1.0, 1.0])
    # MindSpore 2.10: outputs [3, 13]; vjp_fn(v) -> (([4, 12],), ([1, 4], [2]))
    out, vjp_fn = ops.vjp(net, x, weights=net.trainable_params())
    assert vals(out) == [3.0, 13.0]
    (gx,), (gw, gb) = vjp_fn(v)
    assert vals(gx) == [4.0, 12.0] and vals(gw) == [1.0, 4.0] and vals(gb) == [2.0]
    # one Parameter: (([4, 12],), [1, 4])
    out, vjp_fn = ops.vjp(net, x, weights=net.w)
    (gx,), gw = vjp_fn(v)
    assert vals(gw) == [1.0, 4.0]


def looped(x, w):
    h = x
    for t in range(4):
        h = np.tanh(h @ w + 0.1 * t)
    return h


def test_vjp_runs_the_forward_once_and_the_pullback_many_times():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3)), rng.standard_normal((3, 3)) * 0.5
    out, pullback = ops.vjp(looped, x, w)
    np.testing.assert_allclose(out, looped(x, w))
    v = rng.standard_normal(out.shape)
    want = [numeric_grad(lambda a, b: np.sum(looped(a, b) * v), [x, w], i) for i in (0, 1)]
    for scale in (1.0, 2.0, 1.0):          # the pullback pops a copy of the loop's tape each time
        gx, gw = pullback(v * scale)
        np.testing.assert_allclose(gx, scale * want[0], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(gw, scale * want[1], rtol=1e-6, atol=1e-9)
    src = pullback.source
    assert "def looped_forward(x, w):" in src and "def looped_pullback(" in src and "copy_tape(" in src


def test_vjp_through_a_branch_and_a_while():
    def f(x):
        if np.sum(x) > 0:
            y = np.sin(x) * x
        else:
            y = np.cos(x)
        while np.sum(y) < 4.0:
            y = y * 1.5 + 0.5
        return y
    for x in (np.array([0.3, 0.4]), np.array([-0.3, -0.1])):
        out, pullback = ops.vjp(f, x)
        v = np.array([1.0, -2.0])
        np.testing.assert_allclose(pullback(v)[0], numeric_grad(lambda a: np.sum(f(a) * v), [x], 0), rtol=1e-6)


# -- linearize ----------------------------------------------------------------------------------------
def test_linearize_as_mindspore():
    x, y, v = T([1.0, 2.0]), T([-2.0, 3.0]), T([1.0, 1.0])

    def f2(x, y):
        return x * y, x + y
    # MindSpore 2.10: outputs ([-2, 6], [-1, 5]); jvp_fn((v, v)) -> ([-1, 5], [2, 2])
    out, jvp_fn = ops.linearize(f2, (x, y))
    assert [vals(o) for o in out] == [[-2.0, 6.0], [-1.0, 5.0]]
    assert [vals(t) for t in jvp_fn((v, v))] == [[-1.0, 5.0], [2.0, 2.0]]
    # one input: ([1, 8], [3, 12])
    out, jvp_fn = ops.linearize(lambda x: x ** 3, x)
    assert vals(out) == [1.0, 8.0] and vals(jvp_fn(v)) == [3.0, 12.0]


# -- Jacobians ---------------------------------------------------------------------------------------
def squares_and_product(x, y, z):
    return x ** 2 + y ** 2 + z ** 2, x * y * z


def square_plus(x, y, z):
    return x ** 2 + y * z


Z2 = T([[1, 1], [1, 1]])


def _diag(j):
    a = j.asnumpy()
    n = int(np.sqrt(a.size))
    return np.diag(a.reshape(n, n)).tolist()


@pytest.mark.parametrize("jac", [adjoint.jacfwd, adjoint.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_structures_as_mindspore(jac):
    # MindSpore 2.10 (values below): shape out.shape + x.shape, (2, 2, 2, 2)
    j, aux = jac(squares_and_product, grad_position=0, has_aux=True)(X2, Y2, Z2)
    assert j.shape == (2, 2, 2, 2) and _diag(j) == [2, 4, 6, 8] and vals(aux) == [[1, 4], [9, 16]]
    j = jac(square_plus, grad_position=0)(X2, Y2, Z2)
    assert isinstance(j, Tensor) and _diag(j) == [2, 4, 6, 8]
    jx, jy = jac(square_plus, grad_position=(0, 1))(X2, Y2, Z2)
    assert _diag(jx) == [2, 4, 6, 8] and _diag(jy) == [1, 1, 1, 1]
    j1, j2 = jac(squares_and_product, grad_position=0)(X2, Y2, Z2)
    assert _diag(j1) == [2, 4, 6, 8] and _diag(j2) == [1, 2, 3, 4]
    (j1x, j1z), (j2x, j2z) = jac(squares_and_product, grad_position=(0, 2))(X2, Y2, Z2)
    assert _diag(j1z) == [2, 2, 2, 2] and _diag(j2z) == [1, 4, 9, 16]
    xs = T([0.5, 1.0, 2.0])
    # a scalar output: shape x.shape, [1, 2, 4]; a 0-d output x[0] * x[1]: [1, 0.5, 0]
    assert vals(jac(lambda x: (x * x).sum())(xs)) == [1.0, 2.0, 4.0]
    assert vals(jac(lambda x: x[0] * x[1])(xs)) == [1.0, 0.5, 0.0]

    def with_one_aux(x, y, z):
        return x * y * z, x + 1

    def with_two_aux(x, y, z):
        return x * y * z, x + 1, y
    # has_aux with one aux output: (J, aux); with two: (J, (aux1, aux2))
    j, aux = jac(with_one_aux, has_aux=True)(xs, xs, xs)
    assert np.diag(j.asnumpy()).tolist() == [0.25, 1.0, 4.0] and vals(aux) == [1.5, 2.0, 3.0]
    j, aux = jac(with_two_aux, has_aux=True)(xs, xs, xs)
    assert isinstance(aux, tuple) and vals(aux[1]) == [0.5, 1.0, 2.0]


def mixing(x, w):
    return np.tanh(x @ w) * np.sum(x * x)


@pytest.mark.parametrize("jac", [adjoint.jacfwd, adjoint.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobians_are_stacked_gradients(jac):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(3), rng.standard_normal((3, 4))
    jx, jw = jac(mixing, grad_position=(0, 1))(x, w)
    assert jx.shape == (4, 3) and jw.shape == (4, 3, 4)
    for k in range(4):                      # row k: the gradient of output k
        gx, gw = adjoint.grad(lambda x, w: mixing(x, w)[k], (0, 1))(x, w)
        np.testing.assert_allclose(jx[k], gx, rtol=1e-12)
        np.testing.assert_allclose(jw[k], gw, rtol=1e-12)
        np.testing.assert_allclose(jx[k], numeric_grad(lambda a: mixing(a, w)[k], [x], 0), rtol=1e-6)


def test_jacfwd_and_jacrev_agree_through_control_flow():
    def f(x):
        y = x
        for i in range(3):
            if np.sum(y) > 0:
                y = np.sin(y) * 2.0
            else:
                y = y * y
        return y
    x = np.array([0.3, -0.2, 0.5])
    np.testing.assert_allclose(adjoint.jacfwd(f)(x), adjoint.jacrev(f)(x), rtol=1e-12)


# -- Hessians --------------------------------------------------------------------------------------------
def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_hessian_against_second_order_finite_differences():
    x = np.array([0.5, -1.2, 0.3, 2.0])
    h = adjoint.hessian(rosenbrock)(x)
    want = np.stack([numeric_grad(lambda a: adjoint.grad(rosenbrock)(a)[k], [x], 0) for k in range(4)])
    np.testing.assert_allclose(h, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(h, h.T, rtol=1e-12)
    # against the second differences of the function itself
    eps = 1e-4
    for i in range(4):
        for j in range(4):
            e_i, e_j = np.eye(4)[i] * eps, np.eye(4)[j] * eps
            fd = (rosenbrock(x + e_i + e_j) - rosenbrock(x + e_i - e_j) - rosenbrock(x - e_i + e_j)
                  + rosenbrock(x - e_i - e_j)) / (4 * eps * eps)
            assert h[i, j] == pytest.approx(fd, rel=1e-4, abs=1e-3)


def test_hessian_blocks_shapes_and_aux():
    def f(x, w):
        return np.sum(np.sin(x @ w)) * 2.0, x + 1.0
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(3), rng.standard_normal((3, 2))
    (hxx, hxw), (hwx, hww) = adjoint.hessian(lambda x, w: f(x, w)[0], grad_position=(0, 1))(x, w)
    assert hxx.shape == (3, 3) and hxw.shape == (3, 3, 2) and hwx.shape == (3, 2, 3) and hww.shape == (3, 2, 3, 2)
    np.testing.assert_allclose(hxw, np.moveaxis(hwx, 2, 0), rtol=1e-12)
    gx = adjoint.grad(lambda x, w: f(x, w)[0], 0)
    for k in range(3):                  # row k of H_xw: the gradient in w of (d f / d x)_k
        np.testing.assert_allclose(hxw[k], numeric_grad(lambda b: gx(x, b)[k], [w], 0), rtol=1e-5, atol=1e-8)
    h, aux = adjoint.hessian(f, has_aux=True)(x, w)
    np.testing.assert_allclose(h, hxx, rtol=1e-12)
    np.testing.assert_allclose(aux, x + 1.0)
    # a vector output: out.shape + x.shape + x.shape
    hv = adjoint.hessian(lambda x: np.sin(x) * x[0])(x)
    assert hv.shape == (3, 3, 3)
    for k in range(3):
        np.testing.assert_allclose(hv[k], adjoint.hessian(lambda x: (np.sin(x) * x[0])[k])(x), rtol=1e-12)


def test_hvp_is_forward_over_reverse_in_one_compiled_function():
    x = np.array([0.5, -1.2, 0.3, 2.0])
    v = np.array([1.0, 0.5, -0.3, 0.2])
    hv = adjoint.hvp(rosenbrock, x, v)
    np.testing.assert_allclose(hv, adjoint.hessian(rosenbrock)(x) @ v, rtol=1e-12)
    eps = 1e-5
    fd = (adjoint.grad(rosenbrock)(x + eps * v) - adjoint.grad(rosenbrock)(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv, fd, rtol=1e-6)
    src = adjoint.functional.hvp_function(rosenbrock).compiled(x, v).source
    assert "def grad_rosenbrock_jvp(x, x_dot):" in src and "for " not in src
    # several inputs and Tensors
    hx, hw = adjoint.hvp(lambda x, w: np.sum(np.tanh(x * w) ** 2), (T([0.5, 1.0]), T([2.0, -1.0])),
                         (T([1.0, 0.0]), T([0.0, 1.0])))
    assert isinstance(hx, Tensor) and hx.dtype == adjoint.float32
