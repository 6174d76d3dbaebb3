"""Shortcuts that cut the fixed cost of a small solve: each computes exactly what the longer path computed.

A sparse design's finiteness and scale checks are two reductions of its stored values (:func:`value_extent`: the
same decisions and messages as the three passes they replace).
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse.datafits._design_pass import value_extent
from structsparse.exceptions import ParameterError


def _assert_same_extent(data):
    """The two reductions decide as the three passes did: finiteness, then ``max(max, -min)``."""
    finite, big = value_extent(data)
    assert finite == bool(np.all(np.isfinite(data)))
    if finite:
        assert big == (max(float(data.max()), -float(data.min())) if data.size else 0.0)
    else:
        assert np.isnan(big)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_value_extent_decides_as_the_three_passes(dtype):
    rng = np.random.default_rng(0)
    data = rng.standard_normal(1001).astype(dtype)
    _assert_same_extent(data)
    _assert_same_extent(np.abs(data))          # all positive: the largest entry
    _assert_same_extent(-np.abs(data))         # all negative: minus the smallest
    _assert_same_extent(np.zeros(7, dtype))    # no nonzero entry
    _assert_same_extent(np.zeros(0, dtype))    # no stored entry
    for bad in (np.nan, np.inf, -np.inf):
        spoiled = data.copy()
        spoiled[500] = bad
        _assert_same_extent(spoiled)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_design_checks_keep_their_messages(fmt, dtype):
    rng = np.random.default_rng(1)
    A = sp.random(30, 20, density=0.3, format=fmt, random_state=2, dtype=dtype)
    y = rng.standard_normal(30)
    fit = ss.LeastSquares(A, y)
    assert fit.A is A   # never copied
    bad = A.copy()
    bad.data[3] = np.nan
    with pytest.raises(ParameterError, match="'A' parameter of LeastSquares must contain only finite"):
        ss.LeastSquares(bad, y)
    if dtype == np.float64:   # float32 cannot hold 1e120
        big = A.copy()
        big.data[3] = -1e120
        with pytest.raises(ParameterError, match="'A' parameter of LeastSquares has largest entry magnitude 1e\\+120"):
            ss.LeastSquares(big, y)
    # a shape error on y still comes before the scale check on A
    with pytest.raises(ValueError, match="rows"):
        ss.LeastSquares(A, y[:-1])
