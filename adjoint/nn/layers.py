"""Basic layers: ``Dense``, activations (``ReLU``, ``Tanh``, ``Sigmoid``, ``Softmax``...) and ``Flatten``.

Each ``construct`` is plain Python over ``ops`` functions, so adjoint compiles it like user code.
"""
import math
import numbers

import numpy as np

from .. import dtype as mstype
from ..ops import functional as F
from ..ops.primitives import MatMul, Primitive
from ..tensor import Parameter, Tensor
from .cell import Cell

__all__ = ["Dense", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "LeakyReLU", "Flatten",
           "get_activation", "initializer"]


# -- initialisation ---------------------------------------------------------------------------
def _fans(shape, name):
    """MindSpore's ``_calculate_fan_in_and_fan_out``."""
    if len(shape) < 2:
        raise ValueError("For '%s' initializer, 'fan_in' and 'fan_out' can not be computed for a "
                         "tensor with fewer than 2 dimensions, but got shape %s." % (name, tuple(shape)))
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _he_std(shape, negative_slope, name):
    fan_in, _ = _fans(shape, name)
    gain = math.sqrt(2.0 / (1 + negative_slope ** 2))
    return gain / math.sqrt(fan_in)


def _uniform(bound):
    return lambda shape: np.random.uniform(-bound, bound, size=shape)


def _init_by_name(name, shape):
    """The values of MindSpore's named initializers (float64; the caller casts)."""
    key = name.lower()
    if key in ("zeros", "zero"):
        return np.zeros(shape)
    if key in ("ones", "one"):
        return np.ones(shape)
    if key == "normal":                              # Normal(sigma=0.01)
        return np.random.normal(0.0, 0.01, size=shape)
    if key == "uniform":                             # Uniform(scale=0.07)
        return np.random.uniform(-0.07, 0.07, size=shape)
    if key in ("truncatednormal", "truncated_normal"):   # TruncatedNormal(sigma=0.01), cut at 2 sigma
        values = np.random.normal(0.0, 0.01, size=shape)
        bad = np.abs(values) > 0.02
        while bad.any():
            values[bad] = np.random.normal(0.0, 0.01, size=int(bad.sum()))
            bad = np.abs(values) > 0.02
        return values
    if key in ("heuniform", "he_uniform"):           # HeUniform(negative_slope=0)
        std = _he_std(shape, 0.0, name)
        return _uniform(math.sqrt(3.0) * std)(shape)
    if key in ("henormal", "he_normal"):
        return np.random.normal(0.0, _he_std(shape, 0.0, name), size=shape)
    if key in ("xavieruniform", "xavier_uniform"):
        fan_in, fan_out = _fans(shape, name)
        return _uniform(math.sqrt(6.0 / (fan_in + fan_out)))(shape)
    if key in ("xaviernormal", "xavier_normal"):
        fan_in, fan_out = _fans(shape, name)
        return np.random.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape)
    raise ValueError("Unsupported init name '%s': use 'normal', 'zeros', 'ones', 'uniform', "
                     "'truncatednormal', 'he_uniform', 'he_normal', 'xavier_uniform' or "
                     "'xavier_normal', a number, a Tensor or a numpy array." % name)


def initializer(init, shape, dtype=mstype.float32):
    """MindSpore's ``initializer(init, shape, dtype)``, giving a Tensor.

    ``init`` is a name (``'normal'``, ``'he_uniform'``...), a number (a constant), or a Tensor /
    numpy array of exactly ``shape`` (kept with its own dtype, as MindSpore keeps a Tensor).
    """
    shape = tuple(shape)
    if isinstance(init, (Tensor, np.ndarray)):
        data = np.array(init.asnumpy() if isinstance(init, Tensor) else init)   # a copy
        if data.shape != shape:
            raise ValueError("The shape of the initial value %s does not match the shape %s."
                             % (data.shape, shape))
        return Tensor(data)
    np_dtype = mstype.to_numpy(dtype)
    if isinstance(init, bool) or not isinstance(init, (str, numbers.Number)):
        raise TypeError("init must be a str, a number, a Tensor or a numpy array, but got %s."
                        % type(init).__name__)
    if isinstance(init, numbers.Number):
        return Tensor(np.full(shape, init, dtype=np_dtype))
    return Tensor(_init_by_name(init, shape).astype(np_dtype))


# -- activations ------------------------------------------------------------------------------
class ReLU(Cell):
    """``max(x, 0)`` elementwise."""

    def construct(self, x):
        return F.relu(x)


class Tanh(Cell):
    def construct(self, x):
        return F.tanh(x)


class Sigmoid(Cell):
    def construct(self, x):
        return F.sigmoid(x)


class Softmax(Cell):
    """``Softmax(axis=-1)``."""

    def __init__(self, axis=-1):
        super().__init__()
        if isinstance(axis, (tuple, list)) and len(axis) == 1:
            axis = axis[0]
        self.axis = axis

    def construct(self, x):
        return F.softmax(x, self.axis)


class LogSoftmax(Cell):
    """``LogSoftmax(axis=-1)``."""

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def construct(self, x):
        return F.log_softmax(x, self.axis)


class LeakyReLU(Cell):
    """``LeakyReLU(alpha=0.2)``: ``x`` where positive, ``alpha * x`` elsewhere."""

    def __init__(self, alpha=0.2):
        super().__init__()
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise TypeError("For 'LeakyReLU', 'alpha' must be a number, but got %s." % type(alpha).__name__)
        self.alpha = alpha
        self.greater_than_one = alpha > 1

    def construct(self, x):
        if self.greater_than_one:
            return F.minimum(x, x * self.alpha)
        return F.maximum(x, x * self.alpha)


class Flatten(Cell):
    """Keep dimension 0 (the batch), flatten the rest: ``(N, ...) -> (N, prod(...))``."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        if start_dim != 1 or end_dim != -1:
            raise ValueError("Flatten supports only start_dim=1 and end_dim=-1 (keep dim 0, "
                             "flatten the rest); got start_dim=%r, end_dim=%r" % (start_dim, end_dim))

    def construct(self, x):
        return F.reshape(x, (F.shape(x)[0], -1))


_ACTIVATIONS = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "softmax": Softmax,
    "logsoftmax": LogSoftmax,
    "leakyrelu": LeakyReLU,
}


def get_activation(name):
    """The activation Cell called ``name`` (``'relu'``, ``'tanh'``, ``'sigmoid'``, ``'softmax'``...)."""
    if name is None:
        return None
    if name not in _ACTIVATIONS:
        raise KeyError("activation '%s' is not in activation dict: %s" % (name, sorted(_ACTIVATIONS)))
    return _ACTIVATIONS[name]()


# -- Dense ------------------------------------------------------------------------------------
def _positive_int(value, arg, cls_name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("For '%s', the '%s' must be int, but got %s." % (cls_name, arg, type(value).__name__))
    if value <= 0:
        raise ValueError("For '%s', the '%s' must be a positive int, but got %d." % (cls_name, arg, value))
    return int(value)


class Dense(Cell):
    """The fully connected layer ``activation(x @ weight.T + bias)``.

    ``weight`` has shape ``(out_channels, in_channels)``, ``bias`` ``(out_channels,)``. By default
    (as MindSpore 2.x) the weight is HeUniform(negative_slope=sqrt(5)), i.e. uniform in
    ``±1/sqrt(in_channels)``, and the bias uniform in ``±1/sqrt(in_channels)``.
    """

    def __init__(self, in_channels, out_channels, weight_init=None, bias_init=None, has_bias=True,
                 activation=None, dtype=mstype.float32):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels", "Dense")
        self.out_channels = _positive_int(out_channels, "out_channels", "Dense")
        if not isinstance(has_bias, bool):
            raise TypeError("For 'Dense', the 'has_bias' must be bool, but got %s." % type(has_bias).__name__)
        self.has_bias = has_bias
        weight_shape = (self.out_channels, self.in_channels)
        if isinstance(weight_init, (Tensor, np.ndarray)) and tuple(np.shape(weight_init)) != weight_shape:
            raise ValueError("For 'Dense', weight init shape error. The ndim of 'weight_init' must be "
                             "equal to 2, and the first dim must be equal to 'out_channels' (%d), and the "
                             "second dim must be equal to 'in_channels' (%d). But got 'weight_init' "
                             "shape %s." % (self.out_channels, self.in_channels, tuple(np.shape(weight_init))))
        if weight_init is None:
            weight = Tensor(_uniform(_he_std(weight_shape, math.sqrt(5), "HeUniform") * math.sqrt(3.0))(
                weight_shape).astype(mstype.to_numpy(dtype)))
        else:
            weight = initializer(weight_init, weight_shape, dtype)
        self.weight = Parameter(weight, name="weight")
        self.bias = None
        if self.has_bias:
            if isinstance(bias_init, (Tensor, np.ndarray)) and tuple(np.shape(bias_init)) != (self.out_channels,):
                raise ValueError("For 'Dense', bias init shape error. The ndim of 'bias_init' must be "
                                 "equal to 1, and the first dim must be equal to 'out_channels' (%d). But "
                                 "got 'bias_init' shape %s." % (self.out_channels, tuple(np.shape(bias_init))))
            if bias_init is None:
                bias = Tensor(_uniform(1.0 / math.sqrt(self.in_channels))((self.out_channels,))
                              .astype(mstype.to_numpy(dtype)))
            else:
                bias = initializer(bias_init, (self.out_channels,), dtype)
            self.bias = Parameter(bias, name="bias")
        self.matmul = MatMul(transpose_b=True)
        act = get_activation(activation) if isinstance(activation, str) else activation
        if act is not None and not isinstance(act, (Cell, Primitive)):
            raise TypeError("For 'Dense', the 'activation' must be str or Cell or Primitive, but got %s."
                            % type(activation).__name__)
        self.activation = act
        self.activation_flag = act is not None

    def construct(self, x):
        x = self.matmul(x, self.weight)
        if self.has_bias:
            x = x + self.bias
        if self.activation_flag:
            x = self.activation(x)
        return x

    def extend_repr(self):
        s = "input_channels=%s, output_channels=%s" % (self.in_channels, self.out_channels)
        if self.has_bias:
            s += ", has_bias=%s" % self.has_bias
        if self.activation_flag:
            s += ", activation=%s" % (self.activation,)
        return s
