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

from structsparse import cs

model = cs.BlockSparse(n=512, block_size=8, k_blocks=6)
x0 = model.sample(rng=1)
A = cs.gaussian(110, 512, rng=0)          # M = 110 measurements of N = 512 entries
y = A @ x0

results = {m: cs.recover(A, y, model, method=m) for m in ("group_lasso", "model_cosamp", "l1")}
for name, res in results.items():
    print(f"{name:13s} relative error {res.relative_error(x0):.2e}  support size {res.support.size:3d}  "
          f"time {res.time:.3f} s")

# each result draws itself into the axes it is given: the true active blocks shaded, true against recovered
fig, axes = plt.subplots(len(results), 1, figsize=(7, 6.5), sharex=True)
for ax, (name, res) in zip(axes, results.items()):
    res.plot(x0, model, ax=ax, title=f"{name}: relative error {res.relative_error(x0):.1e}")
fig.tight_layout()
