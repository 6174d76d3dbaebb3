"""Dashboard panels: latency distribution per model and accuracy delta against FLOPs (sorted, chosen marked)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import structsparse.nn as nn  # noqa: E402
from structsparse.plots.nn import accuracy_delta, latency_distribution, pruning_dashboard  # noqa: E402


@pytest.fixture(scope="module")
def profiles():
    a, b = nn.small_cnn((4, 6), rng=0), nn.small_cnn((2, 3), rng=0)
    return {name: nn.profile(m, batch_sizes=(1, 4), runtime="numpy", n_runs=6) for name, m in (("a", a), ("b", b))}


def test_latency_distribution_cdf_and_violin(profiles):
    fig = latency_distribution(profiles, batch=1)
    ax = fig.axes[0]
    steps = [ln for ln in ax.get_lines() if ln.get_drawstyle().startswith("steps")]
    assert len(steps) == 2
    for ln, prof in zip(steps, profiles.values()):
        x, y = ln.get_data()
        np.testing.assert_allclose(np.sort(x), np.sort(prof.times[1]) * 1e3)
        assert y[-1] == 1.0
    plt.close(fig)
    fig, ax = plt.subplots()
    assert latency_distribution(profiles, batch=4, ax=ax, kind="violin") is fig
    plt.close(fig)
    with pytest.raises(ValueError, match="batch"):
        latency_distribution(profiles, batch=256)


def test_accuracy_delta_sorted_with_chosen_point():
    result = {"dense_flops": 100, "budget": 40, "lam": 0.3,
              "path": [{"lam": 0.1, "flops": 80, "val_acc": 0.97}, {"lam": 1.0, "flops": 20, "val_acc": 0.80},
                       {"lam": 0.3, "flops": 38, "val_acc": 0.95}, {"lam": 0.5, "flops": 45, "val_acc": 0.93}]}
    fig = accuracy_delta(result, dense_acc=0.98)
    ax = fig.axes[0]
    line, star = ax.get_lines()[0], ax.get_lines()[1]
    x, y = line.get_data()
    assert list(x) == sorted(x)                        # no zig-zag through trial order
    np.testing.assert_allclose(y, 100 * (np.array([0.80, 0.95, 0.93, 0.97]) - 0.98))
    np.testing.assert_allclose(star.get_data()[0], [0.38])  # the chosen trial
    plt.close(fig)


def test_dashboard_with_new_panels(profiles, tmp_path):
    X_tr, X_te, y_tr, y_te = nn.load_digits_split(n_samples=200, rng=0)
    net = nn.small_cnn((4, 6), rng=0)
    nn.train(net, X_tr, y_tr, epochs=2, lr=0.05, rng=0, progress=False)
    res = nn.prune_to_budget(net, X_tr, y_tr, flops=0.6, lam0=1.0, epochs=1, fine_tune_epochs=1, max_trials=4,
                             X_val=X_te, y_val=y_te)
    speed = nn.speedup(net, res["net"], batch=16, repeats=1)
    path = pruning_dashboard(res, speed, nn.memory(net), nn.memory(res["net"]), tmp_path / "d.png",
                             profiles=profiles, dense_acc=net.score(X_te, y_te))
    assert path.stat().st_size > 10000
