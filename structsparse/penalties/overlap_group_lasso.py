"""The overlapping group lasso ``lam * sum_g w_g ||x[g]||_2`` over groups that may share variables.

Its zeros are unions of groups (Jenatton, Audibert and Bach 2011): a variable
is zero as soon as one group holding it is. The latent variant, whose
support is a union of groups, is :class:`LatentGroupLasso`.

Neither the prox nor the dual norm has a closed form when groups overlap:

* :meth:`OverlapGroupLasso.prox` is computed by an inner iterative solver,
  block-coordinate ascent on the dual of the prox problem (one ball
  projection per group and sweep), run until its duality gap is below
  ``prox_tol * 0.5 ||v||^2``; each call is warm-started from the previous
  call's dual variable. Use :func:`structsparse.admm` to solve whole
  problems: it needs only block soft-thresholding, never this inner solver.
* :meth:`OverlapGroupLasso.dual_norm` (and hence ``lambda_max``) is the
  minimum over decompositions ``u = sum_g G_g^T xi_g`` of
  ``max_g ||xi_g|| / w_g``, computed exactly by a small second-order cone
  program (cvxpy, Clarabel). It is too costly for a duality gap at every
  iteration, so ``has_dual_norm`` is False.
"""

import warnings

import numpy as np
import scipy.sparse as sp

from .._numba import NUMBA_ENABLED, read_only_arguments
from .._validation import check_int, check_scalar
from ..exceptions import ConvergenceWarning, StructureError, StructureTypeError
from ..structure import Groups, Tree
from ._overlap_kernels import overlap_bcd_numba, overlap_bcd_numpy
from .base import Penalty, group_norms

__all__ = ["OverlapGroupLasso", "as_any_groups"]

# the groups' indices and ptr are read-only on some paths: read-only views give the kernel one signature
_bcd = read_only_arguments(overlap_bcd_numba) if NUMBA_ENABLED else overlap_bcd_numpy


def as_any_groups(groups, owner, n_features=None):
    """Accept a :class:`Groups` or a list of index lists (overlaps allowed)."""
    if isinstance(groups, Tree):
        raise StructureTypeError(f"The 'groups' parameter of {owner} must be Groups or a list of index lists, "
                                 "not a Tree (use tree.to_groups()).")
    if not isinstance(groups, Groups):
        if isinstance(groups, (str, bytes, dict)) or not hasattr(groups, "__len__"):
            raise StructureTypeError(
                f"The 'groups' parameter of {owner} must be Groups or a list of index lists. Got {groups!r}.")
        try:
            groups = Groups.from_lists(groups, n_features=n_features)
        except StructureError as exc:  # the same class: a wrong type stays a TypeError
            raise type(exc)(f"The 'groups' parameter of {owner} is malformed: {exc}") from None
    return groups


class OverlapGroupLasso(Penalty):
    """Group lasso over groups that may overlap: ``lam * sum_g w_g ||x[g]||_2``.

    Variables in no group are not penalized. For disjoint groups the value
    and the prox coincide with :class:`GroupLasso` (the prox is then exact
    after one sweep).

    Parameters
    ----------
    groups : Groups or list of lists of int
        The groups, overlapping or not; their weights ``w_g`` are used.
    lam : float >= 0
    prox_tol : float, default 1e-14
        The prox's inner solver stops when its duality gap is at most
        ``prox_tol * 0.5 * ||v||^2``; the prox is then within
        ``sqrt(2 * gap)`` of the exact one (the prox problem is 1-strongly
        convex).
    prox_max_sweeps : int, default 20000
        Sweep limit of the inner solver (a :class:`ConvergenceWarning` is
        issued if it is reached).

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> pen = ss.OverlapGroupLasso([[0, 1], [1, 2]], lam=1.0)
    >>> pen(np.array([3.0, 4.0, 0.0]))
    9.0
    >>> pen.prox(np.array([0.3, 0.2, 3.0]))  # the zeros form a group: {0, 1}
    array([0., 0., 2.])
    """

    name = "overlap_group_lasso"
    separable = False
    has_dual_norm = False  # exact but needs a cone program; see dual_norm
    exact_prox = False     # the prox runs an inner dual solver

    def __init__(self, groups, lam, prox_tol=1e-14, prox_max_sweeps=20000):
        super().__init__(lam)
        owner = type(self).__name__
        self.groups = as_any_groups(groups, owner)
        self.prox_tol = check_scalar(prox_tol, "prox_tol", low=0, low_inclusive=False, owner=owner)
        self.prox_max_sweeps = check_int(prox_max_sweeps, "prox_max_sweeps", low=1, owner=owner)
        self._warm = None  # (tau, xi) of the last prox call, to warm-start the next one

    @property
    def n_features(self):
        return self.groups.n_features

    def omega(self, x):
        return float(self.groups.weights @ group_norms(x, self.groups))

    def _prox(self, v, tau):
        v2 = v.reshape(v.shape[0], -1)
        g = self.groups
        radii = tau * g.weights
        if tau == 0.0 or not np.any(v2):
            return v.copy()
        xi0 = np.zeros((g.indices.size, v2.shape[1]))
        warm = self._warm
        if warm is not None and warm[1].shape == xi0.shape and warm[0] > 0:
            # rescaled, the last dual point stays feasible for the new radii
            xi0 = warm[1] * (tau / warm[0])
        scale = 0.5 * float(np.vdot(v2, v2))
        tol = self.prox_tol * scale
        xi, r, sweeps, gap = _bcd(0, v2, xi0, g.indices, g.ptr, radii, tol, self.prox_max_sweeps, 5)
        self._warm = (tau, xi)
        if gap > tol:
            warnings.warn(
                f"OverlapGroupLasso.prox: the inner solver reached prox_max_sweeps={self.prox_max_sweeps} "
                f"with duality gap {gap:.3e} > {tol:.3e}; the prox is approximate.", ConvergenceWarning, stacklevel=3)
        # groups whose norm is within the certified error of zero are zero at the exact prox's accuracy
        norms = group_norms(r, g)
        dead = (norms <= np.sqrt(2.0 * gap)) & (radii > 0)
        if dead.any():
            r[np.concatenate([g[i] for i in np.flatnonzero(dead)])] = 0.0
        return r.reshape(v.shape)

    def dual_norm(self, u):
        """Exact dual norm ``min { max_g ||xi_g|| / w_g : sum_g G_g^T xi_g = u }`` (without ``lam``).

        Solved as a second-order cone program with cvxpy (Clarabel), to about
        1e-8 relative accuracy. Infinite when ``u`` is nonzero on a variable
        that no group of positive weight holds (such a variable is free).
        """
        import cvxpy as cp

        u = np.asarray(self.check_x(u, "u"), dtype=float)
        u2 = u.reshape(u.shape[0], -1)
        g = self.groups
        pos = np.flatnonzero(g.weights > 0)
        held = np.zeros(g.n_features, dtype=bool)
        for i in pos:
            held[g[i]] = True
        if np.any(u2[~held]):
            return np.inf
        if not np.any(u2):
            return 0.0
        # One variable for all the pieces xi (one row per (group, member) pair of positive weight),
        # their sum back onto the variables equals u, and one vectorized cone: each group's
        # members, padded to the largest group size with zero rows, in a row of a matrix.
        n_cols = u2.shape[1]
        sizes = g.sizes[pos]
        members = np.concatenate([g[i] for i in pos])
        m, n_pos, width = members.size, pos.size, int(sizes.max()) * n_cols
        Gt = sp.csr_matrix((np.ones(m), (members, np.arange(m))), shape=(g.n_features, m))
        xi = cp.Variable((m, n_cols))
        # entry (piece j, column c) goes to row "its group", column "its rank in the group" * n_cols + c
        grp = np.repeat(np.arange(n_pos), sizes)
        rank = np.arange(m) - np.repeat(np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
        rows = np.repeat(grp * width + rank * n_cols, n_cols) + np.tile(np.arange(n_cols), m)
        place = sp.csr_matrix((np.ones(m * n_cols), (rows, np.arange(m * n_cols))), shape=(n_pos * width, m * n_cols))
        padded = cp.reshape(place @ cp.vec(xi, order="C"), (n_pos, width), order="C")
        t = cp.Variable(nonneg=True)
        cons = [Gt[held] @ xi == u2[held], cp.SOC(t * g.weights[pos], padded, axis=1)]
        prob = cp.Problem(cp.Minimize(t), cons)
        try:
            prob.solve(solver="CLARABEL")
        except cp.error.SolverError:
            prob.solve(solver="SCS", eps_abs=1e-9, eps_rel=1e-9)
        if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or t.value is None:
            raise RuntimeError(f"OverlapGroupLasso.dual_norm: the cone program failed ({prob.status}).")
        return float(t.value)

    def dual_norm_bounds(self, u):
        """Cheap bounds ``(lower, upper)`` on :meth:`dual_norm` without a cone program.

        Lower bound: any split ``u = sum_g G_g^T xi_g`` with ``||xi_g|| <= t w_g`` gives
        ``|u_j| <= sum_{g holding j} ||xi_g|| <= t sum_{g holding j} w_g`` for every variable
        ``j``. Upper bound: the split that shares every variable evenly among the groups of
        positive weight holding it is feasible.
        """
        u = np.asarray(self.check_x(u, "u"), dtype=float)
        u2 = u.reshape(u.shape[0], -1)
        g = self.groups
        if not np.any(u2):
            return 0.0, 0.0
        w_sum = np.bincount(g.indices, weights=np.repeat(g.weights, g.sizes), minlength=g.n_features)
        row_norm = np.sqrt((u2 * u2).sum(axis=1))
        if np.any(row_norm[w_sum == 0] > 0):
            return np.inf, np.inf
        nz = row_norm > 0
        lower = float(np.max(row_norm[nz] / w_sum[nz]))
        counts = np.bincount(g.indices[np.repeat(g.weights, g.sizes) > 0], minlength=g.n_features)
        even = np.zeros_like(u2)
        even[counts > 0] = u2[counts > 0] / counts[counts > 0, None]
        norms = group_norms(even, g)
        pos = g.weights > 0
        upper = float(np.max(norms[pos] / g.weights[pos]))
        return lower, upper

    def norm_groups(self, n_features, n_targets=1):
        g = self.groups
        return g.indices, g.ptr, g.weights

    def cvxpy_omega(self, x):
        import cvxpy as cp

        terms = [w * cp.norm(cp.vec(x[idx], order="C"), 2)
                 for idx, w in zip(self.groups, self.groups.weights) if w > 0]
        return cp.sum(cp.hstack(terms)) if terms else cp.Constant(0.0)

    def with_lam(self, lam):
        new = super().with_lam(lam)
        new._warm = None
        return new

    def __repr__(self):
        return f"OverlapGroupLasso(n_groups={self.groups.n_groups}, n_features={self.n_features}, lam={self.lam:g})"
