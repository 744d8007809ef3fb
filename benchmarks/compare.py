"""Two commits' ratios side by side: run.py on a snapshot of each commit's adjoint/, alternately.

    python benchmarks/compare.py BEFORE AFTER --only seed,mlp,loop --pairs 3 [--text PATH]

Each pair runs `run.py --only ... --no-peers` once on each commit (the order alternates from
pair to pair, so a slow phase of the machine does not fall on one side only), every run in
fresh processes on a `git archive` snapshot of that commit's adjoint/ package (PYTHONPATH); the
benchmarks themselves are this checkout's. Prints each contender's ratio per run and the median.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def snapshot(commit, into):
    """adjoint/ as of ``commit``, extracted under ``into``; its short hash."""
    short = subprocess.check_output(["git", "rev-parse", "--short", commit], cwd=ROOT, text=True).strip()
    os.makedirs(into, exist_ok=True)
    archive = subprocess.Popen(["git", "archive", commit, "adjoint"], cwd=ROOT, stdout=subprocess.PIPE)
    subprocess.check_call(["tar", "-x", "-C", into], stdin=archive.stdout)
    archive.wait()
    return short


def run_once(path, only, processes):
    """{(workload, contender): ratio} of one run.py run on the adjoint/ under ``path``."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        env = dict(os.environ, PYTHONPATH=path)
        subprocess.check_call([sys.executable, os.path.join(HERE, "run.py"), "--only", only, "--no-peers",
                               "--processes", str(processes), "--json", out.name],
                              env=env, stdout=subprocess.DEVNULL)
        data = json.load(open(out.name))
    return {(w["name"], r["contender"]): r["ratio"] for w in data["workloads"] for r in w["rows"]
            if r["kind"] in ("adjoint", "diagnostic")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--only", default="seed,mlp,loop")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--text", help="also write the table to this file")
    args = ap.parse_args(argv)
    work = tempfile.mkdtemp(prefix="adjoint-compare-")
    sides = [(c, os.path.join(work, str(k))) for k, c in enumerate((args.before, args.after))]
    names = [snapshot(c, path) for c, path in sides]
    runs = {0: [], 1: []}
    for p in range(args.pairs):
        for side in ((0, 1) if p % 2 == 0 else (1, 0)):
            runs[side].append(run_once(sides[side][1], args.only, args.processes))
            print("pair %d: %s done" % (p + 1, names[side]), file=sys.stderr)
    keys = [k for k in runs[0][0] if all(k in r for rs in runs.values() for r in rs)]
    lines = ["ratio = adjoint / hand-written NumPy, paired within rounds, median over %d processes (run.py);"
             % args.processes, "%d runs per side, the order alternating; before = %s, after = %s" %
             (args.pairs, names[0], names[1]), "",
             "%-36s %-34s %s" % ("workload / contender", "before: per run (median)", "after: per run (median)")]
    for k in keys:
        cells = []
        for side in (0, 1):
            values = [r[k] for r in runs[side]]
            cells.append("%s  (%.2f)" % (" ".join("%.2f" % v for v in values), statistics.median(values)))
        lines.append("%-36s %-34s %s" % ("%s / %s" % k, cells[0], cells[1]))
    text = "\n".join(lines)
    print(text)
    if args.text:
        with open(args.text, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
