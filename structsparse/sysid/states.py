"""Identification with measured states: (constrained) least squares and pattern discovery.

With states ``x`` measured, ``x[t+1] = A x[t] + B u[t]`` and
``y[t] = C x[t] + D u[t]`` are two linear regressions. Under a pattern each
row of ``[A B]`` (one state equation) and of ``[C D]`` (one output) is a
separate least-squares problem in its free entries, after the known
entries' contribution is moved to the left-hand side.

To discover the pattern, the unknown ``W = [A B]^T`` (one column per state
equation) is fitted with a structured penalty from the solver layer, the
regressors ``[x[t], u[t]]`` being scaled to unit variance first so that the
penalty treats states and inputs alike. Row ``j`` of ``W`` is column ``j``
of ``[A B]``: a state's influence on the others, or an input's reach, so
row groups make those the groups:

* ``"l1"``: entrywise lasso;
* ``"group_lasso"``: group lasso on the rows (whole influences / reaches);
* ``"sparse_group_lasso"``: both (``l1_ratio`` 0.5).

The kinds are the penalties' ``name`` (the old ``"group"`` and
``"sparse_group"`` still work for one release, with a ``DeprecationWarning``).

``lam`` is chosen on a geometric path from ``lam_max`` down to
``1e-3 lam_max`` (the solver layer's warm-started :func:`~structsparse.path`,
solver chosen by ``ss.solve``'s rule): at every ``lam`` the support is
refitted by least squares and scored by an extended BIC (Chen and Chen
2008, with ``log binom(c, k)`` bounded by ``k log c`` so that the score grows
with the support), ``sum_i [N log(RSS_i / N) + k_i (log N + 2 gamma log c)]``
with ``gamma = 1``, which accounts for the ``c`` candidate regressors of
each equation; the smallest score wins (per state
equation for the separable ``"l1"``, jointly otherwise). Finally each
equation's support is refined stepwise, one entry removed or added at a
time while its extended BIC decreases (the lasso path of correlated
regressors can contain the true support only together with a few false
entries, or let a true entry in late).
"""

import warnings

import numpy as np

from .._linalg import restricted_lstsq
from .._validation import check_choice, check_int
from ..datafits import LeastSquares
from ..exceptions import ConvergenceWarning, ParameterError, ShapeError
from ..penalties import L1, GroupLasso, Penalty, SparseGroupLasso
from ..solvers.path import path
from ..structure import Groups

__all__ = ["rowwise_least_squares", "discover_dynamics", "PENALTY_KINDS", "penalty_kind"]

#: Penalty kinds for pattern discovery: the ``name`` of the solver layer's penalty each one builds.
PENALTY_KINDS = ("l1", "group_lasso", "sparse_group_lasso")
_DEPRECATED_KINDS = {"group": "group_lasso", "sparse_group": "sparse_group_lasso"}


def penalty_kind(kind, owner="identify", stacklevel=3):
    """A penalty kind checked against :data:`PENALTY_KINDS`; the old names warn (DeprecationWarning) and map.

    Parameters
    ----------
    kind : str
        ``"l1"``, ``"group_lasso"`` or ``"sparse_group_lasso"`` (deprecated: ``"group"``, ``"sparse_group"``).
    owner : str
        The function the argument belongs to, for the messages.
    stacklevel : int
        Where the deprecation warning points (the caller of ``owner`` by default).

    Returns
    -------
    str
    """
    if not isinstance(kind, str):
        raise TypeError(f"The 'penalty' parameter of {owner} must be a penalty name ({', '.join(PENALTY_KINDS)}) or "
                        f"a Penalty. Got {type(kind).__name__}.")
    if kind in _DEPRECATED_KINDS:
        new = _DEPRECATED_KINDS[kind]
        warnings.warn(f"{owner}(penalty={kind!r}) is deprecated and will be removed in the next release; use "
                      f"penalty={new!r} (the penalty's name).", DeprecationWarning, stacklevel=stacklevel)
        kind = new
    return check_choice(kind, "penalty", PENALTY_KINDS, owner=owner)


def rowwise_least_squares(Z, Y, free, values):
    """Least squares for ``Y ~ Z M^T`` with ``M`` free where ``free`` and equal to ``values`` elsewhere.

    Parameters
    ----------
    Z : ndarray, shape (N, c)
        Regressors.
    Y : ndarray, shape (N, r)
        Targets, one column per row of ``M``.
    free : ndarray of bool, shape (r, c)
    values : ndarray, shape (r, c)

    Returns
    -------
    M : ndarray, shape (r, c)
    rss : ndarray, shape (r,)
        Residual sum of squares of each row's regression.
    """
    r, c = free.shape
    M = np.array(values, dtype=float)
    M[free] = 0.0
    rss = np.empty(r)
    for i in range(r):
        target = Y[:, i] - Z @ M[i]
        cols = np.flatnonzero(free[i])
        if cols.size:
            M[i, cols], target = restricted_lstsq(Z, target, cols)
        rss[i] = float(target @ target)
    return M, rss


def _make_penalty(kind, n_rows, lam):
    if kind == "l1":
        return L1(lam)
    groups = Groups.from_sizes([1] * n_rows)
    if kind == "group_lasso":
        return GroupLasso(groups, lam)
    return SparseGroupLasso(groups, lam, 0.5)


def _budget(loss, penalty, max_iter):
    """``max_iter`` under the name the path's solver gives its main loop (``max_outer`` for solve_block)."""
    import inspect

    from ..solvers.path import default_solver

    takes = inspect.signature(default_solver(loss, penalty)).parameters
    return {"max_outer" if "max_outer" in takes else "max_iter": max_iter}


def _complexity(k, c, logN, gamma):
    """Model-size penalty ``k (log N + 2 gamma log c)``.

    This is the extended BIC of Chen and Chen (2008) with ``log binom(c, k)``
    replaced by its upper bound ``k log c``: unlike the binomial, the bound
    grows with ``k`` (the binomial term is smallest for a full support, which
    would make dense supports look cheap).
    """
    k = np.asarray(k, dtype=float)
    return k * (logN + 2.0 * gamma * np.log(max(c, 2)))


def _bic_stepwise(Z, target, support, logN, gamma, rss_floor, N=None, rss_extra=0.0, allow_add=True):
    """Improve one equation's support by single-entry moves while its extended BIC decreases.

    The lasso path can miss the exact support when regressors are
    correlated: its support grows past false entries before the last true
    one enters, or a true entry enters late. Starting from the path's
    choice, the best single removal or addition (the one lowering
    ``N log(RSS / N) + k log N + 2 gamma log binom(c, k)`` the most) is
    applied until none helps; each move strictly lowers the score, so it ends.

    Returns the new support and the number of moves.
    """
    c = Z.shape[1]
    N = Z.shape[0] if N is None else N

    def score(cols):
        if cols.size:
            res = restricted_lstsq(Z, target, cols)[1]
        else:
            res = target
        rss = float(res @ res) + rss_extra
        return N * np.log(max(rss, rss_floor) / N) + _complexity(cols.size, c, logN, gamma)

    inside = set(np.flatnonzero(support).tolist())
    current = score(np.array(sorted(inside), dtype=int))
    moves = 0
    for _ in range(4 * c):
        candidates = [inside - {j} for j in inside]
        if allow_add:
            candidates += [inside | {j} for j in range(c) if j not in inside]
        if not candidates:
            break
        scores = [score(np.array(sorted(cand), dtype=int)) for cand in candidates]
        k = int(np.argmin(scores))
        if scores[k] >= current - 1e-9:
            break
        current, inside = scores[k], candidates[k]
        moves += 1
    out = np.zeros_like(support)
    out[sorted(inside)] = True
    return out, moves


def discover_dynamics(Z, Y, penalty="sparse_group_lasso", n_lams=30, eps=1e-3, tol=1e-6, max_iter=5000,
                      support_tol=1e-8, prune=True, gamma=1.0):
    """Find the support of ``M`` in ``Y ~ Z M^T`` with a structured penalty, then refit.

    Parameters
    ----------
    Z : ndarray, shape (N, c)
        Regressors ``[x[t], u[t]]``.
    Y : ndarray, shape (N, r)
        Targets ``x[t+1]``.
    penalty : {"l1", "group_lasso", "sparse_group_lasso"} or Penalty
        A kind (then ``lam`` is chosen on a path by BIC) or a penalty
        instance from the solver layer on ``c`` rows (used at its own ``lam``).
    n_lams, eps : int, float
        Path length and ratio of its smallest ``lam`` to ``lam_max``.
    tol, max_iter : float, int
        Solver tolerance and iteration limit per ``lam`` (passed to :func:`~structsparse.path`).
    support_tol : float
        Entries of the scaled solution at most this large count as zero.
    gamma : float
        Weight of the term ``2 gamma k log c`` that pays for searching ``c``
        candidate regressors per equation (0 gives the plain BIC).
    prune : bool
        After the path, remove or add entries one at a time while the
        extended BIC of their equation decreases (stepwise refinement). Not
        applied to a penalty instance, whose own ``lam`` decides the support.

    Returns
    -------
    M : ndarray, shape (r, c)
        Least-squares refit on the chosen support.
    support : ndarray of bool, shape (r, c)
    info : dict
        ``lams``, ``bic`` (per lam, joint), ``chosen_lam`` (per row),
        ``support_sizes``, ``n_iter`` and ``converged`` per lam.
    """
    N, c = Z.shape
    r = Y.shape[1]
    scale = Z.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    Zs = Z / scale
    # same minimizers, c x c instead of N x c: ||Zs W - Y||^2 = ||R W - Q^T Y||^2 + const (Zs = Q R)
    Q, R = np.linalg.qr(Zs)
    loss = LeastSquares(R, Q.T @ Y)
    fixed_pen = isinstance(penalty, Penalty)
    if fixed_pen:
        template, lams = penalty, np.array([penalty.lam])
        kind = getattr(penalty, "name", "penalty")
        separable_cols = kind == "l1"
    else:
        kind = penalty_kind(penalty, owner="identify", stacklevel=4)
        template = _make_penalty(kind, c, 1.0)
        lam_max = template.lambda_max(R.T @ (Q.T @ Y))
        n_lams = check_int(n_lams, "n_lams", low=2, owner="identify")
        lams = lam_max * np.geomspace(1.0, eps, n_lams)
        separable_cols = kind == "l1"
    logN = np.log(N)
    # refits run on the c x c factor of Z: Z = Qz Rz, ||Z m - y||^2 = ||Rz m - Qz^T y||^2 + ||y||^2 - ||Qz^T y||^2
    Qz, Rz = np.linalg.qr(Z)
    QtY = Qz.T @ Y
    rss_extra = np.maximum(np.sum(Y * Y, axis=0) - np.sum(QtY * QtY, axis=0), 0.0)
    # noise-free data give RSS ~ 0 on every superset of the true support; below this floor
    # residuals count as exact, so the criterion then prefers the smallest exact support
    rss_floor = 1e-12 * np.maximum(np.sum(Y * Y, axis=0), 1e-300)
    bic_rows, supports, refits = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported below for the chosen lam
        lam_path = path(loss, template, lams=lams, tol=tol, **_budget(loss, template, max_iter))
    n_iters = lam_path.n_iters.tolist()
    convs = lam_path.converged.tolist()
    lam_list = lam_path.lams.tolist()
    for W in lam_path.coefs:
        supp = (np.abs(W) > support_tol).T  # (r, c)
        # the compressed regression (R, Q^T Y) has the same coefficients; RSS differs by rss_extra
        M, rss = rowwise_least_squares(Rz, QtY, supp, np.zeros((r, c)))
        rss = rss + rss_extra
        rss = np.maximum(rss, rss_floor)
        bic_rows.append(N * np.log(rss / N) + _complexity(supp.sum(axis=1), c, logN, gamma))
        supports.append(supp)
        refits.append(M)
    bic_rows = np.array(bic_rows)  # (n_lams, r)
    if separable_cols:
        best = np.argmin(bic_rows, axis=0)
    else:
        best = np.full(r, int(np.argmin(bic_rows.sum(axis=1))))
    support = np.array([supports[best[i]][i] for i in range(r)])
    pruned = 0
    if prune and not fixed_pen:  # a penalty given with its own lam is taken at its word
        for i in range(r):
            support[i], removed = _bic_stepwise(Rz, QtY[:, i], support[i], logN, gamma, rss_floor[i], N,
                                                rss_extra[i])
            pruned += removed
    M, _ = rowwise_least_squares(Z, Y, support, np.zeros((r, c)))
    if not all(convs[k] for k in set(best.tolist())):
        warnings.warn(
            f"identify: the {lam_path.solver} solver did not reach tol={tol:g} within {max_iter} iterations at the chosen lam; "
            "the support may be inexact (raise max_iter or tol).", ConvergenceWarning, stacklevel=3)
    info = {"penalty": kind, "lams": lam_list, "bic": bic_rows.sum(axis=1).tolist(),
            "chosen_lam": [lam_list[k] for k in best], "support_sizes": [int(s.sum()) for s in supports],
            "n_iter": n_iters, "converged": convs, "stepwise_moves": pruned}
    return M, support, info


def check_states(x, order, n_samples, owner="identify"):
    """Validate measured states against the order and the record length."""
    from .statespace import check_signal

    x = check_signal(x, "x", owner=owner)
    if x.shape[0] != n_samples:
        raise ShapeError(
            f"The records have different lengths: 'u' has {n_samples} samples but 'x' has {x.shape[0]}."
        )
    if x.shape[1] != order:
        raise ParameterError(
            f"The 'order' parameter of {owner} ({order}) must equal the number of measured states "
            f"(columns of 'x': {x.shape[1]})."
        )
    return x
