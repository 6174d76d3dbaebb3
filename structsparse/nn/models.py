"""The digits data set and the small architectures used by the figures, the CLI and the demo."""

import numpy as np

from .._validation import check_int, check_scalar
from ..exceptions import ParameterError, ShapeError
from ._results import seed_from
from .layers import BatchNorm, Conv2D, Dense, Flatten, GlobalAvgPool2D, MaxPool2D, ReLU, SqueezeExcite
from .network import Graph, Sequential, dense_block, inception

__all__ = ["load_digits_split", "load_digits_splits", "augment_images", "small_cnn", "mlp", "block_net", "ARCHITECTURES"]


def load_digits_split(test_size=0.3, rng=None, image=True, n_samples=None):
    """scikit-learn's 8x8 digits, scaled to [0, 1], split with stratification.

    Parameters
    ----------
    test_size : float in (0, 1)
        Share of the test part.
    rng : None, int or Generator, default None
        Source of the split (and of the subset): None draws fresh entropy, an
        int gives the same split every call (pass one to compare runs).
    image : bool
        ``(N, 8, 8, 1)`` images (True) or ``(N, 64)`` vectors.
    n_samples : int, optional
        Use a stratified subset of this size (for quick tests).

    Returns
    -------
    X_train, X_test, y_train, y_test
    """
    test_size = check_scalar(test_size, "test_size", low=0, high=1, low_inclusive=False, high_inclusive=False,
                             owner="load_digits_split")  # before importing scikit-learn (seconds)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    rng = seed_from(rng)  # scikit-learn takes an int seed
    data = load_digits()
    X = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    if n_samples is not None:
        n_samples = check_int(n_samples, "n_samples", low=40, high=len(y), owner="load_digits_split")
        if n_samples < len(y):
            X, _, y, _ = train_test_split(X, y, train_size=n_samples, stratify=y, random_state=rng)
    if image:
        X = X.reshape(-1, 8, 8, 1)
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=rng)


def load_digits_splits(rng=None, image=True, n_samples=None, val_size=0.2, test_size=0.2):
    """scikit-learn's digits in three separate stratified parts: train, validation and test (60/20/20).

    Model selection (budget search, choice of ``lam``, early stopping) sees
    only the validation part; the test part is for one final score.

    Parameters
    ----------
    rng : None, int or Generator, default None
        Source of the splits: None draws fresh entropy, an int gives the same
        three parts every call (pass one to compare runs).
    image : bool, default True
        ``(N, 8, 8, 1)`` images (True) or ``(N, 64)`` vectors.
    n_samples : int, optional
        Use a stratified subset of this size (for quick tests).
    val_size, test_size : float, default 0.2
        Shares of the validation and test parts (their sum below 1).

    Returns
    -------
    X_train, X_val, X_test, y_train, y_val, y_test
    """
    val_size = check_scalar(val_size, "val_size", low=0, high=1, low_inclusive=False, high_inclusive=False,
                            owner="load_digits_splits")
    test_size = check_scalar(test_size, "test_size", low=0, high=1, low_inclusive=False, high_inclusive=False,
                             owner="load_digits_splits")
    if val_size + test_size >= 1:
        raise ParameterError(f"load_digits_splits: 'val_size' + 'test_size' must be below 1. Got "
                             f"{val_size} + {test_size}.")
    from sklearn.model_selection import train_test_split  # after the checks: importing it costs seconds

    rng = seed_from(rng)  # one seed for both cuts
    X_rest, X_te, y_rest, y_te = load_digits_split(test_size=test_size, rng=rng, image=image, n_samples=n_samples)
    X_tr, X_val, y_tr, y_val = train_test_split(X_rest, y_rest, test_size=val_size / (1 - test_size),
                                                stratify=y_rest, random_state=rng)
    return X_tr, X_val, X_te, y_tr, y_val, y_te


def augment_images(X, rng=None, max_shift=1, max_angle=15.0):
    """Randomly shifted and rotated copies of a batch of images (numpy, bilinear, zeros outside).

    Each image is rotated about its centre by an angle drawn uniformly in
    ``[-max_angle, max_angle]`` degrees and shifted by whole pixels drawn
    uniformly in ``[-max_shift, max_shift]`` along each axis.

    Parameters
    ----------
    X : ndarray, shape (N, H, W, C)
        Images (not modified).
    rng : None, int or Generator
        Source of the random angles and shifts.
    max_shift : int, default 1
        Largest shift in pixels (>= 0).
    max_angle : float, default 15.0
        Largest rotation in degrees (>= 0).

    Returns
    -------
    ndarray
        The augmented batch, same shape and dtype as ``X``.
    """
    from .._validation import check_rng

    X = np.asarray(X)
    if X.ndim != 4:
        raise ShapeError(f"The 'X' parameter of augment_images must be (N, H, W, C). Got shape {X.shape}.")
    max_shift = check_int(max_shift, "max_shift", low=0, owner="augment_images")
    max_angle = check_scalar(max_angle, "max_angle", low=0, owner="augment_images")
    rng = check_rng(rng)
    n, h, w, c = X.shape
    theta = np.deg2rad(rng.uniform(-max_angle, max_angle, n))
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    ci, cj = (h - 1) / 2.0, (w - 1) / 2.0
    ii, jj = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    # inverse map: output pixel -> source position (undo the shift, then rotate back)
    di = ii[None] - ci - shifts[:, 0, None, None]
    dj = jj[None] - cj - shifts[:, 1, None, None]
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    si = cos * di + sin * dj + ci
    sj = -sin * di + cos * dj + cj
    i0, j0 = np.floor(si).astype(np.int64), np.floor(sj).astype(np.int64)
    fi, fj = si - i0, sj - j0
    padded = np.zeros((n, h + 2, w + 2, c), dtype=np.float64)
    padded[:, 1:-1, 1:-1, :] = X
    batch = np.arange(n)[:, None, None]
    out = np.zeros((n, h, w, c), dtype=np.float64)
    for a, wa in ((0, 1 - fi), (1, fi)):
        for b, wb in ((0, 1 - fj), (1, fj)):
            pi = np.clip(i0 + a + 1, 0, h + 1)  # +1: the zero border; beyond it, still zero
            pj = np.clip(j0 + b + 1, 0, w + 1)
            out += (wa * wb)[..., None] * padded[batch, pi, pj]
    return out.astype(X.dtype, copy=False)


def _int_tuple(x, name, owner, length=None):
    """A sequence of positive ints (TypeError naming the argument for a string, a scalar or non-integers)."""
    from ..exceptions import ParameterTypeError

    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        raise ParameterTypeError(f"The '{name}' parameter of {owner} must be a sequence of ints. Got {x!r}.")
    values = tuple(check_int(v, name, low=1, owner=owner) for v in x)
    if length is not None and len(values) != length:
        raise ParameterError(f"The '{name}' parameter of {owner} must hold {length} ints. Got {len(values)}.")
    return values


def small_cnn(channels=(32, 64), n_classes=10, input_shape=(8, 8, 1), rng=None):
    """Two 3x3 conv layers (each with batch norm and ReLU), a 2x2 max pool and one dense layer.

    The second block pools before its ReLU: ``relu(maxpool(x)) = maxpool(relu(x))``
    (both are monotone), and the ReLU then touches a quarter of the values.

    Parameters
    ----------
    channels : tuple of (int, int), default (32, 64)
        Filters of the first and the second convolution.
    n_classes : int, default 10
        Outputs of the final dense layer (logits).
    input_shape : tuple of int, default (8, 8, 1)
        Per-sample image shape ``(H, W, C)``; ``H`` and ``W`` at least 2.
    rng : None, int or Generator, default None
        Source of the initial weights: None draws fresh entropy, an int gives
        the same weights every call.

    Returns
    -------
    Sequential
        The built network, ``(N, H, W, C) -> (N, n_classes)``.
    """
    c1, c2 = _int_tuple(channels, "channels", "small_cnn", length=2)
    n_classes = check_int(n_classes, "n_classes", low=1, owner="small_cnn")
    return Sequential([
        Conv2D(c1, 3, padding=1), BatchNorm(), ReLU(),
        Conv2D(c2, 3, padding=1), BatchNorm(), MaxPool2D(2), ReLU(),
        Flatten(), Dense(n_classes),
    ], input_shape, rng=rng)


def mlp(hidden=(64,), n_classes=10, n_features=64, rng=None):
    """A multilayer perceptron on flat inputs.

    Parameters
    ----------
    hidden : sequence of int, default (64,)
        Units of each hidden ``Dense`` layer, each followed by a ReLU.
    n_classes : int, default 10
        Outputs of the final dense layer (logits).
    n_features : int, default 64
        Length of each input vector.
    rng : None, int or Generator, default None
        Source of the initial weights: None draws fresh entropy, an int gives
        the same weights every call.

    Returns
    -------
    Sequential
        The built network, ``(N, n_features) -> (N, n_classes)``.
    """
    hidden = _int_tuple(hidden, "hidden", "mlp")
    n_classes = check_int(n_classes, "n_classes", low=1, owner="mlp")
    n_features = check_int(n_features, "n_features", low=1, owner="mlp")
    layers = []
    for h in hidden:
        layers += [Dense(h), ReLU()]
    layers.append(Dense(n_classes))
    return Sequential(layers, (n_features,), rng=rng)


def block_net(width=8, n_classes=10, input_shape=(8, 8, 1), rng=None):
    """A small graph model with an Inception block, a squeeze-and-excitation gate and a DenseNet block.

    Conv(width, 3x3) -> BN -> ReLU; an Inception block ``"inc"`` of three
    pathways (1x1; 1x1 then 3x3; 3x3 max pool then 1x1), ``2.5 * width``
    channels when ``width`` is even; an SE gate ``"se"`` with
    ``max(2, width // 4)`` hidden units; a 2x2 max pool; a two-layer
    DenseNet block ``"dense"`` with growth ``width // 2``; BN -> ReLU ->
    global average pool -> Dense(n_classes).

    Parameters
    ----------
    width : int, default 8
        Base number of channels; at least 2 (``width // 2`` filters must be
        positive).
    n_classes : int, default 10
        Outputs of the final dense layer (logits).
    input_shape : tuple of int, default (8, 8, 1)
        Per-sample image shape ``(H, W, C)``; ``H`` and ``W`` at least 2.
    rng : None, int or Generator, default None
        Source of the initial weights: None draws fresh entropy, an int gives
        the same weights every call.

    Returns
    -------
    Graph
        The built network, ``(N, H, W, C) -> (N, n_classes)``.
    """
    width = check_int(width, "width", low=2, owner="block_net")
    n_classes = check_int(n_classes, "n_classes", low=1, owner="block_net")
    g = Graph(input_shape, rng=rng)
    g.add(Conv2D(width, 3, padding=1))
    g.add(BatchNorm())
    x = g.add(ReLU())
    x = inception(g, x, [
        [Conv2D(width, 1), ReLU()],
        [Conv2D(width // 2, 1), ReLU(), Conv2D(width, 3, padding=1), ReLU()],
        [MaxPool2D(3, stride=1, padding=1), Conv2D(width // 2, 1), ReLU()],
    ], name="inc")
    x = g.add(SqueezeExcite(max(2, width // 4)), x, name="se")
    x = g.add(MaxPool2D(2), x)
    x = dense_block(g, x, n_layers=2, growth=width // 2, name="dense")
    g.add(BatchNorm(), x)
    g.add(ReLU())
    g.add(GlobalAvgPool2D())
    g.add(Dense(n_classes))
    return g


ARCHITECTURES = {"cnn": small_cnn, "mlp": mlp, "blocks": block_net}
