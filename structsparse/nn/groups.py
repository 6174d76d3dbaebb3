"""Group maps: which parameters of a network form one prunable unit.

:func:`groups` returns a list of :class:`GroupMap`. Each map covers a flat
parameter vector made by concatenating some parameter arrays of the network
(raveled in C order, in the listed order) and holds an :class:`~structsparse.Groups`
over that vector, one group per prunable unit, so that any penalty of the
solver layer applies to it unchanged. :class:`NetworkPenalty` builds one
penalty per map and applies its prox to the network in place.

Kinds of units (``by``):

``"neurons"`` / ``"filters"``
    Output unit ``j`` of each hidden ``Dense`` / ``Conv2D`` layer: its weights
    ``W[..., j]``, its bias ``b[j]`` and the ``gamma`` and ``beta`` of every
    batch-norm channel that carries this unit, wherever it sits (so a zero
    group gives an output that is exactly zero after the batch norms). The
    output layer is never grouped.
``"channels"``
    Input channel ``c`` of each ``Dense`` / ``Conv2D`` layer: ``W[c, :]`` or
    ``W[:, :, c, :]``; after a ``Flatten`` all the rows fed by channel ``c``.
    On the first layer of an MLP these groups select input features.
``"branches"``
    Every parameter of one pathway of an Inception block, plus the batch-norm
    channels anywhere downstream that carry the pathway's units.
``"connections"``
    In a DenseNet block, the slice of layer ``l``'s convolution that reads
    source ``s`` (the block input or an earlier layer's output).
"""

import numpy as np

from .._validation import check_choice, check_scalar
from ..exceptions import ParameterError, ParameterTypeError, StructureError
from ..structure import Groups
from ._trace import channel_sources
from .network import INPUT

__all__ = ["GroupMap", "groups", "NetworkPenalty", "GROUP_KINDS", "PENALTY_KINDS", "unit_flops"]

GROUP_KINDS = ("neurons", "filters", "channels", "branches", "connections")


class GroupMap:
    """Groups over the concatenation of some parameter arrays of a network.

    Attributes
    ----------
    name : str
        What the map covers (e.g. ``"filters:conv2d1"``).
    members : list of (str, str)
        ``(node name, parameter name)`` of the arrays, in concatenation order.
    sizes : list of int
        Number of entries of each member array, in the same order (the flat
        vector is their concatenation; ``offsets`` are their cumulative sums).
    groups : Groups
        Groups over the flat vector (``n_features`` = total size of the members).
    labels : list
        What each group is (a channel index, a branch index, a source name).
    shapes : list of (int, int) or None
        Matrix shape of each group's block for the nuclear-norm hybrid, when
        the group is a matrix (weights only).
    """

    def __init__(self, name, members, sizes, groups, labels, shapes=None):
        self.name = name
        self.members = list(members)
        self.sizes = list(sizes)
        self.groups = groups
        self.labels = list(labels)
        self.shapes = shapes

    @property
    def offsets(self):
        return np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)

    def gather(self, net):
        """The flat vector (float64) of this map's parameters."""
        parts = []
        for (node, p), size in zip(self.members, self.sizes):
            arr = net.node(node).layer.params[p]
            if arr.size != size:
                raise StructureError(f"Group map {self.name!r} no longer fits {node}.{p} (size {arr.size} != {size}).")
            parts.append(arr.ravel())
        return np.concatenate(parts).astype(np.float64)

    def scatter(self, net, vector):
        """Write a flat vector back into the network's arrays (in place, keeping their dtype)."""
        off = self.offsets
        for k, (node, p) in enumerate(self.members):
            arr = net.node(node).layer.params[p]
            arr[...] = vector[off[k]:off[k + 1]].reshape(arr.shape)

    def group_norms(self, net):
        """Euclidean norm of every group."""
        v = self.gather(net)
        g = self.groups
        sq = np.add.reduceat(v[g.indices] ** 2, g.ptr[:-1])
        return np.sqrt(sq)

    def __repr__(self):
        return f"GroupMap({self.name!r}, {self.groups.n_groups} groups over {sum(self.sizes)} parameters)"


class _Builder:
    """Collects member arrays and per-group index lists for one map."""

    def __init__(self, net):
        self.net = net
        self.members, self.sizes, self.offset = [], [], {}

    def member(self, node, p):
        key = (node, p)
        if key not in self.offset:
            self.offset[key] = sum(self.sizes)
            self.members.append(key)
            self.sizes.append(self.net.node(node).layer.params[p].size)
        return self.offset[key]

    def flat(self, node, p, index):
        """Flat indices of ``params[p][index]`` in the map's vector."""
        arr = self.net.node(node).layer.params[p]
        base = self.member(node, p)
        return base + np.arange(arr.size).reshape(arr.shape)[index].ravel()


def groups(net, by="filters", layers=None, include_bias=True, weights="sqrt_size"):
    """Group maps of ``net`` for a kind of structured sparsity.

    Parameters
    ----------
    net : Graph
    by : {"neurons", "filters", "channels", "branches", "connections"}
    layers : list of str, optional
        Restrict to these nodes (producers for neurons/filters, consumers for
        channels, block names for branches/connections).
    include_bias : bool
        For neurons/filters, put the bias and batch-norm parameters in the
        groups (needed for an exactly zero output). ``False`` gives pure
        weight matrices, with ``shapes`` set, for the nuclear-norm hybrid.
    weights : "sqrt_size", "flops", None or callable
        Group weights: ``sqrt(|g|)`` (default, so that lam means the same for
        large and small groups); ``"flops"`` (neurons/filters only): the FLOPs
        that removing the unit alone saves, divided by the mean over all
        units, so that ``lam`` is a price per FLOP; all ones; or
        ``weights(map_name, sizes)``.

    Returns
    -------
    list of GroupMap
    """
    from .network import Graph

    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of groups must be a structsparse.nn Graph. "
                                 f"Got {type(net).__name__}.")
    check_choice(by, "by", GROUP_KINDS, owner="groups")
    if layers is not None:
        layers = set(layers)
    builders = {"neurons": _producer_maps, "filters": _producer_maps, "channels": _channel_maps,
                "branches": _branch_maps, "connections": _connection_maps}
    maps = builders[by](net, by, layers, include_bias)
    out = []
    if isinstance(weights, str) and weights == "flops":
        if by not in ("neurons", "filters"):
            raise ParameterError(f"weights='flops' is available for by='neurons' or 'filters'. Got by={by!r}.")
        saved = unit_flops(net)
        cost = {name: np.array([saved[(name.split(":", 1)[1], j)] for j in labels], dtype=float)
                for name, _, _, labels, _ in maps}
        mean_cost = np.mean(np.concatenate(list(cost.values()))) if cost else 1.0
    for name, b, index_lists, labels, shapes in maps:
        sizes = [len(ix) for ix in index_lists]
        if isinstance(weights, str) and weights == "flops":
            w = cost[name] / mean_cost
        elif weights == "sqrt_size":
            w = np.sqrt(sizes)
        elif weights is None:
            w = None
        elif callable(weights):
            w = weights(name, sizes)
        else:
            raise ParameterError(f"The 'weights' parameter of groups must be 'sqrt_size', None or a callable. Got {weights!r}.")
        g = Groups.from_lists([list(map(int, ix)) for ix in index_lists], n_features=int(sum(b.sizes)), weights=w)
        out.append(GroupMap(name, b.members, b.sizes, g, labels, shapes))
    if not out:
        raise StructureError(f"The network has nothing to group by {by!r}"
                             + (f" among layers {sorted(layers)}." if layers else "."))
    return out


def unit_flops(net):
    """``{(producer, unit): FLOPs per sample saved by removing that unit alone}``.

    The unit's own output channel (its share of the producer's FLOPs and of
    every channelwise layer carrying it) plus the input-side share of every
    layer that reads it.

    Parameters
    ----------
    net : Graph
        A built network (its layers have parameters).

    Returns
    -------
    dict
        Maps ``(node name, channel index)`` to the FLOPs per sample (float)
        saved by removing that unit; keys are the output channels of the
        producers (``Dense`` / ``Conv2D``) and the network input channels
        (node name ``"input"``) that some layer carries or reads.
    """
    src = channel_sources(net)
    saved = {}
    for n in net.nodes:
        layer = n.layer
        names, chans = src[n.name]
        if layer.kind in ("concat", "flatten"):
            continue
        per_out = layer.flops() / max(layer.output_shape[-1], 1)
        for key in zip(names.tolist(), chans.tolist()):
            saved[key] = saved.get(key, 0.0) + per_out
        if layer.kind in ("dense", "conv2d"):
            in_names, in_chans = src[n.inputs[0]]
            w = layer.params["W"]
            if layer.kind == "dense":
                per_in = 2.0 * w.shape[1]
            else:
                ho, wo, co = layer.output_shape
                per_in = 2.0 * ho * wo * co * w.shape[0] * w.shape[1]
            for key in zip(in_names.tolist(), in_chans.tolist()):
                saved[key] = saved.get(key, 0.0) + per_in
    return saved


def _batchnorm_channels(net, src):
    """``{(producer, channel): [(bn node, bn channels)]}``: every batch-norm channel, by its source.

    A zero unit stays zero through a batch norm only if that channel's
    ``gamma`` and ``beta`` are zero too, wherever the batch norm sits (after
    a concatenation in a DenseNet block, say), so they join the unit's group.
    """
    out = {}
    for n in net.nodes:
        if n.layer.kind == "batchnorm":
            names, chans = src[n.name]
            for c, key in enumerate(zip(names.tolist(), chans.tolist())):
                out.setdefault(key, []).append((n.name, c))
    return out


def _unit_indices(b, node, j, bn_channels, include_bias):
    ix = [b.flat(node, "W", (Ellipsis, j))]
    if include_bias:
        ix.append(b.flat(node, "b", j))
        for bn, c in bn_channels.get((node, j), []):
            ix += [b.flat(bn, "gamma", c), b.flat(bn, "beta", c)]
    return ix


def _producer_maps(net, by, layers, include_bias):
    kind = "dense" if by == "neurons" else "conv2d"
    bn_channels = _batchnorm_channels(net, channel_sources(net))
    maps = []
    for n in net.nodes:
        if n.layer.kind != kind or n.name == net.output or (layers is not None and n.name not in layers):
            continue
        b = _Builder(net)
        lists, shapes = [], []
        w = n.layer.params["W"]
        for j in range(n.layer.n_channels):
            lists.append(np.concatenate(_unit_indices(b, n.name, j, bn_channels, include_bias)))
            shapes.append((int(np.prod(w.shape[:-2])), w.shape[-2]) if w.ndim == 4 else (w.shape[0], 1))
        maps.append((f"{by}:{n.name}", b, lists, list(range(n.layer.n_channels)),
                     None if include_bias else shapes))
    return maps


def _channel_maps(net, by, layers, include_bias):
    src = channel_sources(net)
    maps = []
    for n in net.nodes:
        if n.layer.kind not in ("dense", "conv2d") or (layers is not None and n.name not in layers):
            continue
        b = _Builder(net)
        names, chans = src[n.inputs[0]]
        keys = list(dict.fromkeys(zip(names.tolist(), chans.tolist())))  # source channels, in order
        w = n.layer.params["W"]
        lists, shapes, labels = [], [], []
        for key in keys:
            rows = np.flatnonzero((names == key[0]) & (chans == key[1]))
            if w.ndim == 4:
                lists.append(b.flat(n.name, "W", (slice(None), slice(None), rows)))
                shapes.append((w.shape[0] * w.shape[1] * len(rows), w.shape[3]))
            else:
                lists.append(b.flat(n.name, "W", rows))
                shapes.append((len(rows), w.shape[1]))
            labels.append(key if key[0] != INPUT else int(key[1]) if len(rows) == 1 else key)
        maps.append((f"channels:{n.name}", b, lists, labels, shapes))
    return maps


def _branch_maps(net, by, layers, include_bias):
    maps = []
    bn_channels = _batchnorm_channels(net, channel_sources(net))
    for blk in net.blocks:
        if blk["type"] != "inception" or (layers is not None and blk["name"] not in layers):
            continue
        b = _Builder(net)
        lists = []
        for path in blk["branches"]:
            ix = []
            for node in path:
                layer = net.node(node).layer
                for p in layer.params:
                    if layer.kind == "batchnorm":
                        continue  # batch-norm channels join the group of their source below
                    ix.append(b.flat(node, p, Ellipsis))
                if layer.role == "producer":
                    for j in range(layer.n_channels):
                        for bn, c in bn_channels.get((node, j), []):
                            ix += [b.flat(bn, "gamma", c), b.flat(bn, "beta", c)]
            if not ix:
                raise StructureError(f"Branch {path} of block {blk['name']!r} has no parameters to penalize.")
            lists.append(np.concatenate(ix))
        maps.append((f"branches:{blk['name']}", b, lists, list(range(len(lists))), None))
    return maps


def _connection_maps(net, by, layers, include_bias):
    maps = []
    for blk in net.blocks:
        if blk["type"] != "dense" or (layers is not None and blk["name"] not in layers):
            continue
        for lay in blk["layers"]:
            b = _Builder(net)
            conv = net.node(lay["conv"]).layer
            lists, labels, start = [], [], 0
            for s in lay["sources"]:
                width = net.shape_of(s)[-1]
                lists.append(b.flat(lay["conv"], "W", (slice(None), slice(None), slice(start, start + width))))
                labels.append(s)
                start += width
            if start != conv.params["W"].shape[2]:
                raise StructureError(f"Block {blk['name']!r} was pruned already; rebuild its connection groups "
                                     "from a network whose concatenations are complete.")
            maps.append((f"connections:{lay['conv']}", b, lists, labels, None))
    return maps


#: Penalty kinds of the nn front end, by the solver-layer penalty's ``name``.
PENALTY_KINDS = ("group_lasso", "sparse_group_lasso", "group_nuclear")
_OLD_KINDS = {"sparse_group": "sparse_group_lasso"}


def check_penalty_kind(kind, name, owner, allow_callable=True, stacklevel=3):
    """A penalty kind by ``penalty.name``; the old ``"sparse_group"`` warns (DeprecationWarning) and is renamed."""
    if allow_callable and callable(kind):
        return kind
    if isinstance(kind, str) and kind in _OLD_KINDS:
        import warnings

        new = _OLD_KINDS[kind]
        warnings.warn(f"{owner}: the penalty kind {kind!r} is deprecated and will be removed in the next release; "
                      f"use {new!r} (the penalty's name).", DeprecationWarning, stacklevel=stacklevel)
        return new
    if not isinstance(kind, str) or kind not in PENALTY_KINDS:
        extra = " or a callable" if allow_callable else ""
        raise ParameterError(f"The '{name}' parameter of {owner} must be one of {', '.join(map(repr, PENALTY_KINDS))}"
                             f"{extra}. Got {kind!r}.")
    return kind


class NetworkPenalty:
    """One solver-layer penalty per group map, applied to a network's parameters.

    Parameters
    ----------
    maps : list of GroupMap
        From :func:`groups` (several kinds may be concatenated, as long as no
        parameter entry is in two maps).
    kind : {"group_lasso", "sparse_group_lasso", "group_nuclear"} or callable
        The ``name`` of the solver-layer penalty put on each group map
        (:class:`~structsparse.GroupLasso`, :class:`~structsparse.SparseGroupLasso`,
        :class:`~structsparse.GroupNuclear`), or
        ``callable(groups, lam, group_map) -> Penalty`` for anything else. The
        old name ``"sparse_group"`` is accepted for one release, with a
        DeprecationWarning.
    lam : float >= 0
    l1_ratio : float
        For ``"sparse_group_lasso"``.
    rank_weight : float
        For ``"group_nuclear"`` (needs maps with matrix ``shapes``:
        ``groups(..., include_bias=False)`` or ``by="channels"``).
    """

    def __init__(self, maps, kind="group_lasso", lam=1e-3, l1_ratio=0.5, rank_weight=0.5):
        if isinstance(maps, GroupMap):
            maps = [maps]
        maps = list(maps)
        if not maps or not all(isinstance(m, GroupMap) for m in maps):
            raise ParameterError("The 'maps' parameter of NetworkPenalty must be a non-empty list of GroupMap.")
        self.maps = maps
        self.kind = check_penalty_kind(kind, "kind", "NetworkPenalty")
        self.l1_ratio = l1_ratio
        self.rank_weight = rank_weight
        self.lam = check_scalar(lam, "lam", low=0, owner="NetworkPenalty")
        self.penalties = [self._make(m, self.lam) for m in maps]

    def _make(self, m, lam):
        from ..penalties import GroupLasso, GroupNuclear, SparseGroupLasso

        if callable(self.kind):
            return self.kind(m.groups, lam, m)
        if self.kind == "group_lasso":
            return GroupLasso(m.groups, lam)
        if self.kind == "sparse_group_lasso":
            return SparseGroupLasso(m.groups, lam, self.l1_ratio)
        if self.kind == "group_nuclear":
            if m.shapes is None:
                raise ParameterError(f"group_nuclear needs matrix-shaped groups; map {m.name!r} has none "
                                     "(use groups(..., include_bias=False) or by='channels').")
            return GroupNuclear(m.groups, lam, self.rank_weight, m.shapes)
        raise ParameterError(f"The 'kind' parameter of NetworkPenalty must be one of {PENALTY_KINDS} or a callable. "
                             f"Got {self.kind!r}.")

    @property
    def name(self):
        """The penalty kind (``penalty.name`` of the solver-layer penalty), or the callable's name."""
        return self.kind if isinstance(self.kind, str) else getattr(self.kind, "__name__", "custom")

    def with_lam(self, lam):
        """The same penalty with another ``lam``."""
        return NetworkPenalty(self.maps, self.kind, lam, self.l1_ratio, self.rank_weight)

    def value(self, net, lam=None):
        """Penalty value ``lam * Omega`` on the network's current parameters."""
        lam = self.lam if lam is None else lam
        return float(sum(p.with_lam(lam)(m.gather(net)) for p, m in zip(self.penalties, self.maps)))

    def prox_step(self, net, step, lam=None):
        """Replace the parameters by the prox of ``step * lam * Omega`` (in place)."""
        lam = self.lam if lam is None else lam
        if step * lam == 0:
            return
        for pen, m in zip(self.penalties, self.maps):
            v = m.gather(net)
            # prox of step * penalty with lam scaled: prox(v, step * lam / pen.lam) when pen.lam > 0
            out = pen.prox(v, step * lam / pen.lam) if pen.lam > 0 else pen.with_lam(lam).prox(v, step)
            m.scatter(net, out)

    def zero_fraction(self, net, tol=0.0):
        """Fraction of groups whose norm is at most ``tol``."""
        norms = np.concatenate([m.group_norms(net) for m in self.maps])
        return float(np.mean(norms <= tol))

    def __repr__(self):
        return f"NetworkPenalty({self.kind!r}, lam={self.lam:g}, maps={[m.name for m in self.maps]})"
