"""Losses: ``MSELoss``, ``L1Loss``, ``SoftmaxCrossEntropyWithLogits`` (``construct(logits, labels)``)."""
import numpy as np

from ..ops import functional as F
from .cell import Cell

__all__ = ["LossBase", "MSELoss", "L1Loss", "SoftmaxCrossEntropyWithLogits"]


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
