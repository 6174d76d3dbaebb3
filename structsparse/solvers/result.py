"""The one result type every solver returns."""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["SolverResult"]


@dataclass
class SolverResult:
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
