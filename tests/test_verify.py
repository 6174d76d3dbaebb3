"""`structsparse verify`: FISTA matches cvxpy on random problems; a broken solver is caught."""

import numpy as np
import pytest
from scipy.sparse import issparse
from scipy.sparse.linalg import LinearOperator

import structsparse.verify as verify_module
from structsparse.cli import main
from structsparse.exceptions import ParameterError
from structsparse.penalties.registry import PENALTY_NAMES
from structsparse.solvers.cvxpy_reference import reference_objective
from structsparse.verify import random_problem, verify


@pytest.mark.parametrize("name", PENALTY_NAMES)
def test_fista_matches_cvxpy_on_20_random_problems(name):
    # issue 2 item 9: relative objective difference <= 1e-6 on at least 20 random problems per penalty
    rows = verify(seed=2024, n_problems=20, tol=1e-6, penalties=[name], out=None, max_features=20)
    assert len(rows) == 20
    failed = [r for r in rows if not r.passed]
    assert not failed, failed
    assert all(r.rel_obj_diff <= 1e-6 for r in rows)
    # the draws cover every kind of design and both vector and matrix unknowns
    assert {r.kind for r in rows} == {"dense", "sparse", "operator"}
    n_dims = {r.size.count("x") for r in rows}
    assert n_dims == ({2} if name == "nuclear_norm" else {1, 2})


def test_verify_prints_a_table_and_returns_rows():
    lines = []
    rows = verify(seed=1, n_problems=3, out=lines.append, max_features=12)
    assert len(rows) == 3 * len(PENALTY_NAMES)
    assert all(r.passed for r in rows)
    assert [r.penalty for r in rows[::3]] == list(PENALTY_NAMES)
    text = "\n".join(lines)
    for column in ("penalty", "size", "rel obj diff", "max |dx|", "fista s", "cvxpy s", "result"):
        assert column in text
    assert sum(line.endswith("  pass") for line in lines) == len(rows)
    assert f"{len(rows)}/{len(rows)} passed" in lines[-1]


def test_random_problem_kinds_and_lam():
    rng = np.random.default_rng(3)
    for kind, check in (("dense", lambda A: isinstance(A, np.ndarray)), ("sparse", issparse),
                        ("operator", lambda A: isinstance(A, LinearOperator))):
        prob = random_problem("group_lasso", rng, kind=kind, n_targets=2, max_features=15)
        assert check(prob.loss.A)
        assert prob.loss.x_shape[1] == 2 and prob.loss.x_shape[0] <= 15
        assert 0.05 <= prob.lam_ratio <= 0.8
    nuc = random_problem("nuclear_norm", rng)
    assert len(nuc.loss.x_shape) == 2  # a matrix unknown even when n_targets is not given
    with pytest.raises(ParameterError, match="kind"):
        random_problem("l1", rng, kind="banded")
    with pytest.raises(ParameterError, match="Unknown penalty"):
        random_problem("l0", rng)


def test_cli_exit_zero():
    assert main(["verify", "--n-problems", "1", "--max-features", "10"]) == 0


def _off_by_one_percent(loss, penalty, **kwargs):
    """A deliberately broken solver: right method, answer scaled by 1.01."""
    from structsparse.solvers.fista import fista

    res = fista(loss, penalty, **kwargs)
    res.x = res.x * 1.01
    return res


def test_broken_solver_fails(monkeypatch, capsys):
    monkeypatch.setattr(verify_module, "fista", _off_by_one_percent)
    rows = verify(seed=0, n_problems=2, penalties=["group_lasso", "tree_lasso"], out=None, max_features=12)
    assert not any(r.passed for r in rows)
    assert all(r.rel_obj_diff > 1e-6 for r in rows)
    assert main(["verify", "--n-problems", "1", "--penalties", "l1"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_crashing_solvers_are_failed_rows(monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(verify_module, "fista", crash)
    rows = verify(seed=0, n_problems=1, penalties=["l1"], out=None)
    assert not rows[0].passed and "boom" in rows[0].note
    monkeypatch.undo()
    monkeypatch.setattr(verify_module, "solve_cvxpy", crash)
    rows = verify(seed=0, n_problems=1, penalties=["l1"], out=None)
    assert not rows[0].passed and "cvxpy raised" in rows[0].note


def test_objectives_compared_by_the_same_function(monkeypatch):
    # a solver that lies about its objective but returns a good x still passes: only x is scored
    from structsparse.solvers.fista import fista

    def liar(loss, penalty, **kwargs):
        res = fista(loss, penalty, **kwargs)
        res.objective = -1.0
        return res

    monkeypatch.setattr(verify_module, "fista", liar)
    rows = verify(seed=5, n_problems=2, penalties=["sparse_group_lasso"], out=None, max_features=12)
    assert all(r.passed for r in rows)
    prob = random_problem("l1", 0)
    assert reference_objective(prob.loss, prob.penalty, np.zeros(prob.loss.x_shape)) == pytest.approx(
        0.5 * float(np.sum(prob.loss.y ** 2)))


def test_bad_input(capsys):
    with pytest.raises(ParameterError, match="n_problems"):
        verify(n_problems=0)
    with pytest.raises(ParameterError, match="tol"):
        verify(tol=-1.0)
    with pytest.raises(ParameterError, match="seed"):
        verify(seed=-3)
    with pytest.raises(ParameterError, match="penalties"):
        verify(penalties=["no_such_penalty"])
    with pytest.raises(ParameterError, match="penalties"):
        verify(penalties=[])
    with pytest.raises(ParameterError, match="out"):
        verify(out="stdout")
    assert main(["verify", "--penalties", "no_such_penalty"]) == 2
    assert "no_such_penalty" in capsys.readouterr().err
    assert main(["verify", "--tol", "-1"]) == 2


def test_cli_json_output(tmp_path):
    import json

    path = tmp_path / "rows.json"
    assert main(["verify", "--n-problems", "1", "--max-features", "8", "--penalties", "l1", "tree_lasso",
                 "--json", str(path)]) == 0
    rows = json.loads(path.read_text())
    assert [r["penalty"] for r in rows] == ["l1", "tree_lasso"]
    assert all(r["passed"] and r["rel_obj_diff"] <= 1e-6 for r in rows)
    assert [p.name for p in tmp_path.iterdir()] == ["rows.json"]
    # an unwritable destination is a clear error (exit 2), not a traceback
    assert main(["verify", "--n-problems", "1", "--penalties", "l1", "--json", str(tmp_path / "no" / "x.json")]) == 2
