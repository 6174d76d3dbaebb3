"""Products with a float32 design read in place, accumulated in float64 (numba, each with a numpy twin).

numpy and scipy multiply a float32 matrix by a float64 vector by converting
the matrix to float64 first: a temporary copy of the whole design (twice its
size) on every product. These kernels read the float32 entries where they
are and accumulate in float64. Converting a float32 number to float64 is
exact, so a product here equals the product with the converted matrix up to
the order of the float64 sums: a solver that uses them solves the caller's
problem (its float32 entries) in float64 arithmetic, with float64 iterates,
residuals and duality gaps, and its certificates hold as for a float64
design. (A product in float32 arithmetic would not give one: its rounding,
about 1e-7 of ``||A x||``, exceeds a small relative gap.)

Dense designs are read in their own memory order, as the rows of a
C-contiguous matrix ``M`` (``A`` itself, or ``A.T`` for a Fortran-ordered
``A``): :func:`rows_dot_numba` (``M v``) and :func:`rows_axpy_numba`
(``M^T v``). scipy.sparse designs go through their compressed arrays:
:func:`compressed_dot_numba` and :func:`compressed_axpy_numba` (a CSR matrix
is the compressed rows, a CSC one the compressed rows of its transpose).
Vectors come as rows ``VT`` (k, m), one per right-hand side.

The numpy twins (used without numba) convert blocks of at most
``_CHUNK`` entries at a time, so they never hold a float64 copy of the
design either.
"""

import numpy as np
import scipy.sparse as sp

from ._numba import NUMBA_ENABLED, njit

__all__ = [
    "is_float32", "matmat", "rmatmat", "colnorm2", "colnorm_rmatvec",
    "rows_dot_numba", "rows_dot_numpy", "rows_axpy_numba", "rows_axpy_numpy",
    "rows_sq_numba", "rows_sq_numpy", "cols_sq_numba", "cols_sq_numpy",
    "compressed_dot_numba", "compressed_dot_numpy", "compressed_axpy_numba", "compressed_axpy_numpy",
    "compressed_sq_numba", "compressed_sq_numpy", "compressed_sq_dot_numba", "compressed_sq_dot_numpy",
    "csc_colnorm_rmatvec",
]

# sums reassociated (they vectorize) and fused multiply-adds; no finite-math assumption
_FLAGS = {"reassoc", "contract"}
# entries per block the numpy twins convert at a time (256 KiB of float64)
_CHUNK = 1 << 15


def is_float32(A):
    """Whether ``A`` is a float32 dense array or scipy.sparse matrix (read in place by this module)."""
    return (isinstance(A, np.ndarray) or sp.issparse(A)) and A.dtype == np.float32


# ---------------------------------------------------------------------------- dense, by rows
@njit(fastmath=_FLAGS)
def rows_dot_numba(M, VT):
    """``out[i, c] = sum_j M[i, j] VT[c, j]`` for a C-contiguous ``M`` (a, b): (a, k), float64 sums."""
    a, b = M.shape
    k = VT.shape[0]
    out = np.empty((a, k))
    for i in range(a):
        row = M[i]
        for c in range(k):
            v = VT[c]
            acc = 0.0
            for j in range(b):
                acc += np.float64(row[j]) * v[j]
            out[i, c] = acc
    return out


def rows_dot_numpy(M, VT):
    """Numpy twin of :func:`rows_dot_numba` (blocks of rows converted at a time)."""
    a, b = M.shape
    out = np.empty((a, VT.shape[0]))
    step = max(1, _CHUNK // max(b, 1))
    for i in range(0, a, step):
        out[i:i + step] = M[i:i + step].astype(np.float64) @ VT.T
    return out


@njit(fastmath=_FLAGS)
def rows_axpy_numba(M, VT):
    """``out[c, j] = sum_i VT[c, i] M[i, j]`` for a C-contiguous ``M`` (a, b): (k, b), float64 sums."""
    a, b = M.shape
    k = VT.shape[0]
    out = np.zeros((k, b))
    for i in range(a):
        row = M[i]
        for c in range(k):
            w = VT[c, i]
            if w != 0.0:
                o = out[c]
                for j in range(b):
                    o[j] += w * np.float64(row[j])
    return out


def rows_axpy_numpy(M, VT):
    """Numpy twin of :func:`rows_axpy_numba`."""
    a, b = M.shape
    out = np.zeros((VT.shape[0], b))
    step = max(1, _CHUNK // max(b, 1))
    for i in range(0, a, step):
        out += VT[:, i:i + step] @ M[i:i + step].astype(np.float64)
    return out


@njit(fastmath=_FLAGS)
def rows_sq_numba(M):
    """``sum_j M[i, j]^2`` for every row of a C-contiguous ``M``, in float64 (each square exact)."""
    a, b = M.shape
    out = np.empty(a)
    for i in range(a):
        row = M[i]
        acc = 0.0
        for j in range(b):
            x = np.float64(row[j])
            acc += x * x
        out[i] = acc
    return out


def rows_sq_numpy(M):
    """Numpy twin of :func:`rows_sq_numba`."""
    return np.einsum("ij,ij->i", M, M, dtype=np.float64)


@njit(fastmath=_FLAGS)
def cols_sq_numba(M):
    """``sum_i M[i, j]^2`` for every column of a C-contiguous ``M``, in float64."""
    a, b = M.shape
    out = np.zeros(b)
    for i in range(a):
        row = M[i]
        for j in range(b):
            x = np.float64(row[j])
            out[j] += x * x
    return out


def cols_sq_numpy(M):
    """Numpy twin of :func:`cols_sq_numba`."""
    return np.einsum("ij,ij->j", M, M, dtype=np.float64)


# ---------------------------------------------------------------------------- compressed (CSR / CSC) arrays
@njit(fastmath=_FLAGS)
def compressed_dot_numba(data, indices, indptr, VT):
    """``out[i, c] = sum_q data[q] VT[c, indices[q]]`` over the stored entries of major index ``i``."""
    m = indptr.size - 1
    k = VT.shape[0]
    out = np.zeros((m, k))
    for i in range(m):
        for c in range(k):
            acc = 0.0
            for q in range(indptr[i], indptr[i + 1]):
                acc += np.float64(data[q]) * VT[c, indices[q]]
            out[i, c] = acc
    return out


def compressed_dot_numpy(data, indices, indptr, VT):
    """Numpy twin of :func:`compressed_dot_numba` (blocks of entries converted at a time)."""
    m = indptr.size - 1
    major = np.repeat(np.arange(m), np.diff(indptr))
    out = np.zeros((m, VT.shape[0]))
    for a in range(0, data.size, _CHUNK):
        x = data[a:a + _CHUNK].astype(np.float64)
        for c in range(VT.shape[0]):
            out[:, c] += np.bincount(major[a:a + _CHUNK], weights=x * VT[c, indices[a:a + _CHUNK]], minlength=m)
    return out


@njit(fastmath=_FLAGS)
def compressed_axpy_numba(data, indices, indptr, VT, n_minor):
    """``out[c, indices[q]] += data[q] VT[c, i]`` over the stored entries of each major index ``i``: (k, n_minor)."""
    m = indptr.size - 1
    k = VT.shape[0]
    out = np.zeros((k, n_minor))
    for i in range(m):
        for c in range(k):
            w = VT[c, i]
            if w != 0.0:
                for q in range(indptr[i], indptr[i + 1]):
                    out[c, indices[q]] += w * np.float64(data[q])
    return out


def compressed_axpy_numpy(data, indices, indptr, VT, n_minor):
    """Numpy twin of :func:`compressed_axpy_numba` (blocks of entries converted at a time)."""
    m = indptr.size - 1
    major = np.repeat(np.arange(m), np.diff(indptr))
    out = np.zeros((VT.shape[0], n_minor))
    for a in range(0, data.size, _CHUNK):
        x = data[a:a + _CHUNK].astype(np.float64)
        for c in range(VT.shape[0]):
            out[c] += np.bincount(indices[a:a + _CHUNK], weights=x * VT[c, major[a:a + _CHUNK]], minlength=n_minor)
    return out


@njit(fastmath=_FLAGS)
def compressed_sq_numba(data, indices, indptr, n_minor, by_major):
    """Sums of squared stored entries, in float64: per major index (``by_major``) or per minor index."""
    m = indptr.size - 1
    out = np.zeros(m if by_major else n_minor)
    for i in range(m):
        for q in range(indptr[i], indptr[i + 1]):
            x = np.float64(data[q])
            if by_major:
                out[i] += x * x
            else:
                out[indices[q]] += x * x
    return out


def compressed_sq_numpy(data, indices, indptr, n_minor, by_major):
    """Numpy twin of :func:`compressed_sq_numba` (blocks of entries converted at a time)."""
    m = indptr.size - 1
    where = np.repeat(np.arange(m), np.diff(indptr)) if by_major else indices
    out = np.zeros(m if by_major else n_minor)
    for a in range(0, data.size, _CHUNK):
        x = data[a:a + _CHUNK].astype(np.float64)
        out += np.bincount(where[a:a + _CHUNK], weights=x * x, minlength=out.size)
    return out


# ---------------------------------------------------------------------------- the products
def _rows(V, length):
    """``V`` (length,) or (length, k) as C-contiguous float64 rows (k, length)."""
    V = np.asarray(V, dtype=np.float64)
    return np.ascontiguousarray(V.reshape(length, -1).T)


def _dense_rows(A):
    """``(M, transposed)``: a C-contiguous matrix holding ``A``'s entries (``A`` or ``A.T``), no copy if possible."""
    if A.flags.c_contiguous:
        return A, False
    if A.flags.f_contiguous:
        return A.T, True
    return np.ascontiguousarray(A), False   # a strided view: one float32 copy (half a float64 one)


def _kernels():
    if NUMBA_ENABLED:
        return rows_dot_numba, rows_axpy_numba, compressed_dot_numba, compressed_axpy_numba
    return rows_dot_numpy, rows_axpy_numpy, compressed_dot_numpy, compressed_axpy_numpy


def matmat(A, X):
    """``A @ X`` for a float32 ``A`` (dense, CSR or CSC) and float64 ``X`` (p,) or (p, k), in float64.

    The result has the shape ``A @ X`` would have.
    """
    n, p = A.shape
    XT = _rows(X, p)
    dot, axpy, cdot, caxpy = _kernels()
    if sp.issparse(A):
        if A.format == "csr":
            out = cdot(A.data, A.indices, A.indptr, XT)
        elif A.format == "csc":
            out = caxpy(A.data, A.indices, A.indptr, XT, n).T
        else:
            raise TypeError(f"a float32 sparse design must be CSR or CSC, got {A.format}")
    else:
        M, transposed = _dense_rows(A)
        out = axpy(M, XT).T if transposed else dot(M, XT)
    return out[:, 0] if np.ndim(X) == 1 else np.ascontiguousarray(out)


def rmatmat(A, R):
    """``A.T @ R`` for a float32 ``A`` and float64 ``R`` (n,) or (n, k), in float64 (the shape of ``A.T @ R``)."""
    n, p = A.shape
    RT = _rows(R, n)
    dot, axpy, cdot, caxpy = _kernels()
    if sp.issparse(A):
        if A.format == "csr":
            out = caxpy(A.data, A.indices, A.indptr, RT, p).T
        elif A.format == "csc":
            out = cdot(A.data, A.indices, A.indptr, RT)
        else:
            raise TypeError(f"a float32 sparse design must be CSR or CSC, got {A.format}")
    else:
        M, transposed = _dense_rows(A)
        out = dot(M, RT) if transposed else axpy(M, RT).T
    return out[:, 0] if np.ndim(R) == 1 else np.ascontiguousarray(out)


def colnorm2(A):
    """Squared Euclidean norms of the columns of a float32 ``A`` (dense, CSR or CSC), summed in float64.

    A float64 CSR or CSC ``A`` works too (one pass over its stored entries).
    """
    n, p = A.shape
    if sp.issparse(A):
        sq = compressed_sq_numba if NUMBA_ENABLED else compressed_sq_numpy
        return sq(A.data, A.indices, A.indptr, p, A.format == "csc")
    M, transposed = _dense_rows(A)
    if NUMBA_ENABLED:
        return rows_sq_numba(M) if transposed else cols_sq_numba(M)
    return rows_sq_numpy(M) if transposed else cols_sq_numpy(M)


def colnorm_rmatvec(A, v):
    """``(squared column norms, A^T v)`` of a dense float32 ``A`` (n, p) and ``v`` (n,), in float64."""
    return colnorm2(A), rmatmat(A, np.asarray(v, dtype=np.float64).reshape(-1))


# ---------------------------------------------------------------------------- a CSC design's validation pass
@njit(fastmath=_FLAGS)
def compressed_sq_dot_numba(data, indices, indptr, v):
    """``(sum_q data[q]^2, sum_q data[q] v[indices[q]])`` over the stored entries of each major index, in float64.

    For a CSC matrix: its squared column norms and ``A^T v`` in one read of
    its arrays. ``data`` float32 or float64 (the entries are converted
    exactly); NaN and infinities propagate to both outputs.
    """
    m = indptr.size - 1
    sq = np.empty(m)
    dot = np.empty(m)
    for i in range(m):
        s = 0.0
        t = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            x = np.float64(data[q])
            s += x * x
            t += x * v[indices[q]]
        sq[i] = s
        dot[i] = t
    return sq, dot


def compressed_sq_dot_numpy(data, indices, indptr, v):
    """Numpy twin of :func:`compressed_sq_dot_numba`."""
    return (compressed_sq_numpy(data, indices, indptr, 0, True),
            compressed_dot_numpy(data, indices, indptr, np.asarray(v, dtype=np.float64).reshape(1, -1))[:, 0])


def _unsigned(a):
    """A nonnegative index array viewed unsigned (no copy): numba then skips its negative-index check per entry."""
    return a.view(np.dtype(f"u{a.dtype.itemsize}")) if a.dtype.kind == "i" else a


def csc_colnorm_rmatvec(A, v):
    """``(squared column norms, A^T v)`` of a CSC ``A`` (float64 or float32) and ``v`` (n,), in one pass.

    A datafit validates a float64 CSC design with this pass (the norms carry
    the finiteness and scale checks, as for a dense design): the first
    product of a solve from zero and the norms of Gap Safe screening come
    with the validation's read of ``A``.
    """
    v = np.ascontiguousarray(v, dtype=np.float64)
    if NUMBA_ENABLED:
        return compressed_sq_dot_numba(A.data, _unsigned(A.indices), _unsigned(A.indptr), v)
    return compressed_sq_dot_numpy(A.data, A.indices, A.indptr, v)
