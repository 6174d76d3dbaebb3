"""Real test data that ships with PyWavelets: 1-D signals and 2-D images, for examples and the command line.

Signals (length ``n``, default 1024): ``"ecg"`` (PyWavelets' 1024-sample
electrocardiogram, ``pywt.data.ecg``) and the Donoho-Johnstone test signals
``"heavisine"``, ``"doppler"``, ``"blocks"``, ``"bumps"``,
``"piece-regular"`` (``pywt.data.demo_signal``). Images: ``"camera"`` and
``"ascent"`` (512 x 512, ``pywt.data.camera`` / ``pywt.data.ascent``),
reduced to ``size x size`` by averaging ``512 / size`` square blocks of
pixels, and scaled to ``[0, 1]`` (pixel value / 255).
"""

import numpy as np

from .._validation import check_choice, check_int
from ..exceptions import ParameterError

__all__ = ["SIGNALS", "IMAGES", "load_signal", "load_image"]

SIGNALS = ("ecg", "heavisine", "doppler", "blocks", "bumps", "piece-regular")
IMAGES = ("camera", "ascent")
_DEMO_NAMES = {"heavisine": "HeaviSine", "doppler": "Doppler", "blocks": "Blocks", "bumps": "Bumps",
               "piece-regular": "Piece-Regular"}


def load_signal(name, n=1024):
    """A real 1-D test signal from PyWavelets.

    Parameters
    ----------
    name : str
        One of :data:`SIGNALS`.
    n : int, default 1024
        Length. The ECG has 1024 samples: other lengths are not available
        for it. The Donoho-Johnstone signals are sampled at ``n`` points.

    Returns
    -------
    ndarray, shape (n,)
        A new float64 array.
    """
    import pywt

    owner = "load_signal"
    name = check_choice(str(name).lower(), "name", SIGNALS, owner=owner)
    n = check_int(n, "n", low=8, owner=owner)
    if name == "ecg":
        x = np.asarray(pywt.data.ecg(), dtype=np.float64)
        if n != x.size:
            raise ParameterError(f"The 'n' parameter of {owner}: the ECG has {x.size} samples. Got n={n}.")
        return x.copy()
    return np.asarray(pywt.data.demo_signal(_DEMO_NAMES[name], n), dtype=np.float64)


def load_image(name, size=128):
    """A real test image from PyWavelets, ``size x size``, values in ``[0, 1]``.

    Parameters
    ----------
    name : str
        ``"camera"`` or ``"ascent"``.
    size : int, default 128
        Side of the result; must divide 512. The 512 x 512 original is
        reduced by averaging ``(512 / size)^2`` blocks of pixels.

    Returns
    -------
    ndarray, shape (size, size)
        A new float64 array.
    """
    import pywt

    owner = "load_image"
    name = check_choice(str(name).lower(), "name", IMAGES, owner=owner)
    size = check_int(size, "size", low=8, high=512, owner=owner)
    if 512 % size:
        raise ParameterError(f"The 'size' parameter of {owner} must divide 512 (8, 16, ..., 512). Got {size}.")
    img = np.asarray(pywt.data.camera() if name == "camera" else pywt.data.ascent(), dtype=np.float64) / 255.0
    f = 512 // size
    return img.reshape(size, f, size, f).mean(axis=(1, 3))
