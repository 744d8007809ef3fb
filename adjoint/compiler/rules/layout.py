"""Primitives that rearrange or copy elements (flip, roll, tile, repeat, pad, triangles, moving
axes), the NumPy functions made of them (hstack, vstack, split, ravel...), and their rules.

Each is linear; its rule is its transpose, and the transpose's rule is the primitive again,
so gradients of gradients work.
"""
import numpy as np

from .. import runtime_ops as ro
from ..prims import Prim, SAME, alias, like, nondiff
from .indexing import getitem
from .shape import concat, reshape
from .structural import make_slice

flip = Prim("flip", np.flip, "x, axis=None", emit="np.flip", keywords=(), shape=SAME, linear=True)
roll = Prim("roll", np.roll, "x, shift, axis=None", emit="np.roll", keywords=(), diff=("x",), shape=SAME, linear=True)
tril = Prim("tril", np.tril, "x, k=0", emit="np.tril", diff=("x",), shape=SAME, linear=True)
triu = Prim("triu", np.triu, "x, k=0", emit="np.triu", diff=("x",), shape=SAME, linear=True)
moveaxis = Prim("moveaxis", np.moveaxis, "x, source, destination", emit="np.moveaxis", diff=("x",), linear=True)
tile = Prim("tile", np.tile, "x, reps", emit="np.tile", diff=("x",), linear=True)
tile_grad_p = Prim("tile_grad", ro.tile_grad, "g, x, reps", diff=("g",), shape=like(1), shape_only=(1,), linear=True)
repeat = Prim("repeat", np.repeat, "x, repeats, axis=None", emit="np.repeat", keywords=(), diff=("x",), linear=True)
repeat_grad_p = Prim("repeat_grad", ro.repeat_grad, "g, x, repeats, axis=None", diff=("g",), shape=like(1),
                     shape_only=(1,), linear=True)
pad = Prim("pad", ro.pad, "x, pad_width, mode='constant', constant_values=0", diff=("x", "constant_values"), linear=True)
pad_grad_p = Prim("pad_grad", ro.pad_grad, "g, x, pad_width, mode='constant'", diff=("g",), shape=like(1),
                  shape_only=(1,), linear=True)
atleast_1d = Prim("atleast_1d", np.atleast_1d, emit="np.atleast_1d", linear=True)
atleast_2d = Prim("atleast_2d", np.atleast_2d, emit="np.atleast_2d", linear=True)
hstack_axis = Prim("hstack_axis", ro.hstack_axis)
torch_pad_width = Prim("torch_pad_width", ro.torch_pad_width, "x, padding", shape_only=(0,))
nondiff(hstack_axis, torch_pad_width)


@flip.vjp
def _(x, axis, out, dout):
    return np.flip(dout, axis)


@roll.vjp
def _(x, shift, axis, out, dout):
    return np.roll(dout, -shift, axis)


@tril.vjp
def _(x, k, out, dout):
    return np.tril(dout, k)


@triu.vjp
def _(x, k, out, dout):
    return np.triu(dout, k)


@moveaxis.vjp
def _(x, source, destination, out, dout):
    return np.moveaxis(dout, destination, source)


@tile.vjp
def _(x, reps, out, dout):
    return ro.tile_grad(dout, x, reps)


@tile_grad_p.vjp
def _(g, x, reps, out, dout):
    return np.tile(dout, reps)


@repeat.vjp
def _(x, repeats, axis, out, dout):
    return ro.repeat_grad(dout, x, repeats, axis)


@repeat_grad_p.vjp
def _(g, x, repeats, axis, out, dout):
    return np.repeat(dout, repeats, axis)


@pad.vjp
def _(x, pad_width, mode, constant_values, out, dout):
    """Modes 'constant' (constant_values gets the padding's gradient), 'edge', 'reflect',
    'symmetric', 'wrap' (a padded element's gradient goes to the element it copies)."""
    inner = ro.pad_grad(dout, x, pad_width, mode)
    if mode == "constant":
        return inner, np.sum(dout) - np.sum(inner)
    return inner, None


@pad_grad_p.vjp
def _(g, x, pad_width, mode, out, dout):
    return ro.pad(dout, pad_width, mode)


@atleast_1d.vjp
def _(x, out, dout):
    return np.reshape(dout, np.shape(x))


@atleast_2d.vjp
def _(x, out, dout):
    return np.reshape(dout, np.shape(x))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad_mode(mode):
    """np.pad's modes with a derivative here (the statistics modes have none)."""
    if mode not in _PAD_MODES:
        from ...errors import SourceError
        raise SourceError("np.pad with mode=%r has no derivative rule in adjoint" % (mode,),
                          hint="use one of %s" % ", ".join(repr(m) for m in _PAD_MODES))
    return mode


pad_mode._adjoint_compile_time = True


def np_pad(array, pad_width, mode="constant", constant_values=0, **kwargs):
    return pad(array, pad_width, pad_mode(mode), constant_values)


def np_atleast_1d(*arys):
    if len(arys) == 1:
        return atleast_1d(arys[0])
    return tuple([atleast_1d(a) for a in arys])


def np_atleast_2d(*arys):
    if len(arys) == 1:
        return atleast_2d(arys[0])
    return tuple([atleast_2d(a) for a in arys])


def np_hstack(tup, dtype=None, casting="same_kind"):
    """Along axis 1, or axis 0 for 1-D arrays (decided when the code runs)."""
    arrays = [atleast_1d(a) for a in tup]
    return concat(*arrays, axis=hstack_axis(arrays[0]))


def np_vstack(tup, dtype=None, casting="same_kind"):
    return concat(*[atleast_2d(a) for a in tup], axis=0)


def np_ravel(a, order="C"):
    return reshape(a, (-1,))


def np_fliplr(m):
    return flip(m, 1)


def np_flipud(m):
    return flip(m, 0)


def along(axis, index):
    """An index tuple that applies ``index`` along ``axis`` (and takes all of the other axes)."""
    if axis >= 0:
        return (slice(None),) * axis + (index,)
    return (Ellipsis, index) + (slice(None),) * (-axis - 1)


along._adjoint_compile_time = True


def np_split(ary, indices_or_sections, axis=0):
    """Equal sections (their number given) or the pieces between the given indices: slices
    of ary, as many as known while compiling."""
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        size = np.shape(ary)[axis] // n
        return [getitem(ary, *along(axis, make_slice(0 if k == 0 else k * size, (k + 1) * size)))
                for k in range(n)]
    bounds = [0] + list(indices_or_sections) + [None]
    return [getitem(ary, *along(axis, slice(bounds[k], bounds[k + 1]))) for k in range(len(bounds) - 1)]


alias(np.pad, np_pad)
alias(np.atleast_1d, np_atleast_1d)
alias(np.atleast_2d, np_atleast_2d)
alias(np.hstack, np_hstack)
alias(np.vstack, np_vstack)
alias(np.ravel, np_ravel)
alias(np.fliplr, np_fliplr)
alias(np.flipud, np_flipud)
alias(np.split, np_split)


def split_points(x, split_size_or_sections, axis=0):
    """MindSpore's split sizes as np.split's indices. An int chunk size needs x's length along
    axis: known for an array, not for a Tensor value while compiling."""
    from .. import ir
    if isinstance(split_size_or_sections, (tuple, list)):
        points, total = [], 0
        for size in list(split_size_or_sections)[:-1]:
            total += int(size)
            points.append(total)
        return points
    if isinstance(x, ir.Value):
        from ...errors import SourceError
        raise SourceError("ops.split(x, %r) cuts x into pieces of %r: how many depends on x's shape, "
                          "which adjoint does not know while compiling"
                          % (split_size_or_sections, split_size_or_sections),
                          hint="give the sizes of the pieces, e.g. ops.split(x, (2, 2, 1), axis), or use "
                               "np.split(x, n, axis) for n equal pieces")
    n = np.shape(x)[axis]
    return list(range(split_size_or_sections, n, split_size_or_sections))


split_points._adjoint_compile_time = True


_MS_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def ms_pad_mode(mode):
    """MindSpore's pad mode as np.pad's."""
    if mode not in _MS_PAD_MODES:
        from ...errors import SourceError
        raise SourceError("ops.pad with mode=%r is not supported" % (mode,),
                          hint="use one of %s" % ", ".join(repr(m) for m in _MS_PAD_MODES))
    return _MS_PAD_MODES[mode]


ms_pad_mode._adjoint_compile_time = True


def axis_tuple(axes):
    """A list of axes as a tuple (NumPy takes tuples); anything else as it is."""
    return tuple(axes) if isinstance(axes, list) else axes


axis_tuple._adjoint_static = True


# -- MindSpore's constructors (no gradient) -----------------------------------------------------
ms_ones = Prim("ms_ones", ro.ms_ones, "shape, dtype=None")
ms_zeros = Prim("ms_zeros", ro.ms_zeros, "shape, dtype=None")
ms_arange = Prim("ms_arange", ro.ms_arange, "start=0, end=None, step=1, dtype=None")
nondiff(ms_ones, ms_zeros, ms_arange)
