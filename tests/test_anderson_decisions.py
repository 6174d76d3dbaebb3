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
