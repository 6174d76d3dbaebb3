"""The rows a working set's columns touch (issue 15): listed with or without a branch per row, the same lists.

:func:`csc_touched_rows_numba` picks its loop by the fraction of rows touched; both loops must give its numpy
twin's rows and positions, at the edges of the switch too.
"""

import numpy as np
import pytest

from structsparse.solvers import _design_kernels as D


@pytest.mark.parametrize("n", [1, 7, 400, 10_000])
@pytest.mark.parametrize("fraction", [0.0, 0.004, 0.049, 0.05, 0.051, 0.3, 1.0])
def test_touched_rows_are_the_twins_on_both_sides_of_the_switch(n, fraction):
    rng = np.random.default_rng(n)
    count = int(round(fraction * n))
    touched = np.sort(rng.choice(n, count, replace=False))
    rows = rng.permutation(np.concatenate([touched, rng.choice(touched, 2 * count)])) if count else \
        np.zeros(0, dtype=np.int64)   # every touched row, some repeated, in no order
    extra = rng.integers(0, n, 5)   # entries past nnz: not read
    for dtype in (np.int32, np.int64):
        r = D.unsigned_view(np.concatenate([rows, extra]).astype(dtype))
        got = D.csc_touched_rows_numba(r, rows.size, n)
        want = D.csc_touched_rows_numpy(r, rows.size, n)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        assert got[0].dtype == np.int64 and got[1].dtype == r.dtype
        np.testing.assert_array_equal(got[0], touched)
        np.testing.assert_array_equal(got[0][got[1]], rows)   # each entry's row, through its position
