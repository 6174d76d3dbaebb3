"""
Recover a real ECG from compressive measurements
================================================

PyWavelets ships an electrocardiogram. Its wavelet coefficients are nearly
supported on a rooted subtree of the coefficient tree, so model-based
CoSaMP with the tree model (:class:`structsparse.cs.TreeSparse`) recovers it
from a quarter of the samples better than plain CoSaMP with the same number
of coefficients. ``cs.make_problem`` builds the sensing operator on the
wavelet coefficients, ``Phi W``.
"""

import matplotlib.pyplot as plt
import numpy as np

from structsparse import cs

prob = cs.make_problem("ecg", fraction=0.3, n=1024, rng=0)     # M = 0.3 N Gaussian measurements
truth = prob.truth
k = 100                                                         # coefficients kept by the greedy methods
model = cs.TreeSparse(prob.n, k, "db4")

signals = {}
for method in ("model_cosamp", "cosamp"):
    res = cs.recover(prob.A, prob.y, model, method=method)
    signals[method] = prob.synthesis @ res.x
    err = np.linalg.norm(signals[method] - truth) / np.linalg.norm(truth)
    print(f"{method:13s} relative error of the signal {err:.3f}  time {res.time:.2f} s")
best = cs.best_tree_error(prob.coef, model)
print(f"best {k}-coefficient tree approximation of the coefficients: relative error {best:.3f}")

fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(truth, color="0.6", lw=2, label="ECG")
for method, s in signals.items():
    ax.plot(s, lw=0.8, label=method)
ax.set_xlabel("sample")
ax.legend(fontsize=8)
fig.tight_layout()
