"""Shortcuts that cut the fixed cost of a small solve: each computes exactly what the longer path computed.

The sparse lasso's epoch is called without :func:`csc_block_epoch`'s per-epoch layout test (same steps), and a
sparse design's finiteness and scale checks are two reductions of its stored values (:func:`value_extent`: the same
decisions and messages as the three passes they replace).
"""

import numpy as np
import pytest
import scipy.sparse as sp

import structsparse as ss
from structsparse.datafits._design_pass import value_extent
from structsparse.exceptions import ParameterError
from structsparse.solvers import working_set as ws_module
from structsparse.solvers._design_kernels import csc_block_epoch


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


def test_direct_singleton_epoch_takes_the_steps_of_csc_block_epoch():
    rng = np.random.default_rng(3)
    A = sp.random(200, 60, density=0.1, format="csc", random_state=4)
    y = rng.standard_normal(200)
    loss, pen = ss.LeastSquares(A, y), ss.L1(0.05 * ss.lambda_max(ss.LeastSquares(A, y), ss.L1(1.0)))
    design = ws_module._design_of(loss)
    spec = ws_module.block_spec(pen, 60)
    Y = y.reshape(1, -1).copy()
    solver = ws_module._BlockSolver(design, spec, Y, ws_module._kernels(ws_module.NUMBA_ENABLED), True, 10, 100)
    if solver.epoch_sparse is not csc_block_epoch:
        pytest.skip("numba disabled: the numpy epoch has no direct path")
    ws = np.arange(0, 60, 2, dtype=np.int64)
    Aws = design.columns(ws)
    ptr = np.arange(ws.size + 1, dtype=np.int64)
    t1, t2 = spec.t1[ws], spec.t2[ws]
    lips = design.colnorm2[ws] * (1.0 + 1e-10)
    epoch = solver._ops(Aws, ptr, t1, t2)[0]
    X1, R1 = np.zeros((ws.size, 1)), Y.copy()
    X2, R2 = X1.copy(), R1.copy()
    for _ in range(3):
        epoch(X1, R1, lips)
        csc_block_epoch(*Aws, R2, X2, ptr, t1, t2, lips, solver.V)
        assert np.array_equal(X1, X2) and np.array_equal(R1, R2)
    assert np.count_nonzero(X1)
    # a non-contiguous iterate goes through csc_block_epoch itself (its general epoch, in place on the view)
    Xs = np.zeros((ws.size, 2))[:, :1]
    Rs = Y.copy()
    epoch(Xs, Rs, lips)
    X3, R3 = np.zeros((ws.size, 2))[:, :1], Y.copy()
    csc_block_epoch(*Aws, R3, X3, ptr, t1, t2, lips, solver.V)
    assert np.array_equal(Xs, X3) and np.array_equal(Rs, R3)
