"""A fixed slice of the fuzzer: 300 first-order and 60 second-order programs, no wrong result,
no crash, and refusals under 1 in 100."""
import collections

import pytest

from .__main__ import work

SEED = 0


def _run(order, n):
    recs = [work((SEED, i, order)) for i in range(n)]
    bad = [(r["index"], r["cls"], r["cause"]) for r in recs if r["cls"] in ("wrong", "crash")]
    return collections.Counter(r["cls"] for r in recs), bad


@pytest.mark.parametrize("order,n", [(1, 300), (2, 60)])
def test_fuzz_slice_has_no_wrong_gradient_and_no_crash(order, n):
    counts, bad = _run(order, n)
    assert not bad, "%s\n%s" % (dict(counts), "\n".join("program %d: %s: %s" % b for b in bad[:30]))
    assert counts["refused"] * 100 < n, dict(counts)


def test_fuzz_slice_forward_mode_agrees_with_reverse_mode():
    # (forward.py: jvp along a random direction against <gradient, v>, on programs that pass)
    from .__main__ import make_case
    from .forward import check_forward
    results = [(i, check_forward(make_case(SEED, i, 1))) for i in range(25)]
    bad = [(i, r) for i, r in results if r[0] in ("wrong", "crash", "refused")]
    assert not bad, bad
    assert sum(r[0] == "ok" for _, r in results) >= 20
