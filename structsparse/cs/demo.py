"""The compressive-sensing part of ``structsparse demo``.

One block-sparse recovery (group basis pursuit and model-based CoSaMP
against l1 at a number of measurements where plain sparsity is not
enough), one tree-sparse recovery of a piecewise-smooth signal, and a small
model-based RIP comparison. Figures go to ``out_dir``.
"""

import time
import warnings

from ..exceptions import ConvergenceWarning

__all__ = ["demo_part"]


def demo_part(out_dir, rng=None):
    """Run the demo; print a short report, write figures, return whether the checks passed.

    ``rng`` (None, an int seed or a Generator; None: fresh entropy) decides the data; ``structsparse demo``
    passes its ``--seed`` (default 0, so that the demo prints the same report every run). The figures are made
    only to be saved, and closed.
    """
    import matplotlib.pyplot as plt

    from .._validation import check_rng
    from . import BlockSparse, TreeSparse, as_matrix, gaussian, recover, rip_estimate
    from .plots import save_figure

    ok = True
    rng = check_rng(rng)

    # block sparsity: N=512, blocks of 8, 5 active (40 nonzeros), M=120 measurements
    model = BlockSparse(512, 8, 5)
    A = gaussian(120, 512, rng)
    x0 = model.sample(rng)
    y = A @ x0
    print("block-sparse recovery: N=512, blocks of 8, 5 active, M=120 Gaussian measurements")
    results = {}
    for method in ("group_lasso", "model_cosamp", "l1"):
        with warnings.catch_warnings():  # the tour shows which methods fail; its table says so
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = recover(A, y, model, method=method)
        results[method] = res
        print(f"  {method:13s} relative error {res.relative_error(x0):.1e}  time {res.time * 1e3:6.1f} ms")
    ok &= results["group_lasso"].relative_error(x0) < 1e-6 and results["model_cosamp"].relative_error(x0) < 1e-6
    fig = results["group_lasso"].plot(x0, model)
    save_figure(fig, out_dir / "cs_block_recovery.png")
    plt.close(fig)

    # tree sparsity: a piecewise-smooth signal, 40 Daubechies-4 coefficients on a rooted subtree
    tree = TreeSparse(512, 40, "db4")
    coef = tree.sample(rng)
    A_t = as_matrix(gaussian(140, 512, rng) @ tree.synthesis)
    y_t = A_t @ coef
    print("tree-sparse recovery: N=512, db4, 40 coefficients on a rooted subtree, M=140")
    tres = {}
    for method in ("model_cosamp", "cosamp"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = recover(A_t, y_t, tree, method=method)
        tres[method] = res
        print(f"  {method:13s} relative error {res.relative_error(coef):.1e}  time {res.time * 1e3:6.1f} ms")
    ok &= tres["model_cosamp"].relative_error(coef) < 1e-6
    fig = tres["model_cosamp"].plot(coef, tree)
    save_figure(fig, out_dir / "cs_tree_recovery.png")
    plt.close(fig)

    # model-based RIP lower bounds: block supports against plain ones of the same size
    start = time.perf_counter()
    est = rip_estimate(gaussian(150, 512, rng), BlockSparse(512, 8, 5), n_samples=30, search="swap", rng=rng)
    print(est.summary())
    print(f"  ({time.perf_counter() - start:.1f} s)")
    ok &= est.delta_plain >= est.delta_model * 0.9  # plain supports are at least as bad, up to search noise
    fig = est.plot()
    save_figure(fig, out_dir / "cs_rip.png")
    plt.close(fig)
    return bool(ok)
