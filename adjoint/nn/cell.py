"""``Cell``: the MindSpore-style module whose ``construct`` adjoint compiles."""
from collections import OrderedDict

from ..compiler import hooks
from ..tensor import Parameter, structure_changed


class _CellType(type):
    """Setting a class attribute of a Cell class counts as a change, like an instance's."""

    def __setattr__(cls, name, value):
        super().__setattr__(name, value)
        structure_changed()

    def __delattr__(cls, name):
        super().__delattr__(name)
        structure_changed()


class Cell(metaclass=_CellType):
    """Base class of networks. Subclasses define ``construct``; calling the Cell runs it."""

    def __init__(self, auto_prefix=True, flags=None):
        object.__setattr__(self, "_params", OrderedDict())
        object.__setattr__(self, "_cells", OrderedDict())
        object.__setattr__(self, "training", False)

    def _registries(self):
        d = self.__dict__
        if "_params" not in d:
            object.__setattr__(self, "_params", OrderedDict())
            object.__setattr__(self, "_cells", OrderedDict())
        return d["_params"], d["_cells"]

    def __setattr__(self, name, value):
        params, cells = self._registries()
        params.pop(name, None)
        cells.pop(name, None)
        if isinstance(value, Parameter):
            if value.name is None:
                object.__setattr__(value, "name", name)
            params[name] = value
        elif isinstance(value, Cell):
            for p in value.get_parameters():
                object.__setattr__(p, "name", "%s.%s" % (name, p.name))
            cells[name] = value
        object.__setattr__(self, name, value)
        structure_changed()

    def __delattr__(self, name):
        params, cells = self._registries()
        params.pop(name, None)
        cells.pop(name, None)
        object.__delattr__(self, name)
        structure_changed()

    def construct(self, *args, **kwargs):
        raise NotImplementedError("%s does not define construct" % type(self).__name__)

    def __call__(self, *args, **kwargs):
        return self.construct(*args, **kwargs)

    # -- parameters -------------------------------------------------------------------------
    def get_parameters(self, expand=True):
        """Every Parameter: this Cell's own in assignment order, then each sub-Cell's."""
        seen = set()
        for _, p in self.parameters_and_names():
            if id(p) not in seen:
                seen.add(id(p))
                yield p

    def parameters_and_names(self, name_prefix="", expand=True):
        params, cells = self._registries()
        for p in params.values():
            yield p.name, p
        for cell in cells.values():
            yield from cell.parameters_and_names()

    def trainable_params(self, recurse=True):
        return [p for p in self.get_parameters() if p.requires_grad]

    def untrainable_params(self, recurse=True):
        return [p for p in self.get_parameters() if not p.requires_grad]

    def parameters_dict(self, recurse=True):
        return OrderedDict((p.name, p) for p in self.get_parameters())

    def cells(self):
        return list(self._registries()[1].values())

    def name_cells(self):
        return OrderedDict(self._registries()[1])

    def cells_and_names(self, cells=None, name_prefix=""):
        yield name_prefix, self
        for name, cell in self._registries()[1].items():
            yield from cell.cells_and_names(name_prefix=(name_prefix + "." if name_prefix else "") + name)

    def set_train(self, mode=True):
        object.__setattr__(self, "training", mode)
        for cell in self.cells():
            cell.set_train(mode)
        return self

    def set_grad(self, requires_grad=True):
        return self

    def extend_repr(self):
        return ""

    def __repr__(self):
        inner = self.extend_repr()
        cells = self._registries()[1]
        if not cells:
            return "%s(%s)" % (type(self).__name__, inner)
        lines = ["%s(%s" % (type(self).__name__, inner)]
        for name, cell in cells.items():
            lines.append("  (%s): %s" % (name, repr(cell).replace("\n", "\n  ")))
        lines.append(")")
        return "\n".join(lines)


hooks.register_cell_type(Cell)
