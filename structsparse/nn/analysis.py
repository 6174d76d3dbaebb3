"""What a network costs and what its pruning did: FLOPs, parameters, memory,
sensitivity to pruning, SE gate statistics and DenseNet connections."""

from dataclasses import dataclass

import numpy as np

from .._validation import check_array, check_int
from ..exceptions import ParameterError, ParameterTypeError, ShapeError
from ._results import DictAccessMixin
from .network import INPUT, Graph
from .surgery import apply_plan, plan_pruning

__all__ = ["flops", "count_params", "memory", "MemoryReport", "sensitivity", "gate_statistics", "connection_graph",
           "layer_flops"]


def _check_net(net, owner):
    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of {owner} must be a structsparse.nn Graph. Got {type(net).__name__}.")


def layer_flops(net):
    """``{node: FLOPs per sample}`` (a multiply-add counts 2).

    Parameters
    ----------
    net : Graph
        A built network.

    Returns
    -------
    dict
        Node name -> FLOPs (int) of one forward pass of one sample through
        that node's layer, for every node in topological order.
    """
    _check_net(net, "layer_flops")
    return {n.name: int(n.layer.flops()) for n in net.nodes}


def flops(net, input_shape=None, per_layer=False):
    """FLOPs of one forward pass of one sample.

    Parameters
    ----------
    net : Graph
    input_shape : tuple, optional
        Per-sample input shape; must match the network's (the layers are
        shape-specific); checked when given.
    per_layer : bool
        Also return the per-node breakdown.
    """
    _check_net(net, "flops")
    if input_shape is not None and tuple(input_shape) != net.original_input_shape:
        raise ShapeError(f"The 'input_shape' parameter of flops must be {net.original_input_shape} for this network. "
                         f"Got {tuple(input_shape)}.")
    per = layer_flops(net)
    total = int(sum(per.values()))
    return (total, per) if per_layer else total


def count_params(net):
    """Number of trainable parameters.

    Parameters
    ----------
    net : Graph
        A built network.

    Returns
    -------
    int
        Total number of scalars in the layers' trainable arrays (batch-norm
        running statistics excluded).
    """
    _check_net(net, "count_params")
    return net.n_params


@dataclass(frozen=True, repr=False)
class MemoryReport(DictAccessMixin):
    """Bytes a forward pass needs (from :func:`memory`).

    Attributes
    ----------
    params : int
        Bytes of the trainable parameters.
    state : int
        Bytes of the batch-norm statistics.
    peak_activations : int
        Peak bytes of the live activations (im2col patches included).
    total : int
        ``params + state + peak_activations``.
    batch : int
        The batch size the activations were counted for.
    """

    params: int
    state: int
    peak_activations: int
    total: int
    batch: int = 1

    def __repr__(self):
        return (f"MemoryReport(batch={self.batch}, params={self.params} B, state={self.state} B, "
                f"peak_activations={self.peak_activations} B, total={self.total} B)")


def memory(net, batch=1, dtype_bytes=4):
    """Bytes of parameters and peak activations for a forward pass of ``batch`` samples.

    The peak is found by walking the nodes in order and freeing each
    activation after its last reader (in-place layers are not assumed). A
    convolution also counts its im2col patch matrix while it runs.

    Parameters
    ----------
    net : Graph
        A built network.
    batch : int, default 1
        Number of samples in the forward pass (at least 1); scales the
        activations only.
    dtype_bytes : int, default 4
        Bytes per activation entry (4 for float32, 8 for float64). Parameter
        and state bytes are the arrays' actual sizes.

    Returns
    -------
    MemoryReport
        ``params``, ``state``, ``peak_activations``, ``total`` (bytes).
    """
    _check_net(net, "memory")
    batch = check_int(batch, "batch", low=1, owner="memory")
    last_use = {INPUT: -1}
    for k, n in enumerate(net.nodes):
        last_use.setdefault(n.name, k)
        for i in n.inputs:
            last_use[i] = k
    last_use[net.output] = len(net.nodes)
    size = {INPUT: int(np.prod(net.input_shape)) * batch * dtype_bytes}
    live = {INPUT: size[INPUT]}
    peak = sum(live.values())
    for k, n in enumerate(net.nodes):
        size[n.name] = int(np.prod(net.shape_of(n.name))) * batch * dtype_bytes
        extra = 0
        if n.layer.kind == "conv2d":  # the im2col patch matrix exists during the product
            ho, wo, _ = n.layer.output_shape
            extra = ho * wo * n.layer.kernel_size ** 2 * n.layer.input_shape[2] * batch * dtype_bytes
        live[n.name] = size[n.name]
        peak = max(peak, sum(live.values()) + extra)
        for name in list(live):
            if last_use.get(name, k) <= k and name != net.output:
                del live[name]
    params = sum(v.nbytes for _, _, v in net.parameters())
    state = sum(v.nbytes for n in net.nodes for v in n.layer.state.values())
    return MemoryReport(params=int(params), state=int(state), peak_activations=int(peak),
                        total=int(params + state + peak), batch=batch)


def sensitivity(net, X, y, ratios=(0.25, 0.5, 0.75), layers=None):
    """Accuracy when a fraction of the smallest units of one layer at a time is removed.

    For every ``Dense``/``Conv2D`` layer (except the output) and every ratio,
    the units with the smallest parameter norms are dropped by surgery (the
    rest of the network untouched, no fine-tuning) and the accuracy on
    ``(X, y)`` recorded.

    Parameters
    ----------
    net : Graph
        A built (trained) network; not modified.
    X : array_like, shape (n_samples, *input_shape)
        Evaluation inputs, in the network's original input shape.
    y : array_like of int, shape (n_samples,)
        Class labels in ``[0, n_classes)``.
    ratios : array_like of float, default (0.25, 0.5, 0.75)
        Fractions of a layer's units to remove, each in [0, 1); a ratio
        ``r`` drops ``floor(r * n_units)`` units.
    layers : collection of str, optional
        Only these producer nodes; all hidden ``Dense``/``Conv2D`` layers by
        default.

    Returns
    -------
    dict
        ``{layer: [accuracy at each ratio]}`` plus ``"ratios"`` and ``"baseline"``.
    """
    _check_net(net, "sensitivity")
    X = net.check_input(X, "X", "sensitivity")
    from .training import check_labels

    y = check_labels(y, X.shape[0], net.output_shape[-1], "sensitivity")
    ratios = check_array(ratios, "ratios", ndim=1, owner="sensitivity")
    if np.any((ratios < 0) | (ratios >= 1)):
        raise ParameterError(f"The 'ratios' parameter of sensitivity must lie in [0, 1). Got {ratios.tolist()}.")
    out = {"ratios": ratios.tolist(), "baseline": net.score(X, y)}
    for n in net.nodes:
        if n.layer.role != "producer" or n.name == net.output or (layers is not None and n.name not in layers):
            continue
        accs = []
        imp = n.layer.channel_importance()
        for r in ratios:
            k = int(np.floor(r * imp.size))
            drop = np.argsort(imp, kind="stable")[:k]
            trial = net.copy()
            layer = trial.node(n.name).layer
            layer.params["W"][..., drop] = 0
            layer.params["b"][drop] = 0
            keep_mask = np.ones(imp.size, bool)
            keep_mask[drop] = False
            # units zeroed here may still feed batch norms with a shift; surgery keeps the function exact
            plan = plan_pruning(trial, 0.0, 1)
            accs.append(apply_plan(trial, plan).score(X, y))
        out[n.name] = accs
    return out


def gate_statistics(net, X, threshold=0.05, batch_size=512):
    """Mean and maximum of every SE gate over ``X``, and the channels it keeps near zero.

    Parameters
    ----------
    net : Graph
        A built network with at least one ``SqueezeExcite`` layer.
    X : array_like, shape (n_samples, *input_shape)
        Inputs, in the network's original input shape.
    threshold : float, default 0.05
        A channel whose largest gate value over ``X`` is below this is
        reported in ``near_zero``.
    batch_size : int, default 512
        Samples per forward pass (bounds the memory used).

    Returns
    -------
    dict
        ``{se_node: {"mean": array, "max": array, "near_zero": indices with max gate < threshold}}``.
    """
    _check_net(net, "gate_statistics")
    X = net.check_input(X, "X", "gate_statistics")
    gates = [n for n in net.nodes if n.layer.kind == "squeeze_excite"]
    if not gates:
        raise ParameterError("gate_statistics: the network has no SqueezeExcite gate.")
    sums = {n.name: 0.0 for n in gates}
    maxs = {n.name: None for n in gates}
    for i in range(0, len(X), batch_size):
        xb = X[i:i + batch_size]
        if net.input_index is not None:
            xb = xb[..., net.input_index]
        acts = {INPUT: xb}
        for n in net.nodes:
            args = [acts[j] for j in n.inputs]
            if n.layer.kind == "squeeze_excite":
                g, _ = n.layer.gate(args[0])
                sums[n.name] = sums[n.name] + g.sum(axis=0)
                m = g.max(axis=0)
                maxs[n.name] = m if maxs[n.name] is None else np.maximum(maxs[n.name], m)
            acts[n.name] = n.layer.forward(args if n.layer.n_inputs is None else args[0])
    out = {}
    for n in gates:
        mean = np.asarray(sums[n.name]) / len(X)
        out[n.name] = {"mean": mean, "max": maxs[n.name],
                       "near_zero": np.flatnonzero(maxs[n.name] < threshold)}
    return out


def connection_graph(net):
    """Which layers of each DenseNet block still feed which.

    Parameters
    ----------
    net : Graph
        A network with at least one :func:`~structsparse.nn.dense_block`
        (typically after pruning by ``"connections"``).

    Returns
    -------
    dict
        ``{block: {layer conv node: {source: number of channels read}}}``;
        a source that no longer appears is a removed connection.
    """
    _check_net(net, "connection_graph")
    blocks = [b for b in net.blocks if b["type"] == "dense"]
    if not blocks:
        raise ParameterError("connection_graph: the network has no DenseNet block.")
    names = {n.name for n in net.nodes}
    out = {}
    for blk in blocks:
        layers = {}
        for lay in blk["layers"]:
            if lay["conv"] not in names:
                continue
            cat = net.node(lay["concat"])
            widths = cat.layer._widths(cat.layer.input_shape)
            layers[lay["conv"]] = {src: int(w) for src, w in zip(cat.inputs, widths) if w > 0}
        if blk["concat"] in names:
            cat = net.node(blk["concat"])
            layers["output"] = {src: int(w) for src, w in zip(cat.inputs, cat.layer._widths(cat.layer.input_shape))}
        out[blk["name"]] = layers
    return out
