"""nn figures (structsparse.nn.plots): what they draw, and the plotting rules (ax/fig in, the Figure out and left
open, the backend never switched); the old structsparse.plots.nn still works, with a DeprecationWarning."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import structsparse.nn as nn  # noqa: E402
from structsparse.nn.plots import (accuracy_delta, latency_distribution, pixel_mask_figure,  # noqa: E402
                                   plot_pruning_path, plot_training, pruning_dashboard)


@pytest.fixture(scope="module")
def profiles():
    a, b = nn.small_cnn((4, 6), rng=0), nn.small_cnn((2, 3), rng=0)
    return {name: nn.profile(m, batch_sizes=(1, 4), runtime="numpy", n_runs=6, rng=0)
            for name, m in (("a", a), ("b", b))}


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
    fig = accuracy_delta(_result(), dense_acc=0.98)
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
                             X_val=X_te, y_val=y_te, rng=0)
    speed = nn.speedup(net, res.net, batch=16, repeats=1, rng=0)
    backend = matplotlib.get_backend()
    fig = pruning_dashboard(res, speed, nn.memory(net), nn.memory(res.net), tmp_path / "d.png",
                            profiles=profiles, dense_acc=net.score(X_te, y_te))
    assert (tmp_path / "d.png").stat().st_size > 10000
    assert plt.fignum_exists(fig.number)              # written, and left open for the caller
    assert len(fig.axes) == 6 and matplotlib.get_backend() == backend
    # into a given figure, without a file
    given = plt.figure()
    assert pruning_dashboard(res, speed, nn.memory(net), nn.memory(res.net), fig=given) is given
    assert len(given.axes) == 4 and plt.fignum_exists(given.number)
    # the pruning result draws its own path: one point per trial, the chosen one starred
    fig2, ax = plt.subplots()
    assert res.plot(ax=ax) is fig2
    line, star = ax.get_lines()[0], ax.get_lines()[1]
    pts = sorted(res.path, key=lambda e: (e["flops"], e["lam"]))
    np.testing.assert_allclose(line.get_data()[0], [e["flops"] / res.dense_flops for e in pts])
    np.testing.assert_allclose(star.get_data()[0], [res.flops_fraction])
    assert plt.fignum_exists(fig2.number) and matplotlib.get_backend() == backend
    # and the fine-tuning history its curves
    fig3 = res.history.plot()
    assert isinstance(fig3, matplotlib.figure.Figure)
    np.testing.assert_allclose(fig3.axes[0].get_lines()[0].get_data()[1], res.history.loss)
    for f in (fig, given, fig2, fig3):
        plt.close(f)


_RESULT = {"dense_flops": 100, "budget": 40, "lam": 0.3,
           "path": [{"lam": 0.1, "flops": 80, "val_acc": 0.97}, {"lam": 1.0, "flops": 20, "val_acc": 0.80},
                    {"lam": 0.3, "flops": 38, "val_acc": 0.95}, {"lam": 0.5, "flops": 45, "val_acc": 0.93}]}


def _result():
    return nn.PruneResult(net=None, lam=0.3, flops=38, dense_flops=100, budget=40.0, path=tuple(_RESULT["path"]))


@pytest.mark.parametrize("draw", [
    lambda ax: plot_pruning_path(_result(), ax=ax),
    lambda ax: accuracy_delta(_result(), 0.98, ax=ax),
    lambda ax: plot_training(nn.TrainHistory.from_lists({"loss": [2.0, 1.0], "train_acc": [0.5, 0.8],
                                                          "val_acc": [0.4, 0.7]}), ax=ax),
    lambda ax: _result().plot(ax=ax),
], ids=["plot_pruning_path", "accuracy_delta", "plot_training", "PruneResult.plot"])
def test_plot_functions_draw_into_the_given_axes(draw):
    backend = matplotlib.get_backend()
    fig, ax = plt.subplots()
    n_before = len(ax.get_lines())
    out = draw(ax)
    assert out is fig and len(ax.get_lines()) > n_before    # drew into this ax and returned its figure
    assert plt.fignum_exists(fig.number)                     # left open
    assert matplotlib.get_backend() == backend               # backend never switched
    plt.close(fig)


def test_pixel_mask_figure_returns_an_open_figure(tmp_path):
    fig = pixel_mask_figure([0, 9, 63], example=np.arange(64.0))
    image = fig.axes[0].get_images()[0].get_array()
    assert image.sum() == 3 and image[0, 0] == 1 and image[1, 1] == 1 and image[7, 7] == 1 and image[0, 1] == 0
    assert plt.fignum_exists(fig.number) and len(fig.axes) == 2
    given = plt.figure()
    assert pixel_mask_figure([1, 2], tmp_path / "p.png", fig=given) is given
    assert (tmp_path / "p.png").stat().st_size > 1000 and plt.fignum_exists(given.number)
    plt.close(fig)
    plt.close(given)
    with pytest.raises(TypeError, match="fig"):
        pixel_mask_figure([1], fig="figure")
    with pytest.raises(TypeError, match="ax"):
        plot_pruning_path(_result(), ax=3)


def test_old_plots_module_warns_and_forwards():
    import structsparse.plots.nn as old

    with pytest.warns(DeprecationWarning, match="structsparse.nn.plots.accuracy_delta"):
        fn = old.accuracy_delta
    assert fn is accuracy_delta
    with pytest.raises(AttributeError):
        old.nothing_here


def test_plots_accept_the_old_dicts_for_one_release():
    fig = accuracy_delta(dict(_RESULT), dense_acc=0.98)
    np.testing.assert_allclose(fig.axes[0].get_lines()[1].get_data()[0], [0.38])
    plt.close(fig)


def test_experiment_results_plot_themselves():
    from structsparse.nn.experiment import digits_pruning, pixel_selection

    out = digits_pruning("mlp", budget=0.5, quick=True, rng=0, verbose=False, speed_repeats=1)
    fig = out.plot()
    assert len(fig.axes) == 6 and plt.fignum_exists(fig.number)   # the dashboard with its accuracy-delta panel
    star = fig.axes[0].collections[0].get_offsets()[0]             # the test point after fine-tuning
    np.testing.assert_allclose(star, [out.result.flops_fraction, out.pruned_acc])
    assert out.result.final_acc == out.pruned_acc
    plt.close(fig)
    px = pixel_selection(lam=0.05, hidden=8, epochs=1, fine_tune=1, n_samples=200, rng=0)
    fig = px.plot()
    assert fig.axes[0].get_images()[0].get_array().sum() == len(px.kept_pixels)
    plt.close(fig)
