"""Compressive sensing of real signals and images, against spgl1's and pyproximal's basis pursuit (same run).

Usage::

    python benchmarks/bench_cs_real.py --part signals            # 1-D table (a few minutes)
    python benchmarks/bench_cs_real.py --part images --sizes 128  # camera and ascent, 128 x 128
    python benchmarks/bench_cs_real.py --part images --sizes 256 --samplings fourier
    python benchmarks/bench_cs_real.py --part cssa --sizes 128,256   # CSSA against the exact tree projection
    python benchmarks/bench_cs_real.py --part images --images camera --fracs 0.25 --select holdout --skip l1

Peers: spgl1 (``pip install spgl1``; the bench extra), basis pursuit
``min ||c||_1 s.t. A c = y`` (noiseless) or BPDN ``||A c - y|| <= sigma``
(noisy, ``sigma`` the true noise norm), on the same wavelet coefficients
and the same measurements as our methods.

**1-D** (PyWavelets' ECG and the five Donoho-Johnstone signals, N=1024,
db4, Gaussian sampling, M = 0.15, 0.25, 0.35 N, noiseless and 1 % noise):
error ``||c_hat - c|| / ||c||`` of every method, and the same divided by
the best k-term and by the best k-coefficient tree approximation error at
the reference size ``k_ref = M // 4``. Greedy methods need a size ``k``:
each (tree and plain alike) picks its own from ``{M/6, M/4, M/3}`` by
hold-out validation on the measurements (10 % of the rows held out, the
truth never seen), then runs on all rows. ``tree_lasso`` and ``l1`` need
no size.

**Images** (camera and ascent reduced to 128 x 128 or 256 x 256 by block
averaging, db4 quadtree unless ``--wavelet`` says otherwise, the same
wavelet for every method and peer, M = N/8, N/4, N/3): variable-density
partial Fourier (real-valued, :func:`structsparse.cs.partial_fourier`) and
Gaussian sampling (drawn on the wavelet coefficients, which is Gaussian
sampling of the pixels; not at 256 x 256: the dense matrix would take
8 GiB at M = N/4 and 10.7 GiB at M = N/3, about 1 s per product on one
thread, and spgl1, pyproximal and our solvers each need thousands of
products). Greedy methods use ``k = M // 4`` for tree and plain alike,
unless ``--select holdout``.

``--select holdout``: nothing is fixed by hand or tuned on the truth; every
greedy method picks its ``k`` (default candidates ``m_fit / 16 ..
m_fit / 3``) and the tree lasso the exponent ``alpha`` of its node weights
``2^(alpha depth)`` (``--depth-weights``) by
:func:`structsparse.cs.select_by_holdout`: 10 % of the measurements held
out, every candidate fitted on the rest, the smallest held-out residual
wins, refit on all measurements. spgl1 gets the same depth weights on its
l1 norm, chosen the same way on the same held-out rows ("spgl1 (cv)"). The
reported time includes the selection.

``--select holdout --reweight R`` adds the reweighted tree lasso ("tree_lasso rw (cv)": ``R`` rounds of
node weights ``2^(alpha depth) eps / (||c_g|| + eps)``, Candes, Wakin and Boyd 2008 on the subtree groups;
``alpha`` the one chosen for "tree_lasso (cv)", the factor of ``eps`` chosen by hold-out on the same rows
among ``--reweight-eps``, default ``inf`` (no reweighting), 1, 3, 10) and gives spgl1 the same treatment ("spgl1 rw (cv)": its chosen alpha, ``R``
rounds of the same rule on single coefficients, the factor chosen the same way). Both times include their
selections. ``tree_lasso`` and ``l1`` are the noiseless constrained programs
``min Omega(c) s.t. A c = y`` of ``cs.recover`` (the solver layer's
continuation, stopping on a certificate or a relative gap of 1e-6 at a
relative residual of 1e-9), each with the same wall-clock budget
(``--time-limit``, default 120 s; a star marks a solve stopped by it).
Nothing is tuned on the truth. Reported: relative error of the
coefficients (= of the image, the transform is orthogonal), PSNR and SSIM
(data range 1) and wall-clock time. The zero-filled back-projection is
listed as a reference.

Peers on images: spgl1's ``spg_bp`` (1000 iterations at most) and
pyproximal's ADMM for basis pursuit (``L1`` + ``AffineSet`` on a pylops
operator, 300 iterations; 150 with 8 conjugate-gradient steps per
projection on dense Gaussian matrices), both on our operator ``A`` and
``y``. On the 1-D signals pyproximal runs 1000 iterations (20 CG steps),
noiseless rows only.

Timings are wall-clock seconds on whatever machine runs this (one BLAS
thread); the first call of each method (numba kernels loaded or compiled)
is made on a small warm-up problem and reported separately.
"""

import _setup  # noqa: F401  (first: one BLAS thread, structsparse importable)
import argparse
import os
import time
import warnings
import zlib

import numpy as np

GREEDY = ("model_cosamp", "cosamp", "model_iht", "iht")
PAIRS = (("model_cosamp", "cosamp"), ("model_iht", "iht"), ("tree_lasso", "l1"))


def _spgl1():
    try:
        import spgl1
    except ImportError:
        raise SystemExit("spgl1 is the basis-pursuit peer of this benchmark: pip install spgl1") from None
    return spgl1


def run_spgl1(prob, iter_lim):
    spgl1 = _spgl1()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if prob.noise_std > 0:
            x, _, _, info = spgl1.spg_bpdn(prob.A, prob.y, prob.noise_std * np.sqrt(prob.m), iter_lim=iter_lim,
                                           verbosity=0)
        else:
            x, _, _, info = spgl1.spg_bp(prob.A, prob.y, iter_lim=iter_lim, verbosity=0)
    elapsed = time.perf_counter() - t
    # spgl1's stat: 1-4 = a solution found (root, BP, LS, ...); 5 = iteration limit; others = failures
    return np.asarray(x, dtype=float), elapsed, int(info["stat"]) in (1, 2, 3, 4), int(info["niters"])


def _pyproximal():
    try:
        import pylops
        import pyproximal
    except ImportError:
        raise SystemExit("pylops and pyproximal are basis-pursuit peers of this benchmark: pip install pylops "
                         "pyproximal") from None
    return pylops, pyproximal


def run_pyproximal(A, y, niter=300, cg_iter=2):
    """Basis pursuit ``min ||c||_1 s.t. A c = y`` by pyproximal's ADMM (``L1`` and ``AffineSet``, a pylops operator).

    ``AffineSet`` projects by ``cg_iter`` conjugate-gradient steps on ``A A^T``
    (exact in one step for the orthogonal-row Fourier operators). The step
    ``tau = mean |A^T y| * m / N`` (an estimate of the mean magnitude of the
    minimum-norm solution) is an a-priori rule, never tuned on the truth.
    Returns the ADMM's ``z`` (the projected, feasible iterate).
    """
    pylops, pyproximal = _pyproximal()
    Op = pylops.MatrixMult(A) if isinstance(A, np.ndarray) else pylops.aslinearoperator(A)
    m, n = A.shape
    t = time.perf_counter()
    tau = float(np.mean(np.abs(Op.rmatvec(y)))) * m / n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, z = pyproximal.optimization.primal.ADMM(pyproximal.L1(), pyproximal.AffineSet(Op, y, cg_iter),
                                                   np.zeros(n), tau, niter=niter, z0=np.zeros(n))
    elapsed = time.perf_counter() - t
    # no stopping rule but the iteration count: 'converged' means the constraint holds to 1e-6
    resid = float(np.linalg.norm(Op.matvec(z) - y) / max(np.linalg.norm(y), 1e-300))
    return np.asarray(z, dtype=float), elapsed, resid <= 1e-6, niter


def _model(prob, k):
    from structsparse import cs

    W = prob.synthesis
    if prob.is_image:
        return cs.TreeSparse2D(prob.shape, max(int(k), W.band_sizes[0]), W.wavelet, W.level)
    return cs.TreeSparse(prob.n, max(int(k), W.lengths[0]), W.wavelet, W.level)


def run_ours(prob, method, k, **kw):
    from structsparse import cs
    from structsparse.exceptions import ConvergenceWarning

    model = _model(prob, max(k, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = cs.recover(prob.A, prob.y, model, method=method, noise=prob.noise_std or None, **kw)
    return res.x, res.time, res.converged, res.n_iter


def run_constrained(prob, method, time_limit=None):
    """Noiseless ``min Omega(c) s.t. A c = y`` (``Omega`` the tree norm or l1) by ``cs.convex.constrained_recovery``.

    The same program as ``cs.recover(..., method=method)`` without noise
    (the solver layer's continuation: it stops on a dual certificate or at a
    relative objective gap of 1e-6 with a relative residual of 1e-9), with a
    wall-clock budget ``time_limit`` (the same for both norms); ``converged``
    says whether it stopped on its tolerances.
    """
    import structsparse as ss
    from structsparse.cs.convex import constrained_recovery
    from structsparse.exceptions import ConvergenceWarning

    pen = ss.TreeLasso(_model(prob, prob.m // 4).tree(), 1.0) if method == "tree_lasso" else ss.L1(1.0)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        x, info = constrained_recovery(prob.A, prob.y, pen, time_limit=time_limit)
    return x, time.perf_counter() - t, bool(info["converged"]), info


def choose_k(prob, method, candidates, rng):
    """Hold-out validation on the measurements: the k whose fit on 90 % of the rows best predicts the rest."""
    from dataclasses import replace

    m = prob.m
    perm = rng.permutation(m)
    val, fit = np.sort(perm[:max(m // 10, 1)]), np.sort(perm[max(m // 10, 1):])
    A = prob.A
    sub = replace(prob, A=A[fit], y=prob.y[fit])
    best = None
    for k in candidates:
        if k < _model(prob, prob.n).root_size:
            continue
        x, *_ = run_ours(sub, method, k)
        err = float(np.linalg.norm(A[val] @ x - prob.y[val]))
        if best is None or err < best[0]:
            best = (err, k)
    return best[1]


def select_ours(prob, method, k, seed, depth_weights, **kw):
    """``cs.select_by_holdout`` on the measurements: ``k`` of a greedy method, or the tree lasso's depth exponent.

    10 % of the rows held out (the rows drawn by ``seed``), every candidate fit on the rest, the best refit on
    all rows; the truth is never passed. Returns ``(x, seconds including the selection, converged, chosen)``.
    """
    from structsparse import cs
    from structsparse.exceptions import ConvergenceWarning

    model = _model(prob, max(k, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if method == "tree_lasso":
            sel = cs.select_by_holdout(prob.A, prob.y, model, method, param="depth_weight",
                                       candidates=depth_weights, rng=seed, **kw)
        else:
            sel = cs.select_by_holdout(prob.A, prob.y, model, method, rng=seed, **kw)
    scores = " ".join(f"{c:g}:{v:.4g}" for c, v in zip(sel.candidates, sel.scores))
    return sel.result.x, sel.time, sel.result.converged, f"{sel.param}={sel.best:g} (held-out scores {scores})"


def select_reweighted(prob, k, seed, alpha, rounds, eps_factors):
    """The reweighted tree lasso (``rounds`` rounds, depth exponent ``alpha``), its ``eps`` factor by hold-out.

    ``cs.select_by_holdout(param="reweight_eps")`` on the same held-out rows as :func:`select_ours` (drawn
    by ``seed``); the truth is never passed. Returns ``(x, seconds of this selection and refit, converged,
    chosen)``; the time does not include the choice of ``alpha``.
    """
    from structsparse import cs
    from structsparse.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sel = cs.select_by_holdout(prob.A, prob.y, _model(prob, max(k, 1)), "tree_lasso", param="reweight_eps",
                                   candidates=eps_factors, rng=seed, depth_weight=alpha, reweight=rounds)
    scores = " ".join(f"{c:g}:{v:.4g}" for c, v in zip(sel.candidates, sel.scores))
    return (sel.result.x, sel.time, sel.result.converged,
            f"alpha={alpha:g} reweight_eps={sel.best:g} ({rounds} rounds; held-out scores {scores})")


def spgl1_reweighted(A, y, iter_lim, base, rounds, eps_factor):
    """spgl1's weighted basis pursuit reweighted ``rounds`` times, the rule of the reweighted tree lasso on l1.

    Weights ``base_i eps / (|c_i| + eps)`` with ``eps`` from
    :func:`structsparse.cs.convex.reweighted_tree_weights` applied to the
    coefficients' magnitudes (Candes, Wakin and Boyd 2008 as they state it).
    """
    from structsparse.cs.convex import reweighted_tree_weights

    spgl1 = _spgl1()
    m, n = A.shape
    x, _, _, info = spgl1.spg_bp(A, y, iter_lim=iter_lim, verbosity=0, weights=base)
    ok = int(info["stat"]) in (1, 2, 3, 4)
    for _ in range(rounds if np.isfinite(eps_factor) else 0):  # inf: the weights would not change
        weights, _ = reweighted_tree_weights(np.abs(x), base, m, n, eps_factor)
        x, _, _, info = spgl1.spg_bp(A, y, iter_lim=iter_lim, verbosity=0, weights=weights)
        ok = ok and int(info["stat"]) in (1, 2, 3, 4)
    return np.asarray(x, dtype=float), ok


def select_spgl1_reweighted(prob, iter_lim, seed, alpha, rounds, eps_factors):
    """:func:`spgl1_reweighted` with depth exponent ``alpha``, its ``eps`` factor chosen as ours is.

    The same held-out rows as :func:`select_reweighted` and the same score; the best factor refit on all rows.
    """
    from structsparse import cs

    m = prob.m
    n_val = int(round(0.1 * m))
    val = np.sort(np.random.default_rng(seed).permutation(m)[:n_val])
    fit = np.setdiff1d(np.arange(m), val)
    A_fit, A_val = cs.row_subset(prob.A, fit), cs.row_subset(prob.A, val)
    base = np.exp2(alpha * coefficient_depths(prob).astype(float))
    t = time.perf_counter()
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for c in eps_factors:
            x, _ = spgl1_reweighted(A_fit, prob.y[fit], iter_lim, base, rounds, c)
            pred = A_val @ x if isinstance(A_val, np.ndarray) else A_val.matvec(x)
            scores.append(float(np.linalg.norm(pred - prob.y[val]) / np.linalg.norm(prob.y[val])))
        best = eps_factors[int(np.argmin(scores))]
        x, ok = spgl1_reweighted(prob.A, prob.y, iter_lim, base, rounds, best)
    text = " ".join(f"{c:g}:{v:.4g}" for c, v in zip(eps_factors, scores))
    return x, time.perf_counter() - t, ok, f"alpha={alpha:g} reweight_eps={best:g} ({rounds} rounds; held-out scores {text})"


def coefficient_depths(prob):
    """Depth in the wavelet tree of every coefficient (0 for the scaling coefficients)."""
    model = _model(prob, prob.m // 4)
    return model.node_depths()[model.parent_of_coefficient]


def select_spgl1(prob, iter_lim, seed, depth_weights):
    """spgl1's weighted basis pursuit ``min sum_i 2^(alpha depth_i) |c_i| s.t. A c = y``, alpha chosen as ours is.

    The same held-out rows as :func:`select_ours` (the permutation drawn by ``seed``), the same candidates and
    score (relative residual on the held-out rows); the best alpha refit on all rows. This gives the peer the
    same depth weighting and the same selection as the tree lasso (equal treatment).
    """
    from structsparse import cs

    spgl1 = _spgl1()
    m = prob.m
    n_val = int(round(0.1 * m))
    val = np.sort(np.random.default_rng(seed).permutation(m)[:n_val])
    fit = np.setdiff1d(np.arange(m), val)
    A_fit, A_val = cs.row_subset(prob.A, fit), cs.row_subset(prob.A, val)
    depth = coefficient_depths(prob).astype(float)
    t = time.perf_counter()
    scores = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for alpha in depth_weights:
            x = spgl1.spg_bp(A_fit, prob.y[fit], iter_lim=iter_lim, verbosity=0, weights=np.exp2(alpha * depth))[0]
            pred = A_val @ x if isinstance(A_val, np.ndarray) else A_val.matvec(x)
            scores.append(float(np.linalg.norm(pred - prob.y[val]) / np.linalg.norm(prob.y[val])))
        best = depth_weights[int(np.argmin(scores))]  # the rule of select_by_holdout for depth weights
        x, _, _, info = spgl1.spg_bp(prob.A, prob.y, iter_lim=iter_lim, verbosity=0, weights=np.exp2(best * depth))
    elapsed = time.perf_counter() - t
    text = " ".join(f"{c:g}:{v:.4g}" for c, v in zip(depth_weights, scores))
    return (np.asarray(x, dtype=float), elapsed, int(info["stat"]) in (1, 2, 3, 4),
            f"alpha={best:g} (held-out scores {text})", best)


def signals_part(fractions, noises, spgl1_iters):
    from structsparse import cs
    from structsparse.cs.data import SIGNALS

    # warm-up: first calls (numba kernels) on a small problem, reported separately
    warm = cs.make_problem("bumps", 0.3, n=256, rng=0)
    print("first calls (warm-up, N=256):", ", ".join(
        f"{m} {run_ours(warm, m, warm.m // 4)[1]:.2f} s" for m in GREEDY + ("l1", "tree_lasso")) +
        f", spgl1 {run_spgl1(warm, spgl1_iters)[1]:.2f} s, pyproximal {run_pyproximal(warm.A, warm.y, 20)[1]:.2f} s")
    methods = GREEDY + ("tree_lasso", "l1", "spgl1", "pyproximal")
    rows = []
    for noise in noises:
        for frac in fractions:
            for name in SIGNALS:
                prob = cs.make_problem(name, frac, rng=zlib.crc32(f"{name} {frac}".encode()), noise=noise)
                k_ref = prob.m // 4
                tree_ref = cs.best_tree_error(prob.coef, _model(prob, k_ref))
                kterm_ref = cs.best_k_term_error(prob.coef, k_ref)
                rng = np.random.default_rng(1)
                cands = sorted({prob.m // 6, prob.m // 4, prob.m // 3})
                for method in methods:
                    if method == "spgl1":
                        x, t, conv, _ = run_spgl1(prob, spgl1_iters)
                        k = None
                    elif method == "pyproximal":
                        if noise > 0:  # basis pursuit only: the noisy rows have no pyproximal entry
                            continue
                        x, t, conv, _ = run_pyproximal(prob.A, prob.y, 1000, cg_iter=20)
                        k = None
                    elif method in GREEDY:
                        k = choose_k(prob, method, cands, rng)
                        x, t, conv, _ = run_ours(prob, method, k)
                    else:
                        k = None
                        x, t, conv, _ = run_ours(prob, method, k_ref)
                    err = float(np.linalg.norm(x - prob.coef) / np.linalg.norm(prob.coef))
                    rows.append(dict(signal=name, frac=frac, noise=noise, method=method, k=k, err=err,
                                     vs_kterm=err / kterm_ref, vs_tree=err / tree_ref, time=t, converged=conv))
                print(f"  done {name:13s} M={prob.m:4d} noise={noise:g}", flush=True)
    print()
    print(f"1-D real signals: N=1024, db4, Gaussian sampling; error relative to ||c||, and divided by the best "
          f"k-term / best tree error at k_ref = M//4 (medians over the {len(SIGNALS)} signals)")
    for noise in noises:
        print(f"\nnoise {noise:g}:")
        print(f"  {'method':13s} " + "  ".join(f"{'M=' + format(f, '.2f') + 'N':>26s}" for f in fractions) +
              "   median time   converged")
        print(f"  {'':13s} " + "  ".join(f"{'err  /kterm  /tree':>26s}" for _ in fractions))
        for method in methods:
            if not any(r["method"] == method and r["noise"] == noise for r in rows):
                continue
            cells, times, conv = [], [], []
            for frac in fractions:
                sel = [r for r in rows if r["method"] == method and r["frac"] == frac and r["noise"] == noise]
                cells.append(f"{np.median([r['err'] for r in sel]):7.4f} {np.median([r['vs_kterm'] for r in sel]):6.2f} "
                             f"{np.median([r['vs_tree'] for r in sel]):6.2f}")
                times += [r["time"] for r in sel]
                conv += [r["converged"] for r in sel]
            print(f"  {method:13s} " + "  ".join(f"{c:>26s}" for c in cells) +
                  f"   {np.median(times):8.3f} s   {sum(conv)}/{len(conv)}")
    print("\nper signal (error, noiseless):")
    for name in SIGNALS:
        for frac in fractions:
            sel = {r["method"]: r for r in rows if r["signal"] == name and r["frac"] == frac and r["noise"] == noises[0]}
            print(f"  {name:13s} M={frac:.2f}N " + " ".join(f"{m}={sel[m]['err']:.3f}" for m in methods if m in sel))
    print("\ntree model against its plain counterpart (same data, same k rule):")
    total_w = total_n = 0
    for tree, plain in PAIRS:
        wins = []
        ratios = []
        for r in rows:
            if r["method"] != tree:
                continue
            p = next(q for q in rows if q["method"] == plain and q["signal"] == r["signal"] and q["frac"] == r["frac"]
                     and q["noise"] == r["noise"])
            wins.append(r["err"] < p["err"])
            ratios.append(r["err"] / p["err"])
        total_w += sum(wins)
        total_n += len(wins)
        print(f"  {tree:13s} vs {plain:7s}: better in {sum(wins)} of {len(wins)} runs, median error ratio "
              f"{np.median(ratios):.2f}")
    print(f"  all pairs: tree better in {total_w} of {total_n} runs ({100 * total_w / total_n:.0f} %; goal >= 90 %)")
    best_tree = [min(r["err"] for r in rows if r["method"] in ("model_cosamp", "model_iht", "tree_lasso")
                     and r["signal"] == s and r["frac"] == f and r["noise"] == z)
                 for s in SIGNALS for f in fractions for z in noises]
    spg = [next(r["err"] for r in rows if r["method"] == "spgl1" and r["signal"] == s and r["frac"] == f
                and r["noise"] == z) for s in SIGNALS for f in fractions for z in noises]
    print(f"  best tree method vs spgl1 basis pursuit: better in {sum(a < b for a, b in zip(best_tree, spg))} of "
          f"{len(spg)} runs, median error ratio {np.median(np.array(best_tree) / np.array(spg)):.2f}")
    return rows


def images_part(sizes, samplings, fractions, spgl1_iters, images=("camera", "ascent"), wavelet="db4",
                time_limit=120.0, pyprox_iters=300, skip=(), select=False, depth_weights=(-1.0, -0.5, 0.0),
                reweight=0, reweight_eps=(float("inf"), 1.0, 3.0, 10.0)):
    from structsparse import cs

    warm = cs.make_problem("camera", 0.25, "fourier", size=32, rng=0, wavelet=wavelet)
    print("first calls (warm-up, 32x32):", ", ".join(
        f"{m} {run_ours(warm, m, warm.m // 4)[1]:.2f} s" for m in GREEDY) +
        f", tree_lasso {run_constrained(warm, 'tree_lasso', 5)[1]:.2f} s"
        f", l1 {run_constrained(warm, 'l1', 5)[1]:.2f} s"
        f", spgl1 {run_spgl1(warm, 50)[1]:.2f} s, pyproximal {run_pyproximal(warm.A, warm.y, 20)[1]:.2f} s")
    rows = []
    for size in sizes:
        for sampling in samplings:
            if sampling == "gaussian" and size > 128:
                print(f"  skipping Gaussian sampling at {size}x{size}: the dense {size * size // 4} x {size * size} "
                      f"matrix (M = N/4) alone is {8 * size ** 4 / 4 / 2 ** 30:.0f} GiB ({8 * size ** 4 / 3 / 2 ** 30:.1f} "
                      f"GiB at M = N/3), about 1 s per product, and spgl1, pyproximal and our solvers would each need "
                      f"it in memory and thousands of products")
                continue
            for name in images:
                for frac in fractions:
                    t0 = time.perf_counter()
                    prob = cs.make_problem(name, frac, sampling, size=size, rng=size + int(frac * 1000),
                                           wavelet=wavelet)
                    t_setup = time.perf_counter() - t0
                    truth = prob.truth
                    k = prob.m // 4
                    results = {"back-projection": (prob.synthesis.rmatvec(prob.backprojection().ravel()), 0.0, True)}
                    chosen = {}
                    seed = zlib.crc32(f"holdout {name} {size} {sampling} {frac}".encode())
                    for method in GREEDY:
                        if method in skip:
                            continue
                        kw = {"tol": 1e-4, "max_iter": 300} if "iht" in method else {}
                        if select:
                            x, t, conv, chosen[method + " (cv)"] = select_ours(prob, method, k, seed, depth_weights,
                                                                               **kw)
                            results[method + " (cv)"] = (x, t, conv)
                        else:
                            x, t, conv, _ = run_ours(prob, method, k, **kw)
                            results[method] = (x, t, conv)
                    for method in ("tree_lasso", "l1"):
                        if method in skip:
                            continue
                        if select and method == "tree_lasso":
                            x, t, conv, chosen["tree_lasso (cv)"] = select_ours(prob, method, k, seed, depth_weights)
                            results["tree_lasso (cv)"] = (x, t, conv)
                            if reweight:
                                alpha = float(chosen["tree_lasso (cv)"].split("=")[1].split()[0])
                                x, t2, conv, chosen["tree_lasso rw (cv)"] = select_reweighted(
                                    prob, k, seed, alpha, reweight, reweight_eps)
                                results["tree_lasso rw (cv)"] = (x, t + t2, conv)
                        else:
                            results[method] = run_constrained(prob, method, time_limit)[:3]
                    x, t, conv, _ = run_spgl1(prob, spgl1_iters)
                    results["spgl1"] = (x, t, conv)
                    if select:
                        x, t, conv, chosen["spgl1 (cv)"], alpha = select_spgl1(prob, spgl1_iters, seed, depth_weights)
                        results["spgl1 (cv)"] = (x, t, conv)
                        if reweight:
                            x, t2, conv, chosen["spgl1 rw (cv)"] = select_spgl1_reweighted(
                                prob, spgl1_iters, seed, alpha, reweight, reweight_eps)
                            results["spgl1 rw (cv)"] = (x, t + t2, conv)
                    dense = isinstance(prob.A, np.ndarray)
                    if "pyproximal" not in skip:
                        x, t, conv, _ = run_pyproximal(prob.A, prob.y, pyprox_iters // 2 if dense else pyprox_iters,
                                                       cg_iter=8 if dense else 2)
                        results["pyproximal"] = (x, t, conv)
                    for method, (x, t, conv) in results.items():
                        img = prob.signal(x)
                        err = float(np.linalg.norm(x - prob.coef) / np.linalg.norm(prob.coef))
                        rows.append(dict(image=name, size=size, sampling=sampling, frac=frac, m=prob.m, method=method,
                                         err=err, psnr=cs.psnr(truth, img, 1.0), ssim=cs.ssim(truth, img, 1.0),
                                         time=t, converged=conv))
                    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
                    print(f"  done {name} {size}x{size} {sampling} M={prob.m} (set-up {t_setup:.1f} s; "
                          f"load average {load}; {time.strftime('%H:%M:%S', time.gmtime())} UTC)", flush=True)
                    for r in rows[-len(results):]:
                        print(f"    {r['method']:16s} err {r['err']:.4f}  PSNR {r['psnr']:6.2f}  SSIM {r['ssim']:.4f}  "
                              f"{r['time']:7.2f} s  converged {r['converged']}"
                              + (f"  chose {chosen[r['method']]}" if r["method"] in chosen else ""), flush=True)
    print()
    print(f"images ({wavelet}): relative error / PSNR (dB) / SSIM / time (s); k = M // 4 for the greedy methods; "
          f"* = stopped before its tolerance")
    for size in sizes:
        for sampling in samplings:
            for name in images:
                sel = [r for r in rows if r["size"] == size and r["sampling"] == sampling and r["image"] == name]
                if not sel:
                    continue
                print(f"\n{name} {size}x{size}, {sampling} sampling")
                print(f"  {'method':16s} " + "  ".join(f"{'M=N/' + str(round(1 / f)):>32s}" for f in fractions))
                for method in dict.fromkeys(r["method"] for r in sel):
                    cells = []
                    for frac in fractions:
                        r = next(q for q in sel if q["method"] == method and q["frac"] == frac)
                        star = " " if r["converged"] else "*"
                        cells.append(f"{r['err']:.4f} {r['psnr']:6.2f} {r['ssim']:.3f} {r['time']:7.2f}{star}")
                    print(f"  {method:16s} " + "  ".join(f"{c:>32s}" for c in cells))
    # the goals, as measured
    for size in sizes:
        for sampling in samplings:
            for name in images:
                sel = [r for r in rows if r["size"] == size and r["sampling"] == sampling and r["image"] == name
                       and abs(r["frac"] - 0.25) < 1e-9]
                if not sel:
                    continue
                tree = min((r for r in sel if r["method"].split(" ")[0] in ("model_cosamp", "model_iht", "tree_lasso")),
                           key=lambda r: r["err"])
                peers = " ".join(f"vs {p} {q['err']:.4f}: {100 * (1 - tree['err'] / q['err']):+.1f} %"
                                 for p in ("spgl1", "spgl1 (cv)", "spgl1 rw (cv)", "pyproximal")
                                 for q in sel if q["method"] == p)
                print(f"goal check {name} {size}x{size} {sampling} M=N/4 ({wavelet}): best tree method {tree['method']} "
                      f"error {tree['err']:.4f} {peers} (goal: >= +30 %); time {tree['time']:.2f} s")
    return rows


def cssa_part(sizes, images=("camera", "ascent")):
    """CSSA against the exact tree projection on the images' wavelet coefficients: error ratio and time."""
    from structsparse import cs

    cs.TreeSparse2D((32, 32), 64, "db4").approx_support(np.ones(1024), method="cssa")  # warm-up (numba)
    cs.TreeSparse2D((32, 32), 64, "db4").approx_support(np.ones(1024), method="exact")
    print("tree projection of image wavelet coefficients (db4 quadtree): CSSA against the exact program")
    print(f"  {'image':8s} {'size':>7s} {'k':>6s}  {'||c - cssa|| / ||c - exact||':>30s}  {'exact s':>8s}  {'cssa s':>8s}")
    for size in sizes:
        for name in images:
            img = cs.load_image(name, size)
            for div in (16, 8, 4):
                model = cs.TreeSparse2D(img.shape, img.size // div, "db4")
                c = model.synthesis.analysis(img)
                times = {}
                for method in ("exact", "cssa"):
                    t = time.perf_counter()
                    model.approx_support(c, method=method)
                    times[method] = time.perf_counter() - t
                ratio = model.projection_error_ratio(c)
                print(f"  {name:8s} {size:4d}^2 {model.k:6d}  {ratio:30.6f}  {times['exact']:8.3f}  {times['cssa']:8.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("all", "signals", "images", "cssa"), default="all")
    parser.add_argument("--sizes", default="128", help="image sides, comma separated (default: 128)")
    parser.add_argument("--samplings", default="fourier,gaussian", help="image samplings (default: fourier,gaussian)")
    parser.add_argument("--images", default="camera,ascent")
    parser.add_argument("--noises", default="0,0.01", help="1-D relative noise levels (default: 0,0.01)")
    parser.add_argument("--spgl1-iters", type=int, default=2000, help="spgl1 iteration limit (default: 2000)")
    parser.add_argument("--spgl1-iters-images", type=int, default=1000,
                        help="spgl1 iteration limit on images (default: 1000)")
    parser.add_argument("--pyprox-iters", type=int, default=300,
                        help="pyproximal ADMM iterations (default: 300; half on dense Gaussian images)")
    parser.add_argument("--wavelet", default="db4", help="orthogonal wavelet of every method (default: db4)")
    parser.add_argument("--fracs", default="0.125,0.25,0.3333333333333333",
                        help="image M / N values (default: 1/8, 1/4, 1/3)")
    parser.add_argument("--skip", default="", help="methods left out of the image runs (ours, or pyproximal), comma separated "
                        "(e.g. l1: our basis pursuit checks its budget between stages, so one stage can overrun it)")
    parser.add_argument("--select", choices=("none", "holdout"), default="none",
                        help="holdout: every greedy method picks k, the tree lasso its depth-weight exponent alpha "
                        "(weights 2^(alpha depth)), by cs.select_by_holdout on 10 %% of the measurements; spgl1 "
                        "is also run with the same depth weights chosen the same way ('spgl1 (cv)')")
    parser.add_argument("--depth-weights", default="-1,-0.5,0",
                        help="candidate exponents alpha for --select holdout (default: -1,-0.5,0)")
    parser.add_argument("--reweight", type=int, default=0,
                        help="with --select holdout: also run the tree lasso with this many reweighting rounds "
                        "('tree_lasso rw (cv)', its alpha the one chosen for the tree lasso, its eps factor chosen by "
                        "hold-out among --reweight-eps) and spgl1 reweighted the same way ('spgl1 rw (cv)')")
    parser.add_argument("--reweight-eps", default="inf,1,3,10",
                        help="candidate eps factors of --reweight (default: inf,1,3,10; inf = no reweighting)")
    parser.add_argument("--time-limit", type=float, default=120.0,
                        help="seconds for each of our constrained convex solves on images (default: 120)")
    args = parser.parse_args()
    if args.part in ("all", "signals"):
        signals_part((0.15, 0.25, 0.35), [float(v) for v in args.noises.split(",")], args.spgl1_iters)
    if args.part in ("all", "cssa"):
        cssa_part([int(v) for v in args.sizes.split(",")], tuple(args.images.split(",")))
    if args.part in ("all", "images"):
        images_part([int(v) for v in args.sizes.split(",")], args.samplings.split(","),
                    tuple(float(v) for v in args.fracs.split(",")), args.spgl1_iters_images,
                    tuple(args.images.split(",")), args.wavelet, args.time_limit, args.pyprox_iters,
                    tuple(v for v in args.skip.split(",") if v), args.select == "holdout",
                    tuple(float(v) for v in args.depth_weights.split(",")), args.reweight,
                    tuple(float(v) for v in args.reweight_eps.split(",")))


if __name__ == "__main__":
    main()
