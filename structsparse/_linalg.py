"""Linear algebra shared by every layer: one Lipschitz estimate, one restricted least-squares fit,
one way to read columns of a matrix or an operator, one projection off a set of columns, and one BLAS
thread limit.

``A`` is a dense array, a scipy.sparse matrix or a
``scipy.sparse.linalg.LinearOperator`` throughout.
"""

import contextlib

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, lsqr

from ._group_norms import group_lipschitz_dense, group_lipschitz_gathered, group_norm_sq_csc

__all__ = ["spectral_norm_sq", "group_spectral_norm_sq", "columns", "column_span_basis", "project_out",
           "restricted_lstsq", "single_blas_thread", "rmatvec"]

_controller = None


def single_blas_thread():
    """Context manager that runs its block with one BLAS thread (through threadpoolctl when installed).

    The small dense factorizations of the front ends (QR, SVD, restricted
    least squares) lose far more to thread synchronization than they gain
    from a second thread (measured: a 985 x 64 QR took 0.9 s threaded and
    2 ms on one thread).
    """
    global _controller
    if _depth:  # already inside: re-limiting costs about a millisecond per call, and changes nothing
        return contextlib.nullcontext()
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    if _controller is None:
        _controller = ThreadpoolController()
    return _Limited(_controller)


_depth = 0


class _Limited:
    """The BLAS limit, counting nesting so that inner ``single_blas_thread()`` calls are free."""

    def __init__(self, controller):
        self.controller = controller
        self.limiter = None

    def __enter__(self):
        global _depth
        self.limiter = self.controller.limit(limits=1, user_api="blas")
        _depth += 1
        return self

    def __exit__(self, *exc):
        global _depth
        _depth -= 1
        self.limiter.restore_original_limits()
        return False


def rmatvec(A, r):
    """``A^T r`` for a vector or matrix ``r``."""
    if isinstance(A, LinearOperator):
        return np.asarray(A.rmatvec(r) if r.ndim == 1 else A.rmatmat(r))
    return np.asarray(A.T @ r)


def spectral_norm_sq(A, max_iter=200, tol=1e-6, rng=0):
    """``||A||_2^2``: exact for small matrices, by power iteration on ``A^T A`` otherwise.

    Power iteration approaches the top eigenvalue from below; the estimate is
    raised by 1 % so that steps ``1 / L`` built on it stay safe.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator
    max_iter : int
        Most power iterations.
    tol : float
        Relative change between two iterations at which to stop.
    rng : int or numpy.random.Generator
        Starting vector's generator (fixed by default, so the estimate is reproducible).

    Returns
    -------
    float
        At least the smallest positive float (a zero matrix gives ``tiny``).
    """
    tiny = np.finfo(float).tiny
    if not isinstance(A, LinearOperator) and min(A.shape) <= 64:
        dense = A.toarray() if sp.issparse(A) else np.asarray(A)
        return max(float(np.linalg.norm(dense, 2)) ** 2, tiny) if dense.size else tiny
    v = np.random.default_rng(rng).standard_normal(A.shape[1])
    v /= np.linalg.norm(v)
    est = 0.0
    for _ in range(max_iter):
        w = rmatvec(A, np.asarray(A @ v).ravel())
        new = float(np.linalg.norm(w))
        if new == 0.0:
            return tiny
        v = w / new
        if abs(new - est) <= tol * new:
            est = new
            break
        est = new
    return est * 1.01


def columns(A, cols):
    """``A[:, cols]`` for an array, a sparse matrix (CSC) or a LinearOperator (a restricted operator)."""
    cols = np.asarray(cols, dtype=np.int64)
    if isinstance(A, LinearOperator):
        n = A.shape[1]

        def mv(z):
            full = np.zeros(n)
            full[cols] = np.ravel(z)
            return A.matvec(full)

        return LinearOperator((A.shape[0], cols.size), matvec=mv,
                              rmatvec=lambda r: np.asarray(A.rmatvec(r)).ravel()[cols], dtype=float)
    if sp.issparse(A):
        return A.tocsc()[:, cols] if A.format != "csc" else A[:, cols]
    return A[:, cols]


def group_spectral_norm_sq(A, idx, ptr):
    """``||A_g||_2^2`` for every group ``g`` (columns ``idx[ptr[g]:ptr[g+1]]``) of ``A``.

    Dense and sparse matrices go through the kernels of :mod:`structsparse._group_norms` (the ones the
    working-set solver uses: top eigenvalue of each group's smaller Gram matrix, batched over groups of
    equal size); operators by power iteration on the restricted operator.
    """
    idx = np.asarray(idx, dtype=np.int64)
    ptr = np.asarray(ptr, dtype=np.int64)
    sizes = np.diff(ptr)
    if isinstance(A, LinearOperator):
        out = np.zeros(sizes.size)
        for g in range(sizes.size):
            out[g] = spectral_norm_sq(columns(A, idx[ptr[g]:ptr[g + 1]])) / 1.01 if sizes[g] else 0.0
        return out
    if sp.issparse(A):
        sub = columns(A, idx)
        return group_norm_sq_csc(sub.data, sub.indices, sub.indptr, A.shape[0], ptr)
    AT = np.asarray(A, dtype=np.float64).T
    if AT.flags.c_contiguous:
        return group_lipschitz_dense(AT, ptr, rows=idx)
    return group_lipschitz_gathered(lambda sel: np.ascontiguousarray(AT[sel]), AT.shape[1], ptr, idx)


def column_span_basis(A, cols):
    """An orthonormal basis of the span of the columns ``cols`` of ``A``: ``(m, r)``, ``r`` its rank.

    A QR with column pivoting, so ``|R_jj|`` decreases; the columns of ``Q`` past the first ``|R_jj|``
    below ``1e-12`` times ``|R_00|`` span nothing of the columns and are left out (without pivoting, a
    dependent column before an independent one would take part of the span with it). Used to project dual points onto ``{A_F^T theta = 0}`` for unpenalized
    columns ``F`` (:func:`project_out`); ``A`` may be dense, sparse or an operator (its columns are then
    images of unit vectors).
    """
    cols = np.asarray(cols, dtype=np.int64)
    sub = columns(A, cols)
    if isinstance(sub, LinearOperator):
        sub = sub @ np.eye(cols.size)
    elif sp.issparse(sub):
        sub = sub.toarray()
    q, r, _ = sla.qr(np.asarray(sub, dtype=float).reshape(A.shape[0], cols.size), mode="economic", pivoting=True)
    diag = np.abs(np.diag(r))
    rank = int(np.count_nonzero(diag > 1e-12 * max(float(diag[0]) if diag.size else 0.0, np.finfo(float).tiny)))
    return q[:, :rank]


def project_out(theta, basis):
    """``theta`` minus its orthogonal projection on the span of the orthonormal ``basis`` (m, r).

    ``theta`` has ``m`` entries, or ``m`` rows of one column per target; its shape is kept.
    """
    flat = theta.reshape(basis.shape[0], -1)
    return (flat - basis @ (basis.T @ flat)).reshape(theta.shape)


def restricted_lstsq(A, y, cols=None, *, x0=None, tol=1e-14, iter_lim=None, rcond=None, normal_equations=False):
    """Least-squares fit of ``y`` on the columns ``cols`` of ``A``: ``(coef, residual)``.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (m, n)
    y : ndarray, shape (m,) or (m, k)
        One or several right-hand sides (columns).
    cols : array_like of int, optional
        The columns to fit on; all of them when omitted (no copy of a dense ``A``).
    x0 : ndarray, optional
        Starting point of the iterative solve (sparse matrices and operators, one right-hand side).
    tol : float
        LSQR's relative tolerance (``atol = btol = tol``) for sparse matrices and operators: the default
        reaches machine precision; a greedy method's inner fits stop earlier.
    iter_lim : int, optional
        LSQR's iteration limit (default ``max(10 |cols|, 1000)``).
    rcond : float, optional
        Dense fits: singular values below ``rcond`` times the largest count as zero (minimum-norm solution,
        LAPACK's gelsy). Default: numpy's machine-precision cut-off.
    normal_equations : bool
        Dense fits with at most as many columns as rows: solve the normal equations by Cholesky with one
        refinement step when the factor's diagonal is within 1e-6 of its largest entry (cheap, and exact
        enough for well-conditioned columns); otherwise fall back to the orthogonal solve.

    Returns
    -------
    coef : ndarray, shape (|cols|,) or (|cols|, k)
    residual : ndarray, shape of ``y``
    """
    y = np.asarray(y, dtype=float)
    Y = y.reshape(y.shape[0], -1)
    if cols is None:
        sub, size = A, A.shape[1]
    else:
        cols = np.asarray(cols, dtype=np.int64)
        if cols.size == 0:
            return np.zeros((0,) + y.shape[1:]), y.copy()
        sub, size = columns(A, cols), cols.size
    if isinstance(sub, np.ndarray):
        with single_blas_thread():
            coef = _dense_lstsq(sub, Y, rcond, normal_equations)
        R = Y - sub @ coef
    else:
        coef = np.empty((size, Y.shape[1]))
        limit = max(10 * size, 1000) if iter_lim is None else iter_lim
        for j in range(Y.shape[1]):
            coef[:, j] = lsqr(sub, Y[:, j], atol=tol, btol=tol, conlim=1e14, iter_lim=limit,
                              x0=None if x0 is None else np.reshape(x0, (size, -1))[:, j])[0]
        R = Y - np.asarray(sub @ coef).reshape(Y.shape)
    return coef.reshape((size,) + y.shape[1:]), R.reshape(y.shape)


def _dense_lstsq(M, Y, rcond, normal_equations):
    """Least squares on a dense block ``M``, as :func:`restricted_lstsq` documents."""
    if normal_equations and M.shape[1] <= M.shape[0]:
        try:
            factor = sla.cho_factor(M.T @ M, check_finite=False)
            d = np.diag(factor[0])
            if d.min() > 1e-6 * d.max():
                coef = sla.cho_solve(factor, M.T @ Y, check_finite=False)
                coef += sla.cho_solve(factor, M.T @ (Y - M @ coef), check_finite=False)  # one refinement step
                return coef
        except np.linalg.LinAlgError:
            pass
    if rcond is not None:
        return sla.lstsq(M, Y, cond=rcond, lapack_driver="gelsy", check_finite=False)[0]
    return np.linalg.lstsq(M, Y, rcond=None)[0]
