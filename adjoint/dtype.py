"""MindSpore-style dtype objects (`adjoint.dtype.float32` prints as `Float32`)."""
import numpy as np


class DType:
    __slots__ = ("name", "np_dtype")

    def __init__(self, name, np_dtype):
        self.name, self.np_dtype = name, np.dtype(np_dtype)

    def __str__(self):
        return self.name

    def __repr__(self):
        return "adjoint." + self.name.lower()

    @property
    def dtype(self):
        """The NumPy dtype (so ``np.dtype(mstype.float32)`` and comparisons with NumPy work)."""
        return self.np_dtype

    def __eq__(self, other):
        if isinstance(other, DType):
            return self.np_dtype == other.np_dtype
        if isinstance(other, np.dtype) or (isinstance(other, type) and issubclass(other, np.generic)):
            return self.np_dtype == other
        return NotImplemented

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self):
        return hash(self.np_dtype)


bool_ = DType("Bool", np.bool_)
int8 = DType("Int8", np.int8)
int16 = DType("Int16", np.int16)
int32 = DType("Int32", np.int32)
int64 = DType("Int64", np.int64)
uint8 = DType("UInt8", np.uint8)
uint16 = DType("UInt16", np.uint16)
uint32 = DType("UInt32", np.uint32)
uint64 = DType("UInt64", np.uint64)
float16 = DType("Float16", np.float16)
float32 = DType("Float32", np.float32)
float64 = DType("Float64", np.float64)
complex64 = DType("Complex64", np.complex64)
complex128 = DType("Complex128", np.complex128)
int_, float_ = int64, float32
half, single, double = float16, float32, float64

_BY_NUMPY = {d.np_dtype: d for d in (bool_, int8, int16, int32, int64, uint8, uint16, uint32,
                                    uint64, float16, float32, float64, complex64, complex128)}


def from_numpy(np_dtype):
    """The DType for a NumPy dtype. In compiled code the dtype of a run-time value is only
    known when it runs: it stays the NumPy dtype there (it compares equal to the DType)."""
    if not isinstance(np_dtype, (np.dtype, type, str, DType)):
        return np_dtype
    return _BY_NUMPY[np.dtype(np_dtype)]


from_numpy._adjoint_compile_time = True     # called on abstract values while compiling


def to_numpy(dtype):
    """A NumPy dtype from a DType, a NumPy dtype or a Python type."""
    if isinstance(dtype, DType):
        return dtype.np_dtype
    return np.dtype(dtype)


def _register():
    from .compiler import hooks
    hooks.register_dtype_conversion(to_numpy)


_register()
