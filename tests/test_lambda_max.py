"""lambda_max: closed forms, the solution is exactly zero at lambda_max and not below, free variables, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.exceptions import ParameterTypeError, ShapeError, StructureError
from structsparse.penalties.registry import random_groups, random_tree
from structsparse.solvers.cvxpy_reference import reference_objective, solve_cvxpy
from structsparse.solvers.lambda_max import _dual_norm_by_prox, free_variables, lambda_max

KINDS = ["dense", "sparse", "operator"]


def as_kind(A, kind):
    return {"dense": A, "sparse": sp.csr_matrix(A), "operator": aslinearoperator(A)}[kind]


def draw(seed, n_samples=25, n_features=18, n_targets=None):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n_samples, n_features))
    y = rng.standard_normal(n_samples if n_targets is None else (n_samples, n_targets))
    return rng, A, y


def covering_groups(n_features, rng):
    """Random unequal groups that cover every feature, with random weights."""
    return random_groups(n_features, rng, uncovered=False)


def structured(kind_of_penalty, n_features, rng):
    """A penalty with lam=1 of the given kind, with every variable penalized."""
    if kind_of_penalty == "l1":
        return ss.L1(1.0)
    if kind_of_penalty == "group":
        return ss.GroupLasso(covering_groups(n_features, rng), 1.0)
    if kind_of_penalty == "sparse_group":
        return ss.SparseGroupLasso(random_groups(n_features, rng), 1.0, 0.4)  # uncovered features keep the l1 part
    return ss.TreeLasso(random_tree(n_features, rng), 1.0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n_targets", [None, 2])
def test_closed_forms_l1_and_group(kind, n_targets):
    rng, A, y = draw(0, n_targets=n_targets)
    loss = ss.LeastSquares(as_kind(A, kind), y)
    u = A.T @ y
    assert lambda_max(loss, ss.L1(1.0)) == pytest.approx(np.abs(u).max(), rel=1e-13)
    g = covering_groups(18, rng)
    expected = max(np.linalg.norm(u[idx]) / w for idx, w in zip(g, g.weights))
    assert lambda_max(loss, ss.GroupLasso(g, 1.0)) == pytest.approx(expected, rel=1e-13)
    # a list of index lists is accepted as well
    assert lambda_max(loss, ss.GroupLasso(g.to_lists(), 1.0)) == pytest.approx(
        max(np.linalg.norm(u[idx]) for idx in g), rel=1e-13)


@pytest.mark.parametrize("kind_of_penalty", ["sparse_group", "tree"])
def test_matches_the_prox_definition(kind_of_penalty):
    # lambda_max is the smallest t whose prox zeroes A^T y: check against a bisection on the prox itself
    rng, A, y = draw(1)
    pen = structured(kind_of_penalty, 18, rng)
    loss = ss.LeastSquares(A, y)
    assert lambda_max(loss, pen) == pytest.approx(_dual_norm_by_prox(pen, A.T @ y), rel=1e-9)


@pytest.mark.parametrize("kind_of_penalty", ["l1", "group", "sparse_group", "tree"])
@pytest.mark.parametrize("seed", range(4))
def test_fista_solution_exactly_zero_at_lambda_max_and_not_below(kind_of_penalty, seed):
    n_targets = None if seed % 2 == 0 else 3
    rng, A, y = draw(10 + seed, n_targets=n_targets)
    pen = structured(kind_of_penalty, 18, rng)
    loss = ss.LeastSquares(as_kind(A, KINDS[seed % 3]), y)
    lmax = lambda_max(loss, pen)
    # the penalty's own lam is ignored
    assert lambda_max(loss, pen.with_lam(123.0)) == lmax

    at = ss.fista(loss, pen.with_lam(lmax), tol=1e-12)
    assert at.converged
    assert np.all(at.x == 0)
    below = ss.fista(loss, pen.with_lam(lmax * (1 - 1e-3)), tol=1e-12)
    assert below.converged
    assert np.max(np.abs(below.x)) > 1e-8


@pytest.mark.parametrize("kind_of_penalty", ["l1", "group", "sparse_group", "tree"])
def test_cvxpy_agrees_zero_is_optimal_at_lambda_max_only(kind_of_penalty):
    rng, A, y = draw(20)
    pen = structured(kind_of_penalty, 18, rng)
    loss = ss.LeastSquares(A, y)
    lmax = lambda_max(loss, pen)
    zero = np.zeros(18)
    at = solve_cvxpy(loss, pen.with_lam(lmax))
    f0 = reference_objective(loss, pen.with_lam(lmax), zero)
    assert at.converged
    assert at.objective >= f0 * (1 - 1e-9)  # nothing beats zero at lambda_max
    assert np.max(np.abs(at.x)) <= 1e-5
    below = solve_cvxpy(loss, pen.with_lam(0.9 * lmax))
    assert below.objective < reference_objective(loss, pen.with_lam(0.9 * lmax), zero) * (1 - 1e-6)


def _assert_threshold(loss, pen, lmax, x0, free):
    """``x0`` (the free variables' least-squares fit, zero elsewhere) is optimal just above ``lmax``, not below.

    Judged by FISTA's certified objective, not by exact zeros: just above ``lmax`` the objective grows only
    by ``(lam - lmax) |x_g|`` along the penalized part, so a certified gap leaves that part small, not zero.
    """
    p0 = lambda lam: loss.value(x0) + pen.with_lam(lam)(x0)  # noqa: E731
    lam = lmax * (1 + 1e-9)
    at = ss.fista(loss, pen.with_lam(lam), tol=1e-12)
    assert at.converged and at.gap is not None
    assert p0(lam) <= at.objective + 1e-11 * abs(at.objective)  # nothing beats x0: it is optimal
    assert np.max(np.abs(at.x[~free])) <= 1e-3
    lam = lmax * (1 - 1e-3)
    below = ss.fista(loss, pen.with_lam(lam), tol=1e-12)
    assert below.converged and below.objective + below.gap < p0(lam)  # a certified better point: x0 is not optimal


@pytest.mark.parametrize("kind", KINDS)
def test_unpenalized_features_are_fitted_first(kind):
    rng, A, y = draw(30, n_samples=30, n_features=16)
    # features 0-2 in no group, group [3, 4] with weight zero: five free variables
    groups = ss.Groups.from_lists([[3, 4], [5, 6, 7], [8, 9], [10, 11, 12, 13, 14, 15]], n_features=16,
                                  weights=[0.0, 1.0, 0.6, 1.7])
    pen = ss.GroupLasso(groups, 1.0)
    free = free_variables(pen, 16)
    np.testing.assert_array_equal(np.flatnonzero(free), [0, 1, 2, 3, 4])
    loss = ss.LeastSquares(as_kind(A, kind), y)
    lmax = lambda_max(loss, ss.GroupLasso(groups, 1.0))
    # closed form: residual of the least-squares fit on the free columns
    coef = np.linalg.lstsq(A[:, free], y, rcond=None)[0]
    u = A.T @ (y - A[:, free] @ coef)
    expected = max(np.linalg.norm(u[idx]) / w for idx, w in zip(groups, groups.weights) if w > 0)
    assert lmax == pytest.approx(expected, rel=1e-8)

    x0 = np.zeros(16)
    x0[free] = coef
    _assert_threshold(loss, pen, lmax, x0, free)


def test_unpenalized_tree_root_and_sparse_group_l1_part():
    rng, A, y = draw(31, n_features=7)
    loss = ss.LeastSquares(A, y)
    # a root of weight zero leaves its own variable free; its children's groups still cover the rest
    tree = ss.Tree.from_parents([-1, 0, 0, 1, 1, 2, 2], weights=[0, 1, 1, 1, 1, 1, 1])
    pen = ss.TreeLasso(tree, 1.0)
    np.testing.assert_array_equal(free_variables(pen, 7), [True] + [False] * 6)
    lmax = lambda_max(loss, ss.TreeLasso(tree, 1.0))
    x0 = np.zeros(7)
    x0[0] = A[:, 0] @ y / (A[:, 0] @ A[:, 0])
    _assert_threshold(loss, pen, lmax, x0, free_variables(pen, 7))
    # the l1 part of a sparse-group lasso penalizes features that are in no group: nothing is free
    sgl = ss.SparseGroupLasso(ss.Groups.from_lists([[0, 1]], n_features=7), 1.0, 0.5)
    assert not free_variables(sgl, 7).any()
    # ... unless l1_ratio is zero
    assert free_variables(sgl.__class__(sgl.groups, 1.0, 0.0), 7).sum() == 5


def test_nuclear_norm_instance_gives_spectral_norm():
    rng, A, y = draw(40, n_targets=4)
    loss = ss.LeastSquares(A, y)
    lmax = lambda_max(loss, ss.NuclearNorm(1.0, (18, 4)))
    assert lmax == pytest.approx(np.linalg.norm(A.T @ y, 2), rel=1e-12)
    assert np.all(ss.fista(loss, ss.NuclearNorm(lmax, (18, 4)), tol=1e-12).x == 0)


def test_zero_data_gives_zero():
    A = np.random.default_rng(0).standard_normal((6, 4))
    assert lambda_max(ss.LeastSquares(A, np.zeros(6)), ss.L1(1.0)) == 0.0


def test_bad_input():
    rng, A, y = draw(50, n_features=6)
    loss = ss.LeastSquares(A, y)
    groups = ss.Groups.contiguous(6, 2)
    with pytest.raises(TypeError, match="loss"):
        lambda_max((A, y), ss.L1(1.0))
    # the string forms are gone: each is refused with the form to use
    for old in ("l1", "group", "sparse_group", "tree", "lasso"):
        with pytest.raises(ParameterTypeError, match=r"'penalty'.*removed.*GroupLasso\(groups, 1.0\)"):
            lambda_max(loss, old)
    with pytest.raises(ParameterTypeError, match="'penalty'.*NoneType"):
        lambda_max(loss, None)
    with pytest.raises(TypeError):
        lambda_max(loss, "group", groups)  # the old structure arguments are gone too
    with pytest.raises(ShapeError, match="8"):
        lambda_max(loss, ss.GroupLasso(ss.Groups.contiguous(8, 2), 1.0))
    with pytest.raises(ShapeError):
        lambda_max(loss, ss.TreeLasso(ss.Tree.from_parents([-1, 0, 0]), 1.0))
    with pytest.raises(StructureError):
        lambda_max(loss, ss.GroupLasso([[0, 1], [1, 2]], 1.0))  # overlapping groups are not a group lasso


def test_overlapping_groups_use_the_exact_dual_norm():
    # OverlapGroupLasso has has_dual_norm=False (too costly for gaps) but an exact dual norm: it is used
    rng, A, y = draw(60, n_features=10)
    loss = ss.LeastSquares(A, y)
    pen = ss.OverlapGroupLasso(ss.Groups.from_lists([[0, 1, 2], [2, 3, 4], [5, 6], [6, 7, 8, 9]]), 1.0)
    lmax = lambda_max(loss, pen)
    assert lmax == pytest.approx(pen.dual_norm(A.T @ y), rel=1e-12)
    at = solve_cvxpy(loss, pen.with_lam(lmax * (1 + 1e-7)))
    below = solve_cvxpy(loss, pen.with_lam(lmax * 0.99))
    assert np.max(np.abs(at.x)) <= 1e-4 < np.max(np.abs(below.x))


def test_penalty_without_dual_norm_falls_back_to_the_prox():
    class L1WithoutDual(ss.L1):
        has_dual_norm = False

        def _dual_norm(self, u):
            raise NotImplementedError

    rng, A, y = draw(61)
    loss = ss.LeastSquares(A, y)
    assert lambda_max(loss, L1WithoutDual(1.0)) == pytest.approx(np.abs(A.T @ y).max(), rel=1e-11)


def test_caller_arrays_untouched():
    rng, A, y = draw(62, n_features=8)
    A0, y0 = A.copy(), y.copy()
    groups = ss.Groups.from_lists([[0, 1], [2, 3, 4]], n_features=8)  # features 5-7 free: least-squares path
    weights0 = groups.weights.copy()
    lambda_max(ss.LeastSquares(A, y), ss.GroupLasso(groups, 1.0))
    lambda_max(ss.LeastSquares(aslinearoperator(A), y), ss.GroupLasso(groups, 1.0))
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(groups.weights, weights0)
