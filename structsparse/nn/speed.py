"""Measured speed: structured pruning against the same sparsity unstructured.

:func:`speedup` times the dense and the pruned network on the same batch in
onnxruntime (one intra-op thread; the default when it is installed) and in
numpy,
divides the realized speedup by the theoretical one (the FLOPs ratio), and
in the same run times a copy of the dense network whose weights are
magnitude-pruned to the same number of nonzeros and stored as scipy CSR
(what unstructured pruning gives you), so the two numbers sit side by side.
"""

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._validation import check_int
from ..exceptions import ParameterError, ParameterTypeError
from ._im2col import im2col
from ._results import DictAccessMixin
from .analysis import flops
from .network import INPUT, Graph

__all__ = ["speedup", "SpeedupResult", "time_forward", "csr_forward", "fold_batchnorm", "has_onnxruntime"]


@dataclass(frozen=True, repr=False)
class SpeedupResult(DictAccessMixin):
    """Measured speed of a pruned network against its dense source (from :func:`speedup`).

    Times are seconds per forward pass of the whole batch, the best of the interleaved rounds.

    Attributes
    ----------
    runtime : str
        Where the headline figures were measured: ``"onnxruntime"`` or ``"numpy"``.
    batch : int
        Samples per forward pass.
    chunk : int or None
        Slice size every variant ran in (None: one pass).
    warm : bool
        Each variant timed right after an untimed call of itself.
    threads : int
        Threads during timing.
    theoretical : float
        Dense FLOPs / pruned FLOPs.
    density : float
        Pruned weights / dense weights.
    dense_time, pruned_time : float
        The headline times, in ``runtime``.
    realized : float
        ``dense_time / pruned_time``.
    efficiency : float
        ``realized / theoretical``.
    measurement_problem : bool
        The efficiency exceeds 1.05, which the FLOP count does not allow: the
        figure is a timing artefact, not a result.
    numpy_dense_time, numpy_pruned_time : float
        Times in ``structsparse.nn``'s numpy forward.
    numpy_realized, numpy_efficiency : float
        The same ratios in numpy.
    csr_time : float
        The dense network magnitude-pruned to ``density`` and run with scipy
        CSR weights (numpy, same chunking).
    csr_realized, csr_efficiency : float
        Numpy dense time / CSR time, and that against ``1 / density``.
    max_abs_diff : float
        Largest difference between the pruned and the dense outputs on the batch.
    ort_dense_time, ort_pruned_time : float or None
        Times in onnxruntime (None when it was not measured).
    numpy_over_ort : float or None
        Numpy dense time / onnxruntime dense time.
    ort_max_abs_diff : float or None
        onnxruntime against numpy on the pruned network.
    """

    runtime: str
    batch: int
    chunk: object
    warm: bool
    threads: int
    theoretical: float
    density: float
    dense_time: float
    pruned_time: float
    realized: float
    efficiency: float
    measurement_problem: bool
    numpy_dense_time: float
    numpy_pruned_time: float
    numpy_realized: float
    numpy_efficiency: float
    csr_time: float
    csr_realized: float
    csr_efficiency: float
    max_abs_diff: float
    ort_dense_time: object = None
    ort_pruned_time: object = None
    numpy_over_ort: object = None
    ort_max_abs_diff: object = None

    _absent_when_none = ("ort_dense_time", "ort_pruned_time", "numpy_over_ort", "ort_max_abs_diff")

    def __repr__(self):
        flag = ", measurement_problem=True" if self.measurement_problem else ""
        return (f"SpeedupResult({self.runtime}, batch={self.batch}, realized={self.realized:.2f}x, "
                f"theoretical={self.theoretical:.2f}x, efficiency={self.efficiency:.2f}, "
                f"csr_realized={self.csr_realized:.2f}x{flag})")


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


def csr_forward(net, mats, chunk=None):
    """Forward pass of ``net`` with its weight matrices replaced by CSR ones (``out^T = W_csr^T @ x^T``).

    The same evaluation protocol as :meth:`Graph.forward`: the batch runs in
    slices of ``chunk`` samples, the im2col patches go into a buffer reused
    from call to call, and channelwise layers overwrite activations that
    nothing else reads.
    """
    readers = net._readers()
    work = {}

    def patches(name, x, k, stride, padding):
        n, h, w, c = x.shape
        ho = (h + 2 * padding - k) // stride + 1
        wo = (w + 2 * padding - k) // stride + 1
        size = n * ho * wo * k * k * c
        buf = work.get(name)
        if buf is None or buf.size < size or buf.dtype != x.dtype:
            buf = work[name] = np.empty(size, dtype=x.dtype)
        return im2col(x, k, k, stride, padding, out=buf)

    def run_one(X):
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
                    cols, ho, wo = patches(n.name, x, k, layer.stride, layer.padding)
                    out = (mats[n.name] @ cols.T).T.reshape(x.shape[0], ho, wo, -1)
                else:
                    out = (mats[n.name] @ x.T).T
                out += layer.params["b"]
                acts[n.name] = out
            elif layer.inplace_ok and n.inputs[0] != INPUT and readers[n.inputs[0]] == 1:
                acts[n.name] = layer.forward_inplace(x)
            else:
                acts[n.name] = layer.forward(x)
        return acts[net.output]

    def run(X):
        if chunk is not None and X.shape[0] > chunk:
            return np.concatenate([run_one(X[i:i + chunk]) for i in range(0, X.shape[0], chunk)])
        return run_one(X)

    return run


def _ort_runner(net, threads, chunk):
    from .onnx_io import nchw, ort_runner, to_onnx

    # IO binding: every network pays the same fixed cost per call, not InferenceSession.run's conversions
    return ort_runner(to_onnx(net, softmax=False), threads=threads, chunk=chunk), nchw


def has_onnxruntime():
    """Whether onnxruntime can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


EFFICIENCY_LIMIT = 1.05


def speedup(dense_net, pruned_net, batch=1024, X=None, repeats=5, threads=1, rng=None, fold=True, chunk=256,
            warm=True, runtime=None):
    """Realized speedup of ``pruned_net`` over ``dense_net``, against the theoretical one and CSR.

    Parameters
    ----------
    dense_net, pruned_net : Graph
        The same input shape; ``pruned_net`` typically from :func:`prune`.
    batch : int
        Samples per forward pass.
    X : ndarray, optional
        The batch (default: uniform random inputs).
    rng : None, int or Generator, default None
        Source of the random batch drawn when ``X`` is None (ignored
        otherwise); the values do not change the FLOPs, so fresh entropy is
        the default.
    repeats : int
        Timed rounds (the best is reported) after one warm-up round; all
        variants run interleaved.
    threads : int
        Threads during timing (default 1): BLAS threads for numpy, intra-op
        threads for onnxruntime.
    fold : bool
        Time inference copies with batch norms folded into the layer before
        them (:func:`fold_batchnorm`), every variant alike; ``theoretical``
        counts the FLOPs of the networks timed (folded when ``fold``).
    chunk : int or None
        Evaluate in slices of this many samples, every variant alike (dense,
        pruned and CSR in numpy, both networks in onnxruntime); None for one pass.
    warm : bool
        Time each variant right after an untimed call of itself (steady state
        of back-to-back batches, the default), or right after the other
        variants (its caches cold); see :func:`time_forward`.
    runtime : {"onnxruntime", "numpy"} or None
        Where the headline figures (``dense_time``, ``pruned_time``,
        ``realized``, ``efficiency``) are measured: both networks exported
        with :func:`~structsparse.nn.to_onnx` and run by onnxruntime, or
        ``structsparse.nn``'s numpy forward. None: onnxruntime when
        installed. The numpy figures and CSR are measured in the same run
        either way.

    Returns
    -------
    SpeedupResult
        The settings, the headline figures (``dense_time``, ``pruned_time``,
        ``realized``, ``theoretical``, ``efficiency``, ``measurement_problem``:
        an efficiency above 1.05 is a timing artefact, and a RuntimeWarning
        says so), the numpy figures, scipy CSR at the same density, the
        output differences and, with onnxruntime, its times.

    Raises
    ------
    ImportError
        ``runtime="onnxruntime"`` without onnxruntime installed (install the
        ``runtime`` extra: ``pip install 'structsparse[runtime]'``).
    """
    import warnings

    for name, net in (("dense_net", dense_net), ("pruned_net", pruned_net)):
        if not isinstance(net, Graph):
            raise ParameterTypeError(f"The '{name}' parameter of speedup must be a Graph. Got {type(net).__name__}.")
    if dense_net.original_input_shape != pruned_net.original_input_shape:
        raise ParameterError(f"speedup: the networks read different inputs ({dense_net.original_input_shape} vs "
                             f"{pruned_net.original_input_shape}).")
    if runtime is None:
        runtime = "onnxruntime" if has_onnxruntime() else "numpy"
    if runtime not in ("onnxruntime", "numpy"):
        raise ParameterError(f"The 'runtime' parameter of speedup must be 'onnxruntime', 'numpy' or None. "
                             f"Got {runtime!r}.")
    if runtime == "onnxruntime" and not has_onnxruntime():
        raise ImportError("speedup(runtime='onnxruntime') needs onnxruntime: install the 'runtime' extra "
                          "(pip install 'structsparse[runtime]') or pass runtime='numpy'.")
    batch = check_int(batch, "batch", low=1, owner="speedup")
    repeats = check_int(repeats, "repeats", low=1, owner="speedup")
    threads = check_int(threads, "threads", low=1, owner="speedup")
    if chunk is not None:
        chunk = check_int(chunk, "chunk", low=1, owner="speedup")
    if X is None:
        from .._validation import check_rng

        X = check_rng(rng).random((batch,) + dense_net.original_input_shape, dtype=np.float32)
    X = dense_net.check_input(X, "X", "speedup")
    batch = X.shape[0]
    from threadpoolctl import threadpool_limits

    if fold:
        dense_net, pruned_net = fold_batchnorm(dense_net), fold_batchnorm(pruned_net)
    theoretical = flops(dense_net) / flops(pruned_net)  # the FLOPs of the networks that run

    w_dense = sum(n.layer.params["W"].size for n in dense_net.nodes if n.layer.kind in ("dense", "conv2d"))
    w_pruned = sum(n.layer.params["W"].size for n in pruned_net.nodes if n.layer.kind in ("dense", "conv2d"))
    density = w_pruned / w_dense
    mats = _magnitude_csr(dense_net, density)
    run_csr = csr_forward(dense_net, mats, chunk=chunk)
    fns = [lambda x: dense_net.forward(x, check=False, chunk=chunk),
           lambda x: pruned_net.forward(x, check=False, chunk=chunk), run_csr]
    inputs = [X, X, X]
    if runtime == "onnxruntime":
        ort_dense, to_nchw = _ort_runner(dense_net, threads, chunk)
        ort_pruned, _ = _ort_runner(pruned_net, threads, chunk)
        Xo = to_nchw(X)
        fns = [ort_dense, ort_pruned] + fns
        inputs = [Xo, Xo] + inputs
    calls = [(lambda f, x: (lambda _: f(x)))(f, x) for f, x in zip(fns, inputs)]
    with threadpool_limits(threads):
        times = time_forward(calls, X, repeats, warm=warm)
        out_dense = dense_net.forward(X, check=False, chunk=chunk)
        out_pruned = pruned_net.forward(X, check=False, chunk=chunk)
        diff = float(np.abs(out_dense - out_pruned).max())
        ort_diff = float(np.abs(fns[1](inputs[1]) - out_pruned).max()) if runtime == "onnxruntime" else None
    t_np_dense, t_np_pruned, t_csr = times[-3:]
    out = {"runtime": runtime, "batch": batch, "chunk": chunk, "warm": bool(warm), "threads": threads,
           "theoretical": theoretical, "density": density,
           "numpy_dense_time": t_np_dense, "numpy_pruned_time": t_np_pruned,
           "numpy_realized": t_np_dense / t_np_pruned, "numpy_efficiency": t_np_dense / t_np_pruned / theoretical,
           "csr_time": t_csr, "csr_realized": t_np_dense / t_csr, "csr_efficiency": t_np_dense / t_csr * density,
           "max_abs_diff": diff}
    if runtime == "onnxruntime":
        t_dense, t_pruned = times[0], times[1]
        out.update({"ort_dense_time": t_dense, "ort_pruned_time": t_pruned, "numpy_over_ort": t_np_dense / t_dense,
                    "ort_max_abs_diff": ort_diff})
    else:
        t_dense, t_pruned = t_np_dense, t_np_pruned
    realized = t_dense / t_pruned
    efficiency = realized / theoretical
    out.update({"dense_time": t_dense, "pruned_time": t_pruned, "realized": realized, "efficiency": efficiency,
                "measurement_problem": bool(efficiency > EFFICIENCY_LIMIT)})
    out = SpeedupResult(**out)
    if out.measurement_problem:
        warnings.warn(f"speedup: efficiency {efficiency:.2f} > {EFFICIENCY_LIMIT} in {runtime} (realized "
                      f"{realized:.2f}x against {theoretical:.2f}x fewer FLOPs) is a measurement problem "
                      "(noise, cache effects or a FLOP count that misses work), not a result; repeat the "
                      "measurement.", RuntimeWarning, stacklevel=2)
    return out
