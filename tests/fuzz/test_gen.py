"""The generator: deterministic, valid Python, and NumPy-aliasing safe."""
import ast

import numpy as np

from . import gen
from .__main__ import make_case


def test_program_k_of_seed_s_is_always_the_same_text():
    for order in (1, 2):
        for k in (0, 7, 31):
            a, b = make_case(3, k, order), make_case(3, k, order)
            assert a.source == b.source and a.api == b.api and a.in_kinds == b.in_kinds
            for x, y in zip(a.inputs, b.inputs):
                assert np.array_equal(x, y)
    assert make_case(3, 0, 1).source != make_case(4, 0, 1).source


def test_programs_parse_and_cover_both_kinds_and_dtypes():
    kinds = set()
    for k in range(40):
        c = gen.generate(0, k, 1)
        ast.parse(c.source)
        kinds.add((c.kind, c.dtype))
    assert kinds == {("func", "float64"), ("func", "float32"), ("cell", "float64"), ("cell", "float32")}


def test_in_place_updates_of_shared_arrays_are_rewritten():
    src = ("def f(x):\n    a = x * 2.0\n    b = a\n    a += 1.0\n    c = x * 3.0\n    c += 1.0\n"
           "    return b + c\n")
    out = gen.desugar_unsafe_aug(src)
    assert "a = a + 1.0" in out and "c += 1.0" in out
    assert gen.alias_safe(out) and not gen.alias_safe(src)


def test_weights_can_switch_constructs_off():
    off = {k: 0 for k in gen.STMT_WEIGHTS if k not in ("assign",)}
    for k in range(10):
        c = gen.generate(1, k, 1, sw=off)
        tree = ast.parse(c.source)
        assert not any(isinstance(n, (ast.For, ast.While, ast.If)) for n in ast.walk(tree))
