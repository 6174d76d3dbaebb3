"""Block coordinate descent with working sets and Gap Safe screening.

Solves ``0.5 * ||A x - y||^2 + penalty(x)`` for block-separable penalties
(:class:`~structsparse.L1`, :class:`~structsparse.GroupLasso`,
:class:`~structsparse.SparseGroupLasso`), with ``A`` dense or scipy.sparse
and one or several right-hand sides.

Outer loop (one product ``A^T r`` each):

1. Duality gap. The residual ``r = y - A x`` is scaled into the dual feasible
   set, ``theta = r / max(1, max_g s_g)`` with ``s_g`` the smallest scaling
   that satisfies group ``g``'s constraint, and
   ``gap = P(x) - (0.5 ||y||^2 - 0.5 ||y - theta||^2)``. Stop when
   ``gap <= tol * P(x)``, which bounds the relative suboptimality by ``tol``.
   Within 100x of that target a second dual point, the projection of ``y``
   onto the support's constraints linearized at ``r``, is rescaled the same
   way; the better dual value counts.
2. Gap Safe screening (Ndiaye, Fercoq, Gramfort, Salmon, JMLR 2017): the dual
   optimum lies in the ball of radius ``sqrt(2 gap)`` around ``theta`` (the
   dual is 1-strongly concave), so a group whose constraint holds strictly
   on the whole ball, ``||S_{t1}(A_g^T theta)|| + sqrt(2 gap) ||A_g|| < t2``,
   is zero at the optimum and is removed for good.
3. Working set (Massias, Gramfort, Salmon 2018, celer; Bertrand et al. 2022,
   skglm): the groups currently nonzero plus the most violating ones, twice
   as many as the current support (at least ``p0``); four times when the
   last working set came back (nearly) all nonzero, and eight times (from
   ``p0`` or the support) while the support still fills half of the last
   one and the working set stays below 1/16 of the live groups, where a
   subproblem costs less than one outer product ``A^T r``.
4. Inner solver: cyclic proximal block coordinate descent on the working
   set, with step ``1 / ||A_g||_2^2`` per group, Anderson extrapolation every
   few epochs (accepted only when it lowers the objective), until the
   working set's own duality gap is below a fraction of the outer gap.

The epochs run in numba kernels (:mod:`._block_kernels`) over a compact,
contiguous copy of the working-set columns, so ``A`` itself is never copied.
A scipy.sparse design is read in the layout the user gave (CSC or CSR, see
:mod:`._design_kernels`): no conversion per call. Once screening has removed
groups, the outer loop works on the live ones only (for a CSC design the
product ``A^T r`` too), and its per-iteration scans over the groups are
single numba passes, so the bookkeeping of an outer iteration costs less
than its product.
"""

import time
import warnings
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

from .._float32 import colnorm2 as float32_colnorm2
from .._float32 import is_float32
from .._float32 import matmat as float32_matmat
from .._float32 import rmatmat as float32_rmatmat
from .._group_norms import group_lipschitz_gathered, group_norm_sq_csc
from .._linalg import column_span_basis, project_out
from .._numba import NUMBA_ENABLED
from .._validation import check_choice, check_int, check_scalar
from ..exceptions import ConvergenceWarning, ParameterError, ParameterTypeError
from ._block_kernels import anderson_weights  # noqa: F401  (re-exported: the path state imports it from here)
from ._block_kernels import (
    anderson_combine_numba, anderson_combine_numpy, anderson_take_reversed_numba, anderson_take_reversed_numpy,
    block_objective_numba, block_objective_numpy, group_combinations_dense_numba, group_combinations_dense_numpy,
    bcd_epoch_dense_exact_numba, bcd_epoch_dense_exact_numpy, bcd_epoch_sparse_numpy,
    group_dual_scaling_numba, group_dual_scaling_numpy, group_eigh_dense, group_lipschitz_dense,
    group_threshold_norms_numba, group_threshold_norms_numpy, gap_safe_mask_numba, gap_safe_mask_numpy,
    pure_dual_scale_numba, pure_dual_scale_numpy, singleton_dual_scaling_numba,
    singleton_gap_safe_numba, singleton_gap_safe_numpy, singleton_gap_safe_contiguous_numba,
    singleton_gap_safe_contiguous_numpy, singleton_pure_scale_numba, singleton_pure_scale_numpy,
    singleton_scores_numba, singleton_scores_numpy, singleton_scores_into_numba, singleton_scores_into_numpy,
    smallest_set_numba, smallest_set_numpy, split_live_numba, split_live_numpy,
    singleton_threshold_norms_numba, ws_gradient_sparse_numpy,
    ws_residual_sparse_numba, ws_residual_sparse_numpy, with_singleton_fast_path,
)
from ._block_spec import BlockSpec, block_columns, block_spec, is_constant, is_identity, take
from ._design_kernels import (
    csc_colnorm2_numba, csc_colnorm2_numpy, csc_gather_numba, csc_gather_numpy, csc_rmatvec_cols_numba,
    csc_rmatvec_cols_numpy, csc_rmatvec_compact_numba, csc_rmatvec_compact_numpy, csc_rmatvec_colnorm2_numba,
    csc_rmatvec_colnorm2_numpy, csr_colcounts_numba, csr_colcounts_numpy, csr_colnorm2_numba, csr_colnorm2_numpy,
    csr_gather_counted_numba, csr_gather_counted_numpy, csr_gather_merged_numba, csr_gather_merged_numpy,
    csr_rmatvec_colstats_numba, csr_rmatvec_colstats_numpy, csc_rmatvec_numba, csc_rmatvec_numpy, csr_rmatvec_numba,
    csr_rmatvec_numpy, unsigned_view,
    csc_block_epoch, csc_singleton_gap_numba, csc_singleton_run_numba, csc_touched_rows_numba, csc_ws_gradient_numba,
    singleton_views,
)
from ._inplace_kernels import contiguous_float64, dense_kernels, hybrid_gather
from ._newton_kernels import lasso_dual_point_sparse
from ._prox_newton import solve_newton_outer
from ._ssnal import ssnal_group_least_squares
from ._ssnal_sparse import SparseSsnalTrigger
from .capabilities import check_inputs
from .result import SolverResult

__all__ = ["solve_block", "WS_STRATEGIES"]

#: Accepted values of ``ws_strategy``.
WS_STRATEGIES = ("subdiff", "gap", "full")

# Single-feature blocks of a pure penalty (the lasso's layout, one target, any design): the dual scaling, the Gap
# Safe test and the working set's scores are one kernel pass each over A^T r (_block_kernels.singleton_*), the
# same arithmetic as the general passes (same iterates, tests/test_outer_scans.py), without their p-length threshold
# norms, bounds, scores and masks: p = 10^6 sparse lasso, fit's peak RSS increment 141 -> 58 MB (with the compact
# block specs of _block_spec)
_ONE_PASS_SCANS = True
# ... and the lasso's Gap Safe pass (one weight for every feature, the column norms as bounds), before any compaction,
# reads A^T r and the norms without the index array (_block_kernels.singleton_gap_safe_contiguous_numba: the loop
# vectorizes, the same mask; p = 10^4: about 70 -> 35 us a pass)
_CONTIGUOUS_SAFE = True
# "no mask" for the one-pass outer scans of single-feature blocks (_block_kernels.singleton_*): none screened
_NO_MASK = np.zeros(0, dtype=np.bool_)
_NO_BLOCKS = np.zeros(0, dtype=np.int64)
# ... and "no Lipschitz constants" for the Gap Safe pass (_block_kernels.singleton_gap_safe_numba: the column norms
# are the bounds; with constant weights its branch-free loop, 1.9x faster at p = 10^4, the same mask)
_NO_LIPS = np.zeros(0)

# The dense design's cache of contiguous working-set columns (C-ordered or float32 A) holds at most this fraction
# of the design's bytes (a small-lam working set, about twice the support, fits it while p >= 4 n); past it the
# support's columns stay cached and the others are read in place
_CACHE_FRACTION = 0.5
# ... and at least this many bytes (or the whole design when smaller): small designs keep every column
_CACHE_FLOOR = 1 << 20
# Above this many unpenalized features the dual point is not projected (see _Unpenalized)
_MAX_PROJECTED_FREE = 500
# Working-set growth (least squares) after a subproblem whose working set came back >= 90 % nonzero
_LS_SATURATED_GROWTH = 4
# A working set of at most 1/_CHEAP_DIV of the live groups costs less, over a subproblem's ~10-20 epochs,
# than about one outer product A^T r: up to that size it grows 8x (from p0 or the support), not 2x
_CHEAP_DIV = 16
# ... as long as the support fills at least this fraction of the last working set
_GROWING = 0.5
# A working set's subproblem is solved to this fraction of the outer gap (skglm's and celer's 0.3) ...
_INNER_FRAC = 0.3
# ... and the sparse lasso's to a smaller one: its Anderson-accelerated epochs over a few stored entries cost little
# against an outer iteration (a product over every live column, screening, a new working set), and at 0.3 the outer
# gap shrinks about 3x per iteration (p = n = 10^4, density 1e-4, 0.01 lam_max: 8 outer iterations and 230 epochs,
# 3 and 40 at 0.03). Chosen among 0.3, 0.1, 0.03 and 0.01 on 10 of the 18 p = 10^4 cells and the 9 p = 10^5 CSC
# cells of benchmarks/bench_sparse_lasso.py, then checked on 5 p = 10^6 cells (0.35-1.02x the time at 0.3); the
# dense and grouped paths keep 0.3
_INNER_FRAC_SPARSE = 0.03
# Anderson extrapolation uses the last _ANDERSON_K + 1 epochs
_ANDERSON_K = 5
# above this sum of |Anderson weights| the extrapolated residual is recomputed, not combined (rounding)
_EXACT_RESIDUAL_WEIGHTS = 100.0
# a rejected Anderson step is tried again with the groups it carried past zero set to zero (epochs at tol 1e-6,
# seed 1 of the grid's problems: 500x2000 gaussian groups of 5 at 0.001 lam_max 468 -> 328, toeplitz 369 -> 269)
_ANDERSON_REVERSED = True
# Other datafits: working sets grow 8x while cheap (as for least squares: up to 1/_CHEAP_DIV of the live
# groups), and a working set holding every violated constraint, with at most _DATAFIT_COMPLETE_NEW times the
# support new to it, is solved to the final tolerance (both: 7 -> 4 products A^T theta on L1 logistic, 1000x5000)
_DATAFIT_CHEAP_GROWTH = True
_DATAFIT_COMPLETE_WS = True
_DATAFIT_COMPLETE_NEW = 0.3
# Least-squares subproblems on dense designs: full epochs alternate with epochs over the nonzero groups only
# (glmnet's active-set cycling), run until their own gap is _ACTIVE_TOL times the subproblem's tolerance;
# a working set more than _ACTIVE_MAX nonzero runs plain epochs
_ACTIVE_CYCLING = True
_ACTIVE_TOL = 0.3
# ... or until it is _ACTIVE_FRAC times the working set's gap at the phase's start, whichever is larger
_ACTIVE_FRAC = 0.03
_ACTIVE_MAX = 0.9
# ... for at most this many gap checks, after which the support is looked at again
_ACTIVE_RECHECK = 2
# ... and after each phase the working set's gap is checked before the next full epoch
_GAP_BEFORE_FULL = True
# Group-lasso blocks (no l1 part, 2 to n columns) of dense least-squares subproblems are minimized exactly
# from the eigendecomposition of their Gram matrix (computed once per group), instead of one proximal
# gradient step with 1 / ||A_g||^2
_EXACT_BLOCKS = True
# ... when the Gram matrix's condition number exceeds this (correlated columns; measured on 500x2000 groups of
# 50 at 0.001 lam_max: 1166 -> 74 epochs on a Toeplitz 0.9 design, 64 -> 53 on a Gaussian one, where the
# costlier update and eigendecompositions made the solve 2x slower)
_EXACT_COND = 10.0
# Newton dual point: once the outer gap is within _NEWTON_GAP times tol * P(x), a second dual point, from the
# support's constraints linearized at the residual (_newton_dual_point), is tried: the rescaled residual's gap
# is of order sqrt(suboptimality) (1e-6 on the grid's 500x2000 Gaussian groups of 5 at 0.01 lam_max took x at
# 2e-12 to certify), that point's far smaller. Measured (tol 1e-6, seed 0 of the grid's problems): outer
# iterations 8 -> 7 (epochs 89 -> 78) on that cell, 6 -> 5 on Toeplitz groups of 5 at 0.1, 3 -> 2 on Gaussian
# groups of 5 at 0.1; 1000x10000 Gaussian groups of 5 at 0.01: 8 -> 7 (249 -> 208 epochs)
_NEWTON_DUAL = True
_NEWTON_GAP = 100.0
_NEWTON_COST = 32
# A working-set subproblem (solved to 0.3x the outer gap) checks its gap every _ANDERSON_K + 1 epochs, right after
# each Anderson step, rather than every gap_freq: ten epochs overshot its target 3-25x. The whole problem keeps
# gap_freq (its phases converge slowly; checking every 6 epochs cost 60 % more checks there). Counts at tol 1e-6
# (seed 0 of the grid, with the Newton dual point): 500x2000 Gaussian groups of 5 at 0.01 lam_max 78 -> 55 epochs
# (7 -> 6 outer), Toeplitz 5 at 0.01 88 -> 61, Toeplitz 5 at 0.1 45 -> 29, Toeplitz 50 at 0.01 44 -> 30, Gaussian
# 5 and 50 at 0.1 22 -> 14; Gaussian 5 at 0.001 318 -> 330 and 50 at 0.001 221 -> 228; 1000x10000 Gaussian 5 at
# 0.01 208 -> 188. Blocks of several features only: on the lasso (not measured for speed) the earlier stops changed
# the working sets' growth (a C-ordered 600x3000 design at small lam: a 4x jump to 1244 columns, peak memory
# 0.66 -> 0.84x the design, over tests/test_no_copy's bound)
_CHECK_AFTER_ANDERSON = True
# The whole (screened) problem of a dense least-squares group lasso whose support holds at least _SSNAL_SUPPORT
# times as many coefficients as the design has rows goes to the semismooth Newton augmented Lagrangian method
# (_ssnal), whose Newton steps live in the n-dimensional sample space, rather than to epochs: the problem on the
# support is then underdetermined, and epochs trade mass along A's null space slowly. 1000x10000 Gaussian, groups
# of 50, 0.001 lam_max (tol 1e-6, seed 0): the last subproblem's 714 epochs -> 11 Newton steps
_SSNAL = True
_SSNAL_SUPPORT = 1.0
_SSNAL_EPOCHS = 400
# ... and than _SSNAL_COST * n * support / columns epochs: a Newton step (an n x n matrix from the support's
# columns, BLAS-bound) measured about 0.03 n * support / columns epochs (memory-bound passes over the columns),
# and the method takes 10-30 steps. Its n x n matrices stay at most _SSNAL_ROWS of the design's size.
_SSNAL_COST = 0.9
_SSNAL_ROWS = 0.5
# The lasso's Newton dual point on a scipy.sparse design (one target, single columns): the support refitted with
# its signs fixed (_newton_kernels.lasso_dual_point_sparse, a support x support Cholesky), tried by the outer gap
# (within _NEWTON_GAP_SPARSE of the target, or when the last subproblem passed with it) and by the subproblems'
# gaps (within _NEWTON_GAP_SPARSE of theirs; not again in a phase where it failed to halve the gap), while
# support^3 <= _NEWTON_COST_SPARSE * (stored entries read by the alternative: the design's for the outer gap, the
# working set's times the epochs between gap checks inside). Measured (tol 1e-6, n = 10^4, bench_sparse_lasso's
# problems, seeds 0 / 1): p = 10^5 density 1e-4 at 0.01 lam_max 9 -> 7 / 8 -> 7 outer iterations (650 -> 480 /
# 420 -> 410 epochs), at 0.1 lam_max 50 -> 40 / 40 -> 30 epochs; no change where the support is large (p = n,
# 0.001 lam_max: 6400 columns, a Cholesky of seconds) or the second-to-last gap is far from the target
_NEWTON_DUAL_SPARSE = True
_NEWTON_COST_SPARSE = 256
_NEWTON_GAP_SPARSE = 100.0
# ... and never while the outer gap exceeds _NEWTON_GAP_SPARSE_MAX of the objective: that far from the optimum the
# support is rarely the optimum's and the refit is wasted; without the cap a loose tol (1e-2: within 100 % of the
# target) tried it on every outer iteration. Measured (p = 10^4, bench_sparse_lasso's problems, tol 1e-2, CPU
# medians of 9): 3.0 -> 2.5 ms (density 1e-3, 0.1 lam_max), 16.3 -> 11.4 ms (1e-2, 0.01), 95.9 -> 80.3 ms (1e-2,
# 0.001); tol <= 1e-3 never reaches the cap (the same iterates)
_NEWTON_GAP_SPARSE_MAX = 0.1
# A sparse lasso subproblem whose epochs have run a budget and whose gap's rate predicts many more goes to the
# sample-space Newton method (_ssnal_sparse.SparseSsnalTrigger: its thresholds and cost model), from its point;
# should that stop short, the epochs go on from its point
_SPARSE_SSNAL = True
# ... and inside a subproblem, its fixed cost (about 0.2-0.4 ms: Gram kernel, factorization, product), in stored
# entries read, must also fit in the epochs until the next check (p = n = 10^4, density 1e-4: a working set of
# 116 columns, 0.45 ms per try against 0.07 ms per epoch, made the solve 15 % slower)
_NEWTON_OVERHEAD = 300_000
# The sparse lasso's subproblem on the whole (screened) problem, the certificate's phase: after two gap checks, the
# next one comes when the gap's rate between them predicts the target (at most gap_freq epochs later), instead of
# every gap_freq epochs
_PREDICT_CHECKS = True
# The whole (screened) problem's phase stops at a gap of tol times the dual value of its own check, the outer stop's
# rule, instead of tol times the best dual value found before the phase: that one comes from a rescaled residual far
# from the optimum (p = n = 10^4, density 1e-2, 0.001 lam_max: 9.8 against P(x*) = 41.6, a target 4x too tight;
# 80 -> 77 epochs). Not in active-set cycling (dense), whose phases may cover the nonzero groups only
_CERTIFY_AT_PHASE_DUAL = True
# The sparse lasso: a working set of more than this fraction of the live columns is replaced by all of them
# (solved at once to the final tolerance, read in place from a CSC design). Its subproblem costs over half the
# whole problem's epochs and still leaves the whole problem to solve, after one more outer product and a gather
# of its columns. p = n = 10^4, density 1e-2, 0.001 lam_max (tol 1e-6, seeds 0 / 1): working sets 80, 616,
# 2324, 8888, all -> 80, 616, 2324, all; 87 -> 80 / 74 -> 72 epochs (fewer on seeds 2-5 too); CPU time 0.86 /
# 0.92 (CSC), 0.76 / 0.90 (CSR) in interleaved A/B; unchanged where no working set passes half (p = 10^5)
_SPARSE_WHOLE_FRAC = 0.5
# The lasso on a sparse design (one target, block g feature g) keeps no p-length array of Lipschitz constants: a
# working set's are the squared norms of its gathered columns, one pass over their entries per subproblem (fewer
# than one epoch reads; the same numbers as when kept), and Gap Safe screening bounds ||a_j|| by the design's column
# norms. The fit's peak RSS increment (benchmarks/_memory.py, n = 10^4, p = 10^6, density 1e-4, 0.1 lam_max):
# 57.0 -> 49.4 MiB (CSC), 65.9 -> 58.2 (CSR), same iterates
_COLUMN_LIPS = True
# ... and the working set's one-pass scores of single features are written into the memory of A^T r, which is not
# read after them (_scores_of): no second p-length array per outer iteration. With it, and the screened groups'
# zeroing reading the last working set only (solve_block), the same cells: 49.4 -> 44.5 MiB (CSC), 58.2 -> 53.4
_SCORES_IN_PLACE = True
# A CSR design's whole problem: its columns come from one gather of all of them in column order, which becomes
# the store (_Design._csr_store_all), instead of a gather of the columns not stored yet, a concatenation and a
# regather of the whole store into column order (the same arrays: p = n = 10^4, density 1e-2, after a working set
# of 2324 columns, 24.9 -> 14.6 ms; a CSR solve at 0.001 lam_max, in-process A/B: 0.94-0.97, same epochs)
_CSR_WHOLE_IN_ORDER = True
# The sparse lasso's epochs between two gap checks, Anderson steps included, run in one kernel call
# (_design_kernels.csc_singleton_run_numba: the same steps as _BlockSolver._phase's loop and _extrapolate, the same
# iterates) instead of one Python round trip per epoch and five numba calls per Anderson step
_FUSED_RUNS = True
# ... storing, for its Anderson steps, the residual's rows that the working set's columns touch only (when they are
# at most this fraction of them; looked for when the columns hold at most n entries, more touch most rows as a
# rule): the other rows keep their value through the epochs, and are combined from it (the same numbers)
_COMPACT_STORES = True
_COMPACT_FRAC = 0.5
# (the identity block of those stores: ones below the diagonal, one row more than columns)
_SHIFTED_EYE = np.eye(_ANDERSON_K + 1, _ANDERSON_K, -1)
# ... and its gap checks are one kernel call (_design_kernels.csc_singleton_gap_numba: the product A_ws^T r, the
# dual scaling, the objective and the dual value in two passes, no n-length temporaries; the dual value's sum is
# reassociated, so the inner gap may differ from the BLAS dot product's in its last bits)
_FUSED_GAP = True
# A working set taking more than the violating groups picks the best others among the scores at most a threshold
# estimated on a sample (_block_kernels.smallest_set_numba: argpartition's set, which argpartition still picks when
# a tie straddles its boundary); p = 10^4: 60-90 -> 7-30 us, p = 10^5: 0.3-1.1 -> 0.05-0.34 ms a call
_SAMPLED_TOP = True
# A screening event that compacts the live arrays takes the screened and the kept groups in one pass
# (_block_kernels.split_live_numba; no negated mask, one gather instead of two) and hands the solve's reading of
# "block g is feature g" to the new live arrays
_SPLIT_LIVE = True
# Once compacted, a CSC design's outer product A^T r covers the live columns only (csc_rmatvec_cols_numba, the same
# sums), however many are left (it did below half of them only): p = 10^5 density 1e-4 0.94-0.96x the time
_LIVE_PRODUCT = True
# A CSR gather of many new columns lists their entries without a branch (_design_kernels._place_marked; the same
# arrays): in-process A/B, p = n = 10^4, density 1e-2: 0.94-0.95, 1e-3: 0.98-1.00, p = 10^5: 1.00
_CSR_FLAT_LISTING = True
# A CSR product A^T r over short rows reads a fixed number of entries a row, not a loop whose exit is mispredicted
# once a row (_design_kernels.csr_rmatvec_numba; the same sums): p = n = 10^4, density 1e-4: 0.96, 1e-3:
# 0.97-0.99; p = 10^5: 1.00
_CSR_FIXED_WIDTH = True
# ... and a CSC product over short columns (at most 1.5 entries a column on average) reads a fixed number of entries
# a column (_design_kernels._csc_rmatvec_fixed_width; the same sums)
_CSC_FIXED_WIDTH = True
# A CSR design's first product A^T r brings its squared column norms and its entries per column (the gathers'
# counts), in the same pass when rows and columns are long (_design_kernels.csr_rmatvec_colstats_numba, the same
# sums), not two passes more: p = n = 10^4, density 1e-2: 0.95-0.97; short rows or columns: the three passes
_CSR_FIRST_PASS = True
# The sparse lasso's Newton dual point, once a CSC design's live columns are compacted, is rescaled from their products
# only (_Design.rmatvec_compact, the same sums and the same scale), not from a second p-length product beside U
_COMPACT_RESCALE = True
# A CSR design's store of gathered columns is the last working set's arrays, in its order: the next working set
# takes its columns found there from them and only the new ones from a pass over the CSR arrays, written in place
# in one call (_design_kernels.csr_gather_merged_numba; the same arrays), instead of a store of every column seen,
# grown by concatenation, and a second gather of the working set from it (a copy of the store and one of the set
# per subproblem, and the memory of both)
_CSR_MERGED_STORE = True


_EPS = np.finfo(float).eps
_TINY = np.finfo(float).tiny


def _any_positive(a):
    """``np.any(a > 0)``, reading the one value of a broadcast (constant) ``a``."""
    return bool(a[0] > 0) if is_constant(a) else bool(np.any(a > 0))


def _kernels(use_numba):
    # dense: the kernels of _block_kernels on contiguous float64 columns, else those reading A in place
    epoch_dense, ws_gradient_dense, ws_residual_dense = dense_kernels(use_numba)
    if use_numba:
        scaling, norms = with_singleton_fast_path(group_dual_scaling_numba, group_threshold_norms_numba,
                                                  singleton_dual_scaling_numba, singleton_threshold_norms_numba)
        # sparse: the lasso's single columns get an epoch of their own, and the sums vectorize (_design_kernels)
        return (epoch_dense, csc_block_epoch, scaling, norms, ws_gradient_dense,
                ws_residual_dense, csc_ws_gradient_numba, ws_residual_sparse_numba)
    return (epoch_dense, bcd_epoch_sparse_numpy, group_dual_scaling_numpy,
            group_threshold_norms_numpy, ws_gradient_dense, ws_residual_dense,
            ws_gradient_sparse_numpy, ws_residual_sparse_numpy)


class _Design:
    """``A`` (dense in any memory order, CSC or CSR, float64 or float32, never converted) with the products the
    solver needs.

    A float32 ``A`` is read in place by :mod:`structsparse._float32` (float64 sums of exactly converted
    entries), never converted as a whole; the working-set columns it caches are float64 copies.
    """

    def __init__(self, A):
        self.source = A
        self.sparse = sp.issparse(A)
        self.A = A
        self.csr = self.sparse and A.format == "csr"
        if self.sparse and A.format not in ("csc", "csr"):  # the datafit keeps CSR or CSC; any other: CSC once
            self.A = A.tocsc()
        self.float32 = is_float32(self.A)
        self.n, self.p = A.shape
        self._colnorm2 = None
        self._colcount = None   # CSR: stored entries per column (int32), for the working-set gathers
        self._mean_colnorm2 = None
        # columns of a C-ordered or float32 A (dense) or of a CSR A copied once, contiguously, as they enter
        # working sets, up to _CACHE_FRACTION of the design's bytes
        self._slot = None
        self._cache = None
        self._used = 0
        self._stored = None   # CSR (_CSR_MERGED_STORE): the store's columns in its order (None: all, or none yet)
        design_bytes = sum(a.nbytes for a in (self.A.data, self.A.indices, self.A.indptr)) if self.sparse \
            else self.A.nbytes
        self._budget = int(max(_CACHE_FRACTION * design_bytes, min(_CACHE_FLOOR, design_bytes)))

    def rmatmat(self, R, cols=None):
        """``A^T R^T`` as (p, k) for the residual rows ``R`` (k, n).

        With ``cols`` (a CSC design, one target) only those entries are
        computed, the others are zero: the outer loop reads only the columns
        that screening left alive.
        """
        if cols is not None and self.sparse and not self.csr and R.shape[0] == 1:
            out = np.zeros((self.p, 1))
            A = self.A
            rmatvec_cols = csc_rmatvec_cols_numba if NUMBA_ENABLED else csc_rmatvec_cols_numpy
            rmatvec_cols(A.data, A.indices, A.indptr, np.ascontiguousarray(R[0]), cols, out[:, 0], _CSC_FIXED_WIDTH)
            return out
        if self.float32:
            if self.sparse and not self.csr and self._colnorm2 is None:
                self._colnorm2 = float32_colnorm2(self.A)
            return float32_rmatmat(self.A, np.ascontiguousarray(R.T)).reshape(self.p, -1)
        if R.shape[0] == 1:
            if self.sparse and not self.csr and self._colnorm2 is None:  # the column norms come in the same pass
                fused = csc_rmatvec_colnorm2_numba if NUMBA_ENABLED else csc_rmatvec_colnorm2_numpy
                u, self._colnorm2 = fused(self.A.data, self.A.indices, self.A.indptr, np.ascontiguousarray(R[0]))
                return u.reshape(-1, 1)
            if self.sparse:   # numba on unsigned indices: 1.1-1.4x faster than scipy's product (_design_kernels)
                A, r = self.A, np.ascontiguousarray(R[0])
                if self.csr and self._colnorm2 is None and _CSR_FIRST_PASS:   # norms and counts in the same pass
                    fused = csr_rmatvec_colstats_numba if NUMBA_ENABLED else csr_rmatvec_colstats_numpy
                    u, self._colnorm2, counts = fused(A.data, A.indices, A.indptr, r, self.p, _CSR_FIXED_WIDTH)
                    if self._colcount is None:
                        self._colcount = counts
                    return u.reshape(-1, 1)
                if self.csr:
                    return (csr_rmatvec_numba if NUMBA_ENABLED else csr_rmatvec_numpy)(
                        A.data, A.indices, A.indptr, r, self.p, _CSR_FIXED_WIDTH).reshape(-1, 1)
                return (csc_rmatvec_numba if NUMBA_ENABLED else csc_rmatvec_numpy)(
                    A.data, A.indices, A.indptr, r, _CSC_FIXED_WIDTH).reshape(-1, 1)
            return np.asarray(self.A.T @ R[0]).reshape(-1, 1)
        return np.asarray(self.A.T @ R.T)

    def rmatvec_compact(self, r, cols):
        """``A[:, cols]^T r`` as (cols.size,) for a CSC design: the values :meth:`rmatmat` gives at ``cols``,
        without its p-length output (the Newton dual point's rescaling, while the outer product is alive)."""
        kernel = csc_rmatvec_compact_numba if NUMBA_ENABLED else csc_rmatvec_compact_numpy
        return kernel(self.A.data, self.A.indices, self.A.indptr, np.ascontiguousarray(r), cols)

    def matmat(self, X):
        """``(A X)^T`` as (k, n)."""
        AX = float32_matmat(self.A, X) if self.float32 else np.asarray(self.A @ X)
        return np.ascontiguousarray(AX.reshape(self.n, -1).T)

    def matvec(self, X):
        """``A X`` (n,) or (n, k), the shape of ``X``'s trailing dimensions (no conversion of a float32 ``A``)."""
        return float32_matmat(self.A, X) if self.float32 else np.asarray(self.A @ X)

    def cols_matmat(self, cols, X):
        """``A[:, cols] @ X`` (n, k) in float64, for a few columns (gathered, converted if float32)."""
        sub = self.A[:, cols]
        sub = sub.astype(np.float64) if self.float32 else sub
        return np.asarray(sub @ X).reshape(self.n, -1)

    def columns(self, cols, whole=False, in_place=False, first=None):
        """The columns ``cols`` in the kernels' layout (``whole``: ``cols`` may be every column in order).

        Sparse: compact CSC arrays ``(data, rows, colptr)`` of ``A[:, cols]``,
        gathered by a kernel from the CSC arrays, or, for CSR, from a store
        of the columns already seen (a new column costs one pass over the
        stored entries, shared by all the columns new in that call). Dense:
        ``(AT, rows)`` with column ``cols[j]`` the row ``AT[rows[j]]``,
        without copying the working set: ``AT`` is ``A.T`` for a
        Fortran-ordered float64 ``A``, and otherwise a cache of float64 rows to
        which each column is copied once, the first time it enters a working
        set (gathering a column of a C-ordered matrix touches one cache line
        per entry; working sets grow by adding groups).

        The cache holds at most ``_CACHE_FRACTION`` of the design's bytes
        (at small ``lam`` a working set covers the whole design), and at
        least ``min(_CACHE_FLOOR, design)``. Past that, with ``in_place``,
        ``AT`` is the pair ``(cache, A.T)`` and ``rows[j]`` is the cache row
        (``>= 0``) or ``-1 - cols[j]``, the column read in place (a strided or
        float32 view; the kernels of :mod:`._inplace_kernels` read both);
        without ``in_place``, a float64 copy of the columns for this call only
        (not kept). ``first`` (a mask over ``cols``, the working set's nonzero
        columns, which its epochs over the support read again and again)
        marks the columns the cache takes first: past the budget they replace
        cached columns outside ``cols``.
        """
        cols = np.ascontiguousarray(cols, dtype=np.int64)
        if self.sparse:
            gather = csc_gather_numba if NUMBA_ENABLED else csc_gather_numpy
            if not self.csr:
                A = self.A
                if whole and cols.size == self.p and np.array_equal(cols, np.arange(self.p)):
                    # every column: the design's own arrays, no copy (indices viewed unsigned, as the gathers
                    # return them: numba then skips its negative-index check per entry, see _design_kernels)
                    return A.data, unsigned_view(A.indices), unsigned_view(A.indptr)
                return gather(A.data, A.indices, A.indptr, cols)
            if whole and _CSR_WHOLE_IN_ORDER and cols.size == self.p and np.array_equal(cols, np.arange(self.p)):
                # every column of a CSR design: one gather of all of them in column order becomes the store,
                # returned as it is (no gather of the new columns, concatenation and regather into this order)
                if self._used < self.p or not np.array_equal(self._slot, cols):
                    self._csr_store_all()
                return self._cache
            if _CSR_MERGED_STORE:
                return self._csr_merged(cols)
            return gather(*self._csr_store(cols), self._slot[cols].astype(np.int64))
        if self.A.flags.f_contiguous and not self.float32:
            return self.A.T, cols
        cap = min(self.p, self._budget // (8 * self.n))   # most columns the cache holds
        if self._slot is None:
            # reserved at its full size once: the pages become resident only as columns are written, and no
            # growth ever holds two caches at once
            self._slot = np.full(self.p, -1, dtype=np.int64)
            self._cache = np.empty((cap, self.n))
        new = _unique(cols[self._slot[cols] < 0])
        past = self._used + new.size > cap
        if past and not in_place:   # a float64 copy of the columns for this call only
            return np.ascontiguousarray(self.A.T[cols], dtype=np.float64), np.arange(cols.size, dtype=np.int64)
        if past and first is not None:
            self._make_room(cols, cols[np.asarray(first, dtype=bool)], cap)
            new = _unique(cols[first][self._slot[cols[first]] < 0])
        new = new[:cap - self._used]   # past the budget: the first ones fill it, the others are read in place
        if new.size:
            stop = self._used + new.size
            self._cache[self._used:stop] = self.A.T[new]
            self._slot[new] = np.arange(self._used, stop)
            self._used = stop
        slots = self._slot[cols]
        if not past:
            return self._cache, slots
        # the kernels of _inplace_kernels read a (cache, A.T) pair: rows >= 0 in the cache, -1 - column in A
        return (self._cache, self.A.T), np.where(slots >= 0, slots, -1 - cols)

    def _make_room(self, cols, wanted, cap):
        """Free the cache slots of columns outside ``cols`` for the ``wanted`` columns not cached yet."""
        missing = int(np.count_nonzero(self._slot[wanted] < 0))
        short = missing - (cap - self._used)
        if short <= 0:
            return
        keep = np.zeros(self.p, dtype=bool)
        keep[cols] = True
        cached = np.flatnonzero(self._slot >= 0)
        victims = cached[~keep[cached]][:short]
        if victims.size == 0:
            return
        # move the last cached rows into the victims' slots, so that the cache stays a prefix
        freed = np.sort(self._slot[victims])
        self._slot[victims] = -1
        self._used -= victims.size
        tail = np.flatnonzero(self._slot >= self._used)   # columns whose rows lie past the new end
        holes = freed[freed < self._used]
        order = np.argsort(self._slot[tail])
        tail = tail[order][:holes.size]
        self._cache[holes] = self._cache[self._slot[tail]]
        self._slot[tail] = holes

    def _csr_store_all(self):
        """The store of a CSR ``A`` replaced by all its columns in column order (one gather pass)."""
        A = self.A
        if self._colcount is None:
            self._colcount = (csr_colcounts_numba if NUMBA_ENABLED else csr_colcounts_numpy)(A.indices, self.p)
        self._cache = None   # the old store goes before the new one comes
        gather = csr_gather_counted_numba if NUMBA_ENABLED else csr_gather_counted_numpy
        self._cache = gather(A.data, A.indices, A.indptr, np.arange(self.p, dtype=np.int64), self._colcount,
                             self.p)
        self._slot = np.arange(self.p, dtype=self._slot_dtype)
        self._used = self.p
        self._stored = None

    def _csr_store(self, cols):
        """CSC arrays of every column of a CSR ``A`` seen so far (``_slot`` maps a column to its place)."""
        if self._slot is None:
            self._slot = np.full(self.p, -1, dtype=self._slot_dtype)
            # the gathers' unsigned index types (a signed start would make every concatenation signed)
            self._cache = (np.zeros(0), unsigned_view(np.zeros(0, dtype=self.A.indices.dtype)),
                           unsigned_view(np.zeros(1, dtype=self.A.indptr.dtype)))
        new = _unique(cols[self._slot[cols] < 0])
        if new.size:
            A = self.A
            if self._colcount is None:  # entries per column, once per design: the gathers skip their counting pass
                self._colcount = (csr_colcounts_numba if NUMBA_ENABLED else csr_colcounts_numpy)(A.indices, self.p)
            gather = csr_gather_counted_numba if NUMBA_ENABLED else csr_gather_counted_numpy
            data, rows, ptr = gather(A.data, A.indices, A.indptr, new, self._colcount, self.p, _CSR_FLAT_LISTING)
            old_data, old_rows, old_ptr = self._cache
            self._cache = (np.concatenate([old_data, data]), np.concatenate([old_rows, rows]),
                           np.concatenate([old_ptr, old_ptr[-1] + ptr[1:]]))
            self._slot[new] = np.arange(self._used, self._used + new.size)
            self._used += new.size
        return self._cache

    def _csr_merged(self, cols):
        """CSC arrays of the columns ``cols`` (distinct) of a CSR ``A``, which become the store (``_slot``: a
        column's place in them, or -1): its columns are copied from it, the others gathered from ``A``."""
        if self._slot is None:
            self._slot = np.full(self.p, -1, dtype=self._slot_dtype)
        m = cols.size
        place = self._slot[cols]
        if self._cache is not None and m == self._used and np.array_equal(place, np.arange(m)):
            return self._cache   # the store's columns in its order
        A = self.A
        if self._colcount is None:  # entries per column, once per design: the gathers skip their counting pass
            self._colcount = (csr_colcounts_numba if NUMBA_ENABLED else csr_colcounts_numpy)(A.indices, self.p)
        if self._cache is None:
            old = (np.zeros(0), unsigned_view(np.zeros(0, dtype=A.indices.dtype)),
                   unsigned_view(np.zeros(1, dtype=A.indptr.dtype)))
        else:
            old = self._cache
            if self._stored is not None:
                self._slot[self._stored] = -1
            else:   # (the whole design, stored by _csr_store_all)
                self._slot.fill(-1)
        gather = csr_gather_merged_numba if NUMBA_ENABLED else csr_gather_merged_numpy
        # (one plus the place, 0 for a new column: unsigned, as the kernel reads it)
        self._cache = gather(A.data, A.indices, A.indptr, cols, self._colcount, self.p, *old,
                             (place.astype(np.int64) + 1).view(np.uint64), _CSR_FLAT_LISTING)
        self._slot[cols] = np.arange(m)
        self._used = m
        self._stored = cols.copy()
        return self._cache

    @property
    def _slot_dtype(self):
        """A CSR store's places, one per column of ``A``: int32 while they fit (4 bytes a feature, not 8)."""
        return np.int32 if self.p < np.iinfo(np.int32).max else np.int64

    @property
    def has_colnorms(self):
        return self._colnorm2 is not None or self.sparse

    def mean_colnorm2_estimate(self, n_sample=64):
        """Mean squared column norm from a few evenly spaced columns (cheap; not a bound; computed once)."""
        if self._mean_colnorm2 is None:
            cols = np.unique(np.linspace(0, self.p - 1, min(n_sample, self.p)).astype(np.int64))
            sub = self.A[:, cols]
            sq = sub.multiply(sub).sum(dtype=np.float64) if self.sparse else np.einsum("ij,ij->", sub, sub,
                                                                                          dtype=np.float64)
            self._mean_colnorm2 = float(sq) / cols.size
        return self._mean_colnorm2

    @property
    def colnorm2(self):
        """Squared Euclidean norm of every column (computed once, one pass over ``A``)."""
        if self._colnorm2 is None:
            A = self.A
            if self.float32:
                self._colnorm2 = float32_colnorm2(A)
            elif self.csr:
                norms = csr_colnorm2_numba if NUMBA_ENABLED else csr_colnorm2_numpy
                self._colnorm2 = norms(A.data, A.indices, self.p)
            elif self.sparse:
                norms = csc_colnorm2_numba if NUMBA_ENABLED else csc_colnorm2_numpy
                self._colnorm2 = norms(A.data, A.indptr)
            else:
                self._colnorm2 = float32_colnorm2(A) if self.float32 else np.einsum("ij,ij->j", A, A)
        return self._colnorm2


def _unique(ids):
    """``np.unique(ids)``, without its sort when ``ids`` already increases (a working set's columns do)."""
    return ids if ids.size < 2 or bool(np.all(ids[1:] > ids[:-1])) else np.unique(ids)


def _group_lipschitz(AT, ptr, rows):
    """``group_lipschitz_dense(AT, ptr, rows, smallest=True)`` for any ``AT`` of :meth:`_Design.columns`.

    Columns not in float64 contiguous rows (read in place, or a (cache, design) pair) are gathered as
    float64 rows a few groups at a time (the Gram matrices in float64, not a full copy of the set).
    """
    if contiguous_float64(AT):
        return group_lipschitz_dense(AT, ptr, rows=rows, smallest=True)
    if isinstance(AT, tuple):
        cache, design = AT
        return group_lipschitz_gathered(lambda sel: hybrid_gather(cache, design, sel), cache.shape[1], ptr, rows,
                                        smallest=True)
    return group_lipschitz_gathered(lambda sel: np.ascontiguousarray(AT[sel], dtype=np.float64), AT.shape[1], ptr,
                                    rows, smallest=True)


def _design_of(loss):
    """The datafit's design in the solver's layout, kept on the datafit between calls.

    A path or a cross-validation solves the same datafit for many ``lam``:
    the CSC copy, the column norms and the cache of contiguous columns are
    built once for all of them. The datafit's ``A`` never changes
    (``with_design`` makes a new datafit).
    """
    design = loss.__dict__.get("_block_design")
    if design is None or design.source is not loss.A:
        design = _Design(loss.A)
        # the column norms from the datafit's validation pass (a dense or float64 CSC A)
        colnorm2 = loss.__dict__.get("_colnorm2")
        if colnorm2 is not None and colnorm2.shape == (design.p,) and (not design.sparse or design.A is loss.A):
            design._colnorm2 = colnorm2
        loss._block_design = design
    return design


class _Unpenalized:
    """Projection of residuals onto the orthogonal complement of the unpenalized columns.

    A dual point must satisfy ``A_u^T theta = 0`` for the unpenalized columns
    ``A_u``, which no scaling of ``r`` achieves; projecting ``r`` first makes
    the duality gap exact. For more than ``_MAX_PROJECTED_FREE`` such columns
    the projection is skipped and the gap is only approximate (it still
    vanishes at the optimum, where ``A_u^T r = 0``).
    """

    def __init__(self, design, cols):
        self.active = 0 < cols.size <= _MAX_PROJECTED_FREE
        self.exact = cols.size <= _MAX_PROJECTED_FREE
        if not self.active:
            return
        Au = design.A[:, cols]
        Au = Au.toarray() if sp.issparse(Au) else np.asarray(Au)
        Au = np.asarray(Au, dtype=np.float64)
        U, s, _ = np.linalg.svd(Au, full_matrices=False)
        rank = int(np.sum(s > s[0] * max(Au.shape) * np.finfo(float).eps)) if s.size and s[0] > 0 else 0
        self.Q = U[:, :rank]                       # orthonormal basis of range(A_u), (n, rank)
        self.AtQ = design.rmatmat(np.ascontiguousarray(self.Q.T))  # (p, rank)

    def project(self, R, U=None):
        """Projected residual rows (k, n) and, when ``U = A^T R^T`` is given, ``A^T`` of the projection."""
        if not self.active:
            return R, U
        coef = self.Q.T @ R.T                      # (rank, k)
        Rp = R - (self.Q @ coef).T
        if U is not None:
            U = U - self.AtQ @ coef
        return Rp, U


def _newton_dual_point(AT, rows, ptr, U, t1, t2, Y, theta0):
    """A dual point from the support's constraints linearized at ``theta0``, or None; to be rescaled.

    Near the optimum the dual constraints of the support's groups hold with
    equality, and the dual optimum is the projection of ``y`` onto them.
    Linearized at ``theta0`` (``U = A_S^T theta0``, (m, k), for the support's
    columns ``AT[rows[j]]`` in groups ``ptr``), the constraint
    ``0.5 ||S_t1(A_g^T theta)||^2 = 0.5 t2_g^2`` (``0.5 (a_j^T theta)^2 =
    0.5 t1_j^2`` for a singleton without l2 part) reads ``w_g^T theta = c_g``
    with ``w_g = A_g S_t1(U_g)``, and the projection of ``y`` onto those
    affine constraints is ``y - W^T mu`` with ``(W W^T) mu = W y - c``: in
    primal terms, the groups' magnitudes refitted along the directions
    ``S_t1(A_g^T theta0)``. The rescaled residual's dual value errs by about
    its distance to the optimum, of order ``sqrt(suboptimality)``. For the
    lasso (one target) the support's constraints are affine and this point
    is their exact projection; for groups the directions keep their first
    order error, and the point is only closer (measured: 6x to 175x smaller
    gaps near the optimum). It is not feasible as such: the caller rescales
    it like any other dual point, so a poor point costs time, never validity.
    Blocks without l2 part other than single entries (one feature, one
    target) are left out. None when the constraints outnumber ``k n``.
    """
    n = AT.shape[1]
    k = Y.shape[0]
    sizes = np.diff(ptr)
    single = t2 <= 0
    if k > 1 or np.any(single & (sizes > 1)):
        # a block without l2 part has one constraint per entry, |a_j^T theta_c| <= t1: only a single entry's
        # (one feature, one target) is the squared form below; the others are left to the rescaling
        keep = ~single | ((sizes == 1) & (k == 1))
        if not keep.all():
            keep_rows = np.repeat(keep, sizes)
            rows, U, t1, t2 = rows[keep_rows], U[keep_rows], t1[keep], t2[keep]
            sizes, single = sizes[keep], single[keep]
            ptr = np.zeros(sizes.size + 1, dtype=np.int64)
            np.cumsum(sizes, out=ptr[1:])
            rows = np.ascontiguousarray(rows)
    n_groups = ptr.size - 1
    if n_groups == 0 or n_groups > n * k:   # more constraints than unknowns: W W^T is singular
        return None
    thr1 = np.repeat(np.where(single, 0.0, t1), sizes)[:, None]
    Ut = np.sign(U) * np.maximum(np.abs(U) - thr1, 0.0)   # S_t1(U_g) (a singleton without l2 part: U itself)
    target = np.where(single, t1, t2)
    h = np.add.reduceat((Ut * Ut).sum(axis=1), ptr[:-1])
    combine = group_combinations_dense_numba if NUMBA_ENABLED else group_combinations_dense_numpy
    W = combine(AT, rows, ptr, np.ascontiguousarray(Ut))   # (G, k n)
    y = Y.ravel()
    rhs = W @ (y - theta0.ravel()) - 0.5 * (target * target - h)
    gram = W @ W.T
    gram[np.diag_indices_from(gram)] += 1e-12 * max(float(np.trace(gram)), np.finfo(float).tiny)
    try:
        mu = np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        return None
    theta = y - W.T @ mu
    if not np.all(np.isfinite(theta)):
        return None
    return theta.reshape(theta0.shape)


def _ssnal_blocks(ptr, t1, t2, unpen):
    """Whether every block is one l2 norm or one feature, penalized, and none empty (what _ssnal solves)."""
    sizes = np.diff(ptr)
    return sizes.size > 0 and not np.any(unpen) and bool(np.all(sizes > 0)) and \
        bool(np.all((t1 == 0) | (sizes == 1))) and bool(np.all(t1 + t2 > 0))


def _ssnal_whole_problem(design, live, X, Y, target):
    """Run :func:`._ssnal.ssnal_group_least_squares` on the live groups (one target) from ``X``.

    Returns ``(X, R, steps, converged, dual)``, with ``X`` updated on
    the live columns, ``R = Y - A X`` (1, n) and the best dual value found.
    """
    cols = live.idx
    AT, rows = design.columns(cols)
    res = ssnal_group_least_squares(AT, np.ascontiguousarray(rows, dtype=np.int64),
                                    np.ascontiguousarray(live.ptr - live.ptr[0], dtype=np.int64),
                                    live.t1 + live.t2, Y[0], X[cols, 0], target, use_numba=NUMBA_ENABLED)
    X[cols, 0] = res.x
    return X, np.ascontiguousarray(res.residual.reshape(1, -1)), res.newton, res.converged, res.dual


def _dual_value(Y, theta, yy):
    d = Y - theta
    return 0.5 * yy - 0.5 * float(np.vdot(d, d))


def solve_block(loss, penalty, x0=None, tol=1e-8, max_outer=None, max_epochs=10_000, ws_strategy="subdiff",
                p0=10, screening=True, anderson=True, gap_freq=10, callback=None, verbose=False, max_iter=None):
    """Working-set block coordinate descent for block-separable penalties.

    Parameters
    ----------
    loss : LeastSquares
        ``A`` dense or scipy.sparse (LinearOperators: use :func:`fista`);
        ``y`` one or several right-hand sides.
    penalty : L1, GroupLasso or SparseGroupLasso
        Features in no group are unpenalized (GroupLasso) or get only the l1
        part (SparseGroupLasso).
    x0 : ndarray, optional
        Starting point (default zero), e.g. the previous solution on a path.
        Not modified.
    tol : float, default 1e-8
        Stop when the duality gap is at most ``tol * objective``, which
        guarantees a relative suboptimality below ``tol`` (with a floor of
        ``tol * eps * 0.5 ||y||^2`` for fits whose optimal objective is zero).
    max_outer : int, optional
        Most outer iterations (working-set subproblems), default 100.
        Reaching it issues a :class:`ConvergenceWarning` and sets
        ``converged=False``.
    max_epochs : int, default 10000
        Most coordinate-descent epochs per subproblem (inner iterations).
    ws_strategy : {'subdiff', 'gap', 'full'}, default 'subdiff'
        How groups outside the support are ranked to enter the working set:
        by how far ``A_g^T r`` violates the optimality condition
        (``'subdiff'``, skglm's rule), by the Gap Safe distance of the dual
        point to the group's constraint, normalized by ``||A_g||``
        (``'gap'``, celer's rule); ``'full'`` uses every remaining group
        (plain block coordinate descent with screening).
    p0 : int, default 10
        Smallest working set (in groups).
    screening : bool, default True
        Remove groups by the Gap Safe rule.
    anderson : bool, default True
        Anderson extrapolation of the inner iterates.
    gap_freq : int, default 10
        Epochs between two evaluations of the working set's duality gap
        (with ``anderson`` and groups of several features, at most 6 while the
        working set is smaller than the problem: the gap is checked after each
        extrapolation).
    callback : callable, optional
        ``callback(k, x, info) -> bool`` after each outer gap evaluation;
        returning True stops the solver. ``info`` holds ``objective``,
        ``gap`` and ``ws_size``.
    verbose : bool
        Print one line per outer iteration.
    max_iter : int, optional
        Deprecated alias of ``max_outer`` (a ``DeprecationWarning``; removed
        in 0.3): unlike :func:`fista`'s and :func:`admm`'s ``max_iter`` it
        counts outer working-set iterations, hence the new name.

    Returns
    -------
    SolverResult
        ``n_iter`` counts outer iterations; ``history`` holds per outer
        iteration ``objective``, ``gap``, ``ws_size``, ``n_screened``,
        ``epochs``, ``time`` and, for least squares, ``ssnal_steps`` (the
        Newton steps of the sample-space method, see Notes), and
        ``screened_blocks``: an int64 array of
        the blocks removed by screening (the penalty's groups in order, then
        one singleton per feature in no group).

    Notes
    -----
    Unpenalized features (in no group, or in a group of weight zero) are
    always in the working set. Up to 500 of them, the residual is projected
    off their span before it is scaled, which keeps the gap exact; beyond
    that the gap is approximate (it still vanishes at the optimum), screening
    is turned off and the message says so.

    A dense least-squares problem with one target and blocks that are each
    one l2 norm (or one feature) can finish in the sample space: once the
    working set is the whole problem, its support holds more coefficients
    than ``A`` has rows, and the last subproblem's epochs, at their rate,
    predict many more to go, the whole problem goes to a semismooth Newton
    augmented Lagrangian method (Li, Sun and Toh 2018; Zhang, Zhang, Sun and
    Toh 2020), whose Newton systems are ``n x n``. Should it stop short of
    the tolerance, epochs go on from its point. The gap is certified as
    always.

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((50, 40)); y = rng.standard_normal(50)
    >>> pen = ss.GroupLasso(ss.Groups.contiguous(40, 4), lam=5.0)
    >>> res = ss.solve_block(ss.LeastSquares(A, y), pen, tol=1e-10)
    >>> res.converged, bool(abs(res.objective - ss.fista(ss.LeastSquares(A, y), pen, tol=1e-10).objective) < 1e-6)
    (True, True)
    """
    owner = "solve_block"
    check_inputs(loss, penalty, owner)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    if max_iter is not None:
        if max_outer is not None:
            raise ParameterError(f"{owner}: pass 'max_outer' only ('max_iter' is its deprecated alias). "
                                 f"Got both max_outer={max_outer!r} and max_iter={max_iter!r}.")
        warnings.warn(f"{owner}: 'max_iter' is deprecated and will be removed in 0.3; it counts outer "
                      "working-set iterations: use 'max_outer' (inner epochs are 'max_epochs').",
                      DeprecationWarning, stacklevel=2)
        max_outer = check_int(max_iter, "max_iter", low=1, owner=owner)
    max_iter = 100 if max_outer is None else check_int(max_outer, "max_outer", low=1, owner=owner)
    max_epochs = check_int(max_epochs, "max_epochs", low=1, owner=owner)
    ws_strategy = check_choice(ws_strategy, "ws_strategy", WS_STRATEGIES, owner=owner)
    p0 = check_int(p0, "p0", low=1, owner=owner)
    gap_freq = check_int(gap_freq, "gap_freq", low=1, owner=owner)
    if callback is not None and not callable(callback):
        raise ParameterTypeError(f"The 'callback' parameter of {owner} must be callable. Got {callback!r}.")
    for name, val in (("screening", screening), ("anderson", anderson), ("verbose", verbose)):
        if not isinstance(val, (bool, np.bool_)):
            raise ParameterTypeError(f"The '{name}' parameter of {owner} must be a bool. Got {val!r} instead.")

    start = time.perf_counter()
    design = _design_of(loss)
    n, p = design.n, design.p
    spec = block_spec(penalty, p)
    x_shape = tuple(loss.x_shape)
    Y = np.ascontiguousarray(np.asarray(loss.y, dtype=float).reshape(n, -1).T)  # (k, n)
    k = Y.shape[0]
    yy = float(np.vdot(Y, Y))
    if x0 is None:
        X = np.zeros((p, k))
        R = Y.copy()
    else:
        X = np.array(loss.check_x(x0, "x0") if hasattr(loss, "check_x") else x0, dtype=float).reshape(p, k)
        R = np.ascontiguousarray(Y - design.matmat(X))

    if "least_squares" not in loss.capabilities:
        return _solve_block_datafit(loss, penalty, design, spec, X, tol, max_iter, max_epochs, p0, screening,
                                    anderson, gap_freq, callback, verbose, x_shape, start)
    solver = _BlockSolver(design, spec, Y, _kernels(NUMBA_ENABLED), anderson, gap_freq, max_epochs,
                          cycling=_ACTIVE_CYCLING, exact=_EXACT_BLOCKS, newton_dual=_NEWTON_DUAL,
                          column_lips=_COLUMN_LIPS and design.sparse and k == 1)
    identity = solver.identity   # (read once: each reading looks at two array interfaces)
    # the lasso on a sparse design (one target, single columns): its own Newton dual point
    sparse_lasso = design.sparse and k == 1 and spec.ptr.size - 1 == spec.idx.size
    solver.newton_sparse = _NEWTON_DUAL_SPARSE and sparse_lasso
    solver.sparse_ssnal = _SPARSE_SSNAL and sparse_lasso
    idx, ptr, t1, t2 = spec.idx, spec.ptr, spec.t1, spec.t2
    n_blocks = spec.n_blocks
    unpen = spec.unpenalized
    # (constant weights, the lasso's broadcast views: each decision reads their one value, no p-length pass)
    free_cols = block_columns(idx, ptr, (np.arange(n_blocks) if unpen[0] else _NO_BLOCKS) if is_constant(unpen) else
                              np.flatnonzero(unpen))
    proj = _Unpenalized(design, free_cols)
    # right-hand side of each group's dual constraint (t1 itself when no group has an l2 part: no copy)
    bound = np.where(t2 > 0, t2, t1) if _any_positive(t2) else t1
    # every group pure l1 or pure l2: the dual scaling is the constraint's left-hand side over its bound
    pure = not (_any_positive(t1) and _any_positive(t2)) if is_constant(t1) and is_constant(t2) else \
        not np.any((t1 > 0) & (t2 > 0))
    pure_scale, safe_mask = ((pure_dual_scale_numba, gap_safe_mask_numba) if NUMBA_ENABLED else
                             (pure_dual_scale_numpy, gap_safe_mask_numpy))
    # single-feature blocks of a pure penalty (the lasso's layout, one target): each outer scan of A^T r is one
    # pass of a kernel reading it in place (_block_kernels.singleton_*), no p-length threshold norms, bounds or masks
    single_scans = _ONE_PASS_SCANS and pure and k == 1 and spec.ptr.size - 1 == spec.idx.size
    single_scale, single_safe, single_scores, single_scores_into = (
        (singleton_pure_scale_numba, singleton_gap_safe_numba, singleton_scores_numba, singleton_scores_into_numba)
        if NUMBA_ENABLED else
        (singleton_pure_scale_numpy, singleton_gap_safe_numpy, singleton_scores_numpy, singleton_scores_into_numpy))
    # ... and the Gap Safe pass of the lasso's layout (one weight, block g column g, the column norms as bounds), while
    # nothing is compacted: a loop over A^T r and the norms without the index array (_block_kernels)
    contiguous_safe = _CONTIGUOUS_SAFE and single_scans and identity and solver.lips is None and all(
        is_constant(a) for a in (t1, t2, bound, unpen)) and not unpen[0]
    safe_contiguous = singleton_gap_safe_contiguous_numba if NUMBA_ENABLED else singleton_gap_safe_contiguous_numpy
    # block g is feature g: the live blocks are the spec's own index (no p-length arange of their own)
    live = _Live(spec, bound, unpen, spec.idx if identity else np.arange(n_blocks))
    grouped = n_blocks < idx.size              # some block holds several features (not the lasso's singletons)
    last_ws = None                             # groups of the last subproblem: X is zero elsewhere
    dead = None                                # live positions screened since the last compaction
    best_dual = -np.inf                        # best dual value so far (its point is feasible from then on)
    history = {"objective": [], "gap": [], "ws_size": [], "n_screened": [], "epochs": [], "ssnal_steps": [],
               "time": []}
    # the sample-space Newton method (_ssnal) takes a dense design's whole problem with one target and blocks that
    # are each one l2 norm (or one feature), none unpenalized
    ssnal_ready = _SSNAL and not design.sparse and k == 1 and n <= _SSNAL_ROWS * p and \
        _ssnal_blocks(ptr, t1, t2, unpen)
    converged, message, gap, objective = False, "", None, None
    ws_size = 0
    it = 0

    def feasible_scale(U):
        """The factor that makes the dual point with products ``U = A^T theta`` feasible for the live groups.

        Also the left-hand sides at ``theta`` itself for a pure penalty (None otherwise); screened groups count 0.
        """
        if single_scans:   # one pass, no array of left-hand sides (the callers read U again where they need them)
            return single_scale(U, live.uidx, live.t1, live.t2, live.bound, _NO_MASK if dead is None else dead), None
        if pure:
            lhs = solver.threshold_norms(U, live.idx, live.ptr, live.t1, live.t2, 1.0)
            if dead is not None:
                lhs[dead] = 0.0
            return pure_scale(lhs, live.bound), lhs
        s = solver.dual_scaling(U, live.idx, live.ptr, live.t1, live.t2)
        if dead is not None:
            s[dead] = 0.0
        return max(1.0, float(s.max()) if s.size else 1.0), None

    def product_cols():
        """The columns the outer products read: the live ones once compacted (None: every column)."""
        return live.cols if live.cols is not None and (_LIVE_PRODUCT or 2 * live.cols.size < p) else None

    def compact_rescale():
        """Whether :func:`rescaled_dual` reads the live columns' products only (compacted single columns, CSC)."""
        return _COMPACT_RESCALE and single_scans and product_cols() is not None and design.sparse and not design.csr

    def rescaled_dual(theta):
        """The dual value of ``theta`` (k, n) scaled into the live groups' feasible set (one product)."""
        cols = product_cols()
        if compact_rescale():
            # compacted single columns (CSC): the live columns' products in position order, no second p-length
            # array beside the outer product U (p = 10^6: 7.6 MB at the solve's peak); the same scale (a maximum)
            Ut = design.rmatvec_compact(theta[0], cols).reshape(-1, 1)
            positions = np.arange(cols.size, dtype=live.uidx.dtype)
            scale = single_scale(Ut, positions, live.t1, live.t2, live.bound, _NO_MASK if dead is None else dead)
            return _dual_value(Y, theta / scale, yy)
        Ut = design.rmatmat(theta, cols=cols)
        return _dual_value(Y, theta / feasible_scale(Ut)[0], yy)

    # A^T y, the first product from x = 0, came with the datafit's validation pass (read-only)
    U0 = loss.__dict__.get("_dual0_product") if x0 is None and k == 1 else None
    if design.sparse and U0 is not None:   # a sparse design's is handed over, not kept (a p-length array fewer)
        loss._dual0_product = None
        try:   # ours now: the working set's scores may take its memory (_scores_of)
            U0.flags.writeable = True
        except ValueError:   # (its memory's owner refuses: the scores get their own array)
            pass
    for it in range(max_iter + 1):
        # ---- duality gap with one product A^T r (on the columns screening left, for a CSC design)
        if it == 0 and U0 is not None and U0.shape == (p,):
            U, U0 = U0.reshape(p, 1), None   # not held past the first iteration
        else:
            U = design.rmatmat(R, cols=product_cols())
        Rp, Up = proj.project(R, U)
        scale, lhs1 = feasible_scale(Up)
        # X is zero outside the last working set (it holds the support), and on screened groups; zero at a zero start
        if last_ws is None:
            pen_value = 0.0 if x0 is None else live.spec.value(X)
        else:
            pen_value = _value_on(spec, X, last_ws, identity)
        objective = 0.5 * float(np.vdot(R, R)) + pen_value
        # any earlier dual point stays feasible: screening only removes constraints
        dual_here = _dual_value(Y, Rp / scale, yy)
        best_dual = max(best_dual, dual_here)
        gap = max(objective - best_dual, 0.0)
        if solver.newton_dual and it > 0 and proj.exact and not proj.active and \
                tol * objective < gap <= _NEWTON_GAP * tol * objective:
            # within reach of tol: a Newton dual point (_newton_dual_point) from this residual, rescaled for the
            # whole problem with one product; its Gram matrix costs about support^2 / (2 p) products A^T r
            support = np.flatnonzero(_nonzero_groups(X, live.idx, live.ptr))
            if support.size ** 2 <= 2 * _NEWTON_COST * p:
                cols = block_columns(live.idx, live.ptr, support)
                sub_ptr = np.zeros(support.size + 1, dtype=np.int64)
                np.cumsum(live.ptr[support + 1] - live.ptr[support], out=sub_ptr[1:])
                AT, rows = design.columns(cols)
                theta = _newton_dual_point(AT, np.ascontiguousarray(rows, dtype=np.int64), sub_ptr, Up[cols],
                                           live.t1[support], live.t2[support], Y, Rp)
                if theta is not None:
                    best_dual = max(best_dual, rescaled_dual(theta))
                    gap = max(objective - best_dual, 0.0)
        if solver.newton_sparse and it > 0 and proj.exact and not proj.active and gap > tol * objective and \
                (gap <= min(_NEWTON_GAP_SPARSE * tol, _NEWTON_GAP_SPARSE_MAX) * objective or solver.newton_passed):
            # the sparse lasso's Newton dual point (scipy.sparse designs only: the dense path never comes here)
            # (block g feature g on every live block: X's column itself, no p-length gather)
            support = np.flatnonzero(X[:, 0] if live.cols is None and identity else X[live.idx, 0])
            if 0 < support.size and support.size ** 3 <= _NEWTON_COST_SPARSE * design.A.nnz:
                cols = live.idx[support]
                data, rows, colptr = design.columns(cols)
                theta = lasso_dual_point_sparse(data, rows, colptr, Up[cols, 0],
                                                (live.t1[support] + live.t2[support]) * np.sign(X[cols, 0]), Rp[0])
                if theta is not None:
                    best_dual = max(best_dual, rescaled_dual(theta.reshape(1, -1)))
                    gap = max(objective - best_dual, 0.0)
        n_screened = int(n_blocks - live.blocks.size + (0 if dead is None else np.count_nonzero(dead)))
        _record_outer(history, it, objective, gap, n_screened, ws_size, start, verbose)
        # floor: below eps * P(0) the gap is rounding noise (interpolating fits have P(x*) = 0)
        converged, message = _outer_stop(it, gap, objective, 0.5 * yy, tol, max_iter, callback, X, x_shape, ws_size,
                                         "" if proj.exact else "more than 500 unpenalized features")
        if message:
            break

        # ---- Gap Safe screening: the dual optimum is within sqrt(2 gap) of theta
        group_norm = None
        if ws_strategy == "gap":
            group_norm = solver.group_norm_bounds(idx, ptr)[live.blocks]
        lhs_u = lhs1 if pure and not proj.active else None   # left-hand sides at r itself, for the working set
        if screening and proj.exact:  # an approximate gap gives no safe sphere
            # the sphere is centred at this residual's dual point, so its radius is that point's own gap (an
            # earlier point's better dual value would give a sphere that need not hold the optimum)
            radius = np.sqrt(2.0 * max(objective - dual_here, 0.0))
            lhs = None if pure else solver.threshold_norms(Up, live.idx, live.ptr, live.t1, live.t2, scale)
            out = None
            # the exact test needs every column norm (a full pass over A); pay for it only
            # once an estimate says it would remove at least a tenth of the remaining groups
            if single_scans and not design.has_colnorms:   # the estimate reads the left-hand sides
                lhs1 = solver.threshold_norms(Up, live.idx, live.ptr, live.t1, live.t2, 1.0)
                if dead is not None:
                    lhs1[dead] = 0.0
            if contiguous_safe and live.cols is None and design.has_colnorms and Up.flags.c_contiguous:
                out, n_out = safe_contiguous(Up[:, 0], design.colnorm2, t1[0], t2[0], bound[0], scale, radius,
                                             _NO_MASK if dead is None else dead)
                out = out if n_out else None
            elif single_scans and (design.has_colnorms or _worth_screening(design, lhs1 / scale, radius, live.bound,
                                                                           ~live.unpen, live.ptr)):
                # the bounds of ||a_j|| (column norms, or known Lipschitz constants) are read in the pass
                # (no Lipschitz constants kept: the column norms are the bounds, block g being column g)
                out, n_out = single_safe(Up, live.uidx, live.blocks, live.t1, live.t2, scale, radius,
                                         design.colnorm2, _NO_LIPS if solver.lips is None else solver.lips,
                                         live.bound, live.unpen, _NO_MASK if dead is None else dead)
                out = out if n_out else None
            elif not single_scans and (design.has_colnorms or _worth_screening(
                    design, lhs1 / scale if pure else lhs, radius, live.bound, ~live.unpen, live.ptr)):
                if group_norm is None:
                    group_norm = solver.group_norm_bounds(idx, ptr)
                    group_norm = group_norm if live.cols is None else group_norm[live.blocks]
                out = safe_mask(lhs1, scale, radius, group_norm, live.bound, live.unpen) if pure else \
                    ~live.unpen & (lhs + radius * group_norm < live.bound)
            if out is not None and dead is not None and not single_scans:
                out[dead] = False   # (no negated copy of dead; the one-pass test leaves the dead out itself)
            # (the one-pass test returns a mask only when it holds a hit)
            if out is not None and (single_scans or np.any(out)):
                if dead is None:
                    dead = out
                else:
                    dead |= out   # this loop's own mask: in place
                # compact the live arrays once a tenth of them is dead (a copy of every array per
                # screening event cost more than the event at 10^6 features); until then, masked
                compact = np.count_nonzero(dead) >= 0.1 * dead.size
                if compact and _SPLIT_LIVE:   # the screened groups and the kept ones in one pass
                    screened, kept = (split_live_numba if NUMBA_ENABLED else split_live_numpy)(live.blocks, out, dead)
                else:
                    screened = live.blocks[out]
                # X is zero outside the last working set (everywhere at a zero start): only the screened groups of
                # that set can hold nonzeros to remove (no gather of X over every screened group: 5 MB at 10^6)
                R = solver.zero_groups(X, R, screened if last_ws is None and x0 is not None else _NO_BLOCKS
                                       if last_ws is None else screened[_positions(screened, last_ws)], idx, ptr)
                screened = None
                if compact:
                    keep = ~dead if not _SPLIT_LIVE or group_norm is not None or lhs_u is not None else None
                    if not _SPLIT_LIVE:
                        kept = live.blocks[keep]
                    live = None   # the old live arrays go before the new ones come
                    live = _Live(spec, bound, unpen, kept, identity if _SPLIT_LIVE else None)
                    kept = None
                    if group_norm is not None:
                        group_norm = group_norm[keep]
                    if lhs_u is not None:
                        lhs_u = lhs_u[keep]
                    dead = None

        # ---- working set (positions in the live groups, mapped back to the penalty's groups)
        ws = live.blocks[_working_set(X, U, Up, live.idx, live.ptr, live.t1, live.t2, live.bound,
                                      None if dead is None else ~dead,
                                      live.unpen, ws_strategy, p0, group_norm, solver, lhs=lhs_u,
                                      # (a zero start: X is zero everywhere until the first subproblem)
                                      maybe_nonzero=(_NO_BLOCKS if x0 is None else None) if last_ws is None else
                                      # (every group live: group g at position g, no search)
                                      last_ws if live.blocks.size == n_blocks else _positions(live.blocks, last_ws),
                                      saturated_growth=_LS_SATURATED_GROWTH, last_size=ws_size,
                                      cheap_size=live.blocks.size // _CHEAP_DIV if _CHEAP_DIV else 0,
                                      scores=_scores_of(single_scores, single_scores_into, U, live.idx.size,
                                                        identity) if single_scans and not proj.active else None,
                                      lhs_owned=True)].astype(np.int64, copy=False)   # (numpy's index type: an
        # int32 live index's working set is converted once here, not at each of its gathers)
        # the products and left-hand sides of this iteration are not needed past here: their p-length arrays go
        # before the subproblem and the next product (two generations of U were alive at once)
        U = Up = lhs1 = lhs_u = group_norm = out = None
        if sparse_lasso and _SPARSE_WHOLE_FRAC and dead is None and \
                _SPARSE_WHOLE_FRAC * live.blocks.size < ws.size < live.blocks.size:
            ws = live.blocks   # most of the problem: the whole of it (sparse lasso only, see _SPARSE_WHOLE_FRAC)
        ws_size = ws.size
        inner_tol = max((_INNER_FRAC_SPARSE if sparse_lasso else _INNER_FRAC) * gap, 0.5 * tol * objective)
        if ws_size == live.blocks.size and best_dual > 0:
            # the subproblem is the whole (screened) problem: solve it to the final tolerance at once
            # (P(x*) >= best_dual, so this gap certifies tol; no outer round trip per 0.3x of the gap)
            inner_tol = tol * best_dual
        # a working set of groups short of the whole problem checks its gap right after each Anderson step
        phase_freq = min(gap_freq, _ANDERSON_K + 1) if _CHECK_AFTER_ANDERSON and anderson and grouped and \
            ws_size < live.blocks.size else None
        solver.newton_passed = False
        # the sparse lasso's whole (screened) problem: its gap is checked when its rate predicts the target
        solver.predict_checks = _PREDICT_CHECKS and sparse_lasso and ws_size == live.blocks.size
        solver.certify = tol if _CERTIFY_AT_PHASE_DUAL and ws_size == live.blocks.size and best_dual > 0 else 0.0
        ssnal_steps, done = 0, False
        support = np.count_nonzero(X[live.idx, 0]) if ssnal_ready and ws_size == live.blocks.size else 0
        if support >= _SSNAL_SUPPORT * n and best_dual > 0 and dead is None and it > 0:
            # the whole problem with more nonzero coefficients than rows: if the last subproblem's epochs, at
            # their rate, predict more to go than _SSNAL_EPOCHS and than about 30 Newton steps would cost, Newton
            # steps in the sample space (_ssnal); should those stop short, the epochs below go on from their point
            last_gap, last_epochs = history["gap"][-2], history["epochs"][-1]
            rate = np.log(last_gap / gap) / max(last_epochs, 1) if 0 < gap < last_gap else 0.0
            to_go = np.log(gap / inner_tol) / rate if rate > 0 else np.inf
            if to_go > max(_SSNAL_EPOCHS, _SSNAL_COST * n * support / live.idx.size):
                X, R, ssnal_steps, done, dual = _ssnal_whole_problem(design, live, X, Y, inner_tol)
                best_dual = max(best_dual, dual)   # feasible for every live group: a bound for the problem
        epochs = 0
        if not done:
            R, epochs = solver.solve_subproblem(ws, X, R, inner_tol, proj, phase_freq=phase_freq)
        last_ws = ws
        history["ws_size"].append(int(ws_size))
        history["epochs"].append(int(epochs))
        history["ssnal_steps"].append(int(ssnal_steps) + solver.sparse_ssnal_steps)
        solver.sparse_ssnal_steps = 0

    # the loop ends at a gap evaluation (its message), X and R as they were there: its objective is the result's
    U = Up = None   # the last product is not needed past the loop
    # screening's removed groups: all but the live ones (no p-length mask kept through the solve)
    alive = np.zeros(n_blocks, dtype=bool)
    # (numpy's index type: an int32 index scatters through a slow cast)
    alive[(live.blocks if dead is None else live.blocks[~dead]).astype(np.intp, copy=False)] = True
    history["screened_blocks"] = np.flatnonzero(~alive)
    elapsed = time.perf_counter() - start
    if not converged and message.startswith("reached max_outer"):
        warnings.warn(f"{owner}: {message}; the result may be inaccurate (gap={gap:.3e}).", ConvergenceWarning,
                      stacklevel=2)
    # X is this solve's own array: the result takes it as it is (a copy was a p-length array more at the end)
    return SolverResult(x=X.reshape(x_shape), objective=objective, n_iter=it, converged=converged, gap=gap,
                        history=history, time=elapsed, solver=owner, message=message)


def _solve_block_datafit(loss, penalty, design, spec, X, tol, max_iter, max_epochs, p0, screening, anderson,
                         gap_freq, callback, verbose, x_shape, start):
    """The outer loop for datafits other than least squares: working sets and proximal Newton steps.

    Same gap, screening and working-set rules as the least-squares loop, with
    the dual point ``theta = -F'(A x)``; the subproblems are proximal Newton
    steps (:mod:`._prox_newton`).
    """
    owner = "solve_block"
    kernels = _kernels(NUMBA_ENABLED)
    dual_scaling, threshold_norms = kernels[2], kernels[3]
    idx, ptr, t1, t2 = spec.idx, spec.ptr, spec.t1, spec.t2
    n_blocks = spec.n_blocks
    unpen = spec.unpenalized
    exact = not np.any(unpen)   # free variables: theta is not orthogonal to them, the gap is approximate
    bound = np.where(t2 > 0, t2, t1)
    alive = np.ones(n_blocks, dtype=bool)
    y_shape = loss.y.shape
    # A x is zero at a zero start (no pass over A)
    z_zero = not np.any(X)
    z = np.zeros((design.n, X.shape[1])) if z_zero else design.matvec(X).reshape(design.n, -1)
    if design._colnorm2 is None and loss.__dict__.get("_colnorm2") is not None:
        design._colnorm2 = loss._colnorm2   # from the datafit's validation pass: no second pass for screening
    curvature = loss.curvature
    history = {"objective": [], "gap": [], "ws_size": [], "n_screened": [], "epochs": [], "time": []}
    converged, message, gap, objective = False, "", None, None
    ws_size = 0
    it = 0
    factory = _subproblem_factory(kernels, anderson, gap_freq, max_epochs)
    ctx = {"dual_scaling": dual_scaling, "design_cls": _Design}
    rules = SimpleNamespace(threshold_norms=threshold_norms, dual_scaling=dual_scaling)
    f_zero = loss.value_from_Ax(np.zeros(y_shape))
    free_cols = idx[np.repeat(unpen, np.diff(ptr))]
    free_basis = column_span_basis(design.A, free_cols) if 0 < free_cols.size <= _MAX_PROJECTED_FREE else None
    for it in range(max_iter + 1):
        # theta must be orthogonal to the unpenalized columns for the gap to bound anything (dense solve: capped)
        if 0 < free_cols.size <= _MAX_PROJECTED_FREE:
            z = _fit_unpenalized(loss, design, X, z, free_cols, y_shape)
        theta = loss.dual_point(z.reshape(y_shape)).reshape(design.n, -1)
        if 0 < free_cols.size <= _MAX_PROJECTED_FREE:
            theta = _orthogonal_to_free(theta, free_basis, loss, y_shape)
        if it == 0 and z_zero and free_cols.size == 0 and loss.__dict__.get("_dual0_product") is not None:
            U = loss._dual0_product.reshape(-1, 1).copy()   # A^T theta at x = 0, from the validation pass
        else:
            U = design.rmatmat(_rows_of(theta))
        s = dual_scaling(U, idx, ptr, t1, t2)
        s[~alive] = 0.0
        scale = max(1.0, float(s.max()) if s.size else 1.0)
        objective = loss.value_from_Ax(z.reshape(y_shape)) + spec.value(X)
        dual = loss.dual_value((theta / scale).reshape(y_shape))
        gap = max(objective - dual, 0.0) if np.isfinite(dual) else np.inf
        _record_outer(history, it, objective, gap, int(n_blocks - alive.sum()), ws_size, start, verbose)
        converged, message = _outer_stop(it, gap, objective, abs(f_zero), tol, max_iter, callback, X, x_shape,
                                         ws_size, "" if exact else "unpenalized features")
        if message:
            break
        z_moved = False
        # Gap Safe screening: the dual is (1 / curvature)-strongly concave
        if screening and exact and curvature is not None and np.isfinite(gap):
            radius = np.sqrt(2.0 * curvature * gap)
            lhs = threshold_norms(U, idx, ptr, t1, t2, scale)
            norms = np.sqrt(np.add.reduceat(design.colnorm2[idx], ptr[:-1]))
            out = alive & ~unpen & (lhs + radius * norms < bound)
            if np.any(out):
                cols_out = block_columns(idx, ptr, np.flatnonzero(out))
                old = X[cols_out].copy()
                if np.any(old):
                    X[cols_out] = 0.0
                    nz = np.flatnonzero(np.any(old != 0.0, axis=1))
                    z = z - design.cols_matmat(cols_out[nz], old[nz]).reshape(design.n, -1)
                    z_moved = True
                alive &= ~out
        lhs = threshold_norms(U, idx, ptr, t1, t2, 1.0)
        ws = _working_set(X, U, U, idx, ptr, t1, t2, bound, alive, unpen, "subdiff", p0, None, rules,
                          _saturated_growth(X, idx, ptr, ws_size), lhs=lhs,
                          last_size=ws_size if _DATAFIT_CHEAP_GROWTH else 0,
                          cheap_size=int(alive.sum()) // _CHEAP_DIV if _DATAFIT_CHEAP_GROWTH else 0)
        ws_size = ws.size
        # the working set holds every violated constraint, and few of them are new to the support: its
        # solution is likely the problem's, so the Newton steps run to the final tolerance (the next gap can
        # then certify) rather than to a fraction of this gap
        if _DATAFIT_COMPLETE_WS:
            violating = alive & ~unpen & (lhs > bound)
            outside = violating.copy()
            outside[ws] = False
            nonzero = _nonzero_groups(X, idx, ptr)
            n_new = int(np.count_nonzero(violating & ~nonzero))
            ctx["_newton_ws_complete"] = (not outside.any()
                                          and n_new <= _DATAFIT_COMPLETE_NEW * max(int(nonzero.sum()), 1))
        # A_ws^T theta is known from the gap's product unless screening moved z
        U_ws = None if z_moved else U[block_columns(idx, ptr, ws)]
        z, epochs = solve_newton_outer(loss, design, spec, X, ws, z, gap, 0.5 * tol * objective, factory, ctx,
                                       U_ws=U_ws)
        history["ws_size"].append(int(ws_size))
        history["epochs"].append(int(epochs))

    objective = loss.value_from_Ax(z.reshape(y_shape)) + spec.value(X)
    history["screened_blocks"] = np.flatnonzero(~alive)
    elapsed = time.perf_counter() - start
    if not converged and message.startswith("reached max_outer"):
        warnings.warn(f"{owner}: {message}; the result may be inaccurate (gap={gap:.3e}).", ConvergenceWarning,
                      stacklevel=3)
    return SolverResult(x=_shaped(X, x_shape), objective=objective, n_iter=it, converged=converged, gap=gap,
                        history=history, time=elapsed, solver=owner, message=message)


def _orthogonal_to_free(theta, basis, loss, y_shape):
    """``theta`` projected onto ``{A_F^T theta = 0}``, when the projection stays in the conjugate's domain.

    After :func:`_fit_unpenalized`, ``A_F^T theta`` is small but not zero (its Newton steps stop at a
    decrement near rounding), and the dual value then bounds ``P(x*)`` only up to that residual, which
    matters at tight tolerances. The exact projection makes the gap a true bound again; a projection that
    leaves the domain (a saturated sample) is not used.
    """
    projected = project_out(theta, basis)
    if np.isfinite(loss.dual_value(projected.reshape(y_shape))):
        return projected
    return theta


def _fit_unpenalized(loss, design, X, z, free_cols, y_shape, max_steps=50):
    """Minimize the datafit over the unpenalized variables, the others fixed (damped Newton); updates ``X``.

    At the minimizer ``A_F^T F'(A x) = 0``, so the dual point ``-F'(A x)``
    meets the dual constraint of the free variables and the duality gap is a
    bound again; without this step a gap computed at, say, a zero intercept
    can vanish far from the optimum. Returns the new ``z = A x``.
    """
    Af = design.A[:, free_cols]
    Af = np.asarray(Af.toarray() if sp.issparse(Af) else Af, dtype=np.float64)
    n = design.n
    value = loss.value_from_Ax(z.reshape(y_shape))
    undo = None  # (X_F, z, |g|) before a full step taken below the value's rounding
    for _ in range(max_steps):
        zz = z.reshape(y_shape)
        g = Af.T @ np.asarray(loss.raw_grad(zz)).reshape(n, -1)          # (m, k)
        gnorm = float(np.linalg.norm(g))
        if undo is not None:
            if not gnorm < 0.5 * undo[2]:
                X[free_cols], z = undo[0], undo[1]  # that step no longer shrank the gradient: keep the point before
                break
            undo = None
        h = np.asarray(loss.quadratic_weights(zz), dtype=float).reshape(n, -1)
        d = np.empty_like(g)
        for j in range(g.shape[1]):
            H = Af.T @ (h[:, j:j + 1] * Af)
            H[np.diag_indices_from(H)] += 1e-12 * max(float(np.trace(H)), np.finfo(float).tiny)
            d[:, j] = np.linalg.lstsq(H, -g[:, j], rcond=None)[0]
        decrement = -float(np.vdot(g, d))
        if not decrement > 0:
            break
        Ad = Af @ d
        if not decrement > 1e-15 * max(abs(value), 1.0):
            # Armijo cannot judge a decrease below the value's rounding, yet the gradient left there (4e-7 on
            # raw-scale breast-cancer features) keeps the projected dual point, and so the gap, from certifying a
            # tight tol. Near the minimizer the full Newton step is accurate: take it while the gradient halves.
            undo = (X[free_cols].copy(), z, gnorm)
            X[free_cols] += d
            z = z + Ad
            value = loss.value_from_Ax(z.reshape(y_shape))
            continue
        step = 1.0
        for _ in range(40):  # Armijo backtracking on the true datafit
            trial = loss.value_from_Ax((z + step * Ad).reshape(y_shape))
            if trial <= value - 1e-4 * step * decrement:
                break
            step *= 0.5
        else:
            break
        X[free_cols] += step * d
        z = z + step * Ad
        value = trial
    return z


def _record_outer(history, it, objective, gap, n_screened, ws_size, start, verbose):
    """Append one outer iteration to ``history`` (and print it when ``verbose``)."""
    history["objective"].append(objective)
    history["gap"].append(gap)
    history["n_screened"].append(n_screened)
    history["time"].append(time.perf_counter() - start)
    if verbose:
        print(f"solve_block {it:4d}  objective {objective:.12g}  gap {gap:.3e}  ws {ws_size}  screened {n_screened}")


def _outer_stop(it, gap, objective, p_zero, tol, max_iter, callback, X, x_shape, ws_size, approximate):
    """``(converged, message)`` after an outer gap evaluation; an empty message means go on.

    The gap is compared with ``tol * P(x)``, floored at ``16 eps * P(0)``: below
    that it is rounding noise in the gap itself, whatever ``tol`` asks (an
    interpolating fit has ``P(x*) = 0``, and ``tol * P(x)`` would then ask for a
    gap under the rounding of its own terms). ``approximate`` names why the
    gap is only approximate, if it is.
    """
    if gap <= max(tol * abs(objective), _EPS * p_zero, _TINY):
        return True, (f"approximate duality gap below tol ({approximate})" if approximate else
                      "duality gap below tol")
    if callback is not None and callback(it, _shaped(X, x_shape), {"objective": objective, "gap": gap,
                                                                   "ws_size": ws_size}):
        return False, "stopped by callback"
    if it == max_iter:
        return False, f"reached max_outer={max_iter} before the tolerance {tol:g}"
    return False, ""


def _nonzero_groups(X, idx, ptr):
    """Which groups of ``X`` (p, k) are nonzero."""
    if X.shape[1] == 1 and ptr.size - 1 == idx.size:
        return X[idx, 0] != 0
    if not idx.size:
        return np.zeros(ptr.size - 1, dtype=bool)
    return np.add.reduceat(np.abs(X[idx]).sum(axis=1), ptr[:-1]) > 0


def _saturated_growth(X, idx, ptr, ws_size):
    """Smallest next working set: four times the support when the last one came back (nearly) all nonzero.

    Used by the proximal Newton loop (for least squares, whose subproblems
    are cheap, it measured slower). A saturated working set says the support
    is larger still; quadrupling rather than doubling saves outer
    iterations, each of which costs a full product ``A^T theta``.
    """
    if not ws_size:
        return 0
    if X.shape[1] == 1 and ptr.size - 1 == idx.size:
        n_nonzero = int(np.count_nonzero(X[idx, 0]))
    else:
        n_nonzero = int(np.count_nonzero(np.add.reduceat(np.abs(X[idx]).sum(axis=1), ptr[:-1])))
    return 4 * n_nonzero if n_nonzero >= 0.9 * ws_size else 0


def _rows_of(M):
    """(n, k) -> (k, n) C-contiguous."""
    return np.ascontiguousarray(M.T)


def _subproblem_factory(kernels, anderson, gap_freq, max_epochs):
    def make(sub_design, sub_spec, Y):
        return _BlockSolver(sub_design, sub_spec, Y, kernels, anderson, gap_freq, max_epochs)
    return make


def _worth_screening(design, lhs, radius, bound, candidates, ptr):
    """Whether the Gap Safe test would likely remove >= 10% of the candidate groups (estimated norms)."""
    n_cand = int(candidates.sum())
    if n_cand == 0:
        return False
    est_norm = np.sqrt(np.diff(ptr) * design.mean_colnorm2_estimate())
    return int(np.sum(candidates & (lhs + radius * est_norm < bound))) >= 0.1 * n_cand


def _scores_of(scores, scores_into, U, m, increasing):
    """The one-pass scores of ``m`` single features, written into ``U``'s memory when that is allowed.

    ``U`` (``A^T r``, (p, 1)) is not read after the working set's scores: when it is this solve's own writable
    array and the live features increase (block g column g, compacted in order), the scores take its first ``m``
    entries (:func:`singleton_scores_into_numba`) instead of a second p-length array per outer iteration.
    """
    if not (_SCORES_IN_PLACE and increasing and U.flags.writeable and U.flags.c_contiguous):
        return scores
    buffer = U.reshape(-1)[:m]
    return lambda *args: scores_into(*args, buffer)


def _shaped(X, x_shape):
    return X.reshape(x_shape).copy()


def _working_set(X, U, Up, idx, ptr, t1, t2, bound, alive, unpen, strategy, p0, group_norm, solver, min_size=0,
                 lhs=None, maybe_nonzero=None, saturated_growth=2, last_size=0, cheap_size=0, scores=None,
                 lhs_owned=False):
    """Groups of the next subproblem: the support, the unpenalized, and the most violating others.

    At least ``max(p0, 2 * support, min_size)`` groups (all remaining ones if fewer). ``alive`` None means
    every group; ``lhs``, when given, is ``threshold_norms(U, ..., 1.0)`` already computed;
    ``maybe_nonzero``, when given, lists the only groups where ``X`` may be nonzero. When the last
    working set (``last_size`` groups) came back nearly all nonzero, the support is likely larger still:
    the next one has ``saturated_growth`` times the support instead of twice.

    ``scores``, for single-feature blocks without ``lhs``: the one-pass kernel of the ``'subdiff'`` scores
    (:func:`singleton_scores_numba`: negated, and counted above 0), the same values as the passes below.
    ``lhs_owned``: ``lhs`` may be overwritten (the scores take its place: no second array of that length).
    """
    n_groups = ptr.size - 1
    singletons = X.shape[1] == 1 and n_groups == idx.size
    if maybe_nonzero is not None:
        nonzero = np.zeros(n_groups, dtype=bool)
        if maybe_nonzero.size and singletons:   # a one-entry group's sum |x| is |x| (no sizes, offsets, reduceat)
            nonzero[maybe_nonzero] = np.abs(X[idx[maybe_nonzero], 0]) > 0
        elif maybe_nonzero.size:
            sub = block_columns(idx, ptr, maybe_nonzero)
            sizes = ptr[maybe_nonzero + 1] - ptr[maybe_nonzero]
            starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            nonzero[maybe_nonzero] = np.add.reduceat(np.abs(X[sub]).sum(axis=1), starts) > 0
    elif singletons:
        nonzero = X[idx, 0] != 0
    else:
        nonzero = np.add.reduceat(np.abs(X[idx]).sum(axis=1), ptr[:-1]) > 0 if idx.size else \
            np.zeros(n_groups, dtype=bool)
    n_nonzero = int(np.count_nonzero(nonzero))
    # nonzero is this function's own array: forced takes its memory (no two more temporaries of its length);
    # no penalty-free group (the lasso's broadcast False): forced is nonzero as it is
    forced = nonzero if is_constant(unpen) and not unpen[0] else np.logical_or(nonzero, unpen, out=nonzero)
    if alive is not None:
        np.logical_and(forced, alive, out=forced)
    nonzero = None
    # the candidates' count only: their index array is built if it is returned
    n_candidates = n_groups if alive is None else int(np.count_nonzero(alive))
    if strategy == "full":
        return np.arange(n_groups) if alive is None else np.flatnonzero(alive)
    growth = saturated_growth if last_size and n_nonzero >= 0.9 * last_size else 2
    size = max(p0, growth * n_nonzero, min_size)
    if not last_size or n_nonzero >= _GROWING * last_size:  # still growing: jump while subproblems are cheap
        size = max(size, min(8 * max(n_nonzero, p0), cheap_size))
    if size >= n_candidates:
        return np.arange(n_groups) if alive is None else np.flatnonzero(alive)
    marked = strategy == "subdiff" and scores is not None and lhs is None and U.shape[1] == 1 and \
        n_groups == idx.size   # the kernel marks the forced (+inf) and dead (-inf) groups itself
    if marked:   # already negated, and the positive scores counted
        score, n_violating = scores(U, unsigned_view(idx), t1, t2, bound, forced, _NO_MASK if alive is None else alive)
    elif strategy == "subdiff":
        if lhs is None:
            lhs, lhs_owned = solver.threshold_norms(U, idx, ptr, t1, t2, 1.0), True
        # a new array, or the caller's given up: in place (no second p-length temporary)
        score = np.subtract(lhs, bound, out=lhs) if lhs_owned else lhs - bound
    else:  # 'gap': minus the distance of the dual point to the constraint, in units of ||A_g||
        scaling = solver.dual_scaling(Up, idx, ptr, t1, t2)
        scale = max(1.0, float(np.max(scaling if alive is None else scaling[alive])))
        lhs_theta = solver.threshold_norms(Up, idx, ptr, t1, t2, scale)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = (lhs_theta - bound) / np.where(group_norm > 0, group_norm, np.inf)
    if not marked:
        score[forced] = np.inf   # score is a new array: in place, no second p-length temporary
        if alive is not None:
            score[~alive] = -np.inf
    n_forced = int(np.count_nonzero(forced))
    size = max(size, n_forced)
    if marked:   # the forced ones and the groups violating their condition, read only when they are selected from
        violating = np.flatnonzero(score < 0) if n_violating >= size else None
    else:
        violating = np.flatnonzero(score > 0)   # the forced ones and the groups violating their condition
        # the largest scores are the smallest of -score: negated in place (score is this function's own array:
        # no p-length -score)
        np.negative(score, out=score)
    # the set of the `size` smallest scores, from a sampled threshold when no tie straddles its boundary
    # (_block_kernels.smallest_set_numba: argpartition's set, increasing, so no sort after it); otherwise
    # argpartition's own pick, whose p-length order is not kept past its first `size` entries
    smallest_set = (smallest_set_numba if NUMBA_ENABLED else smallest_set_numpy) if _SAMPLED_TOP else None
    if violating is not None and violating.size >= size:   # select among them only (usually far fewer)
        values = score[violating]
        picked, unique = smallest_set(values, size) if smallest_set is not None else (None, False)
        top = violating[picked if unique else np.argpartition(values, size - 1)[:size]]
    else:   # every violating group and the best of the others
        top, unique = smallest_set(score, size) if smallest_set is not None else (None, False)
        if not unique:
            top = np.argpartition(score, size - 1)[:size].copy()
    top = top[np.isfinite(score[top]) | forced[top]]
    return top if unique else np.sort(top)


def _positions(sorted_ids, ids):
    """Positions in ``sorted_ids`` of those ``ids`` it contains."""
    # (in the dtype of sorted_ids, the int32 live index's: mixed dtypes would convert all of sorted_ids)
    pos = np.searchsorted(sorted_ids, ids.astype(sorted_ids.dtype, copy=False))
    ok = pos < sorted_ids.size
    ok[ok] = sorted_ids[pos[ok]] == ids[ok]
    return pos[ok]


def _value_on(spec, X, blocks, identity=False):
    """The penalty on the given groups only (``X`` zero elsewhere); ``identity``: block g is feature g."""
    if X.shape[1] == 1 and spec.ptr.size - 1 == spec.idx.size:  # singletons
        return float((spec.t1[blocks] + spec.t2[blocks]) @ np.abs(X[blocks if identity else spec.idx[blocks], 0]))
    if not blocks.size:
        return 0.0
    rows = X[block_columns(spec.idx, spec.ptr, blocks)]
    sizes = spec.ptr[blocks + 1] - spec.ptr[blocks]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    l1 = np.add.reduceat(np.abs(rows).sum(axis=1), starts)
    l2 = np.sqrt(np.add.reduceat((rows * rows).sum(axis=1), starts))
    return float(spec.t1[blocks] @ l1 + spec.t2[blocks] @ l2)


class _Live:
    """The groups screening has left, as flat arrays the kernels read (``idx`` indexes rows of ``A^T r``)."""

    def __init__(self, spec, bound, unpen, blocks, identity=None):
        self.blocks = blocks
        if blocks.size == spec.n_blocks:
            self.spec, self.cols = spec, None
        elif spec.ptr.size - 1 == spec.idx.size:  # singletons (block g feature g: the blocks are the columns)
            identity = spec.identity if identity is None else identity   # (the caller's reading, when given)
            cols = blocks if identity else spec.idx[blocks]
            # the identity's ptr is arange(p + 1): its prefix is this ptr (no array of its own)
            ptr = spec.ptr[:blocks.size + 1] if identity else np.arange(blocks.size + 1, dtype=np.int64)
            self.spec, self.cols = BlockSpec(cols, ptr, take(spec.t1, blocks), take(spec.t2, blocks)), cols
        else:
            cols = block_columns(spec.idx, spec.ptr, blocks)
            sizes = spec.ptr[blocks + 1] - spec.ptr[blocks]
            ptr = np.zeros(blocks.size + 1, dtype=np.int64)
            np.cumsum(sizes, out=ptr[1:])
            self.spec, self.cols = BlockSpec(cols, ptr, take(spec.t1, blocks), take(spec.t2, blocks)), cols
        self.idx, self.ptr, self.t1, self.t2 = self.spec.idx, self.spec.ptr, self.spec.t1, self.spec.t2
        # the index as unsigned for the singleton kernels (indexing without numba's wraparound check: p = 10^5, the
        # scale and scores passes 20-35 % faster, and an int32 index no slower than an int64 one)
        self.uidx = unsigned_view(self.idx)
        self.bound = bound if blocks.size == spec.n_blocks else self.t1 if bound is spec.t1 else take(bound, blocks)
        self.unpen = unpen if blocks.size == spec.n_blocks else take(unpen, blocks)


class _BlockSolver:
    """State shared across outer iterations: kernels, Lipschitz constants, Anderson settings."""

    def __init__(self, design, spec, Y, kernels, anderson, gap_freq, max_epochs, cycling=False, exact=False,
                 newton_dual=False, column_lips=False):
        self.design, self.spec, self.Y = design, spec, Y
        self.newton_dual = bool(newton_dual) and not design.sparse
        self.newton_sparse = False   # the Newton dual point of a lasso (one target) on a sparse design (solve_block)
        self.newton_passed = False   # the last subproblem's gap passed with it
        self.sparse_ssnal = False    # a sparse lasso's slow subproblems may go to _ssnal_sparse (solve_block)
        self.sparse_ssnal_steps = 0  # their Newton steps since solve_block last read them
        self.predict_checks = False  # gap checks when the gap's rate predicts the target (set by solve_block)
        self.certify = 0.0           # > 0: the whole problem's phase, its target this times its best dual value
        self.phase_freq = None   # epochs between a phase's gap checks in the current subproblem (None: gap_freq)
        self.last_grad = self.phase_grad = None   # products A_ws^T r of the last gap and of a phase's last gap
        self.last_value = None   # the objective at the last gap's point
        self.cycling = bool(cycling)
        self.exact = bool(exact) and not design.sparse and bool(np.any((spec.t1 <= 0) & (spec.t2 > 0)
                                                                         & (np.diff(spec.ptr) > 1)))
        self.epoch_exact = bcd_epoch_dense_exact_numba if NUMBA_ENABLED else bcd_epoch_dense_exact_numpy
        self.anderson_combine = anderson_combine_numba if NUMBA_ENABLED else anderson_combine_numpy
        self.take_reversed = anderson_take_reversed_numba if NUMBA_ENABLED else anderson_take_reversed_numpy
        self.objective = block_objective_numba if NUMBA_ENABLED else block_objective_numpy
        (self.epoch_dense, self.epoch_sparse, self.dual_scaling, self.threshold_norms, self.ws_gradient,
         self.ws_residual, self.ws_gradient_sparse, self.ws_residual_sparse) = kernels
        self.anderson = bool(anderson)
        self.gap_freq = gap_freq
        self.max_epochs = max_epochs
        self.yy = float(np.vdot(Y, Y))
        # ||A_g||_2^2, computed when g first enters a working set; None (``column_lips``: a sparse design's single
        # features, block g column g): recomputed per subproblem from its gathered columns, nothing p-length kept
        self.identity = is_identity(spec.idx, spec.ptr)   # block g is feature g (read once)
        self.lips = None if column_lips and design.sparse and self.identity else \
            np.full(spec.n_blocks, -1.0)
        self._ws_lips = None   # (working set, its constants) of the last subproblem, when self.lips is None
        # smallest eigenvalue of A_g^T A_g (dense designs only: a sparse one never reads it), with it
        self.low = None if design.sparse else np.zeros(spec.n_blocks)
        self._bounds = None                        # upper bounds of ||A_g||_2 (group_norm_bounds)
        longest = 1 if spec.ptr.size - 1 == spec.idx.size else int(np.diff(spec.ptr).max(initial=1))
        self.V = np.zeros((2 * longest, Y.shape[0]))   # the exact block updates use two blocks of rows
        self._eig = {}   # group -> (Q row-major flat, eigenvalues of A_g^T A_g, usable) for exact updates

    # ---------------------------------------------------------------- group-level helpers
    def group_norm_bounds(self, idx, ptr):
        """Upper bounds of ``||A_g||_2``: exact where known, the Frobenius norm elsewhere.

        Kept up to date as Lipschitz constants become known (no pass over
        every group per call); for the penalty's own ``idx``, ``ptr``.
        """
        if self._bounds is None:  # the groups' Frobenius norms do not change: computed once
            colnorm2 = self.design.colnorm2
            if ptr.size - 1 == idx.size:  # singletons: the column norms themselves (one p-length array)
                self._bounds = colnorm2[idx]
                np.sqrt(self._bounds, out=self._bounds)
            else:
                self._bounds = np.sqrt(np.add.reduceat(colnorm2[idx], ptr[:-1])) if idx.size else \
                    np.zeros(ptr.size - 1)
            if self.lips is not None:
                known = self.lips >= 0
                self._bounds[known] = np.minimum(self._bounds[known], np.sqrt(self.lips[known]))
        return self._bounds

    def zero_groups(self, X, R, groups, idx, ptr):
        """Set the given groups of ``X`` to zero and return the updated residual."""
        identity = self.identity if idx is self.spec.idx and ptr is self.spec.ptr else is_identity(idx, ptr)
        cols = groups if identity else block_columns(idx, ptr, groups)   # block g feature g: no copy
        old = X[cols]   # fancy indexing copies already
        if np.any(old):
            X[cols] = 0.0
            nz = np.flatnonzero(np.any(old != 0.0, axis=1))   # only the nonzero columns are gathered
            R = np.ascontiguousarray(R + self.design.cols_matmat(cols[nz], old[nz]).T)
        return R

    def _ws_lipschitz(self, ws, Aws, local_ptr):
        if self.lips is None:   # single columns of a sparse design: their squared norms, from the gathered columns
            last = self._ws_lips
            if last is not None and np.array_equal(last[0], ws):   # the same working set again (no new column)
                return last[1]
            colnorm2 = csc_colnorm2_numba if NUMBA_ENABLED else csc_colnorm2_numpy
            lips = colnorm2(Aws[0], Aws[2])
            lips *= 1.0 + 1e-10   # (as below)
            self._ws_lips = ws, lips
            return lips
        missing = self.lips[ws] < 0
        if np.any(missing):
            pos = np.flatnonzero(missing)
            if self.design.sparse:
                data, rows, colptr = Aws
                n = self.design.n
                sizes = local_ptr[pos + 1] - local_ptr[pos]
                single = pos[sizes == 1]
                if single.size:  # one column: its squared norm, from the gathered columns (no Python loop)
                    colnorm2 = csc_colnorm2_numba if NUMBA_ENABLED else csc_colnorm2_numpy
                    self.lips[ws[single]] = colnorm2(data, colptr)[local_ptr[single]]
                multi = pos[sizes > 1]
                if multi.size:
                    self.lips[ws[multi]] = group_norm_sq_csc(data, rows, colptr, n, local_ptr, multi)
            else:
                AT, rows_of = Aws
                sizes = local_ptr[pos + 1] - local_ptr[pos]
                rows = block_columns(rows_of, local_ptr, pos)
                sub_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
                self.lips[ws[pos]], self.low[ws[pos]] = _group_lipschitz(AT, sub_ptr, rows)
            if self._bounds is not None:
                new = ws[pos]
                self._bounds[new] = np.minimum(self._bounds[new], np.sqrt(self.lips[new]))
        # a hair above the computed value: the step must never exceed 1 / ||A_g||^2
        return self.lips[ws] * (1.0 + 1e-10)

    def _exact_blocks(self, ws, Aws, local_ptr, t1):
        """``(Q, qptr, lam, exact)`` for :func:`bcd_epoch_dense_exact_numba` on the working set ``ws``.

        Eigendecompositions of the groups' Gram matrices are computed when a
        group first enters a working set and kept. Groups with an l1 part, one
        column, more columns than rows, a singular Gram matrix, or a condition
        number under ``_EXACT_COND`` (where the proximal step is nearly exact
        and cheaper) take the proximal step. None when no group of ``ws``
        qualifies.
        """
        sizes = np.diff(local_ptr)
        n = self.design.n
        low = self.low[ws]
        with np.errstate(divide="ignore"):
            want = (t1 <= 0) & (sizes > 1) & (sizes <= n) & (low > 0) & (self.lips[ws] > _EXACT_COND * low)
        if not want.any():
            return None
        todo = [q for q in np.flatnonzero(want) if int(ws[q]) not in self._eig]
        if todo:
            todo = np.asarray(todo, dtype=np.int64)
            AT, rows_of = Aws
            rows = block_columns(rows_of, local_ptr, todo)
            sub_ptr = np.concatenate([[0], np.cumsum(sizes[todo])]).astype(np.int64)
            for q, (Qg, lam) in zip(todo, group_eigh_dense(AT, sub_ptr, rows)):
                ok = bool(lam[0] > 1e-10 * lam[-1]) if lam[-1] > 0 else False
                self._eig[int(ws[q])] = (Qg.ravel(), lam, ok)
        exact = np.zeros(ws.size, dtype=np.bool_)
        qptr = np.zeros(ws.size, dtype=np.int64)
        lam = np.zeros(int(local_ptr[-1]))
        parts, offset = [], 0
        for q in np.flatnonzero(want):
            Qf, lam_g, ok = self._eig[int(ws[q])]
            if not ok:
                continue
            exact[q] = True
            qptr[q] = offset
            lam[local_ptr[q]:local_ptr[q + 1]] = lam_g
            parts.append(Qf)
            offset += Qf.size
        if not parts:
            return None
        return np.concatenate(parts), qptr, lam, exact

    # ---------------------------------------------------------------- the subproblem
    def solve_subproblem(self, ws, X, R, inner_tol, proj, phase_freq=None):
        """Block coordinate descent on the groups ``ws`` until their gap is below ``inner_tol``.

        Updates ``X`` in place; returns the new residual and the number of epochs.
        ``phase_freq``: epochs between the gap checks of a phase (default ``gap_freq``).
        With ``cycling`` (dense designs), full epochs alternate with phases
        over the nonzero groups only (glmnet's active-set cycling, see
        :meth:`_cycle`); otherwise every epoch covers the whole working set.
        """
        spec = self.spec
        idx, ptr = spec.idx, spec.ptr
        cols = ws if self.identity else block_columns(idx, ptr, ws)   # block g feature g: the groups are the columns
        if ptr.size - 1 == idx.size:   # single features: the local groups are 0, 1, ..., m (no sizes, cumsum)
            local_ptr = np.arange(ws.size + 1, dtype=np.int64)
        else:
            sizes = ptr[ws + 1] - ptr[ws]
            local_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        t1, t2 = spec.t1[ws], spec.t2[ws]
        # (the nonzero columns go first into a dense design's cache; a sparse design's gathers do not read them)
        Aws = self.design.columns(cols, whole=ws.size == spec.n_blocks, in_place=True,
                                  first=None if self.design.sparse else np.any(X[cols] != 0.0, axis=1))
        lips = self._ws_lipschitz(ws, Aws, local_ptr)
        Xw = np.ascontiguousarray(X[cols])
        R = np.ascontiguousarray(R)
        self.phase_freq = phase_freq
        eig = self._exact_blocks(ws, Aws, local_ptr, t1) if self.exact and not self.design.sparse and \
            contiguous_float64(Aws[0]) else None   # columns read in place take the proximal step
        if self.cycling and not self.design.sparse and ws.size > 1:
            # (its phases may cover the nonzero groups only, whose dual values bound nothing: no moving target)
            self.certify = 0.0
            Xw, R, epochs = self._cycle(Aws, local_ptr, t1, t2, lips, Xw, R, inner_tol, proj, eig)
        else:
            Xw, R, epochs, _ = self._phase(Aws, local_ptr, t1, t2, lips, Xw, R, inner_tol, proj, self.max_epochs,
                                           eig)
        if self.anderson:
            # extrapolated residuals are combinations of stored ones (weights of either sign): recompute it
            # once, so that the outer gap is computed from the exact residual of X
            R = self._ops(Aws, local_ptr, t1, t2)[2](Xw)
        X[cols] = Xw
        return R, epochs

    def _cycle(self, Aws, ptr, t1, t2, lips, Xw, R, inner_tol, proj, eig=None):
        """Active-set cycling (dense): a full epoch, then epochs over the nonzero groups until their own gap is
        below ``_ACTIVE_TOL * inner_tol``; repeated until the whole working set's gap is below ``inner_tol``.

        An epoch streams its columns from memory; at a working set twice the
        support half of them are zero groups, which a full epoch rarely moves.
        The stop is the whole working set's gap, as without cycling. A working
        set that is (nearly) all nonzero runs plain epochs.
        """
        AT, rows = Aws
        n_groups = ptr.size - 1
        sizes = np.diff(ptr)
        free = (t1 <= 0) & (t2 <= 0)   # unpenalized groups stay in every phase (the gap projects on them)
        epochs = 0
        while epochs < self.max_epochs:
            if eig is None:
                self.epoch_dense(AT, rows, R, Xw, ptr, t1, t2, lips, self.V)
            else:
                self.epoch_exact(AT, rows, R, Xw, ptr, t1, t2, lips, self.V, *eig)
            epochs += 1
            active = free | (np.add.reduceat(np.abs(Xw).sum(axis=1), ptr[:-1]) > 0)
            n_active = int(active.sum())
            if n_active == 0 or n_active > _ACTIVE_MAX * n_groups:
                # (nearly) all nonzero: plain epochs for a while, then look at the support again
                Xw, R, ran, gap = self._phase(Aws, ptr, t1, t2, lips, Xw, R, inner_tol, proj,
                                              min(self.max_epochs - epochs, _ACTIVE_RECHECK * self.gap_freq), eig)
                epochs += ran
                if gap is not None and gap <= inner_tol:
                    break
                continue
            gap = self._gap(Aws, ptr, t1, t2, Xw, R, proj)
            if gap <= inner_tol:
                break
            blocks = np.flatnonzero(active)
            sub_sizes = sizes[blocks]
            sub_cols = block_columns(np.arange(ptr[-1], dtype=np.int64), ptr, blocks)
            sub_ptr = np.concatenate([[0], np.cumsum(sub_sizes)]).astype(np.int64)
            sub = (AT, np.ascontiguousarray(rows[sub_cols]))
            sub_eig = None if eig is None else (eig[0], eig[1][blocks], eig[2][sub_cols], eig[3][blocks])
            Xa, R, ran, _ = self._phase(sub, sub_ptr, t1[blocks], t2[blocks], lips[blocks],
                                        np.ascontiguousarray(Xw[sub_cols]), R,
                                        max(_ACTIVE_TOL * inner_tol, _ACTIVE_FRAC * gap), proj,
                                        self.max_epochs - epochs, sub_eig)
            Xw[sub_cols] = Xa
            epochs += ran
            if _GAP_BEFORE_FULL:
                # the nonzero groups' problem is solved: the working set's gap, before another full epoch (the
                # zero groups rarely move; when none violates its constraint that epoch would be wasted)
                # (the phase's last product covers the nonzero groups at this residual: the zero ones remain)
                known = None if self.phase_grad is None else (sub_cols, self.phase_grad)
                gap = self._gap(Aws, ptr, t1, t2, Xw, R, proj, known=known)
                if gap <= inner_tol:
                    break
        return Xw, R, epochs

    def _ops(self, Aws, ptr, t1, t2, eig=None):
        """Epoch, gradient, residual and objective of the subproblem on the columns ``Aws`` (groups ``ptr``)."""
        sparse = self.design.sparse
        V, Y = self.V, self.Y

        if sparse:
            data, rows, colptr = Aws

            def epoch(Xw, R, lips):
                self.epoch_sparse(data, rows, colptr, R, Xw, ptr, t1, t2, lips, V)

            def grad(R):  # A_ws^T R^T as (m, k)
                return self.ws_gradient_sparse(Aws[0], Aws[1], Aws[2], np.ascontiguousarray(R))

            def residual(Xw):
                return self.ws_residual_sparse(Aws[0], Aws[1], Aws[2], Xw, Y)
        else:
            def epoch(Xw, R, lips):
                if eig is None:
                    self.epoch_dense(Aws[0], Aws[1], R, Xw, ptr, t1, t2, lips, V)
                else:
                    self.epoch_exact(Aws[0], Aws[1], R, Xw, ptr, t1, t2, lips, V, *eig)

            def grad(R):
                return self.ws_gradient(Aws[0], Aws[1], np.ascontiguousarray(R))

            def residual(Xw):
                return self.ws_residual(Aws[0], Aws[1], Xw, Y)

        objective = self.objective

        def value(Xw, R):
            return objective(Xw, R, ptr, t1, t2)

        return epoch, grad, residual, value

    def _gap(self, Aws, ptr, t1, t2, Xw, R, proj, ops=None, known=None):
        """Duality gap of the subproblem on the groups ``ptr`` of the columns ``Aws`` (one product with them).

        ``known``, ``(cols, U)`` on a dense working set: ``U`` is already the product with the columns
        ``cols`` (positions in ``Aws``) at this residual, and only the other columns are multiplied. The
        product is kept in ``last_grad``, the objective at ``(Xw, R)`` in ``last_value``.
        """
        if known is None and _FUSED_GAP and NUMBA_ENABLED and self.design.sparse and not proj.active:
            views = singleton_views(R, Xw, ptr, Aws[2])
            if views is not None:   # the sparse lasso's: one kernel call
                self.last_grad, gap, self.last_value = csc_singleton_gap_numba(*Aws, views[0], views[1], ptr, t1,
                                                                               t2, self.Y[0], self.yy)
                return gap
        _, grad, _, value = ops if ops is not None else self._ops(Aws, ptr, t1, t2)
        Rp, _ = proj.project(R)
        if known is None:
            Uw = grad(Rp)
        else:
            cols, U = known
            AT, rows = Aws
            Uw = np.empty((int(ptr[-1]), U.shape[1]))
            Uw[cols] = U
            rest = np.ones(int(ptr[-1]), dtype=bool)
            rest[cols] = False
            rest = np.flatnonzero(rest)
            if rest.size:
                Uw[rest] = self.ws_gradient(AT, np.ascontiguousarray(rows[rest]), np.ascontiguousarray(Rp))
        self.last_grad = Uw
        s = self.dual_scaling(Uw, np.arange(ptr[-1], dtype=np.int64), ptr, t1, t2)
        scale = max(1.0, float(s.max()) if s.size else 1.0)
        self.last_value = value(Xw, R)
        return self.last_value - _dual_value(self.Y, Rp / scale, self.yy)

    def _sparse_newton_gap(self, Aws, t1, t2, Xw, R, value, freq, gap, tol):
        """The smaller of ``gap`` and the sparse lasso subproblem's gap at its Newton dual point
        (:func:`._newton_kernels.lasso_dual_point_sparse`), when its support is cheap enough; sets
        ``newton_passed`` when that gap is at most ``tol``. Reads ``last_grad``, the product of ``gap``."""
        x = Xw[:, 0]
        support = np.flatnonzero(x)
        data, rows, colptr = Aws
        if support.size == 0 or \
                support.size ** 3 / _NEWTON_COST_SPARSE + _NEWTON_OVERHEAD > freq * int(colptr[-1]):
            return gap
        sub = (csc_gather_numba if NUMBA_ENABLED else csc_gather_numpy)(data, rows, colptr, support)
        theta = lasso_dual_point_sparse(*sub, self.last_grad[support, 0], (t1[support] + t2[support]) *
                                        np.sign(x[support]), R[0], use_numba=NUMBA_ENABLED)
        if theta is None:
            return gap
        theta = theta.reshape(1, -1)
        Ut = self.ws_gradient_sparse(data, rows, colptr, theta)
        s = self.dual_scaling(Ut, np.arange(Ut.shape[0], dtype=np.int64), np.arange(Ut.shape[0] + 1,
                                                                                    dtype=np.int64), t1, t2)
        scale = max(1.0, float(s.max()) if s.size else 1.0)
        newton_gap = value(Xw, R) - _dual_value(self.Y, theta / scale, self.yy)
        if newton_gap < gap:
            self.newton_passed = newton_gap <= tol
            return newton_gap
        return gap

    def _phase(self, Aws, ptr, t1, t2, lips, Xw, R, tol, proj, budget, eig=None):
        """Epochs over the groups ``ptr`` (Anderson steps, a gap every ``gap_freq`` epochs) until the gap
        is at most ``tol`` or ``budget`` epochs ran; returns ``(Xw, R, epochs, gap)`` (gap None if never checked).
        """
        ops = self._ops(Aws, ptr, t1, t2, eig)
        epoch, _, residual, value = ops
        # the last epochs' iterates and residuals as rows (the residual is affine in X: it is extrapolated
        # with the same weights)
        # the sparse lasso's epochs between checks in one call; its residuals stored `width` wide (_COMPACT_STORES)
        run, width = self._singleton_run(Aws, ptr, t1, t2, lips, Xw, R)
        if self.anderson:
            iterates = np.empty((_ANDERSON_K + 1, Xw.size))
            residuals = np.empty((_ANDERSON_K + 1, width))
            if width != R.size:   # compact stores: the identity after the touched rows (the weights, combined)
                residuals[:, width - _ANDERSON_K:] = _SHIFTED_EYE
        elif run is not None:
            iterates = residuals = np.empty((0, 0))   # no rows: no Anderson steps
        stored = 0
        epochs = checked = 0
        gap = last_check = None
        newton_helps = True   # the sparse lasso's Newton gap, until it fails to halve the residual's in this phase
        ssnal = SparseSsnalTrigger(Aws, t1 + t2, self.design.n, tol) if self.sparse_ssnal and not proj.active \
            else None
        freq = self.gap_freq if self.phase_freq is None else self.phase_freq
        next_check = freq
        while epochs < budget:
            if run is not None:   # the epochs up to the next check in one call, in place on Xw and R
                todo = min(next_check, budget) - epochs
                stored = run(Xw, R, todo, iterates, residuals, stored)
                epochs += todo
            else:
                epoch(Xw, R, lips)
                epochs += 1
                if self.anderson:
                    iterates[stored] = Xw.ravel()
                    residuals[stored] = R.ravel()
                    stored += 1
                    if stored == _ANDERSON_K + 1:
                        Xw, R = self._extrapolate(iterates, Xw, R, residuals, value, residual, ptr)
                        stored = 0
            if epochs >= next_check:
                gap = self._gap(Aws, ptr, t1, t2, Xw, R, proj, ops)
                if self.newton_sparse and newton_helps and not proj.active and tol < gap <= _NEWTON_GAP_SPARSE * tol:
                    newton_gap = self._sparse_newton_gap(Aws, t1, t2, Xw, R, value, freq, gap, tol)
                    newton_helps = newton_gap < 0.5 * gap
                    gap = newton_gap
                checked = epochs
                if self.certify and gap < np.inf:
                    # the whole (screened) problem: this check's dual value bounds P(x*) too, and it is usually far
                    # above the one the target was set from (a rescaled residual before the phase)
                    tol = max(tol, self.certify * (self.last_value - gap))   # (the check's P(x))
                if gap <= tol:
                    break
                if ssnal is not None and ssnal.due(epochs, gap, Xw[:, 0]):
                    self.sparse_ssnal_steps += ssnal.run(Xw, R, self.Y).newton   # in place on Xw and R
                    stored = 0   # the stored iterates are not this point's history
                    gap = self._gap(Aws, ptr, t1, t2, Xw, R, proj, ops)
                    if gap <= tol:
                        break
                next_check = epochs + freq
                if self.predict_checks:
                    # the next check when the gap's rate since the last one says it meets tol (at most freq)
                    if last_check is not None and 0.0 < gap < last_check[1]:
                        rate = np.log(gap / last_check[1]) / (epochs - last_check[0])
                        next_check = epochs + int(min(freq, max(1.0, np.ceil(np.log(tol / gap) / rate))))
                    last_check = (epochs, gap)
        # the product A^T r of the last gap, when it is at the returned residual
        self.phase_grad = self.last_grad if gap is not None and checked == epochs else None
        return Xw, R, epochs, gap

    def _singleton_run(self, Aws, ptr, t1, t2, lips, Xw, R):
        """``(run, width)``: ``run(Xw, R, n_epochs, iterates, residuals, stored) -> stored`` runs the sparse lasso's
        epochs and Anderson steps in one call (:func:`._design_kernels.csc_singleton_run_numba`, in place on
        ``Xw`` and ``R``), its stored residuals ``width`` wide: the rows the columns touch and the identity
        (``_COMPACT_STORES``), or every row. ``(None, R.size)`` for other subproblems (groups, several targets,
        dense designs, numba off)."""
        if not (_FUSED_RUNS and NUMBA_ENABLED and self.design.sparse and self.epoch_sparse is csc_block_epoch):
            return None, R.size
        data, rows, colptr = Aws
        if singleton_views(R, Xw, ptr, colptr) is None:
            return None, R.size
        n = R.shape[1]
        nnz = int(colptr[-1])
        touched = _NO_BLOCKS
        if _COMPACT_STORES and self.anderson and nnz <= n:
            touched = csc_touched_rows_numba(rows, nnz, n)[0]
            if touched.size > _COMPACT_FRAC * n:
                touched = _NO_BLOCKS
        Y, reversed_ = self.Y, _ANDERSON_REVERSED

        def run(Xw, R, n_epochs, iterates, residuals, stored):
            r, x = singleton_views(R, Xw, ptr, colptr)
            return csc_singleton_run_numba(data, rows, colptr, r, x, ptr, t1, t2, lips, n_epochs, iterates,
                                           residuals, stored, Y, _EXACT_RESIDUAL_WEIGHTS, reversed_, touched)
        return run, touched.size + _ANDERSON_K if touched.size else n

    def _extrapolate(self, iterates, Xw, R, residuals, value, residual, ptr=None):
        """Anderson extrapolation of the last iterates; kept only if it lowers the objective.

        The residual ``Y - A X`` is affine in ``X`` and the weights sum to one,
        so the extrapolated residual is the same combination of the stored
        residuals: no product with the columns. Its rounding error grows with
        ``sum |c|``; on ill-conditioned subproblems (weights of 1e4 and more,
        such as Newton models of unscaled features) that error kept the inner
        gap from ever meeting its target, so large weights pay for the product.

        With the groups ``ptr``, an extrapolation that does not lower the
        objective is tried once more with the groups it carried past zero set
        to zero (:func:`anderson_take_reversed_numba`): a group on its way out
        of the support makes the linear extrapolation overshoot, and without
        this every later step was rejected while the group crept to zero.
        """
        X_acc, R_acc, csum = self.anderson_combine(iterates, residuals)   # rows (K + 1, m k), (K + 1, k n)
        if not X_acc.size:
            return Xw, R
        X_acc = X_acc.reshape(Xw.shape)
        R_acc = residual(X_acc) if csum > _EXACT_RESIDUAL_WEIGHTS else R_acc.reshape(R.shape)
        current = value(Xw, R)
        if value(X_acc, R_acc) < current:
            return X_acc, R_acc
        if ptr is not None and _ANDERSON_REVERSED:
            D = np.zeros_like(X_acc)
            if self.take_reversed(X_acc, Xw, D, ptr):
                R_acc += self.Y - residual(D)   # + A D: the taken groups' contribution, back in the residual
                if value(X_acc, R_acc) < current:
                    return X_acc, R_acc
        return Xw, R
