"""Forward mode, and the functions built on it and on reverse mode.

With MindSpore 2.10's names, arguments and results where MindSpore has the function:

    ops.jvp(fn, inputs, v, has_aux=False)       -> (outputs, jvp)  or (first output, jvp, aux)
    ops.vjp(fn, *inputs, weights=None, has_aux=False) -> (outputs, vjp_fn)  or (..., aux)
    ops.linearize(fn, inputs)                   -> (outputs, jvp_fn)
    jacfwd(fn, grad_position=0, has_aux=False)  -> jac_fn;  jac_fn(*args) -> jacobian(s)
    jacrev(fn, grad_position=0, has_aux=False)  -> jac_fn

and JAX's conventions where it has none:

    hessian(fn, grad_position=0, has_aux=False) -> hess_fn   (d2 out / dx_i dx_j: out.shape + xi.shape + xj.shape)
    hvp(fn, inputs, v)                          -> the Hessian-vector product H v

``jvp`` compiles the tangent code of ``fn`` (forward mode, ``compiler/forward.py``); ``hvp``
compiles the tangent code of ``fn``'s gradient (forward over reverse: one generated function,
no loop over basis vectors). ``jacfwd`` pushes the basis vectors through the compiled jvp,
``jacrev`` pulls them through the compiled vjp, ``hessian`` pushes them through the compiled
Hessian-vector product (one call per input element, per output element for a non-scalar output).
Every function returned keeps its compiled code: ``.source`` shows it.
"""
from collections import OrderedDict

import numpy as np

from .compiler.trees import flatten
from .errors import ArgumentError
from .gradfn import GradFunction
from .tensor import Parameter, Tensor


class _Layout:
    """What a gradient function differentiates and returns, for calls of any arity."""

    def __init__(self, positions, layout, key):
        self.positions, self.layout, self.key = positions, layout, key
        self.__qualname__ = "functional.%s" % key[0]

    def __call__(self, n_args, n_weights, single_weight):
        positions = tuple(range(n_args)) if self.positions is None else self.positions
        for p in positions:
            if p >= n_args:
                raise ArgumentError("Position index %d is exceed input size." % p)
        layout = self.layout(positions) if callable(self.layout) else self.layout
        return positions, layout


_MADE = OrderedDict()
_MAX_MADE = 256


def _made(kind, fn, key, make):
    """The gradient function ``make()`` built for ``fn`` before (a one-shot call such as
    ``ops.jvp(fn, x, v)`` finds its compiled code again without rebuilding anything)."""
    k = (kind, id(fn)) + key
    hit = _MADE.get(k)
    if hit is not None and hit[0] is fn:
        return hit[1]
    made = make()
    _MADE[k] = (fn, made)
    if len(_MADE) > _MAX_MADE:
        _MADE.popitem(last=False)
    return made


def _positions(grad_position):
    """(positions tuple, bare: a single int was given)."""
    if isinstance(grad_position, int) and not isinstance(grad_position, bool):
        return (grad_position,), True
    positions = tuple(grad_position)
    if not positions or not all(isinstance(p, int) and p >= 0 for p in positions):
        raise ArgumentError("grad_position must be a non-negative int or a non-empty tuple of them; got %r"
                            % (grad_position,))
    return positions, False


def _as_tuple(inputs):
    return (tuple(inputs), False) if isinstance(inputs, (tuple, list)) else ((inputs,), True)


# -- forward mode ---------------------------------------------------------------------------------
def _tangent_fn(fn, n, has_aux, returns, positions=None, api="jvp", optimize=True):
    """A forward-mode gradient function of ``fn``: called as ``(*args, *tangents)`` (a tangent
    per differentiated position), it returns ``returns`` ('jvp': (outputs, tangents[, aux]);
    'tan': the tangents; 'tan_aux': (tangents, aux))."""
    positions = tuple(range(n)) if positions is None else tuple(positions)
    if returns == "jvp":
        layout = (("out", 0), ("tan", None), ("aux", "one")) if has_aux else (("out", None), ("tan", None))
    elif returns == "tan_aux" and has_aux:
        layout = (("tan", None), ("aux", "one"))
    else:
        layout = ("tan", None)
    return GradFunction(fn, layout_fn=_Layout(positions, layout, (api, positions, layout)), has_aux=has_aux,
                        api=api, mode="jvp", n_tangents=len(positions), optimize=optimize)


def jvp(fn, inputs, v, has_aux=False):
    """MindSpore's ``ops.jvp``: ``fn``'s outputs at ``inputs`` and their tangents along ``v``
    (a Tensor, or a tuple with one tangent per input, each shaped like its input), by forward
    mode. With ``has_aux``, only the first output is differentiated: ``(first output, its
    tangent, the other outputs)`` (one of them by itself, several as a tuple)."""
    ins, single = _as_tuple(inputs)
    vs = (v,) if single else tuple(v) if isinstance(v, (tuple, list)) else (v,)
    if len(vs) != len(ins):
        raise ArgumentError("jvp: v must have one tangent per input (%d); got %d" % (len(ins), len(vs)))
    return jvp_function(fn, len(ins), has_aux)(*ins, *vs)


def jvp_function(fn, n_inputs=1, has_aux=False):
    """The compiled jvp of ``fn`` that ``ops.jvp`` calls: ``(*inputs, *tangents)`` -> ``ops.jvp``'s
    result; ``.source`` shows the tangent code."""
    return _made("jvp", fn, (n_inputs, bool(has_aux)), lambda: _tangent_fn(fn, n_inputs, has_aux, "jvp"))


def linearize(fn, inputs):
    """MindSpore's ``ops.linearize``: ``(outputs, jvp_fn)``; ``jvp_fn(v)`` is the tangent of
    the outputs along ``v`` (shaped like ``inputs``), at ``inputs``. (The compiled tangent code
    runs the primal computation again at each call.)"""
    ins, single = _as_tuple(inputs)
    g = _made("linearize", fn, (len(ins),), lambda: _tangent_fn(fn, len(ins), False, "jvp", api="linearize"))
    zeros = tuple(_zeros_like(a) for a in ins)
    outputs = g(*ins, *zeros)[0]

    def jvp_fn(v):
        vs = (v,) if single else tuple(v)
        if len(vs) != len(ins):
            raise ArgumentError("linearize: the tangent must have one part per input (%d); got %d"
                                % (len(ins), len(vs)))
        return g(*ins, *vs)[1]
    jvp_fn.source = property(lambda self: g.source)
    return outputs, jvp_fn


# -- reverse mode ---------------------------------------------------------------------------------
def _cotangent_fn(fn, n, weights, single_weight, has_aux, api="vjp"):
    """A reverse-mode gradient function of ``fn`` taking the output's gradient (sens) last and
    returning (outputs, (input gradients...)[, weight gradients])."""
    inputs = tuple(("dx", i) for i in range(n))
    grads = inputs
    if weights:
        params = ("dw", 0) if single_weight else tuple(("dw", j) for j in range(len(weights)))
        grads = (inputs, params)
    out = (("out", 0), ("aux", "one")) if has_aux else (("out", None),)
    layout = (out, grads)
    return GradFunction(fn, weights, single_weight, _Layout(tuple(range(n)), layout, (api, n, layout)),
                        sens=True, has_aux=has_aux, api=api, split=True)


def vjp(fn, *inputs, weights=None, has_aux=False):
    """MindSpore's ``ops.vjp``: ``(outputs, vjp_fn)`` (with ``has_aux``: ``(first output, vjp_fn,
    the other outputs)``); ``vjp_fn(v)``, ``v`` shaped like the (first) output, gives the
    gradients of ``<outputs, v>``: a tuple with one per input, and with ``weights`` a pair
    (input gradients, Parameter gradients)."""
    single = isinstance(weights, Parameter)
    weight_list = [] if weights is None else [weights] if single else list(weights)
    key = (len(inputs), bool(has_aux), single, tuple(map(id, weight_list)))
    g = _made("vjp", fn, key, lambda: _cotangent_fn(fn, len(inputs), weight_list, single, has_aux))
    from .calling import forward_and_pullback
    return forward_and_pullback(g, inputs, has_aux)


# -- jacobians, Hessians --------------------------------------------------------------------------
def jacfwd(fn, grad_position=0, has_aux=False):
    """MindSpore's ``jacfwd``: the Jacobian of ``fn`` with respect to the arguments at
    ``grad_position`` by forward mode, one compiled jvp per input element. The result for an
    output of shape S and an argument of shape A has shape S + A; several outputs give a tuple
    (over outputs) of such, a tuple of positions a tuple (over positions) inside."""
    positions, bare = _positions(grad_position)

    def jac_fn(*args):
        g = _made("jacfwd", fn, (len(args), positions, bool(has_aux)),
                  lambda: _tangent_fn(fn, len(args), has_aux, "tan_aux", positions, api="jacfwd"))
        primals = [_array(args[p], "jacfwd", p) for p in positions]
        columns = None
        aux = None
        for j, x in enumerate(primals):
            for e in _basis(x):
                tangents = [e if k == j else np.zeros_like(primals[k]) for k in range(len(primals))]
                out = g(*args, *tangents)
                if has_aux:
                    out, aux = out
                leaves, tree = flatten(out)
                if columns is None:
                    columns, out_tree = [[[] for _ in primals] for _ in leaves], tree
                for i, leaf in enumerate(leaves):
                    columns[i][j].append(_data(leaf))
        jac = [[_stack(cols, x, axis=-1) for cols, x in zip(per_out, primals)] for per_out in columns]
        result = out_tree.unflatten([blocks[0] if bare else tuple(blocks) for blocks in
                                     _wrapped(jac, args)])
        return (result, aux) if has_aux else result
    return _jac_object(jac_fn, fn, "jacfwd")


def jacrev(fn, grad_position=0, has_aux=False):
    """MindSpore's ``jacrev``: the Jacobian by reverse mode, one compiled vjp per output element
    (the forward runs once); results as ``jacfwd``'s."""
    positions, bare = _positions(grad_position)

    def jac_fn(*args):
        g = _made("jacrev", fn, (len(args), positions, bool(has_aux)),
                  lambda: _sens_fn(fn, positions, has_aux, "jacrev"))
        primals = [_array(args[p], "jacrev", p) for p in positions]
        from .calling import forward_and_pullback
        result = forward_and_pullback(g, args, has_aux)
        if has_aux:
            outputs, pullback, aux = result
        else:
            outputs, pullback = result
        leaves, tree = flatten(outputs)
        rows = [[[] for _ in primals] for _ in leaves]
        for i, leaf in enumerate(leaves):
            for e in _basis(_data(leaf)):
                sens = tree.unflatten([e if k == i else np.zeros_like(_data(o)) for k, o in enumerate(leaves)])
                grads = pullback(sens)
                for j in range(len(primals)):
                    rows[i][j].append(_data(grads[j]))
        jac = [[_stack(r, x, axis=0, out_shape=np.shape(_data(leaf)))
                for r, x in zip(per_out, primals)] for per_out, leaf in zip(rows, leaves)]
        result = tree.unflatten([blocks[0] if bare else tuple(blocks) for blocks in _wrapped(jac, args)])
        return (result, aux) if has_aux else result
    return _jac_object(jac_fn, fn, "jacrev")


def _sens_fn(fn, positions, has_aux, api):
    """Reverse mode with the sens last: returns (outputs[, aux], (gradients at positions...))."""
    grads = tuple(("dx", p) for p in positions)
    out = (("out", 0), ("aux", "one")) if has_aux else (("out", None),)
    layout = (out, grads)
    return GradFunction(fn, None, False, _Layout(positions, layout, (api, positions, layout)), sens=True,
                        has_aux=has_aux, api=api, split=True)


def hessian(fn, grad_position=0, has_aux=False):
    """The Hessian of ``fn`` (JAX's ``hessian``, MindSpore has none): by forward over reverse,
    the compiled tangent code of ``fn``'s gradient pushed along each input basis vector. For an
    output of shape S and arguments of shapes A and B the block is S + A + B; a tuple of
    positions gives a tuple of tuples (H[i][j] = d2 f / dx_i dx_j); with ``has_aux``,
    ``(hessian, aux)``."""
    positions, bare = _positions(grad_position)

    def hess_fn(*args):
        key = (len(args), positions, bool(has_aux))

        def make():                 # the tangent code of the gradient of <fn, sens>
            grads = tuple(("dx", p) for p in positions)
            inner = GradFunction(fn, None, False, _Layout(positions, grads, ("hessian-grad", positions, grads)),
                                 sens=True, has_aux=has_aux, api="hessian")
            layout = ("tan", None)
            return GradFunction(inner, layout_fn=_Layout(positions, layout, ("hessian", positions, layout)),
                                api="hessian", mode="jvp", n_tangents=len(positions))
        g = _made("hessian", fn, key, make)
        primals = [_array(args[p], "hessian", p) for p in positions]
        from .calling import forward_and_pullback
        first = forward_and_pullback(_made("hessian-out", fn, key, lambda: _sens_fn(fn, positions, has_aux,
                                                                                  "hessian")), args, has_aux)
        outputs, aux = first[0], (first[2] if has_aux else None)
        leaves, tree = flatten(outputs)
        hess = []
        for i, leaf in enumerate(leaves):
            out_shape = np.shape(_data(leaf))
            columns = [[[] for _ in primals] for _ in primals]      # [a][b]: d grad_a along x_b
            for e_out in _basis(_data(leaf)):
                sens = tree.unflatten([e_out if k == i else np.zeros_like(_data(o)) for k, o in enumerate(leaves)])
                for b, xb in enumerate(primals):
                    for e in _basis(xb):
                        tangents = [e if k == b else np.zeros_like(primals[k]) for k in range(len(primals))]
                        tan = g(*args, sens, *tangents)
                        for a in range(len(primals)):
                            columns[a][b].append(_data(tan[a]))
            per = []
            for a, xa in enumerate(primals):
                row = []
                for b, xb in enumerate(primals):
                    flat = np.stack(columns[a][b], axis=0)       # (out size * xb size, *xa shape)
                    flat = flat.reshape((int(np.prod(out_shape, dtype=int)), np.size(xb)) + np.shape(xa))
                    flat = np.moveaxis(flat, 1, -1)
                    row.append(_wrap_like(flat.reshape(out_shape + np.shape(xa) + np.shape(xb)), args))
                per.append(tuple(row))
            hess.append(per[0][0] if bare else tuple(per))
        result = tree.unflatten(hess)
        return (result, aux) if has_aux else result
    return _jac_object(hess_fn, fn, "hessian")


def hvp(fn, inputs, v):
    """The Hessian-vector product of a scalar-valued ``fn`` at ``inputs`` along ``v`` (shaped
    like ``inputs``: a Tensor, an array or a number, or a tuple of them), by forward over
    reverse: one compiled function, the tangent code of ``fn``'s gradient (JAX's recipe
    ``jvp(grad(f), primals, tangents)[1]``; MindSpore has none)."""
    ins, single = _as_tuple(inputs)
    vs = (v,) if single else tuple(v)
    if len(vs) != len(ins):
        raise ArgumentError("hvp: v must have one part per input (%d); got %d" % (len(ins), len(vs)))
    return hvp_function(fn, len(ins))(*ins, *vs)


def hvp_function(fn, n_inputs=1):
    """The compiled Hessian-vector product of ``fn`` for calls ``(*inputs, *v)``."""
    def make():
        from .api import grad
        positions = tuple(range(n_inputs))
        inner = grad(fn, grad_position=positions[0] if n_inputs == 1 else positions)
        layout = ("tan", None)
        return GradFunction(inner, layout_fn=_Layout(positions, layout, ("hvp", positions, layout)),
                            api="hvp", mode="jvp", n_tangents=n_inputs)
    return _made("hvp", fn, (n_inputs,), make)


# -- helpers ------------------------------------------------------------------------------------------
class _JacobianFunction:
    """A Jacobian/Hessian function: callable, and shows the compiled code it runs."""

    def __init__(self, call, fn, api):
        self._call, self.fn, self.api = call, fn, api
        self.__name__ = "%s(%s)" % (api, getattr(fn, "__name__", type(fn).__name__))

    def __call__(self, *args):
        return self._call(*args)

    def __repr__(self):
        return "<%s>" % self.__name__


def _jac_object(call, fn, api):
    return _JacobianFunction(call, fn, api)


def _data(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _array(a, api, p):
    x = _data(a)
    if x.dtype.kind not in "fc":
        raise ArgumentError("%s differentiates argument %d, which must hold floats; got %s"
                            % (api, p, x.dtype))
    return x


def _zeros_like(a):
    if isinstance(a, Tensor):
        return Tensor(np.zeros_like(a._data))
    if isinstance(a, (tuple, list)):
        return type(a)(_zeros_like(x) for x in a)
    if isinstance(a, dict):
        return {k: _zeros_like(x) for k, x in a.items()}
    if isinstance(a, np.ndarray):
        return np.zeros_like(a)
    return type(a)(0)


def _basis(x):
    """The unit vectors shaped like ``x``, in its dtype, one after another."""
    x = np.asarray(x)
    for k in range(x.size):
        e = np.zeros(x.size, x.dtype)
        e[k] = 1
        yield e.reshape(x.shape) if x.ndim else e.reshape(())[()]


def _stack(parts, x, axis, out_shape=None):
    """Columns (jacfwd: one output per input element) or rows (jacrev: one input gradient per
    output element) as one array of shape out.shape + x.shape."""
    if axis == -1:
        out_shape = np.shape(parts[0])
        return np.stack(parts, axis=-1).reshape(out_shape + np.shape(x))
    return np.stack(parts, axis=0).reshape(tuple(out_shape) + np.shape(x))


def _wrap_like(array, args):
    if any(isinstance(a, Tensor) for a in args):
        return Tensor(np.asarray(array))
    return np.asarray(array)


def _wrapped(jac, args):
    return [[_wrap_like(b, args) for b in blocks] for blocks in jac]


# -- inside compiled code: ops.jvp and adjoint.hvp inline their compiled code -------------------------
def _lower_jvp(L, args, kwargs, node):
    """``ops.jvp(fn, inputs, v)`` inside code being compiled: fn's tangent code, in place (so
    it can be differentiated again: reverse over forward, forward over forward)."""
    import inspect
    from .compiler.higher import inline_gradient
    bound = inspect.signature(jvp).bind(*args, **kwargs)
    bound.apply_defaults()
    fn, inputs, v, has_aux = (bound.arguments[k] for k in ("fn", "inputs", "v", "has_aux"))
    ins, single = _as_tuple(inputs)
    vs = (v,) if single else tuple(v)
    g = jvp_function(fn, len(ins), has_aux)
    return inline_gradient(L, g, list(ins) + list(vs), {}, node)


def _lower_hvp(L, args, kwargs, node):
    import inspect
    from .compiler.higher import inline_gradient
    bound = inspect.signature(hvp).bind(*args, **kwargs)
    fn, inputs, v = (bound.arguments[k] for k in ("fn", "inputs", "v"))
    ins, single = _as_tuple(inputs)
    vs = (v,) if single else tuple(v)
    return inline_gradient(L, hvp_function(fn, len(ins)), list(ins) + list(vs), {}, node)


jvp._adjoint_lower = _lower_jvp
hvp._adjoint_lower = _lower_hvp


# -- gradient checkpointing -----------------------------------------------------------------------------
def recompute(block, *args, **kwargs):
    """MindSpore's ``mindspore.recompute(block, *args, **kwargs)``: ``block(*args, **kwargs)``,
    and inside a gradient the values it computes are not kept for the reverse sweep but
    computed again there (``block`` may be a Cell or any function adjoint compiles)."""
    for key in ("use_reentrant", "output_recompute", "early_stop", "context_fn"):
        kwargs.pop(key, None)
    return block(*args, **kwargs)


def remat(fn):
    """JAX's ``jax.remat`` (``jax.checkpoint``; ``adjoint.checkpoint`` is the module that saves
    Parameters): ``fn`` whose values, inside a gradient, are computed again in the reverse sweep
    instead of being kept."""
    def checkpointed(*args, **kwargs):
        return recompute(fn, *args, **kwargs)
    # (not functools.wraps: its __wrapped__ would send inspect, and so adjoint, to fn's source)
    checkpointed.__name__ = getattr(fn, "__name__", "checkpointed")
    checkpointed.__doc__ = getattr(fn, "__doc__", None)
    return checkpointed


def _lower_recompute(L, args, kwargs, node):
    from .compiler.recompute import lower_marked
    block, rest = args[0], list(args[1:])
    for key in ("use_reentrant", "output_recompute", "early_stop", "context_fn"):
        kwargs.pop(key, None)
    return lower_marked(L, lambda: L.apply(block, rest, kwargs, node))


recompute._adjoint_lower = _lower_recompute
