"""Figures of the sysid front end draw what they are given."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from structsparse.plots.sysid import plot_outputs, plot_patterns, plot_poles, save_figure  # noqa: E402
from structsparse.sysid import example_system  # noqa: E402


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
