"""``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``, as MindSpore 2.x.

BatchNorm in training mode (``set_train()``) normalises with the batch mean and biased
variance and writes ``moving_mean`` / ``moving_variance`` in place (``momentum`` of the old
value plus ``1 - momentum`` of the batch's mean and unbiased variance), also when the forward
runs inside a gradient call; in evaluation mode it uses the moving statistics. The writes are
``ops.assign`` calls: they happen after the values are computed and are never differentiated.
"""
import numbers

from .. import dtype as mstype
from ..compiler import rules as P
from ..ops.nn_functional import _batch_norm
from ..tensor import Parameter
from .cell import Cell
from .layers import _positive_int, initializer

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(Cell):
    def __init__(self, num_features, eps=1e-5, momentum=0.9, affine=True, gamma_init="ones", beta_init="zeros",
                 moving_mean_init="zeros", moving_var_init="ones", use_batch_statistics=None, data_format="NCHW",
                 dtype=mstype.float32):
        super().__init__()
        name = type(self).__name__
        self.num_features = _positive_int(num_features, "num_features", name)
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError("For '%s', the 'momentum' must be a number in [0, 1], but got %r." % (name, momentum))
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or eps <= 0:
            raise ValueError("For '%s', the 'eps' must be a positive number, but got %r." % (name, eps))
        if use_batch_statistics not in (None, True, False):
            raise ValueError("For '%s', 'use_batch_statistics' must be None, True or False, but got %r."
                             % (name, use_batch_statistics))
        if data_format != "NCHW":
            raise ValueError("For '%s', only data_format='NCHW' is supported, but got %r." % (name, data_format))
        self.eps, self.momentum, self.affine = float(eps), float(momentum), bool(affine)
        self.use_batch_statistics = use_batch_statistics
        self.format = data_format
        shape = (self.num_features,)
        self.moving_mean = Parameter(initializer(moving_mean_init, shape, dtype), name="mean", requires_grad=False)
        self.moving_variance = Parameter(initializer(moving_var_init, shape, dtype), name="variance",
                                         requires_grad=False)
        self.gamma = Parameter(initializer(gamma_init, shape, dtype), name="gamma", requires_grad=self.affine)
        self.beta = Parameter(initializer(beta_init, shape, dtype), name="beta", requires_grad=self.affine)

    def construct(self, x):
        if self.use_batch_statistics is None:
            training = self.training
        else:
            training = self.use_batch_statistics
        return _batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta, training,
                           self.momentum, self.eps)

    def extend_repr(self):
        return "num_features=%d, eps=%s, momentum=%s, gamma=%r, beta=%r, moving_mean=%r, moving_variance=%r" % (
            self.num_features, self.eps, self.momentum, self.gamma, self.beta, self.moving_mean,
            self.moving_variance)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) (or (N, C, L)) input, per feature C: Parameters
    ``moving_mean``, ``moving_variance`` (not trainable), ``gamma``, ``beta``."""


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input, per channel C."""


class LayerNorm(Cell):
    """``LayerNorm(normalized_shape, begin_norm_axis=-1, begin_params_axis=-1,
    gamma_init='ones', beta_init='zeros', epsilon=1e-7)``: normalise over the axes from
    ``begin_norm_axis`` on, then scale by ``gamma`` and shift by ``beta`` (shaped
    ``normalized_shape``)."""

    def __init__(self, normalized_shape, begin_norm_axis=-1, begin_params_axis=-1, gamma_init="ones",
                 beta_init="zeros", epsilon=1e-7, dtype=mstype.float32):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)) or not all(
                isinstance(n, int) and n > 0 for n in normalized_shape):
            raise TypeError("For 'LayerNorm', the 'normalized_shape' must be a tuple of positive ints, but got %r."
                            % (normalized_shape,))
        self.normalized_shape = tuple(normalized_shape)
        self.begin_norm_axis, self.begin_params_axis = begin_norm_axis, begin_params_axis
        self.epsilon = epsilon
        self.gamma = Parameter(initializer(gamma_init, self.normalized_shape, dtype), name="gamma")
        self.beta = Parameter(initializer(beta_init, self.normalized_shape, dtype), name="beta")
        self._axes = tuple(range(begin_norm_axis, 0)) if begin_norm_axis < 0 else None

    def construct(self, x):
        if self.begin_norm_axis < 0:
            axes = self._axes
        else:
            axes = P.tail_axes(x, self.begin_norm_axis)
        mean = P.mean(x, axes, True)
        centred = x - mean
        var = P.mean(centred * centred, axes, True)
        return centred / P.sqrt(var + self.epsilon) * self.gamma + self.beta

    def extend_repr(self):
        return "normalized_shape=%s, begin_norm_axis=%d, begin_params_axis=%d, gamma=%r, beta=%r" % (
            self.normalized_shape, self.begin_norm_axis, self.begin_params_axis, self.gamma, self.beta)
