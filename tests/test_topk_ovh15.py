"""The working set's top-k selection (issue 15): the set argpartition picks, without argpartition.

:func:`smallest_set_numba` returns the positions of the ``k`` smallest values when that set is determined by the
values (no tie straddles the ``k``-th place, at least ``k`` numbers), and says so otherwise, so that the working set
is always the one argpartition gave: the kernel is compared with argpartition and its numpy twin on values with
ties, NaN and infinities, and whole solves with the kernel turned off.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse._numba import NUMBA_ENABLED
from structsparse.solvers import _block_kernels as K
from structsparse.solvers import working_set as W


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
    return v


@pytest.mark.parametrize("kind", ["plain", "ties", "special", "mostly_nan", "decreasing", "zeros"])
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


def _sparse_lasso(seed, fmt, density, frac, n=400, p=4000):
    rng = np.random.default_rng(seed)
    A = sp.random(n, p, density=density, format=fmt, random_state=seed, data_rvs=rng.standard_normal)
    x = np.zeros(p)
    x[rng.choice(p, 20, replace=False)] = rng.standard_normal(20)
    y = A @ x + 0.05 * rng.standard_normal(n)
    lam = frac * ss.lambda_max(ss.LeastSquares(A, y), ss.L1(1.0))
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
    monkeypatch.setattr(W, "_HEAP_TOP", False)
    old = _run(loss, penalty, **kwargs)
    np.testing.assert_array_equal(fast[0], old[0])
    assert fast[1:] == old[1:]
