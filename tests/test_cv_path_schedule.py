"""cv_path on an executor: the path on all the data (the largest task) is submitted first, results unchanged."""

from concurrent.futures import Executor, Future

import numpy as np

import structsparse as ss


class _Recording(Executor):
    """Runs each task at submission and records which function it was."""

    def __init__(self):
        self.calls = []

    def submit(self, fn, *args, **kwargs):
        self.calls.append(fn.__name__)
        fut = Future()
        fut.set_result(fn(*args, **kwargs))
        return fut


def test_full_path_is_submitted_first_and_results_match_serial():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((60, 30))
    y = A[:, :3].sum(axis=1) + 0.1 * rng.standard_normal(60)
    ex = _Recording()
    par = ss.cv_path(A, y, ss.L1(1.0), n_folds=4, n_lams=6, rng=1, tol=1e-10, executor=ex)
    ser = ss.cv_path(A, y, ss.L1(1.0), n_folds=4, n_lams=6, rng=1, tol=1e-10)
    assert ex.calls == ["_full_path"] + ["_fold_losses"] * 4
    np.testing.assert_array_equal(par.loss_folds, ser.loss_folds)
    np.testing.assert_array_equal(par.path.coefs, ser.path.coefs)
    # the fold losses are those of each fold's own path, not the full path's (the order of results is kept)
    train = np.setdiff1d(np.arange(60), par.folds[0])
    fold0 = ss.path(ss.LeastSquares(A[train], y[train]), ss.L1(1.0), lams=par.lams, tol=1e-10)
    test = ss.LeastSquares(A[par.folds[0]], y[par.folds[0]])
    expected = [test.value(c) / par.folds[0].size for c in fold0.coefs]
    np.testing.assert_allclose(par.loss_folds[0], expected, rtol=1e-8)
