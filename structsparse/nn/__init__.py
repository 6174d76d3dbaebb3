"""Neural-network pruning with structured penalties, in numpy (no torch).

Layers (NHWC, float32) with forward and backward passes, graph networks with
Inception, DenseNet and squeeze-and-excitation blocks, proximal training with
the group penalties of the solver layer, exact structural surgery into
smaller dense networks, FLOPs budgets and measured speedups (onnxruntime as
the judge), ONNX import and export (:func:`from_onnx`, :func:`to_onnx`,
:func:`prune_onnx`) and baselines at equal FLOPs (:mod:`.baselines`).
"""

from .._validation import check_options
from .analysis import (MemoryReport, connection_graph, count_params, flops, gate_statistics, layer_flops, memory,
                       sensitivity)
from .baselines import BaselineResult, allocate_budget
from .budget import ProgressiveResult, PruneResult, min_flops, prune_progressive, prune_to_budget
from .groups import GROUP_KINDS, PENALTY_KINDS, GroupMap, NetworkPenalty, check_penalty_kind, groups, unit_flops
from .io import load, save
from .layers import (Add, AvgPool2D, BatchNorm, Concat, Conv2D, Dense, Flatten, GlobalAvgPool2D, Layer, MaxPool2D,
                     ReLU, SqueezeExcite)
from .models import ARCHITECTURES, augment_images, block_net, load_digits_split, load_digits_splits, mlp, small_cnn
from .onnx_io import from_onnx, to_onnx
from .onnx_prune import OnnxPruneResult, prune_onnx
from .profile import ProfileResult, profile
from .quantize import QuantizedNet, price_weights, quantize, unit_params, weight_bytes
from ._rounding import round_prune
from .recipe import Recipe, RecipeError, apply_recipe, data_fingerprint, load_recipe, make_recipe, model_hash, save_recipe
from .network import Graph, Node, Sequential, dense_block, inception
from .speed import SpeedupResult, fold_batchnorm, speedup
from .surgery import plan_pruning, prune
from .training import TrainHistory, accuracy, distillation_loss, lam_warmup, softmax_cross_entropy, train
from . import plots  # noqa: E402  (matplotlib is imported by the plot functions only, when they run)


def penalty(net, by="filters", kind="group_lasso", lam=1e-3, layers=None, weights="sqrt_size", **kwargs):
    """Shortcut: ``NetworkPenalty(groups(net, by, layers=layers, weights=weights), kind, lam, **kwargs)``.

    Biases and batch-norm parameters join the neuron/filter groups (so a zero
    group gives an exactly zero output), except for ``kind="group_nuclear"``
    with ``by`` other than ``"channels"``, which needs pure weight matrices.

    Parameters
    ----------
    net : Graph
        The built network to penalise.
    by : {"neurons", "filters", "channels", "branches", "connections"}, default "filters"
        Kind of prunable unit; see :func:`groups`.
    kind : {"group_lasso", "sparse_group_lasso", "group_nuclear"} or callable, default "group_lasso"
        Penalty on each group map, by ``penalty.name``; see :class:`NetworkPenalty`
        (the old ``"sparse_group"`` works one release, with a DeprecationWarning).
    lam : float, default 1e-3
        Regularisation strength (>= 0).
    layers : list of str, optional
        Restrict the groups to these nodes or blocks; see :func:`groups`.
    weights : "sqrt_size", "flops", None or callable, default "sqrt_size"
        Group weights; see :func:`groups`.
    **kwargs
        Passed to :class:`NetworkPenalty` (``l1_ratio``, ``rank_weight``); any
        other key raises :class:`~structsparse.ParameterError` naming it.

    Returns
    -------
    NetworkPenalty
    """
    check_options("penalty", kwargs, ("l1_ratio", "rank_weight"), target="NetworkPenalty")
    kind = check_penalty_kind(kind, "kind", "penalty")
    include_bias = kind != "group_nuclear" or by in ("channels",)
    maps = groups(net, by=by, layers=layers, include_bias=include_bias, weights=weights)
    return NetworkPenalty(maps, kind=kind, lam=lam, **kwargs)


__all__ = [
    "Layer", "Dense", "Conv2D", "ReLU", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "Flatten", "BatchNorm",
    "SqueezeExcite", "Concat", "Add", "Graph", "Node", "Sequential", "inception", "dense_block",
    "groups", "GroupMap", "NetworkPenalty", "GROUP_KINDS", "PENALTY_KINDS", "penalty", "unit_flops",
    "train", "TrainHistory", "lam_warmup", "softmax_cross_entropy", "distillation_loss", "accuracy",
    "prune", "plan_pruning", "prune_to_budget", "PruneResult", "prune_progressive", "ProgressiveResult",
    "allocate_budget", "BaselineResult", "min_flops",
    "flops", "layer_flops", "count_params", "memory", "MemoryReport", "sensitivity", "gate_statistics",
    "connection_graph", "speedup", "SpeedupResult", "fold_batchnorm", "save", "load", "from_onnx", "to_onnx", "prune_onnx", "OnnxPruneResult",
    "quantize", "QuantizedNet", "weight_bytes", "unit_params", "price_weights", "round_prune", "profile", "ProfileResult",
    "Recipe", "RecipeError", "apply_recipe", "make_recipe", "save_recipe", "load_recipe", "model_hash", "data_fingerprint",
    "load_digits_split", "load_digits_splits", "augment_images", "small_cnn", "mlp", "block_net", "ARCHITECTURES",
    "plots",
]
