"""augment_images: numpy shifts and rotations."""

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ShapeError


def _shifted(img, di, dj):
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    out[max(0, di):h + min(0, di), max(0, dj):w + min(0, dj)] = img[max(0, -di):h - max(0, di),
                                                                    max(0, -dj):w - max(0, dj)]
    return out


def test_identity_and_shifts():
    X = np.random.default_rng(0).random((6, 8, 8, 2)).astype(np.float32)
    X0 = X.copy()
    np.testing.assert_array_equal(nn.augment_images(X, rng=0, max_shift=0, max_angle=0), X)
    A = nn.augment_images(X, rng=1, max_shift=1, max_angle=0)
    for k in range(len(X)):
        assert any(np.allclose(A[k], _shifted(X[k], di, dj)) for di in (-1, 0, 1) for dj in (-1, 0, 1))
    np.testing.assert_array_equal(X, X0)  # the caller's batch is untouched
    assert A.dtype == X.dtype


def test_rotation_keeps_radial_images_and_moves_others():
    ii, jj = np.meshgrid(np.arange(9) - 4.0, np.arange(9) - 4.0, indexing="ij")
    blob = np.exp(-(ii ** 2 + jj ** 2) / 4.0)[None, :, :, None]
    rot = nn.augment_images(blob, rng=0, max_shift=0, max_angle=30)
    np.testing.assert_allclose(rot, blob, atol=0.03)  # bilinear interpolation of a radial image
    bar = np.zeros((1, 9, 9, 1))
    bar[0, 4, :, 0] = 1.0
    turned = nn.augment_images(np.repeat(bar, 8, axis=0), rng=3, max_shift=0, max_angle=45)
    assert np.abs(turned - bar).max() > 0.3  # a horizontal bar does move
    with pytest.raises(ShapeError, match="X"):
        nn.augment_images(np.zeros((3, 8, 8)))
