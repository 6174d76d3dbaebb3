"""System identification under sparsity patterns.

Models ``x[t+1] = A x[t] + B u[t] + w``, ``y[t] = C x[t] + D u[t] + v``;
time series are arrays of shape ``(n_samples, n_channels)``.

* :class:`StateSpace`, :func:`random_system`: models, simulation, poles, conversions.
* :class:`Pattern`: free entries and known values of ``A, B, C, D`` (JSON files).
* :func:`identifiability`: is a pattern locally identifiable, and which entries are not.
* :func:`identify`: least squares or pattern discovery with measured states;
  subspace (PO-MOESP) plus structured prediction-error refinement from inputs and outputs.
* :mod:`~structsparse.sysid.metrics`: fit index, NRMSE, pole error, support scores.
* :mod:`~structsparse.sysid.plots`: patterns, outputs, poles, an identified model
  (also :meth:`IdentifiedModel.plot`).
"""

from ._warnings import OrderWarning, StabilityWarning
from .examples import example_network, example_system
from .identifiability import IdentifiabilityResult, identifiability, markov_jacobian
from .identify import IdentifiedModel, identify
from .metrics import fit_index, nrmse, pole_error, support_scores
from .pattern import Pattern
from .pem import pem_refine
from .random import random_pattern, random_system
from .similarity import fit_similarity
from .statespace import SimulationResult, StateSpace
from .subspace import moesp
from . import plots

__all__ = [
    "StateSpace",
    "SimulationResult",
    "random_system",
    "random_pattern",
    "Pattern",
    "identifiability",
    "IdentifiabilityResult",
    "markov_jacobian",
    "identify",
    "IdentifiedModel",
    "moesp",
    "pem_refine",
    "fit_similarity",
    "fit_index",
    "nrmse",
    "pole_error",
    "support_scores",
    "example_system",
    "example_network",
    "StabilityWarning",
    "OrderWarning",
    "plots",
]
