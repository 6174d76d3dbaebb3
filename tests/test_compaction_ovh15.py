"""Screening's compaction of the live arrays (issue 15): the screened and the kept groups in one pass.

:func:`split_live_numba` must give ``blocks[out]`` and ``blocks[~gone]`` exactly (its numpy twin), and a
sparse lasso whose screening compacts the live arrays must run the same iterates with the pass turned off.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse._numba import NUMBA_ENABLED
from structsparse.solvers import _block_kernels as K
from structsparse.solvers import working_set as W


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


def _sparse_lasso(seed, fmt, density, frac, n=400, p=4000):
    rng = np.random.default_rng(seed)
    A = sp.random(n, p, density=density, format=fmt, random_state=seed, data_rvs=rng.standard_normal)
    x = np.zeros(p)
    x[rng.choice(p, 20, replace=False)] = rng.standard_normal(20)
    y = A @ x + 0.05 * rng.standard_normal(n)
    lam = frac * ss.lambda_max(ss.LeastSquares(A, y), ss.L1(1.0))
    return ss.LeastSquares(A, y), ss.L1(lam)


def _run(loss, penalty, **kwargs):
    res = ss.solve_block(loss, penalty, tol=1e-8, **kwargs)
    return res.x, res.n_iter, {k: list(v) for k, v in res.history.items() if k != "time"}, res.objective


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
