"""Central finite differences in float64, the reference every gradient test compares with."""
import numpy as np


def numeric_grad(f, args, i, eps=1e-6):
    """d f(*args) / d args[i] for a scalar-valued f, by central differences."""
    args = [np.array(a, dtype=np.float64, order="C") if isinstance(a, (np.ndarray, list)) else a for a in args]
    if not isinstance(args[i], np.ndarray):
        args[i] = float(args[i])
    x = args[i]
    if np.ndim(x) == 0:
        hi = list(args); hi[i] = float(x) + eps
        lo = list(args); lo[i] = float(x) - eps
        return (float(f(*hi)) - float(f(*lo))) / (2 * eps)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)

    def call():          # fresh copies: a function that changes its arguments in place can't
        return float(f(*[a.copy() if isinstance(a, np.ndarray) else a for a in args]))
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        up = call()
        flat[k] = old - eps
        down = call()
        flat[k] = old
        grad.reshape(-1)[k] = (up - down) / (2 * eps)
    return grad


def assert_close_to_fd(analytic, f, args, i, rtol=1e-5, atol=1e-6):
    expected = numeric_grad(f, args, i)
    np.testing.assert_allclose(np.asarray(analytic, dtype=np.float64), expected, rtol=rtol, atol=atol)
