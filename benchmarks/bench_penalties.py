"""Penalty-level figures: prox, value and dual-norm costs, exact dual norms against bisection, SPAMS agreement.

Run:  python benchmarks/bench_penalties.py [--quick]

(a) For every penalty at a typical size: microseconds per call of
    ``penalty.prox``, ``penalty(x)`` and ``penalty.dual_norm`` (argument
    checks included).
(b) The exact dual norms against the generic alternative, a bisection on
    "the prox vanishes" (``structsparse.solvers.lambda_max._dual_norm_by_prox``,
    relative width 1e-12): sparse-group lasso (closed form by sorting) and
    tree lasso (Brent's method on the root excess). Time of each and their
    relative difference.
(c) SPAMS, measured in the same run when ``spams`` imports: its
    ``proximalFlat`` sparse-group and trace-norm proxes and its
    ``proximalTree`` on a random tree whose nodes own several variables,
    against ours: the largest coefficient difference and the time ratio.

Every timed function is called once first; figures are medians of 5 blocks
with one BLAS thread. On a shared machine the figures are indicative only.
"""

import _setup  # noqa: F401  (first: one BLAS thread, structsparse importable)
import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

import structsparse as ss  # noqa: E402

from structsparse.penalties.registry import random_tree  # noqa: E402
from structsparse.solvers.lambda_max import _dual_norm_by_prox  # noqa: E402


def per_call_us(func, number):
    """Median over 5 blocks of ``number`` calls, in microseconds per call (after one warm-up call)."""
    func()
    blocks = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(number):
            func()
        blocks.append((time.perf_counter() - start) / number * 1e6)
    return float(np.median(blocks))


def typical_penalties(rng):
    """(label, penalty, point) at sizes met in practice."""
    n = 5000
    groups = ss.Groups.contiguous(n, 10)
    tree = ss.Tree.complete(depth=10)
    big_tree = random_tree(5000, rng, shape="random")
    row_groups = ss.Groups.contiguous(500, 10)
    return [
        ("L1, n=5000", ss.L1(0.5), rng.standard_normal(n)),
        ("GroupLasso, 500 groups of 10", ss.GroupLasso(groups, 0.5), rng.standard_normal(n)),
        ("SparseGroupLasso, 500 groups of 10", ss.SparseGroupLasso(groups, 0.5, 0.3), rng.standard_normal(n)),
        ("TreeLasso, complete binary depth 10 (2047)", ss.TreeLasso(tree, 0.5), rng.standard_normal(tree.n_features)),
        (f"TreeLasso, random tree {big_tree.n_nodes} nodes / 5000 vars", ss.TreeLasso(big_tree, 0.5),
         rng.standard_normal(5000)),
        ("NuclearNorm, 200 x 100", ss.NuclearNorm(0.5, (200, 100)), rng.standard_normal((200, 100))),
        ("GroupNuclear, 50 blocks of 10 x 5", ss.GroupNuclear(row_groups, 0.5, 0.5, (10, 5)),
         rng.standard_normal((500, 5))),
    ]


def bench_costs(quick, rng):
    print("\n(a) cost per call, microseconds (argument checks included)")
    print(f"{'penalty':48s} {'prox':>10s} {'value':>10s} {'dual norm':>10s}")
    for label, pen, x in typical_penalties(rng):
        heavy = isinstance(pen, (ss.NuclearNorm, ss.GroupNuclear))
        number = (5 if heavy else 50) if quick else (20 if heavy else 300)
        u = x * 0.7
        prox = per_call_us(lambda: pen.prox(x, 1.0), number)
        value = per_call_us(lambda: pen(x), number)
        dual = per_call_us(lambda: pen.dual_norm(u), max(1, number // 5))
        print(f"{label:48s} {prox:10.1f} {value:10.1f} {dual:10.1f}")


def bench_exact_dual(quick, rng):
    print("\n(b) exact dual norms against bisection on 'the prox vanishes' (rtol 1e-12)")
    print(f"{'penalty':48s} {'exact us':>10s} {'bisect us':>10s} {'speedup':>8s} {'rel diff':>10s}")
    number = 20 if quick else 100
    groups = ss.Groups.contiguous(5000, 10)
    cases = [
        ("SparseGroupLasso, 500 groups of 10", ss.SparseGroupLasso(groups, 1.0, 0.3), rng.standard_normal(5000)),
        ("TreeLasso, complete binary depth 10 (2047)", ss.TreeLasso(ss.Tree.complete(depth=10), 1.0),
         rng.standard_normal(2047)),
    ]
    for label, pen, u in cases:
        exact = pen.dual_norm(u)
        bis = _dual_norm_by_prox(pen, u, rtol=1e-12)
        t_exact = per_call_us(lambda: pen.dual_norm(u), number)
        t_bis = per_call_us(lambda: _dual_norm_by_prox(pen, u, rtol=1e-12), max(1, number // 10))
        print(f"{label:48s} {t_exact:10.1f} {t_bis:10.1f} {t_bis / t_exact:7.1f}x {abs(exact - bis) / bis:10.1e}")


def spams_tree_format(tree):
    """A Tree in SPAMS' format; variables permuted so that every node owns a contiguous block (preorder)."""
    import scipy.sparse as sp

    var_order, own_ptr, parent, weights = tree.kernel_arrays()
    n = tree.n_nodes
    child_of = sp.csc_matrix((np.ones(n - 1, dtype=bool), (np.arange(1, n), parent[1:])), shape=(n, n))
    return var_order, {"eta_g": np.asarray(weights, dtype=float), "groups": child_of,
                       "own_variables": np.asarray(own_ptr[:-1], dtype=np.int32),
                       "N_own_variables": np.asarray(np.diff(own_ptr), dtype=np.int32)}


def bench_spams(quick, rng):
    try:
        import spams
    except ImportError:
        print("\n(c) SPAMS: not importable, skipped")
        return
    print("\n(c) against SPAMS (same run; time ratio = ours / SPAMS per call)")
    print(f"{'prox':48s} {'max |diff|':>10s} {'ours us':>10s} {'SPAMS us':>10s} {'ratio':>7s}")
    number = 20 if quick else 200
    n, size, lam, ratio_l1 = 5000, 10, 0.8, 0.4

    v = rng.standard_normal(n)
    vf = np.asfortranarray(v[:, None])
    labels = np.asarray(np.repeat(np.arange(1, n // size + 1), size), dtype=np.int32)
    sgl = ss.SparseGroupLasso(ss.Groups.contiguous(n, size), lam, ratio_l1)

    def spams_sgl():
        return spams.proximalFlat(vf, lambda1=lam * (1 - ratio_l1), lambda2=lam * ratio_l1,
                                  regul="sparse-group-lasso-l2", groups=labels, numThreads=1)

    rows = [("sparse-group lasso, 500 groups of 10", lambda: sgl.prox(v, 1.0), lambda: spams_sgl()[:, 0])]

    m = rng.standard_normal((200, 100))
    mf = np.asfortranarray(m)
    nuc = ss.NuclearNorm(3.0, (200, 100))
    rows.append(("nuclear norm, 200 x 100", lambda: nuc.prox(m, 1.0),
                 lambda: spams.proximalFlat(mf, lambda1=3.0, regul="trace-norm", numThreads=1)))

    tree = random_tree(2000, rng, shape="random")
    perm, fmt = spams_tree_format(tree)
    tl = ss.TreeLasso(tree, 0.4)
    w = rng.standard_normal(tree.n_features)
    wf = np.asfortranarray(w[perm][:, None])
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)

    def spams_tree():
        return spams.proximalTree(wf, fmt, False, lambda1=0.4, regul="tree-l2", numThreads=1)[inverse, 0]

    rows.append((f"tree, random {tree.n_nodes} nodes / 2000 vars", lambda: tl.prox(w, 1.0), spams_tree))
    for label, ours, theirs in rows:
        diff = float(np.max(np.abs(np.asarray(ours()) - np.asarray(theirs()))))
        t_ours = per_call_us(ours, number)
        t_theirs = per_call_us(theirs, number)
        print(f"{label:48s} {diff:10.1e} {t_ours:10.1f} {t_theirs:10.1f} {t_ours / t_theirs:6.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("structsparse penalty benchmarks (one BLAS thread; indicative on a shared machine)")
    bench_costs(args.quick, rng)
    bench_exact_dual(args.quick, rng)
    bench_spams(args.quick, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
