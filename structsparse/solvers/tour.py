"""The solver part of ``structsparse demo``: three structured problems, ``ss.solve`` checked against cvxpy.

A group lasso (groups of unequal sizes), a tree lasso (a complete binary tree
whose active variables form a rooted subtree, as wavelet coefficients do) and
a sparse-group lasso (a few active groups, each only partly active) are
solved by ``ss.solve``, which picks the solver (the working-set block solver
for the group and sparse-group lassos, FISTA for the tree), and by the cvxpy
reference. The table names the solver that ran, shows both times, the
relative objective difference and how much of the planted structure was
found; the figure compares the coefficients.
"""

import warnings

import numpy as np

from .._atomic import save_figure
from .._validation import check_rng, renamed_kwarg
from ..datafits import LeastSquares
from ..penalties import GroupLasso, SparseGroupLasso, TreeLasso
from ..structure import Groups, Tree
from .cvxpy_reference import reference_objective, solve_cvxpy
from .lambda_max import lambda_max
from .solve import solve

__all__ = ["demo_part", "tour_problems"]

_TOL = 1e-6  # relative objective difference that passes, as in `structsparse verify`


def _group_lasso_problem(rng):
    sizes = rng.integers(4, 13, size=40)
    groups = Groups.from_sizes(sizes, weights="sqrt_size")
    p = groups.n_features
    x = np.zeros(p)
    for g in rng.choice(groups.n_groups, 5, replace=False):
        x[groups[g]] = rng.standard_normal(sizes[g]) * 2
    A = rng.standard_normal((150, p)) / np.sqrt(150)
    y = A @ x + 0.05 * rng.standard_normal(150)
    loss = LeastSquares(A, y)
    lam = 0.1 * lambda_max(loss, GroupLasso(groups, 1.0))
    return "group lasso", loss, GroupLasso(groups, lam), x, groups


def _tree_lasso_problem(rng):
    tree = Tree.complete(depth=7, branching=2)  # 127 nodes, heap numbering: children of i are 2i+1, 2i+2
    n = tree.n_nodes
    support = {0}
    while len(support) < 20:  # grow a rooted subtree, as the large wavelet coefficients of a signal do
        parent = int(rng.choice(sorted(support)))
        child = 2 * parent + 1 + int(rng.integers(2))
        if child < n:
            support.add(child)
    depth = tree.depth()
    x = np.zeros(n)
    idx = np.array(sorted(support))
    x[idx] = rng.choice([-1.0, 1.0], idx.size) * 3.0 * 0.8 ** depth[idx]
    A = rng.standard_normal((70, n)) / np.sqrt(70)
    y = A @ x + 0.02 * rng.standard_normal(70)
    loss = LeastSquares(A, y)
    lam = 0.1 * lambda_max(loss, TreeLasso(tree, 1.0))
    # groups used only to count how many planted nodes were found: one per node, its own variable
    own = Groups.from_lists([[i] for i in range(n)], n_features=n)
    return "tree lasso", loss, TreeLasso(tree, lam), x, own


def _sparse_group_problem(rng):
    groups = Groups.contiguous(300, 10)
    x = np.zeros(300)
    for g in rng.choice(groups.n_groups, 6, replace=False):
        members = rng.choice(groups[g], 4, replace=False)
        x[members] = rng.standard_normal(4) * 2
    A = rng.standard_normal((120, 300)) / np.sqrt(120)
    y = A @ x + 0.05 * rng.standard_normal(120)
    loss = LeastSquares(A, y)
    lam = 0.1 * lambda_max(loss, SparseGroupLasso(groups, 1.0, 0.5))
    return "sparse-group lasso", loss, SparseGroupLasso(groups, lam, 0.5), x, groups


@renamed_kwarg("seed", "rng")
def tour_problems(rng=None):
    """The three problems of the tour: ``(title, loss, penalty, x_true, groups_for_counting)``.

    Parameters
    ----------
    rng : None, int or numpy.random.Generator
        Source of the random problems (``structsparse demo`` passes its seed;
        ``seed=``, its deprecated old name, works until 0.3).

    Returns
    -------
    list of tuple
    """
    rng = check_rng(rng)
    return [_group_lasso_problem(rng), _tree_lasso_problem(rng), _sparse_group_problem(rng)]


def _active(x, groups):
    return {g for g, idx in enumerate(groups) if np.any(x[idx] != 0)}


def _save_figure(results, path):
    from matplotlib.figure import Figure

    # a Figure outside pyplot: written to a file, it needs no backend (and switches none)
    fig = Figure(figsize=(9, 2.6 * len(results)))
    axes = fig.subplots(len(results), 1)
    for ax, (title, x_true, x_s, x_c) in zip(np.atleast_1d(axes), results):
        # zeros are left out: ss.solve's are exact, cvxpy's (interior point) are only tiny
        for values, style, colour, label in ((x_true, "o", "0.5", "planted"), (x_s, ".", "C0", "ss.solve"),
                                             (x_c, "x", "C3", "cvxpy")):
            nz = np.flatnonzero(np.abs(values) > 1e-6 * max(np.abs(values).max(), 1e-300))
            ax.plot(nz, values[nz], style, ms=5, mfc="none" if style == "o" else colour, color=colour, label=label)
        ax.set_xlim(-1, x_true.size)
        ax.axhline(0, color="0.85", lw=0.8, zorder=0)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("coefficient")
    np.atleast_1d(axes)[0].legend(loc="upper right", fontsize=8, ncol=3)
    np.atleast_1d(axes)[-1].set_xlabel("variable")
    fig.tight_layout()
    save_figure(fig, path)


@renamed_kwarg("seed", "rng")
def demo_part(out_dir, rng=None):
    """Solve the three tour problems with ``ss.solve`` and cvxpy; print a table; save a figure.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for ``solvers_coefficients.png``.
    rng : None, int or numpy.random.Generator
        Source of the random problems (``structsparse demo`` passes its seed;
        ``seed=``, its deprecated old name, works until 0.3).

    Returns
    -------
    bool
        True when ``ss.solve`` converged and matched cvxpy to a relative
        objective difference of 1e-6 on every problem.
    """
    from pathlib import Path

    out_dir = Path(out_dir)
    print("ss.solve (the solver it picks) against the cvxpy reference (objectives both evaluated in numpy):")
    header = (f"{'problem':<19} {'size':<8} {'solver':<12} {'iters':>6} {'solver s':>8} {'cvxpy s':>8} "
              f"{'rel obj diff':>12} {'groups found':>12}  check")
    print(header)
    print("-" * len(header))
    ok = True
    figure_data = []
    for title, loss, penalty, x_true, groups in tour_problems(rng):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            solve(loss, penalty, tol=1e-9)  # untimed: the first call compiles or loads the numba kernels it uses
            res_s = solve(loss, penalty, tol=1e-9)
        res_c = solve_cvxpy(loss, penalty)
        obj_s = reference_objective(loss, penalty, res_s.x)
        obj_c = reference_objective(loss, penalty, res_c.x)
        rel = abs(obj_s - obj_c) / max(abs(obj_c), np.finfo(float).tiny)
        passed = bool(res_s.converged and res_c.converged and rel <= _TOL and not caught)
        ok &= passed
        planted, found = _active(x_true, groups), _active(res_s.x, groups)
        size = f"{loss.n_samples}x{loss.n_features}"
        print(f"{title:<19} {size:<8} {res_s.solver:<12} {res_s.n_iter:>6d} {res_s.time:>8.3f} {res_c.time:>8.3f} "
              f"{rel:>12.2e} {len(planted & found):>5d}/{len(planted):<3d}+{len(found - planted):<2d}  "
              f"{'ok' if passed else 'FAILED'}")
        if not passed:
            print(f"    {res_s.solver}: {res_s.message}; cvxpy: {res_c.message}")
        figure_data.append((title, x_true, res_s.x, res_c.x))
    print("iters: the solver's n_iter (solve_block: working-set outer iterations); solver s: a second call, the "
          "first compiling or loading the numba kernels")
    print("groups found: planted groups (tree: nodes) recovered / planted, + extra ones selected")
    path = out_dir / "solvers_coefficients.png"
    _save_figure(figure_data, path)
    print(f"figure: {path}")
    return ok
