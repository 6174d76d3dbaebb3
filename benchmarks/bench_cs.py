"""Compressive-sensing figures: timing of one group-lasso recovery, block and tree phase transitions.

Usage::

    python benchmarks/bench_cs.py                 # everything (several minutes on 2 cores)
    python benchmarks/bench_cs.py --part timing   # only the M=300 group-lasso timing
    python benchmarks/bench_cs.py --part block --trials 20 --out figs/
    python benchmarks/bench_cs.py --part tree

Saved sweeps (``--out``) are resumed only when they were made by the same
code: each stores the package version and a SHA-256 of the sources of the
``cs`` front end and the solver layer (``cs.phase.code_stamp``); a sweep
made by other code is moved aside (``*.json.stale``) and recomputed.

Timings are wall-clock on whatever machine runs this; on a busy shared
machine they are indicative only. The first call (numba kernels loaded from
the cache or compiled) is timed separately and excluded from the figures.
"""

import _setup  # noqa: F401  (first: one BLAS thread, structsparse importable)
import argparse
import os
import time
from pathlib import Path

import numpy as np


def timing(n_problems=20):
    import cvxpy as cp

    from structsparse import cs

    model = cs.BlockSparse(1024, 8, 10)

    def problem(seed):
        rng = np.random.default_rng(seed)
        A = cs.gaussian(300, 1024, rng)
        x0 = model.sample(rng)
        return A, x0, A @ x0

    A, x0, y = problem(1000)
    t = time.perf_counter()
    cs.recover(A, y, model, method="group_lasso")
    print(f"first call (warm-up, includes loading compiled kernels): {time.perf_counter() - t:.3f} s")
    times, errors, certified = [], [], 0
    for seed in range(n_problems):
        A, x0, y = problem(seed)
        res = cs.recover(A, y, model, method="group_lasso")
        times.append(res.time)
        errors.append(res.relative_error(x0))
        certified += "certified" in res.message
    times = np.array(times)
    errors = np.array(errors)
    print(f"group basis pursuit, N=1024, blocks of 8, 10 active, M=300 Gaussian, {n_problems} problems:")
    print(f"  time median {np.median(times) * 1e3:.1f} ms, min {times.min() * 1e3:.1f} ms, max {times.max() * 1e3:.1f} ms; "
          f"{np.mean(times < 0.03) * 100:.0f}% under 30 ms")
    print(f"  relative error max {errors.max():.1e} ({np.mean(errors <= 1e-6) * 100:.0f}% <= 1e-6); "
          f"{certified} stopped on an exact dual certificate, the rest on a relative duality gap <= 1e-6")
    # peer measured in the same run: cvxpy (Clarabel) on the same program
    A, x0, y = problem(0)
    M = cs.as_matrix(A)
    x = cp.Variable(1024)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack([cp.norm(x[8 * g:8 * g + 8], 2) for g in range(128)]))),
                      [M @ x == y])
    t = time.perf_counter()
    prob.solve(solver=cp.CLARABEL)
    t_cvx = time.perf_counter() - t
    err_cvx = np.linalg.norm(x.value - x0) / np.linalg.norm(x0)
    print(f"  peer: cvxpy + Clarabel on problem 0: {t_cvx * 1e3:.0f} ms (incl. compilation), relative error {err_cvx:.1e}; "
          f"ratio {t_cvx / times[0]:.0f}x")
    return times, errors


def _resume_file(path):
    """The sweep file and the code stamp to run with: a sweep saved by other code is set aside, never reused."""
    from structsparse.cs.phase import code_stamp, resumable

    stamp = code_stamp()
    if path.exists():
        if resumable(path, stamp):
            print(f"  resuming {path} (same code: version {stamp['version']}, sources {stamp['sources_sha256'][:12]})")
        else:
            print(f"  {path} was made by other code (or has no stamp): moved to {path.name}.stale, recomputing")
    return path, stamp


def block_sweep(trials, out, workers):
    import matplotlib.pyplot as plt

    from structsparse import cs
    from structsparse.cs.plots import plot_phase_transition

    model = cs.BlockSparse(1024, 8, 10)
    grid = list(range(120, 341, 20))
    start = time.perf_counter()
    path, stamp = _resume_file(out / "cs_block_phase.json")
    table = cs.phase_transition(model, ["group_lasso", "model_cosamp", "l1"], grid, trials, rng=2024,
                                resume_file=path, n_workers=workers, stamp=stamp)
    print(f"block phase transition ({trials} trials per M, {time.perf_counter() - start:.0f} s):")
    for method, (ms, rate) in cs.success_rates(table).items():
        pred = cs.predicted_threshold(model, method)
        p = f", statistical-dimension prediction {pred:.0f}" if pred else ""
        print(f"  {method:13s} 50% at M={cs.transition_point(table, method)}{p}; always from M="
              f"{next((int(m) for m, r in zip(ms, rate) if r == 1 and all(rate[ms >= m] == 1)), None)}")
        print("      " + " ".join(f"{m}:{r:.2f}" for m, r in zip(ms, rate)))
    plt.close(plot_phase_transition(table, model, path=out / "cs_block_phase.png",
                                    title=f"N=1024, blocks of 8, 10 active, Gaussian, {trials} trials per M"))
    print(f"  figure: {out / 'cs_block_phase.png'}")
    return table


def tree_sweep(trials, out, workers, k=40):
    import matplotlib.pyplot as plt

    from structsparse import cs
    from structsparse.cs.plots import plot_phase_transition

    model = cs.TreeSparse(1024, k, "db4")
    grid = list(range(60, 261, 20))
    start = time.perf_counter()
    path, stamp = _resume_file(out / "cs_tree_phase.json")
    table = cs.phase_transition(model, ["model_cosamp", "cosamp", "l1"], grid, trials, rng=7,
                                resume_file=path, n_workers=workers, stamp=stamp)
    print(f"tree phase transition, piecewise-smooth signals, db4, k={k} ({trials} trials per M, "
          f"{time.perf_counter() - start:.0f} s):")
    for method, (ms, rate) in cs.success_rates(table).items():
        print(f"  {method:13s} 50% at M={cs.transition_point(table, method)}; " +
              " ".join(f"{m}:{r:.2f}" for m, r in zip(ms, rate)))
    plt.close(plot_phase_transition(table, model, path=out / "cs_tree_phase.png",
                                    title=f"tree-sparse piecewise-smooth signals, N=1024, db4, k={k}, {trials} trials"))
    print(f"  figure: {out / 'cs_tree_phase.png'}")
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "timing", "block", "tree"), default="all")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.part in ("all", "timing"):
        timing()
    if args.part in ("all", "block"):
        block_sweep(args.trials, out, args.workers)
    if args.part in ("all", "tree"):
        tree_sweep(args.trials, out, args.workers)


if __name__ == "__main__":
    main()
