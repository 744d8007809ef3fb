"""Anything callable whose source can be found, and the calling conventions around it:
lambdas, grad(grad(f)), functools.partial, bound methods and callable objects, NumPy ufuncs
and adjoint ops passed directly, notebook cells; keyword arguments, pytree arguments (tuples,
lists and dicts of arrays), return_ids, has_aux with any structure.

Structures marked "MindSpore 2.10" were recorded from MindSpore 2.10.0 on CPU (PyNative).
"""
import functools
import linecache

import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, Tensor
from fd import numeric_grad

X = np.array([0.3, -1.2, 2.0])
Y = np.array([1.5, 0.4, -0.7])


# -- lambdas ------------------------------------------------------------------------------------
def test_a_top_level_lambda_compiles():
    f = lambda x: np.sum(np.sin(x) * x)  # noqa: E731
    np.testing.assert_allclose(adjoint.grad(f)(X), numeric_grad(f, [X], 0), rtol=1e-6)
    assert "def f_grad(x)" in adjoint.grad(f).compiled(X).source      # named after its variable


def test_several_lambdas_on_one_line_are_told_apart():
    a, b, c = (lambda x: np.sum(np.sin(x))), (lambda x: np.sum(np.cos(x))), (lambda x: np.sum(x * x))
    np.testing.assert_allclose(adjoint.grad(a)(X), np.cos(X))
    np.testing.assert_allclose(adjoint.grad(b)(X), -np.sin(X))
    np.testing.assert_allclose(adjoint.grad(c)(X), 2 * X)


def test_lambdas_in_lambdas_defaults_and_closures():
    make = lambda s: (lambda x, p=2.0: np.sum(x ** p * s))  # noqa: E731
    f = make(3.0)
    np.testing.assert_allclose(adjoint.grad(f)(X), 6.0 * X)
    np.testing.assert_allclose(adjoint.grad(make(1.0))(X), 2.0 * X)     # another closure, same code
    spread = lambda x: (np.sum(
        np.exp(x)))  # noqa: E731  (over two lines)
    np.testing.assert_allclose(adjoint.grad(spread)(X), np.exp(X))


def test_a_notebook_cell_function_is_found_through_linecache():
    # IPython registers each cell's source with linecache under a made-up file name
    name = "<ipython-input-7-0123456789ab>"
    text = "import numpy as np\ndef cell_loss(x):\n    return np.sum(np.tanh(x) * 2.0)\nsq = lambda x: np.sum(x * x)\n"
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    try:
        namespace = {}
        exec(compile(text, name, "exec"), namespace)
        np.testing.assert_allclose(adjoint.grad(namespace["cell_loss"])(X), 2.0 * (1 - np.tanh(X) ** 2))
        np.testing.assert_allclose(adjoint.grad(namespace["sq"])(X), 2.0 * X)
    finally:
        del linecache.cache[name]


def test_no_source_keeps_its_clear_error():
    namespace = {}
    exec("f = lambda x: x * x\n", namespace)
    with pytest.raises(adjoint.SourceError, match="cannot find the source"):
        adjoint.grad(namespace["f"])(1.0)


# -- gradient functions, partials, methods, ufuncs ----------------------------------------------
def test_grad_of_grad_and_deeper():
    f = lambda x: x ** 4 + np.sin(x)  # noqa: E731
    assert adjoint.grad(adjoint.grad(f))(0.7) == pytest.approx(12 * 0.7 ** 2 - np.sin(0.7))
    assert adjoint.grad(adjoint.grad(adjoint.grad(f)))(0.7) == pytest.approx(24 * 0.7 - np.cos(0.7))
    g4 = adjoint.grad(adjoint.grad(adjoint.grad(adjoint.grad(f))))
    assert g4(0.7) == pytest.approx(24 + np.sin(0.7))


def test_grad_of_grad_of_a_vector_function_is_a_hessian_diagonal_sum():
    def loss(x):
        return np.sum(np.sin(x) * x)
    hess_sum = adjoint.grad(lambda x: np.sum(adjoint.grad(loss)(x)))(X)
    want = numeric_grad(lambda x: np.sum(np.cos(x) * x + np.sin(x)), [X], 0)
    np.testing.assert_allclose(hess_sum, want, rtol=1e-5)
    # the inner gradient function passed directly: grad(grad(loss)) seeds its output with ones
    np.testing.assert_allclose(adjoint.grad(adjoint.grad(loss))(X), want, rtol=1e-5)


def test_partial_with_keywords_and_positional_arguments():
    def loss(w, x, scale=1.0):
        return np.sum(np.tanh(w * x)) * scale
    f = functools.partial(loss, scale=3.0)
    np.testing.assert_allclose(adjoint.grad(f)(X, Y), numeric_grad(lambda w: loss(w, Y, 3.0), [X], 0), rtol=1e-6)
    g = functools.partial(loss, X)          # grad_position counts the partial's own arguments
    np.testing.assert_allclose(adjoint.grad(g)(Y), numeric_grad(lambda x: loss(X, x), [Y], 0), rtol=1e-6)
    h = functools.partial(functools.partial(loss, scale=2.0), X)
    np.testing.assert_allclose(adjoint.grad(h)(Y), 2 * numeric_grad(lambda x: loss(X, x), [Y], 0), rtol=1e-6)


class Model:
    """A plain object (not a Cell) with a method and __call__."""

    def __init__(self, a):
        self.a = a

    def loss(self, x):
        return np.sum(self.a * x * x)

    def __call__(self, x):
        return np.sum(np.exp(self.a * x))


def test_bound_methods_and_callable_objects_of_any_object():
    m1, m2 = Model(np.array([1.0, 2.0, 3.0])), Model(np.array([-1.0, 0.5, 2.0]))
    np.testing.assert_allclose(adjoint.grad(m1.loss)(X), 2 * m1.a * X)
    np.testing.assert_allclose(adjoint.grad(m2.loss)(X), 2 * m2.a * X)      # each reads its own a
    np.testing.assert_allclose(adjoint.grad(m1)(X), m1.a * np.exp(m1.a * X))
    g = adjoint.grad(m1.loss)
    m1.a = np.array([5.0, 5.0, 5.0])                                         # read at every call
    np.testing.assert_allclose(g(X), 10 * X)


def test_ufuncs_numpy_functions_and_adjoint_ops_passed_directly():
    assert adjoint.grad(np.sin)(0.4) == pytest.approx(np.cos(0.4))
    np.testing.assert_allclose(adjoint.grad(np.exp)(X), np.exp(X))
    np.testing.assert_allclose(adjoint.grad(np.multiply, grad_position=(0, 1))(X, Y)[1], X)
    np.testing.assert_allclose(adjoint.grad(np.sum)(X), np.ones(3))
    np.testing.assert_allclose(adjoint.grad(np.tanh)(Tensor(X)).asnumpy(), 1 - np.tanh(X) ** 2)
    np.testing.assert_allclose(adjoint.grad(ops.sin)(Tensor(X)).asnumpy(), np.cos(X))
    np.testing.assert_allclose(adjoint.grad(ops.Mul(), grad_position=1)(Tensor(X), Tensor(Y)).asnumpy(), X)
    assert adjoint.grad(adjoint.grad(np.sin))(0.4) == pytest.approx(-np.sin(0.4))
    assert "def np_sin_grad(x)" in adjoint.grad(np.sin).compiled(0.4).source


def test_what_cannot_be_differentiated_is_named():
    with pytest.raises(adjoint.ArgumentError, match="cannot differentiate a str"):
        adjoint.grad("sin")


# -- keyword arguments ----------------------------------------------------------------------------
def scaled(x, scale=1.0, shift=None):
    out = np.sum(x * x) * scale
    return out if shift is None else out + np.sum(shift * x)


def test_keyword_arguments_at_call_time():
    # MindSpore 2.10: grad(fk)(x, scale=3.0) -> [6., 12.] for x = [1., 2.] (as here)
    x = Tensor(np.array([1.0, 2.0], np.float32))
    assert adjoint.grad(scaled)(x, scale=3.0).asnumpy().tolist() == [6.0, 12.0]
    assert adjoint.grad(scaled)(x, scale=4.0).asnumpy().tolist() == [8.0, 16.0]
    value, g = adjoint.value_and_grad(scaled)(x, scale=3.0)
    assert float(value.asnumpy()) == 15.0 and g.asnumpy().tolist() == [6.0, 12.0]
    assert ops.GradOperation()(scaled)(x, scale=3.0).asnumpy().tolist() == [6.0, 12.0]
    # an array keyword: read at every call, never differentiated
    g = adjoint.grad(scaled)(X, shift=Y)
    np.testing.assert_allclose(g, 2 * X + Y)
    np.testing.assert_allclose(adjoint.grad(scaled)(X, shift=2 * Y), 2 * X + 2 * Y)


def test_a_positional_parameter_given_by_keyword():
    def f(x, y):
        return np.sum(x * y)
    # MindSpore 2.10: grad(f, (0, 1))(x, y=y) differentiates x and y (y by keyword)... adjoint
    # differentiates positional arguments only (as JAX): y is then an input
    np.testing.assert_allclose(adjoint.grad(f)(X, y=Y), Y)


def test_a_cell_called_with_keywords():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(Tensor(np.array([2.0, 3.0], np.float32)), name="w")

        def construct(self, x, power=2):
            return (self.w * x ** power).sum()
    net = Net()
    x = Tensor(np.array([1.0, 2.0], np.float32))
    assert ops.GradOperation()(net)(x, power=3).asnumpy().tolist() == [6.0, 36.0]
    dw, = ops.GradOperation(get_by_list=True)(net, net.trainable_params())(x, power=3)
    assert dw.asnumpy().tolist() == [1.0, 8.0]


# -- pytree arguments ---------------------------------------------------------------------------
def mlp_loss(params, x):
    h = np.tanh(x @ params["w1"] + params["b1"])
    return np.sum((h @ params["layers"][0]) ** 2) + np.sum(params["layers"][1][0] ** 2) * params["layers"][1][1]


def _params(rng):
    return {"w1": rng.standard_normal((3, 4)), "b1": rng.standard_normal(4),
            "layers": (rng.standard_normal((4, 2)), [rng.standard_normal(2), 0.5])}


def test_a_dict_of_arrays_gets_its_gradients_as_a_dict():
    rng = np.random.default_rng(0)
    params, x = _params(rng), rng.standard_normal((5, 3))
    grads = adjoint.grad(mlp_loss)(params, x)
    assert set(grads) == {"w1", "b1", "layers"} and isinstance(grads["layers"], tuple)
    assert isinstance(grads["layers"][1], list) and isinstance(grads["layers"][1][1], float)
    for path in (("w1",), ("b1",), ("layers", 0), ("layers", 1, 0)):
        def f(leaf, path=path):
            p = _params(np.random.default_rng(0))
            node = p
            for k in path[:-1]:
                node = node[k]
            if isinstance(node, tuple):
                node = p["layers"] = list(node)
            node[path[-1]] = leaf
            return mlp_loss(p, x)
        got = grads
        for k in path:
            got = got[k]
        leaf = params
        for k in path:
            leaf = leaf[k]
        np.testing.assert_allclose(got, numeric_grad(f, [leaf], 0), rtol=1e-5, atol=1e-8)
    src = adjoint.grad(mlp_loss).compiled(params, x).source
    assert "def mlp_loss_grad(params_w1, params_b1, params_layers_0, params_layers_1_0, params_layers_1_1, x)" in src


def test_pytree_gradients_keep_dtypes_and_tensors():
    p = (Tensor(np.array([1.0, 2.0], np.float32)), np.array([3.0], np.float64))
    g = adjoint.grad(lambda p, x: (p[0] * x).sum() + np.sum(p[1] * x))(p, Tensor(np.array([2.0, 1.0], np.float32)))
    assert isinstance(g, tuple) and isinstance(g[0], Tensor) and g[0].dtype == adjoint.float32
    assert isinstance(g[1], np.ndarray) and g[1].dtype == np.float64 and g[1].tolist() == [3.0]


def test_grad_position_counts_top_level_arguments():
    def f(p, x, q):
        return np.sum(p[0] * x * q["a"]) + np.sum(p[1])
    p, q = (X, Y), {"a": 2.0}
    gp, gx, gq = adjoint.grad(f, grad_position=(0, 1, 2))(p, X, q)
    np.testing.assert_allclose(gp[0], X * 2.0)
    np.testing.assert_allclose(gp[1], np.ones(3))
    np.testing.assert_allclose(gx, X * 2.0)
    assert gq["a"] == pytest.approx(np.sum(X * X))


def test_a_shape_tuple_stays_a_constant_and_a_tuple_of_tensors_is_not_one():
    def f(x, shape):
        return np.sum(np.reshape(x, shape) * np.arange(6.0).reshape(shape))
    x = np.arange(6.0) + 1
    np.testing.assert_allclose(adjoint.grad(f)(x, (2, 3)), np.arange(6.0))
    np.testing.assert_allclose(adjoint.grad(f)(x, (3, 2)), np.arange(6.0))

    def g(x, ts):
        return np.sum(x * ts[0] + ts[1])
    a, b = Tensor(X), Tensor(Y)
    np.testing.assert_allclose(adjoint.grad(g)(X, (a, b)), X)
    np.testing.assert_allclose(adjoint.grad(g)(X, (b, a)), Y)      # not baked in as a constant


def test_mindspore_does_not_differentiate_tuple_arguments_adjoint_follows_jax():
    # MindSpore 2.10 (PyNative and graph mode): grad(ft)((y, z), x) -> () and
    # grad(ft, (0, 1))((y, z), x) -> only x's gradient. adjoint returns the tuple's gradients.
    def ft(p, x):
        return np.sum(p[0] * x + p[1])
    g = adjoint.grad(ft)((Y, X), X)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_allclose(g[0], X)


def test_pytrees_through_grad_of_grad_and_value_and_grad():
    def loss(p, x):
        return np.sum(np.sin(p["w"] * x)) + np.sum(p["b"] ** 3)
    p = {"w": X, "b": Y}
    value, g = adjoint.value_and_grad(loss)(p, X)
    assert value == pytest.approx(loss(p, X))
    np.testing.assert_allclose(g["b"], 3 * Y ** 2)
    inner = adjoint.grad(loss)
    second = adjoint.grad(lambda p, x: np.sum(inner(p, x)["b"]))(p, X)
    np.testing.assert_allclose(second["b"], 6 * Y)
    np.testing.assert_allclose(second["w"], np.zeros(3))


# -- return_ids, has_aux, sens ---------------------------------------------------------------------
def xyz(x, y, z):
    return x * y * z


def test_return_ids_as_mindspore():
    x, y, z = (Tensor(np.array(v, np.float32)) for v in ([1.0, 2.0], [-2.0, 3.0], [0.0, 3.0]))

    def pairs(out):
        if isinstance(out, tuple) and len(out) == 2 and not isinstance(out[0], tuple) and \
                not isinstance(out[1], tuple):
            return (out[0], out[1].asnumpy().tolist())
        return tuple(pairs(o) for o in out)
    # MindSpore 2.10: (0, [-0., 9.]); ((1, <0-d 0.>),) (sic: MindSpore's value there is a 0-d 0,
    # adjoint gives the real gradient in MindSpore's structure); ((1, [0., 6.]), (2, [-2., 6.]))
    assert pairs(adjoint.grad(xyz, 0, return_ids=True)(x, y, z)) == (0, [0.0, 9.0])
    assert pairs(adjoint.grad(xyz, (1,), return_ids=True)(x, y, z)) == ((1, [0.0, 6.0]),)
    assert pairs(adjoint.grad(xyz, (1, 2), return_ids=True)(x, y, z)) == ((1, [0.0, 6.0]), (2, [-2.0, 6.0]))
    # value_and_grad: (value, ((0, [-0., 9.]), (1, [0., 6.])))
    value, ids = adjoint.value_and_grad(xyz, (0, 1), return_ids=True)(x, y, z)
    assert pairs(ids) == ((0, [0.0, 9.0]), (1, [0.0, 6.0]))


def test_return_ids_with_weights_and_aux_as_mindspore():
    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.w = Parameter(Tensor(np.array([2.0, 3.0], np.float32)), name="w")
            self.b = Parameter(Tensor(np.array([1.0], np.float32)), name="b")

        def construct(self, x):
            return (self.w * x + self.b).sum()
    net = Net()
    x = Tensor(np.array([1.0, 2.0], np.float32))
    # MindSpore 2.10: (('w', [1., 2.]), ('b', [2.]))
    out = adjoint.grad(net, None, net.trainable_params(), return_ids=True)(x)
    assert [(n, g.asnumpy().tolist()) for n, g in out] == [("w", [1.0, 2.0]), ("b", [2.0])]
    # ((0, [2., 3.]), (('w', [1., 2.]), ('b', [2.])))
    (i, gx), weights = adjoint.grad(net, 0, net.trainable_params(), return_ids=True)(x)
    assert i == 0 and gx.asnumpy().tolist() == [2.0, 3.0] and weights[1][0] == "b"
    # ('w', [1., 2.])
    name, g = adjoint.grad(net, None, net.w, return_ids=True)(x)
    assert name == "w" and g.asnumpy().tolist() == [1.0, 2.0]

    def fa(x, y):
        return (x * y).sum(), x + 1
    y = Tensor(np.array([-2.0, 3.0], np.float32))
    # (((0, [-2., 3.]), (1, [1., 2.])), ([2., 3.],))
    ids, aux = adjoint.grad(fa, (0, 1), has_aux=True, return_ids=True)(x, y)
    assert [i for i, _ in ids] == [0, 1] and len(aux) == 1 and aux[0].asnumpy().tolist() == [2.0, 3.0]
    # ((4., [2., 3.]), (0, [-2., 3.]))
    (loss, aux1), (i, g) = adjoint.value_and_grad(fa, 0, has_aux=True, return_ids=True)(x, y)
    assert float(loss.asnumpy()) == 4.0 and i == 0 and g.asnumpy().tolist() == [-2.0, 3.0]


def test_has_aux_with_any_structure_as_mindspore():
    x = Tensor(np.array([1.0, 2.0], np.float32))
    y = Tensor(np.array([-2.0, 3.0], np.float32))

    def fb(x, y):
        return (x * y).sum(), {"a": x + 1, "b": (y, x)}
    # MindSpore 2.10: ([-2., 3.], ({'a': [2., 3.], 'b': ([-2., 3.], [1., 2.])},))
    g, aux = adjoint.grad(fb, 0, has_aux=True)(x, y)
    assert g.asnumpy().tolist() == [-2.0, 3.0] and isinstance(aux, tuple) and len(aux) == 1
    assert aux[0]["a"].asnumpy().tolist() == [2.0, 3.0] and aux[0]["b"][1].asnumpy().tolist() == [1.0, 2.0]
    # ((4., {'a': ..., 'b': (...)}), [-2., 3.])
    (loss, aux), g = adjoint.value_and_grad(fb, 0, has_aux=True)(x, y)
    assert float(loss.asnumpy()) == 4.0 and set(aux) == {"a", "b"}


def test_sens_param_in_grad_positionally_or_by_keyword():
    x, y, z = (Tensor(np.array(v, np.float32)) for v in ([1.0, 2.0], [-2.0, 3.0], [0.0, 3.0]))
    sens = Tensor(np.array([1.0, 2.0], np.float32))
    # MindSpore 2.10: grad(net, (1, 2), sens_param=True)(x, y, z, sens) -> ([0., 12.], [-2., 12.])
    for out in (adjoint.grad(xyz, (1, 2), sens_param=True)(x, y, z, sens),
                adjoint.grad(xyz, (1, 2), sens_param=True)(x, y, z, sens=sens)):
        assert [g.asnumpy().tolist() for g in out] == [[0.0, 12.0], [-2.0, 12.0]]


def doubled(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs) * 2.0
    return wrapper


@doubled
def decorated_loss(x):
    return np.sum(x * x)


def test_a_functools_wraps_decorator_is_compiled_not_skipped():
    # (inspect follows __wrapped__ to the decorated function's source: adjoint reads the wrapper's)
    np.testing.assert_allclose(adjoint.grad(decorated_loss)(X), 4 * X)
    np.testing.assert_allclose(adjoint.grad(lambda x: decorated_loss(x) + 1.0)(X), 4 * X)


def test_gradient_functions_made_again_find_their_compiled_code():
    def f(x):
        return np.sum(np.sin(x) * x)
    adjoint.clear_cache()
    for _ in range(5):
        adjoint.grad(adjoint.grad(f))(X)
        adjoint.grad(lambda x: np.sum(x ** 3))(X)
        adjoint.grad(functools.partial(f))(X)
    assert adjoint.cache_info()["misses"] == 3

    def make(scale):
        return adjoint.grad(lambda x: np.sum(np.sin(x) * scale))
    np.testing.assert_allclose(adjoint.grad(make(2.0))(X), -2.0 * np.sin(X))
    np.testing.assert_allclose(adjoint.grad(make(3.0))(X), -3.0 * np.sin(X))     # its own closure
