"""
Recover a block-sparse signal
=============================

A signal of length 512 with 6 active blocks of 8 entries is measured by a
Gaussian matrix with far fewer rows than columns. Group basis pursuit
(``method="group_lasso"``), model-based CoSaMP and plain l1 recover it from
the same measurements; the block structure is what lets the first two succeed
at this number of measurements.
"""

import matplotlib.pyplot as plt
import numpy as np

from structsparse import cs

model = cs.BlockSparse(n=512, block_size=8, k_blocks=6)
x0 = model.sample(rng=1)
A = cs.gaussian(110, 512, rng=0)          # M = 110 measurements of N = 512 entries
y = A @ x0

results = {m: cs.recover(A, y, model, method=m) for m in ("group_lasso", "model_cosamp", "l1")}
for name, res in results.items():
    print(f"{name:13s} relative error {res.relative_error(x0):.2e}  support size {res.support.size:3d}  "
          f"time {res.time:.3f} s")

fig, axes = plt.subplots(len(results), 1, figsize=(7, 5), sharex=True)
for ax, (name, res) in zip(axes, results.items()):
    ax.plot(x0, color="0.7", lw=3, label="true")
    ax.plot(res.x, color="C1", lw=1, label=name)
    ax.set_title(f"{name}: relative error {res.relative_error(x0):.1e}", fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
axes[-1].set_xlabel("index")
fig.tight_layout()
