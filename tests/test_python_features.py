"""Python users write, differentiated (issue 12's control flow), against finite differences."""
import numpy as np
import pytest

import adjoint
from fd import numeric_grad
from programs import features as P

X = np.linspace(-0.6, 0.9, 12).reshape(4, 3)
W = np.array([0.3, -0.2, 0.5])

CASES = [
    ("over_rows", P.over_rows, (X, W)),
    ("over_pairs", P.over_pairs, (X[:, :2],)),
]


@pytest.mark.parametrize("name, fn, args", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences(name, fn, args):
    positions = tuple(range(len(args)))
    grads = adjoint.grad(fn, grad_position=positions)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, g in zip(positions, grads):
        np.testing.assert_allclose(g, numeric_grad(fn, list(args), i), rtol=1e-6, atol=1e-8)


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
