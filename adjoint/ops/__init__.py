"""``adjoint.ops``: MindSpore's functional ops, primitive classes and autodiff operations."""
from .composite import GradOperation, stop_gradient
from .functional import *       # noqa: F401,F403
from .nn_functional import *    # noqa: F401,F403
from .primitives import *       # noqa: F401,F403
from .functional import abs, max, min, pow, sum  # noqa: F401  (shadow builtins on purpose)
from ..api import grad, value_and_grad  # noqa: F401
from ..functional import jacfwd, jacrev, jvp, linearize, vjp  # noqa: F401
