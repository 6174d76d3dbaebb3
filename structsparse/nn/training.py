"""Training: softmax cross-entropy, SGD with momentum or Adam, and a proximal step.

After every gradient update, when a :class:`~structsparse.nn.NetworkPenalty`
is given, the parameters it covers are replaced by the prox of
``lr * lam_t * Omega`` (proximal gradient: the non-smooth group penalty is
never differentiated, so groups reach exact zeros). ``lam_t`` comes from a
schedule (any callable ``step -> lam``); ``lam_warmup`` (the solver layer's
:func:`structsparse.lam_warmup`) ramps it up geometrically so that the
network first learns and then sparsifies.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_choice, check_int, check_rng, check_scalar
from ..exceptions import ParameterError, ParameterTypeError, ShapeError
from ..solvers.schedule import lam_warmup  # the solver layer's warm-up, re-exported as nn.lam_warmup
from ._results import DictAccessMixin, legacy_callback

__all__ = ["softmax_cross_entropy", "distillation_loss", "train", "TrainHistory", "lam_warmup", "check_labels",
           "accuracy"]

_HISTORY_KEYS = ("loss", "train_acc", "val_acc", "lam", "zero_groups", "time")


def _frozen_array(values):
    arr = np.array(values, dtype=np.float64)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False, repr=False)
class TrainHistory(DictAccessMixin):
    """What :func:`train` did, epoch by epoch (one entry per epoch run).

    Attributes
    ----------
    loss : ndarray
        Mean training loss of each epoch (cross-entropy, or the distillation loss with a teacher).
    train_acc : ndarray
        Training accuracy of each epoch, measured on the minibatches as they were seen.
    val_acc : ndarray
        Validation accuracy after each epoch (NaN without validation data).
    lam : ndarray
        Penalty price of the last step of each epoch (0 without a penalty).
    zero_groups : ndarray
        Fraction of the penalty's groups at exactly zero after each epoch (0 without a penalty).
    time : ndarray
        Seconds since the start of training, at the end of each epoch.
    stopped : bool
        True when the callback stopped the training early.
    best_epoch : int or None
        With early stopping (:func:`~structsparse.nn.experiment.train_early_stopping`,
        :func:`~structsparse.nn.prune_to_budget`'s fine-tuning): the epoch whose weights were kept, -1 for the
        weights before training; None otherwise.
    """

    loss: np.ndarray = field(default_factory=lambda: _frozen_array([]))
    train_acc: np.ndarray = field(default_factory=lambda: _frozen_array([]))
    val_acc: np.ndarray = field(default_factory=lambda: _frozen_array([]))
    lam: np.ndarray = field(default_factory=lambda: _frozen_array([]))
    zero_groups: np.ndarray = field(default_factory=lambda: _frozen_array([]))
    time: np.ndarray = field(default_factory=lambda: _frozen_array([]))
    stopped: bool = False
    best_epoch: object = None

    _absent_when_none = ("best_epoch",)

    @classmethod
    def from_lists(cls, hist, stopped=False, best_epoch=None):
        """A history from a dict of per-epoch lists (the keys of the attributes above).

        Parameters
        ----------
        hist : dict
            ``{"loss": [...], "train_acc": [...], ...}``; missing keys give empty arrays.
        stopped : bool, default False
            Whether a callback stopped the training.
        best_epoch : int or None, default None
            The epoch whose weights were kept, with early stopping.

        Returns
        -------
        TrainHistory
        """
        return cls(**{k: _frozen_array(hist.get(k, [])) for k in _HISTORY_KEYS}, stopped=bool(stopped),
                   best_epoch=best_epoch)

    @property
    def epochs(self):
        """Number of epochs run."""
        return len(self.loss)

    def __len__(self):
        return self.epochs

    def __repr__(self):
        if not self.epochs:
            return "TrainHistory(epochs=0)"
        parts = [f"epochs={self.epochs}", f"loss={self.loss[-1]:.4g}", f"train_acc={self.train_acc[-1]:.4f}"]
        if not np.isnan(self.val_acc[-1]):
            parts.append(f"val_acc={self.val_acc[-1]:.4f}")
        if self.zero_groups[-1]:
            parts.append(f"zero_groups={self.zero_groups[-1]:.3f}")
        if self.best_epoch is not None:
            parts.append(f"best_epoch={self.best_epoch}")
        if self.stopped:
            parts.append("stopped=True")
        parts.append(f"time={self.time[-1]:.2f}s")
        return f"TrainHistory({', '.join(parts)})"

    def plot(self, ax=None):
        """Loss and accuracies against the epoch; see :func:`structsparse.nn.plots.plot_training`.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from .plots import plot_training

        return plot_training(self, ax=ax)


def check_labels(y, n_samples, n_classes, owner):
    """Integer labels in ``[0, n_classes)``, one per sample."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n_samples:
        raise ShapeError(f"The 'y' parameter of {owner} must have shape ({n_samples},) to match X. Got {y.shape}.")
    if y.size and (y.dtype.kind not in "iu" and not np.all(np.mod(y, 1) == 0)):
        raise ParameterError(f"The 'y' parameter of {owner} must hold integer class labels.")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ParameterError(
            f"The 'y' parameter of {owner} must hold labels in [0, {n_classes - 1}] (the network has "
            f"{n_classes} outputs). Got labels in [{y.min()}, {y.max()}]."
        )
    return y


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of ``softmax(logits)`` against labels ``y`` and its gradient.

    Parameters
    ----------
    logits : ndarray, shape (n_samples, n_classes)
        Network outputs before the softmax (not checked).
    y : ndarray of int, shape (n_samples,)
        Class labels in ``[0, n_classes)`` (not checked).

    Returns
    -------
    loss : float
        Mean over samples of ``-log softmax(logits)[i, y[i]]``.
    grad : ndarray, shape (n_samples, n_classes)
        Gradient of ``loss`` with respect to ``logits``,
        ``(softmax(logits) - onehot(y)) / n_samples``, in the dtype of ``logits``.
    """
    z = logits - logits.max(axis=1, keepdims=True)
    ez = np.exp(z)
    s = ez.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = float(np.mean(np.log(s[:, 0]) - z[np.arange(n), y]))
    grad = ez / s
    grad[np.arange(n), y] -= 1.0
    return loss, (grad / n).astype(logits.dtype, copy=False)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def distillation_loss(logits, y, teacher_logits, alpha=0.5, temperature=4.0):
    """Knowledge-distillation loss (Hinton et al. 2015) and its gradient with respect to ``logits``.

    ``(1 - alpha) * CE(softmax(z), y) + alpha * T**2 * KL(softmax(t / T) || softmax(z / T))``,
    averaged over samples; the ``T**2`` keeps the soft term's gradient on the
    scale of the hard one. Its gradient is
    ``[(1 - alpha) * (softmax(z) - onehot(y)) + alpha * T * (softmax(z / T) - softmax(t / T))] / n``.

    Parameters
    ----------
    logits : ndarray, shape (n_samples, n_classes)
        Student outputs ``z``.
    y : ndarray of int, shape (n_samples,)
        Labels.
    teacher_logits : ndarray, shape (n_samples, n_classes)
        Teacher outputs ``t`` (constants).
    alpha : float, default 0.5
        Weight of the distillation term, in [0, 1].
    temperature : float, default 4.0
        Softening temperature ``T`` > 0.

    Returns
    -------
    loss : float
    grad : ndarray, shape (n_samples, n_classes)
    """
    ce, g_hard = softmax_cross_entropy(logits, y)
    if alpha == 0:
        return ce, g_hard
    T = float(temperature)
    n = logits.shape[0]
    z = logits.astype(np.float64) / T
    t = np.asarray(teacher_logits, dtype=np.float64) / T
    p_t = _softmax(t)
    log_p_s = z - z.max(axis=1, keepdims=True)
    log_p_s = log_p_s - np.log(np.exp(log_p_s).sum(axis=1, keepdims=True))
    log_p_t = np.log(np.maximum(p_t, 1e-300))
    kl = float(np.sum(p_t * (log_p_t - log_p_s)) / n)
    g_soft = T * (np.exp(log_p_s) - p_t) / n
    loss = (1 - alpha) * ce + alpha * T * T * kl
    grad = (1 - alpha) * g_hard.astype(np.float64) + alpha * g_soft
    return loss, grad.astype(logits.dtype, copy=False)


def accuracy(net, X, y):
    """Fraction of correct predictions.

    Parameters
    ----------
    net : Graph
        A built network; the prediction is the arg-max of its outputs.
    X : array_like, shape (n_samples, *input_shape)
        Inputs, in the network's original input shape.
    y : array_like of int, shape (n_samples,)
        True class labels.

    Returns
    -------
    float
        Accuracy in [0, 1].
    """
    pred = net.predict(X)
    y = np.asarray(y)
    if y.shape != pred.shape:
        raise ShapeError(f"The 'y' parameter of accuracy must have shape {pred.shape} (one label per sample of X). "
                         f"Got {y.shape}.")
    return float(np.mean(pred == y))


class _SGD:
    def __init__(self, lr, momentum):
        self.lr, self.momentum, self.v = lr, momentum, {}

    def step(self, net):
        for node, name, p in net.parameters():
            g = net.node(node).layer.grads[name]
            key = (node, name)
            if self.momentum:
                v = self.v.get(key)
                v = g.copy() if v is None else self.momentum * v + g
                self.v[key] = v
                g = v
            p -= (self.lr * g).astype(p.dtype, copy=False)


class _Adam:
    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.m, self.v, self.t = lr, b1, b2, eps, {}, {}, 0

    def step(self, net):
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for node, name, p in net.parameters():
            g = net.node(node).layer.grads[name]
            key = (node, name)
            m = self.m.get(key, np.zeros_like(p))
            v = self.v.get(key, np.zeros_like(p))
            m = self.b1 * m + (1 - self.b1) * g
            v = self.b2 * v + (1 - self.b2) * g * g
            self.m[key], self.v[key] = m, v
            p -= (self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)).astype(p.dtype, copy=False)


def train(net, X, y, epochs=10, lr=0.01, batch_size=64, penalty=None, schedule=None, optimizer="sgd",
          momentum=0.9, rng=None, progress=True, X_val=None, y_val=None, callback=None, threads=1, teacher=None,
          distill=0.5, temperature=4.0):
    """Train ``net`` in place by minibatch proximal gradient on cross-entropy + penalty.

    Parameters
    ----------
    net : Graph
    X : ndarray, shape (n_samples, *net input shape)
    y : ndarray of int, shape (n_samples,)
        Labels in ``[0, n_outputs)``.
    epochs, batch_size : int
    lr : float
        Learning rate; the prox step uses ``lr * lam_t``.
    penalty : NetworkPenalty, optional
        Structured penalty handled by its prox after each update.
    schedule : callable, optional
        ``step -> lam_t`` (e.g. :func:`lam_warmup`); default: ``penalty.lam`` throughout.
    optimizer : {"sgd", "adam"}
    momentum : float
        Heavy-ball momentum for SGD.
    rng : None, int or Generator, default None
        Source of the minibatch shuffling: None draws fresh entropy, an int
        gives the same shuffling every call.
    progress : bool
        Show a tqdm progress bar over epochs.
    X_val, y_val : optional
        Validation data scored after each epoch.
    callback : callable, optional
        ``callback(k, x, info) -> bool`` after every epoch, as in the solvers:
        ``k`` the epoch (from 0), ``x`` the network (being trained in place),
        ``info`` a dict with ``history`` (the per-epoch lists so far: ``loss``,
        ``train_acc``, ``val_acc``, ``lam``, ``zero_groups``, ``time``) and this
        epoch's ``epoch``, ``loss``, ``train_acc``, ``val_acc``, ``lam``,
        ``zero_groups`` and ``time``. Returning True stops training
        (``TrainHistory.stopped``). The old form ``callback(epoch, history)``
        still works for one release, with a DeprecationWarning.
    threads : int or None
        BLAS threads while training (default 1: the matrices are small and a
        shared machine makes multi-threaded BLAS spin; None leaves it alone).
    teacher : Graph, optional
        A trained network with the same inputs and classes: the loss becomes
        the distillation loss (:func:`distillation_loss`) against its
        logits on each minibatch (the teacher is not modified).
    distill : float, default 0.5
        With ``teacher``: weight ``alpha`` of the distillation term, in [0, 1].
    temperature : float, default 4.0
        With ``teacher``: softening temperature (> 0).

    Returns
    -------
    TrainHistory
        Per-epoch arrays ``loss``, ``train_acc``, ``val_acc``, ``lam``,
        ``zero_groups``, ``time``, and ``stopped``.
    """
    owner = "train"
    from .network import Graph

    if not isinstance(net, Graph):
        raise ParameterTypeError(f"The 'net' parameter of {owner} must be a structsparse.nn Graph. "
                                 f"Got {type(net).__name__}.")
    callback = legacy_callback(callback, owner)
    X = net.check_input(X, "X", owner)
    n_out = net.output_shape[-1]
    if X.shape[0] == 0:
        raise ShapeError(f"The 'X' parameter of {owner} holds no sample.")
    y = check_labels(y, X.shape[0], n_out, owner)
    epochs = check_int(epochs, "epochs", low=0, owner=owner)
    if threads is not None:
        threads = check_int(threads, "threads", low=1, owner=owner)
    if (X_val is None) != (y_val is None):
        raise ParameterError(f"The 'X_val' and 'y_val' parameters of {owner} go together; give both or neither.")
    batch_size = check_int(batch_size, "batch_size", low=1, owner=owner)
    lr = check_scalar(lr, "lr", low=0, low_inclusive=False, owner=owner)
    momentum = check_scalar(momentum, "momentum", low=0, high=1, high_inclusive=False, owner=owner)
    check_choice(optimizer, "optimizer", ("sgd", "adam"), owner=owner)
    rng = check_rng(rng)
    if schedule is not None and not callable(schedule):
        raise ParameterError(f"The 'schedule' parameter of train must be a callable step -> lam. Got {schedule!r}.")
    if penalty is not None and not hasattr(penalty, "prox_step"):
        raise ParameterError("The 'penalty' parameter of train must be a NetworkPenalty (see structsparse.nn.penalty).")
    for node, name, p in net.parameters():
        if not np.all(np.isfinite(p)):
            raise ParameterError(f"The network's parameter {node}.{name} contains NaN or inf; cannot train.")
    if X_val is not None:
        X_val = net.check_input(X_val, "X_val", owner)
        y_val = check_labels(y_val, X_val.shape[0], n_out, owner)
    if teacher is not None:
        if not hasattr(teacher, "forward") or not hasattr(teacher, "output_shape"):
            raise TypeError(f"The 'teacher' parameter of train must be a structsparse.nn Graph. "
                            f"Got {type(teacher).__name__}.")
        if teacher.output_shape[-1] != n_out:
            raise ShapeError(f"The 'teacher' parameter of train has {teacher.output_shape[-1]} outputs; the network "
                             f"has {n_out}.")
        teacher.check_input(X[:1], "X", "train (teacher)")
        distill = check_scalar(distill, "distill", low=0, high=1, owner=owner)
        temperature = check_scalar(temperature, "temperature", low=0, low_inclusive=False, owner=owner)
    kd = None if teacher is None else (teacher, distill, temperature)
    opt = _SGD(lr, momentum) if optimizer == "sgd" else _Adam(lr)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(threads):
        return _loop(net, X, y, epochs, batch_size, lr, penalty, schedule, opt, rng, progress, X_val, y_val,
                     callback, kd)


def _loop(net, X, y, epochs, batch_size, lr, penalty, schedule, opt, rng, progress, X_val, y_val, callback,
          kd=None):
    hist = {k: [] for k in _HISTORY_KEYS}
    stopped = False
    n = X.shape[0]
    step = 0
    bar = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(bar, desc="train", unit="epoch", leave=False)
    start = time.perf_counter()
    for epoch in bar:
        order = rng.permutation(n)
        total, correct = 0.0, 0
        lam_t = 0.0
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            logits = net.forward(X[idx], train=True, check=False)
            if kd is None:
                loss, dlogits = softmax_cross_entropy(logits, y[idx])
            else:
                loss, dlogits = distillation_loss(logits, y[idx], kd[0].forward(X[idx], check=False), kd[1], kd[2])
            if not np.isfinite(loss):
                raise ParameterError(f"train: the loss became {loss} at epoch {epoch}; lower 'lr'.")
            net.backward(dlogits)
            opt.step(net)
            if penalty is not None:
                lam_t = schedule(step) if schedule is not None else penalty.lam
                penalty.prox_step(net, lr, lam_t)
            total += loss * len(idx)
            correct += int(np.sum(logits.argmax(axis=1) == y[idx]))
            step += 1
        hist["loss"].append(total / max(n, 1))
        hist["train_acc"].append(correct / max(n, 1))
        hist["lam"].append(lam_t)
        hist["zero_groups"].append(penalty.zero_fraction(net) if penalty is not None else 0.0)
        hist["val_acc"].append(net.score(X_val, y_val) if X_val is not None else np.nan)
        hist["time"].append(time.perf_counter() - start)
        if progress:
            bar.set_postfix(loss=f"{hist['loss'][-1]:.3f}", acc=f"{hist['train_acc'][-1]:.3f}")
        if callback is not None:
            info = {"history": hist, "epoch": epoch, **{k: hist[k][-1] for k in _HISTORY_KEYS}}
            if callback(epoch, net, info):
                stopped = True
                break
    return TrainHistory.from_lists(hist, stopped=stopped)
