"""Smoke test of the benchmark runner (not collected by default: pytest's testpaths is tests/).

    python -m pytest -q benchmarks/test_quick.py
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_quick_run_writes_json(tmp_path):
    out = tmp_path / "quick.json"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "targets:" in proc.stdout
    data = json.loads(out.read_text())
    names = [w["name"] for w in data["workloads"]]
    assert names == ["seed", "mlp", "mlp_lse", "elementwise", "loop", "loop_all", "small_scalar", "cnn", "hvp",
                     "recompute"]
    for w in data["workloads"]:
        kinds = {r["kind"] for r in w["rows"]}
        assert {"baseline", "adjoint", "diagnostic"} <= kinds
        assert all(r["median_us"] > 0 for r in w["rows"])
        assert w["compile"] and all(c["first_call_ms"] > 0 for c in w["compile"])
