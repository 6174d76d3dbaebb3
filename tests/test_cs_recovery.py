import cvxpy as cp
import numpy as np
import pytest

from structsparse import cs
from structsparse.exceptions import ParameterError, ShapeError


@pytest.fixture(scope="module")
def block_problem():
    rng = np.random.default_rng(0)
    model = cs.BlockSparse(256, 8, 4)
    A = cs.gaussian(110, 256, rng)
    x0 = model.sample(rng)
    return A, x0, model


@pytest.mark.parametrize("method", ["l1", "group_lasso", "cosamp", "model_cosamp", "iht", "model_iht", "block_omp"])
def test_every_method_recovers_an_easy_block_signal(block_problem, method):
    A, x0, model = block_problem
    res = cs.recover(A, A @ x0, model, method=method)
    assert res.relative_error(x0) < 1e-6
    assert np.array_equal(res.support, np.flatnonzero(x0))
    assert res.residual_norm < 1e-8 and res.method == method and res.time > 0 and res.n_iter >= 1
    assert res.support_recovery(x0) == (32, 0, 0)


@pytest.mark.parametrize("method", ["model_cosamp", "model_iht", "tree_lasso", "cosamp"])
def test_tree_methods_recover_a_tree_sparse_signal(method):
    rng = np.random.default_rng(1)
    model = cs.TreeSparse(128, 16, "db2")
    coef = model.sample(rng)
    A = cs.gaussian(70, 128, rng) @ model.synthesis
    res = cs.recover(A, A @ coef, model, method=method)
    assert res.relative_error(coef) < 1e-5


def test_group_basis_pursuit_matches_cvxpy_where_recovery_fails():
    # too few measurements: the group BP solution is not x0, so the program itself is checked
    rng = np.random.default_rng(4)
    model = cs.BlockSparse(64, 4, 5)
    A = cs.as_matrix(cs.gaussian(30, 64, rng))
    x0 = model.sample(rng)
    y = A @ x0
    res = cs.recover(A, y, model, method="group_lasso")
    x = cp.Variable(64)
    obj = cp.sum(cp.hstack([cp.norm(x[4 * g:4 * g + 4], 2) for g in range(16)]))
    prob = cp.Problem(cp.Minimize(obj), [A @ x == y])
    prob.solve(solver=cp.CLARABEL)
    value = sum(np.linalg.norm(res.x[4 * g:4 * g + 4]) for g in range(16))
    # the continuation stops at a stated tolerance of the constrained program: gap and residual reported
    assert res.converged and res.info["gap"] <= 1e-6 and res.info["residual"] <= 1e-9
    assert np.linalg.norm(A @ res.x - y) < 1e-8 * np.linalg.norm(y)
    assert abs(value - prob.value) <= 1e-6 * prob.value
    assert np.linalg.norm(res.x - x.value) < 1e-3 * np.linalg.norm(x.value)
    assert res.relative_error(x0) > 1e-2  # really a failure case


def test_basis_pursuit_matches_linear_programming():
    from scipy.optimize import linprog

    rng = np.random.default_rng(5)
    model = cs.Sparse(60, 12)
    A = cs.as_matrix(cs.gaussian(30, 60, rng))
    y = A @ model.sample(rng)
    res = cs.recover(A, y, model, method="l1")
    # min sum(u + v) s.t. A (u - v) = y, u, v >= 0
    lp = linprog(np.ones(120), A_eq=np.hstack([A, -A]), b_eq=y, bounds=(0, None), method="highs")
    assert res.converged
    assert np.abs(res.x).sum() <= lp.fun * (1 + 1e-5)
    assert np.linalg.norm(A @ res.x - y) < 1e-8


def test_certified_recovery_reports_how_it_stopped(block_problem):
    A, x0, model = block_problem
    res = cs.recover(A, A @ x0, model, method="group_lasso")
    assert res.converged and ("certified" in res.message or "duality gap" in res.message)


def test_denoising_with_a_noise_level_beats_the_noise():
    rng = np.random.default_rng(2)
    model = cs.BlockSparse(256, 8, 4)
    A = cs.gaussian(120, 256, rng)
    x0 = model.sample(rng)
    sigma = 0.02
    y = A @ x0 + sigma * rng.standard_normal(120)
    for method in ("group_lasso", "l1"):
        res = cs.recover(A, y, model, method=method, noise=sigma)
        assert res.info["lam"] > 0
        assert res.relative_error(x0) < 0.15
    # group lasso keeps whole blocks: its support is a union of whole blocks (every touched block is full),
    # and at this noise level it holds every true block
    res = cs.recover(A, y, model, method="group_lasso", noise=sigma)
    touched, counts = np.unique(res.support // 8, return_counts=True)
    assert touched.size >= 1 and np.all(counts == 8)
    assert set(np.unique(np.flatnonzero(x0) // 8)) <= set(touched.tolist())
    # l1 on the same data is not block-aligned: the check above can fail
    res_l1 = cs.recover(A, y, model, method="l1", noise=sigma)
    _, counts_l1 = np.unique(res_l1.support // 8, return_counts=True)
    assert np.any(counts_l1 != 8)


def test_partial_dct_operator_works_matrix_free():
    rng = np.random.default_rng(3)
    model = cs.BlockSparse(256, 8, 3)
    A = cs.partial_dct(100, 256, rng)
    x0 = model.sample(rng)
    for method in ("model_cosamp", "group_lasso"):
        assert cs.recover(A, A @ x0, model, method=method).relative_error(x0) < 1e-6


def test_bad_inputs_raise_clear_errors(block_problem):
    A, x0, model = block_problem
    y = A @ x0
    with pytest.raises(ShapeError, match="'y'.*rows"):
        cs.recover(A, y[:-1], model)
    with pytest.raises(ShapeError, match="columns"):
        cs.recover(A, y, cs.BlockSparse(128, 8, 2))
    bad = y.copy()
    bad[3] = np.nan
    with pytest.raises(ShapeError, match="'y'.*finite"):
        cs.recover(A, bad, model)
    Ad = cs.as_matrix(A).copy()
    Ad[0, 0] = np.inf
    with pytest.raises(ShapeError, match="'A'.*finite"):
        cs.recover(Ad, y, model)
    with pytest.raises(ParameterError, match="'method'"):
        cs.recover(A, y, model, method="magic")
    with pytest.raises(ParameterError, match="tree_lasso"):
        cs.recover(A, y, model, method="tree_lasso")
    with pytest.raises(ParameterError, match="'noise'"):
        cs.recover(A, y, model, noise=-1.0)
    with pytest.raises(TypeError, match="'model'"):  # a wrong type, not a wrong value
        cs.recover(A, y, "block")


def test_recover_does_not_modify_inputs(block_problem):
    A, x0, model = block_problem
    M = cs.as_matrix(A).copy()
    y = M @ x0
    y_copy, M_copy = y.copy(), M.copy()
    cs.recover(M, y, model, method="group_lasso")
    assert np.array_equal(y, y_copy) and np.array_equal(M, M_copy)
