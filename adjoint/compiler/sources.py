"""Where compilation read a value from outside the arguments, and the guards that check, at
every call, that it still holds (as TorchDynamo's guards do).

A ``Source`` is a root (a global of the compiled function, one of its closure cells or
defaults, the Cell being differentiated, or a fixed object) followed by attribute and item
steps: ``CFG["scale"]`` is ``Source(("global", "CFG"), (("item", "scale"),))``. Roots that
depend on the called function are *relative* to it, so the closures one ``def`` makes share
compiled code.

A ``Guard`` says what compilation relied on: the value read there is the same object
(functions, classes, modules, Cells), equal (numbers, strings, tuples of them), or holds the
same items (lists, dicts). Guards on Cell attributes are checked when a Cell changed (Cells
count their changes); the others on every call, by the generated call stub.
"""
import sys
import sysconfig
import types

import numpy as np

CALL, EPOCH = "call", "epoch"       # when a guard is checked


class Source:
    __slots__ = ("root", "steps")

    def __init__(self, root, steps=()):
        self.root, self.steps = root, tuple(steps)

    def attr(self, name):
        return Source(self.root, self.steps + (("attr", name),))

    def item(self, key):
        return Source(self.root, self.steps + (("item", key),))

    def read(self, fn, self_obj):
        """The value there now, for the function ``fn`` (bound to ``self_obj``)."""
        kind = self.root[0]
        if kind == "global":
            obj = fn.__globals__[self.root[1]]
        elif kind == "global_in":
            obj = self.root[1][self.root[2]]
        elif kind == "closure":
            obj = fn.__closure__[self.root[1]].cell_contents
        elif kind == "cell":
            obj = self.root[1].cell_contents
        elif kind == "default":
            obj = _defaults(fn)[self.root[1]]
        elif kind == "self":
            obj = self_obj
        else:
            obj = self.root[1]
        for step, key in self.steps:
            obj = getattr(obj, key) if step == "attr" else obj[key]
        return obj

    def absolute(self, fn, self_obj):
        """The same place with the roots that depend on ``fn`` / ``self_obj`` made fixed."""
        kind = self.root[0]
        if kind == "global":
            return Source(("global_in", fn.__globals__, self.root[1]), self.steps)
        if kind == "closure":
            return Source(("cell", fn.__closure__[self.root[1]]), self.steps)
        if kind in ("default", "self"):
            return Source(("const", Source(self.root).read(fn, self_obj)), self.steps)
        return self

    def tier_of_last_step(self, fn, self_obj):
        """EPOCH when the value is read off a Cell (Cells count their changes), else CALL."""
        if not self.steps:
            return EPOCH if self.root[0] in ("self", "const", "default") else CALL
        base = Source(self.root, self.steps[:-1]).read(fn, self_obj)
        from .hooks import is_cell
        return EPOCH if is_cell(base) else CALL

    def describe(self):
        """How the user wrote it: ``CFG['scale']``, ``self.alpha``, ``scale``."""
        kind = self.root[0]
        if kind in ("global", "closure", "default"):
            text = self.root[-1]
        elif kind == "global_in":
            text = self.root[2]
        elif kind == "self":
            text = "self"
        elif kind == "cell":
            text = self.root[2]
        else:
            text = "<%s>" % type(self.root[1]).__name__
        for step, key in self.steps:
            text += ".%s" % key if step == "attr" else "[%r]" % (key,)
        return text

    def kind_and_name(self):
        """``global `s```, ``closure variable `c```, ``default of `scale```, ```self.alpha```."""
        kind = self.root[0]
        prefix = {"global": "global ", "global_in": "global ", "closure": "closure variable ",
                  "cell": "closure variable ", "default": "default value "}.get(kind, "")
        return "%s`%s`" % (prefix, self.describe())

    def _key(self):
        root = tuple(id(r) if not isinstance(r, (str, int)) else r for r in self.root)
        return root, self.steps

    def __eq__(self, other):
        return isinstance(other, Source) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "Source(%s)" % self.describe()


def path_source(path):
    """The Source of ``self.lin.weight`` from the attribute path ('lin', 'weight') (ints index)."""
    return Source(("self",), tuple(("item", p) if isinstance(p, int) else ("attr", p) for p in path))


def _defaults(fn):
    import inspect
    return {name: p.default for name, p in inspect.signature(fn, follow_wrapped=False).parameters.items()
            if p.default is not p.empty}


class Guard:
    __slots__ = ("source", "mode", "expected", "tier")

    def __init__(self, source, mode, expected, tier):
        self.source, self.mode, self.expected, self.tier = source, mode, expected, tier

    def holds(self, fn, self_obj):
        try:
            value = self.source.read(fn, self_obj)
        except Exception:
            return False
        return self.matches(value)

    def matches(self, value):
        if self.mode == "is":
            return value is self.expected
        if self.mode == "==":
            return type(value) is type(self.expected) and _equal(value, self.expected)
        return snapshot(value) == self.expected

    def describe(self, fn=None, self_obj=None):
        """``global `s` changed from 2.0 to 3.0``: why this guard fails (for recompile messages)."""
        where = self.source.kind_and_name()
        try:
            now = self.source.read(fn, self_obj)
        except Exception as exc:
            return "%s can no longer be read (%s)" % (where, type(exc).__name__)
        if self.mode == "==":
            return "%s changed from %r to %r" % (where, self.expected, now)
        if self.mode == "items":
            return "the items of %s changed" % where
        return "%s is another %s now" % (where, type(now).__name__)


def _equal(a, b):
    try:
        return bool(a == b)
    except Exception:
        return False


LITERALS = (bool, int, float, complex, str, bytes, type(None), type(Ellipsis), slice, range)


def is_literal_value(value):
    """Compared by value: numbers, strings, NumPy scalars and dtypes, tuples of these."""
    if isinstance(value, LITERALS) or isinstance(value, (np.generic, np.dtype)):
        return True
    if type(value) in (tuple, frozenset):
        return all(is_literal_value(v) for v in value)
    return False


def snapshot(value):
    """What a list/dict/set held: literals by value, other items by identity."""
    def mark(v):
        return ("v", type(v), v) if is_literal_value(v) else ("id", id(v))
    if isinstance(value, dict):
        return ("dict", tuple((mark(k), mark(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(mark(v) for v in value))
    if isinstance(value, list):
        return ("list", tuple(mark(v) for v in value))
    return ("other", id(value))


def guard_for(value, source, tier):
    """The guard for ``value`` read at ``source`` (None when nothing needs checking)."""
    if is_literal_value(value) or _bound_method(value):
        return Guard(source, "==", value, tier)     # (a bound method is a new object each time)
    if isinstance(value, (list, dict, set)):
        return Guard(source, "items", snapshot(value), tier)
    return Guard(source, "is", value, tier)


def _bound_method(value):
    owner = getattr(value, "__self__", None)
    return (isinstance(value, (types.MethodType, types.BuiltinMethodType))
            and owner is not None and not isinstance(owner, types.ModuleType))


_LIBRARY_PATHS = None


def is_library_module(module):
    """NumPy, the standard library, installed packages and adjoint itself: their attributes are
    constants (a user module's are guarded)."""
    global _LIBRARY_PATHS
    if not isinstance(module, types.ModuleType):
        return False
    name = module.__name__.split(".")[0]
    if name in sys.builtin_module_names or name in ("numpy", "adjoint", "math", "operator"):
        return True
    file = getattr(module, "__file__", None)
    if file is None:
        return True
    if _LIBRARY_PATHS is None:
        paths = sysconfig.get_paths()
        _LIBRARY_PATHS = tuple({paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths})
    return file.startswith(_LIBRARY_PATHS)
