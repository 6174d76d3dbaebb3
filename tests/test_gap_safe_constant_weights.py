"""The sparse lasso's Gap Safe pass without Lipschitz constants (issue 15): with one weight for every block, the
one-pass kernel takes a loop without per-block branches, and must give the mask of its general loop."""

import numpy as np
import pytest

from structsparse.solvers import _block_kernels as K


def _constant(value, size, dtype=float):
    return np.broadcast_to(np.asarray(value, dtype=dtype), (size,))


@pytest.mark.parametrize("w1, w2", [(0.8, 0.0), (0.0, 0.6), (0.5, 0.4)])
@pytest.mark.parametrize("with_dead", [False, True])
def test_constant_weights_without_lipschitz_constants_give_the_general_mask(w1, w2, with_dead):
    rng = np.random.default_rng(7)
    p = 3000
    U = rng.standard_normal((p + 5, 1))
    idx = np.sort(rng.choice(p + 5, p, replace=False)).astype(np.int64)   # a subset of the rows of U
    blocks = np.arange(p, dtype=np.int64)
    colnorm2 = rng.uniform(0.0, 2.0, p + 5)
    t1, t2 = _constant(w1, p), _constant(w2, p)
    bound = _constant(w2 if w2 > 0 else w1, p)
    unpen = _constant(False, p, bool)
    dead = rng.random(p) < 0.2 if with_dead else np.zeros(0, dtype=bool)
    for radius in (0.0, 0.1, 0.4):
        # the general loop: every block's weights read, the column norms as known Lipschitz bounds (no lower one)
        want = K.singleton_gap_safe_numba(U, idx, blocks, np.array(t1), np.array(t2), 1.3, radius, colnorm2,
                                          colnorm2[idx], np.array(bound), np.array(unpen), dead)
        assert 0 < want[1] < p or radius == 0.0
        for fn in (K.singleton_gap_safe_numba, K.singleton_gap_safe_numpy):
            got, count = fn(U, idx, blocks, t1, t2, 1.3, radius, colnorm2, np.zeros(0), bound, unpen, dead)
            np.testing.assert_array_equal(got, want[0])
            assert count == want[1]
            if with_dead:
                assert not np.any(got & dead)


def test_constant_unpenalized_blocks_are_never_removed():
    p = 50
    U = np.zeros((p, 1))
    idx = np.arange(p, dtype=np.int64)
    got, count = K.singleton_gap_safe_numba(U, idx, idx, _constant(0.0, p), _constant(0.0, p), 1.0, 0.0,
                                            np.ones(p), np.zeros(0), _constant(1.0, p), _constant(True, p, bool),
                                            np.zeros(0, dtype=bool))
    assert count == 0 and not got.any()
