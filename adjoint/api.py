"""``adjoint.grad`` and ``adjoint.value_and_grad`` (MindSpore 2.x functional autodiff)."""
from .errors import ArgumentError
from .gradfn import GradFunction
from .tensor import Parameter


def grad(fn, grad_position=0, weights=None, has_aux=False, return_ids=False, sens_param=False):
    """The gradient function of ``fn`` with respect to the arguments at ``grad_position``
    (an int or a tuple) and/or the Parameters ``weights``. ``fn``: anything callable whose
    source can be found (a function or lambda, a Cell, a bound method, a functools.partial,
    a gradient function, a NumPy ufunc...). ``return_ids``: each gradient as ``(position,
    gradient)`` or ``(parameter name, gradient)``. ``sens_param``: the call takes the output's
    gradient last (or as ``sens=``)."""
    return _make(fn, grad_position, weights, has_aux, False, return_ids, sens_param)


def value_and_grad(fn, grad_position=0, weights=None, has_aux=False, return_ids=False):
    """Like ``grad``, but the call returns ``(value, gradients)``."""
    return _make(fn, grad_position, weights, has_aux, True, return_ids, False)


def _make(fn, grad_position, weights, has_aux, value, return_ids, sens):
    if grad_position is None and weights is None:
        raise ArgumentError("`grad_position` and `weights` can not be None at the same time")
    single = isinstance(weights, Parameter)
    weight_list = [] if weights is None else [weights] if single else list(weights)
    api = "value_and_grad" if value else "grad"
    cls = GradFunctionWithIds if return_ids else GradFunction
    gradfn = cls(fn, weight_list, single, _layout(grad_position, weights is not None, has_aux, value),
                 sens=bool(sens), has_aux=has_aux, api=api)
    # grad_position=(1,) gives a bare gradient, but with ids a 1-tuple ((1, g),) (MindSpore 2.10)
    gradfn.ids_in_tuple = isinstance(grad_position, (tuple, list))
    return gradfn


class GradFunctionWithIds(GradFunction):
    """``return_ids=True`` (MindSpore): each gradient comes as ``(its argument's position,
    gradient)`` or ``(its Parameter's name, gradient)``, in the same structure."""

    def __call__(self, *args, **kwargs):
        out = GradFunction.__call__(self, *args, **kwargs)
        n = len(args) - (1 if self.sens and "sens" not in kwargs else 0)
        layout = self.layout_fn(n, len(self.weights), self.single_weight)[1]
        return _with_ids(layout, out, self.weights, self.ids_in_tuple)


def _with_ids(layout, value, weights, in_tuple=False):
    if isinstance(layout, tuple) and layout and isinstance(layout[0], str):
        kind, i = layout
        if kind == "dx":
            return ((i, value),) if in_tuple else (i, value)
        if kind == "dw":
            return (weights[i].name, value)
        return value
    # (a tuple of positions' gradients: each is a pair; only a lone one is wrapped)
    in_tuple = in_tuple and not any(isinstance(x, tuple) and x[:1] == ("dx",) for x in layout)
    return tuple(_with_ids(sub, v, weights, in_tuple) for sub, v in zip(layout, value))


def _layout(grad_position, with_weights, has_aux, value):
    if isinstance(grad_position, int):
        positions, bare = (grad_position,), True
    elif grad_position is None:
        positions, bare = (), False
    else:
        positions = tuple(grad_position)
        bare = len(positions) == 1
        if not positions:
            raise ArgumentError("grad_position must not be empty")

    def layout(n_args, n_weights, single_weight):
        for p in positions:
            if not isinstance(p, int) or p < 0:
                raise ArgumentError("grad_position must hold non-negative ints; got %r" % (p,))
            if p >= n_args:
                raise ArgumentError("Position index %d is exceed input size." % p)
        inputs = ("dx", positions[0]) if bare else tuple(("dx", p) for p in positions)
        params = ("dw", 0) if single_weight else tuple(("dw", j) for j in range(n_weights))
        if positions and with_weights:
            grads = (inputs, params)
        elif positions:
            grads = inputs
        else:
            grads = params
        if has_aux and not value:
            return positions, (grads, ("aux", None))
        if value:
            return positions, (("out", None), grads)
        return positions, grads

    layout.key = (positions, bare, with_weights, has_aux, value)
    return layout


def show(target, *params, get_all=False, get_by_list=False, sens_param=False, ir=False, file=None):
    """Print the generated adjoint of a Cell or function (its IR with ``ir=True``); return it."""
    import sys
    from .ops.composite import GradOperation
    from .tensor import ParameterTuple
    if get_by_list and not params:
        params = (ParameterTuple(target.trainable_params()),)
    gradfn = GradOperation(get_all, get_by_list, sens_param)(target, *params)
    text = gradfn.ir if ir else gradfn.source
    print(text, file=file or sys.stdout)
    return text


# Inside compiled code, making a gradient function happens while compiling.
grad._adjoint_static = value_and_grad._adjoint_static = True
