"""Compressive sensing of real signals and images (the data of :mod:`structsparse.cs.data`).

:func:`make_problem` measures a real signal or image and returns the
operator on its wavelet coefficients, so every recovery method of
:func:`~structsparse.cs.recover` applies with a :class:`TreeSparse` (1-D)
or :class:`TreeSparse2D` (images) model. The signal is the synthesis of
its orthogonal wavelet coefficients (periodized), so nothing is lost.

Sampling. 1-D: ``"gaussian"``, ``"bernoulli"`` or ``"dct"`` (random rows of
the DCT) of the signal. Images: ``"fourier"`` (variable-density random
frequencies), ``"radial"``, ``"cartesian"`` (real-valued
:func:`~structsparse.cs.partial_fourier`), ``"dct"``
(:func:`~structsparse.cs.partial_dct2` with a variable-density mask) or
``"gaussian"``. Gaussian sampling of an image is drawn directly on the
wavelet coefficients: for ``Phi`` with i.i.d. ``N(0, 1/m)`` entries and
orthogonal ``W``, ``Phi W`` has the same distribution as ``Phi``, so
measuring ``x = W c`` with ``Phi = G W^T`` is Gaussian sensing of the
pixels without forming ``W`` as a matrix.

Noise: ``noise`` is relative: ``y = A c + e``, ``e ~ N(0, s^2 I)`` with
``s = noise * ||A c|| / sqrt(m)`` (``noise=0.01``: 1 % noise).
"""

from dataclasses import dataclass

import numpy as np

from .._validation import check_array, check_choice, check_int, check_rng, check_scalar
from ..exceptions import ParameterError
from .data import IMAGES, SIGNALS, load_image, load_signal
from .fourier import mask_cartesian, mask_radial, mask_variable_density, partial_dct2, partial_fourier
from .operators import DenseOperator, as_matrix, bernoulli, gaussian, partial_dct, wavelet_synthesis, wavelet_synthesis2d

__all__ = ["RealProblem", "make_problem", "SIGNAL_SAMPLINGS", "IMAGE_SAMPLINGS", "best_k_term_error",
           "best_tree_error"]

SIGNAL_SAMPLINGS = ("gaussian", "bernoulli", "dct")
IMAGE_SAMPLINGS = ("fourier", "radial", "cartesian", "dct", "gaussian")


@dataclass(frozen=True, repr=False)
class RealProblem:
    """A measured real signal or image.

    Attributes
    ----------
    name : str
        Data set name.
    shape : tuple of int
        ``(n,)`` for a signal, ``(rows, cols)`` for an image.
    A : ndarray or LinearOperator, shape (m, N)
        Operator on the wavelet coefficients (``Phi W``).
    y : ndarray, shape (m,)
        Measurements.
    coef : ndarray, shape (N,)
        True wavelet coefficients.
    synthesis : LinearOperator
        ``W``: coefficients -> flattened signal.
    sampling : str
        How it was measured.
    noise_std : float
        Standard deviation of the added noise per measurement (0 noiseless).
    """

    name: str
    shape: tuple
    A: object
    y: np.ndarray
    coef: np.ndarray
    synthesis: object
    sampling: str
    noise_std: float = 0.0

    @property
    def m(self):
        """Number of measurements."""
        return int(self.A.shape[0])

    @property
    def n(self):
        """Number of unknowns (samples or pixels)."""
        return int(self.A.shape[1])

    @property
    def is_image(self):
        """True for an image."""
        return len(self.shape) == 2

    def signal(self, coef):
        """The signal or image (in ``shape``) with wavelet coefficients ``coef``."""
        return np.asarray(self.synthesis.matvec(np.asarray(coef, dtype=np.float64))).reshape(self.shape)

    @property
    def truth(self):
        """The original signal or image."""
        return self.signal(self.coef)

    def backprojection(self):
        """``(m / N) Phi^T y``, in the signal domain: the minimum-norm fit for orthogonal-row operators.

        For the partial Fourier and DCT operators ``Phi Phi^T = (N / m) I``
        exactly, so this is the zero-filled reconstruction; for Gaussian
        sampling it holds on average.
        """
        rm = (lambda r: self.A.T @ r) if isinstance(self.A, np.ndarray) else self.A.rmatvec
        return self.signal(np.asarray(rm(self.y)) * (self.m / self.n))

    def __repr__(self):
        return (f"RealProblem(name={self.name!r}, shape={self.shape}, m={self.m}, sampling={self.sampling!r}, "
                f"noise_std={self.noise_std:.3g})")


def _radial_lines_for(shape, m):
    lo, hi = 1, 4 * max(shape)
    while lo < hi:  # fewest lines with at least m frequencies
        mid = (lo + hi) // 2
        if mask_radial(shape, mid).sum() >= m:
            hi = mid
        else:
            lo = mid + 1
    return mask_radial(shape, lo)


def make_problem(name, fraction=0.25, sampling=None, *, size=128, n=1024, wavelet="db4", level=None, noise=0.0,
                 rng=None):
    """Measure a real signal (:data:`~structsparse.cs.data.SIGNALS`) or image (:data:`~structsparse.cs.data.IMAGES`).

    Parameters
    ----------
    name : str
        ``"ecg"``, ``"heavisine"``, ``"doppler"``, ``"blocks"``,
        ``"bumps"``, ``"piece-regular"``, ``"camera"`` or ``"ascent"``.
    fraction : float, default 0.25
        ``M / N``. Radial masks take the fewest lines reaching it, Cartesian
        masks ``round(fraction * rows)`` lines: their ``m`` is close to,
        not exactly, ``fraction * N``.
    sampling : str, optional
        One of :data:`SIGNAL_SAMPLINGS` (default ``"gaussian"``) or
        :data:`IMAGE_SAMPLINGS` (default ``"fourier"``); see the module notes.
    size : int, default 128
        Image side (images only).
    n : int, default 1024
        Signal length (signals only).
    wavelet : str, default "db4"
        Orthogonal wavelet of the sparsifying transform.
    level : int, optional
        Decomposition depth (default: PyWavelets' maximum).
    noise : float, default 0.0
        Relative noise level (module notes).
    rng : int, Generator or None
        Seed or generator of the sampling and the noise.

    Returns
    -------
    RealProblem
    """
    owner = "make_problem"
    name = check_choice(str(name).lower(), "name", SIGNALS + IMAGES, owner=owner)
    fraction = check_scalar(fraction, "fraction", low=0, high=1, low_inclusive=False, owner=owner)
    noise = check_scalar(noise, "noise", low=0, owner=owner)
    rng = check_rng(rng)
    if name in IMAGES:
        sampling = check_choice(sampling or "fourier", "sampling", IMAGE_SAMPLINGS, owner=owner)
        img = load_image(name, size)
        shape = img.shape
        W = wavelet_synthesis2d(shape, wavelet, level)
        N = img.size
        m = max(1, int(round(fraction * N)))
        if sampling == "fourier":
            Phi = partial_fourier(shape, mask_variable_density(shape, m, rng=rng))
        elif sampling == "radial":
            Phi = partial_fourier(shape, _radial_lines_for(shape, m))
        elif sampling == "cartesian":
            lines = max(1, int(round(fraction * shape[0])))
            Phi = partial_fourier(shape, mask_cartesian(shape, lines, rng=rng))
        elif sampling == "dct":
            Phi = partial_dct2(shape, mask_variable_density(shape, m, rng=rng, layout="dct"))
        else:
            Phi = None
        coef = W.analysis(img)
        A = gaussian(m, N, rng) if Phi is None else Phi @ W
    else:
        sampling = check_choice(sampling or "gaussian", "sampling", SIGNAL_SAMPLINGS, owner=owner)
        x = load_signal(name, n)
        shape = x.shape
        N = x.size
        W = wavelet_synthesis(N, wavelet, level)
        m = max(1, int(round(fraction * N)))
        maker = {"gaussian": gaussian, "bernoulli": bernoulli, "dct": partial_dct}[sampling]
        Phi = maker(m, N, rng)
        coef = W.analysis(x)
        A = DenseOperator(as_matrix(Phi @ W), name=f"{sampling} @ wavelets")
    A = A.matrix if isinstance(A, DenseOperator) else A
    mv = (lambda v: A @ v) if isinstance(A, np.ndarray) else A.matvec
    y = np.asarray(mv(coef), dtype=np.float64)
    std = 0.0
    if noise > 0:
        std = noise * float(np.linalg.norm(y)) / np.sqrt(y.size)
        y = y + std * rng.standard_normal(y.size)
    if not np.all(np.isfinite(y)):
        raise ParameterError(f"{owner}: measurements are not finite.")
    return RealProblem(name=name, shape=tuple(shape), A=A, y=y, coef=coef, synthesis=W, sampling=sampling,
                       noise_std=std)


def best_k_term_error(coef, k):
    """``||c - c_k|| / ||c||`` with ``c_k`` the best ``k``-term approximation (``k`` largest entries).

    Parameters
    ----------
    coef : ndarray
        Coefficients.
    k : int
        Number of terms kept.

    Returns
    -------
    float
    """
    k = check_int(k, "k", low=0, owner="best_k_term_error")
    c2 = np.sort(check_array(coef, "coef", owner="best_k_term_error").ravel() ** 2)[::-1]
    return float(np.sqrt(max(c2[k:].sum(), 0.0) / max(c2.sum(), 1e-300)))


def best_tree_error(coef, model, k=None):
    """``||c - T_k(c)|| / ||c||`` with ``T_k`` the model's tree approximation (exact or CSSA, as the model says).

    Parameters
    ----------
    coef : ndarray
        Coefficients.
    model : TreeSparse or TreeSparse2D
        The tree model.
    k : int, optional
        Size (default: the model's ``k``).

    Returns
    -------
    float
    """
    coef = np.asarray(coef, dtype=np.float64)
    s = model.approx_support(coef, k)
    return float(np.sqrt(max(np.sum(coef ** 2) - np.sum(coef[s] ** 2), 0.0) / max(np.sum(coef ** 2), 1e-300)))
