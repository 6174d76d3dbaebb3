"""Subspace identification, PO-MOESP family (Verhaegen 1994), written for structsparse.

Steps:

1. Block Hankel matrices of past and future inputs and outputs with ``s``
   block rows (the horizon).
2. An LQ factorization of ``[U_f; U_p; Y_p; Y_f]`` removes the future
   inputs; the part of the future outputs explained by the past data (the
   block ``L32``) spans the extended observability matrix.
3. Its leading left singular vectors give ``Gamma_s``; ``C`` is the first
   block row and ``A`` solves the shift equation ``Gamma_up A = Gamma_down``.
4. With ``A`` and ``C`` fixed the outputs are linear in ``(x0, B, D)``;
   one least-squares solve on simulated regressors gives them.
"""

from dataclasses import dataclass
import warnings

import numpy as np
import scipy.linalg

from .._validation import check_int
from ..exceptions import ParameterError, ShapeError
from ._kernels import propagate
from ._warnings import OrderWarning
from .statespace import StateSpace, check_signal

__all__ = ["moesp", "SubspaceResult", "min_samples", "input_output_regressors", "stabilize"]


@dataclass(frozen=True, repr=False)
class SubspaceResult:
    """Outcome of :func:`moesp`.

    Attributes
    ----------
    model : StateSpace
    x0 : ndarray, shape (n_states,)
        Estimated initial state.
    singular_values : ndarray
        Singular values of the projected output block; a clear drop after the
        ``n``-th says the data support ``n`` states.
    horizon : int
        Number of block rows used.
    """

    model: StateSpace
    x0: np.ndarray
    singular_values: np.ndarray
    horizon: int

    def __repr__(self):
        return f"SubspaceResult(model={self.model!r}, horizon={self.horizon})"


def _hankel(z, start, rows, cols):
    """Block Hankel matrix: block row ``i`` is ``z[start + i : start + i + cols].T``."""
    c = z.shape[1]
    H = np.empty((rows * c, cols))
    for i in range(rows):
        H[i * c:(i + 1) * c] = z[start + i:start + i + cols].T
    return H


def min_samples(order, n_inputs, n_outputs, horizon=None):
    """Fewest samples :func:`moesp` accepts for this order (with the smallest usable horizon)."""
    s = _min_horizon(order, n_outputs) if horizon is None else horizon
    # the LQ factorization needs at least as many columns as stacked rows
    return 2 * s * (n_inputs + n_outputs) + 2 * s - 1


def _min_horizon(order, n_outputs):
    # shift invariance needs (s - 1) p >= n
    return int(np.ceil(order / n_outputs)) + 1


def _choose_horizon(order, N, m, p, horizon):
    if horizon is not None:
        s = check_int(horizon, "horizon", low=_min_horizon(order, p), owner="moesp")
        if N < min_samples(order, m, p, s):
            raise ParameterError(
                f"moesp: horizon {s} with {m} input(s) and {p} output(s) needs at least "
                f"{min_samples(order, m, p, s)} samples; got {N}."
            )
        return s
    s_min = _min_horizon(order, p)
    if N < min_samples(order, m, p, s_min):
        raise ParameterError(
            f"The data do not support order {order}: with {m} input(s) and {p} output(s) a subspace "
            f"estimate of that order needs at least {min_samples(order, m, p, s_min)} samples; got {N}. "
            "Use a lower order or more data."
        )
    s = max(s_min, 2 * order)
    while s > s_min and N < min_samples(order, m, p, s):
        s -= 1
    return s


def input_output_regressors(A, C, u, n_inputs, feedthrough):
    """Regressor matrix of the outputs in ``(x0, vec B, vec D)`` for fixed ``A`` and ``C``.

    Row ``t * p + i`` holds the sensitivities of ``y_i[t]`` to
    ``x0`` (``n`` columns), the entries of ``B`` in row-major order
    (``n m`` columns) and, with ``feedthrough``, of ``D`` (``p m`` columns).
    """
    n, p, m, N = A.shape[0], C.shape[0], n_inputs, u.shape[0]
    # state responses: to x0 (identity start), and to u_j entering state i
    F = np.zeros((N, n, n + n * m))
    for i in range(n):
        F[:, i, n + i * m:n + (i + 1) * m] = u
    S0 = np.zeros((n, n + n * m))
    S0[:, :n] = np.eye(n)
    S = propagate(A, F, S0)
    Y = np.einsum("pn,tnk->tpk", C, S)
    if feedthrough:
        YD = np.zeros((N, p, p * m))
        for i in range(p):
            YD[:, i, i * m:(i + 1) * m] = u
        Y = np.concatenate([Y, YD], axis=2)
    return Y.reshape(N * p, -1)


def stabilize(A, radius=0.995):
    """Mirror poles outside the unit circle inside it (``z -> 1 / conj(z)``), capped at ``radius``.

    Returns ``(A_stable, changed)``. Keeps ``A`` real (conjugate pairs are
    mirrored together).
    """
    lam, V = np.linalg.eig(A)
    mod = np.abs(lam)
    if np.all(mod < radius):
        return A, False
    new = np.where(mod >= 1, lam / np.maximum(mod, 1e-300) ** 2, lam)
    newmod = np.abs(new)
    new = np.where(newmod > radius, new / np.maximum(newmod, 1e-300) * radius, new)
    A2 = (V @ np.diag(new) @ np.linalg.inv(V)).real
    return A2, True


def moesp(u, y, order, horizon=None, feedthrough=False):
    """Estimate a state-space model of the given order from input-output data (PO-MOESP).

    Parameters
    ----------
    u : ndarray, shape (n_samples, n_inputs)
    y : ndarray, shape (n_samples, n_outputs)
    order : int
        Number of states.
    horizon : int, optional
        Block rows of the Hankel matrices (default ``2 * order``, reduced when
        the data are short).
    feedthrough : bool
        Estimate ``D`` (otherwise ``D = 0``).

    Returns
    -------
    SubspaceResult

    Warns
    -----
    OrderWarning
        When the ``order``-th singular value is negligible: the data do not
        show that many states.
    """
    u = check_signal(u, "u", owner="moesp")
    y = check_signal(y, "y", owner="moesp")
    N, m = u.shape
    p = y.shape[1]
    if y.shape[0] != N:
        raise ShapeError(f"moesp: 'u' has {N} samples but 'y' has {y.shape[0]}; records must have the same length.")
    n = check_int(order, "order", low=1, owner="moesp")
    s = _choose_horizon(n, N, m, p, horizon)
    j = N - 2 * s + 1
    Up, Uf = _hankel(u, 0, s, j), _hankel(u, s, s, j)
    Yp, Yf = _hankel(y, 0, s, j), _hankel(y, s, s, j)
    M = np.vstack([Uf, Up, Yp, Yf]) / np.sqrt(j)
    # scipy's QR on a Fortran-ordered copy: numpy's threaded path is orders of magnitude slower here
    R = scipy.linalg.qr(np.asfortranarray(M.T), mode="r", overwrite_a=True, check_finite=False)[0]
    L = R.T
    a, b = s * m, s * m + s * (m + p)
    L32 = L[b:, a:b]
    U, sv, _ = np.linalg.svd(L32, full_matrices=False)
    if n > sv.size:
        raise ParameterError(f"The data do not support order {n}: at most {sv.size} states can be estimated here.")
    if sv[0] == 0 or sv[n - 1] <= 1e-10 * sv[0]:
        warnings.warn(
            f"moesp: singular value {n} is {sv[n - 1]:.2e} (relative {sv[n - 1] / max(sv[0], 1e-300):.1e}): "
            f"the data show fewer than {n} states (is the input exciting enough? is the order too high?).",
            OrderWarning, stacklevel=3)
    Gamma = U[:, :n] * np.sqrt(sv[:n])
    C = Gamma[:p]
    A = np.linalg.lstsq(Gamma[:-p], Gamma[p:], rcond=None)[0]
    Phi = input_output_regressors(A, C, u, m, feedthrough)
    sol = np.linalg.lstsq(Phi, y.ravel(), rcond=None)[0]
    x0 = sol[:n]
    B = sol[n:n + n * m].reshape(n, m)
    D = sol[n + n * m:].reshape(p, m) if feedthrough else np.zeros((p, m))
    return SubspaceResult(StateSpace(A, B, C, D), x0, sv, s)
