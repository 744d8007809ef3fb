"""Code generation against an array namespace (torch, JAX, CuPy, array_api_strict, any library
that implements the array API standard), for calls whose arrays are of such a library.

NumPy and Dask arrays keep the NumPy code (``np.exp``...). For an argument of another library
the call compiles with a ``Namespace`` (``Request.namespace``: library, importable module,
device); the IR is the same, and this module decides how each primitive is printed:

- ``XP``: a function of the standard with NumPy's meaning, printed ``xp.exp(x)``;
- ``HELPERS``: a helper of ``runtime_xp`` made of the standard's functions (and, where the
  standard has none, of each library's own: scatter-add), printed ``rx.sum(xp, x, axis=1)``;
- ``PURE``: Python on tuples, lists and numbers, printed as in NumPy code;
- ``REFUSED``: no namespace form yet: a ``SourceError`` at the user's line says so.

Operators, attributes (``.shape``, ``.dtype``) and control flow print as in NumPy code.
Constants become namespace values: a NumPy array is converted once, when the code is built, on
the call's device; a NumPy scalar is written as a Python number; a dtype as ``xp.float32``.

Mixed inputs: NumPy arrays, Tensors, Parameters and numbers among the arguments and inputs are
converted at the top of the generated function (``rx.to_namespace(xp, w, X)``: the namespace,
device and float dtype of the first argument of the namespace) and their gradients converted
back (``rx.to_host``), so a NumPy weight's gradient is NumPy, as its input was. The conversions
are primitives with rules (each other's transpose), added before differentiation.
"""
import numpy as np

from ..errors import ArgumentError, SourceError
from . import gastutil, ir
from .prims import Prim, SAME, SHAPE, like

g = gastutil.pyast

RUNTIME = "adjoint.compiler.runtime_xp"
NAMES = ("xp", "rx", "_xp_device")     # what generated code binds: the namespace, the helpers, the device


class Namespace:
    """The array namespace a call is compiled for: ``library`` ('torch', 'jax', 'cupy',
    'array_api_strict' or a module name), ``module`` (imported as ``xp`` by generated code),
    ``xp`` itself and the ``device`` of the call's arrays (constants are built on it)."""

    def __init__(self, library, module, xp, device):
        self.library, self.module, self.xp, self.device = library, module, xp, device

    @property
    def key(self):
        return (self.module, str(self.device))

    @property
    def can_mutate(self):
        """Can generated code add into an array in place (a loop's accumulator)? Not on JAX."""
        return self.library != "jax"

    def __repr__(self):
        return "<namespace %s on %s>" % (self.module, self.device)


def _compat():
    try:
        import array_api_compat
    except ImportError:
        raise ArgumentError("arrays of another library (torch, JAX, CuPy...) need array_api_compat: "
                            "pip install array-api-compat (or pip install -e '.[xp]')") from None
    return array_api_compat


def is_namespace_array(x):
    """An array that generated code should work on through its array namespace: a torch
    tensor, a JAX or CuPy array, or any array with ``__array_namespace__`` that is not NumPy's
    or Dask's (those run the NumPy code)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return False
    t = type(x)
    module = getattr(t, "__module__", "") or ""
    if module.startswith(("torch", "jax", "jaxlib", "cupy")):
        return hasattr(x, "shape") and hasattr(x, "dtype")
    if hasattr(x, "__dask_graph__"):
        return False
    return hasattr(t, "__array_namespace__")


def namespace_of(x):
    """The Namespace of one array (is_namespace_array(x) holds)."""
    compat = _compat()
    xp = compat.array_namespace(x)
    module = xp.__name__
    from .runtime_xp import library
    return Namespace(library(xp), module, xp, compat.device(x))


def namespace_for(arrays):
    """The one Namespace of a call's arrays; an ArgumentError when they are of two libraries."""
    found = None
    for i, a in arrays:
        ns = namespace_of(a)
        if found is None:
            found = ns
        elif ns.module != found.module:
            raise ArgumentError("argument %d is a %s array but an earlier one is a %s array: one call "
                                "computes in one array library (NumPy arrays and Tensors are converted "
                                "to it, others are not)" % (i, ns.library, found.library))
    return found


# -- the boundary -----------------------------------------------------------------------------
def _to_namespace_impl(x, like):
    from . import runtime_xp as rx
    return rx.to_namespace(_compat().array_namespace(like), x, like)


def _to_host_impl(gr, x):
    from . import runtime_xp as rx
    return rx.to_numpy(_compat().array_namespace(gr), gr)


to_namespace = Prim("to_namespace", _to_namespace_impl, "x, like", emit="rx.to_namespace", diff=("x",),
                    shape=SAME, linear=True)
to_host = Prim("to_host", _to_host_impl, "g, x", emit="rx.to_host", diff=("g",), shape=like(1), linear=True)


@to_namespace.vjp
def _(x, like_, out, dout):
    return _to_host_impl(dout, x)


@to_host.vjp
def _(g_, x, out, dout):
    return _to_namespace_impl(dout, g_)


def convert_inputs(func, host, ref, loc=None):
    """Before differentiation: each of ``host`` (parameters that are NumPy arrays, Tensors or
    numbers) is converted to the namespace of ``ref`` (the first parameter of the namespace) at
    the top of ``func`` (charged to ``loc``, the def line), and every use reads the converted
    value."""
    if not host:
        return
    mapping, ops = {}, []
    for p in host:
        v = ir.Value(p.name, kind=None)
        ops.append(ir.Op(to_namespace, [p, ref], v, loc))
        mapping[p] = v

    def sub(a):
        return mapping.get(a, a) if isinstance(a, ir.Value) else a

    for op in ir.walk(func.body.ops):
        # (ops.assign writes into the Parameter's own NumPy array: it keeps the unconverted one)
        op.args = [a if k == 0 and op.prim.name == "assign" else sub(a) for k, a in enumerate(op.args)]
        for block in op.blocks:
            block.yields = [sub(y) for y in block.yields]
    func.outputs = [sub(o) for o in func.outputs]
    func.body.ops[:0] = ops


# -- how primitives print ---------------------------------------------------------------------
# functions of the standard with NumPy's meaning (positional arguments only)
XP = {
    "exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh", "sqrt": "sqrt",
    "square": "square", "absolute": "abs", "sign": "sign", "floor": "floor", "log1p": "log1p",
    "expm1": "expm1", "log2": "log2", "log10": "log10", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "sinh": "sinh", "cosh": "cosh", "arcsinh": "asinh", "arccosh": "acosh",
    "arctanh": "atanh", "arctan2": "atan2", "logaddexp": "logaddexp", "maximum": "maximum",
    "minimum": "minimum", "logical_and": "logical_and", "logical_or": "logical_or",
    "logical_not": "logical_not",
}
# helpers of runtime_xp, called with the namespace first: rx.<name>(xp, *arguments)
HELPERS = {
    "sum", "mean", "amax", "amin", "prod", "argmax", "argmin", "argsort", "cumsum", "reshape",
    "transpose", "expand_dims", "squeeze", "swapaxes", "broadcast_to", "astype", "cast_like", "copy",
    "atleast_1d", "atleast_2d", "flip", "roll", "tril", "triu", "tile", "repeat", "moveaxis", "concat",
    "stack", "index_along", "put_along", "concat_part", "concat_part_grad", "zeros_like", "ones_like",
    "zeros_like_tuple", "diagonal", "diag", "getitem", "getitem_grad", "scatter_add", "setitem",
    "check_unshared", "take_along_axis", "take_along_axis_grad", "sigmoid", "relu", "positive", "exp2",
    "reciprocal", "logaddexp2", "where", "clip", "tie_mask", "softplus", "erf", "erfc", "unbroadcast",
    "broadcast_like", "unreduce", "reduced_size", "extreme_weights", "softmax", "log_softmax", "mT",
    "matmul_dx", "matmul_dy", "inv", "det", "solve", "shape_of", "assign", "dropout_mask",
    "list_extend_zeros", "list_scatter", "stack_list", "unstack_list", "concat_list", "split_list",
    "check_sens", "to_namespace", "to_host", "ce_weights", "ce_denominator", "diag_grad", "diagonal_grad",
    "tile_grad", "repeat_grad",
}
# Python on tuples, lists, numbers and shapes: printed as in NumPy code
PURE = {
    "identity", "pos", "stop_gradient", "make_tuple", "tuple_getitem", "inv_perm", "copy_tape", "print",
    "format", "assert", "make_slice", "make_list", "list_append", "list_getitem", "list_len", "list_init",
    "add_lists", "hstack_axis", "doubled_shape", "torch_pad_width", "batch_axes", "channel_shape",
    "tail_axes", "shape", "ndim", "size", "dtype_of", "call", "call_effect",
}
_CONV = "convolution and pooling work on NumPy strides (runtime_conv.py)"
REFUSED = {
    "conv2d": _CONV, "conv2d_grad_input": _CONV, "conv2d_grad_weight": _CONV, "max_pool2d": _CONV,
    "max_pool2d_grad": _CONV, "max_pool2d_pick": _CONV, "avg_pool2d": _CONV, "avg_pool2d_grad": _CONV,
    "bias_add": _CONV, "bias_add_grad": _CONV, "bias_broadcast": _CONV,
    "einsum": "einsum is not in the array API standard",
    "einsum_grad": "einsum is not in the array API standard",
    "prod_others": "the exact gradient of prod uses cumulative products the standard lacks",
    "prod_others_grad": "the exact gradient of prod uses cumulative products the standard lacks",
    "pad": "np.pad is not in the array API standard", "pad_grad": "np.pad is not in the array API standard",
    "ms_ones": "it makes a NumPy array while the code runs", "ms_zeros": "it makes a NumPy array while the code runs",
    "ms_arange": "it makes a NumPy array while the code runs",
}

# NumPy functions that make an array from sizes (np.arange(n) with n known when the code runs):
# made by NumPy, so with NumPy's dtypes, then converted (rx.from_host)
_CREATION = {"np.arange", "np.zeros", "np.ones", "np.full", "np.eye", "np.identity", "np.empty", "np.linspace"}


def _not_an_array(v):
    """Is ``v`` known to be something other than an array (a shape, a tuple)?"""
    if isinstance(v, ir.Const):
        return not isinstance(v.value, np.ndarray)
    producer = v.op.prim if v.op is not None else None
    return producer is not None and (producer.shape == SHAPE or producer.name in ("make_tuple", "inv_perm"))


def _basic(value):
    return value is None or value is Ellipsis or isinstance(value, slice) or (
        isinstance(value, int) and not isinstance(value, bool))


def refuse(op, ns, why):
    what = op.prim.name
    raise SourceError("`%s` has no form for %s arrays in adjoint: %s" % (what, ns.library, why), op.loc,
                      hint="compute it with NumPy arrays, or outside the differentiated function")


class Emission:
    """What codegen asks while printing a function for a namespace (``func.namespace``)."""

    def __init__(self, ns):
        self.ns = ns
        self.helpers = False

    def expr(self, em, op):
        """The ``ast`` expression for ``op``, or None where the NumPy form is also this one's."""
        prim, name = op.prim, op.prim.name
        if prim.infix or prim.unary or prim.attr or name in ("ipow", "tape_len") or name in PURE and name not in (
                "call", "call_effect"):
            return None
        if name in ("call", "call_effect"):
            # a function without a rule, run while the gradient runs: NumPy's own (other than
            # np.random and array creation from sizes) would convert the arrays to NumPy; what
            # it returns is made a value of the namespace (np.arange(n), a constant's method...)
            from .codegen import _module_path
            path = _module_path(op.args[0].value)
            if path is not None and not path.startswith("np.random.") and path not in _CREATION:
                raise SourceError("`%s` has no derivative rule in adjoint, so it would run on NumPy arrays "
                                  "while the gradient runs; the arrays here are %s arrays" % (path, self.ns.library),
                                  op.loc, hint="use functions adjoint differentiates (docs/ops.md), or compute "
                                               "it before the call and pass it in")
            self.helpers = True
            em.xp = None                    # (print the call itself as NumPy code does)
            try:
                call = em.expr(op)
            finally:
                em.xp = self
            return em.call_expr("rx.from_host", [gastutil.ast_name("xp"), call, gastutil.ast_name("_xp_device")], [])
        if name == "getitem" and _not_an_array(op.args[0]):
            return None                     # (a shape: x.shape[0])
        if name == "getitem" and all(isinstance(a, ir.Const) and _basic(a.value) for a in op.args[1:]):
            # ints, slices, None: x[i, 1:3, ...], with the trailing ``...`` the standard asks for
            index = [em.arg(a, in_subscript=True) for a in op.args[1:]]
            if not any(a.value is Ellipsis for a in op.args[1:]):
                index.append(gastutil.ast_constant(Ellipsis))
            return g.Subscript(value=em.arg(op.args[0]), slice=g.Tuple(elts=index, ctx=g.Load()), ctx=g.Load())
        if name in XP:
            positional, keywords = em.call_args(prim, op.args)
            # (logical ops often combine Python flags, e.g. recursion's `done`: decided at run time)
            if all(isinstance(a, ir.Value) and a.kind != "number" for a in op.args) \
                    and not name.startswith("logical_"):
                return em.call_expr("xp." + XP[name], positional, keywords)
            self.helpers = True         # (a number among the arguments: the standard wants arrays)
            return em.call_expr("rx.elementwise",
                                [gastutil.ast_name("xp"), gastutil.ast_constant(XP[name])] + positional, keywords)
        if name in HELPERS:
            self.helpers = True
            positional, keywords = em.call_args(prim, op.args)
            return em.call_expr("rx." + name, [gastutil.ast_name("xp")] + positional, keywords)
        refuse(op, self.ns, REFUSED.get(name, "no namespace form is written for it"))

    def accumulate(self, em, acc, g_, index):
        """A loop accumulator's ``add_at(dxs, g, i)``: ``dxs = rx.scatter_add(xp, dxs, g, i)``,
        which adds in place where the library can (the generic scatter makes a new array)."""
        self.helpers = True
        return em.call_expr("rx.scatter_add", [gastutil.ast_name("xp"), acc, g_] + index, [])

    def const(self, em, value):
        """A constant's namespace form, or None (as in NumPy code)."""
        if isinstance(value, np.generic):
            return em.const(value.item())
        if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
            dt = np.dtype(value)
            return gastutil.ast_expr("xp.%s" % ("bool" if dt.kind == "b" else dt.name))
        return None

    def imports(self):
        lines = ["import %s as xp" % self.ns.module]
        if self.helpers:
            lines.append("import %s as rx" % RUNTIME)
        return lines

    def values(self, extra):
        """The module's names: the namespace, the helpers, and constants on the call's device."""
        import importlib
        out = {"xp": self.ns.xp, "rx": importlib.import_module(RUNTIME), "_xp_device": self.ns.device}
        for k, v in extra.items():
            if isinstance(v, np.ndarray):
                v = self.ns.xp.asarray(v, device=self.ns.device)
            out[k] = v
        return out
