"""Which values certainly have the same shape (an analysis used by ``simplify``).

Without knowing any shape, much is still certain: ``exp(x)`` has the shape of ``x``;
``x * 2.0`` too; ``a + b`` has the shape of ``a`` when ``b`` does; ``unbroadcast(g, x)``,
``ones_like(x)`` and ``matmul_dx(g, x, y)`` have the shape of ``x``. Then
``unbroadcast(g, x)`` where ``g`` has the shape of ``x`` is just ``g``. Only certain facts are
recorded: block arguments and results of structured ops start unrelated.
"""
import numpy as np

from .. import ir

UNARY = {"negative", "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "square", "absolute",
         "sigmoid", "relu", "positive", "sign", "floor", "logical_not", "stop_gradient", "identity", "pos", "copy",
         "astype", "ipow", "softmax", "log_softmax", "cast_like"}
BINARY = {"add", "sub", "mul", "truediv", "power", "maximum", "minimum", "less", "less_equal",
          "greater", "greater_equal", "equal", "not_equal", "logical_and", "logical_or",
          "floor_divide", "mod"}
LIKE_ARG = {"unbroadcast": 1, "broadcast_like": 1, "unreduce": 1, "getitem_grad": 1, "matmul_dx": 1,
            "matmul_dy": 2, "extreme_weights": 0, "ones_like": 0, "zeros_like": 0, "check_sens": 1,
            "tie_mask": 2}


SCALAR = object()      # the class of values known to be numbers (shape ())
REDUCTIONS = {"sum", "mean", "amax", "amin"}


class SameShape:
    def __init__(self, func):
        self.parent = {}
        for p in func.scalar_params:
            self.union(p, SCALAR)
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
        name, args = op.prim.name, op.args
        if len(op.results) != 1 or op.blocks:
            return
        out = op.result
        if name in UNARY and isinstance(args[0], ir.Value):
            self.union(out, args[0])
        elif name in BINARY:
            a, b = args
            if _scalar(b) and isinstance(a, ir.Value):
                self.union(out, a)
            elif _scalar(a) and isinstance(b, ir.Value):
                self.union(out, b)
            elif self.same(a, b):
                self.union(out, a)
        elif name in LIKE_ARG and isinstance(args[LIKE_ARG[name]], ir.Value):
            self.union(out, args[LIKE_ARG[name]])
        elif (name in REDUCTIONS and isinstance(args[1], ir.Const) and args[1].value is None
              and isinstance(args[2], ir.Const) and args[2].value is False):
            self.union(out, SCALAR)
        elif name == "reshape" and isinstance(args[1], ir.Value) and args[1].op is not None \
                and args[1].op.prim.name in ("shape", "shape_of") and isinstance(args[1].op.args[0], ir.Value):
            self.union(out, args[1].op.args[0])


def _scalar(a):
    return isinstance(a, ir.Const) and isinstance(a.value, (bool, int, float, np.generic))


# Primitives whose result is a shape tuple (what a shape-only argument may be given instead).
IS_SHAPE = {"shape", "shape_of"}

# Argument positions where a runtime helper reads only the shape of an array.
SHAPE_ONLY = {"unbroadcast": (1,), "broadcast_like": (1,), "unreduce": (1,), "reduced_size": (0,),
              "check_sens": (1,), "getitem_grad": (1,), "put_along": (1,), "concat_part_grad": (1,), "matmul_dx": (1,), "matmul_dy": (2,)}
