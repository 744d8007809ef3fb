"""The shrinker on a synthetic failure: 'crashes' whenever np.cos is called on something."""
import dataclasses

import numpy as np

from . import shrink
from .gen import Case
from .run import Result

SRC = """import numpy as np
import adjoint


def helper(a):
    b = np.sin(a) * 2.0
    return b + a


def f(x, y):
    s = np.sum(x * y)
    for i in range(3):
        s = s + np.tanh(x[0]) * 0.5
        if s > 0.1:
            s = s * np.cos(helper(y) + 1.0)
    t = np.exp(np.tanh(s))
    return t + np.sum(y)
"""


def fake_run(case, shrinking=False):
    if "np.cos(" in case.source and "import numpy" in case.source:
        try:
            compile(case.source, "<t>", "exec")
        except SyntaxError:
            return Result("skipped")
        return Result("crash", "ValueError: boom [in compiler/x.py:y]")
    return Result("ok")


def test_shrinks_a_synthetic_crash_and_keeps_it():
    case = Case(0, 0, 1, "func", SRC, "f", in_shapes=[(3,), (3,)], in_kinds=["arr", "arr"],
                api={"call": "grad", "pos": (0, 1)}, inputs=[np.array([0.123, 0.5, 1.0]), np.ones(3)])
    small, res = shrink.shrink(case, fake_run(case), fake_run, budget_s=30)
    assert res.cls == "crash" and "np.cos(" in small.source
    assert len(small.source) < len(SRC) / 2
    assert "for " not in small.source and "helper" not in small.source
    assert np.round(small.inputs[0], 1).tolist() == small.inputs[0].tolist()


def test_signature_keeps_the_kind_of_failure():
    assert shrink.signature(Result("crash", "KeyError: x [in a.py:b]")) == \
        shrink.signature(Result("crash", "KeyError: x [in c.py:d]"))
    assert shrink.signature(Result("wrong", "values differ: a")) == \
        shrink.signature(Result("wrong", "values differ: b"))
    assert shrink.signature(Result("wrong", "values differ: a")) != \
        shrink.signature(Result("wrong", "structure: a"))


def test_mutations_are_valid_python():
    for kind in ("delete", "inline", "range", "expr"):
        for k in range(shrink._n_sites(SRC, kind)):
            new = shrink.mutate(SRC, kind, k)
            if new is not None:
                compile(new, "<t>", "exec")
    assert dataclasses.is_dataclass(Case)
