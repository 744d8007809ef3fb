"""The call stub's special version (compiler/specialize.py, compiler/chunking.py): built for
the first call's facts, run behind guards, and never different from the general code."""
import numpy as np
import pytest

import adjoint
from adjoint import Parameter, ParameterTuple, Tensor, nn, ops
from adjoint.compiler import chunking
from tests.fd import numeric_grad


@pytest.fixture(autouse=True)
def at_the_first_call(monkeypatch):
    """Special versions made at the first call (as the suite's conftest asks, whatever the
    environment says)."""
    from adjoint import stubs
    monkeypatch.setattr(stubs, "SPECIALIZE_AT", 1)
    adjoint.clear_cache()


def seed_loss(w, b, x):
    return np.sum(w * x + b)


def scalar_loss(x, y):
    return np.sin(x) * np.cos(y) + x * y * y


def root(x):
    return np.sqrt(x) + np.exp(x)


def chain(x, y):
    return np.sum(np.tanh(np.exp(-x * x) * np.sin(y) + x ** 3 / (1 + x * x)))


def _special(gradfn):
    """The special version the last call's stub runs, or None."""
    return gradfn._stub.__globals__.get("_FS")


def _general(gradfn, *args):
    return gradfn.compiled(*args).fn(*args)


def test_equal_shapes_drop_unbroadcast_and_the_forward_computed_for_its_shape():
    w, b, x = (np.array([6.0], np.float32), np.array([1.0], np.float32), np.array([100.0], np.float32))
    g = adjoint.grad(seed_loss, (0, 1))
    dw, db = g(w, b, x)
    special = _special(g)
    assert special is not None
    assert dw.dtype == db.dtype == np.float32
    np.testing.assert_array_equal(dw, [100.0])
    np.testing.assert_array_equal(db, [1.0])
    # the special code neither multiplies w by x nor unbroadcasts: w, b and x are shaped alike
    import inspect
    text = "\n".join(line for line in inspect.getsource(special).splitlines() if not line.strip().startswith("#"))
    assert "unbroadcast" not in text and "w * x" not in text


def test_a_gradient_that_is_an_argument_comes_back_as_a_copy():
    w, b, x = np.ones(3), np.ones(3), np.arange(3.0)
    dw, _ = adjoint.grad(seed_loss, (0, 1))(w, b, x)
    np.testing.assert_array_equal(dw, x)
    dw *= 2
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])


def test_other_shapes_take_the_general_code_and_stay_right():
    g = adjoint.grad(seed_loss, (0, 1))
    g(np.ones(3), np.ones(3), np.ones(3))
    assert _special(g) is not None
    w, b, x = np.array([2.0]), np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 4.0])
    dw, db = g(w, b, x)                 # same types, other shapes: the guard sends it to the general code
    np.testing.assert_allclose(dw, numeric_grad(seed_loss, (w, b, x), 0), rtol=1e-6)
    np.testing.assert_allclose(db, numeric_grad(seed_loss, (w, b, x), 1), rtol=1e-6)
    w = np.array([1.0, 2.0, 3.0], np.float32)      # another dtype: the general code too
    dw, db = g(w, np.ones(3, np.float32), np.ones(3))
    assert dw.dtype == np.float32


def test_python_floats_use_math_and_match_numpy():
    g = adjoint.grad(scalar_loss, (0, 1))
    dx, dy = g(0.7, 1.3)
    assert type(dx) is float and type(dy) is float
    import inspect
    assert "math.sin" in inspect.getsource(_special(g))
    gx, gy = _general(g, 0.7, 1.3)
    assert abs(dx - gx) <= 1e-15 and abs(dy - gy) <= 1e-15
    fd = [numeric_grad(scalar_loss, (0.7, 1.3), i) for i in (0, 1)]
    np.testing.assert_allclose([dx, dy], fd, rtol=1e-6)


def test_where_math_raises_the_general_code_decides():
    g = adjoint.grad(root)
    assert g(4.0) == pytest.approx(0.25 + np.exp(4.0))
    with np.errstate(invalid="ignore"):
        got = g(-1.0)                   # math.sqrt(-1.0) raises; NumPy's sqrt gives nan
        want = _general(g, -1.0)
    assert np.isnan(got) and np.isnan(want)


def test_a_cell_with_parameters_gets_tensors_of_their_dtype():
    class Seed(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(np.array([6.0], np.float32), name="w")
            self.b = Parameter(np.array([1.0], np.float32), name="b")

        def construct(self, x):
            return ops.sum(self.w * x + self.b)

    net = Seed()
    g = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    for _ in range(2):
        dw, db = g(Tensor(np.array([100.0], np.float32)))
        assert isinstance(dw, Tensor) and dw.dtype == adjoint.dtype.float32
        np.testing.assert_array_equal(dw.asnumpy(), [100.0])
        np.testing.assert_array_equal(db.asnumpy(), [1.0])
    net.w.set_data(Tensor(np.ones(3, np.float32)))       # a Parameter of another shape
    dw, db = g(Tensor(np.array([1.0, 2.0, 3.0], np.float32)))
    np.testing.assert_array_equal(dw.asnumpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(db.asnumpy(), [3.0])


def test_effects_are_never_run_twice():
    def noisy(x):
        print("once")
        return np.sum(x * x)
    g = adjoint.grad(noisy)
    g(np.ones(3))
    assert _special(g) is None


@pytest.mark.parametrize("shape", [(chunking.MIN_SIZE + 5,), (300, 301), (3, 200, 150)])
def test_chunked_elementwise_code_gives_the_same_bits(shape):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    g = adjoint.grad(chain, (0, 1))
    dx, dy = g(x, y)
    import inspect
    special = _special(g)
    assert special is not None and "chunked" in inspect.getsource(special) + str(special.__globals__)
    gx, gy = _general(g, x, y)
    assert dx.shape == shape and dx.dtype == np.float64
    np.testing.assert_array_equal(dx.view(np.int64), gx.view(np.int64))
    np.testing.assert_array_equal(dy.view(np.int64), gy.view(np.int64))
    # a strided view goes through the same chunks (copied); float32 next to float64 does not
    for xs, ys in ((x[..., ::-1], y), (x, y.astype(np.float32)),
                   (x.astype(np.float32), y.astype(np.float32))):
        dx2, dy2 = g(xs, ys)
        gx2, gy2 = _general(g, xs, ys)
        np.testing.assert_array_equal(dx2, gx2)
        np.testing.assert_array_equal(dy2, gy2.astype(ys.dtype))
    assert dy2.dtype == np.float32


def test_chunked_code_matches_finite_differences():
    x = np.linspace(-2, 2, chunking.MIN_SIZE + 3)
    y = np.cos(x)
    dx, dy = adjoint.grad(chain, (0, 1))(x, y)
    h = 1e-6
    want = (np.tanh(np.exp(-(x + h) ** 2) * np.sin(y) + (x + h) ** 3 / (1 + (x + h) ** 2))
            - np.tanh(np.exp(-(x - h) ** 2) * np.sin(y) + (x - h) ** 3 / (1 + (x - h) ** 2))) / (2 * h)
    np.testing.assert_allclose(dx, want, rtol=1e-5, atol=1e-7)



class Mixed(nn.Cell):
    """Fuzzer (ADJOINT_CHUNKS=3,1, program 841): elementwise ops on a 0-d weight and on a vector,
    interleaved in the reverse sweep, made one region read with the vector's shape."""
    def __init__(self):
        super().__init__()
        self.w0 = Parameter(np.array(0.77, np.float32), name="w0")

    def construct(self, x, y):
        x, y = (y, x * 1.75)
        y *= ops.cos(ops.sigmoid(self.w0))
        v4 = y[1:]
        return (np.mean(self.w0 / (v4 * v4 + 1.0)), np.tanh(x))


def test_a_region_holds_values_of_one_shape(monkeypatch):
    monkeypatch.setattr(chunking, "CHUNK", 3)
    monkeypatch.setattr(chunking, "MIN_SIZE", 1)
    net = Mixed()
    g = adjoint.value_and_grad(net, grad_position=0, weights=net.trainable_params())
    x, y = np.array([-1.018, 0.411], np.float32), np.array([0.086, 1.045], np.float32)
    _, (dx, (dw,)) = g(Tensor(x), Tensor(y))
    assert _special(g) is not None
    assert dx.shape == (2,) and dw.shape == ()
    monkeypatch.setattr(chunking, "MIN_SIZE", 1 << 40)        # the general code's answer
    adjoint.clear_cache()
    _, (gx, (gw,)) = adjoint.value_and_grad(net, grad_position=0, weights=net.trainable_params())(Tensor(x), Tensor(y))
    np.testing.assert_array_equal(dx.asnumpy(), gx.asnumpy())
    np.testing.assert_array_equal(dw.asnumpy(), gw.asnumpy())


def test_by_default_the_special_version_is_made_at_the_second_call(monkeypatch):
    from adjoint import stubs
    monkeypatch.setattr(stubs, "SPECIALIZE_AT", 2)
    adjoint.clear_cache()
    w, b, x = np.ones(3), np.ones(3), np.arange(3.0)
    g, h = adjoint.grad(seed_loss, (0, 1)), adjoint.grad(seed_loss, (0, 1))
    first = g(w, b, x)
    assert _special(g) is None              # called once: never made
    h(w, b, x)                              # (another gradient function sharing the entry)
    second = g(w, b, x)
    assert _special(g) is not None
    third = h(w, b, x)                      # finds the new stub too
    assert h._stub is g._stub
    for got in (second, third):
        for a, b_ in zip(first, got):
            np.testing.assert_array_equal(a, b_)


# -- the special version on Python floats computes what the general code computes ------------------
_UNARY = ["np.sin({})", "np.cos({})", "np.exp({})", "np.log({})", "np.sqrt({})", "np.tanh({})",
          "np.arcsin({})", "np.log1p({})", "abs({})", "-({})", "np.arctanh({})"]
_BINARY = ["({} + {})", "({} - {})", "({} * {})", "({} / {})", "({} ** {})", "np.maximum({}, {})"]
_EXPONENTS = ["0.5", "1.5", "2", "3", "-1.0", "0.3"]


def _random_expression(rng, depth):
    if depth == 0 or rng.random() < 0.2:
        return str(rng.choice(["x", "y", "x", "y", "0.5", "2.0", "-1.5"]))
    if rng.random() < 0.45:
        return str(rng.choice(_UNARY)).format(_random_expression(rng, depth - 1))
    form = str(rng.choice(_BINARY))
    right = str(rng.choice(_EXPONENTS)) if "**" in form and rng.random() < 0.6 else _random_expression(rng, depth - 1)
    return form.format(_random_expression(rng, depth - 1), right)


def _same(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(u, v) for u, v in zip(a, b))
    if np.isnan(a) or np.isnan(b):
        return bool(np.isnan(a) and np.isnan(b))
    return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def test_special_versions_on_python_floats_agree_with_the_general_code(tmp_path, monkeypatch):
    # Where math raises (log(-1.0), 1.0 / 0.0, a negative base to a fractional power) the stub
    # runs the general code; otherwise both must give the same numbers, nan and inf included
    # (Python's ** once gave a complex number where the general code's NumPy float gave nan).
    rng = np.random.default_rng(15)
    found = ["np.arctanh(2.0 ** y) - x",          # a constant gradient before a computed one
             "abs((np.sin(x) - 2.0) ** 1.5) + y",  # Python's complex power, made real by abs
             "np.sin(x) ** 0.5 + y"]
    expressions = found + [_random_expression(rng, 3) for _ in range(200)]
    sources = ["def f%d(x, y):\n    return %s\n" % (k, e) for k, e in enumerate(expressions)]
    (tmp_path / "float_programs.py").write_text("import numpy as np\n\n\n" + "\n\n".join(sources))
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    module = importlib.import_module("float_programs")
    points = [(-2.5, 0.5), (-1.0, -0.0), (0.0, 1.0), (0.5, 3.0), (0.9, -0.7)]
    compared = 0
    with np.errstate(all="ignore"):
        for k, source in enumerate(sources):
            g = adjoint.grad(getattr(module, "f%d" % k), (0, 1))
            for x, y in points:
                try:
                    general = _general(g, x, y)
                except Exception:
                    continue                # (a ZeroDivisionError on Python floats)
                if any(isinstance(v, complex) for v in general):
                    continue                # (x ** 0.5 of a negative Python float, as in Python)
                assert _same(g(x, y), general), (source, x, y)
                special = _special(g)
                assert special is not None, source
                try:
                    got = special(x, y)
                except Exception:
                    continue                # the stub ran the general code instead
                compared += 1
                assert _same(got, general), (source, x, y, got, general)
    assert compared > 400
