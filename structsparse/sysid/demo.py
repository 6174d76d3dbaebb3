"""System-identification part of ``structsparse demo``.

On the 4-state example system (2 inputs, 2 outputs, 1000 samples, output
noise 0.01) it identifies an unstructured model and compares its fit with
the true model's; prints identifiability verdicts for three patterns;
identifies the identifiable pattern and checks the entries against the
truth; discovers the pattern of a 20-state network from measured states.
Figures: outputs, poles, true against found patterns.
"""

import time

import numpy as np

__all__ = ["demo_part"]


def demo_part(out_dir, rng=None):
    """Run the demo; write figures to ``out_dir``; return whether every check passed.

    ``rng`` (None, an int seed or a Generator; None: fresh entropy) decides the data; ``structsparse demo``
    passes its ``--seed`` (default 0, so that the demo prints the same report every run). The figures are made
    only to be saved, and closed.
    """
    import matplotlib.pyplot as plt

    from .._validation import check_rng
    from . import (Pattern, example_network, example_system, fit_index, identifiability, identify, pole_error,
                   support_scores)
    from .plots import plot_outputs, plot_patterns, plot_poles, save_figure

    ok = True
    seed = rng if isinstance(rng, int) and not isinstance(rng, bool) else int(check_rng(rng).integers(2 ** 31))
    rng = np.random.default_rng(seed)
    system, pattern = example_system()
    u = rng.standard_normal((1000, 2))
    y = system.simulate(u, measurement_noise=0.01, rng=rng).y
    true_fit = fit_index(y, system.simulate(u).y)

    t0 = time.perf_counter()
    free = identify(u, y, 4, rng=seed)
    t_free = time.perf_counter() - t0
    gap = float(np.max(true_fit - free.fit))
    print(f"Unstructured (PO-MOESP + PEM), {t_free * 1e3:.0f} ms: fit {np.round(free.fit, 2)} % vs true model "
          f"{np.round(true_fit, 2)} %; pole error {pole_error(system.poles(), free.model.poles()):.1e}")
    ok &= gap <= 0.1

    print("Identifiability verdicts:")
    zeros_only = Pattern.from_system(system)
    for name, pat, expect in (("all entries free", Pattern.full(4, 2, 2), lambda r: r.n_unidentifiable == 16),
                              ("zero pattern only", zeros_only, lambda r: r.n_unidentifiable >= 4),
                              ("zeros + known C and two couplings", pattern, lambda r: r.identifiable)):
        res = identifiability(pat, rng=seed)
        print(f"  {name:36s} {res.n_parameters:2d} free, {res.n_unidentifiable:2d} unidentifiable direction(s)")
        ok &= bool(expect(res))

    t0 = time.perf_counter()
    structured = identify(u, y, 4, pattern=pattern, rng=seed)
    t_struct = time.perf_counter() - t0
    rel = max(float(np.max(np.abs(Me - Mt)[Mt != 0] / np.abs(Mt[Mt != 0])))
              for Mt, Me in zip(system.matrices[:3], structured.model.matrices[:3]))
    print(f"Structured (identifiable pattern), {t_struct:.2f} s: largest relative entry error of A, B, C = {rel:.2%}")
    ok &= rel <= 0.02

    net = example_network(rng=seed)
    un = rng.standard_normal((2000, 5))
    xs = net.simulate(un, process_noise=0.01, rng=rng).x
    t0 = time.perf_counter()
    found = identify(un, None, 20, penalty="sparse_group_lasso", x=xs)
    scores = support_scores(net, found.pattern)
    print(f"Pattern discovery, 20-state network, 5 inputs, measured states ({time.perf_counter() - t0:.1f} s): "
          f"support precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, F1 {scores['f1']:.3f}")
    ok &= scores["f1"] == 1.0

    for fig, name in ((plot_outputs(y, structured.y_sim, fit=structured.fit, max_samples=300), "sysid_outputs.png"),
                      (plot_poles([system.poles(), free.model.poles(), structured.model.poles()],
                                  ["true", "unstructured", "structured"]), "sysid_poles.png"),
                      (plot_patterns(net, found.pattern), "sysid_patterns.png")):
        save_figure(fig, out_dir / name)
        plt.close(fig)
    print(f"Figures: sysid_outputs.png, sysid_poles.png, sysid_patterns.png in {out_dir}")
    return bool(ok)
