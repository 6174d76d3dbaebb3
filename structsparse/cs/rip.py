"""Model-based restricted isometry: lower bounds by sampling and local search.

The restricted isometry constant of ``A`` over a set of supports is
``delta = max_S max(s_max(A_S)^2 - 1, 1 - s_min(A_S)^2)``. Computing it is
NP-hard (Tillmann and Pfetsch 2014); every support we evaluate gives a
*lower bound* on it, and that is all this module returns. Supports are drawn
from the model (whole blocks, rooted subtrees) and, for comparison, without
structure with the same number of nonzeros. ``search="swap"`` continues
from the worst supports found with a local search: swap one unit (index,
block or leaf of the tree) for another, guided by the extreme singular
vectors, and keep the swap when the bound grows. Upper bounds come from
theory: the model's sample bound is reported beside the estimates.
"""

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_choice, check_int, check_rng
from ..exceptions import ShapeError
from .models import BlockSparse, Sparse, _WaveletTreeModel, check_model
from .._linalg import restricted_lstsq, single_blas_thread
from .operators import as_matrix

__all__ = ["rip_estimate", "RipEstimate", "support_delta"]


def support_delta(As):
    """``(delta_S, s_min, s_max, u_min, u_max)`` of a column submatrix.

    Through the eigen-decomposition of the small Gram matrix ``A_S^T A_S``
    (cheaper than an SVD of ``A_S``; its eigenvalues are the ``s^2`` the
    constant is made of). ``u`` are the left singular vectors.
    """
    ev, V = np.linalg.eigh(As.T @ As)
    ev = np.maximum(ev, 0.0)
    smin = np.sqrt(ev[0]) if As.shape[1] <= As.shape[0] else 0.0
    smax = np.sqrt(ev[-1])
    u_max = As @ V[:, -1]
    u_min = As @ V[:, 0]
    u_max /= max(np.linalg.norm(u_max), 1e-300)
    u_min /= max(np.linalg.norm(u_min), 1e-300)
    return max(smax ** 2 - 1.0, 1.0 - smin ** 2), smin, smax, u_min, u_max


@dataclass(frozen=True, repr=False)
class RipEstimate:
    """Lower bounds on the RIP constant for model supports and plain supports of the same size.

    These are **lower bounds**: the true constants are at least these
    values (a support achieving them was found), possibly larger.

    Attributes
    ----------
    delta_model, delta_plain : float
        Largest ``max(s_max^2 - 1, 1 - s_min^2)`` found over model supports
        and over unstructured supports.
    smin_model, smax_model, smin_plain, smax_plain : float
        Extreme singular values of the worst supports found.
    support_size : int
        Nonzeros per support.
    m, n : int
        Shape of ``A``.
    n_evaluations : int
        Supports evaluated per side.
    search : str
        ``"random"`` or ``"swap"`` (see :func:`rip_estimate`).
    model : str
        ``repr`` of the signal model the model supports came from.
    sample_bound_model, sample_bound_plain : int
        Theoretical sufficient number of measurements for ``delta <= 0.5``
        (see :meth:`SignalModel.sample_bound`), model against plain.
    history_model, history_plain : list of float
        Best bound after each evaluation.
    support_model, support_plain : ndarray of int, shape (support_size,), optional
        Sorted column indices of the worst model support and of the worst
        unstructured support found (default None).
    """

    delta_model: float
    delta_plain: float
    smin_model: float
    smax_model: float
    smin_plain: float
    smax_plain: float
    support_size: int
    m: int
    n: int
    n_evaluations: int
    search: str
    model: str
    sample_bound_model: int
    sample_bound_plain: int
    history_model: list = field(default_factory=list, repr=False)
    history_plain: list = field(default_factory=list, repr=False)
    support_model: np.ndarray = field(default=None, repr=False)
    support_plain: np.ndarray = field(default=None, repr=False)

    def __repr__(self):
        return (f"RipEstimate({self.m}x{self.n}, support_size={self.support_size}, "
                f"delta_model>={self.delta_model:.3f}, delta_plain>={self.delta_plain:.3f}, search={self.search!r}, "
                f"n_evaluations={self.n_evaluations})")

    def plot(self, ax=None, fig=None, title=None):
        """The search history and the two bounds (see :func:`structsparse.cs.plots.plot_rip`).

        Parameters
        ----------
        ax : sequence of 2 matplotlib Axes, optional
            Draw the history and the bars into these.
        fig : matplotlib Figure, optional
            Or into this figure (not together with ``ax``).
        title : str, optional
            Title of the bar panel.

        Returns
        -------
        matplotlib.figure.Figure
            Left open.
        """
        from .plots import plot_rip

        return plot_rip(self, fig=fig, title=title, ax=ax)

    def summary(self):
        """A short plain-text report."""
        return (
            f"RIP lower bounds for a {self.m}x{self.n} matrix, supports of {self.support_size} nonzeros "
            f"({self.search} search, {self.n_evaluations} supports per side):\n"
            f"  model {self.model}: delta >= {self.delta_model:.3f}  (s_min {self.smin_model:.3f}, s_max {self.smax_model:.3f})\n"
            f"  plain sparse:  delta >= {self.delta_plain:.3f}  (s_min {self.smin_plain:.3f}, s_max {self.smax_plain:.3f})\n"
            f"  these are lower bounds: the true constants may be larger.\n"
            f"  theoretical measurements for delta <= 0.5 (Gaussian, prob. 0.99): model {self.sample_bound_model}, "
            f"plain {self.sample_bound_plain}")


class _Searcher:
    """Evaluates supports of one model and proposes swap moves."""

    def __init__(self, M, model, rng):
        self.M, self.model, self.rng = M, model, rng
        self.best = (-np.inf, None, 0.0, 0.0)
        self.history = []

    def evaluate(self, S):
        d, smin, smax, umin, umax = support_delta(self.M[:, S])
        if d > self.best[0]:
            self.best = (d, S, smin, smax)
        self.history.append(self.best[0])
        return d, smin, smax, umin, umax

    # ---- moves: returns a new support or None
    def _units(self, S):
        """(list of removable units, list of addable units, unit -> indices)."""
        mdl = self.model
        if isinstance(mdl, BlockSparse):
            inside = np.unique(mdl.block_of(S))
            outside = np.setdiff1d(np.arange(mdl.n_blocks), inside)
            return inside, outside, mdl.block_indices
        if isinstance(mdl, _WaveletTreeModel):
            node_of, parent, c = mdl._node_of, mdl._parent, mdl.root_size
            nodes = np.unique(node_of[S])
            in_tree = np.zeros(parent.size, bool)
            in_tree[nodes] = True
            has_child_in = np.zeros(parent.size, bool)
            has_child_in[parent[nodes[nodes > 0]]] = True
            leaves = nodes[(nodes > 0) & ~has_child_in[nodes]]
            frontier = np.flatnonzero(~in_tree & in_tree[np.maximum(parent, 0)] & (parent >= 0))
            return leaves, frontier, (lambda v: np.array([v + c - 1]) if v > 0 else np.arange(c))
        inside = S
        outside = np.setdiff1d(np.arange(mdl.n), S)
        return inside, outside, (lambda i: np.array([i]))

    def propose(self, S, u, guided):
        removable, addable, idx = self._units(S)
        if len(removable) == 0 or len(addable) == 0:
            return None
        if guided:
            corr = np.abs(self.M.T @ u)
            score_in = np.array([np.sum(corr[idx(a)] ** 2) for a in addable])
            # the unit least involved in the extreme direction leaves
            w = np.abs(restricted_lstsq(self.M, u, S)[0])
            pos = {int(j): i for i, j in enumerate(S)}
            score_out = np.array([np.sum(w[[pos[int(j)] for j in idx(r)]] ** 2) for r in removable])
            a_in = addable[int(np.argmax(score_in + 1e-12 * self.rng.random(len(addable))))]
            a_out = removable[int(np.argmin(score_out + 1e-12 * self.rng.random(len(removable))))]
        else:
            a_in = addable[self.rng.integers(len(addable))]
            a_out = removable[self.rng.integers(len(removable))]
        new = np.union1d(np.setdiff1d(S, idx(a_out)), idx(a_in))
        if isinstance(self.model, _WaveletTreeModel) and not self.model.is_rooted_subtree(new):
            return None  # a frontier child of the removed leaf
        return new

    def search(self, n_random, n_swaps):
        for _ in range(n_random):
            self.evaluate(self.model.sample_support(self.rng))
        if n_swaps <= 0:
            return
        S = self.best[1]
        d, smin, smax, umin, umax = support_delta(self.M[:, S])
        for t in range(n_swaps):
            u = umax if smax ** 2 - 1 >= 1 - smin ** 2 else umin
            new = self.propose(S, u, guided=(t % 2 == 0))
            if new is None:
                self.history.append(self.best[0])
                continue
            d_new, smin_n, smax_n, umin_n, umax_n = self.evaluate(new)
            if d_new > d:
                S, d, smin, smax, umin, umax = new, d_new, smin_n, smax_n, umin_n, umax_n


def rip_estimate(A, model, n_samples=200, search="random", rng=None, n_swaps=None):
    """Lower bounds on the restricted isometry constant of ``A``: model supports against plain ones.

    Parameters
    ----------
    A : ndarray, sparse matrix or LinearOperator, shape (m, n)
        Columns are used as they are (random sensing matrices from this
        module have unit-norm columns on average).
    model : Sparse, BlockSparse or TreeSparse
    n_samples : int
        Random supports drawn per side.
    search : {"random", "swap"}
        ``"swap"`` continues with ``n_swaps`` local-search moves from the
        worst random support (half guided by the extreme singular vectors,
        half random).
    rng : int, Generator or None
    n_swaps : int, optional
        Default ``n_samples``.

    Returns
    -------
    RipEstimate
        Lower bounds (never upper bounds), side by side, with the
        theoretical sample bounds of the model and of plain sparsity.
    """
    owner = "rip_estimate"
    model = check_model(model, owner)
    search = check_choice(search, "search", ("random", "swap"), owner=owner)
    n_samples = check_int(n_samples, "n_samples", low=1, owner=owner)
    n_swaps = n_samples if n_swaps is None else check_int(n_swaps, "n_swaps", low=0, owner=owner)
    rng = check_rng(rng)
    M = as_matrix(A)
    if np.iscomplexobj(M):
        raise ShapeError(f"The 'A' parameter of {owner} must be real. Got dtype {M.dtype}.")
    if M.ndim != 2 or M.shape[1] != model.n:
        raise ShapeError(f"The 'A' parameter of {owner} must have n={model.n} columns (the model's length). "
                         f"Got shape {M.shape}.")
    if not np.all(np.isfinite(M)):
        raise ShapeError(f"The 'A' parameter of {owner} must contain only finite values (no NaN or inf).")
    plain = Sparse(model.n, model.support_size)
    swaps = n_swaps if search == "swap" else 0
    sides = []
    with single_blas_thread():
        for mdl in (model, plain):
            s = _Searcher(M, mdl, rng)
            s.search(n_samples, swaps)
            sides.append(s)
    (dm, Sm, smin_m, smax_m), (dp, Sp, smin_p, smax_p) = sides[0].best, sides[1].best
    return RipEstimate(
        delta_model=float(dm), delta_plain=float(dp), smin_model=float(smin_m), smax_model=float(smax_m),
        smin_plain=float(smin_p), smax_plain=float(smax_p), support_size=model.support_size,
        m=M.shape[0], n=M.shape[1], n_evaluations=n_samples + swaps, search=search, model=repr(model),
        sample_bound_model=model.sample_bound(), sample_bound_plain=plain.sample_bound(),
        history_model=sides[0].history, history_plain=sides[1].history, support_model=Sm, support_plain=Sp)
