"""Solvers: all return a :class:`SolverResult`."""

from .result import SolverResult

__all__ = ["SolverResult"]
