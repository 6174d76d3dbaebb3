"""Unknown keyword arguments in the cs and sysid front ends raise an error naming them (python-control's
``kwargs_test``): every public function or method there that takes ``**kwargs`` is listed below with a call that
passes an unknown key, and a new one without a row fails the walk."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import structsparse as ss
from structsparse import cs, sysid
from structsparse.exceptions import ParameterError

# (module, name) -> a call with an unknown keyword, or None for a function that forwards **kwargs by contract
KWARGS_CALLS = {
    ("structsparse.cs.convex", "group_basis_pursuit"):
        lambda: cs.convex.group_basis_pursuit(np.eye(4), np.ones(4), ss.Groups.from_sizes([2, 2]), bogus=1),
    ("structsparse.cs.convex", "tree_basis_pursuit"):
        lambda: cs.convex.tree_basis_pursuit(np.eye(3), np.ones(3), ss.TreeLasso(ss.Tree.from_parents([-1, 0, 0]),
                                                                                 1.0), bogus=1),
    # an Executor's submit(fn, *args, **kwargs) hands its keywords to fn (the concurrent.futures protocol)
    ("structsparse.cs.phase", "SerialExecutor.submit"): None,
}


def _public_kwargs_functions():
    found = set()
    for pkg in (cs, sysid):
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.startswith("_") or info.name in ("cli", "demo"):
                continue
            mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
            for name in getattr(mod, "__all__", []):
                obj = getattr(mod, name)
                if inspect.isclass(obj):
                    if issubclass(obj, BaseException) or getattr(obj, "__module__", "") != mod.__name__:
                        continue
                    members = [(f"{name}.{m}", getattr(obj, m)) for m, v in vars(obj).items()
                               if callable(v) and (not m.startswith("_") or m == "__init__")]
                elif inspect.isfunction(obj) and obj.__module__ == mod.__name__:
                    members = [(name, obj)]
                else:
                    continue
                for label, fn in members:
                    try:
                        params = inspect.signature(fn).parameters.values()
                    except (TypeError, ValueError):
                        continue
                    if any(p.kind == p.VAR_KEYWORD for p in params):
                        found.add((mod.__name__, label))
    return found


def test_every_kwargs_function_has_a_row():
    found = _public_kwargs_functions()
    missing = found - set(KWARGS_CALLS)
    assert not missing, f"add a row to KWARGS_CALLS for {sorted(missing)}"
    assert set(KWARGS_CALLS) <= found, f"stale rows: {sorted(set(KWARGS_CALLS) - found)}"


@pytest.mark.parametrize("key", sorted(k for k, v in KWARGS_CALLS.items() if v is not None),
                         ids=lambda k: f"{k[0]}.{k[1]}")
def test_unknown_keyword_is_named(key):
    with pytest.raises(ParameterError) as info:
        KWARGS_CALLS[key]()
    text = str(info.value)
    assert "'bogus'" in text and key[1].split(".")[-1] in text  # the key, and the function that was called
    assert "tol" in text  # and what it does take
