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


@pytest.mark.parametrize("name", ["structsparse.cli", "structsparse.demo"])
def test_relative_module_lists_still_resolve(name):
    import importlib

    module = importlib.import_module(name)
    names = getattr(module, "COMMAND_MODULES", None) or tuple(getattr(module, "DEMO_PARTS").values())
    for rel in names:
        assert importlib.import_module(rel, package="structsparse").__name__.startswith("structsparse.")
