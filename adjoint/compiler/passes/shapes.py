"""Which values certainly have the same shape (an analysis used by ``simplify``).

Without knowing any shape, much is still certain: ``exp(x)`` has the shape of ``x``;
``x * 2.0`` too; ``a + b`` has the shape of ``a`` when ``b`` does; ``unbroadcast(g, x)``,
``ones_like(x)`` and ``matmul_dx(g, x, y)`` have the shape of ``x``. Then
``unbroadcast(g, x)`` where ``g`` has the shape of ``x`` is just ``g``. Only certain facts are
recorded: block arguments and results of structured ops start unrelated.
"""
import numpy as np

from .. import ir
from ..prims import BROADCAST, REDUCE, RESHAPE, SAME, SHAPE

SCALAR = object()      # the class of values known to be numbers (shape ())


class SameShape:
    def __init__(self, func):
        self.parent = {}
        self.slices = {}          # (base's class, index widths) -> a value indexed so
        for p in func.scalar_params:
            self.union(p, SCALAR)
        for a, b in getattr(func, "shape_pairs", ()):      # (a tangent is shaped like its value)
            self.union(a, b)
        for op in ir.walk(func.body.ops):
            self._visit(op)

    def is_scalar(self, v):
        return isinstance(v, ir.Value) and self.find(v) is self.find(SCALAR)

    def find(self, v):
        root = v
        while self.parent.get(root, root) is not root:
            root = self.parent[root]
        while v is not root:
            v, self.parent[v] = self.parent.get(v, v), root
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            self.parent[ra] = rb

    def same(self, a, b):
        return isinstance(a, ir.Value) and isinstance(b, ir.Value) and self.find(a) is self.find(b)

    def _visit(self, op):
        """What the primitive's ``shape`` fact says about its result."""
        args, kind = op.args, op.prim.shape
        if op.prim.subscript and op.prim.name == "getitem" and isinstance(args[0], ir.Value) and not op.blocks:
            widths = _index_widths(args[1:])
            if widths is not None:          # x[1:] and x[:-1]: as many elements
                key = (self.find(args[0]), widths)
                other = self.slices.setdefault(key, op.result)
                if other is not op.result:
                    self.union(op.result, other)
        if len(op.results) != 1 or op.blocks or kind is None:
            return
        out = op.result
        if kind == SAME and isinstance(args[0], ir.Value):
            self.union(out, args[0])
        elif kind == BROADCAST:
            a, b = args[:2]
            if _scalar(b) and isinstance(a, ir.Value):
                self.union(out, a)
            elif _scalar(a) and isinstance(b, ir.Value):
                self.union(out, b)
            elif self.same(a, b):
                self.union(out, a)
        elif isinstance(kind, tuple) and isinstance(args[kind[1]], ir.Value):
            self.union(out, args[kind[1]])
        elif (kind == REDUCE and isinstance(args[1], ir.Const) and args[1].value is None
              and isinstance(args[2], ir.Const) and args[2].value is False):
            self.union(out, SCALAR)
        elif kind == RESHAPE and isinstance(args[1], ir.Value) and args[1].op is not None \
                and args[1].op.prim.shape == SHAPE and isinstance(args[1].op.args[0], ir.Value):
            self.union(out, args[1].op.args[0])



def _index_widths(index):
    """What an index keeps of each axis, when that decides the result's shape without knowing
    the array's: equal constants, or slices keeping all but ``start + (-stop)`` elements (``1:``
    and ``:-1`` both drop one); None when it does not."""
    out = []
    for a in index:
        if not isinstance(a, ir.Const):
            return None
        v = a.value
        if isinstance(v, slice):
            start, stop, step = v.start, v.stop, v.step
            if step not in (None, 1) or not (start is None or type(start) is int and start >= 0) \
                    or not (stop is None or type(stop) is int and stop < 0):
                return None
            out.append(("drop", (start or 0) + (-stop if stop is not None else 0)))
        elif type(v) in (int, bool) or v is None or v is Ellipsis:
            out.append(("const", type(v), v))
        else:
            return None
    return tuple(out)


def _scalar(a):
    return isinstance(a, ir.Const) and isinstance(a.value, (bool, int, float, np.generic))
