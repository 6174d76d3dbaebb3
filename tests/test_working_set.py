"""solve_block: agreement with cvxpy and FISTA, screening safety, kernels vs numpy twins, bad input."""

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.exceptions import ConvergenceWarning, ParameterError, ShapeError
from structsparse.solvers import _block_kernels as K
from structsparse.solvers import working_set as ws_module
from structsparse.solvers._block_spec import block_spec


def _groups(rng, p, with_free=False):
    """Unequal, shuffled groups with random weights; optionally leaving some features out."""
    perm = rng.permutation(p)
    sizes = [1, 2, 3, 5, 7]
    lists, start = [], 0
    while start < p - (4 if with_free else 0):
        size = sizes[len(lists) % len(sizes)]
        lists.append(sorted(perm[start:start + size].tolist()))
        start += size
    lists = [g for g in lists if g]
    return ss.Groups.from_lists(lists, n_features=p, weights=rng.uniform(0.5, 2.0, len(lists)))


def _penalty(kind, groups, lam):
    if kind == "l1":
        return ss.L1(lam)
    if kind == "group":
        return ss.GroupLasso(groups, lam)
    return ss.SparseGroupLasso(groups, lam, 0.35)


def _problem(seed, n=40, p=60, k=None, sparse=False, with_free=False, kind="group", frac=0.3):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    if sparse:
        A[rng.random(A.shape) < 0.6] = 0.0
        A = sp.csc_matrix(A)
    y = rng.standard_normal(n) if k is None else rng.standard_normal((n, k))
    groups = _groups(rng, p, with_free)
    loss = ss.LeastSquares(A, y)
    pen1 = _penalty(kind, groups, 1.0)
    lam = frac * ss.lambda_max(loss, pen1)
    return loss, pen1.with_lam(lam)


# ------------------------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("kind", ["l1", "group", "sparse_group"])
@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("k", [None, 3])
def test_matches_cvxpy(kind, seed, k):
    loss, pen = _problem(seed, k=k, kind=kind)
    res = ss.solve_block(loss, pen, tol=1e-10)
    ref = ss.solve_cvxpy(loss, pen)
    assert res.converged and 0 <= res.gap <= 1e-10 * res.objective
    assert abs(res.objective - ref.objective) <= 1e-6 * abs(ref.objective)
    # the gap certifies our objective; cvxpy cannot be better than that
    assert res.objective <= ref.objective + 1e-7 * abs(ref.objective)


@pytest.mark.parametrize("kind", ["group", "sparse_group"])
@pytest.mark.parametrize("sparse", [False, True])
def test_sparse_design_and_free_features_match_cvxpy(kind, sparse):
    loss, pen = _problem(3, sparse=sparse, with_free=True, kind=kind)
    res = ss.solve_block(loss, pen, tol=1e-10)
    ref = ss.solve_cvxpy(loss, pen)
    assert res.converged and res.message == "duality gap below tol"
    assert abs(res.objective - ref.objective) <= 1e-6 * abs(ref.objective)


def test_zero_weight_group_is_unpenalized_and_gap_stays_exact():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((30, 20)); y = rng.standard_normal(30)
    groups = ss.Groups.contiguous(20, 4, weights=[1.0, 0.0, 2.0, 1.0, 1.5])
    loss = ss.LeastSquares(A, y)
    pen = ss.GroupLasso(groups, 0.5 * ss.lambda_max(loss, ss.GroupLasso(groups, 1.0)))
    res = ss.solve_block(loss, pen, tol=1e-10)
    ref = ss.solve_cvxpy(loss, pen)
    # a valid duality gap bounds the distance to cvxpy's (slightly suboptimal) objective
    assert res.converged and res.objective - ref.objective <= res.gap + 1e-8 * ref.objective
    assert abs(res.objective - ref.objective) <= 1e-6 * ref.objective
    # the free group's block satisfies its optimality condition A_g^T r = 0
    r = y - A @ res.x
    assert np.linalg.norm(A[:, 4:8].T @ r) < 1e-5 * np.linalg.norm(A.T @ y)


@pytest.mark.parametrize("kind", ["l1", "group", "sparse_group"])
def test_matches_fista_and_strategies_agree(kind):
    loss, pen = _problem(5, n=50, p=120, kind=kind, frac=0.2)
    ref = ss.fista(loss, pen, tol=1e-11, max_iter=100_000)
    for strategy in ss.solvers.working_set.WS_STRATEGIES:
        for screening in (True, False):
            for anderson in (True, False):
                res = ss.solve_block(loss, pen, tol=1e-10, ws_strategy=strategy, screening=screening,
                                     anderson=anderson)
                assert res.converged
                assert abs(res.objective - ref.objective) <= 1e-8 * ref.objective
                assert np.allclose(res.x, ref.x, atol=1e-4)


def test_screening_never_discards_an_active_group():
    for seed in range(4):
        loss, pen = _problem(seed, n=60, p=200, kind="group", frac=0.15)
        res = ss.solve_block(loss, pen, tol=1e-12, screening=True)
        plain = ss.solve_block(loss, pen, tol=1e-12, screening=False)
        spec = block_spec(pen, loss.n_features)
        screened = res.history["screened_blocks"]
        assert len(screened) > 0, "the test needs screening to act"
        for b in screened:
            cols = spec.idx[spec.ptr[b]:spec.ptr[b + 1]]
            assert np.all(plain.x[cols] == 0.0)
        support = lambda x: set(np.flatnonzero(np.abs(x) > 1e-10))  # noqa: E731
        assert support(res.x) == support(plain.x)


def test_sparse_group_screening_is_safe():
    loss, pen = _problem(7, n=60, p=200, kind="sparse_group", frac=0.2)
    res = ss.solve_block(loss, pen, tol=1e-12)
    ref = ss.fista(loss, pen, tol=1e-12, max_iter=200_000)
    spec = block_spec(pen, loss.n_features)
    assert res.history["screened_blocks"].size > 0 and res.history["screened_blocks"].dtype == np.int64
    for b in res.history["screened_blocks"]:
        cols = spec.idx[spec.ptr[b]:spec.ptr[b + 1]]
        assert np.max(np.abs(ref.x[cols])) < 1e-8


def test_solution_is_zero_at_lambda_max_and_not_below():
    loss, pen = _problem(8, kind="group")
    lmax = ss.lambda_max(loss, pen)
    assert not np.any(ss.solve_block(loss, pen.with_lam(lmax * (1 + 1e-9))).x)
    assert np.any(ss.solve_block(loss, pen.with_lam(0.95 * lmax)).x)


def test_warm_start_and_inputs_untouched():
    loss, pen = _problem(9, n=50, p=100, kind="sparse_group", frac=0.2)
    A0, y0 = loss.A.copy(), np.array(loss.y)
    cold = ss.solve_block(loss, pen, tol=1e-10)
    x0 = cold.x + 0.0
    warm = ss.solve_block(loss, pen, x0=x0, tol=1e-10)
    assert np.array_equal(x0, cold.x)
    assert np.array_equal(loss.A, A0) and np.array_equal(loss.y, y0)
    assert warm.n_iter <= 1 and abs(warm.objective - cold.objective) <= 1e-10 * cold.objective


def test_result_gap_bounds_suboptimality_during_run():
    loss, pen = _problem(10, n=50, p=150, kind="group", frac=0.1)
    best = ss.solve_block(loss, pen, tol=1e-13).objective
    seen = []

    def record(k, x, info):
        seen.append((info["objective"], info["gap"]))
        return False

    ss.solve_block(loss, pen, tol=1e-10, callback=record)
    assert len(seen) >= 2
    for obj, gap in seen:
        assert obj - best <= gap + 1e-9 * best


def test_numpy_path_matches_numba_path(monkeypatch):
    loss, pen = _problem(11, n=40, p=60, kind="sparse_group", frac=0.2)
    fast = ss.solve_block(loss, pen, tol=1e-11)
    monkeypatch.setattr(ws_module, "NUMBA_ENABLED", False)
    slow = ss.solve_block(loss, pen, tol=1e-11)
    assert slow.converged and abs(slow.objective - fast.objective) <= 1e-9 * fast.objective


# ------------------------------------------------------------------------------------ stopping
def test_max_outer_warns_and_reports():
    loss, pen = _problem(12, n=50, p=200, kind="group", frac=0.05)
    with pytest.warns(ConvergenceWarning, match="max_outer"):
        res = ss.solve_block(loss, pen, tol=1e-14, max_outer=1, max_epochs=2)
    assert not res.converged and "max_outer" in res.message and res.gap > 0 and res.n_iter == 1


def test_max_iter_is_a_deprecated_alias_of_max_outer():
    loss, pen = _problem(12, n=50, p=200, kind="group", frac=0.05)
    with pytest.warns(ConvergenceWarning):
        new = ss.solve_block(loss, pen, tol=1e-14, max_outer=2, max_epochs=2)
    with pytest.warns(DeprecationWarning, match="max_outer"), pytest.warns(ConvergenceWarning):
        old = ss.solve_block(loss, pen, tol=1e-14, max_iter=2, max_epochs=2)
    assert old.n_iter == new.n_iter == 2 and np.array_equal(old.x, new.x)
    with pytest.raises(ParameterError, match="max_outer"):
        ss.solve_block(loss, pen, max_outer=2, max_iter=2)
    # ss.solve maps the deprecated name too, and says so
    with pytest.warns(DeprecationWarning, match="max_outer"), pytest.warns(ConvergenceWarning):
        via = ss.solve(loss, pen, tol=1e-14, solver="solve_block", max_iter=2, max_epochs=2)
    assert via.n_iter == 2


def test_callback_stops():
    loss, pen = _problem(13, kind="group")
    res = ss.solve_block(loss, pen, callback=lambda k, x, info: True)
    assert not res.converged and res.message == "stopped by callback" and res.n_iter == 0


# ------------------------------------------------------------------------------------ kernels
def _kernel_inputs(seed, k, sparse=False):
    rng = np.random.default_rng(seed)
    n, m = 30, 17
    A = rng.standard_normal((n, m))
    if sparse:
        A[rng.random(A.shape) < 0.5] = 0.0
    ptr = np.array([0, 1, 4, 9, 11, 17], dtype=np.int64)
    t1 = np.array([0.5, 0.0, 1.0, 0.3, 0.0])
    t2 = np.array([0.0, 2.0, 1.5, 0.0, 0.0])        # l1, group, sparse-group, l1, unpenalized
    X = rng.standard_normal((m, k)) * (rng.random((m, k)) < 0.5)
    R = rng.standard_normal((k, n))
    lips = K.group_lipschitz_dense(np.ascontiguousarray(A.T), ptr)
    return A, np.ascontiguousarray(X), np.ascontiguousarray(R), ptr, t1, t2, lips


@pytest.mark.parametrize("k", [1, 3])
def test_epoch_kernels_agree_with_numpy_twins(k):
    A, X, R, ptr, t1, t2, lips = _kernel_inputs(0, k)
    V = np.zeros((6, k))
    # the working-set columns are read through an index into a larger, shuffled store
    perm = np.random.default_rng(9).permutation(A.shape[1] + 5)
    store = np.random.default_rng(8).standard_normal((perm.size, A.shape[0]))
    store[perm[:A.shape[1]]] = A.T
    cols = perm[:A.shape[1]].astype(np.int64)
    outs = []
    for fn in (K.bcd_epoch_dense_numba, K.bcd_epoch_dense_numpy):
        Xc, Rc = X.copy(), R.copy()
        for _ in range(3):
            fn(store, cols, Rc, Xc, ptr, t1, t2, lips, V)
        outs.append((Xc, Rc))
    Asp = sp.csc_matrix(_kernel_inputs(0, k, sparse=True)[0])
    for fn in (K.bcd_epoch_sparse_numba, K.bcd_epoch_sparse_numpy):
        Xc, Rc = X.copy(), R.copy()
        for _ in range(3):
            fn(Asp.data, Asp.indices, Asp.indptr, Rc, Xc, ptr, t1, t2, lips, V)
        outs.append((Xc, Rc))
    np.testing.assert_allclose(outs[0][0], outs[1][0], atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], atol=1e-12)
    np.testing.assert_allclose(outs[2][0], outs[3][0], atol=1e-12)
    np.testing.assert_allclose(outs[2][1], outs[3][1], atol=1e-12)
    # working-set products through the same index
    Y = R + 1.0
    for twin in ((K.ws_gradient_dense_numba, K.ws_gradient_dense_numpy),):
        np.testing.assert_allclose(twin[0](store, cols, R), twin[1](store, cols, R), atol=1e-12)
        np.testing.assert_allclose(twin[0](store, cols, R), A.T @ R.T, atol=1e-12)
    np.testing.assert_allclose(K.ws_residual_dense_numba(store, cols, X, Y),
                               K.ws_residual_dense_numpy(store, cols, X, Y), atol=1e-12)
    np.testing.assert_allclose(K.ws_residual_dense_numba(store, cols, X, Y), Y - (A @ X).T, atol=1e-12)


def test_epoch_decreases_objective_and_keeps_residual_consistent():
    A, X, R0, ptr, t1, t2, lips = _kernel_inputs(1, 2)
    y = R0 + (A @ X).T                                  # so that R0 = y - A X
    spec = ss.solvers._block_spec.BlockSpec(np.arange(A.shape[1]), ptr, t1, t2)
    R = R0.copy()
    prev = 0.5 * np.sum(R * R) + spec.value(X)
    for _ in range(5):
        K.bcd_epoch_dense_numba(np.ascontiguousarray(A.T), np.arange(A.shape[1]), R, X, ptr, t1, t2, lips,
                                np.zeros((6, 2)))
        cur = 0.5 * np.sum(R * R) + spec.value(X)
        assert cur <= prev + 1e-12
        prev = cur
    np.testing.assert_allclose(R, y - (A @ X).T, atol=1e-10)


@pytest.mark.parametrize("k", [1, 2])
def test_dual_kernels_agree_with_numpy_twins_and_penalty_dual_norm(k):
    rng = np.random.default_rng(2)
    groups = ss.Groups.from_sizes([1, 4, 6, 3, 8], weights=rng.uniform(0.5, 2, 5))
    U = rng.standard_normal((groups.n_features, k))
    pen = ss.SparseGroupLasso(groups, 1.0, 0.4)
    spec = block_spec(pen, groups.n_features)
    s_numba = K.group_dual_scaling_numba(U, spec.idx, spec.ptr, spec.t1, spec.t2)
    s_numpy = K.group_dual_scaling_numpy(U, spec.idx, spec.ptr, spec.t1, spec.t2)
    np.testing.assert_allclose(s_numba, s_numpy, rtol=1e-12)
    # the largest scaling is the dual norm of the sparse-group norm (computed there by sorting)
    assert abs(s_numba.max() - pen.dual_norm(U)) <= 1e-10 * pen.dual_norm(U)
    # at the scaling the group's constraint is tight
    q = K.group_threshold_norms_numba(U, spec.idx, spec.ptr, spec.t1, spec.t2, 1.0)
    for g in range(spec.n_blocks):
        tight = K.group_threshold_norms_numba(U, spec.idx, spec.ptr, spec.t1, spec.t2, s_numba[g])[g]
        assert abs(tight - spec.t2[g]) <= 1e-9 * spec.t2[g]
    np.testing.assert_allclose(q, K.group_threshold_norms_numpy(U, spec.idx, spec.ptr, spec.t1, spec.t2, 1.0),
                               rtol=1e-12)
    for kind in ("l1", "group"):
        p2 = _penalty(kind, groups, 1.0)
        sp2 = block_spec(p2, groups.n_features)
        s2 = K.group_dual_scaling_numba(U, sp2.idx, sp2.ptr, sp2.t1, sp2.t2)
        np.testing.assert_allclose(s2, K.group_dual_scaling_numpy(U, sp2.idx, sp2.ptr, sp2.t1, sp2.t2))
        assert abs(s2.max() - p2.dual_norm(U)) <= 1e-12 * p2.dual_norm(U)


def test_lipschitz_is_the_squared_spectral_norm():
    rng = np.random.default_rng(3)
    AT = rng.standard_normal((47, 12))          # sizes 1, 4, 4, 15 (> n = 12), 4, 19
    ptr = np.array([0, 1, 5, 9, 24, 28, 47], dtype=np.int64)
    got = K.group_lipschitz_dense(AT, ptr)
    for g in range(ptr.size - 1):
        want = np.linalg.norm(AT[ptr[g]:ptr[g + 1]], 2) ** 2
        assert abs(got[g] - want) <= 1e-10 * want


# ------------------------------------------------------------------------------------ bad input
def test_bad_input():
    loss, pen = _problem(0, kind="group")
    with pytest.raises(TypeError, match="loss"):
        ss.solve_block("not a loss", pen)
    with pytest.raises(TypeError, match="LinearOperator"):
        ss.solve_block(ss.LeastSquares(aslinearoperator(loss.A), loss.y), pen)
    with pytest.raises(TypeError, match="fista"):
        ss.solve_block(loss, ss.TreeLasso(ss.Tree.from_parents([-1] + [0] * (loss.n_features - 1)), 1.0))
    with pytest.raises(TypeError, match="Penalty"):
        ss.solve_block(loss, "l1")
    with pytest.raises(ShapeError, match="features"):
        ss.solve_block(loss, ss.GroupLasso(ss.Groups.contiguous(loss.n_features + 2, 2), 1.0))
    with pytest.raises(ShapeError, match="x0"):
        ss.solve_block(loss, pen, x0=np.zeros(3))
    for kwargs, name in [({"tol": 0.0}, "tol"), ({"tol": -1}, "tol"), ({"max_outer": 0}, "max_outer"),
                         ({"max_epochs": 0}, "max_epochs"), ({"ws_strategy": "best"}, "ws_strategy"),
                         ({"p0": 0}, "p0"), ({"gap_freq": 0}, "gap_freq"), ({"screening": "yes"}, "screening"),
                         ({"anderson": 1}, "anderson"), ({"callback": 3}, "callback"),
                         ({"max_outer": 2.5}, "max_outer")]:
        with pytest.raises(ParameterError, match=name):
            ss.solve_block(loss, pen, **kwargs)


def test_verbose_and_history(capsys):
    loss, pen = _problem(14, kind="group")
    res = ss.solve_block(loss, pen, tol=1e-10, verbose=True)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("solve_block")]
    assert len(lines) == res.n_iter + 1 == len(res.history["gap"])
    assert len(res.history["ws_size"]) == len(res.history["epochs"]) == res.n_iter
    assert res.history["gap"][-1] == res.gap and np.all(np.diff(res.history["time"]) >= 0)


# ------------------------------------------------------------------------------------ sparse designs as given
def _random_sparse(rng, n, p, density, fmt, index_dtype=np.int32):
    A = sp.random(n, p, density=density, format=fmt, random_state=np.random.RandomState(int(rng.integers(1 << 30))),
                  data_rvs=rng.standard_normal)
    A.indices = A.indices.astype(index_dtype)
    A.indptr = A.indptr.astype(index_dtype)
    return A


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_design_kernels_agree_with_numpy_twins_and_scipy(index_dtype):
    from structsparse.solvers import _design_kernels as D

    rng = np.random.default_rng(11)
    n, p = 30, 50
    Acsc = _random_sparse(rng, n, p, 0.2, "csc", index_dtype)
    Acsr = Acsc.tocsr()
    dense = Acsc.toarray()
    want = (dense * dense).sum(axis=0)
    for got in (D.csc_colnorm2_numba(Acsc.data, Acsc.indptr), D.csc_colnorm2_numpy(Acsc.data, Acsc.indptr),
                D.csr_colnorm2_numba(Acsr.data, Acsr.indices, p), D.csr_colnorm2_numpy(Acsr.data, Acsr.indices, p)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    cols = rng.permutation(p)[:17].astype(np.int64)
    for fn, M, extra in ((D.csc_gather_numba, Acsc, ()), (D.csc_gather_numpy, Acsc, ()),
                         (D.csr_gather_numba, Acsr, (p,)), (D.csr_gather_numpy, Acsr, (p,))):
        data, rows, ptr = fn(M.data, M.indices, M.indptr, cols, *extra)
        # unsigned, of the input's index widths (_design_kernels)
        assert data.dtype == np.float64 and rows.dtype == np.dtype(f"u{M.indices.dtype.itemsize}")
        assert ptr.dtype == np.dtype(f"u{M.indptr.dtype.itemsize}")
        got = sp.csc_matrix((data, rows, ptr), shape=(n, cols.size)).toarray()
        np.testing.assert_array_equal(got, dense[:, cols])
    r = rng.standard_normal(n)
    outs = []
    for fn in (D.csc_rmatvec_cols_numba, D.csc_rmatvec_cols_numpy):
        out = np.full(p, 7.0)
        fn(Acsc.data, Acsc.indices, Acsc.indptr, r, cols, out)
        outs.append(out)
        np.testing.assert_allclose(out[cols], dense[:, cols].T @ r, atol=1e-12)
        rest = np.setdiff1d(np.arange(p), cols)
        assert np.all(out[rest] == 7.0)                  # other entries untouched
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-12)
    # the live columns' products without a p-length output: the same sums as the product on a column subset
    for fn, full in ((D.csc_rmatvec_compact_numba, outs[0]), (D.csc_rmatvec_compact_numpy, outs[1])):
        got = fn(Acsc.data, Acsc.indices, Acsc.indptr, r, cols)
        assert got.shape == (cols.size,) and got.dtype == np.float64
        np.testing.assert_array_equal(got, full[cols])


def test_singleton_kernels_agree_with_group_kernels_on_a_subset():
    rng = np.random.default_rng(12)
    p = 40
    U = rng.standard_normal((p, 1))
    idx = np.sort(rng.permutation(p)[:25]).astype(np.int64)
    t1 = rng.uniform(0.0, 1.0, idx.size) * (rng.random(idx.size) < 0.7)
    t2 = rng.uniform(0.0, 1.0, idx.size) * (rng.random(idx.size) < 0.5)
    ptr = np.arange(idx.size + 1, dtype=np.int64)
    for scale in (1.0, 2.5):
        want = K.group_threshold_norms_numba(U, idx, ptr, t1, t2, scale)
        np.testing.assert_allclose(K.singleton_threshold_norms_numba(U, idx, t1, t2, scale), want, rtol=1e-13)
        np.testing.assert_allclose(K.singleton_threshold_norms_numpy(U, idx, t1, t2, scale), want, rtol=1e-13)
    want = K.group_dual_scaling_numpy(U, idx, ptr, t1, t2)
    np.testing.assert_allclose(K.singleton_dual_scaling_numba(U, idx, t1, t2), want, rtol=1e-9)
    np.testing.assert_allclose(K.singleton_dual_scaling_numpy(U, idx, t1, t2), want, rtol=1e-9)


@pytest.mark.parametrize("kind", ["l1", "group", "sparse_group"])
def test_csr_and_csc_designs_are_used_as_given_and_agree_with_dense(kind):
    rng = np.random.default_rng(13)
    n, p = 60, 300
    Acsc = _random_sparse(rng, n, p, 0.05, "csc")
    y = rng.standard_normal(n)
    groups = _groups(rng, p)
    pen = _penalty(kind, groups, 1.0)
    pen = pen.with_lam(0.05 * ss.lambda_max(ss.LeastSquares(Acsc, y), pen))
    ref = ss.solve_block(ss.LeastSquares(Acsc.toarray(), y), pen, tol=1e-12)
    for A in (Acsc, Acsc.tocsr()):
        snapshot = (A.format, A.data.copy(), A.indices.copy(), A.indptr.copy())
        loss = ss.LeastSquares(A, y)
        res = ss.solve_block(loss, pen, tol=1e-12)
        assert res.converged
        assert abs(res.objective - ref.objective) <= 1e-10 * ref.objective
        np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
        # the solver reads the user's matrix itself: no CSR <-> CSC conversion, nothing modified
        assert loss._block_design.A is loss.A and loss.A.format == snapshot[0]
        # a working set of every column (p0 = p): CSC reads the design's own arrays, CSR its column store
        whole = ss.solve_block(ss.LeastSquares(A, y), pen, tol=1e-12, p0=p, screening=False)
        assert whole.history["ws_size"][0] == block_spec(pen, p).n_blocks
        assert abs(whole.objective - ref.objective) <= 1e-10 * ref.objective
        for before, after in zip(snapshot[1:], (A.data, A.indices, A.indptr)):
            np.testing.assert_array_equal(before, after)


def test_screening_shrinks_the_outer_product_to_the_live_columns():
    # lam near lam_max: screening removes most columns; the result still matches the dense solve
    rng = np.random.default_rng(14)
    A = _random_sparse(rng, 80, 2000, 0.02, "csc")
    y = rng.standard_normal(80)
    lam = 0.5 * ss.lambda_max(ss.LeastSquares(A, y), ss.L1(1.0))
    res = ss.solve_block(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-12)
    ref = ss.solve_block(ss.LeastSquares(A.toarray(), y), ss.L1(lam), tol=1e-12, screening=False)
    assert res.history["n_screened"][-1] > 1000
    assert abs(res.objective - ref.objective) <= 1e-10 * ref.objective
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)


def test_pure_outer_scan_kernels_agree_with_numpy_twins_and_the_general_scaling():
    rng = np.random.default_rng(15)
    groups = ss.Groups.from_sizes([1, 4, 6, 3, 8], weights=rng.uniform(0.5, 2, 5))
    U = rng.standard_normal((groups.n_features, 1))
    for pen in (ss.L1(0.7), ss.GroupLasso(groups, 0.7)):
        spec = block_spec(pen, groups.n_features)
        bound = np.where(spec.t2 > 0, spec.t2, spec.t1)
        lhs = K.group_threshold_norms_numba(U, spec.idx, spec.ptr, spec.t1, spec.t2, 1.0)
        want = max(1.0, K.group_dual_scaling_numpy(U, spec.idx, spec.ptr, spec.t1, spec.t2).max())
        assert abs(K.pure_dual_scale_numba(lhs, bound) - want) <= 1e-12 * want
        assert abs(K.pure_dual_scale_numpy(lhs, bound) - want) <= 1e-12 * want
        norms = rng.uniform(0.1, 1.0, bound.size)
        unpen = np.zeros(bound.size, dtype=bool)
        unpen[0] = True
        for scale, radius in ((1.0, 0.0), (2.0, 0.3), (want, 0.05)):
            got = K.gap_safe_mask_numba(lhs, scale, radius, norms, bound, unpen)
            np.testing.assert_array_equal(got, K.gap_safe_mask_numpy(lhs, scale, radius, norms, bound, unpen))
            th = K.group_threshold_norms_numba(U, spec.idx, spec.ptr, spec.t1, spec.t2, scale)
            np.testing.assert_array_equal(got, ~unpen & (th + radius * norms < bound))


@pytest.mark.parametrize("k", [1, 3])
def test_sparse_working_set_products_agree_with_numpy_twins_and_scipy(k):
    rng = np.random.default_rng(16)
    A = _random_sparse(rng, 25, 18, 0.3, "csc", np.int64)
    R = rng.standard_normal((k, 25))
    X = rng.standard_normal((18, k)) * (rng.random((18, k)) < 0.5)
    Y = rng.standard_normal((k, 25))
    args = (A.data, A.indices, A.indptr)
    for fn in (K.ws_gradient_sparse_numba, K.ws_gradient_sparse_numpy):
        np.testing.assert_allclose(fn(*args, R), A.T @ R.T, atol=1e-12)
    for fn in (K.ws_residual_sparse_numba, K.ws_residual_sparse_numpy):
        np.testing.assert_allclose(fn(*args, X, Y), Y - (A @ X).T, atol=1e-12)


def test_exact_fit_stops_at_rounding_noise_not_max_outer():
    """An interpolating fit (``P(x*)`` at rounding level) stops on the gap's own rounding floor, ``16 eps P(0)``.

    ``tol * P(x)`` alone would ask for a gap below the rounding of its terms, so the solver would run to
    ``max_outer`` and warn.
    """
    import warnings

    rng = np.random.default_rng(3)
    A = rng.standard_normal((20, 8))
    y = A[:, 0].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning would fail the test
        res = ss.solve_block(ss.LeastSquares(A, y), ss.GroupLasso(ss.Groups.contiguous(8, 2), 1e-14), tol=1e-10)
    assert res.converged
    assert res.n_iter < 10
    assert res.gap <= 16 * np.finfo(float).eps * 0.5 * y @ y
    np.testing.assert_allclose(A @ res.x, y, atol=1e-10)


# ------------------------------------------------------------------------------------ active-set cycling
@pytest.mark.parametrize("k, with_free", [(None, False), (3, False), (None, True)])
def test_active_set_cycling_runs_on_the_support_and_agrees_with_plain_epochs(monkeypatch, k, with_free):
    rng = np.random.default_rng(21)
    n, p = 60, 200
    A = rng.standard_normal((n, p))
    x_true = np.zeros(p)
    x_true[rng.choice(p, 12, replace=False)] = rng.standard_normal(12)
    y = A @ x_true + 0.1 * rng.standard_normal(n)
    if k is not None:
        y = np.column_stack([y + 0.1 * rng.standard_normal(n) for _ in range(k)])
    groups = _groups(rng, p, with_free)
    loss = ss.LeastSquares(A, y)
    pen = ss.GroupLasso(groups, 0.05 * ss.lambda_max(loss, ss.GroupLasso(groups, 1.0)))
    phases = []
    orig = ws_module._BlockSolver._phase

    def spy(self, Aws, ptr, *args, **kwargs):
        phases.append(ptr.size - 1)
        return orig(self, Aws, ptr, *args, **kwargs)

    monkeypatch.setattr(ws_module._BlockSolver, "_phase", spy)
    cycled = ss.solve_block(loss, pen, tol=1e-11, p0=40)
    ws_sizes = cycled.history["ws_size"]
    monkeypatch.setattr(ws_module, "_ACTIVE_CYCLING", False)
    plain = ss.solve_block(loss, pen, tol=1e-11, p0=40)
    # the cycling ran phases on fewer groups than the working set (the nonzero ones)
    assert phases and min(phases) < max(ws_sizes)
    assert cycled.converged and plain.converged
    # both certified by the gap: same objective, and the gap bounds the distance to the best
    best = min(cycled.objective, plain.objective)
    assert cycled.objective - best <= 1e-9 * best and plain.objective - best <= 1e-9 * best
    assert np.allclose(cycled.x, plain.x, atol=1e-4 * np.abs(plain.x).max())
    assert cycled.objective - best <= cycled.gap + 1e-12 * best
    # the reported objective is that of the returned x (the residual is exact after extrapolated steps)
    true = float(loss.value(cycled.x) + pen(cycled.x))
    assert abs(cycled.objective - true) <= 1e-13 * true


def test_group_grams_kernel_agrees_with_numpy_twin_and_lipschitz_reads_rows_in_place():
    rng = np.random.default_rng(5)
    AT = rng.standard_normal((60, 9))
    rows = rng.permutation(60)[:40].astype(np.int64)
    starts = np.array([0, 5, 10, 30], dtype=np.int64)
    for size in (1, 5, 10):
        fast = K.group_grams_dense_numba(AT, rows, starts, size)
        slow = K.group_grams_dense_numpy(AT, rows, starts, size)
        assert np.allclose(fast, slow, rtol=1e-12, atol=1e-12)
        block = AT[rows[starts[1]:starts[1] + size]]
        assert np.allclose(fast[1], block @ block.T)
    # sizes 1, 4, 3, 12 (> n = 9: the other side's Gram), 20, read through ``rows``; then n = 30, where 20
    # (> GRAM_KERNEL_MAX) takes the batched product
    for AT in (AT, rng.standard_normal((60, 30))):
        ptr = np.array([0, 1, 5, 8, 20, 40], dtype=np.int64)
        got = K.group_lipschitz_dense(AT, ptr, rows=rows)
        for g in range(ptr.size - 1):
            want = np.linalg.norm(AT[rows[ptr[g]:ptr[g + 1]]], 2) ** 2
            assert abs(got[g] - want) <= 1e-10 * want


# ------------------------------------------------------------------------------------ exact block updates
def _correlated_blocks(rng, n, m, size, rho=0.9):
    AT = rng.standard_normal((m, n))
    for j in range(1, m):  # AR(1) columns: correlated within (and across) groups
        AT[j] = rho * AT[j - 1] + np.sqrt(1 - rho ** 2) * AT[j]
    ptr = np.arange(0, m + 1, size, dtype=np.int64)
    return AT, ptr


@pytest.mark.parametrize("k", [1, 2])
def test_exact_block_epoch_agrees_with_numpy_twin_and_minimizes_each_block(k):
    rng = np.random.default_rng(8)
    n, m, size = 30, 24, 4
    AT, ptr = _correlated_blocks(rng, n, m, size)
    cols = rng.permutation(m).astype(np.int64)
    G = ptr.size - 1
    eig = K.group_eigh_dense(AT, ptr, cols)
    Q = np.concatenate([e[0].ravel() for e in eig])
    lam = np.concatenate([e[1] for e in eig])
    qptr = np.arange(G, dtype=np.int64) * size * size
    exact = np.ones(G, dtype=np.bool_)
    exact[1] = False                                  # one group takes the proximal step
    lips = np.array([e[1][-1] for e in eig])
    t1, t2 = np.zeros(G), np.full(G, 2.0)
    Y = rng.standard_normal((k, n)) * 3
    X0 = np.zeros((m, k))
    outs = []
    for f in (K.bcd_epoch_dense_exact_numba, K.bcd_epoch_dense_exact_numpy):
        X, R = X0.copy(), Y.copy()
        V = np.zeros((2 * size, k))
        for _ in range(3):
            f(AT, cols, R, X, ptr, t1, t2, lips, V, Q, qptr, lam, exact)
        outs.append((X, R))
        assert np.allclose(R, Y - X.T @ AT[cols], atol=1e-10)   # the residual stays consistent
    assert np.allclose(outs[0][0], outs[1][0], atol=1e-9) and np.allclose(outs[0][1], outs[1][1], atol=1e-9)
    # after a pass, the last exact group is optimal for its own problem (others fixed): its KKT conditions hold
    X, R = outs[0]
    g = G - 1
    a, b = ptr[g], ptr[g + 1]
    Ag = AT[cols[a:b]]                                 # (size, n)
    grad = Ag @ R.T                                    # -d/dx of the datafit at the block, (size, k)
    nrm = np.linalg.norm(X[a:b])
    if nrm > 0:
        assert np.allclose(grad, t2[g] * X[a:b] / nrm, atol=1e-8)
    else:
        assert np.linalg.norm(grad) <= t2[g] + 1e-10


def test_exact_blocks_on_correlated_groups_agree_with_proximal_steps_and_take_fewer_epochs(monkeypatch):
    rng = np.random.default_rng(12)
    n, p, size = 80, 240, 8
    AT, _ = _correlated_blocks(rng, n, p, size, rho=0.95)
    A = np.ascontiguousarray(AT.T)
    y = A[:, :16] @ rng.standard_normal(16) + 0.1 * rng.standard_normal(n)
    groups = ss.Groups.contiguous(p, size)
    loss = ss.LeastSquares(A, y)
    pen = ss.GroupLasso(groups, 0.02 * ss.lambda_max(loss, ss.GroupLasso(groups, 1.0)))
    exact = ss.solve_block(loss, pen, tol=1e-12)
    monkeypatch.setattr(ws_module, "_EXACT_BLOCKS", False)
    plain = ss.solve_block(loss, pen, tol=1e-12)
    assert exact.converged and plain.converged
    best = min(exact.objective, plain.objective)
    assert exact.objective - best <= 1e-11 * best and plain.objective - best <= 1e-11 * best
    assert sum(exact.history["epochs"]) < sum(plain.history["epochs"])
    true = float(loss.value(exact.x) + pen(exact.x))
    assert abs(exact.objective - true) <= 1e-13 * true


def test_anderson_residual_stays_exact_with_large_weights():
    """Nearly collinear iterates give Anderson weights of about 1e5: combining the stored residuals with them
    loses digits (an ill-conditioned Newton subproblem then never met its inner gap), so the residual of the
    extrapolated point is recomputed."""
    from structsparse.solvers.working_set import _BlockSolver

    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 6)) * np.logspace(0, 3, 6)   # unscaled columns
    y = rng.standard_normal(40) * 1e3
    x_star = np.linalg.lstsq(A, y, rcond=None)[0]
    v = rng.standard_normal(6)
    iterates = [x_star + (1 - 1e-5) ** k * v for k in range(6)]   # a slowly converging linear iteration

    def residual(X):
        return y - A @ X

    residuals = [residual(x) for x in iterates]
    for combine in (K.anderson_combine_numba, K.anderson_combine_numpy):
        host = SimpleNamespace(anderson_combine=combine)
        X, R = _BlockSolver._extrapolate(host, np.asarray(iterates), iterates[-1].copy(), residuals[-1].copy(),
                                         np.asarray(residuals), lambda X, R: 0.5 * float(R @ R), residual)
        assert np.linalg.norm(X - x_star) < 0.1 * np.linalg.norm(v)          # the extrapolation was taken
        assert np.linalg.norm(R - residual(X)) <= 1e-13 * np.linalg.norm(R)  # and its residual is exact


def test_difference_gram_of_six_iterates_is_each_sum_in_increasing_order():
    # the K = 5 Gram matrix (its 15 sums in one pass) gives exactly the sums of the generic loop: each from zero,
    # in increasing t; a reassociated or fused sum would differ in the last bits on these wide-ranging entries
    rng = np.random.default_rng(11)
    Xs = np.cumsum(rng.standard_normal((6, 997)) * np.exp(rng.uniform(-20, 20, 997)), axis=0)
    D = np.diff(Xs, axis=0)
    ordered = np.array([[sum((D[i] * D[j]).tolist(), 0.0) for j in range(5)] for i in range(5)])
    assert np.array_equal(K._difference_gram5(Xs), ordered)
    # and anderson_combine_numba's weights are anderson_weights' (a solve of the same Gram matrix)
    Xa, _, _ = K.anderson_combine_numba(Xs, rng.standard_normal((6, 3)))
    assert np.allclose(Xa, K.anderson_weights(Xs) @ Xs[1:], rtol=1e-8, atol=0)


def test_anderson_and_objective_kernels_agree_with_numpy_twins_and_definitions():
    rng = np.random.default_rng(5)
    x_star = rng.standard_normal(30)
    M = 0.5 * np.linalg.qr(rng.standard_normal((30, 30)))[0]   # a contracting linear iteration
    Xs = [rng.standard_normal(30)]
    for _ in range(5):
        Xs.append(x_star + M @ (Xs[-1] - x_star))
    Xs = np.asarray(Xs)
    Rs = rng.standard_normal((6, 12))
    Xa, Ra, csum = K.anderson_combine_numba(Xs, Rs)
    Xb, Rb, csum_b = K.anderson_combine_numpy(Xs, Rs)
    c = K.anderson_weights(Xs)
    assert np.allclose(Xa, Xb, rtol=1e-10, atol=1e-12) and np.allclose(Ra, Rb, rtol=1e-10, atol=1e-12)
    assert np.allclose(Xa, c @ Xs[1:]) and np.isclose(csum, np.abs(c).sum()) and np.isclose(csum, csum_b)
    assert np.isclose(c.sum(), 1.0)
    # the weights minimize the norm of the combined differences among weights summing to one
    D = np.diff(Xs, axis=0)
    for _ in range(20):
        d = rng.standard_normal(5)
        d -= d.mean()
        assert np.linalg.norm((c + 1e-3 * d) @ D) >= np.linalg.norm(c @ D) - 1e-12
    # identical iterates: no weights (singular Gram matrix), empty results from both
    same = np.ones((6, 4))
    assert K.anderson_combine_numba(same, Rs)[0].size == 0 and K.anderson_combine_numpy(same, Rs)[0].size == 0
    # objective: 0.5 ||R||^2 + sum_g t1 ||x_g||_1 + t2 ||x_g||_F, empty groups included
    X = rng.standard_normal((14, 2))
    R = rng.standard_normal((2, 9))
    ptr = np.array([0, 3, 3, 10, 14])
    t1, t2 = rng.random(4), rng.random(4)
    want = 0.5 * np.sum(R * R) + sum(t1[g] * np.abs(X[ptr[g]:ptr[g + 1]]).sum()
                                     + t2[g] * np.linalg.norm(X[ptr[g]:ptr[g + 1]]) for g in range(4))
    assert np.isclose(K.block_objective_numba(X, R, ptr, t1, t2), want, rtol=1e-13)
    assert np.isclose(K.block_objective_numpy(X, R, ptr, t1, t2), want, rtol=1e-13)


@pytest.mark.parametrize("kind", ["group", "sparse_group", "l1"])
def test_outer_loop_rules_keep_the_gap_certificate(monkeypatch, kind):
    """The working set's gap checked before another full epoch and the retried Anderson step without the
    groups it carried past zero, on or off, give the same certified optimum (a gap below tol * objective that
    bounds the distance to a tight reference)."""
    loss, pen = _problem(3, n=80, p=300, kind=kind, frac=0.05)
    ref = ss.fista(loss, pen, tol=1e-13, max_iter=200_000).objective
    rules = ("_GAP_BEFORE_FULL", "_ANDERSON_REVERSED")
    for on in [rules, ()] + [(r,) for r in rules]:
        for r in rules:
            monkeypatch.setattr(ws_module, r, r in on)
        res = ss.solve_block(loss, pen, tol=1e-8)
        assert res.converged and res.gap <= 1e-8 * res.objective
        assert res.objective - ref <= res.gap + 1e-12 * ref and ref - res.objective <= 1e-12 * ref
        assert abs(res.objective - float(loss.value(res.x) + pen(res.x))) <= 1e-12 * ref


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("kind", ["l1", "group"])
@pytest.mark.parametrize("stop", ["tol", "max_outer", "callback", "x0"])
def test_reported_objective_is_the_objective_at_x(sparse, kind, stop):
    """The result's objective is 0.5 ||y - A x||^2 + penalty(x) at the returned x, however the loop ends
    (the value computed at the last gap evaluation is reused, not recomputed)."""
    loss, pen = _problem(5, n=60, p=200, sparse=sparse, kind=kind, frac=0.05)
    options = {"tol": 1e-8}
    if stop == "max_outer":
        options.update(tol=1e-14, max_outer=1)
    elif stop == "callback":
        options.update(tol=1e-14, callback=lambda k, x, info: k >= 1)
    elif stop == "x0":
        options.update(x0=ss.solve_block(loss, pen.with_lam(2 * pen.lam), tol=1e-4).x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = ss.solve_block(loss, pen, **options)
    want = float(loss.value(res.x) + pen(res.x))
    assert abs(res.objective - want) <= 1e-12 * want
    assert res.converged == (stop in ("tol", "x0"))


def test_gap_after_a_phase_reuses_its_product_and_equals_the_full_product(monkeypatch):
    """After an active-set phase, the working set's gap multiplies only the zero groups' columns (the phase's
    last product covers the others at the same residual): it equals the gap from the whole product."""
    loss, pen = _problem(8, n=80, p=300, kind="group", frac=0.05)
    orig = ws_module._BlockSolver._gap
    seen = []

    def checked(self, Aws, ptr, t1, t2, Xw, R, proj, ops=None, known=None):
        gap = orig(self, Aws, ptr, t1, t2, Xw, R, proj, ops, known)
        if known is not None:
            full = orig(self, Aws, ptr, t1, t2, Xw, R, proj, ops)
            seen.append((gap, full))
        return gap

    monkeypatch.setattr(ws_module._BlockSolver, "_gap", checked)
    res = ss.solve_block(loss, pen, tol=1e-10)
    assert res.converged and seen
    for gap, full in seen:
        assert abs(gap - full) <= 1e-9 * abs(full) + 1e-12 * res.objective


def test_take_reversed_kernel_agrees_with_numpy_twin_and_definition():
    rng = np.random.default_rng(11)
    ptr = np.array([0, 3, 3, 5, 9, 10, 12])
    for k in (1, 2):
        X = rng.standard_normal((12, k))
        X[9] = 0.0                              # group 4 at zero
        X_acc = X + rng.standard_normal((12, k))
        X_acc[0:3] = -0.5 * X[0:3]              # group 0 reversed
        X_acc[5:9] = 2.0 * X[5:9]               # group 3 in the same direction: kept
        X_acc[10:12] = 0.0                      # group 5 zero: kept (nothing to take); group 1 is empty
        want = [g for g in range(ptr.size - 1) if np.any(X_acc[ptr[g]:ptr[g + 1]])
                and np.vdot(X_acc[ptr[g]:ptr[g + 1]], X[ptr[g]:ptr[g + 1]]) <= 0]
        assert 0 in want and 4 in want and not {1, 3, 5} & set(want)
        outs = []
        for take in (K.anderson_take_reversed_numba, K.anderson_take_reversed_numpy):
            Xa, D = X_acc.copy(), np.zeros_like(X_acc)
            count = take(Xa, X, D, ptr)
            assert count == len(want)
            for g in range(ptr.size - 1):
                rows = slice(ptr[g], ptr[g + 1])
                if g in want:
                    assert not np.any(Xa[rows]) and np.array_equal(D[rows], X_acc[rows])
                else:
                    assert np.array_equal(Xa[rows], X_acc[rows]) and not np.any(D[rows])
            outs.append((Xa, D))
        assert np.array_equal(outs[0][0], outs[1][0]) and np.array_equal(outs[0][1], outs[1][1])


def test_rejected_anderson_step_is_retried_without_the_groups_carried_past_zero():
    """Iterates of a group converging (at rate 0.9) to a point past zero: the extrapolation lands there, its
    penalty makes it worse than the current point, and the same step with that group at zero is better; the
    residual returned is the one of the returned point."""
    from structsparse.solvers.working_set import _BlockSolver

    rng = np.random.default_rng(2)
    A = rng.standard_normal((30, 4))
    ptr = np.array([0, 2, 4])
    t2 = np.array([0.1, 50.0])
    x0, v = rng.standard_normal(2), np.array([1.0, -0.5])
    y = A[:, :2] @ x0                                                 # group 0 at x0 fits y: group 1 should go
    iterates = np.array([np.concatenate([x0 + 0.9 ** t * v, -0.5 * v + 0.9 ** t * 1.5 * v]) for t in range(6)])
    Xw = iterates[-1].reshape(4, 1).copy()
    assert np.vdot(Xw[2:], v) > 0                                     # group 1 still on its side of zero

    def residual(X):
        return (y - A @ X[:, 0]).reshape(1, -1)

    def value(X, R):
        return 0.5 * float(np.sum(R * R)) + sum(t2[g] * np.linalg.norm(X[ptr[g]:ptr[g + 1]]) for g in range(2))

    residuals = np.array([residual(x.reshape(4, 1)).ravel() for x in iterates])
    for combine, take in ((K.anderson_combine_numba, K.anderson_take_reversed_numba),
                          (K.anderson_combine_numpy, K.anderson_take_reversed_numpy)):
        host = SimpleNamespace(anderson_combine=combine, take_reversed=take, Y=y.reshape(1, -1))
        R = residual(Xw)
        X_plain, _ = _BlockSolver._extrapolate(host, iterates, Xw, R, residuals, value, residual)
        assert X_plain is Xw                                           # rejected without the retry
        X, R_new = _BlockSolver._extrapolate(host, iterates, Xw, R, residuals, value, residual, ptr)
        assert not np.any(X[2:]) and value(X, R_new) < value(Xw, R)
        assert np.linalg.norm(R_new - residual(X)) <= 1e-12 * np.linalg.norm(y)


def test_reversed_groups_are_taken_in_a_solve(monkeypatch):
    """The retry runs in real solves (a 200x600 group lasso at 0.01 lam_max, where groups leave the support)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 600))
    y = A[:, :40] @ rng.standard_normal(40) + 0.1 * rng.standard_normal(200)
    groups = ss.Groups.contiguous(600, 5)
    lam = 0.01 * ss.lambda_max(ss.LeastSquares(A, y), ss.GroupLasso(groups, 1.0))
    taken = []
    orig = K.anderson_take_reversed_numba if ws_module.NUMBA_ENABLED else K.anderson_take_reversed_numpy

    def spy(*args):
        count = orig(*args)
        taken.append(count)
        return count

    monkeypatch.setattr(ws_module, "anderson_take_reversed_numba", spy)
    monkeypatch.setattr(ws_module, "anderson_take_reversed_numpy", spy)
    res = ss.solve_block(ss.LeastSquares(A, y), ss.GroupLasso(groups, lam), tol=1e-10)
    assert res.converged and any(c > 0 for c in taken)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_sparse_lasso_subproblems_are_solved_further_for_fewer_outer_iterations(monkeypatch, fmt):
    """The sparse lasso's subproblems go to a smaller fraction of the outer gap than skglm's 0.3: no more outer
    iterations on any run, fewer on some, every run certified to tol of the optimum; dense designs keep 0.3."""
    small = ws_module._INNER_FRAC_SPARSE
    assert small < 0.3
    runs = {}
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        A = sp.random(1000, 1000, density=2e-3, format="csc", random_state=seed, data_rvs=rng.standard_normal)
        y = A @ np.where(rng.random(1000) < 0.01, rng.standard_normal(1000), 0.0) + 0.1 * rng.standard_normal(1000)
        loss = ss.LeastSquares(A.asformat(fmt), y)
        pen = ss.L1(0.01 * ss.lambda_max(loss, ss.L1(1.0)))
        best = ss.solve_block(loss, pen, tol=1e-13).objective
        for frac in (0.3, small):
            monkeypatch.setattr(ws_module, "_INNER_FRAC_SPARSE", frac)
            runs[seed, frac] = res = ss.solve_block(loss, pen, tol=1e-6)
            assert res.converged and res.objective - best <= 1e-6 * best
    assert all(runs[s, small].n_iter <= runs[s, 0.3].n_iter for s in (0, 1))
    assert sum(runs[s, small].n_iter for s in (0, 1)) < sum(runs[s, 0.3].n_iter for s in (0, 1))
    dense = ss.LeastSquares(A.toarray(), y)
    before = ss.solve_block(dense, pen, tol=1e-6)   # (the last frac set: small)
    monkeypatch.setattr(ws_module, "_INNER_FRAC_SPARSE", 0.3)
    after = ss.solve_block(dense, pen, tol=1e-6)
    np.testing.assert_array_equal(before.x, after.x)
    assert before.history["epochs"] == after.history["epochs"]
