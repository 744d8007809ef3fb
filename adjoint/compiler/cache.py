"""The compile cache, keyed on everything generated code depends on.

The key of a gradient is: the code objects and globals of the function, the request (which
inputs, which weights, sens, aux, layout), which arguments are arrays (and the values of the
ones that are not), and the *structure* of the Cell: its sub-Cells' types, its Parameters'
places and ``requires_grad`` flags, its constant attributes' values. It never holds array
values, so Cells of one class with the same structure share one compiled adjoint.
"""
import time

import numpy as np

from ..tensor import Parameter, Tensor

_ENTRIES = {}
_BOOKKEEPING = ("_params", "_cells", "_adjoint_fast")
_STATS = {"hits": 0, "misses": 0}
_LOG = []


def structure(obj, _depth=0):
    """A hashable summary of what compiled code can depend on in a Cell (not array values)."""
    from ..nn.cell import Cell
    if _depth > 20:
        return ("deep",)
    if isinstance(obj, Parameter):
        return ("P", obj.requires_grad)
    if isinstance(obj, (Tensor, np.ndarray)):
        return ("T",)
    if isinstance(obj, Cell):
        items = tuple((k, structure(v, _depth + 1)) for k, v in obj.__dict__.items()
                      if k not in _BOOKKEEPING)
        return ("C", type(obj), items)
    if isinstance(obj, (bool, int, float, complex, str, type(None))):
        return ("K", type(obj), obj)
    if isinstance(obj, (tuple, list)):
        return ("L", type(obj), tuple(structure(v, _depth + 1) for v in obj))
    if isinstance(obj, dict):
        return ("D", tuple((k, structure(v, _depth + 1)) for k, v in obj.items()))
    state = getattr(obj, "__dict__", None)
    if state is not None and not callable(getattr(obj, "__get__", None)):
        return ("O", type(obj), tuple((k, structure(v, _depth + 1)) for k, v in state.items()))
    return ("X", type(obj), id(obj))


def array_paths(root):
    """``{id(array object): attribute path}`` for every Parameter/Tensor reachable from ``root``."""
    from ..nn.cell import Cell
    out = {}

    def walk(obj, path, depth):
        if depth > 20:
            return
        if isinstance(obj, (Tensor, np.ndarray)):
            out.setdefault(id(obj), path)
        elif isinstance(obj, Cell):
            # Attributes first, containers after: a sub-Cell kept both as `self.0` and in a
            # list is named by its attribute (net.0.weight, as MindSpore names it).
            items = [(k, v) for k, v in obj.__dict__.items() if k not in _BOOKKEEPING]
            for k, v in sorted(items, key=lambda kv: isinstance(kv[1], (tuple, list))):
                walk(v, path + (k,), depth + 1)
        elif isinstance(obj, (tuple, list)):
            for i, v in enumerate(obj):
                walk(v, path + (i,), depth + 1)

    if root is not None:
        walk(root, (), 0)
    return out


def resolve(root, ref):
    """The object an input reference names now (a Cell's Parameter, a global, a closure cell)."""
    kind = ref[0]
    if kind == "path":
        return follow(root, ref[1])
    if kind == "global":
        return ref[1][ref[2]]
    if kind == "closure":
        return ref[1].cell_contents
    return ref[1]


def follow(root, path):
    obj = root
    for step in path:
        obj = obj[step] if isinstance(step, int) else getattr(obj, step)
    return obj


def lookup(key):
    entry = _ENTRIES.get(key)
    if entry is not None:
        _STATS["hits"] += 1
    return entry


def store(key, compiled):
    _STATS["misses"] += 1
    _ENTRIES[key] = compiled
    _LOG.append((compiled.qualname, compiled.seconds, time.time()))


def cache_info():
    """What has been compiled: counts and, per compiled gradient, how long it took."""
    return {"entries": len(_ENTRIES), "hits": _STATS["hits"], "misses": _STATS["misses"],
            "compiled": [{"function": q, "seconds": round(s, 6)} for q, s, _ in _LOG]}


def clear_cache():
    """Forget every compiled gradient (the next call compiles again)."""
    from ..tensor import structure_changed
    _ENTRIES.clear()
    _LOG.clear()
    _STATS.update(hits=0, misses=0)
    structure_changed()
