"""Programs that once gave wrong gradients (issue 8); each is a regression test in test_trust.py."""
import numpy as np

import adjoint
import adjoint.nn as nn
import adjoint.ops as ops


def swap_in_loop(a, b):
    for i in range(2):
        a, b = b, a * 2.0
    return np.sum(a * 3.0 + b)


def overwritten_in_loop(x):
    s = np.sum(x)
    for i in range(3):
        x = x * 1.5
        s = np.sum(x * x)
    return s


def overwritten_in_while(x):
    s = np.sum(x)
    k = 0
    while k < 3:
        x = x * 1.5
        s = np.sum(x * x)
        k = k + 1
    return s


def early_return_in_loop(x):
    for i in range(3):
        if np.sum(x) > 100.0:
            return np.sum(x)
        x = x * 2
    return np.sum(x * x)


def early_return_in_loop_taken(x):
    for i in range(3):
        if np.sum(x) > 1.0:
            return np.sum(x * x * x)
        x = x * 2
    return np.sum(x * x)


def return_in_nested_if(x):
    y = x * 2.0
    if np.sum(x) > 0.0:
        if np.sum(x) > 10.0:
            return np.sum(y)
        y = y * y
    return np.sum(np.sin(y))


def products(x, y):
    return (x * x * y + x * y).sum()


_grad_products = adjoint.grad(products, grad_position=0)


def sum_of_gradient(x, y):
    return _grad_products(x, y).sum()


def shifted_squares(x):
    return np.sum(2 * (x[1:] + x[:-1] ** 2))


_grad_shifted = adjoint.grad(shifted_squares)


def sum_of_shifted_gradient(x):
    return np.sum(_grad_shifted(x))


def nested_branch(x):
    y = x
    if np.sum(x) > 0.0:
        y = x * x
        if np.sum(x) > 5.0:
            y = np.sin(y)
    return np.sum(y)


_grad_nested_branch = adjoint.grad(nested_branch)


def sum_of_nested_branch_gradient(x):
    return np.sum(_grad_nested_branch(x))


def nested_loops(x):
    for i in range(2):
        for j in range(2):
            x = np.sin(x) * 1.1
    return np.sum(x)


_grad_nested_loops = adjoint.grad(nested_loops)


def sum_of_nested_loops_gradient(x):
    return np.sum(_grad_nested_loops(x))


def loops_in_loops(x, w):
    for i in range(2):
        for j in range(2):
            k = 0
            while k < 2:
                x = np.tanh(x * w) + x
                k = k + 1
    return np.sum(x * x)


_grad_loops_in_loops = adjoint.grad(loops_in_loops, (0, 1))


def norm_of_loops_in_loops_gradient(x, w):
    a, b = _grad_loops_in_loops(x, w)
    return np.sum(a * a) + np.sum(b)


def while_in_for(x):
    s = x
    for i in range(3):
        t = s
        j = 0
        while np.sum(t) < 4.0 and j < 3:
            t = t * 1.3 + 0.1
            j = j + 1
        s = s + np.sin(t)
    return np.sum(s * s)


_grad_while_in_for = adjoint.grad(while_in_for)


def while_in_for_hvp(x):
    return np.sum(_grad_while_in_for(x) * x)


class ProductNet(nn.Cell):
    def construct(self, x, y):
        return x * x * y + ops.sin(x * y)


class GradNet(nn.Cell):
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.grad_op = ops.GradOperation(get_all=True)

    def construct(self, x, y):
        gx, gy = self.grad_op(self.net)(x, y)
        return gx


def max_of_squares(x):
    return np.max(x * x)


_grad_max = adjoint.grad(max_of_squares)


def max_hvp(x):
    return np.sum(_grad_max(x) * x)


def stacked(x):
    return np.sum(np.stack([x, x * x], axis=1) ** 3)


def concatenated(x):
    return np.sum(np.concatenate([x, x[1:] * x[:-1], np.sin(x)]) ** 3)


_grad_stacked = adjoint.grad(stacked)
_grad_concatenated = adjoint.grad(concatenated)


def stacked_hvp(x):
    return np.sum(_grad_stacked(x) * x)


def concatenated_hvp(x):
    return np.sum(_grad_concatenated(x) * np.cos(x))


def numpy_keepdims(x):
    return np.sum(x.mean(axis=0, keepdims=True) * x)


def branch_on_dtype(x):
    if x.dtype == np.float32:
        return np.sum(x * 2.0)
    return np.sum(x * 3.0)


def returns_dict(x):
    return {"a": np.sum(x), "b": np.sum(x * x)}


def returns_nested(x):
    return np.sum(x), (x * 2.0, [np.sin(x)])


def returns_none(x):
    y = np.sum(x)


def returns_str(x):
    return "hello"


def returns_bool(x):
    return np.sum(x) > 0


def returns_pair(x):
    return x * 2, np.sum(x)


def break_on_tensor(x):
    for i in range(4):
        if np.sum(x) > 3.0:
            break
        x = x * 1.5
    return np.sum(x * x)


def continue_on_tensor(x):
    s = x * 0.0
    for i in range(4):
        x = np.sin(x) + 0.5
        if np.sum(x) > 1.5:
            continue
        s = s + x * x
    return np.sum(s + x)


def return_in_while(x):
    k = 0
    while np.sum(x) < 5.0:
        if k > 2:
            return np.sum(np.sin(x))
        x = x * 1.7
        k = k + 1
    return np.sum(x * x)


def break_with_python_counter(x):
    n = 0
    while n < 3:
        if np.sum(x) > 2.0:
            break
        x = x * 1.5
        n += 1
    return np.sum(x * x)


def while_true_returns(x):
    while True:
        if np.sum(x) > 2.0:
            return np.sum(x * x * x)
        x = x * 1.5


def return_in_nested_loops(y, z):
    for i in range(2):
        for j in range(3):
            z = z * 1.2 + y
            if np.sum(z) > 3.0:
                return np.sum(z * y)
    return np.sum(z)


def break_in_unrolled_loop(x):
    for scale in (1.5, 2.0, 0.5):
        if np.sum(x) > 3.0:
            break
        x = x * scale
    return np.sum(x * x)


def swap_then_return(a, b):
    for i in range(3):
        a, b = b, a * 2.0
        if np.sum(a) > 5.0:
            return np.sum(a * b)
    return np.sum(a)


def relu_of_negation(x):
    return np.sum(ops.relu(-x))


def swap_in_while(x):
    v1 = x
    t8 = x
    while np.sum(t8) < 1.0:
        v1, x = (x, v1 * 2.0)
        t8 = t8 + 1.0
    return np.sum(x * x)


def return_in_loop_in_branch(x, y):
    v4 = 1.0
    if np.sum(np.exp(y)) > 0.24:
        for i in range(1):
            v5 = np.sum(x)
            return v5 * x
    return v4 * x


_grad_return_in_loop_in_branch = adjoint.grad(return_in_loop_in_branch, grad_position=0)


def return_in_loop_in_branch_hvp(x, y):
    return np.sum(_grad_return_in_loop_in_branch(x, y) * x)


def while_return_in_else(x, z):
    if np.mean(x) > 1.0:
        pass
    else:
        t8 = z
        while np.sum(t8) < 1.0:
            return np.sum(x * x * z)
    return np.sum(x)


_grad_while_return_in_else = adjoint.grad(while_return_in_else, grad_position=(0, 1))


def while_return_in_else_second(x, z):
    g0, g1 = _grad_while_return_in_else(x, z)
    return np.sum(g0 * g0) + np.sum(g1)


REPEATED = np.array([0, 2, 0, 1])


def rnn_all(Wh, Wx, h, xs):
    for t in range(xs.shape[0]):
        h = np.tanh(h @ Wh + xs[t] @ Wx)
    return np.sum(h * h)


def gather_in_loop(x):
    s = 0.0
    for t in range(3):
        s = s + np.sum(np.sin(x[REPEATED]) * (t + 1.0)) + np.sum(x[t:t + 2] ** 2)
    return s


def _scale_in_place(a, b):
    v = ops.relu(b)
    a /= 1.32
    return v


def helper_changes_callers_array(x, y):
    z = x * 2.0
    z = z - _scale_in_place(z, z)
    return np.sum(z * y)


def column_slice_in_loop(x):
    # (found by the fuzzer: the slice's gradient, added in place, was emitted as `add_at(dx, g, :, 0:1)`)
    s = 0.0
    for t in range(40):
        s = s + np.sum(np.tanh(x[:, 0:1]) * np.cos(t * 0.28))
    return s


def changed_while_iterating_a_tuple(x, y, z):
    # (found by the fuzzer: `v[0:4] = w` changed x, which the loop reaches again as an item)
    v, w = (x, z)
    for u in (y, v, y):
        v[0:4] = w
        w = w - u
    return np.sum(w * w)


def alias_made_inside_a_while(x, w):
    # (found by the fuzzer: `v = y` inside the loop, then `v[:, 0] = ...` changes y, which the
    # loop did not carry)
    y = x * 1.0
    t = np.sum(w * w)
    while t < 3.0:
        v = y
        v[:, 0] = v[:, 1] * w[0]
        t = t * 1.5 + 0.4
    return np.sum(y * y)


def two_names_changed_in_a_branch_in_a_while(y):
    # (found by the fuzzer: after the if, the two names held two results, no longer one array)
    a = np.stack([np.tanh(y), y * y])
    b = a
    t = np.sum(y * y) * 0.1
    while t < 1.2:
        if a[1].max() > 0.45:
            t = t + 0.1
        else:
            b[-1] *= 0.92
        b[1:2] += a[0:1]
        t = t * 1.5 + 0.33
    return np.sum(a * np.sin(b))


# Second order through a gather whose gradient scatters a full sum's number into the rows
# (found by the fuzzer: the reverse of that scatter gave g a row-shaped gradient, not a number)
GATHER_ROWS = np.array([1, 0])


def _row_sum_times(x):
    return np.sum(x[GATHER_ROWS]) * x


def sum_of_gather_gradient(x):
    return np.sum(adjoint.grad(_row_sum_times)(x))


def _shifted_by_a_gather(x, y):
    y = y + x[GATHER_ROWS].sum()
    return y ** 3, y


def sum_of_shifted_gather_gradient(x, y):
    return np.sum(adjoint.grad(_shifted_by_a_gather)(x, y))


# An array changed through another name inside a branch that returns, in a loop (found by the
# fuzzer: the change was dropped with the branch, so `return x` returned x as it was)
def changed_through_an_alias_before_a_return_in_a_loop(x, y, z):
    for k in range(2):
        v = x
        if z[0, 3] > 0.04:
            v[3:4] = y * (k + 1)
            if np.sum(z) > 1.0:
                return np.sum(z * x)
    return np.sum(x * x)


def changed_through_an_alias_before_a_return_in_an_unrolled_loop(x, y, z):
    for s in (1.0, 2.0):
        v = x
        if z[0, 3] > 0.04:
            v[3:4] = y * s
            if np.sum(z) > 1.0:
                return np.sum(z * x * s)
    return np.sum(x * x * 3.0)
