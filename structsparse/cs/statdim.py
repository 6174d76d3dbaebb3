"""Statistical dimension of descent cones: the predicted phase-transition location.

For a Gaussian ``A`` with ``m`` rows, convex recovery of ``x0`` succeeds with
high probability when ``m`` exceeds the statistical dimension ``delta(D)``
of the descent cone of the regularizer at ``x0`` and fails when ``m`` is
below it; the transition width is ``O(sqrt(n))`` (Amelunxen, Lotz, McCoy,
Tropp 2014, "Living on the edge"). The statistical dimension is computed
with their upper bound, tight for large ``n``::

    l1,   s nonzeros out of n:   inf_t  s (1 + t^2) + (n - s) E[(|g| - t)_+^2]
    l1,2, k of B blocks of size J:  inf_t  k (J + t^2) + (B - k) E[(chi_J - t)_+^2]

with ``g`` standard normal and ``chi_J`` the norm of a J-dimensional one.
"""

import numpy as np
from scipy import integrate, optimize, stats

from .._validation import check_int, check_scalar

from .models import BlockSparse, Sparse

__all__ = ["statdim_l1", "statdim_group", "predicted_threshold"]


def _tail_l1(t):
    # E[(|g| - t)_+^2] = 2 [ (1 + t^2) Q(t) - t phi(t) ]
    return 2.0 * ((1.0 + t * t) * stats.norm.sf(t) - t * stats.norm.pdf(t))


def _tail_chi(t, J):
    # E[(chi_J - t)_+^2] by quadrature of the chi density
    f = lambda r: (r - t) ** 2 * stats.chi.pdf(r, J)  # noqa: E731
    val, _ = integrate.quad(f, t, np.inf, limit=200)
    return val


def statdim_l1(n, s):
    """Statistical dimension of the l1 descent cone at an ``s``-sparse point of R^n.

    Parameters
    ----------
    n : int
        Ambient dimension (signal length).
    s : int or float
        Number of nonzeros of the point (the formula takes a real ``s``). ``s <= 0`` gives 0 and ``s >= n``
        gives ``n``.

    Returns
    -------
    float
        The statistical dimension, in ``[0, n]``: the number of Gaussian
        measurements at which l1 recovery switches from failure to success.
    """
    n = check_int(n, "n", low=1, owner="statdim_l1")
    s = check_scalar(s, "s", owner="statdim_l1")  # a real: the formula is continuous in s (root finders use it)
    if s <= 0:
        return 0.0
    if s >= n:
        return float(n)
    obj = lambda t: s * (1 + t * t) + (n - s) * _tail_l1(t)  # noqa: E731
    res = optimize.minimize_scalar(obj, bounds=(0.0, 10.0), method="bounded", options={"xatol": 1e-10})
    return float(min(res.fun, n))


def statdim_group(n_blocks, block_size, k_blocks):
    """Statistical dimension of the l1,2 descent cone: ``k_blocks`` active blocks of ``n_blocks``.

    Parameters
    ----------
    n_blocks : int
        Number of blocks ``B`` (the ambient dimension is ``B * block_size``).
    block_size : int
        Length ``J`` of every block.
    k_blocks : int
        Number of nonzero blocks of the point. ``k_blocks <= 0`` gives 0 and
        ``k_blocks >= n_blocks`` gives ``n_blocks * block_size``.

    Returns
    -------
    float
        The statistical dimension, in ``[0, n_blocks * block_size]``: the
        number of Gaussian measurements at which group-lasso recovery
        switches from failure to success.
    """
    owner = "statdim_group"
    B, J = check_int(n_blocks, "n_blocks", low=1, owner=owner), check_int(block_size, "block_size", low=1, owner=owner)
    k = check_int(k_blocks, "k_blocks", owner=owner)
    if k <= 0:
        return 0.0
    if k >= B:
        return float(B * J)
    obj = lambda t: k * (J + t * t) + (B - k) * _tail_chi(t, J)  # noqa: E731
    hi = np.sqrt(J) + 10.0
    res = optimize.minimize_scalar(obj, bounds=(0.0, hi), method="bounded", options={"xatol": 1e-10})
    return float(min(res.fun, B * J))


def predicted_threshold(model, method):
    """Predicted 50 % success number of measurements for a convex method, or None.

    ``'l1'``: l1 statistical dimension at the model's number of nonzeros;
    ``'group_lasso'``: the l1,2 one for a :class:`BlockSparse` model (l1 for
    :class:`Sparse`). Other methods (greedy, tree lasso) have no such
    prediction here.

    Parameters
    ----------
    model : Sparse, BlockSparse or TreeSparse
        The signal model; its ``n`` and ``support_size`` (and, for
        :class:`BlockSparse`, ``n_blocks``, ``block_size``, ``k``) are used.
    method : str
        A recovery method name as accepted by :func:`recover`.

    Returns
    -------
    float or None
        The predicted number of measurements, or None when ``method`` has
        no prediction for this model.
    """
    if method == "l1":
        return statdim_l1(model.n, model.support_size)
    if method == "group_lasso":
        if isinstance(model, BlockSparse):
            return statdim_group(model.n_blocks, model.block_size, model.k)
        if isinstance(model, Sparse):
            return statdim_l1(model.n, model.k)
    return None

