"""Discrete-time state-space models ``x[t+1] = A x[t] + B u[t] + w[t]``, ``y[t] = C x[t] + D u[t] + v[t]``.

Time series are arrays of shape ``(n_samples, n_channels)``.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _saving
from .._atomic import clean_stale_temporaries

from .._validation import check_array, check_rng, check_scalar
from ..exceptions import ParameterError, ShapeError
from ._io import read_json, write_json, write_npz
from ._kernels import propagate

__all__ = ["StateSpace", "SimulationResult", "check_signal"]

_FORMAT = "structsparse.sysid.StateSpace"
_IDENTIFIED = "structsparse.sysid.IdentifiedModel"


def check_signal(u, name, n_channels=None, owner=None):
    """Validate a time series ``(n_samples, n_channels)``; a 1-D array is one channel.

    NaN or infinite samples raise a ShapeError naming the argument and the
    first bad sample.
    """
    arr = check_array(u, name, ndim=(1, 2), finite=False, owner=owner)
    if arr.ndim == 1:
        arr = arr[:, None]
    bad = ~np.isfinite(arr)
    if bad.any():
        t, c = np.argwhere(bad)[0]
        where = f" of {owner}" if owner else ""
        raise ShapeError(
            f"The '{name}' parameter{where} contains {int(bad.sum())} NaN or infinite value(s), "
            f"the first at sample {t}, channel {c}. Remove or interpolate them first."
        )
    if n_channels is not None and arr.shape[1] != n_channels:
        where = f" of {owner}" if owner else ""
        raise ShapeError(
            f"The '{name}' parameter{where} must have {n_channels} channel(s) (columns). Got shape {arr.shape}."
        )
    return arr


@dataclass(frozen=True, repr=False)
class SimulationResult:
    """Outputs and states of a simulation.

    Attributes
    ----------
    y : ndarray, shape (n_samples, n_outputs)
        Outputs, with measurement noise when requested.
    x : ndarray, shape (n_samples, n_states)
        States ``x[t]`` at the same instants as ``y[t]`` (``x[0] = x0``).
    x_final : ndarray, shape (n_states,)
        The state after the last input sample.
    """

    y: np.ndarray
    x: np.ndarray
    x_final: np.ndarray

    def __repr__(self):
        return f"SimulationResult(n_samples={self.y.shape[0]}, n_outputs={self.y.shape[1]}, n_states={self.x.shape[1]})"


class StateSpace:
    """A discrete-time linear state-space model.

    Parameters
    ----------
    A : array_like, shape (n_states, n_states)
    B : array_like, shape (n_states, n_inputs)
    C : array_like, shape (n_outputs, n_states)
    D : array_like, shape (n_outputs, n_inputs), optional
        Zero when omitted.
    dt : float
        Sampling period (> 0), carried into conversions.

    Notes
    -----
    The matrices are copied and made read-only.
    """

    def __init__(self, A, B, C, D=None, dt=1.0):
        owner = "StateSpace"
        A = check_array(A, "A", ndim=2, owner=owner, copy=True)
        n = A.shape[0]
        if A.shape != (n, n):
            raise ShapeError(f"The 'A' matrix of StateSpace must be square. Got shape {A.shape}.")
        if n == 0:
            raise ShapeError("The 'A' matrix of StateSpace must have at least one state. Got shape (0, 0).")
        B = check_array(B, "B", ndim=(1, 2), owner=owner, copy=True)
        if B.ndim == 1:
            B = B[:, None]
        if B.shape[0] != n:
            raise ShapeError(
                f"The 'B' matrix of StateSpace must have {n} rows (one per state, as A is {n}x{n}). Got shape {B.shape}."
            )
        C = check_array(C, "C", ndim=(1, 2), owner=owner, copy=True)
        if C.ndim == 1:
            C = C[None, :]
        if C.shape[1] != n:
            raise ShapeError(
                f"The 'C' matrix of StateSpace must have {n} columns (one per state, as A is {n}x{n}). Got shape {C.shape}."
            )
        m, p = B.shape[1], C.shape[0]
        if D is None:
            D = np.zeros((p, m))
        D = check_array(D, "D", ndim=(0, 1, 2), owner=owner, copy=True)
        if D.ndim < 2:
            D = D.reshape(p, m) if D.size == p * m else D
        if D.shape != (p, m):
            raise ShapeError(
                f"The 'D' matrix of StateSpace must have shape ({p}, {m}) (outputs x inputs). Got shape {D.shape}."
            )
        for M in (A, B, C, D):
            M.setflags(write=False)
        self.A, self.B, self.C, self.D = A, B, C, D
        self.dt = check_scalar(dt, "dt", low=0, low_inclusive=False, owner=owner)

    # ------------------------------------------------------------------ sizes
    @property
    def n_states(self):
        return self.A.shape[0]

    @property
    def n_inputs(self):
        return self.B.shape[1]

    @property
    def n_outputs(self):
        return self.C.shape[0]

    @property
    def matrices(self):
        """``(A, B, C, D)``."""
        return self.A, self.B, self.C, self.D

    # ------------------------------------------------------------------ behaviour
    def simulate(self, u, x0=None, process_noise=0.0, measurement_noise=0.0, rng=None):
        """Simulate the model driven by ``u``.

        Parameters
        ----------
        u : array_like, shape (n_samples, n_inputs)
        x0 : array_like, shape (n_states,), optional
            Initial state (zero by default).
        process_noise, measurement_noise : float or array_like
            Standard deviation of the white Gaussian noise ``w`` added to the
            state update and ``v`` added to the outputs (a scalar, or one value
            per state / per output).
        rng : int or numpy.random.Generator, optional

        Returns
        -------
        SimulationResult
            ``y`` (n_samples, n_outputs), ``x`` (n_samples, n_states), ``x_final``.
        """
        owner = "StateSpace.simulate"
        u = check_signal(u, "u", self.n_inputs, owner=owner)
        n, T = self.n_states, u.shape[0]
        x0 = np.zeros(n) if x0 is None else check_array(x0, "x0", shape=(n,), owner=owner)
        w_std = _noise_std(process_noise, "process_noise", n, owner)
        v_std = _noise_std(measurement_noise, "measurement_noise", self.n_outputs, owner)
        gen = check_rng(rng)
        forcing = u @ self.B.T
        if np.any(w_std > 0):
            forcing = forcing + gen.standard_normal((T, n)) * w_std
        # one extra step gives the state after the last sample
        F = np.concatenate([forcing, np.zeros((1, n))])[:, :, None]
        X = propagate(self.A, F, x0[:, None])[:, :, 0]
        x, x_final = X[:T], X[T]
        y = x @ self.C.T + u @ self.D.T
        if np.any(v_std > 0):
            y = y + gen.standard_normal(y.shape) * v_std
        return SimulationResult(y=y, x=x, x_final=x_final.copy())

    def poles(self):
        """Eigenvalues of ``A``."""
        return np.linalg.eigvals(self.A)

    def spectral_radius(self):
        """Largest pole modulus."""
        return float(np.max(np.abs(self.poles()))) if self.n_states else 0.0

    def is_stable(self):
        """True when every pole lies strictly inside the unit circle."""
        return self.spectral_radius() < 1.0

    def markov_parameters(self, n_terms):
        """``[D, C B, C A B, ..., C A^(n_terms-2) B]``, shape (n_terms, n_outputs, n_inputs)."""
        out = np.empty((n_terms, self.n_outputs, self.n_inputs))
        if n_terms:
            out[0] = self.D
        AkB = self.B.copy()
        for k in range(1, n_terms):
            out[k] = self.C @ AkB
            AkB = self.A @ AkB
        return out

    def transform(self, T):
        """The equivalent model in coordinates ``x = T z``: ``(T^-1 A T, T^-1 B, C T, D)``."""
        T = check_array(T, "T", shape=(self.n_states, self.n_states), owner="StateSpace.transform")
        try:
            S = np.linalg.inv(T)
        except np.linalg.LinAlgError:
            raise ParameterError("The 'T' parameter of StateSpace.transform must be invertible.") from None
        return StateSpace(S @ self.A @ T, S @ self.B, self.C @ T, self.D, dt=self.dt)

    # ------------------------------------------------------------------ conversions
    def to_dlti(self):
        """The model as ``scipy.signal.dlti``."""
        from scipy.signal import dlti

        return dlti(self.A, self.B, self.C, self.D, dt=self.dt)

    def to_control(self):
        """The model as a python-control ``StateSpace`` (discrete time, same ``dt``).

        Raises
        ------
        ImportError
            When python-control is not installed.
        """
        try:
            import control
        except ImportError:
            raise ImportError(
                "StateSpace.to_control needs python-control, which is not installed. "
                "Install it with 'pip install control' (or the 'bench' extra of structsparse)."
            ) from None
        return control.ss(self.A, self.B, self.C, self.D, self.dt)

    def to_dict(self):
        """A JSON-ready dict (lists of lists)."""
        return {**_saving.header(_FORMAT), "dt": self.dt,
                **{k: M.tolist() for k, M in zip("ABCD", self.matrices)}}

    @classmethod
    def from_dict(cls, d, source="dict"):
        """Inverse of :meth:`to_dict`; errors name the ``source``."""
        if not isinstance(d, dict) or any(k not in d for k in "ABC"):
            raise ParameterError(f"{source} does not hold a state-space model (needs keys 'A', 'B', 'C').")
        n = len(d["A"])
        # empty B or C lists lose their shape in JSON; rebuild them from the sizes
        B = np.asarray(d["B"], dtype=float).reshape(n, -1) if n else np.zeros((0, 0))
        C = np.asarray(d["C"], dtype=float).reshape(-1, n) if n else np.zeros((0, 0))
        return cls(d["A"], B, C, d.get("D"), dt=d.get("dt", 1.0))

    def save(self, path):
        """Save to ``.json`` or ``.npz`` (chosen by the suffix), atomically.

        Both carry the kind (``"structsparse.sysid.StateSpace"``) and the format version; :meth:`load` reads them.
        """
        path = _saving.as_path(path, "StateSpace.save")
        if path.suffix == ".json":
            return write_json(path, self.to_dict())
        if path.suffix == ".npz":
            return write_npz(path, {**_saving.npz_header(_FORMAT), "A": self.A, "B": self.B, "C": self.C,
                                    "D": self.D, "dt": np.array(self.dt)})
        raise ParameterError(f"The 'path' of StateSpace.save must end in .json or .npz. Got '{path}'.")

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save` (or the model of an :class:`IdentifiedModel` file).

        Parameters
        ----------
        path : str or Path
            A ``.json`` or ``.npz`` file.

        Returns
        -------
        StateSpace

        Raises
        ------
        ParameterError
            When the file is missing or damaged, or holds another kind of object (the message names it).
        """
        path = _saving.as_path(path, "StateSpace.load")
        source = f"Model file '{path}'"
        if path.suffix == ".npz":
            clean_stale_temporaries(path)  # a save killed mid-write leaves one; the .json route cleans in read_json
            try:
                with np.load(path) as z:
                    if _saving.held_kind(z) != _IDENTIFIED:  # an IdentifiedModel file holds a StateSpace too
                        _saving.check_header(z, _FORMAT, source, required=False)
                    return cls(z["A"], z["B"], z["C"], z["D"], dt=float(z["dt"]))
            except FileNotFoundError:
                raise _saving.missing_file(path, "Model") from None
            except (KeyError, OSError, ValueError) as exc:
                if isinstance(exc, ParameterError):
                    raise
                raise ParameterError(f"Model file '{path}' is not a saved StateSpace: {exc}") from None
        d = read_json(path, "Model")
        if _saving.held_kind(d) == _IDENTIFIED or (isinstance(d, dict) and "format" not in d and "model" in d):
            d = d["model"]
        _saving.check_header(d, _FORMAT, source, required=False)
        return cls.from_dict(d, source=source)

    def __repr__(self):
        return (f"StateSpace(n_states={self.n_states}, n_inputs={self.n_inputs}, n_outputs={self.n_outputs}, "
                f"dt={self.dt:g}, stable={self.is_stable()})")


def _noise_std(value, name, size, owner):
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else None
    if arr is None or arr.ndim > 1 or (arr.ndim == 1 and arr.size != size):
        raise ParameterError(
            f"The '{name}' parameter of {owner} must be a non-negative scalar or {size} values. Got {value!r}."
        )
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError(f"The '{name}' parameter of {owner} must be finite and >= 0. Got {value!r}.")
    return np.broadcast_to(arr, (size,))
