"""Data-fit terms."""

from .least_squares import LeastSquares

__all__ = ["LeastSquares"]
