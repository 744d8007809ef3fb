"""``adjoint.nn``: Cell, layers, containers and losses."""
from .cell import Cell
from .container import CellList, SequentialCell
from .layers import Dense, Flatten, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh, get_activation
from .loss import L1Loss, LossBase, MSELoss, SoftmaxCrossEntropyWithLogits

__all__ = ["Cell", "SequentialCell", "CellList",
           "Dense", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "LeakyReLU", "Flatten",
           "get_activation",
           "LossBase", "MSELoss", "L1Loss", "SoftmaxCrossEntropyWithLogits"]
