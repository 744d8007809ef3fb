"""Gradients on Dask arrays: built lazily (nothing is computed while the gradient is built),
computed on a real cluster (a LocalCluster of two worker processes), equal to NumPy's.

Needs the ``dask`` extra (``pip install -e '.[test,dask]'``); skipped without it.
"""
import pickle
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import adjoint  # noqa: E402
import adjoint.nn as nn  # noqa: E402
import adjoint.ops as ops  # noqa: E402
from adjoint import ParameterTuple, Tensor  # noqa: E402
from adjoint.errors import ArgumentError, GradRuntimeError  # noqa: E402
from programs import control  # noqa: E402
from dask.callbacks import Callback  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # (port and resource warnings of a busy CI box)
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
        c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


class _Computes(Callback):
    """Counts the graphs a local scheduler runs (each compute, persist or np.asarray)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


def lazily(build):
    """Run ``build()`` with Dask's synchronous scheduler (even when a Client is the default)
    and assert that it computed nothing: no graph ran, no NumPy conversion happened."""
    counter = _Computes()
    with dask.config.set(scheduler="synchronous"), counter, warnings.catch_warnings():
        warnings.simplefilter("error")           # Dask warns when it falls back to NumPy
        out = build()
    assert counter.count == 0, "%d compute(s) while the gradient was built" % counter.count
    return out


def on_cluster(client, *arrays):
    """Compute on the cluster (the worker processes), as a user would."""
    return client.gather(client.compute(list(arrays)))


def graph_bytes(*arrays):
    return sum(len(pickle.dumps(dict(a.__dask_graph__()))) for a in arrays)


def dask_data(n, f, chunk, dtype=np.float64, seed=0):
    """Data made by the graph itself (so the graph is tiny), and the same data in NumPy."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, f), chunks=(chunk, f)).astype(dtype)
    y = (rng.random(n, chunks=chunk) > 0.5).astype(dtype)
    Xn, yn = dask.compute(X, y, scheduler="synchronous")
    return X, y, Xn, yn


def logistic(w, b, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_logistic_regression_stays_lazy_and_matches_numpy(client):
    X, y, Xn, yn = dask_data(40_000, 8, 10_000)
    w, b = np.linspace(-0.5, 0.5, 8), 0.1
    grad = adjoint.grad(logistic, (0, 1))
    dw, db = lazily(lambda: grad(w, b, X, y))
    assert isinstance(dw, da.Array) and isinstance(db, da.Array)
    assert dw.dtype == np.float64 and dw.shape == (8,)
    # the mean's seed is made by the graph, chunked like the data, not shipped as an N-long array
    assert graph_bytes(dw, db) < 200_000 < Xn.shape[0] * 8
    dw_c, db_c = on_cluster(client, dw, db)
    dw_n, db_n = grad(w, b, Xn, yn)
    np.testing.assert_allclose(dw_c, dw_n, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db_c, db_n, rtol=1e-12)
    p = 1.0 / (1.0 + np.exp(-(Xn @ w + b)))
    np.testing.assert_allclose(dw_c, Xn.T @ (p - yn) / len(yn), rtol=1e-10)


def test_value_and_gradient_of_a_float32_weight_keep_their_dtype_lazily(client):
    X, y, Xn, yn = dask_data(5_000, 4, 1_000)
    w = np.ones(4, np.float32)
    out, dw = lazily(lambda: adjoint.value_and_grad(logistic, 0)(w, 0.0, X, y))
    assert isinstance(out, da.Array) and dw.dtype == np.float32      # the input's dtype
    out_c, dw_c = on_cluster(client, out, dw)
    out_n, dw_n = adjoint.value_and_grad(logistic, 0)(w, 0.0, Xn, yn)
    np.testing.assert_allclose(out_c, out_n, rtol=1e-12)
    np.testing.assert_allclose(dw_c, dw_n, rtol=1e-6)


class MLP(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Dense(16, 32, activation="relu")
        self.fc2 = nn.Dense(32, 10)

    def construct(self, x):
        return self.fc2(self.fc1(x))


LOSSES = {
    "softmax_ce": lambda: nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"),
    "cross_entropy": lambda: nn.CrossEntropyLoss(),
    "weighted_ce": lambda: nn.CrossEntropyLoss(weight=Tensor(np.linspace(0.5, 1.5, 10), np.float32),
                                               ignore_index=3, label_smoothing=0.1),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_mlp_cell_with_softmax_cross_entropy(client, loss):
    X, _, Xn, _ = dask_data(6_000, 16, 1_500, dtype=np.float32)
    labels = (da.random.default_rng(1).integers(0, 10, 6_000, chunks=1_500)).astype(np.int32)
    labels_n = labels.compute(scheduler="synchronous")
    net = nn.WithLossCell(MLP(), LOSSES[loss]())
    params = ParameterTuple(net.trainable_params())
    grad = ops.GradOperation(get_by_list=True)(net, params)
    grads = lazily(lambda: grad(X, labels))
    assert len(grads) == 4 and all(isinstance(g, da.Array) for g in grads)
    assert all(g.dtype == np.float32 and g.shape == p.shape for g, p in zip(grads, params))
    got = on_cluster(client, *grads)
    want = grad(Tensor(Xn), Tensor(labels_n))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.asnumpy(), rtol=2e-4, atol=1e-6)



def test_rnn_loop_accumulates_out_of_place(client):
    xs = da.random.default_rng(2).standard_normal((7, 4_000, 5), chunks=(7, 1_000, 5))
    xs_n = xs.compute(scheduler="synchronous")
    net = control.RNN()
    grad = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    dwh, dwx = lazily(lambda: grad(xs))
    assert isinstance(dwh, da.Array) and isinstance(dwx, da.Array)
    got = on_cluster(client, dwh, dwx)
    want = grad(Tensor(xs_n))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.asnumpy(), rtol=1e-10)
    # NumPy arguments: accumulated in place (`dW += ...`); Dask ones: `dW = dW + ...`
    numpy_src = grad.compiled(Tensor(xs_n)).source
    dask_src = grad.compiled(xs).source
    assert "+=" in numpy_src and "+=" not in dask_src


XS_GLOBAL = da.random.default_rng(5).standard_normal((4, 300, 5), chunks=(4, 100, 5))


def rnn_on_a_global(wh, wx):
    h = np.zeros_like(XS_GLOBAL[0] @ wx)
    for t in range(XS_GLOBAL.shape[0]):          # (a run-time bound: the loop stays a loop)
        h = np.tanh(h @ wh + XS_GLOBAL[t] @ wx)
    return np.sum(h * h)


def test_loop_over_a_dask_global_with_numpy_arguments():
    """A Dask array read from a global is an input read at every call, like an ndarray; the
    loop's accumulators are not updated in place."""
    rng = np.random.default_rng(6)
    wh, wx = rng.standard_normal((6, 6)) * 0.3, rng.standard_normal((5, 6)) * 0.3
    grad = adjoint.grad(rnn_on_a_global, (0, 1))
    dwh, dwx = lazily(lambda: grad(wh, wx))
    assert "for t in range" in grad.source and "+=" not in grad.source
    xs = XS_GLOBAL.compute(scheduler="synchronous")
    h = np.zeros((300, 6))
    hs = [h]
    for t in range(4):
        hs.append(np.tanh(hs[-1] @ wh + xs[t] @ wx))
    dh, want_wh, want_wx = 2 * hs[-1], 0, 0
    for t in reversed(range(4)):
        dz = dh * (1 - hs[t + 1] ** 2)
        want_wh, want_wx, dh = want_wh + hs[t].T @ dz, want_wx + xs[t].T @ dz, dz @ wh.T
    np.testing.assert_allclose(dwh.compute(scheduler="synchronous"), want_wh, rtol=1e-10)
    np.testing.assert_allclose(dwx.compute(scheduler="synchronous"), want_wx, rtol=1e-10)


def gnn_loss(W, X, src, dst, target):
    H = np.tanh(X @ W)
    score = np.sum(H[src] * H[dst], axis=1)
    return np.mean((score - target) ** 2)


@pytest.mark.parametrize("dask_index", [False, True])
def test_gather_gradient_scatters_per_block(client, dask_index):
    X, target, Xn, target_n = dask_data(3_000, 6, 1_000)
    rng = np.random.default_rng(3)
    src_n, dst_n = rng.integers(0, 3_000, 3_000), rng.integers(-3_000, 3_000, 3_000)   # repeats, negatives
    src = da.from_array(src_n, chunks=1_000) if dask_index else src_n
    dst = da.from_array(dst_n, chunks=1_000) if dask_index else dst_n
    W = np.linspace(-1, 1, 24).reshape(6, 4)
    grad = adjoint.grad(gnn_loss, (0, 1))
    dW, dX = lazily(lambda: grad(W, X, src, dst, target))
    assert isinstance(dW, da.Array) and isinstance(dX, da.Array)
    assert dX.chunks == X.chunks
    got = on_cluster(client, dW, dX)
    want = grad(W, Xn, src_n, dst_n, target_n)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-14)


class Embed(nn.Cell):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 4)

    def construct(self, ids):
        return ops.sum(self.emb(ids) ** 2)


def test_embedding_of_dask_ids():
    """A NumPy table indexed by Dask ids: the forward lookup is NumPy's own indexing, which
    computes the ids (once: generated code writes `table[ids]`, which no helper intercepts);
    the gradient's scatter-add is a Dask graph."""
    ids_n = np.random.default_rng(4).integers(0, 50, 1_000)
    ids = da.from_array(ids_n, chunks=250)
    net = Embed()
    grad = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    counter = _Computes()
    with dask.config.set(scheduler="synchronous"), counter:
        d, = grad(ids)
    assert counter.count == 1 and isinstance(d, da.Array)
    want, = grad(Tensor(ids_n.astype(np.int32)))
    np.testing.assert_allclose(d.compute(scheduler="synchronous"), want.asnumpy(), rtol=1e-6)


def helpers_loss(w, X):
    z = X @ w
    a = np.maximum(z, 0.0) + ops.relu(z) + np.minimum(z, 0.5)
    s = ops.softmax(z, -1) + ops.log_softmax(z, -1)
    return np.max(a) + np.sum(s * s) + np.sum(np.max(z, axis=1)) + np.sum(z.astype(np.float32))


def test_helpers_do_not_compute(client):
    X, _, Xn, _ = dask_data(2_000, 4, 500)
    w = np.linspace(-1, 1, 12).reshape(4, 3)
    dw = lazily(lambda: adjoint.grad(helpers_loss)(w, X))
    got, = on_cluster(client, dw)
    np.testing.assert_allclose(got, adjoint.grad(helpers_loss)(w, Xn), rtol=1e-10)


def test_sens_param_takes_a_dask_array():
    X, _, Xn, _ = dask_data(1_000, 3, 250)

    def project(w, X):
        return np.tanh(X @ w)
    grad = ops.GradOperation(sens_param=True)(project)
    sens = da.ones(1_000, chunks=250) * 0.5
    dw = lazily(lambda: grad(np.ones(3), X, sens))
    np.testing.assert_allclose(dw.compute(scheduler="synchronous"),
                               grad(np.ones(3), Xn, np.full(1_000, 0.5)), rtol=1e-12)


def stack_concat(x):
    s = np.stack([np.sin(x), x * x])
    c = np.concatenate([x, np.cos(x)])
    return np.sum(s[1] * s[0]) + np.sum(c * c)


def second_order(x):
    return np.sum(adjoint.grad(stack_concat)(x) * x)


def test_second_order_through_stack_and_concatenate():
    """The second derivative puts slices back into zeros (put_along, concat_part_grad): padded."""
    xn = np.linspace(-1, 1, 8)
    x = da.from_array(xn, chunks=4)
    grad = adjoint.grad(second_order)
    d2 = lazily(lambda: grad(x))
    assert "put_along" in grad.source and "concat_part_grad" in grad.source
    np.testing.assert_allclose(d2.compute(scheduler="synchronous"), grad(xn), rtol=1e-12)


def test_gradient_with_respect_to_the_dask_array_itself():
    X, _, Xn, _ = dask_data(1_000, 3, 250, dtype=np.float32)
    def f(X, w):
        return np.sum(np.sin(X) * w)
    dX = lazily(lambda: adjoint.grad(f)(X, np.ones(3)))
    assert isinstance(dX, da.Array) and dX.dtype == np.float32 and dX.chunks == X.chunks
    np.testing.assert_allclose(dX.compute(scheduler="synchronous"), np.cos(Xn), rtol=1e-6)


def test_unknown_chunk_sizes_are_a_clear_error():
    X, y, _, _ = dask_data(1_000, 3, 250)
    kept = X[X[:, 0] > 0]                        # rows selected by a mask: chunk sizes unknown
    def mean_projection(w, X):
        return np.mean(X @ w)
    with pytest.raises(ArgumentError, match="unknown sizes.*compute_chunk_sizes"):
        adjoint.grad(mean_projection)(np.ones(3), kept)

    def filtered(w, X):
        return np.mean(X[X[:, 0] > 0] @ w)
    with pytest.raises(GradRuntimeError, match="unknown sizes"):
        adjoint.grad(filtered)(np.ones(3), X)
    kept.compute_chunk_sizes()
    dw = adjoint.grad(mean_projection)(np.ones(3), kept)
    np.testing.assert_allclose(dw.compute(scheduler="synchronous"),
                               kept.mean(axis=0).compute(scheduler="synchronous"))


def test_tensor_of_a_dask_array_warns_that_it_computes():
    X = da.ones((4, 2), chunks=2)
    with pytest.warns(UserWarning, match="computes"):
        t = Tensor(X)
    assert isinstance(t.asnumpy(), np.ndarray) and t.asnumpy().dtype == np.float64   # as an ndarray


def test_the_example_runs(tmp_path):
    """examples/dask_logistic.py, small: it trains, and its first gradient is NumPy's."""
    import os
    import re
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, os.path.join(root, "examples", "dask_logistic.py"), "--rows", "60000",
                          "--chunk-rows", "15000", "--steps", "3", "--dtype", "float64", "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    losses = [float(v) for v in re.findall(r"loss (\d\.\d+)", run.stdout)]
    assert len(losses) == 3 and losses[-1] < losses[0] * 0.7
    diff = re.search(r"max relative difference (\S+)", run.stdout)
    assert diff and float(diff.group(1)) < 1e-12
    assert re.search(r"Dask workers +\d+, \d+", run.stdout)
