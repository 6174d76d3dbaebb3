"""SSNAL on a scipy.sparse lasso (solvers/_ssnal_sparse.py) and its trigger inside solve_block's subproblems.

The CSC kernel against its numpy twin and the definition; the method against cvxpy on lasso problems whose
columns hold one or two stored entries (many exactly collinear), through the sparse factorization and through
conjugate gradients, with its gap a true bound; its work budget; the trigger's decisions; and solve_block
reaching its tolerance through it, with the same iterates as before where the epochs converge fast.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse.solvers import _ssnal_sparse as S
from structsparse.solvers import working_set as ws_module
from structsparse.solvers._design_kernels import csr_rmatvec_numba, csr_rmatvec_numpy


def _collinear_design(seed, n=40, p=300):
    """Columns of one or two standard normal entries at random rows: columns on the same single row are collinear."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 3, size=p)
    rows = np.concatenate([np.sort(rng.choice(n, c, replace=False)) for c in counts])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csc_matrix((rng.standard_normal(indptr[-1]), rows, indptr), shape=(n, p)), rng.standard_normal(n)


def _lasso(seed, frac, n=40, p=300):
    A, y = _collinear_design(seed, n, p)
    loss = ss.LeastSquares(A, y)
    return loss, ss.L1(frac * ss.lambda_max(loss, ss.L1(1.0)))


def _objective(A, y, lam, x):
    return 0.5 * float(np.sum((A @ x - y) ** 2)) + lam * float(np.abs(x).sum())


def _assert_solves(loss, pen, res, rtol):
    A, y = loss.A, loss.y
    ref = ss.solve_cvxpy(loss, pen)
    P = _objective(A, y, pen.lam, res.x)
    np.testing.assert_allclose(P, ref.objective, rtol=rtol)
    np.testing.assert_allclose(res.residual, y - A @ res.x, atol=1e-10)
    # weak duality: the dual value never exceeds the optimum, and the gap bounds the suboptimality
    assert res.dual <= ref.objective * (1 + 1e-9)
    assert P - ref.objective <= res.gap + 1e-9 * ref.objective


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64, np.uint32])
def test_csc_combine_is_the_csr_product_on_the_same_arrays(index_dtype):
    # the solver's A coef on CSC columns: csr_rmatvec with the columns taken as rows
    A, _ = _collinear_design(0, n=30, p=80)
    coef = np.random.default_rng(1).standard_normal(80)
    coef[::3] = 0.0                          # the kernel skips the zero coefficients' columns
    rows, colptr = A.indices.astype(index_dtype), A.indptr.astype(index_dtype)
    fast = csr_rmatvec_numba(A.data, rows, colptr, coef, 30)
    np.testing.assert_allclose(fast, csr_rmatvec_numpy(A.data, rows, colptr, coef, 30), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(fast, A @ coef, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("use_numba", [True, False])
@pytest.mark.parametrize("frac", [0.3, 0.01])
@pytest.mark.parametrize("solver", ["factor", "cg"])
def test_ssnal_lasso_csc_matches_cvxpy_on_collinear_columns(monkeypatch, use_numba, frac, solver):
    if solver == "cg":
        monkeypatch.setattr(S, "_DIRECT_ROW_NNZ", -1)   # every Newton system by conjugate gradients
    loss, pen = _lasso(2, frac)
    A = loss.A
    res = S.ssnal_lasso_csc(A.data, A.indices, A.indptr, A.shape[0], np.full(A.shape[1], pen.lam), loss.y,
                            np.zeros(A.shape[1]), 1e-10, use_numba=use_numba)
    assert res.converged and res.newton > 0
    # (a factor preconditions the CG of the next steps; without one, CG with the Jacobi scaling only)
    assert (res.factorizations > 0) == (solver == "factor")
    assert solver == "factor" or res.cg_iterations > 0
    _assert_solves(loss, pen, res, 1e-8)


def test_ssnal_lasso_csc_weighted_from_a_warm_start_leaves_its_inputs_alone():
    cp = pytest.importorskip("cvxpy")
    loss, pen = _lasso(3, 0.05)
    A, y = loss.A, loss.y
    weights = np.linspace(0.5, 2.0, A.shape[1])
    x0 = ss.solve_block(loss, pen, tol=1e-2).x          # a warm start (for the unweighted problem)
    arrays = (A.data, A.indices, A.indptr, y, x0)
    copies = [a.copy() for a in arrays]
    res = S.ssnal_lasso_csc(A.data, A.indices, A.indptr, A.shape[0], pen.lam * weights, y, x0, 1e-10)
    assert res.converged
    for a, b in zip(arrays, copies):
        np.testing.assert_array_equal(a, b)
    z = cp.Variable(A.shape[1])
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ z - y) + pen.lam * (weights @ cp.abs(z))))
    problem.solve()
    P = 0.5 * float(np.sum((A @ res.x - y) ** 2)) + pen.lam * float(weights @ np.abs(res.x))
    np.testing.assert_allclose(P, problem.value, rtol=1e-7)
    assert P - problem.value <= res.gap + 1e-7 * problem.value


def test_ssnal_lasso_csc_stops_unconverged_past_its_work_budget():
    loss, pen = _lasso(4, 0.01)
    A = loss.A
    res = S.ssnal_lasso_csc(A.data, A.indices, A.indptr, A.shape[0], np.full(A.shape[1], pen.lam), loss.y,
                            np.zeros(A.shape[1]), 1e-12, work_budget=0.0)
    assert not res.converged and res.over_budget and res.newton == 1
    # its point and residual stay consistent, so the epochs can go on from them
    np.testing.assert_allclose(res.residual, loss.y - A @ res.x, atol=1e-10)


def _trigger(tol=1e-3, n=40):
    A, _ = _collinear_design(5, n=n, p=300)
    return S.SparseSsnalTrigger((A.data, A.indices, A.indptr), np.full(300, 0.1), n, tol)


def test_trigger_waits_for_its_epoch_budget_and_a_slow_rate():
    x = np.zeros(300)
    x[:30] = 1.0
    # a gap that halves every 10 epochs meets tol long before _MIN_TO_GO more epochs: never
    fast = _trigger()
    assert not any(fast.due(e, 1.0 * 0.5 ** (e / 10), x) for e in range(10, 2000, 10))
    # a gap that creeps down: not before _EPOCHS epochs, then yes (and once only)
    slow = _trigger()
    fired = [e for e in range(10, 1000, 10) if slow.due(e, 1.0 * 0.999 ** e, x)]
    assert fired and fired[0] == S._EPOCHS
    # a stalled gap (no rate) is left to the epochs
    stalled = _trigger()
    assert not any(stalled.due(e, 1.0, x) for e in range(10, 1000, 10))


def test_trigger_declines_when_newton_steps_cost_more_than_the_epochs_left():
    x = np.zeros(300)
    x[:30] = 1.0
    # the slow rate predicts about 400 epochs, which 2000 rows (a factor of at least n entries) do not pay for;
    # the same rate with 20 times more epochs to go does
    cheap = _trigger(tol=0.5, n=2000)
    assert not any(cheap.due(e, 0.999 ** e, x) for e in range(10, 1000, 10))
    far = _trigger(tol=0.5 * 0.999 ** 8000, n=2000)
    assert any(far.due(e, 0.999 ** e, x) for e in range(10, 1000, 10))
    dear = _trigger()
    dear.step_work = np.inf                       # (a Newton matrix too dense to factor)
    assert not any(dear.due(e, 0.999 ** e, x) for e in range(10, 1000, 10))


def _plateau_checks(drop_at, tol):
    """Gap checks every 10 epochs of a gap creeping down at 1e-4 per epoch (a plateau that predicts about 69 000
    epochs to ``tol``) until ``drop_at``, where it falls to twice ``tol`` (the support settled); ``None``: never."""
    for e in range(10, 3000, 10):
        if drop_at is not None and e >= drop_at:
            yield e, 2.0 * tol
            return
        yield e, 0.1 * np.exp(-1e-4 * e)


def test_trigger_waits_on_a_plateau_until_the_epochs_pay_for_a_newton_step(monkeypatch):
    x = np.zeros(300)
    x[:30] = 1.0
    tol = 1e-4
    # 5000 rows: a Newton step (an n x n factorization) costs hundreds of epochs over 445 stored entries
    price = _trigger(tol, n=5000)
    entries = float(price.Aws[2][-1])
    wait = price._step_work(x, entries) / entries
    assert S._EPOCHS + 50 < wait and S._STEPS * wait < 60_000 and S._HEDGE_STEPS == 1.0
    drop = int(wait) // 10 * 10       # the last check before the epochs paid for a step
    # the plateau ends by itself before the epochs paid for a step: the trigger never fires
    temporary = _trigger(tol, n=5000)
    assert not any(temporary.due(e, g, x) for e, g in _plateau_checks(drop, tol))
    # a plateau that persists: from the first check past the step's price
    persistent = _trigger(tol, n=5000)
    fired = [e for e, g in _plateau_checks(None, tol) if persistent.due(e, g, x)]
    assert fired[0] == drop + 10
    # without the wait (the rule before it), the temporary plateau fired at the epoch budget
    monkeypatch.setattr(S, "_HEDGE_STEPS", 0.0)
    eager = _trigger(tol, n=5000)
    assert [e for e, g in _plateau_checks(drop, tol) if eager.due(e, g, x)][0] == S._EPOCHS


def _force_trigger(monkeypatch):
    monkeypatch.setattr(S, "_EPOCHS", 20)
    monkeypatch.setattr(S, "_MIN_TO_GO", 0.0)
    monkeypatch.setattr(S, "_STEPS", 0.0)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_solve_block_reaches_tol_through_sparse_ssnal(monkeypatch, fmt):
    _force_trigger(monkeypatch)
    loss, pen = _lasso(6, 0.001, n=60, p=600)
    loss = ss.LeastSquares(loss.A.asformat(fmt), loss.y)
    fired = []
    real = S.SparseSsnalTrigger.run

    def run(self, Xw, R, Y):
        res = real(self, Xw, R, Y)
        fired.append(res.converged)
        return res

    monkeypatch.setattr(S.SparseSsnalTrigger, "run", run)
    res = ss.solve_block(loss, pen, tol=1e-9, gap_freq=10)
    assert any(fired) and res.converged   # (an SSNAL run met its subproblem's target)
    assert sum(res.history["ssnal_steps"]) > 0
    assert len(res.history["ssnal_steps"]) == len(res.history["epochs"])
    ref = ss.solve_cvxpy(loss, pen)
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-7)
    for obj, gap in zip(res.history["objective"], res.history["gap"]):
        assert obj - ref.objective <= gap + 1e-9 * ref.objective


def test_solve_block_epochs_go_on_when_sparse_ssnal_stops_short(monkeypatch):
    _force_trigger(monkeypatch)
    monkeypatch.setattr(S, "_BUDGET", 0.0)            # SSNAL stops before its first step
    loss, pen = _lasso(6, 0.001, n=60, p=600)
    res = ss.solve_block(loss, pen, tol=1e-9, gap_freq=10)
    assert res.converged
    np.testing.assert_allclose(res.objective, ss.solve_cvxpy(loss, pen).objective, rtol=1e-7)


def test_sparse_ssnal_leaves_fast_subproblems_bitwise_alone(monkeypatch):
    loss, pen = _lasso(7, 0.1, n=60, p=600)
    on = ss.solve_block(loss, pen, tol=1e-8)
    assert sum(on.history["ssnal_steps"]) == 0 and max(on.history["epochs"]) < S._EPOCHS
    monkeypatch.setattr(ws_module, "_SPARSE_SSNAL", False)
    off = ss.solve_block(loss, pen, tol=1e-8)
    np.testing.assert_array_equal(on.x, off.x)
    assert on.history["epochs"] == off.history["epochs"] and on.n_iter == off.n_iter
