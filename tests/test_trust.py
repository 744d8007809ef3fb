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

# (the branch taken, the return not taken; both taken; neither)
ALIAS_ARGS = [(np.array([0.0, -0.5, -0.5, 0.5]), np.array([1.0]), np.array([[z0, z1, 0.0, z3]]))
              for z0, z1, z3 in ((-0.5, 0.0, 1.0), (0.5, 0.5, 1.0), (0.5, 0.5, -1.0))]

# Jumps on Tensor conditions inside loops: taken early, late, or never.
for _name, _fn, _argsets in [
        ("break_on_tensor", P.break_on_tensor, [(X2,), (X2 * 3,), (X2 * 0.1,)]),
        ("continue_on_tensor", P.continue_on_tensor, [(X2,), (X2 * -2,)]),
        ("return_in_while", P.return_in_while, [(X2 * 0.1,), (X2,), (X2 * 4,)]),
        ("break_with_python_counter", P.break_with_python_counter, [(X2 * 0.2,), (X2,), (X2 * 3,)]),
        ("while_true_returns", P.while_true_returns, [(X2 * 0.3,), (X2 * 2,)]),
        ("return_in_nested_loops", P.return_in_nested_loops, [(X2 * 0.1, X2 * 0.1), (X2, X2), (-X2, X2)]),
        ("break_in_unrolled_loop", P.break_in_unrolled_loop, [(X2,), (X2 * 3,)]),
        ("swap_then_return", P.swap_then_return, [(X2, X2 * 0.5), (X2 * 3, X2)]),
        # found by the fuzzer (tests/fuzz), shrunk:
        ("relu_of_negation", P.relu_of_negation, [(X2 - 0.7,)]),
        ("swap_in_while", P.swap_in_while, [(X2 * 0.1,), (X2,)]),
        ("second_order_return_in_loop_in_branch", P.return_in_loop_in_branch_hvp, [(X2, X2), (X2, -X2 * 3)]),
        ("second_order_while_return_in_else", P.while_return_in_else_second, [(X2, X2 * 0.1), (X2 * 3, X2)]),
        # gradients added into a slice of the loop's accumulator (add_at), repeated indices too
        ("rnn_wrt_everything", P.rnn_all, [(np.linspace(-0.3, 0.3, 9).reshape(3, 3), np.linspace(0.2, -0.2, 6).reshape(2, 3),
                                            np.linspace(-0.5, 0.5, 6).reshape(2, 3), np.linspace(-1, 1, 16).reshape(4, 2, 2))]),
        ("gather_in_loop", P.gather_in_loop, [(np.array([0.3, -0.7, 1.1, 0.4]),)]),
        ("column_slice_in_loop", P.column_slice_in_loop, [(np.linspace(-0.5, 0.5, 6).reshape(3, 2),)]),
        ("changed_while_iterating_a_tuple", P.changed_while_iterating_a_tuple,
         [(np.array([[0.5, -0.5, -0.5, 1.0]]), np.array([0.0, -1.0, -1.0, 1.0]), np.array([0.3]))]),
        ("alias_made_inside_a_while", P.alias_made_inside_a_while,
         [(np.linspace(-0.5, 0.5, 6).reshape(3, 2), np.array([0.7, 0.2]))]),
        ("two_names_changed_in_a_branch_in_a_while", P.two_names_changed_in_a_branch_in_a_while,
         [(np.array([0.3, -0.6, 0.9]),), (np.array([0.1, 0.2, 0.1]),)]),
        ("second_order_gather_of_rows", P.sum_of_gather_gradient,
         [(np.array([[1.0, 0.5, -0.5], [0.2, -0.3, 0.7]]),)]),
        ("second_order_gather_shifts", P.sum_of_shifted_gather_gradient,
         [(np.array([-1.0, -0.5]), np.array([[-0.5]]))]),
        ("changed_through_an_alias_before_a_return_in_a_loop",
         P.changed_through_an_alias_before_a_return_in_a_loop, ALIAS_ARGS),
        ("changed_through_an_alias_before_a_return_in_an_unrolled_loop",
         P.changed_through_an_alias_before_a_return_in_an_unrolled_loop, ALIAS_ARGS)]:
    for _k, _args in enumerate(_argsets):
        CASES.append(("%s_%d" % (_name, _k), _fn, _args, tuple(range(len(_args)))))


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


SECOND_ORDER_AND_STRUCTURE = [
    ("second_order_max", P.max_hvp, (X3,), (0,)),
    ("stack", P.stacked, (X3,), (0,)),
    ("concatenate", P.concatenated, (X3,), (0,)),
    ("second_order_stack", P.stacked_hvp, (X3,), (0,)),
    ("second_order_concatenate", P.concatenated_hvp, (X3,), (0,)),
    ("numpy_keepdims_on_an_ndarray", P.numpy_keepdims, (np.array([[1.0, 0.5], [-0.3, 0.2]]),), (0,)),
    ("dtype_branch", P.branch_on_dtype, (X3,), (0,)),
    ("dict_output_summed", lambda x: sum(P.returns_dict(x).values()), (X3,), (0,)),
]


@pytest.mark.parametrize("name, fn, args, positions", SECOND_ORDER_AND_STRUCTURE,
                         ids=[c[0] for c in SECOND_ORDER_AND_STRUCTURE])
def test_more_gradients_match_finite_differences(name, fn, args, positions):
    target = P.returns_dict if name == "dict_output_summed" else fn
    grads = adjoint.grad(target, grad_position=positions)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, g in zip(positions, grads):
        np.testing.assert_allclose(g, numeric_grad(fn, list(args), i), rtol=1e-5, atol=1e-6)


def test_dtype_is_seen_at_run_time():
    assert np.all(adjoint.grad(P.branch_on_dtype)(X3.astype(np.float32)) == 2.0)
    assert np.all(adjoint.grad(P.branch_on_dtype)(X3) == 3.0)


def test_value_keeps_the_structure_of_a_nested_or_dict_output():
    value, grad = adjoint.value_and_grad(P.returns_nested)(X3)
    assert isinstance(value, tuple) and isinstance(value[1], tuple) and isinstance(value[1][1], list)
    np.testing.assert_allclose(value[1][1][0], np.sin(X3))
    np.testing.assert_allclose(grad, 1 + 2 + np.cos(X3))
    value, grad = adjoint.value_and_grad(P.returns_dict)(X3)
    assert list(value) == ["a", "b"] and value["b"] == pytest.approx(np.sum(X3 * X3))


@pytest.mark.parametrize("fn, what, line", [
    (P.returns_none, "returns None (it has no `return`)", "def returns_none(x):"),
    (P.returns_str, "returns a str ('hello')", 'return "hello"'),
    (P.returns_bool, "returns a boolean", "return np.sum(x) > 0"),
])
def test_outputs_that_cannot_be_differentiated_are_refused_at_the_return(fn, what, line):
    with pytest.raises(adjoint.SourceError) as info:
        adjoint.grad(fn)(X3)
    assert what in str(info.value) and "trust.py" in str(info.value) and line in str(info.value)


def test_a_sens_of_the_wrong_structure_is_an_argument_error():
    grad_fn = ops.GradOperation(sens_param=True)(P.returns_pair)
    with pytest.raises(adjoint.ArgumentError, match=r"structure of returns_pair's output, \(\*, \*\); got \(\*,\)"):
        grad_fn(X3, (np.ones(3),))
    np.testing.assert_allclose(grad_fn(X3, (np.ones(3), 2.0)), 2.0 + 2.0)


def test_a_helper_changing_its_callers_array_in_place_is_refused():
    """NumPy would change the caller's array too (and a value the caller already took for the
    expression): adjoint says so rather than giving the rebinding semantics' gradient."""
    with pytest.raises(adjoint.SourceError) as info:
        adjoint.grad(P.helper_changes_callers_array)(X3, X3)
    text = str(info.value)
    assert "`a /= ...` changes, in place, a NumPy array the caller holds as `z`" in text
    assert "trust.py" in text and "hint: write `a = a / ...`" in text


def test_on_tensors_the_same_helper_rebinds_as_mindspore_does():
    grads = adjoint.grad(P.helper_changes_callers_array, (0, 1))(Tensor(X3), Tensor(X3))
    z = X3 * 2.0
    np.testing.assert_allclose(grads[1].asnumpy(), z - np.maximum(z, 0))
