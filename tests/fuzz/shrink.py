"""Reduce a failing case to a small one that fails the same way.

Works on source text with ``ast``: delete statements and whole definitions, replace an
``if``/``for``/``while`` by its body, lower loop bounds, replace an expression by one of its
operands, drop unused parameters, shrink and round the inputs, and simplify the API call. A
change is kept while the failure persists: the same exception type and message for a crash,
the same cause for a refusal, still wrong (of the same kind: values, structure or dtype) for a
wrong result. Each attempt writes and imports a new module (``run.run_case``).
"""
import ast
import copy
import dataclasses
import time

import numpy as np

from .gen import alias_safe


def signature(res):
    """What must stay the same while shrinking."""
    if res.cls == "crash":
        return ("crash", res.cause.split(" [in ")[0])
    if res.cls == "refused":
        return ("refused", res.cause)
    if res.cls == "wrong":
        kind = res.cause.split(":")[0]
        return ("wrong", kind, res.stage)
    return (res.cls,)


# -- mutation sites --------------------------------------------------------------------------
def _stmt_lists(tree):
    for node in ast.walk(tree):
        for fld in ("body", "orelse"):
            lst = getattr(node, fld, None)
            if isinstance(lst, list) and lst and isinstance(lst[0], ast.stmt):
                yield node, fld, lst


def _protected(st):
    """Statements whose removal only breaks the harness, never reveals anything."""
    if isinstance(st, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
        f = st.value.func
        if isinstance(f, ast.Attribute) and f.attr == "__init__":
            return True
    return False


def _n_sites(text, kind):
    return sum(1 for _ in _sites(ast.parse(text), kind))


def _sites(tree, kind):
    """Mutation sites of one kind, in a fixed order; each yields a function applying it."""
    if kind in ("delete", "inline"):
        for owner, fld, lst in _stmt_lists(tree):
            for i, st in enumerate(lst):
                if _protected(st):
                    continue
                if kind == "delete" and isinstance(st, ast.Return) and isinstance(owner, ast.FunctionDef):
                    continue        # a function's last return keeps the output's structure
                if kind == "delete":
                    yield lambda lst=lst, i=i: _delete(lst, i)
                elif isinstance(st, (ast.If, ast.For, ast.While)):
                    yield lambda lst=lst, i=i: _inline(lst, i, "body")
                    if getattr(st, "orelse", None):
                        yield lambda lst=lst, i=i: _inline(lst, i, "orelse")
    elif kind == "range":
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
                    and node.args and isinstance(node.args[-1], ast.Constant)
                    and isinstance(node.args[-1].value, int) and node.args[-1].value > 1):
                yield lambda node=node: _set(node.args[-1], "value", node.args[-1].value - 1)
    elif kind == "expr":
        for parent in _mutable_nodes(tree):
            for fld, val in ast.iter_fields(parent):
                vals = val if isinstance(val, list) else [val]
                for j, child in enumerate(vals):
                    if not isinstance(child, ast.expr) or isinstance(parent, (ast.Assign, ast.AugAssign)) and \
                            fld == "targets":
                        continue
                    for rep in _replacements(child):
                        yield lambda parent=parent, fld=fld, j=j, rep=rep, lst=isinstance(val, list): \
                            _replace(parent, fld, j, rep, lst)


def _mutable_nodes(tree):
    """Nodes inside functions other than __init__, outside the harness's statements."""
    tops = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    for cls in tree.body:
        if isinstance(cls, ast.ClassDef):
            tops += [n for n in cls.body if isinstance(n, ast.FunctionDef)]
    for fn in tops:
        if fn.name != "__init__":
            for st in fn.body:
                if _protected(st):
                    continue
                yield from ast.walk(st)


def _delete(lst, i):
    del lst[i]
    if not lst:
        lst.append(ast.Pass())
    return True


def _inline(lst, i, fld):
    st = lst[i]
    body = list(getattr(st, fld))
    if isinstance(st, ast.For) and fld == "body" and isinstance(st.target, ast.Name):
        body = [ast.Assign(targets=[ast.Name(st.target.id, ast.Store())], value=ast.Constant(0), lineno=0)] + body
    if isinstance(st, ast.While) and fld == "body":
        body = [b for b in body if not isinstance(b, (ast.Break, ast.Continue))]
    lst[i:i + 1] = body or [ast.Pass()]
    return True


def _set(node, attr, value):
    setattr(node, attr, value)
    return True


def _replace(parent, fld, j, rep, is_list):
    if is_list:
        getattr(parent, fld)[j] = rep
    else:
        setattr(parent, fld, rep)
    return True


def _replacements(node):
    """Simpler expressions that might stand for node: its operands."""
    out = []
    if isinstance(node, ast.BinOp):
        out += [node.left, node.right]
    elif isinstance(node, ast.UnaryOp):
        out.append(node.operand)
    elif isinstance(node, ast.IfExp):
        out += [node.body, node.orelse]
    elif isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in ("np", "ops"):
            if f.attr in ("stack", "concatenate"):
                if node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
                    out += list(node.args[0].elts)
            elif f.attr == "where" and len(node.args) == 3:
                out += node.args[1:]
            else:
                out += [a for a in node.args if not isinstance(a, ast.Constant)]
        elif isinstance(f, ast.Attribute):
            out.append(f.value)            # x.sum(axis=0) -> x
            out += list(node.args)         # self.sub(x) -> x
        else:
            out += list(node.args)         # helper(x, y) -> x
        if node.keywords:
            simpler = copy.copy(node)
            simpler.keywords = [k for k in node.keywords if k.arg != "keepdims"]
            if len(simpler.keywords) != len(node.keywords):
                out.append(simpler)
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        out.append(node.value)
    elif isinstance(node, ast.Subscript):
        out.append(node.value)
    elif isinstance(node, ast.Constant) and isinstance(node.value, float) and node.value not in (0.0, 1.0):
        out.append(ast.Constant(1.0))
    return [copy.deepcopy(o) for o in out if isinstance(o, ast.expr)]


def mutate(text, kind, k):
    tree = ast.parse(text)
    for n, apply in enumerate(_sites(tree, kind)):
        if n == k:
            apply()
            try:
                new = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
                compile(new, "<shrink>", "exec")
            except (SyntaxError, ValueError, TypeError, AttributeError):
                return None
            return new
    return None


# -- the loop --------------------------------------------------------------------------------
class Shrinker:
    def __init__(self, case, result, run_case, budget_s=90.0, max_evals=1500, log=None):
        self.case = case
        self.sig = signature(result)
        self.result = result
        self.run_case = run_case
        self.deadline = time.time() + budget_s
        self.max_evals = max_evals
        self.evals = 0
        self.log = log

    def out_of_budget(self):
        return time.time() > self.deadline or self.evals >= self.max_evals

    def try_case(self, cand):
        if self.out_of_budget():
            return False
        if cand.kind == "func" and not alias_safe(cand.source):
            return False
        self.evals += 1
        try:
            res = self.run_case(cand, shrinking=True)
        except Exception:
            return False
        if signature(res) == self.sig:
            self.case, self.result = cand, res
            return True
        return False

    def with_source(self, text):
        return dataclasses.replace(self.case, source=text)

    def pass_text(self, kind):
        improved = False
        k = 0
        while not self.out_of_budget():
            text = self.case.source
            if k >= _n_sites(text, kind):
                break
            new = mutate(text, kind, k)
            if new is not None and new != text and len(new) <= len(text) + 10 and \
                    self.try_case(self.with_source(new)):
                improved = True        # same k: the site list changed
                continue
            k += 1
        return improved

    def pass_params(self):
        """Drop parameters of f / construct that nothing reads."""
        improved = False
        c = self.case
        tree = ast.parse(c.source)
        entry = None
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in ("f", "construct"):
                entry = node
                break
        if entry is None:
            return False
        names = [a.arg for a in entry.args.args if a.arg != "self"]
        used = {n.id for n in ast.walk(entry) if isinstance(n, ast.Name)}
        for i in reversed(range(len(names))):
            if names[i] in used or len(names) <= 1:
                continue
            api = _drop_position(self.case.api, i, len(names))
            if api is None:
                continue
            new_tree = ast.parse(self.case.source)
            for node in ast.walk(new_tree):
                if isinstance(node, ast.FunctionDef) and node.name in ("f", "construct", "h"):
                    node.args.args = [a for a in node.args.args if a.arg != names[i]]
                if isinstance(node, ast.Call) and any(isinstance(a, ast.Name) and a.id == names[i] for a in node.args):
                    node.args = [a for a in node.args if not (isinstance(a, ast.Name) and a.id == names[i])]
            cand = dataclasses.replace(
                self.case, source=ast.unparse(new_tree) + "\n", api=api,
                inputs=[v for j, v in enumerate(self.case.inputs) if j != i],
                in_shapes=[v for j, v in enumerate(self.case.in_shapes) if j != i],
                in_kinds=[v for j, v in enumerate(self.case.in_kinds) if j != i])
            if self.try_case(cand):
                improved = True
                names.pop(i)
        return improved

    def pass_inputs(self):
        improved = False
        for i in range(len(self.case.inputs)):
            for how in ("round1", "shrink0", "shrink1", "round0"):
                v = self.case.inputs[i]
                new = _input_variant(v, how)
                if new is None:
                    continue
                inputs = list(self.case.inputs)
                inputs[i] = new
                shapes = list(self.case.in_shapes)
                shapes[i] = tuple(np.shape(new))
                if self.try_case(dataclasses.replace(self.case, inputs=inputs, in_shapes=shapes)):
                    improved = True
        return improved

    def pass_api(self):
        improved = False
        for api in _simpler_apis(self.case):
            if api != self.case.api and self.try_case(dataclasses.replace(self.case, api=api)):
                improved = True
                break
        return improved

    def run(self):
        rounds = 0
        while not self.out_of_budget() and rounds < 8:
            rounds += 1
            improved = False
            for step in (lambda: self.pass_text("delete"), lambda: self.pass_text("inline"),
                         lambda: self.pass_text("range"), lambda: self.pass_text("expr"),
                         self.pass_params, self.pass_api, self.pass_inputs):
                if step():
                    improved = True
            if not improved:
                break
        return self.case, self.result


def _drop_position(api, i, n):
    api = dict(api)
    if api["call"] == "gradop":
        if not api.get("get_all") and i == 0:
            return None
        return api
    pos = api.get("pos", 0)
    if pos is None:
        return api
    if isinstance(pos, int):
        if pos == i:
            return None
        api["pos"] = pos - 1 if pos > i else pos
        return api
    new = tuple(p - 1 if p > i else p for p in pos if p != i)
    if not new:
        return None
    api["pos"] = new
    return api


def _simpler_apis(case):
    api = case.api
    out = []
    if case.kind == "func":
        n = len(case.inputs)
        out.append({"call": "grad", "pos": tuple(range(n)) if n > 1 else 0})
    else:
        out.append({"call": "gradop", "get_all": True, "get_by_list": True, "sens": False})
        out.append({"call": "gradop", "get_all": True, "get_by_list": False, "sens": False})
        out.append({"call": "gradop", "get_all": False, "get_by_list": True, "sens": False})
    if api.get("sens"):
        out.append(dict(api, sens=False))
    if api.get("has_aux"):
        out.append(dict(api, has_aux=False))
    return out


def _input_variant(v, how):
    if isinstance(v, float):
        if how == "round1":
            r = round(v, 1)
            return r if r != v else None
        if how == "round0":
            r = float(round(v))
            return r if r != v else None
        return None
    a = np.asarray(v)
    if how == "round1":
        r = np.round(a, 1).astype(a.dtype)
        return None if np.array_equal(r, a) else (r if isinstance(v, np.ndarray) else r[()])
    if how == "round0":
        r = np.round(a * 2) / 2
        r = r.astype(a.dtype)
        return None if np.array_equal(r, a) else (r if isinstance(v, np.ndarray) else r[()])
    axis = 0 if how == "shrink0" else 1
    if a.ndim <= axis or a.shape[axis] <= 1:
        return None
    return np.take(a, range(a.shape[axis] - 1), axis=axis)


def shrink(case, result, run_case, budget_s=90.0, max_evals=1500):
    """Shrink from the point where the failure was seen (the case's first draw may have been
    near a kink and redrawn)."""
    if result.inputs is not None:
        case = dataclasses.replace(case, inputs=list(result.inputs))
    return Shrinker(case, result, run_case, budget_s, max_evals).run()
