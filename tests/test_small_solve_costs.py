"""The fixed costs of a small sparse lasso solve (issue 15): faster outer scans, the same numbers.

At p = 10^4 a sparse lasso solve takes milliseconds, and the outer loop's scans of ``A^T r`` (Gap Safe test,
working-set scores) cost as much as its products. With one weight for every feature the scores' kernel runs a
loop without branches, and the Gap Safe pass of a not yet compacted lasso reads ``A^T r`` and the column norms
without the index array. Each must give exactly what the general loops give: the kernels are compared with them
(and with their numpy twins), and whole solves with the fast paths turned off. The block solver reads "block g
is feature g" once per solve; a call on other blocks still looks at those.
"""

import os
import sys

import numpy as np
import pytest

import structsparse as ss
from structsparse._numba import NUMBA_ENABLED
from structsparse.solvers import _block_kernels as K
from structsparse.solvers import working_set as W
from structsparse.solvers._block_spec import BlockSpec, block_spec

sys.path.insert(0, os.path.dirname(__file__))
from _sparse_problems import sparse_lasso  # noqa: E402


def _constant(value, size, dtype=float):
    return np.broadcast_to(np.asarray(value, dtype=dtype), (size,))


def _product(rng, p, zeros=0.1):
    """``A^T r`` as the outer loop holds it, (p, 1), with zeros and ties."""
    U = rng.standard_normal((p, 1))
    U[rng.random(p) < zeros] = 0.0
    U[:7] = 0.8   # ties, at the l1 weight below
    return U


def _assert_same_scores(got, want):
    np.testing.assert_array_equal(got[0], want[0])   # bitwise, infinities included
    assert got[1] == want[1]


@pytest.mark.parametrize("w1, w2", [(0.8, 0.0), (0.0, 0.6), (0.5, 0.4), (0.0, 0.0)])
@pytest.mark.parametrize("with_alive", [False, True])
def test_constant_weight_scores_are_the_general_loops(w1, w2, with_alive):
    rng = np.random.default_rng(11)
    p, m = 900, 700
    U = _product(rng, p)
    idx = np.sort(rng.choice(p, m, replace=False)).astype(np.int64)
    forced = rng.random(m) < 0.1
    alive = rng.random(m) < 0.8 if with_alive else np.zeros(0, dtype=bool)
    if with_alive:
        forced &= alive
        forced[np.flatnonzero(~alive)[:3]] = True   # forced and dead: dead wins, as in the general loop
    t1, t2 = _constant(w1, m), _constant(w2, m)
    bound = _constant(w2 if w2 > 0 else w1, m)
    # the general loop: the same weights stored per block (no stride-0 views: the kernel's other branch)
    want = K.singleton_scores_numba(U, idx, np.array(t1), np.array(t2), np.array(bound), forced, alive)
    assert 0 < want[1] < m or w1 == w2 == 0.0
    for fn in (K.singleton_scores_numba, K.singleton_scores_numpy):
        _assert_same_scores(fn(U, idx, t1, t2, bound, forced, alive), want)
    # and written into the memory of U itself, as the outer loop passes it (idx increasing)
    for fn in (K.singleton_scores_into_numba, K.singleton_scores_into_numpy):
        Uc = U.copy()
        _assert_same_scores(fn(Uc, idx, t1, t2, bound, forced, alive, Uc.reshape(-1)[:m]), want)


@pytest.mark.parametrize("w1, w2", [(0.8, 0.0), (0.0, 0.6), (0.5, 0.4)])
@pytest.mark.parametrize("with_dead", [False, True])
def test_contiguous_gap_safe_is_the_one_pass_mask(w1, w2, with_dead):
    rng = np.random.default_rng(12)
    p = 2000
    U = _product(rng, p) * 0.5
    idx = np.arange(p, dtype=np.int64)   # block g feature g
    colnorm2 = rng.uniform(0.0, 2.0, p)
    colnorm2[:20] = 0.0   # empty columns: removed whenever their bound allows
    dead = rng.random(p) < 0.2 if with_dead else np.zeros(0, dtype=bool)
    t1, t2 = _constant(w1, p), _constant(w2, p)
    b = w2 if w2 > 0 else w1
    for scale, radius in ((1.0, 0.0), (1.3, 0.1), (2.0, 0.4)):
        want = K.singleton_gap_safe_numba(U, idx, idx, t1, t2, scale, radius, colnorm2, np.zeros(0),
                                          _constant(b, p), _constant(False, p, bool), dead)
        assert 0 < want[1] < p
        for fn in (K.singleton_gap_safe_contiguous_numba, K.singleton_gap_safe_contiguous_numpy):
            got, count = fn(U[:, 0], colnorm2, w1, w2, b, scale, radius, dead)
            np.testing.assert_array_equal(got, want[0])
            assert count == want[1]
            if with_dead:
                assert not np.any(got & dead)


def _sparse_lasso(seed, fmt, density, frac):
    return sparse_lasso(seed, fmt, density, frac, n=300, p=1200, n_active=15)


def _solve(A, y, lam):
    res = ss.solve(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-8)
    return res.x, res.n_iter, list(res.history["epochs"]), list(res.history["ws_size"]), \
        list(res.history["n_screened"]), res.objective


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("density, frac", [(0.01, 0.1), (0.02, 0.05), (0.05, 0.01)])
def test_contiguous_gap_safe_keeps_the_sparse_lassos_iterates(monkeypatch, fmt, density, frac):
    A, y, lam = _sparse_lasso(3, fmt, density, frac)
    fast = "singleton_gap_safe_contiguous_numba" if NUMBA_ENABLED else "singleton_gap_safe_contiguous_numpy"
    calls = []
    kernel = getattr(W, fast)
    monkeypatch.setattr(W, fast, lambda *args: calls.append(1) or kernel(*args))
    contiguous = _solve(A, y, lam)
    assert calls   # the outer loop took the contiguous pass
    monkeypatch.setattr(W, "_CONTIGUOUS_SAFE", False)
    general = _solve(A, y, lam)
    np.testing.assert_array_equal(contiguous[0], general[0])
    assert contiguous[1:] == general[1:]
    assert any(contiguous[4])   # screening removed features on the way


def test_block_solver_reads_the_identity_once_and_other_blocks_as_they_are():
    rng = np.random.default_rng(5)
    n, p = 30, 12
    A = rng.standard_normal((n, p))
    y = rng.standard_normal(n)
    spec = block_spec(ss.L1(0.3), p)
    assert spec.identity
    design = W._design_of(ss.LeastSquares(A, y))
    Y = y.reshape(1, -1)
    solver = W._BlockSolver(design, spec, Y, W._kernels(NUMBA_ENABLED), True, 10, 100)
    assert solver.identity
    X0 = rng.standard_normal((p, 1))
    R0 = np.ascontiguousarray((y - A @ X0[:, 0]).reshape(1, -1))
    groups = np.array([1, 4], dtype=np.int64)
    # the spec's own blocks: group g is column g
    X = X0.copy()
    R = solver.zero_groups(X, R0.copy(), groups, spec.idx, spec.ptr)
    want = X0.copy()
    want[groups] = 0.0
    np.testing.assert_array_equal(X, want)
    np.testing.assert_allclose(R[0], y - A @ want[:, 0], atol=1e-12)
    # other blocks (a permutation of the features, stored): group g is column perm[g], not g
    perm = rng.permutation(p).astype(np.int64)
    other = BlockSpec(perm, np.arange(p + 1, dtype=np.int64), np.full(p, 0.3), np.zeros(p))
    assert not other.identity
    X = X0.copy()
    R = solver.zero_groups(X, R0.copy(), groups, other.idx, other.ptr)
    want = X0.copy()
    want[perm[groups]] = 0.0
    np.testing.assert_array_equal(X, want)
    np.testing.assert_allclose(R[0], y - A @ want[:, 0], atol=1e-12)


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 7, 10, 333])
@pytest.mark.parametrize("w1, w2", [(0.8, 0.0), (0.0, 0.6), (0.5, 0.4)])
def test_constant_weight_scale_takes_the_largest_live_entry_wherever_it_is(m, w1, w2):
    """The dual scaling's running maxima (four, then the tail): the general loop's value for every length, every
    position of the largest entry (the tail's included), with no dead block, a dead one beside it, or it dead."""
    rng = np.random.default_rng(m)
    U = _product(rng, m + 3)
    idx = np.sort(rng.choice(m + 3, m, replace=False)).astype(np.int64)
    t1, t2 = _constant(w1, m), _constant(w2, m)
    bound = _constant(w2 if w2 > 0 else w1, m)
    for top in range(m):
        Ut = U.copy()
        Ut[idx[top], 0] = -9.5   # the largest |u|, at block `top`
        beside, itself = np.zeros(m, dtype=bool), np.zeros(m, dtype=bool)
        beside[(top + 1) % m] = m > 1
        itself[top] = True
        largest = K.singleton_pure_scale_numba(Ut, idx, np.array(t1), np.array(t2), np.array(bound),
                                               np.zeros(0, dtype=bool))
        for dead in (np.zeros(0, dtype=bool), beside, itself):
            want = K.singleton_pure_scale_numba(Ut, idx, np.array(t1), np.array(t2), np.array(bound), dead)
            assert (want == largest) == (not dead.size or not dead[top])   # the largest counts unless it is dead
            for fn in (K.singleton_pure_scale_numba, K.singleton_pure_scale_numpy):
                assert fn(Ut, idx, t1, t2, bound, dead) == want
