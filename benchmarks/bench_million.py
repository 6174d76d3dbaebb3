"""A million features end to end: a sparse group-lasso path of 50 ``lam`` values at ``p = 1e6``.

    python benchmarks/bench_million.py --quick          # p = 2e4, 10 lam values (about a minute idle)
    python benchmarks/bench_million.py                  # p = 1e6, 50 lam values, 900 s per solver
    python benchmarks/bench_million.py --timeout 1800 --solvers structsparse,celer

Problem: ``A`` a scipy.sparse CSC matrix, ``n = 1e4`` rows, ``p = 1e6`` columns, density ``1e-4`` (one
Gaussian nonzero per column on average, 1e6 nonzeros, 12 MB), groups of 10 contiguous columns, a truth
with 20 active groups, noise 0.01. The grid: 50 values from ``lam_max`` down to ``0.01 lam_max``,
geometric, the same for every solver (peers in their units, ``alpha = lam / n``).

Solvers, each in its own child process (``_memory.run_command``: killed after ``--timeout`` seconds and
reported as "did not finish in T s"; peak resident memory from the operating system):

* structsparse ``ss.path(LeastSquares(A, y), GroupLasso(groups, 1), lams=grid, tol=1e-6)``;
* celer ``celer_path(A, y, "grouplasso", alphas=grid / n, groups=10, tol=1e-6)``;
* skglm ``GroupLasso(groups=10, alpha, tol=1e-6, warm_start=True)`` refitted down the grid (skglm has no
  path function; this is the warm-started loop its estimators are made for).

Each child first makes a warm-up path on a small problem (numba compilation apart, reported), then loads
the problem from ``.npy`` files and runs the whole path once: the total time is the path's wall time in
that process. The parent scores every solution with our objective; the table gives, per solver, the
total time, the peak RSS during the path, the largest relative suboptimality over the grid against the
best objective any solver reached at that ``lam``, and the support size at the smallest ``lam``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, not an installed copy
import _setup  # noqa: F401,E402  (first: one BLAS thread)
import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import _memory as mem  # noqa: E402

HERE = Path(__file__).resolve().parent
GROUP = 10
TOL = 1e-6
SOLVERS = ("structsparse", "celer", "skglm")


def path_structsparse(data, lams):
    import structsparse as ss

    A = data["A"]
    res = ss.path(ss.LeastSquares(A, data["y"]), ss.GroupLasso(ss.Groups.contiguous(A.shape[1], GROUP), 1.0),
                  lams=lams, tol=TOL)
    return res.coefs, {"converged": int(res.converged.sum())}


def path_celer(data, lams):
    from celer.homotopy import celer_path

    A, y = data["A"], data["y"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, coefs, _ = celer_path(A, y, "grouplasso", alphas=np.asarray(lams) / A.shape[0], groups=GROUP, tol=TOL,
                                 max_iter=200, max_epochs=100_000)
    return np.asarray(coefs).T, {}


def path_skglm(data, lams):
    import skglm

    A, y = data["A"], data["y"]
    n = A.shape[0]
    model = skglm.GroupLasso(groups=GROUP, alpha=lams[0] / n, tol=TOL, fit_intercept=False, warm_start=True,
                             max_iter=200, max_epochs=100_000)
    coefs = np.zeros((len(lams), A.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, lam in enumerate(lams):
            model.alpha = lam / n
            coefs[i] = model.fit(A, y).coef_
    return coefs, {}


PATHS = {"structsparse": path_structsparse, "celer": path_celer, "skglm": path_skglm}


def _child(solver, warm, folder, n_lams, out):
    fn = PATHS[solver]
    t0 = time.perf_counter()
    w = mem.load_problem(warm)
    fn(w, w["lam_max"] * np.geomspace(1.0, 0.01, 5))
    report = {"warmup": time.perf_counter() - t0}
    data = mem.load_problem(folder)
    lams = data["lam_max"] * np.geomspace(1.0, 0.01, n_lams)
    report["rss_data"] = mem._status("VmRSS")
    mem.reset_peak()
    t0 = time.perf_counter()
    coefs, info = fn(data, lams)
    report["time"] = time.perf_counter() - t0
    report["peak"] = mem._status("VmHWM")
    np.save(out, np.asarray(coefs, dtype=float))
    report.update(info)
    print("RESULT " + json.dumps(report), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--warm", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="p = 2e4, n = 2000, 10 lam values, 120 s limit")
    parser.add_argument("--n", type=int, default=None, help="samples (default 1e4; quick 2000)")
    parser.add_argument("--p", type=int, default=None, help="features (default 1e6; quick 2e4)")
    parser.add_argument("--density", type=float, default=None, help="default 1e-4 (quick 1e-3)")
    parser.add_argument("--n-lams", type=int, default=None, help="default 50 (quick 10)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per solver (default 900, quick 120)")
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    parser.add_argument("--nice", type=int, default=0, help="niceness of the child processes")
    parser.add_argument("--json", default=None, help="write the rows to this file")
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.warm, args.data, args.n_lams, args.out)
    q = args.quick
    n = args.n or (2000 if q else 10_000)
    p = args.p or (20_000 if q else 1_000_000)
    density = args.density or (1e-3 if q else 1e-4)
    n_lams = args.n_lams or (10 if q else 50)
    timeout = args.timeout or (120.0 if q else 900.0)
    solvers = [s for s in args.solvers.split(",") if s]
    print(f"bench_million: group-lasso path, n = {n}, p = {p}, density {density:g}, groups of {GROUP}, "
          f"{n_lams} lam values from lam_max to 0.01 lam_max; limit {timeout:g} s per solver; "
          f"load average {os.getloadavg()}", flush=True)
    import structsparse as ss

    rows = {}
    with tempfile.TemporaryDirectory(prefix="ss_million_") as work:
        t0 = time.perf_counter()
        A, y = mem.sparse_problem(n, p, density, rng=0, group_size=GROUP)
        groups = ss.Groups.contiguous(p, GROUP)
        loss = ss.LeastSquares(A, y)
        lam_max = ss.lambda_max(loss, ss.GroupLasso(groups, 1.0))
        folder = mem.save_problem(Path(work) / "problem", A, y, lam_max=lam_max)
        Aw, yw = mem.sparse_problem(500, 2000, 1e-2, rng=1, group_size=GROUP)
        warm = mem.save_problem(Path(work) / "warm", Aw, yw,
                                lam_max=ss.lambda_max(ss.LeastSquares(Aw, yw), ss.GroupLasso(
                                    ss.Groups.contiguous(2000, GROUP), 1.0)))
        print(f"problem drawn in {time.perf_counter() - t0:.1f} s: {A.nnz} nonzeros, design "
              f"{mem.fmt_mb(mem.design_bytes(A))} MB, solution path {mem.fmt_mb(8.0 * n_lams * p)} MB", flush=True)
        lams = lam_max * np.geomspace(1.0, 0.01, n_lams)
        for solver in solvers:
            out = Path(work) / f"coefs_{solver}.npy"
            cmd = [sys.executable, str(HERE / "bench_million.py"), "--child", solver, "--warm", str(warm),
                   "--data", str(folder), "--n-lams", str(n_lams), "--out", str(out)]
            run = mem.run_command(cmd, timeout=timeout, nice=args.nice)
            rep = (mem.results_of(run["stdout"]) or [{}])[-1]
            rep.update(status=run["status"], wall=run["wall"], maxrss=run["maxrss"])
            if run["status"] == "ok":
                coefs = np.load(out)
                pen = ss.GroupLasso(groups, 1.0)
                rep["objectives"] = [float(loss.value(c) + lam * pen(c)) for c, lam in zip(coefs, lams)]
                rep["support_last"] = int(np.count_nonzero(coefs[-1]))
                del coefs
                out.unlink()
            elif run["status"] == "error":
                rep["error"] = (run["stderr"].strip().splitlines() or [""])[-1]
            rows[solver] = rep
            print(f"    {solver}: {run['status']} after {run['wall']:.1f} s", flush=True)
            if args.json:  # after every solver: a run stopped from outside keeps what it measured
                from structsparse._atomic import atomic_write_text

                atomic_write_text(args.json, json.dumps(rows, default=float))
    done = [r["objectives"] for r in rows.values() if "objectives" in r]
    best = np.min(np.array(done), axis=0) if done else None
    print("\n| solver | status | path time (s) | warm-up (s) | peak RSS in the path (MB) | peak at exit, wait4 (MB) | "
          "max rel. subopt. over the grid | nonzeros at the last lam |")
    print("|---|---|---|---|---|---|---|---|")
    for solver, r in rows.items():
        if r["status"] == "ok":
            sub = float(np.max((np.array(r["objectives"]) - best) / np.abs(best)))
            r["max_subopt"] = sub
            print(f"| {solver} | ok | {r['time']:.2f} | {r['warmup']:.2f} | {mem.fmt_mb(r['peak'])} | "
                  f"{mem.fmt_mb(r['maxrss'])} | {sub:.1e} | {r['support_last']} |")
        else:
            status = f"did not finish in {timeout:g} s" if r["status"] == "timeout" else f"error: {r.get('error')}"
            print(f"| {solver} | {status} | - | {r.get('warmup', float('nan')):.2f} | - | {mem.fmt_mb(r['maxrss'])} "
                  f"| - | - |")
    ours = rows.get("structsparse", {})
    for solver, r in rows.items():
        if solver != "structsparse" and r["status"] == "ok" and ours.get("status") == "ok":
            print(f"{solver} / structsparse path time: {r['time'] / ours['time']:.2f}x")
    print(f"load average at the end {os.getloadavg()}")
    if args.json:
        from structsparse._atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(rows, default=float))
    return rows


if __name__ == "__main__":
    main()
