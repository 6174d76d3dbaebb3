"""Signal models: plain sparsity, block sparsity and wavelet-tree sparsity.

A model is a union of subspaces (Baraniuk, Cevher, Duarte, Hegde 2010). Each
model object samples signals and supports, gives the best approximation of
any vector inside the model (the step model-based CoSaMP and IHT rely on),
exposes the structure the convex penalties need (``groups()`` / ``tree()``)
and counts its subspaces for the sample bound.

Sizes: ``k`` is in the model's own unit (nonzeros for :class:`Sparse`,
blocks for :class:`BlockSparse`, coefficients for :class:`TreeSparse`);
``support_size`` is always the number of nonzeros.
"""

from abc import ABC, abstractmethod
from math import lgamma, log

import numpy as np

from .._validation import check_array, check_choice, check_int, check_rng, check_scalar
from ..exceptions import ParameterError, ShapeError
from ..structure import Groups, Tree
from ._tree_projection import count_rooted_subtrees, cssa, tree_projection
from .operators import WaveletSynthesis, WaveletSynthesis2D

__all__ = ["SignalModel", "Sparse", "BlockSparse", "TreeSparse", "TreeSparse2D", "BlockSparse2D", "log_binomial"]


def log_binomial(n, k):
    """``ln C(n, k)``."""
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)


class SignalModel(ABC):
    """Base class of the signal models.

    Attributes
    ----------
    n : int
        Signal length.
    k : int
        Size in the model's unit.
    support_size : int
        Number of nonzeros of a signal in the model.
    """

    name = "model"

    def _check_x(self, x, name="x"):
        return check_array(x, name, ndim=1, shape=(self.n,), owner=f"{type(self).__name__}")

    def _resolve_k(self, k):
        if k is None:
            return self.k
        return check_int(k, "k", low=self.k_min, high=self.k_max, owner=type(self).__name__)

    # ------------------------------------------------------------------ to implement
    @property
    @abstractmethod
    def k_min(self):
        """Smallest allowed ``k``."""

    @property
    @abstractmethod
    def k_max(self):
        """Largest allowed ``k``."""

    @abstractmethod
    def approx_support(self, x, k=None):
        """Sorted indices of the best approximation of ``x`` in the model of size ``k``."""

    @abstractmethod
    def sample_support(self, rng=None, k=None):
        """A random support of the model (sorted indices)."""

    @abstractmethod
    def log_n_subspaces(self, k=None):
        """Natural log of the number of supports (subspaces) in the model."""

    @abstractmethod
    def with_k(self, k):
        """The same model with another size."""

    @abstractmethod
    def n_nonzeros(self, k):
        """Number of nonzeros of a support of size ``k`` (in the model's unit)."""

    # ------------------------------------------------------------------ shared
    @property
    def support_size(self):
        return self.n_nonzeros(self.k)

    def approx(self, x, k=None):
        """Best approximation of ``x`` in the model: ``x`` kept on :meth:`approx_support`, zero elsewhere.

        Returns a new array; ``x`` is not modified.
        """
        x = self._check_x(x)
        out = np.zeros_like(x)
        s = self.approx_support(x, k)
        out[s] = x[s]
        return out

    def sample(self, rng=None):
        """A random signal of the model: a random support with N(0, 1) values."""
        rng = check_rng(rng)
        x = np.zeros(self.n)
        s = self.sample_support(rng)
        x[s] = rng.standard_normal(s.size)
        return x

    def plain(self):
        """The plain sparse model with the same number of nonzeros."""
        return Sparse(self.n, self.support_size)

    def groups(self):
        """Disjoint groups for the group lasso."""
        raise ParameterError(f"{type(self).__name__} has no group structure; use 'l1' or its own penalty.")

    def tree(self):
        """The coefficient tree for the tree lasso."""
        raise ParameterError(f"{type(self).__name__} has no tree structure; the tree lasso needs TreeSparse "
                             f"or TreeSparse2D.")

    def sample_bound(self, delta=0.5, failure_prob=0.01):
        """Measurements after which a Gaussian matrix has the model's RIP constant ``<= delta``.

        The bound of Baraniuk et al. (2010, Theorem 1; Blumensath and Davies
        2009) for a union of ``L`` subspaces of dimension ``d``::

            M >= (ln(2 L) + d ln(12 / delta) + ln(1 / failure_prob)) / c0(delta / 2),
            c0(eps) = eps^2 / 4 - eps^3 / 6.

        Its constants are those of the proof, so the number is an upper
        bound, typically far above what recovery needs in practice; compare
        models with it (it grows with ``ln L``), do not read it as a
        prediction.
        """
        delta = float(delta)
        if not 0 < delta < 1:
            raise ParameterError(f"The 'delta' parameter of sample_bound must be in (0, 1). Got {delta!r}.")
        eps = delta / 2
        c0 = eps ** 2 / 4 - eps ** 3 / 6
        d = self.support_size
        return int(np.ceil((log(2) + self.log_n_subspaces() + d * log(12 / delta) - log(failure_prob)) / c0))

    def sample_order(self):
        """The constant-free order of the sample bound: ``d + ln L`` (dimension plus log-count of subspaces)."""
        return float(self.support_size + self.log_n_subspaces())

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params().items())})"

    def params(self):
        """Constructor arguments, for saving and for ``repr``."""
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.params() == other.params()

    def __hash__(self):
        return hash((type(self).__name__, tuple(self.params().items())))


class Sparse(SignalModel):
    """Plain ``k``-sparse signals of length ``n``; the approximation keeps the ``k`` largest entries.

    Parameters
    ----------
    n : int
        Signal length (``n >= 1``).
    k : int
        Number of nonzeros (``1 <= k <= n``).
    """

    name = "sparse"

    def __init__(self, n, k):
        self.n = check_int(n, "n", low=1, owner="Sparse")
        self.k = check_int(k, "k", low=1, high=self.n, owner="Sparse")

    def params(self):
        return {"n": self.n, "k": self.k}

    k_min = property(lambda self: 1)
    k_max = property(lambda self: self.n)

    def n_nonzeros(self, k):
        return int(k)

    def with_k(self, k):
        return Sparse(self.n, min(max(int(k), 1), self.n))

    def approx_support(self, x, k=None):
        k = self._resolve_k(k)
        a = np.abs(x)
        if k >= self.n:
            return np.arange(self.n)
        return np.sort(np.argpartition(-a, k - 1)[:k])

    def sample_support(self, rng=None, k=None):
        rng = check_rng(rng)
        return np.sort(rng.choice(self.n, size=self._resolve_k(k), replace=False))

    def log_n_subspaces(self, k=None):
        return log_binomial(self.n, self._resolve_k(k))

    def groups(self):
        return Groups.contiguous(self.n, 1)


class BlockSparse(SignalModel):
    """Signals whose nonzeros fill ``k_blocks`` of the ``n / block_size`` consecutive blocks.

    The approximation keeps the ``k_blocks`` blocks of largest Euclidean norm.

    Parameters
    ----------
    n : int
        Signal length (``n >= 1``).
    block_size : int
        Length of each block; must divide ``n``. Block ``b`` holds the
        indices ``b * block_size, ..., (b + 1) * block_size - 1``.
    k_blocks : int
        Number of nonzero blocks (``1 <= k_blocks <= n / block_size``); the
        model's ``k``. A signal has ``k_blocks * block_size`` nonzeros.
    """

    name = "block"

    def __init__(self, n, block_size, k_blocks):
        owner = "BlockSparse"
        self.n = check_int(n, "n", low=1, owner=owner)
        self.block_size = check_int(block_size, "block_size", low=1, high=self.n, owner=owner)
        if self.n % self.block_size:
            raise ParameterError(
                f"The 'block_size' parameter of {owner} must divide n={self.n}. Got {self.block_size}.")
        self.n_blocks = self.n // self.block_size
        self.k = check_int(k_blocks, "k_blocks", low=1, high=self.n_blocks, owner=owner)

    @property
    def k_blocks(self):
        return self.k

    def params(self):
        return {"n": self.n, "block_size": self.block_size, "k_blocks": self.k}

    k_min = property(lambda self: 1)
    k_max = property(lambda self: self.n_blocks)

    def n_nonzeros(self, k):
        return int(k) * self.block_size

    def with_k(self, k):
        return BlockSparse(self.n, self.block_size, min(max(int(k), 1), self.n_blocks))

    def block_norms(self, x):
        """Euclidean norm of every block of ``x``."""
        return np.sqrt(np.sum(np.reshape(x, (self.n_blocks, self.block_size)) ** 2, axis=1))

    def _expand(self, blocks):
        blocks = np.sort(np.asarray(blocks, dtype=np.int64))
        return (blocks[:, None] * self.block_size + np.arange(self.block_size)).ravel()

    def block_of(self, idx):
        """Block index of each (flat) signal index."""
        return np.asarray(idx, dtype=np.int64) // self.block_size

    def block_indices(self, b):
        """Sorted signal indices of block ``b``."""
        return self._expand([int(b)])

    def approx_blocks(self, x, k=None):
        """Indices of the ``k`` blocks of largest norm, sorted."""
        k = self._resolve_k(k)
        norms = self.block_norms(x)
        if k >= self.n_blocks:
            return np.arange(self.n_blocks)
        return np.sort(np.argpartition(-norms, k - 1)[:k])

    def approx_support(self, x, k=None):
        return self._expand(self.approx_blocks(x, k))

    def sample_support(self, rng=None, k=None):
        rng = check_rng(rng)
        return self._expand(rng.choice(self.n_blocks, size=self._resolve_k(k), replace=False))

    def log_n_subspaces(self, k=None):
        return log_binomial(self.n_blocks, self._resolve_k(k))

    def groups(self):
        return Groups.contiguous(self.n, self.block_size)


def _piecewise_smooth(n, rng, n_pieces=None):
    """A random piecewise-polynomial signal (degree <= 3 per piece, jumps between pieces)."""
    if n_pieces is None:
        n_pieces = int(rng.integers(3, 7))
    breaks = np.sort(rng.choice(np.arange(1, n), size=n_pieces - 1, replace=False))
    t = np.linspace(0.0, 1.0, n)
    x = np.empty(n)
    for lo, hi in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [n]])):
        coef = rng.standard_normal(4) * np.array([1.0, 2.0, 4.0, 8.0])
        u = t[lo:hi] - t[lo]
        x[lo:hi] = np.polyval(coef[::-1], u)
    return x


_PROJECTIONS = ("exact", "cssa", "auto")


class _WaveletTreeModel(SignalModel):
    """Shared machinery of the wavelet-tree models: a rooted tree whose root owns the scaling coefficients.

    Subclasses set ``n``, ``root_size`` and call :meth:`_set_tree` with the
    coarser-scale parent of every detail coefficient (``-1`` for children of
    the root); node ``0`` is the root, coefficient ``i >= root_size`` is
    node ``i - root_size + 1``.
    """

    def _set_tree(self, parent_coef):
        c, n = self.root_size, self.n
        n_nodes = n - c + 1
        parent = np.empty(n_nodes, dtype=np.int64)
        parent[0] = -1
        pc = np.asarray(parent_coef, dtype=np.int64)
        parent[1:] = np.where(pc < 0, 0, pc - c + 1)
        if np.any(parent[1:] >= np.arange(1, n_nodes)):
            raise AssertionError("wavelet tree: parents must come before their children")
        node_of = np.zeros(n, dtype=np.int64)
        node_of[c:] = np.arange(1, n_nodes)
        size = np.ones(n_nodes, dtype=np.int64)
        size[0] = c
        order = np.argsort(parent[1:], kind="stable") + 1
        child_ptr = np.searchsorted(parent[order], np.arange(n_nodes + 1)).astype(np.int64)
        self._parent, self._size, self._node_of = parent, size, node_of
        self._child_ptr, self._child_idx = child_ptr, order.astype(np.int64)
        for a in (parent, size, node_of, self._child_ptr, self._child_idx):
            a.setflags(write=False)

    def _check_projection(self, projection, owner):
        return check_choice(projection, "projection", _PROJECTIONS, owner=owner)

    k_min = property(lambda self: self.root_size)
    k_max = property(lambda self: self.n)

    def n_nonzeros(self, k):
        return int(k)

    @property
    def parent_of_coefficient(self):
        """Node of each coefficient (node 0 is the root), for plotting and tests."""
        return self._node_of

    @property
    def node_parents(self):
        """Parent node of every node (``-1`` for the root, node 0)."""
        return self._parent

    def _node_mask_to_support(self, mask):
        return np.flatnonzero(mask[self._node_of])

    def node_energy(self, x):
        """Sum of squares of the coefficients each node owns."""
        e = np.empty(self._parent.size)
        e[0] = float(np.sum(x[:self.root_size] ** 2))
        e[1:] = x[self.root_size:] ** 2
        return e

    def _use_exact(self, k):
        if self.projection == "auto":
            # the exact program costs up to n * k operations; CSSA n log n
            return self.n * k <= 2e6
        return self.projection == "exact"

    def approx_support(self, x, k=None, method=None):
        """Support of the best (``exact``) or CSSA (``cssa``) tree approximation of ``x`` with ``k`` coefficients.

        ``method`` overrides the model's ``projection`` for this call.
        """
        x = self._check_x(x)
        k = self._resolve_k(k)
        exact = self._use_exact(k) if method is None else (
            check_choice(method, "method", ("exact", "cssa"), owner=type(self).__name__) == "exact")
        args = (self.node_energy(x), self._size, self._parent, self._child_ptr, self._child_idx, k)
        mask, _ = tree_projection(*args) if exact else cssa(*args)
        return self._node_mask_to_support(mask)

    def projection_error_ratio(self, x, k=None):
        """``||x - cssa(x)|| / ||x - exact(x)||`` (``>= 1``; 1 when CSSA finds the best tree)."""
        x = self._check_x(x)
        k = self._resolve_k(k)
        res = []
        for method in ("cssa", "exact"):
            s = self.approx_support(x, k, method=method)
            res.append(float(np.sum(x ** 2) - np.sum(x[s] ** 2)))
        return float(np.sqrt(max(res[0], 0.0) / res[1])) if res[1] > 0 else (1.0 if res[0] <= 0 else np.inf)

    def is_rooted_subtree(self, support):
        """True when ``support`` is a union of whole nodes containing the root and closed under parents."""
        mask = np.zeros(self.n, bool)
        mask[np.asarray(support, dtype=np.int64)] = True
        if not mask[:self.root_size].all():
            return False
        node_in = np.zeros(self._parent.size, bool)
        node_in[0] = True
        node_in[1:] = mask[self.root_size:]
        return bool(np.all(node_in[self._parent[1:]] | ~node_in[1:]))

    def sample_support(self, rng=None, k=None):
        """A random rooted subtree: grow from the root, adding a uniformly chosen frontier node each step."""
        rng = check_rng(rng)
        k = self._resolve_k(k)
        n_nodes = self._parent.size
        in_tree = np.zeros(n_nodes, bool)
        in_tree[0] = True
        frontier = list(self._child_idx[self._child_ptr[0]:self._child_ptr[1]])
        for _ in range(k - self.root_size):
            j = int(rng.integers(len(frontier)))
            v = frontier[j]
            frontier[j] = frontier[-1]
            frontier.pop()
            in_tree[v] = True
            frontier.extend(self._child_idx[self._child_ptr[v]:self._child_ptr[v + 1]].tolist())
        return self._node_mask_to_support(in_tree)

    def log_n_subspaces(self, k=None):
        k = self._resolve_k(k)
        return float(count_rooted_subtrees(self._size, self._parent, k, log=True))

    def node_depths(self):
        """Depth of every node: 0 for the root, 1 for the coarsest detail coefficients, and so on.

        Returns
        -------
        ndarray of int, shape (n_nodes,)
            A new array (node ``i`` as in :attr:`node_parents`).
        """
        parent = self._parent
        depth = np.zeros(parent.size, dtype=np.int64)
        # parents come before their children, so one pass per level settles every depth
        while True:
            new = np.where(parent < 0, 0, depth[np.maximum(parent, 0)] + 1)
            if np.array_equal(new, depth):
                return depth
            depth = new

    def depth_weights(self, alpha):
        """Node weights ``2 ** (alpha * depth)`` for the tree lasso (``alpha = 0``: all weights 1).

        ``alpha < 0`` penalizes the small groups of the fine scales less than
        the large groups near the root; ``alpha > 0`` more.

        Parameters
        ----------
        alpha : float
            Exponent per level of depth, in ``[-10, 10]``.

        Returns
        -------
        ndarray of float, shape (n_nodes,)
        """
        alpha = check_scalar(alpha, "alpha", low=-10, high=10, owner=f"{type(self).__name__}.depth_weights")
        return np.exp2(alpha * self.node_depths().astype(float))

    def tree(self, weights=None):
        """The coefficient tree as a :class:`~structsparse.Tree` (node 0, the root, owns the scaling coefficients)."""
        owns = [list(range(self.root_size))] + [[i] for i in range(self.root_size, self.n)]
        return Tree.from_parents(self._parent, owns=owns, n_features=self.n, weights=weights)


class TreeSparse(_WaveletTreeModel):
    """Wavelet coefficient vectors supported on a rooted subtree with ``k`` coefficients.

    The coefficients are those of :func:`~structsparse.cs.wavelet_synthesis`
    (``[cA_L, cD_L, ..., cD_1]``, coarsest first). The tree: the root owns
    the ``n / 2**level`` scaling coefficients ``cA_L``; each coarsest
    detail coefficient ``cD_L[i]`` is a child of the root, and every detail
    coefficient ``cD_j[i]`` has the two children ``cD_{j-1}[2i]`` and
    ``cD_{j-1}[2i + 1]`` at the next finer scale. A support always contains
    the root, so ``k >= n / 2**level``.

    The approximation is the exact tree projection (dynamic program of
    Cartis and Thompson 2013), ``O(n k)``, unless ``projection`` says
    otherwise.

    Parameters
    ----------
    n : int
    k : int
        Number of coefficients in the support.
    wavelet : str
        An orthogonal PyWavelets wavelet (default ``'db4'``).
    level : int, optional
        Decomposition depth (default: PyWavelets' maximum for the filter).
    projection : {"exact", "cssa", "auto"}, default "exact"
        Tree approximation: the exact dynamic program, the condensing
        sort-and-select heuristic (``O(n log n)``), or exact when
        ``n * k <= 2e6`` and CSSA otherwise.
    """

    name = "tree"

    def __init__(self, n, k, wavelet="db4", level=None, projection="exact"):
        owner = "TreeSparse"
        self.synthesis = WaveletSynthesis(n, wavelet, level)
        self.n, self.wavelet, self.level = self.synthesis.n, self.synthesis.wavelet, self.synthesis.level
        self.root_size = self.synthesis.lengths[0]
        self.k = check_int(k, "k", low=self.root_size, high=self.n, owner=owner)
        self.projection = self._check_projection(projection, owner)
        slices = self.synthesis.band_slices()
        parent_coef = np.full(self.n - self.root_size, -1, dtype=np.int64)
        for coarse, fine in zip(slices[1:-1], slices[2:]):
            pos = np.arange(fine.stop - fine.start)
            parent_coef[fine.start - self.root_size + pos] = coarse.start + pos // 2
        self._set_tree(parent_coef)

    def params(self):
        p = {"n": self.n, "k": self.k, "wavelet": self.wavelet, "level": self.level}
        if self.projection != "exact":
            p["projection"] = self.projection
        return p

    def with_k(self, k):
        return TreeSparse(self.n, min(max(int(k), self.root_size), self.n), self.wavelet, self.level,
                          self.projection)

    def sample(self, rng=None, kind="piecewise_smooth"):
        """A random tree-sparse coefficient vector of unit norm.

        ``kind='piecewise_smooth'`` (default): the wavelet coefficients of a
        random piecewise-polynomial signal, projected onto the tree model
        (the ``k``-coefficient rooted subtree of largest energy), so values
        decay across scales like real signals'. ``kind='gaussian'``: a random
        rooted subtree with N(0, 1) values.
        """
        rng = check_rng(rng)
        if kind == "gaussian":
            x = super().sample(rng)
        elif kind == "piecewise_smooth":
            coef = self.synthesis.analysis(_piecewise_smooth(self.n, rng))
            x = self.approx(coef)
        else:
            raise ParameterError(f"The 'kind' parameter of TreeSparse.sample must be 'piecewise_smooth' or "
                                 f"'gaussian'. Got {kind!r}.")
        return x / np.linalg.norm(x)

    def signal(self, coef):
        """The signal with wavelet coefficients ``coef``."""
        return self.synthesis.matvec(self._check_x(coef, "coef"))


def _cartoon_image(shape, rng, n_shapes=None):
    """A random piecewise-constant image: a few discs and rectangles of random intensity on a smooth ramp."""
    rows, cols = shape
    if n_shapes is None:
        n_shapes = int(rng.integers(3, 7))
    yy, xx = np.meshgrid(np.linspace(0, 1, rows), np.linspace(0, 1, cols), indexing="ij")
    img = rng.standard_normal() * yy + rng.standard_normal() * xx
    for _ in range(n_shapes):
        cy, cx = rng.uniform(0.1, 0.9, 2)
        r = rng.uniform(0.05, 0.3)
        if rng.random() < 0.5:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= r ** 2
        else:
            inside = (np.abs(yy - cy) <= r) & (np.abs(xx - cx) <= r * rng.uniform(0.3, 1.0))
        img = img + rng.standard_normal() * 2 * inside
    return img


class TreeSparse2D(_WaveletTreeModel):
    """2-D wavelet coefficient vectors supported on a rooted subtree of the quadtree, with ``k`` coefficients.

    The coefficients are those of :func:`~structsparse.cs.wavelet_synthesis2d`
    (``[cA_L, (cH_L, cV_L, cD_L), ..., (cH_1, cV_1, cD_1)]``, coarsest first,
    each band flattened row-major; the image is flattened row-major). The
    quadtree: the root owns the scaling coefficients ``cA_L``; every
    coarsest detail coefficient (all three orientation bands) is a child
    of the root; every detail coefficient at position ``(i, j)`` of a band
    has four children at the next finer scale in the same orientation band,
    at ``(2i, 2j), (2i, 2j + 1), (2i + 1, 2j), (2i + 1, 2j + 1)``. A
    support always contains the root, so ``k >= root_size``.

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``, both divisible by ``2**level``.
    k : int
        Number of coefficients in the support.
    wavelet : str
        An orthogonal PyWavelets wavelet (default ``'db4'``).
    level : int, optional
        Decomposition depth (default: PyWavelets' maximum for the filter).
    projection : {"auto", "exact", "cssa"}, default "auto"
        Tree approximation: the exact dynamic program (``O(n k)`` work,
        ``O(n log n)`` memory), CSSA (condensing sort and select,
        ``O(n log n)``, approximate; see :meth:`projection_error_ratio`), or
        exact when ``n * k <= 2e6`` and CSSA otherwise.
    """

    name = "tree2d"

    def __init__(self, shape, k, wavelet="db4", level=None, projection="auto"):
        owner = "TreeSparse2D"
        self.synthesis = WaveletSynthesis2D(shape, wavelet, level)
        self.shape2d = self.synthesis.shape2d
        self.n, self.wavelet, self.level = self.synthesis.n, self.synthesis.wavelet, self.synthesis.level
        self.root_size = self.synthesis.band_sizes[0]
        self.k = check_int(k, "k", low=self.root_size, high=self.n, owner=owner)
        self.projection = self._check_projection(projection, owner)
        slices = self.synthesis.band_slices()
        shapes = self.synthesis.band_shapes
        parent_coef = np.full(self.n - self.root_size, -1, dtype=np.int64)
        for j in range(1, self.level):  # level index j: bands 1 + 3(j-1) + b have shape shapes[j]
            rc, cc = shapes[j]
            rf, cf = shapes[j + 1]
            fi, fj = np.meshgrid(np.arange(rf), np.arange(cf), indexing="ij")
            coarse_pos = ((fi // 2) * cc + fj // 2).ravel()
            for b in range(3):
                coarse = slices[1 + 3 * (j - 1) + b]
                fine = slices[1 + 3 * j + b]
                parent_coef[fine.start - self.root_size:fine.stop - self.root_size] = coarse.start + coarse_pos
        self._set_tree(parent_coef)

    @property
    def shape(self):
        """Image shape ``(rows, cols)``."""
        return self.shape2d

    def params(self):
        return {"shape": list(self.shape2d), "k": self.k, "wavelet": self.wavelet, "level": self.level,
                "projection": self.projection}

    def with_k(self, k):
        return TreeSparse2D(self.shape2d, min(max(int(k), self.root_size), self.n), self.wavelet, self.level,
                            self.projection)

    def sample(self, rng=None, kind="cartoon"):
        """A random tree-sparse coefficient vector of unit norm.

        ``kind='cartoon'`` (default): the wavelet coefficients of a random
        piecewise-constant image (discs and rectangles on a ramp), projected
        onto the model. ``kind='gaussian'``: a random rooted subtree with
        N(0, 1) values.
        """
        rng = check_rng(rng)
        if kind == "gaussian":
            x = super().sample(rng)
        elif kind == "cartoon":
            x = self.approx(self.synthesis.analysis(_cartoon_image(self.shape2d, rng)))
        else:
            raise ParameterError(f"The 'kind' parameter of TreeSparse2D.sample must be 'cartoon' or "
                                 f"'gaussian'. Got {kind!r}.")
        return x / np.linalg.norm(x)

    def image(self, coef):
        """The image (2-D array) with wavelet coefficients ``coef``."""
        return self.synthesis.image(self._check_x(coef, "coef"))

    def signal(self, coef):
        """The flattened image with wavelet coefficients ``coef``."""
        return self.synthesis.matvec(self._check_x(coef, "coef"))


class BlockSparse2D(BlockSparse):
    """Images whose nonzeros fill ``k_blocks`` of the non-overlapping ``block_shape`` patches.

    The image is flattened row-major; the patches tile it. The approximation
    keeps the ``k_blocks`` patches of largest Euclidean norm; ``groups()``
    gives one group per patch (for the group lasso and block-OMP).

    Parameters
    ----------
    shape : tuple of int
        Image shape ``(rows, cols)``.
    block_shape : tuple of int
        Patch shape ``(bh, bw)``; must divide ``shape``.
    k_blocks : int
        Number of nonzero patches (the model's ``k``).
    """

    name = "block2d"

    def __init__(self, shape, block_shape, k_blocks):
        from .operators import check_shape2d

        owner = "BlockSparse2D"
        rows, cols = check_shape2d(shape, owner)
        bh, bw = check_shape2d(block_shape, owner, name="block_shape")
        if rows % bh or cols % bw:
            raise ParameterError(f"The 'block_shape' parameter of {owner} must divide shape={(rows, cols)}. "
                                 f"Got {(bh, bw)}.")
        self.shape2d, self.block_shape = (rows, cols), (bh, bw)
        self.n = rows * cols
        self.block_size = bh * bw
        self.n_blocks = self.n // self.block_size
        self.k = check_int(k_blocks, "k_blocks", low=1, high=self.n_blocks, owner=owner)
        # block b = (bi, bj) row-major over the grid of patches; its flat pixel indices, sorted
        pix = np.arange(self.n).reshape(rows // bh, bh, cols // bw, bw).transpose(0, 2, 1, 3)
        self._blocks = np.ascontiguousarray(pix.reshape(self.n_blocks, self.block_size))
        self._blocks.setflags(write=False)
        self._block_of = np.empty(self.n, dtype=np.int64)
        self._block_of[self._blocks.ravel()] = np.repeat(np.arange(self.n_blocks), self.block_size)
        self._block_of.setflags(write=False)

    @property
    def shape(self):
        """Image shape ``(rows, cols)``."""
        return self.shape2d

    def params(self):
        return {"shape": list(self.shape2d), "block_shape": list(self.block_shape), "k_blocks": self.k}

    def with_k(self, k):
        return BlockSparse2D(self.shape2d, self.block_shape, min(max(int(k), 1), self.n_blocks))

    def block_of(self, idx):
        """Patch index of each flat pixel index."""
        return self._block_of[np.asarray(idx, dtype=np.int64)]

    def block_norms(self, x):
        """Euclidean norm of every patch of ``x`` (flattened image)."""
        x = self._check_x(np.reshape(x, -1) if np.ndim(x) == 2 else x)  # a flat vector or the image
        return np.sqrt(np.sum(x[self._blocks] ** 2, axis=1))

    def _expand(self, blocks):
        return np.sort(self._blocks[np.asarray(blocks, dtype=np.int64)].ravel())

    def groups(self):
        return Groups.from_lists([b.tolist() for b in self._blocks], n_features=self.n)


def check_model(model, owner):
    """Check that ``model`` is a :class:`SignalModel`."""
    if not isinstance(model, SignalModel):
        raise TypeError(f"The 'model' parameter of {owner} must be a cs.Sparse, cs.BlockSparse, "
                        f"cs.TreeSparse, cs.TreeSparse2D or cs.BlockSparse2D. Got {type(model).__name__}.")
    return model


def check_signal(x, model, name, owner):
    """A finite 1-D signal of the model's length."""
    x = check_array(x, name, ndim=1, owner=owner)
    if x.shape[0] != model.n:
        raise ShapeError(f"The '{name}' parameter of {owner} must have length n={model.n}. Got {x.shape[0]}.")
    return x
