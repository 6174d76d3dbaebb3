"""Sparse-design kernels of the block solver (issue 15): numba against numpy twins and scipy, and their use.

The fused first product (``A^T y`` with the squared column norms, CSC), the column counts of a CSR design and
the working-set gather that uses them are checked against scipy on CSC and CSR matrices with int32 and int64
indices, including empty columns and rows; a lasso on the same design given as CSC and as CSR reaches the
same objective as the dense design (the kernels feed the solver, not only the tests).
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse.solvers import _design_kernels as D


def _random_sparse(rng, n, p, density, fmt, index_dtype):
    A = sp.random(n, p, density=density, random_state=rng, format="csc")
    keep_cols, keep_rows = np.ones(p), np.ones(n)
    keep_cols[3] = 0.0            # an empty column
    keep_rows[5] = 0.0            # an empty row
    A = sp.csc_matrix(sp.diags(keep_rows) @ A @ sp.diags(keep_cols))
    A.eliminate_zeros()
    A = A.asformat(fmt)
    A.sort_indices()
    A.indices = A.indices.astype(index_dtype)
    A.indptr = A.indptr.astype(index_dtype)
    return A


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_fused_product_and_column_norms_agree_with_scipy(index_dtype):
    rng = np.random.default_rng(3)
    n, p = 40, 70
    A = _random_sparse(rng, n, p, 0.15, "csc", index_dtype)
    dense = A.toarray()
    r = rng.standard_normal(n)
    want_u, want_n2 = dense.T @ r, (dense * dense).sum(axis=0)
    results = [fn(A.data, A.indices, A.indptr, r) for fn in (D.csc_rmatvec_colnorm2_numba,
                                                              D.csc_rmatvec_colnorm2_numpy)]
    for u, n2 in results:
        assert u.dtype == np.float64 and n2.dtype == np.float64 and u.shape == n2.shape == (p,)
        np.testing.assert_allclose(u, want_u, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(n2, want_n2, rtol=1e-12, atol=1e-15)
        assert n2[3] == 0.0 and u[3] == 0.0
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_csr_counts_and_counted_gather_agree_with_scipy(index_dtype):
    rng = np.random.default_rng(4)
    n, p = 35, 60
    A = _random_sparse(rng, n, p, 0.2, "csr", index_dtype)
    dense = A.toarray()
    want_counts = (dense != 0).sum(axis=0)
    for fn in (D.csr_colcounts_numba, D.csr_colcounts_numpy):
        counts = fn(A.indices, p)
        assert counts.dtype == np.int32
        np.testing.assert_array_equal(counts, want_counts)
    counts = D.csr_colcounts_numba(A.indices, p)
    # both placements run: a list of hits (under a tenth of the entries: one column, none) and row by row
    assert 10 * counts[3] < A.nnz and 10 * counts.sum() >= A.nnz
    for cols in (rng.permutation(p)[:23], np.array([3]), np.arange(p), np.array([], dtype=np.int64)):
        cols = np.ascontiguousarray(cols, dtype=np.int64)
        outs = [fn(A.data, A.indices, A.indptr, cols, counts, p)
                for fn in (D.csr_gather_counted_numba, D.csr_gather_counted_numpy)]
        outs.append(D.csr_gather_numba(A.data, A.indices, A.indptr, cols, p))   # the uncounted kernel
        unsigned = np.dtype(f"u{np.dtype(index_dtype).itemsize}")
        for data, rows, ptr in outs:
            assert data.dtype == np.float64 and rows.dtype == unsigned and ptr.dtype == unsigned
            got = sp.csc_matrix((data, rows, ptr), shape=(n, cols.size)).toarray()
            np.testing.assert_array_equal(got, dense[:, cols])
            for j in range(cols.size):            # rows increase within every column
                assert np.all(np.diff(rows[ptr[j]:ptr[j + 1]]) > 0)
        for other in outs[1:]:
            for a, b in zip(outs[0], other):
                np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_lasso_on_a_sparse_design_matches_the_dense_design(fmt):
    """The solver's first product (fused with the column norms) and CSR gathers give the dense solution."""
    rng = np.random.default_rng(5)
    n, p = 80, 300
    A = _random_sparse(rng, n, p, 0.1, fmt, np.int32)
    y = A @ np.r_[rng.standard_normal(5), np.zeros(p - 5)] + 0.01 * rng.standard_normal(n)
    dense = A.toarray()
    for frac in (0.1, 0.01):
        lam = frac * np.abs(dense.T @ y).max()
        sparse_res = ss.solve_block(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-10)
        dense_res = ss.solve_block(ss.LeastSquares(np.asfortranarray(dense), y), ss.L1(lam), tol=1e-10)
        assert sparse_res.converged and dense_res.converged
        np.testing.assert_allclose(sparse_res.objective, dense_res.objective, rtol=1e-8)
        np.testing.assert_allclose(sparse_res.x, dense_res.x, atol=1e-5 * max(1.0, np.abs(dense_res.x).max()))
        # the column norms the solver kept are the true ones (they came from the fused product for CSC)
        kept = ss.LeastSquares(A, y)
        ss.solve_block(kept, ss.L1(lam), tol=1e-6)
        np.testing.assert_allclose(kept._block_design.colnorm2, (dense * dense).sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_unsigned_view_shares_memory_and_values(index_dtype):
    a = np.array([0, 5, 2**20, 7], dtype=index_dtype)
    u = D.unsigned_view(a)
    assert u.dtype == np.dtype(f"u{a.dtype.itemsize}") and np.shares_memory(u, a)
    np.testing.assert_array_equal(u.astype(np.int64), a.astype(np.int64))
    assert D.unsigned_view(u) is u
    with pytest.raises(TypeError, match="integer index array"):
        D.unsigned_view(np.zeros(3))


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_solver_columns_reach_the_kernels_with_unsigned_indices(fmt, index_dtype):
    """The working-set columns the epoch kernels read (gathered, from the CSR store, or every CSC column in
    place) carry unsigned indices of the design's width, and hold the design's columns; the caller's arrays
    keep their type."""
    from structsparse.solvers.working_set import _Design

    rng = np.random.default_rng(6)
    n, p = 30, 40
    A = _random_sparse(rng, n, p, 0.2, fmt, index_dtype)
    dense = A.toarray()
    design = _Design(A)
    unsigned = np.dtype(f"u{np.dtype(index_dtype).itemsize}")
    for cols, whole in ((np.array([7, 1, 30]), False), (np.array([2, 7, 11, 39]), False), (np.arange(p), True)):
        data, rows, ptr = design.columns(cols, whole=whole)
        assert rows.dtype == unsigned and ptr.dtype == unsigned
        got = sp.csc_matrix((data, rows.astype(np.int64), ptr.astype(np.int64)), shape=(n, cols.size)).toarray()
        np.testing.assert_array_equal(got, dense[:, cols])
        if whole and fmt == "csc":
            assert np.shares_memory(rows, A.indices) and np.shares_memory(ptr, A.indptr)   # a view, no copy
    assert A.indices.dtype == index_dtype and A.indptr.dtype == index_dtype


def test_unsigned_kernels_give_the_signed_results():
    """Each wrapped kernel (unsigned views) equals its kernel run on the signed arrays themselves."""
    rng = np.random.default_rng(7)
    n, p = 25, 45
    A = _random_sparse(rng, n, p, 0.2, "csc", np.int64)
    r = rng.standard_normal(n)
    cols = np.array([4, 0, 33, 12], dtype=np.int64)
    for fn, args in ((D.csc_rmatvec_colnorm2_numba, (A.data, A.indices, A.indptr, r)),
                     (D.csc_gather_numba, (A.data, A.indices, A.indptr, cols)),
                     (D.csc_colnorm2_numba, (A.data, A.indptr))):
        wrapped, signed = fn(*args), fn.kernel(*args)
        for a, b in zip(wrapped, signed):
            # the same entries and indices exactly; sums under fastmath's reassociation may round apart by an ulp or
            # two (two compilations, unsigned and signed loop bounds, need not vectorize alike: seen on an AMD EPYC)
            np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=4e-16 * n, atol=0)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_rmatvec_kernels_agree_with_scipy(fmt, index_dtype):
    """``A^T r`` (the outer loop's product for one target) from the numba kernels and their numpy twins."""
    rng = np.random.default_rng(8)
    n, p = 45, 70
    A = _random_sparse(rng, n, p, 0.15, fmt, index_dtype)
    r = rng.standard_normal(n)
    r[7] = 0.0                                   # a zero entry of r (the CSR kernel skips its row)
    want = A.toarray().T @ r
    if fmt == "csc":
        got = [fn(A.data, A.indices, A.indptr, r) for fn in (D.csc_rmatvec_numba, D.csc_rmatvec_numpy)]
    else:
        got = [fn(A.data, A.indices, A.indptr, r, p) for fn in (D.csr_rmatvec_numba, D.csr_rmatvec_numpy)]
    for u in got:
        assert u.dtype == np.float64 and u.shape == (p,)
        np.testing.assert_allclose(u, want, rtol=1e-12, atol=1e-13)
        assert u[3] == 0.0                       # the empty column
    np.testing.assert_allclose(got[0], got[1], rtol=1e-12, atol=1e-13)


def _gathered_columns(rng, n, p, density, index_dtype):
    """A random CSC design (an empty column, an empty row) as the unsigned arrays the epochs receive."""
    A = _random_sparse(rng, n, p, density, "csc", index_dtype)
    data, rows, ptr = D.csc_gather_numba(A.data, A.indices, A.indptr, np.arange(p, dtype=np.int64))
    return A, data, rows, ptr


def _assert_lasso_optimal(dense, x, r, thr, atol):
    """Subgradient conditions of ``0.5 ||y - A x||^2 + sum_j thr_j |x_j|`` at ``x`` with residual ``r``."""
    g = dense.T @ r
    on = x != 0
    np.testing.assert_allclose(g[on], thr[on] * np.sign(x[on]), atol=atol)
    assert np.all(np.abs(g[~on]) <= thr[~on] + atol)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_singleton_epoch_twins_agree_with_the_block_epoch(index_dtype):
    """The lasso epoch (numba, numpy twin) takes the block epoch's steps on single columns, t1 and t2 both
    counted, an empty column skipped; epochs run to a point that meets the lasso's optimality conditions."""
    from structsparse.solvers._block_kernels import bcd_epoch_sparse_numba

    rng = np.random.default_rng(9)
    n, p = 60, 90
    A, data, rows, ptr = _gathered_columns(rng, n, p, 0.15, index_dtype)
    dense = A.toarray()
    y = dense[:, :4] @ rng.standard_normal(4) + 0.1 * rng.standard_normal(n)
    lips = (dense * dense).sum(axis=0) * (1 + 1e-10)
    assert lips[3] == 0.0
    t1 = np.full(p, 0.05 * np.abs(dense.T @ y).max())
    t2 = np.zeros(p)
    t2[::3] = 0.3 * t1[0]                          # a one-column group's norm is |x_j|: same threshold as l1
    runs = {}
    for name in ("numba", "numpy", "block"):
        r, x = y.copy(), np.zeros(p)
        for _ in range(4):
            if name == "block":
                bcd_epoch_sparse_numba(data, rows, ptr, r.reshape(1, -1), x.reshape(-1, 1),
                                       np.arange(p + 1, dtype=np.int64), t1, t2, lips, np.zeros((2, 1)))
            else:
                fn = D.csc_singleton_epoch_numba if name == "numba" else D.csc_singleton_epoch_numpy
                fn(data, rows, ptr, r, x, t1, t2, lips)
        runs[name] = (x, r)
        np.testing.assert_allclose(r, y - dense @ x, atol=1e-11)   # the residual follows x
    for name in ("numpy", "block"):
        np.testing.assert_allclose(runs["numba"][0], runs[name][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(runs["numba"][1], runs[name][1], rtol=1e-10, atol=1e-12)
    assert np.count_nonzero(runs["numba"][0]) > 0 and runs["numba"][0][3] == 0.0
    r, x = y.copy(), np.zeros(p)
    for _ in range(3000):
        D.csc_singleton_epoch_numba(data, rows, ptr, r, x, t1, t2, lips)
    _assert_lasso_optimal(dense, x, r, t1 + t2, atol=1e-9)


def test_block_epoch_dispatch_writes_through_and_keeps_groups_general():
    """:func:`csc_block_epoch` updates the caller's (1, n) and (m, 1) arrays in place on single columns, and
    runs the general block epoch for groups and for several targets (same result as calling it)."""
    from structsparse.solvers._block_kernels import bcd_epoch_sparse_numba

    rng = np.random.default_rng(10)
    n, p = 40, 30
    A, data, rows, ptr = _gathered_columns(rng, n, p, 0.2, np.int32)
    dense = A.toarray()
    lips = (dense * dense).sum(axis=0) * (1 + 1e-10)
    Y = rng.standard_normal((2, n))
    t1, t2 = np.full(p, 0.5), np.zeros(p)
    single = np.arange(p + 1, dtype=np.int64)
    for fn in (D.csc_block_epoch, D.csc_block_epoch_numpy):
        R, X = Y[:1].copy(), np.zeros((p, 1))
        fn(data, rows, ptr, R, X, single, t1, t2, lips, np.zeros((2, 1)))
        R2, X2 = Y[:1].copy(), np.zeros((p, 1))
        bcd_epoch_sparse_numba(data, rows, ptr, R2, X2, single, t1, t2, lips, np.zeros((2, 1)))
        assert np.any(X != 0)
        np.testing.assert_allclose(X, X2, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(R, R2, rtol=1e-10, atol=1e-13)
    # groups of 3 columns (their Lipschitz bound: the squared Frobenius norm), and two targets on single columns
    groups = np.arange(0, p + 1, 3, dtype=np.int64)
    glips = np.add.reduceat(lips, groups[:-1])
    for ptr_g, lips_g, Yk in ((groups, glips, Y[:1]), (single, lips, Y)):
        outs = []
        for fn in (D.csc_block_epoch, D.csc_block_epoch_numpy, bcd_epoch_sparse_numba):
            R, X = Yk.copy(), np.zeros((p, Yk.shape[0]))
            fn(data, rows, ptr, R, X, ptr_g, t1[:ptr_g.size - 1], t2[:ptr_g.size - 1], lips_g,
               np.zeros((6, Yk.shape[0])))
            outs.append((X, R))
        for X, R in outs[1:]:
            np.testing.assert_allclose(X, outs[0][0], rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(R, outs[0][1], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("k", [1, 2])
def test_ws_gradient_agrees_with_the_dense_product(k):
    rng = np.random.default_rng(11)
    n, p = 50, 35
    A, data, rows, ptr = _gathered_columns(rng, n, p, 0.2, np.int64)
    R = rng.standard_normal((k, n))
    U = D.csc_ws_gradient_numba(data, rows, ptr, R)
    assert U.shape == (p, k)
    np.testing.assert_allclose(U, A.toarray().T @ R.T, rtol=1e-12, atol=1e-13)
    assert np.all(U[3] == 0.0)


def test_a_float64_csc_design_is_validated_by_its_column_norms_pass():
    """A float64 CSC design: the datafit's one pass gives the column norms and ``A^T y`` the solver uses
    (read-only; the product is handed over to the first solve, not kept), and bad entries still raise the exact
    checks' errors, naming A, before a bad y's."""
    from structsparse.exceptions import ParameterError

    rng = np.random.default_rng(12)
    n, p = 30, 25
    A = _random_sparse(rng, n, p, 0.3, "csc", np.int32)
    y = rng.standard_normal(n)
    loss = ss.LeastSquares(A, y)
    np.testing.assert_allclose(loss._colnorm2, (A.toarray() ** 2).sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(loss._dual0_product, A.toarray().T @ y, rtol=1e-12, atol=1e-13)
    assert not loss._colnorm2.flags.writeable and not loss._dual0_product.flags.writeable
    lam = 0.1 * np.abs(A.T @ y).max()
    res = ss.solve_block(loss, ss.L1(lam), tol=1e-8)
    assert loss._block_design.colnorm2 is loss._colnorm2          # no second pass in the solver
    assert loss._dual0_product is None                              # taken by the solve
    again = ss.solve_block(loss, ss.L1(lam), tol=1e-8)              # a second solve computes it itself
    np.testing.assert_allclose(again.objective, res.objective, rtol=1e-12)
    dense = ss.solve_block(ss.LeastSquares(np.asfortranarray(A.toarray()), y), ss.L1(lam), tol=1e-8)
    np.testing.assert_allclose(res.objective, dense.objective, rtol=1e-7)
    assert ss.LeastSquares(A, np.c_[y, -y])._dual0_product is None   # several targets: the norms only
    assert ss.LeastSquares(A.tocsr(), y)._colnorm2 is None          # CSR: the exact checks, as before
    for bad, match in ((np.nan, "finite"), (np.inf, "finite"), (-np.inf, "finite"), (1e200, "largest entry")):
        B = A.copy()
        B.data[4] = bad
        with pytest.raises(ParameterError, match=match) as info:
            ss.LeastSquares(B, y)
        assert "'A'" in str(info.value)
        with pytest.raises(ParameterError, match=match):             # A's error first, as before
            ss.LeastSquares(B, np.full(n, np.nan))
    assert np.all(np.isfinite(A.data))                               # the caller's design is untouched


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_csc_norms_and_product_pass_agrees_with_scipy(index_dtype):
    """The validation pass of a CSC design (numba, numpy twin): squared column norms and ``A^T v``, float64 and
    float32 entries, an empty column; NaN and inf reach both outputs."""
    from structsparse import _float32 as F

    rng = np.random.default_rng(13)
    n, p = 40, 33
    A = _random_sparse(rng, n, p, 0.2, "csc", index_dtype)
    v = rng.standard_normal(n)
    for dtype in (np.float64, np.float32):
        B = A.astype(dtype)
        dense = B.toarray().astype(np.float64)
        for sq, dot in (F.csc_colnorm_rmatvec(B, v), F.compressed_sq_dot_numpy(B.data, B.indices, B.indptr, v)):
            np.testing.assert_allclose(sq, (dense * dense).sum(axis=0), rtol=1e-12)
            np.testing.assert_allclose(dot, dense.T @ v, rtol=1e-12, atol=1e-13)
            assert sq[3] == 0.0 and dot[3] == 0.0
    B = A.copy()
    col = int(np.flatnonzero(np.diff(B.indptr))[0])
    B.data[B.indptr[col]] = np.nan
    sq, dot = F.csc_colnorm_rmatvec(B, v)
    assert np.isnan(sq[col]) and np.isnan(dot[col]) and np.isfinite(np.delete(sq, col)).all()


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_gram_of_gathered_columns_agrees_with_numpy_twin_and_dense(index_dtype):
    """``csc_gram_numba`` on columns gathered in any order (an empty one included) equals the dense
    ``A_S^T A_S`` and its numpy twin, and is symmetric."""
    rng = np.random.default_rng(7)
    n, p = 30, 50
    A = _random_sparse(rng, n, p, 0.2, "csc", index_dtype)
    cols = np.array([7, 3, 0, 41, 7, 12, 29], dtype=np.int64)   # shuffled, column 3 empty, column 7 twice
    data, rows, colptr = D.csc_gather_numba(A.data, A.indices, A.indptr, cols)
    want = A.toarray()[:, cols].T @ A.toarray()[:, cols]
    G = D.csc_gram_numba(data, rows, colptr, n)
    assert G.shape == (cols.size, cols.size) and G.dtype == np.float64
    np.testing.assert_allclose(G, want, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(D.csc_gram_numpy(data, rows, colptr, n), G, rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(G, G.T)
    assert np.all(G[1] == 0.0)


def test_gram_sums_repeated_entries_of_a_column():
    """A column holding the same row twice (unsummed CSC arrays) counts as their sum, as in scipy."""
    data = np.array([1.0, 2.0, 3.0, -1.0, 4.0])
    rows = np.array([0, 2, 0, 1, 2], dtype=np.int64)   # column 0: rows 0, 2, 0 (row 0 twice); column 1: rows 1, 2
    colptr = np.array([0, 3, 5], dtype=np.int64)
    dense = np.zeros((3, 2))
    for j in range(2):
        for q in range(colptr[j], colptr[j + 1]):
            dense[rows[q], j] += data[q]
    want = dense.T @ dense
    np.testing.assert_allclose(D.csc_gram_numba(data, rows, colptr, 3), want, rtol=1e-14)
    np.testing.assert_allclose(D.csc_gram_numpy(data, rows, colptr, 3), want, rtol=1e-14)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("first", [None, "some"])
def test_csr_whole_design_is_gathered_in_column_order_once(monkeypatch, index_dtype, first):
    """Every column of a CSR design (the whole problem's working set) comes from one gather in column order:
    the same arrays as the store-and-regather path and as scipy's CSC copy, whether some columns were stored
    before or none; a second call returns the store itself."""
    from structsparse.solvers import working_set as W

    rng = np.random.default_rng(4)
    A = _random_sparse(rng, 70, 90, 0.1, "csr", index_dtype)
    p = A.shape[1]
    cols = np.arange(p)
    out = {}
    for flag in (False, True):
        monkeypatch.setattr(W, "_CSR_WHOLE_IN_ORDER", flag)
        design = W._Design(A)
        if first:
            design.columns(np.array([7, 2, 40, 41]))
        out[flag] = design.columns(cols, whole=True)
        if flag:
            assert design._used == p and np.array_equal(design._slot, cols)
            again = design.columns(cols, whole=True)
            assert all(a is b for a, b in zip(again, out[flag]))
    ref = A.tocsc()
    ref.sort_indices()
    for (a, b), expect in zip(zip(out[False], out[True]), (ref.data, ref.indices, ref.indptr)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(b, expect)
    assert out[True][1].dtype.kind == "u" and out[True][1].itemsize == np.dtype(index_dtype).itemsize
