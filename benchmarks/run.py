"""Benchmark adjoint's gradients against hand-written NumPy gradients (and peers, if installed).

    python benchmarks/run.py                 # full run: table on stdout, JSON in benchmarks/results/latest.json
    python benchmarks/run.py --quick         # smoke run: few rounds, no peers (unless --peers)
    python benchmarks/run.py --only mlp,loop --json /tmp/out.json

See benchmarks/README.md for the method.
"""
import argparse
import datetime
import functools
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import adjoint  # noqa: E402
import harness  # noqa: E402
import peers as peerlib  # noqa: E402
from workloads import ORDER  # noqa: E402

HAND = "numpy (hand)"
RAW = "generated fn only"
MEMORY_TARGET = 1.0
NUMPY_BASED = ("autograd", "tangent")      # peers whose arrays tracemalloc sees


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fast smoke run: 3 rounds of short batches, "
                   "one compile repeat, peers off unless --peers")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="where to write the JSON results (default: benchmarks/results/latest.json; none for --quick)")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only these workloads (comma-separated or repeated): " + ", ".join(ORDER))
    p.add_argument("--peers", dest="peers", action="store_true", default=None, help="time installed peers")
    p.add_argument("--no-peers", dest="peers", action="store_false", help="do not time peers")
    p.add_argument("--rounds", type=int, help="interleaved rounds (default 25, quick 3)")
    p.add_argument("--batch-ms", type=float, help="target time of one batch of calls (default 40, quick 3)")
    p.add_argument("--text", metavar="PATH", help="also write the printed report to PATH")
    p.add_argument("--processes", type=int, metavar="N",
                   help="run the adjoint-vs-hand pass of each workload in N fresh processes and take the "
                        "median (default 3, quick 1); peers run in the first only")
    p.add_argument("--in-process", action="store_true",
                   help="run every workload in this process (default: one fresh process per workload)")
    p.add_argument("--label", help="what the measured adjoint is, for the header (default: the repository's "
                   "commit when adjoint is imported from it)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    names = [n.strip().replace("-", "_") for arg in a.only for n in arg.split(",") if n.strip()] or list(ORDER)
    for n in names:
        if n not in ORDER:
            p.error("unknown workload %r (known: %s)" % (n, ", ".join(ORDER)))
    a.names = names
    if a.peers is None:
        a.peers = not a.quick
    if a.json is None and not a.quick:      # a smoke run never overwrites the recorded results
        a.json = os.path.join(HERE, "results", "latest.json")
    a.rounds = a.rounds or (3 if a.quick else 25)
    a.batch_seconds = (a.batch_ms or (3.0 if a.quick else 40.0)) / 1e3
    a.compile_repeats = 1 if a.quick else 5
    a.processes = 1 if a.in_process else (a.processes or (1 if a.quick else 3))
    a.memory_repeats = 1 if a.quick else 3
    return a


def run_workload(mod, opts, log):
    """Measure one workload (in a worker process of its own, see ``main``).

    Pass A, with no peer imported: compile time, correctness, interleaved timing of the
    hand-written gradient against adjoint's contenders, then the memory pass. Pass B: the
    installed peers, checked and timed in interleaved rounds with the hand-written gradient
    again (their ratio is to the hand-written time of that pass)."""
    inp = mod.make_inputs()
    args = tuple(inp.values())
    # A workload that draws random numbers (dropout masks) reseeds NumPy before each checked call,
    # so every contender draws the same ones there.
    reseed = getattr(mod, "reseed", None) or (lambda: None)
    reseed()
    want = mod.hand_grad(*args)
    contenders = mod.adjoint_contenders(inp)
    target = mod.TARGET
    compile_target = getattr(mod, "COMPILE_TARGET_MS", None)
    result = {"name": mod.NAME, "title": mod.TITLE, "target": target, "note": mod.NOTE,
              "compile_target_ms": compile_target, "rows": [], "compile": [], "skipped": [],
              "sources": {}}

    # A1. compile: first call after clear_cache (the first one is the process's first compile)
    for c in contenders:
        walls, compiles = harness.compile_times(c, opts.compile_repeats)
        med = statistics.median(walls) * 1e3
        primary = c is contenders[0] and compile_target is not None
        result["compile"].append({
            "contender": c.label, "first_call_ms": med, "compiler_ms": statistics.median(compiles) * 1e3,
            "first_call_ms_all": [w * 1e3 for w in walls],
            "target_ms": compile_target if primary else None, "met": (med <= compile_target) if primary else None})
        result["sources"][c.label] = c.gradfn.compiled(*c.args).source

    # A2. correctness: every contender must match the hand-written gradient before it is timed
    hand = functools.partial(mod.hand_grad, *args)
    fns, kinds = {HAND: hand}, {HAND: "baseline"}
    for c in contenders:
        reseed()
        harness.check_close(c.to_numpy(c.call()), want, "%s/%s" % (mod.NAME, c.label))
        fns[c.label] = functools.partial(c.gradfn, *c.args)
        kinds[c.label] = "adjoint"
    raw = harness.raw_generated(contenders[0])
    reseed()
    harness.check_close(contenders[0].to_numpy(raw()), want, "%s/%s" % (mod.NAME, RAW))
    fns[RAW] = raw
    kinds[RAW] = "diagnostic"

    # A3. timing: interleaved rounds
    log("  %s: timing %d contenders x %d rounds" % (mod.NAME, len(fns), opts.rounds))
    samples, batch, faults = harness.time_interleaved(fns, opts.rounds, opts.batch_seconds)
    summary = harness.summarize(samples, HAND)

    # A4. memory: tracemalloc peak of one call, in its own pass
    peaks = {name: harness.peak_bytes(fn, opts.memory_repeats) for name, fn in fns.items()}

    # B. peers
    peer_fns, first_call = {}, {}
    for name, factory in mod.peers_for(inp).items():
        if not opts.peers:
            result["skipped"].append({"contender": name, "reason": "peers off (--quick; use --peers)"})
            continue
        try:
            call = factory()
            reseed()
            t0 = time.perf_counter()
            got = call()
            first_call[name] = (time.perf_counter() - t0) * 1e3
        except peerlib.Unavailable as exc:
            result["skipped"].append({"contender": name, "reason": str(exc)})
            continue
        except Exception as exc:                     # noqa: BLE001 - a peer that cannot run this
            result["skipped"].append({"contender": name, "reason": "failed: %s: %s" % (
                type(exc).__name__, (str(exc).splitlines() or [""])[0][:100])})
            continue
        try:
            harness.check_close(got, want, "%s/%s" % (mod.NAME, name))
        except AssertionError as exc:
            result["skipped"].append({"contender": name, "reason": "gradient differs from the hand-written "
                                      "one: %s" % str(exc).strip().splitlines()[0]})
            continue
        peer_fns[name] = call
        kinds[name] = "peer"
        if name in NUMPY_BASED:
            peaks[name] = harness.peak_bytes(call, opts.memory_repeats)
    if peer_fns:
        log("  %s: timing %d peers x %d rounds" % (mod.NAME, len(peer_fns), opts.rounds))
        psamples, pbatch, pfaults = harness.time_interleaved(dict({HAND: hand}, **peer_fns), opts.rounds,
                                                             opts.batch_seconds)
        psummary = harness.summarize(psamples, HAND)
        for name in peer_fns:
            samples[name], batch[name], summary[name] = psamples[name], pbatch[name], psummary[name]
            faults[name] = pfaults[name]
        result["hand_in_peer_pass_us"] = psummary[HAND]["median_us"]

    for name in samples:
        s = summary[name]
        is_adjoint = kinds[name] == "adjoint"
        row = {"contender": name, "kind": kinds[name], "median_us": s["median_us"], "q1_us": s["q1_us"],
               "q3_us": s["q3_us"], "ratio": s["ratio"], "ratio_of_medians": s["ratio_of_medians"],
               "calls_per_batch": batch[name], "samples_us": [t * 1e6 for t in samples[name]],
               "page_faults_per_call": faults[name],
               "target": target if is_adjoint else None, "met": (s["ratio"] <= target) if is_adjoint else None,
               "first_call_ms": first_call.get(name), "peak_bytes": peaks.get(name),
               "mem_ratio": (peaks[name] / peaks[HAND]) if name in peaks and peaks[HAND] else None}
        row["mem_met"] = (row["mem_ratio"] <= MEMORY_TARGET) if is_adjoint and row["mem_ratio"] is not None else None
        result["rows"].append(row)
    return result


def worker(name, opts, out_path):
    log = functools.partial(print, file=sys.stderr, flush=True)
    mod = importlib.import_module("workloads." + name)
    result = run_workload(mod, opts, log)
    result["peers"] = {p: v for p, v in peerlib.status().items()} if opts.peers else None
    with open(out_path, "w") as f:
        json.dump(result, f)


# -- report ---------------------------------------------------------------------------------------
def _bytes(n):
    if n is None:
        return "-"
    if n < 10 * 1024:
        return "%d B" % n
    if n < 10 * 1024 * 1024:
        return "%.1f KiB" % (n / 1024)
    return "%.1f MiB" % (n / 1024 / 1024)


def _us(x):
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 1000 else "%.0f" % x


def _met(m):
    return "" if m is None else "yes" if m else "NO"


def report(results, meta):
    lines = []
    out = lines.append
    out("adjoint benchmarks  (%s; python %s, numpy %s, %s, %d CPUs)" % (
        meta["date"], meta["python"], meta["numpy"], meta["machine"], meta["cpus"]))
    out("adjoint %s at %s (source digest %s%s); %d rounds, batches of ~%.0f ms, %d process(es) per workload%s" % (
        meta["adjoint"], meta["label"], meta["adjoint_source"],
        ", CHANGED DURING THE RUN" if meta.get("source_changed") else "", meta["rounds"],
        meta["batch_ms"], meta["processes"], ", QUICK" if meta["quick"] else ""))
    out("peers: " + "; ".join("%s %s" % kv for kv in meta["peers"].items()))
    out("ratio = median over rounds of (contender / hand-written) in the same round, median over "
        "processes (range in parentheses);")
    out("memory = tracemalloc peak of one call / the hand-written one's (target <= %.1f); "
        "faults = minor page faults per call while timed" % meta["memory_target"])
    out("")
    head = "%-13s %-18s %10s %19s %6s %11s %7s %4s %10s %6s %4s %8s" % (
        "workload", "contender", "median us", "q1-q3 us", "ratio", "(processes)", "target", "met",
        "peak mem", "mem x", "met", "faults")
    out(head)
    out("-" * len(head))
    for r in results:
        first = True
        for row in r["rows"]:
            per = row.get("ratio_per_process")
            out("%-13s %-18s %10s %19s %6.2f %11s %7s %4s %10s %6s %4s %8s" % (
                r["name"] if first else "", row["contender"], _us(row["median_us"]),
                "%s-%s" % (_us(row["q1_us"]), _us(row["q3_us"])), row["ratio"],
                "%.2f-%.2f" % (min(per), max(per)) if per else "",
                "<=%.2f" % row["target"] if row["target"] is not None else "",
                _met(row["met"]), _bytes(row["peak_bytes"]),
                "%.2f" % row["mem_ratio"] if row["mem_ratio"] is not None else "-",
                _met(row["mem_met"]), "%.0f" % row["page_faults_per_call"]))
            first = False
        reasons = {}
        for s in r["skipped"]:
            reasons.setdefault(s["reason"], []).append(s["contender"])
        for reason, names in reasons.items():
            out("%-13s %s skipped: %s" % ("", ", ".join(names), reason))
        out("%-13s note: %s" % ("", r["note"]))
        if r.get("hand_in_peer_pass_us"):
            out("%-13s peers were timed in a second pass against the hand-written gradient (%s us there)"
                % ("", _us(r["hand_in_peer_pass_us"])))
    out("")
    out("compile: first call after adjoint.clear_cache() (parse + lowering + differentiation + codegen + "
        "exec, plus one run of the gradient), median of %d per process;" % meta["compile_repeats"])
    out("compiler = the compiler's own timing (cache_info); cold = the first compile in a fresh process")
    head = "%-13s %-18s %14s %12s %10s %8s %4s" % ("workload", "contender", "first call ms", "compiler ms",
                                                 "cold ms", "target", "met")
    out(head)
    out("-" * len(head))
    for r in results:
        for c in r["compile"]:
            out("%-13s %-18s %14.2f %12.2f %10.2f %8s %4s" % (
                r["name"], c["contender"], c["first_call_ms"], c["compiler_ms"],
                statistics.median(c.get("cold_ms_per_process") or c["first_call_ms_all"][:1]),
                "<=%.0f" % c["target_ms"] if c["target_ms"] else "", _met(c["met"])))
    peer_first = [(r["name"], row["contender"], row["first_call_ms"]) for r in results for row in r["rows"]
                  if row["first_call_ms"] is not None]
    if peer_first:
        out("peers' first call (ms; jax-jit includes tracing + XLA compile): " + ", ".join(
            "%s/%s %.1f" % t for t in peer_first))
    out("")
    met = [(r["name"], row["contender"], row["ratio"], row["target"], row["met"])
           for r in results for row in r["rows"] if row["met"] is not None]
    out("targets: time %d/%d met, memory %d/%d met, compile %d/%d met" % (
        sum(m[4] for m in met), len(met),
        sum(bool(row["mem_met"]) for r in results for row in r["rows"] if row["mem_met"] is not None),
        sum(1 for r in results for row in r["rows"] if row["mem_met"] is not None),
        sum(bool(c["met"]) for r in results for c in r["compile"] if c["met"] is not None),
        sum(1 for r in results for c in r["compile"] if c["met"] is not None)))
    return "\n".join(lines)


def _source_hash():
    """A digest of adjoint's own source files: the run warns when they change while it runs."""
    import hashlib
    root = os.path.dirname(os.path.abspath(adjoint.__file__))
    h = hashlib.sha1()
    for d, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(".py"):
                with open(os.path.join(d, f), "rb") as fh:
                    h.update(f.encode() + b"\0" + fh.read())
    return h.hexdigest()[:12]


def _git(*args):
    try:
        return subprocess.run(("git",) + args, cwd=HERE, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:                                # noqa: BLE001
        return ""


def merge(runs):
    """One result from several processes' runs of a workload: per contender, the median over
    processes of the median time and of the paired ratio (with the range of the ratios); the
    quartiles of all samples pooled; compile times pooled. Peers come from the first run."""
    if len(runs) == 1:
        return runs[0]
    out = runs[0]
    by_name = [{row["contender"]: row for row in r["rows"]} for r in runs]
    for row in out["rows"]:
        rows = [b[row["contender"]] for b in by_name if row["contender"] in b]
        if len(rows) < 2:
            continue
        pooled = sorted(t for r in rows for t in r["samples_us"])
        q = statistics.quantiles(pooled, n=4)
        ratios = [r["ratio"] for r in rows]
        row.update(median_us=statistics.median(r["median_us"] for r in rows), q1_us=q[0], q3_us=q[2],
                   ratio=statistics.median(ratios), ratio_per_process=ratios,
                   ratio_of_medians=statistics.median(r["ratio_of_medians"] for r in rows),
                   page_faults_per_call=statistics.median(r["page_faults_per_call"] for r in rows),
                   samples_us=[r["samples_us"] for r in rows])
        if row["target"] is not None:
            row["met"] = row["ratio"] <= row["target"]
    for c in out["compile"]:
        same = [cc for r in runs for cc in r["compile"] if cc["contender"] == c["contender"]]
        walls = [w for cc in same for w in cc["first_call_ms_all"]]
        c.update(first_call_ms=statistics.median(walls), compiler_ms=statistics.median(cc["compiler_ms"] for cc in same),
                 cold_ms_per_process=[cc["first_call_ms_all"][0] for cc in same], first_call_ms_all=walls)
        if c["target_ms"]:
            c["met"] = c["first_call_ms"] <= c["target_ms"]
    out["processes"] = len(runs)
    return out


def _spawn(name, opts, log, peers):
    """Run one workload in a fresh interpreter, so that no workload or peer measured before it
    (imports, malloc's heap state, BLAS threads) changes its numbers."""
    import tempfile
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", name, "--worker-out", out,
           "--rounds", str(opts.rounds), "--batch-ms", str(opts.batch_seconds * 1e3),
           "--peers" if peers else "--no-peers"] + (["--quick"] if opts.quick else [])
    # A workload may ask for environment variables (e.g. one BLAS thread) set before NumPy loads.
    env = dict(os.environ)
    env.update(getattr(importlib.import_module("workloads." + name), "ENV", {}))
    try:
        proc = subprocess.run(cmd, env=env)
        if proc.returncode != 0:
            raise SystemExit("workload %s failed (exit %d)" % (name, proc.returncode))
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


def main(argv=None):
    opts = parse(sys.argv[1:] if argv is None else argv)
    log = functools.partial(print, file=sys.stderr, flush=True)
    if opts.worker:
        worker(opts.worker, opts, opts.worker_out)
        return 0
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "python": platform.python_version(),
            "numpy": np.__version__, "machine": platform.machine(), "cpus": os.cpu_count(),
            "adjoint": adjoint.__version__, "adjoint_path": os.path.dirname(os.path.abspath(adjoint.__file__)),
            "quick": opts.quick, "rounds": opts.rounds, "batch_ms": opts.batch_seconds * 1e3,
            "compile_repeats": opts.compile_repeats, "memory_repeats": opts.memory_repeats,
            "memory_target": MEMORY_TARGET, "isolated": not opts.in_process,
            "processes": opts.processes, "adjoint_source": _source_hash()}
    repo = _git("rev-parse", "--show-toplevel")
    if opts.label:
        meta["label"] = opts.label
    elif repo and meta["adjoint_path"].startswith(os.path.join(repo, "")):
        dirty = _git("status", "--porcelain", "--untracked-files=no", "--", meta["adjoint_path"])
        meta["label"] = "%s%s" % (_git("rev-parse", "--short", "HEAD"), " + uncommitted changes" if dirty else "")
    else:
        meta["label"] = "imported from %s" % meta["adjoint_path"]
    results = []
    for name in opts.names:
        log("%s ..." % name)
        if opts.in_process:
            result = run_workload(importlib.import_module("workloads." + name), opts, log)
            result["peers"] = peerlib.status() if opts.peers else None
        else:
            result = merge([_spawn(name, opts, log, opts.peers and i == 0) for i in range(opts.processes)])
        results.append(result)
    if _source_hash() != meta["adjoint_source"]:
        meta["source_changed"] = True
        log("warning: adjoint's source changed during the run; the workloads measured different code")
    meta["peers"] = next((r["peers"] for r in results if r.get("peers")), None) or \
        {p: "off" for p in peerlib.PEERS}
    text = report(results, meta)
    print(text)
    if opts.text:
        with open(opts.text, "w") as f:
            f.write(text + "\n")
    if opts.json:
        os.makedirs(os.path.dirname(os.path.abspath(opts.json)), exist_ok=True)
        with open(opts.json, "w") as f:
            json.dump({"meta": meta, "workloads": results}, f, indent=1)
        log("wrote %s" % opts.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
