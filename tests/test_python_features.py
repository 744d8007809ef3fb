"""Python users write, differentiated (issue 12's control flow), against finite differences."""
import numpy as np
import pytest

import adjoint
from fd import numeric_grad
from programs import features as P

X = np.linspace(-0.6, 0.9, 12).reshape(4, 3)
W = np.array([0.3, -0.2, 0.5])
V = np.array([0.3, -0.2, 0.9, 0.4, 1.2])
XS = np.sin(np.arange(120.0)).reshape(40, 3)        # 40 steps: lists are built at run time

CASES = [
    ("over_rows", P.over_rows, (X, W)),
    ("over_pairs", P.over_pairs, (X[:, :2],)),
    ("item_assignment", P.item_assignment, (np.array([0.3, -0.7, 1.1, 0.4, 0.9]),)),
    ("set_in_branch", P.set_in_branch, (V,)),
    ("set_in_branch_else", P.set_in_branch, (-V,)),
    ("set_in_loop", P.set_in_loop, (V,)),
    ("running_sum_in_place", P.running_sum_in_place, (V,)),
    ("set_in_while", P.set_in_while, (V,)),
    ("set_beside_a_view", P.set_beside_a_view, (V,)),
    ("rnn_outputs", P.rnn_outputs, (XS, W, W[::-1].copy())),
    ("append_in_branch", P.append_in_branch, (XS,)),
    ("append_sometimes", P.append_sometimes, (XS,)),
    ("append_until", P.append_until, (np.abs(V) * 0.3,)),
    ("read_back", P.read_back, (XS * 0.5,)),
    ("recursion_deep", P.halve_until_small, (np.array([3.0, 4.0]),)),
    ("recursion_none", P.halve_until_small, (np.array([0.3, 0.4]),)),
    ("recursion_in_if", P.damped, (np.array([0.9, -1.4]), np.array([1.5, 0.8]))),
    ("recursion_known_depth", P.counted, (np.array([0.3, 0.4]),)),
    ("recursion_back_up", P.uses_nested_sum, (np.array([3.0, 4.0]),)),
    ("recursion_back_up_none", P.uses_nested_sum, (np.array([0.3, 0.4]),)),
    ("recursion_reading_locals", P.uses_series, (np.array([0.8, 0.9]), np.array([1.1, -0.4]))),
    ("recursion_tail_and_back_up", P.uses_halve_then_nest, (np.array([3.0, 4.0]),)),
]


@pytest.mark.parametrize("name, fn, args", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences(name, fn, args):
    positions = tuple(range(len(args)))
    grads = adjoint.grad(fn, grad_position=positions)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, g in zip(positions, grads):
        np.testing.assert_allclose(g, numeric_grad(fn, list(args), i), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name, fn, args", CASES, ids=[c[0] for c in CASES])
def test_second_derivatives_match_finite_differences(name, fn, args):
    adjoint.check_grad(fn, *args, order=2)


def test_lists_appended_in_long_loops_are_built_at_run_time():
    source = adjoint.grad(P.rnn_outputs).compiled(XS, W, W).source
    assert "outs = list_append(outs, h_2)" in source and "stack_list(outs)" in source
    code = [line for line in source.splitlines() if not line.strip().startswith("#")]
    assert sum("np.tanh(" in line for line in code) == 1     # one loop, not 40 unrolled steps


@pytest.mark.parametrize("fn, args, message", [
    (P.set_under_a_view, (V,), "`z` shares memory with the items this assigns"),
    (P.append_then_change, (V,), "`outs` shares memory with the items this assigns"),
])
def test_assigning_items_a_view_still_shows_is_refused(fn, args, message):
    with pytest.raises(adjoint.GradRuntimeError, match=message) as info:
        adjoint.grad(fn)(*args)
    assert "features.py" in str(info.value)


def test_a_loop_over_rows_stays_a_loop():
    source = adjoint.grad(P.over_rows).compiled(X, W).source
    assert "for _t2 in range(_t1):" in source and "row = x[_t2]" in source


def test_f_strings_and_format_print_the_values_of_each_run(capsys):
    grad = adjoint.grad(P.prints_values)
    for x in (np.array([1.0, 2.0]), np.array([3.0, 1.0, 2.0])):
        np.testing.assert_allclose(grad(x), 2 * x)
        printed = capsys.readouterr().out
        assert printed == "shape %s loss %.3f {braces} %d\nn=%d mean=%.2f\n" % (
            x.shape, np.sum(x * x), x.shape[0], x.shape[0], np.mean(x))
    assert "'shape {} loss {:.3f} {{braces}} {!r}'.format(" in grad.compiled(x).source


def test_item_assignment_does_not_change_the_callers_array():
    x = np.array([0.3, -0.7, 1.1, 0.4, 0.9])
    before = x.copy()
    adjoint.grad(P.item_assignment)(x)
    np.testing.assert_array_equal(x, before)


def test_changing_the_array_a_loop_goes_through_is_refused():
    with pytest.raises(adjoint.SourceError, match="changes `y` in place while it goes through") as info:
        adjoint.grad(P.change_rows_while_looping)(X)
    assert info.value.loc.line > 0 and "features.py" in str(info.value)


def test_data_dependent_tail_recursion_is_a_loop_in_the_source():
    source = adjoint.grad(P.halve_until_small).compiled(np.array([3.0, 4.0])).source
    assert "while np.logical_not(done):" in source and "x_1 = x_1 * 0.5" in source


def test_recursion_with_two_calls_is_refused_at_the_call():
    with pytest.raises(adjoint.SourceError, match="tree calls itself more than") as info:
        adjoint.grad(P.uses_tree)(np.array([3.0, 4.0]))
    loc = info.value.loc
    assert loc.text.strip().startswith("return tree(x * 0.5) + tree(x * 0.3)")
    assert loc.col == loc.text.index("tree(x * 0.5)")      # the call of itself


def test_the_way_back_up_is_a_loop_over_the_levels_in_the_source():
    source = adjoint.grad(P.uses_nested_sum).compiled(np.array([3.0, 4.0])).source
    assert "for _level in range(_depth):" in source and "list_getitem(_x_at, " in source
