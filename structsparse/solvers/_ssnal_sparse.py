"""SSNAL for a lasso subproblem on a scipy.sparse design (one target, single-feature blocks).

Coordinate descent is slow on a sparse lasso whose columns hold one or two
stored entries each: many pairs of columns are (nearly) collinear, and the
epochs trade mass between them a little at a time (bench_sparse_lasso,
p = 10^5, density 1e-4, 0.001 lam_max: two working-set subproblems of about
13 200 columns took 1910 and 840 epochs). The semismooth Newton augmented
Lagrangian method (Li, Sun and Toh 2018) works on the dual in the sample
space instead; its loop is :func:`._ssnal.ssnal_loop`, shared with the dense
group lasso. What changes here is the operator: ``A v`` and ``A^T s`` read the
working set's CSC arrays, and the Newton matrix ``I + sigma A_J A_J^T`` (the
lasso prox's generalized Jacobian is the 0/1 diagonal of the active
coefficients ``J``) is a scipy.sparse matrix. It is factored by SuperLU
(:func:`scipy.sparse.linalg.splu`, a symmetric ordering and no pivoting: the
matrix is symmetric positive definite) while ``A_J A_J^T`` is sparse; a step
first tries conjugate gradients preconditioned by the last factor (``J`` and
``sigma`` change little between steps) and factors anew only when those do
not converge within a few iterations. A dense ``A_J A_J^T`` takes conjugate
gradients with a Jacobi preconditioner.

:class:`SparseSsnalTrigger` decides, inside a subproblem's epochs, when to
hand the subproblem to the method: once the epochs have run a budget and
their gap's rate predicts many more, more than the Newton steps would cost,
and the epochs already run have paid for a Newton step (a plateau of the gap
may end at any epoch: see ``_HEDGE_STEPS``).
Measured (bench_sparse_lasso, n = 10^4, density 1e-4, 0.001 lam_max, tol
1e-6, ``ss.solve``): p = 10^5 3263 epochs -> 1055 and 10 Newton steps, CPU
median 2.36 -> 1.12 s (CSC; CSR alike); p = 10^6 6730 epochs -> 1920 and 48
Newton steps, 9.05 -> 6.38 s (one process each, interleaved, load 3.2-4),
and 2124 epochs and 44 Newton steps with the wait of ``_HEDGE_STEPS``.
"""

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, cg, splu

from .._numba import NUMBA_ENABLED
from ._design_kernels import (
    csc_gather_numba, csc_gather_numpy, csc_rmatvec_numba, csc_rmatvec_numpy, csr_rmatvec_numba, csr_rmatvec_numpy)
from ._ssnal import ssnal_loop

__all__ = ["SparseSsnalTrigger", "ssnal_lasso_csc"]

# the Newton matrix is factored while A_J A_J^T holds at most this many stored entries per row of the design
# (else conjugate gradients with a Jacobi preconditioner)
_DIRECT_ROW_NNZ = 64
# conjugate gradients (an inexact Newton step: the line search keeps what it gains)
_CG_RTOL = 1e-6
_CG_MAXITER = 500
# a step first tries CG preconditioned by the last factor, for at most this many iterations, before factoring anew
_REUSE_MAXITER = 20
# Work is counted in stored entries of the columns read by an epoch (an epoch of the working set costs its stored
# entries). A Newton step reads the columns three times (A^T d, A v, the line search's A v), a factorization costs
# about _FACTOR_WORK per entry of its factor, a solve with it _SOLVE_WORK per entry, and a CG iteration also two
# products with A_J and a few n-vectors. Measured at the two subproblems of the cells above (n = 10^4, factors of
# 7.3e4 and 9.8e5 entries): factorization 11-14, solve 0.1-0.5 (its fixed cost weighs on small factors)
_FACTOR_WORK = 14.0
_SOLVE_WORK = 0.25
# The trigger: not before _EPOCHS epochs of the subproblem, and only when the gap's rate over the last half of them
# predicts more than _MIN_TO_GO epochs to its target, and _STEPS Newton steps would cost less than _BUDGET of those
# epochs (a step: the passes over the columns, a factorization of the Newton matrix at the current support, whose
# fill is measured once per subproblem by factoring it, and _STEPS_CG preconditioned CG iterations); SSNAL then
# stops (and the epochs go on) once its work passes _BUDGET of them: a trigger that misjudges loses at most that
_EPOCHS = 300
_MIN_TO_GO = 300
_STEPS = 20
_STEPS_CG = 10
_BUDGET = 1.0
# ... and not before the phase's epochs have cost _HEDGE_STEPS Newton steps (in the same work units). Coordinate
# descent's gap often plateaus, then drops once the support settles, which no rate foresees: a Newton method fired
# on such a plateau is lost work (and moves the outer iterations). The wait hedges as in ski rental: a plateau
# shorter than a step's price never fires, and where SSNAL pays the wait costs at most that price in epochs
# (nothing where a step costs less than _EPOCHS epochs). Measured (bench_sparse_lasso, n = 10^4, tol 1e-6,
# ss.solve): p = 10^5, density 1e-4, 0.01 lam_max, a subproblem of 282 columns (629 entries) whose gap crept
# 4.474e-2 -> 4.457e-2 over epochs 170-310 (21 936 epochs predicted to its target 1.75e-2), then fell to 2.01e-2 at
# 320 and met the target at 330; its step is modelled at 869 epochs, so it no longer fires at 310: 520 -> 480
# epochs, 8 -> 7 outer iterations, 2 -> 0 Newton steps, CPU median 62.4 -> 46.7 ms (CSC), 56.2 -> 41.8 ms (CSR).
# Where SSNAL pays, 0.001 lam_max: p = 10^5 a step at 69 epochs (fires at 300 as before: 1060 epochs and 10 Newton
# steps, whose subproblem stalled 1910 epochs without it); p = 10^6 at 197 epochs (fires at 690 as before) and at
# 514 (a gap flat at 1.264e-2 from epoch 40: fires at 520, not 300): 1920 -> 2124 epochs, 48 -> 44 Newton steps
_HEDGE_STEPS = 1.0
_MAX_NEWTON = 200


def _signed(a):
    """An index array as the signed type of its width (a view: the gathers hand back unsigned indices)."""
    return a.view(np.dtype(f"i{a.dtype.itemsize}")) if a.dtype.kind == "u" else a


def _cg(op, rhs, precondition, maxiter, state, iteration_work):
    """Preconditioned conjugate gradients on ``op d = rhs`` from zero; ``(d, info)`` as scipy's ``cg``."""
    n = rhs.size
    iterations = [0]

    def count(_):
        iterations[0] += 1
    direction, info = cg(op, rhs, rtol=_CG_RTOL, maxiter=maxiter, callback=count,
                         M=LinearOperator((n, n), matvec=precondition, dtype=float))
    state.cg_iterations += iterations[0]
    state.work += iterations[0] * iteration_work
    return direction, info


def ssnal_lasso_csc(data, rows, colptr, n, thresholds, b, x0, target_gap, max_newton=_MAX_NEWTON, use_numba=True,
                    sigma0=None, work_budget=np.inf):
    """Solve ``min_x 0.5 ||A x - b||^2 + sum_j thresholds[j] |x_j|`` by SSNAL from ``x0``, ``A`` in CSC arrays.

    Parameters
    ----------
    data, rows, colptr : ndarray
        The CSC arrays of ``A`` (n, m), read in place (never modified).
    n : int
        Rows of ``A``.
    thresholds : ndarray (m,)
        Positive weights of the coefficients' absolute values.
    b : ndarray (n,)
    x0 : ndarray (m,)
        Starting point (not modified).
    target_gap : float
        Stop once the duality gap is at most this.
    max_newton : int
        Most Newton steps in all; past it the method returns unconverged.
    use_numba : bool
    sigma0 : float, optional
        First penalty parameter (default as :func:`._ssnal.ssnal_group_least_squares`).
    work_budget : float
        Stop (unconverged) before a Newton step once the work done passes
        this, in stored entries read by epochs (see ``_FACTOR_WORK``).

    Returns
    -------
    SimpleNamespace
        As :func:`._ssnal.ssnal_group_least_squares` (``x``, ``residual``,
        ``converged``, ``gap``, ``dual``, ``newton``, ``outer``, ``products``),
        with ``factorizations`` (sparse LU factorizations), ``cg_iterations``
        (conjugate-gradient iterations), ``work`` and ``over_budget``.
    """
    # A coef on CSC columns is the CSR product A^T r on the same arrays (columns as rows): one scatter per column
    combine = csr_rmatvec_numba if use_numba else csr_rmatvec_numpy
    rmatvec_kernel = csc_rmatvec_numba if use_numba else csc_rmatvec_numpy
    gather = csc_gather_numba if use_numba else csc_gather_numpy
    m = colptr.size - 1
    ptr = np.arange(m + 1, dtype=np.int64)
    entries = float(colptr[-1])
    state = SimpleNamespace(factorizations=0, cg_iterations=0, lu=None, work=0.0, over_budget=False)

    def matvec(coef):
        return combine(data, rows, colptr, coef, n)

    def rmatvec(d):
        return rmatvec_kernel(data, rows, colptr, d)

    def newton_direction(active, keep, u, norms, sigma, rhs):
        if state.work > work_budget:
            state.over_budget = True
            raise ValueError("ssnal_lasso_csc: work budget spent")
        state.work += 3.0 * entries
        # singletons: the prox's Jacobian is 1 on the active coefficients, so C = A_J
        d_J, r_J, c_J = gather(data, rows, colptr, active)
        AJ = sp.csc_matrix((d_J, _signed(r_J), _signed(c_J)), shape=(n, active.size))
        op = LinearOperator((n, n), matvec=lambda z: z + sigma * (AJ @ (AJ.T @ z)), dtype=float)
        lu = state.lu
        if lu is not None:
            # the last factor (another active set or sigma, close to this one's) as CG's preconditioner
            direction, info = _cg(op, rhs, lu.solve, _REUSE_MAXITER, state,
                                  _SOLVE_WORK * lu.nnz + 2.0 * (AJ.nnz + n))
            if info == 0:
                return direction
        K = (AJ @ AJ.T).tocsc()
        if K.nnz <= _DIRECT_ROW_NNZ * n:
            M = (sigma * K + sp.identity(n, format="csc")).tocsc()
            state.lu = lu = splu(M, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                                 options={"SymmetricMode": True})
            state.factorizations += 1
            state.work += _FACTOR_WORK * lu.nnz
            return lu.solve(rhs)
        diag = 1.0 + sigma * np.asarray(AJ.multiply(AJ).sum(axis=1)).ravel()
        direction, _ = _cg(op, rhs, lambda z: z / diag, _CG_MAXITER, state, 2.0 * (AJ.nnz + n))
        if not np.all(np.isfinite(direction)):
            raise ValueError("ssnal_lasso_csc: conjugate gradients diverged")
        return direction

    res = ssnal_loop(matvec, rmatvec, newton_direction, ptr, thresholds, np.asarray(b, dtype=float), x0,
                     target_gap, max_newton, sigma0)
    res.factorizations, res.cg_iterations = state.factorizations, state.cg_iterations
    res.work, res.over_budget = state.work, state.over_budget
    res.newton -= int(state.over_budget)   # (the loop counted the step the budget refused)
    return res


class SparseSsnalTrigger:
    """When a sparse lasso subproblem's epochs go to :func:`ssnal_lasso_csc` (one per phase of epochs).

    Parameters
    ----------
    Aws : tuple
        The working set's CSC arrays ``(data, rows, colptr)``.
    thresholds : ndarray (m,)
        The coefficients' weights (``t1 + t2`` of the working set).
    n : int
        Rows of the design.
    tol : float
        The subproblem's gap target.
    use_numba : bool

    Notes
    -----
    :meth:`due` is called at each gap check with the epochs run and the gap.
    It fires at most once per phase: after ``_EPOCHS`` epochs, when the gap's
    rate over the last half of them predicts more than ``_MIN_TO_GO``
    epochs to ``tol``, ``_STEPS`` Newton steps at their least cost would
    cost less than ``_BUDGET`` of those epochs, and the epochs run so far
    have cost at least ``_HEDGE_STEPS`` of those steps; :meth:`run` gives
    SSNAL that budget and keeps its point when it converged or lowered the
    objective.
    """

    def __init__(self, Aws, thresholds, n, tol, use_numba=NUMBA_ENABLED):
        self.Aws, self.thresholds, self.n, self.tol = Aws, thresholds, int(n), float(tol)
        self.use_numba = bool(use_numba)
        self.checks = []   # (epochs, gap) of the phase's gap checks
        self.fired = False
        self.budget = np.inf
        self.step_work = None   # a Newton step's work, measured at the first evaluation
        self.result = None

    def due(self, epochs, gap, x):
        """Whether to run SSNAL now, after ``epochs`` epochs at the gap ``gap`` and the coefficients ``x`` (m,)."""
        self.checks.append((epochs, gap))
        if self.fired or epochs < _EPOCHS:
            return False
        # the rate over the last half of the epochs (the first ones converge faster than the tail)
        since, then = next(c for c in self.checks if c[0] >= epochs // 2)
        if not 0.0 < gap < then:
            return False
        rate = np.log(then / gap) / (epochs - since)
        to_go = np.log(gap / self.tol) / rate
        if to_go <= _MIN_TO_GO:
            return False
        entries = float(self.Aws[2][-1])
        if self.step_work is None:
            self.step_work = self._step_work(x, entries)
        if epochs * entries < _HEDGE_STEPS * self.step_work:
            return False   # (a plateau younger than a Newton step's price may still end by itself)
        self.budget = _BUDGET * to_go * entries
        return _STEPS * self.step_work < self.budget

    def _step_work(self, x, entries):
        """A Newton step's work at the support of ``x``: its Newton matrix factored once (sigma = 1) to see the
        fill, which the support's pattern alone sets."""
        data, rows, colptr = self.Aws
        support = np.flatnonzero(x)
        counts = np.diff(colptr)[support].astype(float)
        if float(counts @ counts) > _DIRECT_ROW_NNZ * self.n:
            return np.inf   # conjugate gradients with a Jacobi preconditioner only: not worth a try
        gather = csc_gather_numba if self.use_numba else csc_gather_numpy
        d_S, r_S, c_S = gather(data, rows, colptr, support)
        AS = sp.csc_matrix((d_S, _signed(r_S), _signed(c_S)), shape=(self.n, support.size))
        M = (AS @ AS.T + sp.identity(self.n, format="csc")).tocsc()
        fill = splu(M, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}).nnz
        return 3.0 * entries + _FACTOR_WORK * fill + _STEPS_CG * (_SOLVE_WORK * fill + 2.0 * (AS.nnz + self.n))

    def run(self, Xw, R, Y):
        """SSNAL from ``Xw`` (m, 1); writes its point into ``Xw`` and its residual into ``R`` (1, n) in place
        (when it converged or lowered the objective). Returns its result."""
        self.fired = True
        data, rows, colptr = self.Aws
        res = ssnal_lasso_csc(data, rows, colptr, self.n, self.thresholds, Y[0], Xw[:, 0], self.tol,
                              use_numba=self.use_numba, work_budget=self.budget)
        self.result = res
        start = 0.5 * float(R[0] @ R[0]) + float(self.thresholds @ np.abs(Xw[:, 0]))
        reached = 0.5 * float(res.residual @ res.residual) + float(self.thresholds @ np.abs(res.x))
        if res.converged or reached < start:   # (stopped short at a worse point: the epochs go on from theirs)
            Xw[:, 0] = res.x
            R[0] = res.residual
        return res
