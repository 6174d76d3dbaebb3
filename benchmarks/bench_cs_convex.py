"""Noiseless convex recovery of real signals: ``tree_lasso`` and ``l1`` against spgl1 and pyproximal, one run.

Usage::

    python benchmarks/bench_cs_convex.py                       # 6 signals x 3 values of M (a few minutes)
    python benchmarks/bench_cs_convex.py --signals ecg --fracs 0.25
    python benchmarks/bench_cs_convex.py --methods tree_lasso,spgl1   # without basis pursuit by ours (slow)

Signals (N = 1024, from PyWavelets): the ECG (``pywt.data.ecg``) and the
Donoho-Johnstone signals HeaviSine, Doppler, Blocks, Bumps, Piece-Regular
(``pywt.data.demo_signal``). They are compressible, not sparse. The unknown
is the signal's db4 wavelet coefficient vector ``c``; ``A = Phi Psi`` with
``Phi`` an ``M x N`` Gaussian matrix (a dense ``A`` for every method) and
``y = A c``, noiseless, ``M = 0.15, 0.25, 0.35 N``.

Methods, every one on the same ``A`` and ``y``:

* ``tree_lasso``: ``cs.recover(..., method="tree_lasso")``, ``min Omega_tree(c) s.t. A c = y``;
* ``l1``: ``cs.recover(..., method="l1")``, basis pursuit;
* spgl1's ``spg_bp`` (basis pursuit, its default tolerances);
* pyproximal's ADMM for basis pursuit (``L1`` + ``AffineSet`` on a pylops
  operator, 1000 iterations, 20 conjugate-gradient steps per projection,
  step ``tau = mean |A^T y| m / N``), as in ``bench_cs_real.py``.

For each: wall-clock time (median over the runs), how many runs reported
convergence (ours: a dual certificate or relative objective gap <= 1e-6 with
relative residual <= 1e-9; both are printed), relative error against ``c``,
and for basis pursuit the l1 norm spgl1 reaches against ours (our lower bound
certifies how far from optimal each is). One BLAS thread for everything; a
warm-up call of each method first (its time is reported apart).
"""

import _setup  # noqa: F401  (first: one BLAS thread, structsparse importable)
import argparse
import time
import warnings

import numpy as np

SIGNALS = {"ecg": None, "heavisine": "HeaviSine", "doppler": "Doppler", "blocks": "Blocks", "bumps": "Bumps",
           "piece-regular": "Piece-Regular"}


def load(name, n):
    import pywt

    if name == "ecg":
        return np.asarray(pywt.data.ecg(), dtype=float)[:n]
    return np.asarray(pywt.data.demo_signal(SIGNALS[name], n), dtype=float)


def ours(A, y, model, method):
    from structsparse import cs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-convergence is counted from the result
        res = cs.recover(A, y, model, method=method)
    return res.x, res.time, {"converged": res.converged, "gap": res.info.get("gap", np.nan),
                             "residual": res.info.get("residual", np.nan), "lower": res.info.get("lower_bound")}


def spgl1_bp(A, y):
    import spgl1

    t = time.perf_counter()
    x, *_ , info = spgl1.spg_bp(A, y, verbosity=0)
    elapsed = time.perf_counter() - t
    resid = np.linalg.norm(A @ x - y) / np.linalg.norm(y)
    return x, elapsed, {"converged": info.get("stat") in (1, 2, 3, 4), "gap": np.nan, "residual": resid,
                        "lower": None}


def pyproximal_bp(A, y, niter=1000, cg_iter=20):
    """Basis pursuit by pyproximal's ADMM (``L1`` + ``AffineSet``); see ``bench_cs_real.run_pyproximal``."""
    from bench_cs_real import run_pyproximal

    x, elapsed, conv, _ = run_pyproximal(A, y, niter, cg_iter)
    resid = np.linalg.norm(A @ x - y) / np.linalg.norm(y)
    return x, elapsed, {"converged": conv, "gap": np.nan, "residual": resid, "lower": None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", default=",".join(SIGNALS))
    parser.add_argument("--fracs", default="0.15,0.25,0.35")
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", default="tree_lasso,l1,spgl1,pyproximal")
    args = parser.parse_args()
    from structsparse import cs

    n = args.n
    model = cs.TreeSparse(n, 40, "db4")
    W = model.synthesis
    signals = args.signals.split(",")
    fracs = [float(f) for f in args.fracs.split(",")]

    # warm-up (numba kernels loaded or compiled): reported apart, excluded from the figures
    c = W.analysis(load("ecg", n))
    A = cs.as_matrix(cs.gaussian(int(0.25 * n), n, rng=12345) @ W)
    methods = args.methods.split(",")
    for name, fn in (("tree_lasso", lambda: ours(A, A @ c, model, "tree_lasso")),
                     ("l1", lambda: ours(A, A @ c, model, "l1")), ("spgl1", lambda: spgl1_bp(A, A @ c)),
                     ("pyproximal", lambda: pyproximal_bp(A, A @ c, 20))):
        if name not in methods:
            continue
        t = time.perf_counter()
        fn()
        print(f"first call {name}: {time.perf_counter() - t:.2f} s")

    rows = {k: {"time": [], "err": [], "conv": [], "gap": [], "resid": [], "obj": [], "lower": []}
            for k in ("tree_lasso", "l1", "spgl1", "pyproximal") if k in methods}
    nan_info = {"converged": False, "gap": np.nan, "residual": np.nan, "lower": None}
    rng = np.random.default_rng(args.seed)
    print(f"\n| signal | M | tree_lasso time / conv / gap / err | l1 time / conv / gap / err | spgl1 time / err | "
          f"pyproximal time / err | spgl1 l1-norm vs ours |")
    print("|---|---|---|---|---|---|---|")
    for name in signals:
        c = W.analysis(load(name, n))
        for frac in fracs:
            m = int(round(frac * n))
            A = cs.as_matrix(cs.gaussian(m, n, rng) @ W)
            y = A @ c
            line = {k: (np.nan, nan_info, np.nan) for k in ("tree_lasso", "l1", "spgl1", "pyproximal")}
            for key, fn in (("tree_lasso", lambda: ours(A, y, model, "tree_lasso")),
                            ("l1", lambda: ours(A, y, model, "l1")), ("spgl1", lambda: spgl1_bp(A, y)),
                            ("pyproximal", lambda: pyproximal_bp(A, y))):
                if key not in methods:
                    continue
                x, elapsed, info = fn()
                r = rows[key]
                r["time"].append(elapsed)
                r["err"].append(np.linalg.norm(x - c) / np.linalg.norm(c))
                r["conv"].append(bool(info["converged"]))
                r["gap"].append(info["gap"])
                r["resid"].append(info["residual"])
                r["obj"].append(float(np.abs(x).sum()))
                r["lower"].append(info["lower"])
                line[key] = (elapsed, info, r["err"][-1])
            t, i, e = line["tree_lasso"]
            t1, i1, e1 = line["l1"]
            ts, _, es = line["spgl1"]
            tp, _, ep = line["pyproximal"]
            rel = (rows["spgl1"]["obj"][-1] / rows["l1"]["obj"][-1] - 1) if {"l1", "spgl1"} <= set(methods) else np.nan
            print(f"| {name} | {m} | {t:.2f} s / {i['converged']} / {i['gap']:.0e} / {e:.3f} | "
                  f"{t1:.2f} s / {i1['converged']} / {i1['gap']:.0e} / {e1:.3f} | {ts:.2f} s / {es:.3f} | "
                  f"{tp:.2f} s / {ep:.3f} | "
                  f"{rel:+.1e} |")
    print()
    for key, r in rows.items():
        gaps = np.array(r["gap"], float)
        extra = (f", gap median {np.nanmedian(gaps):.1e} max {np.nanmax(gaps):.1e}, residual max "
                 f"{np.nanmax(r['resid']):.1e}") if key in ("tree_lasso", "l1") else \
            f", residual max {np.max(r['resid']):.1e}"
        print(f"{key:10s}: time median {np.median(r['time']):.2f} s (max {np.max(r['time']):.2f} s), "
              f"converged {sum(r['conv'])}/{len(r['conv'])}{extra}, relative error median {np.median(r['err']):.3f}")
    med = {k: np.median(r["time"]) for k, r in rows.items()}
    if "spgl1" in rows:
        print("\n" + "; ".join(f"{k} / spgl1 median time: {med[k] / med['spgl1']:.2f}x" for k in rows if k != "spgl1"))
    if {"tree_lasso", "pyproximal"} <= set(rows):
        err_t, err_p = np.array(rows["tree_lasso"]["err"]), np.array(rows["pyproximal"]["err"])
        print(f"tree_lasso error below pyproximal basis pursuit's in {100 * np.mean(err_t < err_p):.0f} % of runs; "
              f"median error ratio {np.median(err_t / np.maximum(err_p, 1e-300)):.2f}")
    if {"tree_lasso", "spgl1"} <= set(rows):
        err_t, err_s = np.array(rows["tree_lasso"]["err"]), np.array(rows["spgl1"]["err"])
        print(f"tree_lasso error below spgl1 basis pursuit's in {100 * np.mean(err_t < err_s):.0f} % of runs; "
              f"median error ratio {np.median(err_t / np.maximum(err_s, 1e-300)):.2f}")
    if {"l1", "spgl1"} <= set(rows):
        # spgl1's l1 norm against our lower bound: how far from the basis-pursuit optimum it stops
        lows = np.array([lw if lw is not None else np.nan for lw in rows["l1"]["lower"]], float)
        excess = np.array(rows["spgl1"]["obj"]) / lows - 1
        print(f"spgl1's l1 norm above our lower bound on the optimum: median {np.nanmedian(excess):.1e}, "
              f"max {np.nanmax(excess):.1e}")
    print("\nOne BLAS thread; the machine may be shared, so times are indicative; the ratios are from one run.")


if __name__ == "__main__":
    main()
