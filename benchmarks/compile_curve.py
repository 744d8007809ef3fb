"""Compile time against function length: is it linear?

    python benchmarks/compile_curve.py [--sizes 25,50,100,200,400] [--repeat 7] [--text PATH]

Each function has N statements of elementwise NumPy, each reading the two before it
(``a5 = np.tanh(a4 * w) + np.sin(a3) * 0.5``), and returns ``np.sum`` of the last; adjoint
compiles its gradient with respect to x and w. The time is the compiler's own (parse,
lowering, differentiation, passes, code generation, ``exec``), from ``adjoint.cache_info()``,
the smallest of ``--repeat`` compiles after ``adjoint.clear_cache()`` (warm: the compiler's own
code has run before), and the first one in this process (cold)."""
import argparse
import importlib.util
import os
import sys
import tempfile
import time

import numpy as np

import adjoint


def source(n):
    lines = ["import numpy as np", "", "", "def f(x, w):", "    a0 = x", "    a1 = np.cos(x) * w"]
    for k in range(2, n):
        op = ("np.tanh(a%d * w) + np.sin(a%d) * 0.5" if k % 3 == 0 else
              "a%d * a%d - np.exp(-a%d) / 3.0" if k % 3 == 1 else
              "np.sqrt(a%d * a%d + 1.0) + a%d")
        names = (k - 1, k - 2) if k % 3 == 0 else (k - 1, k - 2, k - 1)
        lines.append("    a%d = %s" % (k, op % names))
    lines.append("    return np.sum(a%d)" % (n - 1))
    return "\n".join(lines) + "\n"


def load(n, folder):
    path = os.path.join(folder, "chain_%d.py" % n)
    with open(path, "w") as fh:
        fh.write(source(n))
    spec = importlib.util.spec_from_file_location("chain_%d" % n, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.f


def measure(f, repeat):
    x, w = np.linspace(0.1, 1.0, 8), np.full(8, 0.3)
    times = []
    for _ in range(repeat):
        adjoint.clear_cache()
        adjoint.grad(f, (0, 1))(x, w)
        times.append(adjoint.cache_info()["compiled"][-1]["seconds"])
    return times[0], min(times)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="25,50,100,200,400")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--text", help="also write the table to PATH")
    opts = p.parse_args(argv)
    sizes = [int(s) for s in opts.sizes.split(",")]
    out = ["compile time of the gradient of an N-statement elementwise function (%s)"
           % time.strftime("%Y-%m-%dT%H:%M:%S"),
           "%8s %12s %12s %14s" % ("N", "first ms", "min ms", "min us / stmt")]
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            first, best = measure(load(n, folder), opts.repeat)
            out.append("%8d %12.1f %12.1f %14.0f" % (n, first * 1e3, best * 1e3, best * 1e6 / n))
    text = "\n".join(out)
    print(text)
    if opts.text:
        with open(opts.text, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
