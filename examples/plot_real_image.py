"""
Recover a real image from partial Fourier samples
=================================================

The "camera" image of PyWavelets, 64 x 64, is measured by a quarter of its 2-D
Fourier coefficients (a variable-density mask, as in MRI). Its 2-D wavelet
coefficients live on a quadtree; :class:`structsparse.cs.TreeSparse2D` keeps
them on a rooted subtree. Model-based CoSaMP with that model is compared with
plain CoSaMP and with the zero-filled back-projection.

At this small size and sampling rate the three are close, and the
back-projection of a variable-density mask (which keeps the low frequencies)
is hard to beat; ``benchmarks/bench_cs_real.py`` gives the full table at
larger sizes, with PSNR and SSIM for every method.
"""

import matplotlib.pyplot as plt
import numpy as np

from structsparse import cs

prob = cs.make_problem("camera", fraction=0.25, sampling="fourier", size=64, rng=0)
truth = prob.truth
model = cs.TreeSparse2D(prob.shape, prob.m // 4, "db4")   # k = M / 4 coefficients
print(f"{prob.m} Fourier measurements of a {prob.shape[0]}x{prob.shape[1]} image")

images = {"back-projection": prob.backprojection()}
for method in ("model_cosamp", "cosamp"):
    res = cs.recover(prob.A, prob.y, model, method=method)
    images[method] = prob.signal(res.x)
for name, img in images.items():
    print(f"{name:16s} PSNR {cs.psnr(truth, img, 1.0):5.2f} dB  SSIM {cs.ssim(truth, img, 1.0):.3f}")

fig, axes = plt.subplots(1, 4, figsize=(10, 3))
for ax, (name, img) in zip(axes, [("original", truth), *images.items()]):
    ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    ax.set_title(name if name == "original" else f"{name}\n{cs.psnr(truth, img, 1.0):.1f} dB", fontsize=8)
    ax.axis("off")
fig.tight_layout()
