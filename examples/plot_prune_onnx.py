"""
Prune an imported ONNX model
============================

A CNN written as ONNX (here exported by ``nn.to_onnx`` after a short
training; any NCHW ONNX CNN of the supported operators works) is read by
``nn.from_onnx`` into a numpy graph, trained on with a group lasso on its first
layer's filters, pruned, and written back as a smaller ONNX file.
onnxruntime, the independent judge, runs both files: the pruned file must
give the numpy network's outputs.

``nn.prune_onnx`` (and ``structsparse prune --model net.onnx``) does the same
in one call with a search on the price that meets a FLOPs budget, choosing
among the trials on a held-out validation split.
"""

import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import structsparse.nn as nn

X_train, X_test, y_train, y_test = nn.load_digits_split(rng=0)
dense = nn.small_cnn((16, 32), rng=0)
nn.train(dense, X_train, y_train, epochs=2, lr=0.05, rng=0, progress=False)
folder = pathlib.Path(tempfile.mkdtemp())
nn.to_onnx(dense, folder / "net.onnx", softmax=True)            # a classifier ending in Softmax

net = nn.from_onnx(folder / "net.onnx")                          # NCHW ONNX -> NHWC numpy graph
print(f"imported: {nn.flops(net)} FLOPs per sample, test accuracy {nn.accuracy(net, X_test, y_test):.3f}")
first_conv = [name for name in nn.layer_flops(net) if "conv" in name.lower()][0]
pen = nn.penalty(net, by="filters", lam=1.0, weights="flops", layers=[first_conv])
nn.train(net, X_train, y_train, epochs=3, lr=0.05, penalty=pen, schedule=nn.lam_warmup(1.0, 40), rng=0,
         progress=False)
small = nn.prune(net)
nn.train(small, X_train, y_train, epochs=2, lr=0.01, rng=0, progress=False)     # short fine-tuning
nn.to_onnx(small, folder / "pruned.onnx", softmax=True)
print(f"pruned: {nn.flops(small)} FLOPs ({nn.flops(net) / nn.flops(small):.2f}x fewer), test accuracy "
      f"{nn.accuracy(small, X_test, y_test):.3f}; file {(folder / 'net.onnx').stat().st_size} -> "
      f"{(folder / 'pruned.onnx').stat().st_size} bytes")

try:
    import onnxruntime as ort
except ImportError:  # pragma: no cover - onnxruntime is in the test and runtime extras
    ort = None
    print("onnxruntime is not installed (pip install 'structsparse[runtime]'): no independent check")
if ort is not None:
    sess = ort.InferenceSession(str(folder / "pruned.onnx"), providers=["CPUExecutionProvider"])
    x = X_test[:64].astype(np.float32)
    got = sess.run(None, {sess.get_inputs()[0].name: np.transpose(x, (0, 3, 1, 2))})[0]
    z = small(x)
    ref = np.exp(z - z.max(axis=1, keepdims=True))
    ref /= ref.sum(axis=1, keepdims=True)
    print(f"onnxruntime on the pruned file vs the numpy network: largest difference {np.max(np.abs(got - ref)):.1e}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(["imported", "pruned"], [nn.flops(net), nn.flops(small)], color=["0.6", "C1"])
ax.set_ylabel("FLOPs per sample")
fig.tight_layout()
