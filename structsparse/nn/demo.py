"""The pruning part of ``structsparse demo``: a quick budgeted pruning of a small CNN on digits,
exact surgery of an Inception / SE / DenseNet graph, and the measured speedup beside CSR."""

import numpy as np

from .._validation import renamed_kwarg

__all__ = ["demo_part"]


def _zero_group(net, group_map, k):
    v = group_map.gather(net)
    g = group_map.groups
    v[g.indices[g.ptr[k]:g.ptr[k + 1]]] = 0.0
    group_map.scatter(net, v)


@renamed_kwarg("seed", "rng")
def demo_part(out_dir, rng=None):
    """Run the pruning demo; return True when its checks pass.

    Parameters
    ----------
    out_dir : Path
        Folder for the dashboard figure (``nn_prune_dashboard.png``).
    rng : None or int, default None
        Seed of the whole demo (None: drawn from fresh entropy); ``structsparse demo --seed`` passes one.
        (``seed=`` is its deprecated old name, one release.)

    Returns
    -------
    bool
    """
    import matplotlib.pyplot as plt

    from . import block_net, connection_graph, flops, groups, prune
    from ._results import seed_from
    from .experiment import digits_pruning
    from .plots import pruning_dashboard

    seed = seed_from(rng)
    ok = True
    # 1. budgeted pruning of a small CNN (quick settings)
    out = digits_pruning("cnn", budget=0.3, quick=True, rng=seed, verbose=False, speed_repeats=3)
    res, speed = out.result, out.speed
    kept = {k: v for k, v in out.pruned.pruning["kept"].items() if k != "input"}
    print(f"small CNN on digits (quick): accuracy {out.dense_acc:.3f} dense -> {out.pruned_acc:.3f} pruned, "
          f"FLOPs cut {res.dense_flops / res.flops:.1f}x (budget 0.3), kept {kept}")
    print(f"  speed at batch {speed.batch}: realized {speed.realized:.2f}x of theoretical "
          f"{speed.theoretical:.2f}x (efficiency {speed.efficiency:.2f}); same density as CSR: "
          f"{speed.csr_realized:.2f}x")
    ok &= res.flops <= res.budget
    fig = pruning_dashboard(res, speed, out.dense_memory, out.pruned_memory, out_dir / "nn_prune_dashboard.png",
                            title="digits, small CNN (quick demo)")
    plt.close(fig)  # written to the file only
    # 2. exact surgery through Inception, SE gate and DenseNet concatenations
    rng = np.random.default_rng(seed)
    net = block_net(8, rng=seed)
    for _, _, p in net.parameters():
        p[...] = rng.standard_normal(p.shape) * 0.3
    _zero_group(net, groups(net, by="branches")[0], 1)            # a whole Inception pathway
    conn = [m for m in groups(net, by="connections") if m.name.endswith("l1.conv")][0]
    _zero_group(net, conn, 0)                                       # block input -> second dense layer
    small = prune(net)
    X = rng.random((16, 8, 8, 1)).astype(np.float32)
    diff = float(np.abs(net.forward(X) - small.forward(X)).max())
    graph = connection_graph(small)["dense"]
    print(f"graph model: surgery removed a pathway and a connection, FLOPs {flops(net)} -> {flops(small)}, "
          f"max output difference {diff:.1e}; DenseNet feeds now {graph}")
    ok &= diff < 1e-5 and "maxpool2d1" not in graph.get("dense.l1.conv", {})
    print(f"figure: {out_dir / 'nn_prune_dashboard.png'}")
    return bool(ok)
