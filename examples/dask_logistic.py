"""Logistic regression on a data set larger than the cluster's memory: adjoint's gradients on
Dask arrays read from chunked .npy files, computed on a LocalCluster of worker processes.

    pip install -e '.[dask]'
    python examples/dask_logistic.py                          # 8e6 x 32 float32 (977 MiB), 2 x 300 MiB workers
    python examples/dask_logistic.py --rows 400000 --steps 3  # a quick run

The gradient function is the one adjoint generates for NumPy; called on Dask arrays it builds
a task graph (nothing is computed, nothing is loaded), and ``client.compute`` runs it on the
workers, each holding a few chunks at a time. At the end the script loads the whole data set
into one process with NumPy, takes the same first gradient there, and compares numbers and
peak memory (resident set sizes: the driver's and each worker's VmHWM from /proc, and the
NumPy process's ru_maxrss).
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import adjoint
import adjoint.ops as ops

MiB = 2 ** 20


def loss(w, b, X, y):
    z = X @ w + b
    return np.mean(ops.softplus(z) - y * z)      # the logistic loss, without overflow


# -- the data: chunked .npy files, written one chunk at a time ----------------------------------
def write_data(folder, rows, features, chunk_rows, dtype, seed=0):
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(features) / np.sqrt(features) * 3
    for i, start in enumerate(range(0, rows, chunk_rows)):
        n = min(chunk_rows, rows - start)
        X = rng.standard_normal((n, features), dtype=dtype)
        noisy = X @ w_true + rng.standard_normal(n)
        np.save(os.path.join(folder, "X_%04d.npy" % i), X)
        np.save(os.path.join(folder, "y_%04d.npy" % i), (noisy > 0).astype(dtype))


def chunk_files(folder):
    return sorted(glob.glob(os.path.join(folder, "X_*.npy"))), sorted(glob.glob(os.path.join(folder, "y_*.npy")))


def lazy_data(folder):
    """X and y as Dask arrays with one chunk per file (nothing is read until computed)."""
    import dask
    import dask.array as da
    xs, ys = chunk_files(folder)
    X, y = [], []
    for fx, fy in zip(xs, ys):
        header = np.load(fx, mmap_mode="r")          # (reads the header only)
        X.append(da.from_delayed(dask.delayed(np.load)(fx), header.shape, header.dtype))
        y.append(da.from_delayed(dask.delayed(np.load)(fy), header.shape[:1], header.dtype))
    return da.concatenate(X), da.concatenate(y)


# -- peak memory ------------------------------------------------------------------------------
def peak_rss():
    """This process's peak resident set size (VmHWM) and current one (VmRSS), in bytes."""
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmHWM", "VmRSS")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def reset_peak_rss():
    """Start VmHWM again from the current RSS (Linux: clear_refs), so the driver's peak is the
    training's, not the data writing's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def numpy_baseline(folder):
    """In this process: the whole data set in memory (read chunk by chunk into one array, as
    a careful NumPy user would), one value-and-gradient with NumPy."""
    xs, ys = chunk_files(folder)
    shapes = [np.load(f, mmap_mode="r").shape for f in xs]
    dtype = np.load(xs[0], mmap_mode="r").dtype
    X = np.empty((sum(n for n, _ in shapes), shapes[0][1]), dtype)
    y = np.empty(X.shape[0], dtype)
    start = 0
    for fx, fy, (n, _) in zip(xs, ys, shapes):
        X[start:start + n] = np.load(fx)
        y[start:start + n] = np.load(fy)
        start += n
    loaded = peak_rss()
    t0 = time.perf_counter()
    value, (dw, db) = adjoint.value_and_grad(loss, (0, 1))(np.zeros(X.shape[1], dtype), 0.0, X, y)
    seconds = time.perf_counter() - t0
    print(json.dumps({"loss": float(value), "dw": dw.tolist(), "db": float(db), "seconds": seconds,
                      "loaded": loaded["VmHWM"], "peak": peak_rss()["VmHWM"]}))


# -- training on the cluster ------------------------------------------------------------------
def train(folder, args):
    import dask
    from distributed import Client, LocalCluster

    reset_peak_rss()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           memory_limit=args.memory_limit, dashboard_address=None)
    client = Client(cluster)
    start_rss = client.run(peak_rss)
    X, y = lazy_data(folder)
    grad = adjoint.value_and_grad(loss, (0, 1))
    w, b = np.zeros(X.shape[1], X.dtype), 0.0    # X's dtype: no float64 copies of float32 chunks
    first = None
    for step in range(args.steps):
        t0 = time.perf_counter()
        with dask.config.set(scheduler="synchronous"):   # (so that an accidental compute would run here, visibly slow)
            value, (dw, db) = grad(w, b, X, y)          # lazy: a task graph, nothing computed
        built = time.perf_counter() - t0
        value, dw, db = client.gather(client.compute([value, dw, db]))
        if first is None:
            first = (float(value), dw.copy(), float(db))
        w, b = w - args.lr * dw, b - args.lr * db
        print("step %2d  loss %.5f  |grad| %.2e  (graph built in %.0f ms, computed in %.2f s)"
              % (step, value, np.sqrt(np.sum(dw ** 2) + db ** 2), built * 1e3, time.perf_counter() - t0 - built))
    accuracy = client.compute(np.mean(((X @ w + b) > 0) == (y > 0.5))).result()
    peaks = client.run(peak_rss)
    driver = peak_rss()["VmHWM"]
    client.close()
    cluster.close()
    return first, accuracy, start_rss, peaks, driver


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=8_000_000)
    p.add_argument("--features", type=int, default=32)
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--chunk-rows", type=int, default=250_000)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--lr", type=float, default=4.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="300MiB", help="per worker (Dask pauses, then restarts, a worker over it)")
    p.add_argument("--dir", help="where to write the chunk files (default: a temporary directory, removed)")
    p.add_argument("--numpy-baseline", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.numpy_baseline:
        return numpy_baseline(args.numpy_baseline)

    folder = args.dir or tempfile.mkdtemp(prefix="adjoint-dask-")
    os.makedirs(folder, exist_ok=True)
    try:
        t0 = time.perf_counter()
        write_data(folder, args.rows, args.features, args.chunk_rows, np.dtype(args.dtype))
        data_bytes = sum(os.path.getsize(f) for group in chunk_files(folder) for f in group)
        n_files = len(chunk_files(folder)[0])
        print("data: X %d x %d %s and y, %.0f MiB in %d pairs of .npy files (written in %.1f s)"
              % (args.rows, args.features, args.dtype, data_bytes / MiB, n_files, time.perf_counter() - t0))
        import dask.utils
        budget = args.workers * dask.utils.parse_bytes(args.memory_limit)
        print("cluster: %d worker processes, memory_limit %s each (%.0f MiB in all: %.2fx the data)"
              % (args.workers, args.memory_limit, budget / MiB, budget / data_bytes))

        first, accuracy, start_rss, peaks, driver = train(folder, args)
        print("accuracy after %d steps: %.4f" % (args.steps, accuracy))

        run = subprocess.run([sys.executable, os.path.abspath(__file__), "--numpy-baseline", folder],
                             capture_output=True, text=True, check=True)
        ref = json.loads(run.stdout.strip().splitlines()[-1])
        rel = max(abs(first[0] - ref["loss"]) / abs(ref["loss"]),
                  np.max(np.abs(first[1] - ref["dw"])) / np.max(np.abs(ref["dw"])),
                  abs(first[2] - ref["db"]) / abs(ref["db"]))
        print("first loss and gradient vs NumPy's on the whole data in memory: max relative difference %.1e%s"
              % (rel, " (float32 sums in another order)" if args.dtype == "float32" else ""))

        worker_peaks = [p["VmHWM"] for p in peaks.values()]
        worker_starts = [s["VmRSS"] for s in start_rss.values()]
        largest, together = max(worker_peaks + [driver]), sum(worker_peaks) + driver
        print("peak memory (resident set size, MiB):")
        print("  NumPy, the whole data in one process  %6.0f   (%.0f after loading it; gradient in %.2f s)"
              % (ref["peak"] / MiB, ref["loaded"] / MiB, ref["seconds"]))
        print("  Dask driver, with the scheduler       %6.0f" % (driver / MiB))
        print("  Dask workers                          %6s   (%s at start, before any data)"
              % (", ".join("%.0f" % (v / MiB) for v in worker_peaks),
                 ", ".join("%.0f" % (v / MiB) for v in worker_starts)))
        print("  NumPy / the largest Dask process      %6.1fx" % (ref["peak"] / largest))
        print("  NumPy / all Dask processes together   %6.1fx  (%.0f)" % (ref["peak"] / together, together / MiB))
        if rel > (1e-4 if args.dtype == "float32" else 1e-12):
            raise SystemExit("the Dask gradient differs from NumPy's")
    finally:
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
