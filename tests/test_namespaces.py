"""Code generated against an array namespace (compiler/namespaces.py): the rule spec table of
tests/test_rules.py and a sample of gradient programs, run on array_api_strict arrays (which
reject every call outside the standard), on torch CPU tensors, on JAX arrays and on CuPy arrays
(with a GPU), each against NumPy's gradient of the same function (itself checked against finite
differences in test_rules.py). Skipped for a library that is not installed (``pip install -e
'.[xp]'`` gets array_api_strict and array_api_compat; torch and JAX are separate installs)."""
import importlib

import numpy as np
import pytest

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import Parameter, ParameterTuple, Tensor
from adjoint.errors import SourceError

import test_rules as R

pytestmark = pytest.mark.filterwarnings("ignore::adjoint.AdjointWarning")


def _library(name):
    try:
        importlib.import_module("array_api_compat")
        if name == "strict":
            return importlib.import_module("array_api_strict")
        if name == "torch":
            return importlib.import_module("torch")
        if name == "jax":
            jax = importlib.import_module("jax")
            jax.config.update("jax_enable_x64", True)
            return importlib.import_module("jax.numpy")
        if name == "cupy":
            cupy = importlib.import_module("cupy")
            cupy.cuda.runtime.getDeviceCount()
            return cupy
    except Exception:
        return None


def _make(name):
    lib = _library(name)
    if lib is None:
        return None
    if name == "torch":
        return lambda a: lib.asarray(np.asarray(a))
    return lambda a: lib.asarray(np.asarray(a))


LIBRARIES = ["strict", "torch", "jax", "cupy"]


@pytest.fixture(params=LIBRARIES)
def make(request):
    fn = _make(request.param)
    if fn is None:
        pytest.skip("%s is not installed (or has no device)" % request.param)
    fn.library = request.param
    return fn


def to_numpy(x):
    if isinstance(x, (np.ndarray, np.generic, float, int)):
        return np.asarray(x)
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    if hasattr(x, "get"):
        return x.get()
    return np.from_dlpack(x)


# what has no namespace form (refused with the user's line) or needs what a library lacks
REFUSED = {"conv", "max_pool", "avg_pool", "bias_", "einsum", "prod", "pad", "ReduceProd", "method_prod",
           "ops_pad"}


def _refused(name):
    return any(name.startswith(r) or name.startswith("f_" + r) for r in REFUSED)


SPECS = [s for s in R.SPECS]


def _compare(fn, args, make, rtol=1e-9, atol=1e-11):
    """adjoint's gradient on namespace arrays == its NumPy gradient, in the same types."""
    positions = tuple(range(len(args)))
    expected = adjoint.grad(fn, positions)(*args)
    got = adjoint.grad(fn, positions)(*[make(a) for a in args])
    if len(args) == 1:
        expected, got = (expected,), (got,)
    for i, (e, g) in enumerate(zip(expected, got)):
        assert not isinstance(g, np.ndarray), "the gradient of a namespace array is one too"
        np.testing.assert_allclose(to_numpy(g), e, rtol=rtol, atol=atol, err_msg="argument %d" % i)


@pytest.mark.parametrize("name,fn,shapes,domain", SPECS, ids=[s[0] for s in SPECS])
def test_rule_table_on_namespace_arrays(name, fn, shapes, domain, make):
    args = R._inputs(shapes, domain)
    out_shape = np.shape(R.on_tensors(fn)(*args))
    weight = np.random.default_rng(1).uniform(0.5, 1.5, size=out_shape)
    loss = R.weighted(fn, weight)
    if _refused(name):
        with pytest.raises((SourceError, adjoint.errors.AdjointError)) as info:
            adjoint.grad(loss, tuple(range(len(args))))(*[make(a) for a in args])
        assert "has no form for" in str(info.value) or "has no derivative rule" in str(info.value)
        return
    _compare(loss, args, make)
