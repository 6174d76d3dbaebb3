"""FISTA with backtracking, adaptive restart and duality-gap stopping.

Minimizes ``loss(x) + penalty(x)`` for a loss of the form ``f(A x)`` (such as
:class:`~structsparse.LeastSquares`) and any :class:`~structsparse.Penalty`.

Cost per iteration: one product with ``A`` and one with ``A^T``. The
extrapolated point's image ``A y`` is a combination of the last two images
``A x`` (linearity), so the objective, the backtracking test and the restart
test need no extra product. The duality gap needs ``A^T r`` and is evaluated
every ``gap_freq`` iterations.

Mixed precision (``precision="mixed"``, the default on large dense float64
designs): the products of the iterations use a float32 copy of ``A`` on
*differences* from a reference point whose images are exact,
``A x = A x_ref + A32 (x - x_ref)`` and ``A^T F'(A y) = A^T F'(A y_ref) +
A32^T (F'(A y) - F'(A y_ref))``, so the rounding of a product is relative to
the (shrinking) step from the reference, not to ``A x``. Every gap check
recomputes ``A x`` and ``A^T F'(A x)`` in float64 and moves the reference
there: the gap that stops the solver is the float64 one, a certificate as
without the float32 copy. The sufficient-decrease test is not trusted to
float32 rounding: at a step ``1 / L`` with ``L`` at least the datafit's
global constant it is skipped (the bound holds, up to the accuracy of that
estimate), and a failed test with a
longer step (``step`` given) switches the rest of the run to float64.

References: Beck and Teboulle (2009) for FISTA; O'Donoghue and Candes (2015)
for the gradient restart scheme.
"""

import time
import warnings
import weakref

import numpy as np

from .._linalg import column_span_basis, project_out
from .._validation import check_bool, check_choice, check_int, check_scalar
from ..exceptions import ConvergenceWarning, ParameterError, ParameterTypeError
from .capabilities import check_inputs
from .result import SolverResult

__all__ = ["fista", "duality_gap"]

def duality_gap(loss, penalty, x, Ax=None):
    """Duality gap of ``datafit + penalty`` at ``x``, or ``None`` when it cannot be computed.

    With ``theta = -F'(A x)`` (the residual ``y - Ax`` for least squares),
    the dual point ``theta / max(1, Omega^*(A^T theta) / lam)`` is feasible
    for every datafit, and ``gap = P(x) - D(theta) >= 0`` with
    ``D(theta) = -F^*(-theta)``.

    When the penalty leaves variables free (features in no group), a dual
    point must also satisfy ``A_F^T theta = 0``: ``theta`` is first projected
    onto that subspace (a dense QR of the free columns, computed once per
    datafit) and, if needed, scaled back into the conjugate's domain, so the
    gap stays an upper bound on the suboptimality. ``None`` is returned when
    the penalty has no dual norm, ``lam = 0``, or more than 500 variables are
    free.

    Parameters
    ----------
    loss : Datafit
    penalty : Penalty
        Needs the ``"dual_norm"`` capability and ``lam > 0``.
    x : ndarray
    Ax : ndarray, optional
        ``A @ x`` if already known.

    Returns
    -------
    float or None
    """
    if Ax is None:  # a direct call: check the objects and x (the solvers pass Ax, and a checked x)
        from .capabilities import _caps

        _caps(loss, "loss", "duality_gap")
        _caps(penalty, "penalty", "duality_gap")
    return _gap(loss, penalty, x, Ax)


def _gap(loss, penalty, x, Ax=None, Atheta=None):
    """:func:`duality_gap` without the checks; ``Atheta``, if given, is ``A^T dual_point(A x)`` (one product saved)."""
    if "dual_norm" not in penalty.capabilities or penalty.lam <= 0:
        return None
    if Ax is None:
        if hasattr(loss, "check_x"):
            x = loss.check_x(x, "x")
        Ax = loss.matvec(x)
    theta = loss.dual_point(Ax)
    free = _free_rows(penalty, loss)
    if free is False:
        return None
    if free is None:
        dnorm = penalty.dual_norm(loss.rmatvec(theta) if Atheta is None else Atheta)
    else:
        # Unpenalized variables need A_F^T theta = 0, which -F'(Ax) meets only up to rounding at best:
        # project theta onto that subspace, whose A_F^T theta is then zero in exact arithmetic.
        theta = _inside_domain(loss, project_out(theta, _free_basis(loss, free)))
        u = np.array(loss.rmatvec(theta), dtype=float)
        u[free] = 0.0
        dnorm = penalty.dual_norm(u)
    if not np.isfinite(dnorm):
        return None
    dual = loss.dual_value(loss.dual_rescale(theta, dnorm, penalty.lam))
    if not np.isfinite(dual):
        return None
    primal = loss.value_from_Ax(Ax) + penalty(x)
    return max(primal - dual, 0.0)


# free-variable masks per penalty and orthonormal bases per datafit, computed once: gaps are evaluated often
_FREE_ROWS = weakref.WeakKeyDictionary()
_FREE_BASES = weakref.WeakKeyDictionary()
_MAX_FREE = 500
_GAP_STALLS = 3   # gap evaluations without a 1 % decrease before the fixed-point residual may stop FISTA   # a dense QR of n x |F|; beyond this the gap is not computed (None), as before


def _free_rows(penalty, loss):
    """Indices of the rows of ``x`` that ``penalty`` leaves unpenalized: None when there are none, False when too many."""
    key = (loss.n_features, loss.x_shape)
    try:
        cached = _FREE_ROWS.setdefault(penalty, {})
    except TypeError:  # not weak-referenceable: compute every time
        cached = {}
    if key not in cached:
        mask = penalty.free_variables(*key) if "free_variables" in penalty.capabilities else None
        rows = None if mask is None or not mask.any() else np.flatnonzero(mask)
        cached[key] = rows if rows is None or rows.size <= _MAX_FREE else False
    return cached[key]


def _free_basis(loss, rows):
    """Orthonormal basis of the span of the design's columns ``rows`` (cached on the datafit's design)."""
    A = loss.A
    key = rows.tobytes()
    try:
        per_loss = _FREE_BASES.setdefault(loss, {})
    except TypeError:
        per_loss = {}
    entry = per_loss.get(key)
    if entry is not None and entry[0] is A:
        return entry[1]
    basis = column_span_basis(A, rows)
    per_loss[key] = (A, basis)
    return basis


def _inside_domain(loss, theta, steps=40):
    """``t * theta`` with the largest ``t`` in (0, 1] found by bisection for which the dual value is finite.

    The conjugate's domain is convex and holds 0 for every datafit here, and scaling keeps
    ``A_F^T theta = 0``; a projected point just outside the domain (a saturated Huber or logistic
    sample) is pulled back by a factor near 1.
    """
    if np.isfinite(loss.dual_value(theta)):
        return theta
    low, high = 0.0, 1.0
    for _ in range(steps):
        mid = 0.5 * (low + high)
        if np.isfinite(loss.dual_value(mid * theta)):
            low = mid
        else:
            high = mid
    return low * theta


def _gathered_prox(penalty, v, step):
    """``penalty.prox(v, step)`` and whether it warned that it is approximate (that warning is held back)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = penalty.prox(v, step)
    inexact = False
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            inexact = True
        else:  # any other warning goes on to the caller
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    return x, inexact


#: Dense float64 designs with at least this many entries get mixed-precision products by default (beyond the
#: caches, a product reads the matrix from memory, and float32 halves the bytes read).
_MIXED_MIN_SIZE = 1 << 22


_SINGLE = {}  # id(A) -> (weak reference to A, float32 buffer of A's shape), dropped with A


def _single_copy(A):
    """A float32 copy of the dense design ``A``, refreshed at every call.

    The buffer is kept while ``A`` lives, so that the solves of a continuation or of a hold-out selection on
    one design do not fault in fresh pages at every call (about 1 s for 4096 x 16384, eight times the copy).
    Its contents are copied again every time: ``A`` may have changed in place.
    """
    entry = _SINGLE.get(id(A))
    buf = entry[1] if entry is not None and entry[0]() is A and entry[1].shape == A.shape else None
    if buf is None:
        key = id(A)
        buf = np.empty(A.shape, dtype=np.float32, order="F" if A.flags.f_contiguous and not A.flags.c_contiguous
                       else "C")
        _SINGLE[key] = (weakref.ref(A, lambda _, key=key: _SINGLE.pop(key, None)), buf)
    np.copyto(buf, A, casting="same_kind")
    return buf


def _mixed_design(loss, precision, use_gap):
    """The float32 copy of ``loss.A`` for mixed-precision products, or ``None`` (float64 products).

    Mixed products need the default products of :class:`~structsparse.datafits.base.Datafit` on a dense
    float64 matrix, one target, and a duality gap (whose float64 evaluation is what stops the solver).
    ``"auto"`` uses them from ``_MIXED_MIN_SIZE`` entries on.
    """
    from ..datafits.base import Datafit

    if precision == "double" or not use_gap:
        return None
    A = getattr(loss, "A", None)
    ok = (isinstance(A, np.ndarray) and A.ndim == 2 and A.dtype == np.float64 and len(loss.x_shape) == 1
          and type(loss).matvec is Datafit.matvec and type(loss).rmatvec is Datafit.rmatvec
          and type(loss).grad_from_Ax is Datafit.grad_from_Ax and type(loss).dual_point is Datafit.dual_point)
    if not ok or (precision == "auto" and A.size < _MIXED_MIN_SIZE):
        return None
    return _single_copy(A)


def fista(loss, penalty, x0=None, tol=1e-8, max_iter=None, callback=None, step=None, restart=True,
          gap_freq=10, verbose=False, progress=False, precision="auto"):
    """Accelerated proximal gradient (FISTA) for ``loss(x) + penalty(x)``.

    Parameters
    ----------
    loss : Datafit
        Any datafit ``F(A x)`` (least squares, logistic, Huber, Poisson, ...).
    penalty : Penalty
        Any structsparse penalty (its ``prox`` is used).
    x0 : ndarray, optional
        Starting point (default zero). Not modified.
    tol : float, default 1e-8
        Stop when the duality gap is at most ``tol * |objective|`` (penalties
        with a dual norm and ``lam > 0``), otherwise when the norm of the
        gradient mapping ``L ||x_{k+1} - y_k||`` is at most ``tol * ||grad f(0)||``.
        When the gap stops decreasing (three evaluations without a 1 %
        decrease: a penalty value computed to limited precision), the
        gradient-mapping test may stop it too; the message then says so.
    max_iter : int, optional
        Iteration limit (default 20000). Reaching it issues a
        :class:`ConvergenceWarning` and sets ``converged=False``.
    callback : callable, optional
        ``callback(k, x, info) -> bool``; returning True stops the solver
        (``converged=False``, message says so). ``info`` holds
        ``objective``, ``step`` and, when computed, ``gap``.
    step : float, optional
        Initial step ``1/L``; default ``1 / loss.lipschitz``. Backtracking
        shrinks it whenever the sufficient-decrease test fails.
    restart : bool, default True
        Gradient-based adaptive restart of the momentum.
    gap_freq : int, default 10
        Evaluate the duality gap every ``gap_freq`` iterations.
    verbose : bool
        Print progress at every gap evaluation.
    progress : bool
        Show a tqdm progress bar.
    precision : {"auto", "double", "mixed"}, default "auto"
        ``"mixed"``: products with a float32 copy of a dense float64 ``A``
        on differences from float64 reference images (module notes), the
        gap that stops the solver evaluated in float64; needs a datafit with
        the default products, one target and a penalty with a dual norm
        (otherwise float64). ``"double"``: float64 products throughout.
        ``"auto"``: mixed for designs of at least ``2**22`` entries.

    Returns
    -------
    SolverResult

    Examples
    --------
    >>> import numpy as np, structsparse as ss
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((30, 12)); y = rng.standard_normal(30)
    >>> pen = ss.GroupLasso(ss.Groups.contiguous(12, 3), lam=2.0)
    >>> res = ss.fista(ss.LeastSquares(A, y), pen)
    >>> res.converged
    True
    """
    owner = "fista"
    check_inputs(loss, penalty, owner)
    precision = check_choice(precision, "precision", ("auto", "double", "mixed"), owner=owner)
    tol = check_scalar(tol, "tol", low=0, low_inclusive=False, owner=owner)
    max_iter = 20000 if max_iter is None else check_int(max_iter, "max_iter", low=1, owner=owner)
    gap_freq = check_int(gap_freq, "gap_freq", low=1, owner=owner)
    for name, flag in (("restart", restart), ("verbose", verbose), ("progress", progress)):
        check_bool(flag, name, owner=owner)
    if callback is not None and not callable(callback):
        raise ParameterTypeError(f"The 'callback' parameter of {owner} must be callable. Got {callback!r}.")
    if x0 is None:
        x = np.zeros(loss.x_shape)
    else:
        x = loss.check_x(x0, "x0").copy() if hasattr(loss, "check_x") else np.array(x0, dtype=float)
    if step is None:
        L = float(loss.lipschitz)
    else:
        L = 1.0 / check_scalar(step, "step", low=0, low_inclusive=False, owner=owner)

    # no curvature can need a step below 1/L_cap: loss.lipschitz bounds it up to the power iteration's accuracy
    L_global = float(loss.lipschitz)
    L_cap = 1e6 * max(L, L_global)
    use_gap = "dual_norm" in penalty.capabilities and penalty.lam > 0
    # why the run has no duality gap, for the result's message (None while it has one)
    no_gap = None if use_gap else (f"{type(penalty).__name__} declares no dual norm"
                                   if "dual_norm" not in penalty.capabilities else "lam = 0")
    grad_ref = None  # ||grad f(0)||, the scale of the fixed-point criterion

    start = time.perf_counter()
    single = _mixed_design(loss, precision, use_gap)
    Ax = loss.matvec(x)
    y_pt, Ay = x, Ax
    if single is not None:
        # the reference point of the float32 products: its image and gradient exact (float64)
        ref_x, ref_Ax, ref_raw = x, Ax, loss.raw_grad(Ax)
        ref_g = loss.rmatvec(ref_raw)

    def image(v):
        """``A v``: exact, or the reference's image plus a float32 product of the difference."""
        if single is None:
            return loss.matvec(v)
        return ref_Ax + single @ (v - ref_x).astype(np.float32)

    def gradient(Av):
        """``A^T F'(A v)`` from ``A v``, the same way."""
        if single is None:
            return loss.grad_from_Ax(Av)
        return ref_g + single.T @ (loss.raw_grad(Av) - ref_raw).astype(np.float32)

    t = 1.0
    history = {"objective": [], "gap": [], "gap_iter": [], "time": [], "step": []}
    converged, message, gap = False, "", None
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max_iter, desc="fista", leave=False)

    best_gap, stalls, stalled = np.inf, 0, False
    # an iterative prox (overlapping or latent groups) warns when its inner solver stops short of its target;
    # those warnings are gathered and reported once, against what certifies the result
    iterative_prox = "prox" not in penalty.capabilities
    n_inexact = 0
    k = 0
    for k in range(1, max_iter + 1):
        g = gradient(Ay)
        f_y = loss.value_from_Ax(Ay)
        while True:
            if iterative_prox:
                x_new, inexact = _gathered_prox(penalty, y_pt - g / L, 1.0 / L)
                n_inexact += inexact
            else:
                x_new = penalty.prox(y_pt - g / L, 1.0 / L)
            Ax_new = image(x_new)
            f_new = loss.value_from_Ax(Ax_new)
            d = x_new - y_pt
            dd = float(np.vdot(d, d))
            # dd == 0 is a fixed point; beyond L_cap the quadratic bound holds in exact arithmetic and only
            # rounding (objectives near zero) can fail the test, which would otherwise double L forever
            if dd == 0.0 or L >= L_cap or f_new <= f_y + float(np.vdot(g, d)) + 0.5 * L * dd + 1e-12 * abs(f_y):
                break
            if single is not None and L >= L_global:
                # the global constant bounds the curvature: the test failed on float32 rounding (relative to
                # A x, it exceeds the 1 % margin of L near the optimum), and the float64 gap checks still decide
                break
            if single is not None:
                # a step longer than 1 / L_global (the caller's): redo it in float64, and stay there
                single = None
                Ay, Ax = loss.matvec(y_pt), loss.matvec(x)
                g, f_y = loss.grad_from_Ax(Ay), loss.value_from_Ax(Ay)
                continue
            L *= 2.0
        exact = single is None
        check = use_gap and (k % gap_freq == 0 or k == max_iter)
        if check and single is not None:
            # the gap is evaluated in float64, and the reference moves here
            Ax_new = loss.matvec(x_new)
            ref_x, ref_Ax, ref_raw = x_new, Ax_new, loss.raw_grad(Ax_new)
            ref_g = loss.rmatvec(ref_raw)
            f_new, exact = loss.value_from_Ax(Ax_new), True
        objective = f_new + penalty(x_new)
        history["objective"].append(objective)
        history["step"].append(1.0 / L)
        history["time"].append(time.perf_counter() - start)

        # stopping tests
        info = {"objective": objective, "step": 1.0 / L}
        stop = False
        if check:
            gap = _gap(loss, penalty, x_new, Ax_new, None if single is None else -ref_g)
            if gap is None:  # e.g. unpenalized features: no finite dual point, fall back
                use_gap = False
                no_gap = "no finite dual point"
                single = None  # the float32 products need the gap's float64 checks
            else:
                history["gap"].append(gap)
                history["gap_iter"].append(k)
                info["gap"] = gap
                stop = gap <= tol * max(abs(objective), np.finfo(float).tiny)
                # a gap that stops decreasing is limited by the precision of the penalty's value (a latent
                # norm computed by an inner solver): the fixed-point residual then decides, as without a gap
                stalls = stalls + 1 if gap >= 0.99 * best_gap else 0
                best_gap = min(best_gap, gap)
                if not stop and stalls >= _GAP_STALLS:
                    if grad_ref is None:
                        grad_ref = float(np.linalg.norm(loss.grad_from_Ax(np.zeros_like(Ax))))
                    stalled = L * np.sqrt(dd) <= tol * max(grad_ref, np.finfo(float).tiny)
                    stop = stalled
                if verbose:
                    print(f"fista {k:6d}  objective {objective:.12g}  gap {gap:.3e}  step {1.0 / L:.3e}")
        if not use_gap:
            if grad_ref is None:
                grad_ref = float(np.linalg.norm(loss.grad_from_Ax(np.zeros_like(Ax))))
            residual = L * np.sqrt(dd)
            stop = stop or residual <= tol * max(grad_ref, np.finfo(float).tiny)
        if bar is not None:
            bar.update(1)

        if stop:
            x, Ax = x_new, Ax_new
            converged = True
            message = f"fixed-point residual below tol (duality gap unavailable: {no_gap})" if not use_gap else (
                f"fixed-point residual below tol (the duality gap stalled at {gap:.3e})" if stalled
                else "duality gap below tol")
            break
        if callback is not None and callback(k, x_new, info):
            x, Ax = x_new, Ax_new
            message = "stopped by callback"
            break

        # momentum, restarted when it points against the descent direction
        if restart and float(np.vdot(y_pt - x_new, x_new - x)) > 0:
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        y_pt = x_new + beta * (x_new - x)
        Ay = Ax_new + beta * (Ax_new - Ax)
        x, Ax, t = x_new, Ax_new, t_next
    else:
        message = f"reached max_iter={max_iter} before the tolerance {tol:g}"
    if k and not (converged or exact):
        Ax = loss.matvec(x)  # the result's objective and gap from the float64 image

    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - start
    if use_gap and not converged:
        gap = _gap(loss, penalty, x, Ax)
    objective = loss.value_from_Ax(Ax) + penalty(x)
    if n_inexact:
        note = f"the iterative prox stopped short of its inner tolerance in {n_inexact} of its calls"
        if converged and use_gap and not stalled:
            message += f" ({note}; the duality gap certifies the result)"
        else:
            message += f" ({note})"
            if converged:  # stopped by the fixed-point residual, which an inexact prox can fool
                warnings.warn(f"fista: {note}, and no duality gap certifies the result ({message}).",
                              ConvergenceWarning, stacklevel=2)
    if not converged and message.startswith("reached max_iter"):
        warnings.warn(f"fista: {message}; the result may be inaccurate (gap={gap}).", ConvergenceWarning,
                      stacklevel=2)
    return SolverResult(x=x, objective=objective, n_iter=k, converged=converged, gap=gap, history=history,
                        time=elapsed, solver="fista", message=message)
