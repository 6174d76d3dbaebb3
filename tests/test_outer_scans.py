"""The outer loop's one-pass scans and compact block specs: same values as the general passes, less memory.

The lasso's blocks are single features: its block spec stores nothing per feature (``idx`` a view of
``ptr``, broadcast weights), and each outer scan of ``A^T r`` (dual scaling, Gap Safe test, working-set
scores) is one kernel pass. Both must compute exactly what the general code computes: the kernels are
compared with the multi-pass numpy expressions they replace, and whole solves with the passes turned off
(``working_set._ONE_PASS_SCANS``) and with a penalty that stores every array.
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse.solvers import _block_kernels as K
from structsparse.solvers import working_set as ws_module
from structsparse.solvers._block_spec import BlockSpec, block_columns, block_spec, is_identity, take


def _singleton_case(rng, m=300, p=500):
    """U (p, 1) with ties and zeros, a subset of features as blocks, mixed l1 / l2 / unpenalized weights."""
    U = rng.standard_normal((p, 1))
    U[rng.random(p) < 0.1] = 0.0
    U[:5] = 1.25   # ties
    idx = np.sort(rng.choice(p, m, replace=False)).astype(np.int64)
    kind = rng.integers(0, 3, m)   # 0: l1, 1: l2, 2: unpenalized
    t1 = np.where(kind == 0, rng.uniform(0.5, 1.5, m), 0.0)
    t2 = np.where(kind == 1, rng.uniform(0.5, 1.5, m), 0.0)
    bound = np.where(t2 > 0, t2, t1)
    return U, idx, t1, t2, bound, kind == 2


def _multi_pass_lhs(U, idx, t1, t2):
    """The threshold norms at scale 1 as the general code computes them (the kernels' reference)."""
    return K.singleton_threshold_norms_numba(U, idx, t1, t2, 1.0)


@pytest.mark.parametrize("with_dead", [False, True])
def test_singleton_pure_scale_is_the_multi_pass_scale(with_dead):
    rng = np.random.default_rng(0)
    U, idx, t1, t2, bound, _ = _singleton_case(rng)
    dead = rng.random(idx.size) < 0.3 if with_dead else np.zeros(0, dtype=bool)
    lhs = _multi_pass_lhs(U, idx, t1, t2)
    if with_dead:
        lhs[dead] = 0.0
    want = K.pure_dual_scale_numba(lhs, bound)
    assert want > 1.0
    for fn in (K.singleton_pure_scale_numba, K.singleton_pure_scale_numpy):
        assert fn(U, idx, t1, t2, bound, dead) == want   # bitwise
    # broadcast weights (the lasso's compact spec: the kernel takes the largest |u| first) read like stored ones,
    # for pure l1, pure l2 and both
    for w1, w2 in ((0.8, 0.0), (0.0, 0.3), (0.2, 0.3)):
        t1s, t2s = np.full(idx.size, w1), np.full(idx.size, w2)
        bound_s = np.where(t2s > 0, t2s, t1s)
        lhs = _multi_pass_lhs(U, idx, t1s, t2s)
        if with_dead:
            lhs[dead] = 0.0
        want = K.pure_dual_scale_numba(lhs, bound_s)
        assert want > 1.0
        views = [np.broadcast_to(v, idx.size) for v in (w1, w2, bound_s[0])]
        for fn in (K.singleton_pure_scale_numba, K.singleton_pure_scale_numpy):
            assert fn(U, idx, *views, dead) == want
            assert fn(U, idx, *views[:2], np.broadcast_to(0.0, idx.size), dead) == 1.0   # unpenalized
        everything = np.ones(idx.size, dtype=bool)
        assert K.singleton_pure_scale_numba(U, idx, *views, everything) == 1.0


@pytest.mark.parametrize("with_dead", [False, True])
def test_singleton_gap_safe_is_the_mask_with_the_solvers_norm_bounds(with_dead):
    rng = np.random.default_rng(1)
    U, idx, t1, t2, bound, unpen = _singleton_case(rng)
    p = U.shape[0]
    colnorm2 = rng.uniform(0.0, 2.0, p)
    blocks = np.sort(rng.choice(2 * idx.size, idx.size, replace=False)).astype(np.int64)   # the penalty's ids
    lips = np.full(2 * idx.size, -1.0)
    known = rng.random(lips.size) < 0.5
    lips[known] = rng.uniform(0.0, 2.0, int(known.sum()))   # some below the column norm, some above
    dead = rng.random(idx.size) < 0.2 if with_dead else np.zeros(0, dtype=bool)
    # the reference: _BlockSolver.group_norm_bounds (sqrt of the column norms, lowered to known sqrt(lips)),
    # then gap_safe_mask on the threshold norms, minus the dead ones
    norms = np.sqrt(colnorm2[idx])
    lk = lips[blocks] >= 0
    norms[lk] = np.minimum(norms[lk], np.sqrt(lips[blocks][lk]))
    lhs = _multi_pass_lhs(U, idx, t1, t2)
    scale = 1.7
    for radius in (0.0, 0.05, 0.3):
        want = K.gap_safe_mask_numba(lhs, scale, radius, norms, bound, unpen)
        if with_dead:
            want &= ~dead
        assert 0 < want.sum() < idx.size or radius == 0.0
        for fn in (K.singleton_gap_safe_numba, K.singleton_gap_safe_numpy):
            got, count = fn(U, idx, blocks, t1, t2, scale, radius, colnorm2, lips, bound, unpen, dead)
            np.testing.assert_array_equal(got, want)
            assert count == int(want.sum())
            assert not np.any(got & unpen)


@pytest.mark.parametrize("with_alive", [False, True])
def test_singleton_scores_are_the_multi_pass_scores(with_alive):
    rng = np.random.default_rng(2)
    U, idx, t1, t2, bound, unpen = _singleton_case(rng)
    nonzero = rng.random(idx.size) < 0.1
    alive = rng.random(idx.size) < 0.7 if with_alive else np.zeros(0, dtype=bool)
    forced = (alive & (nonzero | unpen)) if with_alive else (nonzero | unpen)
    want = _multi_pass_lhs(U, idx, t1, t2) - bound
    want[forced] = np.inf
    if with_alive:
        want[~alive] = -np.inf
    assert 0 < np.count_nonzero(want > 0) < idx.size
    for fn in (K.singleton_scores_numba, K.singleton_scores_numpy):
        neg, count = fn(U, idx, t1, t2, bound, forced, alive)
        np.testing.assert_array_equal(neg, -want)   # bitwise, infinities included
        assert count == np.count_nonzero(want > 0)
        np.testing.assert_array_equal(np.flatnonzero(neg < 0), np.flatnonzero(want > 0))



@pytest.mark.parametrize("with_alive", [False, True])
def test_singleton_scores_into_the_product_are_the_scores(with_alive):
    """The scores written into a given array, that array being the memory of ``U`` itself (increasing ``idx``,
    the outer loop's use), equal the scores in an array of their own, bit for bit (numba and its numpy twin)."""
    rng = np.random.default_rng(4)
    U, idx, t1, t2, bound, unpen = _singleton_case(rng)
    forced = (rng.random(idx.size) < 0.1) | unpen
    alive = rng.random(idx.size) < 0.7 if with_alive else np.zeros(0, dtype=bool)
    want, want_count = K.singleton_scores_numba(U, idx, t1, t2, bound, forced, alive)
    for fn in (K.singleton_scores_into_numba, K.singleton_scores_into_numpy):
        Uc = U.copy()
        into = Uc.reshape(-1)[:idx.size]   # the first entries of U, as solve_block passes them
        got, count = fn(Uc, idx, t1, t2, bound, forced, alive, into)
        assert got is into and np.shares_memory(got, Uc)
        np.testing.assert_array_equal(got, want)
        assert count == want_count
        fresh = np.empty(idx.size)   # and into an array of its own
        np.testing.assert_array_equal(fn(U, idx, t1, t2, bound, forced, alive, fresh)[0], want)

def test_l1_block_spec_stores_nothing_per_feature():
    p = 100_000
    spec = block_spec(ss.L1(0.3), p)
    assert spec.identity and spec.n_blocks == p
    # one int64 array for idx and ptr, weights of stride 0: 8 bytes a feature, not 32
    assert spec.idx.base is spec.ptr and spec.t1.strides == (0,) and spec.t2.strides == (0,)
    np.testing.assert_array_equal(spec.idx, np.arange(p))
    np.testing.assert_array_equal(spec.ptr, np.arange(p + 1))
    assert float(spec.t1[123]) == 0.3 and float(spec.t2[-1]) == 0.0
    assert spec.unpenalized.strides == (0,) and not spec.unpenalized.any()
    assert block_spec(ss.L1(0.0), 5).unpenalized.all()
    # nothing can write through the shared views
    for arr in (spec.idx, spec.ptr, spec.t1, spec.t2):
        with pytest.raises(ValueError):
            arr[0] = 1
    blocks = np.array([3, 7, 11])
    assert take(spec.t1, blocks).strides == (0,) and take(spec.t1, blocks).size == 3
    np.testing.assert_array_equal(block_columns(spec.idx, spec.ptr, blocks), blocks)
    x = np.linspace(-1.0, 1.0, p).reshape(-1, 1)
    assert spec.value(x) == 0.3 * float(np.abs(x).sum()) or \
        abs(spec.value(x) - 0.3 * float(np.abs(x).sum())) <= 1e-12 * spec.value(x)


def test_identity_is_declared_not_guessed():
    ar = np.arange(6, dtype=np.int64)
    assert is_identity(ar[:-1], ar)
    assert not is_identity(np.arange(5, dtype=np.int64), np.arange(6, dtype=np.int64))   # equal, not declared
    assert not is_identity(ar[1:], ar)
    g = ss.Groups.from_lists([[0], [1], [2]])
    assert not block_spec(ss.GroupLasso(g, 1.0), 3).identity
    # stored arrays still work (another penalty, or a caller's own BlockSpec)
    stored = BlockSpec(np.arange(4), np.arange(5), np.full(4, 0.5), np.zeros(4))
    assert not stored.identity and not stored.unpenalized.any()
    np.testing.assert_array_equal(take(stored.t1, np.array([1, 2])), [0.5, 0.5])


class _StoredL1(ss.L1):
    """The lasso with every per-feature array stored (the layout before the compact specs)."""

    def block_thresholds(self, n_features):
        n = int(n_features)
        return (np.arange(n, dtype=np.int64), np.arange(n + 1, dtype=np.int64), np.full(n, float(self.lam)),
                np.zeros(n))


def _fingerprint(res):
    h = res.history
    return (np.ascontiguousarray(res.x).tobytes(), res.objective, res.gap, res.n_iter, list(h["epochs"]),
            list(h["ws_size"]), list(h["n_screened"]), h["screened_blocks"].tobytes())


def _problems():
    rng = np.random.default_rng(3)
    n, p = 120, 4000
    A = sp.random(n, p, density=0.03, random_state=4, format="csc")
    y = A @ np.r_[rng.standard_normal(15), np.zeros(p - 15)] + 0.01 * rng.standard_normal(n)
    D = rng.standard_normal((80, 600))
    yd = D[:, :8] @ rng.standard_normal(8) + 0.1 * rng.standard_normal(80)
    return [(A, y), (A.tocsr(), y), (D, yd), (np.ascontiguousarray(D), yd)]


@pytest.mark.parametrize("case", range(4))
@pytest.mark.parametrize("ratio", [0.3, 0.05])
@pytest.mark.parametrize("ws_strategy", ["subdiff", "gap"])
def test_solves_are_bitwise_those_of_the_multi_pass_scans_and_stored_specs(case, ratio, ws_strategy, monkeypatch):
    A, y = _problems()[case]
    lam = ratio * ss.lambda_max(ss.LeastSquares(A, y), ss.L1(1.0))
    got = ss.solve_block(ss.LeastSquares(A, y), ss.L1(lam), tol=1e-10, ws_strategy=ws_strategy)
    assert got.converged
    if case < 2:   # the sparse problems screen (the Gap Safe kernel is exercised)
        assert got.history["n_screened"][-1] > 0
    stored = ss.solve_block(ss.LeastSquares(A, y), _StoredL1(lam), tol=1e-10, ws_strategy=ws_strategy)
    monkeypatch.setattr(ws_module, "_ONE_PASS_SCANS", False)
    passes = ss.solve_block(ss.LeastSquares(A, y), _StoredL1(lam), tol=1e-10, ws_strategy=ws_strategy)
    assert _fingerprint(got) == _fingerprint(stored) == _fingerprint(passes)


def test_one_pass_kernels_get_read_only_arguments():
    """The three one-pass kernels are wrapped by ``_numba.read_only_arguments`` (one compiled specialization
    whatever the caller's writability; the wrapper itself is tested in test_numba_signatures)."""
    for name in ("singleton_pure_scale_numba", "singleton_gap_safe_numba", "singleton_scores_numba"):
        assert hasattr(getattr(K, name), "kernel"), name
