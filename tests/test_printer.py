"""printer.py writes what ast.unparse writes (it replaces it for generated code, for speed)."""
import ast

import pytest

from adjoint.compiler import printer

CASES = """
a - (b - c)
a - b - c
-(a * b)
--a
-a ** 2
(-a) ** 2
a ** b ** c
(a ** b) ** c
a ** -b
a / (b * c) @ d
(a + b) * (c - d) / e % f // g
x[1:2, ::3]
x[i]
x[i,]
x[(1, 2)]
x[:, None, ...]
f(a, b=1, c=-2.5)(d)
np.exp(-x).sum(axis=(0, 1), keepdims=True)
(a, b)
()
[a, (b, c), []]
{'k': v, 1: (2,)}
a < b <= c
(a < b) == (c > d)
not a
not (a and b)
1 .real
x.shape[0] + len(y)
a = b = c
a, b = c, d
a += b * c
f(x)
return a, b
return (a, b)
return
assert x, 'message'
y = 1e-05 * x + 3.0
y = x if c else z
""".strip().splitlines()


@pytest.mark.parametrize("text", CASES)
def test_the_same_text_as_ast_unparse(text):
    node = ast.parse(text).body[0]
    node = node.value if isinstance(node, ast.Expr) and text[0] not in "f" else node
    assert printer.source(node) == ast.unparse(node)
