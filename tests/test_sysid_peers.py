"""Against nfoursid and python-control on the same data (slow; needs the bench extra)."""

import numpy as np
import pytest

from structsparse import sysid

pytestmark = pytest.mark.slow


def _nfoursid_poles(u, y):
    pd = pytest.importorskip("pandas")
    nfoursid = pytest.importorskip("nfoursid.nfoursid")
    df = pd.DataFrame(np.hstack([u, y]), columns=["u1", "u2", "y1", "y2"])
    nf = nfoursid.NFourSID(df, output_columns=["y1", "y2"], input_columns=["u1", "u2"], num_block_rows=10)
    nf.subspace_identification()
    model, _ = nf.system_identification(rank=4)
    return np.linalg.eigvals(model.a)


def test_mean_pole_error_no_worse_than_nfoursid():
    system, _ = sysid.example_system()
    ours, theirs = [], []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        u = rng.standard_normal((1000, 2))
        y = system.simulate(u, measurement_noise=0.01, rng=seed + 1000).y
        ours.append(sysid.pole_error(system.poles(), sysid.identify(u, y, 4, rng=seed).model.poles()))
        theirs.append(sysid.pole_error(system.poles(), _nfoursid_poles(u, y)))
    assert np.mean(ours) <= np.mean(theirs)


def test_to_control_model_has_same_response():
    control = pytest.importorskip("control")
    system, _ = sysid.example_system()
    u = np.random.default_rng(0).standard_normal((100, 2))
    resp = control.forced_response(system.to_control(), U=u.T)
    np.testing.assert_allclose(resp.outputs.T, system.simulate(u).y, atol=1e-10)
