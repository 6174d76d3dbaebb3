"""The penalty interface shared by every structured penalty.

A penalty is ``lam * Omega(x)`` with ``Omega`` a (weighted) norm or a sum of
norms. It gives its value (``penalty(x)``), the prox of ``step * penalty``
(``penalty.prox(v, step)``), the dual norm of ``Omega`` where one is
computable (``penalty.dual_norm(u)``, without ``lam``), and a cvxpy
expression of itself (``penalty.cvxpy(x, lam)``) with ``lam`` possibly a
``cvxpy.Parameter``. Penalties know nothing about losses or solvers.

The variable ``x`` is a vector ``(n_features,)`` or, for several right-hand
sides, a matrix ``(n_features, n_targets)``; group norms are taken over the
rows of a group and all columns.
"""

import copy
from abc import ABC, abstractmethod

import numpy as np

from .._validation import check_array, check_scalar
from ..exceptions import ShapeError

__all__ = ["Penalty"]


class Penalty(ABC):
    """Base class: ``lam * Omega(x)``.

    Subclasses set ``name`` and implement :meth:`omega`, :meth:`_prox` and
    :meth:`cvxpy_omega`; those with a closed-form dual norm implement
    :meth:`_dual_norm` (called by :meth:`dual_norm` on a validated
    argument), which declares the ``"dual_norm"`` capability.

    Attributes
    ----------
    lam : float
        Regularization strength (>= 0).
    name : str
        Short identifier used by the registry, the CLI and reports.
    separable : bool
        True when the prox splits over disjoint blocks of variables, which
        lets working-set and coordinate-descent solvers handle blocks apart.
    has_dual_norm : bool
        True when :meth:`dual_norm` is available, so that solvers can compute
        a duality gap. By default, whether the class implements
        :meth:`_dual_norm` (or :meth:`dual_norm`); a class whose dual norm is
        too costly for gaps sets it to False.
    """

    name = "penalty"
    separable = False
    #: False when the prox is computed by an inner iterative solver (overlapping and latent groups).
    exact_prox = True

    def __init__(self, lam):
        self.lam = check_scalar(lam, "lam", low=0, owner=type(self).__name__)

    @property
    def has_dual_norm(self):
        """Whether :meth:`dual_norm` gives duality gaps (default: the class implements it)."""
        return self.__dict__.get("_has_dual_norm", _implements_dual_norm(type(self)))

    @has_dual_norm.setter
    def has_dual_norm(self, value):
        self.__dict__["_has_dual_norm"] = bool(value)

    # ------------------------------------------------------------------ to implement
    @property
    @abstractmethod
    def n_features(self):
        """Number of rows the variable must have (``None`` when any size fits)."""

    @abstractmethod
    def omega(self, x):
        """Value of the norm part ``Omega(x)`` (without ``lam``)."""

    @abstractmethod
    def _prox(self, v, tau):
        """Prox of ``tau * Omega`` at a validated ``v`` (a new array)."""

    @abstractmethod
    def cvxpy_omega(self, x):
        """cvxpy expression of ``Omega(x)`` for a cvxpy variable ``x`` of the solution's shape."""

    def _dual_norm(self, u):
        """Dual norm at a validated ``u``; subclasses with ``has_dual_norm`` implement it."""
        raise NotImplementedError(f"{type(self).__name__} has no computable dual norm.")

    def dual_norm(self, u):
        """Dual norm ``Omega^*(u) = max { <u, x> : Omega(x) <= 1 }`` (without ``lam``).

        ``u`` is validated like a point (shape, finite values); the value is
        ``inf`` when ``u`` is nonzero on variables that ``Omega`` leaves free.
        """
        return float(self._dual_norm(self.check_x(u, "u")))

    # ------------------------------------------------------------------ shared behaviour
    def check_x(self, x, name="x"):
        """Validate a point for this penalty and return it as a float array."""
        arr = check_array(x, name, ndim=(1, 2), owner=type(self).__name__)
        n = self.n_features
        if n is not None and arr.shape[0] != n:
            raise ShapeError(
                f"The '{name}' parameter of {type(self).__name__} must have {n} rows (one per feature). Got shape {arr.shape}."
            )
        return arr

    def __call__(self, x):
        """Value ``lam * Omega(x)``."""
        return self.lam * self.omega(self.check_x(x))

    def prox(self, v, step=1.0):
        """Prox of ``step * penalty`` at ``v``: ``argmin_x 0.5 ||x - v||^2 + step * lam * Omega(x)``.

        Returns a new array; ``v`` is not modified.
        """
        step = check_scalar(step, "step", low=0, owner=f"{type(self).__name__}.prox")
        v = self.check_x(v, "v")
        tau = step * self.lam
        if tau == 0.0:  # the prox of the zero function is the identity, exactly
            return np.array(v, dtype=np.float64, copy=True)
        return self._prox(v, tau)

    def cvxpy(self, x, lam=None):
        """cvxpy expression of ``lam * Omega(x)``; ``lam`` may be a ``cvxpy.Parameter`` (default: ``self.lam``)."""
        return (self.lam if lam is None else lam) * self.cvxpy_omega(x)

    def lambda_max(self, grad0):
        """Smallest ``lam`` for which zero minimizes ``f + lam * Omega``, given ``grad0 = -grad f(0)``.

        It is the dual norm of ``grad0``.
        """
        return float(self.dual_norm(self.check_x(grad0, "grad0")))

    # ------------------------------------------------------------------ declared structure (optional)
    def block_thresholds(self, n_features):
        """The penalty as blocks covering every feature once: ``(idx, ptr, t1, t2)``, or ``None``.

        Block ``g`` is ``idx[ptr[g]:ptr[g+1]]`` and the penalty equals
        ``sum_g t1[g] ||x_g||_1 + t2[g] ||x_g||_2`` (``lam`` folded in).
        Block-separable penalties override it; coordinate-descent solvers
        need it.
        """
        return None

    def norm_groups(self, n_features, n_targets=1):
        """The penalty as a weighted sum of Euclidean norms of row subsets: ``(indices, ptr, weights)``, or ``None``.

        ``Omega(x) = sum_g weights[g] ||x[indices[ptr[g]:ptr[g+1]]]||``; the
        subsets may overlap. ADMM duplicates variables along it. Penalties
        that are such sums override it.
        """
        return None

    def free_variables(self, n_features, x_shape=None):
        """Boolean mask of the variables (rows of ``x``) that the penalty leaves unpenalized.

        Candidates come from the declared structure (``groups`` or ``tree``:
        variables in no group of positive weight); each is confirmed by
        evaluating ``Omega`` on the candidate rows, so other terms (such as
        the l1 part of a sparse-group lasso) are accounted for.
        """
        from ..structure import Groups, Tree

        x_shape = (n_features,) if x_shape is None else tuple(x_shape)
        structure = getattr(self, "groups", None)
        tree = getattr(self, "tree", None)
        if isinstance(tree, Tree):
            structure = tree.to_groups()
        if not isinstance(structure, Groups):
            return np.zeros(n_features, dtype=bool)
        penalized = np.zeros(n_features, dtype=bool)
        for idx, w in zip(structure, structure.weights):
            if w > 0:
                penalized[idx] = True
        candidates = np.flatnonzero(~penalized)
        if candidates.size == 0 or self.omega(_unit_rows(candidates, x_shape)) == 0:
            return ~penalized
        free = np.zeros(n_features, dtype=bool)
        for i in candidates:
            free[i] = self.omega(_unit_rows([i], x_shape)) == 0
        return free

    @property
    def capabilities(self):
        """What solvers may use: a frozenset of strings.

        ``"prox"`` (exact) or ``"iterative_prox"``; ``"dual_norm"`` when a
        cheap dual norm gives duality gaps; ``"block_thresholds"`` for
        block-separable penalties (coordinate descent); ``"norm_groups"``
        for sums of group norms (ADMM by duplication); ``"latent"`` for the
        latent group lasso (duplicated columns); ``"cvxpy"``,
        ``"free_variables"`` and ``"lambda_max"`` always.
        """
        caps = {"cvxpy", "free_variables", "lambda_max", "prox" if self.exact_prox else "iterative_prox"}
        # declared only when the class really computes it: a flag left True over the base method would crash gaps
        if self.has_dual_norm and _implements_dual_norm(type(self)):
            caps.add("dual_norm")
        if type(self).block_thresholds is not Penalty.block_thresholds:
            caps.add("block_thresholds")
        if type(self).norm_groups is not Penalty.norm_groups:
            caps.add("norm_groups")
        if getattr(self, "latent", None) is not None:
            caps.add("latent")
        return frozenset(caps)

    def with_lam(self, lam):
        """A copy of this penalty with another ``lam``."""
        new = copy.copy(self)
        new.lam = check_scalar(lam, "lam", low=0, owner=type(self).__name__)
        return new

    def __repr__(self):
        return f"{type(self).__name__}(lam={self.lam:g})"


def _implements_dual_norm(cls):
    """True when ``cls`` overrides :meth:`Penalty._dual_norm` or :meth:`Penalty.dual_norm`."""
    return cls._dual_norm is not Penalty._dual_norm or cls.dual_norm is not Penalty.dual_norm


def _unit_rows(rows, x_shape):
    """A point of shape ``x_shape`` with ones on the given rows and zeros elsewhere."""
    z = np.zeros(x_shape)
    z[np.asarray(rows, dtype=np.int64)] = 1.0
    return z


def groups_with_free_singletons(groups, t1_groups, t2_groups, t1_free):
    """Block thresholds of ``groups`` followed by one singleton per feature in no group: ``(idx, ptr, t1, t2)``."""
    free = np.flatnonzero(~groups.covered)
    idx = np.concatenate([groups.indices, free]).astype(np.int64)
    ptr = np.concatenate([groups.ptr, groups.ptr[-1] + np.arange(1, free.size + 1)]).astype(np.int64)
    t1 = np.concatenate([np.broadcast_to(t1_groups, groups.n_groups), np.full(free.size, t1_free)])
    t2 = np.concatenate([t2_groups, np.zeros(free.size)])
    return idx, ptr, t1.astype(float), t2.astype(float)


def check_penalty_features(penalty, n_features, owner):
    """Raise :class:`ShapeError` when ``penalty`` is defined on another number of features."""
    n = penalty.n_features
    if n is not None and n != n_features:
        raise ShapeError(f"{owner}: the penalty {penalty!r} is defined on {n} features but the datafit has "
                         f"{n_features}.")


def as_disjoint_groups(groups, owner):
    """Accept a :class:`Groups` or a list of index lists and check that the groups are disjoint."""
    from ..exceptions import StructureError, StructureTypeError
    from ..structure import Groups, Tree

    if isinstance(groups, Tree):
        raise StructureTypeError(f"The 'groups' parameter of {owner} must be Groups, not a Tree (use TreeLasso).")
    if not isinstance(groups, Groups):
        if isinstance(groups, (str, bytes, dict)) or not hasattr(groups, "__len__"):
            raise StructureTypeError(
                f"The 'groups' parameter of {owner} must be Groups or a list of index lists. Got {groups!r}."
            )
        try:
            groups = Groups.from_lists(groups)
        except StructureError as exc:  # the same class: a wrong type stays a TypeError
            raise type(exc)(f"The 'groups' parameter of {owner} is malformed: {exc}") from None
    if not groups.is_disjoint:
        raise StructureError(
            f"The 'groups' parameter of {owner} must hold disjoint groups (a variable is in two groups); "
            "use OverlapGroupLasso for overlapping ones."
        )
    return groups


def group_norms(x, groups):
    """Euclidean norm of every group of rows of ``x`` (1-D or 2-D)."""
    x2 = x.reshape(x.shape[0], -1)
    sq = np.add.reduceat((x2[groups.indices] ** 2).sum(axis=1), groups.ptr[:-1])
    return np.sqrt(sq)
