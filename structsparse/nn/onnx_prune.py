"""Prune an ONNX model on the user's data and write a smaller ONNX model.

:func:`prune_onnx` imports the model (:func:`~structsparse.nn.from_onnx`),
splits the user's data into training and validation parts (stratified),
trains with the group penalty at increasing prices until the FLOPs budget is
met (:func:`~structsparse.nn.prune_to_budget`: the validation part ranks the
trials and stops the fine-tuning early), removes the zero groups physically
and writes the pruned network with :func:`~structsparse.nn.to_onnx`.
onnxruntime, when installed, then runs the written file on the validation
inputs and its outputs are compared with ``structsparse.nn``'s.
"""

import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import check_int, check_scalar
from ..exceptions import ParameterError, ShapeError
from ._results import seed_from
from .analysis import count_params, flops
from .budget import prune_to_budget
from .network import Graph
from .onnx_io import _as_model, from_onnx, nchw, to_onnx

__all__ = ["prune_onnx", "OnnxPruneResult", "load_data", "check_writable"]


@dataclass(frozen=True)
class OnnxPruneResult:
    """What :func:`prune_onnx` did.

    Attributes
    ----------
    path : Path
        The pruned model written.
    dense_flops, flops : int
        FLOPs per sample before and after.
    dense_params, params : int
        Parameters before and after.
    dense_bytes, bytes : int
        Size of the dense network written by the same exporter, and of the
        pruned file.
    dense_val_acc, val_acc : float
        Accuracy on the validation part before pruning and after fine-tuning.
    lam : float
        Price of the group penalty that met the budget.
    max_abs_diff : float
        Largest difference between onnxruntime on the written file and
        ``structsparse.nn`` on the pruned network (NaN without onnxruntime).
    kept : dict
        ``{layer: [kept, total]}`` units.
    net : Graph
        The pruned network.
    recipe : Recipe
        The versioned recipe of the run (source = the imported model; see
        :func:`~structsparse.nn.make_recipe`).
    """

    path: Path
    dense_flops: int
    flops: int
    dense_params: int
    params: int
    dense_bytes: int
    bytes: int
    dense_val_acc: float
    val_acc: float
    lam: float
    max_abs_diff: float
    kept: dict = field(repr=False)
    net: Graph = field(repr=False)
    recipe: object = field(repr=False, default=None)  # a Recipe

    def __repr__(self):
        return (f"OnnxPruneResult(flops={self.flops}/{self.dense_flops}, params={self.params}/{self.dense_params}, "
                f"val_acc={self.val_acc:.4f} (dense {self.dense_val_acc:.4f}), path={str(self.path)!r})")


def check_writable(path, suffix=".onnx", owner="prune_onnx"):
    """Fail early (before any training) when ``path`` cannot be written.

    Parameters
    ----------
    path : str or Path
        The output file.
    suffix : str, default ".onnx"
        Required file suffix.
    owner : str
        Name used in error messages.

    Returns
    -------
    Path
    """
    path = Path(path)
    if path.suffix != suffix:
        raise ParameterError(f"The 'out' parameter of {owner} must end in {suffix}. Got {str(path)!r}.")
    if path.is_dir():
        raise ParameterError(f"The 'out' parameter of {owner} is a folder: {path}.")
    parent = path.parent
    if not parent.is_dir():
        raise ParameterError(f"The 'out' parameter of {owner}: folder {parent} does not exist.")
    if path.exists() and not os.access(path, os.W_OK):
        raise ParameterError(f"The 'out' parameter of {owner}: {path} exists and is not writable.")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".probe-", delete=True):
            pass
    except OSError as exc:
        raise ParameterError(f"The 'out' parameter of {owner}: cannot write in {parent} ({exc.strerror}).") from None
    return path


def load_data(data, net, owner="prune_onnx"):
    """Read ``X`` and ``y`` for ``net`` from an ``.npz`` file (or a pair) and check them.

    Parameters
    ----------
    data : str, Path or tuple
        An ``.npz`` file with arrays ``X`` and ``y``, or ``(X, y)``. ``X`` is
        in the ONNX layout of the model input: ``(N, C, H, W)`` for images,
        ``(N, F)`` for vectors. ``y`` holds integer class labels.
    net : Graph
        The imported network (its input shape and number of classes).
    owner : str
        Name used in error messages.

    Returns
    -------
    X, y
        ``X`` as float32 in the network's layout (NHWC for images), ``y`` int64.
    """
    if isinstance(data, tuple):
        if len(data) != 2:
            raise ParameterError(f"The 'data' parameter of {owner} must be a path or a pair (X, y).")
        X, y = data
    else:
        path = Path(data)
        if not path.is_file():
            raise ParameterError(f"The 'data' parameter of {owner}: no file at {path}.")
        try:
            with np.load(path, allow_pickle=False) as f:
                keys = list(f.files)
                missing = [k for k in ("X", "y") if k not in keys]
                if missing:
                    raise ParameterError(f"The 'data' file of {owner} ({path}) must hold arrays 'X' and 'y'; "
                                         f"it lacks {missing} (it holds {keys}).")
                X, y = f["X"], f["y"]
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ParameterError(f"The 'data' parameter of {owner}: {path} is not a readable .npz file ({exc}).") \
                from None
        except ValueError as exc:
            if isinstance(exc, ParameterError):
                raise
            raise ParameterError(f"The 'data' parameter of {owner}: {path} is not a readable .npz file of "
                                 f"arrays ({exc}).") from None
    X = np.asarray(X)
    y = np.asarray(y)
    if X.dtype.kind not in "fiu":
        raise ParameterError(f"The 'X' array of {owner} must be numeric. Got dtype {X.dtype}.")
    shape = net.original_input_shape
    onnx_shape = (shape[2], shape[0], shape[1]) if len(shape) == 3 else shape
    if X.shape[1:] != onnx_shape or X.ndim != len(onnx_shape) + 1:
        raise ShapeError(f"The 'X' array of {owner} must have shape (n_samples, {', '.join(map(str, onnx_shape))}) "
                         f"(the model's ONNX input layout). Got {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ParameterError(f"The 'X' array of {owner} contains NaN or inf.")
    n_classes = net.output_shape[-1]
    if y.ndim != 1 or len(y) != len(X):
        raise ShapeError(f"The 'y' array of {owner} must have shape ({len(X)},). Got {y.shape}.")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0)):
        raise ParameterError(f"The 'y' array of {owner} must hold integer class labels. Got dtype {y.dtype}.")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ParameterError(f"The 'y' array of {owner} must hold labels in [0, {n_classes}) (the model has "
                             f"{n_classes} outputs). Got [{y.min()}, {y.max()}].")
    if len(X) < 10:
        raise ShapeError(f"The 'X' array of {owner} needs at least 10 samples. Got {len(X)}.")
    X = X.astype(np.float32)
    if X.ndim == 4:
        X = np.ascontiguousarray(X.transpose(0, 2, 3, 1))
    return X, y


def _split(X, y, val_fraction, rng):
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    strat = y if counts[counts > 0].min() >= 2 else None
    return train_test_split(X, y, test_size=val_fraction, stratify=strat, random_state=rng)


def prune_onnx(model, data, out, budget=0.25, by=None, val_fraction=0.2, epochs=4, fine_tune_epochs=4, lr=0.01,
               lam0=0.05, grow=3.0, max_trials=6, min_keep=1, batch_size=64, rng=None, verbose=False,
               progress=False):
    """Prune an ONNX classifier to a FLOPs budget on the user's data and write a smaller ONNX model.

    Parameters
    ----------
    model : str, Path or onnx.ModelProto
        The trained model (see :func:`~structsparse.nn.from_onnx` for what it may contain).
    data : str, Path or tuple
        ``.npz`` with ``X`` (ONNX input layout) and ``y`` (labels), or ``(X, y)``; see :func:`load_data`.
    out : str or Path
        Where to write the pruned model (``.onnx``); checked before training starts.
    budget : float, default 0.25
        FLOPs budget: fraction of the dense FLOPs if at most 1, else FLOPs per sample.
    by : {"filters", "neurons"} or None
        Kind of groups; None: filters for image models, neurons for vector models.
    val_fraction : float, default 0.2
        Share of the data held out for validation (stratified); it ranks
        the budget trials and stops the fine-tuning early, and is never
        trained on.
    epochs, fine_tune_epochs : int
        Epochs of each penalized trial, and of the fine-tuning of the chosen one.
    lr : float, default 0.01
        Learning rate (SGD with momentum).
    lam0, grow, max_trials : float, float, int
        Price search (see :func:`~structsparse.nn.prune_to_budget`).
    min_keep : int, default 1
        Units every layer keeps.
    batch_size : int, default 64
        Minibatch size.
    rng : None, int or Generator, default None
        One seed drives the split and the training: an int repeats the run;
        None (or a Generator) draws it. The recipe records it
        (``hyperparameters["split_seed"]``).
    verbose, progress : bool
        Print each trial; show progress bars.

    Returns
    -------
    OnnxPruneResult
    """
    owner = "prune_onnx"
    out = check_writable(out, owner=owner)
    val_fraction = check_scalar(val_fraction, "val_fraction", low=0, high=1, low_inclusive=False,
                                high_inclusive=False, owner=owner)
    check_int(epochs, "epochs", low=1, owner=owner)
    check_int(fine_tune_epochs, "fine_tune_epochs", low=0, owner=owner)
    proto = _as_model(model, owner)
    net = from_onnx(proto)
    X, y = load_data(data, net, owner)
    if by is None:
        by = "filters" if len(net.original_input_shape) == 3 else "neurons"
    if by not in ("filters", "neurons"):
        raise ParameterError(f"The 'by' parameter of {owner} must be 'filters', 'neurons' or None. Got {by!r}.")
    seed = seed_from(rng)
    X_tr, X_val, y_tr, y_val = _split(X, y, val_fraction, seed)
    dense_val = net.score(X_val, y_val)
    res = prune_to_budget(net, X_tr, y_tr, flops=budget, by=by, lam0=lam0, grow=grow, max_trials=max_trials,
                          epochs=epochs, fine_tune_epochs=fine_tune_epochs, lr=lr, batch_size=batch_size,
                          min_keep=min_keep, X_val=X_val, y_val=y_val, rng=seed, progress=progress,
                          verbose=verbose)
    pruned = res.net
    softmax = getattr(net, "output_activation", None) == "softmax"
    pruned.output_activation = "softmax" if softmax else None
    to_onnx(pruned, out, softmax=softmax)
    dense_bytes = len(to_onnx(net, softmax=softmax).SerializeToString())
    diff = float("nan")
    try:
        from .onnx_io import ort_session

        sess = ort_session(str(out))
        got = sess.run(None, {"input": nchw(X_val)})[0]
        ref = pruned.forward(X_val)
        if softmax:
            e = np.exp(ref - ref.max(axis=1, keepdims=True))
            ref = e / e.sum(axis=1, keepdims=True)
        diff = float(np.abs(got - ref).max())
    except ImportError:
        pass
    recipe = res.recipe
    recipe["hyperparameters"].update({"function": owner, "model": str(model) if isinstance(model, (str, Path))
                                      else "<ModelProto>", "val_fraction": val_fraction, "split_seed": int(seed)})
    recipe["metrics"].update({"dense_val_acc": float(dense_val), "max_abs_diff_onnxruntime": diff if diff == diff else None})
    return OnnxPruneResult(recipe=recipe, path=out, dense_flops=int(flops(net)), flops=int(flops(pruned)),
                           dense_params=count_params(net), params=count_params(pruned), dense_bytes=dense_bytes,
                           bytes=out.stat().st_size, dense_val_acc=float(dense_val),
                           val_acc=float(pruned.score(X_val, y_val)), lam=float(res.lam), max_abs_diff=diff,
                           kept=pruned.pruning["kept"], net=pruned)
