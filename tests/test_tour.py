"""The solver part of `structsparse demo`."""

import numpy as np

import structsparse.solvers.tour as tour


def test_demo_part_passes_and_writes_figure(tmp_path, capsys):
    assert tour.demo_part(tmp_path, 0) is True
    out = capsys.readouterr().out
    for title in ("group lasso", "tree lasso", "sparse-group lasso"):
        assert title in out
    assert out.count(" ok") == 3
    figure = tmp_path / "solvers_coefficients.png"
    assert figure.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["solvers_coefficients.png"]  # no temporary file left


def test_demo_part_fails_when_fista_is_wrong(tmp_path, monkeypatch, capsys):
    real = tour.fista

    def shrunk(loss, penalty, **kwargs):
        res = real(loss, penalty, **kwargs)
        res.x = np.asarray(res.x) * 0.98
        return res

    monkeypatch.setattr(tour, "fista", shrunk)
    assert tour.demo_part(tmp_path, 1) is False
    assert "FAILED" in capsys.readouterr().out
