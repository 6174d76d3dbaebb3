"""The datafit interface: a data-fitting term ``F(A x)`` that is a sum of scalar functions of ``z = A x``.

A datafit gives its value, its gradient (in ``z`` and in ``x``), a global
Lipschitz constant of the gradient and a per-block one, its Fenchel
conjugate, a dual point at any ``x`` that a scaling makes feasible (so the
duality gap works for any datafit), and a cvxpy expression of itself.
Datafits know nothing about penalties or solvers; they declare what they can
do in :attr:`Datafit.capabilities`, and solvers check that.

Duality. For ``P(x) = F(A x) + lam * Omega(x)`` the Fenchel dual is
``D(theta) = -F^*(-theta)`` subject to ``Omega^*(A^T theta) <= lam``. The
natural dual point at ``x`` is ``theta = -F'(A x)`` (the residual
``y - A x`` for least squares); every datafit here has a conjugate whose
domain is convex and contains ``-theta / s`` for all ``s >= 1``, so
``theta / max(1, Omega^*(A^T theta) / lam)`` is dual feasible.
"""

from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .. import _float32
from .._linalg import group_spectral_norm_sq, rmatvec, spectral_norm_sq
from .._validation import check_array, check_scalar
from ..exceptions import ParameterError, ShapeError
from ._design_pass import colnorm_rmatvec, value_extent

__all__ = ["Datafit", "check_design"]


def check_design(A, owner):
    """Validate a design: a real 2-D array, scipy.sparse matrix, or a LinearOperator with an adjoint.

    Dense float64 and float32 arrays are used as they are (never copied);
    sparse matrices keep CSR or CSC and float64 or float32. Other real dtypes
    (integers, booleans, float16) are converted to float64 (a copy), as are
    sparse formats other than CSR and CSC (to CSR).

    A float32 design stays float32: the products read it in place with
    float64 sums (:mod:`structsparse._float32`), so a solver works on exactly
    the caller's entries in float64 arithmetic, and its duality gap, computed
    in float64, certifies as for a float64 design.
    """
    if isinstance(A, LinearOperator):
        if len(A.shape) != 2:
            raise ShapeError(f"The 'A' parameter of {owner} must be 2-D. Got shape {A.shape}.")
        if np.dtype(A.dtype).kind == "c":
            raise ParameterError(f"The 'A' parameter of {owner} must be a real operator. Got dtype {A.dtype}.")
        try:  # the solvers need A^T: refuse an operator without one now, not mid-solve
            A.rmatvec(np.zeros(A.shape[0]))
        except NotImplementedError:
            raise ParameterError(
                f"The 'A' parameter of {owner} is a LinearOperator without rmatvec; every solver needs the "
                "adjoint A^T r: build it with LinearOperator(shape, matvec=..., rmatvec=...).") from None
        return A
    if sp.issparse(A):
        if A.ndim != 2:
            raise ShapeError(f"The 'A' parameter of {owner} must be 2-D. Got shape {A.shape}.")
        if A.dtype.kind not in "fiub":
            raise ParameterError(f"The 'A' parameter of {owner} must be real. Got dtype {A.dtype}.")
        A = A.tocsr() if A.format not in ("csr", "csc") else A
        if not np.all(np.isfinite(A.data)):
            raise ParameterError(f"The 'A' parameter of {owner} must contain only finite values (no NaN or inf).")
        return A if A.dtype in (np.float64, np.float32) else A.astype(np.float64)
    return _check_dense_design(A, owner)[0]


def _csc_pass_applies(A):
    """Whether a datafit validates ``A`` by :meth:`Datafit._csc_pass` (a float64 CSC matrix)."""
    return sp.issparse(A) and A.format == "csc" and A.ndim == 2 and A.dtype == np.float64


def _check_sparse_design(A, owner):
    """:func:`check_design` of a sparse ``A`` and its largest stored magnitude: ``(A, big)``.

    A float64 or float32 CSR or CSC ``A`` is checked for finiteness by its
    largest and smallest stored values (:func:`._design_pass.value_extent`),
    which also give ``big``, the number the scale check reads (three passes
    before: finiteness with a temporary, then the same two reductions).
    Other designs: ``(check_design(A), None)``.
    """
    if not (sp.issparse(A) and A.ndim == 2 and A.format in ("csr", "csc") and A.dtype in (np.float64, np.float32)):
        return check_design(A, owner), None
    finite, big = value_extent(A.data)
    if not finite:
        raise ParameterError(f"The 'A' parameter of {owner} must contain only finite values (no NaN or inf).")
    return A, big


def _check_sparse_values(A, owner):
    """The exact checks of a sparse ``A``'s stored values: finite, and within the scale limits."""
    check_design(A, owner)
    _check_scale(A, "A", owner)


def _dense_dtype(A):
    """The dtype a dense design is kept in: float32 stays float32, anything else is float64."""
    return np.float32 if isinstance(A, np.ndarray) and A.dtype == np.float32 else np.float64


def _check_dense_array(A, owner):
    return check_array(A, "A", ndim=2, owner=owner, finite=False, dtype=_dense_dtype(A))


def _check_dense_design(A, owner):
    """A dense design (float64 or float32) and its squared column norms, from one pass over ``A``."""
    A = _check_dense_array(A, owner)
    return A, _dense_pass(A, owner)[0]


def _dense_pass(A, owner, v=None):
    """One pass over a dense float64 design ``A``: its squared column norms and, given ``v``, ``A^T v``.

    The column norms carry the finiteness and scale checks: a NaN or an
    infinity makes its column's norm non-finite, and ``max|a|^2 <= max_j
    ||a_j||^2 <= n max|a|^2`` bounds the largest entry. Only when those
    bounds do not decide (a non-finite or zero norm, or one near the scale
    limits) are the exact checks run, for the right message. Returns
    ``(colnorm2, A^T v)``, read-only (``None`` for what was not computed).
    """
    if A.dtype.kind == "c" or 0 in A.shape:
        check_array(A, "A", ndim=2, owner=owner)
        return None, None
    if A.dtype == np.float32:   # float64 sums of the exactly converted entries
        colnorm2, product = (_float32.colnorm2(A), None) if v is None else _float32.colnorm_rmatvec(A, v)
        if product is not None:
            product.setflags(write=False)
    elif v is None:
        colnorm2, product = np.einsum("ij,ij->j", A, A), None
    else:
        colnorm2, product = colnorm_rmatvec(A, v)
        product.setflags(write=False)
    colnorm2.setflags(write=False)
    top = float(colnorm2.max())
    low, high = _SCALE_LIMITS
    if not (np.isfinite(top) and A.shape[0] * low * low <= top <= high * high):
        check_array(A, "A", ndim=2, owner=owner)   # raises on NaN or inf, naming A
        _check_scale(A, "A", owner)                # raises outside the scale limits
    return colnorm2, product


def _is_dense(A):
    return not (isinstance(A, LinearOperator) or sp.issparse(A))


#: Largest and smallest nonzero magnitudes of A and y the solvers handle: squared norms of A, and of
#: A^T y, must stay finite and normal in float64 (their products reach the square of these bounds).
_SCALE_LIMITS = (1e-100, 1e100)


def _check_scale(arr, name, owner):
    """Refuse entries so large or so small that the solvers' squared norms overflow or underflow."""
    data = arr.data if sp.issparse(arr) else arr if isinstance(arr, np.ndarray) else None
    if data is None or data.size == 0:
        return
    # no |data| temporary: A may be large
    _refuse_scale(max(float(np.max(data)), -float(np.min(data))), name, owner)


def _refuse_scale(big, name, owner):
    """Refuse a largest entry magnitude ``big`` (0: no nonzero entry) outside the scale limits."""
    if big == 0.0:
        return
    low, high = _SCALE_LIMITS
    if big > high or big < low:
        raise ParameterError(
            f"The '{name}' parameter of {owner} has largest entry magnitude {big:.3g}, outside [{low:g}, {high:g}]: "
            f"squared norms would overflow or underflow in float64. Rescale '{name}' (and lam with it).")


class Datafit(ABC):
    """Base class: ``F(A x) = sum_i f_i((A x)_i)`` with ``f_i`` convex and smooth.

    Subclasses set ``name`` and ``curvature`` (``sup f''``, or ``None`` when
    the gradient is not globally Lipschitz) and implement
    :meth:`value_from_Ax`, :meth:`raw_grad`, :meth:`conjugate` and
    :meth:`cvxpy_fit`; they may implement :meth:`raw_hessian` (the diagonal
    of ``F''``) for second-order solvers.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (n_samples, n_features)
    y : array_like, shape (n_samples,) or (n_samples, n_targets)
    lipschitz : float, optional
        Lipschitz constant of the gradient in ``x``; estimated on first use.

    Notes
    -----
    Neither ``A`` nor ``y`` is modified; ``y`` is copied. A dense ``A`` is
    validated in one pass that also gives its squared column norms and the
    product ``A^T theta_0`` with the dual point at zero, kept read-only in
    ``_colnorm2`` and ``_dual0_product`` for the solvers (``None`` for other
    designs).
    """

    name = "datafit"
    #: ``sup_z f''(z)``; ``None`` when unbounded (no global Lipschitz constant).
    curvature = 1.0
    #: True only when ``F(z) = 0.5 ||z - y||^2`` exactly: solvers then use A and y by linear algebra (ADMM, the
    #: least-squares loop of solve_block), not the datafit's methods.
    least_squares = False
    #: Most right-hand sides the datafit accepts as columns of ``y`` (``None``: any).
    multi_target = True

    def __init__(self, A, y, lipschitz=None):
        owner = type(self).__name__
        dense = _is_dense(A)
        # a dense A is read once, below, once y is known (the dual point at zero joins that pass); a float64 CSC one
        # is read once too, by the pass of its column norms (see _csc_pass)
        csc = _csc_pass_applies(A)
        big = None   # a sparse A's largest stored magnitude, from its finiteness pass (the scale check's number)
        if dense:
            self.A = _check_dense_array(A, owner)
        elif csc:
            self.A = A
        else:
            self.A, big = _check_sparse_design(A, owner)
        self._colnorm2 = self._dual0_product = None
        try:
            y_arr = check_array(y, "y", ndim=(1, 2) if self.multi_target else 1, owner=owner, copy=True)
            if y_arr.shape[0] != self.A.shape[0]:
                raise ShapeError(f"{owner}: 'A' has {self.A.shape[0]} rows but 'y' has {y_arr.shape[0]} entries; "
                                 "they must match.")
            if 0 in self.A.shape:
                raise ShapeError(f"The 'A' parameter of {owner} must have at least one sample and one feature. "
                                 f"Got shape {self.A.shape}.")
            if big is not None:
                _refuse_scale(big, "A", owner)
            elif not dense and not csc:
                _check_scale(self.A, "A", owner)
            _check_scale(y_arr, "y", owner)
            self.y = self._check_y(y_arr)
        except (ValueError, TypeError):
            if dense:  # a bad A is reported first, as when it was checked before y
                _dense_pass(self.A, owner)
            elif csc:
                _check_sparse_values(self.A, owner)
            raise
        self.y.setflags(write=False)
        if dense:
            self._design_pass(owner)
        elif csc:
            self._csc_pass(owner)
        self._lipschitz = None
        self._norm_sq = None
        if lipschitz is not None:
            self._lipschitz = check_scalar(lipschitz, "lipschitz", low=0, low_inclusive=False, owner=owner)

    def _design_pass(self, owner):
        """Validate a dense ``A`` in one pass that also gives ``_colnorm2`` and ``_dual0_product``.

        ``_dual0_product = A^T theta_0`` with ``theta_0`` the dual point at
        ``x = 0`` (one target only): the first product of every solve from
        zero, computed while ``A`` is read anyway.
        """
        self._colnorm2, self._dual0_product = _dense_pass(self.A, owner, self._dual_point_at_zero())

    def _csc_pass(self, owner):
        """Validate a float64 CSC ``A`` in one pass that also gives ``_colnorm2`` and ``_dual0_product``.

        The squared column norms decide the finiteness and scale checks as
        for a dense design (:func:`_dense_pass`: NaN and infinities propagate
        to them, and ``max|a|^2 <= max_j ||a_j||^2 <= n max|a|^2``); only when
        they do not decide are the exact checks run, for the right message.
        The pass replaces three reads of ``A.data`` (finiteness, with a
        temporary, then its largest and smallest entry) and the solver's first
        product ``A^T theta_0``, which it computes in the same read (one
        target; several: the norms only). The block solver takes that product
        off the datafit when it uses it (a p-length array not kept).
        """
        theta = self._dual_point_at_zero()
        if theta is None:
            colnorm2, product = _float32.colnorm2(self.A), None   # float64 sums (float64 entries too)
        else:
            colnorm2, product = _float32.csc_colnorm_rmatvec(self.A, theta)
        top = float(colnorm2.max())
        low, high = _SCALE_LIMITS
        if not (np.isfinite(top) and self.A.shape[0] * low * low <= top <= high * high):
            _check_sparse_values(self.A, owner)   # raises on NaN, inf or an entry out of scale, naming A
        colnorm2.setflags(write=False)
        if product is not None:
            product.setflags(write=False)
        self._colnorm2, self._dual0_product = colnorm2, product

    def _dual_point_at_zero(self):
        """``dual_point(0)`` as a vector for one target, else ``None``."""
        if self.y.ndim == 2 and self.y.shape[1] != 1:
            return None
        try:
            theta = np.asarray(self.dual_point(np.zeros(self.y.shape)), dtype=float).reshape(-1)
        except AttributeError:  # a subclass whose methods read attributes it sets after this constructor
            return None
        return theta if theta.shape == (self.A.shape[0],) and np.all(np.isfinite(theta)) else None

    def _check_y(self, y):
        """Validate (and possibly re-encode) the targets; ``y`` is a private float copy."""
        return y

    # ------------------------------------------------------------------ to implement
    @abstractmethod
    def value_from_Ax(self, Ax):
        """``F(z)`` at ``z = A x``."""

    @abstractmethod
    def raw_grad(self, Ax):
        """``F'(z)``: the gradient in ``z`` (same shape as ``z``)."""

    @abstractmethod
    def conjugate(self, u):
        """Fenchel conjugate ``F^*(u) = sup_z <u, z> - F(z)`` (``inf`` outside its domain)."""

    @abstractmethod
    def cvxpy_fit(self, z):
        """cvxpy expression of ``F(z)`` for an affine cvxpy expression ``z`` (of ``y``'s shape)."""

    def raw_hessian(self, Ax):
        """Diagonal of ``F''(z)``; datafits with a second derivative override it."""
        raise NotImplementedError(f"{type(self).__name__} declares no Hessian.")

    # ------------------------------------------------------------------ declared capabilities
    @property
    def capabilities(self):
        """What solvers may use: a frozenset of strings.

        ``"gradient"``, ``"conjugate"`` and ``"cvxpy"`` always;
        ``"lipschitz"`` when the gradient is globally Lipschitz (then also
        ``"block_lipschitz"``); ``"hessian"`` with a second derivative;
        ``"least_squares"`` when ``F(z) = 0.5 ||z - y||^2`` exactly (solvers
        may then work on ``A`` and ``y`` by linear algebra, ignoring the
        datafit's methods); ``"columns"`` when ``A`` is a
        matrix (dense or sparse) whose columns a coordinate solver can read;
        ``"sample_model"`` when a quadratic model with one weight per sample
        represents the datafit (least squares, or any datafit with one
        right-hand side): what block coordinate descent needs.
        """
        cached = self.__dict__.get("_caps")
        if cached is not None:
            return cached
        caps = {"gradient", "conjugate", "cvxpy"}
        if self.curvature is not None:
            caps |= {"lipschitz", "block_lipschitz"}
        if type(self).raw_hessian is not Datafit.raw_hessian:
            caps.add("hessian")
        if self.least_squares:
            caps.add("least_squares")
        if isinstance(self.A, np.ndarray) or sp.issparse(self.A):
            caps.add("columns")
        one_target = self.y.ndim == 1 or self.y.shape[1] == 1
        if self.least_squares or (one_target and ("hessian" in caps or self.curvature is not None)):
            # one weight per sample makes the second-order model exact (least squares) or faithful (one target)
            caps.add("sample_model")
        self._caps = frozenset(caps)  # A and y are fixed for the datafit's life (with_design makes a new one)
        return self._caps

    # ------------------------------------------------------------------ shapes
    @property
    def n_samples(self):
        return self.A.shape[0]

    @property
    def n_features(self):
        return self.A.shape[1]

    @property
    def x_shape(self):
        """Shape of the unknown: ``(n_features,)`` or ``(n_features, n_targets)``."""
        return (self.n_features,) + self.y.shape[1:]

    def check_x(self, x, name="x"):
        """Validate a point of the unknown's shape and return it as a float array."""
        x = check_array(x, name, owner=type(self).__name__)
        if x.shape != self.x_shape:
            raise ShapeError(f"The '{name}' parameter must have shape {self.x_shape}. Got {x.shape}.")
        return x

    # ------------------------------------------------------------------ products
    def matvec(self, x):
        """``A @ x`` for a vector or matrix ``x`` (float64; a float32 ``A`` is read in place)."""
        if _float32.is_float32(self.A):
            return _float32.matmat(self.A, x)
        return np.asarray(self.A @ x)

    def rmatvec(self, r):
        """``A^T @ r`` for a vector or matrix ``r`` (float64; a float32 ``A`` is read in place)."""
        if _float32.is_float32(self.A):
            return _float32.rmatmat(self.A, r)
        return rmatvec(self.A, r)

    # ------------------------------------------------------------------ values in x
    def grad_from_Ax(self, Ax):
        """Gradient in ``x``, ``A^T F'(A x)``, from ``A x``."""
        return self.rmatvec(self.raw_grad(Ax))

    def value(self, x):
        """``F(A x)``."""
        return self.value_from_Ax(self.matvec(x))

    def grad(self, x):
        """``A^T F'(A x)``."""
        return self.grad_from_Ax(self.matvec(x))

    __call__ = value

    # ------------------------------------------------------------------ duality
    def dual_point(self, Ax):
        """The dual point ``theta = -F'(A x)`` (before scaling into the dual feasible set)."""
        return -self.raw_grad(Ax)

    def dual_value(self, theta):
        """Dual objective ``-F^*(-theta)`` at a dual-feasible ``theta``."""
        return -self.conjugate(-np.asarray(theta, dtype=float))

    @staticmethod
    def dual_rescale(theta, dual_norm, lam):
        """``theta / max(1, dual_norm / lam)``: feasible for ``Omega^*(A^T .) <= lam`` and for ``F^*``'s domain."""
        return theta / max(1.0, dual_norm / lam)

    # ------------------------------------------------------------------ curvature
    @property
    def design_norm_sq(self):
        """``||A||_2^2`` (cached; the package's one estimate, :func:`structsparse._linalg.spectral_norm_sq`)."""
        if self._norm_sq is None:
            A = self.A
            if _float32.is_float32(A) and min(A.shape) > 64:   # power iteration on float32-aware products
                A = LinearOperator(A.shape, matvec=self.matvec, rmatvec=self.rmatvec, dtype=np.float64)
            self._norm_sq = spectral_norm_sq(A)
        return self._norm_sq

    @property
    def lipschitz(self):
        """Lipschitz constant of the gradient in ``x``: ``curvature * ||A||_2^2`` (cached).

        For a datafit without a global constant (``curvature is None``) it is
        the local constant at ``x = 0``, a starting point for backtracking.
        """
        if self._lipschitz is None:
            c = self.curvature
            if c is None:
                c = float(np.max(self.raw_hessian(np.zeros(self.y.shape)), initial=1.0))
            self._lipschitz = max(c * self.design_norm_sq, np.finfo(float).tiny)
        return self._lipschitz

    def block_lipschitz(self, idx, ptr):
        """Per-block Lipschitz constants ``curvature * ||A_g||_2^2`` (block ``g``: columns ``idx[ptr[g]:ptr[g+1]]``).

        Raises
        ------
        ParameterError
            For a datafit without a global curvature bound.
        """
        if self.curvature is None:
            raise ParameterError(f"{type(self).__name__} has no global curvature bound, so no per-block "
                                 "Lipschitz constant; use a second-order (Hessian) step instead.")
        return self.curvature * group_spectral_norm_sq(self.A, idx, ptr)

    def quadratic_weights(self, Ax):
        """Weights ``h`` of the quadratic model ``F(z) + F'(z) d + 0.5 sum h_i d_i^2`` a second-order solver uses.

        The Hessian where the datafit has one and it is informative, else the
        global curvature (a majorizer). Subclasses choose.
        """
        if "hessian" in self.capabilities:
            return self.raw_hessian(Ax)
        return np.full(np.shape(Ax), float(self.curvature))

    def with_design(self, A):
        """A copy of this datafit on another design ``A`` (same targets and parameters; caches reset)."""
        import copy

        new = copy.copy(self)
        owner = type(self).__name__
        dense = _is_dense(A)
        new.A = _check_dense_array(A, owner) if dense else check_design(A, owner)
        if new.A.shape[0] != self.A.shape[0]:
            if dense:
                _dense_pass(new.A, owner)
            raise ShapeError(f"{type(self).__name__}.with_design: 'A' has {new.A.shape[0]} rows; the datafit has "
                             f"{self.A.shape[0]} samples.")
        new._colnorm2 = new._dual0_product = None
        if dense:
            new._design_pass(owner)
        new._lipschitz = None
        new._norm_sq = None
        new._caps = None
        new.__dict__.pop("_block_design", None)
        return new

    # ------------------------------------------------------------------ cvxpy
    def cvxpy(self, x):
        """cvxpy expression of ``F(A x)`` for a cvxpy variable ``x`` (operators are densified by the caller)."""
        return self.cvxpy_fit(self.A @ x)

    def __repr__(self):
        return f"{type(self).__name__}(n_samples={self.n_samples}, n_features={self.n_features})"
