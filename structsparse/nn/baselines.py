"""Baselines at equal FLOPs: what group-lasso pruning is compared against.

- ``"l1"``: L1 filter-norm magnitude pruning (Li, Kadav, Durdanovic, Samet,
  Graf, ICLR 2017, "Pruning filters for efficient ConvNets"): in every
  pruned layer the filters (or neurons) of smallest ``sum |W|`` go, the same
  fraction in each layer, then the network is fine-tuned.
- ``"random"``: the same, with filters chosen at random.
- ``"scratch"``: the architecture that ``"l1"`` leaves, with fresh weights,
  trained from scratch (as many epochs as the dense training and the
  fine-tuning together).
- ``"sensitivity"``: :func:`allocate_budget`, a per-layer allocation of the
  budget driven by :func:`~structsparse.nn.sensitivity` (layers that lose the
  least validation accuracy per FLOP removed are pruned most).
- ``"group_lasso"``: this project, :func:`~structsparse.nn.prune_to_budget`
  (penalized trials, surgery, fine-tuning).

Every method gets the same fine-tuning epochs, the same data splits (train
for training, validation for early stopping and for the group lasso's
choice of ``lam``) and its FLOPs at most the budget; the test split is
scored once per network, at the end.
"""

from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_int, check_rng, check_scalar
from ..exceptions import ParameterError, ParameterTypeError
from ._results import DictAccessMixin, seed_from
from .analysis import flops
from .groups import groups
from .network import Graph
from .surgery import prune

__all__ = ["uniform_prune", "allocate_budget", "reinitialize", "compare_at_budget", "BaselineResult", "METHODS",
           "ALL_METHODS"]


@dataclass(frozen=True, repr=False)
class BaselineResult(DictAccessMixin):
    """One method's network at the budget, scored once on the test split (from :func:`compare_at_budget`).

    Attributes
    ----------
    method : str
        The method (one of ``ALL_METHODS``).
    test_acc, val_acc : float
        Accuracy on the test and validation splits (NaN when the method failed).
    flops_fraction : float
        FLOPs of the pruned network / dense FLOPs.
    params : int
        Parameters of the pruned network.
    failed : str or None
        Why the method met no budget (the group lasso's price search), None when it did.
    """

    method: str
    test_acc: float
    val_acc: float
    flops_fraction: float
    params: int
    failed: object = None

    _absent_when_none = ("failed",)

    def __repr__(self):
        if self.failed is not None:
            return f"BaselineResult({self.method!r}, failed)"
        return (f"BaselineResult({self.method!r}, test_acc={self.test_acc:.4f}, val_acc={self.val_acc:.4f}, "
                f"flops_fraction={self.flops_fraction:.3f}, params={self.params})")

METHODS = ("group_lasso", "l1", "random", "scratch")
ALL_METHODS = METHODS + ("sensitivity",)   # "sensitivity": allocate_budget (layer-aware), then fine-tuning


def _unit_scores(net, m, criterion, rng):
    node = m.name.split(":", 1)[1]
    w = np.asarray(net.node(node).layer.params["W"], dtype=np.float64)
    n = m.groups.n_groups
    if criterion == "l1":
        return np.abs(w).reshape(-1, w.shape[-1]).sum(axis=0)[:n]
    return rng.random(n)


def uniform_prune(net, budget, by="filters", layers=None, criterion="l1", rng=None, min_keep=1):
    """Remove the same fraction of units from every grouped layer, the weakest first, to meet a FLOPs budget.

    Parameters
    ----------
    net : Graph
        A trained network (not modified).
    budget : float
        FLOPs budget: a fraction of ``net``'s FLOPs if at most 1, else FLOPs per sample.
    by : {"filters", "neurons"}, default "filters"
        Which units go (see :func:`structsparse.nn.groups`).
    layers : list of str, optional
        Only these layers lose units.
    criterion : {"l1", "random"}, default "l1"
        Rank units by the L1 norm of their weights (Li et al. 2017), or at random.
    rng : int or Generator, optional
        Seed for ``criterion="random"``.
    min_keep : int, default 1
        Units every layer keeps.

    Returns
    -------
    Graph
        The pruned network (by surgery), the largest uniform keep fraction
        whose FLOPs meet the budget; ``pruned.pruning["keep_fraction"]``
        says which.
    """
    owner = "uniform_prune"
    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of {owner} must be a Graph. Got {type(net).__name__}.")
    check_choice(criterion, "criterion", ("l1", "random"), owner=owner)
    budget = check_scalar(budget, "budget", low=0, low_inclusive=False, owner=owner)
    min_keep = check_int(min_keep, "min_keep", low=1, owner=owner)
    rng = check_rng(rng)
    dense = flops(net)
    target = budget * dense if budget <= 1 else budget
    maps = groups(net, by=by, layers=layers)
    orders = [np.argsort(-_unit_scores(net, m, criterion, rng), kind="stable") for m in maps]

    def cut(q):
        trial = net.copy()
        for m, order in zip(maps, orders):
            n = m.groups.n_groups
            k = min(n, max(min_keep, int(np.ceil(q * n))))
            v = m.gather(trial)
            for j in order[k:]:
                v[m.groups.indices[m.groups.ptr[j]:m.groups.ptr[j + 1]]] = 0.0
            m.scatter(trial, v)
        return prune(trial, 0.0, min_keep)

    smallest = cut(0.0)
    if flops(smallest) > target:
        raise ParameterError(f"{owner}: the budget of {target:.0f} FLOPs is below what min_keep={min_keep} allows "
                             f"({flops(smallest)} FLOPs).")
    lo, hi = 0.0, 1.0
    best, best_q = smallest, 0.0
    if flops(net) <= target:
        best, best_q = cut(1.0), 1.0
    else:
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            p = cut(mid)
            if flops(p) <= target:
                lo, best, best_q = mid, p, mid
            else:
                hi = mid
            if hi - lo < 1e-4:
                break
    best.pruning.update({"keep_fraction": best_q, "criterion": criterion, "budget": target,
                         "dense_flops": int(dense), "flops": int(flops(best))})
    return best


def allocate_budget(net, X, y, budget, by="filters", layers=None, step=0.0625, min_keep=1):
    """Spend a FLOPs budget where it costs the least accuracy, layer by layer, from :func:`~structsparse.nn.sensitivity`.

    :func:`~structsparse.nn.sensitivity` gives, for every grouped layer, the
    accuracy on ``(X, y)`` with a fraction ``r`` of its weakest units removed
    (``r`` on a grid of ``step``), the rest untouched. Starting from the dense
    network, the allocation repeatedly moves the one layer whose next grid
    step loses the least accuracy per FLOP it removes (FLOPs counted exactly
    on the pruned network, so the savings of a layer include the next layer's
    smaller input) until the budget is met. Losses are taken from the
    one-layer curves (treated as additive); sensitivity zeroes a unit's
    weights and bias, while the pruning here removes the whole group (batch
    norm included).

    Parameters
    ----------
    net : Graph
        A trained network (not modified).
    X, y : ndarray
        Data that scores the sensitivity (the validation split, never the test split).
    budget : float
        FLOPs budget: a fraction of ``net``'s FLOPs if at most 1, else FLOPs per sample.
    by : {"filters", "neurons"}, default "filters"
        Which units go.
    layers : list of str, optional
        Only these layers lose units.
    step : float, default 0.0625
        Grid step of the removed fraction per layer, in (0, 0.5].
    min_keep : int, default 1
        Units every layer keeps.

    Returns
    -------
    Graph
        The pruned network (not fine-tuned); ``pruning["allocation"]`` gives
        ``{layer: removed fraction}`` and ``pruning["sensitivity"]`` the curves.
    """
    from .analysis import sensitivity

    owner = "allocate_budget"
    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of {owner} must be a Graph. Got {type(net).__name__}.")
    budget = check_scalar(budget, "budget", low=0, low_inclusive=False, owner=owner)
    step = check_scalar(step, "step", low=0, high=0.5, low_inclusive=False, owner=owner)
    min_keep = check_int(min_keep, "min_keep", low=1, owner=owner)
    dense = flops(net)
    target = budget * dense if budget <= 1 else budget
    maps = groups(net, by=by, layers=layers)
    names = [m.name.split(":", 1)[1] for m in maps]
    grid = np.arange(0.0, 1.0 - 1e-9, step)
    sens = sensitivity(net, X, y, ratios=grid, layers=names)
    orders = [np.argsort(-net.node(nm).layer.channel_importance(), kind="stable") for nm in names]

    def cut(alloc):
        trial = net.copy()
        for m, order, r in zip(maps, orders, alloc):
            n = m.groups.n_groups
            k = max(min(min_keep, n), n - int(np.floor(grid[r] * n)))
            v = m.gather(trial)
            for j in order[k:]:
                v[m.groups.indices[m.groups.ptr[j]:m.groups.ptr[j + 1]]] = 0.0
            m.scatter(trial, v)
        return prune(trial, 0.0, min_keep)

    alloc = [0] * len(maps)
    current = cut(alloc)
    while flops(current) > target:
        f0 = flops(current)
        best = None
        for i, nm in enumerate(names):
            if alloc[i] + 1 >= len(grid):
                continue
            trial = list(alloc)
            trial[i] += 1
            p = cut(trial)
            saved = f0 - flops(p)
            if saved <= 0:
                continue
            loss = max(sens[nm][alloc[i]] - sens[nm][alloc[i] + 1], 0.0) + 1e-9
            key = (loss / saved, -saved)
            if best is None or key < best[0]:
                best = (key, trial, p)
        if best is None:
            raise ParameterError(f"{owner}: the budget of {target:.0f} FLOPs cannot be met on the grid of step {step} "
                                 f"with min_keep={min_keep} (reached {f0} FLOPs).")
        alloc, current = best[1], best[2]
    current.pruning.update({"allocation": {nm: float(grid[r]) for nm, r in zip(names, alloc)},
                            "sensitivity": {nm: sens[nm] for nm in names}, "ratios": sens["ratios"],
                            "budget": target, "dense_flops": int(dense), "flops": int(flops(current))})
    return current


def reinitialize(net, rng=None):
    """A copy of ``net`` (same architecture, selections and input) with fresh initial weights.

    Parameters
    ----------
    net : Graph
        Any built network (not modified).
    rng : int or Generator, optional
        Seed of the new weights.

    Returns
    -------
    Graph
    """
    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of reinitialize must be a Graph. Got {type(net).__name__}.")
    rng = check_rng(rng)
    new = net.copy()
    for n in new.nodes:
        n.layer.params, n.layer.state = {}, {}
        n.layer._init_params(rng)
    return new


def compare_at_budget(net, splits, budget, methods=METHODS, by="filters", layers=None, dense_epochs=10,
                      fine_tune_epochs=5, trial_epochs=4, lr=0.05, lam0=0.05, grow=3.0, max_trials=8, rng=None):
    """Prune a trained network to one FLOPs budget by each method and score each once on the test split.

    Parameters
    ----------
    net : Graph
        The trained dense network (not modified).
    splits : tuple
        ``(X_train, X_val, X_test, y_train, y_val, y_test)``.
    budget : float
        FLOPs budget (fraction of the dense FLOPs if at most 1).
    methods : sequence of str
        Among ``"group_lasso"``, ``"l1"``, ``"random"``, ``"scratch"``, ``"sensitivity"``.
    by : {"filters", "neurons"}, default "filters"
        Units pruned, for every method.
    layers : list of str, optional
        Layers pruned, for every method.
    dense_epochs : int, default 10
        Epochs the dense network was trained (``"scratch"`` trains
        ``dense_epochs + fine_tune_epochs``).
    fine_tune_epochs : int, default 5
        Fine-tuning after pruning, the same for every method (early
        stopping on the validation split).
    trial_epochs, lam0, grow, max_trials : int, float, float, int
        Group lasso's price search (see :func:`~structsparse.nn.prune_to_budget`).
    lr : float, default 0.05
        Learning rate for every training run.
    rng : None, int or Generator, default None
        One seed, given to every training run and to the random choice, so
        that every method sees the same shuffling (None or a Generator: the
        seed is drawn from it).

    Returns
    -------
    dict
        ``{method: BaselineResult}``; when the group lasso's price search
        meets no budget, its entry holds NaN and ``failed`` (the reason).
    """
    from .budget import prune_to_budget
    from .experiment import train_early_stopping

    X_tr, X_val, X_te, y_tr, y_val, y_te = splits
    rng = seed_from(rng)
    for m in methods:
        check_choice(m, "methods", ALL_METHODS, owner="compare_at_budget")
    dense_flops = flops(net)
    out = {}
    l1 = None
    for method in methods:
        if method == "group_lasso":
            try:
                res = prune_to_budget(net, X_tr, y_tr, flops=budget, by=by, layers=layers, lam0=lam0, grow=grow,
                                      max_trials=max_trials, epochs=trial_epochs, fine_tune_epochs=fine_tune_epochs,
                                      lr=lr, X_val=X_val, y_val=y_val, rng=rng)
            except ParameterError as exc:  # no price met the budget: reported, not hidden
                out[method] = BaselineResult(method, float("nan"), float("nan"), float("nan"), 0, failed=str(exc))
                continue
            p = res.net
        elif method in ("l1", "random", "sensitivity"):
            if method == "sensitivity":
                p = allocate_budget(net, X_val, y_val, budget, by=by, layers=layers)
            else:
                p = uniform_prune(net, budget, by=by, layers=layers, criterion=method, rng=rng)
            if method == "l1":
                l1 = p
            train_early_stopping(p, X_tr, y_tr, X_val, y_val, epochs=fine_tune_epochs, lr=lr, rng=rng)
        else:
            arch = l1 if l1 is not None else uniform_prune(net, budget, by=by, layers=layers, criterion="l1", rng=rng)
            p = reinitialize(arch, rng=rng)
            train_early_stopping(p, X_tr, y_tr, X_val, y_val, epochs=dense_epochs + fine_tune_epochs, lr=lr,
                                 rng=rng)
        out[method] = BaselineResult(method, p.score(X_te, y_te), p.score(X_val, y_val), flops(p) / dense_flops,
                                     p.n_params)
    return out
