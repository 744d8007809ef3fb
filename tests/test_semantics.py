"""A gradient call returns what differentiating the Python function at that very call returns:
what compilation read from outside the arguments is checked at every call (issue 9)."""
import warnings

import numpy as np
import pytest

import adjoint
import adjoint.ops as ops
from adjoint import Tensor
from programs import semantics as S

X = np.array([1.0, 2.0, 3.0])


@pytest.fixture(autouse=True)
def restore():
    saved = dict(s=S.s, s64=S.s64, N=S.N, FLAG=S.FLAG, SCALE=S.SCALE, model=S.model)
    cfg, factor, cell_factor = dict(S.CFG), S.Settings.factor, S.Scaled.factor
    yield
    for k, v in saved.items():
        setattr(S, k, v)
    S.CFG.clear()
    S.CFG.update(cfg)
    S.Settings.factor, S.Scaled.factor = factor, cell_factor


def test_a_rebound_global_is_seen_at_the_next_call_and_by_a_new_gradient():
    grad = adjoint.grad(S.uses_global)
    np.testing.assert_allclose(grad(X), 2.0)
    S.s = 3.0
    np.testing.assert_allclose(grad(X), 3.0)
    np.testing.assert_allclose(adjoint.grad(S.uses_global)(X), 3.0)


@pytest.mark.parametrize("fn, change, before, after", [
    (S.uses_numpy_scalar, lambda: setattr(S, "s64", np.float64(5.0)), 2.0, 5.0),
    (S.uses_range, lambda: setattr(S, "N", 3), 4.0, 8.0),
    (S.uses_flag, lambda: setattr(S, "FLAG", False), 2 * X, 1.0),
    (S.uses_dict, lambda: S.CFG.__setitem__("scale", 7.0), 2.0, 7.0),
    (S.uses_class_attribute, lambda: setattr(S.Settings, "factor", 4.0), 2.0, 4.0),
], ids=["numpy_scalar", "range_N", "branch_flag", "dict_item", "class_attribute"])
def test_a_changed_value_is_seen_at_the_next_call(fn, change, before, after):
    grad = adjoint.grad(fn)
    np.testing.assert_allclose(grad(X), before)
    change()
    np.testing.assert_allclose(grad(X), after)


def test_a_rebound_closure_variable_is_seen():
    loss, bump = S.make_counter_loss()
    grad = adjoint.grad(loss)
    np.testing.assert_allclose(grad(X), 1.0)
    bump()
    np.testing.assert_allclose(grad(X), 2.0)


def test_cell_class_attribute_and_module_constant_read_in_construct():
    net = S.Scaled()
    grad = ops.GradOperation()(net)
    np.testing.assert_allclose(grad(Tensor(X)).asnumpy(), 6.0)
    S.Scaled.factor = 5.0
    np.testing.assert_allclose(grad(Tensor(X)).asnumpy(), 15.0)
    S.SCALE = 1.0
    assert net(Tensor(X)).asnumpy() == pytest.approx(5.0 * X.sum())
    np.testing.assert_allclose(grad(Tensor(X)).asnumpy(), 5.0)


def test_an_object_held_by_a_cell_is_checked_too():
    net = S.WithConfig()
    grad = ops.GradOperation()(net)
    np.testing.assert_allclose(grad(Tensor(X)).asnumpy(), 2.0)
    net.cfg.factor = 9.0                        # a plain object's attribute, not the Cell's
    np.testing.assert_allclose(grad(Tensor(X)).asnumpy(), 9.0)


def test_a_cell_reached_through_a_global_is_the_current_one():
    """MindSpore 2.x's pattern: forward_fn reads the global model; a sweep rebinds it."""
    grad = adjoint.grad(S.forward_fn)
    np.testing.assert_allclose(grad(Tensor(X[:2])).asnumpy(), [2.0, 4.0])
    S.model = S.Net(3.0)
    np.testing.assert_allclose(grad(Tensor(X[:2])).asnumpy(), [3.0, 6.0])
    S.model.alpha = 0.5
    np.testing.assert_allclose(grad(Tensor(X[:2])).asnumpy(), [0.5, 1.0])


def test_a_dropout_mask_is_drawn_at_every_call_like_eager_numpy():
    grad = adjoint.grad(S.dropout)
    np.random.seed(0)
    got = [grad(X) for _ in range(4)]
    np.random.seed(0)
    want = [(np.random.rand(3) > 0.5).astype(float) for _ in range(4)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    assert len({tuple(w) for w in want}) > 1          # the masks did differ
    assert "np.random.rand(3)" in grad.compiled(X).source


def test_a_generator_draws_at_every_call():
    grad = adjoint.grad(S.noisy)
    S.rng = np.random.default_rng(1)
    got = [grad(X) for _ in range(3)]
    expected = np.random.default_rng(1)
    for g in got:
        np.testing.assert_allclose(g, expected.standard_normal(3))


def test_a_logging_helper_runs_at_every_call():
    S.LOG.clear()
    grad = adjoint.grad(S.logged)
    for _ in range(3):
        grad(X)
    assert S.LOG == [0, 1, 2]


def test_an_assert_on_a_run_time_value_runs_at_every_call():
    grad = adjoint.grad(S.checked)
    np.testing.assert_allclose(grad(X), 1.0)
    with pytest.raises(AssertionError, match="need 3"):
        grad(np.ones(4))
    assert "assert " in grad.compiled(X).source


def test_an_assert_known_while_compiling_raises_the_users_assertion():
    grad = adjoint.grad(S.checked_now)
    np.testing.assert_allclose(grad(X), 1.0)
    S.N = 5
    with pytest.raises(AssertionError, match="N must be 2"):
        grad(X)


def test_a_thousand_closures_share_one_compiled_version():
    adjoint.clear_cache()
    c = np.array([0.5, 1.0, 1.5])
    for _ in range(1000):
        np.testing.assert_allclose(adjoint.grad(S.make_loss(c))(X), 2 * (X - c))
    for other in (np.zeros(3), np.ones(3)):     # another array: an input, read at the call
        np.testing.assert_allclose(adjoint.grad(S.make_loss(other))(X), 2 * (X - other))
    assert adjoint.cache_info()["entries"] == 1


def test_a_value_that_keeps_changing_warns_once_naming_it():
    adjoint.clear_cache()
    grad = adjoint.grad(S.uses_global)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(12):
            S.s = float(k)
            np.testing.assert_allclose(grad(X), float(k))
    messages = [str(w.message) for w in caught if issubclass(w.category, adjoint.AdjointWarning)]
    assert len(messages) == 1
    assert "uses_global" in messages[0] and "global `s` changed from" in messages[0]
    assert "pass that value as an argument" in messages[0]
    reasons = [c.get("reason") for c in adjoint.cache_info()["compiled"]]
    assert reasons[0] is None and reasons[1] == "global `s` changed from 0.0 to 1.0"


def test_the_cache_is_bounded():
    adjoint.clear_cache()
    adjoint.set_cache_size(3)
    try:
        for k in range(5):
            S.s = float(k)
            adjoint.grad(S.uses_global)(X)
        info = adjoint.cache_info()
        assert info["entries"] == 3 and info["evictions"] == 2 and info["max_size"] == 3
    finally:
        adjoint.set_cache_size(256)


def test_an_integer_numpy_argument_warns_once_and_keeps_mindspores_truncation():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            g = adjoint.grad(S.uses_global)(np.array([1, 2, 3]))
    assert g.dtype == np.int64 and list(g) == [2, 2, 2]
    messages = [str(w.message) for w in caught if issubclass(w.category, adjoint.AdjointWarning)]
    assert len(messages) == 1 and "an integer array" in messages[0] and "truncated" in messages[0]
