"""Losses: ``MSELoss``, ``L1Loss``, ``SoftmaxCrossEntropyWithLogits``, ``CrossEntropyLoss``,
``NLLLoss``, ``BCEWithLogitsLoss``, ``SmoothL1Loss`` (``construct(logits, labels)``)."""
import numbers

import numpy as np

from ..ops import functional as F
from ..ops import nn_functional as NF
from .cell import Cell

__all__ = ["LossBase", "MSELoss", "L1Loss", "SoftmaxCrossEntropyWithLogits", "CrossEntropyLoss", "NLLLoss",
           "BCEWithLogitsLoss", "SmoothL1Loss"]


class LossBase(Cell):
    """Base of losses: ``get_loss(x)`` reduces the elementwise loss ``x`` as ``reduction`` says
    (``'mean'``, ``'sum'`` or ``'none'``)."""

    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError("For '%s', the 'reduction' must be in ['mean', 'sum', 'none'], but got %r."
                             % (type(self).__name__, reduction))
        self.reduction = reduction
        self.average = reduction == "mean"
        self.reduce = reduction != "none"

    def get_loss(self, x, weights=1.0):
        x = weights * x
        if self.reduce and self.average:
            x = F.mean(x)
        if self.reduce and not self.average:
            x = F.sum(x)
        return x

    def construct(self, logits, labels):
        raise NotImplementedError

    def extend_repr(self):
        return ""


class MSELoss(LossBase):
    """``(logits - labels) ** 2``, reduced."""

    def construct(self, logits, labels):
        x = F.square(logits - labels)
        return self.get_loss(x)


class L1Loss(LossBase):
    """``|logits - labels|``, reduced."""

    def construct(self, logits, labels):
        x = F.abs(logits - labels)
        return self.get_loss(x)


class SoftmaxCrossEntropyWithLogits(LossBase):
    """``-sum(labels * log_softmax(logits), -1)`` per sample, reduced (default: not at all).

    With ``sparse=True`` the labels are class indices (ints) instead of one-hot or probability
    rows. As in MindSpore, no gradient flows to the labels.
    """

    def __init__(self, sparse=False, reduction="none"):
        super().__init__(reduction)
        if not isinstance(sparse, bool):
            raise TypeError("For 'SoftmaxCrossEntropyWithLogits', the 'sparse' must be bool, but got %s."
                            % type(sparse).__name__)
        self.sparse = sparse

    def construct(self, logits, labels):
        logp = F.log_softmax(logits, -1)
        if self.sparse:
            classes = np.arange(F.shape(logits)[-1])
            picked = F.expand_dims(labels, -1) == classes
            x = -F.sum(F.where(picked, logp, 0.0), -1)
        else:
            x = -F.sum(F.stop_gradient(labels) * logp, -1)
        return self.get_loss(x)


def _reduction_arg(reduction, cls_name):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("For '%s', the 'reduction' must be in ['mean', 'sum', 'none'], but got %r."
                         % (cls_name, reduction))
    return reduction


class CrossEntropyLoss(LossBase):
    """``CrossEntropyLoss(weight=None, ignore_index=-100, reduction='mean', label_smoothing=0.0)``:
    softmax cross entropy of logits (N, C) against class indices (N,) (ints) or class
    probabilities (N, C) (floats). With class ``weight`` the 'mean' divides by the summed
    weights of the samples' classes; samples labelled ``ignore_index`` do not count."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(_reduction_arg(reduction, "CrossEntropyLoss"))
        if not isinstance(label_smoothing, numbers.Real) or not 0 <= label_smoothing <= 1:
            raise ValueError("For 'CrossEntropyLoss', the 'label_smoothing' must be in [0, 1], but got %r."
                             % (label_smoothing,))
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, float(label_smoothing)

    def construct(self, logits, labels):
        return NF.cross_entropy(logits, labels, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(LossBase):
    """``NLLLoss(weight=None, ignore_index=-100, reduction='mean')``: minus the log-probability
    (the input, e.g. from LogSoftmax) of each sample's class."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(_reduction_arg(reduction, "NLLLoss"))
        self.weight, self.ignore_index = weight, ignore_index

    def construct(self, logits, labels):
        return NF.nll_loss(logits, labels, self.weight, self.ignore_index, self.reduction)


class BCEWithLogitsLoss(LossBase):
    """``BCEWithLogitsLoss(reduction='mean', weight=None, pos_weight=None)``: binary cross
    entropy of sigmoid(logits) against targets in [0, 1], computed stably from the logits."""

    def __init__(self, reduction="mean", weight=None, pos_weight=None):
        super().__init__(_reduction_arg(reduction, "BCEWithLogitsLoss"))
        self.weight, self.pos_weight = weight, pos_weight

    def construct(self, logits, labels):
        return NF.binary_cross_entropy_with_logits(logits, labels, self.weight, self.pos_weight, self.reduction)


class SmoothL1Loss(LossBase):
    """``SmoothL1Loss(beta=1.0, reduction='none')``: 0.5 * d**2 / beta where |d| < beta, else
    |d| - 0.5 * beta, for d = logits - labels (note MindSpore's default: no reduction)."""

    def __init__(self, beta=1.0, reduction="none"):
        super().__init__(_reduction_arg(reduction, "SmoothL1Loss"))
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or beta <= 0:
            raise ValueError("For 'SmoothL1Loss', the 'beta' must be a positive number, but got %r." % (beta,))
        self.beta = float(beta)

    def construct(self, logits, labels):
        return NF.smooth_l1_loss(logits, labels, self.beta, self.reduction)
