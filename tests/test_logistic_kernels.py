"""The logistic datafit's one-pass kernels (numba) against their numpy twins and closed forms."""

import numpy as np
import pytest

import structsparse as ss
from structsparse._numba import NUMBA_ENABLED
from structsparse.datafits import logistic as lg

pytestmark = pytest.mark.skipif(not NUMBA_ENABLED, reason="the numba kernels are the numpy twins without numba")


def _labels_and_scores(seed=0, n=300, spread=4.0):
    rng = np.random.default_rng(seed)
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    z = spread * rng.standard_normal(n)
    z[:4] = [0.0, 40.0, -40.0, 800.0]   # exactly zero, saturated both ways, exp overflow
    return y, z


def _assert_twins_agree(y, z):
    assert lg.logistic_value_numba(y, z) == pytest.approx(lg.logistic_value_numpy(y, z), rel=1e-13, abs=1e-13)
    np.testing.assert_allclose(lg.logistic_grad_numba(y, z), lg.logistic_grad_numpy(y, z), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(lg.logistic_hessian_numba(z), lg.logistic_hessian_numpy(z), rtol=1e-13, atol=1e-300)
    u = 0.9 * lg.logistic_grad_numpy(y, z)
    for sign in (1.0, -1.0):
        ref = lg.logistic_conjugate_numpy(y, sign * u, sign)
        assert lg.logistic_conjugate_numba(y, sign * u, sign) == pytest.approx(ref, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("spread", [0.1, 4.0, 60.0])
def test_kernels_agree_with_numpy_twins(seed, spread):
    _assert_twins_agree(*_labels_and_scores(seed, spread=spread))


def test_value_and_gradient_closed_forms():
    y, z = _labels_and_scores(2, spread=3.0)
    z = z[4:]   # no saturation: the naive formula is exact enough
    y = y[4:]
    assert lg.logistic_value_numba(y, z) == pytest.approx(np.sum(np.log1p(np.exp(-y * z))), rel=1e-13)
    np.testing.assert_allclose(lg.logistic_grad_numba(y, z), -y / (1.0 + np.exp(y * z)), rtol=1e-13)
    s = 1.0 / (1.0 + np.exp(-z))
    np.testing.assert_allclose(lg.logistic_hessian_numba(z), s * (1.0 - s), rtol=1e-12)
    # saturated scores: no overflow, the linear asymptote
    big = np.array([800.0, -800.0])
    assert lg.logistic_value_numba(np.array([-1.0, 1.0]), big) == pytest.approx(1600.0, rel=1e-15)
    assert np.all(np.isfinite(lg.logistic_grad_numba(np.array([-1.0, 1.0]), big)))


def test_conjugate_is_fenchel_young_tight():
    """``F^*(F'(z)) = <F'(z), z> - F(z)``: the conjugate kernel against the value kernel."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((200, 3))
    y, z = _labels_and_scores(3, n=200, spread=2.0)
    fit = ss.Logistic(A, y)
    u = fit.raw_grad(z)
    assert fit.conjugate(u) == pytest.approx(float(u @ z) - fit.value_from_Ax(z), rel=1e-11, abs=1e-9)
    # dual_value(theta) = -F^*(-theta)
    assert fit.dual_value(-u) == pytest.approx(-fit.conjugate(u), rel=1e-15)


def test_conjugate_domain_and_nan():
    y = np.array([1.0, -1.0, 1.0])
    inside = np.array([-0.5, 0.5, -(1.0 + 1e-13)])   # a = -u y in [0, 1] up to the slack
    assert np.isfinite(lg.logistic_conjugate_numba(y, inside, 1.0))
    for bad in ([-1.1, 0.5, -0.5], [0.1, 0.5, -0.5], [np.nan, 0.5, -0.5], [-np.inf, 0.5, -0.5]):
        bad = np.array(bad)
        assert lg.logistic_conjugate_numba(y, bad, 1.0) == np.inf
        assert lg.logistic_conjugate_numpy(y, bad, 1.0) == np.inf
    # the endpoints a = 0 and a = 1 contribute 0 log 0 = 0
    assert lg.logistic_conjugate_numba(y, np.array([0.0, 1.0, -1.0]), 1.0) == 0.0


def test_nan_propagates():
    y = np.array([1.0, -1.0])
    z = np.array([np.nan, 1.0])
    assert np.isnan(lg.logistic_value_numba(y, z))
    assert np.isnan(lg.logistic_grad_numba(y, z)[0])
    assert np.isnan(lg.logistic_hessian_numba(z)[0])


def test_methods_take_other_shapes_and_leave_inputs_alone():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((50, 4))
    y = np.where(rng.random(50) < 0.5, 0.0, 1.0)
    fit = ss.Logistic(A, y)
    z = rng.standard_normal(50)
    z32 = z.astype(np.float32)
    z_copy = z.copy()
    # float32 and strided inputs convert; the result is the float64 one
    assert fit.value_from_Ax(z32) == pytest.approx(lg.logistic_value_numpy(fit.y, z32.astype(float)), rel=1e-13)
    strided = np.repeat(z, 2)[::2]
    np.testing.assert_allclose(fit.raw_grad(strided), lg.logistic_grad_numpy(fit.y, z), rtol=1e-14)
    np.testing.assert_allclose(fit.quadratic_weights(z), lg.logistic_hessian_numpy(z), rtol=1e-13)
    np.testing.assert_array_equal(z, z_copy)
    # a shape other than y's goes through numpy broadcasting, as before the kernels
    Z = np.stack([z, -z], axis=0)      # (2, n) broadcasts against y (n,)
    np.testing.assert_allclose(fit.raw_grad(Z), lg.logistic_grad_numpy(fit.y, Z), rtol=1e-15)
    assert fit.value_from_Ax(Z) == pytest.approx(lg.logistic_value_numpy(fit.y, Z), rel=1e-15)
