"""The solver part of `structsparse demo`."""

import dataclasses

import numpy as np

import structsparse as ss
import structsparse.solvers.tour as tour


def test_demo_part_passes_and_writes_figure(tmp_path, capsys):
    assert tour.demo_part(tmp_path, 0) is True
    out = capsys.readouterr().out
    for title in ("group lasso", "tree lasso", "sparse-group lasso"):
        assert title in out
    assert out.count(" ok") == 3
    # ss.solve against cvxpy, each line naming the solver ss.solve picked (not FISTA for every problem)
    assert "ss.solve" in out and "FISTA against" not in out
    lines = out.splitlines()
    for title, loss, penalty, _, _ in tour.tour_problems(0):
        line = next(line for line in lines if line.startswith(title + "  "))
        assert line.split()[title.count(" ") + 2] == ss.solve(loss, penalty, tol=1e-9).solver, line
    assert {line.split()[3] for line in lines if line.startswith("group lasso  ")} == {"solve_block"}
    figure = tmp_path / "solvers_coefficients.png"
    assert figure.stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["solvers_coefficients.png"]  # no temporary file left


def test_demo_part_fails_when_the_solver_is_wrong(tmp_path, monkeypatch, capsys):
    real = tour.solve

    def shrunk(loss, penalty, **kwargs):
        res = real(loss, penalty, **kwargs)
        return dataclasses.replace(res, x=np.asarray(res.x) * 0.98)

    monkeypatch.setattr(tour, "solve", shrunk)
    assert tour.demo_part(tmp_path, 1) is False
    assert "FAILED" in capsys.readouterr().out


def test_tour_problems_take_rng_and_seed_is_deprecated():
    import pytest

    a = tour.tour_problems(5)
    b = tour.tour_problems(np.random.default_rng(5))
    assert all(np.array_equal(p[1].A, q[1].A) for p, q in zip(a, b))  # an int seeds a Generator
    with pytest.warns(DeprecationWarning, match="'seed=' is deprecated"):
        c = tour.tour_problems(seed=5)
    assert all(np.array_equal(p[3], q[3]) for p, q in zip(a, c))
    fresh = tour.tour_problems()  # None: fresh entropy
    assert not np.array_equal(fresh[0][1].A, a[0][1].A) or fresh[0][1].A.shape != a[0][1].A.shape


def test_run_demo_rng_and_deprecated_seed(tmp_path, monkeypatch):
    import pytest

    from structsparse import demo
    from structsparse.exceptions import ParameterError

    seen = []

    class Part:
        @staticmethod
        def demo_part(out_dir, rng):
            seen.append(rng)
            return True

    monkeypatch.setattr(demo, "_available_parts", lambda: {"solvers": Part})
    assert demo.run_demo(tmp_path, rng=7) and seen[-1] == 7
    with pytest.warns(DeprecationWarning, match="'seed=' is deprecated"):
        assert demo.run_demo(tmp_path, seed=8) and seen[-1] == 8
    assert demo.run_demo(tmp_path, rng=np.random.default_rng(0)) and isinstance(seen[-1], int)
    assert demo.run_demo(tmp_path, rng=None) and isinstance(seen[-1], int)
    with pytest.raises(ParameterError, match="parts"):
        demo.run_demo(tmp_path, parts=["nope"])
    with pytest.raises(TypeError, match="parts"):
        demo.run_demo(tmp_path, parts="solvers")
