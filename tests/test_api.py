"""The public API: every exported name exists, is documented, and documents each of its arguments.

Modelled on python-control's check that no argument goes undocumented.
"""

import importlib
import inspect
import re

import pytest

MODULES = ["structsparse", "structsparse.prox", "structsparse.cs", "structsparse.cs.plots", "structsparse.sysid",
           "structsparse.sysid.plots", "structsparse.nn"]


def _public(modname):
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError:
        return []
    return [(modname, name, getattr(mod, name)) for name in getattr(mod, "__all__", [])]


PUBLIC = [item for m in MODULES for item in _public(m)]


def _documented_params(doc):
    """Names listed in numpydoc 'Parameters' (or, for dataclasses, 'Attributes') sections."""
    names = set()
    for match in re.finditer(r"(?:Parameters|Attributes)\n\s*-+\n(.*?)(?=\n[A-Z][A-Za-z ]+\n\s*-+\n|\Z)", doc, re.S):
        names |= _names_in_section(match.group(1))
    return names


def _names_in_section(section):
    names = set()
    for line in section.splitlines():
        m = re.match(r"\s*(\*{0,2}[A-Za-z_][\w, *]*?)\s*(:|$)", line)
        if m and not line.startswith(" " * 8):
            names.update(n.strip().lstrip("*") for n in m.group(1).split(","))
    return names


def test_all_names_resolve():
    assert PUBLIC, "no public names found"
    for modname, name, obj in PUBLIC:
        assert obj is not None, f"{modname}.{name} is None"


@pytest.mark.parametrize("modname,name,obj", PUBLIC, ids=[f"{m}.{n}" for m, n, _ in PUBLIC])
def test_documented(modname, name, obj):
    if inspect.ismodule(obj) or not callable(obj):
        return
    doc = inspect.getdoc(obj)
    assert doc and len(doc.strip()) > 20, f"{modname}.{name} has no docstring"
    target = obj.__init__ if inspect.isclass(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return
    params = [p for p in sig.parameters.values()
              if p.name not in ("self", "cls") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not params:
        return
    full = doc + "\n" + (inspect.getdoc(target) or "") if inspect.isclass(obj) else doc
    documented = _documented_params(full)
    missing = [p.name for p in params if p.name not in documented]
    assert not missing, f"{modname}.{name}: parameters not documented in a numpydoc 'Parameters' section: {missing}"


def test_api_reference_lists_every_public_name():
    """The Sphinx API reference (docs/api.rst, written by docs/_apigen.py at every build) lists every public name."""
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).parent.parent / "docs"))
    import _apigen

    text = _apigen.render()
    missing = [f"{m}.{n}" for m, n, _ in PUBLIC
               if not re.search(rf"^   {re.escape(n)}$", text, re.M) and f"``{m}.{n}``" not in text]
    assert not missing, f"add the module to docs/_apigen.py MODULES; missing from the API reference: {missing}"
