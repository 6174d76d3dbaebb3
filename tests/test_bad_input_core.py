"""Bad-input suite, solver layer: structures, penalties, datafits, solvers, paths, estimators (issue 10).

One row per case; the shared assertion is :func:`tests._bad_input.assert_case`.
"""

import os
import sys

import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator

import structsparse as ss
from structsparse.exceptions import ParameterError, ShapeError, StructureError

sys.path.insert(0, os.path.dirname(__file__))
from _bad_input import OK, Case, assert_case  # noqa: E402

rng = np.random.default_rng(0)
A = rng.standard_normal((20, 8))
x_true = np.zeros(8)
x_true[[1, 5]] = [2.0, -3.0]
y = A @ x_true
y_bin = (y > 0).astype(float)
y_count = np.abs(np.round(y))
G = ss.Groups.from_sizes([2, 2, 2, 2])
T = ss.Tree.from_parents([-1, 0, 0, 1, 1, 2, 2, 3])
no_adjoint = LinearOperator((20, 8), matvec=lambda v: A @ v, dtype=float)

PENALTIES = {
    "L1": lambda lam: ss.L1(lam),
    "GroupLasso": lambda lam: ss.GroupLasso(G, lam),
    "SparseGroupLasso": lambda lam: ss.SparseGroupLasso(G, lam, 0.5),
    "TreeLasso": lambda lam: ss.TreeLasso(T, lam),
    "NuclearNorm": lambda lam: ss.NuclearNorm(lam, (2, 4)),
    "GroupNuclear": lambda lam: ss.GroupNuclear(ss.Groups.from_sizes([4, 4]), lam, 0.5, (2, 2)),
    "OverlapGroupLasso": lambda lam: ss.OverlapGroupLasso(ss.Groups.from_lists([[0, 1, 2], [2, 3]], n_features=8), lam),
    "LatentGroupLasso": lambda lam: ss.LatentGroupLasso(ss.Groups.from_lists([[0, 1, 2], [2, 3]], n_features=8), lam),
}
BAD_LAMS = {"negative": (-1.0, ParameterError), "nan": (float("nan"), ParameterError),
            "inf": (float("inf"), ParameterError), "string": ("0.1", TypeError),
            "none": (None, TypeError), "complex": (1 + 2j, TypeError)}

DATAFITS = {"LeastSquares": (ss.LeastSquares, y), "Logistic": (ss.Logistic, y_bin),
            "Huber": (ss.Huber, y), "Poisson": (ss.Poisson, y_count)}

CASES = []


def add(id, category, call, expect, names=(), **kw):
    CASES.append(Case(id, category, call, expect, names, **kw))


# ---- penalties: lam out of range or of the wrong type, for every penalty
for pname, make in PENALTIES.items():
    for lname, (lam, err) in BAD_LAMS.items():
        add(f"{pname}-lam-{lname}", "data types" if lname in ("string", "none", "complex") else "arguments",
            lambda make=make, lam=lam: make(lam), err, "lam")

# penalty-specific arguments
add("SGL-l1_ratio-1.5", "arguments", lambda: ss.SparseGroupLasso(G, 0.1, 1.5), ParameterError, "l1_ratio")
add("SGL-l1_ratio-nan", "arguments", lambda: ss.SparseGroupLasso(G, 0.1, float("nan")), ParameterError, "l1_ratio")
add("GroupLasso-groups-list", "data types", lambda: ss.GroupLasso([[0, 1], [2]], 0.1), OK,
    check=lambda p: p.groups.n_groups == 2 and np.isclose(p(np.array([3.0, 4.0, 1.0])), 0.1 * 6.0))
add("GroupLasso-groups-int", "data types", lambda: ss.GroupLasso(7, 0.1), TypeError, "groups")
add("GroupLasso-groups-string", "data types", lambda: ss.GroupLasso("abc", 0.1), TypeError, "groups")
add("GroupLasso-groups-tree", "data types", lambda: ss.GroupLasso(ss.Tree.from_parents([-1, 0, 0]), 0.1), TypeError, "groups")
add("OverlapGroupLasso-groups-string", "data types", lambda: ss.OverlapGroupLasso("abc", 0.1), TypeError, "groups")
add("LatentGroupLasso-groups-int", "data types", lambda: ss.LatentGroupLasso(3, 0.1), TypeError, "groups")
add("TreeLasso-tree-groups", "data types", lambda: ss.TreeLasso(G, 0.1), TypeError, "tree")
add("NuclearNorm-shape-string", "data types", lambda: ss.NuclearNorm(0.1, "ab"), TypeError, "shape")
add("NuclearNorm-shape-bad", "arguments", lambda: ss.NuclearNorm(0.1, (0, 4)), (ShapeError, ParameterError), "shape")
add("NuclearNorm-shape-1d", "arguments", lambda: ss.NuclearNorm(0.1, (8,)), (ShapeError, ParameterError), "shape")
add("GroupNuclear-rank_weight-2", "arguments",
    lambda: ss.GroupNuclear(ss.Groups.from_sizes([4, 4]), 0.1, 2.0, (2, 2)), ParameterError, "rank_weight")
add("GroupNuclear-shape-mismatch", "arguments",
    lambda: ss.GroupNuclear(ss.Groups.from_sizes([4, 4]), 0.1, 0.5, (3, 3)), (ShapeError, StructureError), "shape")
add("L1-prox-step-negative", "arguments", lambda: ss.L1(0.1).prox(np.ones(3), -1.0), ParameterError, "step")
add("L1-prox-complex", "data types", lambda: ss.L1(0.1).prox(np.ones(3) * 1j, 1.0), TypeError, "v")
add("L1-prox-object", "data types", lambda: ss.L1(0.1).prox(np.array([1, "a"], dtype=object), 1.0), TypeError, "v")
add("L1-prox-step-string", "data types", lambda: ss.L1(0.1).prox(np.ones(3), "1"), TypeError, "step")
add("GroupLasso-prox-wrong-length", "arguments", lambda: ss.GroupLasso(G, 0.1).prox(np.ones(5), 1.0), ShapeError, "v")
add("GroupLasso-value-wrong-length", "arguments", lambda: ss.GroupLasso(G, 0.1)(np.ones(5)), ShapeError, ("x", "v"))

# ---- structures
add("Groups-from_lists-out-of-range", "arguments", lambda: ss.Groups.from_lists([[0, 9]], n_features=4), StructureError, ("index", "n_features", "groups"))
add("Groups-from_lists-negative", "arguments", lambda: ss.Groups.from_lists([[0, -1]], n_features=4), StructureError, ("index", "negative", "groups"))
add("Groups-from_lists-empty-group", "empty", lambda: ss.Groups.from_lists([[0, 1], []], n_features=4), StructureError, ("empty", "group"))
add("Groups-from_lists-no-groups", "empty", lambda: ss.Groups.from_lists([], n_features=4), StructureError, ("group",))
add("Groups-from_lists-float-index", "data types", lambda: ss.Groups.from_lists([[0.5, 1]], n_features=4), TypeError, ("integer", "index", "groups"))
add("Groups-from_lists-string", "data types", lambda: ss.Groups.from_lists([["a", "b"]], n_features=4), TypeError, ("integer", "index", "groups"))
add("Groups-from_lists-not-a-list", "data types", lambda: ss.Groups.from_lists("abc", n_features=4), TypeError, "lists")
add("Groups-contiguous-float", "data types", lambda: ss.Groups.contiguous(6.5, 2), TypeError, "n_features")
add("Groups-from_sizes-zero", "empty", lambda: ss.Groups.from_sizes([2, 0, 2]), StructureError, "sizes")
add("Groups-from_sizes-negative", "arguments", lambda: ss.Groups.from_sizes([2, -1]), StructureError, "sizes")
add("Groups-from_sizes-float", "data types", lambda: ss.Groups.from_sizes([2.5, 2]), TypeError, "sizes")
add("Groups-contiguous-size-0", "arguments", lambda: ss.Groups.contiguous(n_features=10, size=0), (StructureError, ParameterError), "size")
add("Groups-contiguous-n-0", "empty", lambda: ss.Groups.contiguous(n_features=0, size=2), (StructureError, ParameterError), "n_features")
add("Groups-weights-negative", "arguments", lambda: ss.Groups.from_sizes([2, 2], weights=[1, -1]), (StructureError, ParameterError), "weights")
add("Groups-weights-length", "arguments", lambda: ss.Groups.from_sizes([2, 2], weights=[1, 1, 1]), (StructureError, ShapeError), "weights")
add("Groups-weights-nan", "arguments", lambda: ss.Groups.from_sizes([2, 2], weights=[1, float("nan")]), (StructureError, ParameterError, ShapeError), "weights")
add("Groups-weights-complex", "data types", lambda: ss.Groups.from_sizes([2, 2], weights=[1, 1j]), (StructureError, ParameterError, ShapeError, TypeError), "weights")
add("Tree-cycle", "arguments", lambda: ss.Tree.from_parents([1, 0]), StructureError, ("root", "cycle", "parents"))
add("Tree-two-roots", "arguments", lambda: ss.Tree.from_parents([-1, -1, 0]), StructureError, ("root", "parents"))
add("Tree-parent-out-of-range", "arguments", lambda: ss.Tree.from_parents([-1, 7]), StructureError, ("parent",))
add("Tree-empty", "empty", lambda: ss.Tree.from_parents([]), StructureError, ("parents", "empty", "node"))
add("Tree-self-parent", "arguments", lambda: ss.Tree.from_parents([-1, 1]), StructureError, ("parent", "cycle", "root"))
add("Tree-float-parents", "data types", lambda: ss.Tree.from_parents([-1, 0.5]), TypeError, "parents")
add("Tree-parents-none", "data types", lambda: ss.Tree.from_parents(None), TypeError, "parents")

# ---- prox kernels
add("prox-gst-tau-negative", "arguments", lambda: ss.prox.group_soft_threshold(np.ones(4), [[0, 1], [2, 3]], -1.0), ParameterError, "tau")
add("prox-gst-complex", "data types", lambda: ss.prox.group_soft_threshold(np.ones(4) * 1j, [[0, 1], [2, 3]], 1.0), TypeError, "v")
add("prox-gst-index-out", "arguments", lambda: ss.prox.group_soft_threshold(np.ones(4), [[0, 1], [2, 9]], 1.0), StructureError, ("index", "groups", "n_features"))
add("prox-soft-threshold-nan-tau", "arguments", lambda: ss.prox.soft_threshold(np.ones(4), float("nan")), ParameterError, ("tau", "threshold"))
add("prox-soft-threshold-string", "data types", lambda: ss.prox.soft_threshold(np.array(["a", "b"]), 1.0), TypeError, ("v", "x"))

# ---- datafits: types, empty and degenerate data, disagreeing sizes, operators without an adjoint
for dname, (cls, yy) in DATAFITS.items():
    add(f"{dname}-A-complex", "data types", lambda cls=cls, yy=yy: cls(A + 1j, yy), TypeError, "A")
    add(f"{dname}-A-none", "data types", lambda cls=cls, yy=yy: cls(None, yy), TypeError, "A")
    add(f"{dname}-A-dict", "data types", lambda cls=cls, yy=yy: cls({"A": 1}, yy), TypeError, "A")
    # an object array of numbers is valid (converted); one holding text is refused
    add(f"{dname}-A-object-numbers", "data types", lambda cls=cls, yy=yy: cls(A.astype(object), yy), OK,
        check=lambda d: d.A.dtype == np.float64 and np.array_equal(d.A, A))
    add(f"{dname}-A-object-text", "data types", lambda cls=cls, yy=yy: cls(np.where(A > 0, A, "x").astype(object), yy),
        TypeError, "A")
    add(f"{dname}-A-string", "data types", lambda cls=cls, yy=yy: cls(A.astype(str), yy), TypeError, "A")
    add(f"{dname}-y-complex", "data types", lambda cls=cls, yy=yy: cls(A, yy + 1j), TypeError, "y")
    add(f"{dname}-y-string", "data types", lambda cls=cls, yy=yy: cls(A, yy.astype(str)), TypeError, "y")
    add(f"{dname}-A-0-samples", "empty", lambda cls=cls: cls(np.zeros((0, 8)), np.zeros(0)), (ShapeError, ParameterError), ("A", "sample"))
    add(f"{dname}-A-0-features", "empty", lambda cls=cls, yy=yy: cls(np.zeros((20, 0)), yy), (ShapeError, ParameterError), ("A", "feature"))
    add(f"{dname}-y-length", "arguments", lambda cls=cls, yy=yy: cls(A, yy[:-1]), ShapeError, "y")
    add(f"{dname}-A-nan", "arguments", lambda cls=cls, yy=yy: cls(np.where(A > 1.5, np.nan, A), yy), ShapeError, "A")
    add(f"{dname}-A-1d", "arguments", lambda cls=cls, yy=yy: cls(A[:, 0], yy), ShapeError, "A")
    add(f"{dname}-A-operator-no-rmatvec", "operators", lambda cls=cls, yy=yy: cls(no_adjoint, yy), ParameterError, ("rmatvec", "adjoint"))
add("Logistic-y-not-binary", "arguments", lambda: ss.Logistic(A, y), ParameterError, "y")
add("Poisson-y-negative", "arguments", lambda: ss.Poisson(A, -y_count - 1), ParameterError, "y")
add("Huber-delta-0", "arguments", lambda: ss.Huber(A, y, delta=0.0), ParameterError, "delta")
add("LeastSquares-lipschitz-negative", "arguments", lambda: ss.LeastSquares(A, y, lipschitz=-1.0), ParameterError, "lipschitz")
add("LeastSquares-single-sample", "empty", lambda: ss.solve(ss.LeastSquares(A[:1], y[:1]), ss.L1(0.01)),
    OK, check=lambda r: np.all(np.isfinite(r.x)) and abs(A[0] @ r.x - y[0]) < abs(y[0]))
add("LeastSquares-constant-column", "empty",
    lambda: ss.solve(ss.LeastSquares(np.column_stack([A, np.zeros(20)]), y), ss.L1(0.1)), OK,
    check=lambda r: r.x[-1] == 0.0 and r.converged)


# ---- solvers: every entry point, arguments that disagree with the data
def ls():
    return ss.LeastSquares(A, y)


SOLVERS = {
    "solve": lambda loss, pen, **kw: ss.solve(loss, pen, **kw),
    "fista": lambda loss, pen, **kw: ss.fista(loss, pen, **kw),
    "solve_block": lambda loss, pen, **kw: ss.solve_block(loss, pen, **kw),
    "admm": lambda loss, pen, **kw: ss.admm(loss, pen, **kw),
    "solve_cvxpy": lambda loss, pen, **kw: ss.solve_cvxpy(loss, pen, **kw),
    "path": lambda loss, pen, **kw: ss.path(loss, pen, n_lams=3, **kw),
}
for sname, run in SOLVERS.items():
    add(f"{sname}-penalty-wrong-size", "arguments", lambda run=run: run(ls(), ss.GroupLasso(ss.Groups.from_sizes([3, 4]), 0.1)),
        (ShapeError, StructureError), ("penalty", "groups", "features"))
    add(f"{sname}-penalty-not-penalty", "data types", lambda run=run: run(ls(), 0.1), TypeError, "penalty")
    add(f"{sname}-datafit-array", "data types", lambda run=run: run(A, ss.L1(0.1)), TypeError, ("datafit", "loss"))
    if sname != "solve_cvxpy":
        add(f"{sname}-tol-negative", "arguments", lambda run=run: run(ls(), ss.L1(0.1), tol=-1.0), ParameterError, "tol")
    if sname not in ("path", "solve_cvxpy"):
        add(f"{sname}-x0-wrong-shape", "arguments", lambda run=run: run(ls(), ss.L1(0.1), x0=np.zeros(5)), ShapeError, "x0")
        add(f"{sname}-x0-complex", "data types", lambda run=run: run(ls(), ss.L1(0.1), x0=np.zeros(8) + 1j), TypeError, "x0")
    if sname in ("fista", "solve_block", "admm"):
        it = "max_outer" if sname == "solve_block" else "max_iter"  # solve_block's outer iterations
        add(f"{sname}-{it}-negative", "arguments", lambda run=run, it=it: run(ls(), ss.L1(0.1), **{it: -3}), ParameterError, it)
        add(f"{sname}-{it}-float", "data types", lambda run=run, it=it: run(ls(), ss.L1(0.1), **{it: 2.5}), TypeError, it)
        add(f"{sname}-tol-string", "data types", lambda run=run: run(ls(), ss.L1(0.1), tol="1e-6"), TypeError, "tol")
    if sname in ("fista", "solve_block", "admm"):
        add(f"{sname}-callback-not-callable", "data types", lambda run=run: run(ls(), ss.L1(0.1), callback=3), TypeError, "callback")
add("solve-unknown-solver", "arguments", lambda: ss.solve(ls(), ss.L1(0.1), solver="newtonish"), ParameterError, "solver")
add("solve-unknown-option", "arguments", lambda: ss.solve(ls(), ss.L1(0.1), solver="fista", max_iterations=3), ParameterError, "max_iterations")
add("solve-solver-not-a-string", "data types", lambda: ss.solve(ls(), ss.L1(0.1), solver=3), TypeError, "solver")
add("duality_gap-penalty-string", "data types", lambda: ss.duality_gap(ls(), "l1", np.zeros(8)), TypeError, "penalty")
for fname, fn in {"path": lambda **kw: ss.path(ls(), ss.L1(0.1), n_lams=3, **kw),
                  "cv_path": lambda **kw: ss.cv_path(A, y, ss.L1(0.1), n_lams=3, n_folds=2, **kw),
                  "solve_latent": lambda **kw: ss.solve_latent(ls(), ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6, 7]], 0.1), **kw),
                  "solve_cvxpy": lambda **kw: ss.solve_cvxpy(ls(), ss.L1(0.1), **kw)}.items():
    add(f"{fname}-unknown-option", "arguments", lambda fn=fn: fn(bogus_option=1), ParameterError, "bogus_option")
add("fista-step-negative", "arguments", lambda: ss.fista(ls(), ss.L1(0.1), step=-1.0), ParameterError, "step")
add("admm-rho-negative", "arguments", lambda: ss.admm(ls(), ss.L1(0.1), rho=-1.0), ParameterError, "rho")
add("admm-linear_solver-unknown", "arguments", lambda: ss.admm(ls(), ss.L1(0.1), linear_solver="magic"), ParameterError, "linear_solver")
add("check_triple-unknown", "arguments", lambda: ss.check_triple(ls(), ss.L1(0.1), "magic"), ParameterError, "solver")
add("lambda_max-unknown-kind", "arguments", lambda: ss.lambda_max(ls(), "l7"), ParameterError, "penalty")
add("lambda_max-groups-wrong-size", "arguments", lambda: ss.lambda_max(ls(), ss.GroupLasso(ss.Groups.from_sizes([3, 3]), 1.0)),
    (ShapeError, StructureError), "features")
add("duality_gap-x-wrong-length", "arguments", lambda: ss.duality_gap(ls(), ss.L1(0.1), np.zeros(5)), ShapeError, "x")
add("path-lams-negative", "arguments", lambda: ss.path(ls(), ss.L1(0.1), lams=[0.1, -1.0]), ParameterError, "lams")
add("path-lams-empty", "empty", lambda: ss.path(ls(), ss.L1(0.1), lams=[]), (ParameterError, ShapeError), "lams")
add("path-n_lams-0", "arguments", lambda: ss.path(ls(), ss.L1(0.1), n_lams=0), ParameterError, "n_lams")
add("path-eps-2", "arguments", lambda: ss.path(ls(), ss.L1(0.1), eps=2.0), ParameterError, "eps")
add("path-n_chunks-0", "arguments", lambda: ss.path(ls(), ss.L1(0.1), n_lams=3, n_chunks=0), ParameterError, "n_chunks")
add("cv_path-n_folds-1", "arguments", lambda: ss.cv_path(A, y, ss.L1(0.1), n_folds=1, n_lams=3), ParameterError, "n_folds")
add("cv_path-n_folds-more-than-samples", "sizes", lambda: ss.cv_path(A, y, ss.L1(0.1), n_folds=50, n_lams=3), ParameterError, "n_folds")
add("cv_path-y-length", "arguments", lambda: ss.cv_path(A, y[:-2], ss.L1(0.1), n_lams=3), ShapeError, "y")
add("cv_path-datafit-unknown", "arguments", lambda: ss.cv_path(A, y, ss.L1(0.1), n_lams=3, datafit="hinge"), ParameterError, "datafit")
add("cv_path-A-complex", "data types", lambda: ss.cv_path(A + 1j, y, ss.L1(0.1), n_lams=3), (ShapeError, ParameterError), "A")
add("lam_warmup-n_steps-0", "arguments", lambda: ss.lam_warmup(0.1, 0), ParameterError, "n_steps")
add("lam_warmup-kind-unknown", "arguments", lambda: ss.lam_warmup(0.1, 5, kind="cubic"), ParameterError, "kind")
add("lam_warmup-start_fraction-0", "arguments", lambda: ss.lam_warmup(0.1, 5, start_fraction=0.0), ParameterError, "start_fraction")
add("solve_latent-wrong-penalty", "arguments", lambda: ss.solve_latent(ls(), ss.L1(0.1)), (ParameterError, TypeError), ("penalty", "latent"))
add("solve_budget-budget-negative", "arguments", lambda: ss.solve_budget(ls(), G, [1, 1, 1, 1], -1.0), ParameterError, "budget")
add("solve_budget-costs-length", "arguments", lambda: ss.solve_budget(ls(), G, [1, 1], 1.0), ShapeError, "costs")
add("solve_budget-costs-negative", "arguments", lambda: ss.solve_budget(ls(), G, [1, -1, 1, 1], 1.0), ParameterError, "costs")
add("solve_budget-groups-wrong-size", "arguments", lambda: ss.solve_budget(ls(), ss.Groups.from_sizes([2, 2]), [1, 1], 1.0),
    (ShapeError, StructureError), ("groups", "features"))

# ---- numerical extremes: the correct answer or a clear error, never "x = 0, converged"


def _support_ok(r, scale=1.0):
    return set(np.flatnonzero(np.abs(r.x) > 1e-6 * np.abs(r.x).max())) == {1, 5} if np.any(r.x) else False


def _extreme(scale_A, lam_frac):
    As = A * scale_A
    loss = ss.LeastSquares(As, y)
    lam = lam_frac * ss.lambda_max(loss, ss.L1(1.0))
    return ss.solve(loss, ss.L1(lam), tol=1e-8)


for sname, scale in [("1e200", 1e200), ("1e-200", 1e-200), ("1e150", 1e150), ("1e-150", 1e-150)]:
    add(f"solve-A-scaled-{sname}", "numerical extremes", lambda s=scale: _extreme(s, 1e-3), (OK, ParameterError),
        ("A", "scale", "lam"), check=lambda r, s=scale: _support_ok(r) and np.allclose(r.x * s, x_true, rtol=1e-2, atol=1e-2))
add("solve-lam-1e-200", "numerical extremes", lambda: ss.solve(ss.LeastSquares(A, y), ss.L1(1e-200), tol=1e-8), OK,
    check=lambda r: np.allclose(r.x, x_true, atol=1e-5))
add("fista-lam-1e-200", "numerical extremes", lambda: ss.fista(ss.LeastSquares(A, y), ss.L1(1e-200), tol=1e-8, max_iter=20000), OK,
    check=lambda r: np.allclose(r.x, x_true, atol=1e-4))
add("solve-y-zero", "empty", lambda: ss.solve(ss.LeastSquares(A, np.zeros(20)), ss.L1(0.1)), OK,
    check=lambda r: np.all(r.x == 0) and r.converged)
add("solve-y-1e-300", "numerical extremes", lambda: ss.solve(ss.LeastSquares(A, y * 1e-300), ss.L1(1e-303)), (OK, ParameterError),
    ("y", "scale", "lam"), check=lambda r: np.allclose(r.x * 1e300, x_true, atol=1e-2))


# ---- estimators
def _est(name, **kw):
    return getattr(ss, name)(**kw)


X30 = rng.standard_normal((40, 30))
y30 = X30[:, 0] - X30[:, 3]
add("GroupLassoRegressor-groups-7-of-30", "arguments", lambda: _est("GroupLassoRegressor", groups=7).fit(X30, y30),
    (StructureError, ParameterError), "groups")
add("GroupLassoRegressor-groups-larger-than-X", "arguments",
    lambda: _est("GroupLassoRegressor", groups=ss.Groups.from_sizes([20, 20])).fit(X30, y30), (StructureError, ShapeError), "groups")
add("GroupLassoRegressor-lam-negative", "arguments", lambda: _est("GroupLassoRegressor", lam=-1.0, groups=5).fit(X30, y30), ParameterError, "lam")
add("GroupLassoRegressor-X-complex", "data types", lambda: _est("GroupLassoRegressor", groups=5).fit(X30 + 1j, y30), (ShapeError, ParameterError, ValueError), "X")
add("GroupLassoRegressor-X-empty", "empty", lambda: _est("GroupLassoRegressor", groups=5).fit(X30[:0], y30[:0]), (ShapeError, ParameterError, ValueError), ("X", "sample"))
add("GroupLassoRegressor-y-length", "arguments", lambda: _est("GroupLassoRegressor", groups=5).fit(X30, y30[:-1]), (ShapeError, ValueError), ("y", "sample"))
add("GroupLassoRegressor-X-string", "data types", lambda: _est("GroupLassoRegressor", groups=5).fit(np.where(X30 > 0, "a", "b").astype(object), y30), (ShapeError, ValueError, TypeError), "X")
add("SparseGroupLassoRegressor-l1_ratio-2", "arguments", lambda: _est("SparseGroupLassoRegressor", l1_ratio=2.0, groups=5).fit(X30, y30), ParameterError, "l1_ratio")
# documented defaults: no tree / no groups is the lasso; the fit must find the two true features
add("TreeLassoRegressor-no-tree", "arguments", lambda: _est("TreeLassoRegressor", lam=0.1).fit(X30, y30), OK,
    check=lambda m: set(np.flatnonzero(np.abs(m.coef_) > 0.1)) == {0, 3})
add("OverlapGroupLassoRegressor-no-groups", "arguments", lambda: _est("OverlapGroupLassoRegressor", lam=0.1).fit(X30, y30), OK,
    check=lambda m: set(np.flatnonzero(np.abs(m.coef_) > 0.1)) == {0, 3})
add("StructuredRegressor-penalty-unknown", "arguments", lambda: _est("StructuredRegressor", penalty="l7", lam=0.1).fit(X30, y30), (ParameterError, TypeError), "penalty")
add("StructuredRegressor-datafit-unknown", "arguments", lambda: _est("StructuredRegressor", penalty="l1", lam=0.1, datafit="hinge").fit(X30, y30), ParameterError, "datafit")
add("StructuredRegressor-tol-0", "arguments", lambda: _est("StructuredRegressor", penalty="l1", lam=0.1, tol=0.0).fit(X30, y30), ParameterError, "tol")
add("GroupLassoClassifier-one-class", "empty", lambda: _est("GroupLassoClassifier", groups=5).fit(X30, np.zeros(40)), (ParameterError, ValueError), ("class", "y"))
add("GroupLassoClassifier-y-float", "data types", lambda: _est("GroupLassoClassifier", groups=5).fit(X30, y30), (ParameterError, ValueError), ("y", "class", "label"))
add("GroupLassoRegressor-single-sample", "empty", lambda: _est("GroupLassoRegressor", groups=5, fit_intercept=False).fit(X30[:1], y30[:1]), OK,
    check=lambda m: np.all(np.isfinite(m.coef_)))
add("GroupLassoRegressor-predict-wrong-width", "arguments",
    lambda: _est("GroupLassoRegressor", groups=5).fit(X30, y30).predict(X30[:, :10]), (ShapeError, ValueError), ("X", "feature"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_core(case):
    assert_case(case)
