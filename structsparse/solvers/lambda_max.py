"""``lambda_max``: the smallest ``lam`` whose solution is zero on every penalized variable.

For ``0.5 ||A x - y||^2 + lam * Omega(x)`` the point ``x = 0`` is optimal iff
``Omega^*(A^T y) <= lam``, with ``Omega^*`` the dual norm; so
``lambda_max = Omega^*(A^T y)``. Some variables may be left free by the
penalty (features in no group, groups or tree nodes of weight zero); the
solution at ``lambda_max`` is then zero on the penalized variables only, the
free ones take their least-squares fit, and ``lambda_max`` is the dual norm of
``A^T r`` with ``r`` the residual of that fit.
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator, lsqr

from ..exceptions import ParameterError, ShapeError, StructureError
from ..losses import LeastSquares
from ..penalties import GroupLasso, L1, Penalty
from ..structure import Groups, Tree

__all__ = ["lambda_max", "PENALTY_TYPES"]

#: Accepted values of ``penalty_type`` given as strings.
PENALTY_TYPES = ("l1", "group", "sparse_group", "tree")

# The dual norm is rounded up by a few ulps: a solver's prox compares norms computed in another order
# (and scaled by a step), which would otherwise leave entries of 1e-16 at lam = lambda_max.
_ROUND_UP = 1.0 + 16 * np.finfo(float).eps


def _build_penalty(loss, penalty_type, groups, l1_ratio):
    """A penalty with ``lam = 1`` carrying the requested structure."""
    owner = "lambda_max"
    if isinstance(penalty_type, Penalty):
        if groups is not None or l1_ratio is not None:
            raise ParameterError(
                f"{owner}: pass either a Penalty instance or penalty_type with groups/l1_ratio, not both "
                "(the penalty's own structure is used)."
            )
        return penalty_type.with_lam(1.0)
    if not isinstance(penalty_type, str) or penalty_type not in PENALTY_TYPES:
        raise ParameterError(
            f"The 'penalty_type' parameter of {owner} must be a Penalty or one of "
            f"{', '.join(repr(p) for p in PENALTY_TYPES)}. Got {penalty_type!r} instead."
        )
    if penalty_type != "sparse_group" and l1_ratio is not None:
        raise ParameterError(f"{owner}: 'l1_ratio' applies only to penalty_type='sparse_group'.")
    if penalty_type == "l1":
        if groups is not None:
            raise ParameterError(f"{owner}: penalty_type='l1' takes no 'groups'.")
        return L1(1.0)
    if groups is None:
        need = "a Tree" if penalty_type == "tree" else "a Groups (or a list of index lists)"
        raise StructureError(f"{owner}: penalty_type={penalty_type!r} needs 'groups': {need}.")
    if penalty_type == "tree":
        if not isinstance(groups, Tree):
            raise StructureError(
                f"The 'groups' parameter of {owner} must be a Tree for penalty_type='tree'. "
                f"Got {type(groups).__name__}."
            )
        from ..penalties import TreeLasso

        return TreeLasso(groups, 1.0)
    if isinstance(groups, Tree):
        raise StructureError(
            f"The 'groups' parameter of {owner} must be a Groups for penalty_type={penalty_type!r}, not a "
            "Tree (use penalty_type='tree')."
        )
    if not isinstance(groups, Groups):
        groups = Groups.from_lists(groups, n_features=loss.n_features)
    if groups.n_features != loss.n_features:
        raise ShapeError(
            f"{owner}: the groups index {groups.n_features} features but the loss has {loss.n_features}."
        )
    if penalty_type == "group":
        return GroupLasso(groups, 1.0)
    if l1_ratio is None:
        raise ParameterError(f"{owner}: penalty_type='sparse_group' needs 'l1_ratio' (a float in [0, 1]).")
    from ..penalties import SparseGroupLasso

    return SparseGroupLasso(groups, 1.0, l1_ratio)


def _unit_rows(n_rows, rows, x_shape):
    """A point of shape ``x_shape`` with ones on the given rows and zeros elsewhere."""
    z = np.zeros(x_shape)
    z[rows] = 1.0
    return z


def free_variables(penalty, n_features, x_shape=None):
    """Boolean mask of the variables (rows of ``x``) that ``penalty`` leaves unpenalized.

    Candidates come from the structure (``groups`` or ``tree`` of the
    penalty: variables in no group of positive weight); each is confirmed by
    evaluating ``Omega`` on the candidate rows, so other terms of the penalty
    (such as the l1 part of a sparse-group lasso) are accounted for.
    """
    x_shape = (n_features,) if x_shape is None else tuple(x_shape)
    structure = getattr(penalty, "groups", None)
    tree = getattr(penalty, "tree", None)
    if isinstance(tree, Tree):
        structure = tree.to_groups()
    if not isinstance(structure, Groups):
        return np.zeros(n_features, dtype=bool)
    penalized = np.zeros(n_features, dtype=bool)
    for idx, w in zip(structure, structure.weights):
        if w > 0:
            penalized[idx] = True
    candidates = np.flatnonzero(~penalized)
    if candidates.size == 0:
        return ~penalized
    # usual case: Omega vanishes on all candidates at once
    if penalty.omega(_unit_rows(n_features, candidates, x_shape)) == 0:
        return ~penalized
    free = np.zeros(n_features, dtype=bool)
    for i in candidates:
        free[i] = penalty.omega(_unit_rows(n_features, [i], x_shape)) == 0
    return free


def _columns(A, cols):
    """``A[:, cols]`` for an array, a sparse matrix or a LinearOperator."""
    if isinstance(A, LinearOperator):
        n = A.shape[1]

        def mv(z):
            full = np.zeros(n)
            full[cols] = np.ravel(z)
            return A.matvec(full)

        return LinearOperator((A.shape[0], cols.size), matvec=mv, rmatvec=lambda r: A.rmatvec(r)[cols],
                              dtype=float)
    return A[:, cols]


def _least_squares_residual(loss, free):
    """Residual ``y - A_F x_F`` after fitting the free variables by least squares."""
    y = np.asarray(loss.y, dtype=float)
    if not free.any():
        return y
    A_free = _columns(loss.A, np.flatnonzero(free))
    if isinstance(A_free, np.ndarray):
        coef = np.linalg.lstsq(A_free, y, rcond=None)[0]
        return y - A_free @ coef
    # lsqr handles sparse matrices and operators; one right-hand side at a time
    Y = y.reshape(y.shape[0], -1)
    R = np.empty_like(Y)
    for j in range(Y.shape[1]):
        sol = lsqr(A_free, Y[:, j], atol=1e-14, btol=1e-14, conlim=1e14, iter_lim=max(10 * free.sum(), 1000))
        R[:, j] = Y[:, j] - np.ravel(A_free @ sol[0])
    return R.reshape(y.shape)


def lambda_max(loss, penalty_type, groups=None, l1_ratio=None):
    """Smallest ``lam`` for which the solution of ``0.5 ||A x - y||^2 + lam * Omega(x)`` is zero.

    Parameters
    ----------
    loss : LeastSquares
        ``A`` dense, scipy.sparse or a LinearOperator; one or several
        right-hand sides.
    penalty_type : {'l1', 'group', 'sparse_group', 'tree'} or Penalty
        The penalty family, or a penalty whose structure is used (its
        ``lam`` is ignored).
    groups : Groups, list of lists or Tree, optional
        The structure: a :class:`Groups` (or index lists) for ``'group'`` and
        ``'sparse_group'``, a :class:`Tree` for ``'tree'``.
    l1_ratio : float in [0, 1], optional
        For ``'sparse_group'`` only.

    Returns
    -------
    float
        The dual norm of ``A^T r``, with ``r = y`` when every variable is
        penalized and ``r`` the least-squares residual of the unpenalized
        variables otherwise. At ``lam >= lambda_max`` every penalized
        variable of the solution is zero; below it some is not. The value
        is rounded up by 16 ulps (relative 3.6e-15) so that the solution at
        ``lam = lambda_max`` is exactly zero in floating point too.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> A = np.eye(4); y = np.array([3.0, 4.0, 1.0, 2.0])
    >>> round(lambda_max(ss.LeastSquares(A, y), "group", [[0, 1], [2, 3]]), 12)
    5.0
    >>> round(lambda_max(ss.LeastSquares(A, y), "l1"), 12)
    4.0
    """
    if not isinstance(loss, LeastSquares):
        raise TypeError(f"The 'loss' parameter of lambda_max must be a LeastSquares. Got {type(loss).__name__}.")
    penalty = _build_penalty(loss, penalty_type, groups, l1_ratio)
    n = penalty.n_features
    if n is not None and n != loss.n_features:
        raise ShapeError(f"lambda_max: the penalty is defined on {n} features but the loss has {loss.n_features}.")
    free = free_variables(penalty, loss.n_features, loss.x_shape)
    r = _least_squares_residual(loss, free)
    u = loss.rmatvec(r)
    # A_F^T r vanishes up to rounding; the dual norm of the seminorm ignores the free rows
    u[free] = 0.0
    # dual_norm is tried even when has_dual_norm is False: that flag says it is too costly for a duality gap
    # at every iteration (OverlapGroupLasso solves a cone program), not that it is missing
    try:
        value = float(penalty.dual_norm(u))
    except NotImplementedError:
        value = _dual_norm_by_prox(penalty, u)
    return value * _ROUND_UP


def _dual_norm_by_prox(penalty, u, rtol=1e-12):
    """``Omega^*(u)`` as the smallest ``t`` with ``prox_{t Omega}(u) = 0``, by bisection.

    Valid for any norm: ``prox_{t Omega}(u) = u - P_{t B*}(u)`` vanishes iff ``u``
    lies in ``t`` times the dual-norm ball.
    """
    if not np.any(u):
        return 0.0
    unit = penalty.with_lam(1.0)
    hi = 1.0
    while np.any(unit.prox(u, hi)):
        hi *= 2.0
        if hi > 1e300:
            raise StructureError(f"lambda_max: {penalty!r} does not zero u for any lam (a variable is free).")
    lo = 0.0
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if np.any(unit.prox(u, mid)):
            lo = mid
        else:
            hi = mid
    return hi
