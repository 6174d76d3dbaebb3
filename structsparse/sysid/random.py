"""Random stable systems, on a given sparsity pattern or on a random one."""

import numpy as np

from .._validation import check_int, check_rng, check_scalar
from ..exceptions import ParameterError, ShapeError
from .pattern import Pattern
from .statespace import StateSpace

__all__ = ["random_system", "random_pattern"]


def random_pattern(n_states, n_inputs, n_outputs, density=0.5, rng=None, feedthrough=False):
    """A random pattern: each entry of ``A, B, C`` free with probability ``density``.

    The diagonal of ``A`` is always free (every state has its own dynamics),
    every input reaches at least one state and every output sees at least one
    state, so no channel is dead. ``D`` is free entirely with ``feedthrough``
    and fixed at zero otherwise.

    Parameters
    ----------
    n_states : int
        Number of states, at least 1.
    n_inputs : int
        Number of inputs, at least 0.
    n_outputs : int
        Number of outputs, at least 1.
    density : float in (0, 1]
        Probability that an entry of ``A``, ``B`` or ``C`` is free (before
        the diagonal and the dead channels are filled in).
    rng : int, numpy.random.Generator or None
        Seed or generator for the draws.
    feedthrough : bool
        Make every entry of ``D`` free; otherwise ``D`` is fixed at zero.

    Returns
    -------
    Pattern
        Free-entry masks of shapes (n, n), (n, m), (p, n) and (p, m); all
        known values are zero.
    """
    owner = "random_pattern"
    n = check_int(n_states, "n_states", low=1, owner=owner)
    m = check_int(n_inputs, "n_inputs", low=0, owner=owner)
    p = check_int(n_outputs, "n_outputs", low=1, owner=owner)
    density = check_scalar(density, "density", low=0, high=1, low_inclusive=False, owner=owner)
    gen = check_rng(rng)
    A = gen.random((n, n)) < density
    np.fill_diagonal(A, True)
    B = gen.random((n, m)) < density
    for j in range(m):
        if not B[:, j].any():
            B[gen.integers(n), j] = True
    C = gen.random((p, n)) < density
    for i in range(p):
        if not C[i].any():
            C[i, gen.integers(n)] = True
    return Pattern(A, B, C, np.full((p, m), bool(feedthrough)))


def random_system(n_states, n_inputs, n_outputs, density=0.5, rng=None, pattern=None,
                  spectral_radius=0.9, feedthrough=False, magnitude=(0.5, 1.0)):
    """Draw a stable discrete-time system.

    Free entries get a random sign and a magnitude drawn uniformly in
    ``magnitude`` (bounded away from zero, so that the pattern is visible in
    the values); fixed entries take the pattern's values. When ``A`` has a
    spectral radius above ``spectral_radius``, its free part is scaled down
    until it does not.

    Parameters
    ----------
    n_states, n_inputs, n_outputs : int
    density : float in (0, 1]
        Probability that an entry is free, when ``pattern`` is not given.
    rng : int or numpy.random.Generator, optional
    pattern : Pattern, optional
        Draw on this pattern (its sizes must match).
    spectral_radius : float in (0, 1)
        Upper bound on the pole moduli.
    feedthrough : bool
        Random ``D`` (only when ``pattern`` is not given).
    magnitude : (float, float)
        Range of the free entries' absolute values.

    Returns
    -------
    StateSpace
    """
    owner = "random_system"
    gen = check_rng(rng)
    radius = check_scalar(spectral_radius, "spectral_radius", low=0, high=1, low_inclusive=False,
                          high_inclusive=False, owner=owner)
    lo, hi = magnitude
    lo = check_scalar(lo, "magnitude[0]", low=0, owner=owner)
    hi = check_scalar(hi, "magnitude[1]", low=lo, owner=owner)
    if pattern is None:
        pattern = random_pattern(n_states, n_inputs, n_outputs, density, gen, feedthrough)
    elif not isinstance(pattern, Pattern):
        raise TypeError(f"The 'pattern' parameter of {owner} must be a Pattern or None. Got {type(pattern).__name__}.")
    sizes = (pattern.n_states, pattern.n_inputs, pattern.n_outputs)
    if sizes != (n_states, n_inputs, n_outputs):
        raise ShapeError(
            f"The 'pattern' of {owner} has (n_states, n_inputs, n_outputs) = {sizes}, "
            f"but ({n_states}, {n_inputs}, {n_outputs}) was asked."
        )
    theta = gen.choice([-1.0, 1.0], pattern.n_free) * gen.uniform(lo, hi, pattern.n_free)
    A, B, C, D = pattern.to_matrices(theta)
    A = _shrink_free_part(A, pattern, radius)
    return StateSpace(A, B, C, D)


def _shrink_free_part(A, pattern, radius):
    """Scale the free entries of ``A`` until its spectral radius is at most ``radius``."""
    def rho(M):
        return float(np.max(np.abs(np.linalg.eigvals(M))))

    if rho(A) <= radius:
        return A
    fixed = pattern.values["A"]
    free = A - fixed
    if not np.any(fixed):
        return A * (radius / rho(A))
    if rho(fixed) >= radius:
        raise ParameterError(
            "random_system: the known values of A alone have spectral radius "
            f"{rho(fixed):.3g} >= spectral_radius={radius:g}; no scaling of the free entries can make it stable."
        )
    # the radius need not be monotone in the scale: take the largest stable scale on a fine grid
    for s in np.linspace(1.0, 0.0, 201)[1:]:
        if rho(fixed + s * free) <= radius:
            return fixed + s * free
    return fixed  # pragma: no cover  (s = 0 is stable by the check above)
