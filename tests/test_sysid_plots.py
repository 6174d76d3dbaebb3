"""Figures of the sysid front end draw what they are given, into the axes or figure given, return it open and
leave the backend alone; an identified model draws itself."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from structsparse import sysid  # noqa: E402
from structsparse.exceptions import ParameterError  # noqa: E402
from structsparse.sysid import example_system  # noqa: E402
from structsparse.sysid.plots import (plot_identified, plot_outputs, plot_patterns, plot_poles,  # noqa: E402
                                      save_figure)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def identified():
    system, pattern = example_system()
    rng = np.random.default_rng(0)
    u = rng.standard_normal((300, 2))
    y = system.simulate(u, measurement_noise=0.01, rng=rng).y
    return sysid.identify(u, y, 4, rng=0), u, y


def test_plot_patterns_marks_errors(tmp_path):
    system, _ = example_system()
    found = {"A": system.A.copy(), "B": system.B.copy()}
    found["A"][1, 0] = 0.3   # false positive
    found["A"][0, 0] = 0.0   # missed
    fig = plot_patterns(system, found)
    axes = fig.axes
    assert len(axes) == 4
    labels = [line.get_label() for line in axes[1].lines]
    assert "false positive" in labels and "missed" in labels
    fp = [line for line in axes[1].lines if line.get_label() == "false positive"][0]
    assert (fp.get_xdata()[0], fp.get_ydata()[0]) == (0, 1)
    save_figure(fig, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000


def test_plot_outputs_and_poles():
    y = np.random.default_rng(0).standard_normal((50, 2))
    fig = plot_outputs(y, y * 0.9, fit=[90.0, 80.0], names=["a", "b"], max_samples=20)
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), 0.9 * y[:20, 0])
    assert "90.00" in fig.axes[0].get_title()
    p = np.array([0.5, 0.2 + 0.3j, 0.2 - 0.3j])
    fig = plot_poles([p, p * 0.9], ["a", "b"])
    ax = fig.axes[0]
    pts = [line for line in ax.lines if line.get_label() == "a"][0]
    np.testing.assert_allclose(pts.get_xdata(), p.real)
    fig = plot_poles(p)  # a single set works too
    assert any(line.get_label() == "model 1" for line in fig.axes[0].lines)


def _calls(identified):
    system, _ = example_system()
    res, u, y = identified
    return {"plot_patterns": (lambda fig: plot_patterns(system, system, fig=fig), "fig"),
            "plot_outputs": (lambda fig: plot_outputs(y, res.y_sim, fig=fig), "fig"),
            "plot_poles": (lambda ax: plot_poles(system.poles(), ax=ax), "ax"),
            "plot_identified": (lambda fig: plot_identified(res, y=y, fig=fig), "fig")}


def test_every_plot_function_is_covered(identified):
    from structsparse.sysid import plots

    assert set(plots.__all__) == set(_calls(identified)) | {"save_figure"}


@pytest.mark.parametrize("name", ["plot_patterns", "plot_outputs", "plot_poles", "plot_identified"])
def test_plot_draws_where_it_is_told_keeps_the_backend_and_leaves_the_figure_open(name, identified, tmp_path):
    call, where = _calls(identified)[name]
    before = matplotlib.get_backend()
    plt.switch_backend("template")
    try:
        fig = plt.figure()
        target = fig.add_subplot() if where == "ax" else fig
        assert call(target) is fig
        assert fig.axes and all(a.lines or a.images for a in fig.axes)
        made = call(None)  # a new figure, from pyplot in the active backend
        assert made is not fig and plt.fignum_exists(made.number)
        save_figure(made, tmp_path / "f.png")
        assert plt.fignum_exists(made.number) and (tmp_path / "f.png").stat().st_size > 1000
        assert matplotlib.get_backend().lower() == "template"
    finally:
        plt.close("all")
        plt.switch_backend(before)


def test_identified_model_plot(identified):
    res, u, y = identified
    fig = res.plot(y=y, max_samples=100)
    assert isinstance(fig, matplotlib.figure.Figure)
    # one panel per output (measured, simulated) and one of poles
    assert len(fig.axes) == 3
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), res.y_sim[:100, 0])
    assert f"{sysid.fit_index(y, res.y_sim)[0]:.2f}" in fig.axes[0].get_title()
    poles = [ln for ln in fig.axes[2].lines if ln.get_label().startswith(res.method)][0]
    np.testing.assert_allclose(np.sort(poles.get_xdata()), np.sort(res.model.poles().real))
    # a model read back from a file holds no simulation: the inputs give one
    with pytest.raises(ParameterError, match="'u'"):
        plot_identified(type(res)(res.model, res.x0, res.fit, res.nrmse, res.pattern, res.method), y=y)
    fig = plot_identified(type(res)(res.model, res.x0, res.fit, res.nrmse, res.pattern, res.method), y=y, u=u)
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), res.y_sim[:, 0])
    with pytest.raises(TypeError, match="result"):
        plot_identified(res.model)


def test_old_module_warns_and_reexports():
    import importlib
    import sys

    sys.modules.pop("structsparse.plots.sysid", None)
    with pytest.warns(DeprecationWarning, match="structsparse.sysid.plots"):
        old = importlib.import_module("structsparse.plots.sysid")
    assert old.plot_outputs is plot_outputs and old.save_figure is save_figure
