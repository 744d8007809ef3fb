"""The public surface, generated from the API: every function in ``adjoint.ops``, every Primitive
class, every Tensor method and property, and every NumPy and ``math`` function in the rule table
is called eagerly and compiled (the two must agree), and differentiated where it is
differentiable (against float64 finite differences; the ops functions also in float32 with
ADJOINT_CHECK=1: no float64 array appears).

Each name needs a recipe below: a new public name without one fails
``test_every_public_name_has_a_recipe``. (A Tensor method calling a primitive that does not
exist, as ``x.dot(y)`` once did, fails here.)
"""
import importlib.util
import math
import os
import tempfile
import types

import numpy as np
import pytest

import adjoint
import adjoint.ops as ops
from adjoint import Tensor
from adjoint import dtype as mstype
from adjoint.compiler import prims
from adjoint.ops.primitives import Primitive
from fd import numeric_grad

pytestmark = pytest.mark.filterwarnings("ignore::adjoint.AdjointWarning")

_rng = np.random.default_rng(20240611)


def U(*shape, lo=-0.9, hi=0.9):
    return _rng.uniform(lo, hi, size=shape)


def D(*shape):
    """Distinct values away from 0 (no ties: max, abs, sort are smooth there)."""
    n = int(np.prod(shape))
    return ((_rng.permutation(n) + 1.0) * _rng.choice([-1, 1], size=n) / (n + 1)).reshape(shape)


X, Y, Z = U(2, 3), U(2, 3), U(3, 2)
XP, YP = U(2, 3, lo=0.5, hi=2.0), U(2, 3, lo=0.5, hi=2.0)
XB = U(2, 3, lo=1.2, hi=2.0)
XD, YD = D(2, 3), D(2, 3)
V, V2 = U(3), U(4)
M = U(3, 3) + 2 * np.eye(3)
X1 = U(2, 1, 3)
X3 = U(2, 3, 4)
B1, B2 = U(2, 2, 3), U(2, 3, 2)
IMG, IMGD, KER = U(1, 2, 4, 4), D(1, 2, 4, 4), U(3, 2, 2, 2)
COND = np.array([[True, False, True], [False, True, True]])
IDX = np.array([0, 2, 2])
IDXE = np.array([[0, 2], [1, 1]])
LABELS = np.array([0, 2])
ON, OFF = np.array(0.9), np.array(-0.2)
T01 = U(2, 3, lo=0.0, hi=1.0)
C3, C2 = U(3, lo=0.5, hi=1.5), U(2, lo=0.5, hi=1.5)


class R:
    """A call: its arguments (ndarrays and numbers in ``diff`` become arguments of the compiled
    function, the rest are constants), keyword arguments, and the positions to differentiate
    (default: every float array)."""

    def __init__(self, *args, kw=None, diff=None, init=(), init_kw=None, rtol=1e-5, f32=True):
        self.args, self.kw = args, kw or {}
        self.diff = tuple(i for i, a in enumerate(args) if _is_float_array(a)) if diff is None else diff
        self.init, self.init_kw = init, init_kw or {}
        self.rtol, self.f32 = rtol, f32


def _is_float_array(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


NONDIFF = dict(diff=())

OPS = {
    "abs": R(XD), "acos": R(X), "acosh": R(XB), "add": R(X, Y), "amax": R(XD, 1), "amin": R(XD, 1),
    "arange": R(5, **NONDIFF), "arccos": R(X), "arccosh": R(XB), "arcsin": R(X), "arcsinh": R(X),
    "arctan": R(X), "arctan2": R(X, XP), "arctanh": R(X), "argmax": R(XD, 1), "argsort": R(XD),
    "asin": R(X), "asinh": R(X), "assign": R(X.copy(), Y, **NONDIFF), "atan": R(X), "atan2": R(X, XP),
    "atanh": R(X), "avg_pool2d": R(IMG, 2, 2), "batch_norm": R(IMG, C2, C2, C2, C2),
    "bias_add": R(IMG, C2), "binary_cross_entropy_with_logits": R(X, T01), "bmm": R(B1, B2),
    "broadcast_to": R(V, (2, 3)), "cast": R(X, mstype.float64, f32=False), "cat": R((X, Y)), "clamp": R(X, -0.5, 0.5),
    "clip": R(X, -0.5, 0.5), "clip_by_value": R(X, -0.5, 0.5), "concat": R((X, Y), 1),
    "conv2d": R(IMG, KER), "cos": R(X), "cosh": R(X), "cross_entropy": R(Y, LABELS),
    "cumsum": R(X, 1), "depend": R(X, Y, diff=(0,)), "det": R(M), "diag": R(V), "diagonal": R(X),
    "div": R(X, XP), "dot": R(X, Z), "dropout": R(X, 0.0), "einsum": R("ij,jk->ik", X, Z),
    "embedding": R(IDX, U(4, 3)), "erf": R(X), "erfc": R(X), "exp": R(X), "exp2": R(X),
    "expand_dims": R(X, 1), "expm1": R(X), "flatten": R(IMG), "flip": R(X, (1,)),
    "gather": R(X, IDX, 1), "gather_elements": R(X, 1, IDXE), "gelu": R(X), "hstack": R((X, Y)),
    "inverse": R(M), "layer_norm": R(X, (3,), C3, C3), "log": R(XP), "log10": R(XP), "log1p": R(XP),
    "log2": R(XP), "log_softmax": R(X), "logaddexp": R(X, Y), "logaddexp2": R(X, Y),
    "logsumexp": R(X, 1), "matmul": R(X, Z), "matrix_determinant": R(M), "max": R(XD, 1),
    "max_pool2d": R(IMGD, 2), "maximum": R(XD, YD), "mean": R(X, 1), "min": R(XD, 1), "minimum": R(XD, YD),
    "moveaxis": R(X, 0, 1), "movedim": R(X, 0, 1), "mul": R(X, Y), "neg": R(X),
    "nll_loss": R(Y, LABELS), "norm": R(X), "one_hot": R(IDX, 4, ON, OFF), "ones": R((2, 3), **NONDIFF),
    "ones_like": R(X, **NONDIFF), "outer": R(V, V2), "pad": R(X, (1, 2)), "permute": R(X3, (2, 0, 1)),
    "pow": R(XP, Y), "prod": R(X, 1), "rank": R(X, **NONDIFF), "ravel": R(X), "reciprocal": R(XP),
    "relu": R(XD), "repeat_interleave": R(X, 2, 1), "reshape": R(X, (3, 2)), "roll": R(X, 1, 1),
    "rsqrt": R(XP), "select": R(COND, X, Y), "shape": R(X, **NONDIFF), "sigmoid": R(X), "sin": R(X),
    "sinh": R(X), "size": R(X, **NONDIFF), "smooth_l1_loss": R(X, Y), "softmax": R(X), "softplus": R(X),
    "sort": R(XD), "split": R(X, (1, 2), 1), "sqrt": R(XP), "square": R(X), "squeeze": R(X1),
    "stack": R((X, Y)), "std": R(X, 1), "stop_gradient": R(X, **NONDIFF), "sub": R(X, Y), "sum": R(X, 1),
    "swapaxes": R(X, 0, 1), "tan": R(X), "tanh": R(X), "tile": R(X, (2, 1)), "trace": R(M),
    "transpose": R(X, (1, 0)), "tril": R(M), "triu": R(M), "unsqueeze": R(X, 0), "var": R(X, 1),
    "vstack": R((X, V2[:3])), "where": R(COND, X, Y), "zeros": R(3, **NONDIFF), "zeros_like": R(X, **NONDIFF),
}
# The autodiff entry points themselves are tested in test_api.py (forward mode and Jacobians:
# test_forward.py, test_functional.py).
OPS_ELSEWHERE = {"grad", "value_and_grad", "jvp", "vjp", "linearize", "jacfwd", "jacrev"}

PRIMITIVES = {
    "ACos": R(X), "Abs": R(XD), "Acosh": R(XB), "Add": R(X, Y), "Asin": R(X), "Asinh": R(X), "Atan": R(X),
    "Atan2": R(X, XP), "Atanh": R(X), "BatchMatMul": R(B1, B2), "Cast": R(X, mstype.float64),
    "Concat": R((X, Y), init=(1,)), "Cos": R(X), "Cosh": R(X),
    "CumSum": R(X, 1, init_kw={"exclusive": True, "reverse": True}), "Div": R(X, XP),
    "Einsum": R((X, Z), init=("ij,jk->ik",)), "Erf": R(X), "Erfc": R(X), "Exp": R(X), "ExpandDims": R(X, 0),
    "Expm1": R(X), "Gather": R(X, IDX, 1), "GatherD": R(X, 1, IDXE), "GeLU": R(X), "Log": R(XP),
    "Log1p": R(XP), "LogSoftmax": R(X), "MatMul": R(X, Y, init_kw={"transpose_b": True}),
    "MatrixDeterminant": R(M), "MatrixInverse": R(M), "Maximum": R(XD, YD), "Minimum": R(XD, YD),
    "Mul": R(X, Y), "Neg": R(X), "OneHot": R(IDX, 4, ON, OFF), "Ones": R((2, 3), mstype.float32, **NONDIFF),
    "OnesLike": R(X, **NONDIFF), "Pad": R(X, init=(((1, 0), (2, 1)),)), "Pow": R(XP, Y), "ReLU": R(XD),
    "RealDiv": R(X, XP), "Reciprocal": R(XP), "ReduceMax": R(XD, 1, init_kw={"keep_dims": True}),
    "ReduceMean": R(X, 1), "ReduceMin": R(XD), "ReduceProd": R(X, 1, init_kw={"keep_dims": True}),
    "ReduceSum": R(X, (0, 1)), "Reshape": R(X, (3, 2)), "ReverseV2": R(X, init=((0, 1),)), "Rsqrt": R(XP),
    "Select": R(COND, X, Y), "Shape": R(X, **NONDIFF), "Sigmoid": R(X), "Sin": R(X), "Sinh": R(X),
    "Softmax": R(X), "Softplus": R(X), "Sort": R(XD, init_kw={"descending": True}),
    "Split": R(X, init=(1, 3)), "Sqrt": R(XP), "Square": R(X), "Squeeze": R(X1, init=(1,)), "Stack": R((X, Y)),
    "StopGradient": R(X, **NONDIFF), "Sub": R(X, Y), "Tan": R(X), "Tanh": R(X), "Tile": R(X, (1, 2)),
    "Trace": R(M), "Transpose": R(X, (1, 0)), "Tril": R(M, init=(-1,)), "Triu": R(M), "Zeros": R(3, **NONDIFF),
    "ZerosLike": R(X, **NONDIFF),
}

TENSOR = {
    "T": R(X), "mT": R(X3), "shape": R(X, **NONDIFF), "ndim": R(X, **NONDIFF), "size": R(X, **NONDIFF),
    "dtype": R(X, **NONDIFF),
    "abs": R(XD), "acos": R(X), "acosh": R(XB), "add": R(X, Y), "arccos": R(X), "arccosh": R(XB),
    "arcsin": R(X), "arcsinh": R(X), "arctan": R(X), "arctan2": R(X, XP), "arctanh": R(X),
    "argmax": R(XD, 1), "argmin": R(XD), "argsort": R(XD, 0, True), "asin": R(X), "asinh": R(X),
    "astype": R(X, np.float64), "atan": R(X), "atan2": R(X, XP), "atanh": R(X), "clamp": R(X, -0.5, 0.5),
    "clip": R(X, None, 0.5), "copy": R(X), "cos": R(X), "cosh": R(X), "cumsum": R(X, 0), "det": R(M),
    "diagonal": R(X, 1), "div": R(X, XP), "dot": R(X, Z), "erf": R(X), "erfc": R(X), "exp": R(X),
    "expand_dims": R(X, 1), "expm1": R(X), "flatten": R(X), "flip": R(X, (0, 1)), "gather": R(X, IDX, 1),
    "gather_elements": R(X, 1, IDXE), "inverse": R(M), "log": R(XP), "log10": R(XP), "log1p": R(XP),
    "log2": R(XP), "logaddexp": R(X, Y), "logsumexp": R(X, 1), "matmul": R(X, Z), "max": R(XD, 1),
    "maximum": R(XD, YD), "mean": R(X, 0, True), "min": R(XD), "minimum": R(XD, YD), "moveaxis": R(X3, 0, 2),
    "mul": R(X, Y), "neg": R(X), "norm": R(X, 1, 1), "outer": R(V, V2), "permute": R(X, 1, 0),
    "pow": R(XP, 2.5), "prod": R(X, 1), "ravel": R(X), "reciprocal": R(XP), "repeat": R(X, 2, 0),
    "reshape": R(X, 3, 2), "rsqrt": R(XP), "sigmoid": R(X), "sin": R(X), "sinh": R(X), "softmax": R(X, 1),
    "sqrt": R(XP), "square": R(X), "squeeze": R(X1, 1), "std": R(X), "sub": R(X, Y), "sum": R(X, 1),
    "swapaxes": R(X, 0, 1), "take": R(X, IDX, 1), "tan": R(X), "tanh": R(X), "tile": R(X, (2, 2)),
    "trace": R(M), "transpose": R(X), "unsqueeze": R(X, 2), "var": R(X, 0), "view": R(X, (6,)),
}
# Conversions out of the Tensor world: eager only (compiled code works on arrays already).
TENSOR_EAGER_ONLY = {"asnumpy", "numpy", "item"}

NUMPY = {
    "absolute": R(XD), "add": R(X, Y), "amax": R(XD, 0), "amin": R(XD), "arccos": R(X), "arccosh": R(XB),
    "arcsin": R(X), "arcsinh": R(X), "arctan": R(X), "arctan2": R(X, XP), "arctanh": R(X),
    "argmax": R(XD, 1), "argmin": R(XD), "argsort": R(XD, 0), "atleast_1d": R(np.array(0.5)),
    "atleast_2d": R(V), "broadcast_to": R(V, (2, 3)), "clip": R(X, -0.5, 0.5), "concatenate": R((X, Y)),
    "copy": R(X), "cos": R(X), "cosh": R(X), "cumsum": R(X), "diag": R(X, 1), "diagonal": R(X3, 0, 0, 2),
    "divide": R(X, XP), "dot": R(X, Z), "einsum": R("ij,ij->i", X, Y), "equal": R(XD, YD, **NONDIFF),
    "exp": R(X), "exp2": R(X), "expand_dims": R(X, 0), "expm1": R(X), "flip": R(X, 1), "fliplr": R(X),
    "flipud": R(X), "floor": R(XP * 3, **NONDIFF), "floor_divide": R(XP, 0.3, **NONDIFF),
    "greater": R(XD, YD, **NONDIFF), "greater_equal": R(XD, YD, **NONDIFF), "hstack": R((V, V2)), "less": R(XD, YD, **NONDIFF),
    "less_equal": R(XD, YD, **NONDIFF), "log": R(XP), "log10": R(XP), "log1p": R(XP), "log2": R(XP),
    "logaddexp": R(X, Y), "logaddexp2": R(X, Y), "logical_and": R(COND, ~COND, **NONDIFF),
    "logical_not": R(COND), "logical_or": R(COND, ~COND), "matmul": R(X, Z), "max": R(XD),
    "maximum": R(XD, YD), "mean": R(X, 0), "min": R(XD, 1), "minimum": R(XD, YD), "moveaxis": R(X3, -1, 0),
    "multiply": R(X, Y), "ndim": R(X, **NONDIFF), "negative": R(X), "not_equal": R(XD, YD, **NONDIFF),
    "ones_like": R(X, **NONDIFF), "outer": R(V, V2), "pad": R(X, ((1, 0), (0, 2)), "reflect"),
    "power": R(XP, Y), "prod": R(X, 0), "ravel": R(X), "reciprocal": R(XP), "remainder": R(XP, 0.3, **NONDIFF),
    "repeat": R(X, [1, 0, 2], 1), "reshape": R(X, (3, 2)), "roll": R(X, 2), "shape": R(X, **NONDIFF),
    "sign": R(XD, **NONDIFF), "sin": R(X), "sinh": R(X), "size": R(X, **NONDIFF), "sort": R(XD, 0),
    "split": R(X3, 2, 2), "sqrt": R(XP), "square": R(X), "squeeze": R(X1), "stack": R((X, Y), 1),
    "std": R(X, 0), "subtract": R(X, Y), "sum": R(X, 1), "swapaxes": R(X3, 0, 2),
    "take": R(X, IDX), "take_along_axis": R(X, IDXE, 1), "tan": R(X), "tanh": R(X), "tile": R(X, 2),
    "trace": R(X), "transpose": R(X3, (1, 2, 0)), "tril": R(X), "triu": R(X, -1), "var": R(X, None, None, None, 1),
    "vstack": R((X, Y)), "where": R(COND, X, Y), "zeros_like": R(X, **NONDIFF),
    "linalg.det": R(M), "linalg.inv": R(M), "linalg.norm": R(X, np.inf, 1), "linalg.solve": R(M, U(3, 2)),
}

MATH = {
    "acos": R(0.3, diff=(0,)), "acosh": R(1.7, diff=(0,)), "asin": R(0.3, diff=(0,)), "asinh": R(0.3, diff=(0,)),
    "atan": R(0.3, diff=(0,)), "atan2": R(0.3, 0.8, diff=(0, 1)), "atanh": R(0.3, diff=(0,)),
    "cos": R(0.3, diff=(0,)), "cosh": R(0.3, diff=(0,)), "erf": R(0.3, diff=(0,)), "erfc": R(0.3, diff=(0,)),
    "exp": R(0.3, diff=(0,)), "exp2": R(0.3, diff=(0,)), "expm1": R(0.3, diff=(0,)), "fabs": R(-0.3, diff=(0,)),
    "log": R(1.3, 3.0, diff=(0, 1)), "log10": R(1.3, diff=(0,)), "log1p": R(0.3, diff=(0,)),
    "log2": R(1.3, diff=(0,)), "pow": R(1.3, 0.7, diff=(0, 1)), "sin": R(0.3, diff=(0,)),
    "sinh": R(0.3, diff=(0,)), "sqrt": R(1.3, diff=(0,)), "tan": R(0.3, diff=(0,)), "tanh": R(0.3, diff=(0,)),
}


# -- what the public API is ------------------------------------------------------------------------
def public_ops():
    return sorted(n for n in dir(ops) if not n.startswith("_") and isinstance(getattr(ops, n), types.FunctionType))


def public_primitives():
    return sorted(n for n in dir(ops) if isinstance(getattr(ops, n), type)
                  and issubclass(getattr(ops, n), Primitive) and getattr(ops, n) is not Primitive)


def public_tensor_members():
    return sorted(n for n, v in vars(Tensor).items()
                  if not n.startswith("_") and isinstance(v, (types.FunctionType, property)))


def aliased(module_prefix):
    """Names of the ``module_prefix`` callables in the rule table ('linalg.inv' for np.linalg.inv)."""
    out = set()
    for obj, _ in prims.ALIASES.values():
        module = getattr(obj, "__module__", None) or ("numpy" if isinstance(obj, np.ufunc) else "")
        if module == module_prefix or module.startswith(module_prefix + "."):
            sub = module[len(module_prefix) + 1:]
            out.add((sub + "." if sub else "") + obj.__name__)
    return sorted(out)


def test_every_public_name_has_a_recipe():
    missing = {
        "ops": set(public_ops()) - set(OPS) - OPS_ELSEWHERE,
        "Primitive classes": set(public_primitives()) - set(PRIMITIVES),
        "Tensor": set(public_tensor_members()) - set(TENSOR) - TENSOR_EAGER_ONLY,
        "numpy": set(aliased("numpy")) - set(NUMPY),
        "math": set(aliased("math")) - set(MATH),
    }
    assert not any(missing.values()), "public names without a recipe in test_surface.py: %s" % {
        k: sorted(v) for k, v in missing.items() if v}
    stale = set(OPS) - set(public_ops()) | set(PRIMITIVES) - set(public_primitives())
    assert not stale, "recipes for names that are gone: %s" % sorted(stale)


# -- the harness -------------------------------------------------------------------------------------
class Slot:
    """Where argument k of the compiled function goes in a call's arguments."""

    def __init__(self, k):
        self.k = k


def split_args(recipe):
    """(template, arrays): ndarrays and differentiated numbers become Slots."""
    arrays = []

    def walk(a, pos):
        if isinstance(a, np.ndarray) or (pos is not None and pos in recipe.diff):
            arrays.append(a)
            return Slot(len(arrays) - 1)
        if isinstance(a, (tuple, list)) and any(isinstance(v, np.ndarray) for v in a):
            return type(a)(walk(v, None) for v in a)
        return a
    template = [walk(a, i) for i, a in enumerate(recipe.args)]
    positions = []
    for i in recipe.diff:
        positions.append(template[i].k)
    return template, arrays, positions


def fill(template, values):
    """The call's arguments: the template with each Slot replaced by its value."""
    def one(t):
        if isinstance(t, Slot):
            return values[t.k]
        if isinstance(t, (tuple, list)) and any(isinstance(v, Slot) for v in t):
            return type(t)(one(v) for v in t)
        return t
    return [one(t) for t in template]


fill._adjoint_compile_time = True


def as_parts(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


as_parts._adjoint_compile_time = True


def make_harness(target, template, kwargs, weights):
    def harness(anchor, *arrays):
        out = target(*fill(template, arrays), **kwargs)
        total = np.sum(anchor * 0.0)
        for part, weight in zip(as_parts(out), weights):
            if weight is not None:
                total = total + np.sum(part * weight)
        return total, out
    return harness


def numpy_of(value):
    if isinstance(value, Tensor):
        return value.asnumpy()
    if isinstance(value, (tuple, list)):
        return type(value)(numpy_of(v) for v in value)
    return value


def weights_for(out):
    weights = []
    for k, part in enumerate(as_parts(numpy_of(out))):
        is_float = isinstance(part, (np.ndarray, np.floating, float)) and np.asarray(part).dtype.kind == "f"
        weights.append(np.random.default_rng(k).uniform(0.5, 1.5, size=np.shape(part)) if is_float else None)
    return weights


def assert_same(compiled, eager, what):
    compiled, eager = numpy_of(compiled), numpy_of(eager)
    if isinstance(eager, (tuple, list)):
        assert isinstance(compiled, (tuple, list)) and len(compiled) == len(eager), what
        for c, e in zip(compiled, eager):
            assert_same(c, e, what)
        return
    if not isinstance(eager, (np.ndarray, np.generic, int, float)):
        assert compiled == eager, what          # a dtype, a shape
        return
    assert np.shape(compiled) == np.shape(eager), what
    np.testing.assert_allclose(np.asarray(compiled).astype(np.float64), np.asarray(eager).astype(np.float64),
                               rtol=1e-7, atol=1e-12, err_msg=what)


def check(target, recipe, wrap, name):
    """Eager and compiled agree; the gradient matches finite differences."""
    template, arrays, positions = split_args(recipe)
    eager_args = [wrap(a) for a in arrays]
    eager = target(*fill(template, eager_args), **recipe.kw)
    weights = weights_for(eager)
    harness = make_harness(target, template, recipe.kw, weights)
    anchor = np.zeros(())
    grad_positions = (0,) + tuple(1 + p for p in positions)
    (total, compiled), grads = adjoint.value_and_grad(harness, grad_positions, has_aux=True)(
        anchor, *eager_args)
    assert_same(compiled, eager, "%s: compiled and eager results differ" % name)
    grads = grads if len(grad_positions) > 1 else (grads,)

    def loss(*values):                  # (numeric_grad makes every array float64: not indices)
        values = [v if _is_float_array(a) or not isinstance(a, np.ndarray) else a for v, a in zip(values, arrays)]
        return float(harness(anchor, *[wrap(v) for v in values])[0])

    for p, g in zip(positions, grads[1:]):
        expected = numeric_grad(loss, arrays, p)
        np.testing.assert_allclose(np.asarray(numpy_of(g), dtype=np.float64), expected, rtol=recipe.rtol,
                                   atol=1e-6, err_msg="%s: gradient of argument %d" % (name, p))
    return harness, template, arrays, positions


def tensor(a):
    return Tensor(a) if isinstance(a, np.ndarray) else a


def same(a):
    return a


# -- the tests -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_function(name):
    check(getattr(ops, name), OPS[name], tensor, "ops." + name)


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_primitive_class(name):
    recipe = PRIMITIVES[name]
    check(getattr(ops, name)(*recipe.init, **recipe.init_kw), recipe, tensor, "ops.%s()" % name)


def _method_module():
    """One function per Tensor member, each calling it as ``x.name(...)`` / ``x.name``."""
    lines = []
    for name, member in sorted(vars(Tensor).items()):
        if name.startswith("_") or name in TENSOR_EAGER_ONLY:
            continue
        if isinstance(member, property):
            lines.append("def m_%s(x):\n    return x.%s\n" % (name, name))
        elif isinstance(member, types.FunctionType):
            lines.append("def m_%s(x, *args, **kwargs):\n    return x.%s(*args, **kwargs)\n" % (name, name))
    path = os.path.join(tempfile.mkdtemp(prefix="adjoint-surface-"), "tensor_members.py")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    spec = importlib.util.spec_from_file_location("tensor_members", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


METHODS = _method_module()


@pytest.mark.parametrize("name", sorted(TENSOR))
def test_tensor_member(name):
    check(getattr(METHODS, "m_" + name), TENSOR[name], tensor, "Tensor." + name)


# Where NumPy's method takes other positional arguments than MindSpore's (ndarray.view(dtype)
# is not a reshape: no recipe).
NDARRAY = {"argsort": R(XD, 0), "mean": R(X, 0, kw={"keepdims": True}), "view": None,
           "dtype": None}


@pytest.mark.parametrize("name", sorted(TENSOR))
def test_tensor_member_on_ndarrays(name):
    """Compiled, an ndarray has the Tensor's methods (NumPy spellings included)."""
    recipe = NDARRAY.get(name, TENSOR[name])
    if recipe is None or not hasattr(np.ndarray, name):
        pytest.skip("not an ndarray member, or not with the Tensor's meaning")
    check(getattr(METHODS, "m_" + name), recipe, same, "ndarray." + name)


def _numpy_function(name):
    obj = np
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_numpy_function(name):
    check(_numpy_function(name), NUMPY[name], same, "np." + name)


@pytest.mark.parametrize("name", sorted(MATH))
def test_math_function(name):
    check(getattr(math, name), MATH[name], same, "math." + name)


# (The NumPy functions' rules are run in float32 by tests/test_rules.py.)
FLOAT32 = [("ops." + n, getattr(ops, n), OPS[n], tensor) for n in sorted(OPS)]


@pytest.mark.parametrize("name,target,recipe,wrap", [f for f in FLOAT32 if f[2].diff and f[2].f32],
                         ids=[f[0] for f in FLOAT32 if f[2].diff and f[2].f32])
def test_float32_stays_float32(name, target, recipe, wrap, monkeypatch):
    """With ADJOINT_CHECK=1 the generated code checks that no float64 array appears."""
    monkeypatch.setenv("ADJOINT_CHECK", "1")
    template, arrays, positions = split_args(recipe)
    arrays32 = [a.astype(np.float32) if _is_float_array(a) else a for a in arrays]
    eager = target(*fill(template, [wrap(a) for a in arrays32]), **recipe.kw)
    weights = [None if w is None else w.astype(np.float32) for w in weights_for(eager)]
    harness = make_harness(target, template, recipe.kw, weights)
    grads = adjoint.grad(harness, tuple(1 + p for p in positions))(np.zeros((), np.float32),
                                                                  *[wrap(a) for a in arrays32])
    grads = grads if isinstance(grads, tuple) else (grads,)
    for p, g in zip(positions, grads):
        if _is_float_array(arrays[p]):
            assert np.asarray(numpy_of(g)).dtype == np.float32, "%s: gradient %d" % (name, p)
