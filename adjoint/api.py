"""``adjoint.grad`` and ``adjoint.value_and_grad`` (MindSpore 2.x functional autodiff)."""
from .errors import ArgumentError
from .gradfn import GradFunction
from .tensor import Parameter


def grad(fn, grad_position=0, weights=None, has_aux=False, return_ids=False):
    """The gradient function of ``fn`` with respect to the arguments at ``grad_position``
    (an int or a tuple) and/or the Parameters ``weights``."""
    return _make(fn, grad_position, weights, has_aux, value=False)


def value_and_grad(fn, grad_position=0, weights=None, has_aux=False, return_ids=False):
    """Like ``grad``, but the call returns ``(value, gradients)``."""
    return _make(fn, grad_position, weights, has_aux, value=True)


def _make(fn, grad_position, weights, has_aux, value):
    if grad_position is None and weights is None:
        raise ArgumentError("`grad_position` and `weights` can not be None at the same time")
    single = isinstance(weights, Parameter)
    weight_list = [] if weights is None else [weights] if single else list(weights)
    api = "value_and_grad" if value else "grad"
    return GradFunction(fn, weight_list, single, _layout(grad_position, weights is not None, has_aux, value),
                        sens=False, has_aux=has_aux, api=api)


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
