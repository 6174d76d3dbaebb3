"""Surgery: zero groups go, outputs stay; analysis of the result."""

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError


def _randomize(net, rng, scale=0.4):
    for _, _, p in net.parameters():
        p[...] = rng.standard_normal(p.shape) * scale
    for n in net.nodes:
        for k, v in n.layer.state.items():
            v[...] = rng.uniform(0.5, 1.5, v.shape) if k == "var" else rng.standard_normal(v.shape) * 0.1


def _zero(net, group_map, ks):
    v = group_map.gather(net)
    g = group_map.groups
    for k in ks:
        v[g.indices[g.ptr[k]:g.ptr[k + 1]]] = 0.0
    group_map.scatter(net, v)


def _same_outputs(a, b, shape, rng, atol=1e-5):
    X = rng.random((9,) + shape).astype(np.float32)
    return float(np.abs(a.forward(X) - b.forward(X)).max()) <= atol


def test_cnn_filters_removed_outputs_equal():
    rng = np.random.default_rng(0)
    net = nn.small_cnn((8, 12), rng=0)
    _randomize(net, rng)
    maps = nn.groups(net, by="filters")
    _zero(net, maps[0], [0, 3, 5])   # conv1 filters (with their batch-norm gamma/beta)
    _zero(net, maps[1], range(7))    # conv2 filters
    small = nn.prune(net)
    assert small.pruning["kept"]["conv2d1"] == [5, 8]
    assert small.pruning["kept"]["conv2d2"] == [5, 12]
    # the next layer lost the matching input channels: conv2 reads 5 channels, the dense layer 4*4*5 features
    assert small.node("conv2d2").layer.params["W"].shape == (3, 3, 5, 5)
    assert small.node("dense1").layer.params["W"].shape == (16 * 5, 10)
    assert _same_outputs(net, small, (8, 8, 1), rng)
    assert nn.flops(small) < nn.flops(net)
    assert small.n_params < net.n_params


def test_unused_input_channel_of_next_layer_removes_filter():
    """A zero input-channel group of conv2 makes conv1's filter useless: both go."""
    rng = np.random.default_rng(1)
    net = nn.small_cnn((6, 8), rng=0)
    _randomize(net, rng)
    ch = [m for m in nn.groups(net, by="channels") if m.name == "channels:conv2d2"][0]
    _zero(net, ch, [1, 2])
    small = nn.prune(net)
    assert small.pruning["kept"]["conv2d1"] == [4, 6]
    assert _same_outputs(net, small, (8, 8, 1), rng)


def test_mlp_input_features_selected():
    rng = np.random.default_rng(2)
    net = nn.mlp((10,), n_features=64, rng=0)
    _randomize(net, rng)
    ch = nn.groups(net, by="channels", layers=["dense1"])[0]
    assert ch.groups.n_groups == 64
    drop = rng.choice(64, 40, replace=False)
    _zero(net, ch, drop)
    small = nn.prune(net)
    assert sorted(small.input_index.tolist()) == sorted(set(range(64)) - set(drop.tolist()))
    assert _same_outputs(net, small, (64,), rng)


def test_graph_branch_and_connection_removed_outputs_equal():
    rng = np.random.default_rng(3)
    net = nn.block_net(8, rng=0)
    _randomize(net, rng)
    _zero(net, nn.groups(net, by="branches")[0], [1])
    conn = [m for m in nn.groups(net, by="connections") if m.name.endswith("l1.conv")][0]
    _zero(net, conn, [0])
    small = nn.prune(net)
    names = {n.name for n in small.nodes}
    assert not any(n.startswith("inc.b1.") for n in names)           # the whole pathway
    assert len(small.node("inc.concat").inputs) == 2
    graph = nn.connection_graph(small)["dense"]
    assert "maxpool2d1" not in graph["dense.l1.conv"]                  # the connection
    assert "maxpool2d1" in graph["dense.l0.conv"]                      # its source still feeds layer 0
    assert graph["output"]["maxpool2d1"] > 0                           # and the block output
    assert _same_outputs(net, small, (8, 8, 1), rng)


def test_se_gate_channels_and_filters_through_concat():
    rng = np.random.default_rng(4)
    net = nn.block_net(8, rng=0)
    _randomize(net, rng)
    maps = {m.name: m for m in nn.groups(net, by="filters")}
    _zero(net, maps["filters:inc.b0.0"], [0, 1, 2])
    _zero(net, maps["filters:dense.l0.conv"], [1])
    small = nn.prune(net)
    assert small.node("se").layer.params["W1"].shape[0] == net.node("se").layer.params["W1"].shape[0] - 3
    assert small.pruning["kept"]["dense.l0.conv"] == [3, 4]
    assert _same_outputs(net, small, (8, 8, 1), rng)


def test_nothing_zero_means_nothing_removed_and_min_keep_holds():
    rng = np.random.default_rng(5)
    net = nn.small_cnn((4, 6), rng=0)
    _randomize(net, rng)
    same = nn.prune(net)
    assert nn.flops(same) == nn.flops(net)
    maps = nn.groups(net, by="filters")
    _zero(net, maps[0], range(4))                      # every conv1 filter
    small = nn.prune(net, min_keep=2)
    assert small.pruning["kept"]["conv2d1"][0] == 2    # min_keep brings two back
    assert _same_outputs(net, small, (8, 8, 1), rng)
    with pytest.raises(ParameterError, match="min_keep"):
        nn.prune(net, min_keep=0)


def test_tolerance_prunes_small_groups_approximately():
    rng = np.random.default_rng(6)
    net = nn.small_cnn((6, 8), rng=0)
    _randomize(net, rng)
    maps = nn.groups(net, by="filters")
    v = maps[1].gather(net)
    g = maps[1].groups
    v[g.indices[g.ptr[0]:g.ptr[1]]] *= 1e-7
    maps[1].scatter(net, v)
    assert nn.prune(net, tol=0.0).pruning["kept"]["conv2d2"] == [8, 8]
    small = nn.prune(net, tol=1e-4)
    assert small.pruning["kept"]["conv2d2"] == [7, 8]
    assert _same_outputs(net, small, (8, 8, 1), rng, atol=1e-4)


def test_nan_weights_rejected():
    net = nn.small_cnn((4, 6), rng=0)
    net.nodes[0].layer.params["W"][0, 0, 0, 0] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        nn.prune(net)


def test_flops_params_memory_counts():
    net = nn.Sequential([nn.Conv2D(4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Dense(3)], (5, 5, 2))
    total, per = nn.flops(net, (5, 5, 2), per_layer=True)
    assert per["conv2d1"] == 25 * 4 * (2 * 9 * 2 + 1)
    assert per["dense1"] == 2 * 100 * 3 + 3
    assert total == sum(per.values())
    assert nn.count_params(net) == 3 * 3 * 2 * 4 + 4 + 100 * 3 + 3
    mem = nn.memory(net, batch=2)
    assert mem.params == 4 * nn.count_params(net)
    # peak: input + conv output + its im2col patches
    assert mem.peak_activations >= 4 * 2 * (50 + 100 + 25 * 18)
    with pytest.raises(Exception, match="input_shape"):
        nn.flops(net, (6, 6, 2))


def test_sensitivity_and_gate_statistics():
    rng = np.random.default_rng(7)
    X_tr, X_te, y_tr, y_te = nn.load_digits_split(n_samples=300, rng=0)
    net = nn.block_net(8, rng=0)
    nn.train(net, X_tr, y_tr, epochs=2, lr=0.05, rng=0, progress=False)
    sens = nn.sensitivity(net, X_te, y_te, ratios=[0.0, 0.9])
    assert sens["conv2d1"][0] == pytest.approx(sens["baseline"])
    assert all(0 <= a <= 1 for a in sens["conv2d1"])
    se = net.node("se").layer
    se.params["b2"][:3] = -30.0        # these gates stay shut
    stats = nn.gate_statistics(net, X_te)["se"]
    assert set(stats["near_zero"].tolist()) >= {0, 1, 2}
    assert np.all((stats["mean"] >= 0) & (stats["mean"] <= stats["max"] + 1e-7))
    with pytest.raises(ParameterError):
        nn.gate_statistics(nn.small_cnn((4, 6)), X_te)


def test_se_gate_keeps_a_channel_it_reads_but_nobody_uses():
    rng = np.random.default_rng(8)
    g = nn.Graph((5, 5, 2), rng=0)
    g.add(nn.Conv2D(4, 3, padding=1))
    g.add(nn.SqueezeExcite(2), name="se")
    g.add(nn.Conv2D(3, 1), name="after")
    g.add(nn.Flatten())
    g.add(nn.Dense(2))
    _randomize(g, rng)
    g.node("after").layer.params["W"][:, :, 0, :] = 0.0   # nothing downstream reads SE output channel 0
    small = nn.prune(g)
    se = small.node("se").layer
    assert se.params["W1"].shape[0] == 4                  # the squeeze still reads all four channels
    assert se.out_index.tolist() == [1, 2, 3]             # but channel 0 is no longer output
    assert small.node("after").layer.params["W"].shape[2] == 3
    assert _same_outputs(g, small, (5, 5, 2), rng)
    back = nn.Graph.load(small.save(__import__("pathlib").Path(__import__("tempfile").mkdtemp()) / "se.npz"))
    assert back.node("se").layer.out_index.tolist() == [1, 2, 3]
