"""
Prune Inception branches and DenseNet connections
=================================================

``nn.block_net`` builds a small graph network with an Inception block
(parallel pathways, concatenated), a squeeze-and-excitation gate and a
DenseNet block (each layer reads the concatenation of all earlier outputs).
Two group kinds act on these structures: ``by="branches"`` puts a whole
Inception pathway in one group, and ``by="connections"`` one source feeding
one layer of the DenseNet block. A group lasso on them, then ``nn.prune``,
removes whole pathways and connections; ``nn.connection_graph`` says which
connections remain.
"""

import matplotlib.pyplot as plt
import numpy as np

import structsparse as ss
import structsparse.nn as nn

X_train, X_test, y_train, y_test = nn.load_digits_split(rng=0)
net = nn.block_net(width=8, rng=0)
nn.train(net, X_train, y_train, epochs=4, lr=0.01, optimizer="adam", rng=0, progress=False)
print(f"dense: test accuracy {nn.accuracy(net, X_test, y_test):.3f}, {nn.flops(net)} FLOPs")
for by in ("branches", "connections"):
    maps = nn.groups(net, by=by)
    print(f"{by}: {sum(m.groups.n_groups for m in maps)} groups in {len(maps)} map(s)")

maps = nn.groups(net, by="branches") + nn.groups(net, by="connections")
pen = nn.NetworkPenalty(maps, "group_lasso", 0.3)
nn.train(net, X_train, y_train, epochs=4, lr=0.05, penalty=pen,
         schedule=nn.lam_warmup(0.3, 30), rng=0, progress=False)
for m in maps:
    norms = m.group_norms(net)
    print(f"  {m.name}: groups at zero {[lab for lab, v in zip(m.labels, norms) if v == 0]} "
          f"of {list(m.labels)}")
small = nn.prune(net)
print(f"pruned: test accuracy {nn.accuracy(small, X_test, y_test):.3f}, {nn.flops(small)} FLOPs "
      f"({nn.flops(net) / nn.flops(small):.2f}x fewer)")
print(f"largest output difference, pruned vs penalized: {np.max(np.abs(small(X_test[:32]) - net(X_test[:32]))):.1e}")
nn.train(small, X_train, y_train, epochs=2, lr=0.003, optimizer="adam", rng=0, progress=False)   # fine-tuning
print(f"pruned and fine-tuned: test accuracy {nn.accuracy(small, X_test, y_test):.3f}")
graph = nn.connection_graph(small)
for block, layers in graph.items():
    for layer, sources in layers.items():
        print(f"  {block} / {layer} reads {sources}")

fig, ax = plt.subplots(figsize=(5, 3))
names = [f"{layer}\n<- {src}" for layers in graph.values() for layer, srcs in layers.items() for src in srcs]
chans = [c for layers in graph.values() for srcs in layers.values() for c in srcs.values()]
ax.barh(range(len(chans)), chans)
ax.set_yticks(range(len(chans)), names, fontsize=6)
ax.set_xlabel("channels read after pruning")
fig.tight_layout()
