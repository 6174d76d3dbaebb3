"""Kernels that read a scipy.sparse design in the layout the user gave (numba, each with a numpy twin).

The block solver never converts the design: a CSC matrix is read column by
column, a CSR matrix row by row, through its ``data``, ``indices`` and
``indptr`` arrays. What a coordinate solver needs from them:

- the squared norm of every column (:func:`csc_colnorm2_numba`,
  :func:`csr_colnorm2_numba`): one pass over the stored entries; for CSC in
  the same pass as the first product ``A^T y`` of a call
  (:func:`csc_rmatvec_colnorm2_numba`; for CSR, with the column counts too,
  :func:`csr_rmatvec_colstats_numba`, in one pass when rows and columns are
  long, the product and the norms interleaved);
- the columns of a working set as compact CSC arrays
  (:func:`csc_gather_numba`, :func:`csr_gather_numba`): a copy of those
  columns only; from CSR it costs one pass over the stored entries, as much as
  one product ``A^T r`` (:func:`csr_gather_counted_numba`, given the column
  counts of :func:`csr_colcounts_numba`, computed once per design, skips the
  counting pass: 0.5-0.7x the time; :func:`csr_gather_merged_numba` takes the
  columns gathered for the last working set from their CSC arrays and looks
  for the new ones only);
- ``A^T r`` of a CSR matrix (:func:`csr_rmatvec_numba`): row by row, scattered
  into the output; short rows read a fixed number of entries each, so that no
  loop exit is mispredicted once a row (the same sums);
- ``A[:, cols]^T r`` for the columns still alive after screening
  (:func:`csc_rmatvec_cols_numba`): the outer loop of the lasso stops reading
  the columns that Gap Safe screening removed. Short CSC columns (about one
  entry each) read a fixed number of entries a column, as CSR rows do
  (:func:`_csc_rmatvec_fixed_width`, the same sums).
- the Gram matrix ``A_S^T A_S`` of a few gathered columns
  (:func:`csc_gram_numba`), for the lasso's Newton dual point
  (:func:`._newton_kernels.lasso_dual_point_sparse`): row by row, a cost of
  the sum of squared entries per row instead of ``m^2`` column products.

Sparse index arrays may be int32 or int64; data is float64 (the datafit
validates it). Every ``*_numba`` function here runs its kernel on unsigned
views of its integer arrays (:func:`unsigned_view`, no copy), and the gathers
return unsigned index arrays of the input's width, which the epoch kernels
then read: numba guards each access through a signed index against a
negative (from-the-end) value, a branch per stored entry that an unsigned
index does not have. On the lasso epoch at p = n = 10^4, density 1e-2, that
branch was about 45 % of the time (4.5 -> 2.4 ms per epoch, ``A_ws^T r``
2.7 -> 1.5 ms).

The sums over a column's stored entries (``sum_q data[q] * r[rows[q]]``) are
compiled with the ``reassoc`` and ``contract`` flags (:data:`_FAST`), so that
they vectorize with gathers; NaN and infinities still propagate. The lasso's
epoch over a working set of single columns and one target,
:func:`csc_singleton_epoch_numba`, is a loop of its own (no block buffer, no
per-group prox call); :func:`csc_block_epoch` picks it or the general block
epoch of :mod:`._block_kernels`. The lasso's subproblem runs the epochs
between two gap checks, Anderson steps included, in one call
(:func:`csc_singleton_run_numba`), and its gap in one call
(:func:`csc_singleton_gap_numba`).
"""

import functools

import numpy as np

from .._numba import njit
from ._block_kernels import (
    anderson_combine_numba, anderson_combine_numpy, anderson_take_reversed_numba, anderson_take_reversed_numpy,
    anderson_take_reversed_singletons_numba,
    bcd_epoch_sparse_numba, bcd_epoch_sparse_numpy, block_objective_numba, block_objective_numpy, plus_block_penalty,
    ws_residual_sparse_numba, ws_residual_sparse_numpy,
)

__all__ = [
    "unsigned_view", "csc_colnorm2_numba", "csc_colnorm2_numpy", "csr_colnorm2_numba", "csr_colnorm2_numpy",
    "csc_gather_numba", "csc_gather_numpy", "csr_gather_numba", "csr_gather_numpy",
    "csc_rmatvec_cols_numba", "csc_rmatvec_cols_numpy", "csc_rmatvec_compact_numba", "csc_rmatvec_compact_numpy",
    "csc_rmatvec_colnorm2_numba", "csc_rmatvec_colnorm2_numpy", "csr_colcounts_numba", "csr_colcounts_numpy",
    "csr_gather_counted_numba", "csr_gather_counted_numpy", "csr_gather_merged_numba", "csr_gather_merged_numpy",
    "csr_rmatvec_colstats_numba",
    "csr_rmatvec_colstats_numpy", "csc_rmatvec_numba", "csc_rmatvec_numpy",
    "csr_rmatvec_numba", "csr_rmatvec_numpy", "csc_singleton_epoch_numba", "csc_singleton_epoch_numpy",
    "csc_block_epoch", "csc_block_epoch_numpy", "csc_singleton_run_numba", "csc_singleton_run_numpy",
    "csc_touched_rows_numba", "csc_touched_rows_numpy", "csc_singleton_gap_numba", "csc_singleton_gap_numpy",
    "csc_ws_gradient_numba", "csc_gram_numba", "csc_gram_numpy", "singleton_views",
]

# sums over stored entries may be reassociated (so that they vectorize, with gathers) and products fused into
# FMAs; NaN and infinities still propagate
_FAST = {"reassoc", "contract"}


@njit(fastmath=_FAST)
def _gather_dot(data, rows, r, start, stop):
    """``sum_q data[q] * r[rows[q]]`` over ``start <= q < stop``."""
    acc = 0.0
    for q in range(start, stop):
        acc += data[q] * r[rows[q]]
    return acc


def unsigned_view(a):
    """A nonnegative integer array viewed as the unsigned integer type of the same width (no copy).

    Sparse index arrays are nonnegative; as unsigned integers numba indexes
    with them without its wraparound check (see the module notes).
    """
    if a.dtype.kind == "u":
        return a
    if a.dtype.kind != "i":
        raise TypeError(f"unsigned_view: expected an integer index array, got dtype {a.dtype}")
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def _unsigned_indices(kernel):
    """``kernel`` called with its signed integer array arguments viewed as unsigned (no copy)."""
    @functools.wraps(kernel)
    def call(*args):
        return kernel(*[unsigned_view(a) if isinstance(a, np.ndarray) and a.dtype.kind == "i" else a
                        for a in args])
    call.kernel = kernel
    return call


# ---------------------------------------------------------------------------- column norms
@_unsigned_indices
@njit(fastmath=_FAST)
def csc_colnorm2_numba(data, indptr):
    """Squared Euclidean norm of every column of a CSC matrix."""
    p = indptr.size - 1
    out = np.zeros(p)
    for j in range(p):
        acc = 0.0
        for q in range(indptr[j], indptr[j + 1]):
            acc += data[q] * data[q]
        out[j] = acc
    return out


def csc_colnorm2_numpy(data, indptr):
    """Numpy twin of :func:`csc_colnorm2_numba`."""
    p = indptr.size - 1
    col = np.repeat(np.arange(p), np.diff(indptr).astype(np.int64))   # (numpy casts no uint64 to a count)
    return np.bincount(col, weights=data * data, minlength=p).astype(float)


@_unsigned_indices
@njit
def csr_colnorm2_numba(data, indices, p):
    """Squared Euclidean norm of every column of a CSR matrix with ``p`` columns."""
    out = np.zeros(p)
    for q in range(data.size):
        out[indices[q]] += data[q] * data[q]
    return out


def csr_colnorm2_numpy(data, indices, p):
    """Numpy twin of :func:`csr_colnorm2_numba`."""
    return np.bincount(indices.astype(np.int64), weights=data * data, minlength=p).astype(float)


# ---------------------------------------------------------------------------- working-set columns
@_unsigned_indices
@njit
def csc_gather_numba(data, indices, indptr, cols):
    """The columns ``cols`` of a CSC matrix as compact CSC arrays ``(data, rows, colptr)``.

    ``rows`` and ``colptr`` are unsigned, of the widths of ``indices`` and ``indptr`` (the gathered entries fit).
    """
    m = cols.size
    colptr = np.zeros(m + 1, dtype=indptr.dtype)
    for j in range(m):
        c = cols[j]
        colptr[j + 1] = colptr[j] + indptr[c + 1] - indptr[c]
    out_data = np.empty(colptr[m])
    out_rows = np.empty(colptr[m], dtype=indices.dtype)
    for j in range(m):
        c = cols[j]
        a = indptr[c]
        pos = colptr[j]
        for q in range(indptr[c + 1] - a):
            out_data[pos + q] = data[a + q]
            out_rows[pos + q] = indices[a + q]
    return out_data, out_rows, colptr


def csc_gather_numpy(data, indices, indptr, cols):
    """Numpy twin of :func:`csc_gather_numba`."""
    starts, stops = indptr[cols].astype(np.int64), indptr[cols + 1].astype(np.int64)
    sizes = stops - starts
    colptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    take = np.arange(colptr[-1], dtype=np.int64) + np.repeat(starts - colptr[:-1], sizes)
    return data[take].astype(float), unsigned_view(indices[take]), unsigned_view(colptr.astype(indptr.dtype))


@njit
def _place_marked(data, indices, indptr, mark, slot, colptr, flat_listing=True):
    """The entries of the marked columns of a CSR matrix, placed as CSC arrays by the column pointers ``colptr``.

    One flat pass over the indices lists the hits, a pass over the hits places them (column ``slot[c]`` of the
    output for a marked column ``c``). When the hits are at least a tenth of the entries, one pass row by row
    places them directly: the listing pass's branch on the mark is then mispredicted often (p = n = 10^4,
    density 1e-2: 20 % of the columns 7.0 -> 4.9 ms, 60 % 16.4 -> 9.0 ms; p = 10^5, density 1e-3, 10 %: 5.2 ->
    4.4 ms), while for a few columns the listing pass is the faster (p = 10^6, 80 columns: 1.0 against 1.4 ms).
    From ``_FLAT_LISTING_SHARE`` of the entries on (with ``flat_listing``), the listing has no branch: every
    position is written, and the count advances by the mark (p = n = 10^4, density 1e-3, 3 % of the columns,
    after a solve: 65 -> 46 us; below 1 % the branch is the faster, 92 against 115 us at p = 10^5).
    """
    m = colptr.size - 1
    out_data = np.empty(colptr[m])
    out_rows = np.empty(colptr[m], dtype=indices.dtype)   # row numbers fit the index type (scipy sizes it so)
    _place_marked_into(data, indices, indptr, mark, slot, colptr, colptr[m], out_data, out_rows, flat_listing)
    return out_data, out_rows, colptr


@njit
def _place_marked_into(data, indices, indptr, mark, slot, colptr, n_hits, out_data, out_rows, flat_listing=True):
    """:func:`_place_marked` writing into ``out_data`` and ``out_rows``, the marked columns' entries ``n_hits`` in
    all (the choice of pass and listing is made on them; the unmarked columns' places are left as they are)."""
    m = colptr.size - 1
    if 10 * n_hits >= indices.size:
        _place_marked_by_rows(data, indices, indptr, mark, slot, colptr, out_data, out_rows)
        return
    hits = np.empty(n_hits + 1, dtype=indptr.dtype)   # (+1: the flat listing writes one position past)
    h = 0
    if flat_listing and _FLAT_LISTING_SHARE * n_hits >= indices.size:
        for q in range(indices.size):
            hits[h] = q
            h += mark[indices[q]]
    else:
        for q in range(indices.size):
            if mark[indices[q]]:
                hits[h] = q
                h += 1
    fill = colptr[:m].copy()
    i = 0
    for t in range(h):  # hits come in increasing position, hence increasing row
        e = hits[t]   # (a name of its own: q above is int64, and int64 with uint64 unifies to float)
        while indptr[i + 1] <= e:
            i += 1
        j = slot[indices[e]]
        pos = fill[j]
        out_data[pos] = data[e]
        out_rows[pos] = i
        fill[j] = pos + 1


# the flat listing of _place_marked from one entry in this many on (a hit share of 1/64 = 1.6 %)
_FLAT_LISTING_SHARE = 64


@njit
def _place_marked_by_rows(data, indices, indptr, mark, slot, colptr, out_data, out_rows):
    """:func:`_place_marked_into` in one pass over the rows (no list of hits)."""
    m = colptr.size - 1
    fill = colptr[:m].copy()
    for i in range(indptr.size - 1):
        for q in range(indptr[i], indptr[i + 1]):
            c = indices[q]
            if mark[c]:
                j = slot[c]
                pos = fill[j]
                out_data[pos] = data[q]
                out_rows[pos] = i
                fill[j] = pos + 1


@_unsigned_indices
@njit
def csr_gather_numba(data, indices, indptr, cols, p):
    """The columns ``cols`` (distinct) of a CSR matrix with ``p`` columns as compact CSC arrays.

    One pass over the stored entries; the wanted columns are marked in a
    byte array (it stays in cache where an index array of ``p`` entries would
    not), so an unwanted entry costs one byte read. Rows come out in
    increasing order within each column.
    """
    m = cols.size
    mark = np.zeros(p, dtype=np.uint8)
    slot = np.empty(p, dtype=np.int64)   # read only where marked: never initialized elsewhere
    for j in range(m):
        mark[cols[j]] = 1
        slot[cols[j]] = j
    # flat passes over the indices (a nested loop over rows measured 4x slower): count, then list the hits
    colptr = np.zeros(m + 1, dtype=indptr.dtype)
    for q in range(indices.size):
        if mark[indices[q]]:
            colptr[slot[indices[q]] + 1] += 1
    for j in range(m):
        colptr[j + 1] += colptr[j]
    return _place_marked(data, indices, indptr, mark, slot, colptr)


def csr_gather_numpy(data, indices, indptr, cols, p):
    """Numpy twin of :func:`csr_gather_numba` (scipy column indexing)."""
    import scipy.sparse as sp

    n = indptr.size - 1
    sub = sp.csr_matrix((data, indices, indptr), shape=(n, p))[:, cols].tocsc()
    sub.sort_indices()
    return (sub.data.astype(float), unsigned_view(sub.indices.astype(indices.dtype)),
            unsigned_view(sub.indptr.astype(indptr.dtype)))


# ---------------------------------------------------------------------------- products on a column subset
@_unsigned_indices
@njit
def csc_rmatvec_cols_numba(data, indices, indptr, r, cols, out, fixed_width=False):
    """``out[cols[j]] = <A[:, cols[j]], r>`` for a CSC ``A``; other entries of ``out`` are left as they are.

    ``fixed_width``: short columns read a fixed number of entries each (:func:`_csc_rmatvec_fixed_width`, the
    same sums)."""
    width = _column_width(indptr) if fixed_width else 0
    if width:
        _csc_rmatvec_fixed_width(data, indices, indptr, r, cols, False, out, width)
        return
    for j in range(cols.size):
        c = cols[j]
        out[c] = _gather_dot(data, indices, r, indptr[c], indptr[c + 1])


def csc_rmatvec_cols_numpy(data, indices, indptr, r, cols, out, fixed_width=False):
    """Numpy twin of :func:`csc_rmatvec_cols_numba` (``fixed_width`` changes nothing here)."""
    d, rows, ptr = csc_gather_numpy(data, indices, indptr, cols)
    col = np.repeat(np.arange(cols.size), np.diff(ptr).astype(np.int64))
    out[cols] = np.bincount(col, weights=d * r[rows], minlength=cols.size)


@_unsigned_indices
@njit
def csc_rmatvec_compact_numba(data, indices, indptr, r, cols):
    """``<A[:, cols[j]], r>`` for each ``j``, as an array of ``cols.size`` (the same sums as
    :func:`csc_rmatvec_cols_numba`, without a p-length output around them)."""
    out = np.empty(cols.size)
    for j in range(cols.size):
        c = cols[j]
        out[j] = _gather_dot(data, indices, r, indptr[c], indptr[c + 1])
    return out


def csc_rmatvec_compact_numpy(data, indices, indptr, r, cols):
    """Numpy twin of :func:`csc_rmatvec_compact_numba`."""
    d, rows, ptr = csc_gather_numpy(data, indices, indptr, cols)
    col = np.repeat(np.arange(cols.size), np.diff(ptr).astype(np.int64))
    return np.bincount(col, weights=d * r[rows], minlength=cols.size).astype(float)



# ---------------------------------------------------------------------------- A^T r on every column
@_unsigned_indices
@njit
def csc_rmatvec_numba(data, indices, indptr, r, fixed_width=False):
    """``A^T r`` of a CSC ``A`` (with unsigned indices faster than scipy's product, see the module notes).

    ``fixed_width``: short columns read a fixed number of entries each (:func:`_csc_rmatvec_fixed_width`, the
    same sums; asked for by the block solver's outer products)."""
    p = indptr.size - 1
    u = np.empty(p)
    width = _column_width(indptr) if fixed_width else 0
    if width:
        _csc_rmatvec_fixed_width(data, indices, indptr, r, _NO_COLS, True, u, width)
        return u
    for j in range(p):
        u[j] = _gather_dot(data, indices, r, indptr[j], indptr[j + 1])
    return u


_NO_COLS = np.zeros(0, dtype=np.int64)
# the fixed width of a CSC product's short columns: at most this many entries, where :func:`_gather_dot`'s sums are
# sequential (its vector loop, which reorders the terms, starts at 8 entries on AVX-512 and at vector width times
# interleave, 4 or more, on narrower vectors; tests/test_subproblem_setup_sub17.py checks the bits where it runs)
_FIXED_WIDTH_COLS = 3
# ... and only for columns of at most this many entries on average (more: the plain loop)
_FIXED_WIDTH_MEAN_COLS = 1.5


@njit
def _fixed_width(indptr, max_mean, spread, cap):
    """The width a fixed-width product reads from each row or column of ``indptr``: their mean length plus
    ``spread`` times its square root, rounded up, at most ``cap``; 0 (the plain loop) when they hold more than
    ``max_mean`` entries on average, or none at all. One rule for :func:`_row_width` and :func:`_column_width`."""
    m = indptr.size - 1
    if m == 0 or indptr[m] == 0 or indptr[m] > max_mean * m:
        return 0
    mean = indptr[m] / m
    return min(cap, int(np.ceil(mean + spread * np.sqrt(mean))))


@njit
def _column_width(indptr):
    """The fixed width of :func:`_csc_rmatvec_fixed_width` for the columns ``indptr``: the mean column length plus
    twice its square root, at most :data:`_FIXED_WIDTH_COLS`, for columns of at most
    :data:`_FIXED_WIDTH_MEAN_COLS` entries on average (:func:`_fixed_width`)."""
    return _fixed_width(indptr, _FIXED_WIDTH_MEAN_COLS, 2.0, _FIXED_WIDTH_COLS)


@njit(fastmath={"contract"})
def _csc_rmatvec_fixed_width(data, indices, indptr, r, cols, every, out, width):
    """``out[cols[j]] = <A[:, cols[j]], r>`` (``every``: ``out[j]`` for every column ``j``, ``cols`` unread),
    reading ``width`` entries from each column's start whatever its length.

    A loop whose length changes from column to column mispredicts its exit
    about once a column: at one entry a column (p = 10^5, n = 10^4, after a
    solve) that was half the product's time (657 -> 320 us). Here a column of
    at most ``width`` entries reads ``width`` of them and keeps the running
    sum where the column has ended (a select, no branch): the same fused
    multiply-adds in the same order as :func:`_gather_dot`'s sequential loop,
    which it runs below 8 entries (its vector loop reorders the terms; the
    products must stay in this loop, 'contract' and all: through a call they
    were slower than the plain loop). Longer columns, and the last ones (no
    reads past the entries), go to :func:`_gather_dot`.
    """
    nnz = np.int64(indptr[indptr.size - 1])
    for j in range(indptr.size - 1 if every else cols.size):
        c = np.uint64(j) if every else np.uint64(cols[j])   # (one unsigned type: no float index)
        start = indptr[c]
        stop = indptr[c + 1]
        length = np.int64(stop) - np.int64(start)   # (signed: no float comparisons of a 64-bit unsigned index)
        if length > width or np.int64(start) + width > nnz:
            out[c] = _gather_dot(data, indices, r, start, stop)
            continue
        acc = 0.0
        for k in range(width):
            q = start + k
            nxt = acc + data[q] * r[indices[q]]   # (fused as in _gather_dot)
            acc = nxt if k < length else acc
        out[c] = acc


def csc_rmatvec_numpy(data, indices, indptr, r, fixed_width=False):
    """Numpy twin of :func:`csc_rmatvec_numba` (``fixed_width`` changes nothing here)."""
    p = indptr.size - 1
    col = np.repeat(np.arange(p), np.diff(indptr).astype(np.int64))
    return np.bincount(col, weights=data * r[indices], minlength=p).astype(float)


@_unsigned_indices
@njit
def csr_rmatvec_numba(data, indices, indptr, r, p, fixed_width=False):
    """``A^T r`` of a CSR ``A`` with ``p`` columns (row by row, scattered into the output).

    Short rows (``fixed_width``, at most :data:`_FIXED_WIDTH_ROWS` entries a
    row on average) go through :func:`_csr_rmatvec_fixed_width`: the same
    sums in the same order, without the mispredicted exit of a loop whose
    length changes from row to row (asked for by the block solver's outer
    products; the sparse SSNAL's products, not measured with it, keep the
    plain loop).
    """
    n = indptr.size - 1
    width = _row_width(indptr) if fixed_width else 0
    if width:
        return _csr_rmatvec_fixed_width(data, indices, indptr, r, p, width)
    u = np.zeros(p)
    for i in range(n):
        ri = r[i]
        if ri != 0.0:
            for q in range(indptr[i], indptr[i + 1]):
                u[indices[q]] += data[q] * ri
    return u


# csr_rmatvec_numba's fixed-width rows up to this many entries a row on average (at 100 the plain loop is the faster)
_FIXED_WIDTH_ROWS = 16
_NO_WIDTH_CAP = 1 << 30   # (rows: no cap)


@njit
def _row_width(indptr):
    """The fixed width of :func:`_csr_rmatvec_fixed_width` for the rows ``indptr``: the mean row length plus its
    square root, for rows of at most :data:`_FIXED_WIDTH_ROWS` entries on average (:func:`_fixed_width`)."""
    return _fixed_width(indptr, _FIXED_WIDTH_ROWS, 1.0, _NO_WIDTH_CAP)


@njit
def _csr_rmatvec_fixed_width(data, indices, indptr, r, p, width):
    """:func:`csr_rmatvec_numba` reading ``width`` entries from each row's start, whatever the row's length.

    The plain loop's exit is mispredicted about once a row (p = n = 10^4,
    after a solve: 72 -> 40 us at one entry a row, 139 -> 117 us at ten; p =
    10^5, ten a row: 229 -> 171 us). Here the ``width`` reads are the same
    for every row, those past the row's end add ``+0.0`` (which leaves every
    partial sum as it is: none is ``-0.0``, as sums from ``+0.0`` never
    are), and a row longer than ``width`` finishes in a loop of its own:
    every column gets the same terms in the same order as in the plain loop.
    ``width`` about the mean row length plus its square root leaves a few
    rows to that loop.
    """
    u = np.zeros(p)
    n = indptr.size - 1
    nnz = indptr[n]
    for i in range(n):
        ri = r[i]
        if ri == 0.0:   # (no term, as in the plain loop: 0 times a stored value is not always 0)
            continue
        start = indptr[i]
        stop = indptr[i + 1]
        if start + width > nnz:   # the last rows: no reads past the entries
            for q in range(start, stop):
                u[indices[q]] += data[q] * ri
            continue
        length = stop - start
        for k in range(width):
            q = start + k
            term = data[q] * ri
            u[indices[q]] += term if k < length else 0.0
        for q in range(start + width, stop):
            u[indices[q]] += data[q] * ri
    return u


def csr_rmatvec_numpy(data, indices, indptr, r, p, fixed_width=False):
    """Numpy twin of :func:`csr_rmatvec_numba` (``fixed_width`` changes no number, here nothing)."""
    row = np.repeat(np.arange(indptr.size - 1), np.diff(indptr).astype(np.int64))
    return np.bincount(indices.astype(np.int64), weights=data * r[row], minlength=p).astype(float)


# ---------------------------------------------------------------------------- the first product of a call
@_unsigned_indices
@njit(fastmath=_FAST)
def csc_rmatvec_colnorm2_numba(data, indices, indptr, r):
    """``(A^T r, squared column norms)`` of a CSC ``A`` in one pass over its stored entries.

    The first product of a solve (``A^T y`` at a zero start) reads every
    stored entry anyway; the squared norms that Gap Safe screening needs come
    with it instead of costing a second pass.
    """
    p = indptr.size - 1
    u = np.empty(p)
    norm2 = np.empty(p)
    for j in range(p):
        acc = 0.0
        sq = 0.0
        for q in range(indptr[j], indptr[j + 1]):
            v = data[q]
            acc += v * r[indices[q]]
            sq += v * v
        u[j] = acc
        norm2[j] = sq
    return u, norm2


def csc_rmatvec_colnorm2_numpy(data, indices, indptr, r):
    """Numpy twin of :func:`csc_rmatvec_colnorm2_numba`."""
    p = indptr.size - 1
    col = np.repeat(np.arange(p), np.diff(indptr).astype(np.int64))
    u = np.bincount(col, weights=data * r[indices], minlength=p).astype(float)
    return u, csc_colnorm2_numpy(data, indptr)


@_unsigned_indices
@njit
def csr_colcounts_numba(indices, p):
    """Stored entries of every column of a CSR matrix with ``p`` columns (int32: at most ``n`` each)."""
    counts = np.zeros(p, dtype=np.int32)
    for q in range(indices.size):
        counts[indices[q]] += 1
    return counts


def csr_colcounts_numpy(indices, p):
    """Numpy twin of :func:`csr_colcounts_numba`."""
    return np.bincount(indices.astype(np.int64), minlength=p).astype(np.int32)


# (the kernels themselves, callable from numba: the arrays are unsigned already)
_csr_rmatvec = csr_rmatvec_numba.kernel
_csr_colnorm2 = csr_colnorm2_numba.kernel
_csr_colcounts = csr_colcounts_numba.kernel
# csr_rmatvec_colstats_numba's one pass from this many entries a column on average (its (p, 2) array is then at most
# 16 p bytes, a twelfth of the entries' 12 bytes each)
_FUSED_COLUMNS = 16


@_unsigned_indices
@njit
def csr_rmatvec_colstats_numba(data, indices, indptr, r, p, fixed_width=False):
    """``(A^T r, squared column norms, entries per column)`` of a CSR ``A`` with ``p`` columns.

    Bitwise the numbers of :func:`csr_rmatvec_numba`, :func:`csr_colnorm2_numba`
    and :func:`csr_colcounts_numba` (the same terms in the same order). When
    rows and columns are long (more than :data:`_FIXED_WIDTH_ROWS` entries a
    row and at least :data:`_FUSED_COLUMNS` a column on average), in one read
    of the stored entries instead of three, the product and the norms
    interleaved in one ``(p, 2)`` array, so that an entry's two scattered
    updates share a cache line (p = n = 10^4, density 1e-2: 1.48 -> 1.15 ms;
    the array, copied out, is then at most a twelfth of the design's bytes).
    Otherwise the three kernels: short rows read a fixed width for the
    product (padding the norms and counts too measured slower than their own
    flat passes).
    """
    n = indptr.size - 1
    nnz = indptr[n]
    width = _row_width(indptr) if fixed_width else 0
    if width:
        u = _csr_rmatvec_fixed_width(data, indices, indptr, r, p, width)
        return u, _csr_colnorm2(data, indices, p), _csr_colcounts(indices, p)
    if nnz < _FUSED_COLUMNS * p:
        return _csr_rmatvec(data, indices, indptr, r, p, False), _csr_colnorm2(data, indices, p), \
            _csr_colcounts(indices, p)
    both = np.zeros((p, 2))
    counts = np.zeros(p, dtype=np.int32)
    for i in range(n):
        ri = r[i]
        for q in range(indptr[i], indptr[i + 1]):
            c = indices[q]
            v = data[q]
            if ri != 0.0:   # (a row of zero residual adds no term to the product, as in csr_rmatvec_numba)
                both[c, 0] += v * ri
            both[c, 1] += v * v
            counts[c] += 1
    u = np.empty(p)
    norm2 = np.empty(p)
    for j in range(p):
        u[j] = both[j, 0]
        norm2[j] = both[j, 1]
    return u, norm2, counts


def csr_rmatvec_colstats_numpy(data, indices, indptr, r, p, fixed_width=False):
    """Numpy twin of :func:`csr_rmatvec_colstats_numba`."""
    return (csr_rmatvec_numpy(data, indices, indptr, r, p), csr_colnorm2_numpy(data, indices, p),
            csr_colcounts_numpy(indices, p))


# ---------------------------------------------------------------------------- CSR columns, counts known
@_unsigned_indices
@njit
def csr_gather_counted_numba(data, indices, indptr, cols, counts, p, flat_listing=True):
    """:func:`csr_gather_numba` with the entries per column known (``counts``, length ``p``).

    The column pointers come from ``counts[cols]``, so there is no counting
    pass (its scattered increments were the slowest part); one flat pass over
    the indices lists the hits, a pass over the hits places them
    (``flat_listing``: without a branch when the hits are many, see
    :func:`_place_marked`).
    """
    m = cols.size
    mark = np.zeros(p, dtype=np.uint8)
    slot = np.empty(p, dtype=np.int64)   # read only where marked
    colptr = np.zeros(m + 1, dtype=indptr.dtype)
    for j in range(m):
        c = cols[j]
        mark[c] = 1
        slot[c] = j
        colptr[j + 1] = colptr[j] + counts[c]
    return _place_marked(data, indices, indptr, mark, slot, colptr, flat_listing)


def csr_gather_counted_numpy(data, indices, indptr, cols, counts, p, flat_listing=True):
    """Numpy twin of :func:`csr_gather_counted_numba` (scipy's indexing needs neither ``counts`` nor the listing)."""
    return csr_gather_numpy(data, indices, indptr, cols, p)


@_unsigned_indices
@njit
def csr_gather_merged_numba(data, indices, indptr, cols, counts, p, old_data, old_rows, old_colptr, old_place,
                            flat_listing=True):
    """:func:`csr_gather_counted_numba` of the columns ``cols``, taking those gathered before from their CSC arrays.

    ``old_data, old_rows, old_colptr`` hold columns gathered by an earlier
    call; ``old_place[j]`` is one plus the place of ``cols[j]`` among them, or
    0 for a column not among them. Only the new columns are looked for in the
    CSR arrays (one pass, as in :func:`_place_marked`, the choice of pass made
    on their entries); the others are copied from the old arrays. The arrays
    of the plain gather (rows increasing within each column), without a
    second copy of the working set: the lasso's working sets mostly hold the
    last one's columns.
    """
    m = cols.size
    mark = np.zeros(p, dtype=np.uint8)
    slot = np.empty(p, dtype=np.int64)   # read only where marked
    colptr = np.zeros(m + 1, dtype=indptr.dtype)
    n_new = 0
    for j in range(m):
        c = cols[j]
        colptr[j + 1] = colptr[j] + counts[c]
        if old_place[j] == 0:
            mark[c] = 1
            slot[c] = j
            n_new += counts[c]
    out_data = np.empty(colptr[m])
    out_rows = np.empty(colptr[m], dtype=indices.dtype)
    if n_new:
        _place_marked_into(data, indices, indptr, mark, slot, colptr, n_new, out_data, out_rows, flat_listing)
    for j in range(m):
        if old_place[j]:
            a = old_colptr[old_place[j] - np.uint64(1)]
            pos = colptr[j]
            for q in range(colptr[j + 1] - pos):
                out_data[pos + q] = old_data[a + q]
                out_rows[pos + q] = old_rows[a + q]
    return out_data, out_rows, colptr


def csr_gather_merged_numpy(data, indices, indptr, cols, counts, p, old_data, old_rows, old_colptr, old_place,
                            flat_listing=True):
    """Numpy twin of :func:`csr_gather_merged_numba`: the plain gather of ``cols`` (what the merge must equal)."""
    return csr_gather_numpy(data, indices, indptr, cols, p)


# ---------------------------------------------------------------------------- lasso epochs on CSC columns
@njit(fastmath=_FAST)
def csc_singleton_epoch_numba(data, rows, colptr, r, x, t1, t2, lips):
    """One cyclic coordinate-descent epoch over single columns with one target, in place on ``r`` and ``x``.

    Column ``j`` is ``data[colptr[j]:colptr[j+1]]`` at rows ``rows[...]``; its
    step is ``1 / lips[j]`` (columns with ``lips[j] <= 0`` are skipped) and its
    penalty ``(t1[j] + t2[j]) |x_j|`` (a one-column group's norm is ``|x_j|``):
    ``x_j <- S_{(t1+t2)/L}(x_j + a_j^T r / L)``, then ``r -= (new - old) a_j``.
    The same steps as :func:`._block_kernels.bcd_epoch_sparse_numba` on
    singleton groups, without its block buffer and per-group prox call.
    """
    for j in range(x.size):
        L = lips[j]
        if L <= 0.0:
            continue
        a = colptr[j]
        b = colptr[j + 1]
        old = x[j]
        v = old + _gather_dot(data, rows, r, a, b) / L
        thr = (t1[j] + t2[j]) / L
        if v > thr:
            new = v - thr
        elif v < -thr:
            new = v + thr
        else:
            new = 0.0
        d = new - old
        if d != 0.0:
            x[j] = new
            for q in range(a, b):
                r[rows[q]] -= d * data[q]


def csc_singleton_epoch_numpy(data, rows, colptr, r, x, t1, t2, lips):
    """Numpy twin of :func:`csc_singleton_epoch_numba`."""
    for j in range(x.size):
        L = lips[j]
        if L <= 0.0:
            continue
        a, b = int(colptr[j]), int(colptr[j + 1])
        sel = rows[a:b].astype(np.int64)
        old = x[j]
        v = old + float(data[a:b] @ r[sel]) / L
        thr = (t1[j] + t2[j]) / L
        new = np.sign(v) * max(abs(v) - thr, 0.0)
        if new != old:
            x[j] = new
            r[sel] -= (new - old) * data[a:b]


def singleton_views(R, X, ptr, colptr):
    """``(r, x)`` 1-D views of ``R`` (1, n) and ``X`` (m, 1) when every group is one column, else None."""
    m = X.shape[0]
    if R.shape[0] != 1 or X.shape[1] != 1 or ptr.size != m + 1 or colptr.size != m + 1 or int(ptr[m]) != m:
        return None
    if not (R.flags.c_contiguous and X.flags.c_contiguous):
        return None
    return R.reshape(-1), X.reshape(-1)   # views (both contiguous): the epoch writes through them


def csc_block_epoch(data, rows, colptr, R, X, ptr, t1, t2, lips, V):
    """:func:`._block_kernels.bcd_epoch_sparse_numba` (same arguments, in place on ``R`` and ``X``), with
    single columns and one target run by :func:`csc_singleton_epoch_numba`.

    The lasso's working set is all single columns: there the generic epoch's
    block buffer and per-group prox cost about a fifth of the epoch (p = n =
    10^4, density 1e-2: 1.8 -> 1.5 ms, with the vectorized sums).
    """
    views = singleton_views(R, X, ptr, colptr)
    if views is None:
        bcd_epoch_sparse_numba(data, rows, colptr, R, X, ptr, t1, t2, lips, V)
    else:
        csc_singleton_epoch_numba(data, rows, colptr, views[0], views[1], t1, t2, lips)


def csc_block_epoch_numpy(data, rows, colptr, R, X, ptr, t1, t2, lips, V):
    """Numpy twin of :func:`csc_block_epoch`."""
    views = singleton_views(R, X, ptr, colptr)
    if views is None:
        bcd_epoch_sparse_numpy(data, rows, colptr, R, X, ptr, t1, t2, lips, V)
    else:
        csc_singleton_epoch_numpy(data, rows, colptr, views[0], views[1], t1, t2, lips)


# ---------------------------------------------------------------------------- rows a set of columns touches
# Above 1 / _BRANCHLESS_TOUCHED of the rows touched, their list is built without a branch per row (p = n = 10^4,
# density 1e-3, working sets of 80-420 columns touching 8-35 % of the rows: CSC solves 0.97x the time); below, the
# branch (0.8 % at density 1e-4) is predicted well and the loop without it was slower
_BRANCHLESS_TOUCHED = 20


@_unsigned_indices
@njit
def csc_touched_rows_numba(rows, nnz, n):
    """The rows holding the first ``nnz`` stored entries (row indices ``rows`` of CSC columns, ``n`` rows), in
    increasing order, and each entry's position among them: ``(touched, local)``, ``local`` of ``rows``' type.

    Columns whose entries are read at ``local`` in a vector ``r_t = r[touched]`` read the same numbers as at
    ``rows`` in ``r``: an epoch over a few sparse columns then works on the rows they touch only.
    """
    mark = np.zeros(n, dtype=np.bool_)
    for q in range(nnz):
        mark[rows[q]] = True
    count = 0
    for i in range(n):
        count += mark[i]
    place = np.empty(n, dtype=np.int64)   # read at the touched rows only
    if _BRANCHLESS_TOUCHED * count < n:   # a few rows: the branch on the mark is rarely taken (well predicted)
        touched = np.empty(count, dtype=np.int64)
        k = 0
        for i in range(n):
            if mark[i]:
                touched[k] = i
                place[i] = k
                k += 1
    else:
        # more, in no pattern: the branch's mispredictions cost more than a loop without it, where every row writes
        # its place and the next free slot and the count moves past the touched ones (the last slot a spare for
        # the untouched rows after the last touched one)
        slots = np.empty(count + 1, dtype=np.int64)
        k = 0
        for i in range(n):
            slots[k] = i
            place[i] = k
            k += mark[i]
        touched = slots[:count]
    local = np.empty_like(rows[:nnz])
    for q in range(nnz):
        local[q] = place[rows[q]]
    return touched, local


def csc_touched_rows_numpy(rows, nnz, n):
    """Numpy twin of :func:`csc_touched_rows_numba`."""
    touched, local = np.unique(rows[:nnz].astype(np.int64), return_inverse=True)
    return touched, local.reshape(-1).astype(rows.dtype)


# ---------------------------------------------------------------------------- lasso epochs between gap checks
# An Anderson step is taken when it lowers the objective, and when rejected, tried again with the columns it carried
# past zero: each decided from reassociated sums when their difference is far above the rounding of either order
# (_objective_lower), from the ordered sums otherwise (the same decisions). In-process A/B: the first decision, p =
# 10^4 density 1e-4 at 0.1/0.01 lam_max 0.97/0.95x the time, p = 10^5 1e-4 0.01 0.95x; the retry's too (p = 10^4
# density 1e-4 0.1 lam_max: all 6 steps rejected, then retried), 0.91-0.93x and 0.93x more. For the plain lasso
# the penalties are reassociated sums too (_l1_objective_lower), and the retry takes the reversed columns
# (anderson_take_reversed_singletons_numba) and puts them back in the residual (_add_back_columns) without a
# per-group loop: at the whole problem's state (p = n = 10^4, density 1e-3, 0.001 lam_max, m = 10^4) a decision
# 0.062 -> 0.004 ms, the reversed columns 0.033 -> 0.006 ms, their residual 0.024 -> 0.011 ms
_UNIT_ROUNDOFF = 2.0 ** -53
_TINY_OBJECTIVE = 1e-250
_HUGE_OBJECTIVE = 1e250
# A subproblem of the lasso on 60-80 sparse columns runs an epoch in microseconds: one Python round trip per epoch
# (the epoch's dispatch, storing the iterate and residual) and per Anderson step (the combination, two or three
# objectives, a residual, the reversed groups: five numba calls) cost more than the epochs. The run below does all
# the epochs between two gap checks in one call, with the same steps in the same order as the Python loop of
# working_set._BlockSolver._phase and _extrapolate (the same iterates, bitwise).
@njit
def _combined_residual(r, R_comb, touched, K):
    """The Anderson combination of the whole residual from compact stores (see :func:`csc_singleton_run_numba`).

    ``R_comb`` holds the combination of the stored touched rows, then the K weights themselves (the identity
    columns' combination: each weight exactly). An untouched row kept its value ``r[t]`` in every stored
    residual, so its combination is that value times each weight, summed in the same order, from zero, as the
    stored rows are: the same numbers as combining whole stored residuals.
    """
    n = r.size
    T = touched.size
    out = np.zeros(n)
    for i in range(K):
        c = R_comb[T + i]
        for t in range(n):
            out[t] += c * r[t]
    for k in range(T):
        out[touched[k]] = R_comb[k]
    return out


@njit(fastmath=_FAST)
def _sum_squares_reassociated(a):
    """``sum a_i^2`` over a 1-D ``a``, reassociated (it vectorizes): within ``n u`` of the exact sum, as any order."""
    acc = 0.0
    for i in range(a.size):
        acc += a[i] * a[i]
    return acc


@njit
def _order_beyond_rounding(extrapolated, current, terms):
    """1 when the reassociated objective ``extrapolated`` is below ``current`` by more than ``16 terms u`` times
    their sum (the margin of :func:`_objective_lower` and :func:`_l1_objective_lower`, sums of ``terms`` terms),
    -1 when above by as much, 0 when they are closer or either is near underflow, overflow or NaN (the ordered
    objectives decide)."""
    if _TINY_OBJECTIVE < extrapolated < _HUGE_OBJECTIVE and _TINY_OBJECTIVE < current < _HUGE_OBJECTIVE:
        margin = 16.0 * terms * _UNIT_ROUNDOFF * (extrapolated + current)
        if extrapolated < current - margin:
            return 1
        if extrapolated > current + margin:
            return -1
    return 0


@njit
def _objective_lower(X2, R2, x, r, ptr, t1, t2):
    """Whether :func:`._block_kernels.block_objective_numba` is lower at ``(X2, R2)`` than at ``(x, r)``:
    ``(lower, current)``, ``current`` the second objective when it was computed (else NaN).

    The two objectives' sums of n squared residuals run in row order, each a chain of n dependent additions
    (about 2 x 10 us at n = 10^4, an Anderson step's largest cost on a small working set). Reassociated sums of the
    same squares are within ``n u`` of the exact sums, as the ordered ones are, and the penalties are added alike;
    when the two reassociated objectives differ by more than ``16 (n + m + 2) u`` times their sum, far above both
    rounding errors, their order is the ordered objectives' order. Otherwise (and for weights below zero, values
    near underflow or overflow, NaN) the ordered objectives decide, as before: the same decision either way.
    """
    n = r.size
    nonnegative = True
    for g in range(t1.size):
        if not (t1[g] >= 0.0 and t2[g] >= 0.0):
            nonnegative = False
    if nonnegative:
        extrapolated = plus_block_penalty(0.5 * _sum_squares_reassociated(R2[0]), X2, ptr, t1, t2)
        current = plus_block_penalty(0.5 * _sum_squares_reassociated(r), x, ptr, t1, t2)
        order = _order_beyond_rounding(extrapolated, current, n + X2.size + 2)
        if order != 0:
            return order > 0, np.nan
    current = block_objective_numba(x, r.reshape((1, n)), ptr, t1, t2)
    return block_objective_numba(X2, R2, ptr, t1, t2) < current, current


@njit
def single_column_groups(ptr, m):
    """Whether the groups ``ptr`` are the m single columns in order (``ptr = 0, 1, ..., m``)."""
    if ptr.size != m + 1:
        return False
    misplaced = 0
    for g in range(m + 1):   # counted, not left at the first miss: no branch, it vectorizes
        misplaced += ptr[g] != g
    return misplaced == 0


@njit
def plain_l1_singletons(ptr, t1, t2):
    """Whether the groups ``ptr`` are the single columns in order with ``t2 = 0`` and ``t1 >= 0``: the plain
    (weighted) lasso, whose penalty :func:`_l1_objective_lower` sums without groups."""
    m = t1.size
    if t2.size != m or not single_column_groups(ptr, m):
        return False
    other = 0
    for g in range(m):
        other += (t2[g] != 0.0) | (not t1[g] >= 0.0)   # NaN weights included
    return other == 0


@njit(fastmath=_FAST)
def _l1_halves_reassociated(r2, r, t1, x2, x):
    """``(0.5 ||r2||^2 + sum t1 |x2|, 0.5 ||r||^2 + sum t1 |x|)``, every sum reassociated (they vectorize)."""
    sq2 = 0.0
    sq = 0.0
    for i in range(r.size):
        sq2 += r2[i] * r2[i]
        sq += r[i] * r[i]
    pen2 = 0.0
    pen = 0.0
    for j in range(x.size):
        pen2 += t1[j] * abs(x2[j])
        pen += t1[j] * abs(x[j])
    return 0.5 * sq2 + pen2, 0.5 * sq + pen


@njit
def _l1_objective_lower(x2, R2, x, r, ptr, t1, t2):
    """:func:`_objective_lower` for the plain lasso (:func:`plain_l1_singletons` true), on 1-D ``x2`` and ``x``:
    ``(lower, current)`` as there.

    :func:`._block_kernels.block_objective_numba` adds, after its ordered sum of squares, the terms
    ``t1[j] |x_j| + 0 sqrt(x_j^2) = t1[j] |x_j|`` one column at a time: two more chains of m dependent additions,
    with a square root each (2 x 25 us at m = 10^4). Here every sum is reassociated: each objective is ``0.5 S + P``
    with ``S`` a sum of n squares and ``P`` a sum of m products ``t1[j] |x_j| >= 0``, computed in any order (fused
    products included) within ``gamma_{n+m+2} = (n + m + 2) u / (1 - (n + m + 2) u)`` times itself, and so is the
    ordered objective: both within ``1.01 (n + m + 2) u`` of the exact one (``u = 2^-53``, n + m below 10^13; sums
    of nonnegative terms lose nothing to cancellation, and additions are exact in the subnormal range). When the
    two fast objectives differ by more than ``16 (n + m + 2) u`` times their sum, eight times what the two pairs
    can differ by together, the exact objectives, and so the ordered ones, are in the same order. Otherwise, and for values
    near underflow or overflow or NaN, the ordered objectives decide: the same decision either way.
    """
    n = r.size
    extrapolated, current = _l1_halves_reassociated(R2[0], r, t1, x2, x)
    order = _order_beyond_rounding(extrapolated, current, n + x.size + 2)
    if order != 0:
        return order > 0, np.nan
    m = x.size
    current = block_objective_numba(x.reshape((m, 1)), r.reshape((1, n)), ptr, t1, t2)
    return block_objective_numba(x2.reshape((m, 1)), R2, ptr, t1, t2) < current, current


@njit
def _decide_lower(X_acc, R2, x, r, ptr, t1, t2, plain_l1):
    """Whether the extrapolated point ``(X_acc, R2)`` lowers the objective at ``(x, r)`` (1-D ``X_acc`` and ``x``):
    :func:`_l1_objective_lower` for the plain lasso, :func:`_objective_lower` otherwise (the same decisions)."""
    if plain_l1:
        return _l1_objective_lower(X_acc, R2, x, r, ptr, t1, t2)[0]
    m = x.size
    return _objective_lower(X_acc.reshape((m, 1)), R2, x.reshape((m, 1)), r, ptr, t1, t2)[0]


@njit
def _add_back_columns(R2, Y, d, data, rows, colptr):
    """``R2 += Y - (Y - A d)``, in place on ``R2`` (1, n): the columns ``d`` (1-D, mostly zeros) took from the
    extrapolated point put back in its residual, the same numbers as
    ``R2 += Y - ws_residual_sparse_numba(data, rows, colptr, d.reshape(-1, 1), Y)`` (the same products subtracted
    from ``Y`` in the same order, then the same differences added), without its two temporary (1, n) arrays and
    the two-dimensional indexing: 0.024 -> 0.011 ms at n = m = 10^4, density 1e-3, a fortieth of the columns.
    """
    y = Y[0]
    rest = y.copy()
    for j in range(d.size):
        v = d[j]
        if v != 0.0:
            for q in range(colptr[j], colptr[j + 1]):
                rest[rows[q]] -= v * data[q]
    r2 = R2[0]
    for t in range(y.size):
        r2[t] += y[t] - rest[t]


@njit
def _singleton_extrapolate(data, rows, colptr, r, x, ptr, t1, t2, iterates, residuals, Y, exact_weights,
                           take_reversed, touched, single_columns, plain_l1):
    """One Anderson step of :func:`csc_singleton_run_numba`, in place on ``r`` and ``x`` when it is taken.

    ``single_columns`` (:func:`single_column_groups`) and ``plain_l1`` (:func:`plain_l1_singletons`), decided
    once a run, pick the single-column forms of the reversed columns' step and of the objectives' comparison.
    """
    m = x.size
    n = r.size
    X_acc, R_comb, csum = anderson_combine_numba(iterates, residuals)
    if X_acc.size == 0:
        return
    X2 = X_acc.reshape((m, 1))
    if csum > exact_weights:   # large weights: the residual recomputed, not combined (rounding)
        R2 = ws_residual_sparse_numba(data, rows, colptr, X2, Y)
    elif touched.size:
        R2 = _combined_residual(r, R_comb, touched, iterates.shape[0] - 1).reshape((1, n))
    else:
        R2 = R_comb.reshape((1, n))
    if _decide_lower(X_acc, R2, x, r, ptr, t1, t2, plain_l1):
        x[:] = X_acc
        r[:] = R2[0]
        return
    if take_reversed:
        # the columns the step carried past zero set to zero, their contribution put back in the residual
        taken_out = np.zeros(m)
        if single_columns:
            count = anderson_take_reversed_singletons_numba(X_acc, x, taken_out)
        else:
            count = anderson_take_reversed_numba(X2, x.reshape((m, 1)), taken_out.reshape((m, 1)), ptr)
        if count:
            _add_back_columns(R2, Y, taken_out, data, rows, colptr)
            if _decide_lower(X_acc, R2, x, r, ptr, t1, t2, plain_l1):   # (x and r are as they were)
                x[:] = X_acc
                r[:] = R2[0]


@njit
def csc_singleton_run_numba(data, rows, colptr, r, x, ptr, t1, t2, lips, n_epochs, iterates, residuals, stored, Y,
                            exact_weights, take_reversed, touched):
    """``n_epochs`` epochs of :func:`csc_singleton_epoch_numba` with Anderson steps, in place on ``r`` and ``x``.

    After each epoch ``x`` and ``r`` are stored as row ``stored`` of
    ``iterates`` (K + 1, m) and ``residuals`` (K + 1, n); when the K + 1 rows
    are full, an Anderson step: the combination of
    :func:`._block_kernels.anderson_combine_numba` (its residual recomputed as
    ``Y - A x`` when the weights' absolute sum exceeds ``exact_weights``) is
    taken when it lowers :func:`._block_kernels.block_objective_numba` (groups
    ``ptr``, weights ``t1 + t2``); otherwise, with ``take_reversed``, again
    with the columns it carried past zero set to zero
    (:func:`._block_kernels.anderson_take_reversed_numba`). Empty buffers (no
    rows): no Anderson steps. ``Y`` is the target as (1, n). Returns the
    number of rows stored, for the next call.

    ``touched`` (non-empty: the rows the columns touch, each once) stores the
    residuals compactly: ``residuals`` is (K + 1, T + K), its first T columns
    the touched rows, its last K columns the identity (row ``i + 1`` has its
    one at ``T + i``, set by the caller), so that the combination gives the
    weights too; the other rows, which the epochs do not move, are combined
    from ``r`` itself (:func:`_combined_residual`). The same numbers as with
    whole residuals (``touched`` empty), without storing n numbers an epoch.
    """
    depth = iterates.shape[0]
    T = touched.size
    single_columns = depth > 0 and single_column_groups(ptr, x.size)
    plain_l1 = single_columns and plain_l1_singletons(ptr, t1, t2)
    for _ in range(n_epochs):
        csc_singleton_epoch_numba(data, rows, colptr, r, x, t1, t2, lips)
        if depth > 0:
            iterates[stored, :] = x
            if T:
                for k in range(T):
                    residuals[stored, k] = r[touched[k]]
            else:
                residuals[stored, :] = r
            stored += 1
            if stored == depth:
                _singleton_extrapolate(data, rows, colptr, r, x, ptr, t1, t2, iterates, residuals, Y,
                                       exact_weights, take_reversed, touched, single_columns, plain_l1)
                stored = 0
    return stored


def csc_singleton_run_numpy(data, rows, colptr, r, x, ptr, t1, t2, lips, n_epochs, iterates, residuals, stored, Y,
                            exact_weights, take_reversed, touched):
    """Numpy twin of :func:`csc_singleton_run_numba`."""
    m, n = x.size, r.size
    depth = iterates.shape[0]
    T = touched.size
    for _ in range(n_epochs):
        csc_singleton_epoch_numpy(data, rows, colptr, r, x, t1, t2, lips)
        if depth == 0:
            continue
        iterates[stored] = x
        if T:
            residuals[stored, :T] = r[touched]
        else:
            residuals[stored] = r
        stored += 1
        if stored < depth:
            continue
        stored = 0
        X_acc, R_comb, csum = anderson_combine_numpy(iterates, residuals)
        if not X_acc.size:
            continue
        X2 = X_acc.reshape(m, 1)
        if csum > exact_weights:
            R2 = ws_residual_sparse_numpy(data, rows, colptr, X2, Y)
        elif T:
            R2 = (R_comb[T:].sum() * r).reshape(1, n)   # the untouched rows: r times the weights' sum (one)
            R2[0, touched] = R_comb[:T]
        else:
            R2 = R_comb.reshape(1, n).copy()
        current = block_objective_numpy(x.reshape(m, 1), r.reshape(1, n), ptr, t1, t2)
        taken = block_objective_numpy(X2, R2, ptr, t1, t2) < current
        if not taken and take_reversed:
            D = np.zeros_like(X2)
            if anderson_take_reversed_numpy(X2, x.reshape(m, 1), D, ptr):
                R2 += Y - ws_residual_sparse_numpy(data, rows, colptr, D, Y)
                taken = block_objective_numpy(X2, R2, ptr, t1, t2) < current
        if taken:
            x[:] = X2[:, 0]
            r[:] = R2[0]
    return stored


@njit(fastmath=_FAST)
def _dual_residual_sq(y, r, scale):
    """``||y - r / scale||^2`` (the sum reassociated: it vectorizes)."""
    acc = 0.0
    for i in range(y.size):
        d = y[i] - r[i] / scale
        acc += d * d
    return acc


@njit
def csc_singleton_gap_numba(data, rows, colptr, r, x, ptr, t1, t2, y, yy):
    """The lasso subproblem's duality gap on single CSC columns and one target, in one call: ``(U, gap, primal)``.

    ``U = A_ws^T r`` (m, 1) (the sums of :func:`csc_ws_gradient_numba`),
    ``scale = max(1, max_j |U_j| / (t1_j + t2_j))`` (columns with no
    penalty left out), and ``gap = P(x) - D(r / scale)`` with ``P`` of
    :func:`._block_kernels.block_objective_numba` and ``D(theta) = 0.5 yy -
    0.5 ||y - theta||^2`` (``yy = ||y||^2``), whose sum is reassociated (it may
    differ from a BLAS dot product's in the last bits); ``primal = P(x)``.
    """
    m = x.size
    n = r.size
    U = np.empty((m, 1))
    scale = 1.0
    for j in range(m):
        u = _gather_dot(data, rows, r, colptr[j], colptr[j + 1])
        U[j, 0] = u
        tot = t1[j] + t2[j]
        if tot > 0.0:
            s = abs(u) / tot
            if s > scale:
                scale = s
    primal = block_objective_numba(x.reshape((m, 1)), r.reshape((1, n)), ptr, t1, t2)
    return U, primal - (0.5 * yy - 0.5 * _dual_residual_sq(y, r, scale)), primal


def csc_singleton_gap_numpy(data, rows, colptr, r, x, ptr, t1, t2, y, yy):
    """Numpy twin of :func:`csc_singleton_gap_numba`."""
    m, n = x.size, r.size
    A = np.zeros((n, m))
    for j in range(m):
        sel = slice(int(colptr[j]), int(colptr[j + 1]))
        np.add.at(A[:, j], rows[sel].astype(np.int64), data[sel])
    U = (A.T @ r).reshape(m, 1)
    tot = t1 + t2
    ratios = np.abs(U[:, 0])[tot > 0] / tot[tot > 0]
    scale = max(1.0, float(ratios.max()) if ratios.size else 1.0)
    primal = block_objective_numpy(x.reshape(m, 1), r.reshape(1, n), ptr, t1, t2)
    d = y - r / scale
    return U, primal - (0.5 * yy - 0.5 * float(d @ d)), primal


@njit(fastmath=_FAST)
def csc_ws_gradient_numba(data, rows, colptr, R):
    """``A_ws^T r`` as (m, k) for working-set columns in CSC arrays (vectorized sums; see
    :func:`._block_kernels.ws_gradient_sparse_numba`, whose numpy twin is this one's)."""
    m = colptr.size - 1
    k = R.shape[0]
    U = np.empty((m, k))
    for c in range(k):
        r = R[c]
        for j in range(m):
            U[j, c] = _gather_dot(data, rows, r, colptr[j], colptr[j + 1])
    return U


# ---------------------------------------------------------------------------- Gram matrix of a few columns
@_unsigned_indices
@njit
def csc_gram_numba(data, rows, colptr, n):
    """``A_S^T A_S`` (m, m) dense, for ``m`` columns in CSC arrays ``(data, rows, colptr)`` with ``n`` rows.

    Row by row: the entries are regrouped by row (a counting pass), and each
    row adds the products of its entries' pairs, so the cost is the sum over
    rows of (entries in the row)^2, not ``m^2`` column dot products. Repeated
    entries of one column in a row are summed, as scipy does.
    """
    m = colptr.size - 1
    nnz = colptr[m]
    rowptr = np.zeros(n + 1, dtype=np.int64)
    for q in range(nnz):
        rowptr[rows[q] + 1] += 1
    for i in range(n):
        rowptr[i + 1] += rowptr[i]
    fill = rowptr[:n].copy()
    col_of = np.empty(nnz, dtype=np.int64)
    val_of = np.empty(nnz)
    for j in range(m):   # columns in order: within a row, the column numbers do not decrease
        for q in range(colptr[j], colptr[j + 1]):
            i = rows[q]
            col_of[fill[i]] = j
            val_of[fill[i]] = data[q]
            fill[i] += 1
    G = np.zeros((m, m))
    for i in range(n):
        for a in range(rowptr[i], rowptr[i + 1]):
            ja = col_of[a]
            va = val_of[a]
            G[ja, ja] += va * va
            for b in range(a + 1, rowptr[i + 1]):
                jb = col_of[b]
                if jb == ja:   # the same column twice in this row: its cross term counts twice on the diagonal
                    G[ja, ja] += 2.0 * va * val_of[b]
                else:
                    G[ja, jb] += va * val_of[b]
    for j in range(m):
        for k in range(j + 1, m):
            G[k, j] = G[j, k]
    return G


def csc_gram_numpy(data, rows, colptr, n):
    """Numpy twin of :func:`csc_gram_numba` (scipy's sparse product)."""
    import scipy.sparse as sp

    A = sp.csc_matrix((data, rows.astype(np.int64), colptr.astype(np.int64)), shape=(n, colptr.size - 1))
    return np.asarray((A.T @ A).toarray(), dtype=np.float64)
