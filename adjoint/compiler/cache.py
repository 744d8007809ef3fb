"""The compile cache: compiled gradients by code, each with the guards it relied on.

A key is what every version shares: the function's code object and globals, the request
(which inputs, which weights, sens, aux, layout), the kinds of the arguments (and the values
of the ones that are constants), where the weights live, and the *structure* of the Cell (its
sub-Cells' types, its Parameters' places and ``requires_grad`` flags, its constant attributes'
values; never array values). Under one key several versions may live, one per state of what
they read from outside (their guards); a call uses the most recent whose guards hold, and a
miss compiles a new one. Closures made by one ``def`` share code this way, as do Cells of one
class with the same structure (each reading its own Parameters).

The cache is bounded (least recently used versions go first; ``set_cache_size``) and keeps a
log of what was compiled and why (``cache_info``).
"""
import os
import warnings
from collections import OrderedDict

from .hooks import is_array_object, is_cell, structure_changed

_BOOKKEEPING = ("_params", "_cells", "_adjoint_fast")
RECOMPILE_WARNING_AFTER = 8


class AdjointWarning(UserWarning):
    """adjoint recompiles one function again and again (see the message for the cause)."""


class _State:
    def __init__(self):
        self.versions = OrderedDict()      # (key, serial) -> Compiled, least recently used first
        self.by_key = {}                    # key -> [serial, ...], newest last
        self.serial = 0
        self.hits = self.misses = self.evictions = 0
        self.log = []                       # (qualname, seconds, reason) per compile
        self.recompiles = {}                # code object -> count
        self.warned = set()
        self.max_size = int(os.environ.get("ADJOINT_CACHE_SIZE", "256"))


_S = _State()


def structure(obj, _depth=0):
    """A hashable summary of what compiled code can depend on in a Cell (not array values)."""
    if _depth > 20:
        return ("deep",)
    own = getattr(type(obj), "_adjoint_structure", None)
    if own is not None:         # (a gradient function says what compiled code calling it depends on)
        return ("S", type(obj), own(obj))
    if is_array_object(obj):
        flag = getattr(obj, "requires_grad", None)
        return ("P", flag) if flag is not None else ("T",)
    if is_cell(obj):
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
    out = {}

    def walk(obj, path, depth):
        if depth > 20:
            return
        if is_array_object(obj):
            out.setdefault(id(obj), path)
        elif is_cell(obj):
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


def find(key, fn, self_obj):
    """The most recent version under ``key`` whose guards hold for this call, or None; and,
    when there are versions but none holds, why the newest does not (a recompile's cause)."""
    serials = _S.by_key.get(key, ())
    reason = None
    for serial in reversed(serials):
        compiled = _S.versions[(key, serial)]
        failed = next((g for g in compiled.guards if not g.holds(fn, self_obj)), None)
        if failed is None:
            _S.versions.move_to_end((key, serial))
            _S.hits += 1
            return compiled, None
        if reason is None:
            reason = failed.describe(fn, self_obj)
    return None, reason


def store(key, compiled, reason=None):
    """Keep a new version (evicting the least recently used beyond the size limit); warn once
    when one function keeps recompiling because a value it reads keeps changing."""
    _S.misses += 1
    _S.serial += 1
    _S.versions[(key, _S.serial)] = compiled
    _S.by_key.setdefault(key, []).append(_S.serial)
    _S.log.append((compiled.qualname, compiled.seconds, reason))
    _evict()
    if reason is None:
        return
    code = key[0]
    count = _S.recompiles[code] = _S.recompiles.get(code, 0) + 1
    if count >= RECOMPILE_WARNING_AFTER and code not in _S.warned:
        _S.warned.add(code)
        warnings.warn("adjoint has compiled %s %d times because what it reads from outside its "
                      "arguments keeps changing (last: %s); pass that value as an argument instead"
                      % (compiled.qualname, count + 1, reason), AdjointWarning, stacklevel=4)


def _evict():
    while len(_S.versions) > max(_S.max_size, 1):
        (key, serial), _ = _S.versions.popitem(last=False)
        _S.by_key[key].remove(serial)
        if not _S.by_key[key]:
            del _S.by_key[key]
        _S.evictions += 1


def set_cache_size(n):
    """Keep at most ``n`` compiled gradients (default 256, or $ADJOINT_CACHE_SIZE)."""
    _S.max_size = int(n)
    _evict()


def cache_info():
    """What has been compiled: counts, evictions and, per compile, how long it took and why
    it was needed when an earlier version existed (the value that changed)."""
    compiled = []
    for q, s, reason in _S.log:
        entry = {"function": q, "seconds": round(s, 6)}
        if reason is not None:
            entry["reason"] = reason
        compiled.append(entry)
    return {"entries": len(_S.versions), "hits": _S.hits, "misses": _S.misses,
            "evictions": _S.evictions, "max_size": _S.max_size, "compiled": compiled}


def clear_cache():
    """Forget every compiled gradient (the next call compiles again)."""
    size = _S.max_size
    _S.__init__()
    _S.max_size = size
    structure_changed()
