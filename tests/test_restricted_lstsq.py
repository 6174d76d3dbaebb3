"""The one restricted least-squares helper (`_linalg.restricted_lstsq`): every path against numpy's SVD solve."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

from structsparse._linalg import restricted_lstsq


def _problem(m=40, n=25, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)), rng.standard_normal(m)


@pytest.mark.parametrize("normal_equations", [False, True])
@pytest.mark.parametrize("kind", ["dense", "sparse", "operator"])
def test_every_design_kind_gives_the_least_squares_fit_on_the_columns(kind, normal_equations):
    A, y = _problem()
    cols = np.array([3, 7, 0, 11])
    expected = np.linalg.lstsq(A[:, cols], y, rcond=None)[0]
    design = {"dense": A, "sparse": sp.csc_matrix(A), "operator": aslinearoperator(A)}[kind]
    before = A.copy()
    coef, resid = restricted_lstsq(design, y, cols, normal_equations=normal_equations)
    np.testing.assert_allclose(coef, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(resid, y - A[:, cols] @ expected, atol=1e-10)
    np.testing.assert_array_equal(A, before)


def test_all_columns_when_cols_is_omitted_and_several_right_hand_sides():
    A, _ = _problem()
    Y = np.random.default_rng(1).standard_normal((40, 3))
    coef, resid = restricted_lstsq(A, Y)
    np.testing.assert_allclose(coef, np.linalg.lstsq(A, Y, rcond=None)[0], rtol=1e-10, atol=1e-12)
    assert coef.shape == (25, 3) and resid.shape == (40, 3)
    np.testing.assert_allclose(A.T @ resid, 0, atol=1e-10)  # normal equations hold


def test_rcond_gives_the_minimum_norm_fit_of_dependent_columns():
    A, y = _problem()
    B = np.column_stack([A[:, :5], A[:, 0] + 1e-14 * A[:, 1]])  # dependent to rounding
    coef = restricted_lstsq(B, y, rcond=1e-10, normal_equations=True)[0]
    # the minimum-norm solution splits the weight of the repeated column, with no 1e13 coefficients
    assert np.max(np.abs(coef)) < 10
    np.testing.assert_allclose(coef, np.linalg.pinv(B, rcond=1e-10) @ y, rtol=1e-6, atol=1e-8)


def test_operator_fit_stops_at_its_tolerance_and_starts_from_x0():
    A, y = _problem(200, 60)
    cols = np.arange(0, 60, 2)
    exact = np.linalg.lstsq(A[:, cols], y, rcond=None)[0]
    op = aslinearoperator(A)
    loose = restricted_lstsq(op, y, cols, tol=1e-3, iter_lim=3)[0]
    warm = restricted_lstsq(op, y, cols, x0=exact, tol=1e-3, iter_lim=3)[0]
    # three LSQR steps from zero are far from the fit; from the fit itself they stay on it
    assert np.linalg.norm(loose - exact) > 1e-3 * np.linalg.norm(exact)
    np.testing.assert_allclose(warm, exact, rtol=1e-8, atol=1e-10)


def test_no_columns_gives_an_empty_fit_and_the_target_as_residual():
    A, y = _problem()
    coef, resid = restricted_lstsq(A, y, np.array([], dtype=int))
    assert coef.shape == (0,)
    np.testing.assert_array_equal(resid, y)
    assert resid is not y
