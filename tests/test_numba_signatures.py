"""Kernels that are handed read-only arrays on some paths and fresh ones on others compile one signature.

numba's array type includes writability, so such a kernel would compile (and, on a fresh install, cache) a
second specialization. ``structsparse._numba.read_only_arguments`` and ``read_only_view`` hand it read-only
views (no copy) instead.
"""

import importlib

import numpy as np
import pytest

from structsparse._numba import NUMBA_ENABLED, read_only_arguments, read_only_view
from structsparse.solvers._admm_kernels import z_update_numba, z_update_numpy
from structsparse.sysid import _kernels as sysid_kernels

# the module (structsparse.solvers re-exports the function admm under the same name)
admm_module = importlib.import_module("structsparse.solvers.admm")


def _frozen(a):
    a = np.array(a)
    a.setflags(write=False)
    return a


def test_read_only_arguments_passes_views_and_leaves_the_callers_arrays_writable():
    seen = []
    wrapped = read_only_arguments(lambda *args: seen.extend(args))
    a, b = np.arange(5.0), np.arange(3)
    frozen = _frozen(np.zeros(2))
    wrapped(a, b, 2.5, frozen)
    assert [x.flags.writeable for x in seen if isinstance(x, np.ndarray)] == [False, False, False]
    assert np.shares_memory(seen[0], a) and seen[3] is frozen and seen[2] == 2.5
    assert a.flags.writeable and b.flags.writeable
    assert read_only_view(frozen) is frozen


def _signatures(kernel):
    return list(getattr(kernel, "signatures", []))


@pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")
def test_admm_z_update_compiles_once_for_read_only_and_fresh_group_pointers():
    rng = np.random.default_rng(0)
    gx, z, u = (rng.standard_normal((7, 2)) for _ in range(3))
    thresholds, alpha = np.array([0.5, 3.0, 0.0]), 1.6
    fresh_ptr = np.array([0, 2, 5, 7])
    assert admm_module._z_update.kernel is z_update_numba
    first = admm_module._z_update(gx, z, u, fresh_ptr, thresholds, alpha)
    before = _signatures(z_update_numba)
    second = admm_module._z_update(gx, z, u, _frozen(fresh_ptr), thresholds, alpha)
    assert _signatures(z_update_numba) == before   # nothing new compiled for the read-only pointer
    expected = z_update_numpy(gx, z, u, fresh_ptr, thresholds, alpha)
    for got in (first, second):
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    assert gx.flags.writeable and fresh_ptr.flags.writeable


@pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")
def test_sysid_propagate_compiles_once_for_read_only_and_fresh_matrices():
    rng = np.random.default_rng(1)
    A = 0.5 * rng.standard_normal((3, 3))
    F = rng.standard_normal((6, 3, 2))
    S0 = rng.standard_normal((3, 2))
    first = sysid_kernels.propagate(A, F, S0)
    before = _signatures(sysid_kernels._propagate_numba)
    second = sysid_kernels.propagate(_frozen(A), F, _frozen(S0))
    assert _signatures(sysid_kernels._propagate_numba) == before
    expected = sysid_kernels.propagate_numpy(A, F, S0)
    np.testing.assert_allclose(first, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(second, expected, rtol=1e-12, atol=1e-12)
    assert A.flags.writeable and F.flags.writeable


@pytest.mark.skipif(not NUMBA_ENABLED, reason="numba disabled")
@pytest.mark.parametrize("module", ["overlap_group_lasso", "latent_group_lasso"])
def test_overlap_prox_sweeps_compile_once_for_read_only_and_fresh_groups(module):
    from structsparse.penalties._overlap_kernels import overlap_bcd_numba, overlap_bcd_numpy
    bcd = importlib.import_module(f"structsparse.penalties.{module}")._bcd
    assert bcd.kernel is overlap_bcd_numba
    rng = np.random.default_rng(2)
    v = rng.standard_normal((6, 1))
    indices, ptr = np.array([0, 1, 2, 2, 3, 4, 5]), np.array([0, 3, 5, 7])
    c = np.zeros((indices.size, 1))
    radii = np.array([0.4, 0.7, 0.2])
    args = (v, c, indices, ptr, radii, 1e-12, 500, 5)
    first = bcd(0, *args)
    before = _signatures(overlap_bcd_numba)
    second = bcd(0, v, c, _frozen(indices), _frozen(ptr), radii, 1e-12, 500, 5)
    assert _signatures(overlap_bcd_numba) == before
    expected = overlap_bcd_numpy(0, *args)
    for got in (first, second):
        for g, e in zip(got[:2], expected[:2]):
            np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
    assert v.flags.writeable and c.flags.writeable and indices.flags.writeable
