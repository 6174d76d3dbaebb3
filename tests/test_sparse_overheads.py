"""The sparse lasso's one-pass outer scans (issue 15 item 1): the same iterates as the general scans.

``working_set._SPARSE_LASSO_SCANS`` replaces, for a lasso (single columns, one target, pure blocks, 'subdiff'
working sets) on a scipy.sparse design, the outer loop's numpy passes over every feature (threshold norms, dual
scaling, Gap Safe mask, working-set scores, support) by the kernels ``_design_kernels.lasso_*``. They must make
the same decisions with the same arithmetic: each numba kernel is checked against its numpy twin and against the
general kernels it replaces, and whole solves with the scans on and off give bitwise the same ``x``, gaps,
working sets, epochs and screened blocks, on CSC and CSR designs, plain and weighted (with unpenalized features),
from zero and from ``x0``, with numba and with the numpy twins.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse.solvers import _block_kernels as B
from structsparse.solvers import _design_kernels as D
from structsparse.solvers import working_set as W

NO_DEAD = np.zeros(0, dtype=bool)


def _blocks(rng, p, kind):
    """``(U, idx, t1, t2, bound, unpen, lam, identity)`` for ``p`` live single-column blocks of a ``kind``."""
    U = rng.standard_normal((p + 7, 1))
    U[3, 0] = 0.0
    if kind == "plain":        # L1: every t1 = lam, t2 = 0, the penalty's own order
        idx, t1, t2 = np.arange(p), np.full(p, 0.9), np.zeros(p)
    elif kind == "subset":     # L1 on the columns left by a compaction (idx not the identity)
        idx, t1, t2 = np.sort(rng.choice(p + 7, p, replace=False)), np.full(p, 0.9), np.zeros(p)
    else:                      # weighted singletons, l1 or l2 (pure), some unpenalized
        idx = rng.permutation(p + 7)[:p]
        w = rng.uniform(0.3, 1.5, p)
        w[::9] = 0.0
        l2 = rng.random(p) < 0.5
        t1, t2 = np.where(l2, 0.0, w), np.where(l2, w, 0.0)
    bound = np.where(t2 > 0, t2, t1) if np.any(t2 > 0) else t1
    unpen = (t1 <= 0) & (t2 <= 0)
    lam, identity = D.lasso_uniform_numba(idx, t1, t2)
    assert (lam, identity) == D.lasso_uniform_numpy(idx, t1, t2)
    assert (lam > 0) == (kind != "weighted") and identity == (kind == "plain")
    return U, idx, t1, t2, bound, unpen, lam, identity


def _general_lhs(U, idx, t1, t2, dead):
    lhs = B.singleton_threshold_norms_numba(U, idx, t1, t2, 1.0)
    if dead.size:
        lhs[dead] = 0.0
    return lhs


KINDS = ["plain", "subset", "weighted"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("masked", [False, True])
def test_scale_and_screen_kernels_agree_with_twins_and_general_kernels(kind, masked):
    rng = np.random.default_rng(11)
    p = 300
    U, idx, t1, t2, bound, unpen, lam, identity = _blocks(rng, p, kind)
    dead = rng.random(p) < 0.2 if masked else NO_DEAD
    args = (U, idx, t1, t2, bound, unpen, dead, lam, identity)
    lhs = _general_lhs(U, idx, t1, t2, dead)
    want_scale = B.pure_dual_scale_numba(lhs, bound)
    assert want_scale > 1.0   # the test data need rescaling
    for scale_of in (D.lasso_scale_numba, D.lasso_scale_numpy):
        assert scale_of(U, idx, t1, t2, bound, dead, lam, identity) == want_scale
    norms = rng.uniform(0.5, 2.0, p)
    for radius in (0.0, 0.3, 3.0):
        mask = B.gap_safe_mask_numba(lhs, want_scale, radius, norms, bound, unpen)
        if masked:
            mask &= ~dead
        want = np.flatnonzero(mask)
        got = D.lasso_screen_numba(*args, want_scale, radius, norms)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(D.lasso_screen_numpy(*args, want_scale, radius, norms), want)
        if radius == 0.3:
            assert 0 < want.size < p - (dead.sum() if masked else 0)   # a test that keeps some and removes some


@pytest.mark.parametrize("identity", [True, False])
def test_norm_bound_kernels_give_the_solvers_bounds(identity):
    """The columns' norm bounds from one pass equal _BlockSolver.group_norm_bounds' own (some Lipschitz known)."""
    rng = np.random.default_rng(14)
    n, p = 30, 200
    A = sp.random(n, p, density=0.2, random_state=rng, format="csc")
    idx = np.arange(p) if identity else rng.permutation(p)
    spec = W.BlockSpec(idx, np.arange(p + 1), np.full(p, 0.5), np.zeros(p))
    solver = W._BlockSolver(W._Design(A), spec, np.ones((1, n)), W._kernels(True), True, 10, 100)
    known = rng.random(p) < 0.3
    solver.lips[known] = solver.design.colnorm2[idx[known]] * rng.uniform(0.5, 1.5, known.sum())
    lips = solver.lips.copy()
    want = solver.group_norm_bounds(idx, spec.ptr).copy()
    assert np.any(want[known] < np.sqrt(solver.design.colnorm2[idx[known]]))   # some bounds are the Lipschitz ones
    for kernel in (D.lasso_norm_bounds_numba, D.lasso_norm_bounds_numpy):
        np.testing.assert_array_equal(kernel(solver.design.colnorm2, idx, lips, identity), want)


def _assert_candidates(got, lhs, bound, unpen, dead, nonzero):
    """The candidates are the blocks of positive score of _working_set's rule, scores and forced flags included."""
    pos, score, forced, n_forced = got
    alive = ~dead if dead.size else np.ones(lhs.size, dtype=bool)
    want_forced = np.zeros(lhs.size, dtype=bool)
    want_forced[nonzero] = True
    want_forced = alive & (want_forced | unpen)
    want_score = lhs - bound
    want_score[want_forced] = np.inf
    want_score[~alive] = -np.inf
    want_pos = np.flatnonzero(want_score > 0)
    np.testing.assert_array_equal(pos, want_pos)
    np.testing.assert_array_equal(score, want_score[want_pos])
    np.testing.assert_array_equal(forced, want_forced[want_pos])
    assert n_forced == int(want_forced.sum())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("masked", [False, True])
def test_candidate_kernels_agree_with_the_working_set_rule(kind, masked):
    rng = np.random.default_rng(12)
    p = 300
    U, idx, t1, t2, bound, unpen, lam, identity = _blocks(rng, p, kind)
    dead = rng.random(p) < 0.2 if masked else NO_DEAD
    lhs = _general_lhs(U, idx, t1, t2, dead)
    for nonzero in (np.zeros(0, dtype=np.int64), np.array([0, 5, 5, 17, 200, p - 1]), np.arange(0, p, 7)):
        args = (U, idx, t1, t2, bound, unpen, dead, lam, identity, nonzero)
        for kernel in (D.lasso_ws_candidates_numba, D.lasso_ws_candidates_numpy):
            _assert_candidates(kernel(*args), lhs, bound, unpen, dead, nonzero)


def _assert_rest_top(got, k, lhs, bound, unpen, dead, nonzero):
    """The k best scores among the blocks left out of the candidates, when the choice is unique."""
    top, unique = got
    rest = np.ones(lhs.size, dtype=bool)
    rest[nonzero] = False
    rest &= ~unpen & (lhs - bound <= 0)
    if dead.size:
        rest &= ~dead
    score = (lhs - bound)[rest]
    kth = np.sort(score)[::-1][k - 1]
    assert unique == (np.count_nonzero(score >= kth) == k)   # no score equal to the k-th best is left out
    if unique:
        np.testing.assert_array_equal(np.sort(top), np.sort(np.flatnonzero(rest)[score >= kth]))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("masked", [False, True])
def test_rest_top_kernels_pick_the_best_left_out_blocks(kind, masked):
    rng = np.random.default_rng(13)
    p = 400
    U, idx, t1, t2, bound, unpen, lam, identity = _blocks(rng, p, kind)
    dead = rng.random(p) < 0.2 if masked else NO_DEAD
    lhs = _general_lhs(U, idx, t1, t2, dead)
    nonzero = np.array([1, 2, 50, 51, 333])
    for k in (1, 7, 60, 150):
        args = (U, idx, t1, t2, bound, unpen, dead, lam, identity, nonzero, k)
        for kernel in (D.lasso_ws_rest_top_numba, D.lasso_ws_rest_top_numpy):
            got = kernel(*args)
            assert got[1]   # continuous scores: no ties
            _assert_rest_top(got, k, lhs, bound, unpen, dead, nonzero)


def test_rest_top_reports_a_tie_at_the_last_place():
    """Equal scores across the k-th place leave the choice to the full ranking; a tie inside the k does not."""
    p = 50
    U = np.linspace(0.0, 0.5, p).reshape(-1, 1)
    U[[10, 20, 30], 0] = 0.45            # three equal scores, among the best left-out ones
    U[[40], 0] = 0.48
    idx, t1, t2 = np.arange(p), np.full(p, 1.0), np.zeros(p)
    unpen = np.zeros(p, dtype=bool)
    none = np.zeros(0, dtype=np.int64)
    args = (U, idx, t1, t2, t1, unpen, NO_DEAD, 1.0, True, none)
    # order of the left-out scores: 0.5 (49), 0.48 (40), 0.4898 ... the linspace tail, then the three 0.45
    best = np.argsort(-U[:, 0], kind="stable")
    last_tie = int(np.flatnonzero(np.isin(best, [10, 20, 30]))[-1])
    for kernel in (D.lasso_ws_rest_top_numba, D.lasso_ws_rest_top_numpy):
        assert not kernel(*args, last_tie)[1]     # two of the three tied scores fit: ambiguous
        top, unique = kernel(*args, last_tie + 1)  # all three fit: unique
        assert unique
        np.testing.assert_array_equal(np.sort(top), np.sort(best[:last_tie + 1]))
    U[7, 0] = np.nan
    for kernel in (D.lasso_ws_rest_top_numba, D.lasso_ws_rest_top_numpy):
        assert not kernel(*args, 5)[1]            # a NaN score: left to the full ranking


def _problem(fmt, p=600, n=150, density=0.03, seed=0):
    rng = np.random.default_rng(seed)
    A = sp.random(n, p, density=density, random_state=rng, format="csc")
    A.data = rng.standard_normal(A.data.size)
    x_true = np.zeros(p)
    x_true[rng.choice(p, 15, replace=False)] = rng.standard_normal(15)
    y = A @ x_true + 0.05 * rng.standard_normal(n)
    A = A.asformat(fmt)
    A.sort_indices()
    return A, y


def _fingerprint(res):
    h = res.history
    return (res.x, res.objective, res.gap, res.n_iter, res.converged, h["ws_size"], h["epochs"], h["gap"],
            h["objective"], h["n_screened"], h["screened_blocks"])


def _assert_same_solve(monkeypatch, solve):
    """``solve()`` with the one-pass scans and with the general ones: bitwise the same run."""
    monkeypatch.setattr(W, "_SPARSE_LASSO_SCANS", False)
    old = _fingerprint(solve())
    monkeypatch.setattr(W, "_SPARSE_LASSO_SCANS", True)
    new = _fingerprint(solve())
    for a, b in zip(old, new):
        if isinstance(a, np.ndarray) or isinstance(a, list):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        else:
            assert a == b
    return new


def _counting(monkeypatch, name):
    calls = []
    kernel = getattr(W, name)

    def counted(*args):
        calls.append(1)
        return kernel(*args)

    monkeypatch.setattr(W, name, counted)
    return calls


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("use_numba", [True, False])
@pytest.mark.parametrize("heap_div", [1, None])
def test_solves_with_and_without_the_scans_are_identical(monkeypatch, fmt, use_numba, heap_div):
    """``heap_div`` 1: every working set larger than its candidates tries the heap pass (by default only those
    with few places beyond the candidates do); the choice is the same either way."""
    if not use_numba:
        monkeypatch.setattr(W, "NUMBA_ENABLED", False)
    if heap_div is not None:
        monkeypatch.setattr(W, "_LASSO_HEAP_DIV", heap_div)
    A, y = _problem(fmt)
    lam_max = np.abs(A.T @ y).max()
    names = ("lasso_scale", "lasso_screen", "lasso_ws_candidates", "lasso_ws_rest_top", "lasso_norm_bounds",
             "lasso_uniform")
    calls = {name: _counting(monkeypatch, name + ("_numba" if use_numba else "_numpy")) for name in names}
    p = A.shape[1]
    w = np.ones(p)
    w[::7] = 0.0     # 86 unpenalized features: the gap projects on them (the general working set then)
    w[3::11] = 2.0
    x0 = np.zeros(p)
    x0[:20] = 0.05
    runs = [lambda frac=frac: ss.solve_block(ss.LeastSquares(A, y), ss.L1(frac * lam_max), tol=1e-8)
            for frac in (0.5, 0.1, 0.02)]
    runs += [lambda: ss.solve(ss.LeastSquares(A, y), ss.L1(0.1 * lam_max), x0=x0, tol=1e-8),
             lambda: ss.solve_block(ss.LeastSquares(A, y), ss.L1(0.1 * lam_max), tol=1e-8, p0=3),
             lambda: ss.solve_block(ss.LeastSquares(A, y),
                                    ss.GroupLasso(ss.Groups.contiguous(p, 1, weights=w), 0.1 * lam_max), tol=1e-8)]
    for run in runs:
        converged = _assert_same_solve(monkeypatch, run)[4]
        assert converged
    for name, got in calls.items():   # every scan ran (the rest kernel: working sets larger than the violators)
        assert got or (name == "lasso_ws_rest_top" and heap_div is None), name


def test_scans_reach_the_tie_fallback_and_keep_its_choice(monkeypatch):
    """A working set that needs some of many equal scores (empty columns: |a_j^T r| = 0) takes them as
    _working_set does: the full ranking, after the rest kernel reports the tie."""
    A, y = _problem("csc", p=800, density=0.002, seed=4)   # most columns empty
    assert np.count_nonzero(np.diff(A.indptr) == 0) > 400
    lam = 0.05 * np.abs(A.T @ y).max()
    ties = []
    kernel = W.lasso_ws_rest_top_numba

    def counted(*args):
        top, unique = kernel(*args)
        ties.append(not unique)
        return top, unique

    monkeypatch.setattr(W, "lasso_ws_rest_top_numba", counted)
    monkeypatch.setattr(W, "_LASSO_HEAP_DIV", 1)   # the heap pass for every working set larger than its candidates
    _assert_same_solve(monkeypatch, lambda: ss.solve_block(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-8, p0=300,
                                                           screening=False))
    assert any(ties)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_float32_design_solves_are_identical_with_the_scans(monkeypatch, fmt):
    """A float32 design (read in place, float64 sums): the scans make the same choices there too."""
    A, y = _problem(fmt, seed=2)
    A = A.astype(np.float32)
    lam = 0.05 * np.abs(A.T.astype(np.float64) @ y).max()
    _assert_same_solve(monkeypatch, lambda: ss.solve(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-8))
