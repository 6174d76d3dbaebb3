"""solve_block's Newton dual point: kernel twins, quality of the point, and the gap it gives stays a bound."""

import numpy as np
import pytest

import structsparse as ss
from structsparse.solvers import _block_kernels as K
from structsparse.solvers import working_set as ws_module
from structsparse.solvers._block_spec import block_columns, block_spec


def _problem(seed, n=60, p=200, size=5, kind="group", frac=0.05, k=None):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    y = rng.standard_normal(n) if k is None else rng.standard_normal((n, k))
    groups = ss.Groups.contiguous(p, size)
    loss = ss.LeastSquares(A, y)
    pen1 = {"l1": ss.L1(1.0), "group": ss.GroupLasso(groups, 1.0),
            "sparse_group": ss.SparseGroupLasso(groups, 1.0, 0.3)}[kind]
    return loss, pen1.with_lam(frac * ss.lambda_max(loss, pen1))


def _scaled_dual(A, Y, theta, spec):
    """Dual value of ``theta`` (k, n) scaled into the feasible set, and the largest scaled constraint ratio."""
    U = np.ascontiguousarray(A.T @ theta.T)
    s = K.group_dual_scaling_numpy(U, spec.idx, spec.ptr, spec.t1, spec.t2)
    scale = max(1.0, float(s.max()))
    after = K.group_dual_scaling_numpy(U / scale, spec.idx, spec.ptr, spec.t1, spec.t2)
    d = Y - theta / scale
    return 0.5 * float(np.vdot(Y, Y)) - 0.5 * float(np.vdot(d, d)), float(after.max())


def _assert_gaps_bound_suboptimality(history, best, tol_floor):
    for obj, gap in zip(history["objective"], history["gap"]):
        assert obj - best <= gap + tol_floor


@pytest.mark.parametrize("k", [1, 2])
def test_group_combinations_kernel_agrees_with_numpy_twin_and_definition(k):
    rng = np.random.default_rng(0)
    AT = rng.standard_normal((30, 17))                    # 30 stored columns of length 17
    rows = rng.permutation(30)[:12].astype(np.int64)     # the working set reads 12 of them, shuffled
    ptr = np.array([0, 1, 4, 4, 9, 12], dtype=np.int64)  # unequal groups, one empty
    C = rng.standard_normal((12, k))
    C[2] = 0.0
    W = K.group_combinations_dense_numba(AT, rows, ptr, C)
    np.testing.assert_allclose(W, K.group_combinations_dense_numpy(AT, rows, ptr, C), rtol=1e-13, atol=1e-13)
    for g in range(ptr.size - 1):
        a, b = ptr[g], ptr[g + 1]
        expect = (AT[rows[a:b]].T @ C[a:b]).T.ravel() if b > a else np.zeros(k * 17)   # A_g C_g, target by target
        np.testing.assert_allclose(W[g], expect, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["l1", "group", "sparse_group"])
@pytest.mark.parametrize("k", [None, 2])
def test_newton_point_rescaled_is_feasible_and_a_valid_bound_and_exact_for_the_lasso(kind, k):
    """From a residual of relative suboptimality ~1e-7 on the optimal support, the rescaled Newton point is
    feasible and its dual value stays below the optimum (weak duality). For the lasso (one target) the
    support's constraints are affine, so the point is the exact projection: 100x closer than the residual's."""
    loss, pen = _problem(1, kind=kind, k=k)
    A = loss.A
    best = ss.solve_block(loss, pen, tol=1e-13)
    spec = block_spec(pen, A.shape[1])
    Y = np.asarray(loss.y, dtype=float).reshape(A.shape[0], -1).T
    X_star = best.x.reshape(A.shape[1], -1)
    X = X_star * (1.0 - 3e-4)   # a nearly optimal point on the optimal support
    R = Y - (A @ X).T
    objective = 0.5 * float(np.vdot(R, R)) + spec.value(X)
    assert 1e-10 < (objective - best.objective) / best.objective < 1e-5
    support = np.flatnonzero(ws_module._nonzero_groups(X_star, spec.idx, spec.ptr))
    cols = block_columns(spec.idx, spec.ptr, support)
    sub_ptr = np.concatenate([[0], np.cumsum(spec.ptr[support + 1] - spec.ptr[support])]).astype(np.int64)
    U = np.ascontiguousarray(A.T @ R.T)
    theta = ws_module._newton_dual_point(np.ascontiguousarray(A.T), cols.astype(np.int64), sub_ptr, U[cols],
                                         spec.t1[support], spec.t2[support], Y, R)
    if kind == "l1" and k == 2:   # one constraint per entry: no block qualifies, no point
        assert theta is None
        return
    assert theta is not None and theta.shape == R.shape
    dual_newton, ratio_newton = _scaled_dual(A, Y, theta, spec)
    dual_residual, ratio_residual = _scaled_dual(A, Y, R, spec)
    assert ratio_newton <= 1 + 1e-12 and ratio_residual <= 1 + 1e-12     # feasible after the rescaling
    assert dual_newton <= best.objective + 1e-12 * best.objective       # weak duality: a valid bound
    if kind == "l1":
        assert best.objective - dual_newton <= 1e-2 * (best.objective - dual_residual)


@pytest.mark.parametrize("kind", ["l1", "group", "sparse_group"])
@pytest.mark.parametrize("k", [None, 2])
def test_gap_with_newton_points_bounds_the_true_suboptimality(monkeypatch, kind, k):
    """Every outer gap (Newton points on) is at least the suboptimality against a tol=1e-12 solve, at
    tolerances 1e-4 to 1e-8, and the Newton branch runs."""
    calls = []
    real = ws_module._newton_dual_point

    def counted(*args):
        calls.append(1)
        return real(*args)

    loss, pen = _problem(2, n=100, p=1000, kind=kind, frac=0.05, k=k)
    best = ss.solve_block(loss, pen, tol=1e-12).objective
    monkeypatch.setattr(ws_module, "_newton_dual_point", counted)
    for tol in (1e-4, 1e-6, 1e-8):
        res = ss.solve_block(loss, pen, tol=tol)
        assert res.converged and res.gap <= tol * res.objective
        _assert_gaps_bound_suboptimality(res.history, best, 1e-12 * best)
    assert calls


def test_an_infeasible_newton_point_is_rescaled_so_the_gap_stays_a_bound(monkeypatch):
    """A grossly infeasible point (y itself, whose unscaled dual value is P(0) > P*) must be rescaled: taken as
    it is, the gap would be negative and the solver would stop at once, far from the optimum."""
    loss, pen = _problem(3, n=100, p=1000, frac=0.05)
    best = ss.solve_block(loss, pen, tol=1e-12).objective
    Y = np.asarray(loss.y, dtype=float).reshape(1, -1)
    assert 0.5 * float(np.vdot(Y, Y)) > best * (1 + 1e-3)
    monkeypatch.setattr(ws_module, "_newton_dual_point", lambda *args: Y.copy())
    res = ss.solve_block(loss, pen, tol=1e-8)
    assert res.converged and res.objective - best <= 1e-8 * best
    _assert_gaps_bound_suboptimality(res.history, best, 1e-12 * best)


@pytest.mark.parametrize("kind", ["l1", "group", "sparse_group"])
def test_newton_points_certify_in_fewer_outer_iterations(monkeypatch, kind):
    """Same certified accuracy in fewer outer iterations (deterministic counts), never more."""
    loss, pen = _problem(2, n=100, p=1000, kind=kind, frac=0.05)
    best = ss.solve_block(loss, pen, tol=1e-12).objective
    fewer = 0
    for tol in (1e-4, 1e-6):
        runs = {}
        for on in (False, True):
            monkeypatch.setattr(ws_module, "_NEWTON_DUAL", on)
            runs[on] = ss.solve_block(loss, pen, tol=tol)
            assert runs[on].converged and runs[on].objective - best <= tol * best
            _assert_gaps_bound_suboptimality(runs[on].history, best, 1e-12 * best)
        assert runs[True].n_iter <= runs[False].n_iter
        fewer += runs[True].n_iter < runs[False].n_iter
    assert fewer >= 1


def test_working_set_gaps_are_checked_after_each_anderson_step(monkeypatch):
    """Phases of a subproblem smaller than the (screened) problem check their gap every _ANDERSON_K + 1 epochs
    (at most gap_freq); the whole problem's every gap_freq; without Anderson steps or for the lasso, every
    gap_freq. Both certify the same optimum."""
    loss, pen = _problem(2, n=100, p=1000, frac=0.05)
    best = ss.solve_block(loss, pen, tol=1e-12).objective
    seen = []
    real = ws_module._BlockSolver.solve_subproblem

    def record(self, ws, X, R, inner_tol, proj, phase_freq=None):
        seen.append((ws.size, phase_freq))
        return real(self, ws, X, R, inner_tol, proj, phase_freq=phase_freq)

    monkeypatch.setattr(ws_module._BlockSolver, "solve_subproblem", record)
    n_groups = pen.groups.n_groups
    for gap_freq in (10, 4):
        seen.clear()
        res = ss.solve_block(loss, pen, tol=1e-8, gap_freq=gap_freq)
        assert res.converged and res.objective - best <= 1e-8 * best
        _assert_gaps_bound_suboptimality(res.history, best, 1e-12 * best)
        expect = min(gap_freq, ws_module._ANDERSON_K + 1)
        assert any(freq == expect for _, freq in seen)   # (the whole problem left by screening may be smaller)
        for size, freq in seen:
            assert freq in (None, expect) and (freq is None or size < n_groups)
    for other, kwargs in ((pen, {"anderson": False}), (ss.L1(pen.lam), {})):   # no Anderson steps; the lasso
        seen.clear()
        ss.solve_block(loss, other, tol=1e-8, **kwargs)
        assert seen and all(freq is None for _, freq in seen)


# ---------------------------------------------------------------------------- the sparse lasso's Newton dual point
def _sparse_lasso(seed, fmt="csc", n=200, p=1000, density=0.02, frac=0.1):
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    A = sp.random(n, p, density=density, format="csc", random_state=seed, data_rvs=rng.standard_normal)
    y = rng.standard_normal(n)
    A = A.asformat(fmt)
    loss = ss.LeastSquares(A, y)
    return loss, ss.L1(frac * ss.lambda_max(loss, ss.L1(1.0)))


def _sparse_scaled_dual(A, y, theta, lam):
    """Dual value of ``theta`` scaled into the lasso's feasible set, and the largest ratio after the scaling."""
    ratio = float(np.abs(A.T @ theta).max()) / lam
    scale = max(1.0, ratio)
    d = y - theta / scale
    return 0.5 * float(y @ y) - 0.5 * float(d @ d), ratio / scale


@pytest.fixture
def newton_everywhere(monkeypatch):
    """The sparse Newton point's cost rules lifted, so that small test problems take it."""
    monkeypatch.setattr(ws_module, "_NEWTON_COST_SPARSE", 1e12)
    monkeypatch.setattr(ws_module, "_NEWTON_OVERHEAD", 0)


@pytest.mark.parametrize("use_numba", [True, False])
def test_sparse_lasso_point_is_feasible_below_the_optimum_and_the_exact_projection(use_numba):
    """From a residual near the optimum on the optimal support, the sparse point (numba kernels or numpy twins)
    rescaled is feasible, its dual value is at most P* (weak duality) and within 1 % of the residual's error;
    unscaled it is the projection of y onto the support's affine constraints (A_S^T theta = lam sign(x*_S))."""
    from structsparse.solvers._design_kernels import csc_gather_numpy
    from structsparse.solvers._newton_kernels import lasso_dual_point_sparse

    loss, pen = _sparse_lasso(4)
    A, y, lam = loss.A.tocsc(), np.asarray(loss.y, dtype=float), pen.lam
    best = ss.solve_block(loss, pen, tol=1e-13)
    x = best.x * (1.0 - 3e-4)
    r = y - A @ x
    objective = 0.5 * float(r @ r) + lam * float(np.abs(x).sum())
    assert 1e-10 < (objective - best.objective) / best.objective < 1e-5
    S = np.flatnonzero(best.x)
    data, rows, colptr = csc_gather_numpy(A.data, A.indices, A.indptr, S)
    r_before = r.copy()
    theta = lasso_dual_point_sparse(data, rows, colptr, A[:, S].T @ r, lam * np.sign(x[S]), r, use_numba=use_numba)
    np.testing.assert_array_equal(r, r_before)   # not modified
    AS = A[:, S].toarray()
    np.testing.assert_allclose(AS.T @ theta, lam * np.sign(x[S]), rtol=0, atol=1e-9 * lam)
    z = np.linalg.lstsq(AS, y, rcond=None)[0] - np.linalg.solve(AS.T @ AS, lam * np.sign(x[S]))
    np.testing.assert_allclose(theta, y - AS @ z, rtol=1e-8, atol=1e-10)
    dual_newton, ratio_newton = _sparse_scaled_dual(A, y, theta, lam)
    dual_residual, ratio_residual = _sparse_scaled_dual(A, y, r, lam)
    assert ratio_newton <= 1 + 1e-12 and ratio_residual <= 1 + 1e-12
    assert dual_newton <= best.objective + 1e-12 * best.objective
    assert best.objective - dual_newton <= 1e-2 * (best.objective - dual_residual)


def test_sparse_lasso_point_refuses_more_columns_than_rows():
    from structsparse.solvers._newton_kernels import lasso_dual_point_sparse

    rng = np.random.default_rng(0)
    n, m = 4, 6
    data = rng.standard_normal(2 * m)
    rows = np.tile(np.arange(2), m).astype(np.int64)
    colptr = np.arange(0, 2 * m + 1, 2, dtype=np.int64)
    assert lasso_dual_point_sparse(data, rows, colptr, np.ones(m), np.ones(m), np.ones(n)) is None


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_sparse_gaps_with_newton_points_bound_the_true_suboptimality(monkeypatch, newton_everywhere, fmt):
    """Every outer gap on a CSC or CSR design, Newton points on, is at least the suboptimality against a
    tol=1e-13 solve, at tolerances 1e-4 to 1e-8; both the outer and the subproblems' branches run."""
    calls = []
    real_point, real_inner = ws_module.lasso_dual_point_sparse, ws_module._BlockSolver._sparse_newton_gap

    def point(*args, **kwargs):
        calls.append("point")
        return real_point(*args, **kwargs)

    def inner(self, *args):
        calls.append("inner")
        return real_inner(self, *args)

    loss, pen = _sparse_lasso(0, fmt=fmt, n=200, p=2000, density=0.01, frac=0.05)
    best = ss.solve_block(loss, pen, tol=1e-13).objective
    monkeypatch.setattr(ws_module, "lasso_dual_point_sparse", point)
    monkeypatch.setattr(ws_module._BlockSolver, "_sparse_newton_gap", inner)
    for tol in (1e-4, 1e-6, 1e-8):
        res = ss.solve_block(loss, pen, tol=tol)
        assert res.converged and res.gap <= tol * res.objective and res.objective - best <= tol * best
        _assert_gaps_bound_suboptimality(res.history, best, 1e-12 * best)
    assert "inner" in calls and calls.count("point") > calls.count("inner")   # some from the outer gap


def test_an_infeasible_sparse_newton_point_is_rescaled_so_the_gap_stays_a_bound(monkeypatch, newton_everywhere):
    """y itself forced in as the sparse point (its unscaled dual value P(0) exceeds P*): rescaled, the gaps
    remain bounds and the solver stops only at the optimum."""
    loss, pen = _sparse_lasso(3, n=200, p=2000, density=0.01, frac=0.05)
    best = ss.solve_block(loss, pen, tol=1e-13).objective
    y = np.asarray(loss.y, dtype=float)
    assert 0.5 * float(y @ y) > best * (1 + 1e-3)
    monkeypatch.setattr(ws_module, "lasso_dual_point_sparse", lambda *args, **kwargs: y.copy())
    res = ss.solve_block(loss, pen, tol=1e-8)
    assert res.converged and res.objective - best <= 1e-8 * best
    _assert_gaps_bound_suboptimality(res.history, best, 1e-12 * best)


def _assert_off_and_on_certify(monkeypatch, flag, loss, pen, tol, best):
    """``solve_block`` with the working-set module's ``flag`` off, then on: both certified to ``tol`` of ``best``."""
    runs = {}
    for on in (False, True):
        monkeypatch.setattr(ws_module, flag, on)
        runs[on] = ss.solve_block(loss, pen, tol=tol)
        assert runs[on].converged and runs[on].objective - best <= tol * best
    return runs


def test_sparse_newton_points_certify_in_fewer_outer_iterations(monkeypatch, newton_everywhere):
    """Same certified accuracy in no more outer iterations and epochs (deterministic counts), fewer somewhere."""
    fewer = 0
    for seed in (0, 1):
        loss, pen = _sparse_lasso(seed, n=200, p=1000, density=0.02, frac=0.1)
        best = ss.solve_block(loss, pen, tol=1e-13).objective
        for tol in (1e-4, 1e-6):
            runs = _assert_off_and_on_certify(monkeypatch, "_NEWTON_DUAL_SPARSE", loss, pen, tol, best)
            assert runs[True].n_iter <= runs[False].n_iter
            assert sum(runs[True].history["epochs"]) <= sum(runs[False].history["epochs"])
            fewer += runs[True].n_iter < runs[False].n_iter
    assert fewer >= 2


def test_dense_designs_and_groups_never_take_the_sparse_point(monkeypatch, newton_everywhere):
    """The sparse point is the lasso's on scipy.sparse designs only: a dense design, groups or two targets on a
    sparse one do not call it (the dense path is unchanged)."""
    import scipy.sparse as sp

    def refuse(*args, **kwargs):
        raise AssertionError("the sparse Newton point was called")

    monkeypatch.setattr(ws_module, "lasso_dual_point_sparse", refuse)
    loss, pen = _sparse_lasso(0, n=200, p=1000, density=0.02, frac=0.1)
    A, y = loss.A, np.asarray(loss.y, dtype=float)
    assert ss.solve_block(ss.LeastSquares(A.toarray(), y), pen, tol=1e-8).converged
    groups = ss.Groups.contiguous(A.shape[1], 5)
    group_pen = ss.GroupLasso(groups, 0.1 * ss.lambda_max(loss, ss.GroupLasso(groups, 1.0)))
    assert ss.solve_block(loss, group_pen, tol=1e-8).converged
    Y = np.column_stack([y, np.roll(y, 1)])
    assert ss.solve_block(ss.LeastSquares(sp.csc_matrix(A), Y), pen, tol=1e-8).converged


def test_sparse_whole_problem_checks_its_gap_when_its_rate_predicts_the_target(monkeypatch):
    """The sparse lasso's whole-problem phase checks its gap when the gap's rate predicts the target: same
    certified accuracy, gaps still bounds, at most gap_freq epochs more on any run and fewer in all; the last
    phase stops off the gap_freq grid somewhere (the prediction is what ran)."""
    total = {False: 0, True: 0}
    off_grid = 0
    for seed in (0, 1):
        loss, pen = _sparse_lasso(seed, n=300, p=300, density=0.03, frac=0.003)
        best = ss.solve_block(loss, pen, tol=1e-13).objective
        for tol in (1e-6, 1e-8):
            runs = _assert_off_and_on_certify(monkeypatch, "_PREDICT_CHECKS", loss, pen, tol, best)
            for on in (False, True):
                _assert_gaps_bound_suboptimality(runs[on].history, best, 1e-12 * best)
                assert runs[on].history["ws_size"][-1] == 300   # the last subproblem is the whole problem
                total[on] += sum(runs[on].history["epochs"])
            assert sum(runs[True].history["epochs"]) <= sum(runs[False].history["epochs"]) + 10
            assert all(e % 10 == 0 for e in runs[False].history["epochs"])
            off_grid += runs[True].history["epochs"][-1] % 10 != 0
    assert total[True] < total[False] and off_grid >= 1


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_whole_problem_phase_targets_its_own_best_dual_value(monkeypatch, fmt):
    """The whole (screened) problem's phase stops once its gap is within tol of the dual value found at that check,
    not of the (lower) one found before the phase: fewer epochs in that last phase, the same outer iterations,
    every outer gap still a bound, and the result certified to tol of the optimum."""
    import scipy.sparse as sp

    fewer = 0
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        A = sp.random(1000, 1000, density=0.02, format="csc", random_state=seed, data_rvs=rng.standard_normal)
        y = A @ np.where(rng.random(1000) < 0.02, rng.standard_normal(1000), 0.0) + 0.1 * rng.standard_normal(1000)
        loss = ss.LeastSquares(A.asformat(fmt), y)
        pen = ss.L1(0.001 * ss.lambda_max(loss, ss.L1(1.0)))
        best = ss.solve_block(loss, pen, tol=1e-13).objective
        runs = _assert_off_and_on_certify(monkeypatch, "_CERTIFY_AT_PHASE_DUAL", loss, pen, 1e-6, best)
        for on in (False, True):
            _assert_gaps_bound_suboptimality(runs[on].history, best, 1e-12 * best)
            assert runs[on].history["ws_size"][-1] == 1000   # the last subproblem is the whole problem
        off, on = runs[False].history["epochs"], runs[True].history["epochs"]
        assert runs[True].n_iter == runs[False].n_iter and off[:-1] == on[:-1] and on[-1] <= off[-1]
        fewer += on[-1] < off[-1]
    assert fewer == 2


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_sparse_working_set_past_half_the_problem_becomes_the_whole_problem(monkeypatch, fmt):
    """A sparse lasso's working set of more than half the live columns is replaced by all of them: one outer
    iteration fewer, the same certified accuracy, gaps still bounds. A dense design runs exactly as before."""
    for seed in (0, 1):
        loss, pen = _sparse_lasso(seed, fmt=fmt, n=300, p=300, density=0.03, frac=0.003)
        best = ss.solve_block(loss, pen, tol=1e-13).objective
        for tol in (1e-6, 1e-8):
            runs = {}
            for frac in (0.0, 0.5):
                monkeypatch.setattr(ws_module, "_SPARSE_WHOLE_FRAC", frac)
                runs[frac] = res = ss.solve_block(loss, pen, tol=tol)
                assert res.converged and res.objective - best <= tol * best
                _assert_gaps_bound_suboptimality(res.history, best, 1e-12 * best)
            before, after = runs[0.0].history["ws_size"], runs[0.5].history["ws_size"]
            assert any(150 < m < 300 for m in before)                  # off: a working set past half ran
            assert not any(150 < m < 300 for m in after) and after[-1] == 300
            assert runs[0.5].n_iter == runs[0.0].n_iter - 1
    A = loss.A.toarray()
    dense = {}
    for frac in (0.0, 0.5):
        monkeypatch.setattr(ws_module, "_SPARSE_WHOLE_FRAC", frac)
        dense[frac] = ss.solve_block(ss.LeastSquares(A, np.asarray(loss.y)), pen, tol=1e-8)
    assert dense[0.0].history["ws_size"] == dense[0.5].history["ws_size"]
    np.testing.assert_array_equal(dense[0.0].x, dense[0.5].x)


def test_outer_newton_point_waits_until_the_gap_is_within_a_tenth_of_the_objective(monkeypatch, newton_everywhere):
    """At a loose tol (1e-2: 100x the target is the whole objective) the outer Newton point is not tried while the
    gap exceeds ``_NEWTON_GAP_SPARSE_MAX`` of the objective: fewer tries than without the cap, still certified; at
    tol <= 1e-3 the cap never binds (the same iterates, bitwise)."""
    state = {"inner": False, "outer": 0}
    real_point, real_inner = ws_module.lasso_dual_point_sparse, ws_module._BlockSolver._sparse_newton_gap

    def point(*args, **kwargs):
        state["outer"] += not state["inner"]
        return real_point(*args, **kwargs)

    def inner(self, *args):
        state["inner"] = True
        try:
            return real_inner(self, *args)
        finally:
            state["inner"] = False

    monkeypatch.setattr(ws_module, "lasso_dual_point_sparse", point)
    monkeypatch.setattr(ws_module._BlockSolver, "_sparse_newton_gap", inner)
    loss, pen = _sparse_lasso(0, n=200, p=2000, density=0.01, frac=0.05)
    best = ss.solve_block(loss, pen, tol=1e-13).objective
    runs, tries = {}, {}
    for cap in (np.inf, ws_module._NEWTON_GAP_SPARSE_MAX):
        monkeypatch.setattr(ws_module, "_NEWTON_GAP_SPARSE_MAX", cap)
        for tol in (1e-2, 1e-3, 1e-6):
            state["outer"] = 0
            runs[cap, tol] = res = ss.solve_block(loss, pen, tol=tol)
            tries[cap, tol] = state["outer"]
            assert res.converged and res.objective - best <= tol * best
    capped = ws_module._NEWTON_GAP_SPARSE_MAX
    assert tries[capped, 1e-2] < tries[np.inf, 1e-2]
    for tol in (1e-3, 1e-6):
        assert np.array_equal(runs[capped, tol].x, runs[np.inf, tol].x)
        assert runs[capped, tol].history["gap"] == runs[np.inf, tol].history["gap"]
        assert tries[capped, tol] == tries[np.inf, tol]
