"""Code generated against an array namespace (compiler/namespaces.py): the rule spec table of
tests/test_rules.py and a sample of gradient programs, run on array_api_strict arrays (which
reject every call outside the standard), on torch CPU tensors, on JAX arrays and on CuPy arrays
(with a GPU), each against NumPy's gradient of the same function (itself checked against finite
differences in test_rules.py). Skipped for a library that is not installed (``pip install -e
'.[xp]'`` gets array_api_strict and array_api_compat; torch and JAX are separate installs)."""
import importlib
import os

import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import ParameterTuple, Tensor
from adjoint.errors import SourceError

import test_rules as R
from fd import assert_close_to_fd
from programs import control

pytestmark = pytest.mark.filterwarnings("ignore::adjoint.AdjointWarning")


def _library(name):
    try:
        importlib.import_module("array_api_compat")
        if name == "strict":
            return importlib.import_module("array_api_strict")
        if name == "torch":
            return importlib.import_module("torch")
        if name == "jax":
            jax = importlib.import_module("jax")
            jax.config.update("jax_enable_x64", True)
            return importlib.import_module("jax.numpy")
        if name == "cupy":
            cupy = importlib.import_module("cupy")
            cupy.cuda.runtime.getDeviceCount()
            return cupy
    except Exception:
        return None


def _make(name):
    lib = _library(name)
    if lib is None:
        return None
    if name == "torch":
        return lambda a: lib.asarray(np.asarray(a))
    return lambda a: lib.asarray(np.asarray(a))


LIBRARIES = ["strict", "torch", "jax", "cupy"]


@pytest.fixture(params=LIBRARIES)
def make(request):
    fn = _make(request.param)
    if fn is None:
        pytest.skip("%s is not installed (or has no device)" % request.param)
    fn.library = request.param
    return fn


def slow_on_jax(make):
    """JAX compiles every op for every new shape (seconds per program): the larger programs run
    on it with ADJOINT_XP_ALL=1."""
    if make.library == "jax" and not ALL:
        pytest.skip("slow on JAX (ADJOINT_XP_ALL=1 runs it)")


def to_numpy(x):
    if isinstance(x, (np.ndarray, np.generic, float, int)):
        return np.asarray(x)
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if hasattr(x, "get"):
        return x.get()
    return np.from_dlpack(x)


# what has no namespace form (refused with the user's line) or needs what a library lacks
REFUSED = {"conv", "max_pool", "avg_pool", "bias_", "einsum", "prod", "pad", "ReduceProd", "method_prod",
           "ops_pad"}


def _refused(name):
    return any(name.startswith(r) or name.startswith("f_" + r) for r in REFUSED)


SPECS = [s for s in R.SPECS]


def _compare(fn, args, make, rtol=1e-9, atol=1e-11):
    """adjoint's gradient on namespace arrays == its NumPy gradient, in the same types."""
    positions = tuple(range(len(args)))
    expected = adjoint.grad(fn, positions)(*args)
    got = adjoint.grad(fn, positions)(*[make(a) for a in args])
    if len(args) == 1:
        expected, got = (expected,), (got,)
    for i, (e, g) in enumerate(zip(expected, got)):
        assert not isinstance(g, np.ndarray), "the gradient of a namespace array is one too"
        np.testing.assert_allclose(to_numpy(g), e, rtol=rtol, atol=atol, err_msg="argument %d" % i)


# array_api_strict runs the whole table; the others a sample (JAX compiles each op for each new
# shape: seconds per spec), all of it with ADJOINT_XP_ALL=1
SAMPLE = {"strict": 1, "torch": 3, "cupy": 3, "jax": 50}
ALL = os.environ.get("ADJOINT_XP_ALL", "") not in ("", "0")


@pytest.mark.parametrize("name,fn,shapes,domain", SPECS, ids=[s[0] for s in SPECS])
def test_rule_table_on_namespace_arrays(name, fn, shapes, domain, make):
    if not ALL and SPECS.index((name, fn, shapes, domain)) % SAMPLE[make.library]:
        pytest.skip("a sample of the table runs on %s (ADJOINT_XP_ALL=1: all of it)" % make.library)
    args = R._inputs(shapes, domain)
    out_shape = np.shape(R.on_tensors(fn)(*args))
    weight = np.random.default_rng(1).uniform(0.5, 1.5, size=out_shape)
    loss = R.weighted(fn, weight)
    if _refused(name):
        with pytest.raises((SourceError, adjoint.errors.AdjointError)) as info:
            adjoint.grad(loss, tuple(range(len(args))))(*[make(a) for a in args])
        assert "has no form for" in str(info.value) or "has no derivative rule" in str(info.value)
        return
    _compare(loss, args, make)


# -- a sample of gradient programs ---------------------------------------------------------------
class MLP(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Dense(16, 32, activation="relu")
        self.fc2 = nn.Dense(32, 10)

    def construct(self, x):
        return self.fc2(self.fc1(x))


LOSSES = {
    "softmax_ce": lambda: nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"),
    "weighted_ce": lambda: nn.CrossEntropyLoss(weight=Tensor(np.linspace(0.5, 1.5, 10), np.float32),
                                               ignore_index=3, label_smoothing=0.1),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_mlp_cell_with_numpy_parameters_on_namespace_data(loss, make):
    slow_on_jax(make)
    """Mixed inputs: the Parameters (NumPy) are converted to the data's namespace; their
    gradients come back as Tensors in their dtype, equal to the NumPy call's."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 16)).astype(np.float32)
    labels = rng.integers(0, 10, 40).astype(np.int64)
    net = nn.WithLossCell(MLP(), LOSSES[loss]())
    params = ParameterTuple(net.trainable_params())
    grad = ops.GradOperation(get_by_list=True)(net, params)
    want = grad(Tensor(X), Tensor(labels))
    got = grad(make(X), make(labels))
    assert all(isinstance(g, Tensor) and g.dtype == p.dtype for g, p in zip(got, params))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.asnumpy(), w.asnumpy(), rtol=2e-4, atol=1e-6)



def test_rnn_loop_accumulates_in_place_except_on_jax(make):
    xs = np.random.default_rng(2).standard_normal((7, 30, 5))
    net = control.RNN()
    grad = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    want = grad(Tensor(xs))
    got = grad(make(xs))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.asnumpy(), w.asnumpy(), rtol=1e-10)
    source = _code(grad.compiled(make(xs)).source)
    assert "for t in range" in source and "np." not in source
    assert ("dself_wh_1 += " in source) == (make.library != "jax")


def gnn_loss(W, X, src, dst, target):
    H = np.tanh(X @ W)
    score = np.sum(H[src] * H[dst], axis=1)
    return np.mean((score - target) ** 2)


def test_gather_gradient_scatters_repeats_and_negative_indices(make):
    slow_on_jax(make)
    rng = np.random.default_rng(3)
    X, target = rng.standard_normal((50, 6)), rng.standard_normal(80)
    src, dst = rng.integers(0, 50, 80), rng.integers(-50, 50, 80)
    W = np.linspace(-1, 1, 24).reshape(6, 4)
    grad = adjoint.grad(gnn_loss, (0, 1))
    want = grad(W, X, src, dst, target)
    got = grad(make(W), make(X), make(src), make(dst), make(target))
    for g, w in zip(got, want):
        np.testing.assert_allclose(to_numpy(g), w, rtol=1e-10, atol=1e-14)


def branchy(x, w):
    total = 0.0
    for i in range(x.shape[0]):
        row = x[i] * w
        if np.sum(row) > 0:
            total = total + np.sum(np.sin(row))
        else:
            total = total - np.sum(row * row)
    y = x[:, 1:3] * 1.0
    y[0] = 2.0 * w[:2]
    return total + np.sum(y * y) + np.max(x) + np.sum(np.where(x > 0.2, x, -x))


def test_control_flow_item_assignment_and_kinks(make):
    slow_on_jax(make)
    rng = np.random.default_rng(4)
    x, w = rng.uniform(-1, 1, (5, 4)), rng.uniform(-1, 1, 4)
    _compare(branchy, [x, w], make)


def grow_until(x):
    s = x
    while np.sum(s) < 10.0:         # a while on an array: its trip count is taped
        s = s * 1.5 + x
    return np.sum(s * s)


def shrink_back_up(x, n):
    if n <= 0:                      # recursion as loops: a Python flag says when the way down ends
        return x
    return np.sin(shrink_back_up(x, n - 1)) * x


def test_while_loops_and_recursion_on_namespace_arrays(make):
    x = np.array([0.3, 0.7, -0.2])
    _compare(grow_until, [x], make)
    want = adjoint.grad(shrink_back_up)(x, 3)
    np.testing.assert_allclose(to_numpy(adjoint.grad(shrink_back_up)(make(x), 3)), want, rtol=1e-12)
    assert_close_to_fd(want, lambda v: np.sum(shrink_back_up(v, 3)), [x], 0)


def test_value_and_grad_second_order_and_forward_mode(make):
    def f(x):
        return np.sum(np.tanh(x) * np.exp(-x * x))

    x = np.linspace(-1, 1, 7)
    value, dx = adjoint.value_and_grad(f)(make(x))
    want_value, want_dx = adjoint.value_and_grad(f)(x)
    np.testing.assert_allclose(float(value), want_value, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(to_numpy(dx), want_dx, rtol=1e-12)

    def g(x):
        return np.sum(adjoint.grad(f)(x) * x)
    np.testing.assert_allclose(to_numpy(adjoint.grad(g)(make(x))), adjoint.grad(g)(x), rtol=1e-10)
    v = np.cos(np.arange(7.0))
    np.testing.assert_allclose(to_numpy(adjoint.hvp(f, (make(x),), (make(v),))[1]),
                               adjoint.hvp(f, (x,), (v,))[1], rtol=1e-10)


def test_float_policy_numpy_weights_compute_in_the_datas_dtype(make):
    """NumPy float64 weights with float32 data: computed in float32 (the data's dtype), the
    weight's gradient returned as NumPy float64, the data's in its own type and float32."""
    def f(w, X):
        return np.mean(np.tanh(X @ w))

    rng = np.random.default_rng(5)
    w, X = rng.standard_normal(3), rng.standard_normal((20, 3)).astype(np.float32)
    dw, dX = adjoint.grad(f, (0, 1))(w, make(X))
    want_w, want_X = adjoint.grad(f, (0, 1))(w.astype(np.float32), X)
    assert type(dw) is np.ndarray and dw.dtype == np.float64
    assert not isinstance(dX, np.ndarray) and to_numpy(dX).dtype == np.float32
    np.testing.assert_allclose(dw, want_w, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(dX), want_X, rtol=1e-5, atol=1e-7)
    source = adjoint.grad(f, (0, 1)).compiled(w, make(X)).source
    assert "rx.to_namespace(xp, w, X)" in source and "rx.to_host(xp, " in source


def test_generated_code_is_namespace_code(make):
    def f(x):
        return np.sum(np.swapaxes(np.concatenate([x, np.exp(x)], axis=1), 0, 1)[:, 0] ** 3)

    grad = adjoint.grad(f)
    x = np.linspace(0, 1, 6).reshape(2, 3)
    numpy_source = grad.compiled(x).source
    source = _code(grad.compiled(make(x)).source)
    assert "import numpy" not in source and "np." not in source and ".kind" not in source
    assert "import %s as xp" % _namespace_module(make(x)) in source
    assert "xp.exp(x)" in source and "rx.concat(xp, " in source and "rx.swapaxes(xp, " in source
    assert grad.compiled(x).source == numpy_source           # NumPy code: as before
    _compare(f, [x], make)


def _code(source):
    """The generated source without its comments (which quote the user's lines)."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


def _namespace_module(x):
    import array_api_compat
    return array_api_compat.array_namespace(x).__name__


# -- refusals: the user's line and what to do ------------------------------------------------------
def convolve(x, w):
    return ops.sum(ops.conv2d(x, w))


def no_rule(x):
    return np.sum(np.cumprod(x))


def test_what_has_no_namespace_form_is_refused_at_the_users_line(make):
    x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2))
    with pytest.raises(SourceError) as info:
        adjoint.grad(convolve, (0, 1))(make(x), make(w))
    text = str(info.value)
    assert "test_namespaces.py" in text and "ops.conv2d(x, w)" in text and "has no form for" in text
    with pytest.raises(SourceError) as info:
        adjoint.grad(no_rule)(make(np.ones(3)))
    text = str(info.value)
    assert "np.cumprod" in text and "test_namespaces.py" in text and "hint:" in text


def test_arrays_of_two_libraries_in_one_call_are_refused():
    strict, torch = _make("strict"), _make("torch")
    if strict is None or torch is None:
        pytest.skip("needs array_api_strict and torch")

    def f(x, y):
        return np.sum(x * y)
    with pytest.raises(adjoint.errors.ArgumentError, match="one call computes in one array library"):
        adjoint.grad(f)(strict(np.ones(2)), torch(np.ones(2)))


def test_namespace_arrays_in_structures_are_refused_clearly(make):
    def f(params, x):
        return np.sum(params["w"] * x)
    with pytest.raises(adjoint.errors.ArgumentError, match="only as plain positional arguments"):
        adjoint.grad(f)({"w": make(np.ones(2))}, make(np.ones(2)))


def gather_in_a_loop(W, ids):
    total = 0.0
    for t in range(ids.shape[0]):           # a run-time trip count: the loop stays a loop
        total = total + np.sum(np.tanh(W[ids[t]]) ** 2)
    return total


def test_gathers_inside_a_loop_accumulate_into_the_loops_gradient(make):
    """The loop adds each gather's gradient into its accumulator (rx.scatter_add, assigned back:
    in place on torch, a new array from the one-hot product of array_api_strict)."""
    rng = np.random.default_rng(6)
    W, ids = rng.standard_normal((9, 3)), rng.integers(-9, 9, (40, 5))
    want = adjoint.grad(gather_in_a_loop)(W, ids)
    got = adjoint.grad(gather_in_a_loop)(make(W), make(ids))
    np.testing.assert_allclose(to_numpy(got), want, rtol=1e-12)
    source = adjoint.grad(gather_in_a_loop).compiled(make(W), make(ids)).source
    assert ("dW = rx.scatter_add(xp, dW, " in source) == (make.library != "jax")    # (JAX: dW = dW + ...)


# -- the emission table ---------------------------------------------------------------------------
def test_every_primitive_has_a_namespace_form_or_a_reason():
    from adjoint.compiler import namespaces as N
    from adjoint.compiler import runtime_xp
    from adjoint.compiler.prims import PRIMS
    structured = {"if", "for", "while", "bprop_call", "new_list", "tape_push", "tape_pop", "tape_len", "ipow"}
    for name, prim in PRIMS.items():
        if prim.infix or prim.unary or name in structured:
            continue
        assert (name in N.XP) + (name in N.HELPERS) + (name in N.PURE) + (name in N.REFUSED) == 1, name
    for name in N.HELPERS:
        assert callable(getattr(runtime_xp, name)), name


class Norm(nn.Cell):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm1d(3)

    def construct(self, x):
        return ops.sum(self.bn(x) ** 2)


def test_batchnorm_moving_statistics_are_written_into_the_numpy_parameters(make):
    x = np.random.default_rng(7).standard_normal((8, 3))
    nets = [Norm(), Norm()]
    for net in nets:
        net.set_train()
    grads = [ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params())) for net in nets]
    want, got = grads[0](Tensor(x)), grads[1](make(x))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.asnumpy(), w.asnumpy(), rtol=1e-5, atol=1e-7)
    for a, b in zip(nets[0].get_parameters(), nets[1].get_parameters()):
        np.testing.assert_allclose(b.asnumpy(), a.asnumpy(), rtol=1e-6, err_msg=a.name)


def test_sens_of_namespace_arrays(make):
    def project(w, X):
        return X @ w
    grad = ops.GradOperation(sens_param=True)(project)
    w, X, s = np.ones(3), np.arange(12.0).reshape(4, 3), np.linspace(0, 1, 4)
    np.testing.assert_allclose(to_numpy(grad(make(w), make(X), make(s))), grad(w, X, s), rtol=1e-12)
    got = grad(make(w), make(X), s)             # a NumPy sens joins the arguments' namespace
    assert not isinstance(got, np.ndarray)
    np.testing.assert_allclose(to_numpy(got), grad(w, X, s), rtol=1e-12)


def test_numpy_tangents_of_namespace_arguments(make):
    def f(x):
        return np.sin(x) * x
    x, v = np.linspace(0, 1, 3), np.array([1.0, -2.0, 0.5])
    value, tangent = adjoint.jvp(f, (make(x),), (v,))
    np.testing.assert_allclose(to_numpy(tangent), (np.cos(x) * x + np.sin(x)) * v, rtol=1e-12)


def test_no_special_version_for_namespace_arguments(make, monkeypatch):
    # specialize.py rebuilds NumPy code: a namespace call must keep its general code
    import adjoint.stubs as G
    calls = []
    real = G.specialize
    monkeypatch.setattr(G, "specialize", lambda *a, **k: calls.append(a) or real(*a, **k))

    def f(a, b, X):
        return np.sum(np.sin(X @ a) * (X @ b))
    rng = np.random.default_rng(0)
    a, b, X = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal((4, 3))
    on_numpy = adjoint.grad(f, (0, 1))
    want = [on_numpy(a, b, X) for _ in range(3)][-1]      # (made at call ADJOINT_SPECIALIZE_AT)
    assert calls                    # (NumPy arguments of equal shape: a special version)
    calls.clear()
    grad = adjoint.grad(f, (0, 1))
    for _ in range(3):
        got = grad(a, b, make(X))
        for g, w in zip(got, want):
            np.testing.assert_allclose(to_numpy(g), w, rtol=1e-12)
    assert not calls
