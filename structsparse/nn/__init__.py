"""Neural-network pruning with structured penalties, in numpy (no torch).

Layers (NHWC, float32) with forward and backward passes, graph networks with
Inception, DenseNet and squeeze-and-excitation blocks, proximal training with
the group penalties of the solver layer, exact structural surgery into
smaller dense networks, FLOPs budgets and measured speedups.
"""

from .analysis import connection_graph, count_params, flops, gate_statistics, layer_flops, memory, sensitivity
from .budget import min_flops, prune_to_budget
from .groups import GROUP_KINDS, GroupMap, NetworkPenalty, groups, unit_flops
from .io import load, save
from .layers import (AvgPool2D, BatchNorm, Concat, Conv2D, Dense, Flatten, GlobalAvgPool2D, Layer, MaxPool2D,
                     ReLU, SqueezeExcite)
from .models import ARCHITECTURES, block_net, load_digits_split, mlp, small_cnn
from .network import Graph, Node, Sequential, dense_block, inception
from .speed import fold_batchnorm, speedup
from .surgery import plan_pruning, prune
from .training import accuracy, lam_warmup, softmax_cross_entropy, train


def penalty(net, by="filters", kind="group_lasso", lam=1e-3, layers=None, weights="sqrt_size", **kwargs):
    """Shortcut: ``NetworkPenalty(groups(net, by, layers=layers, weights=weights), kind, lam, **kwargs)``."""
    include_bias = kind != "group_nuclear" or by in ("channels",)
    maps = groups(net, by=by, layers=layers, include_bias=include_bias, weights=weights)
    return NetworkPenalty(maps, kind=kind, lam=lam, **kwargs)


__all__ = [
    "Layer", "Dense", "Conv2D", "ReLU", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D", "Flatten", "BatchNorm",
    "SqueezeExcite", "Concat", "Graph", "Node", "Sequential", "inception", "dense_block",
    "groups", "GroupMap", "NetworkPenalty", "GROUP_KINDS", "penalty", "unit_flops",
    "train", "lam_warmup", "softmax_cross_entropy", "accuracy",
    "prune", "plan_pruning", "prune_to_budget", "min_flops",
    "flops", "layer_flops", "count_params", "memory", "sensitivity", "gate_statistics", "connection_graph",
    "speedup", "fold_batchnorm", "save", "load",
    "load_digits_split", "small_cnn", "mlp", "block_net", "ARCHITECTURES",
]
