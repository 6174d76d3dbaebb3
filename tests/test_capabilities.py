"""Declared capabilities: one check matches (datafit, penalty, solver) triples, names what is missing and suggests
what works; valid_solvers and ss.solve agree with it on every registered pair; the docs table matches the registry."""

from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

import structsparse as ss
from structsparse.datafits.registry import datafit_names, random_datafit
from structsparse.exceptions import ParameterError
from structsparse.penalties.base import Penalty
from structsparse.penalties.registry import penalty_names, random_penalty
from structsparse.solvers.capabilities import (
    AUTO_CANDIDATES,
    SOLVER_SPECS,
    IncompatibleSolverError,
    auto_solver,
    capability_table,
    check_triple,
    missing_capabilities,
    valid_solvers,
)

ROOT = Path(__file__).resolve().parents[1]


def _A(n=12, p=6, seed=0):
    return np.random.default_rng(seed).standard_normal((n, p))


def _labels(n=12):
    return np.where(np.arange(n) % 3 == 0, -1.0, 1.0)


# ---------------------------------------------------------------- messages
def test_message_for_overlapping_groups_with_solve_block():
    fit = ss.LeastSquares(_A(), np.ones(12))
    pen = ss.OverlapGroupLasso([[0, 1, 2], [2, 3, 4]], 1.0)
    with pytest.raises(IncompatibleSolverError) as info:
        check_triple(fit, pen, "solve_block")
    assert str(info.value) == ("solve_block needs block-separable thresholds; OverlapGroupLasso has none; "
                               "use admm or fista.")
    # the same words through ss.solve
    with pytest.raises(IncompatibleSolverError, match="OverlapGroupLasso has none; use admm or fista"):
        ss.solve(fit, pen, solver="solve_block")


def test_message_for_a_datafit_that_lacks_a_capability():
    logit = ss.Logistic(_A(), _labels())
    pen = ss.OverlapGroupLasso([[0, 1, 2], [2, 3, 4]], 1.0)
    with pytest.raises(IncompatibleSolverError) as info:
        check_triple(logit, pen, "admm")
    msg = str(info.value)
    assert msg.startswith("admm needs the least-squares form 0.5 ||A x - y||^2 exactly from the datafit; Logistic")
    assert msg.endswith("; use fista.")
    # an operator design has no columns for coordinate descent
    op = ss.Logistic(aslinearoperator(_A()), _labels())
    with pytest.raises(IncompatibleSolverError) as info:
        check_triple(op, ss.L1(1.0), "solve_block")
    assert "explicit matrix A" in str(info.value) and "LinearOperator" in str(info.value)
    assert str(info.value).endswith("use fista.")
    # both sides missing: both are named
    with pytest.raises(IncompatibleSolverError) as info:
        check_triple(op, pen, "solve_block")
    assert "block-separable thresholds; OverlapGroupLasso has none" in str(info.value)
    assert "explicit matrix A" in str(info.value)


class _OnlyCvxpy(Penalty):
    """A penalty declaring nothing but a cvxpy form (no prox a first-order solver could use)."""

    name = "only_cvxpy"

    @property
    def n_features(self):
        return None

    def omega(self, x):
        return float(np.abs(x).sum())

    def _prox(self, v, tau):
        raise NotImplementedError

    def cvxpy_omega(self, x):
        import cvxpy as cp

        return cp.sum(cp.abs(x))

    @property
    def capabilities(self):
        return frozenset({"cvxpy"})


def test_message_when_only_the_reference_fits():
    fit = ss.LeastSquares(_A(), np.ones(12))
    with pytest.raises(IncompatibleSolverError, match=r"only the cvxpy reference \(solver='cvxpy'\)"):
        check_triple(fit, _OnlyCvxpy(1.0), "fista")
    assert valid_solvers(fit, _OnlyCvxpy(1.0)) == ["cvxpy"]
    with pytest.raises(IncompatibleSolverError, match="fista needs"):
        auto_solver(fit, _OnlyCvxpy(1.0))
    # the reference still solves it
    assert ss.solve(fit, _OnlyCvxpy(0.5), solver="cvxpy").converged


def test_error_types_and_bad_arguments():
    assert issubclass(IncompatibleSolverError, ParameterError) and issubclass(IncompatibleSolverError, TypeError)
    fit = ss.LeastSquares(_A(), np.ones(12))
    with pytest.raises(ParameterError, match="'solver'"):
        check_triple(fit, ss.L1(1.0), "newton")
    with pytest.raises(ParameterError, match="'solver'"):
        ss.solve(fit, ss.L1(1.0), solver="newton")
    with pytest.raises(TypeError, match="'loss'"):
        check_triple((_A(), np.ones(12)), ss.L1(1.0), "fista")
    with pytest.raises(TypeError, match="'penalty'"):
        check_triple(fit, "l1", "fista")


# ---------------------------------------------------------------- every registered pair
PAIRS = [(d, p) for d in datafit_names() for p in penalty_names()]


@pytest.mark.parametrize("datafit,penalty", PAIRS)
@pytest.mark.parametrize("design", ["dense", "operator"])
def test_valid_solvers_agree_with_the_check(datafit, penalty, design):
    rng = np.random.default_rng(1)
    A = _A(14, 8)
    fit = random_datafit(datafit, A if design == "dense" else aslinearoperator(A), rng)
    pen = random_penalty(penalty, 8, rng)
    valid = valid_solvers(fit, pen)
    assert "cvxpy" in valid and "fista" in valid  # every datafit has a gradient, every penalty a prox
    for name in SOLVER_SPECS:
        if name in valid:
            check_triple(fit, pen, name)
            assert missing_capabilities(fit, pen, name) == (frozenset(), frozenset())
        else:
            with pytest.raises(IncompatibleSolverError, match=f"^{name} needs"):
                check_triple(fit, pen, name)
    auto = auto_solver(fit, pen)
    assert auto == next(s for s in valid if s in AUTO_CANDIDATES)
    # the choices the issue asks for, read from the declared capabilities
    caps = pen.capabilities
    if "latent" in caps:
        assert auto == "solve_latent"
    elif "block_thresholds" in caps and design == "dense":
        assert auto == "solve_block"
    elif "prox" in caps:
        assert auto == "fista"
    elif "least_squares" in fit.capabilities:
        assert auto == "admm"
    else:
        assert auto == "fista"
    if design == "operator":
        assert "solve_block" not in valid


def test_auto_records_its_choice():
    rng = np.random.default_rng(2)
    A = _A(30, 12)
    y = rng.standard_normal(30)
    cases = [(ss.GroupLasso(ss.Groups.contiguous(12, 3), 2.0), "solve_block"),
             (ss.TreeLasso(ss.Tree.from_parents([-1] + [0] * 11), 2.0), "fista"),
             (ss.OverlapGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9, 10, 11]], 2.0), "admm")]
    for pen, want in cases:
        res = ss.solve(ss.LeastSquares(A, y), pen)
        assert res.solver.split("/")[0] == want and res.converged
        ref = ss.solve_cvxpy(ss.LeastSquares(A, y), pen)
        assert res.objective == pytest.approx(ref.objective, rel=1e-6)
    # the latent group lasso: duplication (solve_latent), recorded as "solve_latent/<inner solver>"
    latent = ss.LatentGroupLasso([[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9, 10, 11]], 2.0)
    for fit in (ss.LeastSquares(A, y), ss.Logistic(A, np.where(y > 0, 1.0, -1.0))):
        assert auto_solver(fit, latent) == "solve_latent"
        res = ss.solve(fit, latent)
        assert res.solver.split("/")[0] == "solve_latent" and res.converged, res.solver
        assert res.objective == pytest.approx(ss.solve_cvxpy(fit, latent).objective, rel=1e-6)


# ---------------------------------------------------------------- the docs table
def test_docs_table_matches_the_registry():
    committed = (ROOT / "docs" / "solvers_table.md").read_text()
    assert committed == capability_table(), "regenerate it: python docs/make_solvers_table.py"


def test_table_lists_every_pair_with_its_solvers():
    text = capability_table()
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| datafit")]
    assert len(rows) == len(PAIRS)
    A = np.random.default_rng(0).standard_normal((12, 8))
    for line, (d, p) in zip(rows, PAIRS):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[:2] == [d, p]
        fit = random_datafit(d, A, np.random.default_rng(0))
        pen = random_penalty(p, 8, np.random.default_rng(0))
        assert cells[2] == f"`{auto_solver(fit, pen)}`"
        assert cells[3] == ", ".join(f"`{s}`" for s in valid_solvers(fit, pen))
        assert "solve_block" not in cells[5]  # an operator has no columns
    sub = capability_table(datafits=["logistic"], penalties=["l1", "tree_lasso"])
    assert sub.count("\n| logistic |") == 2
