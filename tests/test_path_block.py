"""The path's solver state (structsparse/solvers/_path_block.py): same certified answers as per-lam solve_block."""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse.exceptions import ParameterError
from structsparse.solvers import _path_block
from structsparse.solvers._path_block import (
    BlockPath, chol_append_numba, chol_append_numpy, chol_delete_numba, chol_delete_numpy, chol_forward_numpy,
    chol_solve_numba,
    chol_solve_numpy, cholesky_small_numba, cholesky_small_numpy, homotopy_numba, homotopy_numpy, polish_numba,
    polish_numpy,
)
from structsparse.solvers.path import lam_grid


def _problem(n=60, p=120, k=None, seed=0, order="C"):
    rng = np.random.default_rng(seed)
    A = np.asarray(rng.standard_normal((n, p)), order=order)
    x = np.zeros((p,) if k is None else (p, k))
    x[rng.choice(p, 8, replace=False)] = rng.standard_normal((8,) + x.shape[1:]) * 2
    y = A @ x + 0.3 * rng.standard_normal((n,) + x.shape[1:])
    return A, y


def _per_lam(monkeypatch, loss, pen, lams, tol):
    """The path as it was: one solve_block call per lam from the previous solution."""
    with monkeypatch.context() as m:
        m.setattr(_path_block, "applies", lambda *a: False)
        return ss.path(loss, pen, lams=lams, tol=tol)


@pytest.mark.parametrize("kernel", [chol_delete_numba, chol_delete_numpy])
@pytest.mark.parametrize("k", [0, 5, 18, 19])
def test_cholesky_delete_is_the_factor_without_that_feature(kernel, k):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((40, 20))
    G = A.T @ A
    L = np.linalg.cholesky(G)
    kernel(L, 20, k)
    keep = [i for i in range(20) if i != k]
    np.testing.assert_allclose(L[:19, :19], np.linalg.cholesky(G[np.ix_(keep, keep)]), atol=1e-12)
    assert not np.any(L[19])


def test_cholesky_delete_twins_agree():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((50, 30))
    L = np.linalg.cholesky(A.T @ A)
    a, b = L.copy(), L.copy()
    for m, k in ((30, 3), (29, 28), (28, 0), (27, 13)):
        chol_delete_numba(a, m, k)
        chol_delete_numpy(b, m, k)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def _buffer_factor(seed=4, m=35, cap=48):
    """A Gram matrix and its lower factor in the leading block of a larger buffer (garbage above the diagonal)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((60, m))
    G = A.T @ A
    L = rng.standard_normal((cap, cap))          # the kernels must read only the lower part of L[:m, :m]
    L[:m, :m] = np.tril(np.linalg.cholesky(G)) + np.triu(rng.standard_normal((m, m)), 1)
    return G, L, rng


@pytest.mark.parametrize("kernel", [chol_solve_numba, chol_solve_numpy])
def test_cholesky_solve_on_a_buffer_solves_the_gram_system(kernel):
    G, L, rng = _buffer_factor()
    b = rng.standard_normal(35)
    b0 = b.copy()
    x = kernel(L, 35, b)
    np.testing.assert_allclose(G @ x, b, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(b, b0)


def test_forward_substitution_on_a_buffer():
    G, L, rng = _buffer_factor()
    M = rng.standard_normal((6, 35))
    out = chol_forward_numpy(L, 35, M)
    np.testing.assert_allclose(np.tril(L[:35, :35]) @ out.T, M.T, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kernel", [cholesky_small_numba, cholesky_small_numpy])
def test_small_cholesky_factors_and_refuses_an_indefinite_matrix(kernel):
    rng = np.random.default_rng(6)
    B = rng.standard_normal((9, 30))
    S = B @ B.T
    L, ok = kernel(S)
    assert ok
    np.testing.assert_allclose(L @ L.T, S, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(L, np.tril(L))
    assert not kernel(S - 2 * np.linalg.eigvalsh(S)[0] * np.eye(9))[1]
    assert not kernel(np.zeros((3, 3)))[1]


def test_small_cholesky_twins_agree():
    rng = np.random.default_rng(7)
    B = rng.standard_normal((6, 20))
    np.testing.assert_allclose(cholesky_small_numba(B @ B.T)[0], cholesky_small_numpy(B @ B.T)[0], rtol=1e-12)


def test_triangular_twins_agree():
    G, L, rng = _buffer_factor(seed=5)
    b, M = rng.standard_normal(35), rng.standard_normal((3, 35))
    np.testing.assert_allclose(chol_solve_numba(L, 35, b), chol_solve_numpy(L, 35, b), rtol=1e-11)


def _append_case(seed, m=30, q=4, n=50):
    """A factor of the Gram of m columns (rows of AT, in a scrambled order) in a buffer, and q columns to append."""
    rng = np.random.default_rng(seed)
    AT = rng.standard_normal((3 * (m + q), n))
    rows = rng.permutation(AT.shape[0])[:m + q].astype(np.int64)
    old, new = rows[:m], rows[m:]
    L = np.zeros((m + q + 5, m + q + 5))
    if m:
        L[:m, :m] = np.linalg.cholesky(AT[old] @ AT[old].T)
    L[:m, m:] = rng.standard_normal((m, L.shape[0] - m))   # garbage above the factor: the append clears it
    return AT, L, old, new


@pytest.mark.parametrize("kernel", [chol_append_numba, chol_append_numpy])
@pytest.mark.parametrize("m, q", [(30, 4), (30, 1), (0, 3), (1, 1), (1, 4), (31, 5), (30, 6), (30, 11), (30, 15), (0, 15),
                                  (30, 50), (0, 50)])
# 4, 5, 6, 11, 15: new columns four at a time against old ones two at a time (31: one old left), the rest one by one;
# 50: the gemm branch
def test_cholesky_append_is_the_factor_with_the_new_columns(kernel, m, q):
    AT, L, old, new = _append_case(8, m, q, n=200)
    assert kernel(L, m, AT, old, new)
    both = np.concatenate([old, new])
    np.testing.assert_allclose(L[:m + q, :m + q], np.linalg.cholesky(AT[both] @ AT[both].T), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kernel", [chol_append_numba, chol_append_numpy])
def test_cholesky_append_refuses_a_zero_column_and_leaves_the_factor(kernel):
    AT, L, old, new = _append_case(9, 30, 2)
    AT[new[1]] = 0.0                                         # a zero column: the Gram matrix is singular
    before = L.copy()
    assert not kernel(L, 30, AT, old, new)
    np.testing.assert_array_equal(L, before)


@pytest.mark.parametrize("q", [5, 8, 15, 50])
def test_cholesky_append_twins_agree(q):
    a = _append_case(10, 30, q, n=200)   # 30 + q columns of length 200: independent
    b = _append_case(10, 30, q, n=200)
    assert chol_append_numba(a[1], 30, a[0], a[2], a[3]) and chol_append_numpy(b[1], 30, b[0], b[2], b[3])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-11, atol=1e-12)


def _homotopy_case(seed):
    """A signed support of 12 features (the last 3 entering at zero with random signs) and its Gram factor."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((40, 12))
    y = rng.standard_normal(40)
    lam = 0.3 * np.abs(A.T @ y).max()
    xs = np.concatenate([rng.standard_normal(9) * 0.5, np.zeros(3)])
    sign = np.concatenate([np.sign(xs[:9]), rng.choice([-1.0, 1.0], 3)])
    L = np.zeros((16, 16))
    L[:12, :12] = np.linalg.cholesky(A.T @ A)
    order = np.arange(12, dtype=np.int64) * 3
    return A, y, lam, L, xs, sign, order


def _objective(A, y, lam, feats, coef):
    return 0.5 * np.sum((y - A[:, feats] @ coef) ** 2) + lam * np.abs(coef).sum()


@pytest.mark.parametrize("kernel", [homotopy_numba, homotopy_numpy])
@pytest.mark.parametrize("seed", range(6))
def test_homotopy_lands_on_the_signed_minimizer_of_what_is_left(kernel, seed):
    A, y, lam, L, xs, sign, order = _homotopy_case(seed)
    start = _objective(A, y, lam, np.arange(12), xs)
    b, w = A.T @ y, np.full(12, lam)
    rows, pos = order + 1, np.arange(12, dtype=np.int64)
    m, status = kernel(L, 12, b.copy(), w, xs, sign, order, rows, pos, 64)
    assert status == 1 and 0 < m <= 12
    feats = pos[:m]
    np.testing.assert_array_equal(order[:m], 3 * feats)      # the arrays moved together
    np.testing.assert_array_equal(rows[:m], 3 * feats + 1)
    G = A[:, feats].T @ A[:, feats]
    np.testing.assert_allclose(L[:m, :m], np.linalg.cholesky(G), atol=1e-10)   # the factor follows the support
    # the whole step: the minimizer of the quadratic on the orthant of the remaining signs, inside that orthant
    np.testing.assert_allclose(G @ xs[:m], b[feats] - lam * sign[:m], rtol=1e-9, atol=1e-9)
    assert np.all(np.sign(xs[:m]) == sign[:m])
    # every step went downhill from the start
    assert _objective(A, y, lam, feats, xs[:m]) <= start + 1e-12


def test_homotopy_twins_agree():
    for seed in range(6):
        out = []
        for kernel in (homotopy_numba, homotopy_numpy):
            A, y, lam, L, xs, sign, order = _homotopy_case(seed)
            rows, pos = order + 1, np.arange(12, dtype=np.int64)
            m, status = kernel(L, 12, A.T @ y, np.full(12, lam), xs, sign, order, rows, pos, 64)
            out.append((m, status, pos[:m].copy(), xs[:m].copy(), L[:m, :m].copy()))
        (m1, s1, p1, x1, L1), (m2, s2, p2, x2, L2) = out
        assert (m1, s1) == (m2, s2)
        np.testing.assert_array_equal(p1, p2)
        np.testing.assert_allclose(x1, x2, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(L1, L2, rtol=1e-10, atol=1e-12)


def test_homotopy_stops_after_max_steps_with_a_consistent_support():
    A, y, lam, L, xs, sign, order = _homotopy_case(0)
    xs[:3] = 0.0
    sign[:9] = -np.sign(xs[:9])                        # the nonzero ones point the wrong way: one leaves per step
    sign[:3] = np.sign(A[:, :3].T @ y)
    rows, pos = order + 1, np.arange(12, dtype=np.int64)
    m, status = homotopy_numba(L, 12, A.T @ y, np.full(12, lam), xs, sign, order, rows, pos, 2)
    assert status == 0 and m < 12
    feats = pos[:m]
    np.testing.assert_allclose(L[:m, :m], np.linalg.cholesky(A[:, feats].T @ A[:, feats]), atol=1e-10)


@pytest.mark.parametrize("kernel", [homotopy_numba, homotopy_numpy])
def test_homotopy_drops_every_zero_sent_the_wrong_way_in_one_step(kernel):
    """Coordinates at zero whose signs the minimizer does not keep all leave at the first step (the point stays)."""
    A, y, lam, L, xs, sign, order = _homotopy_case(1)
    xs[:] = 0.0
    sign[:] = -np.sign(A.T @ y)                          # at zero, every sign against the correlation
    z = np.linalg.solve(A.T @ A, A.T @ y - lam * sign)
    keep = np.flatnonzero(np.sign(z) == sign)
    wrong = 12 - keep.size
    assert wrong >= 2
    rows, pos = order + 1, np.arange(12, dtype=np.int64)
    m, status = kernel(L, 12, A.T @ y, np.full(12, lam), xs, sign, order, rows, pos, 1)
    assert m == 12 - wrong and status == 0
    np.testing.assert_array_equal(pos[:m], keep)
    np.testing.assert_array_equal(xs[:m], 0.0)
    feats = pos[:m]
    np.testing.assert_allclose(L[:m, :m], np.linalg.cholesky(A[:, feats].T @ A[:, feats]), atol=1e-10)


@pytest.mark.parametrize("case", ["lasso", "weighted_l1", "group", "sparse_group", "multi_target", "fortran"])
def test_state_path_matches_per_lam_solves_and_certifies_every_gap(monkeypatch, case):
    k = 3 if case == "multi_target" else None
    A, y = _problem(k=k, order="F" if case == "fortran" else "C")
    groups = ss.Groups.contiguous(A.shape[1], 4)
    pen = {"group": ss.GroupLasso(groups, 1.0), "sparse_group": ss.SparseGroupLasso(groups, 1.0, 0.5),
           "weighted_l1": ss.SparseGroupLasso(ss.Groups.contiguous(A.shape[1], 1), 1.0, 1.0)}.get(case, ss.L1(1.0))
    loss = ss.LeastSquares(A, y)
    assert _path_block.applies(loss, pen, ss.solve_block, {})
    lams = lam_grid(ss.lambda_max(loss, pen), 20, 1e-3)
    tol = 1e-7
    fast = ss.path(loss, pen, lams=lams, tol=tol)
    ref = _per_lam(monkeypatch, loss, pen, lams, 1e-12)
    assert fast.converged.all()
    # the certificate: gap <= tol * P(x), so P(x) - P(x*) <= tol * P(x)
    assert np.all(fast.gaps <= tol * fast.objectives + 1e-12)
    np.testing.assert_array_less(fast.objectives - ref.objectives, 2 * tol * ref.objectives + 1e-12)
    np.testing.assert_array_less(ref.objectives - fast.objectives, 1e-12 * ref.objectives + 1e-12)
    # the objective reported is the objective of the coefficients returned
    for i in (5, 12, 19):
        p_lam = pen.with_lam(lams[i])
        assert fast.objectives[i] == pytest.approx(loss.value(fast.coefs[i]) + p_lam(fast.coefs[i]), rel=1e-10)


def test_lasso_path_meets_the_optimality_conditions_tightly():
    """Polishing lands on the exact minimizer: KKT residuals at rounding level, not at the tolerance's."""
    A, y = _problem(n=80, p=200, seed=3)
    loss = ss.LeastSquares(A, y)
    res = ss.path(loss, ss.L1(1.0), n_lams=15, tol=1e-6)
    assert res.converged.all()
    for lam, x in zip(res.lams[1:], res.coefs[1:]):
        g = A.T @ (y - A @ x)
        on = x != 0
        np.testing.assert_allclose(g[on], lam * np.sign(x[on]), rtol=1e-8, atol=1e-9 * lam)
        assert np.all(np.abs(g[~on]) <= lam * (1 + 1e-8))


def test_state_path_is_used_and_per_lam_loop_kept_elsewhere(monkeypatch):
    A, y = _problem()
    pen = ss.L1(1.0)
    made = []
    original = BlockPath.__init__

    def spy(self, *args, **kwargs):
        made.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(BlockPath, "__init__", spy)
    ss.path(ss.LeastSquares(A, y), pen, n_lams=5, tol=1e-6, max_outer=50)
    assert made == [{"max_outer": 50}]
    made.clear()
    # a sparse design, a solver option the state does not take, another solver: the per-lam loop
    ss.path(ss.LeastSquares(sp.csc_matrix(A), y), pen, n_lams=5, tol=1e-6)
    ss.path(ss.LeastSquares(A, y), pen, n_lams=5, tol=1e-6, screening=False)
    ss.path(ss.LeastSquares(A, y), pen, n_lams=5, solver="fista", tol=1e-6)
    assert made == []


def test_unpenalized_features_fall_back_to_solve_block(monkeypatch):
    A, y = _problem()
    groups = ss.Groups.from_lists([list(range(4 * g, 4 * g + 4)) for g in range(29)], n_features=120)  # 116.. free
    pen = ss.GroupLasso(groups, 1.0)
    loss = ss.LeastSquares(A, y)
    lams = lam_grid(ss.lambda_max(loss, pen), 8, 1e-2)
    fast = ss.path(loss, pen, lams=lams, tol=1e-9)
    ref = _per_lam(monkeypatch, loss, pen, lams, 1e-9)
    np.testing.assert_allclose(fast.objectives, ref.objectives, rtol=1e-8)


def test_state_path_options_are_checked_by_name():
    A, y = _problem()
    with pytest.raises(ParameterError, match="max_outer"):
        ss.path(ss.LeastSquares(A, y), ss.L1(1.0), n_lams=4, max_outer=0)
    with pytest.raises(TypeError, match="anderson"):
        ss.path(ss.LeastSquares(A, y), ss.L1(1.0), n_lams=4, anderson="yes")


def test_state_path_does_not_touch_the_callers_arrays():
    A, y = _problem()
    A0, y0 = A.copy(), y.copy()
    ss.cv_path(A, y, ss.L1(1.0), n_folds=3, n_lams=6, rng=0, tol=1e-8)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(y, y0)


def test_cv_path_on_a_process_pool_shares_the_design_and_matches_serial(monkeypatch):
    """A local pool gets the design through shared memory (tasks carry row indices); results are bit-identical."""
    import os
    import sys
    from concurrent.futures import ProcessPoolExecutor

    path_module = sys.modules["structsparse.solvers.path"]   # (structsparse.solvers.path is also the function)

    A, y = _problem(n=80, p=60, seed=8)
    A0 = A.copy()
    opened = []
    original = path_module._SharedDesign.open

    def spy(design):
        opened.append(original(design))
        return opened[-1]

    monkeypatch.setattr(path_module._SharedDesign, "open", staticmethod(spy))
    serial = ss.cv_path(A, y, ss.L1(1.0), n_folds=4, n_lams=10, rng=3, tol=1e-9)
    before = set(os.listdir("/dev/shm")) if os.path.isdir("/dev/shm") else set()
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = ss.cv_path(A, y, ss.L1(1.0), n_folds=4, n_lams=10, rng=3, tol=1e-9, executor=pool)
    assert len(opened) == 1 and opened[0] is not None
    np.testing.assert_array_equal(parallel.loss_folds, serial.loss_folds)
    np.testing.assert_array_equal(parallel.path.coefs, serial.path.coefs)
    np.testing.assert_array_equal(A, A0)
    if os.path.isdir("/dev/shm"):  # the block is unlinked when cv_path returns
        assert opened[0].shm.name.lstrip("/") not in set(os.listdir("/dev/shm")) - before
    # a design that is not C-ordered float64 is pickled as rows, as before
    assert path_module._SharedDesign.open(np.asfortranarray(A)) is None


@pytest.mark.parametrize("case", ["duplicate_and_zero_columns", "more_features_than_samples"])
def test_degenerate_designs_still_certify_every_lam(monkeypatch, case):
    """A singular Gram matrix (duplicated or zero columns, supports wider than n) stops polishing, not the path."""
    rng = np.random.default_rng(9)
    if case == "duplicate_and_zero_columns":
        A = rng.standard_normal((50, 80))
        A[:, 10], A[:, 11], A[:, 12] = A[:, 3], 2 * A[:, 4], 0.0
        y = A[:, :6].sum(axis=1) + 0.1 * rng.standard_normal(50)
    else:
        A, y = rng.standard_normal((30, 200)), rng.standard_normal(30)
    loss = ss.LeastSquares(A, y)
    lams = lam_grid(ss.lambda_max(loss, ss.L1(1.0)), 25, 1e-4)
    fast = ss.path(loss, ss.L1(1.0), lams=lams, tol=1e-8)
    ref = _per_lam(monkeypatch, loss, ss.L1(1.0), lams, 1e-12)
    assert fast.converged.all()
    assert np.all(fast.gaps <= 1e-8 * fast.objectives + 1e-12)
    np.testing.assert_array_less(fast.objectives - ref.objectives, 2e-8 * ref.objectives + 1e-12)


def test_shared_design_falls_back_to_pickled_rows_without_room(monkeypatch):
    import os
    import sys
    from types import SimpleNamespace

    path_module = sys.modules["structsparse.solvers.path"]
    A, _ = _problem()
    monkeypatch.setattr(os, "statvfs", lambda _: SimpleNamespace(f_bavail=1, f_frsize=4096))
    assert path_module._SharedDesign.open(A) is None


def test_thresholds_are_scaled_from_lam_one_and_match_the_penalty():
    """The block description at lam is the lam = 1 one scaled (Penalty is lam * Omega), as the penalty gives it."""
    from structsparse.solvers._block_spec import block_spec

    A, y = _problem()
    groups = ss.Groups.contiguous(A.shape[1], 4)
    for pen in (ss.L1(1.0), ss.GroupLasso(groups, 1.0), ss.SparseGroupLasso(groups, 1.0, 0.3)):
        state = BlockPath(ss.LeastSquares(A, y), pen)
        for lam in (3.7, 0.21, 1e-3):
            spec, ref = state.spec_at(lam), block_spec(pen.with_lam(lam), A.shape[1])
            np.testing.assert_array_equal(spec.idx, ref.idx)
            np.testing.assert_allclose(spec.t1, ref.t1, rtol=1e-15)
            np.testing.assert_allclose(spec.t2, ref.t2, rtol=1e-15)
        assert state._unit is not False
        assert state.spec_at(0.0) is None


class _SquaredLamL1(ss.L1):
    """A (contract-breaking) penalty whose thresholds grow as lam^2: the path must not scale them."""

    def block_thresholds(self, n_features):
        idx, ptr, t1, t2 = super().block_thresholds(n_features)
        return idx, ptr, t1 * self.lam, t2


def test_thresholds_that_do_not_scale_with_lam_are_described_per_lam(monkeypatch):
    from structsparse.solvers._block_spec import block_spec

    A, y = _problem()
    pen = _SquaredLamL1(1.0)
    loss = ss.LeastSquares(A, y)
    state = BlockPath(loss, pen)
    spec = state.spec_at(2.0)
    assert state._unit is False
    np.testing.assert_array_equal(spec.t1, block_spec(pen.with_lam(2.0), A.shape[1]).t1)
    np.testing.assert_array_equal(state.spec_at(0.5).t1, np.full(A.shape[1], 0.25))
    lams = np.geomspace(np.sqrt(np.abs(A.T @ y).max()), 0.1, 8)
    fast = ss.path(loss, pen, lams=lams, tol=1e-9)
    ref = _per_lam(monkeypatch, loss, pen, lams, 1e-10)
    np.testing.assert_allclose(fast.objectives, ref.objectives, rtol=2e-9)


def test_the_path_keeps_its_own_columns_with_rows_that_never_move(monkeypatch):
    """The factor refers to columns by their rows in the path's store: rows stay valid as the store grows, and the
    path never depends on the design's shared cache (whose rows another solver may hand out per call)."""
    from structsparse.solvers import working_set

    A, y = _problem(n=40, p=300)
    state = BlockPath(ss.LeastSquares(A, y), ss.L1(1.0))
    rng = np.random.default_rng(1)
    seen = {}
    for size in (5, 40, 120, 300):
        cols = np.sort(rng.choice(300, size, replace=False)).astype(np.int64)
        AT, rows = state._columns(cols)
        np.testing.assert_array_equal(AT[rows], A[:, cols].T)
        for c, r in zip(cols, rows):
            assert seen.setdefault(int(c), int(r)) == int(r)
    AT, rows = BlockPath(ss.LeastSquares(np.asfortranarray(A), y), ss.L1(1.0))._columns(np.array([3, 7]))
    assert np.shares_memory(AT, A) or AT.base is not None
    np.testing.assert_array_equal(AT[rows], A[:, [3, 7]].T)

    def refuse(*args, **kwargs):
        raise AssertionError("the path state used the design's column cache")

    monkeypatch.setattr(working_set._Design, "columns", refuse)
    res = ss.path(ss.LeastSquares(A, y), ss.L1(1.0), n_lams=10, tol=1e-8)
    assert res.converged.all()


def _polish_case(seed):
    """A working set of 14 features (rows of AT scrambled), a factor of 6 of them, and a signed point on the
    working set: 2 of the factor's features left, 4 others entering at zero, the rest nonzero or zero."""
    rng = np.random.default_rng(seed)
    n, p = 60, 40
    AT = rng.standard_normal((p, n))
    y = rng.standard_normal(n)
    cols = np.sort(rng.choice(p, 14, replace=False)).astype(np.int64)
    wsrows = cols.copy()
    in_factor = cols[[0, 2, 3, 5, 8, 9]]
    cap = 30
    L = np.zeros((cap, cap))
    L[:6, :6] = np.linalg.cholesky(AT[in_factor] @ AT[in_factor].T)
    order = np.zeros(cap, dtype=np.int64)
    order[:6] = in_factor
    rows = order.copy()
    x = np.zeros(14)
    x[[0, 3, 5, 8, 10]] = rng.standard_normal(5)          # 2 and 9 left the support; 10 is new and nonzero
    signs = np.sign(x)
    signs[[1, 4, 12, 13]] = rng.choice([-1.0, 1.0], 4)      # entering at zero
    Aty = AT @ y
    weights = np.full(14, 0.2 * np.abs(Aty).max())
    y.setflags(write=False)   # read-only as the path passes it: the kernel's production signature, no test-only compile
    return L, order, rows, x, signs, cols, wsrows, AT, y, Aty, weights, np.zeros(p, dtype=bool), np.zeros(p, np.int64)


@pytest.mark.parametrize("seed", range(5))
def test_polish_twins_agree_and_keep_a_consistent_factor(seed):
    out = {}
    for kernel in (polish_numba, polish_numpy):
        case = _polish_case(seed)
        L, order, rows = case[0], case[1], case[2]
        m, status, X, r, value = kernel(case[0], 6, *case[1:], 64)
        out[kernel] = (m, status, X, r, value, L[:m, :m].copy(), order[:m].copy(), rows[:m].copy())
        assert not case[-2].any()                              # the scratch marks are left all False
        AT, y, weights, cols = case[7], case[8], case[10], case[5]
        if status >= 0:
            feats = order[:m]
            np.testing.assert_allclose(L[:m, :m], np.linalg.cholesky(AT[feats] @ AT[feats].T), atol=1e-10)
            np.testing.assert_allclose(r, y - AT[cols].T @ X, atol=1e-10)
            assert value == pytest.approx(0.5 * r @ r + weights @ np.abs(X), rel=1e-12)
            assert set(cols[X != 0]) <= set(feats)
        if status == 1:   # a whole step: the minimizer on its signed support (gradient = weights * sign there)
            on = X != 0
            g = AT[cols[on]] @ r
            np.testing.assert_allclose(g, weights[on] * np.sign(X[on]), rtol=1e-8, atol=1e-10)
    a, b = out[polish_numba], out[polish_numpy]
    assert a[:2] == b[:2]
    for u, v in zip(a[2:], b[2:]):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-11)


def test_polish_refuses_a_singular_support_and_leaves_the_factor_consistent():
    for kernel in (polish_numba, polish_numpy):
        case = list(_polish_case(0))
        AT, cols = case[7], case[5]
        AT[cols[13]] = 0.0                                     # an entering zero column: the Gram is singular
        m, status, X, r, value = kernel(case[0], 6, *case[1:], 64)
        assert status == -2 and X.size == 0
        feats = case[1][:m]
        np.testing.assert_allclose(case[0][:m, :m], np.linalg.cholesky(AT[feats] @ AT[feats].T), atol=1e-10)
        assert not case[-2].any()

