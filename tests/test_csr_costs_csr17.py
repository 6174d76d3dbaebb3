"""A CSR design's working-set columns merged from the last working set's arrays (issue 15, csr17): the same numbers.

The store of a CSR design's gathered columns is the last working set's CSC
arrays; the next working set copies the columns it shares with them and looks
only for the new ones in the CSR arrays, in one call
(``_design_kernels.csr_gather_merged_numba``, ``working_set._CSR_MERGED_STORE``).
The merged arrays must be bitwise the plain gather's (and scipy's column
indexing, the numpy twin), on every path of the placement (few new entries:
the listing pass, with and without its branch; many: the pass by rows), with
columns in any order, none new, all new, and int32 or int64 indices; the
working sets' arrays handed to the epochs must be those of a gather from
``A``; and whole lasso solves on CSR designs must give the same ``x`` and
history, to the bit, with the flag on and off.
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


def _merged(A, cols, old_cols, flat_listing=True, kernel=D.csr_gather_merged_numba):
    """The merged gather of ``cols`` from the plain gather of ``old_cols`` (the store a solve would hold)."""
    p = A.shape[1]
    counts = D.csr_colcounts_numba(A.indices, p)
    old = D.csr_gather_counted_numba(A.data, A.indices, A.indptr, old_cols, counts, p)
    where = np.full(p, -1, dtype=np.int64)
    where[old_cols] = np.arange(old_cols.size)
    place = (where[cols] + 1).view(np.uint64)
    return kernel(A.data, A.indices, A.indptr, cols, counts, p, *old, place, flat_listing)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("new_share", [0.0, 0.003, 0.05, 0.3, 1.0])
@pytest.mark.parametrize("flat_listing", [True, False])
def test_merged_gather_is_the_plain_gather_bit_for_bit(new_share, flat_listing, index_dtype):
    """Old and new columns, in shuffled order: the plain gather's arrays, the numpy twin's (scipy's) values."""
    rng = np.random.default_rng(int(1000 * new_share) + 7)
    n, p = 500, 2000
    A = random_csr(rng, n, p, 0.01, index_dtype)
    old_cols = rng.choice(p, 300, replace=False).astype(np.int64)
    others = np.setdiff1d(np.arange(p), old_cols)
    new_cols = rng.choice(others, int(round(new_share * others.size)), replace=False)
    kept = rng.choice(old_cols, 200, replace=False)
    cols = rng.permutation(np.concatenate([kept, new_cols])).astype(np.int64)
    got = _merged(A, cols, old_cols, flat_listing)
    counts = D.csr_colcounts_numba(A.indices, p)
    want = D.csr_gather_counted_numba(A.data, A.indices, A.indptr, cols, counts, p, flat_listing)
    for a, b in zip(got, want):
        assert same_bits(a, b)
    assert got[1].dtype.kind == "u" and got[2].dtype.kind == "u"   # (the epochs read unsigned indices)
    twin = _merged(A, cols, old_cols, flat_listing, D.csr_gather_merged_numpy)
    for a, b in zip(got, twin):
        np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    sub = A[:, cols].tocsc()
    sub.sort_indices()
    np.testing.assert_array_equal(got[0], sub.data)
    np.testing.assert_array_equal(got[1].astype(np.int64), sub.indices)


def test_merged_gather_of_no_columns_and_of_empty_columns():
    """No columns, and columns with no entries (old and new): empty slices in the right places."""
    rng = np.random.default_rng(3)
    A = random_csr(rng, 50, 400, 0.01)
    empty = np.flatnonzero(np.diff(A.tocsc().indptr) == 0)
    assert empty.size >= 4
    for cols, old_cols in [(np.zeros(0, dtype=np.int64), np.arange(5, dtype=np.int64)),
                           (np.r_[empty[:2], 7, empty[2:4]].astype(np.int64), np.r_[empty[1], 7].astype(np.int64))]:
        got = _merged(A, cols, old_cols)
        want = D.csr_gather_numba(A.data, A.indices, A.indptr, cols, 400)
        for a, b in zip(got, want):
            assert same_bits(a, b)


def test_working_sets_columns_are_gathers_from_the_design(monkeypatch):
    """Every working set's arrays that a CSR solve hands to the epochs are the plain gather of its columns from
    ``A`` (checked at each call of the design's ``columns``), and the store is reused as it is when a call asks
    for its own columns in its order."""
    A, y, lam = sparse_lasso(4, "csr", 2e-3, 0.005, 500, 3000, 30)
    counts = D.csr_colcounts_numba(A.indices, A.shape[1])
    seen = []
    columns = ws._Design.columns

    def checked(self, cols, **kw):
        out = columns(self, cols, **kw)
        if self.csr:
            cols = np.asarray(cols, dtype=np.int64)
            want = D.csr_gather_counted_numba(A.data, A.indices, A.indptr, cols, counts, A.shape[1])
            for a, b in zip(out, want):
                assert same_bits(a, b)
            seen.append(cols.size)
        return out

    monkeypatch.setattr(ws._Design, "columns", checked)
    res = ss.solve(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-8)
    assert len(seen) >= 3 and np.count_nonzero(res.x) > 0
    design = ws._Design(A)
    cols = np.array([5, 2, 9], dtype=np.int64)
    first = design.columns(cols)
    assert all(a is b for a, b in zip(first, design.columns(cols)))


def test_a_sequence_of_column_requests_gets_the_plain_gathers():
    """Calls on one CSR design (as a path's solves make them): the same set again, in another order, as many other
    columns, more, fewer, none, every column in order and then a few: each time the plain gather's arrays."""
    rng = np.random.default_rng(8)
    A = random_csr(rng, 300, 500, 0.02)
    counts = D.csr_colcounts_numba(A.indices, 500)
    design = ws._Design(A)
    for cols in ([5, 2, 9], [5, 2, 9], [2, 5, 9], [1, 2, 3], [2, 9, 100, 5, 7, 400], [7, 400], [], list(range(500)),
                 [499, 0, 250], list(range(500)), rng.permutation(500)[:300]):
        cols = np.asarray(cols, dtype=np.int64)
        got = design.columns(cols, whole=cols.size == 500)
        want = D.csr_gather_counted_numba(A.data, A.indices, A.indptr, cols, counts, 500)
        for a, b in zip(got, want):
            assert same_bits(a, b), cols


@pytest.mark.parametrize("density, frac, p", [(1e-3, 0.1, 3000), (1e-3, 0.01, 3000), (1e-2, 0.05, 3000),
                                             (1e-2, 0.002, 3000), (2e-4, 0.01, 3000), (0.1, 0.05, 300)])
def test_csr_lasso_solves_are_bitwise_the_same_with_the_merged_store_off(monkeypatch, density, frac, p):
    """Whole solves on CSR designs: the same ``x`` and history with the merged store as with the store of every
    column seen."""
    A, y, lam = sparse_lasso(2, "csr", density, frac, 600, p, 25)

    def solve(design):
        res = ss.solve(ss.LeastSquares(design, y), ss.L1(lam), tol=1e-8)
        return res.x, {k: np.asarray(v).tolist() for k, v in res.history.items() if k != "time"}

    x_new, h_new = solve(A)
    monkeypatch.setattr(ws, "_CSR_MERGED_STORE", False)
    x_old, h_old = solve(A)
    assert same_bits(x_new, x_old)
    assert h_new == h_old
    assert np.count_nonzero(x_new) > 0
