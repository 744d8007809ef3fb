"""``@adjoint.compile``: check a Cell class's ``construct`` when the class is defined.

    @adjoint.compile
    class Net(nn.Cell):
        def construct(self, x): ...

Every construct adjoint cannot compile is reported at import, all at once, with file, line and
column, instead of at the first gradient call. Compiled adjoints are cached per configuration
and shared by every instance whose structure is the same (see compiler/cache.py).
"""
from .compiler.fence import check_function
from .compiler.frontend import parse_function
from .errors import ArgumentError


def compile(cls=None, *, check=True):
    """Class decorator; usable as ``@adjoint.compile`` or ``@adjoint.compile(check=True)``."""
    def decorate(klass):
        from .nn.cell import Cell
        if not (isinstance(klass, type) and issubclass(klass, Cell)):
            raise ArgumentError("@adjoint.compile decorates nn.Cell subclasses; got %r" % (klass,))
        construct = klass.__dict__.get("construct")
        if check and construct is not None:
            check_function(parse_function(construct))
        klass._adjoint_checked = True
        return klass

    if cls is None:
        return decorate
    return decorate(cls)
