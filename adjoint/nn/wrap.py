"""Training wrappers, as MindSpore 2.x: ``WithLossCell`` (a backbone and its loss) and
``TrainOneStepCell`` (one optimisation step per call; returns the loss)."""
from ..api import value_and_grad
from ..errors import ArgumentError
from .cell import Cell
from .optim import Optimizer

__all__ = ["WithLossCell", "TrainOneStepCell", "WithEvalCell"]


class WithLossCell(Cell):
    """``WithLossCell(backbone, loss_fn)``: ``construct(data, label)`` is
    ``loss_fn(backbone(data), label)``. Parameters keep the backbone's names (no prefix)."""

    def __init__(self, backbone, loss_fn):
        super().__init__(auto_prefix=False)
        if not isinstance(backbone, Cell) or not isinstance(loss_fn, Cell):
            raise TypeError("For 'WithLossCell', 'backbone' and 'loss_fn' must be Cells, but got %s and %s."
                            % (type(backbone).__name__, type(loss_fn).__name__))
        self._backbone = backbone
        self._loss_fn = loss_fn

    def construct(self, data, label):
        out = self._backbone(data)
        return self._loss_fn(out, label)

    @property
    def backbone_network(self):
        return self._backbone


class WithEvalCell(Cell):
    """``WithEvalCell(network, loss_fn)``: ``construct(data, label)`` returns
    ``(loss, outputs, label)``."""

    def __init__(self, network, loss_fn, add_cast_fp32=False):
        super().__init__(auto_prefix=False)
        self._network = network
        self._loss_fn = loss_fn

    def construct(self, data, label):
        outputs = self._network(data)
        return self._loss_fn(outputs, label), outputs, label


class TrainOneStepCell(Cell):
    """``TrainOneStepCell(network, optimizer, sens=None, return_grad=False)``: calling it with
    the network's inputs computes the loss and the gradients of ``optimizer.parameters`` in one
    compiled call (``value_and_grad`` of the network; its forward runs once, so Dropout draws
    one mask and BatchNorm updates its statistics once), scales the gradients by ``sens`` (the
    loss's gradient, 1.0 by default), applies the optimizer and returns the loss (and, with
    ``return_grad=True``, ``{parameter name: gradient}``). Compiled once; later steps reuse it."""

    def __init__(self, network, optimizer, sens=None, return_grad=False):
        super().__init__(auto_prefix=False)
        if not isinstance(network, Cell):
            raise TypeError("For 'TrainOneStepCell', 'network' must be a Cell, but got %s." % type(network).__name__)
        if not isinstance(optimizer, Optimizer):
            raise TypeError("For 'TrainOneStepCell', 'optimizer' must be an nn.Optimizer, but got %s."
                            % type(optimizer).__name__)
        if sens == 0:
            raise ValueError("The input argument of 'sens' can not be 0.")
        self.network = network
        self.network.set_grad()
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        self.sens = 1.0 if sens is None else float(sens)
        self.return_grad = bool(return_grad)
        object.__setattr__(self, "_grad_fn", value_and_grad(network, None, self.weights))

    def construct(self, *inputs):
        if not inputs:
            raise ArgumentError("TrainOneStepCell: call it with the network's inputs, e.g. train_net(data, label)")
        loss, grads = self._grad_fn(*inputs)
        if self.sens != 1.0:
            grads = tuple(g * self.sens for g in grads)
        self.optimizer(grads)
        if self.return_grad:
            return loss, {p.name: g for p, g in zip(self.weights, grads)}
        return loss
