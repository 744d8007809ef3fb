"""``GradOperation`` and ``stop_gradient``: MindSpore's autodiff entry points."""
from ..compiler import hooks
from ..errors import ArgumentError
from ..gradfn import GradFunction
from ..tensor import Parameter
from .functional import stop_gradient  # noqa: F401  (re-exported)


class GradOperation:
    """``GradOperation(get_all=False, get_by_list=False, sens_param=False)``.

    ``GradOperation(...)(net)`` or ``GradOperation(get_by_list=True)(net, params)`` gives a
    function whose call returns gradients laid out as MindSpore lays them out.
    """

    def __init__(self, get_all=False, get_by_list=False, sens_param=False):
        self.get_all, self.get_by_list, self.sens_param = bool(get_all), bool(get_by_list), bool(sens_param)

    def __call__(self, fn, weights=None):
        single = isinstance(weights, Parameter)
        if self.get_by_list:
            if weights is None:
                raise ArgumentError("GradOperation(get_by_list=True) needs the Parameters: "
                                    "grad_op(net, ParameterTuple(net.trainable_params()))")
            weights = [weights] if single else list(weights)
        else:
            weights = []
        return GradFunction(fn, weights, single, _layout(self.get_all, self.get_by_list), self.sens_param,
                            api="GradOperation")

    def __repr__(self):
        return "GradOperation(get_all=%s, get_by_list=%s, sens_param=%s)" % (
            self.get_all, self.get_by_list, self.sens_param)


def _layout(get_all, get_by_list):
    def layout(n_args, n_weights, single_weight):
        inputs = tuple(("dx", i) for i in range(n_args))
        params = ("dw", 0) if single_weight else tuple(("dw", j) for j in range(n_weights))
        if get_all and get_by_list:
            return tuple(range(n_args)), (inputs, params)
        if get_all:
            return tuple(range(n_args)), inputs
        if get_by_list:
            return (), params
        if n_args == 0:
            raise ArgumentError("GradOperation() differentiates the first input, but none was given")
        return (0,), ("dx", 0)
    layout.key = (get_all, get_by_list)
    return layout


hooks.register_gradient_maker(GradOperation)
