"""Structured prediction-error (output-error) refinement over a pattern's free entries.

The parameters are the free entries ``theta`` of a :class:`Pattern` and the
initial state ``x0``; the residuals are the simulated minus the measured
outputs, each output scaled by its standard deviation. Sensitivities are
analytic: for a free ``A_ij`` the state sensitivity obeys
``s[t+1] = A s[t] + e_i x_j[t]``, for ``B_ij`` ``s[t+1] = A s[t] + e_i u_j[t]``,
for ``x0`` it starts at ``e_k``; all of them run in one linear recursion.
``C`` and ``D`` enter the outputs directly.

Stability is enforced with a barrier that least squares cannot cross: a trial
point whose ``A`` has spectral radius ``>= max_radius`` gets a residual far
above the current one, so the trust-region step is rejected and shrunk.
"""

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from .._validation import check_array, check_choice, check_int, check_scalar
from ..exceptions import ShapeError
from ._kernels import propagate
from .pattern import Pattern

__all__ = ["pem_refine", "PEMResult", "output_error_jacobian"]


@dataclass(frozen=True, repr=False)
class PEMResult:
    """Outcome of :func:`pem_refine`.

    Attributes
    ----------
    theta : ndarray
        Free entries at the optimum.
    x0 : ndarray
        Initial state at the optimum.
    cost : float
        ``0.5 * sum of squared (scaled) residuals``.
    n_iter : int
        Jacobian evaluations (accepted steps).
    converged : bool
    message : str
    history : dict
        ``"cost"``: cost at every accepted iterate.
    """

    theta: np.ndarray
    x0: np.ndarray
    cost: float
    n_iter: int
    converged: bool
    message: str
    history: dict = field(default_factory=dict)

    def __repr__(self):
        return (f"PEMResult(n_free={np.size(self.theta)}, cost={self.cost:.6g}, n_iter={self.n_iter}, "
                f"converged={self.converged})")


def _simulate(A, B, C, D, u, x0):
    N, n = u.shape[0], A.shape[0]
    X = propagate(A, (u @ B.T)[:, :, None], x0[:, None])[:, :, 0]
    return X, X @ C.T + u @ D.T


def output_error_jacobian(pattern, theta, x0, u, states=None):
    """Simulated outputs and their Jacobian with respect to ``(theta, x0)``.

    Parameters
    ----------
    states : ndarray, optional
        The simulated states at ``(theta, x0)`` when already known.

    Returns
    -------
    y_hat : ndarray, shape (n_samples, n_outputs)
    jac : ndarray, shape (n_samples, n_outputs, n_free + n_states)
    """
    A, B, C, D = pattern.to_matrices(theta)
    if states is None:
        X, y_hat = _simulate(A, B, C, D, u, x0)
    else:
        X, y_hat = states, states @ C.T + u @ D.T
    N, n, p = u.shape[0], pattern.n_states, pattern.n_outputs
    ents = pattern.free_entries()
    q = len(ents)
    state_cols = [k for k, e in enumerate(ents) if e[0] in "AB"]
    F = np.zeros((N, n, len(state_cols) + n))
    for c, k in enumerate(state_cols):
        name, i, j = ents[k]
        F[:, i, c] = X[:, j] if name == "A" else u[:, j]
    S0 = np.zeros((n, len(state_cols) + n))
    S0[:, len(state_cols):] = np.eye(n)
    S = propagate(A, F, S0)
    dY = np.einsum("pn,tnk->tpk", C, S)
    jac = np.zeros((N, p, q + n))
    jac[:, :, state_cols] = dY[:, :, :len(state_cols)]
    jac[:, :, q:] = dY[:, :, len(state_cols):]
    for k, (name, i, j) in enumerate(ents):
        if name == "C":
            jac[:, i, k] = X[:, j]
        elif name == "D":
            jac[:, i, k] = u[:, j]
    return y_hat, jac


def pem_refine(u, y, pattern, theta0, x0=None, max_radius=0.9999, max_nfev=200, tol=1e-8,
               estimate_x0=True, method="lm"):
    """Minimize the output error over the free entries of ``pattern`` (and ``x0``).

    Parameters
    ----------
    u : ndarray, shape (n_samples, n_inputs)
    y : ndarray, shape (n_samples, n_outputs)
    pattern : Pattern
    theta0 : ndarray, shape (n_free,)
        Starting free entries; the model there must be stable.
    x0 : ndarray, shape (n_states,), optional
        Starting initial state (zero by default).
    max_radius : float
        Largest spectral radius of ``A`` allowed during the search.
    max_nfev : int
        Limit on residual evaluations.
    tol : float
        ``ftol``, ``xtol`` and ``gtol`` of ``scipy.optimize.least_squares``.
    estimate_x0 : bool
        Also fit the initial state.
    method : {"lm", "trf"}
        Method of ``scipy.optimize.least_squares``; Levenberg-Marquardt is the
        fastest here and copes with the rank-deficient Jacobian of a fully
        free (over-parameterized) model.

    Returns
    -------
    PEMResult
    """
    owner = "pem_refine"
    if not isinstance(pattern, Pattern):
        raise TypeError(f"The 'pattern' parameter of {owner} must be a Pattern.")
    max_radius = check_scalar(max_radius, "max_radius", low=0, high=1, low_inclusive=False, owner=owner)
    max_nfev = check_int(max_nfev, "max_nfev", low=1, owner=owner)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    check_choice(method, "method", ("lm", "trf"), owner=owner)
    n, q = pattern.n_states, pattern.n_free
    theta0 = check_array(theta0, "theta0", ndim=1, owner=owner)
    if theta0.size != q:
        raise ShapeError(f"The 'theta0' parameter of {owner} must have {q} entries (the pattern's free entries). "
                         f"Got {theta0.size}.")
    x0 = np.zeros(n) if x0 is None else np.asarray(x0, dtype=float).copy()
    scale = y.std(axis=0)
    scale = 1.0 / np.where(scale > 0, scale, 1.0)
    history = {"cost": []}
    cache = {}

    def split(z):
        return z[:q], (z[q:] if estimate_x0 else x0)

    def rho(theta):
        A = pattern.to_matrices(theta)[0]
        return float(np.max(np.abs(np.linalg.eigvals(A)))) if n else 0.0

    if rho(np.asarray(theta0, float)) >= max_radius:
        raise ValueError(f"{owner}: the starting model is unstable; stabilize it first.")
    z0 = np.concatenate([theta0, x0]) if estimate_x0 else np.asarray(theta0, float).copy()
    barrier = {"value": None}

    def fun(z):
        theta, xs = split(z)
        if rho(theta) >= max_radius:
            # outside the stable set: a residual far above the start's makes the step fail
            return barrier["value"]
        A, B, C, D = pattern.to_matrices(theta)
        X, y_hat = _simulate(A, B, C, D, u, xs)
        r = ((y_hat - y) * scale).ravel()
        if not np.all(np.isfinite(r)):
            return barrier["value"]
        cache["z"], cache["X"], cache["cost"] = z.copy(), X, 0.5 * float(r @ r)
        return r

    def jac(z):
        theta, xs = split(z)
        states = cache["X"] if "z" in cache and np.array_equal(cache["z"], z) else None
        _, J = output_error_jacobian(pattern, theta, xs, u, states=states)
        J = (J * scale[None, :, None]).reshape(-1, J.shape[2])
        if states is not None:
            history["cost"].append(cache["cost"])
        return J if estimate_x0 else J[:, :q]

    r0 = fun(z0)
    barrier["value"] = np.full(r0.size, 1e3 * (np.sqrt(float(r0 @ r0) / r0.size) + 1.0))
    res = least_squares(fun, z0, jac=jac, method=method, x_scale="jac", ftol=tol, xtol=tol, gtol=tol,
                        max_nfev=max_nfev)
    theta, xs = split(res.x)
    return PEMResult(theta=theta.copy(), x0=np.asarray(xs, float).copy(), cost=float(res.cost),
                     n_iter=int(res.njev or 0), converged=res.status > 0,
                     message=res.message, history=history)
