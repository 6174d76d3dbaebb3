"""Latent group lasso: solve_latent against two cvxpy formulations, support = union of groups, prox, bad input."""

import cvxpy as cp
import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.exceptions import ParameterError, ShapeError, StructureError
from structsparse.solvers.latent import latent_problem, solve_latent_cvxpy

pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")

TIGHT = {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11}


def windows(p, size, stride):
    return [list(range(s, s + size)) for s in range(0, p - size + 1, stride)]


def problem(rng, n=40, p=30, n_targets=None):
    A = rng.standard_normal((n, p))
    shape = (p,) if n_targets is None else (p, n_targets)
    x = np.zeros(shape)
    x[4:10] = rng.standard_normal(x[4:10].shape)
    y = A @ x + 0.1 * rng.standard_normal(A.shape[:1] + shape[1:])
    return A, y


def union_mask(groups, ids, n):
    mask = np.zeros(n, dtype=bool)
    for g in ids:
        mask[groups[int(g)]] = True
    return mask


@pytest.mark.parametrize("structure", ["windows", "random", "nested"])
def test_matches_both_cvxpy_formulations(structure):
    rng = np.random.default_rng(21)
    A, y = problem(rng, p=31)
    if structure == "windows":
        groups = ss.Groups.from_lists(windows(31, 6, 3), n_features=31)
    elif structure == "random":
        lists = [sorted(rng.choice(31, size=5, replace=False).tolist()) for _ in range(14)]
        groups = ss.Groups.from_lists(lists, n_features=31, weights=rng.uniform(0.5, 2.0, 14))
    else:
        groups = ss.Tree.complete(depth=4).to_groups()
    loss = ss.LeastSquares(A, y)
    pen = ss.LatentGroupLasso(groups, 1.0)
    lmax = pen.dual_norm(A.T @ y) if not pen.latent.free.any() else ss.lambda_max(loss, pen)
    pen = pen.with_lam(0.25 * lmax)
    res = ss.solve_latent(loss, pen, tol=1e-10)
    explicit = solve_latent_cvxpy(loss, pen, **TIGHT)        # variables x and v, constraint x = G^T v
    generic = ss.solve_cvxpy(loss, pen)                      # penalty's own cvxpy expression (auxiliary split)
    assert res.converged
    for ref in (explicit, generic):
        assert abs(res.objective - ref.objective) <= 1e-6 * ref.objective
    np.testing.assert_allclose(res.x, explicit.x, atol=1e-4)
    # the latent objective is the original objective at the returned x (exact value by a cone program)
    assert loss.value(res.x) + pen(res.x) == pytest.approx(res.objective, rel=1e-6)


def test_support_is_union_of_active_groups():
    rng = np.random.default_rng(22)
    A, y = problem(rng, p=30)
    groups = ss.Groups.from_lists(windows(30, 6, 2), n_features=30)
    pen = ss.LatentGroupLasso(groups, 1.0)
    loss = ss.LeastSquares(A, y)
    pen = pen.with_lam(0.3 * pen.dual_norm(A.T @ y))
    res = ss.solve_latent(loss, pen)
    active = res.active_groups
    assert 0 < active.size < groups.n_groups
    support = res.x != 0
    assert np.array_equal(support, union_mask(groups, active, 30))
    lat = pen.latent
    pieces = res.latent[:lat.n_copies]
    for k, gid in enumerate(lat.group_ids):
        piece = pieces[lat.ptr[k]:lat.ptr[k + 1]]
        assert np.any(piece) == (gid in active)


def test_support_differs_from_overlap_group_lasso():
    # two overlapping groups {0..3} and {2..5}; only {0, 1} carry signal
    rng = np.random.default_rng(23)
    A = rng.standard_normal((60, 6))
    y = A @ np.array([2.0, -2.0, 0, 0, 0, 0]) + 0.01 * rng.standard_normal(60)
    lists = [[0, 1, 2, 3], [2, 3, 4, 5]]
    loss = ss.LeastSquares(A, y)
    latent = ss.solve_latent(loss, ss.LatentGroupLasso(lists, 5.0))
    overlap = ss.admm(loss, ss.OverlapGroupLasso(lists, 5.0))
    assert np.flatnonzero(latent.x).tolist() == [0, 1, 2, 3]        # a whole group
    assert np.flatnonzero(overlap.x).tolist() == [0, 1]              # the complement of a group


def test_disjoint_groups_equal_group_lasso():
    rng = np.random.default_rng(24)
    A, y = problem(rng, p=20)
    groups = ss.Groups.contiguous(20, 4)
    loss = ss.LeastSquares(A, y)
    lat = ss.solve_latent(loss, ss.LatentGroupLasso(groups, 3.0))
    gl = ss.fista(loss, ss.GroupLasso(groups, 3.0), tol=1e-12)
    np.testing.assert_allclose(lat.x, gl.x, atol=1e-6)


def test_several_targets_free_variables_operator_and_warm_start():
    rng = np.random.default_rng(25)
    A, y = problem(rng, p=24, n_targets=2)
    groups = ss.Groups.from_lists(windows(20, 5, 3), n_features=24)  # 20..23 free (and 18, 19)
    pen = ss.LatentGroupLasso(groups, 4.0)
    loss = ss.LeastSquares(A, y)
    res = ss.solve_latent(loss, pen, tol=1e-10)
    ref = solve_latent_cvxpy(loss, pen, **TIGHT)
    assert res.x.shape == (24, 2)
    assert abs(res.objective - ref.objective) <= 1e-6 * ref.objective
    op = ss.solve_latent(ss.LeastSquares(aslinearoperator(A), y), pen, tol=1e-10)
    assert op.solver == "solve_latent/fista"
    np.testing.assert_allclose(op.x, res.x, atol=1e-5)
    warm = ss.solve_latent(loss, pen, x0=res.x, tol=1e-10)
    assert warm.objective == pytest.approx(res.objective, rel=1e-8)
    lat_loss, lat_pen, scatter = latent_problem(loss, pen)
    assert lat_loss.n_features == pen.latent.n_copies + int(pen.latent.free.sum())
    assert lat_pen.groups.is_disjoint and scatter.shape == (24, lat_loss.n_features)


def test_inner_solver_that_stops_early_warns_in_the_name_of_solve_latent():
    rng = np.random.default_rng(28)
    A, y = problem(rng, p=12)
    pen = ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9, 10, 11]], 0.5)
    loss = ss.Logistic(A, np.sign(y))
    for direct, call in ((True, lambda: ss.solve_latent(loss, pen, tol=1e-12, max_iter=1)),
                         (False, lambda: ss.solve(loss, pen, tol=1e-12, max_iter=1))):
        with pytest.warns(ss.ConvergenceWarning) as caught:
            res = call()
        assert not res.converged and res.solver == "solve_latent/solve_block"
        texts = [str(w.message) for w in caught if issubclass(w.category, ss.ConvergenceWarning)]
        assert texts and all(t.startswith("solve_latent (inner solver solve_block): reached max_outer=1")
                             for t in texts), texts
        assert caught[0].filename == __file__ or not direct   # attributed to the line calling solve_latent


def test_custom_inner_solver_is_used():
    rng = np.random.default_rng(26)
    A, y = problem(rng, p=12)
    pen = ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9, 10, 11]], 2.0)
    calls = []

    def solver(loss, penalty, x0=None, tol=1e-8, **kw):
        calls.append(type(penalty).__name__)
        return ss.fista(loss, penalty, x0=x0, tol=tol)

    res = ss.solve_latent(ss.LeastSquares(A, y), pen, solver=solver)
    assert calls == ["GroupLasso"] and res.solver == "solve_latent/fista"


def test_prox_and_dual_norm():
    rng = np.random.default_rng(27)
    groups = ss.Groups.from_lists([[0, 1, 2], [2, 3], [3, 4, 5, 6], [6, 7], [1, 5, 7]], n_features=9,
                                  weights=[1, 2, 0.5, 1.5, 1])
    pen = ss.LatentGroupLasso(groups, 1.0)
    for shape in [(9,), (9, 2)]:
        v = 2 * rng.standard_normal(shape)
        x = pen.prox(v, 0.8)
        xv = cp.Variable(shape)
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(xv - v) + 0.8 * pen.cvxpy_omega(xv)))
        prob.solve(solver="CLARABEL", **TIGHT)
        np.testing.assert_allclose(x, xv.value, atol=1e-5)
        np.testing.assert_array_equal(x[8], v[8])  # variable 8 is in no group: free
    # dual norm: <u, x> <= dual_norm(u) * omega(x), with equality at the maximizer over the unit ball
    u = rng.standard_normal(9)
    u[8] = 0.0
    xv = cp.Variable(9)
    prob = cp.Problem(cp.Maximize(u @ xv), [pen.cvxpy_omega(xv) <= 1])
    prob.solve(solver="CLARABEL", **TIGHT)
    assert pen.dual_norm(u) == pytest.approx(prob.value, rel=1e-6)
    u[8] = 1.0
    assert pen.dual_norm(u) == np.inf


def test_bad_input_and_untouched_arrays():
    rng = np.random.default_rng(28)
    A, y = problem(rng, p=10)
    A0, y0 = A.copy(), y.copy()
    loss = ss.LeastSquares(A, y)
    pen = ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6, 7, 8, 9]], 1.0)
    x0 = rng.standard_normal(10)
    x00 = x0.copy()
    ss.solve_latent(loss, pen, x0=x0)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(x0, x00)
    with pytest.raises(TypeError, match="latent"):
        ss.solve_latent(loss, ss.GroupLasso([[0, 1]], 1.0))
    with pytest.raises(TypeError, match="LeastSquares"):
        ss.solve_latent((A, y), pen)
    with pytest.raises(ShapeError, match="features"):
        ss.solve_latent(loss, ss.LatentGroupLasso([[0, 1], [1, 2]], 1.0))
    with pytest.raises(StructureError, match="no variable is penalized"):
        ss.solve_latent(loss, ss.LatentGroupLasso(ss.Groups.from_lists([[0, 1], [2, 9]], weights=[0, 0]), 1.0))
    with pytest.raises(ParameterError, match="solver"):
        ss.solve_latent(loss, pen, solver="fista")
    with pytest.raises(ShapeError, match="x0"):
        ss.solve_latent(loss, pen, x0=np.ones(3))
    with pytest.raises(ShapeError, match="finite"):
        ss.solve_latent(loss, pen, x0=np.full(10, np.inf))
    with pytest.raises(ParameterError, match="lam"):
        ss.LatentGroupLasso([[0, 1]], np.nan)
    with pytest.raises(StructureError):
        ss.LatentGroupLasso(ss.Tree.complete(2), 1.0)
    with pytest.raises(StructureError):
        ss.LatentGroupLasso([[0, -1]], 1.0)
    with pytest.raises(ShapeError):
        pen.prox(np.ones(11))
    with pytest.raises(TypeError, match="LinearOperator"):
        solve_latent_cvxpy(ss.LeastSquares(aslinearoperator(A), y), pen)
    with pytest.raises(TypeError, match="latent"):
        latent_problem(loss, ss.OverlapGroupLasso([[0, 1]], 1.0))
    with pytest.raises(ParameterError, match="prox_tol"):
        ss.LatentGroupLasso([[0, 1]], 1.0, prox_tol=-1.0)
