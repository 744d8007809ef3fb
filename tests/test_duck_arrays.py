"""The NumPy side of the support for arrays of other libraries (tests/test_dask.py has the Dask
side): it must change nothing for NumPy arrays, Tensors and Parameters. Runs without Dask."""
import numpy as np

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, ParameterTuple, Tensor
from adjoint.compiler.runtime import is_duck_array


class _Duck:
    """The smallest array of 'another library': it has the protocol, NumPy dispatches to it."""

    def __init__(self, a):
        self.a = np.asarray(a)
        self.shape, self.dtype = self.a.shape, self.a.dtype

    def __array_function__(self, func, types, args, kwargs):
        return NotImplemented


def test_what_counts_as_an_array_of_another_library():
    assert is_duck_array(_Duck([1.0]))
    for x in (np.ones(2), np.float64(1.0), 1.0, [1.0], (1, 2), None):
        assert not is_duck_array(x)


class RNN(nn.Cell):
    def __init__(self):
        super().__init__()
        self.wh = Parameter(np.eye(3) * 0.5, name="wh")

    def construct(self, xs):
        h = ops.zeros_like(xs[0])
        for t in range(xs.shape[0]):
            h = ops.tanh(h @ self.wh + xs[t])
        return ops.sum(h)


def test_loop_accumulators_stay_in_place_for_numpy_and_parameters():
    net = RNN()
    grad = ops.GradOperation(get_by_list=True)(net, ParameterTuple(net.trainable_params()))
    assert "dself_wh += " in grad.compiled(Tensor(np.ones((4, 2, 3)))).source
    assert "dself_wh += " in grad.compiled(np.ones((4, 2, 3))).source


def test_gradients_of_numpy_calls_are_still_numpy_and_tensors():
    def f(w, x):
        return np.sum(np.tanh(x @ w))
    dw = adjoint.grad(f)(np.ones(3, np.float32), np.ones((4, 3)))
    assert type(dw) is np.ndarray and dw.dtype == np.float32 and dw.flags.writeable
    dw = adjoint.grad(f)(Tensor(np.ones(3, np.float32)), Tensor(np.ones((4, 3))))
    assert type(dw) is Tensor and dw.asnumpy().dtype == np.float32
    def g(w, x):
        return np.sum(np.tanh(x * w))
    assert type(adjoint.grad(g)(1.5, np.ones(2))) is float


def test_readme_scaling_out_shows_the_examples_output():
    """README's "Scaling out" shows a run of examples/dask_logistic.py in its format: data
    larger than the workers' memory, workers under their limit, NumPy's numbers."""
    import os
    import re
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    section = readme[readme.index("## Scaling out"):]
    section = section[:section.index("\n## ", 3)]
    data = re.search(r"data: X (\d+) x (\d+) float32 and y, (\d+) MiB in (\d+) pairs of .npy files", section)
    budget = re.search(r"cluster: 2 worker processes, memory_limit (\d+)MiB each \((\d+) MiB in all: ([\d.]+)x the data\)",
                       section)
    assert data and budget and int(budget.group(2)) < int(data.group(3))
    assert len(re.findall(r"step +\d+  loss \d\.\d{5}  \|grad\| ", section)) == 8
    workers = re.search(r"Dask workers +(\d+), (\d+) +\((\d+), (\d+) at start", section)
    assert workers and max(int(workers.group(1)), int(workers.group(2))) < int(budget.group(1))
    diff = re.search(r"max relative difference (\S+) \(float32", section)
    assert diff and float(diff.group(1)) < 1e-4
    numpy_peak = int(re.search(r"NumPy, the whole data in one process +(\d+)", section).group(1))
    assert numpy_peak > int(data.group(3))
