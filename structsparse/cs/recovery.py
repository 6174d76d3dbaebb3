"""``cs.recover``: one entry point for every recovery method."""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from .._validation import check_adjoint, check_array, check_choice, check_int, check_scalar
from ..exceptions import ConvergenceWarning, ParameterError, ShapeError
from ..penalties import L1, GroupLasso, TreeLasso
from .convex import group_basis_pursuit, penalized_recovery, reweighted_tree_weights, tree_basis_pursuit
from .greedy import block_omp, cosamp, iht
from .models import Sparse, _WaveletTreeModel, check_model
from .._linalg import single_blas_thread
from .operators import DenseOperator

__all__ = ["recover", "RecoveryResult", "METHODS"]

METHODS = ("l1", "group_lasso", "tree_lasso", "cosamp", "model_cosamp", "iht", "model_iht", "block_omp")


@dataclass(frozen=True, repr=False)
class RecoveryResult:
    """Outcome of :func:`recover`.

    Attributes
    ----------
    x : ndarray
        The recovered signal (coefficients for :class:`TreeSparse`).
    support : ndarray of int
        Indices of the nonzero entries of ``x``.
    residual_norm : float
        ``||A x - y||_2``.
    n_iter : int
        Iterations of the method's main loop (solver iterations for convex methods).
    time : float
        Wall-clock seconds.
    method : str
    converged : bool
        Whether the method met its own stopping rule (for the noiseless convex
        methods: an optimality certificate or duality gap, see
        :func:`~structsparse.cs.convex.group_basis_pursuit`).
    message : str
    info : dict
        Method-specific extras (``lam``, ``gap``...).
    """

    x: np.ndarray
    support: np.ndarray
    residual_norm: float
    n_iter: int
    time: float
    method: str
    converged: bool = True
    message: str = ""
    info: dict = field(default_factory=dict)

    def relative_error(self, x_true):
        """``||x - x_true|| / ||x_true||``."""
        x_true = np.asarray(x_true, dtype=float)
        return float(np.linalg.norm(self.x - x_true) / max(np.linalg.norm(x_true), 1e-300))

    def support_recovery(self, x_true):
        """(true positives, false positives, false negatives) of the support against ``x_true``."""
        true = set(np.flatnonzero(x_true).tolist())
        found = set(self.support.tolist())
        return len(true & found), len(found - true), len(true - found)

    def plot(self, x_true=None, model=None, ax=None, fig=None, title=None):
        """The recovered signal against the true one, with the true support shaded.

        Parameters
        ----------
        x_true : array_like, shape (n,), optional
            The true signal (default: unknown, drawn as zeros without shading or error).
        model : SignalModel, optional
            Gives the support to shade (active blocks, tree support) and, for a tree model, the signal in time.
        ax : matplotlib Axes, optional
            Draw into these axes (for a tree model, one Axes gets the coefficients, two get both panels).
        fig : matplotlib Figure, optional
            Or into this figure (not together with ``ax``).
        title : str, optional
            Title of the (first) panel.

        Returns
        -------
        matplotlib.figure.Figure
            Left open (see :func:`structsparse.cs.plots.plot_recovery`).
        """
        from .plots import plot_recovery

        x_true = np.zeros_like(self.x) if x_true is None else x_true
        return plot_recovery(x_true, self.x, model, fig=fig, title=title, ax=ax)

    def __repr__(self):
        return (f"RecoveryResult(method={self.method!r}, nnz={self.support.size}, residual_norm={self.residual_norm:.3e}, "
                f"n_iter={self.n_iter}, time={self.time:.4f}s, converged={self.converged})")


def _check_operator(A, owner):
    if isinstance(A, DenseOperator):
        return A.matrix
    if isinstance(A, LinearOperator):
        return check_adjoint(A, "A", owner=owner)
    if sp.issparse(A):
        if A.dtype.kind not in "fiub":
            raise ShapeError(f"The 'A' parameter of {owner} must be real. Got dtype {A.dtype}.")
        if not np.all(np.isfinite(A.data)):
            raise ShapeError(f"The 'A' parameter of {owner} must contain only finite values (no NaN or inf).")
        return A.toarray().astype(np.float64)
    return check_array(A, "A", ndim=2, owner=owner)


def _check_measurements(A, y, model, owner):
    """The sensing operator and a copy of the measurements, checked against each other and the model."""
    Aop = _check_operator(A, owner)
    m, n = Aop.shape
    if n != model.n:
        raise ShapeError(f"The 'A' parameter of {owner} has {n} columns but the model's signals have length "
                         f"n={model.n}; they must match.")
    y = check_array(y, "y", ndim=1, owner=owner, copy=True)
    if y.shape[0] != m:
        raise ShapeError(f"The 'y' parameter of {owner} has {y.shape[0]} entries but 'A' has {m} rows; they must match.")
    return Aop, y


def recover(A, y, model, method="model_cosamp", noise=None, *, tol=None, max_iter=None, depth_weight=0.0,
            reweight=0, reweight_eps=1.0):
    """Recover a structured sparse signal from ``y = A x (+ noise)``.

    Parameters
    ----------
    A : ndarray, scipy.sparse matrix or LinearOperator, shape (m, n)
        Sensing operator (for :class:`TreeSparse`, the operator acting on
        wavelet coefficients, e.g. ``gaussian(m, n) @ wavelet_synthesis(n)``;
        for :class:`TreeSparse2D`, e.g.
        ``partial_fourier(shape, mask) @ wavelet_synthesis2d(shape)``).
    y : array_like, shape (m,)
        Measurements.
    model : Sparse, BlockSparse, TreeSparse, TreeSparse2D or BlockSparse2D
        The signal model (2-D models work on flattened images or on
        flattened 2-D wavelet coefficient vectors); its size ``k`` is used by the greedy methods, its
        ``groups()`` by ``group_lasso`` and ``block_omp``, its ``tree()`` by
        ``tree_lasso``.
    method : str
        ``"l1"`` (basis pursuit), ``"group_lasso"`` (group basis pursuit,
        l1,2), ``"tree_lasso"``, ``"cosamp"``, ``"model_cosamp"``, ``"iht"``,
        ``"model_iht"`` or ``"block_omp"``.
    noise : float, optional
        Noise standard deviation per measurement. ``None`` (noiseless): the
        convex methods solve the equality-constrained programs. Given: they
        solve the penalized (denoising) form with ``lam`` set from the noise
        level; the greedy methods are unchanged.
    tol : float, optional
        Stopping tolerance, passed to the method (default: the method's own). ``cosamp``, ``model_cosamp``,
        ``iht``, ``model_iht`` and ``block_omp`` stop when ``||A x - y|| <= tol ||y||``; the noiseless convex
        methods use it as the relative duality-gap tolerance of each penalized continuation stage; with
        ``noise``, as the solver's relative duality gap (see :func:`structsparse.solve`).
    max_iter : int, optional
        Bound on the method's main loop, passed to it (default: the method's own): iterations of the greedy
        methods (``block_omp`` selects ``k`` blocks and ignores it); a budget of solver iterations summed over
        all the continuation stages of the noiseless convex methods; with ``noise``, the bound of the solver :func:`structsparse.solve`
        picks, by that solver's name (``max_outer``, outer working-set iterations, for
        :func:`~structsparse.solve_block`; ``max_iter`` for :func:`~structsparse.fista`).
    depth_weight : float, default 0.0
        ``tree_lasso`` only: the node weights of the tree norm are ``2 ** (depth_weight * depth)``
        (:meth:`TreeSparse.depth_weights`; 0 gives weight 1 to every node). Choose it from the
        measurements with :func:`~structsparse.cs.select_by_holdout` (``param="depth_weight"``);
        any other method refuses a nonzero value.
    reweight : int, default 0
        ``tree_lasso`` only: rounds of reweighting after the first solve (iteratively reweighted tree
        lasso, the group form of Candes, Wakin and Boyd 2008). Each round solves the tree lasso again
        with node weights ``w_g * eps / (||x_g|| + eps)``: ``w_g`` the depth weights, ``x_g`` the
        previous solution on node ``g``'s group (the node and its subtree). Large groups of the last
        solution are penalized less, so the next solve shrinks them less and prunes the small ones
        harder. See :func:`~structsparse.cs.convex.reweighted_tree_weights` for ``eps``.
    reweight_eps : float, default 1.0
        ``tree_lasso`` with ``reweight`` only: ``eps`` is this factor times the group norm of rank
        ``m / (4 ln(n / m))`` of the previous solution (the rank rule of Candes, Wakin and Boyd 2008,
        section 3.2). Larger values reweight less; ``inf`` leaves the weights unchanged (no
        reweighting round is run, the result is the plain tree lasso's). Choose it
        from the measurements with :func:`~structsparse.cs.select_by_holdout`
        (``param="reweight_eps"``).

    Returns
    -------
    RecoveryResult

    Examples
    --------
    >>> import numpy as np
    >>> from structsparse import cs
    >>> model = cs.BlockSparse(256, 8, 4)
    >>> A = cs.gaussian(100, 256, rng=0); x0 = model.sample(rng=1)
    >>> res = cs.recover(A, A @ x0, model, method="model_cosamp")
    >>> bool(res.relative_error(x0) < 1e-8)
    True
    """
    owner = "recover"
    model = check_model(model, owner)
    method = check_choice(method, "method", METHODS, owner=owner)
    Aop, y = _check_measurements(A, y, model, owner)
    m, n = Aop.shape
    if noise is not None:
        noise = check_scalar(noise, "noise", low=0, owner=owner)
    kw = {}
    if tol is not None:
        kw["tol"] = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    if max_iter is not None:
        kw["max_iter"] = check_int(max_iter, "max_iter", low=1, owner=owner)

    depth_weight = check_scalar(depth_weight, "depth_weight", low=-10, high=10, owner=owner)
    if depth_weight != 0 and method != "tree_lasso":
        raise ParameterError(f"The 'depth_weight' parameter of {owner} applies to method='tree_lasso' only. "
                             f"Got depth_weight={depth_weight!r} with method={method!r}.")
    reweight = check_int(reweight, "reweight", low=0, high=100, owner=owner)
    reweight_eps = check_reweight_eps(reweight_eps, "reweight_eps", owner)
    if reweight and method != "tree_lasso":
        raise ParameterError(f"The 'reweight' parameter of {owner} applies to method='tree_lasso' only. "
                             f"Got reweight={reweight!r} with method={method!r}.")

    with single_blas_thread():
        res = _dispatch(Aop, y, model, method, noise, kw, owner, depth_weight, reweight, reweight_eps)
    if not res.converged:  # the README promises a warning from every solver that stops early
        warnings.warn(f"recover({method!r}) stopped before meeting its stopping rule after {res.n_iter} "
                      f"iterations ({res.message or 'no message'}); the result says converged=False.",
                      ConvergenceWarning, stacklevel=2)
    return res


def check_reweight_eps(value, name, owner):
    """A positive ``eps`` factor of the reweighted tree lasso, ``inf`` (no reweighting) included."""
    if isinstance(value, (float, np.floating)) and value == np.inf:
        return float("inf")
    return check_scalar(value, name, low=0, low_inclusive=False, owner=owner)


def _dispatch(Aop, y, model, method, noise, kw, owner, depth_weight=0.0, reweight=0, reweight_eps=1.0):
    m, n = Aop.shape
    start = time.perf_counter()
    info = {}
    if method in ("l1", "group_lasso"):
        groups = model.groups() if method == "group_lasso" else Sparse(n, 1).groups()
        if noise:
            pen = L1(1.0) if method == "l1" else GroupLasso(groups, 1.0)
            x, info = penalized_recovery(Aop, y, pen, noise, **kw)
        else:
            x, info = group_basis_pursuit(Aop, y, groups, **kw)
    elif method == "tree_lasso":
        if not isinstance(model, _WaveletTreeModel):
            raise ParameterError(f"The 'method' parameter of {owner}: 'tree_lasso' needs a TreeSparse or "
                                 f"TreeSparse2D model. "
                                 f"Got {type(model).__name__}.")
        base = model.depth_weights(depth_weight)
        pen = TreeLasso(model.tree(weights=base if depth_weight else None), 1.0)

        def solve_tree(penalty):
            if noise:
                return penalized_recovery(Aop, y, penalty, noise, **kw)
            return tree_basis_pursuit(Aop, y, penalty, **kw)

        x, info = solve_tree(pen)
        n_iter, rounds_converged, eps_used = info["n_iter"], [bool(info.get("converged", True))], []
        for _ in range(reweight if np.isfinite(reweight_eps) else 0):  # inf: the weights would not change
            weights, eps = reweighted_tree_weights(pen.group_norms(x), base, m, n, reweight_eps)
            x, info = solve_tree(TreeLasso(model.tree(weights=weights), 1.0))
            n_iter += info["n_iter"]
            rounds_converged.append(bool(info.get("converged", True)))
            eps_used.append(eps)
        if reweight and np.isfinite(reweight_eps):
            # the result converged only if every round did (each round's weights come from the previous x)
            info.update(n_iter=n_iter, converged=all(rounds_converged), rounds_converged=rounds_converged,
                        reweight_eps=eps_used, message=f"{reweight} reweighting round(s); last: {info['message']}")
        info["depth_weight"] = depth_weight
    elif method in ("cosamp", "model_cosamp"):
        x, info = cosamp(Aop, y, model if method == "model_cosamp" else model.plain(), **kw)
    elif method in ("iht", "model_iht"):
        x, info = iht(Aop, y, model if method == "model_iht" else model.plain(), **kw)
    else:  # block_omp
        if isinstance(model, _WaveletTreeModel):
            raise ParameterError(f"The 'method' parameter of {owner}: 'block_omp' needs a block (or plain sparse) "
                                 f"model. Got {type(model).__name__}.")
        kw.pop("max_iter", None)
        x, info = block_omp(Aop, y, model.groups(), model.k, **kw)
    elapsed = time.perf_counter() - start
    Ax = Aop @ x if isinstance(Aop, np.ndarray) else Aop.matvec(x)
    extras = {k: v for k, v in info.items() if k not in ("n_iter", "converged", "message")}
    return RecoveryResult(x=x, support=np.flatnonzero(x), residual_norm=float(np.linalg.norm(Ax - y)),
                          n_iter=int(info.get("n_iter", 0)), time=elapsed, method=method,
                          converged=bool(info.get("converged", True)), message=str(info.get("message", "")),
                          info=extras)

