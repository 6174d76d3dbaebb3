"""The proximal Newton model kernel's path for one-column blocks (lasso-type penalties) against its numpy twin."""

import numpy as np
import pytest

from structsparse._numba import NUMBA_ENABLED
from structsparse.solvers._newton_kernels import pn_cd_dense_numba, pn_cd_dense_numpy, subdiff_distance_numpy

pytestmark = pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")


def _singleton_problem(seed, m=40, n=70, t1=0.5, t2=0.0, known_lips=False, zero_column=True):
    rng = np.random.default_rng(seed)
    AT = rng.standard_normal((m + 5, n))
    if zero_column:
        AT[3] = 0.0                                    # an all-zero column (skipped, its constant is 0)
    cols = rng.permutation(m + 5)[:m].astype(np.int64)
    ptr = np.arange(m + 1, dtype=np.int64)
    T1 = np.full(m, t1)
    T2 = np.full(m, t2)
    h = rng.uniform(0.05, 0.25, n)
    G = rng.standard_normal(m) * 3.0
    lips = ((AT[cols] ** 2) @ h) if known_lips else np.full(m, -1.0)
    x0 = np.where(rng.random(m) < 0.5, rng.standard_normal(m), 0.0)
    return AT, cols, ptr, T1, T2, lips, G, h, x0


def _run(kernel, prob, epochs, tol):
    AT, cols, ptr, t1, t2, lips, G, h, x0 = prob
    x, hu, lips = x0.copy(), np.zeros(AT.shape[1]), lips.copy()
    ran, kkt = kernel(AT, cols, ptr, t1, t2, lips, G, h, x, hu, np.zeros((1, 1)), epochs, tol)
    return x, hu, lips, int(ran), float(kkt)


@pytest.mark.parametrize("epochs", [1, 6])
@pytest.mark.parametrize("t1, t2", [(0.5, 0.0), (0.2, 0.4), (6.0, 0.0)])
@pytest.mark.parametrize("known_lips", [False, True])
def test_singleton_path_matches_numpy_twin(epochs, t1, t2, known_lips):
    prob = _singleton_problem(1, t1=t1, t2=t2, known_lips=known_lips)
    a = _run(pn_cd_dense_numba, prob, epochs, 0.0)
    b = _run(pn_cd_dense_numpy, prob, epochs, 0.0)
    for u, v in zip(a[:3], b[:3]):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    assert a[3] == b[3] == epochs
    assert a[4] == pytest.approx(b[4], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("t1, t2", [(0.5, 0.0), (0.2, 0.4)])
def test_singleton_path_reaches_the_model_minimizer(t1, t2):
    """Run to a tiny tolerance: optimality conditions of the model hold, and hu = h * A_ws (x - x0). (No
    all-zero column: its gradient would stay as it is, and so would its distance to the subdifferential.)"""
    AT, cols, ptr, T1, T2, lips, G, h, x0 = prob = _singleton_problem(2, t1=t1, t2=t2, zero_column=False)
    x, hu, lips_out, ran, kkt = _run(pn_cd_dense_numba, prob, 20_000, 1e-11)
    assert kkt <= 1e-11 and ran < 20_000
    Aws = AT[cols]
    np.testing.assert_allclose(hu, h * (Aws.T @ (x - x0)), atol=1e-9)
    np.testing.assert_allclose(lips_out, (Aws ** 2) @ h, rtol=1e-12)
    grad = G + Aws @ hu
    assert subdiff_distance_numpy(grad, x, ptr, T1, T2).max() <= 1e-9


def test_all_zero_column_keeps_its_value():
    AT, cols, ptr, T1, T2, lips, G, h, x0 = prob = _singleton_problem(3)
    k = int(np.flatnonzero(cols == 3)[0]) if np.any(cols == 3) else None
    assert k is not None
    x, _, lips_out, _, _ = _run(pn_cd_dense_numba, prob, 5, 0.0)
    assert x[k] == x0[k] and lips_out[k] == 0.0


@pytest.mark.parametrize("cycling", [True, False])
@pytest.mark.parametrize("t1, t2", [(2.0, 0.0), (1.0, 1.5), (5.0, 0.0)])
def test_screened_descent_takes_the_same_steps(cycling, t1, t2):
    """The column-norm screen skips zero coordinates that provably stay zero: same x, hu and epochs as without
    it, from a start near the model's minimizer (small steps, where the screen skips most zero columns) and
    from far."""
    from structsparse.solvers._newton_kernels import pn_model_descent_numba, pn_model_descent_screened_numba

    AT, cols, ptr, T1, T2, lips, G, h, x0 = _singleton_problem(4, m=60, n=80, t1=t1, t2=t2, zero_column=False)
    colnorm = np.sqrt((AT[cols] ** 2).sum(axis=1))
    V = np.zeros((1, 1))
    x_star, _, _, _, _ = _run(pn_cd_dense_numba, (AT, cols, ptr, T1, T2, lips, G, h, x0), 20_000, 1e-12)
    for start in (x0, x_star + 1e-4 * (x_star != 0)):
        a = pn_model_descent_numba(AT, cols, ptr, T1, T2, lips.copy(), G, h, start, V, 1e-10, 1000, 5, cycling)
        b = pn_model_descent_screened_numba(AT, cols, ptr, T1, T2, lips.copy(), G, h, start, V, 1e-10, 1000, 5,
                                            cycling, colnorm)
        assert a[2] == b[2]
        np.testing.assert_allclose(b[0], a[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(b[1], a[1], rtol=0, atol=1e-12)
        assert np.count_nonzero(b[0]) < b[0].size          # zero coordinates exist: the screen had work


def test_screened_descent_skips_far_zero_columns():
    """A zero coordinate whose bound says it stays zero is never read: its step constant is never computed
    (it stays -1, 'unknown'), and a column of NaN there does not reach x or hu. Without the screen it is read."""
    from structsparse.solvers._newton_kernels import pn_model_descent_numba, pn_model_descent_screened_numba

    AT, cols, ptr, T1, T2, lips, G, h, x0 = _singleton_problem(5, m=30, n=50, t1=1.0, zero_column=False)
    x0 = np.zeros_like(x0)
    G = G.copy()
    G[7] = 0.0
    AT = AT.copy()
    AT[cols[7]] = np.nan
    colnorm = np.sqrt(np.nan_to_num(AT[cols] ** 2).sum(axis=1))
    colnorm[7] = 0.0                 # a norm of 0 claimed: the bound |G| + 0 < t1 holds at every epoch
    V = np.zeros((1, 1))
    lips_b = lips.copy()
    x, hu, _ = pn_model_descent_screened_numba(AT, cols, ptr, T1, T2, lips_b, G, h, x0, V, 1e-10, 200, 5, True,
                                               colnorm)
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(hu)) and x[7] == 0.0
    assert lips_b[7] == -1.0 and np.all(lips_b[np.flatnonzero(x)] > 0)
    lips_a = lips.copy()
    pn_model_descent_numba(AT, cols, ptr, T1, T2, lips_a, G, h, x0, V, 1e-10, 200, 5, True)
    assert lips_a[7] != -1.0         # read (NaN: the column's constant)


def test_screened_descent_refuses_norms_of_another_shape():
    from structsparse.solvers._newton_kernels import pn_model_descent_screened_numba

    AT, cols, ptr, T1, T2, lips, G, h, x0 = _singleton_problem(6, m=10, n=20)
    with pytest.raises(ValueError, match="colnorm"):
        pn_model_descent_screened_numba(AT, cols, ptr, T1, T2, lips.copy(), G, h, x0, np.zeros((1, 1)), 1e-8, 10,
                                        5, True, np.ones(3))
