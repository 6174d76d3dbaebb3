"""Local identifiability of a state-space sparsity pattern.

With the free entries as parameters ``theta`` (``q`` of them), the pattern is
locally identifiable iff the Jacobian of the Markov parameters
``D, C B, C A B, ..., C A^(2n-1) B`` with respect to ``theta`` has rank ``q``
at a generic point of the pattern (Glover and Willems 1974; Grewal and
Glover 1976). The null space of that Jacobian holds the directions in which
the parameters move without changing the input-output behaviour (for a fully
free model, the ``n^2`` directions of the similarity orbit); its support
says which free entries cannot be told apart from data.

Derivatives (analytic)::

    d(C A^k B)/dA_ij = sum_{r=0}^{k-1} (C A^r)[:, i] (A^(k-1-r) B)[j, :]
    d(C A^k B)/dB_ij = (C A^k)[:, i] e_j^T
    d(C A^k B)/dC_ij = e_i (A^k B)[j, :]
"""

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int, check_rng, check_scalar
from .pattern import MATRIX_NAMES, Pattern

__all__ = ["identifiability", "IdentifiabilityResult", "markov_jacobian", "random_point"]


def random_point(pattern, rng=None):
    """A generic parameter vector: free entries ``N(0, 1/n)``, so powers of ``A`` stay moderate."""
    gen = check_rng(rng)
    scale = 1.0 / np.sqrt(max(pattern.n_states, 1))
    return gen.standard_normal(pattern.n_free) * scale


def markov_jacobian(pattern, theta, n_terms=None):
    """Markov parameters and their Jacobian with respect to the free entries.

    Parameters
    ----------
    pattern : Pattern
    theta : ndarray, shape (q,)
        Values of the free entries.
    n_terms : int, optional
        Number of products ``C A^k B`` (``k = 0 .. n_terms-1``); ``2 n`` by default.

    Returns
    -------
    markov : ndarray, shape (n_terms + 1, p, m)
        ``[D, C B, C A B, ...]``.
    jac : ndarray, shape ((n_terms + 1) * p * m, q)
        Derivative of ``markov.ravel()`` with respect to ``theta``.
    """
    A, B, C, D = pattern.to_matrices(theta)
    n, m, p = pattern.n_states, pattern.n_inputs, pattern.n_outputs
    K = 2 * n if n_terms is None else check_int(n_terms, "n_terms", low=1, owner="markov_jacobian")
    # CA[r] = C A^r, AB[s] = A^s B
    CA = np.empty((K, p, n))
    AB = np.empty((K, n, m))
    CA[0], AB[0] = C, B
    for r in range(1, K):
        CA[r] = CA[r - 1] @ A
        AB[r] = A @ AB[r - 1]
    markov = np.concatenate([D[None], np.einsum("kpn,nm->kpm", CA, B)])

    blocks = {}
    # dA: sum over r of outer products, for every k at once
    dA = np.zeros((K, p, m, n, n))
    for k in range(1, K):
        dA[k] = np.einsum("rpi,rjm->pmij", CA[:k], AB[k - 1::-1])
    blocks["A"] = dA.reshape(K, p, m, n * n)[..., pattern.masks["A"].ravel()]
    dB = np.zeros((K, p, m, n, m))
    for j in range(m):
        dB[:, :, j, :, j] = CA
    blocks["B"] = dB.reshape(K, p, m, n * m)[..., pattern.masks["B"].ravel()]
    dC = np.zeros((K, p, m, p, n))
    for i in range(p):
        dC[:, i, :, i, :] = AB.transpose(0, 2, 1)
    blocks["C"] = dC.reshape(K, p, m, p * n)[..., pattern.masks["C"].ravel()]
    blocks["D"] = np.zeros((K, p, m, int(pattern.masks["D"].sum())))
    top = [np.zeros((p, m, int(pattern.masks[k].sum()))) for k in "ABC"]
    dD = np.zeros((p, m, p, m))
    for i in range(p):
        for j in range(m):
            dD[i, j, i, j] = 1.0
    top.append(dD.reshape(p, m, p * m)[..., pattern.masks["D"].ravel()])
    top = np.concatenate(top, axis=-1)[None]
    rest = np.concatenate([blocks[k] for k in MATRIX_NAMES], axis=-1)
    jac = np.concatenate([top, rest]).reshape((K + 1) * p * m, pattern.n_free)
    return markov, jac


@dataclass(frozen=True, repr=False)
class IdentifiabilityResult:
    """Verdict of :func:`identifiability`.

    Attributes
    ----------
    identifiable : bool
        True when no direction of the free entries leaves the Markov parameters unchanged.
    n_unidentifiable : int
        ``q - rank J``: the dimension of the unidentifiable set of directions.
    n_parameters : int
        ``q``, the number of free entries.
    rank : int
        Numerical rank of the Jacobian.
    moved : list of (str, int, int)
        Free entries that the unidentifiable directions move (they cannot be
        recovered from input-output data); empty when identifiable.
    moved_masks : dict of str -> ndarray of bool
        The same entries as masks of ``A, B, C, D``.
    singular_values : ndarray
        Singular values of the (row- and column-normalized) Jacobian.
    null_space : ndarray, shape (q, n_unidentifiable)
        Orthonormal basis of the unidentifiable directions (in ``theta`` coordinates).
    tol : float
        Relative tolerance used for the rank.
    """

    identifiable: bool
    n_unidentifiable: int
    n_parameters: int
    rank: int
    moved: list = field(default_factory=list)
    moved_masks: dict = field(default_factory=dict)
    singular_values: np.ndarray = None
    null_space: np.ndarray = None
    tol: float = 1e-9

    def __repr__(self):
        return (f"IdentifiabilityResult(identifiable={self.identifiable}, n_parameters={self.n_parameters}, "
                f"rank={self.rank}, n_unidentifiable={self.n_unidentifiable})")

    def summary(self):
        """A few lines for people: verdict, counts and which entries are unidentifiable."""
        head = ("locally identifiable" if self.identifiable else "NOT identifiable")
        lines = [f"Pattern is {head}: {self.n_parameters} free entries, Jacobian rank {self.rank}, "
                 f"{self.n_unidentifiable} unidentifiable direction(s)."]
        if self.moved:
            names = ", ".join(f"{k}[{i},{j}]" for k, i, j in self.moved[:30])
            more = f" and {len(self.moved) - 30} more" if len(self.moved) > 30 else ""
            lines.append(f"Entries moved by those directions: {names}{more}.")
        return "\n".join(lines)


def _normalized(jac, n_blocks, block_rows):
    """Scale each Markov block and each column to unit norm; the rank is unchanged."""
    J = jac.copy()
    for b in range(n_blocks):
        rows = slice(b * block_rows, (b + 1) * block_rows)
        nrm = np.linalg.norm(J[rows])
        if nrm > 0:
            J[rows] /= nrm
    cn = np.linalg.norm(J, axis=0)
    cn[cn == 0] = 1.0
    return J / cn, cn


def identifiability(pattern, rng=None, tol=1e-9, n_points=2):
    """Test whether a pattern is locally identifiable from input-output data.

    The Jacobian of the Markov parameters is evaluated at ``n_points``
    random points of the pattern (generic with probability one); the largest
    rank found is used. The rank counts singular values above ``tol`` times
    the largest one, after the rows of each Markov parameter and each column
    are scaled to unit norm (which does not change the rank but keeps large
    powers of ``A`` from hiding small directions).

    Parameters
    ----------
    pattern : Pattern
    rng : int or numpy.random.Generator, optional
    tol : float
        Relative rank tolerance.
    n_points : int
        Number of random points tried.

    Returns
    -------
    IdentifiabilityResult
    """
    owner = "identifiability"
    if not isinstance(pattern, Pattern):
        raise TypeError(f"The 'pattern' parameter of {owner} must be a Pattern. Got {type(pattern).__name__}.")
    tol = check_scalar(tol, "tol", low=0, high=1, low_inclusive=False, owner=owner)
    n_points = check_int(n_points, "n_points", low=1, owner=owner)
    gen = check_rng(rng)
    q = pattern.n_free
    if q == 0:
        return IdentifiabilityResult(True, 0, 0, 0, [], {k: np.zeros(pattern.masks[k].shape, bool)
                                                         for k in MATRIX_NAMES},
                                     np.zeros(0), np.zeros((0, 0)), tol)
    p, m = pattern.n_outputs, pattern.n_inputs
    best = None
    for _ in range(n_points):
        theta = random_point(pattern, gen)
        _, jac = markov_jacobian(pattern, theta)
        J, cn = _normalized(jac, jac.shape[0] // (p * m), p * m)
        _, s, Vt = np.linalg.svd(J, full_matrices=True)
        rank = int(np.sum(s > tol * s[0])) if s.size and s[0] > 0 else 0
        if best is None or rank > best[0]:
            best = (rank, s, Vt, cn)
    rank, s, Vt, cn = best
    null = Vt[rank:].T  # in normalized coordinates
    # back to theta coordinates (columns were divided by cn), then re-orthonormalize
    null_theta = null / cn[:, None]
    if null_theta.size:
        null_theta, _ = np.linalg.qr(null_theta)
    moved_flags = np.linalg.norm(null, axis=1) > 1e-6 if null.size else np.zeros(q, bool)
    entries = pattern.free_entries()
    moved = [e for e, f in zip(entries, moved_flags) if f]
    masks = {k: np.zeros(pattern.masks[k].shape, bool) for k in MATRIX_NAMES}
    for k, i, j in moved:
        masks[k][i, j] = True
    return IdentifiabilityResult(
        identifiable=rank == q, n_unidentifiable=q - rank, n_parameters=q, rank=rank, moved=moved,
        moved_masks=masks, singular_values=s, null_space=null_theta, tol=tol)
