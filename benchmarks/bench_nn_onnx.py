"""onnxruntime as the judge of speed, and the cost of ONNX import and export.

1. The digits CNN (``small_cnn((32, 64))``, trained briefly) pruned to 25 % of
   its FLOPs several ways (six variants): L1 filter pruning of both conv layers (uniform
   fraction); of the first layer's filters only (the second layer's input
   channels); and hardware-aware rounding of the kept counts
   (``nn.round_prune``, Torch-Pruning's ``round_to``: each pruned
   layer keeps a multiple of ``round_to`` filters, the strongest by L1 norm,
   the budget still met). Dense and pruned networks are timed alike:
   batch norms folded (``fold_batchnorm``), exported by ``to_onnx``, one
   onnxruntime session each with the same options (``ORT_ENABLE_ALL``, one
   intra-op thread), called through IO binding (``onnx_io.ort_runner``);
   numpy: ``Graph.forward`` with one BLAS thread (at batch 1 an inference plan,
   ``nn._plan``; the dense network's general pass is timed beside it in the
   same rounds); batches of 256 in one chunk. Rounds interleave dense and pruned, each timed call right after
   an untimed call of itself; per run the median over rounds of the wall
   time and of the thread's CPU time (``time.thread_time``: on a loaded
   machine it leaves out the time other processes hold the core). Reported:
   the median [min - max] over independent runs. Efficiency = realized
   speed-up / FLOPs ratio of the networks timed (folded); above 1.05 is a
   measurement problem, counted and not reported as a result.
2. numpy dense forward time over onnxruntime dense forward time (same runs).
3. Export (``nn.to_onnx`` to a file) and import (``nn.from_onnx`` from the
   file) of a CNN with about 1 M parameters: first call and the median of
   later calls.

``--breakdown`` (instead of 1-3) measures where the time goes: onnxruntime's
fixed cost per run and per node at batch 1 (chains of k Relu nodes, a least
squares fit), each network's node count after onnxruntime's optimizations,
its batch-1 compute part and the efficiency that part alone gives; session
options on every network alike; numpy's Winograd + fusions against its direct
im2col path, interleaved with onnxruntime; at batch 256 onnxruntime's
profiler per node (its least time over the runs: it reports wall time) next to
numpy's per-layer CPU time, each convolution's efficiency, and the bound on the
whole run if the convolutions scaled exactly with their FLOPs.

numpy's speed depends on the BLAS kernels OpenBLAS picks: the script prints
them (``threadpoolctl``); run it with ``OPENBLAS_CORETYPE=SkylakeX`` on an
AVX-512 machine that OpenBLAS detects as Haswell to see the difference.

Run: ``python benchmarks/bench_nn_onnx.py [--runs 5] [--rounds 15] [--variants ...] [--breakdown]``
(about 60 s, and 45 s with ``--breakdown``, on a loaded 2-core machine).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import _setup  # noqa: F401  (before numpy: one BLAS thread, the checkout first on the path)
import numpy as np

import structsparse.nn as nn
from structsparse.nn._rounding import round_prune
from structsparse.nn.baselines import uniform_prune
from structsparse.nn.onnx_io import nchw, ort_runner
from structsparse.nn.speed import fold_batchnorm

LIMIT = 1.05


def stat(values, fmt="{:.2f}"):
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return "n/a"
    return f"{fmt.format(np.median(v))} [{fmt.format(v.min())} - {fmt.format(v.max())}]"


def variants(dense):
    first = [dense.nodes[0].name]
    return {
        "L1, both conv layers": uniform_prune(dense, 0.25),
        "L1, first layer's filters": uniform_prune(dense, 0.25, layers=first),
        "L1, both, round_to=16": round_prune(dense, 0.25, 16, score="l1"),
        "L1, both, round_to=8": round_prune(dense, 0.25, 8, score="l1"),
        "L1, both, round_to={conv2d1: 8, conv2d2: 16}": round_prune(dense, 0.25, {"conv2d1": 8, "conv2d2": 16},
                                                                     score="l1"),
        # the first layer at one NCHWc block (16): conv 2 then reads blocked input, but only 30 of its filters fit
        "L1, both, round_to={conv2d1: 16}": round_prune(dense, 0.25, {"conv2d1": 16}, score="l1"),
    }


def time_pair(fns, rounds):
    """Median wall and CPU time of each function over interleaved rounds (each timed call warm)."""
    wall = [[] for _ in fns]
    cpu = [[] for _ in fns]
    for f in fns:
        f()
    for _ in range(rounds):
        for k, f in enumerate(fns):
            f()
            t, c = time.perf_counter(), time.thread_time()
            f()
            cpu[k].append(time.thread_time() - c)
            wall[k].append(time.perf_counter() - t)
    return [float(np.median(w)) for w in wall], [float(np.median(c)) for c in cpu]


def bench_speed(runs, rounds, only):
    from threadpoolctl import threadpool_info, threadpool_limits

    X_tr, X_val, X_te, y_tr, y_val, y_te = nn.load_digits_splits(rng=0)
    dense = nn.small_cnn((32, 64), rng=0)
    nn.train(dense, X_tr, y_tr, epochs=3, lr=0.05, progress=False)
    blas = sorted({f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info()
                   if i.get("user_api") == "blas"})
    print(f"BLAS: {blas}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}; "
          f"load average {os.getloadavg()[0]:.1f}")
    dense_f = fold_batchnorm(dense)
    ort_dense = ort_runner(nn.to_onnx(dense_f, softmax=False))
    dense_general = dense_f.copy()
    dense_general.PLAN_MAX_SAMPLES = 0  # this copy always takes the general evaluation pass
    print("1-2. digits CNN at 25 % of the FLOPs, one thread; per run the median over rounds; "
          "median [min - max] over runs")
    for label, pruned in variants(dense).items():
        if only and not any(o in label for o in only):
            continue
        pruned_f = fold_batchnorm(pruned)
        ratio = nn.flops(dense_f) / nn.flops(pruned_f)
        kept = {k: v[0] for k, v in pruned.pruning["kept"].items() if k not in ("input", dense.output)}
        print(f"  {label}: kept {kept}, FLOPs {nn.flops(pruned_f) / nn.flops(dense_f):.3f} of dense "
              f"(ratio {ratio:.2f}x, folded networks)")
        ort_pruned = ort_runner(nn.to_onnx(pruned_f, softmax=False))
        for batch in (1, 256):
            X = np.random.default_rng(batch).random((batch, 8, 8, 1), dtype=np.float32)
            Xo = nchw(X)
            diff = float(np.abs(ort_pruned(Xo) - pruned_f.forward(X)).max())
            rows = {key: [] for key in ("ort_w", "ort_c", "np_w", "np_c", "t_od", "t_op", "t_nd", "t_np", "ratio",
                                        "t_ng", "ratio_g")}
            n_rounds = rounds * (20 if batch == 1 else 1)
            with threadpool_limits(1):
                for _ in range(runs):
                    fns = [lambda: ort_dense(Xo), lambda: ort_pruned(Xo),
                           lambda: dense_f.forward(X, check=False), lambda: pruned_f.forward(X, check=False)]
                    if batch <= dense_f.PLAN_MAX_SAMPLES:  # the general pass too (before inference plans)
                        fns.append(lambda: dense_general.forward(X, check=False))
                    wall, cpu = time_pair(fns, n_rounds)
                    if len(cpu) > 4:
                        rows["t_ng"].append(cpu[4])
                        rows["ratio_g"].append(cpu[4] / cpu[0])
                    rows["ort_w"].append(wall[0] / wall[1] / ratio)
                    rows["ort_c"].append(cpu[0] / cpu[1] / ratio)
                    rows["np_w"].append(wall[2] / wall[3] / ratio)
                    rows["np_c"].append(cpu[2] / cpu[3] / ratio)
                    rows["t_od"].append(cpu[0])
                    rows["t_op"].append(cpu[1])
                    rows["t_nd"].append(cpu[2])
                    rows["t_np"].append(cpu[3])
                    rows["ratio"].append(cpu[2] / cpu[0])

            def eff(key):
                ok = [e for e in rows[key] if e <= LIMIT]
                return f"{stat(ok)} ({len(rows[key]) - len(ok)}/{runs} flagged > {LIMIT})"

            us = "{:.1f}"
            print(f"    batch {batch:>3}: onnxruntime dense {stat([t * 1e6 for t in rows['t_od']], us)} us, pruned "
                  f"{stat([t * 1e6 for t in rows['t_op']], us)} us (CPU); efficiency CPU {eff('ort_c')}, "
                  f"wall {eff('ort_w')}; |ort - numpy| {diff:.1e}")
            print(f"               numpy       dense {stat([t * 1e6 for t in rows['t_nd']], us)} us, pruned "
                  f"{stat([t * 1e6 for t in rows['t_np']], us)} us (CPU); efficiency CPU {eff('np_c')}, "
                  f"wall {eff('np_w')}")
            print(f"               numpy dense / onnxruntime dense (CPU): {stat(rows['ratio'])}x")
            if rows["t_ng"]:
                general = stat([t * 1e6 for t in rows["t_ng"]], us)
                print(f"               numpy dense, general pass (no inference plan) {general} us (CPU), "
                      f"over onnxruntime dense {stat(rows['ratio_g'])}x")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


def chain_model(k):
    """k Relu nodes in a chain on a (N, 1, 8, 8) input: onnxruntime runs each as its own kernel."""
    from onnx import TensorProto, helper

    nodes, prev = [], "input"
    for i in range(k):
        out = "output" if i == k - 1 else f"r{i}"
        nodes.append(helper.make_node("Relu", [prev], [out], name=f"r{i}"))
        prev = out
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 1, 8, 8])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def optimized_ops(model, config=None):
    """The operators onnxruntime runs for ``model`` (after its fusions and the NCHWc layout)."""
    import onnx

    from structsparse.nn.onnx_io import ort_session

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "opt.onnx"
        ort_session(model, config=config, optimized_path=path)
        return [n.op_type for n in onnx.load(str(path)).graph.node]


def ort_node_times(model, X, runs):
    """Kernel time (us) of every node onnxruntime runs, from its profiler (``enable_profiling``).

    The profiler reports wall time, so each node's figure is its minimum over the runs (the run least
    disturbed by other processes), and the run's figure is the sum of its nodes' minima.
    """
    import json

    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    with tempfile.TemporaryDirectory() as d:
        opts.enable_profiling = True
        opts.profile_file_prefix = str(Path(d) / "prof")
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        for _ in range(runs + 3):
            sess.run(None, {"input": X})
        with open(sess.end_profiling()) as fh:
            events = json.load(fh)
    per, order = {}, []
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            key = f"{e['args']['op_name']}:{e['name'][:-len('_kernel_time')]}"
            if key not in per:
                order.append(key)
            per.setdefault(key, []).append(e["dur"])
    out = {k: float(np.min(per[k][3:])) for k in order}
    out["(model_run)"] = sum(out.values())
    return out


def numpy_layer_times(net, X, rounds):
    """Least thread CPU time (us) over the rounds per layer of ``net.forward(X)`` (each layer's forward methods timed in place).

    The forward runs as usual (fused ReLUs, reused buffers); a layer fused into another (a ReLU into a max pool
    or a convolution, a max pool into the convolution before it) costs nothing of its own and reads 0. The sum is printed beside the untimed forward time (the wrappers cost ~1 us a layer).
    """
    acc = {n.name: [] for n in net.nodes}
    cur, active = {}, set()
    wrapped = []
    for n in net.nodes:
        layer = n.layer
        for meth in ("forward", "forward_reusing", "forward_inplace", "forward_pooled"):
            if not hasattr(layer, meth):
                continue
            orig = getattr(layer, meth)

            def timed(*a, _orig=orig, _name=n.name, **k):
                if _name in active:  # a method calling another (forward_reusing -> forward): count it once
                    return _orig(*a, **k)
                active.add(_name)
                c = time.thread_time()
                try:
                    return _orig(*a, **k)
                finally:
                    cur[_name] = cur.get(_name, 0.0) + time.thread_time() - c
                    active.discard(_name)
            setattr(layer, meth, timed)
            wrapped.append((layer, meth))
    try:
        net.forward(X, check=False)
        for _ in range(rounds):
            cur.clear()
            net.forward(X, check=False)
            for name in acc:
                acc[name].append(cur.get(name, 0.0))
    finally:
        for layer, meth in wrapped:
            delattr(layer, meth)  # back to the class's method
    return {f"{n.layer.kind}:{n.name}": float(np.min(acc[n.name])) * 1e6 for n in net.nodes}


def bench_breakdown(rounds, only):
    """Where the time goes: onnxruntime's fixed costs at batch 1, per-node and per-layer times at batch 256."""
    from threadpoolctl import threadpool_limits

    X_tr, X_val, X_te, y_tr, y_val, y_te = nn.load_digits_splits(rng=0)
    dense = nn.small_cnn((32, 64), rng=0)
    nn.train(dense, X_tr, y_tr, epochs=3, lr=0.05, progress=False)
    dense_f = fold_batchnorm(dense)
    nets = {"dense": dense_f}
    for label, pruned in variants(dense).items():
        if only and not any(o in label for o in only):
            continue
        nets[label] = fold_batchnorm(pruned)
    models = {k: nn.to_onnx(v, softmax=False) for k, v in nets.items()}
    ks = (1, 2, 4, 8, 16)
    chains = [ort_runner(chain_model(k)) for k in ks]
    runners = {k: ort_runner(m) for k, m in models.items()}
    X1 = np.random.default_rng(1).random((1, 8, 8, 1), dtype=np.float32)
    X1o = nchw(X1)
    print(f"\nB. Breakdown (load average {os.getloadavg()[0]:.1f}); CPU time, median over {rounds * 20} "
          "interleaved rounds")
    fns = [lambda r=r: r(X1o) for r in chains] + [lambda r=r: r(X1o) for r in runners.values()]
    with threadpool_limits(1):
        _, cpu = time_pair(fns, rounds * 20)
    t_chain = np.array(cpu[:len(ks)]) * 1e6
    slope, icpt = np.polyfit(np.array(ks, dtype=float), t_chain, 1)
    print("  onnxruntime fixed cost at batch 1 (chains of k Relu nodes on 64 numbers, IO binding): "
          + ", ".join(f"k={k}: {t:.2f} us" for k, t in zip(ks, t_chain)))
    print(f"  -> per run {icpt:.2f} us, per node {slope:.2f} us (least squares over k)")
    t_net = dict(zip(runners, np.array(cpu[len(ks):]) * 1e6))
    flops_d = nn.flops(dense_f)
    rows = {}
    for name, net in nets.items():
        ops = optimized_ops(models[name])
        fixed = icpt + slope * len(ops)
        rows[name] = (t_net[name], len(ops), fixed, t_net[name] - fixed)
        print(f"  {name}: batch 1 {t_net[name]:.2f} us; runs {len(ops)} nodes {ops}; fixed {fixed:.2f} us, "
              f"compute {t_net[name] - fixed:.2f} us")
    td, _, fd, cd = rows["dense"]
    for name, net in nets.items():
        if name == "dense":
            continue
        t, _, f, c = rows[name]
        r = flops_d / nn.flops(net)
        ideal = (fd + cd) / (f + cd / r) / r
        print(f"  {name}: FLOPs ratio {r:.2f}x; batch-1 efficiency {td / t / r:.2f} (whole run), "
              f"{cd / c / r:.2f} (compute part alone); with this fixed cost and a pruned compute exactly "
              f"{r:.2f}x smaller the whole run could reach {ideal:.2f}")
    print(f"  session options (every network alike), CPU time, median over {rounds * 20} rounds (batch 1) and "
          f"{rounds} rounds (batch 256), load average {os.getloadavg()[0]:.1f}:")
    configs = {"default (ORT_ENABLE_ALL)": None,
               "no spinning": {"session.intra_op.allow_spinning": "0"},
               "denormals as zero": {"session.set_denormal_as_zero": "1"},
               "ORT_ENABLE_EXTENDED (no NCHWc layout)": {"optimization": "extended"}}
    for batch in (1, 256):
        Xb = nchw(np.random.default_rng(batch).random((batch, 8, 8, 1), dtype=np.float32))
        for cname, cfg in configs.items():
            run = {k: ort_runner(m, config=cfg) for k, m in models.items()}
            with threadpool_limits(1):
                _, cpu = time_pair([lambda r=r: r(Xb) for r in run.values()], rounds * (20 if batch == 1 else 1))
            t = dict(zip(run, cpu))
            effs = ", ".join(f"{k}: {t['dense'] / t[k] / (flops_d / nn.flops(nets[k])):.2f}" for k in nets if k != "dense")
            print(f"    batch {batch:>3} {cname}: dense {t['dense'] * 1e6:.1f} us; efficiency {effs}")
    X256 = np.random.default_rng(256).random((256, 8, 8, 1), dtype=np.float32)
    # numpy: Winograd + fusions (the default) against the direct im2col path with no fusion into convolutions
    # (Conv2D.WINOGRAD_MIN_TILES set out of reach, which also turns the conv -> pool fusion off), interleaved
    direct = {k: v.copy() for k, v in nets.items()}
    for g in direct.values():
        for n in g.nodes:
            if n.layer.kind == "conv2d":
                n.layer.WINOGRAD_MIN_TILES = 1 << 62
    fns, keys = [], []
    for k in nets:
        fns += [lambda g=nets[k]: g.forward(X256, check=False), lambda g=direct[k]: g.forward(X256, check=False)]
        keys.append(k)
    X256o = nchw(X256)
    fns.append(lambda: runners["dense"](X256o))
    with threadpool_limits(1):
        _, cpu = time_pair(fns, rounds * 2)
    print(f"  numpy at batch 256, CPU time, median over {rounds * 2} interleaved rounds (load average "
          f"{os.getloadavg()[0]:.1f}); onnxruntime dense {cpu[-1] * 1e6:.0f} us in the same rounds:")
    for i, k in enumerate(keys):
        new_t, old_t = cpu[2 * i], cpu[2 * i + 1]
        print(f"    {k}: Winograd + fusions {new_t * 1e6:.0f} us, direct im2col {old_t * 1e6:.0f} us "
              f"({old_t / new_t:.2f}x); over onnxruntime dense: {new_t / cpu[-1]:.2f}x and {old_t / cpu[-1]:.2f}x")
    # first-call cost of the numba kernels (direct first layer, Winograd) in a fresh process: reported apart
    import subprocess
    import sys

    code = ("import time, numpy as np\n"
            "t0 = time.perf_counter()\n"
            "import structsparse.nn as nn\n"
            "from structsparse.nn.speed import fold_batchnorm\n"
            "t1 = time.perf_counter()\n"
            "net = fold_batchnorm(nn.small_cnn((32, 64), rng=0))\n"
            "out = ['import %.2f s' % (t1 - t0)]\n"
            "for b in (1, 256):\n"
            "    X = np.random.default_rng(0).random((b, 8, 8, 1), dtype=np.float32)\n"
            "    t = time.perf_counter(); net.forward(X); t2 = time.perf_counter(); net.forward(X)\n"
            "    out.append('batch %d: first forward %.3f s, second %.4f s' % (b, t2 - t, time.perf_counter() - t2))\n"
            "print('; '.join(out))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    print(f"  numpy first calls in a fresh process (numba kernels loaded from their cache, or compiled when the "
          f"cache is cold): {res.stdout.strip() or res.stderr.strip()[-300:]}")
    # the BLAS behind numpy against scipy's, on the second convolution's products at batch 256
    import scipy.linalg.blas as sblas

    rng = np.random.default_rng(0)
    shapes = {"im2col, one block of 11 samples": (704, 288, 64), "im2col, whole batch": (16384, 288, 64),
              "Winograd, one of 16 products, block of 21 samples": (336, 32, 64)}
    with threadpool_limits(1):
        for label, (m, k, f) in shapes.items():
            A = rng.random((m, k), dtype=np.float32)
            B = rng.random((k, f), dtype=np.float32)
            O = np.empty((m, f), dtype=np.float32)
            # scipy's sgemm on C-ordered arrays: (B^T A^T)^T, whose operands are Fortran-ordered views (no copy)
            _, cpu = time_pair([lambda: np.matmul(A, B, out=O), lambda: sblas.sgemm(1.0, B.T, A.T)], rounds * 4)
            g = 2 * m * k * f / 1e9
            print(f"  GEMM {m} x {k} x {f} ({label}): numpy {g / cpu[0]:.0f} GFLOP/s, scipy.linalg.blas.sgemm "
                  f"{g / cpu[1]:.0f} GFLOP/s (CPU time, one thread)")
    print(f"  batch 256, onnxruntime profiler (least kernel time per node over {rounds} runs, us; their sum) and numpy "
          f"per layer (thread CPU time, us; {rounds} runs); load average {os.getloadavg()[0]:.1f}")
    with threadpool_limits(1):
        for name, net in nets.items():
            ort_t = ort_node_times(models[name], nchw(X256), rounds)
            np_t = numpy_layer_times(net, X256, rounds)
            run = ort_t.pop("(model_run)")
            print(f"    {name}: onnxruntime {run:.0f} us, nodes " +
                  ", ".join(f"{k} {v:.0f}" for k, v in ort_t.items()))
            print(f"    {' ' * len(name)}  numpy {sum(np_t.values()):.0f} us, layers " +
                  ", ".join(f"{k} {v:.0f}" for k, v in np_t.items()))
            conv_np = sum(v for k, v in np_t.items() if k.startswith("conv2d"))
            conv_ort = sum(v for k, v in ort_t.items() if k.startswith("Conv"))
            print(f"    {' ' * len(name)}  numpy / onnxruntime: whole {sum(np_t.values()) / run:.2f}x, "
                  f"convolutions {conv_np / conv_ort:.2f}x, the rest "
                  f"{(sum(np_t.values()) - conv_np) / max(run - conv_ort, 1e-9):.2f}x")
            convs = [v for k, v in ort_t.items() if k.startswith("Conv")]
            conv_flops = [n.layer.flops() for n in net.nodes if n.layer.kind == "conv2d"]
            if name == "dense":
                ref = (run, convs, conv_flops)
                continue
            r = flops_d / nn.flops(net)
            parts = []
            for i, (td, tp, fd_, fp_) in enumerate(zip(ref[1], convs, ref[2], conv_flops)):
                parts.append(f"conv {i + 1}: {td / tp:.2f}x faster for {fd_ / fp_:.2f}x fewer FLOPs "
                             f"(efficiency {td / tp / (fd_ / fp_):.2f})")
            rest_d, rest_p = ref[0] - sum(ref[1]), run - sum(convs)
            print(f"    {' ' * len(name)}  onnxruntime, sum of node minima: efficiency {ref[0] / run / r:.2f}; "
                  + "; ".join(parts) + f"; the other nodes {rest_d:.0f} -> {rest_p:.0f} us "
                  f"({rest_p / run:.0%} of the pruned run, {rest_d / ref[0]:.0%} of the dense one)")
            # the bound: every convolution exactly FLOPs-proportional (efficiency 1), the other nodes as measured
            ideal_convs = sum(td / (fd_ / fp_) for td, fd_, fp_ in zip(ref[1], ref[2], conv_flops))
            only_last = run - convs[-1] + ref[1][-1] / (ref[2][-1] / conv_flops[-1])
            print(f"    {' ' * len(name)}  bound with the other nodes as measured: efficiency "
                  f"{ref[0] / only_last / r:.2f} if the last convolution were exactly FLOPs-proportional, "
                  f"{ref[0] / (rest_p + ideal_convs) / r:.2f} if every convolution were")


def million_cnn():
    return nn.Sequential([
        nn.Conv2D(64, 3, padding=1), nn.BatchNorm(), nn.ReLU(),
        nn.Conv2D(128, 3, padding=1), nn.BatchNorm(), nn.ReLU(), nn.MaxPool2D(2),
        nn.Conv2D(256, 3, padding=1), nn.BatchNorm(), nn.ReLU(),
        nn.Conv2D(256, 3, padding=1), nn.BatchNorm(), nn.ReLU(), nn.MaxPool2D(2),
        nn.Flatten(), nn.Dense(10),
    ], (16, 16, 3), rng=0)


def bench_io(repeats):
    net = million_cnn()
    print(f"\n3. ONNX export and import of a CNN with {net.n_params} parameters "
          f"(first call; median [min - max] of {repeats} later calls)")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.onnx"
        times_out, times_in = [], []
        for _ in range(repeats + 1):
            t = time.perf_counter()
            nn.to_onnx(net, path)
            times_out.append(time.perf_counter() - t)
            t = time.perf_counter()
            back = nn.from_onnx(path)
            times_in.append(time.perf_counter() - t)
        X = np.random.default_rng(0).random((2, 16, 16, 3), dtype=np.float32)
        diff = float(np.abs(back.forward(X) - net.forward(X)).max())
        size = path.stat().st_size
    print(f"  export: first {times_out[0]:.3f} s, then {stat(times_out[1:], '{:.3f}')} s; file {size / 1e6:.2f} MB")
    print(f"  import: first {times_in[0]:.3f} s, then {stat(times_in[1:], '{:.3f}')} s; round trip max |diff| {diff:.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=15, help="timed rounds per run (x20 at batch 1)")
    ap.add_argument("--repeats", type=int, default=7, help="ONNX import/export repeats")
    ap.add_argument("--variants", nargs="*", default=None, help="only variants whose label contains one of these")
    ap.add_argument("--no-io", action="store_true", help="skip the import/export timing")
    ap.add_argument("--breakdown", action="store_true", help="only the breakdown of where the time goes")
    args = ap.parse_args()
    if args.breakdown:
        bench_breakdown(args.rounds, args.variants)
        return
    bench_speed(args.runs, args.rounds, args.variants)
    if not args.no_io:
        bench_io(args.repeats)


if __name__ == "__main__":
    main()
