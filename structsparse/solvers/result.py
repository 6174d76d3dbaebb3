"""The one result type every solver returns."""

import warnings
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SolverResult", "FrozenResult"]


class FrozenResult:
    """Base of the solver layer's results: read-only once built.

    Setting or deleting a field of a built result still works in this
    release, with a ``DeprecationWarning``; from 0.3 it raises, as a frozen
    dataclass does. Build a changed copy with ``dataclasses.replace(result,
    field=value)``.
    """

    def __post_init__(self):
        object.__setattr__(self, "_built", True)

    def __setattr__(self, name, value):
        if self.__dict__.get("_built", False):
            warnings.warn(f"{type(self).__name__} is read-only: setting {name!r} is deprecated and raises from 0.3; "
                          f"use dataclasses.replace(result, {name}=...).", DeprecationWarning, stacklevel=2)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if self.__dict__.get("_built", False):
            warnings.warn(f"{type(self).__name__} is read-only: deleting {name!r} is deprecated and raises from 0.3.",
                          DeprecationWarning, stacklevel=2)
        object.__delattr__(self, name)


@dataclass
class SolverResult(FrozenResult):
    """Outcome of a solver run.

    Attributes
    ----------
    x : ndarray
        The solution (same shape as the unknown).
    objective : float
        Objective value at ``x``.
    n_iter : int
        Iterations performed.
    converged : bool
        True only when the stopping criterion was met; False when the solver
        stopped at ``max_iter``, was stopped by a callback, or failed.
    gap : float or None
        Duality gap at ``x`` where the solver can compute one.
    history : dict of lists
        Per-iteration records (at least ``"objective"``).
    time : float
        Wall-clock seconds spent in the solver.
    solver : str
        Which solver produced it.
    message : str
        Why it stopped, in words.
    """

    x: np.ndarray
    objective: float
    n_iter: int
    converged: bool
    gap: float | None = None
    history: dict = field(default_factory=dict)
    time: float = 0.0
    solver: str = ""
    message: str = ""

    def __repr__(self):
        gap = "n/a" if self.gap is None else f"{self.gap:.3e}"
        return (f"SolverResult(solver={self.solver!r}, objective={self.objective:.10g}, n_iter={self.n_iter}, "
                f"converged={self.converged}, gap={gap}, time={self.time:.4f}s, message={self.message!r})")
