"""Datafits ``F(A x)``: least squares, logistic, Huber and Poisson, one file each, and their registry."""

from .base import Datafit, check_design
from .huber import Huber
from .least_squares import LeastSquares
from .logistic import Logistic
from .poisson import Poisson
from .registry import DATAFIT_NAMES, DATAFIT_REGISTRY, datafit_names, random_datafit, register_datafit

__all__ = ["Datafit", "LeastSquares", "Logistic", "Huber", "Poisson", "check_design",
           "DATAFIT_REGISTRY", "DATAFIT_NAMES", "datafit_names", "random_datafit", "register_datafit"]
