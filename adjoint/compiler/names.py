"""All naming of generated code lives here: ``dx`` for the adjoint of ``x``, ``_t3`` for
temporaries, ``dout`` for the output's adjoint, ``Net_construct_grad`` for the function."""
import keyword
import re


def function_name(qualname, suffix="grad"):
    """'Net.construct' -> 'Net_construct_grad'."""
    base = re.sub(r"[^0-9a-zA-Z_]", "_", qualname.replace(".<locals>.", "_"))
    if re.search(r"[<>()]", qualname):      # '<lambda>', 'grad(f)': no runs of underscores
        base = re.sub(r"_+", "_", base).strip("_") or "fn"
    return "%s_%s" % (base, suffix) if suffix else base


def adjoint_of(name):
    return "d" + name


class Namer:
    """Hands out unique Python identifiers, keeping the user's names where it can."""

    def __init__(self, reserved=()):
        self.taken = set(reserved) | set(keyword.kwlist) | {"np", "_"}   # `_`: unused loop indices
        self.temps = 0

    def fresh(self, hint=None):
        if hint is None:
            while True:
                self.temps += 1
                name = "_t%d" % self.temps
                if name not in self.taken:
                    break
        else:
            name = re.sub(r"[^0-9a-zA-Z_]", "_", hint)
            if name[0].isdigit():
                name = "_" + name
            base, n = name, 0
            while name in self.taken:
                n += 1
                name = "%s_%d" % (base, n)
        self.taken.add(name)
        return name
