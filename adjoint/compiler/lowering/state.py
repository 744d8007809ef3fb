"""The lowering state: one function body being lowered, and the dispatch to the functions that
lower each kind of statement and expression (statements.py, expressions.py, control.py),
call (calls.py) and Python builtin (python_calls.py).

The environment maps names to *abstract values*: an ``ir.Value`` (an array or number known
only when the generated code runs) or any Python object known now. Operations on Values
become ops; operations on known objects are carried out (``2 * math.pi``, ``self.flag``,
``len(xs)`` on a Python list), which is how constant folding, compile-time ``if`` and
inlining come for free.
"""
from ...errors import SourceError
from .. import gastutil, ir
from .. import rules as P
from ..fence import refusal
from ..frontend import closure_vars
from ..hooks import is_array_object
from ..sources import Source
from . import calls, control, expressions, statements
from .expressions import BoundMethod

g = gastutil.nodes

STATEMENTS = {
    g.Expr: statements.expression, g.Pass: statements.pass_, g.Return: statements.return_,
    g.Assign: statements.assign_stmt, g.AnnAssign: statements.ann_assign,
    g.AugAssign: statements.aug_assign, g.Assert: statements.assert_,
    g.FunctionDef: statements.function_def,
    g.If: control.lower_if, g.For: control.for_, g.While: control.while_,
    g.Break: control.break_, g.Continue: control.continue_,
}

EXPRESSIONS = {
    g.Constant: expressions.constant, g.Name: expressions.name, g.Attribute: expressions.attribute,
    g.Tuple: expressions.tuple_display, g.List: expressions.list_display,
    g.Dict: expressions.dict_display,
    g.Slice: expressions.slice_expr, g.Subscript: expressions.subscript, g.BinOp: expressions.binop,
    g.UnaryOp: expressions.unaryop, g.Compare: expressions.compare, g.BoolOp: expressions.boolop,
    g.IfExp: expressions.ifexp, g.ListComp: expressions.listcomp, g.Lambda: expressions.lambda_expr,
    g.JoinedStr: expressions.joinedstr, g.FormattedValue: expressions.formattedvalue,
    g.Call: expressions.call,
}


class Lowerer:
    """Lowers one function body. ``loc_override``: charge every op to this location instead
    (library code such as Tensor methods and derivative rules)."""

    jump = None                 # 'break' / 'continue' / 'return' / 'end': the iteration is over
    cont = None                 # what follows the statement being lowered (a Continuation)
    frame = None                # the innermost loop whose body jumps

    def __init__(self, ctx, src, fn, env, loc_override=None, role="fwd"):
        self.ctx, self.src, self.env = ctx, src, env
        self.fn = fn            # this function object: its globals and closure (src is shared per code)
        self.globals = self.fn.__globals__
        self.closure = closure_vars(self.fn)
        self.loc_override, self.role = loc_override, role
        self.caller = None          # the lowerer whose call this body is inlined for
        self.call_loc = None        # where that call is
        self.node_loc = None
        self.returned, self.result = False, None
        self.loop_locals = {}       # names assigned only inside a loop op -> the loop's Loc
        self.lists = {}             # (in a branch) id -> (list, its items) for lists it changed
        self.shared_names = {}      # (in a loop body) name -> the carried name it is one array with
        self.leaving = False        # (in a branch) it returned inside a loop: its lists are dead

    def run(self):
        return self.run_body(self.src.node.body)

    def run_body(self, stmts):
        self.body(stmts)
        return self.result

    def child(self, env):
        """A lowerer for a branch of this body (same function, a copy of the environment)."""
        sub = type(self)(self.ctx, self.src, self.fn, env, self.loc_override, self.role)
        sub.frame, sub.caller = self.frame, self.caller
        return sub

    def loc(self, node):
        if self.loc_override is not None:
            return self.loc_override
        return self.src.loc(node)

    def error(self, node, message, hint=None):
        return SourceError(message, self.loc(node), hint)

    # -- dispatch ---------------------------------------------------------------------------
    def body(self, stmts):
        """Lower statements in order. While one is lowered, ``self.cont`` is what follows it to
        the end of the function or of the loop iteration (the rest of this list, then the
        enclosing code's rest), so an ``if`` on a Tensor whose branch returns or jumps can lower
        all of it in the other branch."""
        outer = self.cont
        try:
            for k, stmt in enumerate(stmts):
                if self.returned or self.jump:
                    return
                self.cont = control.Continuation(stmts[k + 1:], outer)
                self.stmt(stmt)
        finally:
            self.cont = outer

    def stmt(self, node):
        self.node_loc = node
        lower = STATEMENTS.get(type(node))
        if lower is None:
            what, hint = refusal(node)
            raise self.error(node, "%s statements are not supported in code adjoint compiles" % what, hint)
        lower(self, node)

    def expr(self, node):
        lower = EXPRESSIONS.get(type(node))
        if lower is None:
            what, hint = refusal(node)
            raise self.error(node, "%s expressions are not supported in code adjoint compiles" % what, hint)
        return lower(self, node)

    # -- what the parts share ---------------------------------------------------------------
    def operand(self, value, node):
        """An op argument: Values stay, known objects become Consts, tuples of Values are built."""
        if isinstance(value, ir.Value):
            return value
        if isinstance(value, (tuple, list)) and ir.has_values(value):
            parts = [self.operand(v, node) for v in value]
            return self.ctx.emit(P.make_tuple, parts, self.loc(node), self.role)
        if isinstance(value, BoundMethod):
            raise self.error(node, "a Tensor method must be called here")
        if is_array_object(value):
            return self.ctx.input_for(value, "const")
        return ir.Const(value)

    def materialize(self, obj, hint):
        """Arrays known now (constant Tensors made or reached while compiling) become inputs."""
        if is_array_object(obj):
            return self.ctx.input_for(obj, hint, Source(("const", obj)))
        return obj

    def assign(self, target, value):
        statements.assign(self, target, value)

    def load_name(self, node):
        return expressions.load_name(self, node)

    def apply(self, func, args, kwargs, node):
        return calls.apply(self, func, args, kwargs, node)

    def call_prim(self, prim, args, kwargs, node):
        return calls.call_prim(self, prim, args, kwargs, node)

    def inline(self, fn, args, kwargs, node, loc_override=None, role=None):
        return calls.inline(self, fn, args, kwargs, node, loc_override, role)

    def run_now(self, func, args, kwargs, node):
        return calls.run_now(self, func, args, kwargs, node)

    def opaque_call(self, func, args, kwargs, node, pure=True):
        return calls.opaque_call(self, func, args, kwargs, node, pure)

    def bprop_call(self, cell, args, kwargs, node):
        return calls.bprop_call(self, cell, args, kwargs, node)

    def do_return(self, node, value):
        control.do_return(self, node, value)

    def branch(self, node, test, lower_then, lower_else, names):
        control.branch(self, node, test, lower_then, lower_else, names)

    def select(self, node, test, then_value, else_value):
        return control.select(self, node, test, then_value, else_value)

    def emit_if(self, node, test, then_ops, else_ops, triples):
        return control.emit_if(self, node, test, then_ops, else_ops, triples)
