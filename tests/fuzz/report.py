"""Text for humans: a failing case as a runnable snippet, and the run's summary."""
import numpy as np

from adjoint import Tensor


def literal(v, kind, dtype):
    if kind == "py":
        return repr(float(v))
    a = np.asarray(v)
    body = np.array2string(a, separator=", ", floatmode="unique", threshold=10 ** 6, max_line_width=10 ** 6)
    body = body.replace("\n", "")
    if kind == "np0":
        return "np.%s(%s)" % (a.dtype, body)
    text = "np.array(%s%s)" % (body, "" if a.dtype == np.float64 else ", dtype=np.%s" % a.dtype)
    if kind == "tensor":
        return "Tensor(%s)" % text
    return text


def call_text(case, target, api, args):
    c = api["call"]
    if c == "gradop":
        flags = []
        if api.get("get_all"):
            flags.append("get_all=True")
        if api.get("get_by_list"):
            flags.append("get_by_list=True")
        if api.get("sens"):
            flags.append("sens_param=True")
        op = "ops.GradOperation(%s)" % ", ".join(flags)
        if api.get("get_by_list"):
            return "%s(%s, ParameterTuple(%s.trainable_params()))(%s)" % (op, target, target, args)
        return "%s(%s)(%s)" % (op, target, args)
    fn = "adjoint.grad" if c == "grad" else "adjoint.value_and_grad"
    extra = ""
    if api.get("weights"):
        extra += ", weights=%s.trainable_params()" % target
    if api.get("has_aux"):
        extra += ", has_aux=True"
    return "%s(%s, grad_position=%r%s)(%s)" % (fn, target, api.get("pos", 0), extra, args)


def fmt(v):
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (k, fmt(x)) for k, x in v.items()) + "}"
    if isinstance(v, tuple):
        return "(" + ", ".join(fmt(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, Tensor):
        v = v.asnumpy()
    if isinstance(v, (np.ndarray, np.generic, float, int)):
        a = np.asarray(v)
        s = np.array2string(a.astype(np.float64) if a.dtype.kind == "f" else a, separator=", ",
                            precision=6, suppress_small=True, max_line_width=10 ** 6).replace("\n", "")
        return s
    return repr(v)


def snippet(case, result):
    """The case as a self-contained script (save it to a file: adjoint reads source back)."""
    lines = [case.source.rstrip(), "", ""]
    names = ["x", "y", "z", "w"]
    inputs = result.inputs if result.inputs is not None else case.inputs
    for i, (v, k) in enumerate(zip(inputs, case.in_kinds)):
        lines.append("%s_in = %s" % (names[i], literal(v, k, case.dtype)))
    args = ", ".join("%s_in" % names[i] for i in range(len(inputs)))
    if case.api.get("sens"):
        sens = result.extra.get("sens") if result.extra else None
        if sens is not None:
            kind = "tensor" if case.kind == "cell" else "arr"
            if isinstance(sens, tuple):
                lines.append("sens = (%s,)" % ", ".join(literal(s, kind, case.dtype) for s in sens))
            else:
                lines.append("sens = %s" % literal(sens, kind, case.dtype))
            args += ", sens"
    if case.kind == "cell":
        lines.append("net = %s" % case.entry)
        target = "net"
    else:
        target = case.entry
    if result.stage == "first-order":
        api = case.inner_api
        if case.kind == "cell":
            lines.append("inner = %s" % case.inner)
            target = "inner"
        else:
            target = case.inner
    else:
        api = case.api
    lines.append("print(%s)" % call_text(case, target, api, args))
    if result.cls == "wrong" and result.expected is not None:
        lines.append("# expected (float64 central finite differences): %s" % fmt(result.expected))
        lines.append("# adjoint gives:                                  %s" % fmt(result.actual))
    elif result.cls == "wrong":
        lines.append("# %s" % result.cause)
        if result.actual is not None:
            lines.append("# adjoint gives: %s" % fmt(result.actual))
    elif result.cls in ("crash", "refused"):
        lines.append("# raises %s" % result.cause)
    return "\n".join(lines) + "\n"


def skeleton(source):
    """A reduced program with names numbered in order of appearance and numbers dropped: two
    reduced failures with one skeleton are very likely one bug."""
    import ast
    tree = ast.parse(source)
    names = {}
    keep = {"np", "ops", "nn", "adjoint", "self", "Parameter", "ParameterTuple", "Tensor", "range", "len",
            "abs", "enumerate", "zip", "super", "PDT"}

    class T(ast.NodeTransformer):
        def visit_Name(self, node):
            if node.id not in keep:
                node.id = names.setdefault(node.id, "n%d" % len(names))
            return node

        def visit_arg(self, node):
            if node.arg != "self":
                node.arg = names.setdefault(node.arg, "n%d" % len(names))
            return node

        def visit_Constant(self, node):
            if isinstance(node.value, float):
                node.value = 0.5
            return node
    tree = T().visit(tree)
    body = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    return ast.dump(ast.Module(body=body, type_ignores=[]))
