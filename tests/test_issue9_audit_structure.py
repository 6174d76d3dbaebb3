"""Issue 9, items 2, 6 and 7, as checks of the package's structure (each fails on a new duplicate or omission).

Item 2 asks that no solver name a concrete penalty or datafit class; item 6 for one Lipschitz estimate, one
restricted least-squares helper and one BLAS thread-limiting context in the package; item 7 for scikit-learn's
``check_estimator`` on every estimator. The walks read the sources
with ``ast``, so they see every module, imported or not.
"""

import ast
import functools
from pathlib import Path

import pytest

import structsparse
import structsparse.estimators as estimators

PACKAGE = Path(structsparse.__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def _modules():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50  # the walk really covers the package
    return tuple((f.relative_to(PACKAGE).as_posix(), ast.parse(f.read_text(encoding="utf-8"))) for f in files)


def _calls(tree):
    """``(line, dotted name)`` of every call, e.g. ``np.linalg.lstsq`` or ``lsqr``."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            parts, f = [], node.func
            while isinstance(f, ast.Attribute):
                parts.append(f.attr)
                f = f.value
            if isinstance(f, ast.Name):
                parts.append(f.id)
            out.append((node.lineno, ".".join(reversed(parts)), node))
    return out


def _imported_names(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {(node.module or "", a.name) for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {(a.name, "") for a in node.names}
    return names


# ---------------------------------------------------------------- one BLAS thread-limiting context
def test_one_blas_thread_limit():
    """Only ``_linalg.single_blas_thread`` limits BLAS to one thread; nn sets the user's thread count for timing."""
    limiters, single = [], []
    for path, tree in _modules():
        if any(mod == "threadpoolctl" for mod, _ in _imported_names(tree)):
            limiters.append(path)
        for line, name, node in _calls(tree):
            if name.split(".")[-1] in ("threadpool_limits", "limit"):
                args = list(node.args) + [k.value for k in node.keywords if k.arg == "limits"]
                if any(isinstance(a, ast.Constant) and a.value == 1 for a in args):
                    single.append(f"{path}:{line}")
    assert [s.split(":")[0] for s in single] == ["_linalg.py"], single
    # threadpoolctl elsewhere only where a function takes the thread count from its caller (nn timing, training)
    assert set(limiters) == {"_linalg.py", "nn/speed.py", "nn/training.py", "nn/profile.py"}, limiters


def test_the_nn_thread_limits_use_the_callers_count():
    for path in ("nn/speed.py", "nn/training.py", "nn/profile.py"):
        tree = ast.parse((PACKAGE / path).read_text(encoding="utf-8"))
        uses = [node for _, name, node in _calls(tree) if name == "threadpool_limits"]
        assert uses and all(len(u.args) == 1 and isinstance(u.args[0], ast.Name) and u.args[0].id == "threads"
                            for u in uses), path


# ---------------------------------------------------------------- one Lipschitz estimate
def test_one_spectral_norm_estimate():
    """``||A||_2^2`` by power iteration lives in ``_linalg.spectral_norm_sq``; nothing else defines or calls another."""
    defined, sparse_eig = [], []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                low = node.name.lower()
                if "power" in low or "spectral_norm" in low:
                    defined.append(f"{path}:{node.name}")
        sparse_eig += [f"{path}:{line}" for line, name, _ in _calls(tree) if name.split(".")[-1] in ("svds", "eigsh")]
    assert sorted(defined) == ["_linalg.py:group_spectral_norm_sq", "_linalg.py:spectral_norm_sq"], defined
    assert sparse_eig == [], sparse_eig


def test_datafits_take_their_lipschitz_constant_from_the_one_estimate(monkeypatch):
    import numpy as np

    import structsparse as ss
    from structsparse.datafits import base

    seen = []
    real = base.spectral_norm_sq
    monkeypatch.setattr(base, "spectral_norm_sq", lambda A: seen.append(A.shape) or real(A))
    A = np.random.default_rng(0).standard_normal((30, 20))
    for fit in (ss.LeastSquares(A, np.ones(30)), ss.Logistic(A, np.sign(np.arange(30) - 14.5)),
                ss.Huber(A, np.ones(30)), ss.Poisson(A, np.ones(30))):
        L = fit.lipschitz
        curvature = fit.curvature if fit.curvature is not None else 1.0  # Poisson: the local constant at 0
        assert L == pytest.approx(curvature * np.linalg.norm(A, 2) ** 2, rel=1e-6)
    assert seen == [(30, 20)] * 4


# ---------------------------------------------------------------- one restricted least-squares helper
#: Least-squares solves that are not fits on a subset of columns: sysid's subspace step (shift equation and
#: initial state on full matrices) and the Newton direction H d = -g of a singular working-set Hessian.
_NOT_RESTRICTED = {"sysid/subspace.py", "solvers/working_set.py"}


def _lstsq_sites():
    sites = {}
    for path, tree in _modules():
        for line, name, _ in _calls(tree):
            if name.split(".")[-1] in ("lstsq", "lsqr", "lsmr"):
                sites.setdefault(path, []).append(line)
    return sites


def test_least_squares_solves_go_through_the_one_helper():
    sites = _lstsq_sites()
    assert "_linalg.py" in sites  # restricted_lstsq itself
    others = set(sites) - {"_linalg.py"} - _NOT_RESTRICTED
    assert others == set(), {p: sites[p] for p in others}


def test_greedy_recovery_uses_the_one_restricted_least_squares_helper():
    assert "cs/greedy.py" not in _lstsq_sites()


# ---------------------------------------------------------------- per-block Lipschitz constants
#: Where ``||A_g||_2^2`` of a group's columns is computed (top eigenvalue of a Gram matrix, or a matrix 2-norm):
#: ``_group_norms.py`` only, with two whole-matrix norms apart: ``_linalg.spectral_norm_sq``'s exact branch for
#: small designs (one site) and the nuclear norm's dual norm (the spectral norm of the unknown, not of the design).
_BLOCK_NORM_HOME = {"_group_norms.py", "_linalg.py", "penalties/nuclear_norm.py"}


def _block_norm_sites():
    sites = {}
    for path, tree in _modules():
        for line, name, node in _calls(tree):
            if not name.startswith(("np.linalg.", "numpy.linalg.", "scipy.linalg.", "sla.")):
                continue
            last = name.split(".")[-1]
            ords = list(node.args[1:2]) + [k.value for k in node.keywords if k.arg == "ord"]
            if last == "eigvalsh" or (last == "norm" and any(isinstance(o, ast.Constant) and o.value == 2
                                                             for o in ords)):
                sites.setdefault(path, []).append(line)
    return sites


def test_one_per_block_lipschitz_computation():
    sites = _block_norm_sites()
    assert "_group_norms.py" in sites  # the walk sees the one home
    assert set(sites) <= _BLOCK_NORM_HOME, sites
    assert len(sites["_linalg.py"]) == 1, sites   # spectral_norm_sq of a small matrix, nothing per block


def test_the_block_lipschitz_kernels_are_the_datafits_and_the_solvers():
    """``datafit.block_lipschitz`` and solve_block's working set reach the same kernels, which agree with SVDs."""
    import numpy as np
    import scipy.sparse as sp

    import structsparse as ss
    from structsparse import _group_norms
    from structsparse.solvers import _block_kernels, working_set

    assert _block_kernels.group_lipschitz_dense is _group_norms.group_lipschitz_dense
    assert working_set.group_norm_sq_csc is _group_norms.group_norm_sq_csc
    rng = np.random.default_rng(3)
    A = rng.standard_normal((40, 30))
    groups = ss.Groups.from_lists([[0], [1, 2, 3], list(range(4, 24)), [29, 25, 26]], n_features=30)
    idx, ptr = groups.indices, groups.ptr
    want = [np.linalg.norm(A[:, idx[ptr[g]:ptr[g + 1]]], 2) ** 2 for g in range(len(ptr) - 1)]
    for design in (A, np.asfortranarray(A), sp.csr_matrix(A), sp.csc_matrix(A)):
        got = ss.LeastSquares(design, A @ np.ones(30)).block_lipschitz(idx, ptr)
        np.testing.assert_allclose(got, want, rtol=1e-12)


# ---------------------------------------------------------------- projection onto the free columns' complement
def _free_basis_sites():
    """Solver-layer modules that build an orthonormal basis of design columns (QR) to project a dual point
    (the front ends' QRs, in sysid's subspace methods, are another matter)."""
    return sorted(path for path, tree in _modules() if path.startswith(("solvers/", "_linalg"))
                  and any(name.split(".")[-1] == "qr" for _, name, _ in _calls(tree)))


def test_one_free_column_projection():
    """fista's and solve_block's gaps with free variables both project with _linalg's one helper."""
    import importlib

    fista = importlib.import_module("structsparse.solvers.fista")   # the module, not the function
    working_set = importlib.import_module("structsparse.solvers.working_set")
    assert _free_basis_sites() == ["_linalg.py"]
    assert fista.project_out is working_set.project_out
    assert fista.column_span_basis is working_set.column_span_basis


def test_the_free_column_projection_zeroes_the_free_correlations():
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.linalg import aslinearoperator

    from structsparse._linalg import column_span_basis, project_out

    rng = np.random.default_rng(4)
    A = rng.standard_normal((25, 8))
    # a dependent free column before an independent one: the basis keeps the rank, 3 of 4, and still spans
    # column 6 (an unpivoted QR's rule, which dropped the third Q column, lost part of it)
    A[:, 3] = A[:, 1] + A[:, 2]
    free = np.array([1, 2, 3, 6])
    theta = rng.standard_normal((25, 2))
    for design in (A, sp.csr_matrix(A), aslinearoperator(A)):
        basis = column_span_basis(design, free)
        assert basis.shape == (25, 3)
        np.testing.assert_allclose(basis.T @ basis, np.eye(3), atol=1e-12)
        moved = project_out(theta, basis)
        np.testing.assert_allclose(A[:, free].T @ moved, 0.0, atol=1e-12)
        # a projection: what is already orthogonal stays, and theta - moved lies in the span
        np.testing.assert_allclose(project_out(moved, basis), moved, atol=1e-12)
        coef = np.linalg.lstsq(A[:, free], theta - moved, rcond=None)[0]
        np.testing.assert_allclose(A[:, free] @ coef, theta - moved, atol=1e-12)
        np.testing.assert_allclose(project_out(theta[:, 0], basis), moved[:, 0], atol=1e-14)


# ---------------------------------------------------------------- check_estimator on every estimator
def test_check_estimator_covers_every_estimator():
    """tests/test_estimators.py runs scikit-learn's checks on ESTIMATORS: every public estimator class is there."""
    from sklearn.base import BaseEstimator

    import test_estimators

    public = {name for name in estimators.__all__ if issubclass(getattr(estimators, name), BaseEstimator)}
    assert public == set(estimators.__all__)
    checked = {type(e).__name__ for e in test_estimators.ESTIMATORS}
    assert public <= checked, public - checked
    # and no other module of the package defines an estimator the suite would miss
    for path, tree in _modules():
        if path == "estimators.py":
            continue
        bases = [ast.unparse(b) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for b in node.bases]
        assert not any(b.endswith(("BaseEstimator", "RegressorMixin", "ClassifierMixin")) for b in bases), path


# ---------------------------------------------------------------- no solver names a concrete class (item 2)
#: Solver modules that build a concrete penalty or datafit (never dispatch on one), and why.
_BUILDERS = {
    "solvers/budget.py": {"GroupLasso", "OverlapGroupLasso"},              # the penalty of the priced groups
    "solvers/continuation.py": {"LeastSquares", "GroupLasso"},            # stages; working sets' group norms
    "solvers/tour.py": {"LeastSquares", "GroupLasso", "SparseGroupLasso", "TreeLasso"},  # the demo's problems
}


def _concrete_classes():
    import structsparse.datafits as datafits
    import structsparse.penalties as penalties
    from structsparse.datafits.base import Datafit
    from structsparse.penalties.base import Penalty

    names = set()
    for module, base in ((penalties, Penalty), (datafits, Datafit)):
        names |= {n for n in dir(module) if isinstance(getattr(module, n), type)
                  and issubclass(getattr(module, n), base) and getattr(module, n) is not base}
    assert {"L1", "GroupLasso", "OverlapGroupLasso", "LatentGroupLasso", "LeastSquares", "Poisson"} <= names
    return names


_KIND_NAMES = {"l1", "group_lasso", "sparse_group_lasso", "tree_lasso", "overlap_group_lasso", "latent_group_lasso",
               "nuclear_norm", "group_nuclear", "logistic", "huber", "poisson"}


def _solver_offenses(modules, concrete):
    """``(imported, checks, by_name)``: concrete classes imported per module, isinstance/issubclass checks on
    them, and comparisons with them or of a ``.name`` with a penalty or datafit kind."""
    imported, checks, by_name = {}, [], []
    for path, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level and \
                    any(part in (node.module or "") for part in ("penalties", "datafits")):
                got = {a.name for a in node.names} & concrete
                if got:
                    imported.setdefault(path, set()).update(got)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id in ("isinstance", "issubclass") and len(node.args) == 2:
                if {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)} & concrete:
                    checks.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.Compare):  # type(p) is L1, p.name == "group_lasso", ...
                sides = [node.left] + list(node.comparators)
                names = {n.id for side in sides for n in ast.walk(side) if isinstance(n, ast.Name)}
                consts = {n.value for side in sides for n in ast.walk(side) if isinstance(n, ast.Constant)}
                attrs = {n.attr for side in sides for n in ast.walk(side) if isinstance(n, ast.Attribute)}
                if names & concrete or ("name" in attrs and consts & _KIND_NAMES):
                    by_name.append(f"{path}:{node.lineno}")
    return imported, checks, by_name


def test_the_concrete_class_checker_catches_every_form():
    src = ("from ..penalties import GroupLasso, Penalty\n"
           "def f(p, d):\n"
           "    if isinstance(p, (GroupLasso, Penalty)): pass\n"
           "    if type(d) is LeastSquares: pass\n"
           "    if p.name == 'tree_lasso': pass\n"
           "    if p.n_features == 3 and isinstance(p, Penalty): pass\n")
    imported, checks, by_name = _solver_offenses([("solvers/x.py", ast.parse(src))], _concrete_classes())
    assert imported == {"solvers/x.py": {"GroupLasso"}}
    assert checks == ["solvers/x.py:3"] and by_name == ["solvers/x.py:4", "solvers/x.py:5"]


def test_no_solver_dispatches_on_a_concrete_penalty_or_datafit():
    solvers = [(path, tree) for path, tree in _modules() if path.startswith("solvers/")]
    assert len(solvers) > 15
    imported, checks, by_name = _solver_offenses(solvers, _concrete_classes())
    assert checks == [] and by_name == [], (checks, by_name)
    extra = {p: sorted(c - _BUILDERS.get(p, set())) for p, c in imported.items() if c - _BUILDERS.get(p, set())}
    assert extra == {}, f"solver modules importing concrete classes beyond the known builders: {extra}"
    # and the list is exact: a builder that no longer imports a class leaves it (lambda_max's string forms went)
    assert imported == _BUILDERS, {p: _BUILDERS[p] - imported.get(p, set()) for p in _BUILDERS}
