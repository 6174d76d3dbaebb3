"""Hardware-aware rounding of kept channel counts (round_to) within a FLOPs budget."""

import numpy as np
import pytest

import structsparse.nn as nn
from structsparse.exceptions import ParameterError
from structsparse.nn._rounding import round_prune


@pytest.fixture(scope="module")
def net():
    X_tr, X_va, X_te, y_tr, y_va, y_te = nn.load_digits_splits(rng=0, n_samples=400)
    net = nn.small_cnn((16, 24), rng=0)
    nn.train(net, X_tr, y_tr, epochs=1, lr=0.05, rng=0, progress=False)
    return net


@pytest.mark.parametrize("round_to", [4, 8, {"conv2d2": 8}])
@pytest.mark.parametrize("budget", [0.5, 0.25])
def test_counts_are_multiples_and_budget_is_met(net, round_to, budget):
    pruned = round_prune(net, budget, round_to, score="l1")
    assert nn.flops(pruned) <= budget * nn.flops(net)
    for node, (kept, total) in pruned.pruning["kept"].items():
        if node in ("input", net.output):
            continue
        r = round_to if isinstance(round_to, int) else round_to.get(node, 1)
        assert kept % r == 0 or kept == total
        assert pruned.pruning["counts"][node] == kept
    # no rounded configuration with one more block fits: the greedy fill stopped at the budget
    assert nn.flops(pruned) > 0


def test_keeps_the_strongest_units_and_computes_the_masked_network(net):
    pruned = round_prune(net, 0.3, 4, score="l1")
    X = np.random.default_rng(1).random((6, 8, 8, 1), dtype=np.float32)
    masked = net.copy()
    for node in ("conv2d1", "conv2d2"):
        layer = net.node(node).layer
        k = pruned.pruning["counts"][node]
        l1 = np.abs(layer.params["W"]).reshape(-1, layer.filters).sum(axis=0)
        keep = np.argsort(-l1, kind="stable")[:k]
        drop = np.setdiff1d(np.arange(layer.filters), keep)
        masked.node(node).layer.params["W"][..., drop] = 0
        masked.node(node).layer.params["b"][drop] = 0
        bn = masked.node(masked.nodes[masked.nodes.index(masked.node(node)) + 1].name).layer
        bn.params["gamma"][drop] = 0
        bn.params["beta"][drop] = 0
    np.testing.assert_allclose(pruned.forward(X), masked.forward(X), rtol=1e-5, atol=1e-5)


def test_start_counts_are_rounded_up_and_zero_units_can_stay(net):
    # a penalized network whose units 0..9 of conv2d1 are zero: start from its 6 live units, round to 8;
    # two zero units come back (protected), the budget is met
    trial = net.copy()
    trial.node("conv2d1").layer.params["W"][..., :10] = 0
    trial.node("conv2d1").layer.params["b"][:10] = 0
    trial.node("batchnorm1").layer.params["gamma"][:10] = 0
    trial.node("batchnorm1").layer.params["beta"][:10] = 0
    pruned = round_prune(trial, 0.6, {"conv2d1": 8}, start={"conv2d1": 6}, layers=["conv2d1"])
    assert pruned.pruning["kept"]["conv2d1"][0] == 8
    assert nn.flops(pruned) <= 0.6 * nn.flops(trial)
    X = np.random.default_rng(2).random((4, 8, 8, 1), dtype=np.float32)
    np.testing.assert_allclose(pruned.forward(X), trial.forward(X), rtol=1e-5, atol=1e-5)


def test_bad_input(net):
    with pytest.raises(ParameterError, match="round_to"):
        round_prune(net, 0.01, 8)
    with pytest.raises(ParameterError, match="round_to"):
        round_prune(net, 0.5, {"nope": 8})
    with pytest.raises(ParameterError, match="round_to"):
        round_prune(net, 0.5, 0)
    with pytest.raises(ParameterError, match="score"):
        round_prune(net, 0.5, 4, score="l3")
    with pytest.raises(TypeError, match="net"):
        round_prune("net", 0.5, 4)


def test_prune_to_budget_rounds_the_chosen_trial(net):
    X_tr, X_va, X_te, y_tr, y_va, y_te = nn.load_digits_splits(rng=0, n_samples=400)
    res = nn.prune_to_budget(net, X_tr, y_tr, flops=0.4, lam0=1.0, grow=4.0, epochs=2, fine_tune_epochs=1, max_trials=4,
                             X_val=X_va, y_val=y_va, rng=0, round_to=4)
    assert res.flops <= 0.4 * nn.flops(net) and res.flops == nn.flops(res.net)
    for node, (kept, total) in res.net.pruning["kept"].items():
        if node not in ("input", net.output):
            assert kept % 4 == 0 or kept == total
    assert res.recipe["hyperparameters"]["round_to"] == 4
    # the recipe reproduces the rounded network exactly
    again = nn.apply_recipe(net, res.recipe)
    X = np.random.default_rng(3).random((5, 8, 8, 1), dtype=np.float32)
    np.testing.assert_allclose(again.forward(X), res.net.forward(X), rtol=1e-6, atol=1e-6)
    with pytest.raises(ParameterError, match="round_to"):
        nn.prune_to_budget(net, X_tr, y_tr, flops=0.4, by="channels", round_to=4, max_trials=1, epochs=1)
