"""``Cell``: the MindSpore-style module whose ``construct`` adjoint compiles."""
from collections import OrderedDict

from ..compiler import hooks
from ..tensor import Parameter, structure_changed


def structural_params(cell, path=""):
    """``(name, Parameter)`` for every Parameter of ``cell``, named by where it lives
    (attribute keys joined by dots), as MindSpore's ``parameters_and_names`` names them."""
    params, cells = cell._registries()
    for key, p in params.items():
        yield path + key, p
    for key, sub in cells.items():
        yield from structural_params(sub, path + key + ".")


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
        # A sub-Cell assigned to an attribute gets its Parameters renamed "attr.<path>"
        # unless this is False (WithLossCell, TrainOneStepCell: MindSpore's auto_prefix).
        object.__setattr__(self, "_auto_prefix", bool(auto_prefix))

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
            if self.__dict__.get("_auto_prefix", True):
                # As MindSpore's update_parameters_name: the name is the attribute followed by
                # where the Parameter lives inside the Cell (not by its current name), so
                # assigning one Cell into two wrappers names its Parameters once: net.a.
                renamed = set()
                for rel, p in structural_params(value):
                    if id(p) not in renamed:
                        renamed.add(id(p))
                        object.__setattr__(p, "name", "%s.%s" % (name, rel))
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
        """Training (True) or evaluation (False) mode for this Cell and every sub-Cell
        (Dropout, BatchNorm). Compiled gradients depend on it, so it counts as a change."""
        for _, cell in self.cells_and_names():
            object.__setattr__(cell, "training", bool(mode))
        structure_changed()
        return self

    def set_grad(self, requires_grad=True):
        return self

    def recompute(self, **kwargs):
        """MindSpore's ``Cell.recompute()``: in a gradient, the values this Cell computes are not
        kept for the reverse sweep but computed again there, from its inputs (its outputs are
        kept): less memory for a second run of this Cell's forward (``compiler/recompute.py``).
        MindSpore's keyword arguments (use_reentrant, output_recompute...) change nothing here."""
        object.__setattr__(self, "_recompute", True)
        structure_changed()
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
