"""Containers of Cells: ``SequentialCell`` (runs its cells in order) and ``CellList``.

Sub-Cells are registered under the keys ``'0'``, ``'1'``... so their Parameters are named
``0.weight``, ``1.bias``... (and ``layers.0.weight`` once the container is an attribute
``layers`` of another Cell), as in MindSpore.
"""
from collections import OrderedDict

from .cell import Cell, structural_params as _structural_params

__all__ = ["SequentialCell", "CellList"]


def _check_cell(cell, cls_name):
    if not isinstance(cell, Cell):
        raise TypeError("For '%s', the type of cell must be Cell, but got %s."
                        % (cls_name, type(cell).__name__))
    return cell


def _valid_index(length, index, cls_name):
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError("For '%s', the type of 'index' must be int or slice, but got %s."
                        % (cls_name, type(index).__name__))
    if not -length <= index < length:
        raise IndexError("For '%s', the value of 'index' must be in range [%d, %d), but got %d."
                         % (cls_name, -length, length, index))
    return index % length


class _CellContainer(Cell):
    """Keeps an ordered set of sub-Cells registered under string keys."""

    def _outer_prefix(self):
        """The prefix (``'net.layers.'``) an enclosing Cell has given this container's Parameters."""
        for path, p in _structural_params(self):
            name = p.name or ""
            if name.endswith(path):
                return name[:len(name) - len(path)]
        return ""

    def _set_cells(self, items):
        """Register exactly the ``(key, cell)`` pairs ``items``, renaming their Parameters."""
        prefix = self._outer_prefix()
        for key in list(self._registries()[1]):
            delattr(self, key)
        named = {}                      # id(Parameter) -> its name (the first place it lives)
        for key, cell in items:
            for rel, p in _structural_params(cell):
                object.__setattr__(p, "name", rel)          # Cell.__setattr__ adds "key."
            setattr(self, key, cell)
            for _, p in _structural_params(cell):
                if id(p) not in named:
                    named[id(p)] = prefix + p.name
                object.__setattr__(p, "name", named[id(p)])
        self._cells_changed()

    def _cells_changed(self):
        pass

    def _items(self):
        return list(self._registries()[1].items())

    def _numbered(self, cells):
        return [(str(i), c) for i, c in enumerate(cells)]

    def _renumber_if_numbered(self, items):
        if all(k.isdigit() for k, _ in items):
            return self._numbered([c for _, c in items])
        return items

    def __len__(self):
        return len(self._registries()[1])

    def __iter__(self):
        return iter(list(self._registries()[1].values()))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(self._items()[index]))
        index = _valid_index(len(self), index, type(self).__name__)
        return self._items()[index][1]

    def __setitem__(self, index, cell):
        cls_name = type(self).__name__
        _check_cell(cell, cls_name)
        items = self._items()
        index = _valid_index(len(items), index, cls_name)
        items[index] = (items[index][0], cell)
        self._set_cells(items)

    def __delitem__(self, index):
        items = self._items()
        if isinstance(index, slice):
            del items[index]
        else:
            del items[_valid_index(len(items), index, type(self).__name__)]
        self._set_cells(self._renumber_if_numbered(items))

    def append(self, cell):
        """Add ``cell`` at the end."""
        _check_cell(cell, type(self).__name__)
        items = self._items()
        items.append((str(len(items)), cell))
        self._set_cells(items)
        return self

    def extend(self, cells):
        """Add every Cell of ``cells`` at the end."""
        for cell in cells:
            self.append(cell)
        return self

    def insert(self, index, cell):
        """Put ``cell`` before position ``index``; later cells move up one number."""
        cls_name = type(self).__name__
        _check_cell(cell, cls_name)
        items = self._items()
        numbered = all(k.isdigit() for k, _ in items)
        items.insert(index, (str(len(items)), cell))       # list.insert's rules for the index
        if numbered:
            items = self._numbered([c for _, c in items])
        self._set_cells(items)


class SequentialCell(_CellContainer):
    """``SequentialCell(cell0, cell1, ...)``, ``SequentialCell([cells])`` or
    ``SequentialCell(OrderedDict(name=cell, ...))``: ``construct(x)`` feeds x through the
    cells in order."""

    def __init__(self, *args):
        super().__init__()
        self.cell_list = []
        if len(args) == 1 and isinstance(args[0], dict):
            items = list(args[0].items())
        elif len(args) == 1 and isinstance(args[0], (list, tuple)):
            items = self._numbered(args[0])
        else:
            items = self._numbered(args)
        for key, cell in items:
            if not isinstance(key, str):
                raise TypeError("For 'SequentialCell', the keys of the dict must be str, but got %s."
                                % type(key).__name__)
            _check_cell(cell, "SequentialCell")
        self._set_cells(items)

    def _cells_changed(self):
        # The list construct loops over: a plain Python list, so the compiler unrolls the loop.
        self.cell_list = list(self._registries()[1].values())

    def construct(self, input_data):
        for cell in self.cell_list:
            input_data = cell(input_data)
        return input_data


class CellList(_CellContainer):
    """``CellList([cells])``: a list of Cells whose Parameters the enclosing Cell owns.

    Index it, loop over it (``for layer in self.layers: x = layer(x)``), ``append`` to it.
    """

    def __init__(self, args=None):
        super().__init__()
        if args is None:
            args = []
        if isinstance(args, Cell):
            raise TypeError("For 'CellList', the argument must be a list of Cells, but got a Cell; "
                            "wrap it in a list")
        items = list(args.items()) if isinstance(args, dict) else self._numbered(list(args))
        for _, cell in items:
            _check_cell(cell, "CellList")
        self._set_cells(items)

    def __iadd__(self, cells):
        return self.extend(cells)
