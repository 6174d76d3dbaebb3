"""Heavy optional libraries load on first use, not with the package (issue 15, item 2: memory).

Each check runs in a fresh interpreter (the test process has imported everything already): importing
``structsparse`` and its front ends must not import cvxpy, matplotlib, scikit-learn, onnx or onnxruntime,
and ``structsparse.cs`` must not import scipy.stats (its statistical dimensions load on first use); the
lazily loaded names still resolve to the real functions.
"""

import json
import subprocess
import sys

import pytest

HEAVY = ("cvxpy", "matplotlib", "sklearn", "onnx", "onnxruntime", "torch")


def _modules_after(statement):
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("statement", ["import structsparse", "import structsparse.cs", "import structsparse.nn",
                                       "import structsparse.sysid"])
def test_heavy_libraries_are_not_imported_with_the_package(statement):
    loaded = _modules_after(statement)
    assert "structsparse" in loaded
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"{statement!r} imported {heavy}"


def test_cs_statistical_dimensions_load_on_first_use():
    loaded = _modules_after("import structsparse.cs")
    assert "scipy.stats" not in loaded and "structsparse.cs.statdim" not in loaded
    loaded = _modules_after("import structsparse.cs as cs\nassert cs.statdim_l1(100, 10) > 0")
    assert "structsparse.cs.statdim" in loaded


def test_lazy_names_are_the_real_functions():
    import structsparse.cs as cs
    from structsparse.cs import statdim as module

    for name in ("statdim_l1", "statdim_group", "predicted_threshold"):
        assert getattr(cs, name) is getattr(module, name)
        assert name in cs.__all__
    with pytest.raises(AttributeError, match="no attribute"):
        cs.not_a_function  # noqa: B018
