"""Elementwise regions of a gradient run chunk by chunk, for large arrays (specialize.py).

NumPy evaluates ``a * b + c`` one whole-array pass per operation, each writing a fresh array
as large as the input: for arrays larger than the cache, every pass goes to memory. A run of
elementwise operations on arrays of one shape becomes a *kernel* (a generated function of
chunks) and one call ``chunked(kernel, CHUNK, *inputs)`` that runs it over chunks of CHUNK
elements: the temporaries of a chunk stay in the cache, and only the values read after the
region are written out whole. Each element meets the same NumPy functions in the same order,
so the results are bit for bit those of the whole-array code.
"""
import os

import numpy as np

from . import codegen, ir
from . import rules as P
from .higher import _clone_ops
from .passes.shapes import SameShape
from .runtime_chunks import chunked

CHUNK = 8192          # elements: a chunk's temporaries (64 KiB of float64 each) stay in L2
MIN_SIZE = 1 << 16    # elements: below this the whole-array code is already cache-resident
MIN_OPS = 3           # operations in a region: fewer is not worth a kernel call per chunk
if os.environ.get("ADJOINT_CHUNKS"):      # "CHUNK,MIN_SIZE": tiny chunks, for the fuzzer to try
    CHUNK, MIN_SIZE = (int(n) for n in os.environ["ADJOINT_CHUNKS"].split(","))

_INFIX = ("+", "-", "*", "/")


def _elementwise(prim):
    """Computed element by element by a NumPy ufunc (or Python's operators on arrays)."""
    return prim.infix in _INFIX or prim.unary or prim is P.ipow or isinstance(prim.impl, np.ufunc)


def regions(func, big):
    """The runs of top-level elementwise ops whose operands are all shaped like one of the
    parameters in ``big`` (or are numbers), as lists of ops; only runs of MIN_OPS or more."""
    shapes = SameShape(func)
    anchors = {shapes.find(p) for p in big}
    found, run, cls = [], [], None
    for op in func.body.ops:
        here = _chunkable(op, shapes, anchors)
        if here is not None and here is cls:
            run.append(op)
            continue
        if len(run) >= MIN_OPS:
            found.append(run)
        run, cls = ([op], here) if here is not None else ([], None)    # (one shape per region)
    if len(run) >= MIN_OPS:
        found.append(run)
    return found


def _chunkable(op, shapes, anchors):
    """The shape class of an elementwise op's result when its operands are in it (or numbers)."""
    if op.blocks or len(op.results) != 1 or not op.prim.pure or not _elementwise(op.prim):
        return None
    cls = shapes.find(op.result)
    if cls not in anchors:
        return None
    for a in op.args:
        if isinstance(a, ir.Value):
            if shapes.find(a) is not cls:
                return None
        elif type(a.value) not in (int, float):
            return None
    return cls


def chunk(func, found, name, header):
    """Replace each region of ``found`` in ``func`` by a call of its kernel (in place)."""
    uses_after = _later_uses(func)
    for k, run in enumerate(found):
        _replace(func, run, uses_after, "%s_chunk%d" % (name, k), header)
    return func


def _later_uses(func):
    """For each top-level op, the values that ops after it (or the outputs) read."""
    reads = []
    for op in func.body.ops:
        seen = set(ir.used_values(op)) if op.blocks else set(op.values())
        for inner in ir.walk([op]):
            seen.update(inner.values())
        reads.append(seen)
    after, out = set(v for v in func.outputs if isinstance(v, ir.Value)), {}
    for op, seen in zip(reversed(func.body.ops), reversed(reads)):
        out[op] = set(after)
        after |= seen
    return out


def _replace(func, run, uses_after, name, header):
    defined = {op.result for op in run}
    inputs = []
    for op in run:
        for a in op.values():
            if a not in defined and a not in inputs:
                inputs.append(a)
    last = uses_after[run[-1]]
    outputs = [op.result for op in run if op.result in last]
    if not outputs:
        return
    mapping = {}
    params = [ir.Value(v.name or "x%d" % i) for i, v in enumerate(inputs)]
    mapping.update(zip(inputs, params))
    body = ir.Block(_clone_ops(run, mapping))
    kernel = ir.Func(name, params, body, [mapping[v] for v in outputs])
    returns = tuple(mapping[v] for v in outputs)
    generated = codegen.build(kernel, name, returns, header)
    results = ir.Value("_chunks")
    loc = run[0].loc
    ops = [ir.Op(P.call, [ir.Const(chunked), ir.Const(generated.fn), ir.Const(CHUNK)] + inputs,
                 results, loc, run[0].role)]
    for k, v in enumerate(outputs):      # the region's values read later: the same Values
        ops.append(ir.Op(P.tuple_getitem, [results, ir.Const(k)], v, loc, run[-1].role))
    at = func.body.ops.index(run[0])
    drop = set(run)
    func.body.ops = func.body.ops[:at] + ops + [op for op in func.body.ops[at:] if op not in drop]
