"""
Prune a numpy CNN
=================

A small CNN (two 3x3 conv layers with batch norm, a max pool, a dense layer)
is trained on scikit-learn's 8x8 digits, then trained on with a group lasso on
the first layer's filters. Filters whose weights reach exactly zero are
removed *physically* by ``nn.prune``: the filter, its batch-norm channel and
the matching input channel of the next layer go, and what is left is a
smaller dense network that computes the same function; a short fine-tuning
follows. ``nn.speedup`` then
measures the realized speedup against the FLOPs ratio.

The training here is short (a few epochs of a small CNN) so the example runs
in seconds, and the network is so small that its timings are dominated by
fixed costs and by the load of the machine: the speedup printed here is not a
result. ``structsparse prune`` and ``benchmarks/bench_nn.py`` run the full
experiment with the timing protocol of the benchmarks page (medians of
interleaved runs, onnxruntime as the reference runtime).
"""

import matplotlib.pyplot as plt
import numpy as np

import structsparse.nn as nn

X_train, X_test, y_train, y_test = nn.load_digits_split(rng=0)
net = nn.small_cnn((16, 32), rng=0)
nn.train(net, X_train, y_train, epochs=4, lr=0.05, rng=0, progress=False)
print(f"dense: test accuracy {nn.accuracy(net, X_test, y_test):.3f}, {nn.flops(net)} FLOPs per sample")

pen = nn.penalty(net, by="filters", lam=1.0, weights="flops", layers=["conv2d1"])
hist = nn.train(net, X_train, y_train, epochs=4, lr=0.05, penalty=pen, schedule=nn.lam_warmup(1.0, 40),
                rng=0, progress=False)
small = nn.prune(net)
x = X_test[:64]
print(f"largest output difference, pruned vs penalized network: {np.max(np.abs(small(x) - net(x))):.1e}")
nn.train(small, X_train, y_train, epochs=2, lr=0.01, rng=0, progress=False)     # short fine-tuning
print(f"pruned and fine-tuned: test accuracy {nn.accuracy(small, X_test, y_test):.3f}, {nn.flops(small)} FLOPs per sample "
      f"({nn.flops(net) / nn.flops(small):.2f}x fewer), {nn.count_params(small)} of {nn.count_params(net)} parameters")

sp = nn.speedup(net, small, batch=512, repeats=5, runtime="numpy", rng=0)
print(sp)
print(f"{sp.runtime} forward, batch 512: realized {sp.realized:.2f}x of a theoretical {sp.theoretical:.2f}x "
      f"(efficiency {sp.efficiency:.2f}); the same density unstructured as CSR: {sp.csr_realized:.2f}x")
if sp.measurement_problem:
    print("the efficiency exceeds 1, which the FLOP count does not allow: a timing artefact, not a result")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(hist.zero_groups, "o-")
ax.set_xlabel("epoch of penalized training")
ax.set_ylabel("groups at exactly zero")
fig.tight_layout()
