"""The fuzzer's oracle on hand-written programs whose gradients are known."""
import numpy as np
import pytest


from . import oracle, run
from .gen import Case

HEADER = ("import numpy as np\nimport adjoint\nimport adjoint.nn as nn\nimport adjoint.ops as ops\n"
          "from adjoint import Parameter, ParameterTuple, Tensor\n\n")


def case(src, shapes, kinds, inputs, api, kind="func", entry="f", dtype="float64", order=1, **kw):
    return Case(0, 0, order, kind, HEADER + src, entry, in_shapes=shapes, in_kinds=kinds, dtype=dtype,
                api=api, inputs=inputs, **kw)


def test_finite_differences_of_known_functions():
    F = lambda v: float(np.sum(np.sin(v[0]) * v[1]) + v[2] ** 3)       # noqa: E731
    x, y, z = np.array([0.3, -1.2]), np.array([[0.5, 2.0]]), 0.7
    g = oracle.fd_gradient(F, [x, y, z], [0, 1, 2], oracle.H_SMALL)
    np.testing.assert_allclose(g[0], np.cos(x) * y.sum(axis=0), rtol=1e-8)
    np.testing.assert_allclose(g[1], np.sin(x)[None, :], rtol=1e-8)
    assert g[2] == pytest.approx(3 * z * z, rel=1e-8)
    g2 = oracle.fd_gradient(F, [x, y, z], [0], oracle.H_LARGE)
    assert oracle.fd_agree({0: g[0]}, g2, 1.0)


def test_finite_differences_see_a_kink_between_the_steps():
    F = lambda v: float(np.abs(v[0][0] - 0.30000005))                    # noqa: E731
    x = [np.array([0.3])]
    g1 = oracle.fd_gradient(F, x, [0], oracle.H_SMALL)
    g2 = oracle.fd_gradient(F, x, [0], oracle.H_LARGE)
    assert not oracle.fd_agree(g1, g2, 1.0)


def test_probe_records_margins_of_comparisons_and_kinks():
    src = HEADER + ("def f(x):\n    if np.sum(x) > 0.5:\n        return np.sum(np.abs(x))\n"
                    "    return np.max(x) + np.sum(np.maximum(x, 0.1))\n")
    probed = oracle.probe_source(src)
    assert "_K.cmp(" in probed and "_K.call(" in probed
    mod = run.load_module(probed, probe=oracle.Probe())
    try:
        mod._K.start("record")
        mod.f(np.array([0.2, 0.30001]))           # sum is 0.50001: a branch within 1e-5
        assert mod._K.margin < 1e-4
        mod._K.start("record")
        mod.f(np.array([-0.7, 0.4, 0.4]))         # max over a tie
        assert mod._K.margin == 0.0 and "max" in mod._K.where
        mod._K.start("record")
        mod.f(np.array([-0.7, 0.35, 0.2]))
        assert mod._K.margin > 0.05
    finally:
        run.unload(mod)


def test_a_decision_changed_within_the_step_is_a_kink_not_a_wrong_gradient():
    # a narrow peak clamped from below: at the point the slope is -2e5, but one step of 1e-6
    # either way lands on the clamp, so both step sizes measure 0 (fuzz seed 0, program 16941,
    # was such a program: x -> x sin(x)^2 iterated, then np.maximum(x, -1.0))
    src = HEADER + "def f(x):\n    return np.sum(np.maximum(-1e13 * (x - 0.3) ** 2, -1.0))\n"
    point = np.array([0.3 + 1e-8])
    F = lambda v: float(mod.f(v[0]))                                     # noqa: E731
    mod = run.load_module(oracle.probe_source(src), probe=oracle.Probe())
    try:
        mod._K.start("record")
        mod.f(point)
        assert mod._K.margin > oracle.kink_tol("float64")              # far from the clamp here
        mod._K.start("replay")
        mod.f(point)
        assert not mod._K.crossed                                       # the point itself: same decisions
        g1 = oracle.fd_gradient(lambda v: (mod._K.start("replay"), F(v))[1], [point], [0], oracle.H_SMALL)
        g2 = oracle.fd_gradient(lambda v: (mod._K.start("replay"), F(v))[1], [point], [0], oracle.H_LARGE)
        assert oracle.fd_agree(g1, g2, 1.0) and g1[0][0] == 0.0          # both steps see the plateau
        assert mod._K.crossed                                           # ... across a decision
    finally:
        run.unload(mod)


def test_stop_gradient_is_replayed_so_finite_differences_see_no_path_through_it():
    src = "def f(x):\n    return np.sum(ops.stop_gradient(x * x) * x)\n"
    x = np.array([0.5, -1.5])
    res = run.run_case(case(src, [(2,)], ["arr"], [x], {"call": "grad", "pos": 0}))
    assert res.cls == "ok", res


@pytest.mark.parametrize("api", [
    {"call": "grad", "pos": 0}, {"call": "grad", "pos": (0, 1)}, {"call": "grad", "pos": (1,)},
    {"call": "value_and_grad", "pos": (0, 1)}, {"call": "gradop", "get_all": True, "sens": False},
    {"call": "gradop", "get_all": False, "sens": True}, {"call": "grad", "pos": 0, "has_aux": True},
])
def test_known_good_programs_are_ok_for_every_api(api):
    src = ("def f(x, y):\n    s = np.sum(np.sin(x) * y + x ** 2)\n    return s, np.tanh(y)\n")
    x = np.array([0.3, -0.4, 0.9], dtype=np.float32)
    y = 0.7
    res = run.run_case(case(src, [(3,), ()], ["arr", "py"], [x, y], api, dtype="float32",
                            out_shapes=[(), ()]))
    assert res.cls == "ok", res


def test_a_cell_with_parameters_of_two_dtypes():
    src = ("PDT = np.float64\nW = np.array([0.5, -1.0, 2.0])\n\n"
           "class Net(nn.Cell):\n    def __init__(self):\n        super().__init__()\n"
           "        self.w = Parameter(W.astype(PDT), name='w')\n"
           "        self.b = Parameter(np.array([0.1, 0.2, 0.3], dtype=np.float32), name='b')\n\n"
           "    def construct(self, x):\n        return ops.sum(ops.tanh(x * self.w) * self.b)\n")
    x = np.array([0.3, -0.4, 0.9], dtype=np.float32)
    for api in ({"call": "gradop", "get_all": True, "get_by_list": True, "sens": False},
                {"call": "grad", "pos": 0, "weights": True}, {"call": "value_and_grad", "pos": None, "weights": True}):
        res = run.run_case(case(src, [(3,)], ["tensor"], [x], api, kind="cell", entry="Net()", dtype="float32"))
        assert res.cls == "ok", (api, res)


def test_a_point_at_a_kink_is_redrawn_or_skipped():
    # max of a vector with two equal entries: every draw is a tie, so the case is skipped
    src = "def f(x):\n    return np.max(np.concatenate([x, x]))\n"
    res = run.run_case(case(src, [(3,)], ["arr"], [np.array([0.1, 0.5, 0.2])], {"call": "grad", "pos": 0}))
    assert res.cls in ("ok", "skipped")
    if res.cls == "skipped":
        assert res.cause == "kink"


def _tampered(monkeypatch, how):
    real = run.make_gradfn

    def make(target, api):
        g = real(target, api)

        def call(*args):
            out = g(*args)
            return how(out)
        call.compiled, call.sens = g.compiled, g.sens
        return call
    monkeypatch.setattr(run, "make_gradfn", make)


SIMPLE = "def f(x):\n    return np.sum(np.exp(np.tanh(x)) * x)\n"


def test_a_gradient_off_by_a_small_factor_is_wrong(monkeypatch):
    _tampered(monkeypatch, lambda g: g * 1.001)
    res = run.run_case(case(SIMPLE, [(3,)], ["arr"], [np.array([0.3, -0.4, 0.9])], {"call": "grad", "pos": 0}))
    assert res.cls == "wrong" and "values differ" in res.cause


def test_a_float32_input_with_a_float64_gradient_is_wrong(monkeypatch):
    _tampered(monkeypatch, lambda g: g.astype(np.float64))
    res = run.run_case(case(SIMPLE, [(3,)], ["arr"], [np.array([0.3, -0.4, 0.9], np.float32)],
                            {"call": "grad", "pos": 0}, dtype="float32"))
    assert res.cls == "wrong" and "dtype" in res.cause


def test_a_bare_gradient_where_a_tuple_is_due_is_wrong(monkeypatch):
    _tampered(monkeypatch, lambda g: g[0])
    res = run.run_case(case(SIMPLE, [(3,)], ["arr"], [np.array([0.3, -0.4, 0.9])],
                            {"call": "gradop", "get_all": True}))
    assert res.cls == "wrong" and "structure" in res.cause


def test_float32_tolerance_accepts_float32_rounding():
    x = np.array([0.3, -0.4, 0.9])
    exact = np.cos(x)
    assert oracle.close(exact.astype(np.float32), exact, "float32", 1.0)
    assert not oracle.close(exact * 1.01, exact, "float32", 1.0)
    assert not oracle.close(exact * (1 + 1e-4), exact, "float64", 1.0)


def test_layout_follows_semantics_table():
    L = run.layout
    assert repr(L({"call": "gradop"}, 2, 1, 1)) == "d_input[0]"
    assert repr(L({"call": "gradop", "get_all": True, "get_by_list": True}, 2, 1, 1)) == \
        "((d_input[0], d_input[1]), (d_param[0],))"
    assert repr(L({"call": "grad", "pos": (1,)}, 2, 0, 1)) == "d_input[1]"
    assert repr(L({"call": "value_and_grad", "pos": None, "weights": True}, 1, 2, 1)) == \
        "(value, (d_param[0], d_param[1]))"
    assert repr(L({"call": "grad", "pos": 0, "has_aux": True}, 1, 0, 3)) == "(d_input[0], (aux[1], aux[2]))"
    assert repr(L({"call": "value_and_grad", "pos": 0, "has_aux": True}, 1, 0, 2)) == \
        "((value[0], value[1]), d_input[0])"


def test_second_order_oracle_on_a_known_hessian():
    src = ("def f(x):\n    return np.sum(np.sin(x) * x)\n\ngf = adjoint.grad(f, grad_position=0)\n\n\n"
           "def h(x):\n    g = gf(x)\n    return np.sum(g * g)\n")
    x = np.array([0.4, -1.1])
    res = run.run_case(case(src, [(2,)], ["arr"], [x], {"call": "grad", "pos": 0}, entry="h", inner="f",
                            inner_api={"call": "grad", "pos": 0}, order=2))
    assert res.cls == "ok", res


def test_unchanged_inputs_after_a_gradient_call():
    src = "def f(x):\n    x *= 2.0\n    return np.sum(x * x)\n"
    res = run.run_case(case(src, [(2,)], ["arr"], [np.array([0.5, 1.0])], {"call": "grad", "pos": 0}))
    assert res.cls == "ok", res
