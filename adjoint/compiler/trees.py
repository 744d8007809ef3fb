"""Nested Python containers of leaves (a *pytree*): tuples, lists and dicts, flattened to a
list of leaves and rebuilt from one. The one tree walk the compiler and the API layer share
(a function's outputs, a branch's values, gradients laid out like the arguments...)::

    leaves, tree = flatten((x, {"b": y, "a": [z]}))      # [x, y, z]
    tree.unflatten([1, 2, 3])                           # (1, {"b": 2, "a": [3]})
"""


class Tree:
    """The shape of a nested container: ``kind`` is None for a leaf, else tuple/list/dict."""

    __slots__ = ("kind", "children", "keys", "n_leaves", "_k", "_h")

    def __init__(self, kind=None, children=(), keys=None):
        self.kind, self.children, self.keys = kind, tuple(children), keys
        self.n_leaves = 1 if kind is None else sum(c.n_leaves for c in self.children)
        self._k = self._h = None        # (its key and hash, made once: trees are not changed)

    @property
    def is_leaf(self):
        return self.kind is None

    def unflatten(self, leaves):
        """The container this tree describes, with ``leaves`` in order."""
        leaves = list(leaves)
        if len(leaves) != self.n_leaves:
            raise ValueError("%d leaves for a tree of %d" % (len(leaves), self.n_leaves))
        return self._build(iter(leaves))

    def _build(self, it):
        if self.kind is None:
            return next(it)
        items = [c._build(it) for c in self.children]
        if self.kind is dict:
            return dict(zip(self.keys, items))
        if self.kind is list:
            return items
        if self.kind is tuple:
            return tuple(items)
        return self.kind(*items)            # a namedtuple

    def _key(self):
        k = self._k
        if k is None:
            k = self._k = (self.kind, self.keys, tuple(c._key() for c in self.children))
        return k

    def __eq__(self, other):
        return isinstance(other, Tree) and (self is other or self._key() == other._key())

    def __hash__(self):
        h = self._h
        if h is None:
            h = self._h = hash(self._key())
        return h

    def describe(self):
        """``(*, *)``, ``{'a': *, 'b': [*]}``: for error messages."""
        if self.kind is None:
            return "*"
        inner = [c.describe() for c in self.children]
        if self.kind is dict:
            return "{%s}" % ", ".join("%r: %s" % (k, v) for k, v in zip(self.keys, inner))
        if self.kind is list:
            return "[%s]" % ", ".join(inner)
        return "(%s,)" % inner[0] if len(inner) == 1 else "(%s)" % ", ".join(inner)

    def __repr__(self):
        return "Tree(%s)" % self.describe()


LEAF = Tree()


def is_node(value):
    return isinstance(value, (tuple, list, dict))


def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def flatten(value, is_leaf=None):
    """``(leaves, tree)``; ``is_leaf(v)`` may stop the walk at a container."""
    leaves = []
    tree = _flatten(value, leaves, is_leaf)
    return leaves, tree


def _flatten(value, leaves, is_leaf):
    if (is_leaf is not None and is_leaf(value)) or not is_node(value):
        leaves.append(value)
        return LEAF
    if isinstance(value, dict):
        keys = tuple(value)
        return Tree(dict, [_flatten(value[k], leaves, is_leaf) for k in keys], keys)
    if isinstance(value, list):
        return Tree(list, [_flatten(v, leaves, is_leaf) for v in value])
    kind = type(value) if _is_namedtuple(value) else tuple
    return Tree(kind, [_flatten(v, leaves, is_leaf) for v in value])


def leaves(value, is_leaf=None):
    return flatten(value, is_leaf)[0]


def map_leaves(fn, value, is_leaf=None):
    """The same container with ``fn`` applied to every leaf."""
    found, tree = flatten(value, is_leaf)
    return tree.unflatten([fn(v) for v in found])
