"""Layers import downward: the compiler never imports the API layer (Tensor, Cells, ops,
gradient functions); the API layer registers what the compiler must know (compiler/hooks.py)."""
import ast
import os

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "adjoint")

# What each part of the package may import from adjoint (besides itself).
ALLOWED = {
    "adjoint.errors": set(),
    "adjoint.compiler": {"adjoint.errors"},
}


def _modules():
    for folder, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(folder, f)
                rel = os.path.relpath(path, os.path.dirname(ROOT))[:-3].replace(os.sep, ".")
                yield (rel[:-len(".__init__")] if rel.endswith(".__init__") else rel), path


def _imports(module, path):
    """Every adjoint module ``module`` imports, at any depth (function-local imports too)."""
    package = module if path.endswith("__init__.py") else module.rsplit(".", 1)[0]
    with open(path) as fh:
        tree = ast.parse(fh.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield name, node.lineno
            for alias in node.names:                 # from . import ir -> adjoint.compiler.ir
                yield name + "." + alias.name, node.lineno


def _part(module):
    for part in ALLOWED:
        if module == part or module.startswith(part + "."):
            return part
    return None


def test_no_upward_imports():
    upward = []
    for module, path in _modules():
        part = _part(module)
        if part is None:
            continue
        for name, line in _imports(module, path):
            if not name or not name.startswith("adjoint"):
                continue
            target = _part(name)
            if target == part or target in ALLOWED[part]:
                continue
            if any(name == a or name.startswith(a + ".") for a in ALLOWED[part]):
                continue
            if name.rsplit(".", 1)[0] == part or _part(name.rsplit(".", 1)[0]) == part:
                continue                              # `from . import x` inside the part
            upward.append("%s:%d imports %s" % (os.path.relpath(path, ROOT), line, name))
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ..tensor import Tensor\n")
    assert ("adjoint.tensor", 1) in set(_imports("adjoint.compiler.bad", str(bad)))
