"""The semismooth Newton augmented Lagrangian method (solvers/_ssnal.py) and its place in solve_block.

Kernels against their numpy twins and definitions; the Newton matrix against a finite-difference Jacobian of
the group prox; the method against cvxpy, with its gap a true bound, in both linear-algebra branches (more
active columns than rows, and fewer); solve_block's switch to it and the epochs that take over when it stops
short.
"""

import numpy as np
import pytest

import structsparse as ss
from structsparse.solvers import _ssnal_kernels as K
from structsparse.solvers import working_set as ws_module
from structsparse.solvers._ssnal import ssnal_group_least_squares


def _group_prox(u, ptr, thr):
    v = u.copy()
    for g in range(ptr.size - 1):
        a, b = ptr[g], ptr[g + 1]
        nrm = np.linalg.norm(u[a:b])
        v[a:b] = 0.0 if nrm <= thr[g] else (1.0 - thr[g] / nrm) * u[a:b]
    return v


def _problem(seed, n=30, p=120, size=6, frac=0.01, weights=None):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    y = rng.standard_normal(n)
    groups = ss.Groups.contiguous(p, size, weights=weights)
    loss = ss.LeastSquares(A, y)
    pen1 = ss.GroupLasso(groups, 1.0)
    return loss, pen1.with_lam(frac * ss.lambda_max(loss, pen1)), groups


def _layout(A, groups, thresholds, rng=None):
    """(AT, rows, ptr) reading the groups' columns from A.T, in a shuffled storage order when rng is given."""
    p = A.shape[1]
    perm = np.arange(p) if rng is None else rng.permutation(p)
    AT = np.ascontiguousarray(A.T[perm])          # stored row i is column perm[i]
    where = np.empty(p, dtype=np.int64)
    where[perm] = np.arange(p)
    cols = np.concatenate([np.asarray(groups[g]) for g in range(groups.n_groups)])
    ptr = np.concatenate([[0], np.cumsum([len(groups[g]) for g in range(groups.n_groups)])]).astype(np.int64)
    return AT, where[cols].astype(np.int64), ptr, cols, np.asarray(thresholds, dtype=float)


def _assert_twins_agree(AT, rows, ptr, active, sqrt_alpha, w, d, coef):
    n = AT.shape[1]
    np.testing.assert_allclose(K.ssnal_products_numba(AT, rows, d), K.ssnal_products_numpy(AT, rows, d),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(K.ssnal_combine_numba(AT, rows, coef, n), K.ssnal_combine_numpy(AT, rows, coef, n),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(K.ssnal_factor_rows_numba(AT, rows, ptr, active, sqrt_alpha, w),
                               K.ssnal_factor_rows_numpy(AT, rows, ptr, active, sqrt_alpha, w),
                               rtol=1e-12, atol=1e-12)


def test_kernels_agree_with_numpy_twins_and_definitions():
    rng = np.random.default_rng(0)
    AT = rng.standard_normal((40, 13))                    # 40 stored columns of length 13
    rows = rng.permutation(40)[:17].astype(np.int64)     # the working set reads 17 of them, shuffled
    ptr = np.array([0, 1, 5, 9, 17], dtype=np.int64)     # unequal blocks, one singleton
    d = rng.standard_normal(13)
    coef = rng.standard_normal(17)
    coef[5:9] = 0.0
    active = np.array([0, 1, 3], dtype=np.int64)
    sqrt_alpha = rng.uniform(0.1, 0.9, 3)
    w = rng.standard_normal(17)
    _assert_twins_agree(AT, rows, ptr, active, sqrt_alpha, w, d, coef)
    A_ws = AT[rows].T                                    # (13, 17)
    np.testing.assert_allclose(K.ssnal_products_numba(AT, rows, d), A_ws.T @ d, rtol=1e-12)
    np.testing.assert_allclose(K.ssnal_combine_numba(AT, rows, coef, 13), A_ws @ coef, rtol=1e-12, atol=1e-12)
    Ct = K.ssnal_factor_rows_numba(AT, rows, ptr, active, sqrt_alpha, w)
    assert Ct.shape == (1 + 4 + 8, 13)
    # row block k is L_g A_g^T with L_g = s I + (1 - s) w_g w_g^T: C C^T = sum_g A_g L_g^2 A_g^T
    expect = np.zeros((13, 13))
    for k, g in enumerate(active):
        a, b = ptr[g], ptr[g + 1]
        s, wg = sqrt_alpha[k], w[a:b]
        L = s * np.eye(b - a) + (1 - s) * np.outer(wg, wg)
        expect += A_ws[:, a:b] @ L @ L @ A_ws[:, a:b].T
    np.testing.assert_allclose(Ct.T @ Ct, expect, rtol=1e-11, atol=1e-11)


def test_newton_matrix_is_the_prox_jacobian_seen_through_the_design():
    """A P A^T from the kernel equals A J A^T with J the finite-difference Jacobian of the group prox at u."""
    rng = np.random.default_rng(3)
    n, sizes = 9, [1, 3, 4, 2]
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    m = ptr[-1]
    AT = rng.standard_normal((m, n))
    rows = np.arange(m, dtype=np.int64)
    u = rng.standard_normal(m) * 2.0
    thr = np.array([0.5, 1.0, 100.0, 0.7])            # block 2 is inactive (its norm is far below 100)
    norms = np.array([np.linalg.norm(u[ptr[g]:ptr[g + 1]]) for g in range(4)])
    active = np.flatnonzero(norms > thr).astype(np.int64)
    assert list(active) == [0, 1, 3]
    w = np.concatenate([u[ptr[g]:ptr[g + 1]] / norms[g] for g in range(4)])
    Ct = K.ssnal_factor_rows_numba(AT, rows, ptr, active, np.sqrt(1 - thr[active] / norms[active]), w)
    eps = 1e-6
    J = np.empty((m, m))
    for j in range(m):
        e = np.zeros(m)
        e[j] = eps
        J[:, j] = (_group_prox(u + e, ptr, thr) - _group_prox(u - e, ptr, thr)) / (2 * eps)
    A = AT.T
    np.testing.assert_allclose(Ct.T @ Ct, A @ J @ A.T, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("use_numba", [True, False])
@pytest.mark.parametrize("frac, shuffled", [(0.01, False), (0.01, True), (0.7, False)])
def test_ssnal_matches_cvxpy_and_its_gap_is_a_bound(use_numba, frac, shuffled):
    """frac 0.01: the support has more coefficients than rows (the n x n Newton systems); 0.7: few active
    columns (the m x m Woodbury branch). Weighted groups; columns read in a shuffled storage order."""
    weights = np.linspace(0.5, 2.0, 20)
    loss, pen, groups = _problem(1, frac=frac, weights=weights)
    A, y = loss.A, loss.y
    AT, rows, ptr, cols, _ = _layout(A, groups, np.zeros(20), np.random.default_rng(2) if shuffled else None)
    thr = pen.lam * weights
    ref = ss.solve_cvxpy(loss, pen)
    res = ssnal_group_least_squares(AT, rows, ptr, thr, y, np.zeros(cols.size), 1e-10, use_numba=use_numba)
    assert res.converged and res.newton > 0
    x = np.zeros(A.shape[1])
    x[cols] = res.x
    P = 0.5 * np.sum((A @ x - y) ** 2) + pen(x)
    np.testing.assert_allclose(P, ref.objective, rtol=1e-7)
    np.testing.assert_allclose(res.residual, y - A @ x, atol=1e-10)
    # weak duality: the dual value never exceeds the optimum, and the gap bounds the suboptimality
    assert res.dual <= ref.objective * (1 + 1e-8)
    assert P - ref.objective <= res.gap + 1e-8 * ref.objective
    support = sum(ptr[g + 1] - ptr[g] for g in range(20) if np.linalg.norm(res.x[ptr[g]:ptr[g + 1]]) > 0)
    if frac == 0.01:
        assert support > A.shape[0]       # the regime it is for: more nonzero coefficients than rows
    else:
        assert support < A.shape[0]


def test_ssnal_singleton_blocks_solve_the_lasso():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((25, 60))
    y = rng.standard_normal(25)
    loss = ss.LeastSquares(A, y)
    pen = ss.L1(0.05 * ss.lambda_max(loss, ss.L1(1.0)))
    ref = ss.solve_cvxpy(loss, pen)
    ptr = np.arange(61, dtype=np.int64)
    res = ssnal_group_least_squares(np.ascontiguousarray(A.T), np.arange(60, dtype=np.int64), ptr,
                                    np.full(60, pen.lam), y, np.zeros(60), 1e-11)
    assert res.converged
    np.testing.assert_allclose(0.5 * np.sum((A @ res.x - y) ** 2) + pen(res.x), ref.objective, rtol=1e-8)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-4)


def test_ssnal_does_not_modify_its_inputs_and_stops_unconverged_at_its_step_budget():
    loss, pen, groups = _problem(5)
    AT, rows, ptr, cols, _ = _layout(loss.A, groups, np.zeros(20))
    x0 = np.random.default_rng(0).standard_normal(cols.size) * 0.01
    copies = [a.copy() for a in (AT, rows, ptr, x0)]
    thr = np.full(20, pen.lam)
    res = ssnal_group_least_squares(AT, rows, ptr, thr, loss.y, x0, 1e-14, max_newton=2)
    assert not res.converged and res.newton == 2
    for a, b in zip((AT, rows, ptr, x0), copies):
        np.testing.assert_array_equal(a, b)
    # its point and residual stay consistent, so a solver can go on from them
    np.testing.assert_allclose(res.residual, loss.y - loss.A[:, cols] @ res.x, atol=1e-10)


def _solve_block_forced(monkeypatch, loss, pen, tol, **kw):
    monkeypatch.setattr(ws_module, "_SSNAL_EPOCHS", -1.0)   # every eligible whole problem goes to SSNAL
    monkeypatch.setattr(ws_module, "_SSNAL_COST", 0.0)
    return ss.solve_block(loss, pen, tol=tol, **kw)


@pytest.mark.parametrize("order", ["F", "C"])
def test_solve_block_switches_to_ssnal_on_an_underdetermined_support_and_certifies(monkeypatch, order):
    loss, pen, groups = _problem(6, n=40, p=400, size=10, frac=0.003)
    A = np.asfortranarray(loss.A) if order == "F" else np.ascontiguousarray(loss.A)
    loss = ss.LeastSquares(A, loss.y)
    ref = ss.solve_cvxpy(loss, pen)
    res = _solve_block_forced(monkeypatch, loss, pen, 1e-9)
    assert res.converged and sum(res.history["ssnal_steps"]) > 0
    assert np.count_nonzero(res.x) > A.shape[0]
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-7)
    # every outer gap bounds the suboptimality (the SSNAL dual point enters the best dual value)
    for obj, gap in zip(res.history["objective"], res.history["gap"]):
        assert obj - ref.objective <= gap + 1e-9 * ref.objective
    assert len(res.history["ssnal_steps"]) == len(res.history["epochs"])


def test_solve_block_epochs_take_over_when_ssnal_stops_short(monkeypatch):
    loss, pen, groups = _problem(6, n=40, p=400, size=10, frac=0.003)
    real = ws_module.ssnal_group_least_squares

    def two_steps(*args, **kwargs):
        return real(*args, **{**kwargs, "max_newton": 2})

    monkeypatch.setattr(ws_module, "ssnal_group_least_squares", two_steps)
    res = _solve_block_forced(monkeypatch, loss, pen, 1e-9)
    ref = ss.solve_cvxpy(loss, pen)
    assert res.converged
    steps, epochs = res.history["ssnal_steps"], res.history["epochs"]
    assert any(s == 2 and e > 0 for s, e in zip(steps, epochs))   # Newton steps, then epochs, one subproblem
    np.testing.assert_allclose(res.objective, ref.objective, rtol=1e-7)


def test_solve_block_keeps_epochs_where_ssnal_does_not_apply(monkeypatch):
    """Sparse-group blocks (an l1 and an l2 part), several targets and unpenalized features stay with epochs."""
    rng = np.random.default_rng(7)
    A = rng.standard_normal((40, 400))
    groups = ss.Groups.contiguous(400, 10)
    cases = [(ss.LeastSquares(A, rng.standard_normal(40)), ss.SparseGroupLasso(groups, 1.0, 0.3)),
             (ss.LeastSquares(A, rng.standard_normal((40, 2))), ss.GroupLasso(groups, 1.0)),
             (ss.LeastSquares(A, rng.standard_normal(40)),
              ss.GroupLasso(ss.Groups.from_lists([np.arange(10 * g, 10 * g + 10) for g in range(39)], n_features=400),
                            1.0))]
    for loss, pen1 in cases:
        pen = pen1.with_lam(0.003 * ss.lambda_max(loss, pen1))
        res = _solve_block_forced(monkeypatch, loss, pen, 1e-8)
        assert res.converged and sum(res.history["ssnal_steps"]) == 0


def test_solve_block_keeps_epochs_where_newton_steps_would_cost_more(monkeypatch):
    """The same eligible problem: it switches when forced; not when its n x n matrices would pass half the
    design's size (n > p / 2), nor when the predicted epochs to go are fewer than ~30 Newton steps' cost."""
    loss, pen, groups = _problem(6, n=40, p=400, size=10, frac=0.003)
    assert sum(_solve_block_forced(monkeypatch, loss, pen, 1e-9).history["ssnal_steps"]) > 0
    monkeypatch.setattr(ws_module, "_SSNAL_ROWS", 0.09)     # n = 40 > 0.09 * 400
    assert sum(ss.solve_block(loss, pen, tol=1e-9).history["ssnal_steps"]) == 0
    monkeypatch.setattr(ws_module, "_SSNAL_ROWS", 0.5)
    monkeypatch.setattr(ws_module, "_SSNAL_COST", 1e9)
    res = ss.solve_block(loss, pen, tol=1e-9)
    assert res.converged and sum(res.history["ssnal_steps"]) == 0


def test_chunks_cover_the_active_blocks_in_order():
    from structsparse.solvers._ssnal import _chunks
    sizes = np.array([3, 5, 2, 7, 1, 4])
    active = np.array([0, 1, 3, 5])
    for columns in (1, 4, 8, 100):
        parts = _chunks(active, sizes, columns)
        np.testing.assert_array_equal(np.concatenate([active[s] for s in parts]), active)
        # every chunk but the last reaches the column count, and none but a single block passes it by a block
        for s in parts[:-1]:
            assert sizes[active[s]].sum() >= min(columns, sizes[active[s]].sum())
            assert sizes[active[s]][:-1].sum() < columns


def test_newton_matrix_by_chunks_gives_the_same_iterates(monkeypatch):
    from structsparse.solvers import _ssnal
    loss, pen, groups = _problem(1, frac=0.01)
    AT, rows, ptr, cols, _ = _layout(loss.A, groups, np.zeros(20))
    thr = np.full(20, pen.lam)
    whole = ssnal_group_least_squares(AT, rows, ptr, thr, loss.y, np.zeros(cols.size), 1e-10)
    monkeypatch.setattr(_ssnal, "_CHUNK_COLUMNS", 1)      # chunks of n = 30 columns: several per step
    chunked = ssnal_group_least_squares(AT, rows, ptr, thr, loss.y, np.zeros(cols.size), 1e-10)
    assert whole.newton == chunked.newton and chunked.converged
    np.testing.assert_allclose(chunked.x, whole.x, rtol=1e-9, atol=1e-12)
