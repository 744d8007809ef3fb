"""docs/ops.md is generated from the rule table and must not go stale."""
import os

import numpy as np

import adjoint
from adjoint import docs_ops

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "ops.md")


TEXT = docs_ops.generate()


def test_docs_ops_md_is_the_generators_output():
    with open(DOCS) as f:
        committed = f.read()
    assert committed == TEXT, (
        "docs/ops.md is stale: regenerate it with `python -m adjoint.docs_ops > docs/ops.md`")


def test_every_public_operation_is_listed():
    text = TEXT
    for name in docs_ops.ops_functions():
        if name not in docs_ops.NOT_OPERATIONS:
            assert "`ops.%s(" % name in text, name
    for name in docs_ops.primitive_classes():
        assert "`ops.%s(" % name in text, name
    for name in docs_ops.tensor_members():
        if name not in docs_ops.NOT_OPERATIONS:
            assert "`x.%s" % name in text, name
    for name, _ in docs_ops.numpy_and_math_entries():
        assert "`%s`" % name in text, name
    for name in ("np.clip", "np.einsum", "np.linalg.norm", "math.erf", "ops.clamp(", "ops.ReduceProd(",
                 "x.dot(", "x.ravel("):
        assert name in text


def test_derivative_notes_come_from_the_rules():
    text = TEXT
    row = next(line for line in text.splitlines() if line.startswith("| `np.clip` |"))
    assert "bounds included" in row
    row = next(line for line in text.splitlines() if line.startswith("| `ops.clip_by_value("))
    assert "1/2-1/2" in row
    row = next(line for line in text.splitlines() if line.startswith("| `np.sort` |"))
    assert "tied elements keep their order" in row
    row = next(line for line in text.splitlines() if line.startswith("| `np.argsort` |"))
    assert "no gradient" in row


def no_rule(x):
    return np.sum(np.fft.fft(x).real)


def test_the_no_rule_hint_points_to_the_generated_list():
    try:
        adjoint.grad(no_rule)(np.ones(4))
    except adjoint.SourceError as exc:
        assert "docs/ops.md" in str(exc)
    else:
        raise AssertionError("np.fft.fft has a rule now: pick another function")
