"""Bad input gets an adjoint error naming the user's file, line and column, with a hint."""
import os

import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, Tensor
from programs import bad_cells

BAD_FILE = os.path.abspath(bad_cells.__file__)


def lines_of(error):
    return [(p.loc.file, p.loc.line) for p in getattr(error, "problems", [error])]


def test_every_unsupported_construct_is_reported_at_once():
    with pytest.raises(adjoint.UnsupportedError) as info:
        ops.GradOperation()(bad_cells.ManyProblems())(Tensor(np.ones(2)))
    err = info.value
    assert lines_of(err) == [(BAD_FILE, 15), (BAD_FILE, 19), (BAD_FILE, 20)]
    text = str(err)
    assert "3 unsupported constructs" in text
    assert "try/except" in text and "self.cached" in text and "global" in text
    assert "bad_cells.py:19:9" in text        # column of `self.cached`, 1-based
    assert "        self.cached = y" in text   # the offending line is shown
    assert "hint:" in text


def test_a_function_without_a_rule_on_a_differentiated_value_is_named():
    with pytest.raises(adjoint.SourceError) as info:
        ops.GradOperation()(bad_cells.NoRule())(Tensor(np.ones(4)))
    err = info.value
    assert (err.loc.file, err.loc.line) == (BAD_FILE, 30)   # the first op without a rule
    assert "np.fft.fft" in str(err) and "bprop" in str(err)


def test_break_under_a_tensor_condition_is_no_longer_refused():
    """(It once was; now the loop carries a done flag: see test_trust.py.)"""
    grad = ops.GradOperation()(bad_cells.TensorBreak())
    np.testing.assert_allclose(grad(Tensor(np.ones(2))).asnumpy(), [1.0, 1.0])
    np.testing.assert_allclose(grad(Tensor(-np.ones(2))).asnumpy(), [8.0, 8.0])


def test_undefined_name():
    with pytest.raises(adjoint.SourceError) as info:
        adjoint.grad(bad_cells.undefined_name)(1.0)
    assert info.value.loc.line == 54 and "not_defined_anywhere" in str(info.value)


def test_runtime_failure_in_generated_code_names_the_users_line():
    with pytest.raises(adjoint.GradRuntimeError) as info:
        ops.GradOperation()(bad_cells.ShapeMismatch())(Tensor(np.ones((2, 5))))
    text = str(info.value)
    assert "%s:40" % os.path.relpath(BAD_FILE) in text and "h = x @ self.w" in text   # as typed
    assert isinstance(info.value.__cause__, ValueError)


def test_source_that_cannot_be_found():
    namespace = {}
    exec("def made_by_exec(x):\n    return x * x\n", namespace)
    with pytest.raises(adjoint.SourceError, match="cannot find the source of made_by_exec"):
        adjoint.grad(namespace["made_by_exec"])(1.0)


def test_lambda_without_source_is_refused_with_a_hint():
    namespace = {}
    exec("square = lambda x: x * x\n", namespace)       # (a top-level lambda compiles: test_functional)
    with pytest.raises(adjoint.SourceError, match="cannot find the source of") as info:
        adjoint.grad(namespace["square"])(1.0)
    assert "exec" in str(info.value)


class Lin(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = Parameter(np.array([6.0]), name="w")

    def construct(self, x):
        return self.w * x


def test_missing_sens():
    with pytest.raises(adjoint.ArgumentError, match="missing 1 required positional argument"):
        ops.GradOperation(sens_param=True)(Lin())(Tensor(np.array([1.0])))


def test_no_arguments_with_sens():
    with pytest.raises(adjoint.ArgumentError, match="sens"):
        ops.GradOperation(sens_param=True)(Lin())()


def test_sens_of_the_wrong_shape():
    with pytest.raises(adjoint.ArgumentError, match=r"shape \(1,\).*got \(2,\)"):
        ops.GradOperation(sens_param=True)(Lin())(Tensor(np.array([1.0])), Tensor(np.array([1.0, 2.0])))


def test_a_string_where_a_tensor_belongs():
    with pytest.raises(adjoint.ArgumentError, match="must be a Tensor.*got str"):
        ops.GradOperation()(Lin())("abc")


def test_too_many_arguments():
    with pytest.raises(adjoint.ArgumentError, match="takes 2 positional arguments but 3 were given"):
        ops.GradOperation()(Lin())(Tensor(np.array([1.0])), Tensor(np.array([1.0])))


def test_get_by_list_without_parameters():
    with pytest.raises(adjoint.ArgumentError, match="needs the Parameters"):
        ops.GradOperation(get_by_list=True)(Lin())


def test_errors_are_adjoint_errors_not_internal_tracebacks():
    # every error class users see derives from AdjointError
    for cls in (adjoint.SourceError, adjoint.UnsupportedError, adjoint.ArgumentError,
                adjoint.GradRuntimeError):
        assert issubclass(cls, adjoint.AdjointError)


def test_every_change_to_cell_state_is_refused_together():
    with pytest.raises(adjoint.UnsupportedError) as info:
        ops.GradOperation()(bad_cells.StateChanges())(Tensor(np.ones(2)))
    assert lines_of(info.value) == [(BAD_FILE, 63), (BAD_FILE, 64)]
    assert "self.history.append" in str(info.value) and "cannot store to `self.calls`" in str(info.value)


def test_np_vectorize_is_refused_at_the_users_line():
    with pytest.raises(adjoint.SourceError, match="`np.vectorize` runs a Python function piece by piece") as info:
        adjoint.grad(bad_cells.per_element)(np.ones(3))
    assert info.value.loc.file == BAD_FILE and "np.vectorize(lambda" in info.value.loc.text
    assert "np.where" in str(info.value)
