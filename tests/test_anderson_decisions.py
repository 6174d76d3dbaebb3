"""The sparse lasso's Anderson decisions (issue 15): decided from reassociated sums, the ordered sums' decisions.

An Anderson step of :func:`csc_singleton_run_numba` is taken when it lowers the objective. ``_objective_lower``
decides from reassociated (vectorized) sums of the squared residuals when the two objectives differ by far more
than either sum's rounding, and from :func:`block_objective_numba`'s ordered sums otherwise: its decision must be
the ordered one on pairs of every closeness, down to equal and one-ulp-apart objectives, with both ways taken.
"""

import numpy as np
import pytest

from structsparse._numba import NUMBA_ENABLED
from structsparse.solvers import _block_kernels as K
from structsparse.solvers import _design_kernels as D

pytestmark = pytest.mark.skipif(not NUMBA_ENABLED, reason="the numba kernels' own decision")


def _ordered_lower(X2, R2, x, r, ptr, t1, t2):
    current = K.block_objective_numba(x, r.reshape(1, -1), ptr, t1, t2)
    return K.block_objective_numba(X2, R2, ptr, t1, t2) < current, current


@pytest.mark.parametrize("n, m", [(50, 3), (2000, 40), (10_000, 80)])
def test_objective_decisions_are_the_ordered_sums_decisions(n, m):
    rng = np.random.default_rng(n + m)
    ptr = np.arange(m + 1, dtype=np.int64)
    fast = exact = 0
    for trial in range(400):
        r = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3)
        x = rng.standard_normal((m, 1)) * (rng.random((m, 1)) < 0.5)
        t1 = np.full(m, 10.0 ** rng.uniform(-2, 1))
        t2 = np.zeros(m) if trial % 2 else np.full(m, 0.3)
        closeness = 10.0 ** -rng.uniform(0, 17) if trial % 5 else 0.0   # relative perturbation, down to none
        R2 = (r * (1.0 + closeness * rng.standard_normal(n))).reshape(1, n)
        X2 = x.copy()
        if trial % 7 == 0:
            X2[0, 0] = np.nextafter(X2[0, 0], np.inf)   # a one-ulp change of the penalty
        got, current = D._objective_lower(X2, R2, x, r, ptr, t1, t2)
        want, want_current = _ordered_lower(X2, R2, x, r, ptr, t1, t2)
        assert got == want, (trial, closeness)
        if np.isnan(current):
            fast += 1
        else:
            exact += 1
            assert current == want_current   # the ordered objective, when it was computed
    assert fast and exact   # both ways decided


def test_objective_decisions_fall_back_on_special_values():
    n, m = 100, 4
    ptr = np.arange(m + 1, dtype=np.int64)
    r = np.ones(n)
    x = np.ones((m, 1))
    for R2, t1 in ((np.full((1, n), np.nan), np.ones(m)), (np.full((1, n), 2.0), -np.ones(m)),
                   (np.full((1, n), 1e-200), np.zeros(m)), (np.full((1, n), np.inf), np.ones(m))):
        got, current = D._objective_lower(x, R2, x, r, ptr, t1, np.zeros(m))
        want, want_current = _ordered_lower(x, R2, x, r, ptr, t1, np.zeros(m))
        assert got == want and current == want_current   # decided by the ordered sums


# ---------------------------------------------------------------------------- the plain lasso's fast forms
def _bits(a):
    return np.ascontiguousarray(a).view(np.uint64)


@pytest.mark.parametrize("n, m", [(50, 3), (2000, 40), (10_000, 2000)])
def test_l1_decisions_are_the_ordered_sums_decisions(n, m):
    """Every sum reassociated (the squares and the penalty): still the ordered objectives' decision, on
    objectives from far apart down to equal, the near-ties made in the residual, in the penalty, or in both."""
    rng = np.random.default_rng(7 * n + m)
    ptr = np.arange(m + 1, dtype=np.int64)
    t2 = np.zeros(m)
    fast = exact = taken = 0
    for trial in range(400):
        r = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3)
        x = rng.standard_normal(m) * (rng.random(m) < 0.5) * 10.0 ** rng.uniform(-2, 2)
        t1 = 10.0 ** rng.uniform(-2, 1, m) * (rng.random(m) < 0.9)      # weighted, some columns unpenalized
        closeness = 10.0 ** -rng.uniform(0, 17) if trial % 5 else 0.0
        R2 = r.copy()
        x2 = x.copy()
        if trial % 3 != 1:
            R2 *= 1.0 + closeness * rng.standard_normal(n)
        if trial % 3 != 0:
            x2 *= 1.0 + closeness * rng.standard_normal(m)
        if trial % 7 == 0:
            x2[0] = np.nextafter(x2[0], np.inf)                            # a one-ulp change of the penalty
        if trial % 11 == 0:
            x2 = -x2                                                       # the same penalty, other signs
        assert D.plain_l1_singletons(ptr, t1, t2)
        got, current = D._l1_objective_lower(x2, R2.reshape(1, n), x, r, ptr, t1, t2)
        want, want_current = _ordered_lower(x2.reshape(m, 1), R2.reshape(1, n), x.reshape(m, 1), r, ptr, t1, t2)
        assert got == want, (trial, closeness)
        assert D._decide_lower(x2, R2.reshape(1, n), x, r, ptr, t1, t2, True) == want
        assert D._decide_lower(x2, R2.reshape(1, n), x, r, ptr, t1, t2, False) == want
        taken += want
        if np.isnan(current):
            fast += 1
        else:
            exact += 1
            assert current == want_current
    assert fast and exact and 0 < taken < 400   # both ways decided, both decisions made


def test_l1_decisions_fall_back_on_special_values():
    n, m = 100, 4
    ptr = np.arange(m + 1, dtype=np.int64)
    r = np.ones(n)
    x = np.ones(m)
    t2 = np.zeros(m)
    for R2, x2 in ((np.full(n, np.nan), x), (np.full(n, 1e-200), np.zeros(m)), (np.full(n, np.inf), x),
                   (r, np.full(m, np.inf)), (r, np.full(m, np.nan)), (np.full(n, 1e130), x)):
        got, current = D._l1_objective_lower(x2, R2.reshape(1, n), x, r, ptr, np.ones(m), t2)
        want, want_current = _ordered_lower(x2.reshape(m, 1), R2.reshape(1, n), x.reshape(m, 1), r, ptr,
                                            np.ones(m), t2)
        assert got == want and current == want_current   # decided by the ordered sums


def test_plain_l1_singletons_recognizes_only_the_plain_lasso():
    m = 6
    ptr = np.arange(m + 1, dtype=np.int64)
    t1, t2 = np.linspace(0.0, 1.0, m), np.zeros(m)
    assert D.single_column_groups(ptr, m) and D.plain_l1_singletons(ptr, t1, t2)
    assert D.single_column_groups(ptr.astype(np.int32), m)
    other_groups = np.array([0, 0, 2, 3, 4, 5, 6])                   # an empty group and a pair: m + 1 offsets
    assert not D.single_column_groups(other_groups, m) and not D.plain_l1_singletons(other_groups, t1, t2)
    assert not D.single_column_groups(ptr[:-1], m)
    for bad_t1, bad_t2 in ((t1, np.eye(1, m, 3)[0]), (-np.eye(1, m, 2)[0], t2), (np.full(m, np.nan), t2),
                           (t1, np.full(m, np.nan))):
        assert not D.plain_l1_singletons(ptr, bad_t1, bad_t2)


@pytest.mark.filterwarnings("ignore:invalid value encountered in multiply")   # the specials' 0 * inf
def test_take_reversed_singletons_is_the_generic_loop():
    """The single-column form moves the same columns (signed zeros, infinities and NaN included): the same
    ``x_acc``, ``d`` and count, bit for bit, as :func:`anderson_take_reversed_numba` and its numpy twins."""
    rng = np.random.default_rng(3)
    m = 4000
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1.0, -1.0])
    for trial in range(20):
        x = rng.standard_normal(m) * (rng.random(m) < 0.7)
        x_acc = x * rng.uniform(-1.5, 2.0, m) + 0.1 * rng.standard_normal(m) * (rng.random(m) < 0.3)
        x_acc[rng.random(m) < 0.2] = 0.0
        if trial % 2:
            x[:specials.size] = specials
            x_acc[:specials.size ** 2] = np.repeat(specials, specials.size)[:m]
            x[:specials.size ** 2] = np.tile(specials, specials.size)
        ptr = np.arange(m + 1, dtype=np.int64)
        outs = []
        for take in (K.anderson_take_reversed_numba, K.anderson_take_reversed_numpy):
            xa, d = x_acc.copy().reshape(m, 1), np.zeros((m, 1))
            outs.append((take(xa, x.reshape(m, 1), d, ptr), xa[:, 0], d[:, 0]))
        for take in (K.anderson_take_reversed_singletons_numba, K.anderson_take_reversed_singletons_numpy):
            xa, d = x_acc.copy(), np.zeros(m)
            x_before = x.copy()
            outs.append((take(xa, x, d), xa, d))
            assert np.array_equal(_bits(x), _bits(x_before))   # the current point is only read
        want = outs[0]
        assert 0 < want[0] < m
        for count, xa, d in outs[1:]:
            assert count == want[0]
            assert np.array_equal(_bits(xa), _bits(want[1])) and np.array_equal(_bits(d), _bits(want[2]))


def test_add_back_columns_is_the_residual_difference():
    """The retry's residual: bit for bit ``R2 + (Y - ws_residual_sparse_numba(D))``, signed zeros included."""
    import scipy.sparse as sp

    rng = np.random.default_rng(9)
    n, m = 500, 300
    A = sp.random(n, m, density=0.02, format="csc", random_state=4)
    data, rows, colptr = A.data, A.indices.astype(np.uint32), A.indptr.astype(np.uint32)
    d = rng.standard_normal(m) * (rng.random(m) < 0.1)
    Y = rng.standard_normal((1, n))
    R2 = rng.standard_normal((1, n)) * 1e3
    R2[0, ::5] = -0.0
    want = R2 + (Y - K.ws_residual_sparse_numba(data, rows, colptr, d.reshape(m, 1), Y))
    got = R2.copy()
    D._add_back_columns(got, Y, d, data, rows, colptr)
    assert np.array_equal(_bits(got), _bits(want))

