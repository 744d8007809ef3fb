import numpy as np
import adjoint.nn as nn
from adjoint import Parameter, Tensor


class Net(nn.Cell):
    def __init__(self):
        super(Net, self).__init__()
        self.w = Parameter(np.array([6.0]), name='w')
        self.b = Parameter(np.array([1.0]), name='b')

    def construct(self, x):
        f = self.w * x + self.b
        return f


from adjoint import dtype as mstype
import adjoint.ops as ops


class GradNet(nn.Cell):
    def __init__(self, net):
        super(GradNet, self).__init__()
        self.net = net
        self.grad_op = ops.GradOperation()

    def construct(self, x):
        gradient_function = self.grad_op(self.net)
        return gradient_function(x)


x = Tensor([100], dtype=mstype.float32)
output = GradNet(Net())(x)
print(output)
