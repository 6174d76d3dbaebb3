"""The latent group lasso (Jacob, Obozinski and Vert, ICML 2009).

``Omega(x) = min { sum_g w_g ||v_g||_2 : sum_g G_g^T v_g = x }``: ``x`` is
split into latent pieces ``v_g``, each supported on its group, and the
cheapest split is paid for. Its solutions' supports are unions of groups
(the overlapping group lasso's *zeros* are unions of groups instead).

A variable held by a group of weight zero, or by no group, is free
(not penalized): a piece of zero cost can absorb it.

* Value: a small second-order cone program (cvxpy), exact but slow; solvers
  should not evaluate it at every iteration. :func:`structsparse.solve_latent`
  solves whole problems in the latent space, where the penalty is a plain
  disjoint group lasso.
* Prox: block-coordinate descent on the latent pieces (``v_g`` shrunk by
  ``tau w_g`` in turn), to a duality gap of ``prox_tol * 0.5 ||v||^2``;
  iterative, documented as such.
* Dual norm: closed form, ``max_g ||u[g]||_2 / w_g`` over groups of positive
  weight (infinite when ``u`` is nonzero on a free variable).
"""

import warnings

import numpy as np
import scipy.sparse as sp

from .._numba import NUMBA_ENABLED, read_only_arguments
from .._validation import check_int, check_scalar
from ..exceptions import ConvergenceWarning
from ._overlap_kernels import overlap_bcd_numba, overlap_bcd_numpy
from .base import Penalty
from .overlap_group_lasso import as_any_groups

__all__ = ["LatentGroupLasso", "LatentStructure"]

# the groups' indices and ptr are read-only on some paths: read-only views give the kernel one signature
_bcd = read_only_arguments(overlap_bcd_numba) if NUMBA_ENABLED else overlap_bcd_numpy


class LatentStructure:
    """The latent copies of a group structure, with free variables set apart.

    Attributes
    ----------
    indices, ptr : ndarray of int64
        Latent copy ``j`` is a copy of variable ``indices[j]``; group ``g``
        (the ``g``-th group of positive weight) owns copies ``ptr[g]:ptr[g+1]``.
        Free variables are left out of the groups.
    weights : ndarray
        Weight of every kept group.
    group_ids : ndarray of int
        Index of every kept group in the original :class:`Groups`.
    free : ndarray of bool
        Variables held by no group of positive weight or by some group of weight zero.
    n_features, n_copies : int
    """

    def __init__(self, groups):
        n = groups.n_features
        free = np.ones(n, dtype=bool)
        zero_held = np.zeros(n, dtype=bool)
        for g, w in zip(groups, groups.weights):
            if w > 0:
                free[g] = False
            else:
                zero_held[g] = True
        free |= zero_held
        members, sizes, keep = [], [], []
        for i, (g, w) in enumerate(zip(groups, groups.weights)):
            if w <= 0:
                continue
            g = g[~free[g]]
            if g.size:
                members.append(g)
                sizes.append(g.size)
                keep.append(i)
        self.indices = np.concatenate(members).astype(np.int64) if members else np.zeros(0, dtype=np.int64)
        self.ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.group_ids = np.asarray(keep, dtype=np.int64)
        self.weights = np.asarray(groups.weights)[self.group_ids]
        self.free = free
        self.n_features = n
        self.n_copies = self.indices.size

    def scatter_matrix(self):
        """``G^T`` as a sparse ``(n_features, n_copies)`` matrix (sum of the copies of each variable)."""
        m = self.n_copies
        return sp.csr_matrix((np.ones(m), (self.indices, np.arange(m))), shape=(self.n_features, m))


class LatentGroupLasso(Penalty):
    """Latent group lasso ``lam * min { sum_g w_g ||v_g|| : sum_g G_g^T v_g = x }``.

    Parameters
    ----------
    groups : Groups or list of lists of int
        Overlapping (or disjoint) groups and their weights.
    lam : float >= 0
    prox_tol : float, default 1e-14
        The prox's inner solver stops at a duality gap of ``prox_tol * 0.5 ||v||^2``.
    prox_max_sweeps : int, default 20000

    Notes
    -----
    For disjoint groups this is the group lasso. Solve problems with
    :func:`structsparse.solve_latent`, which works in the latent space; the
    value ``penalty(x)`` needs a cone program.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> pen = ss.LatentGroupLasso([[0, 1], [1, 2]], lam=1.0)
    >>> round(pen.dual_norm(np.array([3.0, 4.0, 0.0])), 6)
    5.0
    >>> np.round(pen.prox(np.array([0.3, 0.2, 3.0])), 4)  # the support is a group: {1, 2}
    array([0.    , 0.1335, 2.0022])
    """

    name = "latent_group_lasso"
    separable = False
    has_dual_norm = True
    exact_prox = False  # the prox runs an inner solver over the latent pieces

    def __init__(self, groups, lam, prox_tol=1e-14, prox_max_sweeps=20000):
        super().__init__(lam)
        owner = type(self).__name__
        self.groups = as_any_groups(groups, owner)
        self.prox_tol = check_scalar(prox_tol, "prox_tol", low=0, low_inclusive=False, owner=owner)
        self.prox_max_sweeps = check_int(prox_max_sweeps, "prox_max_sweeps", low=1, owner=owner)
        self.latent = LatentStructure(self.groups)

    @property
    def n_features(self):
        return self.groups.n_features

    def duplicated_penalty(self):
        """The disjoint group lasso on the latent copies (one block per group, then the free columns, unpenalized).

        Solving any datafit on the duplicated design ``A G^T`` with this
        penalty solves the latent problem (Jacob, Obozinski, Vert 2009).
        """
        from ..structure import Groups
        from .group_lasso import GroupLasso

        lat = self.latent
        n_latent = lat.n_copies + int(np.sum(lat.free))
        groups = Groups(np.arange(lat.n_copies), lat.ptr, n_latent, weights=lat.weights)
        return GroupLasso(groups, self.lam)

    # ------------------------------------------------------------------ value
    def latent_omega(self, v):
        """``sum_g w_g ||v_g||`` of a latent vector (copies in :attr:`latent` order, free variables excluded)."""
        v2 = np.asarray(v, dtype=float).reshape(self.latent.n_copies, -1)
        if v2.shape[0] == 0:
            return 0.0
        norms = np.sqrt(np.add.reduceat((v2 * v2).sum(axis=1), self.latent.ptr[:-1]))
        return float(self.latent.weights @ norms)

    def omega(self, x):
        """``Omega(x)``, by a second-order cone program (exact to the cone solver's accuracy, slow)."""
        import cvxpy as cp

        x2 = np.asarray(x, dtype=float).reshape(self.n_features, -1)
        if not np.any(x2[~self.latent.free]):
            return 0.0
        expr, _ = self._cvxpy_parts(cp.Constant(x2))
        prob = cp.Problem(cp.Minimize(expr))
        try:
            prob.solve(solver="CLARABEL")
        except cp.error.SolverError:
            prob.solve(solver="SCS", eps_abs=1e-10, eps_rel=1e-10)
        if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise RuntimeError(f"LatentGroupLasso.omega: the cone program failed ({prob.status}).")
        return float(prob.value)

    # ------------------------------------------------------------------ prox and dual norm
    def _prox(self, v, tau):
        v2 = v.reshape(v.shape[0], -1)
        lat = self.latent
        if tau == 0.0 or not np.any(v2) or lat.n_copies == 0:
            return v.copy()
        pen_rows = ~lat.free
        vp = np.where(pen_rows[:, None], v2, 0.0)  # free variables are returned unchanged, below
        radii = tau * lat.weights
        z0 = np.zeros((lat.n_copies, v2.shape[1]))
        tol = self.prox_tol * 0.5 * float(np.vdot(vp, vp))
        z, r, _, gap = _bcd(1, vp, z0, lat.indices, lat.ptr, radii, tol, self.prox_max_sweeps, 5)
        if gap > tol:
            warnings.warn(
                f"LatentGroupLasso.prox: the inner solver reached prox_max_sweeps={self.prox_max_sweeps} "
                f"with duality gap {gap:.3e} > {tol:.3e}; the prox is approximate.", ConvergenceWarning, stacklevel=3)
        x = vp - r
        x[lat.free] = v2[lat.free]
        return x.reshape(v.shape)

    def _dual_norm(self, u):  # u validated by Penalty.dual_norm
        u = np.asarray(u, dtype=float)
        u2 = u.reshape(u.shape[0], -1)
        lat = self.latent
        if np.any(u2[lat.free]):
            return np.inf
        if lat.n_copies == 0:
            return 0.0
        ui = u2[lat.indices]
        norms = np.sqrt(np.add.reduceat((ui * ui).sum(axis=1), lat.ptr[:-1]))
        return float(np.max(norms / lat.weights))

    # ------------------------------------------------------------------ cvxpy
    def _cvxpy_parts(self, x):
        """``sum_g w_g ||V_g||`` with ``V = G D^-1 x + (I - G D^-1 G^T) C`` and ``C`` a free auxiliary variable.

        Every split of ``x`` (on the penalized variables) is ``V`` for some
        ``C``, because ``G^T V = x`` for all ``C`` (``G^T G = D``), and any
        split ``V`` is reached with ``C = V``.
        """
        import cvxpy as cp

        lat = self.latent
        m = lat.n_copies
        counts = np.bincount(lat.indices, minlength=lat.n_features).astype(float)
        P = sp.csr_matrix((1.0 / counts[lat.indices], (np.arange(m), lat.indices)), shape=(m, lat.n_features))
        Gt = lat.scatter_matrix()
        Q = sp.identity(m, format="csr") - P @ Gt
        shape = (m,) if len(x.shape) == 1 else (m, x.shape[1])
        aux = cp.Variable(shape, name="latent_aux")
        V = P @ x + Q @ aux
        terms = [w * cp.norm(cp.vec(V[lat.ptr[g]:lat.ptr[g + 1]], order="C"), 2)
                 for g, w in enumerate(lat.weights)]
        return (cp.sum(cp.hstack(terms)) if terms else cp.Constant(0.0)), aux

    def cvxpy_omega(self, x):
        """cvxpy expression of ``Omega(x)`` with an auxiliary variable for the split.

        Exact inside a minimization (such as :func:`structsparse.solve_cvxpy`),
        where the split is optimized jointly with ``x``; its ``.value`` alone
        is only an upper bound.
        """
        return self._cvxpy_parts(x)[0]

    def __repr__(self):
        return f"LatentGroupLasso(n_groups={self.groups.n_groups}, n_features={self.n_features}, lam={self.lam:g})"
