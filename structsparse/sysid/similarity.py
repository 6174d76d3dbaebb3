"""Bring a model to a pattern's coordinates by a similarity transform.

A subspace estimate is right only up to a change of state coordinates
``x = T z``: ``(T^-1 A T, T^-1 B, C T, D)`` behaves the same. To start a
structured refinement near the true entries, we look for the ``T`` that
makes the transformed model match the pattern's fixed entries (structural
zeros and known values):

    min_T  sum over fixed entries of ((T^-1 A T)_ij - a_ij)^2 + ((T^-1 B)_ij - b_ij)^2 + ((C T)_ij - c_ij)^2

by nonlinear least squares from several starts (the identity and random
matrices, projected onto the affine set where ``C T`` already matches the
fixed entries of ``C``), stopping at the first well-conditioned exact match.
For an identifiable pattern and good data, the best ``T`` gives a residual
near the noise level.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from .._validation import check_int, check_rng
from .pattern import Pattern

__all__ = ["fit_similarity", "SimilarityFit"]


@dataclass(frozen=True, repr=False)
class SimilarityFit:
    """One candidate transform.

    Attributes
    ----------
    T : ndarray, shape (n, n)
        The transform (``x = T z``).
    residual : float
        Root-mean-square mismatch of the fixed entries, relative to the
        model's scale.
    """

    T: np.ndarray
    residual: float

    def __repr__(self):
        return f"SimilarityFit(n={np.shape(self.T)[0]}, residual={self.residual:.3e})"


def _transformed(tvec, A, B, C, n):
    T = tvec.reshape(n, n)
    S = np.linalg.solve(T, np.eye(n))
    return T, S, S @ A @ T, S @ B, C @ T


def _residuals(tvec, A, B, C, masks, values, weights, n):
    try:
        _, _, At, Bt, Ct = _transformed(tvec, A, B, C, n)
    except np.linalg.LinAlgError:
        return np.full(sum(int((~masks[k]).sum()) for k in "ABC"), 1e6)
    parts = []
    for name, M in (("A", At), ("B", Bt), ("C", Ct)):
        fixed = ~masks[name]
        parts.append(weights[name] * (M[fixed] - values[name][fixed]))
    return np.concatenate(parts)


def _jacobian(tvec, A, B, C, masks, values, weights, n):
    """Analytic derivative: with ``S = T^-1``, ``dS = -S dT S``."""
    try:
        T, S, At, Bt, Ct = _transformed(tvec, A, B, C, n)
    except np.linalg.LinAlgError:
        return np.zeros((sum(int((~masks[k]).sum()) for k in "ABC"), n * n))
    eye = np.eye(n)
    SA = S @ A
    # G[i, j, k, l] = d M[i, j] / d T[k, l]
    GA = -np.einsum("ik,lj->ijkl", S, At) + np.einsum("ik,jl->ijkl", SA, eye)
    GB = -np.einsum("ik,lj->ijkl", S, Bt)
    GC = np.einsum("ik,jl->ijkl", C, eye)
    parts = []
    for name, G in (("A", GA), ("B", GB), ("C", GC)):
        fixed = ~masks[name]
        parts.append(weights[name] * G[fixed].reshape(-1, n * n))
    return np.concatenate(parts)


def _c_projector(C, pattern):
    """Projection of a start ``T`` onto ``{T : (C T) matches the fixed entries of C}`` (linear in ``T``).

    Starting on that affine set leaves only the directions the other
    constraints must fix, which makes random starts far more likely to
    reach the right basin.
    """
    n = C.shape[1]
    fixed = np.argwhere(~pattern.masks["C"])
    if fixed.size == 0:
        return lambda T: T
    K = np.zeros((len(fixed), n * n))
    v = np.empty(len(fixed))
    for r, (i, j) in enumerate(fixed):
        K[r, np.arange(n) * n + j] = C[i]  # (C T)[i, j] = sum_k C[i, k] T[k, j]
        v[r] = pattern.values["C"][i, j]
    K_pinv = np.linalg.pinv(K)

    def project(T):
        t = T.ravel()
        return (t - K_pinv @ (K @ t - v)).reshape(n, n)

    return project


def fit_similarity(system, pattern, n_starts=10, rng=None, max_candidates=3, max_nfev=80,
                   max_condition=1e3, good_residual=1e-3, good_condition=100.0):
    """Transforms that bring ``system`` closest to the fixed entries of ``pattern``.

    Parameters
    ----------
    system : StateSpace
    pattern : Pattern
    n_starts : int
        Random starts besides the identity.
    rng : int or numpy.random.Generator, optional
    max_candidates : int
        How many distinct best transforms to return.
    max_nfev : int
        Evaluation budget of each start.
    max_condition : float
        Transforms with a larger condition number come last, whatever their residual.
    good_residual, good_condition : float
        Stop at the first transform with a residual and a condition number this small.

    Returns
    -------
    list of SimilarityFit
        Sorted by residual, best first; distinct (different transformed ``A``).
    """
    if not isinstance(pattern, Pattern):
        raise TypeError("fit_similarity: 'pattern' must be a Pattern.")
    n_starts = check_int(n_starts, "n_starts", low=0, owner="fit_similarity")
    if not all(hasattr(system, k) for k in ("A", "B", "C", "n_states")):
        raise TypeError(f"The 'system' parameter of fit_similarity must be a StateSpace. Got {type(system).__name__}.")
    if not isinstance(pattern, Pattern):
        raise TypeError(f"The 'pattern' parameter of fit_similarity must be a Pattern. Got {type(pattern).__name__}.")
    gen = check_rng(rng)
    n = system.n_states
    A, B, C = system.A, system.B, system.C
    n_fixed = sum(int((~pattern.masks[k]).sum()) for k in "ABC")
    if n_fixed == 0:
        return [SimilarityFit(np.eye(n), 0.0)]
    # each matrix counts by its own scale, so that a large B does not drown A
    weights = {k: 1.0 / max(float(np.linalg.norm(M)) / np.sqrt(M.size), 1e-12)
               for k, M in (("A", A), ("B", B), ("C", C))}
    project = _c_projector(C, pattern)
    fits = []
    for k in range(n_starts + 1):
        T0 = np.eye(n) if k == 0 else project(gen.standard_normal((n, n)))
        try:
            res = least_squares(_residuals, T0.ravel(), jac=_jacobian,
                                args=(A, B, C, pattern.masks, pattern.values, weights, n),
                                method="lm", xtol=1e-10, ftol=1e-10, max_nfev=max_nfev)
        except (ValueError, np.linalg.LinAlgError):  # pragma: no cover  (degenerate start)
            continue
        T = res.x.reshape(n, n)
        if not np.all(np.isfinite(T)):
            continue
        cond = np.linalg.cond(T)
        if cond > 1e10:
            continue
        fits.append(SimilarityFit(T, float(np.sqrt(2 * res.cost / n_fixed))))
        if fits[-1].residual <= good_residual and cond <= good_condition:
            break  # a well-conditioned exact match: the pattern's coordinates are found
    # nearly singular transforms can push the fixed entries toward their values while the free
    # ones blow up (a solution "at infinity"); rank them after every well-conditioned one
    fits.sort(key=lambda f: (np.linalg.cond(f.T) > max_condition, f.residual))
    distinct = []
    for f in fits:
        At = np.linalg.solve(f.T, A @ f.T)
        if all(np.linalg.norm(At - np.linalg.solve(g.T, A @ g.T)) > 1e-6 * (1 + np.linalg.norm(At))
               for g in distinct):
            distinct.append(f)
        if len(distinct) >= max_candidates:
            break
    return distinct
