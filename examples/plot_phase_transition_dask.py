"""
A phase transition on a dask cluster
====================================

The success rate of group basis pursuit and l1 over a grid of measurement
counts, with the trials run by a ``dask.distributed`` cluster (here a
``LocalCluster`` of two single-threaded workers; pass the address of a real
scheduler instead to use one). The sweep is tiny so it runs in seconds: a
real one uses 20 or more trials per point (``structsparse phase --scheduler``).
If dask is not installed the example says so and stops.
"""

from structsparse import cs

try:
    from dask.distributed import Client, LocalCluster
except ImportError:  # pragma: no cover - depends on the environment
    Client = None
    print("dask.distributed is not installed (pip install 'structsparse[distributed]'): skipping the sweep")

if Client is not None:
    model = cs.BlockSparse(n=128, block_size=8, k_blocks=3)
    m_grid = [24, 40, 56, 72]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        table = cs.phase_transition(model, ["group_lasso", "l1"], m_grid, n_trials=3, executor=client.get_executor(), rng=0,
                                    progress=False)
    print(table)
    rates = table.success_rates()
    for method, (m, rate) in rates.items():
        print(f"{method:12s}", "  ".join(f"M={mi}: {r:.2f}" for mi, r in zip(m, rate)),
              f"  50% point: {table.transition_point(method)}")
    for method in rates:
        print(f"statistical-dimension prediction of the 50% point for {method}: "
              f"M = {cs.predicted_threshold(model, method):.0f}")

    # success curves, the 50% points (crosses) and the predictions (dashed)
    fig = table.plot(title="N=128, blocks of 8, 3 active, 3 trials per M")
