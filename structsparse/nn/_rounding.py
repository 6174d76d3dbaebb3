"""Hardware-aware rounding of the kept channel counts (Torch-Pruning's ``round_to``), within a FLOPs budget.

Convolution kernels are fastest when channel counts are multiples of the
vector width: onnxruntime's blocked NCHWc convolutions need output channels
in multiples of 8 (AVX2) or 16 (AVX-512) and otherwise fall back to
im2col + GEMM per image, which on the digits CNN runs about half as many
FLOPs per second. :func:`round_prune` keeps, in every pruned layer, a
multiple of ``round_to`` units (or the whole layer), the strongest units by
their group norms, and chooses the counts so that the network still meets
the FLOPs budget:

1. start from the given counts (e.g. what a group-lasso run kept) rounded
   up to multiples of ``round_to``, or from the whole network;
2. while over budget, remove the block of ``round_to`` weakest kept units
   that loses the least score per FLOP saved (among all layers);
3. then, while some block of the strongest removed units fits in the budget,
   add back the one that brings the most score per FLOP (blocks of zero
   score, e.g. units a group penalty removed, are not added back).

The FLOPs are those of the pruned network itself (surgery, then
:func:`~structsparse.nn.flops`), so the budget is met by the network that
runs.
"""

import numpy as np

from .._validation import check_choice, check_int, check_scalar
from ..exceptions import ParameterError
from .analysis import flops as count_flops
from .groups import groups
from .network import Graph
from .surgery import apply_plan, plan_pruning

__all__ = ["round_prune"]


def _scores(net, m, score):
    if score == "l2":
        return np.asarray(m.group_norms(net), dtype=np.float64)
    node = m.name.split(":", 1)[1]
    w = np.asarray(net.node(node).layer.params["W"], dtype=np.float64)
    return np.abs(w).reshape(-1, w.shape[-1]).sum(axis=0)[:m.groups.n_groups]


def round_prune(net, budget, round_to=8, layers=None, by="filters", score="l2", start=None):
    """Prune ``net`` to a FLOPs budget keeping a multiple of ``round_to`` units in every pruned layer.

    Parameters
    ----------
    net : Graph
        A trained network (not modified): the dense one, or a penalized one
        whose group norms say which units matter (units of zero norm are
        then the first to go and the last to come back).
    budget : float
        A fraction of ``net``'s FLOPs when at most 1, else FLOPs per sample.
    round_to : int or dict, default 8
        Each pruned layer keeps a multiple of this many units, or all of
        them; a dict ``{layer: int}`` gives each layer its own (1 for the
        layers it omits): e.g. only the output channels of the expensive
        convolution in multiples of 16, for AVX-512 NCHWc kernels.
    layers : list of str, optional
        Only these layers lose units (see :func:`~structsparse.nn.groups`).
    by : {"filters", "neurons"}, default "filters"
        Kind of unit.
    score : {"l2", "l1"}, default "l2"
        Rank units by the Euclidean norm of their group (weights, bias and
        batch-norm parameters) or by the L1 norm of their weights (Li et al. 2017).
    start : dict, optional
        ``{layer: count}``: counts to start from (rounded up), e.g. from
        ``pruned.pruning["kept"]`` of an unrounded pruning; default the whole layers.

    Returns
    -------
    Graph
        The pruned network (surgery with the chosen units protected, so a
        kept unit of zero norm stays); ``pruning["round_to"]`` and
        ``pruning["counts"]`` say what was kept.

    Raises
    ------
    ParameterError
        When no rounded configuration meets the budget (every layer at
        ``round_to`` units is still too expensive), or for bad arguments.
    """
    owner = "round_prune"
    if not isinstance(net, Graph):
        raise TypeError(f"The 'net' parameter of {owner} must be a Graph. Got {type(net).__name__}.")
    budget = check_scalar(budget, "budget", low=0, low_inclusive=False, owner=owner)
    if isinstance(round_to, dict):
        per_layer = {str(k): check_int(v, f"round_to[{k!r}]", low=1, owner=owner) for k, v in round_to.items()}
    else:
        per_layer = None
        round_to = check_int(round_to, "round_to", low=1, owner=owner)
    check_choice(by, "by", ("filters", "neurons"), owner=owner)
    check_choice(score, "score", ("l2", "l1"), owner=owner)
    maps = groups(net, by=by, layers=layers, weights=None)
    dense_flops = count_flops(net)
    budget_abs = budget * dense_flops if budget <= 1 else budget
    info = []
    for m in maps:
        s = _scores(net, m, score)
        order = np.argsort(-s, kind="stable")
        node = m.name.split(":", 1)[1]
        r = round_to if per_layer is None else per_layer.get(node, 1)
        info.append((m, node, m.groups.n_groups, order, s[order], r))
    if per_layer is not None and set(per_layer) - {i[1] for i in info}:
        raise ParameterError(f"The 'round_to' parameter of {owner} names layers without groups: "
                             f"{sorted(set(per_layer) - {i[1] for i in info})}.")
    if start is not None and not isinstance(start, dict):
        raise TypeError(f"The 'start' parameter of {owner} must be a dict {{layer: count}}. Got {type(start).__name__}.")

    def allowed(n, r):
        return sorted(set(range(r, n + 1, r)) | {n})

    counts = []
    for m, node, n, _, _, r in info:
        c = n
        if start is not None and node in start:
            v = start[node]
            c = int(v[0] if isinstance(v, (list, tuple)) else v)
            c = min(n, -(-max(c, 1) // r) * r)
        counts.append(c)
    cache = {}

    def realize(cs):
        key = tuple(cs)
        if key in cache:
            return cache[key]
        trial = net.copy()
        protect = {}
        for (m, node, n, order, _, _), c in zip(info, cs):
            v = m.gather(trial)
            g = m.groups
            for k in order[c:]:
                v[g.indices[g.ptr[k]:g.ptr[k + 1]]] = 0.0
            m.scatter(trial, v)
            mask = np.zeros(n, dtype=bool)
            mask[order[:c]] = True
            protect[node] = mask
        plan = plan_pruning(trial, 0.0, 1, protect=protect)
        # a protected unit stays only if it is kept whole; drop units nothing reads (all-zero readers)
        pruned = apply_plan(trial, plan)
        cache[key] = (pruned, count_flops(pruned))
        return cache[key]

    def step(cs, i, up):
        n = info[i][2]
        opts = allowed(n, info[i][5])
        pos = opts.index(cs[i]) if cs[i] in opts else None
        if pos is None:
            return None
        pos += 1 if up else -1
        if pos < 0 or pos >= len(opts):
            return None
        new = list(cs)
        new[i] = opts[pos]
        return new

    _, f = realize(counts)
    while f > budget_abs:
        best = None
        for i in range(len(info)):
            new = step(counts, i, up=False)
            if new is None:
                continue
            _, f2 = realize(new)
            saved = f - f2
            if saved <= 0:
                continue
            lost = info[i][4][new[i]:counts[i]].sum()
            rate = lost / saved
            if best is None or rate < best[0]:
                best = (rate, new, f2)
        if best is None:
            raise ParameterError(
                f"{owner}: no configuration with multiples of round_to={round_to!r} units meets the budget of "
                f"{budget_abs:.0f} FLOPs (the smallest has {f:.0f}; dense {dense_flops}). Lower round_to or "
                "raise the budget.")
        _, counts, f = best
    while True:
        best = None
        for i in range(len(info)):
            new = step(counts, i, up=True)
            if new is None:
                continue
            _, f2 = realize(new)
            if f2 > budget_abs:
                continue
            gain = info[i][4][counts[i]:new[i]].sum()
            if gain <= 0:  # units of zero norm (a penalized network's removed units) come back only to round
                continue
            rate = gain / max(f2 - f, 1e-12)
            if best is None or rate > best[0]:
                best = (rate, new, f2)
        if best is None:
            break
        _, counts, f = best
    pruned, f = realize(counts)
    pruned.pruning = dict(pruned.pruning, round_to=round_to,
                          counts={info[i][1]: counts[i] for i in range(len(info))})
    return pruned
