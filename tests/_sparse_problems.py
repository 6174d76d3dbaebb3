"""Sparse lasso problems shared by the tests of the sparse solver's fast paths."""

import numpy as np
import scipy.sparse as sp

import structsparse as ss


def sparse_lasso(seed, fmt, density, frac, n, p, n_active):
    """``(A, y, lam)``: a random ``n x p`` design of the given density in layout ``fmt``, ``y`` from ``n_active``
    planted coefficients with noise at 0.05, and ``lam = frac * lam_max``."""
    rng = np.random.default_rng(seed)
    A = sp.random(n, p, density=density, format=fmt, random_state=seed, data_rvs=rng.standard_normal)
    x = np.zeros(p)
    x[rng.choice(p, n_active, replace=False)] = rng.standard_normal(n_active)
    y = A @ x + 0.05 * rng.standard_normal(n)
    lam = frac * ss.lambda_max(ss.LeastSquares(A, y), ss.L1(1.0))
    return A, y, lam


def wide_sparse_lasso(seed, fmt, density, frac, n, p, n_active):
    """:func:`sparse_lasso`'s problem drawn faster at many features, as the benchmarks draw theirs: the entries at
    independent uniform positions (duplicates summed), and noise at a tenth of the planted signal's scale."""
    rng = np.random.default_rng(seed)
    nnz = round(density * n * p)
    A = sp.coo_matrix((rng.standard_normal(nnz), (rng.integers(0, n, nnz), rng.integers(0, p, nnz))),
                      shape=(n, p)).asformat(fmt)
    A.sum_duplicates()
    A.sort_indices()
    x = np.zeros(p)
    x[rng.choice(p, n_active, replace=False)] = rng.standard_normal(n_active)
    z = A @ x
    y = z + 0.1 * np.linalg.norm(z) / np.sqrt(n) * rng.standard_normal(n)
    lam = frac * ss.lambda_max(ss.LeastSquares(A, y), ss.L1(1.0))
    return A, y, lam


def random_csr(rng, n, p, density, index_dtype=np.int32):
    """A random ``n x p`` CSR matrix with sorted indices of ``index_dtype`` (the CSR kernels' tests)."""
    A = sp.random(n, p, density=density, format="csr", random_state=rng, data_rvs=rng.standard_normal)
    A.sort_indices()
    A.indices = A.indices.astype(index_dtype)
    A.indptr = A.indptr.astype(index_dtype)
    return A


def same_bits(a, b):
    """Whether two arrays hold the same dtype, shape and bytes."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
