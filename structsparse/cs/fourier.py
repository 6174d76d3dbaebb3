"""Fast image sensing operators: partial 2-D Fourier (real-valued), subsampled 2-D DCT, and their masks.

All operators are ``scipy.sparse.linalg.LinearOperator`` acting on images
flattened row-major, with exact adjoints (checked by :func:`dottest`), and
apply in ``O(N log N)`` through ``scipy.fft``. Like the other operators of
:mod:`structsparse.cs` they are scaled by ``sqrt(N / m)`` so that
``E ||A x||^2 = ||x||^2``; their rows are orthogonal, ``A A^T = (N / m) I``.
Both give dense columns ``A[:, idx]`` in closed form, ``O(m)`` a column
(their ``columns`` method, which working-set solvers use).

**Real-valued Fourier formulation.** A real image has a Hermitian
spectrum, ``X[-f] = conj(X[f])``, so a measured frequency ``f`` gives its
partner ``-f`` for free. :func:`partial_fourier` therefore measures the
*symmetrized* mask: each pair ``{f, -f}`` it contains contributes two real
numbers, ``sqrt(2) Re X[f]`` and ``sqrt(2) Im X[f]`` (``X`` the orthonormal
2-D DFT), and each self-conjugate frequency (``f = -f``: the DC term and the
Nyquist terms) one number, ``Re X[f]``. These are rows of the real
orthonormal Fourier basis, so nothing is measured twice and the number of
measurements ``m`` equals the number of ``True`` entries of the symmetrized
mask. Fourier masks are in the *centered* layout of ``numpy.fft.fftshift``
(zero frequency at ``(rows // 2, cols // 2)``); DCT masks in the natural
layout (DC at ``(0, 0)``).
"""

import numpy as np
import scipy.fft
from scipy.sparse.linalg import LinearOperator

from .._validation import check_choice, check_int, check_rng, check_scalar
from ..exceptions import ParameterError, ShapeError
from .operators import _AdjointOf, _CheckedOperator, _column_indices, _real_input, check_shape2d

__all__ = ["partial_fourier", "PartialFourier", "partial_dct2", "PartialDCT2", "mask_variable_density",
           "mask_radial", "mask_cartesian"]


def _check_mask(mask, shape, owner):
    try:
        mk = np.asarray(mask)
    except (TypeError, ValueError):
        raise ParameterError(f"The 'mask' parameter of {owner} must be a boolean array.") from None
    if mk.dtype != bool:
        raise ParameterError(f"The 'mask' parameter of {owner} must be a boolean array. Got dtype {mk.dtype}.")
    if mk.shape != tuple(shape):
        raise ShapeError(f"The 'mask' parameter of {owner} must have the image shape {tuple(shape)}. "
                         f"Got {mk.shape}.")
    if not mk.any():
        raise ParameterError(f"The 'mask' parameter of {owner} selects no frequency.")
    return mk


def _partner(shape):
    """Unshifted flat index of ``-f`` for every unshifted frequency ``f``."""
    rows, cols = shape
    u = (-np.arange(rows)) % rows
    v = (-np.arange(cols)) % cols
    return (u[:, None] * cols + v[None, :]).ravel()


def symmetrize(mask):
    """``mask`` (centered layout) or its mirror image through the zero frequency: the frequencies measured."""
    mask = np.asarray(mask, dtype=bool)
    un = np.fft.ifftshift(mask).ravel()
    sym = un | un[_partner(mask.shape)]
    return np.fft.fftshift(sym.reshape(mask.shape))


class PartialFourier(_CheckedOperator):
    """Real-valued partial 2-D Fourier operator (see the module notes); built by :func:`partial_fourier`.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``.
    mask : ndarray of bool, shape ``shape``
        Frequencies to measure, centered layout; it is symmetrized.

    Attributes
    ----------
    mask : ndarray of bool
        The symmetrized mask (centered layout), read-only.
    pairs, selfconj : ndarray of int
        Unshifted flat indices of one frequency of each measured pair, and
        of the measured self-conjugate frequencies.
    """

    def __init__(self, shape, mask):
        owner = "partial_fourier"
        self.shape2d = check_shape2d(shape, owner)
        mk = _check_mask(mask, self.shape2d, owner)
        self.mask = symmetrize(mk)
        self.mask.setflags(write=False)
        un = np.fft.ifftshift(self.mask).ravel()
        idx = np.flatnonzero(un)
        part = _partner(self.shape2d)[idx]
        self.selfconj = idx[part == idx]
        self.pairs = idx[part > idx]
        self.n = self.shape2d[0] * self.shape2d[1]
        m = 2 * self.pairs.size + self.selfconj.size
        self.scale = np.sqrt(self.n / m)
        super().__init__(dtype=np.float64, shape=(m, self.n))

    def _forward(self, X):
        k = X.shape[1]
        F = scipy.fft.fft2(X.reshape(self.shape2d + (k,)), axes=(0, 1), norm="ortho").reshape(self.n, k)
        P = F[self.pairs]
        out = np.concatenate([np.sqrt(2.0) * P.real, np.sqrt(2.0) * P.imag, F[self.selfconj].real], axis=0)
        return out * self.scale

    def _backward(self, Y):
        k = Y.shape[1]
        npair = self.pairs.size
        Z = np.zeros((self.n, k), dtype=np.complex128)
        Z[self.pairs] = np.sqrt(2.0) * (Y[:npair] - 1j * Y[npair:2 * npair])
        Z[self.selfconj] = Y[2 * npair:]
        out = scipy.fft.fft2(Z.reshape(self.shape2d + (k,)), axes=(0, 1), norm="ortho").real
        return out.reshape(self.n, k) * self.scale

    def _matvec(self, x):
        return self._forward(_real_input(x, "x", "PartialFourier").reshape(-1, 1)).reshape(-1)

    def _matmat(self, X):
        return self._forward(_real_input(X, "x", "PartialFourier"))

    def _rmatvec(self, y):
        return self._backward(_real_input(y, "y", "PartialFourier").reshape(-1, 1)).reshape(-1)

    def _rmatmat(self, Y):
        return self._backward(_real_input(Y, "y", "PartialFourier"))

    def _adjoint(self):
        return _AdjointOf(self)

    def columns(self, idx):
        """Dense columns ``A[:, idx]`` from their closed form, ``O(m)`` each instead of a transform.

        Pixel ``(a, b)`` (flat index ``a * cols + b``) sees frequency ``(u, v)``
        as ``exp(-2 pi i t / N) / sqrt(N)`` with ``t = ((u a mod rows) cols +
        (v b mod cols) rows) mod N``: the angle is reduced exactly in integers
        and read from tables of ``N`` cosines and sines, built on first use.
        The rows come in the operator's packing: ``sqrt(2)`` times the real
        and the imaginary parts at one frequency of each pair, then the real
        part at the self-conjugate frequencies, all times ``scale``. Solvers
        that need a few columns (working sets) use this capability when an
        operator offers it.

        Parameters
        ----------
        idx : array_like of int, shape (k,)
            Column indices (flat pixel indices) in ``[0, N)``.

        Returns
        -------
        ndarray, shape (m, k)
            float64, a new array.

        Raises
        ------
        ShapeError
            When ``idx`` is not a vector of integers in ``[0, N)``.
        """
        idx = _column_indices(idx, self.n, "PartialFourier")
        rows, cols = self.shape2d
        if getattr(self, "_cos_table", None) is None:
            angle = 2.0 * np.pi * np.arange(self.n) / self.n
            self._cos_table, self._sin_table = np.cos(angle), np.sin(angle)
            freq = np.concatenate([self.pairs, self.selfconj])
            self._freq_u, self._freq_v = freq // cols, freq % cols
        a, b = idx // cols, idx % cols
        turns = ((a[:, None] * self._freq_u) % rows * cols + (b[:, None] * self._freq_v) % cols * rows) % self.n
        npair = self.pairs.size
        unit = self.scale / np.sqrt(self.n)
        out = np.empty((idx.size, self.shape[0]))  # built column by column (contiguous in its transpose)
        pair_turns = turns[:, :npair]
        np.multiply(np.take(self._cos_table, pair_turns), np.sqrt(2.0) * unit, out=out[:, :npair])
        # exp(-i theta) = cos(theta) - i sin(theta): the imaginary part is minus the sine
        np.multiply(np.take(self._sin_table, pair_turns), -np.sqrt(2.0) * unit, out=out[:, npair:2 * npair])
        np.multiply(np.take(self._cos_table, turns[:, npair:]), unit, out=out[:, 2 * npair:])
        return out.T

    def __repr__(self):
        return (f"<{self.shape[0]}x{self.shape[1]} partial Fourier operator (image {self.shape2d[0]}x"
                f"{self.shape2d[1]}, {self.mask.sum()} frequencies)>")


def partial_fourier(shape, mask):
    """Real-valued partial 2-D Fourier measurements of an image, ``O(N log N)`` per product.

    The measurements are the real and imaginary parts (times ``sqrt(2)``)
    of the orthonormal 2-D DFT at one frequency of every pair ``{f, -f}`` of
    the symmetrized mask, and the real part at its self-conjugate
    frequencies: a subset of the rows of an orthonormal real matrix, scaled
    by ``sqrt(N / m)`` (module notes).

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``; images are flattened row-major.
    mask : ndarray of bool, shape ``shape``
        Frequencies to measure, in the centered (``fftshift``) layout. It is
        symmetrized (a frequency brings its mirror image), and the operator
        has as many rows as the symmetrized mask has ``True`` entries.

    Returns
    -------
    PartialFourier
        A matrix-free ``LinearOperator`` of shape ``(m, rows * cols)``.

    Examples
    --------
    >>> import numpy as np
    >>> from structsparse import cs
    >>> mask = cs.mask_radial((64, 64), 16)
    >>> A = cs.partial_fourier((64, 64), mask)
    >>> A.shape[1], bool(A.shape[0] == A.mask.sum())
    (4096, True)
    """
    return PartialFourier(shape, mask)


class PartialDCT2(_CheckedOperator):
    """Subsampled orthonormal 2-D DCT-II (``scipy.fft.dctn``); built by :func:`partial_dct2`.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``.
    mask : ndarray of bool, shape ``shape``
        DCT coefficients to measure (natural layout, DC at ``(0, 0)``).
    """

    def __init__(self, shape, mask):
        owner = "partial_dct2"
        self.shape2d = check_shape2d(shape, owner)
        self.mask = _check_mask(mask, self.shape2d, owner).copy()
        self.mask.setflags(write=False)
        self.rows = np.flatnonzero(self.mask.ravel())
        self.n = self.shape2d[0] * self.shape2d[1]
        self.scale = np.sqrt(self.n / self.rows.size)
        super().__init__(dtype=np.float64, shape=(self.rows.size, self.n))

    def _forward(self, X):
        k = X.shape[1]
        D = scipy.fft.dctn(X.reshape(self.shape2d + (k,)), type=2, axes=(0, 1), norm="ortho")
        return D.reshape(self.n, k)[self.rows] * self.scale

    def _backward(self, Y):
        k = Y.shape[1]
        full = np.zeros((self.n, k))
        full[self.rows] = Y * self.scale
        # the inverse of the orthonormal DCT-II is its transpose
        out = scipy.fft.idctn(full.reshape(self.shape2d + (k,)), type=2, axes=(0, 1), norm="ortho")
        return out.reshape(self.n, k)

    def _matvec(self, x):
        return self._forward(_real_input(x, "x", "PartialDCT2").reshape(-1, 1)).reshape(-1)

    def _matmat(self, X):
        return self._forward(_real_input(X, "x", "PartialDCT2"))

    def _rmatvec(self, y):
        return self._backward(_real_input(y, "y", "PartialDCT2").reshape(-1, 1)).reshape(-1)

    def _rmatmat(self, Y):
        return self._backward(_real_input(Y, "y", "PartialDCT2"))

    def _adjoint(self):
        return _AdjointOf(self)

    def columns(self, idx):
        """Dense columns ``A[:, idx]`` from their closed form, ``O(m)`` each instead of a transform.

        The column of pixel ``(a, b)`` is the outer product of two 1-D DCT-II
        basis vectors sampled at the mask: entry ``(r, s)`` is ``scale
        c_r cos(pi r (2 a + 1) / (2 rows)) c_s cos(pi s (2 b + 1) / (2 cols))``
        (``c_0 = sqrt(1 / size)``, else ``sqrt(2 / size)``). The angles are
        reduced exactly in integers and read from tables of ``4 rows`` and
        ``4 cols`` cosines, built on first use. Solvers that need a few
        columns (working sets) use this capability when an operator offers it.

        Parameters
        ----------
        idx : array_like of int, shape (k,)
            Column indices (flat pixel indices) in ``[0, N)``.

        Returns
        -------
        ndarray, shape (m, k)
            float64, a new array.

        Raises
        ------
        ShapeError
            When ``idx`` is not a vector of integers in ``[0, N)``.
        """
        idx = _column_indices(idx, self.n, "PartialDCT2")
        rows, cols = self.shape2d
        if getattr(self, "_row_table", None) is None:
            self._row_table = np.cos(np.pi * np.arange(4 * rows) / (2 * rows))
            self._col_table = np.cos(np.pi * np.arange(4 * cols) / (2 * cols))
            self._freq_r, self._freq_s = self.rows // cols, self.rows % cols
            weight_r = np.where(self._freq_r == 0, np.sqrt(1.0 / rows), np.sqrt(2.0 / rows))
            weight_s = np.where(self._freq_s == 0, np.sqrt(1.0 / cols), np.sqrt(2.0 / cols))
            self._weight = self.scale * weight_r * weight_s
        a, b = idx // cols, idx % cols
        out = np.take(self._row_table, ((2 * a[:, None] + 1) * self._freq_r) % (4 * rows))
        out *= np.take(self._col_table, ((2 * b[:, None] + 1) * self._freq_s) % (4 * cols))
        out *= self._weight
        return out.T  # built column by column (contiguous in its transpose)

    def __repr__(self):
        return f"<{self.shape[0]}x{self.shape[1]} subsampled 2-D DCT operator>"


def partial_dct2(shape, mask):
    """Subsampled orthonormal 2-D DCT of an image, scaled by ``sqrt(N / m)``, ``O(N log N)`` per product.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``; images are flattened row-major.
    mask : ndarray of bool, shape ``shape``
        DCT coefficients to keep, natural layout (DC at ``(0, 0)``); for
        example ``mask_variable_density(shape, m, layout="dct")``.

    Returns
    -------
    PartialDCT2
        A matrix-free ``LinearOperator`` of shape ``(mask.sum(), rows * cols)``.
    """
    return PartialDCT2(shape, mask)


# ---------------------------------------------------------------------------- masks

def _frequency_grid(shape, layout):
    """Normalized frequency radius of every entry of a mask (0 at DC, about 1 at the Nyquist edge)."""
    rows, cols = shape
    if layout == "fourier":
        fy = (np.arange(rows) - rows // 2) / max(rows / 2, 1)
        fx = (np.arange(cols) - cols // 2) / max(cols / 2, 1)
    else:
        fy = np.arange(rows) / rows
        fx = np.arange(cols) / cols
    return np.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)


def mask_variable_density(shape, m, rng=None, *, decay=2.0, center_fraction=0.1, layout="fourier"):
    """Variable-density random sampling mask with ``m`` measurements.

    The lowest frequencies that make up ``center_fraction * m``
    measurements are always taken; the rest are drawn without replacement
    with probability proportional to ``(1 + r / 0.05)^-decay``, ``r`` the
    normalized frequency radius (the usual polynomial density of
    compressed-sensing MRI, Lustig, Donoho and Pauly 2007).

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``.
    m : int
        Number of measurements. For ``layout="fourier"`` the mask is
        symmetric (``f`` and ``-f`` together) and its ``True`` count, the
        number of rows of :func:`partial_fourier`, is ``m`` (or ``m - 1``
        when only a pair would fit).
    rng : int, Generator or None
        Seed or generator of the random draw.
    decay : float, default 2.0
        Exponent of the density (0 gives uniform sampling outside the center).
    center_fraction : float, default 0.1
        Share of ``m`` spent on the fully sampled lowest frequencies.
    layout : {"fourier", "dct"}, default "fourier"
        ``"fourier"``: centered layout with DC at ``(rows // 2, cols // 2)``;
        ``"dct"``: DC at ``(0, 0)`` (for :func:`partial_dct2`).

    Returns
    -------
    ndarray of bool, shape ``shape``
    """
    owner = "mask_variable_density"
    shape = check_shape2d(shape, owner)
    n = shape[0] * shape[1]
    m = check_int(m, "m", low=1, high=n, owner=owner)
    rng = check_rng(rng)
    decay = check_scalar(decay, "decay", low=0, owner=owner)
    center_fraction = check_scalar(center_fraction, "center_fraction", low=0, high=1, owner=owner)
    layout = check_choice(layout, "layout", ("fourier", "dct"), owner=owner)
    radius = _frequency_grid(shape, layout).ravel()
    if layout == "fourier":
        # classes {f, -f} in the centered layout: map to unshifted indices and back
        shifted = np.fft.ifftshift(np.arange(n).reshape(shape)).ravel()  # unshifted position -> centered index
        part_un = _partner(shape)
        rep_un = np.minimum(np.arange(n), part_un)
        reps = np.unique(rep_un)
        sizes = np.where(part_un[reps] == reps, 1, 2)
        members = [np.unique(shifted[[r, part_un[r]]]) for r in reps]
        r_cls = radius[shifted[reps]]
    else:
        reps = np.arange(n)
        sizes = np.ones(n, dtype=np.int64)
        members = None
        r_cls = radius
    # fully sampled center, then weighted draws (Efraimidis-Spirakis keys)
    order_center = np.argsort(r_cls, kind="stable")
    csize = np.cumsum(sizes[order_center])
    n_center = int(np.searchsorted(csize, center_fraction * m, side="right"))
    center = order_center[:n_center]
    weights = (1.0 + r_cls / 0.05) ** (-decay)
    keys = np.log(rng.random(reps.size)) / weights
    keys[center] = np.inf
    order = np.argsort(-keys, kind="stable")
    total = np.cumsum(sizes[order])
    take = order[:int(np.searchsorted(total, m, side="right"))]
    count = int(sizes[take].sum())
    if count < m:  # one short: add the best remaining single-frequency class, if any
        rest = order[take.size:]
        single = rest[sizes[rest] == 1]
        if single.size:
            take = np.r_[take, single[0]]
    mask = np.zeros(n, dtype=bool)
    if members is None:
        mask[reps[take]] = True
    else:
        mask[np.concatenate([members[i] for i in take])] = True
    return mask.reshape(shape)


def mask_radial(shape, n_lines, *, golden=False):
    """Radial sampling mask: ``n_lines`` lines through the zero frequency (centered layout).

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``.
    n_lines : int
        Number of lines (spokes through the center, each covering both
        directions), at angles ``pi * j / n_lines`` (or golden-angle
        increments with ``golden=True``).
    golden : bool, default False
        Use the golden angle (111.25 degrees) between successive lines.

    Returns
    -------
    ndarray of bool, shape ``shape``
        Symmetric through the zero frequency.
    """
    owner = "mask_radial"
    rows, cols = check_shape2d(shape, owner)
    n_lines = check_int(n_lines, "n_lines", low=1, owner=owner)
    cy, cx = rows // 2, cols // 2
    if golden:
        angles = np.mod(np.arange(n_lines) * np.pi * (np.sqrt(5) - 1) / 2, np.pi)
    else:
        angles = np.pi * np.arange(n_lines) / n_lines
    t = np.arange(-max(rows, cols), max(rows, cols) + 0.5, 0.5)
    mask = np.zeros((rows, cols), dtype=bool)
    for a in angles:
        iy = np.rint(cy + t * np.sin(a)).astype(np.int64)
        ix = np.rint(cx + t * np.cos(a)).astype(np.int64)
        ok = (iy >= 0) & (iy < rows) & (ix >= 0) & (ix < cols)
        mask[iy[ok], ix[ok]] = True
    return symmetrize(mask)


def mask_cartesian(shape, n_lines, rng=None, *, center_lines=None, decay=1.0):
    """Cartesian sampling mask: ``n_lines`` full rows of k-space (phase-encoding lines), centered layout.

    Rows are drawn in pairs ``{f, -f}`` so that the mask is symmetric (the
    operator measures each pair once, see :func:`partial_fourier`): the
    pairs nearest the zero frequency holding ``center_lines`` rows are
    always taken, the others are drawn without replacement with
    probability proportional to ``(1 + |f_y| / 0.05)^-decay``. The mask has
    ``n_lines`` rows, or ``n_lines - 1`` when only a pair would fit.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``.
    n_lines : int
        Number of rows sampled (``1 <= n_lines <= rows``).
    rng : int, Generator or None
        Seed or generator of the random rows.
    center_lines : int, optional
        Fully sampled central rows (default: ``max(1, n_lines // 4)``).
    decay : float, default 1.0
        Exponent of the density over rows.

    Returns
    -------
    ndarray of bool, shape ``shape``
    """
    owner = "mask_cartesian"
    rows, cols = check_shape2d(shape, owner)
    n_lines = check_int(n_lines, "n_lines", low=1, high=rows, owner=owner)
    rng = check_rng(rng)
    if center_lines is None:
        center_lines = max(1, n_lines // 4)
    center_lines = check_int(center_lines, "center_lines", low=0, high=n_lines, owner=owner)
    decay = check_scalar(decay, "decay", low=0, owner=owner)
    c = rows // 2
    # rows come in pairs {f, -f} (centered index i <-> 2c - i mod rows) so that the mask is symmetric
    partner = (2 * c - np.arange(rows)) % rows
    reps = np.flatnonzero(np.arange(rows) <= partner)
    sizes = np.where(partner[reps] == reps, 1, 2)
    fy = np.abs(reps - c) / max(rows / 2, 1)
    order_c = np.argsort(fy, kind="stable")
    n_center = int(np.searchsorted(np.cumsum(sizes[order_c]), center_lines, side="right"))
    keys = np.log(rng.random(reps.size)) / (1.0 + fy / 0.05) ** (-decay)
    keys[order_c[:n_center]] = np.inf
    order = np.argsort(-keys, kind="stable")
    take = order[:int(np.searchsorted(np.cumsum(sizes[order]), n_lines, side="right"))]
    if sizes[take].sum() < n_lines:
        rest = order[take.size:]
        single = rest[sizes[rest] == 1]
        if single.size:
            take = np.r_[take, single[0]]
    chosen = np.unique(np.r_[reps[take], partner[reps[take]]])
    mask = np.zeros((rows, cols), dtype=bool)
    mask[chosen] = True
    return mask
