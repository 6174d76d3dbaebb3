"""Noiseless convex recovery through the solver layer's continuation helper (issue 9 item 6, issue 13 item 3).

Judges: scipy's linear programming for basis pursuit, cvxpy (Clarabel) for group basis pursuit and the
tree-lasso program, closed forms for the certificate's ingredients.
"""

import warnings

import cvxpy as cp
import numpy as np
import pytest

import structsparse as ss
from structsparse import cs
from structsparse.exceptions import ConvergenceWarning, ParameterError
from structsparse.solvers.continuation import ContinuationResult, _gradient, continuation


def _tree_problem(n=128, m=48, seed=0):
    """A compressible (not sparse) signal in db2 wavelets: a smooth curve plus a jump."""
    model = cs.TreeSparse(n, 16, "db2")
    t = np.linspace(0, 1, n)
    signal = np.sin(6 * t) + (t > 0.6) + 0.3 * t ** 2
    coef = model.synthesis.analysis(signal)
    A = cs.as_matrix(cs.gaussian(m, n, rng=seed) @ model.synthesis)
    return A, coef, model


def test_basis_pursuit_matches_linear_programming_with_reported_gap():
    from scipy.optimize import linprog

    rng = np.random.default_rng(5)
    A = cs.as_matrix(cs.gaussian(30, 60, rng))
    y = A @ rng.standard_normal(60)  # dense x: the basis-pursuit solution is a vertex, not the signal
    res = continuation(A, y, ss.L1(1.0))
    lp = linprog(np.ones(120), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None), method="highs")
    assert res.converged and res.gap <= 1e-6 and res.residual <= 1e-9
    assert res.objective == pytest.approx(np.abs(res.x).sum())
    assert abs(res.objective - lp.fun) <= 1e-6 * lp.fun
    assert res.lower <= lp.fun * (1 + 1e-9)  # a true lower bound
    assert np.linalg.norm(A @ res.x - y) <= 1e-9 * np.linalg.norm(y)


def test_group_basis_pursuit_where_recovery_fails_matches_cvxpy():
    rng = np.random.default_rng(4)
    model = cs.BlockSparse(64, 4, 5)
    A = cs.as_matrix(cs.gaussian(30, 64, rng))
    x0 = model.sample(rng)
    y = A @ x0
    res = cs.recover(A, y, model, method="group_lasso")
    x = cp.Variable(64)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack([cp.norm(x[4 * g:4 * g + 4], 2) for g in range(16)]))),
                      [A @ x == y])
    prob.solve(solver=cp.CLARABEL)
    value = sum(np.linalg.norm(res.x[4 * g:4 * g + 4]) for g in range(16))
    assert res.converged and res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9
    assert abs(value - prob.value) <= 1e-6 * prob.value
    assert res.info["lower_bound"] <= prob.value * (1 + 1e-7)
    assert np.linalg.norm(res.x - x.value) < 1e-3 * np.linalg.norm(x.value)
    assert res.relative_error(x0) > 1e-2  # really a failure case: the program, not the signal, is checked


def test_noiseless_tree_lasso_on_a_compressible_signal_matches_cvxpy():
    A, coef, model = _tree_problem()
    y = A @ coef
    res = cs.recover(A, y, model, method="tree_lasso")
    pen = ss.TreeLasso(model.tree(), 1.0)
    x = cp.Variable(coef.size)
    prob = cp.Problem(cp.Minimize(pen.cvxpy_omega(x)), [A @ x == y])
    prob.solve(solver=cp.CLARABEL)
    assert res.converged
    assert res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9
    assert res.info["objective"] == pytest.approx(pen.omega(res.x), rel=1e-12)
    assert abs(res.info["objective"] - prob.value) <= 2e-6 * prob.value
    assert res.info["lower_bound"] <= prob.value * (1 + 1e-7)
    assert res.residual_norm <= 1e-8 * np.linalg.norm(y)


def test_exactly_block_sparse_signal_is_certified_and_exact():
    # well inside the success region (M = 150 for 32 nonzeros in blocks): the least-squares certificate holds
    model = cs.BlockSparse(256, 8, 4)
    A = cs.as_matrix(cs.gaussian(150, 256, rng=0))
    x0 = model.sample(rng=1)
    res = cs.recover(A, A @ x0, model, method="group_lasso")
    assert res.converged and res.info["certified"] and "certified" in res.message
    assert res.info["gap"] <= 1e-12 and res.relative_error(x0) < 1e-10
    # the certificate proves optimality: no feasible point of a smaller group norm exists (cvxpy agrees)
    x = cp.Variable(256)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack([cp.norm(x[8 * g:8 * g + 8], 2) for g in range(32)]))),
                      [A @ x == A @ x0])
    prob.solve(solver=cp.CLARABEL)
    assert res.info["objective"] <= prob.value * (1 + 1e-7)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["l1", "group_lasso"])
def test_converged_point_carries_no_rounding_dust(method, seed):
    # a feasible point corrected on every column ties the sparse optimum to rounding (~1e-16 entries everywhere);
    # the returned point must be the sparse one, so that its support is the solution's
    rng = np.random.default_rng(seed)
    model = cs.BlockSparse(256, 8, 4)
    A = cs.gaussian(110, 256, rng)
    x0 = model.sample(rng)
    res = cs.recover(A, A @ x0, model, method=method)
    assert res.converged and res.relative_error(x0) < 1e-6
    nz = res.x[res.x != 0]
    assert np.all(np.abs(nz) > 1e-9 * np.max(np.abs(nz)))
    assert res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9


@pytest.mark.parametrize("method", ["l1", "tree_lasso"])
def test_stopping_early_returns_converged_false_and_warns(method):
    A, coef, model = _tree_problem()
    y = A @ coef
    with pytest.warns(ConvergenceWarning, match="stages"):
        x, info = (cs.convex.tree_basis_pursuit(A, y, ss.TreeLasso(model.tree(), 1.0), max_stages=1)
                   if method == "tree_lasso" else
                   cs.convex.group_basis_pursuit(A, y, cs.Sparse(A.shape[1], 1).groups(), max_stages=1))
    assert info["converged"] is False and not info["certified"]
    # both tolerances of the constrained program are reported, and they say why it stopped
    assert info["gap"] > 1e-6 or info["residual"] > 1e-9
    assert np.isfinite(info["residual"]) and info["residual"] == pytest.approx(
        np.linalg.norm(A @ x - y) / np.linalg.norm(y), rel=1e-6, abs=1e-15)


def test_recover_reports_convergence_warning_through_the_public_entry_point():
    A, coef, model = _tree_problem()
    with pytest.warns(ConvergenceWarning):
        res = cs.recover(A, A @ coef, model, method="tree_lasso", max_iter=5)
    assert res.converged is False
    assert "budget" in res.message and res.info["gap"] > 0


def test_gradient_of_a_sum_of_group_norms_matches_finite_differences():
    tree = ss.Tree.from_parents([-1, 0, 0, 1, 1, 2, 2])
    pen = ss.TreeLasso(tree, 1.0)
    parts = pen.norm_groups(7)
    x = np.random.default_rng(0).standard_normal(7)
    g = _gradient(x, tuple(np.asarray(p) for p in parts))
    h = 1e-6
    fd = np.array([(pen.omega(x + h * e) - pen.omega(x - h * e)) / (2 * h) for e in np.eye(7)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    assert g @ x == pytest.approx(pen.omega(x))  # homogeneity: the certificate's y^T u = Omega(x)


def test_continuation_does_not_modify_inputs_and_rejects_bad_arguments():
    A, coef, model = _tree_problem(n=64, m=32)
    y = A @ coef
    A0, y0 = A.copy(), y.copy()
    res = continuation(A, y, ss.TreeLasso(model.tree(), 1.0))
    assert isinstance(res, ContinuationResult) and "ContinuationResult(" in repr(res)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(y, y0)
    with pytest.raises(ParameterError, match="gap_tol"):
        continuation(A, y, ss.L1(1.0), gap_tol=-1)
    with pytest.raises(ParameterError, match="ratio"):
        continuation(A, y, ss.L1(1.0), ratio=1.5)
    with pytest.raises(ParameterError, match="'y'"):
        continuation(A, np.c_[y, y], ss.L1(1.0))
    zero = continuation(A, np.zeros_like(y), ss.L1(1.0))
    assert zero.converged and not np.any(zero.x)


def test_no_own_solver_loop_left_in_cs_convex():
    """The front end asks the solver layer: no FISTA loop, power iteration or duality gap of its own."""
    import inspect

    src = inspect.getsource(cs.convex)
    for banned in ("_group_lasso_stage", "_power_norm_sq", "_norm_sq_bound", "np.linalg.lstsq", "reduceat",
                   "import structsparse"):
        assert banned not in src
    assert "continuation(" in src and "solve(" in src


def test_real_signal_ecg_tree_lasso_converges():
    pywt = pytest.importorskip("pywt")
    n = 256
    signal = np.asarray(pywt.data.ecg(), float)[::4]
    model = cs.TreeSparse(n, 20, "db4")
    coef = model.synthesis.analysis(signal)
    A = cs.as_matrix(cs.gaussian(80, n, rng=3) @ model.synthesis)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it must finish, not warn
        res = cs.recover(A, A @ coef, model, method="tree_lasso")
    assert res.converged and res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9


def test_time_limit_stops_a_stage_inside_its_solver():
    """``time_limit`` reaches the stage's solver through its callback: a limit already spent stops the first
    stage at its first check, instead of letting the stage run to its own tolerance."""
    A, coef, model = _tree_problem()
    y = A @ coef
    pen = ss.TreeLasso(model.tree(), 1.0)
    full = continuation(A, y, pen, warn=False, max_stages=1)
    seen = []
    with pytest.warns(ConvergenceWarning, match="time limit"):
        cut = continuation(A, y, pen, max_stages=5, time_limit=1e-9,
                           callback=lambda k, x, info: seen.append(k) and False)
    assert cut.n_stages == 1 and not cut.converged
    assert len(seen) == 1  # the user's callback still runs, and the deadline stopped the solver after it
    assert cut.n_iter < full.n_iter


def test_operator_supports_beyond_half_the_rows_are_not_polished(monkeypatch):
    """With a LinearOperator, restricted least squares is iterative and ill-conditioned near square supports
    (it took thousands of LSQR steps at N = 2^16): supports over m/2 columns are not polished, and recovery
    still reaches the exact solution through the correction on every column."""
    from scipy.sparse.linalg import aslinearoperator

    from structsparse.solvers import continuation as cont

    sizes = []
    real = cont.restricted_lstsq

    def spy(A, r, S, *args, **kwargs):
        sizes.append(len(S))
        return real(A, r, S, *args, **kwargs)

    monkeypatch.setattr(cont, "restricted_lstsq", spy)
    rng = np.random.default_rng(5)
    m, n = 40, 120
    A = rng.standard_normal((m, n))
    x0 = np.zeros(n)
    x0[:8] = rng.standard_normal(8)
    y = A @ x0
    res = continuation(aslinearoperator(A), y, ss.L1(1.0))
    assert sizes and all(2 * s <= m or s == n for s in sizes)  # n: the correction on every column
    assert res.residual <= 1e-6
    np.testing.assert_allclose(res.x, x0, atol=1e-5)


def _dct_problem(m, n, k, group, seed, signal=False):
    """A PartialDCT operator, its dense matrix, and measurements of a k-block-sparse signal (blocks of ``group``);
    with ``signal``, the signal instead of the dense matrix."""
    rng = np.random.default_rng(seed)
    A = cs.partial_dct(m, n, rng=rng)
    x0 = np.zeros(n)
    for g in rng.choice(n // group, k, replace=False):
        x0[g * group:(g + 1) * group] = rng.standard_normal(group)
    return A, (x0 if signal else A.columns(np.arange(n))), A @ x0


def _group_penalty(n, group):
    if group == 1:
        return ss.L1(1.0)
    return ss.GroupLasso(ss.Groups.from_lists([list(range(i, i + group)) for i in range(0, n, group)]), 1.0)


def _counting(A, columns=True):
    """A LinearOperator that applies ``A`` and counts the vectors it was applied to (forward and adjoint);
    with ``columns``, it offers ``A``'s closed-form ``columns`` (counted apart)."""
    from scipy.sparse.linalg import LinearOperator

    class Counting(LinearOperator):
        def __init__(self):
            super().__init__(float, A.shape)
            self.products = 0
            self.built = 0

        def _matvec(self, x):
            self.products += 1
            return A.matvec(x)

        def _rmatvec(self, r):
            self.products += 1
            return A.rmatvec(r)

        def _matmat(self, X):
            self.products += X.shape[1]
            return A.matmat(X)

    op = Counting()
    if columns:
        def cols(idx):
            op.built += len(idx)
            return A.columns(idx)
        op.columns = cols
    return op


def test_partial_dct_columns_are_its_products_with_unit_vectors():
    """The closed form of PartialDCT's columns equals the transform applied to unit vectors (any n, row 0
    kept or not), in the order asked, and bad indices raise a ShapeError naming 'idx'."""
    for m, n, seed in ((3, 7, 0), (40, 100, 1), (256, 1024, 2)):
        A = cs.partial_dct(m, n, rng=seed)
        idx = np.random.default_rng(seed).permutation(n)[: n // 2]
        E = np.zeros((n, idx.size))
        E[idx, np.arange(idx.size)] = 1.0
        np.testing.assert_allclose(A.columns(idx), A.matmat(E), rtol=0, atol=1e-14)
    A = cs.partial_dct(8, 16, rng=0)
    for bad in ([16], [-1], [[1, 2]], [0.5]):
        with pytest.raises(ss.ShapeError, match="'idx'"):
            A.columns(bad)


@pytest.mark.parametrize("group, k", [(1, 8), (4, 4)])
def test_operator_stages_on_a_dense_working_set_match_the_dense_matrix(group, k):
    """On an operator with l1 / group norms, stages run block coordinate descent on dense working-set columns
    when the race says so: the same solution as on the dense matrix, the optimal value of the linear program
    for l1, and a working set smaller than the design."""
    from scipy.optimize import linprog

    m, n = 64, 256
    A, D, y = _dct_problem(m, n, k, group, seed=3)
    pen = _group_penalty(n, group)
    op = continuation(A, y, pen, gap_tol=1e-8)
    dense = continuation(D, y, pen, gap_tol=1e-8)
    assert op.working_set < n and dense.working_set == 0
    assert op.converged and dense.converged
    assert op.residual <= 1e-9
    np.testing.assert_allclose(op.x, dense.x, atol=1e-6)
    if group == 1:
        lp = linprog(np.ones(2 * n), A_eq=np.hstack([D, -D]), b_eq=y, bounds=(0, None), method="highs")
        assert abs(op.objective - lp.fun) <= 1e-6 * lp.fun


@pytest.mark.parametrize("group, k", [(1, 30), (4, 12)])
def test_operator_bounds_bracket_the_optimum_where_recovery_fails(group, k):
    """Where recovery fails (30 nonzeros / 12 blocks from 64 rows) the working sets near m/2 columns give way to
    FISTA on the whole operator, whose stages stall near the optimum; whatever the stages ran, the run's
    bounds hold: lower <= the optimum <= objective (the linear program's value for l1; for groups, the bounds of
    a converged run on the dense matrix, which bracket the same optimum), and the reported gap is their
    relative difference."""
    from scipy.optimize import linprog

    m, n = 64, 256
    A, D, y = _dct_problem(m, n, k, group, seed=3)
    pen = _group_penalty(n, group)
    op = continuation(A, y, pen, warn=False)
    if group == 1:
        low = high = linprog(np.ones(2 * n), A_eq=np.hstack([D, -D]), b_eq=y, bounds=(0, None), method="highs").fun
    else:
        dense = continuation(D, y, pen, gap_tol=1e-8)
        assert dense.converged
        low, high = dense.lower, dense.objective
    assert op.residual <= 1e-9
    assert op.lower <= high * (1 + 1e-9) and low <= op.objective * (1 + 1e-9)
    assert op.gap == pytest.approx((op.objective - op.lower) / op.objective, rel=1e-9)
    assert op.gap <= 1e-4  # near the optimum all the same


def test_operator_run_on_working_sets_reports_its_solver_and_is_certified():
    """A small recoverable problem (12 nonzeros, 128 rows of the DCT of size 512): after the first stage (FISTA)
    the stages fit the race's budget, so the run reports solve_block and its working set, and the dense
    working-set columns give the operator run an exact certificate, at the dense matrix's optimum."""
    A, D, y = _dct_problem(128, 512, 12, 1, seed=0)
    pen = ss.L1(1.0)
    op = continuation(A, y, pen)
    dense = continuation(D, y, pen)
    assert op.solver == "solve_block" and 0 < op.working_set < 512
    assert op.certified and op.gap <= 1e-9
    assert op.objective == pytest.approx(dense.objective, rel=1e-9)
    np.testing.assert_allclose(op.x, dense.x, atol=1e-8)


def test_operator_working_set_past_its_size_cap_falls_back_to_the_whole_operator(monkeypatch):
    """Past the cap on the dense block (m * columns entries) the stages run FISTA on the whole operator, with the
    same answer."""
    from structsparse.solvers import continuation as cont

    A, D, y = _dct_problem(64, 256, 8, 1, seed=4)
    small = continuation(A, y, ss.L1(1.0))
    monkeypatch.setattr(cont, "_WS_MAX_ENTRIES", 64 * 5)
    capped = continuation(A, y, ss.L1(1.0))
    assert small.working_set > 0
    assert capped.solver == "fista" and capped.working_set == 0
    assert small.converged and capped.converged
    np.testing.assert_allclose(capped.x, small.x, atol=1e-6)


def test_working_set_stage_gives_up_before_spending_when_columns_cost_more_than_its_budget():
    """The race's decision on a stage built for it: from a point with 40 nonzeros, on an operator without
    closed-form columns (one product a column), a budget below the support's 40 columns gives up at once,
    with no product made and no column built (the caller's FISTA gets the point back); a budget that covers
    the columns, the check and the predicted epochs solves the stage on the working set, building only the
    working set's columns, within the budget."""
    from structsparse.solvers.continuation import _group_parts, _WorkingSetStages

    m, n = 256, 1024
    A, D, y = _dct_problem(m, n, 40, 1, seed=7)
    lam = 0.01 * float(np.max(np.abs(A.rmatvec(y))))
    ref = ss.solve(ss.LeastSquares(D, y), ss.L1(lam), tol=1e-12).x
    assert np.count_nonzero(ref) >= 40
    start = np.where(np.abs(ref) >= np.sort(np.abs(ref))[-40], ref, 0.0)  # 40 nonzeros
    op = _counting(A, columns=False)
    stages = _WorkingSetStages(op, ss.L1(1.0), _group_parts(ss.L1(1.0), n))
    x, n_iter, _, done = stages(y, lam, start, D @ start, 1e-12, {}, lambda: False, budget=40.0)
    assert not done and n_iter == 0 and np.array_equal(x, start)
    assert op.products == 0 and stages.count == 0
    # an ample budget: the stage is solved on its working set, building only the working set's columns
    x, n_iter, name, done = stages(y, lam, start, D @ start, 1e-12, {}, lambda: False, budget=1000.0)
    assert done and name == "solve_block" and n_iter > 0 and stages.spent <= 1000.0
    assert stages.count == stages.largest < n and op.products >= stages.count
    np.testing.assert_allclose(x, ref, atol=1e-6)


def test_race_falls_back_to_fista_when_unit_vector_columns_cost_more():
    """The same problem (80 nonzeros, 1024 rows of the DCT of size 16384) on two operators: with the partial
    DCT's closed-form columns (1/16 of a product each) the later stages run on working sets, while building
    the columns from unit vectors (a product each) costs more than FISTA's products, and that run ends on FISTA
    on the whole operator, its products within 1.25 times those of FISTA alone (the race's bound on attempts
    given up is a quarter of FISTA's products). All recover the signal (the unique solution)."""
    A, x0, y = _dct_problem(1024, 16384, 80, 1, seed=8, signal=True)
    cheap, dear, alone = _counting(A, columns=True), _counting(A, columns=False), _counting(A, columns=False)
    fast = continuation(cheap, y, ss.L1(1.0))
    slow = continuation(dear, y, ss.L1(1.0))
    ref = continuation(alone, y, ss.L1(1.0), solver="fista")  # a named solver: no working sets
    assert fast.solver == "solve_block" and cheap.built >= fast.working_set > 0
    assert slow.solver == "fista" and dear.built == 0 and ref.working_set == 0
    assert cheap.products < dear.products <= 1.25 * alone.products
    for res in (fast, slow, ref):
        assert res.converged
        np.testing.assert_allclose(res.x, x0, atol=1e-6)


def test_working_set_stage_solves_the_whole_penalized_problem():
    """One stage on a working set is the solution of the full penalized problem: its optimality conditions
    (||A^T r||_inf <= lam, and A_j^T r = lam sign(x_j) on the support) hold on every column of the operator."""
    from structsparse.solvers.continuation import _group_parts, _WorkingSetStages

    A, D, y = _dct_problem(64, 256, 10, 1, seed=5)
    omega = ss.L1(1.0)
    stages = _WorkingSetStages(A, omega, _group_parts(omega, 256))
    lam = 0.05 * float(np.max(np.abs(A.rmatvec(y))))
    x, n_iter, name, done = stages(y, lam, np.zeros(256), np.zeros(64), 1e-12, {}, lambda: False)
    assert done and name == "solve_block" and n_iter > 0 and 0 < stages.largest < 256
    g = D.T @ (y - D @ x)
    assert np.max(np.abs(g)) <= lam * (1 + 1e-5)
    on = x != 0
    np.testing.assert_allclose(g[on], lam * np.sign(x[on]), rtol=1e-5)
    ref = ss.solve(ss.LeastSquares(D, y), ss.L1(lam), tol=1e-12)
    np.testing.assert_allclose(x, ref.x, atol=1e-6)
