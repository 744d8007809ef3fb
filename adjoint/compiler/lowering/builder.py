"""The IR builder one compilation shares: where ops are emitted (nested regions for blocks),
the inputs read from Cells and globals (and where each is read again at a call), and the
guards on every other value read from outside the function's arguments."""
import contextlib
import types

import numpy as np

from .. import ir
from ..hooks import is_array_object, is_cell
from ..prims import BROADCAST, REDUCE, SAME
from ..sources import CALL, EPOCH, Guard, Source, guard_for, is_library_module


class Context:
    """What one compilation builds: the ops, the inputs read from Cells and globals (and where
    each is read again at a call), and the guards on every other value read from outside."""

    def __init__(self, main_fn=None, self_obj=None):
        self.ops = []
        self.inputs = {}            # id(obj) -> (obj, Value): Parameters and constant arrays
        self.input_sources = {}     # id(obj) -> (Source, tier): where each input is read again
        self.sources = {}           # id(obj) -> (obj, Source): objects read from outside
        self.guards = {}            # Source -> Guard
        self.library = set()        # ids of library modules (their attributes are constants)
        self.main_fn, self.self_obj = main_fn, self_obj
        if self_obj is not None:
            self.sources[id(self_obj)] = (self_obj, Source(("self",)))
        self.depth = 0
        # Value -> the values whose memory it may share (it is one, or a view of one): what
        # ``y[i] = v`` checks, as it assigns into a copy. Absent: only its own.
        self.memory = {}

    @contextlib.contextmanager
    def region(self):
        """Collect the ops emitted inside the ``with`` into a fresh list (a nested block)."""
        outer, self.ops = self.ops, []
        try:
            yield self.ops
        finally:
            self.ops = outer

    @contextlib.contextmanager
    def into(self, ops):
        """Emit into an existing op list (a block built earlier)."""
        outer, self.ops = self.ops, ops
        try:
            yield ops
        finally:
            self.ops = outer

    def emit(self, prim, args, loc, role="fwd", name=None, kwnames=()):
        kind = prim.kind or (ir.join_kinds(args) if prim.pure else None)
        value = ir.Value(name, kind=kind)
        self.ops.append(ir.Op(prim, args, value, loc, role, kwnames))
        if _may_share(prim):
            self.share([value], args)
        return value

    def roots(self, value):
        """The values whose memory ``value`` may share (itself included)."""
        return self.memory.get(value, frozenset((value,)))

    def share(self, values, sources):
        """Each of ``values`` may be, or view, any of ``sources`` or of each other (the
        results of an op, or of a loop or branch, which may pass any value through)."""
        roots = frozenset(values).union(*(self.roots(v) for v in sources if isinstance(v, ir.Value)))
        if len(roots) > 1:
            for value in values:
                self.memory[value] = roots

    def input_for(self, obj, hint, source=None, tier=EPOCH):
        hit = self.inputs.get(id(obj))
        if hit is None:
            hit = (obj, ir.Value(hint, kind="ndarray" if isinstance(obj, np.ndarray) else "tensor"))
            self.inputs[id(obj)] = hit
        if source is not None:
            self.input_sources.setdefault(id(obj), (source, tier))
        return hit[1]

    def guard(self, guard):
        self.guards.setdefault(guard.source, guard)

    def read(self, value, source, tier, hint):
        """A value read from outside the function at ``source``: an array becomes an input (read
        again at every call); anything else is guarded, and remembered as the source of what is
        read from it. Attributes of library modules (np.exp) are constants."""
        if is_array_object(value):
            return self.input_for(value, hint, source, tier)
        if isinstance(value, types.ModuleType) and is_library_module(value):
            self.library.add(id(value))
            self.guard(Guard(source, "is", value, tier))
            return value
        guard = guard_for(value, source, tier)
        self.guard(guard)
        if guard.mode != "==":
            self.sources.setdefault(id(value), (value, source))
        return value

    def source_of(self, obj):
        """Where ``obj`` was read from outside, or None (a constant, or made while compiling).
        A Cell reached some other way (an item of a list a loop went through...) is its own
        root: what is read off it is still checked."""
        if id(obj) in self.library:
            return None
        hit = self.sources.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        return Source(("const", obj)) if is_cell(obj) else None

    def read_items(self, container, items):
        """The items of ``container`` a loop goes through: read from it, so guarded like it."""
        source = self.source_of(container)
        if source is None or not isinstance(container, (list, tuple)) or len(items) != len(container):
            return items
        tier = EPOCH if is_cell(container) else CALL
        return [self.read(item, source.item(k), tier, "item") for k, item in enumerate(items)]


# Results that are new arrays whatever the operands (arithmetic, math, reductions); any other
# op's result may be an operand itself or a view of one (x[0], x.T, reshape, stop_gradient...).
_IDENTITY_LIKE = ("identity", "stop_gradient", "astype", "cast_like", "pos", "positive", "flip")


def _may_share(prim):
    if prim.shape in (BROADCAST, REDUCE):
        return False
    return not (prim.shape == SAME and prim.name not in _IDENTITY_LIKE)
