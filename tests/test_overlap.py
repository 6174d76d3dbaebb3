"""OverlapGroupLasso: value, iterative prox and exact dual norm against cvxpy; kernels; bad input."""

import cvxpy as cp
import numpy as np
import pytest

import structsparse as ss
from structsparse.exceptions import ConvergenceWarning, ParameterError, ShapeError, StructureError
from structsparse.penalties._overlap_kernels import (
    overlap_bcd_numba, overlap_bcd_numpy, overlap_gap_numba, overlap_gap_numpy,
)

# tight interior-point tolerances sometimes end "optimal_inaccurate"; the comparisons below are the check
pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")

TIGHT = {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11}


def chain(p, size, stride):
    return [list(range(s, min(s + size, p))) for s in range(0, p - size + stride, stride) if s < p]


def random_overlaps(p, n_groups, rng):
    return [sorted(rng.choice(p, size=int(rng.integers(2, 7)), replace=False).tolist()) for _ in range(n_groups)]


def nested(p):
    # a complete binary tree's groups: every node holds its subtree's variables
    return ss.Tree.complete(depth=int(np.log2(p + 1)) - 1).to_groups()


STRUCTURES = {
    "chain": lambda rng: ss.Groups.from_lists(chain(30, 6, 3), n_features=30),
    "random": lambda rng: ss.Groups.from_lists(random_overlaps(30, 12, rng), n_features=30,
                                               weights=rng.uniform(0.5, 2.0, 12)),
    "nested": lambda rng: nested(31),
}


def cvxpy_prox(pen, v, tau):
    x = cp.Variable(v.shape)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(x - v) + tau * pen.cvxpy_omega(x)))
    prob.solve(solver="CLARABEL", **TIGHT)
    return np.asarray(x.value), prob.value


@pytest.mark.parametrize("kind", sorted(STRUCTURES))
@pytest.mark.parametrize("n_cols", [1, 3])
def test_prox_matches_cvxpy(kind, n_cols):
    rng = np.random.default_rng(1)
    groups = STRUCTURES[kind](rng)
    pen = ss.OverlapGroupLasso(groups, lam=1.0)
    shape = (groups.n_features,) if n_cols == 1 else (groups.n_features, n_cols)
    v = 2.0 * rng.standard_normal(shape)
    v_copy = v.copy()
    x = pen.prox(v, 0.6)
    assert np.array_equal(v, v_copy)
    ref, ref_val = cvxpy_prox(pen, v, 0.6)
    ours_val = 0.5 * np.sum((x - v) ** 2) + 0.6 * pen.omega(x)
    # ours is at least as good as the interior-point reference, and close to it
    assert ours_val <= ref_val + 1e-8 * max(1.0, abs(ref_val))
    assert np.max(np.abs(x - ref)) < 1e-4


def test_prox_zeros_are_unions_of_groups():
    rng = np.random.default_rng(2)
    groups = ss.Groups.from_lists(chain(40, 5, 2), n_features=40)
    pen = ss.OverlapGroupLasso(groups, lam=1.0)
    x = pen.prox(rng.standard_normal(40), 1.2)
    zero = x == 0
    assert zero.any() and (~zero).any()
    zero_groups = [g for g in groups if np.all(x[g] == 0)]
    union = np.zeros(40, dtype=bool)
    for g in zero_groups:
        union[g] = True
    assert np.array_equal(union, zero)


def test_disjoint_groups_reduce_to_group_lasso():
    rng = np.random.default_rng(3)
    groups = ss.Groups.contiguous(12, 3)
    v = rng.standard_normal(12)
    og, gl = ss.OverlapGroupLasso(groups, 0.7), ss.GroupLasso(groups, 0.7)
    assert og(v) == pytest.approx(gl(v), rel=1e-14)
    np.testing.assert_allclose(og.prox(v, 1.3), gl.prox(v, 1.3), atol=1e-12)


def test_value_is_weighted_sum_of_group_norms():
    rng = np.random.default_rng(4)
    lists = random_overlaps(15, 6, rng)
    w = rng.uniform(0.1, 3.0, 6)
    pen = ss.OverlapGroupLasso(ss.Groups.from_lists(lists, n_features=15, weights=w), lam=2.5)
    x = rng.standard_normal((15, 2))
    expected = 2.5 * sum(wi * np.linalg.norm(x[g]) for g, wi in zip(lists, w))
    assert pen(x) == pytest.approx(expected, rel=1e-13)


def test_prox_warm_start_and_unpenalized_variables():
    rng = np.random.default_rng(5)
    groups = ss.Groups.from_lists([[0, 1, 2], [2, 3, 4], [4, 5]], n_features=8)  # 6, 7 free
    pen = ss.OverlapGroupLasso(groups, lam=1.0)
    v = rng.standard_normal(8)
    first = pen.prox(v, 0.5)
    again = pen.prox(v, 0.5)  # warm-started from the previous dual point
    np.testing.assert_allclose(first, again, atol=1e-7)
    np.testing.assert_array_equal(first[6:], v[6:])
    ref, _ = cvxpy_prox(pen, v, 0.5)
    np.testing.assert_allclose(first, ref, atol=1e-5)


@pytest.mark.parametrize("mode", [0, 1])
def test_numba_and_numpy_kernels_agree(mode):
    rng = np.random.default_rng(6)
    groups = ss.Groups.from_lists(random_overlaps(20, 8, rng), n_features=20)
    v = rng.standard_normal((20, 2))
    c0 = np.zeros((groups.indices.size, 2))
    radii = rng.uniform(0.2, 1.0, groups.n_groups)
    out_a = overlap_bcd_numba(mode, v, c0, groups.indices, groups.ptr, radii, 0.0, 7, 7)
    out_b = overlap_bcd_numpy(mode, v, c0, groups.indices, groups.ptr, radii, 0.0, 7, 7)
    np.testing.assert_allclose(out_a[0], out_b[0], atol=1e-12)
    np.testing.assert_allclose(out_a[1], out_b[1], atol=1e-12)
    assert out_a[2] == out_b[2] == 7
    ga = overlap_gap_numba(mode, v, out_a[1], out_a[0], groups.indices, groups.ptr, radii)
    gb = overlap_gap_numpy(mode, v, out_a[1], out_a[0], groups.indices, groups.ptr, radii)
    assert ga == pytest.approx(gb, rel=1e-10, abs=1e-14)
    assert ga >= 0


def test_prox_sweep_limit_warns():
    rng = np.random.default_rng(7)
    pen = ss.OverlapGroupLasso(chain(30, 6, 1), lam=1.0, prox_max_sweeps=1)
    with pytest.warns(ConvergenceWarning, match="prox_max_sweeps"):
        pen.prox(rng.standard_normal(30), 0.5)


# ---------------------------------------------------------------------------------------------- dual norm
def cvxpy_dual_norm(pen, u):
    """max <u, x> s.t. Omega(x) <= 1, straight from the definition."""
    x = cp.Variable(u.shape)
    prob = cp.Problem(cp.Maximize(cp.sum(cp.multiply(u, x))), [pen.cvxpy_omega(x) <= 1])
    prob.solve(solver="CLARABEL", **TIGHT)
    return prob.value


@pytest.mark.parametrize("kind", sorted(STRUCTURES))
def test_dual_norm_matches_definition(kind):
    rng = np.random.default_rng(8)
    groups = STRUCTURES[kind](rng)
    pen = ss.OverlapGroupLasso(groups, lam=3.0)
    for shape in [(groups.n_features,), (groups.n_features, 2)]:
        u = rng.standard_normal(shape)
        value = pen.dual_norm(u)
        assert value == pytest.approx(cvxpy_dual_norm(pen, u), rel=1e-6)
        lo, hi = pen.dual_norm_bounds(u)
        assert lo <= value * (1 + 1e-7) and value <= hi * (1 + 1e-7)


def test_dual_norm_free_variables_and_zero():
    pen = ss.OverlapGroupLasso(ss.Groups.from_lists([[0, 1], [1, 2], [3]], n_features=5, weights=[1, 1, 0]), 1.0)
    assert pen.dual_norm(np.zeros(5)) == 0.0
    assert pen.dual_norm(np.array([0, 0, 0, 0, 1.0])) == np.inf  # variable 4 in no group
    assert pen.dual_norm(np.array([0, 0, 0, 1.0, 0])) == np.inf  # variable 3 only in a zero-weight group
    assert np.isfinite(pen.dual_norm(np.array([1.0, 2.0, 3.0, 0, 0])))


def test_lambda_max_gives_zero_solution_exactly_there():
    rng = np.random.default_rng(9)
    A = rng.standard_normal((40, 30))
    y = rng.standard_normal(40)
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(chain(30, 6, 3), lam=1.0)
    lmax = pen.lambda_max(A.T @ y)
    zero_value = 0.5 * float(y @ y)
    at = ss.solve_cvxpy(loss, pen.with_lam(lmax * (1 + 1e-6)))
    below = ss.solve_cvxpy(loss, pen.with_lam(lmax * 0.97))
    assert at.objective == pytest.approx(zero_value, rel=1e-9)  # zero is optimal at lambda_max
    assert below.objective < zero_value * (1 - 1e-5)  # and not just below it
    assert np.max(np.abs(below.x)) > 1e-3
    # ADMM returns exact zeros just above lambda_max
    assert not np.any(ss.admm(loss, pen.with_lam(lmax * 1.001)).x)


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_input():
    with pytest.raises(StructureError):
        ss.OverlapGroupLasso(ss.Tree.complete(2), 1.0)
    with pytest.raises(StructureError):
        ss.OverlapGroupLasso([[0, 1], []], 1.0)
    with pytest.raises(StructureError):
        ss.OverlapGroupLasso([[0, 0, 1]], 1.0)
    with pytest.raises(ParameterError, match="lam"):
        ss.OverlapGroupLasso([[0, 1]], -1.0)
    with pytest.raises(ParameterError, match="prox_tol"):
        ss.OverlapGroupLasso([[0, 1]], 1.0, prox_tol=0.0)
    with pytest.raises(ParameterError, match="prox_max_sweeps"):
        ss.OverlapGroupLasso([[0, 1]], 1.0, prox_max_sweeps=0)
    pen = ss.OverlapGroupLasso([[0, 1], [1, 2]], 1.0)
    with pytest.raises(ShapeError, match="3 rows"):
        pen.prox(np.ones(4))
    with pytest.raises(ShapeError, match="finite"):
        pen.prox(np.array([1.0, np.nan, 0.0]))
    with pytest.raises(ShapeError):
        pen(np.ones((3, 2, 2)))
    with pytest.raises(ParameterError, match="step"):
        pen.prox(np.ones(3), -1.0)
    with pytest.raises(ShapeError):
        pen.dual_norm(np.ones(5))
