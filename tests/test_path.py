"""Paths, cross-validation and the lam warm-up schedule."""

import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.exceptions import ParameterError, ShapeError


def _problem(seed=0, n=60, p=40, noise=0.1, active=(0, 3), size=4):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    x = np.zeros(p)
    for g in active:
        x[g * size:(g + 1) * size] = rng.choice([-1, 1], size) * rng.uniform(1, 2, size)
    y = A @ x + noise * rng.standard_normal(n)
    return A, y, x, ss.Groups.contiguous(p, size)


@pytest.mark.parametrize("make", [lambda g: ss.GroupLasso(g, 1.0), lambda g: ss.SparseGroupLasso(g, 1.0, 0.5),
                                  lambda g: ss.L1(1.0)])
def test_warm_path_equals_cold_solves(make):
    A, y, _, groups = _problem()
    loss = ss.LeastSquares(A, y)
    pen = make(groups)
    res = ss.path(loss, pen, n_lams=8, eps=1e-2, tol=1e-10)
    assert res.converged.all() and res.coefs.shape == (8, A.shape[1])
    for lam, obj, coef in zip(res.lams, res.objectives, res.coefs):
        cold = ss.solve_block(loss, pen.with_lam(lam), tol=1e-10)
        assert abs(obj - cold.objective) <= 1e-9 * cold.objective
        assert np.allclose(coef, cold.x, atol=1e-5)
        # the stored objective is the objective of the stored coefficients
        assert abs(obj - (0.5 * np.sum((y - A @ coef) ** 2) + pen.with_lam(lam)(coef))) <= 1e-9 * obj


def test_grid_starts_at_lambda_max_with_zero_solution():
    A, y, _, groups = _problem(1)
    loss = ss.LeastSquares(A, y)
    pen = ss.GroupLasso(groups, 1.0)
    res = ss.path(loss, pen, n_lams=10, eps=1e-3)
    lmax = ss.lambda_max(loss, ss.GroupLasso(groups, 1.0))
    assert res.lams[0] == pytest.approx(lmax, rel=1e-12) and res.lams[-1] == pytest.approx(1e-3 * lmax)
    ratios = res.lams[1:] / res.lams[:-1]
    assert np.allclose(ratios, ratios[0])
    assert not res.coefs[0].any() and res.support_sizes[0] == 0
    assert res.support_sizes[1] > 0
    # supports are the nonzero rows; group supports are unions of groups
    for coef, supp in zip(res.coefs, res.supports):
        assert np.array_equal(supp, coef != 0)
        assert all(supp[idx].all() or not supp[idx].any() for idx in groups)


def test_given_lams_are_sorted_decreasing_and_other_solver_agrees():
    A, y, _, groups = _problem(2)
    loss = ss.LeastSquares(A, y)
    pen = ss.GroupLasso(groups, 1.0)
    lmax = ss.lambda_max(loss, pen)
    lams = [0.1 * lmax, 0.5 * lmax, 0.3 * lmax]
    res = ss.path(loss, pen, lams=lams, tol=1e-10)
    assert np.array_equal(res.lams, np.sort(lams)[::-1]) and res.solver == "solve_block"
    ref = ss.path(loss, pen, lams=lams, solver=ss.fista, tol=1e-10, max_iter=50_000)
    assert ref.solver == "fista"
    np.testing.assert_allclose(res.objectives, ref.objectives, rtol=1e-8)


def test_multi_target_and_sparse_path():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((30, 20)); Y = rng.standard_normal((30, 2))
    A[np.abs(A) < 0.7] = 0.0
    pen = ss.GroupLasso(ss.Groups.contiguous(20, 5), 1.0)
    dense = ss.path(ss.LeastSquares(A, Y), pen, n_lams=5, tol=1e-10)
    sparse = ss.path(ss.LeastSquares(sp.csc_matrix(A), Y), pen, n_lams=5, tol=1e-10)
    assert dense.coefs.shape == (5, 20, 2) and dense.supports.shape == (5, 20)
    np.testing.assert_allclose(dense.objectives, sparse.objectives, rtol=1e-9)


def test_default_solver_choice():
    path_module = sys.modules["structsparse.solvers.path"]
    A, y, _, groups = _problem(4)
    loss = ss.LeastSquares(A, y)
    assert path_module.default_solver(loss, ss.L1(1.0)) is ss.solve_block
    assert path_module.default_solver(ss.LeastSquares(aslinearoperator(A), y), ss.L1(1.0)) is ss.fista
    tree = ss.Tree.from_parents([-1] + [0] * (A.shape[1] - 1))
    assert path_module.default_solver(loss, ss.TreeLasso(tree, 1.0)) is ss.fista
    overlap = ss.OverlapGroupLasso([[0, 1, 2], [2, 3, 4]] + [[i] for i in range(5, 40)], 1.0)
    assert path_module.default_solver(loss, overlap) is ss.admm


def test_cv_selects_a_sensible_lam():
    noise = 0.5
    A, y, x, groups = _problem(5, n=120, p=60, noise=noise, active=(1, 7, 12))
    cv = ss.cv_path(A, y, ss.GroupLasso(groups, 1.0), n_folds=5, n_lams=30, rng=0, tol=1e-8)
    true_groups = {1, 7, 12}

    def chosen(coef):
        return {g for g, idx in enumerate(groups) if np.any(coef[idx])}

    # cross-validation minimizes prediction error: it keeps every true group (lasso-type
    # selection adds a few false ones) and its held-out error is near the noise variance,
    # far below the null model's
    assert true_groups <= chosen(cv.coef_best) and true_groups <= chosen(cv.coef_1se)
    assert len(chosen(cv.coef_1se)) <= len(chosen(cv.coef_best))
    assert cv.mse_mean[cv.best_index] < 1.3 * noise ** 2
    assert cv.mse_mean[cv.best_index] < 0.05 * cv.mse_mean[0]
    assert 0 < cv.best_index < cv.lams.size - 1
    # 1-SE: a larger lam, within one standard error of the best
    assert cv.lam_1se >= cv.best_lam
    assert cv.mse_mean[cv.index_1se] <= cv.mse_mean[cv.best_index] + cv.mse_std[cv.best_index] / np.sqrt(5)
    # the folds partition the samples
    assert np.array_equal(np.sort(np.concatenate(cv.folds)), np.arange(120))
    assert cv.mse_folds.shape == (5, 30)
    np.testing.assert_allclose(cv.mse_mean, cv.mse_folds.mean(axis=0))


def test_cv_is_reproducible_and_mse_matches_a_direct_computation():
    A, y, _, groups = _problem(6, n=40, p=20, noise=0.3, active=(2,))
    pen = ss.GroupLasso(groups, 1.0)
    a = ss.cv_path(A, y, pen, n_folds=4, n_lams=6, rng=3)
    b = ss.cv_path(A, y, pen, n_folds=4, n_lams=6, rng=3)
    np.testing.assert_array_equal(a.mse_folds, b.mse_folds)
    test = a.folds[0]
    train = np.setdiff1d(np.arange(40), test)
    lam = a.lams[3]
    fit = ss.solve_block(ss.LeastSquares(A[train], y[train]), pen.with_lam(lam), tol=1e-10)
    assert a.mse_folds[0, 3] == pytest.approx(np.mean((y[test] - A[test] @ fit.x) ** 2), rel=1e-5)


# ------------------------------------------------------------------------------------ schedule
def test_schedule_values():
    geo = ss.lam_warmup(2.0, 5, start_fraction=1e-2)
    expected = 2.0 * 1e-2 ** (1 - np.arange(5) / 4)
    np.testing.assert_allclose(geo.values, expected, rtol=1e-14)
    assert geo(4) == 2.0 and geo(100) == 2.0 and geo[2] == pytest.approx(0.2)
    assert np.all(np.diff(geo.values) > 0) and len(geo) == 5 and list(geo) == list(geo.values)
    lin = ss.LamSchedule(1.0, 3, start_fraction=0.0, kind="linear")
    np.testing.assert_allclose(lin.values, [0.0, 0.5, 1.0])
    assert ss.lam_warmup(0.7, 1).values.tolist() == [0.7]


def test_schedule_drives_an_iterative_caller():
    # continuation: solving with the scheduled lams ends at the target's solution
    A, y, _, groups = _problem(7)
    loss = ss.LeastSquares(A, y)
    target = 0.2 * ss.lambda_max(loss, ss.GroupLasso(groups, 1.0))
    x = None
    for lam in ss.lam_warmup(target, 4, start_fraction=0.1):
        x = ss.solve_block(loss, ss.GroupLasso(groups, lam), x0=x, tol=1e-10).x
    direct = ss.solve_block(loss, ss.GroupLasso(groups, target), tol=1e-10).x
    np.testing.assert_allclose(x, direct, atol=1e-6)


# ------------------------------------------------------------------------------------ bad input
def test_bad_input():
    A, y, _, groups = _problem(8)
    loss = ss.LeastSquares(A, y)
    pen = ss.GroupLasso(groups, 1.0)
    with pytest.raises(TypeError, match="penalty"):
        ss.path(loss, "group")
    with pytest.raises(TypeError, match="loss"):
        ss.path("loss", pen)
    for kwargs, name in [({"lams": [1.0, -1.0]}, "lams"), ({"lams": []}, "lams"), ({"n_lams": 0}, "n_lams"),
                         ({"eps": 0.0}, "eps"), ({"eps": 2.0}, "eps"), ({"tol": 0}, "tol"),
                         ({"solver": "fast"}, "solver")]:
        with pytest.raises(ParameterError, match=name):
            ss.path(loss, pen, **kwargs)
    for lams in ([[1.0, 2.0]], [np.nan]):
        with pytest.raises(ShapeError, match="lams"):
            ss.path(loss, pen, lams=lams)
    with pytest.raises(ParameterError, match="n_folds"):
        ss.cv_path(A, y, pen, n_folds=1)
    with pytest.raises(ParameterError, match="n_folds"):
        ss.cv_path(A, y, pen, n_folds=A.shape[0] + 1)
    with pytest.raises(ParameterError, match="rng"):
        ss.cv_path(A, y, pen, rng=-1)
    with pytest.raises(TypeError, match="LinearOperator"):
        ss.cv_path(aslinearoperator(A), y, pen)
    with pytest.raises(TypeError, match="penalty"):
        ss.cv_path(A, y, None)
    with pytest.raises(ShapeError):
        ss.cv_path(A, y[:-1], pen)
    for args, kwargs, name in [((-1.0, 3), {}, "lam_target"), ((1.0, 0), {}, "n_steps"),
                               ((1.0, 3), {"start_fraction": 0.0}, "start_fraction"),
                               ((1.0, 3), {"start_fraction": 1.5, "kind": "linear"}, "start_fraction"),
                               ((1.0, 3), {"kind": "cosine"}, "kind"), ((1.0, 2.5), {}, "n_steps")]:
        with pytest.raises(ParameterError, match=name):
            ss.lam_warmup(*args, **kwargs)
    grid = sys.modules["structsparse.solvers.path"].lam_grid
    np.testing.assert_allclose(grid(2.0, 3, 0.25), [2.0, 1.0, 0.5])
    for args, name in [((-1.0,), "lam_max"), ((1.0, 0), "n_lams"), ((1.0, 5, 0.0), "eps"), ((1.0, 5, 1.5), "eps")]:
        with pytest.raises(ParameterError, match=name):
            grid(*args)
    sched = ss.lam_warmup(1.0, 3)
    for step in (-1, 1.5, True):
        with pytest.raises(ParameterError, match="step"):
            sched(step)


def test_overlap_path_starts_exactly_at_zero_without_a_degenerate_solve():
    """At lambda_max zero is optimal by definition; ADMM converges sublinearly there, so path must not solve it."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 30))
    y = rng.standard_normal(40)
    windows = [list(range(s, s + 6)) for s in range(0, 25, 3)]
    loss = ss.LeastSquares(A, y)
    res = ss.path(loss, ss.OverlapGroupLasso(windows, 1.0), n_lams=4, eps=0.3)  # ConvergenceWarning is an error here
    assert np.all(res.coefs[0] == 0) and res.n_iters[0] == 0 and res.converged.all()
    assert np.isclose(res.objectives[0], 0.5 * y @ y)
    assert np.any(res.coefs[1] != 0)


# ------------------------------------------------------------------------------------ executors and datafits
def _logistic_problem(seed=11, n=120, p=24, size=4):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, p))
    w = np.zeros(p)
    w[:size] = 1.5
    w[2 * size:3 * size] = -1.0
    y = np.where(A @ w + 0.5 * rng.standard_normal(n) > 0, 1.0, 0.0)  # {0, 1} labels
    return A, y, ss.Groups.contiguous(p, size)


def test_path_results_do_not_depend_on_the_executor():
    from concurrent.futures import ProcessPoolExecutor

    from structsparse.cs import SerialExecutor

    A, y, _, groups = _problem(9)
    loss = ss.LeastSquares(A, y)
    pen = ss.GroupLasso(groups, 1.0)
    serial = ss.path(loss, pen, n_lams=10, tol=1e-10, n_chunks=3)
    inline = ss.path(loss, pen, n_lams=10, tol=1e-10, n_chunks=3, executor=SerialExecutor())
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = ss.path(loss, pen, n_lams=10, tol=1e-10, n_chunks=3, executor=pool)
    for res in (inline, parallel):
        np.testing.assert_array_equal(res.coefs, serial.coefs)
        np.testing.assert_array_equal(res.n_iters, serial.n_iters)
        np.testing.assert_array_equal(res.objectives, serial.objectives)
    # chunks start cold, so they differ from the single warm-started run only within the solver's tolerance
    one = ss.path(loss, pen, n_lams=10, tol=1e-10)
    np.testing.assert_allclose(serial.coefs, one.coefs, atol=1e-6)
    np.testing.assert_allclose(serial.objectives, one.objectives, rtol=1e-9)


@pytest.mark.parametrize("datafit", ["logistic", "poisson", "huber"])
def test_path_serves_every_datafit_and_matches_cvxpy(datafit):
    A, _, groups = _logistic_problem(p=12, n=60, size=3)
    fit = ss.datafits.random_datafit(datafit, A, rng=3)
    pen = ss.GroupLasso(groups, 1.0)
    res = ss.path(fit, pen, n_lams=4, eps=0.1, tol=1e-10)
    assert res.coefs[0].any() == False and res.converged.all()  # noqa: E712 - zero at lambda_max
    assert res.solver == ss.solvers.capabilities.SOLVER_SPECS[ss.solvers.capabilities.auto_solver(fit, pen)].name
    for i in (1, 3):
        ref = ss.solve_cvxpy(fit, pen.with_lam(res.lams[i]))
        obj = fit.value(res.coefs[i]) + pen.with_lam(res.lams[i])(res.coefs[i])
        assert obj <= ref.objective + 1e-6 * max(1.0, abs(ref.objective))
        np.testing.assert_allclose(res.coefs[i], ref.x, atol=2e-4)


def test_path_checks_capabilities_not_classes():
    A, y, _, groups = _problem(10)
    pen = ss.GroupLasso(groups, 1.0)
    op_loss = ss.LeastSquares(aslinearoperator(A), y)  # no explicit columns: block coordinate descent cannot run
    with pytest.raises(ss.IncompatibleSolverError, match="solve_block"):
        ss.path(op_loss, pen, n_lams=3, solver="solve_block")
    res = ss.path(op_loss, pen, n_lams=3, eps=0.5)  # the default picks a solver that can
    assert res.solver == "fista" and res.converged.all()
    with pytest.raises(ParameterError, match="executor"):
        ss.path(ss.LeastSquares(A, y), pen, n_lams=3, executor="pool")
    with pytest.raises(ParameterError, match="n_chunks"):
        ss.path(ss.LeastSquares(A, y), pen, n_lams=3, n_chunks=0)


def test_path_takes_solve_choices_and_names_its_solver_as_solve_does():
    A, y, _, groups = _problem(15, n=50, p=12, size=3)
    loss = ss.LeastSquares(A, y)
    pen = ss.GroupLasso(groups, 1.0)
    auto = ss.path(loss, pen, n_lams=4, eps=0.1, solver="auto")
    default = ss.path(loss, pen, n_lams=4, eps=0.1)
    np.testing.assert_array_equal(auto.coefs, default.coefs)
    assert auto.solver == default.solver == ss.solve(loss, pen.with_lam(auto.lams[1])).solver == "solve_block"
    # the reference solver runs no path, and the error says which names work and why
    with pytest.raises(ParameterError, match=r"'auto'.*previous lam's solution.*solve_cvxpy"):
        ss.path(loss, pen, n_lams=4, solver="cvxpy")
    # the name is the one each solve reports, as ss.solve's result records it
    windows = [list(range(s, s + 4)) for s in range(0, 9, 2)]
    for make_pen, fit in [(lambda: ss.OverlapGroupLasso(windows, 1.0), loss),
                          (lambda: ss.LatentGroupLasso(windows, 1.0), ss.Logistic(A, np.sign(y)))]:
        res = ss.path(fit, make_pen(), n_lams=3, eps=0.3)
        single = ss.solve(fit, make_pen().with_lam(res.lams[1]))
        assert res.solver == single.solver and "/" in res.solver
    # an out-of-range grid names the argument of path and cv_path, not the lam_grid helper
    with pytest.raises(ParameterError, match="'eps' parameter of path"):
        ss.path(loss, pen, n_lams=4, eps=0)
    with pytest.raises(ParameterError, match="'n_lams' parameter of cv_path"):
        ss.cv_path(A, y, pen, n_lams=0)


def test_logistic_cv_scores_the_held_out_logistic_loss():
    A, y, groups = _logistic_problem()
    pen = ss.SparseGroupLasso(groups, 1.0, 0.5)
    cv = ss.cv_path(A, y, pen, datafit="logistic", n_folds=4, n_lams=8, eps=1e-2, rng=1, tol=1e-10)
    assert cv.datafit == "logistic" and cv.loss_folds.shape == (4, 8)
    # one entry recomputed by hand: fit on the other folds, logistic loss per held-out sample
    test = cv.folds[2]
    train = np.setdiff1d(np.arange(y.size), test)
    lam = cv.lams[5]
    fit = ss.solve(ss.Logistic(A[train], y[train]), pen.with_lam(lam), tol=1e-10)
    z = A[test] @ fit.x
    labels = np.where(y[test] > 0, 1.0, -1.0)
    expected = np.mean(np.logaddexp(0.0, -labels * z))
    assert cv.loss_folds[2, 5] == pytest.approx(expected, rel=1e-6)
    # the zero model at lambda_max predicts 1/2 everywhere: log 2 per sample; the chosen lam does better
    np.testing.assert_allclose(cv.loss_folds[:, 0], np.log(2.0), rtol=1e-12)
    assert cv.loss_mean[cv.best_index] < 0.8 * np.log(2.0)
    # a Datafit class works as the name does, and mean squared errors are refused for a classifier
    again = ss.cv_path(A, y, pen, datafit=ss.Logistic, n_folds=4, n_lams=8, eps=1e-2, rng=1, tol=1e-10)
    np.testing.assert_array_equal(again.loss_folds, cv.loss_folds)
    with pytest.raises(AttributeError, match="logistic"):
        _ = cv.mse_mean
    with pytest.raises(ParameterError, match="datafit"):
        ss.cv_path(A, y, pen, datafit="hinge")
    with pytest.raises(TypeError, match="datafit"):
        ss.cv_path(A, y, pen, datafit=ss.Logistic(A, y))


def test_least_squares_cv_mse_is_twice_the_loss_per_target():
    A, y, _, groups = _problem(12, n=40, p=20)
    cv = ss.cv_path(A, y, ss.GroupLasso(groups, 1.0), n_folds=4, n_lams=5, rng=0)
    np.testing.assert_allclose(cv.mse_folds, 2 * cv.loss_folds)
    assert cv.loss_folds[0, 0] == pytest.approx(0.5 * np.mean(y[cv.folds[0]] ** 2))


def test_cv_results_do_not_depend_on_the_executor():
    from concurrent.futures import ProcessPoolExecutor

    A, y, groups = _logistic_problem(seed=13)
    pen = ss.GroupLasso(groups, 1.0)
    serial = ss.cv_path(A, y, pen, datafit="logistic", n_folds=3, n_lams=6, rng=2)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = ss.cv_path(A, y, pen, datafit="logistic", n_folds=3, n_lams=6, rng=2, executor=pool)
    np.testing.assert_array_equal(parallel.loss_folds, serial.loss_folds)
    np.testing.assert_array_equal(parallel.path.coefs, serial.path.coefs)
    assert parallel.best_index == serial.best_index


_WARM_POOL_SCRIPT = """
import multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import resource_tracker
import numpy as np, structsparse as ss
if __name__ == "__main__":
    rng = np.random.default_rng(0)
    A = rng.standard_normal((60, 12)); y = A[:, :3].sum(axis=1) + 0.1 * rng.standard_normal(60)
    pen = ss.GroupLasso(ss.Groups.contiguous(12, 3), 1.0)
    # the serial run first: the kernels compile once, here, and the forked workers inherit them (on a fresh
    # install each worker compiled them again); it shares nothing, so the parent's tracker has not started yet
    serial = ss.cv_path(A, y, pen, n_folds=3, n_lams=4, rng=0)
    assert getattr(resource_tracker._resource_tracker, "_pid", None) is None, "the parent's tracker already runs"
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(abs, [1, 2, 3, 4]))  # the workers exist before cv_path shares its design
        ss.path(ss.LeastSquares(A, y), pen, n_lams=4, executor=pool)
        cv = ss.cv_path(A, y, pen, n_folds=3, n_lams=4, rng=0, executor=pool)
    assert np.array_equal(cv.loss_folds, serial.loss_folds)
    print("ok", flush=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers with POSIX shared memory")
def test_cv_path_on_a_warm_process_pool_leaves_no_shared_memory_warning(tmp_path):
    import subprocess

    # workers forked before the parent's resource tracker started run trackers of their own: a worker that
    # registered the shared design there made its tracker report a leak, and fail to unlink it, at shutdown
    script = tmp_path / "warm_pool.py"
    script.write_text(_WARM_POOL_SCRIPT)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
    assert "resource_tracker" not in run.stderr and "leaked" not in run.stderr, run.stderr


@pytest.mark.slow
def test_cv_path_through_a_dask_distributed_executor():
    distributed = pytest.importorskip("distributed")
    A, y, _, groups = _problem(14, n=50, p=20)
    pen = ss.GroupLasso(groups, 1.0)
    serial = ss.cv_path(A, y, pen, n_folds=3, n_lams=5, rng=0)
    with distributed.Client(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as client:
        remote = ss.cv_path(A, y, pen, n_folds=3, n_lams=5, rng=0, executor=client.get_executor())
        chunked = ss.path(ss.LeastSquares(A, y), pen, n_lams=6, n_chunks=2, executor=client.get_executor())
    np.testing.assert_array_equal(remote.loss_folds, serial.loss_folds)
    np.testing.assert_array_equal(chunked.coefs, ss.path(ss.LeastSquares(A, y), pen, n_lams=6, n_chunks=2).coefs)
