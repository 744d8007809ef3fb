"""Timing, memory and compile-time measurement shared by the workloads (see README.md).

A workload module (benchmarks/workloads/NAME.py) defines:

    NAME, TITLE, TARGET (max ratio adjoint / hand-written), NOTE
    COMPILE_TARGET_MS (optional: max first-call compile time of the primary adjoint contender)
    make_inputs()            -> dict of inputs (NumPy arrays or Python numbers)
    hand_grad(**inputs)      -> tuple of gradients, written by hand in NumPy
    adjoint_contenders(inp)  -> [Contender(label, gradfn, args, to_numpy), ...]; the first is primary
    peers_for(inp)           -> {name: factory}; factory() -> zero-argument callable returning the
                                gradients as a tuple of NumPy arrays (raises if the library is missing)
"""
import gc
import statistics
import time
import tracemalloc

import numpy as np

try:
    import resource
except ImportError:                 # not on Windows
    resource = None

import adjoint
from adjoint import Tensor


class Contender:
    """An adjoint gradient function called as ``gradfn(*args)``; ``to_numpy`` maps its result
    to a tuple of arrays in the order of ``hand_grad``."""

    def __init__(self, label, gradfn, args, to_numpy=None, note=""):
        self.label, self.gradfn, self.args, self.note = label, gradfn, tuple(args), note
        self.to_numpy = to_numpy or _as_arrays

    def call(self):
        return self.gradfn(*self.args)


def _as_arrays(result):
    if not isinstance(result, tuple):
        result = (result,)
    return tuple(r.asnumpy() if isinstance(r, Tensor) else np.asarray(r) for r in result)


def raw_generated(contender):
    """A zero-argument call of the generated adjoint itself, with no API wrapper around it:
    what ``GradFunction.__call__`` passes to the compiled function (Tensors unwrapped,
    Parameters read from the Cell)."""
    compiled = contender.gradfn.compiled(*contender.args)
    arrays = [a._data if isinstance(a, Tensor) else a for a in contender.args]
    arrays += [o._data if isinstance(o, Tensor) else o for o in compiled.inputs]
    fn = compiled.fn
    return lambda: fn(*arrays)


# -- correctness ----------------------------------------------------------------------------------
def tolerance(ref):
    dt = np.asarray(ref).dtype
    return (2e-4, 1e-5) if dt == np.float32 else (1e-7, 1e-10)


def check_close(got, want, what):
    """Assert two gradient tuples agree (tolerance from the reference's dtype)."""
    assert len(got) == len(want), "%s: %d gradients, expected %d" % (what, len(got), len(want))
    for i, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, "%s: gradient %d has shape %s, expected %s" % (what, i, g.shape, w.shape)
        rtol, atol = tolerance(w)
        scale = max(1.0, float(np.max(np.abs(w)))) if w.size else 1.0
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol * scale,
                                   err_msg="%s: gradient %d differs from the hand-written one" % (what, i))


# -- timing ---------------------------------------------------------------------------------------
def _calibrate(fn, batch_seconds):
    """Calls per batch so that one batch takes about ``batch_seconds``."""
    fn()
    n, elapsed = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= batch_seconds / 4 or n >= 1 << 20:
            break
        n *= 4
    return max(1, int(round(n * batch_seconds / max(elapsed, 1e-9))))


def time_interleaved(fns, rounds, batch_seconds):
    """Per-call times of each of ``fns`` ({name: callable}) over ``rounds`` interleaved rounds.

    Each round runs every contender one batch (in a rotated order, so no contender is always
    first); the garbage collector is off during a batch, as in ``timeit``.
    Returns ({name: [seconds per call, one per round]}, {name: calls per batch},
    {name: minor page faults per call})."""
    names = list(fns)
    batch = {n: _calibrate(fns[n], batch_seconds) for n in names}
    samples = {n: [] for n in names}
    faults = {n: 0 for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            fn, k = fns[n], batch[n]
            gc.collect()
            f0 = _minor_faults()
            gc.disable()
            try:
                t0 = time.perf_counter()
                for _ in range(k):
                    fn()
                dt = time.perf_counter() - t0
            finally:
                gc.enable()
            faults[n] += _minor_faults() - f0
            samples[n].append(dt / k)
    faults_per_call = {n: faults[n] / (rounds * batch[n]) for n in names}
    return samples, batch, faults_per_call


def _minor_faults():
    """Minor page faults of this process so far (fresh memory costs a fault per 4 KiB page)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0


def summarize(samples, baseline):
    """Median, quartiles and the ratio to ``baseline``: the median over rounds of the paired
    per-round ratio (each round's time divided by the baseline's time in the same round)."""
    out = {}
    base = samples[baseline]
    for name, s in samples.items():
        q = statistics.quantiles(s, n=4) if len(s) >= 2 else [s[0]] * 3
        out[name] = {
            "median_us": statistics.median(s) * 1e6,
            "q1_us": q[0] * 1e6,
            "q3_us": q[2] * 1e6,
            "ratio": statistics.median([a / b for a, b in zip(s, base)]),
            "ratio_of_medians": statistics.median(s) / statistics.median(base),
        }
    return out


# -- memory ---------------------------------------------------------------------------------------
def peak_bytes(fn, repeats):
    """Peak memory traced by ``tracemalloc`` during one call (NumPy reports its array buffers to
    it), above what was allocated before the call; the smallest of ``repeats`` calls."""
    fn()                               # warm: nothing compiled or cached lazily during the pass
    best = None
    for _ in range(repeats):
        gc.collect()
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            result = fn()
            peak = tracemalloc.get_traced_memory()[1] - base
            del result
        finally:
            tracemalloc.stop()
        best = peak if best is None else min(best, peak)
    return best


# -- compile time ---------------------------------------------------------------------------------
def compile_times(contender, repeats):
    """Wall time of the first call after ``adjoint.clear_cache()`` (parse, lowering to the IR,
    differentiation, code generation, ``exec`` of the module, plus one execution of the
    gradient), ``repeats`` times, and the compiler's own timing of the compile alone."""
    walls, compiles = [], []
    for _ in range(repeats):
        adjoint.clear_cache()
        gc.collect()
        t0 = time.perf_counter()
        contender.call()
        walls.append(time.perf_counter() - t0)
        info = adjoint.cache_info()["compiled"]
        compiles.append(sum(c["seconds"] for c in info))
    return walls, compiles
