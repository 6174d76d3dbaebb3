"""The sparse lasso's outer products and subproblem set-up: faster paths that compute the same bits.

Each change is behind a module flag of :mod:`structsparse.solvers.working_set`; a whole solve with the flag on
must give the same ``x`` and history, bit for bit, as with it off (CSC and CSR designs).
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
import structsparse.solvers._design_kernels as D
import structsparse.solvers.working_set as W


def _short_columns(rng, n, p, index_dtype):
    """A CSC design of about one entry a column: empty columns, a few long ones (past the fixed width, and past
    the 8 entries where the plain dot product's vector loop starts), and long columns at the end."""
    lengths = rng.poisson(0.8, p)
    lengths[rng.choice(p, 12, replace=False)] = rng.integers(4, 30, 12)
    lengths[-3:] = [9, 0, 5]
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate([np.sort(rng.choice(n, k, replace=False)) for k in lengths]).astype(index_dtype)
    data = rng.standard_normal(indptr[-1]) * 10.0 ** rng.integers(-3, 4, indptr[-1])
    A = sp.csc_matrix((data, indices, indptr), shape=(n, p))
    A.indices, A.indptr = indices, indptr.astype(index_dtype)   # (scipy would take int32 where they fit)
    return A


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_fixed_width_products_are_the_plain_ones(index_dtype):
    """The fixed-width CSC products (every column, a subset) equal the plain loop's bit for bit, and the twins."""
    rng = np.random.default_rng(17)
    n, p = 300, 900
    A = _short_columns(rng, n, p, index_dtype)
    assert A.indices.dtype == index_dtype and A.indptr.dtype == index_dtype
    assert D._column_width(D.unsigned_view(A.indptr)) > 0          # the fixed-width path runs
    cols = rng.permutation(p)[:400].astype(np.int64)
    for trial in range(5):
        r = rng.standard_normal(n) * 10.0 ** rng.integers(-2, 3, n)
        r[rng.choice(n, 20, replace=False)] = 0.0
        r[:3] = -0.0
        plain = D.csc_rmatvec_numba(A.data, A.indices, A.indptr, r)
        fixed = D.csc_rmatvec_numba(A.data, A.indices, A.indptr, r, True)
        np.testing.assert_array_equal(fixed, plain)
        assert not np.any(np.signbit(fixed) & (fixed == 0.0))       # no -0.0 where the plain loop has +0.0
        np.testing.assert_allclose(D.csc_rmatvec_numpy(A.data, A.indices, A.indptr, r, True), plain,
                                   rtol=1e-12, atol=1e-12)
        outs = []
        for flag in (False, True):
            out = np.full(p, 7.0)
            D.csc_rmatvec_cols_numba(A.data, A.indices, A.indptr, r, cols, out, flag)
            outs.append(out)
        np.testing.assert_array_equal(outs[1], outs[0])
        np.testing.assert_array_equal(outs[1][cols], plain[cols])
        assert np.all(np.delete(outs[1], cols) == 7.0)


def test_column_width_rule():
    """Short columns only: none (no entries), at most 1.5 entries on average, never past 3."""
    assert D._column_width(np.zeros(5, dtype=np.uint32)) == 0
    assert D._column_width(np.array([0], dtype=np.uint32)) == 0
    assert D._column_width(np.arange(0, 11, 1, dtype=np.uint32)) == 3          # one a column
    assert D._column_width(np.arange(0, 21, 2, dtype=np.uint32)) == 0          # two a column: the plain loop
    assert D._column_width(np.array([0, 0, 0, 0, 1], dtype=np.uint64)) == 2    # a quarter: 0.25 + 1 -> 2


def _fingerprint(res):
    return res.x.tobytes(), {k: np.asarray(v).tolist() for k, v in res.history.items() if k != "time"}


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("frac", [0.1, 0.03, 0.003])
@pytest.mark.parametrize("screening", [True, False])
def test_whole_solves_bitwise_equal_with_the_flags(monkeypatch, fmt, frac, screening):
    """Sparse lasso solves with every flag of these paths on and off: the same x and history, bit for bit
    (with screening the outer products cover the live columns, without it every column)."""
    rng = np.random.default_rng(5)
    n, p = 1000, 5000
    A = _short_columns(rng, n, p, np.int32).asformat(fmt)
    y = A @ np.where(rng.random(p) < 0.05, rng.standard_normal(p), 0.0) + 0.1 * rng.standard_normal(n)
    lam = frac * np.abs(A.T @ y).max()
    results = []
    for on in (False, True):
        monkeypatch.setattr(W, "_CSC_FIXED_WIDTH", on)
        res = ss.solve_block(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-8, screening=screening)
        assert res.converged
        results.append(_fingerprint(res))
    assert results[0][0] == results[1][0]
    assert results[0][1] == results[1][1]
    assert len(results[0][1]["ws_size"]) >= 2    # outer products after the first
