"""MindSpore's functional neural-network operations: convolution, pooling, dropout,
normalisation, embedding lookup, losses, and ``assign``/``depend``.

Written with primitives like ``functional.py``: they run eagerly on Tensors and the compiler
inlines them (the geometry arguments are constants, resolved while compiling).
"""
import numpy as np

from ..compiler import rules as P

__all__ = ["conv2d", "bias_add", "max_pool2d", "avg_pool2d", "dropout", "layer_norm", "batch_norm",
           "assign", "depend", "gather", "embedding", "one_hot", "flatten", "softplus",
           "cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "smooth_l1_loss"]


def conv2d(input, weight, bias=None, stride=1, pad_mode="valid", padding=0, dilation=1, groups=1):
    """2-D convolution of input (N, C, H, W) with weight (O, C/groups, kh, kw).

    ``pad_mode``: 'valid' (no padding), 'same' (output ceil(H/stride); the odd row of padding
    at the bottom/right) or 'pad' (``padding``: an int, (h, w) or (top, bottom, left, right)).
    """
    out = P.conv2d(input, weight, P.pair(stride), P.padding_arg(pad_mode, padding), P.pair(dilation), groups)
    if P.is_none(bias):
        return out
    return P.bias_add(out, bias)


def bias_add(input_x, bias, data_format="NCHW"):
    """input_x + bias along axis 1."""
    return P.bias_add(input_x, bias)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
    """The maximum of each kernel_size window (stride defaults to kernel_size; padding never wins)."""
    kernel = P.pair(kernel_size)
    return P.max_pool2d(x, kernel, kernel if P.is_none(stride) else P.pair(stride),
                        P.padding_arg("pad", padding), ceil_mode)


def avg_pool2d(input_x, kernel_size=1, stride=1, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=0):
    """The mean of each kernel_size window."""
    return P.avg_pool2d(input_x, P.pair(kernel_size), P.pair(stride), P.padding_arg("pad", padding),
                        ceil_mode, count_include_pad, divisor_override or 0)


def dropout(input, p=0.5, training=True, seed=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) (a fresh mask at
    every call); the input itself when not training or p is 0."""
    if not training or p == 0:
        return input
    return input * P.dropout_mask(input, p)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last len(normalized_shape) axes, then scale and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    axes = tuple(range(-len(normalized_shape), 0))
    mean = P.mean(input, axes, True)
    centred = input - mean
    var = P.mean(centred * centred, axes, True)
    out = centred / P.sqrt(var + eps)
    if not P.is_none(weight):
        out = out * weight
    if not P.is_none(bias):
        out = out + bias
    return out


def _batch_norm(x, moving_mean, moving_variance, gamma, beta, training, keep, eps):
    """BatchNorm over every axis but 1. Training: normalise with the batch mean and biased
    variance and update the moving statistics in place (``keep`` of the old value, the
    unbiased variance; not differentiated). Otherwise: normalise with the moving statistics."""
    if not training:
        shape = P.channel_shape(x)
        scale = P.reshape(gamma, shape) / P.sqrt(P.reshape(moving_variance, shape) + eps)
        return (x - P.reshape(moving_mean, shape)) * scale + P.reshape(beta, shape)
    axes = P.batch_axes(x)
    mean = P.mean(x, axes, True)
    centred = x - mean
    var = P.mean(centred * centred, axes, True)
    shape = P.shape(mean)
    out = centred / P.sqrt(var + eps) * P.reshape(gamma, shape) + P.reshape(beta, shape)
    n = P.reduced_size(x, axes)
    stats_shape = P.shape(moving_mean)
    batch_mean = P.reshape(P.stop_gradient(mean), stats_shape)
    batch_var = P.reshape(P.stop_gradient(var), stats_shape) * (n / (n - 1))
    P.assign(moving_mean, moving_mean * keep + batch_mean * (1.0 - keep))
    P.assign(moving_variance, moving_variance * keep + batch_var * (1.0 - keep))
    return out


def batch_norm(input_x, running_mean, running_var, weight, bias, training=False, momentum=0.1, eps=1e-5):
    """MindSpore's ops.batch_norm: in training, ``running = (1 - momentum) * running +
    momentum * batch`` (written into the Parameters)."""
    return _batch_norm(input_x, running_mean, running_var, weight, bias, training, 1.0 - momentum, eps)


def assign(variable, value):
    """Write value into the Parameter ``variable`` (after the call; never differentiated)."""
    return P.assign(variable, value)


def depend(value, expr):
    """value (MindSpore orders side effects with it; here statements run in order anyway)."""
    return value


def gather(input_params, input_indices, axis, batch_dims=0):
    """Slices of input_params at input_indices along axis."""
    return P.getitem(input_params, *P.take_index(axis, input_indices))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False):
    """Rows of weight at the indices input."""
    return weight[input]


def one_hot(indices, depth, on_value=1, off_value=0, axis=-1):
    """One-hot vectors along ``axis`` (a new axis of length depth): on_value at the index,
    off_value elsewhere.

    Gradient: to on_value and off_value, none to the indices."""
    out = P.where(P.expand_dims(indices, -1) == np.arange(depth), on_value, off_value)
    if axis == -1:
        return out
    return P.moveaxis(out, -1, axis)


def flatten(input, order="C", *, start_dim=1, end_dim=-1):
    """Keep axis 0, flatten the rest."""
    return P.reshape(input, (P.shape(input)[0], -1))


def softplus(input, beta=1, threshold=20):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (as MindSpore).

    Gradient: sigmoid(beta * x); 1 above the threshold."""
    if beta == 1:
        return P.where(input > threshold, input, P.softplus(input))
    scaled = input * beta
    return P.where(scaled > threshold, input, P.softplus(scaled) / beta)


def _reduce(loss, reduction, denominator=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return P.sum(loss)
    if P.is_none(denominator):
        return P.mean(loss)
    return P.sum(loss) / denominator


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross entropy of logits input (N, C[, ...]) against class indices (N[, ...])
    or class probabilities (shaped like input): class weights, ignore_index and label
    smoothing as MindSpore (and PyTorch); 'mean' divides by the summed weights of the
    counted samples. No gradient flows to the target."""
    logp = P.log_softmax(input, 1)
    coef = P.ce_weights(target, input, weight, ignore_index, label_smoothing)
    loss = -P.sum(coef * logp, 1)
    if reduction == "mean":
        return P.sum(loss) / P.ce_denominator(target, input, weight, ignore_index)
    return _reduce(loss, reduction)


def nll_loss(inputs, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """The negative log-likelihood of log-probabilities inputs (N, C[, ...]) at class indices."""
    coef = P.ce_weights(target, inputs, weight, ignore_index, label_smoothing)
    loss = -P.sum(coef * inputs, 1)
    if reduction == "mean":
        return P.sum(loss) / P.ce_denominator(target, inputs, weight, ignore_index)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction="mean"):
    """-(pos_weight * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))), computed stably as
    (1 - t) * x + (1 + (pos_weight - 1) * t) * softplus(-x); times weight; reduced."""
    if P.is_none(pos_weight):
        loss = (1 - target) * input + P.softplus(-input)
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * P.softplus(-input)
    if not P.is_none(weight):
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, beta=1.0, reduction="none"):
    """0.5 * d**2 / beta where |d| < beta, else |d| - 0.5 * beta (d = input - target)."""
    diff = input - target
    size = P.absolute(diff)
    loss = P.where(size < beta, diff * diff * (0.5 / beta), size - 0.5 * beta)
    return _reduce(loss, reduction)
