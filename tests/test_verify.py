"""The IR verifier accepts what the compiler builds and names what is broken."""
import numpy as np
import pytest

import adjoint
from adjoint.compiler import ir
from adjoint.compiler import rules as P
from adjoint.compiler.verify import IRError, verify


def _func(ops, params, outputs):
    return ir.Func("f", params, ir.Block(ops), outputs)


def test_a_well_formed_function_passes():
    x = ir.Value("x")
    y = ir.Value("y")
    f = _func([ir.Op(P.exp, [x], y)], [x], [y])
    assert verify(f) is f


def test_use_before_definition():
    x, y, z = ir.Value("x"), ir.Value("y"), ir.Value("z")
    ops = [ir.Op(P.exp, [z], y), ir.Op(P.exp, [x], z)]
    with pytest.raises(IRError, match="not defined"):
        verify(_func(ops, [x], [y]))


def test_a_value_defined_twice():
    x, y = ir.Value("x"), ir.Value("y")
    ops = [ir.Op(P.exp, [x], y), ir.Op(P.sin, [x], y)]
    with pytest.raises(IRError, match="defined twice|does not point back"):
        verify(_func(ops, [x], [y]))


def test_a_value_from_inside_a_loop_is_out_of_scope_after_it():
    x, i, h, h2, r = ir.Value("x"), ir.Value("i"), ir.Value("h"), ir.Value("h2"), ir.Value("r")
    body = ir.Block([ir.Op(P.exp, [h], h2)], [i, h], [h2])
    loop = ir.Op(ir.FOR, [ir.Const(0), ir.Const(3), ir.Const(1), x], None,
                 blocks=[body], results=[r])
    with pytest.raises(IRError, match="not in scope"):
        verify(_func([loop], [x], [h2]))


def test_loop_yields_must_match_what_it_carries():
    x, i, h, r = ir.Value("x"), ir.Value("i"), ir.Value("h"), ir.Value("r")
    body = ir.Block([], [i, h], [h, h])
    loop = ir.Op(ir.FOR, [ir.Const(0), ir.Const(3), ir.Const(1), x], None,
                 blocks=[body], results=[r])
    with pytest.raises(IRError, match="yields 2 values for 1"):
        verify(_func([loop], [x], [r]))


def test_the_test_suite_verifies_every_pass(monkeypatch):
    """conftest sets ADJOINT_VERIFY: a pass that breaks the IR fails every test that compiles."""
    from adjoint.compiler import passes

    def breaking_cse(func):
        func.body.ops.reverse()          # uses now come before definitions
        return func

    breaking_cse.__name__ = "cse"
    monkeypatch.setattr(passes, "cse", breaking_cse)

    def f(x):
        return np.sum(np.sin(x) * 2.0)

    with pytest.raises(IRError, match="after cse"):
        adjoint.grad(f)(np.ones(3))
