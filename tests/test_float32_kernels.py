"""Kernels that read a design in place: float32 products (``structsparse._float32``) and the working-set
kernels for strided or float32 columns (``structsparse.solvers._inplace_kernels``).

Each numba kernel agrees with its numpy twin, and both with the product of the float64 conversion of the
same entries (exact, so only the order of the float64 sums differs).
"""

import numpy as np
import pytest
import scipy.sparse as sp

from structsparse import _float32 as f32
from structsparse.solvers import _block_kernels as bk
from structsparse.solvers import _inplace_kernels as ik

RTOL = 1e-12


def _dense(order, dtype=np.float32, shape=(37, 23), seed=0):
    A = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return np.asfortranarray(A) if order == "F" else A


def _sparse(fmt, seed=0):
    return sp.random(37, 23, density=0.3, random_state=seed, format=fmt, dtype=np.float32)


@pytest.mark.parametrize("k", (1, 3))
def test_rows_kernels_match_twins_and_float64(k):
    M = _dense("C")
    rng = np.random.default_rng(1)
    VT = rng.standard_normal((k, M.shape[1]))
    WT = rng.standard_normal((k, M.shape[0]))
    M64 = M.astype(np.float64)
    for kernel, twin, arg, want in ((f32.rows_dot_numba, f32.rows_dot_numpy, VT, M64 @ VT.T),
                                    (f32.rows_axpy_numba, f32.rows_axpy_numpy, WT, WT @ M64)):
        np.testing.assert_allclose(kernel(M, arg), want, rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(twin(M, arg), want, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(f32.rows_sq_numba(M), f32.rows_sq_numpy(M), rtol=RTOL)
    np.testing.assert_allclose(f32.cols_sq_numba(M), (M64 ** 2).sum(axis=0), rtol=RTOL)
    np.testing.assert_allclose(f32.cols_sq_numpy(M), (M64 ** 2).sum(axis=0), rtol=RTOL)


@pytest.mark.parametrize("fmt", ("csr", "csc"))
def test_compressed_kernels_match_twins_and_float64(fmt):
    A = _sparse(fmt)
    rng = np.random.default_rng(2)
    minor = A.shape[1] if fmt == "csr" else A.shape[0]
    major = A.shape[0] if fmt == "csr" else A.shape[1]
    VT = rng.standard_normal((2, minor))
    WT = rng.standard_normal((2, major))
    dense = A.toarray().astype(np.float64)
    M = dense if fmt == "csr" else dense.T           # the compressed rows
    args = (A.data, A.indices, A.indptr)
    for impl in (f32.compressed_dot_numba, f32.compressed_dot_numpy):
        np.testing.assert_allclose(impl(*args, VT), M @ VT.T, rtol=RTOL, atol=1e-12)
    for impl in (f32.compressed_axpy_numba, f32.compressed_axpy_numpy):
        np.testing.assert_allclose(impl(*args, WT, minor), WT @ M, rtol=RTOL, atol=1e-12)
    for by_major in (True, False):
        want = (M ** 2).sum(axis=1 if by_major else 0)
        for impl in (f32.compressed_sq_numba, f32.compressed_sq_numpy):
            np.testing.assert_allclose(impl(*args, minor, by_major), want, rtol=RTOL)


@pytest.mark.parametrize("make", [lambda: _dense("C"), lambda: _dense("F"), lambda: _dense("C")[:, ::2],
                                  lambda: _sparse("csr"), lambda: _sparse("csc")],
                         ids=["C", "F", "strided", "csr", "csc"])
def test_products_equal_those_of_the_float64_conversion(make):
    A = make()
    A64 = A.astype(np.float64)
    rng = np.random.default_rng(3)
    n, p = A.shape
    for X in (rng.standard_normal(p), rng.standard_normal((p, 2))):
        out = f32.matmat(A, X)
        assert out.shape == np.shape(A64 @ X) and out.dtype == np.float64
        np.testing.assert_allclose(out, A64 @ X, rtol=RTOL, atol=1e-12)
    for R in (rng.standard_normal(n), rng.standard_normal((n, 2))):
        np.testing.assert_allclose(f32.rmatmat(A, R), A64.T @ R, rtol=RTOL, atol=1e-12)
    want = np.asarray(A64.multiply(A64).sum(axis=0)).ravel() if sp.issparse(A64) else (A64 ** 2).sum(axis=0)
    np.testing.assert_allclose(f32.colnorm2(A), want, rtol=RTOL)


def test_float32_accumulation_would_not_do():
    """Why the sums are float64: a float32 product of a badly scaled sum loses what a gap needs to see."""
    n = 100_000
    A = np.ones((1, n), dtype=np.float32)
    x = np.full(n, 1.0 + 2.0 ** -20)
    exact = n * (1.0 + 2.0 ** -20)
    assert f32.matmat(A, x)[0] == pytest.approx(exact, rel=1e-15)
    assert abs(float((A @ x.astype(np.float32))[0]) - exact) > 1e-9 * exact


def _ws(dtype, order):
    rng = np.random.default_rng(4)
    A = _dense(order, dtype=dtype, shape=(29, 40), seed=5)
    cols = np.ascontiguousarray(rng.permutation(40)[:18], dtype=np.int64)
    ptr = np.array([0, 1, 4, 5, 9, 12, 18], dtype=np.int64)
    t1 = np.array([0.3, 0.0, 0.2, 0.1, 0.0, 0.4])
    t2 = np.array([0.0, 0.5, 0.1, 0.2, 0.0, 0.3])
    R = rng.standard_normal((2, 29))
    X = rng.standard_normal((18, 2)) * (rng.random((18, 1)) < 0.6)
    A64 = A.astype(np.float64)
    lips = np.array([np.linalg.norm(A64[:, cols[ptr[g]:ptr[g + 1]]], 2) ** 2 for g in range(6)]) * (1 + 1e-10)
    return A, cols, ptr, t1, t2, R, X, lips


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("order", ("C", "F"))
def test_inplace_kernels_match_the_contiguous_ones(dtype, order):
    """Reading ``A.T`` in place (strided or float32) gives what the float64 contiguous kernels give on a copy."""
    A, cols, ptr, t1, t2, R, X, lips = _ws(dtype, order)
    AT = A.T
    ATc = np.ascontiguousarray(AT, dtype=np.float64)
    Y = R + (A.astype(np.float64)[:, cols] @ X).T
    np.testing.assert_allclose(ik.ws_gradient_inplace_numba(AT, cols, R), bk.ws_gradient_dense_numba(ATc, cols, R),
                               rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(ik.ws_residual_inplace_numba(AT, cols, X, Y), bk.ws_residual_dense_numba(ATc, cols, X, Y),
                               rtol=RTOL, atol=1e-12)
    if order == "C":   # the row-major products read A (C-contiguous) by rows
        np.testing.assert_allclose(ik.ws_gradient_rows_numba(A, cols, R), bk.ws_gradient_dense_numpy(ATc, cols, R),
                                   rtol=RTOL, atol=1e-12)
        np.testing.assert_allclose(ik.ws_residual_rows_numba(A, cols, X, Y),
                                   bk.ws_residual_dense_numpy(ATc, cols, X, Y), rtol=RTOL, atol=1e-12)
    V = np.zeros((6, 2))  # the largest group has 6 columns
    X1, R1, X2, R2 = X.copy(), R.copy(), X.copy(), R.copy()
    for _ in range(3):
        ik.bcd_epoch_inplace_numba(AT, cols, R1, X1, ptr, t1, t2, lips, V)
        bk.bcd_epoch_dense_numpy(ATc, cols, R2, X2, ptr, t1, t2, lips, V.copy())
    np.testing.assert_allclose(X1, X2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(R1, R2, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_dense_kernels_dispatch_on_the_columns_layout(dtype):
    """The dispatchers give one result whatever the layout: contiguous float64 rows, or ``A.T`` in place."""
    A, cols, ptr, t1, t2, R, X, lips = _ws(dtype, "C")
    epoch, gradient, residual = ik.dense_kernels(True)
    ATc = np.ascontiguousarray(A.T, dtype=np.float64)
    assert ik.contiguous_float64(ATc) and not ik.contiguous_float64(A.T)
    np.testing.assert_allclose(gradient(A.T, cols, R), gradient(ATc, cols, R), rtol=RTOL, atol=1e-12)
    Y = R + 1.0
    np.testing.assert_allclose(residual(A.T, cols, X, Y), residual(ATc, cols, X, Y), rtol=RTOL, atol=1e-12)
    X1, R1, X2, R2 = X.copy(), R.copy(), X.copy(), R.copy()
    epoch(A.T, cols, R1, X1, ptr, t1, t2, lips, np.zeros((6, 2)))
    epoch(ATc, cols, R2, X2, ptr, t1, t2, lips, np.zeros((6, 2)))
    np.testing.assert_allclose(X1, X2, rtol=1e-10, atol=1e-12)
