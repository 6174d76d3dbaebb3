"""Fast image operators: partial Fourier (real-valued), subsampled 2-D DCT, 2-D wavelets; sampling masks."""

import numpy as np
import pytest

from structsparse import cs
from structsparse.exceptions import ParameterError, ShapeError


@pytest.mark.parametrize("shape", [(8, 8), (7, 9), (16, 10)])
def test_partial_fourier_measures_the_real_orthonormal_fourier_basis(shape):
    rng = np.random.default_rng(0)
    mask = rng.random(shape) < 0.3
    A = cs.partial_fourier(shape, mask)
    n = shape[0] * shape[1]
    cs.dottest(A, rng=1)
    M = cs.as_matrix(A)
    # rows orthogonal with the sqrt(N/m) scale: A A^T = (N/m) I
    assert np.allclose(M @ M.T, n / A.shape[0] * np.eye(A.shape[0]), atol=1e-12)
    # m = True entries of the symmetrized mask, which holds the mask
    assert A.shape[0] == A.mask.sum() and np.all(A.mask[mask])
    # the measurements are the DFT values at the mask, up to the real-valued packing: any measured frequency's
    # |X|^2 is recovered from its two real numbers, and the total energy matches
    img = rng.standard_normal(shape)
    y = A @ img.ravel() / A.scale
    X = np.fft.fftshift(np.fft.fft2(img, norm="ortho"))
    assert np.isclose(np.sum(y ** 2), np.sum(np.abs(X[A.mask]) ** 2))
    npair = A.pairs.size
    un = np.fft.fft2(img, norm="ortho").ravel()
    assert np.allclose(y[:npair], np.sqrt(2) * un[A.pairs].real)
    assert np.allclose(y[npair:2 * npair], np.sqrt(2) * un[A.pairs].imag)
    assert np.allclose(y[2 * npair:], un[A.selfconj].real)


def test_partial_dct2_is_the_subsampled_orthonormal_dct():
    import scipy.fft

    shape = (12, 8)
    mask = cs.mask_variable_density(shape, 30, rng=0, layout="dct")
    assert mask.sum() == 30 and mask[0, 0]
    A = cs.partial_dct2(shape, mask)
    cs.dottest(A, rng=0)
    img = np.random.default_rng(1).standard_normal(shape)
    assert np.allclose(A @ img.ravel(), scipy.fft.dctn(img, norm="ortho")[mask] * np.sqrt(96 / 30))
    M = cs.as_matrix(A)
    assert np.allclose(M @ M.T, 96 / 30 * np.eye(30))


def test_wavelet_synthesis2d_is_orthogonal():
    W = cs.wavelet_synthesis2d((32, 16), "db2")
    cs.dottest(W, rng=0)
    M = cs.as_matrix(W)
    assert np.allclose(M.T @ M, np.eye(512), atol=1e-12)
    # composed with a sensing operator it still passes the dot-test (coefficients -> measurements)
    A = cs.partial_fourier((32, 16), cs.mask_radial((32, 16), 6)) @ W
    cs.dottest(A, rng=1)


@pytest.mark.parametrize("shape,m", [((64, 64), 1000), ((33, 48), 400), ((16, 16), 255)])
def test_variable_density_mask(shape, m):
    mask = cs.mask_variable_density(shape, m, rng=3)
    assert mask.sum() in (m, m - 1)
    assert np.array_equal(mask, cs.fourier.symmetrize(mask))  # symmetric: the operator has exactly sum rows
    assert cs.partial_fourier(shape, mask).shape[0] == mask.sum()
    assert mask[shape[0] // 2, shape[1] // 2]  # zero frequency always measured
    # density decays: the central quarter is sampled more densely than the outside
    r0, c0 = shape[0] // 4, shape[1] // 4
    inner = mask[r0:-r0, c0:-c0].mean()
    assert inner > 2 * mask.mean() or mask.mean() > 0.9


def test_radial_and_cartesian_masks():
    mask = cs.mask_radial((64, 64), 8)
    assert mask[32, :].all() and mask[:, 32].all()  # angles 0 and 90 degrees: full center row and column
    assert np.array_equal(mask, cs.fourier.symmetrize(mask))
    assert mask.sum() < 8 * 2 * 64 and mask.sum() > 8 * 64
    more = cs.mask_radial((64, 64), 32, golden=True)
    assert more.sum() > mask.sum()
    cart = cs.mask_cartesian((64, 32), 16, rng=0, center_lines=6)
    rows = np.flatnonzero(cart.any(axis=1))
    assert rows.size in (15, 16) and np.all(cart[rows].all(axis=1))
    assert np.array_equal(cart, cs.fourier.symmetrize(cart))
    assert set(range(30, 35)) <= set(rows.tolist())  # the central rows (0, +-1, +-2)


def test_operator_argument_errors():
    with pytest.raises(ShapeError, match="mask"):
        cs.partial_fourier((8, 8), np.ones((8, 7), bool))
    with pytest.raises(ParameterError, match="mask"):
        cs.partial_fourier((8, 8), np.ones((8, 8)))
    with pytest.raises(ParameterError, match="mask"):
        cs.partial_dct2((8, 8), np.zeros((8, 8), bool))
    with pytest.raises(ParameterError, match="'m'"):
        cs.mask_variable_density((8, 8), 65)
    with pytest.raises(ParameterError, match="layout"):
        cs.mask_variable_density((8, 8), 6, layout="polar")
    with pytest.raises(ParameterError, match="n_lines"):
        cs.mask_cartesian((8, 8), 9)
    with pytest.raises(ParameterError, match="shape"):
        cs.mask_radial((8,), 3)


def test_products_never_modify_their_input():
    A = cs.partial_fourier((16, 16), cs.mask_radial((16, 16), 4))
    x = np.arange(256.0)
    keep = x.copy()
    A.rmatvec(A.matvec(x))
    assert np.array_equal(x, keep)


def test_2d_recovery_with_a_fast_operator_is_matrix_free(monkeypatch):
    from structsparse.cs import greedy

    def no_columns(*args, **kwargs):
        raise AssertionError("dense columns of a fast operator were formed")

    monkeypatch.setattr(greedy, "MATRIX_FREE_ENTRIES", 0)
    monkeypatch.setattr(greedy, "columns", no_columns)
    rng = np.random.default_rng(1)
    model = cs.TreeSparse2D((32, 32), 100, "haar")
    x0 = model.sample(rng)
    mask = cs.mask_variable_density((32, 32), 360, rng=rng)
    A = cs.partial_fourier((32, 32), mask) @ model.synthesis
    for method in ("model_cosamp", "model_iht"):
        res = cs.recover(A, A @ x0, model, method=method)
        assert res.relative_error(x0) < 1e-4


def _assert_columns_are_products_with_unit_vectors(A, idx):
    """``A.columns(idx)`` is float64 of shape (m, k) and equals ``A`` applied to the unit vectors ``e_idx``."""
    E = np.zeros((A.shape[1], len(idx)))
    E[idx, np.arange(len(idx))] = 1.0
    got = A.columns(idx)
    assert got.shape == (A.shape[0], len(idx)) and got.dtype == np.float64
    np.testing.assert_allclose(got, A.matmat(E), rtol=0, atol=1e-13)


@pytest.mark.parametrize("shape", [(8, 8), (7, 9), (16, 10), (1, 64), (1, 63), (32, 32)])
@pytest.mark.parametrize("make", [cs.partial_fourier, cs.partial_dct2], ids=["fourier", "dct2"])
def test_image_operator_columns_are_its_products_with_unit_vectors(shape, make):
    """The closed-form columns of the partial Fourier (pairs and self-conjugate rows; (1, n) is the 1-D
    transform) and subsampled 2-D DCT operators equal the transforms of unit vectors, in the order asked,
    repeated indices included; no index gives an empty block."""
    rng = np.random.default_rng(sum(shape))
    mask = rng.random(shape) < 0.3
    mask[shape[0] // 2, shape[1] // 2] = True  # the zero frequency (centered layout): a self-conjugate row
    mask[0, 0] = True  # for the DCT its DC term
    A = make(shape, mask)
    n = A.shape[1]
    _assert_columns_are_products_with_unit_vectors(A, rng.permutation(n)[: max(1, n // 3)])
    _assert_columns_are_products_with_unit_vectors(A, np.array([n - 1, 0, n - 1, 3 % n]))
    assert A.columns(np.array([], dtype=np.int64)).shape == (A.shape[0], 0)
    if make is cs.partial_fourier:
        assert A.selfconj.size and A.pairs.size  # both kinds of rows were checked


def test_image_operator_columns_of_every_pixel_are_the_matrix():
    """All the columns of a full-size call are the dense matrix (every frequency, every pixel)."""
    for A in (cs.partial_fourier((12, 10), np.ones((12, 10), bool)),
              cs.partial_dct2((12, 10), np.ones((12, 10), bool))):
        np.testing.assert_allclose(A.columns(np.arange(120)), cs.as_matrix(A), rtol=0, atol=1e-13)


def test_image_operator_columns_refuse_bad_indices_naming_idx():
    for A in (cs.partial_fourier((8, 8), cs.mask_radial((8, 8), 3)),
              cs.partial_dct2((8, 8), np.eye(8, dtype=bool))):
        for bad in ([64], [-1], [[1, 2]], [0.5], ["a"]):
            with pytest.raises(ShapeError, match="'idx'"):
                A.columns(bad)


def test_columns_helper_reads_an_operators_own_columns():
    """``cs.columns`` uses an operator's closed form (negative indices counted from the end, the caller's
    index array untouched) and agrees with the products."""
    A = cs.partial_fourier((16, 16), cs.mask_radial((16, 16), 5))
    idx = np.array([5, -1, 200, 0])
    keep = idx.copy()
    calls = []
    own = A.columns
    A.columns = lambda j: calls.append(np.array(j)) or own(j)
    got = cs.columns(A, idx)
    assert len(calls) == 1 and np.array_equal(calls[0], [5, 255, 200, 0]) and np.array_equal(idx, keep)
    E = np.zeros((256, 4))
    E[[5, 255, 200, 0], np.arange(4)] = 1.0
    np.testing.assert_allclose(got, A.matmat(E), rtol=0, atol=1e-13)
