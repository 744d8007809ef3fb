import numpy as np
import adjoint.nn as nn
from adjoint import Parameter, Tensor
from adjoint import dtype as mstype
import adjoint.ops as ops
from adjoint import ParameterTuple


class Net(nn.Cell):
    def __init__(self):
        super(Net, self).__init__()
        self.w = Parameter(np.array([6.0]), name='w')
        self.b = Parameter(np.array([1.0]), name='b')

    def construct(self, x):
        f = self.w * x + self.b
        return f


class GradNet(nn.Cell):
    def __init__(self, net):
        super(GradNet, self).__init__()
        self.net = net
        self.params = ParameterTuple(net.trainable_params())
        self.grad_op = ops.GradOperation(get_by_list=True)  # Set the first-order derivative of the weight parameters.

    def construct(self, x):
        gradient_function = self.grad_op(self.net, self.params)
        return gradient_function(x)


# Perform a derivative calculation on the function.
x = Tensor([100], dtype=mstype.float32)
fx = GradNet(Net())(x)
# Print the result.
print(f"wgrad: {fx[0]}\nbgrad: {fx[1]}")
