"""Compressive-sensing figures: what they draw, and that they are written atomically."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from structsparse import cs  # noqa: E402
from structsparse.exceptions import ParameterError, ShapeError  # noqa: E402
from structsparse.plots.cs import plot_phase_transition, plot_recovery, plot_rip, save_figure  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _is_png(path):
    with open(path, "rb") as fh:
        return fh.read(8) == PNG_MAGIC


def _span_edges(ax):
    """(left, right) of every axvspan (drawn as Rectangle patches in recent matplotlib, polygons before)."""
    edges = []
    for p in ax.patches:
        if hasattr(p, "get_x"):
            edges.append((p.get_x(), p.get_x() + p.get_width()))
        else:
            xy = p.get_xy()
            edges.append((xy[:, 0].min(), xy[:, 0].max()))
    return sorted(edges)


def test_block_recovery_shades_exactly_the_active_blocks(tmp_path):
    model = cs.BlockSparse(64, 4, 3)
    x = np.zeros(64)
    x[8:12] = 1.0  # block 2
    x[12:16] = -2.0  # block 3, adjacent: one shaded run
    x[40:44] = 0.5  # block 10
    path = tmp_path / "block.png"
    fig = plot_recovery(x, x * 0.9, model, path=path)
    ax = fig.axes[0]
    assert _span_edges(ax) == [(7.5, 15.5), (39.5, 43.5)]
    assert _is_png(path)
    # the title reports the relative error of the recovered signal
    assert "1.0e-01" in ax.get_title()


def test_tree_recovery_shows_signal_and_coefficients(tmp_path):
    model = cs.TreeSparse(128, 20, "db2")
    coef = model.sample(rng=0)
    fig = plot_recovery(coef, coef, model, path=tmp_path / "tree.png")
    ax_signal, ax_coef = fig.axes[:2]
    # first panel: the signal synthesized from the coefficients
    np.testing.assert_allclose(ax_signal.lines[0].get_ydata(), model.signal(coef))
    # second panel: shaded indices are exactly the tree support
    shaded = np.zeros(128, bool)
    for lo, hi in _span_edges(ax_coef):
        shaded[int(np.ceil(lo)):int(np.floor(hi)) + 1] = True
    assert np.array_equal(np.flatnonzero(shaded), np.flatnonzero(coef))
    assert _is_png(tmp_path / "tree.png")


def test_sparse_recovery_shades_nonzeros():
    x = np.zeros(30)
    x[[3, 4, 20]] = 1.0
    fig = plot_recovery(x, np.zeros(30), cs.Sparse(30, 3))
    assert _span_edges(fig.axes[0]) == [(2.5, 4.5), (19.5, 20.5)]


def test_phase_plot_overlays_prediction_and_half_point(tmp_path):
    model = cs.BlockSparse(256, 8, 4)
    rates = {"group_lasso": (np.array([40, 60, 80, 100]), np.array([0.0, 0.25, 0.75, 1.0])),
             "model_cosamp": (np.array([40, 60, 80, 100]), np.array([0.5, 1.0, 1.0, 1.0]))}
    path = tmp_path / "phase.png"
    fig = plot_phase_transition(rates, model, path=path)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.lines}
    # the curve is the success rates given
    np.testing.assert_allclose(lines["group_lasso"].get_ydata(), rates["group_lasso"][1])
    # the statistical-dimension prediction of the convex method, and none for the greedy one
    pred = cs.predicted_threshold(model, "group_lasso")
    vline = [ln for lbl, ln in lines.items() if lbl.startswith("group_lasso predicted")]
    assert len(vline) == 1 and np.allclose(vline[0].get_xdata(), pred)
    assert not any(lbl.startswith("model_cosamp predicted") for lbl in lines)
    # 50 % point interpolated between M=60 (0.25) and M=80 (0.75): M=70
    crosses = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert sorted(float(c.get_xdata()[0]) for c in crosses) == [40.0, 70.0]
    assert _is_png(path)


def test_phase_plot_from_a_tidy_table():
    rows = [{"method": "l1", "m": m, "trial": t, "success": m >= 30 + 10 * t, "error": 0.0, "time": 0.0, "n_iter": 1}
            for m in (20, 30, 40, 50) for t in range(2)]
    fig = plot_phase_transition(rows)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [0.0, 0.5, 1.0, 1.0])
    with pytest.raises(ParameterError, match="table"):
        plot_phase_transition([])


def test_rip_plot_bars_are_the_bounds(tmp_path):
    A = cs.gaussian(40, 64, rng=0)
    ests = [cs.rip_estimate(A, cs.BlockSparse(64, 4, 2), n_samples=5, search=s, rng=1) for s in ("random", "swap")]
    fig = plot_rip(ests, labels=["random", "swap"], path=tmp_path / "rip.png")
    heights = [p.get_height() for p in fig.axes[1].patches]
    expected = [e.delta_model for e in ests] + [e.delta_plain for e in ests]
    np.testing.assert_allclose(heights, expected)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), ests[0].history_model)
    assert _is_png(tmp_path / "rip.png")
    with pytest.raises(ParameterError, match="estimates"):
        plot_rip([])


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    fig = plot_recovery(np.ones(8), np.ones(8))
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")
    save_figure(fig, target)
    assert _is_png(target)
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_figure(fig, tmp_path / "missing" / "fig.png")


def test_bad_input_names_the_argument():
    with pytest.raises(ShapeError, match="x_rec"):
        plot_recovery(np.ones(8), np.ones(7))
    with pytest.raises(ShapeError, match="model"):
        plot_recovery(np.ones(8), np.ones(8), cs.Sparse(16, 2))
    with pytest.raises(ValueError, match="x_true"):
        plot_recovery(np.array([np.nan, 1.0]), np.ones(2))


def test_unknown_truth_draws_no_support_and_no_error():
    model = cs.BlockSparse(32, 4, 2)
    x_rec = np.zeros(32)
    x_rec[:4] = 1.0
    ax = plot_recovery(np.zeros(32), x_rec, model).axes[0]
    assert len(ax.patches) == 0
    assert "unknown" in ax.get_title() and "error" not in ax.get_title()
    recovered = [ln for ln in ax.lines if ln.get_label() == "recovered"]
    np.testing.assert_allclose(recovered[0].get_ydata(), x_rec)


def test_real_recovery_figure_draws_three_panels(tmp_path):
    from structsparse.plots.cs import plot_real_recovery

    rng = np.random.default_rng(0)
    img = rng.random((16, 16))
    back, rec = img * 0.5, img + 0.01
    metrics = {"back-projection": (cs.psnr(img, back, 1.0), cs.ssim(img, back, 1.0)),
               "recovery": (cs.psnr(img, rec, 1.0), cs.ssim(img, rec, 1.0))}
    fig = plot_real_recovery(img, back, rec, metrics=metrics, path=tmp_path / "img.png")
    assert _is_png(tmp_path / "img.png")
    axes = fig.axes
    assert len(axes) == 3 and all(len(a.images) == 1 for a in axes)
    assert np.array_equal(axes[2].images[0].get_array(), rec)
    assert axes[0].images[0].get_clim() == axes[1].images[0].get_clim() == (img.min(), img.max())
    assert f"PSNR {metrics['recovery'][0]:.2f} dB" in axes[2].get_title()
    # 1-D signals on axes the caller gives; the errors in the titles are the true relative errors
    sig = np.sin(np.linspace(0, 6, 64))
    fig2, ax = plt.subplots(1, 3)
    out = plot_real_recovery(sig, 0 * sig, 1.1 * sig, ax=ax)
    assert out is fig2 and "relative error 1.000" in ax[1].get_title() and "relative error 0.100" in ax[2].get_title()
    with pytest.raises(ShapeError, match="original"):
        plot_real_recovery(sig, sig[:10], sig)
    with pytest.raises(ParameterError, match="ax"):
        plot_real_recovery(sig, sig, sig, ax=ax[:2])
