"""``identify``: state-space models from data, with or without a sparsity pattern.

Two routes:

* **Measured states** (``x`` given): least squares for ``[A B]`` and
  ``[C D]`` under the pattern, one regression per row; or, with
  ``penalty``, pattern discovery by a structured penalty on a ``lam`` path
  scored by BIC, then a refit on the found support (see
  :mod:`structsparse.sysid.states`).
* **Inputs and outputs only**: a PO-MOESP subspace estimate
  (:func:`~structsparse.sysid.subspace.moesp`), then prediction-error
  refinement over the pattern's free entries with analytic sensitivities
  and a stability barrier (:func:`~structsparse.sysid.pem.pem_refine`).
  With a pattern, the subspace model is first brought to the pattern's
  coordinates by the similarity transform that best matches its fixed
  entries (:func:`~structsparse.sysid.similarity.fit_similarity`, several
  starts); if no transform leads to a good fit, random points of the
  pattern are tried as starts. For an identifiable pattern the result
  recovers the true entries, not only the behaviour.
"""

from dataclasses import dataclass, field
import time
import warnings

import numpy as np

from .._validation import check_int, check_rng, check_scalar
from ..exceptions import ConvergenceWarning, ParameterError, ShapeError
from .._linalg import single_blas_thread
from .. import _saving
from ._io import read_json, write_json, write_npz
from ._warnings import StabilityWarning
from .identifiability import identifiability as _identifiability
from .metrics import fit_index, nrmse
from .pattern import MATRIX_NAMES, Pattern
from .pem import pem_refine
from .random import _shrink_free_part
from .similarity import fit_similarity
from ..penalties import Penalty
from .states import check_states, discover_dynamics, penalty_kind, rowwise_least_squares
from .statespace import StateSpace, check_signal
from .subspace import moesp, stabilize

__all__ = ["identify", "IdentifiedModel"]

_FORMAT = "structsparse.sysid.IdentifiedModel"


@dataclass(frozen=True, repr=False)
class IdentifiedModel:
    """Result of :func:`identify`.

    Attributes
    ----------
    model : StateSpace
        The identified model.
    x0 : ndarray, shape (n_states,)
        Initial state used for the simulation (estimated, or the first measured state).
    fit : ndarray, shape (n_outputs,)
        Fit index per output, in percent, of the model simulated from ``x0``
        against the measured outputs.
    nrmse : ndarray, shape (n_outputs,)
        Normalized RMS error per output (``1 - fit / 100``).
    pattern : Pattern
        The pattern used (given, or fully free) or found (pattern discovery).
    method : str
        ``"states-ls"``, ``"states-penalized"``, ``"subspace"`` or ``"subspace+pem"``.
    history : dict
        What the optimization did: subspace singular values, PEM costs per
        accepted step, similarity residuals, the ``lam`` path and BIC, timings.
    identifiability : IdentifiabilityResult or None
        Verdict for the pattern (input-output route with a pattern).
    y_sim : ndarray, shape (n_samples, n_outputs)
        The simulated outputs.
    """

    model: StateSpace
    x0: np.ndarray
    fit: np.ndarray
    nrmse: np.ndarray
    pattern: Pattern
    method: str
    history: dict = field(default_factory=dict)
    identifiability: object = None
    y_sim: np.ndarray = None

    def simulate(self, u, x0=None):
        """Outputs of the identified model for inputs ``u`` (from ``x0``, default the estimated one)."""
        return self.model.simulate(u, x0=self.x0 if x0 is None else x0).y

    def summary(self):
        """A few lines: method, fit per output, poles, stability."""
        fit = ", ".join(f"{f:.2f}" for f in self.fit)
        poles = ", ".join(f"{p:.3f}" for p in np.sort_complex(self.model.poles()))
        lines = [f"Identified {self.model.n_states}-state model by {self.method}: fit per output [%] = [{fit}]",
                 f"poles: {poles}; {'stable' if self.model.is_stable() else 'UNSTABLE'}"]
        return "\n".join(lines)

    def __repr__(self):
        fit = ", ".join(f"{f:.2f}" for f in self.fit)
        return (f"IdentifiedModel(method={self.method!r}, n_states={self.model.n_states}, "
                f"n_inputs={self.model.n_inputs}, n_outputs={self.model.n_outputs}, fit=[{fit}] %, "
                f"stable={self.model.is_stable()})")

    def plot(self, y=None, u=None, fig=None, max_samples=None):
        """Simulated (against measured) outputs and the poles; see :func:`structsparse.sysid.plots.plot_identified`.

        Parameters
        ----------
        y : array_like, shape (n_samples, n_outputs), optional
            The measured outputs, drawn behind the simulated ones (with the fit index).
        u : array_like, shape (n_samples, n_inputs), optional
            Inputs to simulate with (needed for a model read back from a file, which holds no simulation).
        fig : matplotlib Figure, optional
            Draw into this figure; default a new one.
        max_samples : int, optional
            Show only the first samples.

        Returns
        -------
        matplotlib.figure.Figure
            Left open.
        """
        from .plots import plot_identified

        return plot_identified(self, y=y, u=u, fig=fig, max_samples=max_samples)

    def to_dict(self):
        """A JSON-ready dict: the kind and format version, then the model, ``x0``, fit, NRMSE, pattern and method.

        Returns
        -------
        dict
        """
        return {**_saving.header(_FORMAT), "method": self.method, "model": self.model.to_dict(),
                "x0": self.x0.tolist(), "fit": self.fit.tolist(), "nrmse": self.nrmse.tolist(),
                "pattern": self.pattern.to_dict()}

    def save(self, path):
        """Save to ``.json`` or ``.npz`` (by suffix), atomically, with the kind and format version.

        The file holds the model, ``x0``, the fit and NRMSE, the pattern and the method; :meth:`load` reads it
        back (without ``history``, ``identifiability`` and ``y_sim``), and :meth:`StateSpace.load` reads the
        model alone from it.

        Parameters
        ----------
        path : str or Path
            A ``.json`` or ``.npz`` file; its folder must exist.

        Returns
        -------
        Path
        """
        from pathlib import Path

        path = _saving.as_path(path, "IdentifiedModel.save")
        if path.suffix == ".json":
            return write_json(path, self.to_dict())
        if path.suffix == ".npz":
            arrays = {k: M for k, M in zip(MATRIX_NAMES, self.model.matrices)}
            arrays.update(dt=np.array(self.model.dt), x0=self.x0, fit=self.fit, nrmse=self.nrmse,
                          method=np.array(self.method))
            arrays.update({f"free_{k}": self.pattern.masks[k] for k in MATRIX_NAMES})
            arrays.update({f"values_{k}": self.pattern.values[k] for k in MATRIX_NAMES})
            return write_npz(path, {**_saving.npz_header(_FORMAT), **arrays})
        raise ParameterError(f"The 'path' of IdentifiedModel.save must end in .json or .npz. Got '{path}'.")

    @classmethod
    def load(cls, path):
        """Read a result written by :meth:`save` (``.json`` or ``.npz``).

        Parameters
        ----------
        path : str or Path
            The file.

        Returns
        -------
        IdentifiedModel
            With the saved model, ``x0``, fit, NRMSE, pattern and method; ``history`` is empty and
            ``identifiability`` and ``y_sim`` are None (simulate with :meth:`simulate`).

        Raises
        ------
        ParameterError
            When the file is missing or damaged, or holds another kind of object (the message names it).
        """
        from pathlib import Path

        from .._atomic import clean_stale_temporaries

        path = _saving.as_path(path, "IdentifiedModel.load")
        source = f"Identified-model file '{path}'"
        if path.suffix == ".npz":
            clean_stale_temporaries(path)
            try:
                with np.load(path) as z:
                    _saving.check_header(z, _FORMAT, source)
                    model = StateSpace(z["A"], z["B"], z["C"], z["D"], dt=float(z["dt"]))
                    values = {k: z[f"values_{k}"] for k in MATRIX_NAMES if f"values_{k}" in z.files}
                    pattern = Pattern(*(z[f"free_{k}"] for k in MATRIX_NAMES), values=values)
                    return cls(model=model, x0=z["x0"], fit=z["fit"], nrmse=z["nrmse"], pattern=pattern,
                               method=str(z["method"]) if "method" in z.files else "unknown")
            except FileNotFoundError:
                raise _saving.missing_file(path, "Identified-model") from None
            except (KeyError, OSError, ValueError) as exc:
                if isinstance(exc, ParameterError):
                    raise
                raise ParameterError(f"{source} is not a saved IdentifiedModel: {exc}") from None
        d = read_json(path, "Identified-model")
        _saving.check_header(d, _FORMAT, source)
        missing = [k for k in ("model", "x0", "fit", "nrmse", "pattern", "method") if k not in d]
        if missing:
            raise ParameterError(f"{source} lacks the entries {missing}.")
        return cls(model=StateSpace.from_dict(d["model"], source=source), x0=d["x0"], fit=d["fit"],
                   nrmse=d["nrmse"], pattern=Pattern.from_dict(d["pattern"], source=source), method=str(d["method"]))

    def __post_init__(self):
        if not isinstance(self.model, StateSpace):
            raise TypeError(f"The 'model' parameter of IdentifiedModel must be a StateSpace. "
                            f"Got {type(self.model).__name__}.")
        if not isinstance(self.pattern, Pattern):
            raise TypeError(f"The 'pattern' parameter of IdentifiedModel must be a Pattern. "
                            f"Got {type(self.pattern).__name__}.")
        for name in ("x0", "fit", "nrmse"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float).reshape(-1))


def _check_pattern(pattern, n, m, p):
    if pattern is None:
        return None
    if not isinstance(pattern, Pattern):
        raise TypeError(f"The 'pattern' parameter of identify must be a Pattern or None. Got {type(pattern).__name__}.")
    if (pattern.n_states, pattern.n_inputs, pattern.n_outputs) != (n, m, p):
        raise ShapeError(
            f"The 'pattern' of identify has (n_states, n_inputs, n_outputs) = "
            f"({pattern.n_states}, {pattern.n_inputs}, {pattern.n_outputs}), but the data and order give ({n}, {m}, {p})."
        )
    return pattern


def _scaled_cost(y, y_hat):
    s = y.std(axis=0)
    s = np.where(s > 0, s, 1.0)
    r = (y_hat - y) / s
    return 0.5 * float(np.sum(r * r))


def identify(u, y, order, pattern=None, penalty=None, x=None, *, feedthrough=False, dt=1.0, horizon=None,
             refine=True, n_starts=40, max_nfev=200, rng=None, n_lams=30, check_identifiability=True):
    """Identify a discrete-time state-space model from data.

    Parameters
    ----------
    u : array_like, shape (n_samples, n_inputs)
        Inputs.
    y : array_like, shape (n_samples, n_outputs), or None
        Outputs. With measured states ``y`` may be None: the states are the
        outputs (``C = I``, ``D = 0``).
    order : int
        Number of states.
    pattern : Pattern, optional
        Free entries and known values. Default: every entry of ``A, B, C``
        free (``D`` free only with ``feedthrough``).
    penalty : {"l1", "group_lasso", "sparse_group_lasso"} or Penalty, optional
        Discover the pattern of ``A`` and ``B`` (needs ``x``): a kind (the
        penalty's ``name``) picks ``lam`` on a path by BIC; a penalty instance
        on ``order + n_inputs`` rows is used at its ``lam``. The old kinds
        ``"group"`` and ``"sparse_group"`` still work for one release, with a
        ``DeprecationWarning``.
    x : array_like, shape (n_samples, order), optional
        Measured states.
    feedthrough : bool
        Estimate ``D`` when no pattern is given.
    dt : float
        Sampling period of the returned model.
    horizon : int, optional
        Block rows of the subspace step (default ``2 * order``).
    refine : bool
        Prediction-error refinement after the subspace step (input-output
        route without a pattern; with a pattern it always runs).
    n_starts : int
        Random starts of the similarity fit (and of the pattern, as a fallback).
    max_nfev : int
        Residual evaluations allowed per prediction-error run.
    rng : int or numpy.random.Generator, optional
    n_lams : int
        Length of the ``lam`` path for pattern discovery.
    check_identifiability : bool
        Run :func:`identifiability` on a given pattern (input-output route)
        and warn when it is not identifiable.

    Returns
    -------
    IdentifiedModel

    Raises
    ------
    ShapeError
        Records of different lengths, NaN or infinite samples, a pattern of the wrong size.
    ParameterError
        An order the data cannot support, a penalty without states.

    Warns
    -----
    StabilityWarning
        When the identified model is unstable.
    OrderWarning
        When the data show fewer states than ``order``.
    """
    owner = "identify"
    start = time.perf_counter()
    u = check_signal(u, "u", owner=owner)
    N, m = u.shape
    n = check_int(order, "order", low=1, owner=owner)
    if y is None and x is None:
        raise ParameterError("identify needs outputs 'y' (or measured states 'x').")
    if y is not None:
        y = check_signal(y, "y", owner=owner)
        if y.shape[0] != N:
            raise ShapeError(
                f"The records have different lengths: 'u' has {N} samples but 'y' has {y.shape[0]}. "
                "Trim or resample them to a common length."
            )
    check_scalar(dt, "dt", low=0, low_inclusive=False, owner=owner)
    n_starts = check_int(n_starts, "n_starts", low=0, owner=owner)
    gen = check_rng(rng)
    if penalty is not None and not isinstance(penalty, Penalty):
        penalty = penalty_kind(penalty, owner=owner, stacklevel=3)
    if x is None and y is not None:  # refuse at once what the data cannot support, before any factorization
        check_order_supported(N, m, y.shape[1], n, pattern=pattern if isinstance(pattern, Pattern) else None,
                              feedthrough=feedthrough, refine=refine)
    if isinstance(pattern, Pattern):
        check_outputs_see_states(pattern, "The 'pattern' parameter of identify")
    with single_blas_thread():
        if x is not None:
            result = _identify_with_states(u, y, n, pattern, penalty, x, feedthrough, dt, n_lams)
        else:
            if penalty is not None:
                raise ParameterError(
                    "The 'penalty' parameter of identify discovers a pattern from measured states; pass 'x' as well "
                    "(from inputs and outputs alone, give a 'pattern' instead)."
                )
            result = _identify_io(u, y, n, pattern, feedthrough, dt, horizon, refine, n_starts, max_nfev, gen,
                                  check_identifiability)
    result.history["time"] = time.perf_counter() - start
    if not result.model.is_stable():
        warnings.warn(
            f"identify: the identified model is unstable (spectral radius {result.model.spectral_radius():.4f} >= 1); "
            "its simulation diverges. Check the order, the data, or the pattern.", StabilityWarning, stacklevel=2)
    return result


def _warn_if_stopped(res, max_nfev):
    if not res.converged:
        warnings.warn(
            f"identify: the prediction-error refinement stopped before converging ({res.message}); "
            f"raise max_nfev (now {max_nfev}) or check the data.", ConvergenceWarning, stacklevel=4)


def _finish(model, x0, u, y, pattern, method, history, ident=None):
    y_sim = model.simulate(u, x0=x0).y
    return IdentifiedModel(model=model, x0=np.asarray(x0, float), fit=fit_index(y, y_sim), nrmse=nrmse(y, y_sim),
                           pattern=pattern, method=method, history=history, identifiability=ident, y_sim=y_sim)


# ---------------------------------------------------------------------------- measured states
def _identify_with_states(u, y, n, pattern, penalty, x, feedthrough, dt, n_lams):
    N, m = u.shape
    x = check_states(x, n, N)
    outputs_are_states = y is None
    if outputs_are_states:
        y = x
    p = y.shape[1]
    pattern = _check_pattern(pattern, n, m, p)
    if N < 2:
        raise ParameterError("identify: measured states need at least 2 samples.")
    Z = np.hstack([x[:-1], u[:-1]])
    Xn = x[1:]
    if Z.shape[0] < n + m:
        raise ParameterError(
            f"The data do not support order {n}: the state regression has {n + m} unknowns per equation but only "
            f"{Z.shape[0]} transitions."
        )
    history = {}
    if penalty is None:
        base = pattern if pattern is not None else Pattern.full(n, m, p, feedthrough)
        free_AB = np.hstack([base.masks["A"], base.masks["B"]])
        vals_AB = np.hstack([base.values["A"], base.values["B"]])
        M, rss = rowwise_least_squares(Z, Xn, free_AB, vals_AB)
        method = "states-ls"
        history["rss"] = rss.tolist()
    else:
        if pattern is not None and not (pattern.masks["A"].all() and pattern.masks["B"].all()):
            raise ParameterError(
                "identify: with a 'penalty' the pattern of A and B is discovered; the given pattern must leave A and B "
                "free (it may still fix C and D)."
            )
        M, support, info = discover_dynamics(Z, Xn, penalty, n_lams=n_lams)
        method = "states-penalized"
        history["path"] = info
    A, B = M[:, :n], M[:, n:]
    if outputs_are_states:
        C, D = np.eye(n), np.zeros((n, m))
        freeC, freeD = np.zeros((n, n), bool), np.zeros((n, m), bool)
        valsC, valsD = C, D
    else:
        base = pattern if pattern is not None else Pattern.full(n, m, p, feedthrough)
        freeC, freeD = base.masks["C"], base.masks["D"]
        valsC, valsD = base.values["C"], base.values["D"]
        MCD, _ = rowwise_least_squares(np.hstack([x, u]), y, np.hstack([freeC, freeD]),
                                       np.hstack([valsC, valsD]))
        C, D = MCD[:, :n], MCD[:, n:]
    if penalty is None:
        used = pattern if pattern is not None else Pattern(
            np.ones((n, n), bool), np.ones((n, m), bool), freeC, freeD, values={"C": valsC, "D": valsD})
    else:
        used = Pattern(support[:, :n], support[:, n:], freeC, freeD, values={"C": valsC, "D": valsD})
    model = StateSpace(A, B, C, D, dt=dt)
    return _finish(model, x[0], u, y, used, method, history)


# ---------------------------------------------------------------------------- inputs and outputs
def check_order_supported(n_samples, n_inputs, n_outputs, order, pattern=None, feedthrough=False, refine=True):
    """Refuse at once an order the input-output data cannot support (before any costly step).

    The subspace step needs :func:`~structsparse.sysid.subspace.min_samples`
    samples; the prediction-error refinement (Levenberg-Marquardt) needs at
    least as many output samples as unknowns (free entries plus the initial
    state).
    """
    from .subspace import min_samples

    need = min_samples(order, n_inputs, n_outputs)
    if n_samples < need:
        raise ParameterError(
            f"The 'order' parameter of identify: the data do not support order {order}: with {n_inputs} input(s) "
            f"and {n_outputs} output(s) a subspace estimate of that order needs at least {need} samples; got "
            f"{n_samples}. Use a lower order or more data.")
    if refine:
        n_free = pattern.n_free if pattern is not None else (
            order * (order + n_inputs + n_outputs) + (n_outputs * n_inputs if feedthrough else 0))
        unknowns = n_free + order
        if n_samples * n_outputs < unknowns:
            raise ParameterError(
                f"The 'order' parameter of identify: the data do not support order {order}: the prediction-error "
                f"fit has {unknowns} unknowns but only {n_samples * n_outputs} output samples. Use a lower order, "
                "more data, or a pattern with fewer free entries.")


def check_outputs_see_states(pattern, source):
    """Refuse a pattern whose C is fixed at zero: the outputs then see no state and every fit is meaningless."""
    if not pattern.masks["C"].any() and not np.any(pattern.values["C"]):
        raise ParameterError(
            f"{source}: C is fixed at zero (no free entry and no known nonzero value; a file saved without "
            "'values'?), so the outputs are cut off from the states and nothing is identifiable. Give C's known "
            "values or free entries.")


def _identify_io(u, y, n, pattern, feedthrough, dt, horizon, refine, n_starts, max_nfev, gen, check_ident):
    N, m = u.shape
    p = y.shape[1]
    pattern = _check_pattern(pattern, n, m, p)
    d_free = feedthrough if pattern is None else bool(pattern.masks["D"].any())
    sub = moesp(u, y, n, horizon=horizon, feedthrough=d_free)
    history = {"singular_values": sub.singular_values.tolist(), "horizon": sub.horizon}
    model0, x0 = sub.model, sub.x0
    A_st, changed = stabilize(model0.A)
    if changed:
        history["stabilized_subspace_model"] = True
        model0 = StateSpace(A_st, model0.B, model0.C, model0.D)
    y0 = model0.simulate(u, x0=x0).y
    ref_cost = _scaled_cost(y, y0)
    history["subspace_cost"] = ref_cost

    if pattern is None:
        full = Pattern.full(n, m, p, d_free)
        if not refine:
            model = StateSpace(*model0.matrices, dt=dt)
            return _finish(model, x0, u, y, full, "subspace", history)
        res = pem_refine(u, y, full, full.to_theta(*model0.matrices), x0, max_nfev=max_nfev)
        history.update(pem_cost=res.history["cost"], pem_message=res.message, pem_n_iter=res.n_iter)
        _warn_if_stopped(res, max_nfev)
        model = full.to_system(res.theta, dt=dt)
        return _finish(model, res.x0, u, y, full, "subspace+pem", history)

    ident = None
    if check_ident:
        ident = _identifiability(pattern, rng=gen)
        if not ident.identifiable:
            warnings.warn(
                f"identify: the pattern is not identifiable ({ident.n_unidentifiable} direction(s) of the free entries "
                "leave the input-output behaviour unchanged); the entries they move are arbitrary along them. "
                "See sysid.identifiability(pattern).", UserWarning, stacklevel=3)
    fits = fit_similarity(model0, pattern, n_starts=n_starts, rng=gen)
    history["similarity_residuals"] = [f.residual for f in fits]
    starts = []
    for f in fits:
        mt = model0.transform(f.T)
        theta = pattern.to_theta(*mt.matrices)
        starts.append(("similarity", theta, np.linalg.solve(f.T, x0)))
    best, tried = None, []

    def run(kind, theta, xs):
        A = pattern.to_matrices(theta)[0]
        if np.max(np.abs(np.linalg.eigvals(A))) >= 0.999:
            try:
                A = _shrink_free_part(A, pattern, 0.99)
            except ParameterError:
                return None
            theta = pattern.to_theta(A, *pattern.to_matrices(theta)[1:])
        res = pem_refine(u, y, pattern, theta, xs, max_nfev=max_nfev)
        tried.append({"start": kind, "cost": res.cost, "n_iter": res.n_iter})
        return res

    good = 1.5 * ref_cost + 1e-12
    for kind, theta, xs in starts:
        res = run(kind, theta, xs)
        if res is not None and (best is None or res.cost < best.cost):
            best = res
        if best is not None and best.cost <= good:
            break
    if best is None or best.cost > good:
        # fall back on random points of the pattern: no transform led to a fit as good as the subspace model's
        from .random import random_system

        for _ in range(min(n_starts, 10)):
            try:
                s = random_system(n, m, p, pattern=pattern, rng=gen, magnitude=(0.1, 1.0))
            except ParameterError:
                break
            res = run("random", pattern.to_theta(*s.matrices), np.zeros(n))
            if res is not None and (best is None or res.cost < best.cost):
                best = res
            if best is not None and best.cost <= good:
                break
    if best is None:
        raise ParameterError(
            "identify: no stable starting point of the pattern was found; the known values of A may be unstable."
        )
    history.update(starts=tried, pem_cost=best.history["cost"], pem_message=best.message)
    _warn_if_stopped(best, max_nfev)
    model = pattern.to_system(best.theta, dt=dt)
    return _finish(model, best.x0, u, y, pattern, "subspace+pem", history, ident)
