"""python -m tests.fuzz --order 1 --n 20000 --seed 0 [--jobs 2] [--show-failures] [--shrink]

Run from the repository root. Prints counts per class, refusals by cause, timing and (with
--show-failures) every failure: program, inputs, expected and actual gradients, the generated
adjoint and (with --shrink) the reduced program.
"""
import argparse
import collections
import multiprocessing
import os
import pickle
import sys
import time

# Every gradient the fuzzer checks runs the call stub's special version (compiler/specialize.py),
# which a gradient called once would otherwise never make.
os.environ.setdefault("ADJOINT_SPECIALIZE_AT", "1")

from . import gen, run, shrink  # noqa: E402
from .report import skeleton, snippet  # noqa: E402


def _validate(case):
    """The program runs eagerly on its inputs, in its dtype and in float64, with small finite outputs."""
    import numpy as np
    try:
        mod = run.load_module(case.source)
    except BaseException:     # noqa: B902
        return False
    try:
        for dt in (case.dtype, "float64"):
            vals = [run.as64(v, k) if dt == "float64" else v for v, k in zip(case.inputs, case.in_kinds)]
            kinds = case.in_kinds if dt != "float64" else [k if k != "np0" else "py" for k in case.in_kinds]
            with run.deadline(5), np.errstate(over="raise", invalid="raise", divide="raise"):
                t = run.Target(mod, case.kind, case.inner if case.order == 2 else case.entry,
                               pdt=np.float64 if dt == "float64" else None)
                out = run.eager(t, vals, kinds)
            if not run.finite_small(out, 1e4):
                return False
        return True
    except BaseException as e:     # noqa: B902
        if isinstance(e, KeyboardInterrupt):
            raise
        return False
    finally:
        run.unload(mod)
        import adjoint
        adjoint.clear_cache()


def make_case(seed, index, order):
    return gen.generate(seed, index, order, validate_fn=_validate)


def work(args):
    seed, index, order = args[:3]
    forward = len(args) > 3 and args[3]
    t0 = time.time()
    try:
        case = make_case(seed, index, order)
    except Exception as e:     # a generator bug: report it, do not stop the run
        return {"index": index, "cls": "skipped", "cause": "generator: %s: %s" % (type(e).__name__, e),
                "time": time.time() - t0, "features": []}
    res = run.run_case(case)
    rec = {"index": index, "cls": res.cls, "cause": res.cause, "time": time.time() - t0,
           "features": case.features, "kind": case.kind, "dtype": case.dtype}
    if res.cls in ("wrong", "crash", "refused"):
        rec["case"] = case
        rec["result"] = res
    if forward and res.cls == "ok":          # forward mode against reverse mode (forward.py)
        from .forward import check_forward
        rec["forward"] = check_forward(case)
    return rec


def group_key(rec):
    res = rec["result"]
    if res.cls == "wrong":
        return ("wrong", res.cause.split(":")[0], res.stage,
                tuple(sorted(f for f in rec["features"] if f in _WRONG_HINTS)))
    return (res.cls, res.cause.split(" [in ")[0])


_WRONG_HINTS = {"swap_in_loop", "overwrite_in_loop", "early_return_in_loop", "tuple_assign", "aug", "break",
                "continue", "while_cond", "while_counter", "for_nested", "list_append", "stop_gradient",
                "subcell", "helper", "for_tuple", "if", "for"}


def shrink_one(args):
    case, res, budget = args
    small, sres = shrink.shrink(case, res, run.run_case, budget_s=budget)
    sres.inputs = small.inputs
    return small, sres


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    ap.add_argument("--order", type=int, default=1, choices=(1, 2))
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first program index")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--show-failures", action="store_true")
    ap.add_argument("--shrink", action="store_true", help="reduce failures (a few per cause)")
    ap.add_argument("--shrink-per-group", type=int, default=2)
    ap.add_argument("--shrink-budget", type=float, default=60.0, help="seconds per failure")
    ap.add_argument("--show-refusals", action="store_true", help="also show (and shrink) refused programs")
    ap.add_argument("--save", help="pickle the failures (cases and results) to this file")
    ap.add_argument("--only", type=int, nargs="*", help="run only these program indices")
    ap.add_argument("--from-saved", help="skip the run: shrink and show the failures saved by --save")
    ap.add_argument("--forward", action="store_true",
                    help="also check forward mode (jvp) against reverse mode on the first-order programs that pass")
    a = ap.parse_args(argv)
    if a.from_saved:
        with open(a.from_saved, "rb") as fh:
            failures = pickle.load(fh)
        if a.only:
            failures = [r for r in failures if r["index"] in set(a.only)]
        if not a.show_refusals:
            failures = [r for r in failures if r["cls"] != "refused"]
        return show(a, failures)

    indices = a.only if a.only else range(a.start, a.start + a.n)
    jobs = [(a.seed, i, a.order, a.forward) for i in indices]
    t0 = time.time()
    recs = []
    if a.jobs > 1:
        with multiprocessing.get_context("fork").Pool(a.jobs, maxtasksperchild=500) as pool:
            for k, rec in enumerate(pool.imap_unordered(work, jobs, chunksize=4)):
                recs.append(rec)
                _progress(k + 1, len(jobs), t0)
    else:
        for k, j in enumerate(jobs):
            recs.append(work(j))
            _progress(k + 1, len(jobs), t0)
    elapsed = time.time() - t0
    sys.stderr.write("\n")
    recs.sort(key=lambda r: r["index"])

    counts = collections.Counter(r["cls"] for r in recs)
    print("adjoint fuzz: order %d, seed %d, programs %d..%d, %.1f s (%.1f ms per program, --jobs %d)"
          % (a.order, a.seed, indices[0], indices[-1], elapsed, 1000 * elapsed / max(1, len(recs)), a.jobs))
    print("counts: " + ", ".join("%s %d" % (c, counts.get(c, 0)) for c in ("ok", "wrong", "crash", "refused",
                                                                           "skipped")))
    for cls in ("wrong", "crash", "refused", "skipped"):
        causes = collections.Counter(r["cause"] for r in recs if r["cls"] == cls)
        if causes:
            print("\n%s by cause:" % cls)
            for cause, n in causes.most_common():
                ex = [r["index"] for r in recs if r["cls"] == cls and r["cause"] == cause][:5]
                print("  %5d  %s   (e.g. %s)" % (n, cause, ", ".join(map(str, ex))))
    fwd = [r["forward"] for r in recs if "forward" in r]
    if fwd:
        fcounts = collections.Counter(c for c, _ in fwd)
        print("\nforward mode (jvp against <grad, v>): " + ", ".join(
            "%s %d" % (c, fcounts.get(c, 0)) for c in ("ok", "wrong", "crash", "refused", "skipped")))
        for c in ("wrong", "crash", "refused"):
            causes = collections.Counter(cause for cls, cause in fwd if cls == c)
            for cause, n in causes.most_common(8):
                ex = [r["index"] for r in recs if r.get("forward") == (c, cause)][:5]
                print("  %s %5d  %s   (e.g. %s)" % (c, n, cause, ", ".join(map(str, ex))))
    feats = collections.Counter(f for r in recs for f in r["features"])
    print("\nfeatures generated (programs using each): " + ", ".join(
        "%s %d" % kv for kv in sorted(feats.items())))
    kinds = collections.Counter((r.get("kind"), r.get("dtype")) for r in recs)
    print("kinds: " + ", ".join("%s/%s %d" % (k[0], k[1], n) for k, n in sorted(kinds.items(), key=str)))

    failures = [r for r in recs if r["cls"] in ("wrong", "crash") or
                (a.show_refusals and r["cls"] == "refused")]
    if a.save:
        with open(a.save, "wb") as fh:
            pickle.dump([{k: v for k, v in r.items()} for r in failures], fh)
    if not (a.show_failures or a.shrink):
        return 1 if any(r["cls"] in ("wrong", "crash") for r in recs) else 0
    show(a, failures)
    return 1 if any(r["cls"] in ("wrong", "crash") for r in recs) else 0


def show(a, failures):
    groups = collections.OrderedDict()
    for r in failures:
        groups.setdefault(group_key(r), []).append(r)
    to_shrink = []
    for key, rs in groups.items():
        for r in rs[:a.shrink_per_group if a.shrink else len(rs)]:
            to_shrink.append(r)
    shrunk = {}
    if a.shrink and to_shrink:
        t1 = time.time()
        work_items = [(r["case"], r["result"], a.shrink_budget) for r in to_shrink]
        if a.jobs > 1:
            with multiprocessing.get_context("fork").Pool(a.jobs, maxtasksperchild=20) as pool:
                outs = pool.map(shrink_one, work_items, chunksize=1)
        else:
            outs = [shrink_one(w) for w in work_items]
        for r, o in zip(to_shrink, outs):
            shrunk[r["index"]] = o
        print("\nshrunk %d failures in %.1f s" % (len(to_shrink), time.time() - t1))
    print("\n" + "=" * 100)
    for key, rs in groups.items():
        print("\n### %s  (%d programs: %s)" % (" / ".join(str(k) for k in key if k), len(rs),
                                                ", ".join(str(r["index"]) for r in rs[:20])))
        for r in (rs[:a.shrink_per_group] if a.shrink else rs):
            case, res = r["case"], r["result"]
            print("\n--- program %d (%s, %s, %s)" % (r["index"], case.kind, case.dtype, res.cause))
            if a.show_failures:
                print(snippet(case, res))
                if res.cls == "crash" and res.message:
                    print("traceback (end):\n" + "\n".join(res.message.rstrip().splitlines()[-8:]))
                if res.adjoint_source:
                    print("generated adjoint:\n" + res.adjoint_source)
            if r["index"] in shrunk:
                small, sres = shrunk[r["index"]]
                print("reduced program (%s):" % sres.cause)
                print(snippet(small, sres))
    if shrunk:
        distinct = collections.OrderedDict()
        for idx, (small, sres) in shrunk.items():
            distinct.setdefault((sres.cls, shrink.signature(sres), skeleton(small.source)), []).append(idx)
        print("\n%d reduced failures, %d distinct reduced programs" % (len(shrunk), len(distinct)))
        if a.save:
            with open(a.save + ".shrunk", "wb") as fh:
                pickle.dump(shrunk, fh)
    return 1 if any(r["cls"] in ("wrong", "crash") for r in failures) else 0


def _progress(k, n, t0):
    if sys.stderr.isatty() or k % 200 == 0 or k == n:
        sys.stderr.write("\r%d/%d  %.0f s" % (k, n, time.time() - t0))
        sys.stderr.flush()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
