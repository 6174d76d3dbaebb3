"""Image quality: PSNR and SSIM (Wang, Bovik, Sheikh, Simoncelli 2004), our own implementation.

SSIM follows the paper: local means, variances and covariance under an
``11 x 11`` circular-symmetric Gaussian window (``sigma = 1.5``, truncated
at ``3.5 sigma``), ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2`` with ``L`` the
data range, and the mean of the SSIM map over the pixels whose window lies
inside the image (no padding). Local variances are the Gaussian-weighted
(biased) ones of the paper.
"""

import numpy as np

from .._validation import check_array, check_scalar
from ..exceptions import ShapeError

__all__ = ["psnr", "ssim", "ssim_map"]


def _pair(reference, image, owner):
    ref = check_array(reference, "reference", ndim=2, owner=owner)
    img = check_array(image, "image", ndim=2, owner=owner)
    if ref.shape != img.shape:
        raise ShapeError(f"The 'image' parameter of {owner} must have the shape of 'reference' {ref.shape}. "
                         f"Got {img.shape}.")
    return ref, img


def _range(ref, data_range, owner):
    if data_range is None:
        span = float(ref.max() - ref.min())
        return span if span > 0 else 1.0
    return check_scalar(data_range, "data_range", low=0, low_inclusive=False, owner=owner)


def psnr(reference, image, data_range=None):
    """Peak signal-to-noise ratio ``10 log10(L^2 / MSE)`` in dB.

    Parameters
    ----------
    reference : ndarray, shape (rows, cols)
        The true image.
    image : ndarray, shape (rows, cols)
        The estimate.
    data_range : float, optional
        ``L``; default: ``reference.max() - reference.min()``.

    Returns
    -------
    float
        ``inf`` when the images are equal.
    """
    owner = "psnr"
    ref, img = _pair(reference, image, owner)
    L = _range(ref, data_range, owner)
    mse = float(np.mean((ref - img) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(L * L / mse))


def _gauss_filter(x, sigma, truncate):
    from scipy.ndimage import correlate1d

    r = int(truncate * sigma + 0.5)
    t = np.arange(-r, r + 1)
    w = np.exp(-0.5 * (t / sigma) ** 2)
    w /= w.sum()
    out = correlate1d(x, w, axis=0, mode="constant")
    out = correlate1d(out, w, axis=1, mode="constant")
    return out[r:x.shape[0] - r, r:x.shape[1] - r]  # "valid": windows inside the image only


def ssim_map(reference, image, data_range=None, sigma=1.5, truncate=3.5):
    """Local SSIM at every pixel whose Gaussian window lies inside the image.

    Parameters
    ----------
    reference, image : ndarray, shape (rows, cols)
        The true image and the estimate (at least ``2 r + 1`` pixels on each
        side, ``r = int(truncate * sigma + 0.5)``, 11 by default).
    data_range : float, optional
        ``L``; default: ``reference.max() - reference.min()``.
    sigma : float, default 1.5
        Standard deviation of the Gaussian window.
    truncate : float, default 3.5
        Window radius in units of ``sigma``.

    Returns
    -------
    ndarray, shape (rows - 2 r, cols - 2 r)
    """
    owner = "ssim"
    ref, img = _pair(reference, image, owner)
    L = _range(ref, data_range, owner)
    sigma = check_scalar(sigma, "sigma", low=0, low_inclusive=False, owner=owner)
    r = int(truncate * sigma + 0.5)
    if min(ref.shape) < 2 * r + 1:
        raise ShapeError(f"The 'reference' parameter of {owner} must be at least {2 * r + 1} pixels on each side "
                         f"for the Gaussian window. Got {ref.shape}.")
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    mx, my = _gauss_filter(ref, sigma, truncate), _gauss_filter(img, sigma, truncate)
    sxx = _gauss_filter(ref * ref, sigma, truncate) - mx * mx
    syy = _gauss_filter(img * img, sigma, truncate) - my * my
    sxy = _gauss_filter(ref * img, sigma, truncate) - mx * my
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))


def ssim(reference, image, data_range=None, sigma=1.5, truncate=3.5):
    """Structural similarity index (mean SSIM) of Wang et al. (2004); 1 for identical images.

    Parameters
    ----------
    reference : ndarray, shape (rows, cols)
        The true image.
    image : ndarray, shape (rows, cols)
        The estimate.
    data_range : float, optional
        ``L``; default: ``reference.max() - reference.min()``.
    sigma : float, default 1.5
        Standard deviation of the Gaussian window.
    truncate : float, default 3.5
        Window radius in units of ``sigma`` (3.5 gives the paper's 11 x 11 window).

    Returns
    -------
    float
    """
    return float(np.mean(ssim_map(reference, image, data_range, sigma, truncate)))
