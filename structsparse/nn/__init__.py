"""Neural-network pruning with structured penalties, in numpy (no torch)."""
from .layers import (AvgPool2D, BatchNorm, Concat, Conv2D, Dense, Flatten, GlobalAvgPool2D, Layer, MaxPool2D,
                     ReLU, SqueezeExcite)
from .network import Graph, Node, Sequential, dense_block, inception
from .groups import GroupMap, NetworkPenalty, groups
from .training import accuracy, lam_warmup, softmax_cross_entropy, train
from .models import block_net, load_digits_split, mlp, small_cnn
from .surgery import plan_pruning, prune
