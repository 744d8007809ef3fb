"""Control flow: gradients against float64 finite differences, and the generated shape."""
import numpy as np
import pytest

import adjoint
import adjoint.ops as ops
from adjoint import ParameterTuple, Tensor
from fd import numeric_grad
from programs import control as P

rng = np.random.default_rng(0)


def vec(n=3, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=n)


CASES = [
    ("branch_first", P.branch, [np.abs(vec()) + 0.1, vec()], (0, 1)),
    ("branch_elif", P.branch, [-np.abs(vec()) - 0.1, np.abs(vec()) + 0.1], (0, 1)),
    ("branch_else", P.branch, [-np.abs(vec()) - 0.1, -np.abs(vec()) - 0.1], (0, 1)),
    ("early_return_taken", P.early_return, [np.abs(vec()) + 0.1], (0,)),
    ("early_return_not_taken", P.early_return, [-np.abs(vec()) - 0.1], (0,)),
    ("conditional_expression_true", P.conditional_expression, [np.abs(vec()) + 0.1], (0,)),
    ("conditional_expression_false", P.conditional_expression, [-np.abs(vec()) - 0.1], (0,)),
    ("constant_condition", P.constant_condition, [vec()], (0,)),
    ("rnn", P.rnn, [rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((3, 4)) * 0.5,
                    rng.standard_normal((5, 3)), rng.standard_normal((2, 4))], (0, 1, 2, 3)),
    ("nested_loops", P.nested_loops, [vec(), vec()], (0, 1)),
    ("loop_with_branch", P.loop_with_branch, [np.abs(vec()) * 0.5, 5], (0,)),
    ("tensor_while", P.tensor_while, [np.abs(vec()) + 0.5], (0,)),
    ("python_while", P.python_while, [vec()], (0,)),
    ("loop_over_tuple", P.loop_over_tuple, [vec(), vec()], (0, 1)),
    ("break_and_continue", P.break_and_continue, [vec() * 0.5], (0,)),
    ("append_then_stack", P.append_then_stack, [vec(), vec()], (0, 1)),
    ("comprehension_and_helpers", P.comprehension_and_helpers, [vec(), vec()], (0, 1)),
    ("augmented_does_not_mutate", P.augmented_does_not_mutate, [vec()], (0,)),
]


def eager(fn):
    """Run ``fn`` without adjoint on Tensors (Tensor `+=` makes a new Tensor, as in MindSpore)."""
    def run(*args):
        out = fn(*[Tensor(np.array(a)) if isinstance(a, np.ndarray) else a for a in args])
        return out.asnumpy() if isinstance(out, Tensor) else out
    return run


@pytest.mark.parametrize("name,fn,args,positions", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences(name, fn, args, positions, capsys):
    """On NumPy arrays, as NumPy runs the function (`y += x` changes an array in place)."""
    grads = adjoint.grad(fn, grad_position=positions)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for p, g in zip(positions, grads):
        np.testing.assert_allclose(g, numeric_grad(fn, args, p), rtol=1e-5, atol=1e-6,
                                   err_msg="argument %d" % p)


@pytest.mark.parametrize("name,fn,args,positions", CASES, ids=[c[0] for c in CASES])
def test_gradient_on_tensors_matches_finite_differences(name, fn, args, positions, capsys):
    """On Tensors, as MindSpore runs the function (`y += x` makes a new Tensor)."""
    tensors = [Tensor(np.array(a)) if isinstance(a, np.ndarray) else a for a in args]
    grads = adjoint.grad(fn, grad_position=positions)(*tensors)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for p, g in zip(positions, grads):
        np.testing.assert_allclose(g.asnumpy(), numeric_grad(eager(fn), args, p), rtol=1e-4, atol=1e-5,
                                   err_msg="argument %d" % p)


def test_augmented_assignment_never_changes_the_callers_array():
    x = np.array([1.0, 2.0])
    adjoint.grad(P.augmented_does_not_mutate)(x)
    assert x.tolist() == [1.0, 2.0]


def test_print_runs_in_the_forward_sweep(capsys):
    adjoint.grad(P.comprehension_and_helpers, (0, 1))(np.ones(3), np.ones(3))
    assert capsys.readouterr().out == "shape (3,) 2\n"


def test_cell_with_a_loop_over_a_branch():
    net = P.RNNCell()
    xs = rng.standard_normal((6, 3))
    (dxs,), (dwh, dwx) = ops.GradOperation(get_all=True, get_by_list=True)(
        net, ParameterTuple(net.trainable_params()))(Tensor(xs))

    def loss(xs_, wh, wx):
        net.wh.set_data(wh)
        net.wx.set_data(wx)
        return net(Tensor(xs_)).asnumpy()
    wh, wx = net.wh.asnumpy().copy(), net.wx.asnumpy().copy()
    for i, g in enumerate((dxs, dwh, dwx)):
        np.testing.assert_allclose(g.asnumpy(), numeric_grad(loss, [xs, wh, wx], i), rtol=1e-5, atol=1e-6)
    net.wh.set_data(wh)
    net.wx.set_data(wx)


def test_generated_code_keeps_the_loop_and_reverses_it():
    src = adjoint.grad(P.rnn, (0, 1)).compiled(np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 2)),
                                                np.zeros((1, 2))).source
    assert "for t in range(_t1):" in src or "for t in range(" in src
    assert "in reversed(range(" in src
    assert "_tape.append(" in src and "_tape.pop()" in src


def test_constant_condition_is_resolved_when_compiling():
    src = adjoint.grad(P.constant_condition).compiled(np.zeros(2)).source
    assert "if " not in src and "np.sin" not in src


def test_tensor_if_stays_an_if_in_the_adjoint():
    src = adjoint.grad(P.branch, (0, 1)).compiled(np.zeros(2), np.zeros(2)).source
    assert src.count("if _t") >= 2 and "else:" in src
