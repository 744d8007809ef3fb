"""Train a small MLP with adjoint: nn layers, a loss, GradOperation, plain SGD.

    python examples/train_mlp.py
"""
import numpy as np

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops
from adjoint import ParameterTuple, Tensor


@adjoint.compile
class WithLoss(nn.Cell):
    def __init__(self, net, loss):
        super().__init__()
        self.net, self.loss = net, loss

    def construct(self, x, labels):
        return self.loss(self.net(x), labels)


def main():
    rng = np.random.default_rng(0)
    np.random.seed(0)
    centers = rng.standard_normal((3, 4)) * 3
    labels = rng.integers(0, 3, 300)
    x = (centers[labels] + rng.standard_normal((300, 4))).astype(np.float32)

    net = nn.SequentialCell([nn.Dense(4, 16, activation="tanh"), nn.Dense(16, 3)])
    train = WithLoss(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"))
    params = ParameterTuple(train.trainable_params())
    grad_fn = ops.GradOperation(get_by_list=True)(train, params)

    xs, ys = Tensor(x), Tensor(labels.astype(np.int32))
    for step in range(201):
        grads = grad_fn(xs, ys)
        for p, g in zip(params, grads):
            p.set_data(p.asnumpy() - 0.5 * g.asnumpy())
        if step % 50 == 0:
            loss = train(xs, ys).asnumpy()
            accuracy = (net(xs).asnumpy().argmax(axis=1) == labels).mean()
            print("step %3d  loss %.4f  accuracy %.2f" % (step, loss, accuracy))
    print([p.name for p in params])


if __name__ == "__main__":
    main()
