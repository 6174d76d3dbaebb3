"""The CSR-specific costs of small sparse lasso solves (issue 15, ovh16): the same numbers, fewer branches and passes.

``A^T r`` on CSR reads a fixed number of entries a row when rows are short
(``_design_kernels._csr_rmatvec_fixed_width``), a gather of many CSR columns
lists their entries without a branch (``_design_kernels._place_marked``), and
the first product brings the column norms and counts
(``_design_kernels.csr_rmatvec_colstats_numba``). All must give bitwise the
numbers of the plain loops: the kernels are compared with them (and with
numpy twins and scipy), the product on rows longer than the width, empty rows,
zero residual entries, stored zeros and non-finite values; and whole lasso
solves on CSR designs are compared with the working-set module's flags on and
off (the same ``x`` and history, to the bit).
"""

import os
import sys

import numpy as np
import pytest

import structsparse as ss
import structsparse.solvers.working_set as ws
from structsparse.solvers import _design_kernels as D

sys.path.insert(0, os.path.dirname(__file__))
from _sparse_problems import random_csr, same_bits, sparse_lasso  # noqa: E402


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n, p, density", [(300, 200, 0.005), (200, 400, 0.02), (60, 50, 0.3), (500, 40, 0.02)])
def test_fixed_width_product_is_the_plain_loop_bit_for_bit(n, p, density, index_dtype):
    """Every width (shorter and longer than the rows) gives the plain loop's bits; numpy and scipy agree."""
    rng = np.random.default_rng(int(1000 * density) + n)
    A = random_csr(rng, n, p, density, index_dtype)
    A.data[::7] = 0.0                       # stored zeros
    r = rng.standard_normal(n)
    r[::5] = 0.0                            # rows of zero residual add no term
    r[1::11] = -1e-310                      # subnormal terms
    plain = D.csr_rmatvec_numba(A.data, A.indices, A.indptr, r, p, False)
    assert same_bits(plain, D.csr_rmatvec_numba(A.data, A.indices, A.indptr, r, p, True))
    idx, ptr = D.unsigned_view(A.indices), D.unsigned_view(A.indptr)
    for width in (1, 2, 3, 5, 8, 40):
        assert same_bits(plain, D._csr_rmatvec_fixed_width(A.data, idx, ptr, r, p, width)), width
    assert not np.any((plain == 0) & np.signbit(plain))   # no -0.0 (the padded reads add +0.0 to sums)
    np.testing.assert_allclose(plain, D.csr_rmatvec_numpy(A.data, A.indices, A.indptr, r, p), rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(plain, A.toarray().T @ r, rtol=1e-12, atol=1e-13)


def test_fixed_width_product_keeps_non_finite_terms_where_the_plain_loop_has_them():
    """A padded read past a row's end adds +0.0, not ``0 * inf``; a zero residual row adds nothing."""
    rng = np.random.default_rng(5)
    A = random_csr(rng, 80, 30, 0.05)
    A.data[3] = np.inf
    A.data[10] = np.nan
    r = rng.standard_normal(80)
    r[np.searchsorted(A.indptr, 3, side="right") - 1] = 0.0   # the row holding inf: no term (no 0 * inf)
    idx, ptr = D.unsigned_view(A.indices), D.unsigned_view(A.indptr)
    plain = D.csr_rmatvec_numba(A.data, A.indices, A.indptr, r, 30, False)
    assert np.isnan(plain).sum() == 1
    for width in (1, 2, 4):
        assert same_bits(plain, D._csr_rmatvec_fixed_width(A.data, idx, ptr, r, 30, width))


@pytest.mark.parametrize("share", [0.005, 0.05, 0.2])
def test_flat_listing_gathers_the_same_columns(share):
    """The branch-free listing of a CSR gather: the same CSC arrays as the branching one, and as scipy."""
    rng = np.random.default_rng(11)
    n, p = 400, 600
    A = random_csr(rng, n, p, 0.02)
    counts = D.csr_colcounts_numba(A.indices, p)
    cols = np.sort(rng.choice(p, max(1, int(share * p)), replace=False)).astype(np.int64)
    flat = D.csr_gather_counted_numba(A.data, A.indices, A.indptr, cols, counts, p, True)
    branching = D.csr_gather_counted_numba(A.data, A.indices, A.indptr, cols, counts, p, False)
    for a, b in zip(flat, branching):
        assert same_bits(a, b)
    for a, b in zip(flat, D.csr_gather_counted_numpy(A.data, A.indices, A.indptr, cols, counts, p)):
        np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


@pytest.mark.parametrize("fixed_width", [True, False])
@pytest.mark.parametrize("n, p, density", [(300, 200, 0.02), (400, 60, 0.6), (1000, 50, 0.5), (60, 400, 0.5)])
def test_first_pass_is_the_three_kernels_bit_for_bit(n, p, density, fixed_width):
    """Product, squared column norms and counts of one call: the bits of the three kernels, on each of its paths
    (short rows; long rows, short columns; long rows and columns: the interleaved pass)."""
    rng = np.random.default_rng(n + p)
    A = random_csr(rng, n, p, density)
    A.data[::5] = 0.0
    r = rng.standard_normal(n)
    r[::3] = 0.0
    want = (D.csr_rmatvec_numba(A.data, A.indices, A.indptr, r, p, False), D.csr_colnorm2_numba(A.data, A.indices, p),
            D.csr_colcounts_numba(A.indices, p))
    got = D.csr_rmatvec_colstats_numba(A.data, A.indices, A.indptr, r, p, fixed_width)
    for a, b in zip(want, got):
        assert same_bits(a, b)
    for a, b in zip(got, D.csr_rmatvec_colstats_numpy(A.data, A.indices, A.indptr, r, p, fixed_width)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


_FLAGS = ("_CSR_FIXED_WIDTH", "_CSR_FLAT_LISTING", "_CSR_FIRST_PASS")


@pytest.mark.parametrize("density, frac, p", [(1e-3, 0.1, 3000), (1e-3, 0.01, 3000), (1e-2, 0.05, 3000),
                                             (2e-4, 0.01, 3000), (0.1, 0.05, 300)])
def test_csr_lasso_solves_are_bitwise_the_same_with_the_flags_off(monkeypatch, density, frac, p):
    """Whole solves on CSR designs: the same ``x`` and history with the new paths as with the old ones."""
    A, y, lam = sparse_lasso(2, "csr", density, frac, 600, p, 25)

    def solve():
        res = ss.solve(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-8)
        return res.x, {k: np.asarray(v).tolist() for k, v in res.history.items() if k != "time"}

    x_new, h_new = solve()
    for flag in _FLAGS:
        monkeypatch.setattr(ws, flag, False)
    x_old, h_old = solve()
    assert same_bits(x_new, x_old)
    assert h_new == h_old
    assert np.count_nonzero(x_new) > 0
