"""No module inside the package imports the top-level ``structsparse`` package (DESIGN.md: relative imports only)."""

import ast
from pathlib import Path

import pytest

import structsparse

PACKAGE = Path(structsparse.__file__).resolve().parent


def _absolute_imports(source):
    """``(line, name)`` of every absolute import of ``structsparse`` (statements and ``importlib`` strings)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "structsparse"]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.split(".")[0] == "structsparse":
                found.append((node.lineno, f"from {node.module}"))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0].value
            if name in ("import_module", "__import__") and isinstance(arg, str) and arg.split(".")[0] == "structsparse":
                found.append((node.lineno, f"{name}({arg!r})"))
    return found


def test_the_checker_catches_every_form():
    src = ("import structsparse as ss\nimport structsparse.cs\nfrom structsparse import cs\n"
           "from structsparse.solvers import path\nimportlib.import_module('structsparse.nn')\n"
           "from . import cs\nfrom ..solvers import path\nimport numpy\n'''import structsparse'''\n")
    assert [line for line, _ in _absolute_imports(src)] == [1, 2, 3, 4, 5]


def test_no_module_imports_the_top_level_package():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50  # the walk really covers the package
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{line}: {name}"
                 for path in files for line, name in _absolute_imports(path.read_text(encoding="utf-8"))]
    assert offenders == [], "use relative imports:\n" + "\n".join(offenders)


#: Names a module may take from the top-level package by a relative import: its version string (cli's --version).
_TOP_LEVEL_NAMES_ALLOWED = {"__version__"}


def _names_from_the_top_level(path, source):
    """``(line, name)`` of every name a relative import takes from the top-level package that is not a submodule.

    ``from .. import _saving`` loads a module of the package; ``from .. import GroupLasso`` reads the top-level
    namespace (its ``__init__``), which the rule forbids just as ``import structsparse`` (an ``__init__`` that
    re-exports from this very module would make the import circular).
    """
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1])  # the package a relative import starts from (for a module and an __init__)
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.level):
            continue
        base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
        target = base + (node.module.split(".") if node.module else [])
        if target != ["structsparse"]:
            continue
        for alias in node.names:
            sub = PACKAGE / alias.name
            if not (sub.with_suffix(".py").is_file() or (sub / "__init__.py").is_file()):
                found.append((node.lineno, alias.name))
    return found


def test_relative_imports_take_only_submodules_from_the_top_level_package():
    files = sorted(PACKAGE.rglob("*.py"))
    taken = {f"{p.relative_to(PACKAGE.parent)}:{line}: {name}" for p in files if p.parent != PACKAGE or
             p.name != "__init__.py" for line, name in _names_from_the_top_level(p, p.read_text(encoding="utf-8"))}
    offenders = sorted(t for t in taken if t.rsplit(": ", 1)[1] not in _TOP_LEVEL_NAMES_ALLOWED)
    assert offenders == [], "import from the defining module, not from structsparse's namespace:\n" + \
        "\n".join(offenders)


def test_the_relative_import_checker_catches_a_public_name():
    fake = PACKAGE / "cs" / "_not_a_real_module.py"  # only its path is used: nothing is written there
    src = "from .. import GroupLasso, _saving\nfrom ..penalties import L1\nfrom . import convex\n"
    assert _names_from_the_top_level(fake, src) == [(1, "GroupLasso")]
    top = PACKAGE / "_not_a_real_module.py"
    assert _names_from_the_top_level(top, "from . import prox, Groups, __version__\n") == \
        [(1, "Groups"), (1, "__version__")]


@pytest.mark.parametrize("name", ["structsparse.cli", "structsparse.demo"])
def test_relative_module_lists_still_resolve(name):
    import importlib

    module = importlib.import_module(name)
    names = getattr(module, "COMMAND_MODULES", None) or tuple(getattr(module, "DEMO_PARTS").values())
    for rel in names:
        assert importlib.import_module(rel, package="structsparse").__name__.startswith("structsparse.")
