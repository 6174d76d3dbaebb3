"""Per-block spectral norms ``||A_g||_2^2``: the one computation behind every per-block Lipschitz constant.

The datafits' ``block_lipschitz`` (through :func:`structsparse._linalg.group_spectral_norm_sq`), the
working-set solver, its path state and the proximal Newton model all call the functions here:

- :func:`group_lipschitz_dense` on columns held as C-contiguous float64 rows (``A.T`` or a cache of
  column copies), read in place;
- :func:`group_lipschitz_gathered` on columns that must be copied first, a few groups at a time;
- :func:`group_norm_sq_csc` on the columns of a compressed sparse column matrix.

A group of one column has its squared Euclidean norm; a larger one the top eigenvalue of the Gram
matrix of its smaller side.
"""

import numpy as np

from ._numba import NUMBA_ENABLED, njit

__all__ = ["group_grams_dense_numba", "group_grams_dense_numpy", "group_lipschitz_dense",
           "group_lipschitz_gathered", "group_norm_sq_csc", "GRAM_KERNEL_MAX"]

# Groups up to this size get their Gram matrices from a kernel reading the columns in place (a batched
# matrix product needs a gathered copy of every column, which cost more than the products for small groups)
GRAM_KERNEL_MAX = 16

# Columns gathered at once by group_lipschitz_gathered: 2 MiB of float64, about one core's L2
_GATHER_BYTES = 1 << 21


@njit
def group_grams_dense_numba(AT, rows, starts, size):
    """Gram matrices ``A_g^T A_g`` (G, size, size) of groups of ``size`` columns, column ``j`` of group ``g``
    being the row ``AT[rows[starts[g] + j]]`` (read in place, no copy)."""
    n_groups = starts.size
    out = np.empty((n_groups, size, size))
    for g in range(n_groups):
        a = starts[g]
        for i in range(size):
            ci = AT[rows[a + i]]
            for j in range(i + 1):
                v = np.dot(ci, AT[rows[a + j]])
                out[g, i, j] = v
                out[g, j, i] = v
    return out


def group_grams_dense_numpy(AT, rows, starts, size):
    """Numpy twin of :func:`group_grams_dense_numba`."""
    blocks = AT[rows[starts[:, None] + np.arange(size)]]          # (G, size, n)
    return blocks @ blocks.transpose(0, 2, 1)


def group_lipschitz_dense(AT, ptr, rows=None, smallest=False):
    """``||A_g||_2^2`` for every group of a dense working set (rows of ``AT``).

    Parameters
    ----------
    AT : ndarray, shape (q, n), float64, C-contiguous
        Column ``j`` of the working set is ``AT[j]``, or ``AT[rows[j]]`` when ``rows`` is given (read in
        place).
    ptr : ndarray of int, shape (G + 1,)
        Group ``g`` is the working-set columns ``ptr[g]:ptr[g + 1]``.
    rows : ndarray of int, optional
    smallest : bool, default False
        Also return the smallest eigenvalue of ``A_g^T A_g`` (0 for groups of more than ``n`` columns,
        and for single columns their squared norm).

    Returns
    -------
    top : ndarray, shape (G,)
        Or ``(top, low)`` with ``smallest``.

    Notes
    -----
    Batched over groups of equal size: the top eigenvalue of each group's Gram matrix (of the smaller
    side). For groups of at most ``GRAM_KERNEL_MAX`` columns the Gram matrices come from
    :func:`group_grams_dense_numba` (its numpy twin without numba), larger ones from a batched product.
    The eigenvalues are numpy's on purpose: numba's LAPACK bindings cost half a second to load in a
    fresh process, more than this function ever takes.
    """
    n = AT.shape[1]
    if rows is None:
        rows = np.arange(AT.shape[0], dtype=np.int64)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    grams_of = group_grams_dense_numba if NUMBA_ENABLED else group_grams_dense_numpy
    sizes = np.diff(ptr)
    out = np.zeros(sizes.size)
    low = np.zeros(sizes.size)
    for size in np.unique(sizes):
        which = np.flatnonzero(sizes == size)
        starts = np.ascontiguousarray(ptr[which], dtype=np.int64)
        if size == 0:
            continue
        if size == 1 or size <= min(n, GRAM_KERNEL_MAX):
            grams = grams_of(AT, rows, starts, int(size))
            if size == 1:
                out[which] = low[which] = grams[:, 0, 0]
            else:
                ev = np.linalg.eigvalsh(grams)
                out[which], low[which] = ev[:, -1], ev[:, 0]
        elif size <= n:
            blocks = AT[rows[starts[:, None] + np.arange(size)]]          # (G, size, n)
            ev = np.linalg.eigvalsh(blocks @ blocks.transpose(0, 2, 1))
            out[which], low[which] = ev[:, -1], ev[:, 0]
        else:
            for g in which:
                block = AT[rows[ptr[g]:ptr[g + 1]]]
                out[g] = np.linalg.eigvalsh(block.T @ block)[-1]
    return (out, np.maximum(low, 0.0)) if smallest else out


def group_lipschitz_gathered(gather, n, ptr, rows, smallest=False):
    """:func:`group_lipschitz_dense` for columns that are not C-contiguous float64 rows.

    Parameters
    ----------
    gather : callable
        ``gather(sel)`` returns the columns ``sel`` as C-contiguous float64 rows, shape ``(sel.size, n)``.
    n : int
        Length of a column.
    ptr, rows, smallest
        As in :func:`group_lipschitz_dense` (``rows`` required).

    Notes
    -----
    The columns are gathered a few groups (about 2 MiB) at a time, so the Gram matrices are float64
    without a full copy of the set.
    """
    top, low = np.zeros(ptr.size - 1), np.zeros(ptr.size - 1)
    step = max(1, _GATHER_BYTES // (8 * max(n, 1)))   # columns per gathered chunk
    g = 0
    while g < ptr.size - 1:
        h = int(np.searchsorted(ptr, ptr[g] + step, side="right")) - 1
        h = max(h, g + 1)
        cols = gather(rows[ptr[g]:ptr[h]])
        top[g:h], low[g:h] = group_lipschitz_dense(cols, ptr[g:h + 1] - ptr[g], smallest=True)
        g = h
    return (top, low) if smallest else top


def group_norm_sq_csc(data, indices, indptr, n, ptr, which=None):
    """``||A_g||_2^2`` of groups of columns of a CSC matrix given by its arrays.

    Parameters
    ----------
    data, indices, indptr : ndarray
        The CSC arrays of a matrix with ``n`` rows; column ``j`` holds ``data[indptr[j]:indptr[j + 1]]``
        in rows ``indices[...]``.
    n : int
        Number of rows.
    ptr : ndarray of int, shape (G + 1,)
        Group ``g`` is the columns ``ptr[g]:ptr[g + 1]``.
    which : ndarray of int, optional
        The groups to compute (default all).

    Returns
    -------
    ndarray, shape (len(which),)
    """
    which = np.arange(ptr.size - 1) if which is None else np.asarray(which, dtype=np.int64)
    out = np.zeros(which.size)
    for i, g in enumerate(which):
        a, b = int(ptr[g]), int(ptr[g + 1])
        if b - a == 1:
            vals = data[indptr[a]:indptr[a + 1]]
            out[i] = float(np.dot(vals, vals))
        elif b > a:
            block = np.zeros((n, b - a))    # a dense copy of the group: its 2-norm needs an SVD
            for j in range(a, b):
                block[indices[indptr[j]:indptr[j + 1]], j - a] = data[indptr[j]:indptr[j + 1]]
            out[i] = float(np.linalg.norm(block, 2) ** 2)
    return out
