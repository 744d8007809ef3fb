"""MindSpore's dynamic learning rates: each function returns the list of per-step learning
rates (``total_step`` values) that an optimizer takes as ``learning_rate``. Step ``i`` is in
epoch ``floor(i / step_per_epoch)``."""
import math
import numbers

__all__ = ["piecewise_constant_lr", "exponential_decay_lr", "natural_exp_decay_lr", "inverse_decay_lr",
           "cosine_decay_lr", "polynomial_decay_lr", "warmup_lr"]


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("The '%s' must be a positive int, but got %r." % (name, value))


def _positive_float(value, name, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, float):
        raise TypeError("The '%s' must be a float, but got %s." % (name, type(value).__name__))
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError("The '%s' must be %s, but got %r." % (name, "non-negative" if allow_zero else "positive",
                                                               value))


def _check(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair):
    _positive_int(total_step, "total_step")
    _positive_int(step_per_epoch, "step_per_epoch")
    _positive_int(decay_epoch, "decay_epoch")
    _positive_float(learning_rate, "learning_rate")
    _positive_float(decay_rate, "decay_rate")
    if not isinstance(is_stair, bool):
        raise TypeError("The 'is_stair' must be bool, but got %s." % type(is_stair).__name__)


def piecewise_constant_lr(milestone, learning_rates):
    """``learning_rates[t]`` for the steps in ``[milestone[t-1], milestone[t])``."""
    if len(milestone) != len(learning_rates):
        raise ValueError("For 'piecewise_constant_lr', the size of 'milestone' must be same with the size of "
                         "'learning_rates', but got 'milestone' size: %d, 'learning_rates' size: %d."
                         % (len(milestone), len(learning_rates)))
    lr, last = [], 0
    for i, item in enumerate(milestone):
        _positive_int(item, "milestone[%d]" % i)
        if not isinstance(learning_rates[i], numbers.Real):
            raise TypeError("The 'learning_rates[%d]' must be a float, but got %r." % (i, learning_rates[i]))
        if item < last:
            raise ValueError("For 'piecewise_constant_lr', the value of milestone[%d] must be greater than "
                             "milestone[%d], but got %d and %d." % (i, i - 1, item, last))
        lr += [learning_rates[i]] * (item - last)
        last = item
    return lr


def exponential_decay_lr(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair=False):
    """``learning_rate * decay_rate ** (epoch / decay_epoch)`` (the exponent floored if is_stair)."""
    _check(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair)
    lr = []
    for i in range(total_step):
        epoch = math.floor(i / step_per_epoch)
        exponent = math.floor(epoch / decay_epoch) if is_stair else epoch / decay_epoch
        lr.append(learning_rate * decay_rate ** exponent)
    return lr


def natural_exp_decay_lr(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair=False):
    """``learning_rate * e ** (-decay_rate * epoch)`` (epoch rounded down to a multiple of
    decay_epoch if is_stair)."""
    _check(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair)
    lr = []
    for i in range(total_step):
        epoch = math.floor(i / step_per_epoch)
        if is_stair:
            epoch = math.floor(epoch / decay_epoch) * decay_epoch
        lr.append(learning_rate * math.e ** (-decay_rate * epoch))
    return lr


def inverse_decay_lr(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair=False):
    """``learning_rate / (1 + decay_rate * epoch / decay_epoch)`` (the ratio floored if is_stair)."""
    _check(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair)
    lr = []
    for i in range(total_step):
        epoch = math.floor(i / step_per_epoch)
        if is_stair:
            lr.append(learning_rate / (1 + decay_rate * math.floor(epoch / decay_epoch)))
        else:
            lr.append(learning_rate / (1 + decay_rate * epoch / decay_epoch))
    return lr


def cosine_decay_lr(min_lr, max_lr, total_step, step_per_epoch, decay_epoch):
    """``min_lr + 0.5 * (max_lr - min_lr) * (1 + cos(pi * min(epoch, decay_epoch) / decay_epoch))``."""
    _positive_float(min_lr, "min_lr", allow_zero=True)
    _positive_float(max_lr, "max_lr")
    _positive_int(total_step, "total_step")
    _positive_int(step_per_epoch, "step_per_epoch")
    _positive_int(decay_epoch, "decay_epoch")
    if min_lr >= max_lr:
        raise ValueError("For 'cosine_decay_lr', the 'max_lr' must be greater than the 'min_lr', but got "
                         "'max_lr' value: %s, 'min_lr' value: %s." % (max_lr, min_lr))
    delta = 0.5 * (max_lr - min_lr)
    lr = []
    for i in range(total_step):
        epoch = min(math.floor(i / step_per_epoch), decay_epoch)
        lr.append(min_lr + delta * (1 + math.cos(math.pi * epoch / decay_epoch)))
    return lr


def polynomial_decay_lr(learning_rate, end_learning_rate, total_step, step_per_epoch, decay_epoch, power,
                        update_decay_epoch=False):
    """``(learning_rate - end_learning_rate) * (1 - epoch / decay_epoch) ** power +
    end_learning_rate``, epoch capped at decay_epoch (or decay_epoch growing by multiples of
    itself if update_decay_epoch)."""
    _positive_float(learning_rate, "learning_rate")
    _positive_float(end_learning_rate, "end_learning_rate", allow_zero=True)
    _positive_float(power, "power")
    _positive_int(total_step, "total_step")
    _positive_int(step_per_epoch, "step_per_epoch")
    _positive_int(decay_epoch, "decay_epoch")
    lr = []
    delta = learning_rate - end_learning_rate
    for i in range(total_step):
        epoch = math.floor(i / step_per_epoch)
        if update_decay_epoch:
            decay, tmp = decay_epoch * max(math.ceil(epoch / decay_epoch), 1), epoch
        else:
            decay, tmp = decay_epoch, min(decay_epoch, epoch)
        lr.append(delta * (1 - tmp / decay) ** power + end_learning_rate)
    return lr


def warmup_lr(learning_rate, total_step, step_per_epoch, warmup_epoch):
    """``learning_rate * min(epoch, warmup_epoch) / warmup_epoch``."""
    _positive_float(learning_rate, "learning_rate")
    _positive_int(total_step, "total_step")
    _positive_int(step_per_epoch, "step_per_epoch")
    _positive_int(warmup_epoch, "warmup_epoch")
    return [learning_rate * min(warmup_epoch, math.floor(i / step_per_epoch)) / warmup_epoch
            for i in range(total_step)]
