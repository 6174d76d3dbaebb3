"""
Discover the pattern of a sparse network
========================================

A network of 12 states driven by 3 inputs, with the states measured. The
sparse-group lasso on the rows of ``[A B]`` (``penalty="sparse_group_lasso"``),
with ``lam`` chosen along a path by an information criterion, finds which
state influences which, without being told the pattern.
"""

import numpy as np

from structsparse import sysid
from structsparse.sysid.plots import plot_patterns

net = sysid.example_network(n_states=12, n_inputs=3, rng=0)
rng = np.random.default_rng(0)
u = rng.standard_normal((1500, 3))
x = net.simulate(u, process_noise=0.01, rng=1).x

found = sysid.identify(u, None, 12, penalty="sparse_group_lasso", x=x)
scores = sysid.support_scores(net, found.pattern)
print(f"method {found.method}; support of A and B: precision {scores['precision']:.3f}, "
      f"recall {scores['recall']:.3f}, F1 {scores['f1']:.3f}")
print(f"largest error of an entry of A: {np.max(np.abs(found.model.A - net.A)):.3f}")

# true against found support of A and B; a false positive would be a red cross, a missed entry an orange circle
fig = plot_patterns(net, found.pattern)
