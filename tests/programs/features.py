"""Python that users write in code adjoint compiles (issue 12): loops over a Tensor's rows,
f-strings and str.format of run-time values, item and slice assignment, lists built in
run-time loops, recursion."""
import numpy as np


def over_rows(x, w):
    s = np.zeros(3)
    for row in x:
        s = s + np.tanh(row * w)
    return np.sum(s * s)


def over_pairs(x):
    t = 0.0
    for a, b in x:
        t = t + a * np.sin(b)
    return t


def prints_values(x):
    loss = np.sum(x * x)
    print(f"shape {x.shape} loss {loss:.3f} {{braces}} {x.shape[0]!r}")
    print("n={} mean={:.2f}".format(x.shape[0], np.mean(x)))
    return loss


def item_assignment(x):
    y = x * 2.0
    y[0] = x[1] * 3.0
    y[1:3] = np.sin(x[:2])
    z = y
    z[3] += x[0] * x[3]
    return np.sum(y * y) + np.sum(z)


# -- item assignment inside control flow, and through other names --------------------------------
def set_in_branch(x):
    y = x * 1.0
    z = y                                   # (another name for y: it sees the change too)
    if np.sum(x) > 0:
        y[0] = x[1] * 3.0
    return np.sum(y * y) + np.sum(z * x)


def set_in_loop(x):
    y = np.zeros(x.shape[0])
    z = y
    for i in range(x.shape[0]):
        y[i] = x[i] * x[i - 1]
    return np.sum(z * z)


def running_sum_in_place(x):
    y = x * 1.0
    for i in range(1, x.shape[0]):
        h = y[i - 1]                        # (a number: y is 1-d)
        y[i] += h * 0.5
    return np.sum(y * y)


def set_in_while(x):
    y = x * 1.0
    i = 0
    while np.sum(y) < 50.0:
        y[i % 3] = y[i % 3] * 2.0 + 1.0
        i = i + 1
    return np.sum(y)


def set_beside_a_view(x):
    y = np.stack([x, x * 2.0])
    z = y[1]                                # a view of row 1; row 0 changes
    y[0, 1] = 5.0 * x[0]
    return np.sum(y * z)


def set_under_a_view(x):
    y = np.stack([x, x * 2.0])
    z = y[0]                                # a view of the row that changes: refused
    y[0, 1] = 5.0
    return np.sum(z * x)


# -- lists built while the code runs ---------------------------------------------------------
def rnn_outputs(xs, w, h):
    outs = []
    for t in range(xs.shape[0]):
        h = np.tanh(h * w + xs[t])
        outs.append(h)
    ys = np.stack(outs)
    return np.sum(ys * ys) + np.sum(outs[-1]) + len(outs)


def append_in_branch(xs):
    outs = [xs[0]]
    for t in range(xs.shape[0]):
        if np.sum(xs[t]) > 0:
            outs.append(xs[t] * 2.0)
        else:
            outs.append(np.sin(xs[t]))
    return np.sum(np.stack(outs) ** 2)


def append_sometimes(xs):
    outs = [xs[0]]
    for t in range(xs.shape[0]):
        if np.sum(xs[t]) > 0:
            outs.append(xs[t] * 2.0)
    return np.sum(np.concatenate(outs) ** 2)


def append_until(x):
    outs = []
    while np.sum(x) < 10.0:
        x = x * 1.5 + 0.1
        outs.append(x)
    return np.sum(np.stack(outs)) + len(outs)


def read_back(xs):
    outs = [xs[0]]
    for t in range(1, xs.shape[0]):
        outs.append(outs[-1] * xs[t] + outs[t - 1])
    total = 0.0
    for o in outs:
        total = total + np.sum(np.sin(o))
    return total


def append_then_change(x):
    y = x * 1.0
    outs = []
    for i in range(40):
        outs.append(y)                       # the same array each time...
        y[0] = y[0] * 0.9                    # ...changed in place: refused
    return np.sum(np.stack(outs))


def change_rows_while_looping(x):
    y = x * 1.0
    s = 0.0
    for row in y:
        y[1] = row * 2.0                     # Python's loop would see the new row: refused
        s = s + np.sum(row)
    return s


# -- recursion -------------------------------------------------------------------------------
def shrink(x):
    return shrink(x * 0.5) if x.sum() > 1 else x       # depth decided by the data: a loop


def halve_until_small(x):
    return np.sum(shrink(x) ** 2)


def damp(x, w):
    if np.max(np.abs(x)) < 0.1:
        return x
    y = np.tanh(x * w)
    return damp(y * 0.5, w)                             # tail calls in an if statement


def damped(x, w):
    return np.sum(damp(x, w) * x)


def countdown(x, n):
    return x if n == 0 else countdown(np.sin(x) + x, n - 1)    # depth known while compiling


def counted(x):
    return np.sum(countdown(x, 3))


def nested_sum(x):
    return x + nested_sum(x * 0.5) if x.sum() > 1 else x      # down, then back up


def uses_nested_sum(x):
    return np.sum(np.sin(nested_sum(x)))


def series(x, y):
    if np.sum(x) > 0.3:
        return y * series(x * 0.7, y) + np.sin(x)          # reads y and x on the way up
    return x * y


def uses_series(x, y):
    return np.sum(series(x, y))


def halve_then_nest(x):
    if np.sum(x) > 4:
        return halve_then_nest(x * 0.5)                     # tail calls and a way back up
    if np.sum(x) > 1:
        return np.tanh(x) * halve_then_nest(x - 0.5)
    return x


def uses_halve_then_nest(x):
    return np.sum(halve_then_nest(x))


def tree(x):
    return tree(x * 0.5) + tree(x * 0.3) if x.sum() > 1 else x     # two calls: refused


def uses_tree(x):
    return np.sum(tree(x))
