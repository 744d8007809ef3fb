"""``adjoint.nn``: Cell, layers, containers, losses, optimizers and training wrappers."""
from .cell import Cell
from .container import CellList, SequentialCell
from .layers import Dense, Flatten, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh, get_activation
from .loss import (BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, LossBase, MSELoss, NLLLoss,
                   SmoothL1Loss, SoftmaxCrossEntropyWithLogits)
from .conv import Conv2d
from .pooling import AvgPool2d, MaxPool2d
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .basic import Dropout, Embedding, Identity
from .wrap import TrainOneStepCell, WithEvalCell, WithLossCell
from .optim import Adam, AdamWeightDecay, Momentum, Optimizer, SGD
from .learning_rate import (cosine_decay_lr, exponential_decay_lr, inverse_decay_lr, natural_exp_decay_lr,
                            piecewise_constant_lr, polynomial_decay_lr, warmup_lr)

__all__ = ["Cell", "SequentialCell", "CellList",
           "Dense", "ReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "LeakyReLU", "Flatten",
           "get_activation",
           "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
           "Dropout", "Embedding", "Identity",
           "LossBase", "MSELoss", "L1Loss", "SoftmaxCrossEntropyWithLogits", "CrossEntropyLoss", "NLLLoss",
           "BCEWithLogitsLoss", "SmoothL1Loss",
           "WithLossCell", "WithEvalCell", "TrainOneStepCell",
           "Optimizer", "SGD", "Momentum", "Adam", "AdamWeightDecay",
           "piecewise_constant_lr", "exponential_decay_lr", "natural_exp_decay_lr", "inverse_decay_lr",
           "cosine_decay_lr", "polynomial_decay_lr", "warmup_lr"]
