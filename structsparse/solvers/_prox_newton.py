"""Working-set proximal Newton for block-separable penalties and any datafit ``F(A x)``.

The least-squares case is :func:`structsparse.solve_block`'s own loop; every
other datafit comes here. Outer loop, as in :mod:`.working_set`:

1. Duality gap from the dual point ``theta = -F'(A x)`` scaled into the
   feasible set (one product ``A^T theta``); stop at ``gap <= tol * P(x)``.
2. Gap Safe screening where the datafit has a curvature bound ``c``: the
   dual is ``1/c``-strongly concave, so the dual optimum lies within
   ``sqrt(2 c gap)`` of the scaled ``theta``.
3. A working set: the nonzero and unpenalized groups and the most violating
   others (the subdifferential rule).
4. Proximal Newton steps on the working set (Lee, Sun, Saunders 2014; the
   scheme of skglm's ``ProxNewton``): the datafit is replaced by the
   quadratic model ``F(z) + F'(z) d + 0.5 sum_i h_i d_i^2`` with the
   weights the datafit declares (``quadratic_weights``: its Hessian, or its
   curvature bound, which makes the model a majorizer). The model is a
   weighted least-squares problem: with ``D = diag(h)`` it is
   ``0.5 ||D^{1/2} (A_ws x - t)||^2``, ``t = z - F'(z) / h``, so the
   least-squares kernels of the block solver solve it unchanged on the
   scaled columns ``D^{1/2} A_ws`` (a copy of the working set only). A
   backtracking line search on the true objective accepts the step.
   Newton steps repeat until the working set's own gap is below a fraction
   of the outer gap. When the caller found every violated constraint
   inside the working set, few of them new to the support (the working set
   likely holds the solution's support), the dense path goes on to the
   final tolerance while the steps converge fast, so that the next outer gap
   certifies instead of asking for another round and its product ``A^T
   theta``.

For a dense design and one target (logistic, Huber, Poisson on an ndarray)
the subproblem runs in place instead (:func:`_newton_dense`, the design of
skglm's ``ProxNewton``): coordinate descent on the model directly over the
working-set columns, keeping ``h * A_ws d`` in the sample space, so a
Newton step copies and scales nothing; its Lipschitz constants come out of
the first epoch; the line search moves along ``A_ws d``, which the kernel
already holds. Each Newton step costs one pass ``A_ws^T F'(z)`` (the working
set's gap and the model's linear term) plus the epochs.
"""

import numpy as np
import scipy.sparse as sp

from .._numba import NUMBA_ENABLED
from ._block_kernels import group_lipschitz_dense, ws_gradient_dense_numba, ws_gradient_dense_numpy
from ._block_spec import BlockSpec, block_columns
from ._newton_kernels import (pn_cd_dense_numba, pn_cd_dense_numpy, pn_model_descent_screened_numba,
                              subdiff_distance_numba, subdiff_distance_numpy)

__all__ = ["solve_newton_outer"]

# Armijo constant and most halvings of the line search
_ARMIJO = 1e-4
_MAX_HALVINGS = 40
# Most Newton steps per working set
_MAX_NEWTON = 50
# Smallest Hessian weight relative to the largest (a weight of zero would drop the sample from the model)
_MIN_WEIGHT = 1e-10
# Dense single-target path: coordinate descent on the model until its subdifferential distance is this fraction
# of the true problem's on the working set at the Newton step's start (skglm's inner rule uses 0.3)
_MODEL_KKT_FRACTION = 0.3
# Dense single-target path: Newton steps until the working set's gap is this fraction of the outer gap
_WS_GAP_FRACTION = 0.3
# ... and this fraction once a working set's solve left the support unchanged
_STABLE_GAP_FRACTION = 1e-3
# A working set that holds every violated constraint is solved past the usual target while each Newton step
# divides its gap by at least 1 / _COMPLETE_RATE
_COMPLETE_RATE = 0.3
# 'unchanged': at most this fraction of the support entered or left
_STABLE_CHANGE = 0.05
# False: every design takes the scaled-copy path (for comparisons; sparse designs and several targets always do)
_IN_PLACE = True
# Anderson extrapolation of the model's coordinate descent uses the last _ANDERSON_K + 1 epochs
_ANDERSON_K = 5
# Epochs over the nonzero blocks only between full epochs (glmnet's active-set cycling)
_ACTIVE_CYCLING = True
# Most coordinate-descent epochs per Newton step (dense path)
_MAX_MODEL_EPOCHS = 1000


_NO_NORMS = np.empty(0)


class _NoProjection:
    """The sub-problems have no unpenalized columns to project out (they are scaled copies)."""

    active = False
    exact = True

    @staticmethod
    def project(R, U=None):
        return R, U


def _rows(M):
    """(n,) or (n, k) -> (k, n) C-contiguous."""
    M = np.asarray(M, dtype=float)
    return np.ascontiguousarray(M.reshape(M.shape[0], -1).T)


def _model_weights(datafit, z):
    """One positive weight per sample: the declared quadratic weights (the largest over targets)."""
    h = np.asarray(datafit.quadratic_weights(z), dtype=float)
    h = h.reshape(h.shape[0], -1).max(axis=1)
    top = float(h.max(initial=0.0))
    return np.maximum(h, _MIN_WEIGHT * top if top > 0 else 1.0)


class _WorkingColumns:
    """The working set's columns, gathered once per outer iteration, with the products a Newton step needs.

    Dense: a contiguous ``(m, n)`` copy of ``A_ws^T`` (rows from the design's
    column cache, so a C-ordered ``A`` is gathered once); sparse: the CSC
    slice ``A[:, cols]``.
    """

    def __init__(self, design, cols, design_cls):
        self.sparse = design.sparse
        self.design_cls = design_cls
        self.n = design.n
        if self.sparse:
            self.Aw = design.A[:, cols].tocsc()
            self.sq = self.Aw.multiply(self.Aw).T.tocsr()      # (m, n): squared entries, for singleton Lipschitz
        else:
            AT, rows = design.columns(cols)
            self.AwT = np.ascontiguousarray(AT[rows])           # (m, n)
            self.sq = None

    def rmat(self, theta):
        """``A_ws^T theta`` as (m, k)."""
        if self.sparse:
            return np.asarray(self.Aw.T @ theta).reshape(self.Aw.shape[1], -1)
        return self.AwT @ theta

    def mat(self, D):
        """``A_ws D`` as (n, k)."""
        if self.sparse:
            return np.asarray(self.Aw @ D).reshape(self.n, -1)
        return self.AwT.T @ D

    def singleton_lipschitz(self, h):
        """``||sqrt(h) a_j||^2`` for every column (exact Lipschitz constants of singleton blocks)."""
        if self.sparse:
            return np.asarray(self.sq @ h).ravel()
        if self.sq is None:
            self.sq = self.AwT * self.AwT
        return self.sq @ h

    def scaled(self, sqrt_h):
        """A design of the columns scaled row-wise by ``sqrt(h)``."""
        if self.sparse:
            return self.design_cls(sp.csc_matrix(sp.diags(sqrt_h) @ self.Aw))
        # the transposed view of the (m, n) product is Fortran-ordered: the kernels read its rows in place
        return self.design_cls((self.AwT * sqrt_h).T)


def solve_newton_outer(datafit, design, spec, X, ws, z, gap_outer, tol_abs, solver_factory, ctx, U_ws=None):
    """Proximal Newton steps on the working set ``ws`` (group indices of ``spec``).

    Updates ``X`` (p, k) in place and returns the new ``z = A X`` (n, k) and
    the number of epochs spent.

    Parameters
    ----------
    datafit : Datafit
    design : _Design
    spec : BlockSpec
    X : ndarray (p, k)
    ws : ndarray of int
    z : ndarray (n, k)
    gap_outer : float
        The outer duality gap; the working set is solved until its own gap
        is below ``0.3 * gap_outer`` (and at least ``tol_abs``).
    tol_abs : float
        Absolute floor of that tolerance.
    solver_factory : callable
        ``solver_factory(sub_design, sub_spec, Y) -> _BlockSolver``.
    ctx : dict
        ``dual_scaling`` kernel and ``design_cls``.
    U_ws : ndarray (m, k), optional
        ``A_ws^T (-F'(z))`` when the caller already has it.
    """
    # the in-place path stalls near 1e-11 relative with free (unpenalized) blocks in the working set, where
    # the scaled-copy path reaches the tolerance: free blocks take the scaled-copy path
    free_in_ws = bool(np.any(spec.unpenalized[ws])) if getattr(spec, "unpenalized", None) is not None else False
    if _IN_PLACE and not free_in_ws and not design.sparse and z.shape[1] == 1 and X.shape[1] == 1:
        return _newton_dense(datafit, design, spec, X, ws, z, gap_outer, tol_abs, ctx, U_ws)
    idx, ptr = spec.idx, spec.ptr
    sizes = ptr[ws + 1] - ptr[ws]
    cols = block_columns(idx, ptr, ws)
    local_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    sub_spec = BlockSpec(np.arange(cols.size, dtype=np.int64), local_ptr, spec.t1[ws], spec.t2[ws])
    singletons = bool(np.all(sizes == 1))
    dual_scaling = ctx["dual_scaling"]
    y_shape = datafit.y.shape
    inner_tol = max(0.3 * gap_outer, tol_abs)
    epochs_total = 0
    W = _WorkingColumns(design, cols, ctx["design_cls"])
    base_lips = base_h = None
    for step_no in range(_MAX_NEWTON):
        zf = z.reshape(y_shape)
        g = np.asarray(datafit.raw_grad(zf), dtype=float).reshape(z.shape)            # F'(z), (n, k)
        # ---- the working set's own duality gap: stop Newton steps when small enough
        theta = -g
        U = U_ws if (step_no == 0 and U_ws is not None) else W.rmat(theta)            # (m, k)
        s = dual_scaling(U, sub_spec.idx, local_ptr, sub_spec.t1, sub_spec.t2)
        scale = max(1.0, float(s.max()) if s.size else 1.0)
        Xw = np.ascontiguousarray(X[cols])
        pen_old = sub_spec.value(Xw)
        primal = datafit.value_from_Ax(zf) + pen_old
        dual = datafit.dual_value((theta / scale).reshape(y_shape))
        if primal - dual <= inner_tol:
            break
        # ---- the quadratic model as weighted least squares on scaled columns
        h = _model_weights(datafit, zf)
        sqrt_h = np.sqrt(h)
        target = sqrt_h[:, None] * (z - g / h[:, None])                                 # (n, k)
        sub_design = W.scaled(sqrt_h)
        Y = _rows(target)
        solver = solver_factory(sub_design, sub_spec, Y)
        if singletons:  # exact constants in one product, instead of a norm per column
            solver.lips = W.singleton_lipschitz(h)
        elif base_lips is not None:
            # ||D'^(1/2) A_g||^2 <= max(h'/h) ||D^(1/2) A_g||^2: a valid bound from the first step's exact
            # constants, instead of an eigenvalue per group at every Newton step
            solver.lips = base_lips * float(np.max(h / base_h))
        X_new = Xw.copy()
        R = np.ascontiguousarray(Y - sub_design.matmat(X_new))
        model_gap_tol = max(0.1 * (primal - dual), 0.5 * tol_abs)
        R, epochs = solver.solve_subproblem(np.arange(ws.size), X_new, R, model_gap_tol, _NoProjection())
        if not singletons and base_lips is None:
            base_lips, base_h = solver.lips.copy(), h
        epochs_total += epochs
        D = X_new - Xw
        if not np.any(D):
            break
        # ---- backtracking line search on the true objective
        Ad = W.mat(D)
        decrease = float(np.vdot(g, Ad)) + sub_spec.value(X_new) - pen_old   # model's predicted first-order change
        step = 1.0
        accepted = False
        for _ in range(_MAX_HALVINGS):
            X_try = Xw + step * D
            z_try = z + step * Ad
            f_try = datafit.value_from_Ax(z_try.reshape(y_shape)) + sub_spec.value(X_try)
            # a hair of slack: near the optimum the decrease is below the objective's rounding
            if np.isfinite(f_try) and f_try <= primal + _ARMIJO * step * min(decrease, 0.0) + 1e-15 * abs(primal):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        X[cols] = X_try
        z = z_try
    return z, epochs_total


def _kernels():
    if NUMBA_ENABLED:
        return pn_cd_dense_numba, ws_gradient_dense_numba, subdiff_distance_numba
    return pn_cd_dense_numpy, ws_gradient_dense_numpy, subdiff_distance_numpy


def _newton_dense(datafit, design, spec, X, ws, z, gap_outer, tol_abs, ctx, U_ws):
    """:func:`solve_newton_outer` for a dense design and one target, without copying the working set.

    Per Newton step: ``G = A_ws^T F'(z)`` (one pass over the working-set
    columns, or the caller's product at the first step), the working set's
    duality gap from it, then coordinate descent on the quadratic model in
    place (:func:`._newton_kernels.pn_cd_dense_numba`) until the model's
    subdifferential distance is ``_MODEL_KKT_FRACTION`` of the true one at
    the step's start, then a backtracking line search along the step in the
    sample space (``A_ws d`` comes out of the kernel).
    """
    idx, ptr = spec.idx, spec.ptr
    sizes = ptr[ws + 1] - ptr[ws]
    cols = block_columns(idx, ptr, ws)
    local_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    local_idx = np.arange(cols.size, dtype=np.int64)
    t1, t2 = np.ascontiguousarray(spec.t1[ws], dtype=float), np.ascontiguousarray(spec.t2[ws], dtype=float)
    singletons = bool(np.all(sizes == 1))
    tt = t1 + t2
    starts = local_ptr[:-1]

    def pen(v):
        if singletons:
            return float(tt @ np.abs(v))
        return float(t1 @ np.add.reduceat(np.abs(v), starts) + t2 @ np.sqrt(np.add.reduceat(v * v, starts)))

    cd, ws_grad, distance = _kernels()
    dual_scaling = ctx["dual_scaling"]
    AT, rows = design.columns(cols)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    y_shape = datafit.y.shape
    x = np.ascontiguousarray(X[cols, 0], dtype=float)
    support_in = cols[x != 0]
    # one-column blocks: the columns' norms let the model's epochs skip the zero coordinates that provably stay
    # zero (same steps; the design's norms come from the datafit's validation pass)
    colnorm = np.sqrt(design._colnorm2[cols]) if singletons and design._colnorm2 is not None else _NO_NORMS
    # the previous working set's solve left the support as it found it: the support is likely identified,
    # so solve this working set to the final tolerance (the next gap then certifies) rather than a fraction
    stable = ctx.get("_newton_support_stable", False)
    inner_tol = max((_STABLE_GAP_FRACTION if stable else _WS_GAP_FRACTION) * gap_outer, tol_abs)
    # the caller found every violated constraint inside the working set (few new to the support): its solution
    # is likely the problem's, so it is solved on to the final tolerance while the Newton steps converge fast
    # (each one dividing the working set's gap by 1 / _COMPLETE_RATE at least); a slow convergence is left to
    # the outer loop, as it would otherwise be paid for on a working set that may still change
    usual_tol = inner_tol
    complete = ctx.get("_newton_ws_complete", False)
    if complete:
        inner_tol = tol_abs
    last_gap = np.inf
    zf = np.ascontiguousarray(z[:, 0], dtype=float)
    V = np.zeros((int(sizes.max()), 1))
    group_lips = None
    epochs_total = 0
    f_old = datafit.value_from_Ax(zf.reshape(y_shape))
    for step_no in range(_MAX_NEWTON):
        g = np.ascontiguousarray(np.asarray(datafit.raw_grad(zf.reshape(y_shape)), dtype=float).ravel())
        if step_no == 0 and U_ws is not None:
            G = -np.asarray(U_ws, dtype=float).ravel()
        else:
            G = ws_grad(AT, rows, g.reshape(1, -1)).ravel()
        # ---- the working set's own duality gap at theta = -F'(z): stop Newton steps when small enough
        s = dual_scaling((-G).reshape(-1, 1), local_idx, local_ptr, t1, t2)
        scale = max(1.0, float(s.max()) if s.size else 1.0)
        pen_old = pen(x)
        primal = f_old + pen_old
        dual = datafit.dual_value((-g / scale).reshape(y_shape))
        if primal - dual <= inner_tol:
            break
        if primal - dual <= usual_tol and (not complete or primal - dual > _COMPLETE_RATE * last_gap):
            break
        last_gap = primal - dual
        # ---- coordinate descent on the quadratic model, in place on the working-set columns
        h = _model_weights(datafit, zf.reshape(y_shape))
        if singletons:
            lips = np.full(ws.size, -1.0)          # exact sum_i h_i a_ij^2, computed by the kernel on first visit
        else:
            if group_lips is None:
                group_lips = _GroupLipschitz(design, cols, local_ptr)
            lips = group_lips.bounds(AT, rows, x, h)
        kkt0 = float(distance(G, x, local_ptr, t1, t2).max())
        x_new, hu, epochs = _descend(cd, AT, rows, local_ptr, t1, t2, lips, G, h, x, V, pen,
                                     _MODEL_KKT_FRACTION * kkt0, colnorm)
        epochs_total += epochs
        d = x_new - x
        if not np.any(d):
            break
        # ---- backtracking line search on the true objective, along A_ws d = hu / h
        Ad = hu / h
        decrease = float(G @ d) + pen(x_new) - pen_old   # the model's first-order change
        step = 1.0
        accepted = False
        for _ in range(_MAX_HALVINGS):
            x_try = x_new if step == 1.0 else x + step * d
            z_try = zf + step * Ad
            f_try = datafit.value_from_Ax(z_try.reshape(y_shape))
            # a hair of slack: near the optimum the decrease is below the objective's rounding
            if np.isfinite(f_try) and (f_try + pen(x_try) <= primal + _ARMIJO * step * min(decrease, 0.0)
                                       + 1e-15 * abs(primal)):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        x, zf, f_old = x_try, z_try, f_try
    X[cols, 0] = x
    changed = np.setxor1d(support_in, cols[x != 0], assume_unique=True).size
    ctx["_newton_support_stable"] = changed <= _STABLE_CHANGE * max(support_in.size, 1)
    return zf.reshape(-1, 1), epochs_total


class _GroupLipschitz:
    """Step constants of the working set's groups for the weighted model, ``||D^(1/2) A_g||_2^2``.

    Exact (a Gram matrix and its top eigenvalue) only for the groups that
    are nonzero: for a zero group the constant does not decide whether it
    stays zero (``||S_t1(grad_g)|| <= t2`` whatever the step), so an upper
    bound serves, ``max(h) ||A_g||_F^2`` from the column norms. An exact
    constant computed with weights ``h0`` bounds the one for ``h`` by
    ``max(h / h0) L_g(h0)``: computed once per group and working set, not
    at every Newton step. A group that turns nonzero gets its exact constant
    at the next step.
    """

    def __init__(self, design, cols, ptr):
        self.ptr = ptr
        self.fro = np.add.reduceat(design.colnorm2[cols], ptr[:-1]) if cols.size else np.zeros(0)
        self.exact = np.full(ptr.size - 1, np.nan)   # L_g(h_ref), NaN while unknown
        self.ref = np.full(ptr.size - 1, -1)         # index of the weights h_ref in self.hs
        self.hs = []

    def bounds(self, AT, rows, x, h):
        ptr = self.ptr
        nonzero = np.add.reduceat(np.abs(x), ptr[:-1]) > 0 if x.size else np.zeros(0, dtype=bool)
        todo = np.flatnonzero(nonzero & np.isnan(self.exact))
        if todo.size:
            sizes = ptr[todo + 1] - ptr[todo]
            sub = np.concatenate([np.arange(ptr[g], ptr[g + 1]) for g in todo])
            self.exact[todo] = group_lipschitz_dense(AT[rows[sub]] * np.sqrt(h),
                                                     np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
            self.ref[todo] = len(self.hs)
            self.hs.append(h)
        lips = float(h.max()) * self.fro
        known = np.flatnonzero(~np.isnan(self.exact))
        if known.size:
            ratios = np.array([float(np.max(h / h0)) for h0 in self.hs])
            lips[known] = np.minimum(lips[known], self.exact[known] * ratios[self.ref[known]])
        return lips


def _descend(cd, AT, rows, ptr, t1, t2, lips, G, h, x0, V, pen, tol, colnorm=None):
    """The model's coordinate descent: one compiled call (:func:`._newton_kernels.pn_model_descent_numba`),
    or its Python twin :func:`_model_descent` without numba (the same steps). The Python loop around
    one-epoch kernel calls (copies, block masks, the Anderson step) cost about 9 % of an L1 logistic solve at
    0.01 lam_max (1000 x 5000, 15 Newton steps, 105 epochs). ``colnorm`` (one-column blocks): the columns'
    norms, for the compiled kernel's screening of zero coordinates (the twin reads every coordinate: the same
    steps)."""
    if NUMBA_ENABLED:
        return pn_model_descent_screened_numba(AT, rows, ptr, t1, t2, np.ascontiguousarray(lips, dtype=float),
                                               np.ascontiguousarray(G), h, x0, V, tol, _MAX_MODEL_EPOCHS,
                                               _ANDERSON_K, _ACTIVE_CYCLING,
                                               _NO_NORMS if colnorm is None else colnorm)
    return _model_descent(cd, AT, rows, ptr, t1, t2, lips, G, h, x0, V, pen, tol)


def _model_descent(cd, AT, rows, ptr, t1, t2, lips, G, h, x0, V, pen, tol):
    """Coordinate descent on the quadratic model from ``x0``, with active-set cycling; ``(x, hu, epochs)``.

    The Python twin of :func:`._newton_kernels.pn_model_descent_numba` (used without numba).

    A full epoch over the working set alternates with epochs over its
    nonzero blocks only (glmnet's active-set cycling), run until those meet
    ``tol``: an epoch streams its columns from memory, and at a working set
    twice the support the zero blocks are half of them. The solve ends at
    the first full epoch within ``tol``. Every ``_ANDERSON_K + 1`` epochs of
    a phase the last iterates are extrapolated (Anderson, as in the
    least-squares subproblems) and the result kept when it lowers the model;
    the model is linear in ``x`` through ``u = A_ws (x - x0)``, so the
    extrapolated ``hu`` is the same combination of the stored ones: no
    product with the columns.
    """
    x = x0.copy()
    hu = np.zeros_like(h)
    epochs = 0
    sizes = np.diff(ptr)
    while epochs < _MAX_MODEL_EPOCHS:
        ran, kkt = cd(AT, rows, ptr, t1, t2, lips, G, h, x, hu, V, 1, tol)
        epochs += int(ran)
        if kkt <= tol:
            break
        active = np.add.reduceat(np.abs(x), ptr[:-1]) > 0 if x.size else np.zeros(0, dtype=bool)
        if not _ACTIVE_CYCLING or not active.any() or active.all():
            x, hu, ran = _anderson_epochs(cd, AT, rows, ptr, t1, t2, lips, G, h, x, x0, hu, V, pen, tol,
                                          _MAX_MODEL_EPOCHS - epochs)
            epochs += ran
            continue
        blocks = np.flatnonzero(active)
        cols = np.concatenate([np.arange(ptr[b], ptr[b + 1]) for b in blocks]) if (sizes[blocks] > 1).any() \
            else ptr[blocks]
        sub_ptr = np.concatenate([[0], np.cumsum(sizes[blocks])]).astype(np.int64)
        sub_lips = lips[blocks]
        xa, hu, ran = _anderson_epochs(cd, AT, np.ascontiguousarray(rows[cols]), sub_ptr, t1[blocks], t2[blocks],
                                       sub_lips, np.ascontiguousarray(G[cols]), h, x[cols], x0[cols], hu, V, pen,
                                       tol, _MAX_MODEL_EPOCHS - epochs, full=(x, cols))
        x[cols] = xa
        epochs += ran
    return x, hu, epochs


def _anderson_epochs(cd, AT, rows, ptr, t1, t2, lips, G, h, x, x0, hu, V, pen, tol, budget, full=None):
    """Epochs over the given blocks until they meet ``tol`` (or ``budget``), with Anderson extrapolation.

    ``x`` and ``x0`` are the blocks' coefficients (``x`` is updated); with
    ``full = (x_all, cols)`` the model value is evaluated on the whole
    working set (the other blocks fixed). Returns ``(x, hu, epochs)``.
    """
    x_all, cols = full if full is not None else (None, None)

    def model(xb, hub):
        if x_all is None:
            return float(G @ (xb - x0)) + 0.5 * float(hub @ (hub / h)) + pen(xb)
        # the blocks outside are fixed: only this part of G^T (x - x0) and of the penalty changes
        return float(G @ xb) + 0.5 * float(hub @ (hub / h)) + pen_part(xb)

    def pen_part(xb):
        return _block_pen(xb, ptr, t1, t2)
    x = np.ascontiguousarray(x, dtype=float)
    xs, hus = [], []
    epochs = 0
    while epochs < budget:
        ran, kkt = cd(AT, rows, ptr, t1, t2, lips, G, h, x, hu, V, 1, tol)
        epochs += int(ran)
        if kkt <= tol:
            break
        xs.append(x.copy())
        hus.append(hu.copy())
        if len(xs) == _ANDERSON_K + 1:
            last = np.asarray(xs)
            D = np.diff(last, axis=0)
            gram = D @ D.T
            try:
                c = np.linalg.solve(gram + 1e-12 * np.trace(gram) * np.eye(_ANDERSON_K), np.ones(_ANDERSON_K))
            except np.linalg.LinAlgError:
                c = None
            if c is not None and np.all(np.isfinite(c)) and c.sum() != 0:
                c = c / c.sum()
                x_acc = c @ last[1:]
                hu_acc = c @ np.asarray(hus[1:])
                if model(x_acc, hu_acc) < model(x, hu):
                    x, hu = np.ascontiguousarray(x_acc), np.ascontiguousarray(hu_acc)
            xs, hus = [], []
    return x, hu, epochs


def _block_pen(x, ptr, t1, t2):
    """``sum_g t1[g] ||x_g||_1 + t2[g] ||x_g||_2`` over the blocks ``ptr``."""
    if x.size == 0:
        return 0.0
    starts = ptr[:-1]
    return float(t1 @ np.add.reduceat(np.abs(x), starts) + t2 @ np.sqrt(np.add.reduceat(x * x, starts)))
