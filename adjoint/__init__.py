"""adjoint: a source-to-source automatic-differentiation compiler with MindSpore's autodiff API.

    import adjoint.nn as nn
    import adjoint.ops as ops
    from adjoint import Parameter, Tensor, ParameterTuple
"""
from . import dtype
from .dtype import (bool_, float16, float32, float64, int8, int16, int32, int64, uint8,  # noqa: F401
                    complex64, complex128)
from .tensor import Parameter, ParameterTuple, Tensor
from .api import grad, show, value_and_grad
from .functional import remat, hessian, hvp, jacfwd, jacrev, jvp, linearize, recompute, vjp
from .gradcheck import GradCheckError, check_grad
from .decorate import compile
from .errors import AdjointError, ArgumentError, GradRuntimeError, SourceError, UnsupportedError
from .compiler.cache import AdjointWarning, cache_info, clear_cache, set_cache_size
from .checkpoint import load_checkpoint, load_param_into_net, save_checkpoint
from . import nn, ops

__version__ = "0.1.0"

__all__ = ["Tensor", "Parameter", "ParameterTuple", "dtype", "grad", "value_and_grad", "show", "compile",
           "jvp", "vjp", "linearize", "jacfwd", "jacrev", "hessian", "hvp", "recompute", "remat",
           "check_grad", "GradCheckError",
           "nn", "ops",
           "AdjointError", "ArgumentError", "GradRuntimeError", "SourceError", "UnsupportedError",
           "cache_info", "clear_cache", "set_cache_size", "AdjointWarning",
           "save_checkpoint", "load_checkpoint", "load_param_into_net"]
