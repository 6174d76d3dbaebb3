"""structsparse: structured sparsity, from proximal operators to pruned networks.

The solver layer lives at the top level (structures, penalties, datafits,
solvers); the front ends are subpackages: ``structsparse.cs``,
``structsparse.sysid`` and ``structsparse.nn``.
"""

from . import prox
from .exceptions import ConvergenceWarning, ParameterError, ShapeError, StructureError
from .datafits import Datafit, Huber, LeastSquares, Logistic, Poisson
from .penalties import L1, GroupLasso, Penalty
from .penalties import GroupNuclear, NuclearNorm, SparseGroupLasso, TreeLasso
from .solvers import SolverResult, duality_gap, fista, lambda_max, solve_cvxpy
from .structure import Groups, Tree
from .penalties import LatentGroupLasso, OverlapGroupLasso
from .solvers import admm, solve_budget, solve_latent
from .solvers import solve_block
from .solvers import CVPathResult, LamSchedule, PathResult, cv_path, lam_warmup, path
from .solvers import IncompatibleSolverError, check_triple, solve, valid_solvers

__version__ = "0.2.0"

__all__ = [
    "prox",
    "Groups",
    "Tree",
    "Penalty",
    "L1",
    "GroupLasso",
    "SparseGroupLasso",
    "TreeLasso",
    "NuclearNorm",
    "GroupNuclear",
    "Datafit",
    "LeastSquares",
    "Logistic",
    "Huber",
    "Poisson",
    "solve",
    "check_triple",
    "valid_solvers",
    "IncompatibleSolverError",
    "SolverResult",
    "fista",
    "solve_cvxpy",
    "lambda_max",
    "solve_block",
    "path",
    "cv_path",
    "PathResult",
    "CVPathResult",
    "LamSchedule",
    "lam_warmup",
    "GroupLassoRegressor",
    "SparseGroupLassoRegressor",
    "OverlapGroupLassoRegressor",
    "TreeLassoRegressor",
    "StructuredRegressor",
    "StructuredClassifier",
    "GroupLassoClassifier",
    "SparseGroupLassoClassifier",
    "duality_gap",
    "StructureError",
    "ShapeError",
    "ParameterError",
    "ConvergenceWarning",
    "OverlapGroupLasso",
    "admm",
    "LatentGroupLasso",
    "solve_latent",
    "solve_budget",
]


# The scikit-learn estimators load on first use: importing scikit-learn costs seconds.
_LAZY_ESTIMATORS = ("GroupLassoRegressor", "SparseGroupLassoRegressor", "OverlapGroupLassoRegressor",
                    "TreeLassoRegressor", "StructuredRegressor", "StructuredClassifier", "GroupLassoClassifier",
                    "SparseGroupLassoClassifier")


def __getattr__(name):
    if name in _LAZY_ESTIMATORS:
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'structsparse' has no attribute {name!r}")
