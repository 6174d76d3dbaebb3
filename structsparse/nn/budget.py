"""Pruning to a FLOPs budget by bisecting the price of the group penalty.

Each trial copies the network, trains it with the group penalty at price
``lam`` (warmed up geometrically), removes the zero groups by surgery and
counts the FLOPs. ``lam`` grows by factors of ``grow`` until the budget is
met, then bisects (in log scale) between the last price that missed and the
first that met it. Training is stochastic, so FLOPs need not fall monotonically with
``lam``: of all trials that met the budget, the one closest to it wins (ties:
the more accurate), and its pruned network is fine-tuned without the penalty.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from .._validation import accepted_options, check_int, check_options, check_scalar
from ..exceptions import ParameterError, ParameterTypeError
from ._results import DictAccessMixin
from .analysis import count_params, flops, memory
from .groups import NetworkPenalty, check_penalty_kind, groups
from .network import Graph
from .recipe import make_recipe
from .surgery import prune
from .training import TrainHistory, check_labels, lam_warmup, train

__all__ = ["prune_to_budget", "prune_progressive", "min_flops", "PruneResult", "ProgressiveResult"]


@dataclass(frozen=True, eq=False, repr=False)
class PruneResult(DictAccessMixin):
    """The outcome of :func:`prune_to_budget`.

    Attributes
    ----------
    net : Graph
        The pruned (and fine-tuned) network.
    lam : float
        Price of the chosen trial.
    flops : int
        FLOPs per sample of ``net``.
    dense_flops : int
        FLOPs per sample of the dense network.
    budget : float
        The budget in FLOPs per sample.
    path : tuple of dict
        One row per trial, sorted by ``lam``: ``lam``, ``flops``, ``params``,
        ``memory``, ``kept``, ``val_acc`` and ``train_acc`` (before
        fine-tuning).
    history : TrainHistory
        The fine-tuning (no epochs when ``fine_tune_epochs=0``).
    best_epoch : int or None
        The fine-tuning epoch kept by early stopping on the validation split
        (-1: the weights before fine-tuning), None without validation data.
    recipe : Recipe
        The versioned recipe of the run (see :func:`~structsparse.nn.make_recipe`;
        write it with :meth:`Recipe.save <structsparse.nn.Recipe.save>`).
    epochs_run : int
        Epochs of all training runs (trials and fine-tuning).
    final_acc : float or None
        Test accuracy of ``net``, when an experiment scored the test split
        once at the end (:func:`~structsparse.nn.experiment.digits_pruning`);
        None from :func:`prune_to_budget` itself, which never sees a test split.
    """

    net: object
    lam: float
    flops: int
    dense_flops: int
    budget: float
    path: tuple = field(default=())
    history: TrainHistory = field(default_factory=TrainHistory)
    best_epoch: object = None
    recipe: dict = field(default_factory=dict)
    epochs_run: int = 0
    final_acc: object = None

    _absent_when_none = ("final_acc",)

    @property
    def flops_fraction(self):
        """``flops / dense_flops``."""
        return self.flops / self.dense_flops

    @property
    def chosen(self):
        """The row of :attr:`path` of the chosen trial (None when ``path`` does not hold it)."""
        return next((e for e in self.path if e["lam"] == self.lam), None)

    def __repr__(self):
        acc = "" if self.final_acc is None else f", final_acc={self.final_acc:.4f}"
        row = self.chosen
        val = float("nan") if row is None else row.get("val_acc", float("nan"))
        val = "" if val != val else f", val_acc={val:.4f}"
        return (f"PruneResult(flops={self.flops} ({self.flops_fraction:.3f} of dense; budget "
                f"{self.budget / self.dense_flops:.3f}), lam={self.lam:.3g}, trials={len(self.path)}{val}, "
                f"best_epoch={self.best_epoch}, epochs_run={self.epochs_run}{acc})")

    def plot(self, ax=None):
        """Accuracy against FLOPs over the trials of the price search, the chosen one marked.

        See :func:`structsparse.nn.plots.plot_pruning_path`.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plots import plot_pruning_path

        return plot_pruning_path(self, ax=ax)


@dataclass(frozen=True, eq=False, repr=False)
class ProgressiveResult(DictAccessMixin):
    """The outcome of :func:`prune_progressive`.

    Attributes
    ----------
    net : Graph
        The final pruned network.
    steps : tuple of dict
        One row per step: ``budget``, ``flops``, ``lam``, ``epochs_run``, ``val_acc``.
    epochs_run : int
        Epochs of all training runs of all steps.
    dense_flops : int
        FLOPs per sample of the dense network.
    recipe : dict
        The recipe of the whole run (its kept indices refer to the dense network).
    """

    net: object
    steps: tuple
    epochs_run: int
    dense_flops: int
    recipe: dict = field(default_factory=dict)

    def __repr__(self):
        fl = ", ".join(f"{s['flops'] / self.dense_flops:.3f}" for s in self.steps)
        return f"ProgressiveResult(steps={len(self.steps)}, flops_fractions=[{fl}], epochs_run={self.epochs_run})"


def min_flops(net, by="filters", min_keep=1, layers=None):
    """FLOPs of ``net`` with every grouped layer cut to ``min_keep`` units (the least a budget can ask).

    Works on a copy: in each group map all groups after the first
    ``min_keep`` are zeroed, then the copy is pruned by surgery.

    Parameters
    ----------
    net : Graph
        The built network (not modified).
    by : {"neurons", "filters", "channels", "branches", "connections"}, default "filters"
        Kind of groups (see :func:`structsparse.nn.groups`).
    min_keep : int, default 1
        Units every grouped layer keeps.
    layers : list of str, optional
        Restrict to these layers' (or blocks') groups; others stay whole.

    Returns
    -------
    int
        FLOPs per sample of the cut-down network.
    """
    trial = net.copy()
    for m in groups(trial, by=by, layers=layers):
        v = m.gather(trial)
        g = m.groups
        for k in range(min(min_keep, g.n_groups), g.n_groups):
            v[g.indices[g.ptr[k]:g.ptr[k + 1]]] = 0.0
        m.scatter(trial, v)
    return flops(prune(trial, 0.0, min_keep))


def prune_to_budget(net, X, y, flops=0.25, by="filters", penalty="group_lasso", lam0=0.05, grow=3.0,
                    max_trials=8, epochs=8, fine_tune_epochs=8, lr=0.02, batch_size=64, optimizer="sgd",
                    min_keep=1, warmup_fraction=0.3, X_val=None, y_val=None, rng=None, progress=False,
                    verbose=False, layers=None, weights="flops", teacher=None, distill=0.5, temperature=4.0,
                    round_to=None):
    """Prune ``net`` until it costs at most ``flops`` FLOPs per sample, then fine-tune.

    Parameters
    ----------
    net : Graph
        A trained dense network (not modified).
    X, y : training data.
    flops : float
        Budget: a fraction of the dense FLOPs when in (0, 1], an absolute FLOP count when > 1.
    by : str
        Kind of groups (see :func:`structsparse.nn.groups`).
    penalty : {"group_lasso", "sparse_group_lasso", "group_nuclear"}, default "group_lasso"
        The penalty kind, by ``penalty.name`` (the old ``"sparse_group"`` is
        accepted for one release, with a DeprecationWarning).
    lam0, grow, max_trials :
        First price, growth factor while the budget is missed, total number of trials.
    epochs, fine_tune_epochs, lr, batch_size, optimizer :
        Training of each trial and of the final fine-tuning.
    min_keep : int
        Units every layer keeps; a budget below what this allows is an error.
    warmup_fraction : float
        Fraction of each trial's steps over which ``lam`` warms up.
    X_val, y_val : optional
        The validation split: it ranks the trials that meet the budget and
        stops the fine-tuning early (the weights of the best validation
        epoch are kept; ``best_epoch`` says which, -1 for none). Never pass
        the test split here: the model is selected on it.
    rng : None, int or Generator, default None
        Source of the shuffling of every trial's training and of the
        fine-tuning: None draws fresh entropy, an int gives each trial the
        same shuffling (and the whole search is reproducible).
    progress : bool, default False
        Show tqdm progress bars over the epochs of each training run.
    verbose : bool, default False
        Print the FLOPs and validation accuracy of each trial.
    layers : list of str, optional
        Penalize only these layers' groups.
    weights : str
        Group weights (default ``"flops"``: ``lam`` is a price per FLOP saved).
    teacher : Graph, optional
        Distil from this network in every trial and in the fine-tuning
        (see :func:`~structsparse.nn.train`).
    distill, temperature : float
        Weight of the distillation term and its temperature (with ``teacher``).
    round_to : int or dict, optional
        Hardware-aware rounding of the chosen trial's kept counts before the
        fine-tuning (:func:`~structsparse.nn.round_prune`, Torch-Pruning's
        ``round_to``): every pruned layer keeps a multiple of ``round_to``
        units (a dict gives one per layer), the extra units chosen by the
        trial's group norms, the budget still met. ``by`` must be
        ``"filters"`` or ``"neurons"``.

    Returns
    -------
    PruneResult
        ``net`` (pruned and fine-tuned), ``lam``, ``flops``, ``dense_flops``,
        ``budget``, ``best_epoch``, ``path`` (one row per trial: lam, flops, params, memory,
        kept units, val accuracy before fine-tuning), ``history`` (fine-tuning), ``recipe`` (the
        versioned recipe of the run, see :func:`~structsparse.nn.make_recipe`; write it with
        :meth:`Recipe.save <structsparse.nn.Recipe.save>`), ``epochs_run``; ``.plot()`` draws the trials.
    """
    owner = "prune_to_budget"
    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of {owner} must be a Graph. Got {type(net).__name__}.")
    X = net.check_input(X, "X", owner)
    y = check_labels(y, X.shape[0], net.output_shape[-1], owner)
    budget = check_scalar(flops, "flops", low=0, low_inclusive=False, owner=owner)
    penalty = check_penalty_kind(penalty, "penalty", owner, allow_callable=False)
    min_keep = check_int(min_keep, "min_keep", low=1, owner=owner)
    max_trials = check_int(max_trials, "max_trials", low=1, owner=owner)
    grow = check_scalar(grow, "grow", low=1, low_inclusive=False, owner=owner)
    lam0 = check_scalar(lam0, "lam0", low=0, low_inclusive=False, owner=owner)
    from .analysis import flops as count_flops

    dense_flops = count_flops(net)
    budget_abs = budget * dense_flops if budget <= 1 else budget
    floor = min_flops(net, by, min_keep, layers)
    if budget_abs < floor:
        raise ParameterError(
            f"The 'flops' budget of {owner} ({budget_abs:.0f} FLOPs) is below what min_keep={min_keep} allows: "
            f"at least {floor} FLOPs (dense: {dense_flops}). Raise the budget or lower min_keep."
        )
    kd = {} if teacher is None else {"teacher": teacher, "distill": distill, "temperature": temperature}
    include_bias = penalty != "group_nuclear"
    n_steps = epochs * int(np.ceil(X.shape[0] / batch_size))
    if round_to is not None and by not in ("filters", "neurons"):
        raise ParameterError(f"The 'round_to' parameter of {owner} needs by='filters' or 'neurons'. Got by={by!r}.")
    path = []
    trials = {}
    penalized = {}  # the trials before surgery, for rounding (their group norms choose the extra units)

    def run(lam):
        trial = net.copy()
        maps = groups(trial, by=by, include_bias=include_bias, layers=layers,
                      weights=weights if by in ("neurons", "filters") else "sqrt_size")
        pen = NetworkPenalty(maps, kind=penalty, lam=lam)
        train(trial, X, y, epochs=epochs, lr=lr, batch_size=batch_size, penalty=pen,
              schedule=lam_warmup(lam, max(1, int(warmup_fraction * n_steps))), optimizer=optimizer,
              rng=rng, progress=progress, **kd)
        pruned = prune(trial, 0.0, min_keep)
        f = count_flops(pruned)
        entry = {"lam": lam, "flops": int(f), "params": count_params(pruned),
                 "memory": memory(pruned, batch=1).total, "kept": pruned.pruning["kept"],
                 "val_acc": pruned.score(X_val, y_val) if X_val is not None else float("nan"),
                 "train_acc": pruned.score(X, y)}
        path.append(entry)
        trials[lam] = pruned
        if round_to is not None:
            penalized[lam] = trial
        if verbose:
            print(f"  lam={lam:.3g}: FLOPs {f} ({f / dense_flops:.3f} of dense), val acc {entry['val_acc']:.4f}")
        return f <= budget_abs

    lo, hi = None, None
    lam = lam0
    used = 0
    while used < max_trials:
        ok = run(lam)
        used += 1
        if ok:
            hi = lam
            break
        lo = lam
        lam *= grow
    if hi is None:
        raise ParameterError(
            f"{owner}: no price up to lam={lo:.3g} met the budget of {budget_abs:.0f} FLOPs in {max_trials} "
            f"trials (best {min(e['flops'] for e in path)}); raise lam0, grow or max_trials."
        )
    while used < max_trials and lo is not None and hi / lo > 1.05:
        mid = float(np.sqrt(lo * hi))
        if run(mid):
            hi = mid
        else:
            lo = mid
        used += 1
    # training is stochastic, so the FLOPs are not monotone in lam: of the trials that met the budget,
    # keep the one closest to it (the most capacity left), then the more accurate
    feasible = [e for e in path if e["flops"] <= budget_abs]
    score = "val_acc" if X_val is not None else "train_acc"
    chosen = max(feasible, key=lambda e: (e["flops"], e[score], -e["lam"]))
    hi = chosen["lam"]
    best = trials[hi]
    if round_to is not None:
        from ._rounding import round_prune

        start = {k: v[0] for k, v in best.pruning["kept"].items()}
        best = round_prune(penalized[hi], budget_abs, round_to, layers=layers, by=by, score="l2", start=start)
    history, best_epoch = TrainHistory(), None
    if fine_tune_epochs:
        # early stopping on the validation split only: keep the weights of the best validation epoch
        snap = {"acc": best.score(X_val, y_val) if X_val is not None else -np.inf, "epoch": -1,
                "params": _snapshot(best)}

        def keep_best(epoch, net, info):
            if X_val is not None and info["val_acc"] > snap["acc"]:
                snap.update(acc=info["val_acc"], epoch=epoch, params=_snapshot(net))
            return False

        history = train(best, X, y, epochs=fine_tune_epochs, lr=lr, batch_size=batch_size, optimizer=optimizer,
                        rng=rng, progress=progress, X_val=X_val, y_val=y_val,
                        callback=keep_best if X_val is not None else None, **kd)
        if X_val is not None:
            _restore(best, snap["params"])
            best_epoch = snap["epoch"]
            history = replace(history, best_epoch=best_epoch)
    best.pruning.update({"budget": budget_abs, "lam": hi, "best_epoch": best_epoch, "by": by, "penalty": penalty,
                         "dense_flops": int(dense_flops), "flops": int(count_flops(best))})
    hyper = {"function": owner, "flops": flops, "by": by, "penalty": penalty, "lam0": lam0, "grow": grow,
             "max_trials": max_trials, "epochs": epochs, "fine_tune_epochs": fine_tune_epochs, "lr": lr,
             "batch_size": batch_size, "optimizer": optimizer, "min_keep": min_keep,
             "warmup_fraction": warmup_fraction, "rng": rng if isinstance(rng, (int, np.integer)) else repr(rng),
             "layers": layers, "weights": weights if isinstance(weights, (str, type(None))) else repr(weights),
             "chosen_lam": hi, "distill": distill if teacher is not None else None,
             "temperature": temperature if teacher is not None else None, "round_to": round_to,
             "epochs_run": len(path) * epochs + history.epochs}
    metrics = {"flops": int(count_flops(best)), "dense_flops": int(dense_flops), "budget": float(budget_abs),
               "val_acc": float(best.score(X_val, y_val)) if X_val is not None else None,
               "train_acc": float(best.score(X, y)), "best_epoch": best_epoch,
               "trials": [{"lam": e["lam"], "flops": e["flops"], "val_acc": e["val_acc"]} for e in path]}
    recipe = make_recipe(net, best, data={"train": (X, y), "validation": (X_val, y_val)}, hyperparameters=hyper,
                         metrics=metrics)
    return PruneResult(net=best, lam=hi, flops=int(count_flops(best)), dense_flops=int(dense_flops),
                       budget=float(budget_abs), path=tuple(sorted(path, key=lambda e: e["lam"])), history=history,
                       best_epoch=best_epoch, recipe=recipe, epochs_run=len(path) * epochs + history.epochs)


def _snapshot(net):
    return [({k: v.copy() for k, v in n.layer.params.items()}, {k: v.copy() for k, v in n.layer.state.items()})
            for n in net.nodes]


def _restore(net, snap):
    for n, (params, state) in zip(net.nodes, snap):
        n.layer.params.update({k: v.copy() for k, v in params.items()})
        n.layer.state.update({k: v.copy() for k, v in state.items()})


def prune_progressive(net, X, y, budgets=(0.5, 0.35, 0.25), epochs_per_step=4, X_val=None, y_val=None,
                      trial_epochs=None, teacher=None, distill=0.5, temperature=4.0, rng=None, verbose=False,
                      **kwargs):
    """Prune in steps down a sequence of FLOPs budgets, fine-tuning after each step.

    Step ``k`` prunes the network of step ``k - 1`` with :func:`prune_to_budget`
    to ``budgets[k]`` of the *dense* network's FLOPs, then fine-tunes it for
    ``epochs_per_step`` epochs (early stopping on the validation split), with
    knowledge distillation from ``teacher`` when given.

    Parameters
    ----------
    net : Graph
        A trained dense network (not modified).
    X, y : ndarray
        Training data.
    budgets : sequence of float, default (0.5, 0.35, 0.25)
        Decreasing FLOPs budgets, fractions (<= 1) of the dense network's FLOPs.
    epochs_per_step : int, default 4
        Fine-tuning epochs after each step.
    X_val, y_val : ndarray, optional
        Validation split (ranks each step's trials, stops each fine-tuning early).
    trial_epochs : int, optional
        Epochs of each penalized trial (default: ``epochs_per_step``).
    teacher : Graph, optional
        Distil from this network (usually the dense one) in every training run.
    distill, temperature : float
        Distillation weight and temperature (with ``teacher``).
    rng : None, int or Generator, default None
        Source of the shuffling of the training runs (None: fresh entropy;
        an int: a reproducible run).
    verbose : bool, default False
        Print each step.
    **kwargs
        Passed to :func:`prune_to_budget` (``lr``, ``lam0``, ``grow``,
        ``max_trials``, ``by``, ``layers``, ``min_keep``, ``batch_size``...).

    Returns
    -------
    ProgressiveResult
        ``net`` (final pruned network), ``steps`` (per step: budget, flops,
        val_acc, lam, epochs_run), ``epochs_run`` (all epochs of all
        training runs), ``dense_flops``, ``recipe`` (whose kept indices refer
        to the dense ``net``).
    """
    owner = "prune_progressive"
    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of {owner} must be a Graph. Got {type(net).__name__}.")
    try:
        budgets = [float(b) for b in budgets]
    except (TypeError, ValueError):
        raise ParameterError(f"The 'budgets' parameter of {owner} must be a sequence of numbers. "
                             f"Got {budgets!r}.") from None
    if not budgets or any(not 0 < b <= 1 for b in budgets) or any(b2 >= b1 for b1, b2 in zip(budgets, budgets[1:])):
        raise ParameterError(f"The 'budgets' parameter of {owner} must be strictly decreasing fractions in (0, 1]. "
                             f"Got {budgets}.")
    epochs_per_step = check_int(epochs_per_step, "epochs_per_step", low=0, owner=owner)
    trial_epochs = epochs_per_step if trial_epochs is None else check_int(trial_epochs, "trial_epochs", low=1,
                                                                          owner=owner)
    for bad in ("flops", "fine_tune_epochs", "epochs"):
        if bad in kwargs:
            raise ParameterError(f"{owner}: pass 'budgets', 'epochs_per_step' and 'trial_epochs', not {bad!r}.")
    check_options(owner, kwargs, accepted_options(prune_to_budget, exclude=(
        "net", "X", "y", "X_val", "y_val", "teacher", "distill", "temperature", "rng", "verbose")),
        target="prune_to_budget")
    from .analysis import flops as count_flops

    dense_flops = count_flops(net)
    current, steps, total = net, [], 0
    for b in budgets:
        res = prune_to_budget(current, X, y, flops=b * dense_flops if b * dense_flops > 1 else b,
                              epochs=trial_epochs, fine_tune_epochs=epochs_per_step, X_val=X_val, y_val=y_val,
                              teacher=teacher, distill=distill, temperature=temperature, rng=rng, verbose=verbose,
                              **kwargs)
        current = res.net
        total += res.epochs_run
        steps.append({"budget": b, "flops": int(res.flops), "lam": res.lam, "epochs_run": res.epochs_run,
                      "val_acc": float(current.score(X_val, y_val)) if X_val is not None else None})
        if verbose:
            print(f"step to {b:g}: FLOPs {res.flops} ({res.flops / dense_flops:.3f}), "
                  f"val acc {steps[-1]['val_acc']}")
    hyper = {"function": owner, "budgets": budgets, "epochs_per_step": epochs_per_step,
             "trial_epochs": trial_epochs, "distill": distill if teacher is not None else None,
             "temperature": temperature if teacher is not None else None,
             "rng": rng if isinstance(rng, (int, np.integer)) else repr(rng),
             **{k: (v if isinstance(v, (int, float, str, list, type(None))) else repr(v)) for k, v in kwargs.items()}}
    recipe = make_recipe(net, current, data={"train": (X, y), "validation": (X_val, y_val)}, hyperparameters=hyper,
                         metrics={"steps": steps, "epochs_run": total, "flops": int(count_flops(current)),
                                  "dense_flops": int(dense_flops)})
    return ProgressiveResult(net=current, steps=tuple(steps), epochs_run=total, dense_flops=int(dense_flops),
                             recipe=recipe)
