"""Latency and memory as distributions: :func:`profile`.

Each batch size is timed ``n_runs`` times after ``warmup`` untimed calls
(the first-call cost is reported separately), one intra-op thread, on the
same random inputs for every model. The result keeps every timing, so that
percentiles (p50, p90, p99) and plots of the whole distribution come from the
same numbers. On a shared, loaded machine the tail (p99) mostly measures the
other processes: compare models timed in the same run, and prefer medians.

Memory is given two ways:

- *computed*: bytes of the stored weights (:func:`~structsparse.nn.weight_bytes`:
  int8 weights count one byte each) plus the peak of the float32 activations
  of one forward pass (:func:`~structsparse.nn.memory`, im2col patches included);
- *measured*: for ``runtime="numpy"``, the weights plus the peak of the
  Python-heap allocations (``tracemalloc``, which sees numpy's buffers) of one
  forward pass of a fresh copy (no buffers kept from earlier passes); for ``runtime="onnxruntime"``, the growth of the process's
  resident memory from before the session was created to after the timed runs
  (the arena disabled), which includes the runtime's own buffers and code pages;
  pages the process already held (from an earlier model) are not counted
  again, so it is meaningful for the first model profiled in a fresh process
  and may read 0 after that.
"""

import time
import tracemalloc
from dataclasses import dataclass, field

import numpy as np

from .._validation import check_choice, check_int, check_rng
from .analysis import memory
from .network import Graph
from .quantize import QuantizedNet, weight_bytes

__all__ = ["profile", "ProfileResult"]


@dataclass(frozen=True)
class ProfileResult:
    """Latency distributions and memory of one network (from :func:`profile`).

    Attributes
    ----------
    runtime : str
        ``"onnxruntime"`` or ``"numpy"``.
    batch_sizes : tuple of int
        The batch sizes profiled.
    times : dict
        ``{batch: ndarray of seconds}``, one entry per timed run.
    first_call : dict
        ``{batch: seconds}`` of the first (untimed) call, session creation excluded.
    p50, p90, p99 : dict
        ``{batch: seconds}``: percentiles of ``times``.
    throughput : dict
        ``{batch: samples per second}`` at the median latency.
    memory_computed, memory_measured : dict
        ``{batch: bytes}`` (see the module documentation for what each counts).
    """

    runtime: str
    batch_sizes: tuple
    times: dict = field(repr=False)
    first_call: dict = field(repr=False)
    p50: dict = field(repr=False)
    p90: dict = field(repr=False)
    p99: dict = field(repr=False)
    throughput: dict = field(repr=False)
    memory_computed: dict = field(repr=False)
    memory_measured: dict = field(repr=False)

    def __repr__(self):
        parts = ", ".join(f"b{b}: p50 {self.p50[b] * 1e3:.3g} ms p99 {self.p99[b] * 1e3:.3g} ms"
                          for b in self.batch_sizes)
        return f"ProfileResult({self.runtime}, {parts})"


def _rss():
    try:
        with open("/proc/self/statm") as fh:
            import os

            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):  # pragma: no cover - not Linux
        return 0


def profile(net, batch_sizes=(1, 32, 256), runtime="onnxruntime", n_runs=50, warmup=3, X=None, threads=1,
            rng=None):
    """p50/p90/p99 latency, throughput and peak memory of ``net`` at several batch sizes.

    Parameters
    ----------
    net : Graph or QuantizedNet
        The network (a quantized one runs as its QDQ export in onnxruntime,
        as its simulation in numpy).
    batch_sizes : tuple of int, default (1, 32, 256)
        Batch sizes to time.
    runtime : {"onnxruntime", "numpy"}, default "onnxruntime"
        Where to run it.
    n_runs : int, default 50
        Timed runs per batch size (at least 5).
    warmup : int, default 3
        Untimed calls before the timed runs (the first one is reported as ``first_call``).
    X : ndarray, optional
        Inputs to draw the batches from (the network's input shape); default: uniform random.
    threads : int, default 1
        onnxruntime intra-op threads (numpy: BLAS threads).
    rng : None, int or Generator, default None
        Source of the random inputs (and of the resampling of ``X`` when it
        has fewer samples than the largest batch); None: fresh entropy.

    Returns
    -------
    ProfileResult
    """
    owner = "profile"
    if not isinstance(net, (Graph, QuantizedNet)):
        raise TypeError(f"The 'net' parameter of {owner} must be a Graph or QuantizedNet. Got {type(net).__name__}.")
    check_choice(runtime, "runtime", ("onnxruntime", "numpy"), owner=owner)
    n_runs = check_int(n_runs, "n_runs", low=5, owner=owner)
    warmup = check_int(warmup, "warmup", low=1, owner=owner)
    threads = check_int(threads, "threads", low=1, owner=owner)
    try:
        batch_sizes = tuple(check_int(b, "batch_sizes", low=1, owner=owner) for b in batch_sizes)
    except TypeError:
        raise TypeError(f"The 'batch_sizes' parameter of {owner} must be a sequence of ints.") from None
    if not batch_sizes:
        from ..exceptions import ParameterError

        raise ParameterError(f"The 'batch_sizes' parameter of {owner} must not be empty.")
    graph = net.net if isinstance(net, QuantizedNet) else net
    shape = graph.original_input_shape
    gen = check_rng(rng)
    if X is None:
        X = gen.random((max(batch_sizes),) + tuple(shape), dtype=np.float32)
    else:
        X = graph.check_input(X, "X", owner)
        if len(X) < max(batch_sizes):
            X = X[gen.integers(0, len(X), max(batch_sizes))]
    X = np.ascontiguousarray(X, dtype=np.float32)
    rss0 = _rss()
    if runtime == "onnxruntime":
        import onnxruntime as ort

        from .onnx_io import nchw, to_onnx

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.enable_cpu_mem_arena = False
        opts.log_severity_level = 3
        sess = ort.InferenceSession(to_onnx(net, softmax=False).SerializeToString(), opts,
                                    providers=["CPUExecutionProvider"])
        inputs = {b: nchw(X[:b]) for b in batch_sizes}

        def run(b):
            return sess.run(None, {"input": inputs[b]})[0]
    else:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(threads)
        inputs = {b: X[:b] for b in batch_sizes}
        if isinstance(net, QuantizedNet):
            def run(b):
                return net.forward(inputs[b])
        else:
            def run(b):
                return net.forward(inputs[b], check=False)
    times, first, p50, p90, p99, thr, mem_c, mem_m = {}, {}, {}, {}, {}, {}, {}, {}
    wbytes = weight_bytes(net)
    try:
        for b in batch_sizes:
            t0 = time.perf_counter()
            run(b)
            first[b] = time.perf_counter() - t0
            for _ in range(warmup - 1):
                run(b)
            ts = np.empty(n_runs)
            for k in range(n_runs):
                t0 = time.perf_counter()
                run(b)
                ts[k] = time.perf_counter() - t0
            times[b] = ts
            p50[b], p90[b], p99[b] = (float(v) for v in np.percentile(ts, [50, 90, 99]))
            thr[b] = b / p50[b]
            mem_c[b] = int(wbytes + memory(graph, batch=b).peak_activations)
            if runtime == "numpy":
                fresh = net if isinstance(net, QuantizedNet) else graph.copy()  # no buffers from earlier passes
                tracemalloc.start()
                fresh.forward(inputs[b])
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                mem_m[b] = int(wbytes + peak)
            else:
                mem_m[b] = int(max(_rss() - rss0, 0))
    finally:
        if runtime == "numpy":
            limiter.restore_original_limits()
    return ProfileResult(runtime=runtime, batch_sizes=batch_sizes, times=times, first_call=first, p50=p50, p90=p90,
                         p99=p99, throughput=thr, memory_computed=mem_c, memory_measured=mem_m)
