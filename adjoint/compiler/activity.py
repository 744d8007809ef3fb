"""Activity analysis: which values lie on a path from a differentiated input to an output.

A value is *varied* if it depends on a differentiated input through ops that carry gradients
(``stop_gradient``, comparisons and shape queries cut the dependence), and *useful* if an
output depends on it. Only values that are both need adjoints.
"""
from . import ir


def varied_values(ops, wrt):
    varied = set(wrt)
    for op in ops:
        if op.prim.nondiff:
            continue
        if any(v in varied for v in op.values()):
            varied.add(op.result)
    return varied


def useful_values(ops, outputs):
    useful = {o for o in outputs if isinstance(o, ir.Value)}
    for op in reversed(ops):
        if op.result in useful:
            useful.update(op.values())
    return useful


def active_values(ops, wrt, outputs):
    return varied_values(ops, wrt) & useful_values(ops, outputs)
