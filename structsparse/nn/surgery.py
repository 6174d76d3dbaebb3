"""Physical surgery: remove zero groups and everything that depends on them.

The plan works on the output channels of every node (the last axis):

1. *Dead* channels (forward, topological order) are zero for every input:
   a ``Dense``/``Conv2D`` unit whose weights from live inputs and bias are
   zero, a batch-norm channel with ``gamma = beta = 0`` (or a dead input and
   no shift), and whatever ReLU, pooling, the SE gate, ``Flatten`` and
   ``Concat`` pass on from dead channels.
2. *Requested* channels (backward): the output is requested whole; a
   ``Dense``/``Conv2D`` requests the input channels with nonzero weights into
   its live requested outputs; channelwise layers request what is requested
   of them and not dead; the SE gate also requests the channels its squeeze
   reads; a ``Concat`` splits its request among its inputs.
   Requests already leave out dead channels wherever zero contributes
   nothing (dense and conv weights, the gate); a batch norm that maps a zero
   channel to a nonzero constant still requests it.
3. *Kept* channels (forward): a producer keeps its requested units;
   channelwise layers keep what reaches them; a ``Concat`` keeps only the
   requested channels of each input, which is how one DenseNet connection
   disappears while its source still feeds later layers.
4. ``min_keep``: a layer that would read an empty input (the network would
   fall apart) is given back its ``min_keep`` most important input channels,
   and every producer that survives keeps at least ``min_keep`` units; a
   pathway feeding only a concatenation may go entirely.

Every removed channel is either identically zero or read only through zero
weights, so with ``tol=0`` the pruned network computes the same function
(to float32 rounding). Removed input channels of the network itself are
handled by an input selection (``Graph.input_index``).
"""

import numpy as np

from .._validation import check_int, check_scalar
from ..exceptions import ParameterError, ParameterTypeError, StructureError
from .layers import Concat
from .network import INPUT, Graph, Node

__all__ = ["prune", "plan_pruning", "apply_plan", "kept_units", "source_keep"]


def _input_shapes(net, node):
    return [net.shape_of(i) for i in node.inputs]


def _dead_masks(net, tol):
    dead = {INPUT: np.zeros(net.input_shape[-1], dtype=bool)}
    for n in net.nodes:
        if n.layer.role in ("concat", "add"):
            dead[n.name] = n.layer.dead_out_multi([dead[i] for i in n.inputs])
        else:
            dead[n.name] = n.layer.dead_out(dead[n.inputs[0]], tol)
    return dead


def _backward(net, dead, must, tol):
    """Requested channels of every node, and must-keep channels pushed back to producers."""
    req = {INPUT: np.zeros(net.input_shape[-1], dtype=bool)}
    for n in net.nodes:
        req[n.name] = np.zeros(net.shape_of(n.name)[-1], dtype=bool)
    req[net.output][:] = True
    must = {k: v.copy() for k, v in must.items()}
    for n in reversed(net.nodes):
        layer, r, m = n.layer, req[n.name] | must[n.name], must[n.name]
        d = dead[n.name] & ~m
        if layer.role in ("concat", "add"):
            reqs = layer.request_in_multi(r, d)
            musts = layer.request_in_multi(m, np.zeros_like(m))
        else:
            din = dead[n.inputs[0]]
            reqs = [layer.request_in(r, d, din, tol)]
            if layer.role == "producer":
                musts = [np.zeros_like(din)]
            elif layer.role == "flatten":
                musts = [m.reshape(-1, din.size).any(axis=0)]
            elif layer.role == "gate":
                mi = np.zeros_like(din)
                mi[np.arange(din.size) if layer.out_index is None else layer.out_index] = m
                musts = [mi]
            else:
                musts = [m.copy()]
        for i, ri, mi in zip(n.inputs, reqs, musts):
            req[i] |= ri
            must[i] |= mi
    return req, must


def _forward_keep(net, dead, req, must):
    keep = {INPUT: req[INPUT] | must[INPUT]}
    for n in net.nodes:
        layer, name = n.layer, n.name
        r, m = req[name], must[name]
        if layer.role == "producer":
            keep[name] = r | m
        elif layer.role == "concat":
            parts = []
            want = r | m
            for k, (inp, part) in enumerate(zip(n.inputs, layer._split(want))):
                sel = None if layer.select is None else layer.select[k]
                avail = keep[inp] if sel is None else keep[inp][sel]
                parts.append(avail & part)
            keep[name] = np.concatenate(parts)
        elif layer.role == "add":
            # a sum keeps a channel only where every input still carries it (they all were requested)
            want = r | m
            for k, inp in enumerate(n.inputs):
                sel = None if layer.select is None else layer.select[k]
                want = want & (keep[inp] if sel is None else keep[inp][sel])
            keep[name] = want
        elif layer.role == "flatten":
            keep[name] = layer.tile(keep[n.inputs[0]])
        elif layer.role == "gate":
            kin = keep[n.inputs[0]]
            avail = kin if layer.out_index is None else kin[layer.out_index]
            keep[name] = avail & (r | m)
        else:
            keep[name] = keep[n.inputs[0]].copy()
    return keep


def _importance_of_inputs(layer, width):
    """How much a layer uses each of its input channels (for choosing what min_keep restores)."""
    w = layer.params.get("W")
    if w is None or layer.kind not in ("dense", "conv2d"):
        return np.zeros(width)
    a = np.abs(w.astype(np.float64))
    return a.sum(axis=1) if w.ndim == 2 else a.sum(axis=(0, 1, 3))


def _top(mask_free, score, k):
    """Indices of the ``k`` best-scoring entries among ``mask_free`` (ties: lowest index)."""
    idx = np.flatnonzero(mask_free)
    order = np.lexsort((idx, -score[idx]))
    return idx[order[:k]]


def plan_pruning(net, tol=0.0, min_keep=1, protect=None):
    """Kept channels of every node after removing zero groups.

    Parameters
    ----------
    net : Graph
    tol : float >= 0
        A group whose Euclidean norm is at most ``tol`` counts as zero.
    min_keep : int >= 1
        Smallest number of units a surviving layer keeps.
    protect : dict, optional
        ``{node: bool mask}`` of output channels to keep whatever their weights.

    Returns
    -------
    dict
        ``keep``: node -> bool mask over its output channels (``"input"`` included).
    """
    tol = check_scalar(tol, "tol", low=0, owner="prune")
    min_keep = check_int(min_keep, "min_keep", low=1, owner="prune")
    for node, pname, p in net.parameters():
        if not np.all(np.isfinite(p)):
            raise ParameterError(f"prune: parameter {node}.{pname} contains NaN or inf.")
    dead = _dead_masks(net, tol)
    must = {INPUT: np.zeros(net.input_shape[-1], dtype=bool)}
    for n in net.nodes:
        must[n.name] = np.zeros(net.shape_of(n.name)[-1], dtype=bool)
    must[net.output][:] = True
    for name, mask in (protect or {}).items():
        must[name] |= np.asarray(mask, dtype=bool)
    for _ in range(4 * len(net.nodes) + 8):
        req, pushed = _backward(net, dead, must, tol)
        keep = _forward_keep(net, dead, req, pushed)
        changed = False
        for n in net.nodes:
            if not keep[n.name].any():
                continue
            for inp in n.inputs if n.layer.role not in ("concat", "add") else []:
                if not keep[inp].any():  # this layer would read nothing: give it back its best inputs
                    width = keep[inp].size
                    chosen = _top(np.ones(width, bool), _importance_of_inputs(n.layer, width), min(min_keep, width))
                    must[inp][chosen] = True
                    changed = True
            if n.layer.role == "concat" and not any(keep[i].any() for i in n.inputs):
                must[n.inputs[0]][0] = True
                changed = True
            if n.layer.role == "producer" and n.name != net.output:
                k = keep[n.name]
                need = min(min_keep, k.size) - int(k.sum())
                if need > 0:
                    chosen = _top(~k, n.layer.channel_importance(), need)
                    must[n.name][chosen] = True
                    changed = True
        if not changed:
            return {"keep": keep, "dead": dead, "tol": tol, "min_keep": min_keep}
    raise StructureError("prune: the pruning plan did not settle; please report this network.")  # pragma: no cover


def apply_plan(net, plan):
    """Build the smaller network that a plan describes."""
    keep = plan["keep"]
    new = Graph(net.original_input_shape)
    kin = keep[INPUT]
    base = np.arange(net.input_shape[-1]) if net.input_index is None else net.input_index
    new.input_index = None if kin.all() and net.input_index is None else base[kin].copy()
    new._shapes[INPUT] = tuple(net.input_shape[:-1]) + (int(kin.sum()),)
    alive = {INPUT}
    for n in net.nodes:
        layer = n.layer
        if not keep[n.name].any():
            continue
        if layer.role == "concat":
            inputs, select = [], []
            for k, (inp, part) in enumerate(zip(n.inputs, layer._split(keep[n.name]))):
                if not part.any() or inp not in alive:
                    continue
                sel = np.arange(keep[inp].size) if layer.select is None or layer.select[k] is None else layer.select[k]
                chosen = sel[part]                           # channels of the old input
                positions = np.searchsorted(np.flatnonzero(keep[inp]), chosen)
                inputs.append(inp)
                width = int(keep[inp].sum())
                select.append(None if len(positions) == width else positions)
            new_layer = Concat(None if all(s is None for s in select) else select)
            new_layer.input_shape = [new.shape_of(i) for i in inputs]
            new_layer.output_shape = new_layer._output_shape(new_layer.input_shape)
        elif layer.role == "add":
            inputs, select = list(n.inputs), []
            for k, inp in enumerate(inputs):
                if inp not in alive:
                    raise StructureError(f"prune: node {n.name!r} lost its input {inp!r}.")  # pragma: no cover
                sel = np.arange(keep[inp].size) if layer.select is None or layer.select[k] is None else layer.select[k]
                chosen = sel[keep[n.name]]
                positions = np.searchsorted(np.flatnonzero(keep[inp]), chosen)
                width = int(keep[inp].sum())
                select.append(None if len(positions) == width else positions)
            new_layer = type(layer)(None if all(s is None for s in select) else select)
            new_layer.input_shape = [new.shape_of(i) for i in inputs]
            new_layer.output_shape = new_layer._output_shape(new_layer.input_shape)
        else:
            inputs = list(n.inputs)
            if inputs[0] not in alive:
                raise StructureError(f"prune: node {n.name!r} lost its whole input.")  # pragma: no cover
            new_layer = layer.sliced(keep[inputs[0]], keep[n.name] if layer.role != "gate" else
                                     _gate_out_mask(layer, keep, n))
        new.nodes.append(Node(n.name, new_layer, inputs))
        new._shapes[n.name] = tuple(new_layer.output_shape)
        alive.add(n.name)
    new.output = net.output
    new.output_activation = getattr(net, "output_activation", None)  # e.g. an imported ONNX model's Softmax
    new.blocks = _prune_blocks(net.blocks, alive)
    new.pruning = {"tol": plan["tol"], "min_keep": plan["min_keep"], "kept": kept_units(net, plan),
                   "keep": source_keep(net, plan)}
    return new


def source_keep(net, plan):
    """Kept output channels of every node as indices into the *source* network's channels.

    When ``net`` was itself pruned (its ``pruning`` holds ``"keep"``), the
    indices are composed with the earlier ones, so that a chain of prunings
    (progressive pruning) maps back to the original dense network. Every
    node's surviving channels are a subset, in order, of its channels before,
    which is what makes the composition a simple indexing.
    """
    prev = (getattr(net, "pruning", None) or {}).get("keep")
    out = {}
    for name, mask in plan["keep"].items():
        idx = np.flatnonzero(mask)
        if prev is not None and name in prev:
            before = np.asarray(prev[name], dtype=np.int64)
            if before.size != mask.size:  # pragma: no cover - a foreign pruning record
                raise StructureError(f"prune: the earlier pruning record of node {name!r} does not fit the network.")
            idx = before[idx]
        out[name] = [int(i) for i in idx]
    return out


def _gate_out_mask(layer, keep, n):
    """The SE gate's kept outputs, as a mask over its current outputs."""
    return keep[n.name]


def _prune_blocks(blocks, alive):
    out = []
    for blk in blocks:
        b = dict(blk)
        if blk["type"] == "inception":
            b["branches"] = [[x for x in path if x in alive] for path in blk["branches"]]
        elif blk["type"] == "dense":
            b["layers"] = [dict(lay, sources=[s for s in lay["sources"] if s in alive])
                           for lay in blk["layers"] if lay["conv"] in alive]
        out.append(b)
    return out


def kept_units(net, plan):
    """``{producer: [kept, total]}`` for every Dense/Conv2D node and the input."""
    keep = plan["keep"]
    out = {INPUT: [int(keep[INPUT].sum()), int(keep[INPUT].size)]}
    for n in net.nodes:
        if n.layer.role == "producer":
            out[n.name] = [int(keep[n.name].sum()), int(keep[n.name].size)]
    return out


def prune(net, tol=0.0, min_keep=1):
    """Remove zero groups and everything that depends on them; return a new, smaller dense network.

    Parameters
    ----------
    net : Graph
        Not modified.
    tol : float >= 0
        Groups with Euclidean norm at most ``tol`` count as zero (``tol=0``
        keeps the function exactly).
    min_keep : int >= 1
        Units every surviving layer keeps, so that the network stays whole;
        an Inception pathway or a DenseNet connection may still go entirely.

    Returns
    -------
    Graph
        With ``pruning`` = ``{"tol", "min_keep", "kept": {layer: [kept, total]}}``.
    """
    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of prune must be a Graph. Got {type(net).__name__}.")
    return apply_plan(net, plan_pruning(net, tol, min_keep))
