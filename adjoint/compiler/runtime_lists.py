"""Python lists built while the generated code runs (``outs.append(h)`` in a loop whose length
is known only then). They are values like arrays: appending makes a new list, and a list's
gradient is a list of the gradients of its items."""
import numpy as np

from .runtime import zeros_like


def make_list(*xs):
    return list(xs)


def list_append(lst, x):
    """``lst + [x]``: a new list (the old one may still be read, e.g. from a loop's tape)."""
    return lst + [x]


def list_getitem(lst, i):
    return lst[i]


def list_len(lst):
    return len(lst)


def list_init(lst):
    """All but the last item: the gradient of the list an item was appended to."""
    return lst[:-1]


def list_extend_zeros(g, lst):
    """``g`` with zeros shaped like ``lst``'s last item appended (the adjoint of list_init)."""
    return g + [zeros_like(lst[-1])]


def list_scatter(g, lst, i):
    """Zeros shaped like ``lst``'s items, with ``g`` at ``i`` (the gradient of ``lst[i]``)."""
    out = [zeros_like(v) for v in lst]
    out[i] = g
    return out


def add_lists(a, b):
    """Gradients of a list, added item by item."""
    return [x + y for x, y in zip(a, b)]


def stack_list(lst, axis=0):
    return np.stack(lst, axis=axis)


def unstack_list(g, axis=0):
    return list(np.moveaxis(g, axis, 0))


def concat_list(lst, axis=0):
    return np.concatenate(lst, axis=axis)


def split_list(g, lst, axis=0):
    """The pieces of ``g`` (the gradient of np.concatenate(lst, axis)) shaped like lst's items."""
    sizes = np.cumsum([np.shape(v)[axis] for v in lst])[:-1]
    return list(np.split(g, sizes, axis=axis))
