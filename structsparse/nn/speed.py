"""Measured speed: structured pruning against the same sparsity unstructured.

:func:`speedup` times the dense and the pruned network on the same batch,
divides the realized speedup by the theoretical one (the FLOPs ratio), and
in the same run times a copy of the dense network whose weights are
magnitude-pruned to the same number of nonzeros and stored as scipy CSR
(what unstructured pruning gives you), so the two numbers sit side by side.
"""

import time

import numpy as np
import scipy.sparse as sp

from .._validation import check_int
from ..exceptions import ParameterError
from ._im2col import im2col
from .analysis import flops
from .network import INPUT, Graph

__all__ = ["speedup", "time_forward", "csr_forward", "fold_batchnorm"]


def fold_batchnorm(net):
    """An inference copy of ``net`` with each batch norm folded into the layer before it.

    A ``BatchNorm`` (evaluation statistics) that reads a ``Dense``/``Conv2D``
    read by nothing else becomes part of that layer's weights and bias:
    ``W' = W * s``, ``b' = b * s + (beta - mean * s)`` with ``s = gamma / sqrt(var + eps)``.
    The function computed is the same up to float32 rounding. Use it for
    inference and timing only (the result has no batch-norm statistics left
    to train).

    Parameters
    ----------
    net : Graph
        A built network (not modified). Batch norms that read the network
        input, a layer other than ``Dense``/``Conv2D``, a layer with other
        readers, or that are the network output are kept as they are.

    Returns
    -------
    Graph
        The folded copy (a plain copy when nothing folds).
    """
    new = net.copy()
    readers = new._readers()
    drop = {}
    for n in new.nodes:
        if n.layer.kind != "batchnorm" or n.name == new.output:
            continue
        src = n.inputs[0]
        if src == INPUT or readers[src] != 1:
            continue
        prod = new.node(src).layer
        if prod.kind not in ("dense", "conv2d"):
            continue
        bn = n.layer
        scale = (bn.params["gamma"] / np.sqrt(bn.state["var"] + bn.eps)).astype(prod.params["W"].dtype)
        prod.params["W"] = prod.params["W"] * scale
        prod.params["b"] = prod.params["b"] * scale + (bn.params["beta"] - bn.state["mean"] * scale)
        drop[n.name] = src
    if not drop:
        return new
    new.nodes = [n for n in new.nodes if n.name not in drop]
    for n in new.nodes:
        n.inputs = [drop.get(i, i) for i in n.inputs]
    for name in drop:
        del new._shapes[name]
    return new


def time_forward(fns, X, repeats=5, warmup=1, warm=True):
    """Best wall time of each ``fn(X)`` over ``repeats`` rounds, after ``warmup`` rounds.

    The functions run interleaved (one of each per round) so that a busy
    machine slows them alike, and the minimum is kept: it is the run least
    disturbed by other processes. With ``warm=True`` each timed call follows
    an untimed call of the same function, so every variant is timed in the
    steady state of back-to-back batches; with ``warm=False`` each timed call
    follows the other variants' calls and first reloads its weights and
    buffers into the caches the previous one evicted (a penalty that weighs
    most on the smallest network).
    """
    for _ in range(warmup):
        for fn in fns:
            fn(X)
    best = [np.inf] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            if warm:
                fn(X)
            t = time.perf_counter()
            fn(X)
            best[k] = min(best[k], time.perf_counter() - t)
    return [float(b) for b in best]


def _magnitude_csr(net, density):
    """Per-layer CSR weight matrices keeping the largest ``density`` fraction of each layer's weights."""
    mats = {}
    for n in net.nodes:
        if n.layer.kind in ("dense", "conv2d"):
            w = n.layer.params["W"]
            w2 = w.reshape(-1, w.shape[-1])
            k = max(1, int(round(density * w2.size)))
            thresh = np.partition(np.abs(w2).ravel(), w2.size - k)[w2.size - k]
            pruned = np.where(np.abs(w2) >= thresh, w2, 0).astype(np.float32)
            # stored transposed so the product is W^T x^T: a CSR matrix times a dense block
            mats[n.name] = sp.csr_matrix(pruned.T)
    return mats


def csr_forward(net, mats):
    """Forward pass of ``net`` with its weight matrices replaced by CSR ones (``out^T = W_csr^T @ x^T``)."""

    def run(X):
        if net.input_index is not None:
            X = X[..., net.input_index]
        acts = {INPUT: X}
        for n in net.nodes:
            layer = n.layer
            args = [acts[i] for i in n.inputs]
            x = args if layer.n_inputs is None else args[0]
            if n.name in mats:
                if layer.kind == "conv2d":
                    k = layer.kernel_size
                    cols, ho, wo = im2col(x, k, k, layer.stride, layer.padding)
                    out = (mats[n.name] @ cols.T).T.reshape(x.shape[0], ho, wo, -1) + layer.params["b"]
                else:
                    out = (mats[n.name] @ x.T).T + layer.params["b"]
                acts[n.name] = out
            else:
                acts[n.name] = layer.forward(x)
        return acts[net.output]

    return run


def speedup(dense_net, pruned_net, batch=1024, X=None, repeats=5, threads=1, rng=0, fold=True, chunk=256,
            warm=True):
    """Realized speedup of ``pruned_net`` over ``dense_net``, against the theoretical one and CSR.

    Parameters
    ----------
    dense_net, pruned_net : Graph
        The same input shape; ``pruned_net`` typically from :func:`prune`.
    batch : int
        Samples per forward pass.
    X : ndarray, optional
        The batch (default: uniform random inputs).
    rng : int or Generator, default 0
        Seed of the random batch drawn when ``X`` is None (ignored otherwise).
    repeats : int
        Timed rounds (the best is reported) after one warm-up round; the
        three variants run interleaved.
    threads : int or None
        BLAS threads during timing (default 1, for stable figures on a shared machine).
    fold : bool
        Time inference copies with batch norms folded into the layer before
        them (:func:`fold_batchnorm`), all three variants alike; FLOPs are
        counted on the networks as given.
    chunk : int or None
        Evaluate in slices of this many samples (activations stay in cache),
        the dense and the pruned network alike; None for one pass.
    warm : bool
        Time each variant right after an untimed call of itself (steady state
        of back-to-back batches, the default), or right after the other
        variants (its caches cold); see :func:`time_forward`.

    Returns
    -------
    dict
        ``batch``, ``chunk``, ``warm`` (the settings), ``dense_time``,
        ``pruned_time``, ``realized`` (dense / pruned time),
        ``theoretical`` (dense / pruned FLOPs), ``efficiency`` (realized /
        theoretical), ``density`` (pruned / dense weights), ``csr_time``,
        ``csr_realized`` and ``csr_efficiency`` (the same density,
        unstructured, as scipy CSR), ``max_abs_diff`` (pruned vs dense outputs).
    """
    for name, net in (("dense_net", dense_net), ("pruned_net", pruned_net)):
        if not isinstance(net, Graph):
            raise ParameterError(f"The '{name}' parameter of speedup must be a Graph. Got {type(net).__name__}.")
    if dense_net.original_input_shape != pruned_net.original_input_shape:
        raise ParameterError(f"speedup: the networks read different inputs ({dense_net.original_input_shape} vs "
                             f"{pruned_net.original_input_shape}).")
    batch = check_int(batch, "batch", low=1, owner="speedup")
    repeats = check_int(repeats, "repeats", low=1, owner="speedup")
    if X is None:
        X = np.random.default_rng(rng).random((batch,) + dense_net.original_input_shape, dtype=np.float32)
    X = dense_net.check_input(X, "X", "speedup")
    from threadpoolctl import threadpool_limits

    theoretical = flops(dense_net) / flops(pruned_net)
    if fold:
        dense_net, pruned_net = fold_batchnorm(dense_net), fold_batchnorm(pruned_net)

    w_dense = sum(n.layer.params["W"].size for n in dense_net.nodes if n.layer.kind in ("dense", "conv2d"))
    w_pruned = sum(n.layer.params["W"].size for n in pruned_net.nodes if n.layer.kind in ("dense", "conv2d"))
    density = w_pruned / w_dense
    mats = _magnitude_csr(dense_net, density)
    run_csr = csr_forward(dense_net, mats)
    with threadpool_limits(threads):
        t_dense, t_pruned, t_csr = time_forward(
            [lambda x: dense_net.forward(x, check=False, chunk=chunk),
             lambda x: pruned_net.forward(x, check=False, chunk=chunk), run_csr],
            X, repeats, warm=warm)
        diff = float(np.abs(dense_net.forward(X, check=False, chunk=chunk)
                            - pruned_net.forward(X, check=False, chunk=chunk)).max())
    realized = t_dense / t_pruned
    csr_realized = t_dense / t_csr
    csr_theoretical = 1.0 / density
    return {"batch": batch, "chunk": chunk, "warm": bool(warm), "dense_time": t_dense, "pruned_time": t_pruned, "realized": realized,
            "theoretical": theoretical, "efficiency": realized / theoretical, "density": density,
            "csr_time": t_csr, "csr_realized": csr_realized, "csr_efficiency": csr_realized / csr_theoretical,
            "max_abs_diff": diff}
