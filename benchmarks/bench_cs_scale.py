"""Compressive sensing at scale: ``cs.recover`` with a fast operator at ``N = 2^16`` and ``2^18``.

    python benchmarks/bench_cs_scale.py --quick       # N = 2^12 and 2^14 (about a minute idle)
    python benchmarks/bench_cs_scale.py               # N = 2^16 and 2^18, 900 s per method and size
    python benchmarks/bench_cs_scale.py --sizes 16 --methods model_cosamp,spgl1

The operator is ``cs.partial_dct(M, N)``: ``M = N / 8`` random rows of the orthonormal DCT, a matrix-free
``LinearOperator`` (one ``scipy.fft`` transform per product; a dense matrix at ``N = 2^18`` would take
``2^15 x 2^18 x 8`` bytes = 64 GiB). The signal is block sparse (``cs.BlockSparse``): blocks of 8,
``K = N / 1024`` active blocks (``K J / M = 1/16``), Gaussian entries, noiseless measurements.

Methods, each in its own child process with a time limit (``_memory.run_command``; peak RSS from the
operating system) on the same operator, rows and signal:

* ``group_lasso``: ``cs.recover(A, y, model, "group_lasso")``, group basis pursuit
  ``min sum_b ||x_b|| s.t. A x = y`` by the solver layer's continuation, stopped by its own certificate;
* ``model_cosamp``: ``cs.recover(A, y, model, "model_cosamp")`` (model-based CoSaMP, block model);
* ``spgl1``: spgl1's group basis pursuit on the same operator: ``spgl1.spgl1(A, y, tau=0, sigma=0)``
  with its own l1,2 primal norm, dual norm and projection for contiguous groups of 8 (the functions
  ``spg_mmv`` uses), default tolerances (``bp_tol = 1e-6``, ``opt_tol = 1e-4``).

Success: relative error ``||x - x0|| / ||x0|| < 1e-3``. The table gives time, relative error, relative
residual, the method's own convergence flag and the peak RSS of the recovery.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, not an installed copy
import _setup  # noqa: F401,E402  (first: one BLAS thread)
import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import _memory as mem  # noqa: E402

HERE = Path(__file__).resolve().parent
BLOCK = 8
METHODS = ("group_lasso", "model_cosamp", "spgl1")
SUCCESS = 1e-3


def problem(log2n, rng=0):
    """The operator, the model, the signal and the measurements for ``N = 2^log2n``."""
    from structsparse import cs

    n = 2 ** log2n
    m = n // 8
    model = cs.BlockSparse(n, BLOCK, max(1, n // 1024))
    x0 = model.sample(rng=rng)
    A = cs.partial_dct(m, n, rng=rng + 1)
    return A, A.matvec(x0), model, x0


def recover_spgl1(A, y):
    """spgl1's group basis pursuit (contiguous groups of ``BLOCK``) on the operator ``A``."""
    import spgl1
    from spgl1.spgl1 import _norm_l12_dual, _norm_l12_primal, _norm_l12_project

    # spgl1's l1,2 functions take x as rows of length g: contiguous groups of g = BLOCK entries
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, _, _, info = spgl1.spgl1(
            A, y, tau=0, sigma=0, verbosity=0,
            project=lambda x, w, tau: _norm_l12_project(BLOCK, x, w, tau),
            primal_norm=lambda x, w: _norm_l12_primal(BLOCK, x, w),
            dual_norm=lambda x, w: _norm_l12_dual(BLOCK, x, w))
    return x, {"converged": info["stat"] in (1, 2, 4), "n_iter": int(info["niters"]),
               "message": f"stat {info['stat']}"}


def run_method(method, A, y, model):
    from structsparse import cs

    if method == "spgl1":
        return recover_spgl1(A, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cs.recover(A, y, model, method=method)
    return res.x, {"converged": bool(res.converged), "n_iter": int(res.n_iter), "message": res.message}


def _child(method, log2n):
    t0 = time.perf_counter()
    Aw, yw, mw, _ = problem(10, rng=5)
    run_method(method, Aw, yw, mw)  # warm-up: numba caches, fft plans
    warm = time.perf_counter() - t0
    A, y, model, x0 = problem(log2n)
    rss = mem._status("VmRSS")
    mem.reset_peak()
    t0 = time.perf_counter()
    x, info = run_method(method, A, y, model)
    elapsed = time.perf_counter() - t0
    peak = mem._status("VmHWM")
    x = np.asarray(x, dtype=float).ravel()
    err = float(np.linalg.norm(x - x0) / np.linalg.norm(x0))
    resid = float(np.linalg.norm(A.matvec(x) - y) / np.linalg.norm(y))
    print("RESULT " + json.dumps(dict(info, time=elapsed, warmup=warm, error=err, residual=resid, peak=peak,
                                      rss_data=rss, dense_bytes=8.0 * A.shape[0] * A.shape[1])), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--log2n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="N = 2^12 and 2^14")
    parser.add_argument("--sizes", default=None, help="comma-separated log2 N (default 16,18; quick 12,14)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--timeout", type=float, default=None, help="seconds per run (default 900; quick 120)")
    parser.add_argument("--nice", type=int, default=0, help="niceness of the child processes")
    parser.add_argument("--json", default=None, help="write the rows to this file")
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.log2n)
    sizes = [int(s) for s in (args.sizes or ("12,14" if args.quick else "16,18")).split(",")]
    timeout = args.timeout or (120.0 if args.quick else 900.0)
    methods = [m for m in args.methods.split(",") if m]
    print(f"bench_cs_scale: partial DCT, M = N/8, blocks of {BLOCK}, K = N/1024 active blocks, noiseless; "
          f"limit {timeout:g} s per run; load average {os.getloadavg()}", flush=True)
    rows = []
    for log2n in sizes:
        for method in methods:
            cmd = [sys.executable, str(HERE / "bench_cs_scale.py"), "--child", method, "--log2n", str(log2n)]
            run = mem.run_command(cmd, timeout=timeout, nice=args.nice)
            rep = (mem.results_of(run["stdout"]) or [{}])[-1]
            rep.update(N=2 ** log2n, method=method, status=run["status"], wall=run["wall"], maxrss=run["maxrss"])
            if run["status"] == "error":
                rep["error_text"] = (run["stderr"].strip().splitlines() or [""])[-1]
            rows.append(rep)
            print(f"    N = 2^{log2n} {method}: {run['status']} after {run['wall']:.1f} s", flush=True)
            if args.json:  # after every run: a run stopped from outside keeps what it measured
                from structsparse._atomic import atomic_write_text

                atomic_write_text(args.json, json.dumps(rows, default=float))
    print("\n| N | M | method | status | time (s) | rel. error | success (< 1e-3) | rel. residual | converged | "
          "iterations | peak RSS in the recovery (MB) | a dense A would be (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["status"] == "ok":
            print(f"| 2^{int(np.log2(r['N']))} | {r['N'] // 8} | {r['method']} | ok | {r['time']:.2f} | "
                  f"{r['error']:.1e} | {'yes' if r['error'] < SUCCESS else 'no'} | {r['residual']:.1e} | "
                  f"{r['converged']} | {r['n_iter']} | {mem.fmt_mb(r['peak'])} | {mem.fmt_mb(r['dense_bytes'])} |")
        else:
            status = (f"did not finish in {timeout:g} s" if r["status"] == "timeout"
                      else f"error: {r.get('error_text')}")
            print(f"| 2^{int(np.log2(r['N']))} | {r['N'] // 8} | {r['method']} | {status} | - | - | no | - | - | - | "
                  f"- | {mem.fmt_mb(8.0 * r['N'] * r['N'] / 8)} |")
    print(f"load average at the end {os.getloadavg()}")
    if args.json:
        from structsparse._atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(rows, default=float))
    return rows


if __name__ == "__main__":
    main()
