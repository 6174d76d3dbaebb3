"""Cross-validated lasso path: ``ss.cv_path`` on one and two workers against scikit-learn's ``LassoCV``, one run.

Usage::

    python benchmarks/bench_cv_path.py [--n 500] [--p 1000] [--repeats 3]

Problem: Gaussian design ``n x p``, 20 nonzero coefficients, noise 0.5;
5 folds (the same folds for both), 50 values of the regularization on the
same geometric grid from ``lambda_max`` down to ``1e-3 lambda_max``. Our
objective is ``0.5 ||A x - y||^2 + lam ||x||_1``; scikit-learn's is
``||A x - y||^2 / (2 n_train) + alpha ||x||_1``, so each fold uses
``alpha = lam / n_train`` (the same problems). Tolerances: ours 1e-6
relative duality gap; scikit-learn ``tol=1e-6`` (its own gap criterion).
Both are checked to choose the same ``lam`` and to reach held-out errors
that agree.

One BLAS thread per process. The process pool is created and warmed up
before timing (its start-up is reported apart). Medians of ``--repeats``
runs after a warm-up run. The machine may be shared: times are indicative,
the ratios come from one run.
"""

import _setup  # noqa: F401  (first: one BLAS thread, structsparse importable)
import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np


def _median(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def _noop(_):
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--p", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import structsparse as ss
    from structsparse.solvers.path import lam_grid
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import PredefinedSplit

    rng = np.random.default_rng(0)
    A = rng.standard_normal((args.n, args.p))
    x = np.zeros(args.p)
    x[rng.choice(args.p, 20, replace=False)] = rng.standard_normal(20) * 2
    y = A @ x + 0.5 * rng.standard_normal(args.n)
    pen = ss.L1(1.0)
    lams = lam_grid(ss.lambda_max(ss.LeastSquares(A, y), pen), 50, 1e-3)

    def ours(executor=None):
        return ss.cv_path(A, y, pen, n_folds=5, lams=lams, rng=0, tol=1e-6, executor=executor)

    t1, cv1 = _median(ours, args.repeats)
    t = time.perf_counter()
    pool = ProcessPoolExecutor(max_workers=2)
    list(pool.map(_noop, range(4)))
    t_pool = time.perf_counter() - t
    t2, cv2 = _median(lambda: ours(pool), args.repeats)
    pool.shutdown()
    assert np.array_equal(cv1.loss_folds, cv2.loss_folds), "parallel result differs from serial"

    # scikit-learn on the same folds and the same problems (alpha = lam / n_train; n_train differs by at most 1)
    test_fold = np.empty(args.n, dtype=int)
    for f, idx in enumerate(cv1.folds):
        test_fold[idx] = f
    n_train = args.n - args.n // 5
    alphas = lams / n_train

    def sklearn_cv():
        return LassoCV(alphas=alphas, cv=PredefinedSplit(test_fold), tol=1e-6, max_iter=100_000,
                       fit_intercept=False, n_jobs=1).fit(A, y)

    t_sk, sk = _median(sklearn_cv, args.repeats)
    best_sk = float(sk.alpha_ * n_train)
    # sklearn's mse_path_ is (n_alphas, n_folds) in decreasing alpha order, like our grid
    mse_sk = sk.mse_path_.mean(axis=1)
    print(f"5-fold CV, 50 lams, n={args.n}, p={args.p}, lasso:")
    print(f"  ss.cv_path, 1 worker : {t1:.2f} s")
    print(f"  ss.cv_path, 2 workers: {t2:.2f} s (process pool start-up {t_pool:.2f} s, excluded); "
          f"speed-up {t1 / t2:.2f}x; results identical to serial")
    print(f"  sklearn LassoCV     : {t_sk:.2f} s")
    print(f"  ratio ours (1 worker) / LassoCV: {t1 / t_sk:.2f}x")
    print(f"  chosen lam: ours {cv1.best_lam:.4g}, sklearn {best_sk:.4g} (grid index {cv1.best_index} vs "
          f"{int(np.argmin(mse_sk))}); best held-out MSE ours {cv1.mse_mean[cv1.best_index]:.4f}, "
          f"sklearn {mse_sk.min():.4f}")
    print("One BLAS thread per process; the machine may be shared, so times are indicative.")


if __name__ == "__main__":
    main()
