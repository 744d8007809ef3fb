"""Optimizers, as MindSpore 2.x: ``Optimizer``, ``SGD``, ``Momentum``, ``Adam``, ``AdamWeightDecay``.

``optimizer(grads)`` takes the gradients of ``optimizer.parameters`` (in that order, as
``GradOperation(get_by_list=True)`` or ``value_and_grad(..., weights=optimizer.parameters)``
give them) and updates the Parameters in place. The update formulas, the handling of weight
decay (added to the gradient, skipping Parameters whose name contains 'beta' or 'gamma'
unless groups say otherwise), loss scaling, learning rates (a number, a list per step, a
1-D Tensor or a callable of the step) and group parameters follow MindSpore 2.10's CPU
kernels; the tests compare 1-3 steps with values recorded from MindSpore.

An optimizer is eager code: NumPy on the Parameters' arrays, in the Parameters' dtype (float32
for MindSpore's defaults), with its state (``global_step``, ``learning_rate``, ``moments.*``...)
kept in Parameters, so a training step changes no attribute and no compiled code is stale.
"""
import math
import numbers

import numpy as np

from ..tensor import Parameter, ParameterTuple, Tensor
from .cell import Cell

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "AdamWeightDecay"]

_GROUP_KEYS = ("params", "lr", "weight_decay", "order_params", "grad_centralization")


def _float_arg(value, name, cls_name, low=None, low_open=False, high=None, high_open=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("For '%s', the argument '%s' must be a float, but got %s."
                        % (cls_name, name, type(value).__name__))
    value = float(value)
    bad = (low is not None and (value < low or (low_open and value == low))) or \
          (high is not None and (value > high or (high_open and value == high)))
    if bad:
        raise ValueError("For '%s', the argument '%s' must be in %s%s, %s%s, but got %s."
                         % (cls_name, name, "(" if low_open else "[", low, high if high is not None else "inf",
                            ")" if high_open or high is None else "]", value))
    return value


def _array(value):
    return value._data if isinstance(value, Tensor) else np.asarray(value)


class _LearningRate:
    """One learning rate: a float32 scalar, a float32 vector indexed by the step (the last
    value after its end), or a callable of the step."""

    def __init__(self, value, cls_name):
        self.schedule = None
        if callable(value) and not isinstance(value, (Tensor, np.ndarray)):
            self.schedule, self.values, self.dynamic = value, None, True
            return
        if isinstance(value, bool):
            raise TypeError("For '%s', the 'learning_rate' must be a float, a list, a Tensor or a callable, "
                            "but got bool." % cls_name)
        if isinstance(value, numbers.Real):
            if value < 0:
                raise ValueError("For '%s', the 'learning_rate' must be non-negative, but got %s." % (cls_name, value))
            self.values, self.dynamic = np.array(value, np.float32), False
            return
        try:
            values = np.asarray(_array(value) if isinstance(value, Tensor) else list(value), np.float32)
        except TypeError:
            raise TypeError("For '%s', the 'learning_rate' must be a float, a list, a Tensor or a callable, "
                            "but got %s." % (cls_name, type(value).__name__)) from None
        if values.ndim > 1:
            raise ValueError("For '%s', a Tensor 'learning_rate' must have 0 or 1 dimension, but got %d."
                             % (cls_name, values.ndim))
        self.values, self.dynamic = values, values.ndim == 1

    def parameter(self, name):
        return None if self.values is None else Parameter(self.values.copy(), name=name)

    def at(self, step, param):
        """The learning rate of ``step`` (0-based), read from its Parameter ``param``."""
        if self.schedule is not None:
            return np.float32(_array(self.schedule(Tensor(np.array(step, np.int32)))).reshape(()))
        values = param._data
        if values.ndim == 0:
            return values[()]
        return values[min(step, values.shape[0] - 1)]


class Optimizer(Cell):
    """Base class of optimizers: ``Optimizer(learning_rate, parameters, weight_decay=0.0,
    loss_scale=1.0)``. Subclasses implement ``_update(i, param, grad, lr)`` for one Parameter
    array (in place); the base class applies weight decay and loss scaling to the gradients,
    picks each group's learning rate for the step and counts the steps."""

    def __init__(self, learning_rate, parameters, weight_decay=0.0, loss_scale=1.0):
        super().__init__(auto_prefix=False)
        cls_name = type(self).__name__
        object.__setattr__(self, "_order", [])
        if isinstance(parameters, (Parameter, dict)) or parameters is None:
            raise TypeError("For '%s', the argument 'parameters' must be a list of Parameters or of dicts, "
                            "but got %s." % (cls_name, type(parameters).__name__))
        parameters = list(parameters)
        if not parameters:
            raise ValueError("For '%s', the argument 'parameters' must not be empty." % cls_name)
        if not (all(isinstance(p, Parameter) for p in parameters) or all(isinstance(p, dict) for p in parameters)):
            raise TypeError("For '%s', all elements of the argument 'parameters' must be 'Parameter' or 'dict'."
                            % cls_name)
        if isinstance(loss_scale, bool) or not isinstance(loss_scale, numbers.Real) or loss_scale <= 0:
            raise ValueError("For '%s', the argument 'loss_scale' must be a positive float, but got %r."
                             % (cls_name, loss_scale))
        self.loss_scale = float(loss_scale)
        weight_decay = _float_arg(weight_decay, "weight_decay", cls_name, low=0.0)
        default_lr = _LearningRate(learning_rate, cls_name)
        self.is_group = isinstance(parameters[0], dict)
        groups = self._groups(parameters, default_lr, weight_decay, cls_name) if self.is_group else [
            (parameters, default_lr, weight_decay)]
        params, group_of, lrs, decays = [], [], [], []
        for k, (ps, lr, wd) in enumerate(groups):
            for p in ps:
                params.append(p)
                group_of.append(k)
            lrs.append(lr)
            decays.append(wd)
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise RuntimeError("For '%s', a Parameter appears twice in 'parameters'." % cls_name)
        self.is_group_lr = len({id(lr) for lr in lrs}) > 1
        self.dynamic_lr = any(lr.dynamic for lr in lrs)
        self._register("global_step", Parameter(np.zeros(1, np.int32), name="global_step"))
        if self.is_group_lr:          # one learning-rate Parameter per group
            lr_params = [lr.parameter("learning_rate_group_%d" % k) for k, lr in enumerate(lrs)]
            self._register("learning_rate", ParameterTuple(q for q in lr_params if q is not None))
        else:
            lr_params = [lrs[0].parameter("learning_rate")]
            if lr_params[0] is not None:
                self._register("learning_rate", lr_params[0])
        object.__setattr__(self, "_lr_params", lr_params)
        self._register("parameters", ParameterTuple(params))
        object.__setattr__(self, "_parameters", self.parameters)
        object.__setattr__(self, "_lrs", lrs)
        object.__setattr__(self, "_group_of", group_of)
        self.weight_decay = decays[0] if not self.is_group else tuple(decays)
        # Which Parameters weight decay applies to, and how much: by name outside groups (not
        # 'beta', not 'gamma'), every Parameter of a group whose weight_decay is > 0.
        if self.is_group:
            decay = [decays[group_of[i]] for i in range(len(params))]
        else:
            decay = [weight_decay if ("beta" not in p.name and "gamma" not in p.name) else 0.0
                     for p in params]
        object.__setattr__(self, "_decay", decay)
        for p in params:
            a = p._data
            if not (a.flags.writeable and a.flags.c_contiguous):
                p.set_data(np.array(a))

    def _groups(self, parameters, default_lr, weight_decay, cls_name):
        groups, order = [], None
        for group in parameters:
            bad = [k for k in group if k not in _GROUP_KEYS]
            if bad:
                raise KeyError("For '%s', the key in group params must be one of in %s, but got %s."
                               % (cls_name, list(_GROUP_KEYS), bad))
            if "order_params" in group:
                if len(group) > 1:
                    raise ValueError("For '%s', the order params dict in group parameters should only include "
                                     "the 'order_params' key, but got %s." % (cls_name, list(group)))
                order = list(group["order_params"])
                continue
            ps = list(group["params"])
            if not ps or not all(isinstance(p, Parameter) for p in ps):
                raise TypeError("For '%s', the 'params' of a group must be a non-empty list of Parameters."
                                % cls_name)
            lr = _LearningRate(group["lr"], cls_name) if "lr" in group else default_lr
            wd = _float_arg(group["weight_decay"], "weight_decay", cls_name, low=0.0) \
                if "weight_decay" in group else weight_decay
            groups.append((ps, lr, wd))
        if order is not None:
            where = {}
            for k, (ps, _, _) in enumerate(groups):
                for p in ps:
                    where[id(p)] = k
            missing = [p.name for p in order if id(p) not in where]
            if missing:
                raise ValueError("For '%s', the order_params %s are not in any group." % (cls_name, missing))
            groups = [([p for p in order if where[id(p)] == k], lr, wd) for k, (_, lr, wd) in enumerate(groups)]
        return groups

    def _register(self, name, value):
        """Set an attribute holding optimizer state (listed by get_parameters, in this order)."""
        setattr(self, name, value)
        self._order.append(name)

    def _clone(self, prefix, init="zeros", dtype=None):
        """One state Parameter per optimised Parameter, named prefix + '.' + its name."""
        out = []
        for p in self.parameters:
            data = np.zeros_like(p._data) if init == "zeros" else np.ones_like(p._data)
            if dtype is not None:
                data = data.astype(dtype)
            out.append(Parameter(data, name="%s.%s" % (prefix, p.name)))
        return ParameterTuple(out)

    # -- Cell --------------------------------------------------------------------------------
    def parameters_and_names(self, name_prefix="", expand=True):
        for name in self._order:
            value = self.__dict__.get(name)
            if isinstance(value, Parameter):
                yield value.name, value
            elif isinstance(value, tuple):
                for p in value:
                    yield p.name, p

    # -- the step ----------------------------------------------------------------------------
    def get_lr(self):
        """The learning rate of the current step (a tuple of one per group with group lrs)."""
        step = int(self.global_step._data[0])
        rates = tuple(lr.at(step, q) for lr, q in zip(self._lrs, self._lr_params))
        return rates if self.is_group_lr else rates[0]

    def decay_weight(self, gradients):
        """``grad + weight_decay * loss_scale * param`` where weight decay applies."""
        ls = self.loss_scale
        out = []
        for g, p, wd in zip(gradients, self.parameters, self._decay):
            if wd > 0:
                a = p._data
                g = g + a * a.dtype.type(wd * ls)
            out.append(g)
        return out

    def scale_grad(self, gradients):
        if self.loss_scale == 1.0:
            return gradients
        return [g * g.dtype.type(1.0 / self.loss_scale) for g in gradients]

    def _gradients(self, gradients):
        if isinstance(gradients, (Tensor, np.ndarray)):
            gradients = (gradients,)
        gradients = [_array(g) for g in gradients]
        if len(gradients) != len(self.parameters):
            raise ValueError("For '%s', got %d gradients for %d Parameters: pass the gradients of "
                             "optimizer.parameters, in that order." % (type(self).__name__, len(gradients),
                                                                       len(self.parameters)))
        out = []
        for g, p in zip(gradients, self.parameters):
            if g.shape != p._data.shape:
                raise ValueError("For '%s', the gradient of '%s' has shape %s, but the Parameter has shape %s."
                                 % (type(self).__name__, p.name, g.shape, p._data.shape))
            if g.dtype != p._data.dtype:
                g = g.astype(p._data.dtype)
            out.append(g)
        return out

    def construct(self, gradients):
        grads = self.scale_grad(self.decay_weight(self._gradients(gradients)))
        lrs = self.get_lr()
        if not self.is_group_lr:
            lrs = (lrs,)
        self.global_step._data += 1
        self._before_update()
        for i, (p, g) in enumerate(zip(self.parameters, grads)):
            lr = lrs[self._group_of[i] if self.is_group_lr else 0]
            self._update(i, p._data, g, p._data.dtype.type(lr))
        return tuple(True for _ in self.parameters)

    def _before_update(self):
        pass

    def _update(self, i, param, grad, lr):
        raise NotImplementedError("%s does not define _update" % type(self).__name__)

    def extend_repr(self):
        return ""


class SGD(Optimizer):
    """``SGD(params, learning_rate=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0,
    nesterov=False, loss_scale=1.0)``. With momentum: ``accum = momentum * accum +
    (1 - dampening) * grad`` (``accum = grad`` on the first step), then ``param -= lr * accum``
    (nesterov: ``param -= lr * (grad + momentum * accum)``)."""

    def __init__(self, params, learning_rate=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 loss_scale=1.0):
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        momentum = _float_arg(momentum, "momentum", "SGD", low=0.0)
        dampening = _float_arg(dampening, "dampening", "SGD", low=0.0)
        if not isinstance(nesterov, bool):
            raise TypeError("For 'SGD', the argument 'nesterov' must be bool, but got %s." % type(nesterov).__name__)
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError("For 'SGD', if 'nesterov' is true, 'momentum' must be > 0.0 and 'dampening' must "
                             "equal to 0.0, but got 'momentum' %s, 'dampening' %s." % (momentum, dampening))
        self.dampening, self.nesterov = dampening, nesterov
        self._register("momentum", Parameter(np.array(momentum, np.float32), name="momentum"))
        self._register("accum", self._clone("accum"))
        self._register("stat", self._clone("stat", "ones"))

    def _update(self, i, param, grad, lr):
        momentum = self.momentum._data[()]
        if momentum > 0:
            accum, stat = self.accum[i]._data, self.stat[i]._data
            if stat.flat[0] > 0:
                np.copyto(accum, grad)
                stat.fill(0)
            else:
                accum *= momentum
                accum += grad * grad.dtype.type(1.0 - self.dampening)
            grad = grad + momentum * accum if self.nesterov else accum
        param -= lr * grad


class Momentum(Optimizer):
    """``Momentum(params, learning_rate, momentum, weight_decay=0.0, loss_scale=1.0,
    use_nesterov=False)``: ``accum = momentum * accum + grad; param -= lr * accum``
    (on CPU MindSpore gives use_nesterov=True the same numbers, and so does this)."""

    def __init__(self, params, learning_rate, momentum, weight_decay=0.0, loss_scale=1.0, use_nesterov=False):
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        momentum = _float_arg(momentum, "momentum", "Momentum", low=0.0)
        if not isinstance(use_nesterov, bool):
            raise TypeError("For 'Momentum', the argument 'use_nesterov' must be bool, but got %s."
                            % type(use_nesterov).__name__)
        self.use_nesterov = use_nesterov
        self._register("momentum", Parameter(np.array(momentum, np.float32), name="momentum"))
        self._register("moments", self._clone("moments"))

    def _update(self, i, param, grad, lr):
        accum = self.moments[i]._data
        accum *= self.momentum._data[()]
        accum += grad
        param -= lr * accum


class Adam(Optimizer):
    """``Adam(params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, use_locking=False,
    use_nesterov=False, weight_decay=0.0, loss_scale=1.0)``:
    ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``, ``m += (g - m) * (1 - beta1)``,
    ``v += (g*g - v) * (1 - beta2)``, ``param -= lr_t * m / (sqrt(v) + eps)`` (nesterov: with
    ``m * beta1 + (1 - beta1) * g`` for m). Weight decay is added to the gradient."""

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, use_locking=False,
                 use_nesterov=False, weight_decay=0.0, loss_scale=1.0, use_amsgrad=False, **kwargs):
        super().__init__(learning_rate, params, weight_decay, loss_scale)
        self.beta1 = _float_arg(beta1, "beta1", "Adam", 0.0, True, 1.0, True)
        self.beta2 = _float_arg(beta2, "beta2", "Adam", 0.0, True, 1.0, True)
        self.eps = _float_arg(eps, "eps", "Adam", 0.0, True)
        if not isinstance(use_nesterov, bool) or not isinstance(use_locking, bool):
            raise TypeError("For 'Adam', 'use_nesterov' and 'use_locking' must be bool.")
        if use_amsgrad:
            raise ValueError("For 'Adam', use_amsgrad=True is not supported.")
        self.use_nesterov, self.use_locking = use_nesterov, use_locking
        self._register("beta1_power", Parameter(np.array(1.0, np.float32), name="beta1_power"))
        self._register("beta2_power", Parameter(np.array(1.0, np.float32), name="beta2_power"))
        self._register("moment1", self._clone("moment1"))
        self._register("moment2", self._clone("moment2"))

    def _before_update(self):
        f32 = np.float32
        self.beta1_power._data *= f32(self.beta1)
        self.beta2_power._data *= f32(self.beta2)

    def _update(self, i, param, grad, lr):
        t = param.dtype.type
        b1, b2, eps = t(self.beta1), t(self.beta2), t(self.eps)
        b1p, b2p = t(self.beta1_power._data[()]), t(self.beta2_power._data[()])
        lr_t = lr * t(math.sqrt(t(1) - b2p)) / (t(1) - b1p)
        m, v = self.moment1[i]._data, self.moment2[i]._data
        m += (grad - m) * (t(1) - b1)
        v += (grad * grad - v) * (t(1) - b2)
        if self.use_nesterov:
            param -= lr_t * (m * b1 + (t(1) - b1) * grad) / (np.sqrt(v) + eps)
        else:
            param -= lr_t * m / (np.sqrt(v) + eps)


class AdamWeightDecay(Optimizer):
    """``AdamWeightDecay(params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-6,
    weight_decay=0.0)``: ``m = beta1 * m + (1 - beta1) * g``, ``v = beta2 * v + (1 - beta2) * g*g``,
    ``update = m / (sqrt(v) + eps) + weight_decay * param`` (decay where it applies),
    ``param -= lr * update``. No bias correction, as MindSpore."""

    def __init__(self, params, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.0):
        super().__init__(learning_rate, params, weight_decay)
        self.beta1 = _float_arg(beta1, "beta1", "AdamWeightDecay", 0.0, True, 1.0, True)
        self.beta2 = _float_arg(beta2, "beta2", "AdamWeightDecay", 0.0, True, 1.0, True)
        self.eps = _float_arg(eps, "eps", "AdamWeightDecay", 0.0, True)
        self._register("moments1", self._clone("adam_m"))
        self._register("moments2", self._clone("adam_v"))

    def decay_weight(self, gradients):
        return gradients                  # the decay is part of the update, not of the gradient

    def _update(self, i, param, grad, lr):
        t = param.dtype.type
        b1, b2, eps = t(self.beta1), t(self.beta2), t(self.eps)
        m, v = self.moments1[i]._data, self.moments2[i]._data
        m *= b1
        m += (t(1) - b1) * grad
        v *= b2
        v += (t(1) - b2) * (grad * grad)
        update = m / (eps + np.sqrt(v))
        wd = self._decay[i]
        if wd > 0:
            update += t(wd) * param
        param -= lr * update
