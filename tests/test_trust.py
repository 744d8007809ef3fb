"""Programs that once gave silently wrong gradients, against finite differences (issue 8)."""
import numpy as np
import pytest

import adjoint
import adjoint.ops as ops
from adjoint import Tensor
from fd import numeric_grad
from programs import trust as P

X2 = np.array([0.5, 1.0])
X3 = np.array([1.0, 0.5, -0.3])
W3 = np.array([0.3, -0.2, 0.5])

CASES = [
    ("swap_in_loop", P.swap_in_loop, (np.array([1.0, 2.0]), np.array([3.0, 4.0])), (0, 1)),
    ("overwritten_in_loop", P.overwritten_in_loop, (X2,), (0,)),
    ("overwritten_in_while", P.overwritten_in_while, (X2,), (0,)),
    ("early_return_in_loop", P.early_return_in_loop, (X2,), (0,)),
    ("early_return_in_loop_taken", P.early_return_in_loop_taken, (X2,), (0,)),
    ("return_in_nested_if", P.return_in_nested_if, (X2,), (0,)),
    ("return_in_nested_if_neg", P.return_in_nested_if, (-X2,), (0,)),
    ("second_order_products", P.sum_of_gradient, (np.array([1.0, 0.5]), np.array([2.0, -1.0])), (0, 1)),
    ("second_order_shifted", P.sum_of_shifted_gradient, (X3,), (0,)),
    ("second_order_nested_branch", P.sum_of_nested_branch_gradient, (np.array([1.0, 0.5]),), (0,)),
    ("second_order_nested_loops", P.sum_of_nested_loops_gradient, (X3,), (0,)),
    ("second_order_loops_in_loops", P.norm_of_loops_in_loops_gradient, (X3, W3), (0, 1)),
    ("second_order_while_in_for", P.while_in_for_hvp, (X3,), (0,)),
]


@pytest.mark.parametrize("name, fn, args, positions", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences(name, fn, args, positions):
    grads = adjoint.grad(fn, grad_position=positions)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, g in zip(positions, grads):
        np.testing.assert_allclose(g, numeric_grad(fn, list(args), i), rtol=1e-5, atol=1e-6)


def test_swap_numbers_from_the_issue():
    da, db = adjoint.grad(P.swap_in_loop, (0, 1))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(da, [6, 6])
    np.testing.assert_allclose(db, [2, 2])


def test_early_return_value_and_gradient_when_not_taken():
    value, grad = adjoint.value_and_grad(P.early_return_in_loop)(X2)
    assert value == pytest.approx(80.0)
    np.testing.assert_allclose(grad, [64.0, 128.0])


def test_grad_operation_of_a_grad_net():
    x, y = np.array([1.0, 0.5, -0.3]), np.array([2.0, 1.0, -0.6])
    dx, dy = ops.GradOperation(get_all=True)(P.GradNet(P.ProductNet()))(Tensor(x), Tensor(y))
    np.testing.assert_allclose(dx.asnumpy(), 2 * y - y * y * np.sin(x * y), rtol=1e-12)
    np.testing.assert_allclose(dy.asnumpy(), 2 * x + np.cos(x * y) - x * y * np.sin(x * y), rtol=1e-12)
