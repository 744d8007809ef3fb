"""Random differentiable programs for the differential fuzzer.

``generate(seed, index, order)`` always gives the same ``Case`` for the same arguments: every
choice comes from ``random.Random("<seed>:<index>:<order>")``. A Case is Python source text (a
module: constants, helper functions, sub-Cells and the program itself) plus how to call it
(input shapes and dtypes, which API, the sensitivity) and input values.

Programs are built with their shapes known at every point, so they are valid by
construction; values are kept bounded (exp of tanh/sin, log and sqrt of ``e*e + 1``, positive
denominators) so that finite differences mean something. ``validate`` then runs the program
eagerly and rejects it when it fails or gives huge or non-finite values (the generator draws
again from the same stream, so the result is still deterministic).
"""
import ast
import random
from dataclasses import dataclass, field

import numpy as np

# Relative weights of what the generator emits; tests and the CLI may override them.
EXPR_WEIGHTS = {
    "leaf": 6, "binop": 10, "neg": 1.5, "ufunc": 7, "kinky": 2.5, "pow": 2, "where": 1.5,
    "reduce": 5, "matmul": 3, "index": 3, "reshape": 2, "stack": 1.5, "helper": 3, "subcell": 6,
    "ifexp": 1, "stopgrad": 1, "counter": 1,
}
STMT_WEIGHTS = {
    "assign": 8, "newshape": 3, "reassign": 5, "aug": 4, "tuple": 2, "swap": 2.5, "if": 4,
    "for": 4, "while_counter": 1.5, "while_cond": 1.5, "for_append": 1, "for_tuple": 1,
    "early_return": 1.2, "break": 1.0, "continue": 0.5, "lambda": 0.5, "setitem": 2.5,
    "for_append_long": 0.6,
}
MAX_ELEMENTS = 30        # differentiated input elements (finite differences cost)
RECURSIVE_HELPERS = 0.25  # the share of helpers that call themselves
PYTHON_FLOATS = 0.1      # the share of function programs whose inputs are all Python floats
MAX_VAR_SIZE = 36        # elements of any intermediate array


@dataclass
class Case:
    seed: int
    index: int
    order: int
    kind: str                    # "func" or "cell"
    source: str
    entry: str                   # "f" / "h" / an expression building the Cell
    inner: str = None            # order 2: the differentiated-inside function or Cell factory
    inner_api: dict = None       # order 2: how the inner gradient is taken
    in_shapes: list = field(default_factory=list)
    in_kinds: list = field(default_factory=list)   # "arr", "np0", "py", "tensor"
    dtype: str = "float64"
    api: dict = field(default_factory=dict)
    out_shapes: object = ()      # a shape, or a list of shapes for a tuple output
    inputs: list = None          # values (drawn by draw_inputs)
    features: list = field(default_factory=list)
    attempt: int = 0

    def label(self):
        return "seed=%d index=%d order=%d" % (self.seed, self.index, self.order)


# -- shapes ----------------------------------------------------------------------------------
def bshape(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def size(s):
    return int(np.prod(s)) if s else 1


def fmt_num(v):
    r = repr(round(float(v), 2))
    return r


def arr_literal(a, dt=None):
    a = np.asarray(a)
    body = np.array2string(a, separator=", ", floatmode="unique", threshold=10 ** 6,
                           max_line_width=10 ** 6).replace("\n", "")
    if a.dtype.kind in "iu":
        return "np.array(%s)" % body
    if dt and dt != "float64":
        return "np.array(%s, dtype=np.%s)" % (body, dt)
    return "np.array(%s)" % body


class Var:
    __slots__ = ("name", "shape", "py", "param", "fixed")

    def __init__(self, name, shape, py=False, param=False, fixed=False):
        self.name, self.shape, self.py, self.param, self.fixed = name, tuple(shape), py, param, fixed


class Gen:
    """Builds one program. ``self.vars`` is the scope: name -> Var, in order."""

    def __init__(self, rng, order=1, kind=None, ew=None, sw=None):
        self.r = rng
        self.order = order
        self.ew = dict(EXPR_WEIGHTS, **(ew or {}))
        self.sw = dict(STMT_WEIGHTS, **(sw or {}))
        self.kind = kind or ("cell" if rng.random() < 0.4 else "func")
        self.dt = "float32" if rng.random() < 0.3 else "float64"
        a = rng.choice([2, 3, 4])
        b = rng.choice([2, 3, 4]) if rng.random() < 0.3 else rng.choice([d for d in (2, 3, 4) if d != a])
        self.pool = [(), (a,), (b,), (a, b), (b, a), (a, 1), (1, b), (b, 1)]
        self.consts = []         # module-level lines
        self.helpers = []        # (name, [param shapes], ret shape) usable in expressions
        self.helper_src = []
        self.subcells = []       # (attr, [arg shape], ret shape, method)
        self.subcell_src = []
        self.features = set()
        self.nvar = 0
        self.nconst = 0
        self.vars = {}
        self.counters = []       # (name, bound) of enclosing range loops
        self.in_loop = 0
        self.loop_kinds = []     # innermost last: "for", "while", "append"
        self.no_stopgrad = order == 2
        self.allow_kinks = True
        self.out_spec = ()

    # -- small utilities --------------------------------------------------------------------
    def feat(self, name):
        self.features.add(name)

    def pick(self, weights):
        items = [(w, k) for k, w in weights.items() if w > 0]
        total = sum(w for w, _ in items)
        x = self.r.random() * total
        for w, k in items:
            x -= w
            if x <= 0:
                return k
        return items[-1][1]

    def fresh(self, prefix="v"):
        self.nvar += 1
        return "%s%d" % (prefix, self.nvar)

    def const(self, prefix, text):
        name = "%s%d" % (prefix, self.nconst)
        self.nconst += 1
        self.consts.append("%s = %s" % (name, text))
        return name

    def const_array(self, shape, low=-1.0, high=1.0):
        vals = np.round(np.array([self.r.uniform(low, high) for _ in range(size(shape))]).reshape(shape), 2)
        return self.const("C", arr_literal(vals, self.dt))

    def cnum(self, low=0.2, high=2.0):
        return fmt_num(self.r.uniform(low, high))

    def shapes(self, arrays_only=False):
        out = []
        for v in self.vars.values():
            if arrays_only and (v.py or v.shape == ()):
                continue
            if v.shape not in out:
                out.append(v.shape)
        if not arrays_only and () not in out:
            out.append(())
        return out

    def into(self, want):
        """Available shapes that broadcast into ``want``."""
        return [s for s in self.shapes() if bshape(s, want) == want]

    def vars_of(self, shape, arrays_only=False):
        return [v for v in self.vars.values() if v.shape == shape and not (arrays_only and v.py)]

    def np_(self, name):
        """The spelling of a NumPy function: np.* everywhere, sometimes ops.* in Cells."""
        ops_names = {"sin": "ops.sin", "cos": "ops.cos", "tanh": "ops.tanh", "exp": "ops.exp",
                     "log": "ops.log", "sqrt": "ops.sqrt", "abs": "ops.abs", "maximum": "ops.maximum",
                     "minimum": "ops.minimum", "where": "ops.where", "matmul": "ops.matmul",
                     "square": "ops.square"}
        if self.kind == "cell" and name in ops_names and self.r.random() < 0.3:
            return ops_names[name]
        return "np." + name

    # -- expressions ------------------------------------------------------------------------
    def ex(self, want, d):
        want = tuple(want)
        if d <= 0:
            return self.leaf(want)
        opts = {}
        W = self.ew
        opts["leaf"] = W["leaf"]
        opts["binop"] = W["binop"]
        opts["neg"] = W["neg"]
        opts["ufunc"] = W["ufunc"]
        opts["pow"] = W["pow"]
        if self.allow_kinks:
            opts["kinky"] = W["kinky"]
            opts["where"] = W["where"]
        if self.reduce_sources(want):
            opts["reduce"] = W["reduce"]
        if self.matmul_sources(want):
            opts["matmul"] = W["matmul"]
        if self.index_sources(want):
            opts["index"] = W["index"]
        if self.reshape_sources(want):
            opts["reshape"] = W["reshape"]
        if self.stack_sources(want):
            opts["stack"] = W["stack"]
        if any(h[2] == want for h in self.helpers):
            opts["helper"] = W["helper"]
        if any(c[2] == want for c in self.subcells):
            opts["subcell"] = W["subcell"]
        opts["ifexp"] = W["ifexp"] * 0.5
        if not self.no_stopgrad:
            opts["stopgrad"] = W["stopgrad"]
        if self.counters:
            opts["counter"] = W["counter"]
        k = self.pick(opts)
        return getattr(self, "ex_" + k)(want, d)

    def leaf(self, want):
        cands = [v for v in self.vars.values() if v.shape == want]
        if cands:
            return self.r.choice(cands).name
        if want == ():
            arrs = [v for v in self.vars.values() if not v.py and v.shape != ()]
            if arrs:
                self.feat("reduce")
                return "np.sum(%s)" % self.r.choice(arrs).name
            return self.cnum()
        # no value of this shape: broadcast a scalar into it (rare)
        ones = self.const("ONES", "np.ones(%r, dtype=np.%s)" % (want, self.dt))
        return "(%s * %s)" % (self.leaf(()), ones)

    def ex_leaf(self, want, d):
        return self.leaf(want)

    def ex_binop(self, want, d):
        op = self.r.choice(["+", "-", "*", "*", "/"])
        a = self.ex(want, d - 1)
        if self.r.random() < 0.25:
            b = self.cnum(0.3, 2.5)
            if op == "/":
                self.feat("div")
            if self.r.random() < 0.5 or op == "/":
                return "(%s %s %s)" % (a, op, b)
            return "(%s %s %s)" % (b, op, a) if op != "/" else "(%s / %s)" % (b, self.positive(a))
        b = self.ex(self.r.choice(self.into(want)), d - 1)
        if self.r.random() < 0.5:
            a, b = b, a
        self.feat("broadcast")
        if op == "/":
            self.feat("div")
            return "(%s / %s)" % (a, self.positive(b))
        return "(%s %s %s)" % (a, op, b)

    def positive(self, e):
        k = self.r.randrange(4)
        if k == 0:
            return "(%s * %s + 1.0)" % (e, e) if len(e) < 30 else "(%s ** 2 + 1.0)" % e
        if k == 1:
            return "(1.5 + %s(%s))" % (self.np_("sin"), e)
        if k == 2:
            return "%s(%s(%s))" % (self.np_("exp"), self.np_("tanh"), e)
        return "(%s(%s) + 2.0)" % (self.np_("cos"), e)

    def ex_neg(self, want, d):
        self.feat("neg")
        return "(-%s)" % self.ex(want, d - 1)

    def ex_ufunc(self, want, d):
        e = self.ex(want, d - 1)
        k = self.r.choice(["sin", "cos", "tanh", "exp", "log", "sqrt", "sigmoid", "square", "recip"])
        self.feat("ufunc_" + k)
        if k in ("sin", "cos", "tanh"):
            return "%s(%s)" % (self.np_(k), e)
        if k == "exp":
            inner = self.r.choice(["tanh", "sin", "cos"])
            return "%s(%s(%s))" % (self.np_("exp"), self.np_(inner), e)
        if k == "log":
            return "%s(%s)" % (self.np_("log"), self.positive(e) if self.r.random() < 0.5 else "(%s ** 2 + 1.0)" % e)
        if k == "sqrt":
            return "%s((%s ** 2 + 0.5))" % (self.np_("sqrt"), e)
        if k == "sigmoid":
            if self.kind == "cell" or self.r.random() < 0.5:
                return "ops.sigmoid(%s)" % e
            return "(1.0 / (1.0 + np.exp(-np.tanh(%s))))" % e
        if k == "square":
            return "%s(np.tanh(%s))" % (self.np_("square"), e)
        return "(1.0 / %s)" % self.positive(e)

    def ex_kinky(self, want, d):
        k = self.r.choice(["abs", "max", "min", "relu", "absop"])
        self.feat("kink_" + k)
        if k == "abs":
            return "%s(%s)" % (self.np_("abs"), self.ex(want, d - 1))
        if k == "absop":
            return "abs(%s)" % self.ex(want, d - 1)
        if k == "relu":
            if self.kind == "cell" or self.r.random() < 0.5:
                return "ops.relu(%s)" % self.ex(want, d - 1)
            return "np.maximum(%s, 0.0)" % self.ex(want, d - 1)
        fn = self.np_("maximum" if k == "max" else "minimum")
        a = self.ex(want, d - 1)
        b = self.ex(self.r.choice(self.into(want)), d - 1) if self.r.random() < 0.7 else self.cnum(-0.5, 0.5)
        if self.r.random() < 0.5:
            a, b = b, a
        return "%s(%s, %s)" % (fn, a, b)

    def ex_where(self, want, d):
        self.feat("where")
        c = self.ex(self.r.choice(self.into(want)), d - 1)
        cond = "%s > %s" % (c, self.cnum(-0.5, 0.5)) if self.r.random() < 0.6 else \
            "%s < %s" % (c, self.ex(self.r.choice(self.into(want)), d - 1))
        a = self.ex(want, d - 1)
        b = self.ex(self.r.choice(self.into(want)), d - 1)
        if self.r.random() < 0.5:
            a, b = b, a
        return "%s(%s, %s, %s)" % (self.np_("where"), cond, a, b)

    def ex_pow(self, want, d):
        e = self.ex(want, d - 1)
        k = self.r.randrange(5)
        self.feat("pow")
        if k == 0:
            return "(%s ** 2)" % e
        if k == 1:
            return "(%s(%s) ** 3)" % (self.np_("tanh"), e)
        if k == 2:
            return "(%s ** 2.0)" % e
        if k == 3:
            return "np.power(%s(%s), 2)" % (self.np_("sin"), e)
        return "(%s * %s)" % (e, e) if len(e) < 40 else "(%s ** 2)" % e

    # reductions --------------------------------------------------------------------------
    def reduce_sources(self, want):
        out = []
        for s in self.shapes(arrays_only=True):
            if size(s) == 0:
                continue
            if want == ():
                out.append((s, None, False))
            for ax in range(len(s)):
                if s[:ax] + s[ax + 1:] == want:
                    out.append((s, ax, False))
                if s[:ax] + (1,) + s[ax + 1:] == want and len(s) > 1:
                    out.append((s, ax, True))
        return out

    def ex_reduce(self, want, d):
        s, ax, keep = self.r.choice(self.reduce_sources(want))
        e = self.ex(s, d - 1)
        fn = self.r.choice(["sum", "sum", "mean", "max", "min"] if self.allow_kinks else ["sum", "sum", "mean"])
        if fn in ("max", "min"):
            if size(s) > 1 and (ax is None or s[ax] > 1):
                self.feat("kink_reduce_" + fn)
        self.feat("reduce")
        if ax is not None and self.r.random() < 0.3 and len(s) > 1:
            ax = ax - len(s)          # negative axis
        method = self.r.random() < 0.45
        if method:
            self.feat("reduce_method")
            if ax is None:
                return "%s.%s()" % (self.paren(e), fn)
            if keep and fn == "mean":
                return "np.mean(%s, axis=%d, keepdims=True)" % (e, ax)
            return "%s.%s(axis=%d%s)" % (self.paren(e), fn, ax, ", keepdims=True" if keep else "")
        if self.kind == "cell" and self.r.random() < 0.3:
            opsname = {"sum": "ops.sum", "mean": "ops.mean", "max": "ops.amax", "min": "ops.amin"}[fn]
            if ax is None:
                return "%s(%s)" % (opsname, e)
            return "%s(%s, %d%s)" % (opsname, e, ax, ", True" if keep else "")
        if ax is None:
            return "np.%s(%s)" % (fn, e)
        return "np.%s(%s, axis=%d%s)" % (fn, e, ax, ", keepdims=True" if keep else "")

    @staticmethod
    def paren(e):
        if e.isidentifier() or e.startswith("self.") and e[5:].isidentifier():
            return e
        if e.startswith("(") and e.endswith(")"):
            return e
        return "(%s)" % e

    # matmul ------------------------------------------------------------------------------
    def matmul_sources(self, want):
        av = [s for s in self.shapes(arrays_only=True)]
        out = []
        for s1 in av:
            for s2 in av:
                if len(s1) == 2 and len(s2) == 2 and s1[1] == s2[0] and (s1[0], s2[1]) == want:
                    out.append((s1, s2))
                elif len(s1) == 2 and len(s2) == 1 and s1[1] == s2[0] and (s1[0],) == want:
                    out.append((s1, s2))
                elif len(s1) == 1 and len(s2) == 2 and s1[0] == s2[0] and (s2[1],) == want:
                    out.append((s1, s2))
                elif len(s1) == 1 and len(s2) == 1 and s1 == s2 and want == ():
                    out.append((s1, s2))
        return out

    def ex_matmul(self, want, d):
        s1, s2 = self.r.choice(self.matmul_sources(want))
        a, b = self.ex(s1, d - 1), self.ex(s2, d - 1)
        k = self.r.randrange(4)
        self.feat("matmul_%dd%dd" % (len(s1), len(s2)))
        if k == 0 or k == 3:
            return "(%s @ %s)" % (a, b)
        if k == 1:
            return "np.dot(%s, %s)" % (a, b)
        return "%s(%s, %s)" % (self.np_("matmul"), a, b)

    # indexing ----------------------------------------------------------------------------
    def index_sources(self, want):
        out = []
        for v in self.vars.values():
            s = v.shape
            if v.py or not s:
                continue
            if len(s) >= 1 and s[1:] == want:
                out.append((v, "row"))
            if len(s) == 2 and (s[0],) == want:
                out.append((v, "col"))
            if len(s) == 2 and want == ():
                out.append((v, "elem"))
            if len(s) >= 1 and len(want) == len(s) and want[1:] == s[1:] and 1 <= want[0] < s[0]:
                out.append((v, "slice0"))
            if len(s) == 2 and len(want) == 2 and want[0] == s[0] and 1 <= want[1] < s[1]:
                out.append((v, "slice1"))
            if len(s) >= 1 and len(want) == len(s) and want[1:] == s[1:] and want[0] >= 1 and want[0] <= 4:
                out.append((v, "fancy0"))
        return out

    def idx_const(self, n, bound):
        vals = [self.r.randrange(bound) for _ in range(n)]
        return self.const("IDX", "np.array(%r)" % vals)

    def ex_index(self, want, d):
        v, how = self.r.choice(self.index_sources(want))
        s = v.shape
        x = v.name
        if how == "row":
            i = self.index_int(s[0])
            self.feat("index_int")
            return "%s[%s]" % (x, i)
        if how == "col":
            self.feat("index_col")
            return "%s[:, %s]" % (x, self.r.randrange(-s[1], s[1]))
        if how == "elem":
            self.feat("index_elem")
            return "%s[%d, %d]" % (x, self.r.randrange(s[0]), self.r.randrange(s[1]))
        if how == "slice0":
            n = want[0]
            self.feat("slice")
            if s[0] - n == 1 and self.r.random() < 0.5:
                return "%s[1:]" % x if self.r.random() < 0.5 else "%s[:-1]" % x
            if (s[0] + 1) // 2 == n and self.r.random() < 0.5:
                self.feat("slice_step")
                return "%s[::2]" % x
            if (s[0] + 1) // 2 == n and s[0] % 2 == 1 and self.r.random() < 0.3:
                return "%s[::-2]" % x
            start = self.r.randrange(0, s[0] - n + 1)
            return "%s[%d:%d]" % (x, start, start + n)
        if how == "slice1":
            n = want[1]
            start = self.r.randrange(0, s[1] - n + 1)
            self.feat("slice_col")
            return "%s[:, %d:%d]" % (x, start, start + n)
        self.feat("index_array")
        return "%s[%s]" % (x, self.idx_const(want[0], s[0]))

    def index_int(self, bound):
        loops = [c for c, b in self.counters if b <= bound]
        if loops and self.r.random() < 0.5:
            self.feat("index_by_counter")
            return self.r.choice(loops)
        return str(self.r.randrange(-bound, bound))

    # reshape -----------------------------------------------------------------------------
    def reshape_sources(self, want):
        out = []
        for s in self.shapes(arrays_only=True):
            if s != want and size(s) == size(want) and want != ():
                out.append(s)
        return out

    def ex_reshape(self, want, d):
        s = self.r.choice(self.reshape_sources(want))
        e = self.ex(s, d - 1)
        self.feat("reshape")
        if len(s) == 2 and want == (s[1], s[0]) and self.r.random() < 0.7:
            self.feat("transpose")
            return self.r.choice(["%s.T" % self.paren(e), "np.transpose(%s)" % e])
        if len(want) == 1 and self.r.random() < 0.4:
            return self.r.choice(["%s.reshape(-1)" % self.paren(e), "%s.flatten()" % self.paren(e)])
        if self.r.random() < 0.5:
            return "%s.reshape(%s)" % (self.paren(e), ", ".join(map(str, want)))
        return "np.reshape(%s, %r)" % (e, want)

    # stack / concatenate -----------------------------------------------------------------
    def stack_sources(self, want):
        out = []
        av = self.shapes()
        if len(want) >= 1 and want[0] in (2, 3) and want[1:] in av:
            out.append(("stack", want[1:], want[0]))
        if len(want) >= 1 and want[0] % 2 == 0 and (want[0] // 2,) + want[1:] in av:
            out.append(("concat0", (want[0] // 2,) + want[1:], 2))
        if len(want) == 2 and want[1] % 2 == 0 and (want[0], want[1] // 2) in av:
            out.append(("concat1", (want[0], want[1] // 2), 2))
        return out

    def ex_stack(self, want, d):
        how, s, n = self.r.choice(self.stack_sources(want))
        parts = ", ".join(self.ex(s, d - 1) for _ in range(n))
        self.feat(how)
        if how == "stack":
            return "np.stack([%s])" % parts
        if how == "concat0":
            return "np.concatenate([%s])" % parts if self.r.random() < 0.5 else \
                "np.concatenate((%s), axis=0)" % parts
        return "np.concatenate([%s], axis=1)" % parts

    # calls -------------------------------------------------------------------------------
    def ex_helper(self, want, d):
        name, params, ret = self.r.choice([h for h in self.helpers if h[2] == want])
        self.feat("helper")
        return "%s(%s)" % (name, ", ".join(self.ex(s, d - 1) for s in params))

    def ex_subcell(self, want, d):
        attr, params, ret, method = self.r.choice([c for c in self.subcells if c[2] == want])
        self.feat("subcell")
        call = "self.%s" % attr if method == "construct" else "self.%s.%s" % (attr, method)
        return "%s(%s)" % (call, ", ".join(self.ex(s, d - 1) for s in params))

    def ex_ifexp(self, want, d):
        self.feat("ifexp")
        return "(%s if %s else %s)" % (self.ex(want, d - 1), self.cond(d - 1), self.ex(want, d - 1))

    def ex_stopgrad(self, want, d):
        self.feat("stop_gradient")
        return "ops.stop_gradient(%s)" % self.ex(want, d - 1)

    def ex_counter(self, want, d):
        c, _ = self.r.choice(self.counters)
        self.feat("counter_arith")
        return "(%s * (%s + 1.0))" % (self.ex(want, d - 1), c) if self.r.random() < 0.5 else \
            "(%s + 0.1 * %s)" % (self.ex(want, d - 1), c)

    def cond(self, d):
        k = self.r.randrange(6)
        d = max(d, 0)
        self.feat("cond")
        c = self.cnum(-0.6, 0.6)
        if k == 0:
            s = self.r.choice(self.shapes(arrays_only=True) or [()])
            return "np.sum(%s) > %s" % (self.ex(s, d), c)
        if k == 1:
            return "%s < %s" % (self.ex((), d), c)
        if k == 2:
            s = self.r.choice(self.shapes(arrays_only=True) or [()])
            return "np.mean(%s) > np.mean(%s)" % (self.ex(s, d), self.ex(s, d))
        if k == 3:
            s = self.r.choice(self.shapes(arrays_only=True) or [()])
            if s == () or not self.allow_kinks:
                return "%s > %s" % (self.ex((), d), c)
            return "%s.max() > %s" % (self.paren(self.ex(s, d)), c)
        if k == 4 and self.counters:
            cn, b = self.r.choice(self.counters)
            self.feat("cond_on_counter")
            return "%s %s %d" % (cn, self.r.choice(["<", ">=", "=="]), self.r.randrange(b))
        return "%s > %s" % (self.ex((), d), c)

    # -- statements -------------------------------------------------------------------------
    def want_shape(self):
        sh = self.shapes()
        nonscalar = [s for s in sh if s != ()]
        if nonscalar and self.r.random() < 0.75:
            return self.r.choice(nonscalar)
        return self.r.choice(sh)

    def assignable(self):
        return [v for v in self.vars.values() if not v.param and not v.fixed]

    def define(self, name, shape, py=False):
        self.vars[name] = Var(name, shape, py=py and shape == ())

    def expr_depth(self):
        return self.r.choice([1, 1, 2, 2, 2, 3])

    def block(self, n, depth, lines, ind, top=False):
        """Append n statements at indentation ind to lines."""
        for _ in range(n):
            self.stmt(depth, lines, ind, top)

    def stmt(self, depth, lines, ind, top):
        W = dict(self.sw)
        if depth >= 2:
            for k in ("if", "for", "while_counter", "while_cond", "for_append", "for_tuple",
                      "for_append_long"):
                W[k] = 0
        top_loop = self.loop_kinds[-1] if self.loop_kinds else None
        if top_loop not in ("for", "while"):
            W["break"] = 0
        if top_loop != "for":
            W["continue"] = 0
        if not [v for v in self.assignable()]:
            W["reassign"] = W["aug"] = W["swap"] = 0
        if len([v for v in self.assignable() if v.shape != ()]) < 1:
            W["swap"] = 0
        if top and not self.in_loop:
            W["early_return"] *= 0.5
        k = self.pick(W)
        getattr(self, "st_" + k)(depth, lines, ind)

    def put(self, lines, ind, text):
        lines.append("    " * ind + text)

    def st_assign(self, depth, lines, ind):
        want = self.want_shape()
        name = self.fresh()
        self.put(lines, ind, "%s = %s" % (name, self.ex(want, self.expr_depth())))
        self.define(name, want, py=False)

    def st_newshape(self, depth, lines, ind):
        """A value of a shape that may not exist yet: broadcast pairs, matmul, slices, stacks."""
        av = self.shapes(arrays_only=True)
        cands = []
        for s1 in av:
            for s2 in self.shapes():
                b = bshape(s1, s2)
                if b is not None and b not in av and size(b) <= MAX_VAR_SIZE:
                    cands.append(("bcast", s1, s2, b))
                if len(s1) == 2 and len(s2) == 2 and s1[1] == s2[0] and (s1[0], s2[1]) not in av:
                    cands.append(("matmul", s1, s2, (s1[0], s2[1])))
            if len(s1) >= 1 and s1[0] >= 2:
                cands.append(("slice", s1, None, (s1[0] - 1,) + s1[1:]))
            if size(s1) * 2 <= MAX_VAR_SIZE:
                cands.append(("stack", s1, None, (2,) + s1))
                cands.append(("concat", s1, None, (2 * s1[0],) + s1[1:]))
            if len(s1) == 2 and s1[1] >= 2:
                cands.append(("slicecol", s1, None, (s1[0], s1[1] - 1)))
            if len(s1) == 1:
                cands.append(("col", s1, None, (s1[0], 1)))
        if not cands:
            return self.st_assign(depth, lines, ind)
        how, s1, s2, res = self.r.choice(cands)
        d = self.r.choice([1, 1, 2])
        name = self.fresh()
        self.feat("newshape_" + how)
        if how == "bcast":
            op = self.r.choice(["+", "*", "-"])
            text = "%s %s %s" % (self.ex(s1, d), op, self.ex(s2, d))
        elif how == "matmul":
            text = "%s @ %s" % (self.ex(s1, d), self.ex(s2, d))
        elif how == "slice":
            v = self.r.choice(self.vars_of(s1, True))
            text = self.r.choice(["%s[1:]", "%s[:-1]"]) % v.name
        elif how == "slicecol":
            v = self.r.choice(self.vars_of(s1, True))
            text = "%s[:, 1:]" % v.name
        elif how == "stack":
            text = "np.stack([%s, %s])" % (self.ex(s1, d), self.ex(s1, d))
        elif how == "concat":
            text = "np.concatenate([%s, %s])" % (self.ex(s1, d), self.ex(s1, d))
        else:
            text = self.r.choice(["%s.reshape(%d, 1)" % (self.paren(self.ex(s1, d)), s1[0]),
                                  "np.expand_dims(%s, 1)" % self.ex(s1, d)])
        self.put(lines, ind, "%s = %s" % (name, text))
        self.define(name, res)

    def st_reassign(self, depth, lines, ind):
        v = self.r.choice(self.assignable())
        overwrite = self.r.random() < (0.35 if self.in_loop else 0.2)
        if overwrite:
            self.feat("overwrite_in_loop" if self.in_loop else "overwrite")
            saved = self.vars.pop(v.name)
            e = self.ex(v.shape, self.expr_depth())
            self.vars[v.name] = saved
        else:
            e = self.update_expr(v)
        self.put(lines, ind, "%s = %s" % (v.name, e))

    def update_expr(self, v):
        """An expression of v's shape that reads v."""
        other = self.ex(self.r.choice(self.into(v.shape)), self.r.choice([0, 1, 2]))
        k = self.r.randrange(5)
        if self.in_loop:
            self.feat("loop_carried")
        if k == 0:
            return "%s + %s" % (v.name, other)
        if k == 1:
            return "%s(%s * %s + %s)" % (self.np_("tanh"), v.name, self.cnum(0.5, 1.5), other)
        if k == 2:
            return "%s * %s" % (v.name, self.ex(self.r.choice(self.into(v.shape)), 1))
        if k == 3:
            return "%s(%s) + %s" % (self.np_("sin"), v.name, other)
        return "%s - %s * %s" % (v.name, self.cnum(0.1, 0.5), other)

    def st_aug(self, depth, lines, ind):
        v = self.r.choice(self.assignable())
        op = self.r.choice(["+=", "-=", "*=", "+=", "/="])
        self.feat("aug")
        if op == "*=":
            rhs = self.cnum(0.5, 1.5) if self.r.random() < 0.5 else \
                "%s(%s)" % (self.np_("cos"), self.ex(self.r.choice(self.into(v.shape)), 1))
        elif op == "/=":
            rhs = self.cnum(1.0, 2.0) if self.r.random() < 0.5 else \
                self.positive(self.ex(self.r.choice(self.into(v.shape)), 1))
        else:
            rhs = self.ex(self.r.choice(self.into(v.shape)), self.r.choice([0, 1, 2]))
        self.put(lines, ind, "%s %s %s" % (v.name, op, rhs))

    def st_tuple(self, depth, lines, ind):
        s1, s2 = self.want_shape(), self.want_shape()
        n1, n2 = self.fresh(), self.fresh()
        e1, e2 = self.ex(s1, self.expr_depth()), self.ex(s2, self.expr_depth())
        self.feat("tuple_assign")
        self.put(lines, ind, "%s, %s = %s, %s" % (n1, n2, e1, e2))
        self.define(n1, s1)
        self.define(n2, s2)

    def st_swap(self, depth, lines, ind):
        av = self.assignable()
        by_shape = {}
        for v in av:
            by_shape.setdefault(v.shape, []).append(v)
        pairs = [vs for vs in by_shape.values() if len(vs) >= 2]
        if not pairs:
            return self.st_reassign(depth, lines, ind)
        a, b = self.r.sample(self.r.choice(pairs), 2)
        self.feat("swap_in_loop" if self.in_loop else "swap")
        k = self.r.randrange(3)
        if k == 0:
            self.put(lines, ind, "%s, %s = %s, %s * %s" % (a.name, b.name, b.name, a.name, self.cnum(0.5, 2.0)))
        elif k == 1:
            self.put(lines, ind, "%s, %s = %s, %s" % (a.name, b.name, b.name, a.name))
        else:
            self.put(lines, ind, "%s, %s = %s(%s + %s), %s" % (a.name, b.name, self.np_("tanh"),
                                                              a.name, b.name, a.name))

    def scoped(self, fn):
        """Run fn with a copy of the scope; names first defined inside are dropped after."""
        saved = dict(self.vars)
        fn()
        self.vars = {k: self.vars[k] for k in saved}

    def st_if(self, depth, lines, ind):
        self.feat("if")
        n_elif = self.r.choice([0, 0, 0, 1])
        has_else = self.r.random() < 0.6
        self.put(lines, ind, "if %s:" % self.cond(self.r.choice([1, 1, 2])))
        self.scoped(lambda: self.block(self.r.choice([1, 1, 2]), depth + 1, lines, ind + 1))
        for _ in range(n_elif):
            self.feat("elif")
            self.put(lines, ind, "elif %s:" % self.cond(1))
            self.scoped(lambda: self.block(self.r.choice([1, 2]), depth + 1, lines, ind + 1))
        if has_else:
            self.put(lines, ind, "else:")
            self.scoped(lambda: self.block(self.r.choice([1, 2]), depth + 1, lines, ind + 1))

    def loop_body(self, depth, lines, ind, n, kind="for"):
        self.in_loop += 1
        self.loop_kinds.append(kind)
        self.scoped(lambda: self.block(n, depth + 1, lines, ind + 1))
        self.loop_kinds.pop()
        self.in_loop -= 1

    def st_for(self, depth, lines, ind):
        bound = self.r.choice([1, 2, 2, 3, 3, 4])
        c = "ijk"[len(self.counters)] if len(self.counters) < 3 else self.fresh("c")
        self.feat("for_nested" if self.in_loop else "for")
        rng = "range(%d)" % bound if self.r.random() < 0.85 else "range(1, %d)" % (bound + 1)
        if rng.startswith("range(1"):
            bound += 1
        self.put(lines, ind, "for %s in %s:" % (c, rng))
        self.counters.append((c, bound))
        self.loop_body(depth, lines, ind, self.r.choice([1, 2, 2, 3]))
        self.counters.pop()

    def st_while_counter(self, depth, lines, ind):
        n = self.fresh("n")
        bound = self.r.choice([1, 2, 3])
        self.feat("while_counter")
        self.put(lines, ind, "%s = 0" % n)
        self.put(lines, ind, "while %s < %d:" % (n, bound))
        self.loop_body(depth, lines, ind, self.r.choice([1, 2]), "while")
        self.put(lines, ind + 1, "%s += 1" % n)

    def st_while_cond(self, depth, lines, ind):
        acc = self.fresh("t")
        self.feat("while_cond")
        s = self.r.choice(self.shapes(arrays_only=True) or [()])
        start = "np.sum(%s ** 2) * 0.1" % self.paren(self.ex(s, 1)) if s != () else \
            "%s ** 2 * 0.1" % self.paren(self.ex((), 1))
        self.put(lines, ind, "%s = %s" % (acc, start))
        limit = self.cnum(1.0, 2.5)
        self.put(lines, ind, "while %s < %s:" % (acc, limit))
        self.vars[acc] = Var(acc, (), fixed=True)
        step = "%s = %s + (%s + %s(%s))" % (acc, acc, self.cnum(1.2, 1.6), self.np_("sin"),
                                           self.ex((), 1)) if self.r.random() < 0.6 else \
            "%s = %s * 1.5 + %s" % (acc, acc, self.cnum(0.2, 0.6))
        self.loop_body(depth, lines, ind, self.r.choice([1, 2]), "while")
        self.put(lines, ind + 1, step)
        self.vars[acc] = Var(acc, ())

    def st_for_append(self, depth, lines, ind):
        s = self.want_shape()
        if size(s) * 4 > MAX_VAR_SIZE:
            s = ()
        bound = self.r.choice([2, 3])
        lst, res = self.fresh("acc"), self.fresh()
        c = self.fresh("c")
        self.feat("list_append")
        self.put(lines, ind, "%s = []" % lst)
        self.put(lines, ind, "for %s in range(%d):" % (c, bound))
        self.counters.append((c, bound))
        self.in_loop += 1
        self.loop_kinds.append("append")

        def body():
            if self.r.random() < 0.5:
                self.stmt(depth + 1, lines, ind + 1, False)
            self.put(lines, ind + 1, "%s.append(%s)" % (lst, self.ex(s, 2)))
        self.scoped(body)
        self.loop_kinds.pop()
        self.in_loop -= 1
        self.counters.pop()
        self.put(lines, ind, "%s = np.stack(%s)" % (res, lst))
        self.define(res, (bound,) + s)

    def st_for_append_long(self, depth, lines, ind):
        """A list appended to in a loop too long to unroll: built while the code runs."""
        s = self.want_shape()
        bound = self.r.choice([33, 36, 40])
        lst, res, c = self.fresh("acc"), self.fresh(), self.fresh("c")
        self.feat("list_append_run_time")
        self.put(lines, ind, "%s = []" % lst)
        self.put(lines, ind, "for %s in range(%d):" % (c, bound))
        self.put(lines, ind + 1, "%s.append(%s * %s(%s * %s))" % (
            lst, self.paren(self.ex(s, 2)), self.np_("cos"), c, self.cnum(0.05, 0.3)))
        how = self.r.randrange(3)
        if how == 0:
            self.put(lines, ind, "%s = %s(%s(%s), axis=0)" % (res, self.np_("mean"), self.np_("stack"), lst))
        elif how == 1:
            self.put(lines, ind, "%s = %s[-1] * 0.5 + %s[%d] / len(%s)" % (res, lst, lst, self.r.randrange(bound), lst))
        else:
            self.put(lines, ind, "%s = %s" % (res, self.ex(s, 0)))
            k = self.fresh("e")
            self.put(lines, ind, "for %s in %s:" % (k, lst))
            self.put(lines, ind + 1, "%s = %s + %s * 0.05" % (res, res, k))
        self.define(res, s)

    def st_setitem(self, depth, lines, ind):
        """``v[...] = e`` (or ``+=``, ``*=``) on an array variable: an item, a slice, a column."""
        cands = [v for v in self.assignable() if v.shape != () and not v.py]
        if not cands:
            return self.st_assign(depth, lines, ind)
        v = self.r.choice(cands)
        s = v.shape
        forms = ["item", "slice"] + (["elem", "col"] if len(s) == 2 else [])
        form = self.r.choice(forms)
        if form == "item":
            index, part = self.index_int(s[0]), s[1:]
        elif form == "slice":
            start = self.r.randrange(s[0])
            stop = self.r.randrange(start + 1, s[0] + 1)
            index, part = "%d:%d" % (start, stop), (stop - start,) + s[1:]
        elif form == "elem":
            index, part = "%d, %d" % (self.r.randrange(s[0]), self.r.randrange(-s[1], s[1])), ()
        else:
            index, part = ":, %d" % self.r.randrange(s[1]), (s[0],)
        rhs_shape = part if self.r.random() < 0.7 else ()
        self.feat("setitem_" + form + ("_in_loop" if self.in_loop else ""))
        op = self.r.choice(["=", "=", "+=", "*="])
        rhs = self.ex(rhs_shape, self.r.choice([1, 2])) if op != "*=" else self.cnum(0.5, 1.5)
        self.put(lines, ind, "%s[%s] %s %s" % (v.name, index, op, rhs))

    def st_for_tuple(self, depth, lines, ind):
        s = self.want_shape()
        c = self.fresh("u")
        self.feat("for_tuple")
        items = [self.ex(s, 1) for _ in range(self.r.choice([2, 3]))]
        if self.r.random() < 0.3:
            self.put(lines, ind, "for %s, %s in enumerate([%s]):" % ("e" + c, c, ", ".join(items)))
            self.feat("enumerate")
            self.counters.append(("e" + c, len(items)))
        else:
            self.put(lines, ind, "for %s in (%s,):" % (c, ", ".join(items)))
        self.vars[c] = Var(c, s, fixed=True)
        self.loop_body(depth, lines, ind, self.r.choice([1, 2]), "for")
        if self.counters and self.counters[-1][0] == "e" + c:
            self.counters.pop()
        del self.vars[c]

    def st_early_return(self, depth, lines, ind):
        self.feat("early_return_in_loop" if self.in_loop else "early_return")
        self.put(lines, ind, "if %s:" % (self.loop_exit_cond() if self.in_loop else self.cond(1)))
        self.put(lines, ind + 1, "return %s" % self.out_expr())

    def loop_exit_cond(self):
        """Half the time on the loop counter (decided while unrolling), else on a Tensor."""
        if self.counters and self.r.random() < 0.5:
            cn, b = self.counters[-1]
            self.feat("exit_on_counter")
            return "%s %s %d" % (cn, self.r.choice(["==", ">="]), self.r.randrange(b))
        return self.cond(1)

    def st_break(self, depth, lines, ind):
        self.feat("break")
        self.put(lines, ind, "if %s:" % self.loop_exit_cond())
        self.put(lines, ind + 1, "break")

    def st_continue(self, depth, lines, ind):
        self.feat("continue")
        self.put(lines, ind, "if %s:" % self.loop_exit_cond())
        self.put(lines, ind + 1, "continue")

    def st_lambda(self, depth, lines, ind):
        name = self.fresh("fn")
        self.feat("lambda")
        self.put(lines, ind, "%s = lambda t: %s(t) * %s" % (name, self.np_("tanh"), self.cnum()))
        want = self.want_shape()
        v = self.fresh()
        self.put(lines, ind, "%s = %s(%s)" % (v, name, self.ex(want, 1)))
        self.define(v, want)

    # -- outputs ----------------------------------------------------------------------------
    def out_expr(self):
        spec = self.out_spec
        if isinstance(spec, list):
            return ", ".join(self.out_one(s) for s in spec)
        return self.out_one(spec)

    def out_one(self, s):
        if s == ():
            if self.r.random() < 0.7:
                src = self.r.choice(self.shapes())
                e = self.ex(src, self.r.choice([1, 2]))
                if src == ():
                    return e
                return self.r.choice(["np.sum(%s)", "np.sum(%s)", "np.mean(%s)"]) % e if self.kind == "func" or \
                    self.r.random() < 0.5 else "ops.sum(%s)" % e
            return self.ex((), 2)
        return self.ex(s, 2)

    # -- whole programs ---------------------------------------------------------------------
    def inputs(self, n, names, budget, cell):
        shapes, kinds = [], []
        # (all floats: the call stub's special version computes with math on them)
        floats = not cell and self.r.random() < PYTHON_FLOATS
        if floats:
            self.feat("python_floats")
        for _ in range(n):
            opts = [s for s in self.pool if size(s) <= budget] or [()]
            s = () if floats else self.r.choice(opts)
            budget -= size(s)
            shapes.append(s)
            if cell:
                kinds.append("tensor")
            elif floats:
                kinds.append("py")
            elif s == ():
                kinds.append(self.r.choice(["py", "np0", "arr0"]))
            else:
                kinds.append("arr")
        for nm, s, k in zip(names, shapes, kinds):
            self.vars[nm] = Var(nm, s, py=(k == "py"))
        return shapes, kinds, budget

    def gen_helper(self, idx, budget_shapes):
        """A module-level function; may call the helpers made before it."""
        n = self.r.choice([1, 2, 2])
        params = [self.r.choice(budget_shapes) for _ in range(n)]
        names = ["a", "b"][:n]
        saved_vars, saved_ctr, saved_loop = self.vars, self.counters, self.in_loop
        self.vars = {nm: Var(nm, s, fixed=False) for nm, s in zip(names, params)}
        self.counters, self.in_loop = [], 0
        ret_shape = self.r.choice(params + [()])
        saved_spec = self.out_spec
        self.out_spec = ret_shape
        lines = []
        name = "helper%d" % idx
        if self.sw.get("if", 0) > 0 and self.r.random() < RECURSIVE_HELPERS:
            # calls itself with its arguments scaled down until they are small: a depth the
            # data decides (a loop down, and back up when the result is used)
            self.put(lines, 1, "if np.sum(%s * %s) > %s:" % (names[0], names[0], self.cnum(0.3, 1.5)))
            call = "%s(%s)" % (name, ", ".join("%s * %s" % (nm, self.cnum(0.4, 0.8)) for nm in names))
            if self.r.random() < 0.5:
                self.feat("recursion_tail")
                self.put(lines, 2, "return %s" % call)
            else:
                self.feat("recursion_back_up")
                self.put(lines, 2, "return %s * 0.5 + %s" % (self.paren(self.out_one(ret_shape)), call))
        saved_sw = self.sw
        self.sw = dict(self.sw, early_return=self.sw["early_return"] * 0.5, for_tuple=0, for_append=0)
        self.block(self.r.choice([1, 2, 3]), 1, lines, 1, top=True)
        self.sw = saved_sw
        lines.append("    return %s" % self.out_one(ret_shape))
        self.helper_src.append("def %s(%s):\n%s\n" % (name, ", ".join(names), "\n".join(lines)))
        self.vars, self.counters, self.in_loop, self.out_spec = saved_vars, saved_ctr, saved_loop, saved_spec
        self.helpers.append((name, params, ret_shape))
        self.feat("helper_def")

    def param_line(self, attr, shape, frozen=False):
        vals = np.round(np.array([self.r.uniform(-1.0, 1.0) for _ in range(size(shape))]).reshape(shape), 2)
        cname = self.const("W", arr_literal(vals))
        rg = ", requires_grad=False" if frozen else ""
        return "        self.%s = Parameter(%s.astype(PDT), name=%r%s)" % (attr, cname, attr, rg)

    def gen_subcell(self, idx, shapes):
        """A sub-Cell class with one Parameter; called as self.subN(x) or self.subN.encode(x)."""
        s_in = self.r.choice(shapes)
        s_w = self.r.choice([s for s in self.pool if bshape(s, s_in) == s_in])
        saved = self.vars, self.counters, self.in_loop
        saved_sc = self.subcells
        self.subcells = []
        self.vars = {"a": Var("a", s_in), "self.w": Var("self.w", s_w, param=True)}
        self.counters, self.in_loop = [], 0
        ret = self.r.choice([s_in, ()])
        cls = "Sub%d" % idx
        init = ["    def __init__(self):", "        super().__init__()", self.param_line("w", s_w)]
        body = []
        saved_sw = self.sw
        self.sw = dict(self.sw, early_return=0, for_tuple=0, for_append=0)
        if self.r.random() < 0.5:
            self.block(1, 1, body, 2, top=True)
        self.sw = saved_sw
        method = "construct"
        saved_spec = self.out_spec
        self.out_spec = ret
        body.append("        return %s" % self.out_one(ret))
        self.out_spec = saved_spec
        text = ["class %s(nn.Cell):" % cls] + init + [""]
        if self.r.random() < 0.3:
            method = "encode"
            self.feat("subcell_method")
            text += ["    def encode(self, a):"] + body + ["", "    def construct(self, a):",
                                                          "        return self.encode(a)", ""]
        else:
            text += ["    def construct(self, a):"] + body + [""]
        self.subcell_src.append("\n".join(text))
        self.vars, self.counters, self.in_loop = saved
        self.subcells = saved_sc
        attr = "sub%d" % idx
        self.subcells.append((attr, [s_in], ret, method))
        self.feat("subcell_def")
        return attr, cls


def header(kind):
    return ["import numpy as np", "import adjoint", "import adjoint.nn as nn", "import adjoint.ops as ops",
            "from adjoint import Parameter, ParameterTuple, Tensor", ""]


def _api_func(r, n, out_spec):
    """How a plain function is differentiated."""
    k = r.random()
    pos_all = tuple(range(n))
    tuple_out = isinstance(out_spec, list)
    if k < 0.35:
        p = r.choice([0, r.randrange(n), pos_all, (r.randrange(n),)])
        return {"call": "grad", "pos": p}
    if k < 0.5:
        p = r.choice([0, pos_all])
        return {"call": "value_and_grad", "pos": p}
    if k < 0.6 and tuple_out:
        return {"call": r.choice(["grad", "value_and_grad"]), "pos": r.choice([0, pos_all]), "has_aux": True}
    if k < 0.8:
        return {"call": "gradop", "get_all": r.random() < 0.7, "sens": False}
    return {"call": "gradop", "get_all": r.random() < 0.7, "sens": True}


def _api_cell(r, n):
    k = r.random()
    if k < 0.6:
        ga, gl = r.choice([(True, False), (False, True), (True, True), (False, False), (True, True)])
        return {"call": "gradop", "get_all": ga, "get_by_list": gl, "sens": r.random() < 0.25}
    if k < 0.85:
        return {"call": r.choice(["grad", "value_and_grad"]), "pos": r.choice([0, tuple(range(n)), None]),
                "weights": True}
    return {"call": "grad", "pos": r.choice([0, tuple(range(n))]), "weights": False}


def build_first_order(g, r):
    """The program text of a first-order case (function or Cell), its entry and input info."""
    cell = g.kind == "cell"
    n_in = r.choice([1, 2, 2, 3])
    names = ["x", "y", "z"][:n_in]
    shapes, kinds, budget = g.inputs(n_in, names, MAX_ELEMENTS - (12 if cell else 0), cell)
    # helpers see shapes of the inputs
    in_shapes = [s for s in shapes] + [()]
    for h in range(r.choice([0, 0, 1, 1, 2])):
        g.gen_helper(h, in_shapes)
    init = []
    if cell:
        pshapes = []
        for pi in range(r.choice([1, 1, 2, 3])):
            s = r.choice([s for s in g.pool if size(s) <= 8])
            frozen = r.random() < 0.1
            init.append(g.param_line("w%d" % pi, s, frozen))
            pshapes.append(("self.w%d" % pi, s))
            if frozen:
                g.feat("frozen_param")
        for si in range(r.choice([0, 0, 1, 1, 2])):
            attr, cls = g.gen_subcell(si, in_shapes)
            init.append("        self.%s = %s()" % (attr, cls))
        if r.random() < 0.3:
            init.append("        self.scale = %s" % g.cnum(0.5, 2.0))
            pshapes.append(("self.scale", ()))
            g.feat("cell_const_attr")
        flag = None
        if r.random() < 0.25:
            flag = r.random() < 0.5
            init.append("        self.flag = %s" % flag)
        for nm, s in pshapes:
            g.vars[nm] = Var(nm, s, param=True, py=(nm == "self.scale"))
    # the output
    u = r.random()
    if u < 0.7:
        g.out_spec = ()
    elif u < 0.82:
        g.out_spec = r.choice(shapes)
        g.feat("array_output")
    else:
        g.out_spec = [(), r.choice(shapes + [()])]
        g.feat("tuple_output")
    lines = []
    g.block(r.choice([2, 3, 3, 4, 5, 6]), 0, lines, 2 if cell else 1, top=True)
    if cell and flag is not None:
        g.feat("compile_time_if")
        ind = "        "
        lines.append(ind + "if self.flag:")
        v = r.choice(g.assignable() or [None])
        if v is not None:
            lines.append(ind + "    %s = %s" % (v.name, g.update_expr(v)))
        else:
            lines.append(ind + "    pass")
    lines.append(("        " if cell else "    ") + "return %s" % g.out_expr())
    src = header(g.kind)
    body = []
    if cell:
        body.append("class Net(nn.Cell):")
        body.append("    def __init__(self):")
        body.append("        super().__init__()")
        body += init
        body.append("")
        body.append("    def construct(self, %s):" % ", ".join(names))
        body += lines
    else:
        body.append("def f(%s):" % ", ".join(names))
        body += lines
    return src, body, names, shapes, kinds


def generate(seed, index, order=1, validate_fn=None, kind=None, ew=None, sw=None):
    """The index-th program of the run with this seed (deterministic)."""
    r = random.Random("%d:%d:%d" % (seed, index, order))
    last = None
    for attempt in range(30):
        g = Gen(r, order=order, kind=kind, ew=ew, sw=sw)
        case = _order1(g, r, seed, index) if order == 1 else _order2(g, r, seed, index)
        case.attempt = attempt
        case.inputs = draw_inputs(case, 0)
        last = case
        if validate_fn is None or validate_fn(case):
            return case
    return last


def _finish_source(g, src, body):
    parts = list(src)
    if g.kind == "cell" or g.subcells:
        parts.append("PDT = np.%s" % ("float64" if g.r.random() < 0.5 else g.dt))
    parts += g.consts
    parts.append("")
    parts.append("")
    for h in g.helper_src:
        parts.append(h)
        parts.append("")
    for c in g.subcell_src:
        parts.append(c)
        parts.append("")
    parts += body
    text = "\n".join(parts) + "\n"
    text = desugar_unsafe_aug(text) if g.kind == "func" else text
    text = copy_before_shared_setitem(text)
    compile(text, "<fuzz>", "exec")
    return text


def _order1(g, r, seed, index):
    src, body, names, shapes, kinds = build_first_order(g, r)
    if g.kind == "func":
        api = _api_func(r, len(names), g.out_spec)
        entry = "f"
    else:
        api = _api_cell(r, len(names))
        entry = "Net()"
    text = _finish_source(g, src, body)
    return Case(seed, index, 1, g.kind, text, entry, in_shapes=shapes, in_kinds=kinds, dtype=g.dt, api=api,
                out_shapes=g.out_spec, features=sorted(g.features))


def _order2(g, r, seed, index):
    """A first-order gradient called inside the differentiated program."""
    g.no_stopgrad = True
    g.allow_kinks = r.random() < 0.3
    # constructs the first order mostly refuses today: rarer, so the second order is reached
    for k in ("early_return", "break", "continue"):
        g.sw[k] *= 0.3
    g.ew["kinky"] = 0.5
    src, body, names, shapes, kinds = build_first_order(g, r)
    n = len(names)
    if g.kind == "func":
        # inner f returns a scalar (or a tuple, summed); h calls its gradient
        pos = r.choice([0, 0, tuple(range(n))])
        inner_api = {"call": "grad", "pos": pos}
        gtext = "adjoint.grad(f, grad_position=%r)" % (pos,)
        lines = []
        vname = None
        if r.random() < 0.5:
            lines.append("gf = %s" % gtext)
            call = "gf(%s)" % ", ".join(names)
            g.feat("grad_global")
        else:
            call = "%s(%s)" % (gtext, ", ".join(names))
            g.feat("grad_inline")
        gshapes = [shapes[pos]] if isinstance(pos, int) else [shapes[p] for p in pos]
        lines.append("")
        lines.append("")
        lines.append("def h(%s):" % ", ".join(names))
        if isinstance(pos, int) or len(pos) == 1:
            lines.append("    g = %s" % call)
            gnames = ["g"]
        else:
            gnames = ["g%d" % i for i in range(n)]
            lines.append("    %s = %s" % (", ".join(gnames), call) + ("," if n == 1 else ""))
        terms = []
        for gn, s in zip(gnames, gshapes):
            k = r.randrange(5)
            if k == 0:
                vname = g.const_array(s)
                terms.append("np.sum(%s * %s)" % (gn, vname))
            elif k == 1:
                terms.append("np.sum(%s * %s)" % (gn, gn))
            elif k == 2:
                terms.append("np.sum(np.sin(%s))" % gn)
            elif k == 3:
                other = r.choice([nm for nm, s2 in zip(names, shapes) if bshape(s2, s) == s] or [None])
                terms.append("np.sum(%s * %s)" % (gn, other) if other else "np.sum(%s)" % gn)
            else:
                terms.append("np.sum(%s)" % gn)
        lines.append("    return %s" % " + ".join(terms))
        api = r.choice([{"call": "grad", "pos": tuple(range(n))}, {"call": "grad", "pos": 0},
                        {"call": "gradop", "get_all": True, "sens": False},
                        {"call": "value_and_grad", "pos": tuple(range(n))}])
        text = _finish_source(g, src, body + lines)
        return Case(seed, index, 2, "func", text, "h", inner="f", inner_api=inner_api, in_shapes=shapes,
                    in_kinds=kinds, dtype=g.dt, api=api, out_shapes=(), features=sorted(g.features))
    # Cell: GradNet(Net())
    k = r.randrange(3)
    if k == 0:
        op, call, inner_api = "ops.GradOperation()", "self.grad_op(self.net)(%s)", {"call": "gradop"}
    elif k == 1:
        op, call, inner_api = ("ops.GradOperation(get_all=True)", "self.grad_op(self.net)(%s)",
                               {"call": "gradop", "get_all": True})
    else:
        op, call, inner_api = ("ops.GradOperation(get_by_list=True)", "self.grad_op(self.net, self.params)(%s)",
                               {"call": "gradop", "get_by_list": True})
    lines = ["", "", "class GradNet(nn.Cell):", "    def __init__(self, net):", "        super().__init__()",
             "        self.net = net", "        self.grad_op = %s" % op]
    if k == 2:
        lines.append("        self.params = ParameterTuple(net.trainable_params())")
    lines += ["", "    def construct(self, %s):" % ", ".join(names)]
    lines.append("        g = " + call % ", ".join(names))
    g.feat("gradnet_%d" % k)
    post = r.randrange(4)
    if k == 0:
        if post == 1:
            lines.append("        return g * g")
        elif post == 2:
            lines.append("        return ops.sum(g * %s)" % names[0])
        else:
            lines.append("        return g")
    else:
        if post == 1:
            lines.append("        return ops.sum(g[0] * g[0])")
        else:
            lines.append("        return g")
    api = r.choice([{"call": "gradop", "get_all": True, "get_by_list": False, "sens": False},
                    {"call": "gradop", "get_all": False, "get_by_list": False, "sens": False},
                    {"call": "gradop", "get_all": True, "get_by_list": True, "sens": False},
                    {"call": "gradop", "get_all": False, "get_by_list": True, "sens": False}])
    text = _finish_source(g, src, body + lines)
    return Case(seed, index, 2, "cell", text, "GradNet(Net())", inner="Net()", inner_api=inner_api,
                in_shapes=shapes, in_kinds=kinds, dtype=g.dt, api=api, out_shapes=None,
                features=sorted(g.features))


# -- inputs ----------------------------------------------------------------------------------
def draw_inputs(case, attempt):
    """Input values for a case: deterministic in (seed, index, order, attempt)."""
    rng = np.random.default_rng([case.seed, case.index, case.order, case.attempt, attempt])
    dt = np.dtype(case.dtype)
    vals = []
    for s, k in zip(case.in_shapes, case.in_kinds):
        v = np.round(rng.uniform(-1.2, 1.2, size=s), 3)
        if k == "py":
            vals.append(float(v))
        elif k == "np0":
            vals.append(np.asarray(v, dtype=dt))
        elif k == "arr0":
            vals.append(np.asarray(v, dtype=dt).reshape(()))
        else:
            vals.append(np.asarray(v, dtype=dt))
    return vals


# -- numpy aliasing: `v += e` mutates v's array -------------------------------------------------
_VIEW_FUNCS = {"reshape", "transpose", "squeeze", "expand_dims", "stop_gradient", "ravel", "asarray",
               "view", "swapaxes", "moveaxis", "broadcast_to", "atleast_1d", "atleast_2d"}
_COPY_CONSUMERS = {"stack", "concatenate", "concat", "cat", "array", "sum", "mean"}


def _alias_roots(node):
    """Names whose array the value of ``node`` may share (views, plain names, calls of helpers)."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Subscript):
        return _alias_roots(node.value)
    if isinstance(node, ast.Attribute):
        return _alias_roots(node.value) if node.attr == "T" else set()
    if isinstance(node, ast.Starred):
        return _alias_roots(node.value)
    if isinstance(node, ast.IfExp):
        return _alias_roots(node.body) | _alias_roots(node.orelse)
    if isinstance(node, (ast.Tuple, ast.List)):
        out = set()
        for e in node.elts:
            out |= _alias_roots(e)
        return out
    if isinstance(node, ast.Call):
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        if isinstance(f, ast.Attribute) and name in _VIEW_FUNCS:
            out = set()
            if not (isinstance(f.value, ast.Name) and f.value.id in ("np", "ops")):
                out |= _alias_roots(f.value)
            for a in node.args:
                out |= _alias_roots(a)
            return out
        if isinstance(f, ast.Name) or (isinstance(f, ast.Attribute) and not (
                isinstance(f.value, ast.Name) and f.value.id in ("np", "ops", "math"))):
            # a helper, sub-Cell, lambda or method: anything passed in may come back
            out = set()
            for a in node.args:
                out |= _alias_roots(a)
            if isinstance(f, ast.Attribute) and name not in ("sum", "mean", "max", "min", "flatten", "copy",
                                                             "dot", "astype"):
                out |= _alias_roots(f.value)
            return out
    return set()


def unsafe_aug_names(tree):
    """Names that an in-place ``+=`` could change behind another name's back, per function."""
    out = {}
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        bad = set()
        entry = fn.name in ("f", "construct", "h")
        if not entry:
            bad |= {a.arg for a in fn.args.args}
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign):
                roots = _alias_roots(node.value)
                bad |= roots
                for t in node.targets:
                    if roots or isinstance(node.value, (ast.Tuple, ast.List)):
                        for n in ast.walk(t):
                            if isinstance(n, ast.Name):
                                bad.add(n.id)
            elif isinstance(node, ast.For):
                bad |= _alias_roots(node.iter)
                for n in ast.walk(node.target):
                    if isinstance(n, ast.Name):
                        bad.add(n.id)
            elif isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Attribute) and f.attr == "append":
                    for a in node.args:
                        bad |= _alias_roots(a)
                elif not (isinstance(f, ast.Attribute) and f.attr in _COPY_CONSUMERS):
                    # arguments of helpers and sub-Cells may be mutated or returned
                    if isinstance(f, ast.Name) or (isinstance(f, ast.Attribute) and not (
                            isinstance(f.value, ast.Name) and f.value.id in ("np", "ops", "math"))):
                        for a in node.args:
                            bad |= _alias_roots(a)
            elif isinstance(node, ast.Return) and node.value is not None and not entry:
                bad |= _alias_roots(node.value)
            elif isinstance(node, ast.Lambda):
                bad |= {a.arg for a in node.args.args}
        out[fn] = bad
    return out


def desugar_unsafe_aug(text):
    """Rewrite ``v += e`` as ``v = v + e`` where v's array may be shared (plain functions only:
    there `+=` is NumPy's in-place update, which adjoint, like MindSpore, does not model)."""
    tree = ast.parse(text)
    changed = False
    for fn, bad in unsafe_aug_names(tree).items():
        for node in ast.walk(fn):
            for fld in ("body", "orelse"):
                stmts = getattr(node, fld, None)
                if not isinstance(stmts, list):
                    continue
                for i, st in enumerate(stmts):
                    if isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name) and st.target.id in bad:
                        new = ast.Assign(targets=[ast.Name(st.target.id, ast.Store())],
                                         value=ast.BinOp(ast.Name(st.target.id, ast.Load()), st.op, st.value))
                        stmts[i] = ast.copy_location(new, st)
                        changed = True
    if not changed:
        return text
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def shared_setitem_roots(fn, entry):
    """Names in ``fn`` whose array a caller or a Parameter also holds (a helper's parameters,
    ``v = self.w``) or that share memory with another name (``v = x[0]``, ``x.reshape(...)``):
    ``v[i] = e`` on them changes that other array too, which adjoint refuses
    (tests/test_python_features.py covers the refusals)."""
    params = {a.arg for a in fn.args.args}
    shared = set() if entry else set(params)
    for node in ast.walk(fn):
        if not isinstance(node, ast.Assign):
            continue
        targets = {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        roots = _alias_roots(node.value)
        if isinstance(node.value, ast.Name):          # plain aliases: adjoint follows those
            if roots & shared:
                shared |= targets
            continue
        if roots:                                     # a view: both sides change together
            shared |= roots | targets
        if _may_view_self(node.value):
            shared |= targets
    return shared


def _may_view_self(node):
    """``self.w``, ``self.w[0]``, ``ops.stop_gradient(self.w)``: may be a Parameter itself."""
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name) and node.value.id == "self" or _may_view_self(node.value)
    if isinstance(node, ast.Subscript):
        return _may_view_self(node.value)
    if isinstance(node, ast.IfExp):
        return _may_view_self(node.body) or _may_view_self(node.orelse)
    if isinstance(node, ast.Tuple):
        return any(_may_view_self(e) for e in node.elts)
    if isinstance(node, ast.Call):
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
        return name in _VIEW_FUNCS and any(_may_view_self(a) for a in node.args)
    return False


def copy_before_shared_setitem(text):
    """Insert ``v = v.copy()`` before ``v[i] = e`` where v may be a caller's array or view an
    input, so generated programs exercise item assignment rather than its refusals."""
    tree = ast.parse(text)
    changed = False
    entries = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in ("f", "h")]
    entries += [m for c in tree.body if isinstance(c, ast.ClassDef) and c.name in ("Net", "GradNet")
                for m in c.body if isinstance(m, ast.FunctionDef) and m.name == "construct"]
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        shared = shared_setitem_roots(fn, fn in entries)
        for node in ast.walk(fn):
            for fld in ("body", "orelse"):
                stmts = getattr(node, fld, None)
                if not isinstance(stmts, list):
                    continue
                for i in range(len(stmts) - 1, -1, -1):
                    st = stmts[i]
                    targets = st.targets if isinstance(st, ast.Assign) else \
                        [st.target] if isinstance(st, ast.AugAssign) else []
                    roots = {t.value.id for t in targets
                             if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name)}
                    for name in roots & shared:
                        copy = ast.parse("%s = %s.copy()" % (name, name)).body[0]
                        stmts.insert(i, ast.copy_location(copy, st))
                        changed = True
    if not changed:
        return text
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def alias_safe(text):
    """True when no in-place augmented assignment in a plain function could hit a shared array."""
    tree = ast.parse(text)
    for fn, bad in unsafe_aug_names(tree).items():
        for node in ast.walk(fn):
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id in bad:
                return False
    return True
