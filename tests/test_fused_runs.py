"""The sparse lasso's subproblem in few kernel calls (issue 15): its epochs and Anderson steps between two gap
checks in one call (storing the residual rows its columns touch only), and its gap in one call.

The kernels (:func:`csc_singleton_run_numba`, :func:`csc_touched_rows_numba`, :func:`csc_singleton_gap_numba`)
agree with their numpy twins and with dense computations; the fused run takes the same steps as the Python loop
it replaces (the same iterates, bitwise, with whole or compact stores), and the fused gap stops the subproblems
where the plain one did (the same iterates on the test problems).
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse._numba import NUMBA_ENABLED
from structsparse.solvers import _block_kernels as B
from structsparse.solvers import _design_kernels as D
from structsparse.solvers import working_set as W


def _columns(rng, n, m, density, index_dtype):
    """Compact CSC arrays of m random sparse columns (one of them empty), unsigned indices as the gathers give."""
    A = sp.random(n, m, density=density, random_state=rng, format="csc")
    A = sp.csc_matrix(A @ sp.diags(np.r_[1.0, 0.0, np.ones(m - 2)]))   # column 1 empty
    A.eliminate_zeros()
    A.sort_indices()
    return (A.data.copy(), D.unsigned_view(A.indices.astype(index_dtype)),
            D.unsigned_view(A.indptr.astype(index_dtype)), A.toarray())


def _subproblem(rng, n=60, m=25, density=0.05, index_dtype=np.int32):
    data, rows, colptr, dense = _columns(rng, n, m, density, index_dtype)
    y = rng.standard_normal(n)
    lam = 0.2 * np.abs(dense.T @ y).max()
    t1, t2 = np.full(m, lam), np.zeros(m)
    lips = (dense * dense).sum(axis=0) * (1.0 + 1e-10)
    return data, rows, colptr, dense, y, t1, t2, lips


def _assert_same_run(a, b, exact):
    for u, v in zip(a, b):
        if exact:
            np.testing.assert_array_equal(u, v)
        else:   # the twins' Anderson weights solve a nearly singular system differently (LAPACK, elimination)
            np.testing.assert_allclose(u, v, rtol=1e-8, atol=1e-10)


def _buffers(depth, m, n, touched):
    """Anderson buffers of the fused run: whole residuals, or the touched rows then the identity (compact)."""
    if not touched.size or not depth:
        return np.zeros((depth, m)), np.zeros((depth, n))
    residuals = np.zeros((depth, touched.size + depth - 1))
    residuals[:, touched.size:] = np.eye(depth, depth - 1, -1)
    return np.zeros((depth, m)), residuals


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("depth, exact_weights, take_reversed", [(6, 100.0, True), (6, 0.0, True), (6, 100.0, False),
                                                                 (0, 100.0, True)])
@pytest.mark.parametrize("compact", [False, True])
def test_singleton_run_twins_agree(index_dtype, depth, exact_weights, take_reversed, compact):
    rng = np.random.default_rng(11)
    data, rows, colptr, dense, y, t1, t2, lips = _subproblem(rng, index_dtype=index_dtype)
    n, m = dense.shape
    ptr = np.arange(m + 1, dtype=np.int64)
    touched = D.csc_touched_rows_numba(rows, int(colptr[-1]), n)[0] if compact else np.zeros(0, dtype=np.int64)
    assert touched.size < n or not compact   # some rows untouched: the compact stores are exercised
    out = []
    for run in (D.csc_singleton_run_numba, D.csc_singleton_run_numpy):
        x, r = np.zeros(m), y.copy()
        iterates, residuals = _buffers(depth, m, n, touched)
        stored = 0
        for n_epochs in (4, 9, 1, 8):   # Anderson steps inside calls and across them
            stored = run(data, rows, colptr, r, x, ptr, t1, t2, lips, n_epochs, iterates, residuals, stored,
                         y.reshape(1, -1), exact_weights, take_reversed, touched)
        out.append((x, r, stored))
    _assert_same_run(out[0][:2], out[1][:2], exact=False)
    assert out[0][2] == out[1][2] == (22 % depth if depth else 0)
    x, r = out[0][:2]
    np.testing.assert_allclose(r, y - dense @ x, atol=1e-12)   # the residual stays y - A x through the steps
    assert np.count_nonzero(x) > 0


def _python_loop(data, rows, colptr, y, t1, t2, lips, n_epochs, depth, take_reversed):
    """The loop the fused run replaces: one epoch call each, Anderson steps by _BlockSolver._extrapolate."""
    m, n = colptr.size - 1, y.size
    ptr = np.arange(m + 1, dtype=np.int64)
    X, R, Y = np.zeros((m, 1)), y.reshape(1, -1).copy(), y.reshape(1, -1)
    solver = W._BlockSolver.__new__(W._BlockSolver)
    solver.anderson_combine, solver.take_reversed = B.anderson_combine_numba, B.anderson_take_reversed_numba
    solver.Y = Y

    def value(Xw, Rw):
        return B.block_objective_numba(Xw, Rw, ptr, t1, t2)

    def residual(Xw):
        return B.ws_residual_sparse_numba(data, rows, colptr, Xw, Y)

    iterates, residuals, stored = np.empty((depth, m)), np.empty((depth, n)), 0
    for _ in range(n_epochs):
        D.csc_block_epoch(data, rows, colptr, R, X, ptr, t1, t2, lips, None)
        iterates[stored], residuals[stored] = X.ravel(), R.ravel()
        stored += 1
        if stored == depth:
            X, R = solver._extrapolate(iterates, X, R, residuals, value, residual, ptr if take_reversed else None)
            stored = 0
    return X[:, 0], R[0]


@pytest.mark.skipif(not NUMBA_ENABLED, reason="the fused run is the numba path")
@pytest.mark.parametrize("take_reversed", [True, False])
@pytest.mark.parametrize("compact", [False, True])
def test_fused_run_takes_the_python_loops_steps_bitwise(take_reversed, compact):
    rng = np.random.default_rng(5)
    data, rows, colptr, dense, y, t1, t2, lips = _subproblem(rng, n=80, m=30)
    n, m = dense.shape
    want = _python_loop(data, rows, colptr, y, t1, t2, lips, 25, W._ANDERSON_K + 1, take_reversed)
    touched = D.csc_touched_rows_numba(rows, int(colptr[-1]), n)[0] if compact else np.zeros(0, dtype=np.int64)
    assert touched.size < n or not compact
    x, r = np.zeros(m), y.copy()
    iterates, residuals = _buffers(W._ANDERSON_K + 1, m, n, touched)
    stored = D.csc_singleton_run_numba(data, rows, colptr, r, x, np.arange(m + 1, dtype=np.int64), t1, t2, lips, 25,
                                       iterates, residuals, 0, y.reshape(1, -1), W._EXACT_RESIDUAL_WEIGHTS,
                                       take_reversed, touched)
    assert stored == 25 % (W._ANDERSON_K + 1)
    _assert_same_run((x, r), want, exact=True)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_touched_rows_twins_agree_and_map_every_entry(index_dtype):
    rng = np.random.default_rng(2)
    data, rows, colptr, dense, *_ = _columns(rng, 50, 12, 0.1, index_dtype)
    nnz = int(colptr[-1])
    results = [fn(rows, nnz, 50) for fn in (D.csc_touched_rows_numba, D.csc_touched_rows_numpy)]
    for touched, local in results:
        assert local.dtype == rows.dtype and touched.dtype == np.int64
        np.testing.assert_array_equal(touched, np.flatnonzero(np.abs(dense).sum(axis=1)))   # sorted, no repeats
        np.testing.assert_array_equal(touched[local.astype(np.int64)], rows[:nnz])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    touched, local = D.csc_touched_rows_numba(rows, 0, 50)   # no entries: no rows
    assert touched.size == 0 and local.size == 0


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_singleton_gap_twins_agree_with_the_dense_gap(index_dtype):
    rng = np.random.default_rng(8)
    data, rows, colptr, dense, y, t1, t2, lips = _subproblem(rng, index_dtype=index_dtype)
    n, m = dense.shape
    t1[3] = 0.0   # an unpenalized column: left out of the scaling
    x = np.where(rng.random(m) < 0.3, rng.standard_normal(m), 0.0)
    r = y - dense @ x
    u = dense.T @ r
    scale = max(1.0, np.max(np.abs(u) / np.where(t1 + t2 > 0, t1 + t2, np.inf)))
    want = 0.5 * r @ r + (t1 + t2) @ np.abs(x) - (0.5 * y @ y - 0.5 * np.sum((y - r / scale) ** 2))
    ptr = np.arange(m + 1, dtype=np.int64)
    for fn in (D.csc_singleton_gap_numba, D.csc_singleton_gap_numpy):
        U, gap, primal = fn(data, rows, colptr, r, x, ptr, t1, t2, y, float(y @ y))
        assert primal == pytest.approx(0.5 * r @ r + (t1 + t2) @ np.abs(x), rel=1e-12)
        assert U.shape == (m, 1)
        np.testing.assert_allclose(U[:, 0], u, rtol=1e-12, atol=1e-13)
        assert gap == pytest.approx(want, rel=1e-12, abs=1e-12)


def _sparse_lasso(seed, fmt, density, frac, n=300, p=900):
    rng = np.random.default_rng(seed)
    A = sp.random(n, p, density=density, random_state=rng, format="csc")
    x_true = np.zeros(p)
    x_true[rng.choice(p, 15, replace=False)] = rng.standard_normal(15)
    y = A @ x_true + 0.1 * rng.standard_normal(n)
    A = A.asformat(fmt)
    lam = frac * ss.lambda_max(ss.LeastSquares(A, y), ss.L1(1.0))
    return A, y, lam


def _spy(monkeypatch, name):
    """Record ``(args, result)`` of each call of working_set's ``name`` (the kernel still runs)."""
    calls, kernel = [], getattr(W, name)

    def spy(*args):
        out = kernel(*args)
        calls.append((args, out))
        return out
    monkeypatch.setattr(W, name, spy)
    return calls


# the solves compared with and without a fused kernel: both formats, densities below and above the compact stores
_LASSO_CELLS = pytest.mark.parametrize("fmt, density, frac", [(fmt, d, f) for fmt in ("csc", "csr")
                                                              for d, f in ((0.01, 0.1), (0.01, 0.02), (0.05, 0.05))])


def _solve(A, y, lam):
    res = ss.solve(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-8)
    return res.x, res.n_iter, list(res.history["epochs"]), list(res.history["ws_size"]), res.objective


def _assert_same_solve(got, want):
    """The same steps, bitwise: ``x``, outer iterations, epochs, working sets and objective of :func:`_solve`."""
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1:] == want[1:]


@pytest.mark.skipif(not NUMBA_ENABLED, reason="the fused run is the numba path")
@_LASSO_CELLS
def test_fused_runs_keep_the_sparse_lassos_iterates(monkeypatch, fmt, density, frac):
    A, y, lam = _sparse_lasso(1, fmt, density, frac)
    calls = _spy(monkeypatch, "csc_touched_rows_numba")
    fused = _solve(A, y, lam)
    widths = [(out[0].size, args[2]) for args, out in calls]
    # some subproblem stored its touched rows only (at density 0.05 the working sets' columns hold more entries
    # than there are rows: none looked for them)
    assert any(w <= W._COMPACT_FRAC * n for w, n in widths) == (density < 0.05)
    monkeypatch.setattr(W, "_COMPACT_STORES", False)
    whole = _solve(A, y, lam)
    monkeypatch.setattr(W, "_FUSED_RUNS", False)
    loop = _solve(A, y, lam)
    _assert_same_solve(fused, whole)
    _assert_same_solve(fused, loop)


@pytest.mark.skipif(not NUMBA_ENABLED, reason="the fused gap is the numba path")
@_LASSO_CELLS
def test_fused_gap_keeps_the_sparse_lassos_iterates(monkeypatch, fmt, density, frac):
    A, y, lam = _sparse_lasso(2, fmt, density, frac)
    calls = _spy(monkeypatch, "csc_singleton_gap_numba")
    fused = _solve(A, y, lam)
    assert calls   # the subproblems' gaps came from the kernel
    monkeypatch.setattr(W, "_FUSED_GAP", False)
    plain = _solve(A, y, lam)
    # the same stops (the gaps differ from the BLAS dot product's in their last bits at most): the same iterates
    _assert_same_solve(fused, plain)
