"""`structsparse verify`: every valid (datafit, penalty, solver) triple and ss.solve against cvxpy; broken solvers
are caught, never hidden."""

import dataclasses
import importlib
import json

import numpy as np
import pytest
from scipy.sparse import issparse
from scipy.sparse.linalg import LinearOperator

import structsparse as ss
import structsparse.verify as verify_module
from structsparse.cli import main
from structsparse.datafits.registry import accepts_several_targets, datafit_names, random_datafit
from structsparse.exceptions import ParameterError
from structsparse.penalties.registry import penalty_names, random_penalty
from structsparse.solvers.cvxpy_reference import reference_objective
from structsparse.solvers.result import SolverResult
from structsparse.verify import AUTO, compare, random_problem, summarize, verify

# the modules (the package re-exports functions of the same names)
fista_module = importlib.import_module("structsparse.solvers.fista")
working_set_module = importlib.import_module("structsparse.solvers.working_set")


def _expected_solvers(problem):
    return [s for s in ss.valid_solvers(problem.datafit, problem.penalty) if s != "cvxpy"] + [AUTO]


def test_default_run_covers_every_registered_pair_and_passes():
    # the default `structsparse verify`: every datafit x every penalty, every valid solver and auto, all pass
    lines = []
    rows = verify(out=lines.append)
    pairs = {(r.datafit, r.penalty) for r in rows}
    assert pairs == {(d, p) for d in datafit_names() for p in penalty_names()}
    failed = [r for r in rows if not r.passed]
    assert not failed, "\n".join(f"{r} {r.note}" for r in failed)
    assert all(r.rel_obj_diff <= 1e-6 for r in rows)
    # every problem has an auto row and a fista row; solve_block only on explicit matrices
    for d, p in pairs:
        solvers = {r.solver for r in rows if (r.datafit, r.penalty) == (d, p)}
        assert {AUTO, "fista"} <= solvers and "cvxpy" not in solvers
        kinds = {r.kind for r in rows if (r.datafit, r.penalty) == (d, p)}
        if "solve_block" in solvers:
            assert kinds != {"operator"}
    assert {r.kind for r in rows} == {"dense", "sparse", "operator"}
    assert {r.solver for r in rows} >= {"solve_block", "fista", "admm", "solve_latent", AUTO}
    # every valid triple has a row: each solver that accepts the pair on an explicit matrix with one target
    # (the design admitting the most solvers), even when the pair's cycled problem was an operator or had
    # several targets (solve_block then gets a problem of its own)
    A = np.random.default_rng(0).standard_normal((12, 8))
    for d, p in pairs:
        fit = random_datafit(d, A, np.random.default_rng(1))
        pen = random_penalty(p, 8, np.random.default_rng(1))
        want = {s for s in ss.valid_solvers(fit, pen) if s != "cvxpy"}
        have = {r.solver for r in rows if (r.datafit, r.penalty) == (d, p)}
        assert want <= have, (d, p, want - have)
    for r in rows:
        if r.solver == "solve_block":
            assert r.kind != "operator" and (r.datafit == "least_squares" or r.size.count("x") == 1)
    # several right-hand sides appear, only for datafits that take them
    multi = {r.datafit for r in rows if r.size.count("x") == 2}
    assert multi and all(accepts_several_targets(d) for d in multi)
    text = "\n".join(lines)
    header = next(line for line in lines if line.startswith("datafit "))
    for column in ("datafit", "penalty", "solver", "ran", "rel obj diff", "max |dx|", "compile s", "solver s",
                   "cvxpy s"):
        assert column in header
    _assert_table_aligned(lines)
    _assert_problems_counted(lines, rows)
    assert f"{len(rows)}/{len(rows)} passed" in lines[-1]
    for solver, s in summarize(rows).items():
        assert f"{solver:<12} {s['passed']:>4}/{s['rows']:<4} passed" in text


def _assert_table_aligned(lines):
    """Every row's value starts under its column's title, whatever the length of the names (solve_latent/...)."""
    header = next(line for line in lines if line.startswith("datafit "))
    body = [line for line in lines if line.endswith((" pass", " FAIL")) or "  FAIL  (" in line]
    assert body
    starts = [header.index(t) for t in ("penalty", "solver", "ran", "A ", "size", "result")]
    for line in body:
        for start in starts:
            assert line[start - 1] == " " and line[start] != " ", (line, start)
        assert line[starts[-1]:].startswith(("pass", "FAIL")), line


def _assert_problems_counted(lines, rows):
    """The header says what runs: the pair problems and the completing ones, as many as the rows show."""
    import re

    assert any("random problem per (datafit, penalty) pair" in line for line in lines[:3])
    assert any("plus one with a dense or sparse design and one right-hand side" in line for line in lines[:3])
    counts = next(re.search(r"(\d+) problems for the pairs and (\d+) completing ones", line) for line in lines
                  if " completing ones" in line)
    problems = {(r.datafit, r.penalty, r.kind, r.size, r.lam_ratio) for r in rows}
    assert int(counts[1]) + int(counts[2]) == len(problems)
    assert int(counts[1]) == len({(r.datafit, r.penalty) for r in rows})  # one per pair at n_problems=1


def test_long_solver_names_keep_the_table_aligned():
    # solve_latent/solve_block (24 characters) used to push every later column of its row to the right
    lines = []
    rows = verify(rng=0, datafits=["least_squares", "logistic"], penalties=["latent_group_lasso", "l1"],
                  solvers=["solve_latent", AUTO], out=lines.append)
    assert any(r.ran == "solve_latent/solve_block" for r in rows) and all(r.passed for r in rows)
    _assert_table_aligned(lines)
    _assert_problems_counted(lines, rows)


def test_completing_problems_are_counted_in_the_header_and_summary():
    # logistic x sparse_group_lasso draws an operator design: solve_block gets a completing problem of its own
    lines = []
    rows = verify(rng=0, datafits=["logistic"], penalties=["l1", "group_lasso", "sparse_group_lasso"],
                  out=lines.append)
    _assert_problems_counted(lines, rows)
    assert any("3 problems for the pairs and 1 completing ones" in line for line in lines)


def test_numba_compilation_is_reported_apart_from_the_solver_time(monkeypatch):
    """The first call of a kernel compiles it: that time goes to time_compile, not to time_solver.

    A solver that calls a kernel no call has compiled yet (a fresh njit function, not cached on disk) compiles it
    on the problem's first row, inside numba's compiler; the next row with the same argument types compiles nothing.
    """
    from numba import njit

    @njit(cache=False)
    def _fresh_kernel(x):
        total = 0.0
        for v in x:
            total += v * v
        return total

    def fista_with_a_fresh_kernel(loss, penalty, **kwargs):
        _fresh_kernel(np.zeros(3))
        return _real_fista(loss, penalty, **kwargs)

    monkeypatch.setattr(fista_module, "fista", fista_with_a_fresh_kernel)
    prob = random_problem("tree_lasso", 0, max_features=8)
    first, second = compare(prob, ["fista", "fista"])
    assert first.passed and second.passed
    assert first.time_compile > 0 and second.time_compile == 0.0
    assert first.time_solver >= 0 and second.time_solver >= 0


def test_compilation_does_not_count_against_the_time_limit(monkeypatch):
    """A first run after an install compiles for tens of seconds (logistic solve_block: 45-60 s, over the 60 s limit
    under load): that used to stop the solver as too slow and fail its row. The limit counts the solver's own time.

    Here a solver compiles a fresh kernel for three argument types (about 0.1 s each once numba is loaded: one
    alone measured 0.099 s in a fresh-clone run and failed the bound), then iterates a few times asking the
    time-limit callback; the limit (0.1 s) is below the compilation and far above the iterations.
    """
    from numba import njit

    @njit(cache=False)
    def _fresh_kernel(x):
        total = 0.0
        for v in x:
            total += np.sin(v) * v
        return total

    def compiles_then_iterates(loss, penalty, callback=None, **kwargs):
        for dtype in (np.float64, np.float32, np.int64):   # three signatures: three compilations
            _fresh_kernel(np.zeros(3, dtype=dtype))
        res = _real_fista(loss, penalty, **kwargs)
        stopped = any(callback(k, res.x, {}) for k in range(5))
        return dataclasses.replace(res, converged=not stopped, message="stopped by the callback" if stopped else "")

    monkeypatch.setattr(fista_module, "fista", compiles_then_iterates)
    prob = random_problem("tree_lasso", 0, max_features=8)
    (row,) = compare(prob, ["fista"], time_limit=0.1)
    assert row.passed, row.note  # used to fail: "fista did not converge: stopped by the callback"
    assert row.time_compile > 0.1


@pytest.mark.parametrize("argv,named", [
    (["--datafits", "logistic", "--solvers", "admm"], ("'admm'", "logistic x l1", "least-squares form")),
    (["--solvers", "solve_block", "--penalties", "tree_lasso"],
     ("'solve_block'", "tree_lasso", "block-separable thresholds; TreeLasso has none")),
    (["--solvers", "fista", "admm", "--datafits", "huber", "--penalties", "l1"], ("'admm'", "huber x l1")),
])
def test_a_solver_no_selected_pair_admits_is_a_usage_error(argv, named, capsys):
    # it used to print an empty table, "0/0 passed", and exit 1 (a failed check) without saying why
    assert main(["verify"] + argv) == 2
    captured = capsys.readouterr()
    assert "0/0" not in captured.out and "passed" not in captured.out
    for text in named:
        assert text in captured.err, captured.err
    with pytest.raises(ParameterError, match="no valid \\(datafit, penalty, solver\\) triple"):
        verify(datafits=["logistic"], solvers=["admm"], out=None)


def test_a_solver_some_selected_pair_admits_runs_where_it_is_valid():
    rows = verify(rng=0, datafits=["huber"], penalties=["l1", "tree_lasso"], solvers=["solve_block"], out=None)
    assert rows and {(r.penalty, r.solver) for r in rows} == {("l1", "solve_block")} and all(r.passed for r in rows)


@pytest.mark.parametrize("datafit,penalty,kind", [
    ("least_squares", "group_lasso", "dense"), ("least_squares", "group_lasso", "operator"),
    ("logistic", "overlap_group_lasso", "sparse"), ("poisson", "latent_group_lasso", "dense"),
])
def test_compare_runs_exactly_the_valid_solvers(datafit, penalty, kind):
    prob = random_problem(penalty, 4, datafit=datafit, kind=kind, max_features=10)
    rows = compare(prob)
    assert [r.solver for r in rows] == _expected_solvers(prob)
    assert all(r.passed for r in rows), [(r, r.note) for r in rows]
    auto = rows[-1]
    assert auto.ran.split("/")[0] == ss.solve(prob.datafit, prob.penalty).solver.split("/")[0]
    if kind == "operator":
        assert "solve_block" not in [r.solver for r in rows]


def test_a_solver_the_cycled_problem_excludes_gets_a_problem_of_its_own():
    # third pair of the cycle: an operator design, where solve_block cannot run; it gets an explicit-matrix problem
    kw = dict(rng=0, datafits=["logistic"], penalties=["l1", "group_lasso", "sparse_group_lasso"], out=None)
    rows = verify(**kw)
    sgl = [r for r in rows if r.penalty == "sparse_group_lasso"]
    fista = [r for r in sgl if r.solver == "fista"]
    block = [r for r in sgl if r.solver == "solve_block"]
    assert [r.kind for r in fista] == ["operator"]
    assert len(block) == 1 and block[0].kind in ("dense", "sparse") and block[0].passed
    assert block[0].size != fista[0].size or block[0].lam_ratio != fista[0].lam_ratio  # another problem
    assert [r.ran for r in sgl if r.solver == AUTO] == ["fista", "solve_block"]  # auto on both problems
    # the completing problem draws apart: the cycled problems are those of a run that needs no completion
    alone = verify(solvers=["fista"], **kw)
    assert [(r.penalty, r.kind, r.size, r.lam_ratio) for r in rows if r.solver == "fista"] == \
        [(r.penalty, r.kind, r.size, r.lam_ratio) for r in alone]
    # a solvers filter that leaves nothing to complete draws nothing more
    assert {r.solver for r in alone} == {"fista"} and len(alone) == 3


def test_random_problem_kinds_targets_and_lam():
    rng = np.random.default_rng(3)
    for kind, check in (("dense", lambda A: isinstance(A, np.ndarray)), ("sparse", issparse),
                        ("operator", lambda A: isinstance(A, LinearOperator))):
        prob = random_problem("group_lasso", rng, kind=kind, n_targets=2, max_features=15)
        assert check(prob.datafit.A)
        assert prob.datafit.x_shape[1] == 2 and prob.datafit.x_shape[0] <= 15
        assert 0.05 <= prob.lam_ratio <= 0.8
        lmax = ss.lambda_max(prob.datafit, prob.penalty)
        assert prob.penalty.lam == pytest.approx(prob.lam_ratio * lmax, rel=1e-9)
    assert len(random_problem("nuclear_norm", rng).datafit.x_shape) == 2  # least squares: a matrix unknown
    logit = random_problem("nuclear_norm", rng, datafit="logistic")
    assert len(logit.datafit.x_shape) == 1 and set(np.unique(logit.datafit.y)) == {-1.0, 1.0}
    counts = random_problem("l1", rng, datafit="poisson").datafit.y
    assert np.all(counts >= 0) and np.all(counts == np.round(counts))
    with pytest.raises(ParameterError, match="kind"):
        random_problem("l1", rng, kind="banded")
    with pytest.raises(ParameterError, match="Unknown penalty"):
        random_problem("l0", rng)
    with pytest.raises(ParameterError, match="Unknown datafit"):
        random_problem("l1", rng, datafit="hinge")
    with pytest.raises(ParameterError, match="n_targets"):
        random_problem("l1", rng, datafit="logistic", n_targets=2)
    with pytest.raises(ParameterError, match="max_features"):
        random_problem("l1", rng, max_features=2)


def test_problems_without_a_minimizer_are_redrawn():
    # labels that a free (unpenalized) column separates: the logistic loss has no minimizer along it
    rng = np.random.default_rng(0)
    A = rng.standard_normal((12, 3))
    y = np.where(np.arange(12) < 6, -1.0, 1.0)
    A[:, 2] = y * (0.5 + rng.random(12))
    fit = ss.Logistic(A, y)
    assert not verify_module._has_minimizer(fit, ss.GroupLasso(ss.Groups.from_lists([[0, 1]], n_features=3), 1.0))
    assert verify_module._has_minimizer(fit, ss.GroupLasso(ss.Groups.from_lists([[0, 1], [2]]), 1.0))
    assert verify_module._has_minimizer(ss.LeastSquares(A, y), ss.L1(1.0))
    # the free column fit well: a minimizer
    mixed = np.where(rng.random(12) < 0.3, -y, y)
    assert verify_module._has_minimizer(ss.Logistic(A, mixed),
                                        ss.GroupLasso(ss.Groups.from_lists([[0, 1]], n_features=3), 1.0))
    # every drawn logistic problem has a finite solution of moderate size
    for seed in range(6):
        prob = random_problem("group_lasso", seed, datafit="logistic", max_features=8)
        assert np.max(np.abs(ss.solve_cvxpy(prob.datafit, prob.penalty).x)) < 50


def _off_by_one_percent(loss, penalty, **kwargs):
    """A deliberately broken solver: right method, answer scaled by 1.01."""
    res = _real_fista(loss, penalty, **kwargs)
    return dataclasses.replace(res, x=res.x * 1.01)


_real_fista = fista_module.fista


def test_broken_solver_fails(monkeypatch, capsys):
    monkeypatch.setattr(fista_module, "fista", _off_by_one_percent)
    rows = verify(rng=0, penalties=["group_lasso", "tree_lasso"], datafits=["least_squares", "logistic"], out=None,
                  max_features=10)
    fista_rows = [r for r in rows if r.ran == "fista"]
    assert fista_rows and not any(r.passed for r in fista_rows)
    assert all(r.rel_obj_diff > 1e-6 for r in fista_rows)
    assert any(r.solver == AUTO for r in fista_rows)  # auto picked fista for the tree: caught too
    assert all(r.passed for r in rows if r.ran != "fista")
    assert main(["verify", "--penalties", "tree_lasso", "--datafits", "huber"]) == 1
    assert "FAIL" in capsys.readouterr().out


_BROKEN_FISTA_COMMAND = """
import dataclasses
import importlib
import sys
from importlib.metadata import entry_points

fista_module = importlib.import_module("structsparse.solvers.fista")  # the module: the package re-exports the function

real = fista_module.fista


def off_by_one_percent(loss, penalty, **kwargs):
    res = real(loss, penalty, **kwargs)
    return dataclasses.replace(res, x=res.x * 1.01)


fista_module.fista = off_by_one_percent
command = entry_points(group="console_scripts")["structsparse"].load()  # what the installed script runs
sys.exit(command())
"""


def test_the_command_exits_non_zero_on_a_failed_row(tmp_path):
    """The process's exit status, not only ``main``'s return value: 0 when every row passes, 1 on a failed row.

    The installed ``structsparse`` script runs every row of a small selection; then the same entry point runs in a
    process whose FISTA answers 1 % off (as ``test_broken_solver_fails`` does in this process).
    """
    import shutil
    import subprocess
    import sys

    args = ["verify", "--penalties", "tree_lasso", "--datafits", "least_squares", "huber"]
    script = shutil.which("structsparse")
    command = [script] if script else [sys.executable, "-m", "structsparse"]
    good = subprocess.run(command + args, capture_output=True, text=True, timeout=600)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "FAIL" not in good.stdout and " passed, worst" in good.stdout
    runner = tmp_path / "broken_fista.py"
    runner.write_text(_BROKEN_FISTA_COMMAND)
    bad = subprocess.run([sys.executable, str(runner)] + args, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr, bad.stdout + bad.stderr  # failed rows, no crash
    failed = [line for line in bad.stdout.splitlines() if line.endswith("FAIL") or "  FAIL  (" in line]
    assert failed and all(" fista " in line for line in failed)  # the broken solver's rows, auto's included
    assert any(line.split()[2] == AUTO for line in failed)


def test_crashing_solvers_and_references_are_failed_rows(monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(working_set_module, "solve_block", crash)
    rows = verify(rng=0, penalties=["l1"], datafits=["least_squares"], out=None)
    block = [r for r in rows if r.solver == "solve_block"]
    assert block and not any(r.passed for r in block) and all("boom" in r.note for r in block)
    assert all(r.passed for r in rows if r.solver == "fista")
    monkeypatch.undo()
    monkeypatch.setattr(verify_module, "_reference", crash)
    rows = verify(rng=0, penalties=["l1"], datafits=["least_squares"], out=None)
    assert rows and not any(r.passed for r in rows) and all("cvxpy raised" in r.note for r in rows)


def test_unconverged_and_stopped_solvers_fail(monkeypatch):
    def give_up(loss, penalty, callback=None, **kwargs):
        res = _real_fista(loss, penalty, **kwargs)
        return SolverResult(x=res.x, objective=res.objective, n_iter=1, converged=False, solver="fista",
                            message="gave up")

    monkeypatch.setattr(fista_module, "fista", give_up)
    rows = verify(rng=1, penalties=["tree_lasso"], datafits=["least_squares"], solvers=["fista"], out=None)
    assert rows and not any(r.passed for r in rows) and "gave up" in rows[0].note

    def until_stopped(loss, penalty, callback=None, **kwargs):
        k = 0
        while not callback(k, np.zeros(loss.x_shape), {}):
            k += 1
        return SolverResult(x=np.zeros(loss.x_shape), objective=0.0, n_iter=k, converged=False, solver="fista",
                            message="stopped by the callback")

    monkeypatch.setattr(fista_module, "fista", until_stopped)
    rows = verify(rng=1, penalties=["tree_lasso"], datafits=["least_squares"], solvers=["fista"], out=None,
                  time_limit=0.05)
    assert rows and not rows[0].passed and "stopped by the callback" in rows[0].note


def test_objectives_compared_by_the_same_function(monkeypatch):
    # a solver that lies about its objective but returns a good x still passes: only x is scored
    def liar(loss, penalty, **kwargs):
        res = _real_fista(loss, penalty, **kwargs)
        return dataclasses.replace(res, objective=-1.0)

    monkeypatch.setattr(fista_module, "fista", liar)
    rows = verify(rng=5, penalties=["sparse_group_lasso"], datafits=["huber"], solvers=["fista"], out=None)
    assert rows and all(r.passed for r in rows)
    prob = random_problem("l1", 0)
    assert reference_objective(prob.datafit, prob.penalty, np.zeros(prob.datafit.x_shape)) == pytest.approx(
        0.5 * float(np.sum(prob.datafit.y ** 2)))


def test_solvers_filter_and_rng_argument():
    rows = verify(rng=np.random.default_rng(2), penalties=["l1"], datafits=["least_squares", "poisson"],
                  solvers=["fista", AUTO], out=None)
    assert {r.solver for r in rows} == {"fista", AUTO} and all(r.passed for r in rows)
    a = verify(rng=7, penalties=["l1"], datafits=["least_squares"], solvers=["fista"], out=None)
    b = verify(rng=7, penalties=["l1"], datafits=["least_squares"], solvers=["fista"], out=None)
    assert [(r.size, r.lam_ratio, r.kind) for r in a] == [(r.size, r.lam_ratio, r.kind) for r in b]


def test_seed_is_a_deprecated_alias_of_rng():
    kw = dict(penalties=["l1"], datafits=["least_squares"], solvers=["fista"], out=None)
    new = verify(rng=3, **kw)
    with pytest.warns(DeprecationWarning, match="'seed=' is deprecated"):
        old = verify(seed=3, **kw)
    assert [(r.size, r.lam_ratio, r.kind) for r in old] == [(r.size, r.lam_ratio, r.kind) for r in new]
    other = verify(rng=4, **kw)
    assert [(r.size, r.lam_ratio) for r in other] != [(r.size, r.lam_ratio) for r in new]  # the seed is used
    with pytest.raises(ParameterError, match="'rng' only"):
        verify(rng=5, seed=3, **kw)


def test_max_iter_reaches_solve_block_as_max_outer():
    """verify's max_iter bounds each solver's main loop: solve_block gets it as max_outer, without a warning."""
    import warnings

    prob = random_problem("group_lasso", 0, datafit="least_squares", max_features=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        rows = compare(prob, ["solve_block"], max_iter=1)
    assert len(rows) == 1 and rows[0].solver == "solve_block" and rows[0].ran == "solve_block"
    assert "max_iter" not in rows[0].note  # no warning about the old name reached the row


def test_bad_input(capsys):
    for kwargs, match in [({"n_problems": 0}, "n_problems"), ({"tol": -1.0}, "tol"), ({"rng": -3}, "rng"),
                          ({"penalties": ["no_such_penalty"]}, "penalties"), ({"penalties": []}, "penalties"),
                          ({"datafits": ["hinge"]}, "datafits"), ({"solvers": ["newton"]}, "solvers"),
                          ({"out": "stdout"}, "out"), ({"time_limit": 0}, "time_limit"),
                          ({"max_features": 1}, "max_features")]:
        with pytest.raises(ParameterError, match=match):
            verify(**kwargs)
    assert main(["verify", "--penalties", "no_such_penalty"]) == 2
    assert "no_such_penalty" in capsys.readouterr().err
    assert main(["verify", "--tol", "-1"]) == 2
    assert main(["verify", "--time-limit", "0"]) == 2


def test_cli_seed_alias_several_seeds_and_json(tmp_path, capsys):
    path = tmp_path / "rows.json"
    assert main(["verify", "--seed", "1", "2", "--penalties", "l1", "tree_lasso", "--datafits", "least_squares",
                 "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "rng 1" in out and "rng 2" in out and "all seeds 1 2:" in out
    rows = json.loads(path.read_text())
    assert {r["penalty"] for r in rows} == {"l1", "tree_lasso"} and {r["datafit"] for r in rows} == {"least_squares"}
    assert all(r["passed"] and r["rel_obj_diff"] <= 1e-6 for r in rows)
    assert {r["solver"] for r in rows} >= {"fista", AUTO}
    assert [p.name for p in tmp_path.iterdir()] == ["rows.json"]
    assert main(["verify", "--rng", "3", "--penalties", "l1", "--datafits", "huber", "--solvers", "fista"]) == 0
    # an unwritable destination is a clear error (exit 2), not a traceback
    assert main(["verify", "--penalties", "l1", "--datafits", "huber", "--solvers", "fista",
                 "--json", str(tmp_path / "no" / "x.json")]) == 2


def test_rows_are_frozen_with_a_short_repr():
    rows = verify(rng=0, penalties=["l1"], datafits=["least_squares"], solvers=["fista"], out=None)
    with pytest.raises(AttributeError):
        rows[0].passed = False
    assert len(repr(rows[0])) < 100 and "pass" in repr(rows[0])


@pytest.mark.slow
def test_larger_run_three_seeds():
    rows = []
    for seed in (1, 2, 3):
        rows += verify(rng=seed, n_problems=3, out=None)
    failed = [r for r in rows if not r.passed]
    assert not failed, "\n".join(f"{r} {r.note}" for r in failed)


def test_gallery_example_times_each_solver_after_a_warm_up_call(monkeypatch, capsys):
    """examples/plot_verify_against_cvxpy.py: every time it prints is of a solver's second call or later.

    It used to time ``ss.solve`` first, so that row absorbed the loading of the numba kernels that solve_block's
    row then found ready. The solvers the example calls are wrapped to record the order of their calls.
    """
    import pathlib
    import runpy

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    calls = []

    def recording(name, real):
        def run(*args, **kwargs):
            res = real(*args, **kwargs)
            calls.append((name, res))
            return res
        return run

    for name in ("solve", "fista", "solve_block", "solve_cvxpy"):
        monkeypatch.setattr(ss, name, recording(name, getattr(ss, name)))
    script = pathlib.Path(__file__).resolve().parent.parent / "examples" / "plot_verify_against_cvxpy.py"
    try:
        namespace = runpy.run_path(str(script), run_name="__main__")
    finally:
        plt.close("all")
    timed = namespace["results"]
    assert set(timed) == {"ss.solve", "fista", "solve_block", "cvxpy"}
    for label, res in timed.items():
        name, position = next((n, i) for i, (n, r) in enumerate(calls) if r is res)
        assert any(n == name for n, _ in calls[:position]), f"{label}: timed on the first call of {name}"
    assert "time" in capsys.readouterr().out
