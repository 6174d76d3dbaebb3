"""System identification: structsparse.sysid against nfoursid and python-control, in one run.

Run from the repository root (needs the ``bench`` extra: nfoursid, control)::

    python benchmarks/bench_sysid.py [--seeds 10] [--repeats 3]

Scenario 1 and 2: the 4-state, 2-input, 2-output example system
(``sysid.example_system``), white-noise inputs, 1000 samples, output noise
0.01. Every method gets the same estimation record; every model is scored on
a separate validation record (another input, another noise draw, 1000
samples) that no method saw, and its fit is computed the same way
(simulation from the least-squares initial state of the validation record),
against the true model's fit on that record. Compared:

* structsparse, no pattern: PO-MOESP + prediction-error refinement;
* structsparse, identifiable pattern (known sensors, two known couplings,
  structural zeros);
* nfoursid (N4SID, 10 block rows);
* python-control: ``markov`` (60 Markov parameters by least squares) + ERA.

Scenario 3: a 20-state sparse network with 5 inputs
(``sysid.example_network``), measured states, 2000 samples, process noise
0.01: support precision / recall / F1 of the discovered pattern of A and B,
and the one-step state prediction fit of the identified model on a separate
validation record (2000 other samples of the same network).

Times: one BLAS thread for every method (threadpoolctl), a warm-up call
first, then the median of ``--repeats`` calls. The first call in a fresh
process (numba cache load) is reported separately. The machine may be busy:
times are indicative; the ratios, measured in the same run, are what count.
"""

import argparse
import time
import warnings

import numpy as np

from structsparse import sysid
from structsparse.sysid.subspace import input_output_regressors


def _fit_with_best_x0(A, B, C, D, u, y):
    """Fit index of a model simulated from the least-squares initial state (same for every method)."""
    n = A.shape[0]
    Phi = input_output_regressors(A, C, u, u.shape[1], feedthrough=False)[:, :n]
    y_zero = sysid.StateSpace(A, B, C, D).simulate(u).y
    x0 = np.linalg.lstsq(Phi, (y - y_zero).ravel(), rcond=None)[0]
    return sysid.fit_index(y, sysid.StateSpace(A, B, C, D).simulate(u, x0=x0).y)


def ours_free(u, y):
    return sysid.identify(u, y, 4, rng=0).model.matrices


def make_ours_structured(pattern):
    def ours_structured(u, y):
        return sysid.identify(u, y, 4, pattern=pattern, rng=0).model.matrices
    return ours_structured


def nfoursid_run(u, y):
    import pandas as pd
    from nfoursid.nfoursid import NFourSID

    df = pd.DataFrame(np.hstack([u, y]), columns=["u1", "u2", "y1", "y2"])
    nf = NFourSID(df, output_columns=["y1", "y2"], input_columns=["u1", "u2"], num_block_rows=10)
    nf.subspace_identification()
    ss_, _ = nf.system_identification(rank=4)
    return ss_.a, ss_.b, ss_.c, ss_.d


def control_era_run(u, y):
    import control

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        H = control.markov(y.T, u.T, m=60)
        sysd, _ = control.eigensys_realization(H, 4)
    return sysd.A, sysd.B, sysd.C, sysd.D


def _median_time(fn, u, y, repeats):
    fn(u, y)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn(u, y)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def _rel_entry_error(true, mats):
    return max(float(np.max(np.abs(np.asarray(F) - T)[T != 0] / np.abs(T[T != 0])))
               for T, F in zip(true.matrices[:3], mats[:3]))


def scenario_io(seeds, repeats):
    system, pattern = sysid.example_system()
    methods = {
        "structsparse (no pattern)": ours_free,
        "structsparse (pattern)": make_ours_structured(pattern),
        "nfoursid": nfoursid_run,
        "python-control markov+ERA": control_era_run,
    }
    rows = {k: {"fit_gap": [], "pole": [], "time": [], "entry": []} for k in methods}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        u = rng.standard_normal((1000, 2))
        y = system.simulate(u, measurement_noise=0.01, rng=seed + 1000).y
        # validation record: never shown to any method
        u_val = np.random.default_rng(seed + 5000).standard_normal((1000, 2))
        y_val = system.simulate(u_val, measurement_noise=0.01, rng=seed + 6000).y
        true_fit = sysid.fit_index(y_val, system.simulate(u_val).y)
        for name, fn in methods.items():
            t, mats = _median_time(fn, u, y, repeats)
            fit = _fit_with_best_x0(*[np.asarray(M, float) for M in mats], u_val, y_val)
            rows[name]["fit_gap"].append(float(np.min(fit - true_fit)))
            rows[name]["pole"].append(sysid.pole_error(system.poles(), np.linalg.eigvals(mats[0])))
            rows[name]["time"].append(t)
            rows[name]["entry"].append(_rel_entry_error(system, mats))
    print(f"\n## 4 states, 2 inputs, 2 outputs, 1000 samples, output noise 0.01 ({seeds} data sets; "
          "fits on a separate validation record)\n")
    print("| method | worst validation fit - true model's [points] | pole error (mean / max) | "
          "largest relative error of A, B, C entries | time, median [ms] |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {min(r['fit_gap']):+.4f} | {np.mean(r['pole']):.1e} / {np.max(r['pole']):.1e} | "
              f"{np.max(r['entry']):.2%} | {1e3 * np.median(r['time']):.1f} |")
    ours, nf = rows["structsparse (no pattern)"], rows["nfoursid"]
    print(f"\nstructsparse (no pattern) / nfoursid: time ratio {np.median(ours['time']) / np.median(nf['time']):.2f}, "
          f"mean pole error ratio {np.mean(ours['pole']) / np.mean(nf['pole']):.2f}; "
          f"pole error no worse on {sum(a <= b for a, b in zip(ours['pole'], nf['pole']))}/{seeds} data sets")
    return rows


def scenario_network(seeds):
    print(f"\n## 20-state sparse network, 5 inputs, measured states, 2000 samples, process noise 0.01 ({seeds} networks)\n")
    print("| penalty | mean precision | mean recall | F1 (min / mean) | validation one-step fit, min [%] | "
          "true model's, min [%] | time, median [s] |")
    print("|---|---|---|---|---|---|---|")
    for pen in ("l1", "sparse_group_lasso", "group_lasso"):
        prec, rec, f1, times, val, val_true = [], [], [], [], [], []
        for seed in range(seeds):
            net = sysid.example_network(rng=seed)
            rng = np.random.default_rng(seed)
            u = rng.standard_normal((2000, 5))
            x = net.simulate(u, process_noise=0.01, rng=seed + 1000).x
            t = time.perf_counter()
            res = sysid.identify(u, None, 20, penalty=pen, x=x)
            times.append(time.perf_counter() - t)
            s = sysid.support_scores(net, res.pattern)
            prec.append(s["precision"])
            rec.append(s["recall"])
            f1.append(s["f1"])
            # validation record of the same network, never seen by identify: one-step state prediction
            u_val = np.random.default_rng(seed + 5000).standard_normal((2000, 5))
            x_val = net.simulate(u_val, process_noise=0.01, rng=seed + 6000).x
            A_hat, B_hat = np.asarray(res.model.A), np.asarray(res.model.B)
            val.append(float(np.min(sysid.fit_index(x_val[1:], x_val[:-1] @ A_hat.T + u_val[:-1] @ B_hat.T))))
            A_true, B_true = np.asarray(net.A), np.asarray(net.B)
            val_true.append(float(np.min(sysid.fit_index(x_val[1:], x_val[:-1] @ A_true.T + u_val[:-1] @ B_true.T))))
        print(f"| {pen} | {np.mean(prec):.3f} | {np.mean(rec):.3f} | {min(f1):.3f} / {np.mean(f1):.3f} | "
              f"{min(val):.2f} | {min(val_true):.2f} | {np.median(times):.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    system, _ = sysid.example_system()
    rng = np.random.default_rng(0)
    u = rng.standard_normal((1000, 2))
    y = system.simulate(u, measurement_noise=0.01, rng=1).y
    t = time.perf_counter()
    sysid.identify(u, y, 4)
    print(f"First identify call in this process (numba cache load included): {1e3 * (time.perf_counter() - t):.0f} ms")
    with threadpool_limits(limits=1, user_api="blas"):
        scenario_io(args.seeds, args.repeats)
        scenario_network(args.seeds)
    print("\nOne BLAS thread for every method; the machine may be shared, so times are indicative.")


if __name__ == "__main__":
    main()
