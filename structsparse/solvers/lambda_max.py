"""``lambda_max``: the smallest ``lam`` whose solution is zero on every penalized variable.

For ``F(A x) + lam * Omega(x)`` the point ``x = 0`` is optimal iff
``Omega^*(-A^T F'(0)) <= lam``, with ``Omega^*`` the dual norm; so
``lambda_max = Omega^*(A^T theta_0)`` with ``theta_0 = -F'(0)`` (``y`` for
least squares). Some variables may be left free by the penalty (features in
no group, groups or tree nodes of weight zero), as the penalty declares
(``free_variables``); the solution at ``lambda_max`` is then zero on the
penalized variables only, the free ones take their unpenalized fit, and
``lambda_max`` is the dual norm of ``A^T theta`` at that fit. Nothing here
names a concrete penalty or datafit: it works for every datafit and every
penalty through their declared structure.
"""

import numpy as np

from .._linalg import columns, restricted_lstsq
from ..exceptions import ParameterTypeError, ShapeError, StructureError
from ..penalties import Penalty

__all__ = ["lambda_max"]

# The dual norm is rounded up by a few ulps: a solver's prox compares norms computed in another order
# (and scaled by a step), which would otherwise leave entries of 1e-16 at lam = lambda_max.
_ROUND_UP = 1.0 + 16 * np.finfo(float).eps


def _unit_penalty(penalty):
    """``penalty`` with ``lam = 1``; anything but a Penalty is refused with the form to use."""
    if isinstance(penalty, str):
        raise ParameterTypeError(
            f"The 'penalty' parameter of lambda_max must be a Penalty. Got the string {penalty!r}: the string "
            "forms ('l1', 'group', 'sparse_group', 'tree') were removed in 0.2.0; pass the penalty itself, e.g. "
            "lambda_max(datafit, ss.GroupLasso(groups, 1.0))."
        )
    if not isinstance(penalty, Penalty):
        raise ParameterTypeError(
            f"The 'penalty' parameter of lambda_max must be a Penalty. Got {type(penalty).__name__}."
        )
    return penalty.with_lam(1.0)


def free_variables(penalty, n_features, x_shape=None):
    """Boolean mask of the variables that ``penalty`` leaves unpenalized (its declared ``free_variables``)."""
    return penalty.free_variables(n_features, x_shape)


def _free_fit_dual_point(datafit, free):
    """``theta = -F'(A_F x_F)`` at the unpenalized fit of the free variables (``-F'(0)`` when none is free)."""
    n = datafit.n_samples
    zero = np.zeros(datafit.y.shape)
    if not free.any():
        return datafit.dual_point(zero)
    cols = np.flatnonzero(free)
    if "least_squares" in datafit.capabilities:  # least squares: the dual point is the residual of a linear fit
        return restricted_lstsq(datafit.A, datafit.y, cols)[1]
    from scipy.optimize import minimize

    sub = datafit.with_design(columns(datafit.A, cols))
    shape = sub.x_shape

    def fun(v):
        z = sub.matvec(v.reshape(shape))
        return sub.value_from_Ax(z), np.ravel(sub.grad_from_Ax(z))

    res = minimize(fun, np.zeros(int(np.prod(shape))), jac=True, method="L-BFGS-B",
                   options={"maxiter": 10_000, "ftol": 1e-15, "gtol": 1e-12})
    del n
    return sub.dual_point(sub.matvec(res.x.reshape(shape)))


def lambda_max(loss, penalty):
    """Smallest ``lam`` for which the solution of ``F(A x) + lam * Omega(x)`` is zero.

    Parameters
    ----------
    loss : Datafit
        Any datafit (least squares, logistic, Huber, Poisson, ...); ``A``
        dense, scipy.sparse or a LinearOperator.
    penalty : Penalty
        The penalty whose structure is used (its ``lam`` is ignored). Any
        registered penalty, or one added with ``register_penalty``.

    Returns
    -------
    float
        The dual norm of ``A^T theta`` with ``theta = -F'(A x_F)``, ``x_F``
        the unpenalized fit of the variables the penalty leaves free (zero
        when there are none). At ``lam >= lambda_max`` every penalized
        variable of the solution is zero; below it some is not. The value is
        rounded up by 16 ulps (relative 3.6e-15) so that the solution at
        ``lam = lambda_max`` is exactly zero in floating point too.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> A = np.eye(4); y = np.array([3.0, 4.0, 1.0, 2.0])
    >>> round(lambda_max(ss.LeastSquares(A, y), ss.GroupLasso([[0, 1], [2, 3]], 1.0)), 12)
    5.0
    >>> round(lambda_max(ss.LeastSquares(A, y), ss.L1(1.0)), 12)
    4.0
    """
    if not isinstance(getattr(loss, "capabilities", None), frozenset) or not hasattr(loss, "dual_point"):
        raise TypeError(f"The 'loss' parameter of lambda_max must be a structsparse Datafit. Got {type(loss).__name__}.")
    penalty = _unit_penalty(penalty)
    n = penalty.n_features
    if n is not None and n != loss.n_features:
        raise ShapeError(f"lambda_max: the penalty is defined on {n} features but the loss has {loss.n_features}.")
    free = penalty.free_variables(loss.n_features, loss.x_shape)
    u = loss.rmatvec(_free_fit_dual_point(loss, free))
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
