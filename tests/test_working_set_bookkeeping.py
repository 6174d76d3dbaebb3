"""The outer loop's working-set bookkeeping (issue 15): the same sets and iterates, fewer passes.

- :func:`smallest_set_numba`, the working set's top-k selection, returns the positions of the ``k`` smallest values
  when that set is determined by the values (no tie straddles the ``k``-th place, at least ``k`` numbers) and says
  so otherwise, so that the working set is always the one argpartition gave: the kernel is compared with
  argpartition and its numpy twin on values with ties, NaN and infinities.
- :func:`split_live_numba`, screening's compaction, must give ``blocks[out]`` and ``blocks[~gone]`` exactly.
- Once compacted, a CSC design's outer products read the live columns only.

Whole solves run the same iterates with each of them turned off.
"""

import os
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse._numba import NUMBA_ENABLED
from structsparse.solvers import _block_kernels as K
from structsparse.solvers import working_set as W

sys.path.insert(0, os.path.dirname(__file__))
from _sparse_problems import sparse_lasso, wide_sparse_lasso  # noqa: E402


def _values(rng, m, kind):
    v = rng.standard_normal(m)
    if kind == "ties":
        v = np.round(v, 1)
    elif kind == "special":
        v[rng.random(m) < 0.2] = np.nan
        v[rng.random(m) < 0.1] = -np.inf
        v[rng.random(m) < 0.1] = np.inf
    elif kind == "mostly_nan":
        v[rng.random(m) < 0.7] = np.nan
    elif kind == "decreasing":   # every sample above the k-th smallest at first: the threshold is raised
        v = np.sort(v)[::-1].copy()
    elif kind == "zeros":   # signed zeros tie
        v[rng.random(m) < 0.3] = 0.0
        v[rng.random(m) < 0.3] = -0.0
    elif kind == "unlike_its_sample":   # the evenly spaced sample holds the smallest values: the band is widened
        v[::max(1, m // K._SAMPLE)] -= 10.0
    return v


@pytest.mark.parametrize("kind", ["plain", "ties", "special", "mostly_nan", "decreasing", "zeros",
                                  "unlike_its_sample"])
def test_smallest_set_is_argpartitions_set_or_says_it_is_not_determined(kind):
    rng = np.random.default_rng(15)
    determined = undetermined = 0
    for m in (1, 2, 7, 60, 513, 3000, 20000):
        for k in sorted({0, 1, 2, m // 50, m // 7, m - 1, m, m + 1}):
            v = _values(rng, m, kind)
            got, unique = K.smallest_set_numba(v, k)
            twin, twin_unique = K.smallest_set_numpy(v, k)
            assert unique == twin_unique
            np.testing.assert_array_equal(got, twin)
            if not 0 < k <= m:
                assert not unique
                continue
            chosen = np.argpartition(v, k - 1)[:k]
            # determined: k values at most the k-th smallest, and none of them NaN
            kth = v[chosen].max() if not np.isnan(v[chosen]).any() else np.nan
            assert unique == (not np.isnan(kth) and np.count_nonzero(v <= kth) == k)
            if unique:
                determined += 1
                assert got.dtype == np.int64
                np.testing.assert_array_equal(got, np.sort(chosen))
            else:
                undetermined += 1
                assert got.size == 0
    assert determined   # both outcomes occur where they can
    if kind in ("ties", "special", "mostly_nan", "zeros"):
        assert undetermined


def test_smallest_set_does_not_write_its_input():
    v = np.random.default_rng(3).standard_normal(5000)
    before = v.copy()
    K.smallest_set_numba(v, 40)
    K.smallest_set_numpy(v, 40)
    np.testing.assert_array_equal(v, before)
    assert v.flags.writeable


def _sparse_lasso(seed, fmt, density, frac):
    A, y, lam = sparse_lasso(seed, fmt, density, frac, n=400, p=4000, n_active=20)
    return ss.LeastSquares(A, y), ss.L1(lam)


def _grouped(seed, frac):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((100, 600))
    y = A[:, :20] @ rng.standard_normal(20) + 0.1 * rng.standard_normal(100)
    pen = ss.GroupLasso(ss.Groups.contiguous(600, 3), lam=1.0)
    lam = frac * ss.lambda_max(ss.LeastSquares(A, y), pen)
    return ss.LeastSquares(A, y), ss.GroupLasso(ss.Groups.contiguous(600, 3), lam=lam)


def _run(loss, penalty, **kwargs):
    res = ss.solve_block(loss, penalty, tol=1e-8, **kwargs)
    return res.x, res.n_iter, {k: list(v) for k, v in res.history.items() if k != "time"}, res.objective


@pytest.mark.parametrize("problem", [
    ("csc", 0.002, 0.1), ("csr", 0.002, 0.05), ("csc", 0.01, 0.01), ("csr", 0.01, 0.1), "grouped", "gap"])
def test_top_k_selection_keeps_the_iterates(monkeypatch, problem):
    if problem in ("grouped", "gap"):   # the general scores (and celer's rule), not the lasso's one-pass kernel
        loss, penalty = _grouped(4, 0.05)
        kwargs = {"ws_strategy": "gap"} if problem == "gap" else {}
    else:
        loss, penalty = _sparse_lasso(7, *problem)
        kwargs = {}
    name = "smallest_set_numba" if NUMBA_ENABLED else "smallest_set_numpy"
    kernel, picked = getattr(W, name), []
    monkeypatch.setattr(W, name, lambda v, k: picked.append(kernel(v, k)[1]) or kernel(v, k))
    fast = _run(loss, penalty, **kwargs)
    assert any(picked)   # the kernel chose a working set
    monkeypatch.setattr(W, "_SAMPLED_TOP", False)
    old = _run(loss, penalty, **kwargs)
    np.testing.assert_array_equal(fast[0], old[0])
    assert fast[1:] == old[1:]


@pytest.mark.parametrize("m", [0, 1, 17, 5000])
@pytest.mark.parametrize("earlier", [False, True])
def test_split_live_is_the_two_gathers(m, earlier):
    rng = np.random.default_rng(m)
    blocks = np.sort(rng.choice(3 * m + 1, m, replace=False)).astype(np.int64)
    out = rng.random(m) < 0.3
    gone = out | (rng.random(m) < 0.2) if earlier else out.copy()   # earlier events' dead groups, and this one's
    before = blocks.copy(), out.copy(), gone.copy()
    for split in (K.split_live_numba, K.split_live_numpy):
        screened, kept = split(blocks, out, gone)
        np.testing.assert_array_equal(screened, blocks[out])
        np.testing.assert_array_equal(kept, blocks[~gone])
        assert screened.dtype == kept.dtype == np.int64
        for a, b in zip((blocks, out, gone), before):   # the inputs are not written
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fmt, density, frac, strategy", [
    ("csc", 0.002, 0.1, "subdiff"), ("csr", 0.002, 0.05, "subdiff"), ("csr", 0.01, 0.1, "subdiff"),
    ("csc", 0.002, 0.1, "gap")])
def test_one_pass_compaction_keeps_the_iterates(monkeypatch, fmt, density, frac, strategy):
    loss, penalty = _sparse_lasso(9, fmt, density, frac)
    name = "split_live_numba" if NUMBA_ENABLED else "split_live_numpy"
    kernel, calls = getattr(W, name), []
    monkeypatch.setattr(W, name, lambda *args: calls.append(1) or kernel(*args))
    fast = _run(loss, penalty, ws_strategy=strategy)
    assert calls   # screening compacted the live arrays
    monkeypatch.setattr(W, "_SPLIT_LIVE", False)
    old = _run(loss, penalty, ws_strategy=strategy)
    np.testing.assert_array_equal(fast[0], old[0])
    assert fast[1:] == old[1:]


def _sparse_groups(seed, frac, n=300, p=3000):
    rng = np.random.default_rng(seed)
    A = sp.random(n, p, density=0.005, format="csc", random_state=seed, data_rvs=rng.standard_normal)
    y = A[:, :30] @ rng.standard_normal(30) + 0.05 * rng.standard_normal(n)
    groups = ss.Groups.contiguous(p, 3)
    lam = frac * ss.lambda_max(ss.LeastSquares(A, y), ss.GroupLasso(groups, lam=1.0))
    return ss.LeastSquares(A, y), ss.GroupLasso(groups, lam=lam)


@pytest.mark.parametrize("problem", ["lasso", "groups"])
def test_live_column_products_keep_the_iterates(monkeypatch, problem):
    # once compacted, the outer product of a CSC design reads the live columns only, however many are left
    loss, penalty = _sparse_lasso(11, "csc", 0.002, 0.1) if problem == "lasso" else _sparse_groups(12, 0.1)
    design_calls = []
    rmatmat = W._Design.rmatmat
    monkeypatch.setattr(W._Design, "rmatmat", lambda self, R, cols=None: design_calls.append(
        None if cols is None else cols.size / self.p) or rmatmat(self, R, cols))
    fast = _run(loss, penalty)
    assert any(c is not None and c >= 0.5 for c in design_calls)   # a product on more than half the columns
    monkeypatch.setattr(W, "_LIVE_PRODUCT", False)
    old = _run(loss, penalty)
    np.testing.assert_array_equal(fast[0], old[0])
    assert fast[1:] == old[1:]



@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_newton_rescaling_from_the_live_columns_keeps_the_iterates(monkeypatch, fmt):
    """The Newton point's rescaling from the live columns' products (CSC; CSR keeps its product): the same solve,
    bit for bit."""
    A, y, lam = wide_sparse_lasso(0, fmt, 5e-4, 0.1, 2000, 200_000, 100)   # (it reaches a Newton point)
    loss, penalty = ss.LeastSquares(A, y), ss.L1(lam)
    kernel, points = W.lasso_dual_point_sparse, []
    monkeypatch.setattr(W, "lasso_dual_point_sparse", lambda *args: points.append(kernel(*args)) or points[-1])

    def run():
        res = ss.solve_block(loss, penalty, tol=1e-6)
        return res.x, res.n_iter, {k: list(v) for k, v in res.history.items() if k != "time"}, res.objective

    new = run()
    assert any(theta is not None for theta in points)   # a Newton dual point was rescaled
    monkeypatch.setattr(W, "_COMPACT_RESCALE", False)
    old = run()
    np.testing.assert_array_equal(new[0], old[0])
    assert new[1:] == old[1:]
