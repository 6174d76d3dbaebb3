"""Compressive-sensing figures: what they draw, that they follow the plotting rules (drawn into the axes given,
returned open, backend untouched), that results draw themselves, and that they are written atomically."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from structsparse import cs  # noqa: E402
from structsparse.exceptions import ParameterError, ShapeError  # noqa: E402
from structsparse.cs.plots import (plot_phase_transition, plot_real_recovery, plot_recovery, plot_rip,  # noqa: E402
                                   save_figure)

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


# ----------------------------------------------------------------------------- the plotting rules
def _rows():
    return [{"method": "l1", "m": m, "trial": t, "success": m >= 30 + 10 * t, "error": 0.0, "time": 0.0, "n_iter": 1}
            for m in (20, 30, 40, 50) for t in range(2)]


def _estimate():
    return cs.rip_estimate(cs.gaussian(30, 64, rng=0), cs.BlockSparse(64, 4, 2), n_samples=3, rng=1)


def _calls():
    """Every plot function of cs.plots with valid arguments, and how many axes it draws into."""
    x = np.zeros(32)
    x[4:8] = 1.0
    sig = np.sin(np.linspace(0, 6, 32))
    return {"plot_recovery": (lambda **kw: plot_recovery(x, 0.9 * x, cs.BlockSparse(32, 4, 1), **kw), 1),
            "plot_phase_transition": (lambda **kw: plot_phase_transition(_rows(), **kw), 1),
            "plot_rip": (lambda **kw: plot_rip(_estimate(), **kw), 2),
            "plot_real_recovery": (lambda **kw: plot_real_recovery(sig, 0.5 * sig, sig, **kw), 3)}


def test_every_plot_function_is_covered():
    from structsparse.cs import plots

    drawn = set(_calls()) | {"save_figure"}
    assert set(plots.__all__) == drawn


@pytest.mark.parametrize("name", sorted(_calls()))
def test_plot_draws_into_the_axes_given_and_returns_their_figure(name):
    call, n_axes = _calls()[name]
    fig, axes = plt.subplots(1, n_axes)
    axes = axes if n_axes > 1 else [axes]
    out = call(ax=axes if n_axes > 1 else axes[0])
    assert out is fig
    assert all(a.lines or a.patches or a.images for a in axes)  # every axes given received the drawing
    assert len(fig.axes) == n_axes  # and no other axes were added
    assert plt.fignum_exists(fig.number)


@pytest.mark.parametrize("name", sorted(_calls()))
def test_plot_keeps_the_backend_and_leaves_its_figure_open(name, tmp_path):
    call, _ = _calls()[name]
    before = matplotlib.get_backend()
    plt.switch_backend("template")  # a backend the old code replaced by Agg
    try:
        fig = call(path=tmp_path / "f.png")
        assert matplotlib.get_backend().lower() == "template"
        assert plt.fignum_exists(fig.number)  # saving did not close it
        assert _is_png(tmp_path / "f.png")
        save_figure(fig, tmp_path / "g.png")
        assert plt.fignum_exists(fig.number)
    finally:
        plt.close("all")
        plt.switch_backend(before)


def test_fig_and_ax_together_are_refused():
    fig, ax = plt.subplots()
    with pytest.raises(ParameterError, match="fig"):
        plot_phase_transition(_rows(), fig=fig, ax=ax)
    with pytest.raises(TypeError, match="'ax'"):
        plot_rip(_estimate(), ax="axes")


def test_tree_recovery_into_one_axes_draws_the_coefficients():
    model = cs.TreeSparse(64, 10, "db2")
    coef = model.sample(rng=0)
    fig, ax = plt.subplots()
    assert plot_recovery(coef, coef, model, ax=ax) is fig
    recovered = [ln for ln in ax.lines if ln.get_label() == "recovered"]
    np.testing.assert_allclose(recovered[0].get_ydata(), coef)


# ----------------------------------------------------------------------------- results draw themselves
def test_recovery_result_plot():
    model = cs.BlockSparse(128, 8, 2)
    A = cs.gaussian(60, 128, rng=0)
    x0 = model.sample(rng=1)
    res = cs.recover(A, A @ x0, model, method="model_cosamp")
    fig = res.plot(x0, model)
    assert isinstance(fig, matplotlib.figure.Figure) and plt.fignum_exists(fig.number)
    recovered = [ln for ln in fig.axes[0].lines if ln.get_label() == "recovered"]
    np.testing.assert_allclose(recovered[0].get_ydata(), res.x)
    # the active blocks of x0 are shaded
    shaded = np.zeros(128, bool)
    for lo, hi in _span_edges(fig.axes[0]):
        shaded[int(np.ceil(lo)):int(np.floor(hi)) + 1] = True
    assert np.array_equal(shaded, np.repeat(model.block_norms(x0) > 0, 8))
    fig2, ax = plt.subplots()
    assert res.plot(ax=ax) is fig2 and "unknown" in ax.get_title()  # no truth given


def test_phase_table_and_rip_estimate_plot():
    table = cs.PhaseTable(_rows())
    fig, ax = plt.subplots()
    assert table.plot(ax=ax) is fig
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.0, 0.5, 1.0, 1.0])
    est = _estimate()
    fig = est.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    np.testing.assert_allclose([p.get_height() for p in fig.axes[1].patches], [est.delta_model, est.delta_plain])


def test_old_module_warns_and_reexports():
    import importlib
    import sys

    sys.modules.pop("structsparse.plots.cs", None)
    with pytest.warns(DeprecationWarning, match="structsparse.cs.plots"):
        old = importlib.import_module("structsparse.plots.cs")
    assert old.plot_recovery is plot_recovery and old.save_figure is save_figure
