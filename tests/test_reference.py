"""The cvxpy reference: closed-form solutions, parameter reuse, failures reported, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.exceptions import ParameterError, ShapeError
from structsparse.penalties.registry import exact_prox_names, random_penalty
from structsparse.solvers import cvxpy_reference
from structsparse.solvers.cvxpy_reference import CvxpyProblem, cvxpy_problem, reference_objective, solve_cvxpy


def orthonormal_design(n_samples, n_features, rng):
    """A matrix with orthonormal columns: ``A^T A = I``, so prox problems have closed forms."""
    q, _ = np.linalg.qr(rng.standard_normal((n_samples, n_features)))
    return q


def as_kind(A, kind):
    return {"dense": A, "sparse": sp.csr_matrix(A), "operator": aslinearoperator(A)}[kind]


@pytest.mark.parametrize("kind", ["dense", "sparse", "operator"])
@pytest.mark.parametrize("n_targets", [None, 3])
def test_orthogonal_group_lasso_is_block_soft_threshold(kind, n_targets):
    # with A^T A = I, the objective is 0.5||x - A^T y||^2 + const + penalty: the solution is the prox
    rng = np.random.default_rng(1)
    A = orthonormal_design(40, 18, rng)
    y = rng.standard_normal(40 if n_targets is None else (40, n_targets))
    groups = ss.Groups.from_lists([[0, 4, 2], [1, 3], [5, 6, 7, 8, 9, 10], [11], [12, 13, 14, 15, 16, 17]],
                                  weights=[1.0, 0.5, 2.0, 1.3, 0.7])
    u = A.T @ y
    # lam between the smallest and largest scaled group norm: some groups vanish, others do not
    scaled = np.sort([np.linalg.norm(u[g]) / w for g, w in zip(groups, groups.weights)])
    lam = float(0.5 * (scaled[1] + scaled[2]))  # away from every group's threshold
    res = solve_cvxpy(ss.LeastSquares(as_kind(A, kind), y), ss.GroupLasso(groups, lam))
    expected = ss.prox.group_soft_threshold(A.T @ y, groups, lam)
    assert res.converged
    assert res.x.shape == expected.shape
    np.testing.assert_allclose(res.x, expected, atol=1e-6)
    # some groups are zeroed and some are not, so both branches of the closed form are exercised
    norms = [np.linalg.norm(expected[g]) for g in groups]
    assert min(norms) == 0 and max(norms) > 0
    closed_obj = reference_objective(ss.LeastSquares(A, y), ss.GroupLasso(groups, lam), expected)
    assert abs(res.objective - closed_obj) <= 1e-9 * closed_obj


def test_orthonormal_l1_is_soft_threshold():
    rng = np.random.default_rng(2)
    A = orthonormal_design(30, 30, rng)
    y = rng.standard_normal(30)
    res = solve_cvxpy(ss.LeastSquares(A, y), ss.L1(0.7))
    expected = ss.prox.soft_threshold(A.T @ y, 0.7)
    assert res.converged and res.solver.startswith("cvxpy/")
    np.testing.assert_allclose(res.x, expected, atol=1e-7)
    assert np.count_nonzero(expected) not in (0, 30)


def test_reported_objective_is_the_numpy_objective():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((20, 12))
    y = rng.standard_normal(20)
    loss, pen = ss.LeastSquares(A, y), ss.L1(0.4)
    res = solve_cvxpy(loss, pen)
    assert res.objective == pytest.approx(0.5 * np.sum((A @ res.x - y) ** 2) + 0.4 * np.abs(res.x).sum(), rel=1e-14)
    # the duality gap is an independent certificate of the reference
    assert res.gap is not None and 0 <= res.gap <= 1e-7 * res.objective


def test_parameter_reuse_matches_fresh_solves():
    rng = np.random.default_rng(4)
    A = rng.standard_normal((25, 20))
    y = rng.standard_normal((25, 2))
    groups = ss.Groups.contiguous(20, 4, weights="sqrt_size")
    loss = ss.LeastSquares(A, y)
    prob = cvxpy_problem(loss, ss.GroupLasso(groups, 1.0))
    assert isinstance(prob, CvxpyProblem)
    problem_object, parameter = prob.problem, prob.lam
    lmax = ss.lambda_max(loss, ss.GroupLasso(groups, 1.0))
    for ratio in (0.8, 0.3, 0.05, 0.3):
        reused = prob.solve(ratio * lmax)
        fresh = solve_cvxpy(loss, ss.GroupLasso(groups, ratio * lmax))
        assert reused.converged and fresh.converged
        assert reused.objective == pytest.approx(fresh.objective, rel=1e-8)
        np.testing.assert_allclose(reused.x, fresh.x, atol=1e-5)
        assert parameter.value == pytest.approx(ratio * lmax)
    # the same compiled problem and parameter were used throughout
    assert prob.problem is problem_object and prob.lam is parameter
    assert prob.problem.is_dcp(dpp=True)
    # solve() without lam uses the penalty's own lam
    assert prob.solve().objective == pytest.approx(solve_cvxpy(loss, ss.GroupLasso(groups, 1.0)).objective, rel=1e-8)


@pytest.mark.parametrize("name", exact_prox_names())  # iterative proxes: tests/test_registry_properties.py
def test_reference_is_a_fixed_point_of_the_prox_gradient_map(name):
    # optimality checked without cvxpy: x = prox_{penalty/L}(x - grad/L) at the solution
    rng = np.random.default_rng(5)
    n_targets = 3 if name == "nuclear_norm" else None
    pen = random_penalty(name, 16, rng, n_targets=n_targets)
    A = rng.standard_normal((24, 16))
    y = rng.standard_normal((24,) if n_targets is None else (24, n_targets))
    loss = ss.LeastSquares(A, y)
    pen = pen.with_lam(0.3 * ss.lambda_max(loss, pen))
    res = solve_cvxpy(loss, pen)
    assert res.converged, res.message
    L = loss.lipschitz
    mapped = pen.prox(res.x - loss.grad(res.x) / L, 1.0 / L)
    assert np.max(np.abs(mapped - res.x)) <= 1e-6 * max(1.0, np.max(np.abs(res.x)))


def test_failure_is_reported_not_hidden():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((30, 40))
    y = rng.standard_normal(30)
    loss, pen = ss.LeastSquares(A, y), ss.GroupLasso(ss.Groups.contiguous(40, 5), 0.5)
    res = solve_cvxpy(loss, pen, solver="SCS", max_iters=2)
    assert not res.converged
    assert "not certified" in res.message or "failed" in res.message
    # the accurate answer is clearly better than the truncated one: it was not silently accepted as optimal
    assert solve_cvxpy(loss, pen).objective < res.objective


def test_caller_arrays_untouched():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((15, 10))
    y = rng.standard_normal(15)
    A0, y0 = A.copy(), y.copy()
    solve_cvxpy(ss.LeastSquares(A, y), ss.L1(0.1))
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(y, y0)


def test_bad_input():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((10, 6))
    y = rng.standard_normal(10)
    loss = ss.LeastSquares(A, y)
    with pytest.raises(TypeError, match="loss"):
        solve_cvxpy((A, y), ss.L1(1.0))
    with pytest.raises(TypeError, match="penalty"):
        solve_cvxpy(loss, lambda x: 0.0)
    with pytest.raises(ShapeError, match="6"):
        solve_cvxpy(loss, ss.GroupLasso(ss.Groups.contiguous(8, 2), 1.0))
    with pytest.raises(ParameterError, match="lam"):
        cvxpy_problem(loss, ss.L1(1.0)).solve(-1.0)
    with pytest.raises(ParameterError, match="lam"):
        cvxpy_problem(loss, ss.L1(1.0)).solve(np.nan)
    with pytest.raises(ParameterError, match="solver"):
        solve_cvxpy(loss, ss.L1(1.0), solver="NO_SUCH_SOLVER")
    with pytest.raises(ParameterError, match="solver"):
        solve_cvxpy(loss, ss.L1(1.0), solver=3)


def test_operator_too_large_to_densify(monkeypatch):
    monkeypatch.setattr(cvxpy_reference, "MAX_DENSE_ENTRIES", 50)
    A = np.ones((10, 6))
    with pytest.raises(ShapeError, match="densif"):
        solve_cvxpy(ss.LeastSquares(aslinearoperator(A), np.ones(10)), ss.L1(1.0))
    # arrays and sparse matrices are passed as they are, whatever their size
    assert solve_cvxpy(ss.LeastSquares(sp.csr_matrix(A), np.ones(10)), ss.L1(1.0)).converged
