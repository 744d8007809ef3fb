"""Every derivative rule against float64 central finite differences, from one table of specs.

Each spec is (id, function, argument shapes, input domain). The function is compiled through
the whole pipeline (as a plain function differentiated with adjoint.grad), its output is
contracted with fixed random weights to a scalar, and every argument's gradient is compared
with finite differences.
"""
import numpy as np
import pytest

import adjoint
import adjoint.ops as ops
from adjoint import Tensor
from adjoint.compiler import rules as P
from fd import numeric_grad

# Each spec wraps its function in a new closure: compiling again each time is right, and so is
# adjoint's warning that one code keeps recompiling.
pytestmark = pytest.mark.filterwarnings("ignore::adjoint.AdjointWarning")

BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (3,)), ((2, 3, 4), (3, 1))]


# -- the functions under test (each must be a def: adjoint compiles source) ---------------------
def f_add(x, y): return x + y
def f_sub(x, y): return x - y
def f_mul(x, y): return x * y
def f_div(x, y): return x / y
def f_pow(x, y): return x ** y
def f_pow_const(x): return x ** 3
def f_rpow(x): return 2.0 ** x
def f_neg(x): return -x
def f_matmul(x, y): return x @ y
def f_np_matmul(x, y): return np.matmul(x, y)
def f_np_dot(x, y): return np.dot(x, y)
def f_ops_matmul(x, y): return ops.matmul(x, y)
def f_MatMul_ta(x, y): return ops.MatMul(transpose_a=True)(x, y)
def f_MatMul_tb(x, y): return ops.MatMul(transpose_b=True)(x, y)
def f_BatchMatMul(x, y): return ops.BatchMatMul()(x, y)
def f_np_maximum(x, y): return np.maximum(x, y)
def f_np_minimum(x, y): return np.minimum(x, y)
def f_ops_maximum(x, y): return ops.maximum(x, y)
def f_where(x, y): return np.where(x > 0.5, x, y)
def f_select(x, y): return ops.select(x > 0.5, x, y)
def f_exp(x): return np.exp(x)
def f_log(x): return np.log(x)
def f_sin(x): return np.sin(x)
def f_cos(x): return np.cos(x)
def f_tan(x): return np.tan(x)
def f_tanh(x): return np.tanh(x)
def f_sqrt(x): return np.sqrt(x)
def f_square(x): return np.square(x)
def f_abs(x): return np.abs(x)
def f_builtin_abs(x): return abs(x)
def f_ops_exp(x): return ops.exp(x)
def f_ops_log(x): return ops.log(x)
def f_ops_sin(x): return ops.sin(x)
def f_ops_cos(x): return ops.cos(x)
def f_ops_tan(x): return ops.tan(x)
def f_ops_tanh(x): return ops.tanh(x)
def f_ops_sigmoid(x): return ops.sigmoid(x)
def f_ops_relu(x): return ops.relu(x)
def f_ops_sqrt(x): return ops.sqrt(x)
def f_ops_square(x): return ops.square(x)
def f_ops_abs(x): return ops.abs(x)
def f_ops_pow(x, y): return ops.pow(x, y)
def f_Exp(x): return ops.Exp()(x)
def f_Mul(x, y): return ops.Mul()(x, y)
def f_Sigmoid(x): return ops.Sigmoid()(x)
def f_ReLU(x): return ops.ReLU()(x)
def f_sum(x): return np.sum(x)
def f_sum_axis(x): return np.sum(x, axis=1)
def f_sum_keep(x): return np.sum(x, axis=(0, 2), keepdims=True)
def f_mean(x): return np.mean(x, axis=0)
def f_max(x): return np.max(x, axis=1)
def f_min(x): return np.min(x)
def f_ops_sum(x): return ops.sum(x, 1)
def f_ops_mean(x): return ops.mean(x, axis=1, keep_dims=True)
def f_ReduceSum(x): return ops.ReduceSum(keep_dims=True)(x, 1)
def f_ReduceSum_all(x): return ops.ReduceSum()(x)
def f_ReduceMean(x): return ops.ReduceMean()(x, (0, 1))
def f_method_sum(x): return x.sum(axis=0)
def f_method_mean(x): return x.mean()
def f_reshape(x): return np.reshape(x, (4, 3)) * np.arange(12.0).reshape(4, 3)
def f_method_reshape(x): return x.reshape(2, 6)
def f_method_reshape_tuple(x): return x.reshape((6, -1))
def f_ops_reshape(x): return ops.reshape(x, (12,))
def f_transpose(x): return np.transpose(x, (2, 0, 1))
def f_T(x): return x.T
def f_method_transpose(x): return x.transpose(1, 0)
def f_ops_transpose(x): return ops.transpose(x, (1, 0))
def f_expand_dims(x): return ops.expand_dims(x, 1)
def f_np_expand_dims(x): return np.expand_dims(x, 0)
def f_squeeze(x): return ops.squeeze(x)
def f_method_squeeze(x): return x.squeeze(1)
def f_concat(x, y): return ops.concat((x, y), axis=0)
def f_np_concatenate(x, y): return np.concatenate([x, y], axis=1)
def f_stack(x, y): return ops.stack((x, y), axis=1)
def f_np_stack(x, y): return np.stack([x, y])
def f_index(x): return x[1]
def f_slice(x): return x[:, 1:3]
def f_slice_step(x): return x[::2, -1]
def f_fancy(x): return x[np.array([0, 2, 2])]
def f_fancy_2d(x): return x[np.array([0, 1, 2]), np.array([3, 0, 3])]
def f_newaxis(x): return x[None, :, 0]
def f_softmax(x): return ops.softmax(x, axis=-1)
def f_log_softmax(x): return ops.log_softmax(x, axis=1)
def f_Softmax(x): return ops.Softmax(axis=0)(x)
def f_sigmoid_method(x): return x.sigmoid()
def f_broadcast_to(x): return np.broadcast_to(x, (2, 3, 4))
def f_chain(x, y): return np.tanh(np.exp(-x * x) * np.sin(x) + x ** 3 / (1 + y * y))
# convolution, pooling and bias (NCHW); the *_grad primitives are what gradients of gradients use
def f_conv2d(x, w): return ops.conv2d(x, w)
def f_conv2d_same(x, w): return ops.conv2d(x, w, pad_mode="same")
def f_conv2d_pad_stride(x, w): return ops.conv2d(x, w, stride=2, pad_mode="pad", padding=(1, 0, 2, 1))
def f_conv2d_dilation(x, w): return ops.conv2d(x, w, pad_mode="same", dilation=(2, 1))
def f_conv2d_groups(x, w): return ops.conv2d(x, w, pad_mode="same", groups=2)
def f_conv2d_bias(x, w, b): return ops.conv2d(x, w, b, stride=(2, 1), pad_mode="same")
def f_conv2d_grad_input(g, w): return P.conv2d_grad_input(g, (2, 4, 5, 5), w, (1, 1), "same")
def f_conv2d_grad_input_stride(g, w): return P.conv2d_grad_input(g, (2, 4, 5, 5), w, (2, 2), (1, 1, 1, 1))
def f_conv2d_grad_weight(g, x): return P.conv2d_grad_weight(g, x, (3, 4, 3, 3), (1, 1), "same")
def f_conv2d_grad_weight_groups(g, x): return P.conv2d_grad_weight(g, x, (4, 2, 2, 3), (2, 1), "same", (1, 1), 2)
def f_max_pool2d(x): return ops.max_pool2d(x, 2)
def f_max_pool2d_overlap(x): return ops.max_pool2d(x, 3, stride=1, padding=1)
def f_max_pool2d_ceil(x): return ops.max_pool2d(x, 2, ceil_mode=True)
def f_max_pool2d_same(x): return P.max_pool2d(x, (3, 3), (2, 2), "same")
def f_avg_pool2d(x): return ops.avg_pool2d(x, 2, 2)
def f_avg_pool2d_pad(x): return ops.avg_pool2d(x, 3, 1, padding=1, count_include_pad=False)
def f_avg_pool2d_pad_included(x): return ops.avg_pool2d(x, 3, 2, padding=1)
def f_avg_pool2d_same(x): return P.avg_pool2d(x, (3, 3), (2, 2), "same")
def f_avg_pool2d_ceil(x): return ops.avg_pool2d(x, 2, 2, ceil_mode=True)
def f_avg_pool2d_grad(g): return P.avg_pool2d_grad(g, (2, 3, 5, 5), (3, 3), (2, 2), "same")
def f_bias_add(x, b): return ops.bias_add(x, b)
def f_bias_add_2d(x, b): return ops.bias_add(x, b)
def f_bias_add_grad(g): return P.bias_add_grad(g)
def f_bias_broadcast(d): return P.bias_broadcast(d, (2, 3, 4, 5))
def f_softplus(x): return ops.softplus(x)
def f_softplus_beta(x): return ops.softplus(x, beta=2)


POOL_X = np.random.default_rng(7).permutation(2 * 3 * 4 * 4).reshape(2, 3, 4, 4) / 10.0
POOL_OUT = P.max_pool2d(POOL_X, (2, 2), (2, 2))
def f_max_pool2d_grad(g): return P.max_pool2d_grad(g, POOL_X, POOL_OUT, (2, 2), (2, 2))
def f_max_pool2d_pick(g): return P.max_pool2d_pick(g, POOL_X, POOL_OUT, (2, 2), (2, 2))


def positive(shape, rng): return rng.uniform(0.5, 2.0, size=shape)
def anywhere(shape, rng): return rng.uniform(-2.0, 2.0, size=shape)
def unit(shape, rng): return rng.uniform(0.05, 0.95, size=shape)
def distinct(shape, rng):  # no ties, so max/min/abs/relu are smooth at the sample
    n = int(np.prod(shape)) if shape else 1
    return (rng.permutation(n).reshape(shape) + 1.0) * (rng.choice([-1, 1], size=shape)) / n


SPECS = []
for _a, _b in BROADCAST_PAIRS:
    for _f in (f_add, f_sub, f_mul, f_np_maximum, f_np_minimum, f_where):
        SPECS.append((f"{_f.__name__}{_a}{_b}", _f, [_a, _b], distinct))
    SPECS.append((f"f_div{_a}{_b}", f_div, [_a, _b], positive))
    SPECS.append((f"f_pow{_a}{_b}", f_pow, [_a, _b], positive))
SPECS += [
    ("pow_const", f_pow_const, [(3, 4)], anywhere),
    ("rpow", f_rpow, [(3,)], anywhere),
    ("neg", f_neg, [(3,)], anywhere),
    ("ops_maximum", f_ops_maximum, [(3,), (3,)], distinct),
    ("select", f_select, [(2, 3), (2, 3)], unit),
    ("ops_pow", f_ops_pow, [(3,), (3,)], positive),
    ("Mul", f_Mul, [(2, 3), (3,)], anywhere),
]
for _shapes in [[(3, 4), (4, 5)], [(4,), (4, 5)], [(3, 4), (4,)], [(4,), (4,)], [(2, 3, 4), (4, 5)],
                [(2, 3, 4), (2, 4, 5)], [(3, 4), (2, 4, 5)]]:
    SPECS.append((f"matmul{_shapes}", f_matmul, _shapes, anywhere))
SPECS += [
    ("np_matmul", f_np_matmul, [(3, 4), (4, 2)], anywhere),
    ("np_dot", f_np_dot, [(3, 4), (4, 2)], anywhere),
    ("ops_matmul", f_ops_matmul, [(3, 4), (4, 2)], anywhere),
    ("MatMul_ta", f_MatMul_ta, [(4, 3), (4, 2)], anywhere),
    ("MatMul_tb", f_MatMul_tb, [(3, 4), (2, 4)], anywhere),
    ("BatchMatMul", f_BatchMatMul, [(2, 3, 4), (2, 4, 2)], anywhere),
]
for _f, _dom in [(f_exp, anywhere), (f_log, positive), (f_sin, anywhere), (f_cos, anywhere),
                 (f_tan, unit), (f_tanh, anywhere), (f_sqrt, positive), (f_square, anywhere),
                 (f_abs, distinct), (f_builtin_abs, distinct), (f_ops_exp, anywhere),
                 (f_ops_log, positive), (f_ops_sin, anywhere), (f_ops_cos, anywhere),
                 (f_ops_tan, unit), (f_ops_tanh, anywhere), (f_ops_sigmoid, anywhere),
                 (f_ops_relu, distinct), (f_ops_sqrt, positive), (f_ops_square, anywhere),
                 (f_ops_abs, distinct), (f_Exp, anywhere), (f_Sigmoid, anywhere), (f_ReLU, distinct),
                 (f_sigmoid_method, anywhere)]:
    SPECS.append((_f.__name__[2:], _f, [(2, 3)], _dom))
    SPECS.append((_f.__name__[2:] + "_scalar", _f, [()], _dom))
SPECS += [
    ("sum", f_sum, [(2, 3)], anywhere),
    ("sum_axis", f_sum_axis, [(2, 3)], anywhere),
    ("sum_keep", f_sum_keep, [(2, 3, 4)], anywhere),
    ("mean", f_mean, [(2, 3)], anywhere),
    ("max", f_max, [(2, 3)], distinct),
    ("min", f_min, [(2, 3)], distinct),
    ("ops_sum", f_ops_sum, [(2, 3)], anywhere),
    ("ops_mean", f_ops_mean, [(2, 3)], anywhere),
    ("ReduceSum", f_ReduceSum, [(2, 3)], anywhere),
    ("ReduceSum_all", f_ReduceSum_all, [(2, 3)], anywhere),
    ("ReduceMean", f_ReduceMean, [(2, 3, 2)], anywhere),
    ("method_sum", f_method_sum, [(2, 3)], anywhere),
    ("method_mean", f_method_mean, [(2, 3)], anywhere),
    ("reshape", f_reshape, [(3, 4)], anywhere),
    ("method_reshape", f_method_reshape, [(3, 4)], anywhere),
    ("method_reshape_tuple", f_method_reshape_tuple, [(3, 4)], anywhere),
    ("ops_reshape", f_ops_reshape, [(3, 4)], anywhere),
    ("transpose", f_transpose, [(2, 3, 4)], anywhere),
    ("T", f_T, [(2, 3)], anywhere),
    ("method_transpose", f_method_transpose, [(2, 3)], anywhere),
    ("ops_transpose", f_ops_transpose, [(2, 3)], anywhere),
    ("expand_dims", f_expand_dims, [(2, 3)], anywhere),
    ("np_expand_dims", f_np_expand_dims, [(2, 3)], anywhere),
    ("squeeze", f_squeeze, [(2, 1, 3)], anywhere),
    ("method_squeeze", f_method_squeeze, [(2, 1, 3)], anywhere),
    ("concat", f_concat, [(2, 3), (1, 3)], anywhere),
    ("np_concatenate", f_np_concatenate, [(2, 3), (2, 1)], anywhere),
    ("stack", f_stack, [(2, 3), (2, 3)], anywhere),
    ("np_stack", f_np_stack, [(3,), (3,)], anywhere),
    ("index", f_index, [(3, 4)], anywhere),
    ("slice", f_slice, [(3, 4)], anywhere),
    ("slice_step", f_slice_step, [(3, 4)], anywhere),
    ("fancy", f_fancy, [(3, 4)], anywhere),
    ("fancy_2d", f_fancy_2d, [(3, 4)], anywhere),
    ("newaxis", f_newaxis, [(3, 4)], anywhere),
    ("softmax", f_softmax, [(2, 5)], anywhere),
    ("log_softmax", f_log_softmax, [(2, 5)], anywhere),
    ("Softmax", f_Softmax, [(3, 2)], anywhere),
    ("broadcast_to", f_broadcast_to, [(3, 1)], anywhere),
    ("chain", f_chain, [(5,), (5,)], anywhere),
    ("conv2d", f_conv2d, [(2, 3, 5, 6), (4, 3, 3, 2)], anywhere),
    ("conv2d_same", f_conv2d_same, [(2, 3, 5, 5), (4, 3, 3, 3)], anywhere),
    ("conv2d_pad_stride", f_conv2d_pad_stride, [(2, 3, 5, 6), (2, 3, 3, 3)], anywhere),
    ("conv2d_dilation", f_conv2d_dilation, [(1, 2, 6, 5), (3, 2, 2, 3)], anywhere),
    ("conv2d_groups", f_conv2d_groups, [(2, 4, 4, 4), (6, 2, 3, 3)], anywhere),
    ("conv2d_bias", f_conv2d_bias, [(2, 3, 5, 4), (4, 3, 3, 3), (4,)], anywhere),
    ("conv2d_grad_input", f_conv2d_grad_input, [(2, 3, 5, 5), (3, 4, 3, 3)], anywhere),
    ("conv2d_grad_input_stride", f_conv2d_grad_input_stride, [(2, 3, 3, 3), (3, 4, 3, 3)], anywhere),
    ("conv2d_grad_weight", f_conv2d_grad_weight, [(2, 3, 5, 5), (2, 4, 5, 5)], anywhere),
    ("conv2d_grad_weight_groups", f_conv2d_grad_weight_groups, [(2, 4, 3, 5), (2, 4, 5, 5)], anywhere),
    ("max_pool2d", f_max_pool2d, [(2, 3, 4, 6)], distinct),
    ("max_pool2d_overlap", f_max_pool2d_overlap, [(2, 2, 5, 5)], distinct),
    ("max_pool2d_ceil", f_max_pool2d_ceil, [(1, 2, 5, 5)], distinct),
    ("max_pool2d_same", f_max_pool2d_same, [(1, 2, 5, 6)], distinct),
    ("max_pool2d_grad", f_max_pool2d_grad, [(2, 3, 2, 2)], anywhere),
    ("max_pool2d_pick", f_max_pool2d_pick, [(2, 3, 4, 4)], anywhere),
    ("avg_pool2d", f_avg_pool2d, [(2, 3, 4, 6)], anywhere),
    ("avg_pool2d_pad", f_avg_pool2d_pad, [(2, 2, 5, 5)], anywhere),
    ("avg_pool2d_pad_included", f_avg_pool2d_pad_included, [(2, 2, 5, 5)], anywhere),
    ("avg_pool2d_same", f_avg_pool2d_same, [(1, 2, 5, 6)], anywhere),
    ("avg_pool2d_ceil", f_avg_pool2d_ceil, [(1, 2, 5, 5)], anywhere),
    ("avg_pool2d_grad", f_avg_pool2d_grad, [(2, 3, 3, 3)], anywhere),
    ("bias_add", f_bias_add, [(2, 3, 4, 5), (3,)], anywhere),
    ("bias_add_2d", f_bias_add_2d, [(4, 3), (3,)], anywhere),
    ("bias_add_grad", f_bias_add_grad, [(2, 3, 4, 5)], anywhere),
    ("bias_broadcast", f_bias_broadcast, [(3,)], anywhere),
    ("softplus", f_softplus, [(3, 4)], anywhere),
    ("softplus_beta", f_softplus_beta, [(3, 4)], anywhere),
]


# -- issue 12: the wider set of NumPy functions, ops, Primitive classes and Tensor methods ------------
import math  # noqa: E402


def f_log1p(x): return np.log1p(x)
def f_expm1(x): return np.expm1(x)
def f_exp2(x): return np.exp2(x)
def f_log2(x): return np.log2(x)
def f_log10(x): return np.log10(x)
def f_arcsin(x): return np.arcsin(x)
def f_arccos(x): return np.arccos(x)
def f_arctan(x): return np.arctan(x)
def f_sinh(x): return np.sinh(x)
def f_cosh(x): return np.cosh(x)
def f_arcsinh(x): return np.arcsinh(x)
def f_arccosh(x): return np.arccosh(x)
def f_arctanh(x): return np.arctanh(x)
def f_reciprocal(x): return np.reciprocal(x)
def f_erf(x): return ops.erf(x)
def f_erfc(x): return ops.erfc(x)
def f_math(x): return math.sin(x) * math.exp(x) + math.erf(x) + math.atan2(x, 2.0) + math.log(x, 3.0) + math.pow(x, 1.5)
def f_arctan2(y, x): return np.arctan2(y, x)
def f_logaddexp(x, y): return np.logaddexp(x, y)
def f_logaddexp2(x, y): return np.logaddexp2(x, y)
def f_clip_lo(x, lo): return np.clip(x, lo, 0.6)
def f_clip_both(x, lo, hi): return np.clip(x, lo, hi)
def f_clip(x): return np.clip(x, -0.5, 0.5)
def f_clip_max(x): return np.clip(x, None, 0.2)
def f_clamp(x): return ops.clamp(x, -0.5, 0.5)
def f_clip_by_value(x): return ops.clip_by_value(x, -0.5, 0.5)
def f_method_clip(x): return x.clip(-0.5, 0.5)
def f_gelu(x): return ops.gelu(x)
def f_gelu_tanh(x): return ops.gelu(x, approximate="tanh")
def f_softplus_threshold(x): return ops.softplus(x * 12.0, beta=2, threshold=10)
def f_prod(x): return np.prod(x, axis=1)
def f_prod_all(x): return np.prod(x)
def f_prod_keep(x): return np.prod(x, axis=(0, 2), keepdims=True)
def f_ReduceProd(x): return ops.ReduceProd(keep_dims=True)(x, 0)
def f_prod_others(x): return P.prod_others_p(x, 1)
def f_prod_others_grad(g, x): return P.prod_others_grad_p(g, x, 1)
def f_cumsum(x): return np.cumsum(x, axis=1)
def f_cumsum_flat(x): return np.cumsum(x)
def f_CumSum(x): return ops.CumSum(exclusive=True, reverse=True)(x, 0)
def f_var(x): return np.var(x, axis=0)
def f_std(x): return np.std(x, axis=1, ddof=1, keepdims=True)
def f_logsumexp(x): return ops.logsumexp(x, 1)
def f_logsumexp_all(x): return ops.logsumexp(x, None, True)
def f_norm(x): return np.linalg.norm(x)
def f_norm_axis(x): return np.linalg.norm(x, axis=1)
def f_norm_1(x): return np.linalg.norm(x, 1, axis=0)
def f_norm_3(x): return np.linalg.norm(x, 3, axis=1, keepdims=True)
def f_norm_inf(x): return np.linalg.norm(x, np.inf, axis=1)
def f_norm_matrix_1(x): return np.linalg.norm(x, 1, axis=(0, 1))
def f_norm_matrix_inf(x): return np.linalg.norm(x, np.inf, axis=(1, 0))
def f_ops_norm(x): return ops.norm(x, -np.inf)
def f_inv(x): return np.linalg.inv(x)
def f_det(x): return np.linalg.det(x)
def f_solve(a, b): return np.linalg.solve(a, b)
def f_solve_vector(a, b): return np.linalg.solve(a, b)
def f_einsum_matmul(x, y): return np.einsum("ij,jk->ik", x, y)
def f_einsum_implicit(x, y): return np.einsum("ij,kj", x, y)
def f_einsum_diag(x): return np.einsum("ii->i", x)
def f_einsum_trace(x): return np.einsum("ii", x)
def f_einsum_outer_sum(x, y): return np.einsum("i,j->", x, y)
def f_einsum_ellipsis(x, y): return np.einsum("...ij,...jk->...ik", x, y)
def f_einsum_three(x, y, z): return ops.einsum("ij,jk,k->i", x, y, z)
def f_einsum_grad(g, y): return P.einsum_grad_p(g, 0, "ij,jk->ik", np.ones((2, 3)), y)
def f_einsum_grad_diag(g): return P.einsum_grad_p(g, 0, "ii->i", np.ones((3, 3)))
def f_trace(x): return np.trace(x)
def f_trace_offset(x): return np.trace(x, 1, 1, 2)
def f_diag(x): return np.diag(x, -1)
def f_diag_vector(x): return np.diag(x, 1)
def f_diag_grad(g): return P.diag_grad_p(g, (3, 4), 1)
def f_diagonal(x): return np.diagonal(x, -1, 2, 0)
def f_diagonal_grad(g): return P.diagonal_grad_p(g, (2, 3, 4), 1, 1, 2)
def f_ops_diag(x): return ops.diag(x)
def f_outer(x, y): return np.outer(x, y)
def f_flip(x): return np.flip(x, 1)
def f_flip_all(x): return np.flip(x)
def f_roll(x): return np.roll(x, -1, 0)
def f_roll_flat(x): return np.roll(x, 5)
def f_tril(x): return np.tril(x, 1)
def f_triu(x): return np.triu(x)
def f_moveaxis(x): return np.moveaxis(x, (0, 1), (2, 0))
def f_tile(x): return np.tile(x, (2, 1, 3))
def f_tile_int(x): return np.tile(x, 2)
def f_tile_grad(g): return P.tile_grad_p(g, (3,), (2, 2))
def f_repeat(x): return np.repeat(x, 3, axis=0)
def f_repeat_counts(x): return np.repeat(x, [2, 0, 1, 3], axis=1)
def f_repeat_flat(x): return np.repeat(x, 2)
def f_repeat_grad(g): return P.repeat_grad_p(g, (2, 3), 2, 1)
def f_pad(x): return np.pad(x, ((1, 2), (0, 1)))
def f_pad_value(x, c): return np.pad(x, 1, constant_values=c)
def f_pad_reflect(x): return np.pad(x, 2, mode="reflect")
def f_pad_edge(x): return np.pad(x, ((0, 2), (1, 1)), mode="edge")
def f_pad_wrap(x): return np.pad(x, 1, mode="wrap")
def f_pad_symmetric(x): return np.pad(x, ((2, 1), (0, 0)), mode="symmetric")
def f_pad_grad(g): return P.pad_grad_p(g, (2, 3), ((1, 1), (2, 0)), "reflect")
def f_ops_pad(x): return ops.pad(x, (1, 2), mode="replicate")
def f_hstack(x, y): return np.hstack([x, y])
def f_hstack_vectors(x, y): return np.hstack((x, y))
def f_vstack(x, y): return np.vstack([x, y])
def f_atleast_2d(x): return np.atleast_2d(x)
def f_ravel(x): return np.ravel(x)
def f_fliplr(x): return np.fliplr(x)
def f_split(x): return np.split(x, 3, axis=1)[1] * np.split(x, [1], axis=0)[1][:, :2].sum()
def f_ops_split(x): return ops.split(x, (1, 3), 1)[1]
def f_Split(x): return ops.Split(0, 2)(x)[1]
def f_take(x): return np.take(x, np.array([0, 2, 2]), axis=1)
def f_take_flat(x): return np.take(x, np.array([[5, 1], [1, 0]]))
def f_take_along_axis(x): return np.take_along_axis(x, np.array([[0, 3], [2, 2], [1, 0]]), 1)
def f_take_along_axis_grad(g): return P.take_along_axis_grad_p(g, (3, 4), np.array([[0, 3], [2, 2], [1, 0]]), 1)
def f_gather_elements(x): return ops.gather_elements(x, 0, np.array([[0, 1, 2, 0], [2, 2, 1, 1]]))
def f_sort(x): return np.sort(x, axis=0)
def f_sort_flat(x): return np.sort(x, axis=None)
def f_ops_sort(x): return ops.sort(x, descending=True)[0]
def f_one_hot(on, off): return ops.one_hot(np.array([1, 0, 3]), 4, on, off, axis=0)
def f_method_prod(x): return x.prod(axis=1, keepdims=True)
def f_method_cumsum(x): return x.cumsum(0)
def f_method_ravel(x): return x.ravel()
def f_method_dot(x, y): return x.dot(y)


def above_one(shape, rng): return rng.uniform(1.2, 3.0, size=shape)
def well_conditioned(shape, rng):  # square matrices near 2 I; other shapes anywhere
    square = len(shape) >= 2 and shape[-1] == shape[-2]
    return rng.uniform(-0.5, 0.5, size=shape) + (2.0 * np.eye(shape[-1]) if square else 0.0)


for _a, _b in BROADCAST_PAIRS:
    for _f in (f_arctan2, f_logaddexp, f_logaddexp2):
        SPECS.append((f"{_f.__name__}{_a}{_b}", _f, [_a, _b], anywhere))
    SPECS.append((f"f_clip_lo{_a}{_b}", f_clip_lo, [_a, _b], distinct))
SPECS.append(("clip_both", f_clip_both, [(3, 4), (4,), (3, 1)], distinct))
for _f, _dom in [(f_log1p, positive), (f_expm1, anywhere), (f_exp2, anywhere), (f_log2, positive),
                 (f_log10, positive), (f_arcsin, unit), (f_arccos, unit), (f_arctan, anywhere),
                 (f_sinh, anywhere), (f_cosh, anywhere), (f_arcsinh, anywhere), (f_arccosh, above_one),
                 (f_arctanh, unit), (f_reciprocal, positive), (f_erf, anywhere), (f_erfc, anywhere),
                 (f_clip, anywhere), (f_clip_max, anywhere), (f_clamp, anywhere), (f_clip_by_value, anywhere),
                 (f_method_clip, anywhere), (f_gelu, anywhere), (f_gelu_tanh, anywhere),
                 (f_softplus_threshold, anywhere), (f_method_ravel, anywhere)]:
    SPECS.append((_f.__name__[2:], _f, [(2, 3)], _dom))
    SPECS.append((_f.__name__[2:] + "_scalar", _f, [()], _dom))
NEW_SPECS = [
    ("math", f_math, [()], positive),
    ("prod", f_prod, [(3, 4)], anywhere),
    ("prod_all", f_prod_all, [(2, 3)], anywhere),
    ("prod_keep", f_prod_keep, [(2, 3, 2)], anywhere),
    ("ReduceProd", f_ReduceProd, [(3, 2)], anywhere),
    ("method_prod", f_method_prod, [(2, 3)], anywhere),
    ("prod_others", f_prod_others, [(2, 4)], anywhere),
    ("prod_others_grad", f_prod_others_grad, [(2, 4), (2, 4)], anywhere),
    ("cumsum", f_cumsum, [(2, 4)], anywhere),
    ("cumsum_flat", f_cumsum_flat, [(2, 3)], anywhere),
    ("CumSum", f_CumSum, [(3, 2)], anywhere),
    ("method_cumsum", f_method_cumsum, [(3, 2)], anywhere),
    ("var", f_var, [(3, 4)], anywhere),
    ("std", f_std, [(3, 4)], anywhere),
    ("logsumexp", f_logsumexp, [(3, 4)], anywhere),
    ("logsumexp_all", f_logsumexp_all, [(3, 4)], anywhere),
    ("norm", f_norm, [(3, 4)], anywhere),
    ("norm_axis", f_norm_axis, [(3, 4)], anywhere),
    ("norm_1", f_norm_1, [(3, 4)], distinct),
    ("norm_3", f_norm_3, [(3, 4)], distinct),
    ("norm_inf", f_norm_inf, [(3, 4)], distinct),
    ("norm_matrix_1", f_norm_matrix_1, [(3, 4)], distinct),
    ("norm_matrix_inf", f_norm_matrix_inf, [(3, 4)], distinct),
    ("ops_norm", f_ops_norm, [(5,)], distinct),
    ("inv", f_inv, [(3, 3)], well_conditioned),
    ("inv_batched", f_inv, [(2, 3, 3)], well_conditioned),
    ("det", f_det, [(3, 3)], well_conditioned),
    ("det_batched", f_det, [(2, 2, 2)], well_conditioned),
    ("solve", f_solve, [(3, 3), (3, 2)], well_conditioned),
    ("solve_vector", f_solve_vector, [(3, 3), (3,)], well_conditioned),
    ("einsum_matmul", f_einsum_matmul, [(2, 3), (3, 4)], anywhere),
    ("einsum_implicit", f_einsum_implicit, [(2, 3), (4, 3)], anywhere),
    ("einsum_diag", f_einsum_diag, [(3, 3)], anywhere),
    ("einsum_trace", f_einsum_trace, [(3, 3)], anywhere),
    ("einsum_outer_sum", f_einsum_outer_sum, [(2,), (3,)], anywhere),
    ("einsum_ellipsis", f_einsum_ellipsis, [(1, 2, 3), (4, 3, 2)], anywhere),
    ("einsum_three", f_einsum_three, [(2, 3), (3, 4), (4,)], anywhere),
    ("einsum_grad", f_einsum_grad, [(2, 4), (3, 4)], anywhere),
    ("einsum_grad_diag", f_einsum_grad_diag, [(3,)], anywhere),
    ("trace", f_trace, [(3, 4)], anywhere),
    ("trace_offset", f_trace_offset, [(2, 3, 4)], anywhere),
    ("diag", f_diag, [(4, 3)], anywhere),
    ("diag_vector", f_diag_vector, [(3,)], anywhere),
    ("diag_grad", f_diag_grad, [(3,)], anywhere),
    ("diagonal", f_diagonal, [(3, 2, 4)], anywhere),
    ("diagonal_grad", f_diagonal_grad, [(2, 3)], anywhere),
    ("ops_diag", f_ops_diag, [(2, 2)], anywhere),
    ("outer", f_outer, [(3,), (2, 2)], anywhere),
    ("flip", f_flip, [(2, 3)], anywhere),
    ("flip_all", f_flip_all, [(2, 3)], anywhere),
    ("roll", f_roll, [(3, 2)], anywhere),
    ("roll_flat", f_roll_flat, [(3, 2)], anywhere),
    ("tril", f_tril, [(3, 4)], anywhere),
    ("triu", f_triu, [(2, 3, 3)], anywhere),
    ("moveaxis", f_moveaxis, [(2, 3, 4)], anywhere),
    ("tile", f_tile, [(2, 3)], anywhere),
    ("tile_int", f_tile_int, [(2, 3)], anywhere),
    ("tile_grad", f_tile_grad, [(2, 6)], anywhere),
    ("repeat", f_repeat, [(2, 3)], anywhere),
    ("repeat_counts", f_repeat_counts, [(2, 4)], anywhere),
    ("repeat_flat", f_repeat_flat, [(2, 3)], anywhere),
    ("repeat_grad", f_repeat_grad, [(2, 6)], anywhere),
    ("pad", f_pad, [(2, 3)], anywhere),
    ("pad_value", f_pad_value, [(2, 3), ()], anywhere),
    ("pad_reflect", f_pad_reflect, [(3, 4)], anywhere),
    ("pad_edge", f_pad_edge, [(2, 3)], anywhere),
    ("pad_wrap", f_pad_wrap, [(2, 3)], anywhere),
    ("pad_symmetric", f_pad_symmetric, [(3, 2)], anywhere),
    ("pad_grad", f_pad_grad, [(4, 5)], anywhere),
    ("ops_pad", f_ops_pad, [(2, 3)], anywhere),
    ("hstack", f_hstack, [(2, 3), (2, 1)], anywhere),
    ("hstack_vectors", f_hstack_vectors, [(3,), (2,)], anywhere),
    ("vstack", f_vstack, [(2, 3), (3,)], anywhere),
    ("atleast_2d", f_atleast_2d, [(3,)], anywhere),
    ("ravel", f_ravel, [(2, 3)], anywhere),
    ("fliplr", f_fliplr, [(2, 3)], anywhere),
    ("split", f_split, [(2, 6)], anywhere),
    ("ops_split", f_ops_split, [(2, 5)], anywhere),
    ("Split", f_Split, [(4, 2)], anywhere),
    ("take", f_take, [(2, 4)], anywhere),
    ("take_flat", f_take_flat, [(2, 3)], anywhere),
    ("take_along_axis", f_take_along_axis, [(3, 4)], anywhere),
    ("take_along_axis_grad", f_take_along_axis_grad, [(3, 2)], anywhere),
    ("gather_elements", f_gather_elements, [(3, 4)], anywhere),
    ("sort", f_sort, [(3, 2)], distinct),
    ("sort_flat", f_sort_flat, [(2, 3)], distinct),
    ("ops_sort", f_ops_sort, [(2, 4)], distinct),
    ("one_hot", f_one_hot, [(), ()], anywhere),
    ("method_dot", f_method_dot, [(2, 3), (3, 2)], anywhere),
]
SPECS += NEW_SPECS
NEW_SPEC_IDS = {s[0] for s in NEW_SPECS} | {
    s[0] for s in SPECS if s[1] in (f_arctan2, f_logaddexp, f_logaddexp2, f_clip_lo, f_clip_both, f_log1p,
                                    f_expm1, f_exp2, f_log2, f_log10, f_arcsin, f_arccos, f_arctan, f_sinh,
                                    f_cosh, f_arcsinh, f_arccosh, f_arctanh, f_reciprocal, f_erf, f_erfc,
                                    f_clip, f_clip_max, f_clamp, f_clip_by_value, f_method_clip, f_gelu,
                                    f_gelu_tanh, f_softplus_threshold, f_method_ravel)}


def weighted(fn, weight):
    """A scalar function of fn's output: every output element gets its own random weight."""
    def loss(*args):
        return np.sum(fn(*args) * weight)
    return loss


def on_tensors(fn):
    """Run ``fn`` eagerly on Tensors (some specs use Tensor-only methods such as x.sigmoid())."""
    def run(*args):
        out = fn(*[Tensor(np.asarray(a)) for a in args])
        return out.asnumpy() if isinstance(out, Tensor) else out
    return run


def _inputs(shapes, domain, seed=0):
    rng = np.random.default_rng(seed)
    return [domain(s, rng) for s in shapes]


@pytest.mark.parametrize("name,fn,shapes,domain", SPECS, ids=[s[0] for s in SPECS])
def test_rule_matches_finite_differences(name, fn, shapes, domain):
    args = _inputs(shapes, domain)
    out_shape = np.shape(on_tensors(fn)(*args))
    weight = np.random.default_rng(1).uniform(0.5, 1.5, size=out_shape)
    loss = weighted(fn, weight)
    grads = adjoint.grad(loss, grad_position=tuple(range(len(args))))(*args)
    if len(args) == 1:
        grads = (grads,)
    for i, g in enumerate(grads):
        assert np.shape(g) == np.shape(args[i])
        np.testing.assert_allclose(g, numeric_grad(on_tensors(loss), args, i), rtol=1e-5, atol=1e-6,
                                   err_msg="gradient of argument %d" % i)


@pytest.mark.parametrize("name,fn,shapes,domain", SPECS[::3], ids=[s[0] for s in SPECS[::3]])
def test_rule_in_float32_keeps_dtype_and_value(name, fn, shapes, domain):
    args64 = _inputs(shapes, domain)
    args32 = [np.asarray(a, np.float32) for a in args64]
    out_shape = np.shape(on_tensors(fn)(*args64))
    weight = np.random.default_rng(1).uniform(0.5, 1.5, size=out_shape).astype(np.float32)
    loss = weighted(fn, weight)
    positions = tuple(range(len(args64)))
    g64 = adjoint.grad(loss, positions)(*args64)
    g32 = adjoint.grad(loss, positions)(*[Tensor(a) for a in args32])
    if len(args64) == 1:
        g64, g32 = (g64,), (g32,)
    for a, b in zip(g64, g32):
        assert b.dtype == adjoint.float32
        np.testing.assert_allclose(b.asnumpy(), a, rtol=2e-3, atol=2e-3)


NEW = [s for s in SPECS if s[0] in NEW_SPEC_IDS]


@pytest.mark.parametrize("name,fn,shapes,domain", NEW, ids=[s[0] for s in NEW])
def test_new_rules_in_float32_stay_float32(name, fn, shapes, domain, monkeypatch):
    """Every rule of issue 12 in float32, with ADJOINT_CHECK=1: no float64 array appears."""
    monkeypatch.setenv("ADJOINT_CHECK", "1")
    test_rule_in_float32_keeps_dtype_and_value(name, fn, shapes, domain)


def test_every_spec_function_runs_eagerly_on_tensors():
    # The same functions run without differentiation on Tensors and agree with NumPy.
    for name, fn, shapes, domain in SPECS:
        args = _inputs(shapes, domain)
        if name.startswith("sigmoid_method"):
            continue
        expected = fn(*args)
        got = fn(*[Tensor(a) for a in args])
        np.testing.assert_allclose(np.asarray(got.asnumpy() if isinstance(got, Tensor) else got),
                                   expected, rtol=1e-12, err_msg=name)


def test_the_callables_without_a_rule_are_computable():
    from adjoint.compiler.prims import undifferentiable_callables
    missing = undifferentiable_callables(np)
    for covered in ("exp", "sin", "tanh", "sum", "mean", "matmul", "dot", "where", "maximum", "reshape",
                    "transpose", "concatenate", "stack", "expand_dims", "squeeze", "sqrt", "square",
                    "clip", "cumsum", "sort", "einsum", "prod", "var", "std", "trace", "tile", "pad"):
        assert covered not in missing
    for uncovered in ("cumprod", "linspace", "histogram"):
        assert uncovered in missing
    assert "exp" not in undifferentiable_callables(ops)
