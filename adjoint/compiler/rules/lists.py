"""Python lists built while the generated code runs, and their gradients (lists too)."""
from .. import runtime_lists as rl
from ..prims import Prim, nondiff

__all__ = ["make_list", "list_append", "list_getitem", "list_len", "list_init", "list_extend_zeros",
           "list_scatter", "add_lists", "stack_list", "unstack_list", "concat_list", "split_list"]

make_list = Prim("make_list", rl.make_list, "*xs", diff=("xs",), linear=True, kind="list")
list_append = Prim("list_append", rl.list_append, "lst, x", linear=True, kind="list")
list_getitem = Prim("list_getitem", rl.list_getitem, "lst, i", diff=("lst",), linear=True)
list_len = Prim("list_len", rl.list_len, "lst")
list_init = Prim("list_init", rl.list_init, "lst", linear=True, kind="list")
list_extend_zeros = Prim("list_extend_zeros", rl.list_extend_zeros, "g, lst", diff=("g",), linear=True, kind="list")
list_scatter = Prim("list_scatter", rl.list_scatter, "g, lst, i", diff=("g",), linear=True, kind="list")
add_lists = Prim("add_lists", rl.add_lists, "a, b", linear=True, kind="list")
stack_list = Prim("stack_list", rl.stack_list, "lst, axis=0", diff=("lst",), linear=True)
unstack_list = Prim("unstack_list", rl.unstack_list, "g, axis=0", diff=("g",), linear=True, kind="list")
concat_list = Prim("concat_list", rl.concat_list, "lst, axis=0", diff=("lst",), linear=True)
split_list = Prim("split_list", rl.split_list, "g, lst, axis=0", diff=("g",), linear=True, kind="list")
nondiff(list_len)


@make_list.vjp
def _(*xs, out, dout):
    return tuple([rl.list_getitem(dout, i) for i in range(len(xs))])


@list_append.vjp
def _(lst, x, out, dout):
    return rl.list_init(dout), rl.list_getitem(dout, -1)


@list_getitem.vjp
def _(lst, i, out, dout):
    return rl.list_scatter(dout, lst, i)


@list_init.vjp
def _(lst, out, dout):
    return rl.list_extend_zeros(dout, lst)


@list_extend_zeros.vjp
def _(g, lst, out, dout):
    return rl.list_init(dout)


@list_scatter.vjp
def _(g, lst, i, out, dout):
    return rl.list_getitem(dout, i)


@add_lists.vjp
def _(a, b, out, dout):
    return dout, dout


@stack_list.vjp
def _(lst, axis, out, dout):
    return rl.unstack_list(dout, axis)


@unstack_list.vjp
def _(g, axis, out, dout):
    return rl.stack_list(dout, axis)


@concat_list.vjp
def _(lst, axis, out, dout):
    return rl.split_list(dout, lst, axis)


@split_list.vjp
def _(g, lst, axis, out, dout):
    return rl.concat_list(dout, axis)
