"""Solvers: all return a :class:`SolverResult`."""

from .cvxpy_reference import CvxpyProblem, cvxpy_problem, solve_cvxpy
from .fista import duality_gap, fista
from .lambda_max import lambda_max
from .result import SolverResult
from .admm import admm
from .latent import LatentResult, solve_latent, solve_latent_cvxpy
from .budget import BudgetResult, solve_budget
from .working_set import solve_block
from .path import CVPathResult, PathResult, cv_path, path
from .schedule import LamSchedule, lam_warmup
from .solve import solve
from .capabilities import IncompatibleSolverError, SOLVER_SPECS, auto_solver, check_triple, valid_solvers

__all__ = ["SolverResult", "fista", "duality_gap", "solve_cvxpy", "cvxpy_problem", "CvxpyProblem", "lambda_max", "admm", "solve_block", "path", "cv_path", "PathResult", "CVPathResult", "LamSchedule", "lam_warmup", "solve_latent", "solve_latent_cvxpy", "LatentResult", "solve_budget", "BudgetResult", "solve", "check_triple", "valid_solvers", "auto_solver", "SOLVER_SPECS", "IncompatibleSolverError"]
