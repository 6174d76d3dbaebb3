"""Sensing operators as ``scipy.sparse.linalg.LinearOperator``.

Every operator here has an exact adjoint (checked by :func:`dottest`) and is
scaled so that ``E ||A x||^2 = ||x||^2``: the columns of a random sensing
matrix have unit norm on average, so thresholds and step sizes mean the same
thing for every operator. Operators compose with ``@`` (``Phi @ Psi``
measures a signal given by its wavelet coefficients).
"""

import warnings

import numpy as np
import scipy.fft
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from .._validation import check_adjoint, check_array, check_int, check_rng, check_scalar
from ..exceptions import ParameterError, ShapeError

__all__ = [
    "DenseOperator",
    "gaussian",
    "bernoulli",
    "partial_dct",
    "wavelet_synthesis",
    "WaveletSynthesis",
    "wavelet_synthesis2d",
    "WaveletSynthesis2D",
    "dottest",
    "as_matrix",
    "columns",
]


class _CheckedOperator(LinearOperator):
    """A LinearOperator whose products check their argument's length first, naming it.

    scipy's own check raises a bare ``ValueError('dimension mismatch')``;
    this one raises :class:`ShapeError` naming ``x`` (forward) or ``r``
    (adjoint), the operator and the length it needs.
    """

    def _check_length(self, x, n, name):
        shape = np.shape(x)
        if len(shape) not in (1, 2) or shape[0] != n:
            raise ShapeError(f"The '{name}' argument of {type(self).__name__} must have {n} rows (the operator is "
                             f"{self.shape[0]} x {self.shape[1]}). Got shape {shape}.")

    def matvec(self, x):
        self._check_length(x, self.shape[1], "x")
        return super().matvec(x)

    def rmatvec(self, x):
        self._check_length(x, self.shape[0], "r")
        return super().rmatvec(x)

    def matmat(self, X):
        self._check_length(X, self.shape[1], "X")
        return super().matmat(X)

    def rmatmat(self, X):
        self._check_length(X, self.shape[0], "R")
        return super().rmatmat(X)


class DenseOperator(_CheckedOperator):
    """A LinearOperator backed by a dense matrix, kept in ``matrix``.

    Solvers that need column submatrices (CoSaMP, block-OMP, the RIP
    estimate) read them straight from ``matrix``.

    Parameters
    ----------
    matrix : array_like, shape (m, n)
        The matrix. It is stored as a C-contiguous float64 array (copied
        only when it is not one already) and marked read-only.
    name : str, default "dense"
        Label used in ``repr``; the adjoint is named ``name + ".T"``.
    """

    def __init__(self, matrix, name="dense"):
        self.matrix = np.ascontiguousarray(check_array(matrix, "matrix", ndim=2, owner="DenseOperator"))
        self.matrix.setflags(write=False)
        self.name = name
        super().__init__(dtype=np.float64, shape=self.matrix.shape)

    def _matvec(self, x):
        return self.matrix @ x

    def _matmat(self, X):
        return self.matrix @ X

    def _rmatvec(self, y):
        return self.matrix.T @ y

    def _rmatmat(self, Y):
        return self.matrix.T @ Y

    def _adjoint(self):
        return DenseOperator(self.matrix.T, name=f"{self.name}.T")

    def __repr__(self):
        return f"<{self.shape[0]}x{self.shape[1]} {self.name} operator>"


def _check_mn(m, n, owner):
    n = check_int(n, "n", low=1, owner=owner)
    m = check_int(m, "m", low=1, high=n, owner=owner)
    return m, n


def gaussian(m, n, rng=None):
    """An ``m x n`` matrix with i.i.d. ``N(0, 1/m)`` entries.

    Parameters
    ----------
    m, n : int
        Number of measurements and signal length (``1 <= m <= n``).
    rng : int, Generator or None

    Returns
    -------
    DenseOperator
    """
    m, n = _check_mn(m, n, "gaussian")
    rng = check_rng(rng)
    return DenseOperator(rng.standard_normal((m, n)) / np.sqrt(m), name="gaussian")


def bernoulli(m, n, rng=None):
    """An ``m x n`` matrix with i.i.d. entries ``+-1/sqrt(m)`` (Rademacher).

    Parameters
    ----------
    m, n : int
        Number of measurements and signal length (``1 <= m <= n``).
    rng : int, Generator or None, default None
        Seed or generator of the random signs.

    Returns
    -------
    DenseOperator
        Shape ``(m, n)``; every column has unit norm.
    """
    m, n = _check_mn(m, n, "bernoulli")
    rng = check_rng(rng)
    signs = rng.integers(0, 2, size=(m, n)).astype(np.float64) * 2.0 - 1.0
    return DenseOperator(signs / np.sqrt(m), name="bernoulli")


class PartialDCT(_CheckedOperator):
    """Rows ``rows`` of the orthonormal DCT-II of size ``n``, times ``sqrt(n / m)``.

    Matrix-free: products cost one ``scipy.fft`` transform. The scale makes
    ``E ||A x||^2 = ||x||^2`` over the random choice of rows.
    """

    def __init__(self, rows, n):
        self.rows = np.asarray(rows, dtype=np.int64)
        self.rows.setflags(write=False)
        self.n = int(n)
        self.scale = np.sqrt(self.n / self.rows.size)
        super().__init__(dtype=np.float64, shape=(self.rows.size, self.n))

    def _matmat(self, X):
        return scipy.fft.dct(X, type=2, norm="ortho", axis=0)[self.rows] * self.scale

    def _matvec(self, x):
        return self._matmat(np.asarray(x).reshape(self.n, -1)).reshape(-1) if np.ndim(x) == 1 else self._matmat(x)

    def _rmatmat(self, Y):
        Y = np.asarray(Y).reshape(self.rows.size, -1)
        full = np.zeros((self.n, Y.shape[1]))
        full[self.rows] = Y * self.scale
        # the inverse of the orthonormal DCT-II is its transpose
        return scipy.fft.idct(full, type=2, norm="ortho", axis=0)

    def _rmatvec(self, y):
        return self._rmatmat(np.asarray(y).reshape(-1, 1)).reshape(-1)

    def _adjoint(self):
        return _AdjointOf(self)

    def columns(self, idx):
        """Dense columns ``A[:, idx]`` from their closed form, ``O(m)`` each instead of a transform.

        Entry ``(i, j)`` is ``scale c_r cos(pi r (2 j + 1) / (2 n))`` for the
        kept row ``r = rows[i]`` (``c_0 = sqrt(1/n)``, else ``sqrt(2/n)``);
        the angle is reduced exactly in integers and read from a table of
        ``4 n`` cosines, built on first use. Solvers that need a few columns
        (working sets) use this capability when an operator offers it.

        Parameters
        ----------
        idx : array_like of int, shape (k,)
            Column indices in ``[0, n)``.

        Returns
        -------
        ndarray, shape (m, k)
        """
        idx = _column_indices(idx, self.n, "PartialDCT")
        table = getattr(self, "_cos_table", None)
        if table is None:
            table = self._cos_table = np.cos(np.pi * np.arange(4 * self.n) / (2 * self.n))
            weight = np.full(self.rows.size, np.sqrt(2.0 / self.n) * self.scale)
            weight[self.rows == 0] = np.sqrt(1.0 / self.n) * self.scale
            self._row_weight = weight
        phase = ((2 * idx[:, None] + 1) * self.rows[None, :]) % (4 * self.n)
        return (np.take(table, phase) * self._row_weight).T  # built column by column (contiguous in its transpose)

    def __repr__(self):
        return f"<{self.shape[0]}x{self.shape[1]} partial DCT operator>"


def _column_indices(idx, n, owner):
    """``idx`` as an int64 vector of column indices in ``[0, n)``, or a ShapeError naming it."""
    arr = np.asarray(idx)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ShapeError(f"The 'idx' parameter of {owner}.columns must be a vector of integers. "
                         f"Got shape {arr.shape}, dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ShapeError(f"The 'idx' parameter of {owner}.columns holds indices outside [0, {n}). "
                         f"Got {int(arr.min())}..{int(arr.max())}.")
    return arr


class _AdjointOf(_CheckedOperator):
    """Adjoint of an operator that implements ``_rmatmat``."""

    def __init__(self, op):
        self.op = op
        super().__init__(dtype=np.float64, shape=(op.shape[1], op.shape[0]))

    def _matvec(self, x):
        return self.op._rmatvec(x)

    def _matmat(self, X):
        return self.op._rmatmat(X)

    def _rmatvec(self, y):
        return self.op._matvec(y)

    def _rmatmat(self, Y):
        return self.op._matmat(Y)

    def _adjoint(self):
        return self.op


def partial_dct(m, n, rng=None):
    """``m`` randomly chosen rows of the orthonormal DCT of size ``n``, scaled by ``sqrt(n/m)``.

    Matrix-free through ``scipy.fft.dct``; the adjoint is the inverse DCT of
    the rows zero-filled back to length ``n``.

    Parameters
    ----------
    m, n : int
        Number of measurements (rows kept, ``1 <= m <= n``) and signal length
        (size of the DCT).
    rng : int, Generator or None, default None
        Seed or generator of the choice of rows (drawn without replacement,
        then sorted).

    Returns
    -------
    PartialDCT
        A matrix-free ``LinearOperator`` of shape ``(m, n)``.
    """
    m, n = _check_mn(m, n, "partial_dct")
    rng = check_rng(rng)
    rows = np.sort(rng.choice(n, size=m, replace=False))
    return PartialDCT(rows, n)


class WaveletSynthesis(_CheckedOperator):
    """Wavelet coefficients -> signal, an orthogonal ``n x n`` operator.

    The coefficient vector is ``[cA_L, cD_L, cD_{L-1}, ..., cD_1]`` (coarsest
    first), as returned by ``pywt.wavedec(..., mode="periodization")`` and
    concatenated. With periodization and an orthogonal wavelet the transform
    is orthogonal, so the adjoint is the analysis transform (``wavedec``).

    Attributes
    ----------
    n, level : int
    wavelet : str
    lengths : list of int
        Length of each coefficient band, coarsest first.
    """

    def __init__(self, n, wavelet="db4", level=None):
        import pywt

        owner = "wavelet_synthesis"
        n = check_int(n, "n", low=2, owner=owner)
        w = _check_orthogonal_wavelet(wavelet, owner)
        max_level = int(np.log2(n & -n))  # number of times n can be halved exactly
        if max_level < 1:
            raise ParameterError(f"The 'n' parameter of {owner} must be even. Got {n}.")
        if level is None:
            level = max(1, min(max_level, pywt.dwt_max_level(n, w.dec_len)))
        level = check_int(level, "level", low=1, high=max_level, owner=owner)
        self.n, self.wavelet, self.level = n, w.name, level
        coarse = n >> level
        self.lengths = [coarse] + [coarse << j for j in range(level)]
        self._splits = np.cumsum(self.lengths)[:-1]
        super().__init__(dtype=np.float64, shape=(n, n))

    def _synth(self, C):
        import pywt

        bands = np.split(C, self._splits, axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "level too high": harmless with periodization
            return pywt.waverec(bands, self.wavelet, mode="periodization", axis=0)

    def _analyze(self, X):
        import pywt

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            bands = pywt.wavedec(X, self.wavelet, mode="periodization", level=self.level, axis=0)
        return np.concatenate(bands, axis=0)

    def _matvec(self, c):
        return self._synth(np.asarray(c, dtype=np.float64).reshape(-1))

    def _matmat(self, C):
        return self._synth(np.asarray(C, dtype=np.float64))

    def _rmatvec(self, x):
        return self._analyze(np.asarray(x, dtype=np.float64).reshape(-1))

    def _rmatmat(self, X):
        return self._analyze(np.asarray(X, dtype=np.float64))

    def _adjoint(self):
        return _AdjointOf(self)

    def analysis(self, x):
        """Coefficients of a signal ``x`` (the adjoint, also the inverse)."""
        return self._rmatvec(x)

    def band_slices(self):
        """Slice of each band in the coefficient vector, coarsest first."""
        ends = np.cumsum(self.lengths)
        return [slice(int(e - n), int(e)) for e, n in zip(ends, self.lengths)]

    def __repr__(self):
        return f"<{self.n}x{self.n} wavelet synthesis ({self.wavelet}, level {self.level})>"


def wavelet_synthesis(n, wavelet="db4", level=None):
    """Orthogonal wavelet synthesis operator (coefficients -> signal) through PyWavelets.

    Parameters
    ----------
    n : int
        Signal length; must be divisible by ``2**level``.
    wavelet : str
        An orthogonal wavelet (``'haar'``, ``'db2'``, ``'db4'``, ``'sym8'``...).
    level : int, optional
        Decomposition depth (default: PyWavelets' maximum useful level for
        the filter length).

    Returns
    -------
    WaveletSynthesis
    """
    return WaveletSynthesis(n, wavelet, level)


def _check_orthogonal_wavelet(wavelet, owner):
    import pywt

    try:
        w = pywt.Wavelet(wavelet)
    except (ValueError, TypeError):
        raise ParameterError(
            f"The 'wavelet' parameter of {owner} must name a discrete wavelet known to PyWavelets "
            f"(for example 'haar' or 'db4'). Got {wavelet!r} instead.") from None
    if not w.orthogonal:
        raise ParameterError(
            f"The 'wavelet' parameter of {owner} must be an orthogonal wavelet (haar, dbN, symN, coifN) "
            f"so that the transform is orthogonal. Got {wavelet!r}.")
    return w


def _real_input(x, name, owner):
    """``x`` as float64; a complex array is refused (casting would drop its imaginary part silently)."""
    x = np.asarray(x)
    if np.iscomplexobj(x):
        raise TypeError(f"The '{name}' argument of {owner} must be real. Got a complex array ({x.dtype}); "
                        f"apply the operator to its real and imaginary parts separately.")
    return np.asarray(x, dtype=np.float64)


def check_shape2d(shape, owner, name="shape"):
    """A pair of positive ints ``(rows, cols)``."""
    try:
        rows, cols = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ParameterError(f"The '{name}' parameter of {owner} must be a pair of ints (rows, cols). "
                             f"Got {shape!r}.") from None
    if rows < 1 or cols < 1 or any(float(v) != int(v) for v in shape):
        raise ParameterError(f"The '{name}' parameter of {owner} must be a pair of positive ints. Got {shape!r}.")
    return rows, cols


class WaveletSynthesis2D(_CheckedOperator):
    """2-D wavelet coefficients -> image (flattened row-major), an orthogonal ``N x N`` operator, ``N = rows * cols``.

    The coefficient vector is ``[cA_L, (cH_L, cV_L, cD_L), ..., (cH_1, cV_1, cD_1)]``
    (coarsest first, each band flattened row-major), the bands of
    ``pywt.wavedec2(..., mode="periodization")``. With periodization and an
    orthogonal wavelet the transform is orthogonal, so the adjoint is the
    analysis transform. Each product costs ``O(N)`` per level (``O(N)``
    overall, within the ``O(N log N)`` budget).

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``, both divisible by ``2**level``.
    wavelet : str, default "db4"
        An orthogonal PyWavelets wavelet.
    level : int, optional
        Decomposition depth (default: PyWavelets' maximum for the filter).

    Attributes
    ----------
    shape2d : tuple of int
        Image shape ``(rows, cols)``.
    level : int
    wavelet : str
    band_shapes : list of tuple
        Shape of the bands of each level, coarsest first (``band_shapes[0]``
        is the shape of ``cA_L``; ``band_shapes[j]`` of the three detail
        bands of level ``L - j + 1``).
    """

    def __init__(self, shape, wavelet="db4", level=None):
        import pywt

        owner = "wavelet_synthesis2d"
        rows, cols = check_shape2d(shape, owner)
        w = _check_orthogonal_wavelet(wavelet, owner)
        max_level = int(min(np.log2(rows & -rows), np.log2(cols & -cols)))
        if max_level < 1:
            raise ParameterError(f"The 'shape' parameter of {owner} must have even sides. Got {shape!r}.")
        if level is None:
            level = max(1, min(max_level, min(pywt.dwt_max_level(rows, w.dec_len), pywt.dwt_max_level(cols, w.dec_len))))
        level = check_int(level, "level", low=1, high=max_level, owner=owner)
        self.shape2d, self.wavelet, self.level = (rows, cols), w.name, level
        self.n = rows * cols
        self.band_shapes = [(rows >> level, cols >> level)] + [(rows >> (level - j), cols >> (level - j))
                                                                for j in range(level)]
        sizes = [self.band_shapes[0][0] * self.band_shapes[0][1]]
        for r, c in self.band_shapes[1:]:
            sizes += [r * c] * 3
        self.band_sizes = sizes
        self._splits = np.cumsum(sizes)[:-1]
        super().__init__(dtype=np.float64, shape=(self.n, self.n))

    def coefficients(self, c):
        """Split a coefficient vector into PyWavelets' ``wavedec2`` list.

        A 2-D ``c`` holds one coefficient vector per *row*; the bands then
        have a leading batch axis.
        """
        c = np.asarray(c, dtype=np.float64)
        lead = c.shape[:-1]
        parts = np.split(c, self._splits, axis=-1)
        out = [parts[0].reshape(lead + self.band_shapes[0])]
        for j, shp in enumerate(self.band_shapes[1:]):
            out.append(tuple(parts[1 + 3 * j + b].reshape(lead + shp) for b in range(3)))
        return out

    def _synth(self, C):
        """Columns of ``C`` (coefficient vectors) -> columns of flattened images, batched in one call."""
        import pywt

        C = np.asarray(C, dtype=np.float64)
        rows = np.ascontiguousarray(C.T)  # one coefficient vector per row: contiguous images for PyWavelets
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            img = pywt.waverec2(self.coefficients(rows), self.wavelet, mode="periodization", axes=(-2, -1))
        return img.reshape(rows.shape[:-1] + (self.n,)).T

    def _analyze(self, X):
        import pywt

        X = np.asarray(X, dtype=np.float64)
        rows = np.ascontiguousarray(X.T)
        lead = rows.shape[:-1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            coeffs = pywt.wavedec2(rows.reshape(lead + self.shape2d), self.wavelet, mode="periodization",
                                   level=self.level, axes=(-2, -1))
        parts = [coeffs[0].reshape(lead + (-1,))]
        for det in coeffs[1:]:
            parts.extend(d.reshape(lead + (-1,)) for d in det)
        return np.concatenate(parts, axis=-1).T

    def _matvec(self, c):
        return self._synth(_real_input(c, "c", "WaveletSynthesis2D").reshape(-1))

    def _rmatvec(self, x):
        return self._analyze(_real_input(x, "x", "WaveletSynthesis2D").reshape(-1))

    def _matmat(self, C):
        return self._synth(_real_input(C, "c", "WaveletSynthesis2D"))

    def _rmatmat(self, X):
        return self._analyze(_real_input(X, "x", "WaveletSynthesis2D"))

    def _adjoint(self):
        return _AdjointOf(self)

    def analysis(self, image):
        """Coefficient vector of an image (2-D array or its row-major flattening)."""
        return self._analyze(np.asarray(image, dtype=np.float64).reshape(-1))

    def image(self, c):
        """The image (2-D) with coefficients ``c``."""
        return self._synth(np.asarray(c, dtype=np.float64).reshape(-1)).reshape(self.shape2d)

    def band_slices(self):
        """Slice of every band in the coefficient vector: ``cA_L`` first, then H, V, D of each level, coarsest first."""
        ends = np.cumsum(self.band_sizes)
        return [slice(int(e - n), int(e)) for e, n in zip(ends, self.band_sizes)]

    def __repr__(self):
        return (f"<{self.n}x{self.n} 2-D wavelet synthesis ({self.wavelet}, level {self.level}, "
                f"image {self.shape2d[0]}x{self.shape2d[1]})>")


def wavelet_synthesis2d(shape, wavelet="db4", level=None):
    """Orthogonal 2-D wavelet synthesis operator (coefficient vector -> flattened image) through PyWavelets.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``; both divisible by ``2**level``.
    wavelet : str
        An orthogonal wavelet (``'haar'``, ``'db2'``, ``'db4'``...).
    level : int, optional
        Decomposition depth (default: PyWavelets' maximum useful level).

    Returns
    -------
    WaveletSynthesis2D
        Square ``LinearOperator``; images are flattened row-major.
    """
    return WaveletSynthesis2D(shape, wavelet, level)


def dottest(op, rng=None, n_trials=3, rtol=1e-10):
    """Check ``<A x, y> == <x, A^T y>`` for random ``x``, ``y``.

    Parameters
    ----------
    op : LinearOperator, ndarray or sparse matrix
    rng : int, Generator or None
    n_trials : int
    rtol : float
        Allowed relative mismatch.

    Returns
    -------
    float
        The largest relative mismatch seen.

    Raises
    ------
    AssertionError
        When the mismatch exceeds ``rtol``.
    """
    rng = check_rng(rng)
    n_trials = check_int(n_trials, "n_trials", low=1, owner="dottest")
    rtol = check_scalar(rtol, "rtol", low=0, low_inclusive=False, owner="dottest")
    A = check_adjoint(aslinearoperator(op), "op", owner="dottest")
    m, n = A.shape
    worst = 0.0
    for _ in range(n_trials):
        x = rng.standard_normal(n)
        y = rng.standard_normal(m)
        Ax = np.asarray(A.matvec(x)).reshape(-1)
        ATy = np.asarray(A.rmatvec(y)).reshape(-1)
        if Ax.shape != (m,) or ATy.shape != (n,):
            raise AssertionError(f"Operator products have shapes {Ax.shape}, {ATy.shape}; expected ({m},), ({n},).")
        lhs, rhs = float(Ax @ y), float(x @ ATy)
        err = abs(lhs - rhs) / max(abs(lhs), abs(rhs), np.linalg.norm(Ax) * np.linalg.norm(y), 1e-300)
        # the same on blocks of vectors, which go through matmat / rmatmat
        X = rng.standard_normal((n, 2))
        Y = rng.standard_normal((m, 2))
        AX = np.asarray(A.matmat(X))
        ATY = np.asarray(A.rmatmat(Y)) if hasattr(A, "rmatmat") else np.asarray(A.H.matmat(Y))
        lhs2, rhs2 = float(np.sum(AX * Y)), float(np.sum(X * ATY))
        err2 = abs(lhs2 - rhs2) / max(abs(lhs2), np.linalg.norm(AX) * np.linalg.norm(Y), 1e-300)
        worst = max(worst, err, err2)
    if worst > rtol:
        raise AssertionError(f"Dot-test failed: relative mismatch {worst:.3e} > {rtol:g}.")
    return worst


def columns(A, idx):
    """Dense columns ``A[:, idx]`` of a matrix, sparse matrix or LinearOperator.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (m, n)
        The matrix. A :class:`DenseOperator` is read through its ``matrix``,
        an operator with its own ``columns(idx)`` method (the partial DCT and
        Fourier operators) through it; any other LinearOperator is applied
        once to the unit vectors of the requested columns.
    idx : array_like of int, shape (k,)
        Column indices, in the order wanted.

    Returns
    -------
    ndarray, shape (m, k)
        A new array holding the columns (``A`` is not modified).
    """
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size and (idx.min() < -A.shape[1] or idx.max() >= A.shape[1]):
        raise ShapeError(f"The 'idx' parameter of columns holds indices outside [0, {A.shape[1]}). "
                         f"Got {int(idx.min())}..{int(idx.max())}.")
    if isinstance(A, np.ndarray):
        return A[:, idx]
    if isinstance(A, DenseOperator):
        return A.matrix[:, idx]
    if sp.issparse(A):
        return A.tocsc()[:, idx].toarray()
    n = A.shape[1]
    own = getattr(A, "columns", None)
    if callable(own):  # a closed form (partial transforms): O(m) a column instead of a product
        return np.asarray(own(np.where(idx < 0, idx + n, idx)), dtype=np.float64)
    E = np.zeros((n, idx.size))
    E[idx, np.arange(idx.size)] = 1.0
    return np.asarray(A.matmat(E))


def as_matrix(A):
    """A dense ``ndarray`` equal to ``A`` (matrices returned as they are).

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (m, n)
        An ndarray is returned itself (not copied) and a
        :class:`DenseOperator` gives its read-only ``matrix``; do not write
        into the result. A sparse matrix is densified and any other
        LinearOperator is applied to the ``n x n`` identity.

    Returns
    -------
    ndarray, shape (m, n)

    Raises
    ------
    ShapeError
        When ``A`` is none of the accepted types.
    """
    if isinstance(A, np.ndarray):
        return A
    if isinstance(A, DenseOperator):
        return A.matrix
    if sp.issparse(A):
        return A.toarray()
    if isinstance(A, LinearOperator):
        return np.asarray(A.matmat(np.eye(A.shape[1])))
    raise TypeError(f"The 'A' parameter must be an array, a sparse matrix or a LinearOperator. Got {type(A).__name__}.")
