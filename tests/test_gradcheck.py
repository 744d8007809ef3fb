"""adjoint.check_grad: the numerical check users run on their own functions."""
import numpy as np
import pytest

import adjoint


def loss(x, w):
    for i in range(2):
        x = np.tanh(x @ w)
    return np.sum(x * x)


def elementwise(x, y):
    return np.sum(np.sin(x) * y + x * x * y)


RNG = np.random.default_rng(0)
X, W = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 3))


@pytest.mark.parametrize("order", [1, 2])
def test_correct_gradients_pass_and_report_their_errors(order):
    errors = adjoint.check_grad(loss, X, W, order=order)
    assert set(errors) == {0, 1} and max(errors.values()) < 1e-5


def test_float32_arguments_get_float32_tolerances():
    errors = adjoint.check_grad(elementwise, X.astype(np.float32), W[:2].astype(np.float32))
    assert 0 < max(errors.values()) < 1e-3


def test_a_wrong_gradient_is_reported_with_the_argument_and_element():
    """sin's rule off by half: every version of the generated code is wrong (a runtime helper
    patched would miss the call stub's special version, which may not call it)."""
    from adjoint.compiler.rules import elementwise as rules
    real = rules.sin.rule
    adjoint.clear_cache()

    @rules.sin.vjp
    def wrong(x, out, dout):
        return dout * np.cos(x) * 1.5
    try:
        with pytest.raises(adjoint.GradCheckError, match=r"gradient of elementwise with respect to argument 0 "
                                                         r"differs from finite differences at \[0, 0\]"):
            adjoint.check_grad(elementwise, X, W[:2])
    finally:
        rules.sin.vjp(real)
        adjoint.clear_cache()


def test_a_wrong_second_derivative_is_reported():
    """sin's rule with stop_gradient(np.cos(x)): right first derivative, second lost."""
    from adjoint.compiler.rules import elementwise as rules
    from adjoint.ops import stop_gradient
    real = rules.sin.rule
    adjoint.clear_cache()

    @rules.sin.vjp
    def first_order_only(x, out, dout):
        return dout * stop_gradient(np.cos(x))
    try:
        adjoint.check_grad(elementwise, X, W[:2], order=1)
        with pytest.raises(adjoint.GradCheckError, match="Hessian-vector product of elementwise with respect to argument 0 differs"):
            adjoint.check_grad(elementwise, X, W[:2], order=2)
    finally:
        rules.sin.vjp(real)
        adjoint.clear_cache()


def test_bad_orders_and_nothing_to_check_are_argument_errors():
    with pytest.raises(adjoint.ArgumentError, match="order must be 1 or 2"):
        adjoint.check_grad(elementwise, X, W, order=3)
    with pytest.raises(adjoint.ArgumentError, match="no argument to differentiate"):
        adjoint.check_grad(lambda s: s, "text")
