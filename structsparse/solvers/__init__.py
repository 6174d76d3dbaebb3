"""Solvers: all return a :class:`SolverResult`."""

from .fista import duality_gap, fista
from .result import SolverResult

__all__ = ["SolverResult", "fista", "duality_gap"]
