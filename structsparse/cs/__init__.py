"""Compressive sensing with structured sparsity (model-based CS).

Operators (:func:`gaussian`, :func:`bernoulli`, :func:`partial_dct`,
:func:`wavelet_synthesis`; for images :func:`partial_fourier`,
:func:`partial_dct2`, :func:`wavelet_synthesis2d` and sampling masks),
signal models (:class:`Sparse`, :class:`BlockSparse`, :class:`TreeSparse`,
:class:`TreeSparse2D`, :class:`BlockSparse2D`), recovery (:func:`recover`;
parameters chosen from the measurements by :func:`select_by_holdout`),
model-based RIP lower bounds (:func:`rip_estimate`), phase transitions
(:func:`phase_transition`, a :class:`PhaseTable`) and their figures
(:mod:`structsparse.cs.plots`; the results also have ``.plot()``).
"""

from .fourier import (PartialDCT2, PartialFourier, mask_cartesian, mask_radial, mask_variable_density,
                      partial_dct2, partial_fourier)
from .data import load_image, load_signal
from .metrics import psnr, ssim, ssim_map
from .real import RealProblem, best_k_term_error, best_tree_error, make_problem
from .models import BlockSparse, BlockSparse2D, SignalModel, Sparse, TreeSparse, TreeSparse2D
from .phase import PhaseTable, SerialExecutor, load_table, phase_transition, success_rates, transition_point
from .recovery import METHODS, RecoveryResult, recover
from .holdout import HoldoutSelection, row_subset, select_by_holdout
from .rip import RipEstimate, rip_estimate
from .operators import (DenseOperator, WaveletSynthesis, as_matrix, bernoulli, columns, dottest, gaussian,
                        partial_dct, wavelet_synthesis, wavelet_synthesis2d, WaveletSynthesis2D)
from . import plots

__all__ = [
    "gaussian", "bernoulli", "partial_dct", "wavelet_synthesis", "WaveletSynthesis", "DenseOperator",
    "dottest", "as_matrix", "columns",
    "SignalModel", "Sparse", "BlockSparse", "TreeSparse", "TreeSparse2D", "BlockSparse2D",
    "wavelet_synthesis2d", "WaveletSynthesis2D",
    "partial_fourier", "PartialFourier", "partial_dct2", "PartialDCT2",
    "mask_variable_density", "mask_radial", "mask_cartesian",
    "load_signal", "load_image", "make_problem", "RealProblem", "best_k_term_error", "best_tree_error",
    "psnr", "ssim", "ssim_map",
    "recover", "RecoveryResult", "METHODS", "select_by_holdout", "HoldoutSelection", "row_subset",
    "rip_estimate", "RipEstimate",
    "phase_transition", "PhaseTable", "success_rates", "transition_point", "load_table", "SerialExecutor",
    "statdim_l1", "statdim_group", "predicted_threshold",
    "plots",
]


# The statistical dimensions load on first use: their module imports scipy.stats, scipy.optimize and
# scipy.integrate (about 1.4 s and 40 MB), which nothing else in ``cs`` needs.
_LAZY = {"statdim_l1": "statdim", "statdim_group": "statdim", "predicted_threshold": "statdim"}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
