import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator

from structsparse import cs
from structsparse.exceptions import ParameterError


@pytest.mark.parametrize("make", [
    lambda: cs.gaussian(30, 64, 0),
    lambda: cs.bernoulli(30, 64, 1),
    lambda: cs.partial_dct(30, 64, 2),
    lambda: cs.wavelet_synthesis(64, "db4"),
    lambda: cs.wavelet_synthesis(64, "haar", 6),
    lambda: cs.gaussian(30, 64, 0) @ cs.wavelet_synthesis(64, "db2", 3),
    lambda: cs.partial_dct(30, 64, 3) @ cs.wavelet_synthesis(64, "sym4"),
    lambda: cs.partial_dct(30, 64, 2).T,
])
def test_every_operator_passes_the_dot_test(make):
    op = make()
    assert isinstance(op, LinearOperator)
    assert cs.dottest(op, rng=0) < 1e-12


def test_dottest_catches_a_wrong_adjoint():
    A = np.random.default_rng(0).standard_normal((5, 7))
    bad = LinearOperator((5, 7), matvec=lambda x: A @ x, rmatvec=lambda y: 1.01 * (A.T @ y), dtype=float)
    with pytest.raises(AssertionError, match="Dot-test failed"):
        cs.dottest(bad, rng=0)


def test_partial_dct_rows_are_scaled_orthonormal_dct_rows():
    op = cs.partial_dct(16, 64, rng=5)
    M = cs.as_matrix(op)
    # orthonormal rows times sqrt(n/m): M M^T = (n/m) I, and with all rows the matrix is orthogonal
    assert np.allclose(M @ M.T, 4.0 * np.eye(16))
    full = cs.as_matrix(cs.partial_dct(64, 64, rng=0))
    assert np.allclose(full.T @ full, np.eye(64))
    from scipy.fft import dct
    x = np.random.default_rng(1).standard_normal(64)
    assert np.allclose(op.matvec(x), dct(x, norm="ortho")[op.rows] * 2.0)


def test_random_matrices_have_unit_columns_on_average():
    for make in (cs.gaussian, cs.bernoulli):
        M = cs.as_matrix(make(300, 400, 0))
        assert abs(np.mean(np.sum(M ** 2, axis=0)) - 1.0) < 0.02
    assert np.allclose(np.sum(cs.as_matrix(cs.bernoulli(20, 50, 0)) ** 2, axis=0), 1.0)


def test_wavelet_synthesis_is_orthogonal_and_inverts_pywt():
    import pywt

    W = cs.wavelet_synthesis(256, "db4")
    M = cs.as_matrix(W)
    assert np.allclose(M.T @ M, np.eye(256), atol=1e-12)
    x = np.random.default_rng(2).standard_normal(256)
    coef = W.rmatvec(x)
    ref = np.concatenate(pywt.wavedec(x, "db4", mode="periodization", level=W.level))
    assert np.allclose(coef, ref)
    assert np.allclose(W.matvec(coef), x)
    assert sum(W.lengths) == 256 and W.lengths[0] == 256 >> W.level


def test_wavelet_synthesis_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="orthogonal"):
        cs.wavelet_synthesis(64, "bior2.2")
    with pytest.raises(ParameterError, match="wavelet"):
        cs.wavelet_synthesis(64, "nope")
    with pytest.raises(ParameterError, match="level"):
        cs.wavelet_synthesis(64, "haar", 7)
    with pytest.raises(ParameterError, match="'m'"):
        cs.gaussian(65, 64, 0)


def test_columns_agrees_with_the_dense_matrix():
    op = cs.partial_dct(20, 40, 1)
    idx = np.array([3, 17, 39])
    assert np.allclose(cs.columns(op, idx), cs.as_matrix(op)[:, idx])
