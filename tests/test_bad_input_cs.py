"""Bad-input suite, compressive sensing: operators, models, recovery, RIP, phase transitions, and the
``recover``, ``rip`` and ``phase`` commands (issue 10). One row per case; shared assertion in ``_bad_input``.
"""

import json
import os
import sys
import tempfile
import warnings

import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator

from structsparse import cs, sysid
from structsparse.exceptions import ConvergenceWarning, ParameterError, ShapeError, StructureError

sys.path.insert(0, os.path.dirname(__file__))
from _bad_input import CLI, OK, Case, assert_case  # noqa: E402

TMP = tempfile.mkdtemp(prefix="bad_input_cs_")
rng = np.random.default_rng(0)
MODEL = cs.BlockSparse(64, 4, 2)
A = cs.as_matrix(cs.gaussian(30, 64, rng=0))
x0 = MODEL.sample(rng=1)
y = A @ x0
no_adjoint = LinearOperator((30, 64), matvec=lambda v: A @ v, dtype=float)
complex_op = LinearOperator((30, 64), matvec=lambda v: A @ v, rmatvec=lambda r: A.T @ r, dtype=complex)


def path(name):
    return os.path.join(TMP, name)


def write(name, data, mode="w"):
    with open(path(name), mode) as fh:
        fh.write(data)
    return path(name)


# files given where an .npz is expected
np.savez(path("good.npz"), A=A, y=y, x=x0)
write("truncated.npz", open(path("good.npz"), "rb").read()[:200], "wb")
write("text.npz", "A,y\n1,2\n")
np.save(path("matrix.npy"), A)
np.savez(path("missing_y.npz"), A=A)
np.savez(path("complex.npz"), A=A + 1j, y=y)
np.savez(path("nan.npz"), A=np.where(A > 0.3, np.nan, A), y=y)
np.savez(path("wide.npz"), A=A[:, :40], y=y)
np.savez(path("A3d.npz"), A=A.reshape(30, 8, 8), y=y)
np.savez(path("ylen.npz"), A=A, y=y[:-3])
np.save(path("matrix1d.npy"), A[0])
np.save(path("objects.npy"), np.array([[1, "a"]], dtype=object), allow_pickle=True)
write("text.npy", "hello")
RO = path("readonly")
os.mkdir(RO)
os.chmod(RO, 0o555)
if os.access(RO, os.W_OK):  # root writes anywhere: use a folder no one may write
    RO = "/sys/fs"


# sweep files on resume
def sweep_args(out, extra=()):
    return ["phase", "--model", "block", "--n", "64", "--block-size", "4", "--k", "2", "--m-grid", "20:30:10",
            "--trials", "2", "--methods", "model_cosamp", "--workers", "1", "--no-progress", "--seed", "0",
            "--out", out, *extra]


def _sweep_file(name, mutate):
    out = path(name)
    cs.phase_transition(MODEL, ["model_cosamp"], [20, 30], 2, executor=cs.SerialExecutor(), rng=0,
                        resume_file=out, progress=False)
    data = json.load(open(out))
    mutate(data)
    with open(out, "w") as fh:
        json.dump(data, fh)
    return out


def _drop_key(d):
    del d["rows"][0]["m"]


def _dup(d):
    d["rows"].append(dict(d["rows"][0]))


def _m_out(d):
    d["rows"][0]["m"] = 10 ** 6


def _trial_neg(d):
    d["rows"][0]["trial"] = -1


def _no_meta(d):
    del d["meta"]


def _no_seed(d):
    del d["meta"]["base_seed"]


def _rows_not_list(d):
    d["rows"] = {"a": 1}


def _success_text(d):
    d["rows"][0]["success"] = "maybe"


SWEEPS = {name: _sweep_file(f"sweep_{name}.json", fn) for name, fn in [
    ("missing_key", _drop_key), ("duplicate", _dup), ("m_out", _m_out), ("trial_negative", _trial_neg),
    ("no_meta", _no_meta), ("no_seed", _no_seed), ("rows_dict", _rows_not_list), ("success_text", _success_text)]}
good_sweep = _sweep_file("sweep_good.json", lambda d: None)
SWEEPS["truncated"] = write("sweep_truncated.json", open(good_sweep).read()[:-40])
SWEEPS["empty"] = write("sweep_empty.json", "")
SWEEPS["not_json"] = write("sweep_binary.json", "\x00\x01PK")

CASES = []


def add(id, category, call, expect, names=(), **kw):
    CASES.append(Case(id, category, call, expect, names, **kw))


# ---- operators
for opname, op in [("gaussian", cs.gaussian), ("bernoulli", cs.bernoulli), ("partial_dct", cs.partial_dct)]:
    add(f"{opname}-m-0", "empty", lambda op=op: op(0, 64, rng=0), ParameterError, "m")
    add(f"{opname}-m-negative", "arguments", lambda op=op: op(-3, 64, rng=0), ParameterError, "m")
    add(f"{opname}-n-0", "empty", lambda op=op: op(10, 0, rng=0), ParameterError, "n")
    add(f"{opname}-m-float", "data types", lambda op=op: op(10.5, 64, rng=0), ParameterError, "m")
    add(f"{opname}-rng-bad", "data types", lambda op=op: op(10, 64, rng="x"), ParameterError, "rng")
add("partial_dct-m-greater-than-n", "sizes", lambda: cs.partial_dct(80, 64, rng=0), ParameterError, "m")
add("DenseOperator-complex", "data types", lambda: cs.DenseOperator(A + 1j), (ShapeError, ParameterError), ("matrix", "A"))
add("DenseOperator-1d", "arguments", lambda: cs.DenseOperator(A[0]), ShapeError, ("matrix", "A"))
add("DenseOperator-string", "data types", lambda: cs.DenseOperator(A.astype(str)), ShapeError, ("matrix", "A"))
add("wavelet_synthesis-unknown-wavelet", "arguments", lambda: cs.wavelet_synthesis(64, "db99"), ParameterError, "wavelet")
add("wavelet_synthesis-level-too-high", "sizes", lambda: cs.wavelet_synthesis(64, "db4", level=20), ParameterError, "level")
add("wavelet_synthesis-n-odd", "arguments", lambda: cs.wavelet_synthesis(63), ParameterError, "n")
add("dottest-no-rmatvec", "operators", lambda: cs.dottest(no_adjoint), ParameterError, ("rmatvec", "adjoint"))
add("dottest-complex-operator", "operators", lambda: cs.dottest(complex_op), ParameterError, ("op", "real", "complex"))
add("dottest-n_trials-0", "arguments", lambda: cs.dottest(cs.DenseOperator(A), n_trials=0), ParameterError, "n_trials")
add("dottest-rtol-negative", "arguments", lambda: cs.dottest(cs.DenseOperator(A), rtol=-1.0), ParameterError, "rtol")
add("dottest-array", "data types", lambda: cs.dottest(A), OK, check=lambda r: r is None or bool(r) or r == r)
add("columns-index-out", "arguments", lambda: cs.columns(A, [0, 99]), (ShapeError, ParameterError), "idx")
add("partial_fourier-mask-shape", "arguments", lambda: cs.partial_fourier((8, 8), np.ones((4, 4), bool)), ShapeError, "mask")
add("partial_fourier-mask-empty", "empty", lambda: cs.partial_fourier((8, 8), np.zeros((8, 8), bool)), ParameterError, "mask")
add("partial_dct2-mask-float", "data types", lambda: cs.partial_dct2((8, 8), np.full((8, 8), 0.5)), (ShapeError, ParameterError), "mask")
add("mask_variable_density-m-too-large", "sizes", lambda: cs.mask_variable_density((8, 8), 100, rng=0), ParameterError, "m")
add("mask_radial-n_lines-0", "arguments", lambda: cs.mask_radial((8, 8), 0), ParameterError, "n_lines")
add("mask_cartesian-n_lines-too-many", "sizes", lambda: cs.mask_cartesian((8, 8), 20, rng=0), ParameterError, "n_lines")

# ---- signal models
add("Sparse-k-0", "empty", lambda: cs.Sparse(64, 0), ParameterError, "k")
add("Sparse-k-greater-than-n", "sizes", lambda: cs.Sparse(64, 65), ParameterError, "k")
add("Sparse-n-negative", "arguments", lambda: cs.Sparse(-1, 2), ParameterError, "n")
add("BlockSparse-n-not-multiple", "arguments", lambda: cs.BlockSparse(65, 4, 2), ParameterError, ("block_size", "n"))
add("BlockSparse-k_blocks-too-many", "sizes", lambda: cs.BlockSparse(64, 4, 17), ParameterError, "k_blocks")
add("BlockSparse-block_size-0", "arguments", lambda: cs.BlockSparse(64, 0, 2), ParameterError, "block_size")
add("TreeSparse-k-too-many", "sizes", lambda: cs.TreeSparse(64, 65), ParameterError, "k")
add("TreeSparse-wavelet-unknown", "arguments", lambda: cs.TreeSparse(64, 5, wavelet="nope"), ParameterError, "wavelet")
add("TreeSparse-projection-unknown", "arguments", lambda: cs.TreeSparse(64, 20, projection="greedy"), ParameterError, "projection")
add("BlockSparse2D-shape-not-divisible", "arguments", lambda: cs.BlockSparse2D((9, 8), (2, 2), 2), ParameterError, ("block_shape", "shape"))
add("TreeSparse2D-shape-1d", "arguments", lambda: cs.TreeSparse2D((64,), 5), (ParameterError, ShapeError), "shape")
add("model-sample-rng-bad", "data types", lambda: MODEL.sample(rng=-1), ParameterError, "rng")
add("model-project-wrong-length", "arguments", lambda: MODEL.approx(np.ones(10)), ShapeError, ("x", "length"))
add("model-project-complex", "data types", lambda: MODEL.approx(np.ones(64) + 1j), ShapeError, "x")

# ---- recover: every method, bad data
for method in cs.METHODS:
    if method == "tree_lasso":
        continue
    add(f"recover-{method}-no-rmatvec", "operators", lambda mt=method: cs.recover(no_adjoint, y, MODEL, method=mt),
        ParameterError, ("rmatvec", "adjoint"))
    add(f"recover-{method}-y-length", "arguments", lambda mt=method: cs.recover(A, y[:-1], MODEL, method=mt), ShapeError, "y")
    add(f"recover-{method}-y-complex", "data types", lambda mt=method: cs.recover(A, y + 1j, MODEL, method=mt), ShapeError, "y")
add("recover-A-complex", "data types", lambda: cs.recover(A + 1j, y, MODEL), ShapeError, "A")
add("recover-A-complex-operator", "data types", lambda: cs.recover(complex_op, y, MODEL), ParameterError, ("A", "real"))
add("recover-A-object-text", "data types", lambda: cs.recover(np.where(A > 0, A, "x").astype(object), y, MODEL), ShapeError, "A")
add("recover-A-columns-vs-model", "arguments", lambda: cs.recover(A[:, :40], y, MODEL), ShapeError, ("A", "n="))
add("recover-method-unknown", "arguments", lambda: cs.recover(A, y, MODEL, method="omp2"), ParameterError, "method")
add("recover-model-not-model", "data types", lambda: cs.recover(A, y, 4), TypeError, "model")
add("recover-noise-negative", "arguments", lambda: cs.recover(A, y, MODEL, noise=-0.1), ParameterError, "noise")
add("recover-tol-0", "arguments", lambda: cs.recover(A, y, MODEL, tol=0.0), ParameterError, "tol")
add("recover-max_iter-0", "arguments", lambda: cs.recover(A, y, MODEL, max_iter=0), ParameterError, "max_iter")
add("recover-max_iter-float", "data types", lambda: cs.recover(A, y, MODEL, max_iter=2.5), ParameterError, "max_iter")
add("recover-max_iter-string", "data types", lambda: cs.recover(A, y, MODEL, max_iter="10"), ParameterError, "max_iter")
add("recover-tree_lasso-block-model", "arguments", lambda: cs.recover(A, y, MODEL, method="tree_lasso"), ParameterError, ("method", "tree_lasso"))
add("recover-y-zero", "empty", lambda: cs.recover(A, np.zeros(30), MODEL, method="model_cosamp"), OK,
    check=lambda r: np.all(r.x == 0))
add("recover-y-nan", "data types", lambda: cs.recover(A, np.where(y > 0, np.nan, y), MODEL), ShapeError, "y")
add("recover-A-scaled-1e200", "numerical extremes", lambda: cs.recover(A * 1e200, y, MODEL, method="l1"), (OK, ParameterError),
    ("A", "scale"), check=lambda r: r.relative_error(x0 / 1e200) < 1e-3 and r.support.size > 0)
add("recover-A-scaled-1e-200", "numerical extremes", lambda: cs.recover(A * 1e-200, y, MODEL, method="group_lasso"), (OK, ParameterError),
    ("A", "scale"), check=lambda r: r.relative_error(x0 * 1e200) < 1e-3 and r.support.size > 0)
add("recover-cosamp-A-scaled-1e200", "numerical extremes", lambda: cs.recover(A * 1e200, y, MODEL, method="model_cosamp"), (OK, ParameterError),
    ("A", "scale"), check=lambda r: r.relative_error(x0 / 1e200) < 1e-6)
def _unconverged(method, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = cs.recover(A[:14], y[:14], MODEL, method=method, **kw)
    return r, caught


def _warned_if_unconverged(rc):
    """A ConvergenceWarning exactly when the result says converged=False (most of these runs stop early)."""
    r, caught = rc
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return (not r.converged) == warned


assert not _unconverged("model_iht", max_iter=1)[0].converged  # the property below is not vacuous
for method in cs.METHODS:
    if method != "tree_lasso":
        add(f"recover-{method}-max_iter-1-warns", "faults", lambda mt=method: _unconverged(mt, max_iter=1), OK,
            check=_warned_if_unconverged)

# ---- RIP
add("rip_estimate-n_samples-0", "arguments", lambda: cs.rip_estimate(A, MODEL, n_samples=0, rng=0), ParameterError, "n_samples")
add("rip_estimate-search-unknown", "arguments", lambda: cs.rip_estimate(A, MODEL, search="anneal", rng=0), ParameterError, "search")
add("rip_estimate-A-wrong-columns", "arguments", lambda: cs.rip_estimate(A[:, :40], MODEL, rng=0), ShapeError, "A")
add("rip_estimate-A-complex", "data types", lambda: cs.rip_estimate(A + 1j, MODEL, rng=0), ShapeError, "A")
add("rip_estimate-support-larger-than-m", "sizes", lambda: cs.rip_estimate(A[:4], MODEL, n_samples=5, rng=0), (OK, ParameterError),
    ("A", "m", "support"), check=lambda e: e.smin_model == 0 or e.delta_model >= 1 - 1e-9)
add("rip_estimate-no-rmatvec", "operators", lambda: cs.rip_estimate(no_adjoint, MODEL, n_samples=5, rng=0), OK,
    check=lambda e: np.isfinite(e.delta_model))

# ---- phase transitions
PT = dict(executor=None, progress=False)
add("phase-m_grid-empty", "arguments", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [], 2, **PT), ParameterError, "m_grid")
add("phase-m_grid-0", "arguments", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [0, 10], 2, **PT), ParameterError, "m_grid")
add("phase-m_grid-above-n", "sizes", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [100], 2, **PT), ParameterError, "m_grid")
add("phase-m_grid-string", "data types", lambda: cs.phase_transition(MODEL, ["model_cosamp"], "10,20", 2, **PT), TypeError, "m_grid")
add("phase-n_trials-0", "arguments", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 0, **PT), ParameterError, "n_trials")
add("phase-methods-empty", "empty", lambda: cs.phase_transition(MODEL, [], [20], 2, **PT), ParameterError, "methods")
add("phase-methods-unknown", "arguments", lambda: cs.phase_transition(MODEL, ["lasso"], [20], 2, **PT), ParameterError, "methods")
add("phase-n_workers-0", "arguments", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 1, n_workers=0, **PT), ParameterError, "n_workers")
add("phase-n_workers-negative", "arguments", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 1, n_workers=-2, **PT), ParameterError, "n_workers")
add("phase-n_workers-with-executor", "arguments",
    lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 1, executor=cs.SerialExecutor(), n_workers=2, progress=False),
    ParameterError, ("n_workers", "executor"))
add("phase-executor-bad", "data types", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 1, executor=3, progress=False), TypeError, "executor")
add("phase-success_tol-0", "arguments", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 1, success_tol=0.0, **PT), ParameterError, "success_tol")
add("phase-operator-unknown", "arguments", lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 1, operator="fourier", **PT), ParameterError, "operator")
add("phase-resume-file-in-missing-folder", "output paths",
    lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 1, executor=cs.SerialExecutor(), resume_file=path("nope/s.json"), progress=False),
    OSError, ("nope", "resume_file"))
add("phase-resume-file-readonly-folder", "output paths",
    lambda: cs.phase_transition(MODEL, ["model_cosamp"], [20], 1, executor=cs.SerialExecutor(), resume_file=os.path.join(RO, "s.json"), progress=False),
    OSError, (RO,))
for name, f in SWEEPS.items():
    add(f"phase-resume-{name}", "files",
        lambda f=f: cs.phase_transition(MODEL, ["model_cosamp"], [20, 30], 2, executor=cs.SerialExecutor(), rng=0, resume_file=f, progress=False),
        ParameterError, os.path.basename(f))
    if name == "m_out":  # the file alone is consistent: only the sweep knows n
        add(f"load_table-{name}", "files", lambda f=f: cs.load_table(f), OK, check=lambda t: t[1][0]["m"] == 10 ** 6)
    else:
        add(f"load_table-{name}", "files", lambda f=f: cs.load_table(f), ParameterError, os.path.basename(f))
    # PhaseTable.load reads the same files (a table need not say which seed made it)
    if name in ("m_out", "no_seed"):
        add(f"PhaseTable.load-{name}", "files", lambda f=f: cs.PhaseTable.load(f), OK,
            check=lambda t: isinstance(t, cs.PhaseTable) and len(t) > 0)
    else:
        add(f"PhaseTable.load-{name}", "files", lambda f=f: cs.PhaseTable.load(f), ParameterError, os.path.basename(f))
add("PhaseTable.load-missing", "files", lambda: cs.PhaseTable.load(path("nothing.json")), OSError, "nothing.json")
add("PhaseTable.load-statespace-file", "files",
    lambda: cs.PhaseTable.load(sysid.example_system()[0].save(path("model.json"))), ParameterError,
    ("model.json", "StateSpace", "PhaseTable"))
add("PhaseTable-rows-text", "data types", lambda: cs.PhaseTable("rows"), TypeError, "rows")
add("load_table-missing", "files", lambda: cs.load_table(path("nothing.json")), OSError, "nothing.json")
add("load_table-folder", "files", lambda: cs.load_table(TMP), OSError, os.path.basename(TMP))
add("transition_point-method-absent", "arguments", lambda: cs.transition_point(cs.load_table(good_sweep)[1], "l1"), ParameterError, ("method", "l1"))
add("transition_point-level-nan", "arguments", lambda: cs.transition_point(cs.load_table(good_sweep)[1], "model_cosamp", level=float("nan")), ParameterError, "level")
add("success_rates-rows-missing-keys", "files", lambda: cs.success_rates([{"method": "l1"}]), ParameterError, ("table", "row"))

# ---- real data, metrics
add("load_signal-unknown", "arguments", lambda: cs.load_signal("sine"), ParameterError, "name")
add("load_signal-n-0", "empty", lambda: cs.load_signal("heavisine", n=0), ParameterError, "n")
add("load_image-size-not-dividing", "arguments", lambda: cs.load_image("camera", size=100), ParameterError, "size")
add("load_image-unknown", "arguments", lambda: cs.load_image("lena"), ParameterError, "name")
add("make_problem-fraction-0", "arguments", lambda: cs.make_problem("heavisine", fraction=0.0, n=64), ParameterError, "fraction")
add("make_problem-fraction-2", "sizes", lambda: cs.make_problem("heavisine", fraction=2.0, n=64), ParameterError, "fraction")
add("psnr-shape-mismatch", "arguments", lambda: cs.psnr(np.ones((8, 8)), np.ones((8, 4))), ShapeError, ("image", "reference", "shape"))
add("psnr-complex", "data types", lambda: cs.psnr(np.ones((8, 8)) + 1j, np.ones((8, 8))), ShapeError, "reference")
add("ssim-shape-mismatch", "arguments", lambda: cs.ssim(np.ones((16, 16)), np.ones((16, 8))), ShapeError, ("image", "reference", "shape"))
add("ssim-constant-reference", "empty", lambda: cs.ssim(np.ones((16, 16)), np.ones((16, 16))), (OK, ParameterError),
    ("data_range", "reference"), check=lambda s: np.isclose(s, 1.0))
add("best_k_term_error-k-negative", "arguments", lambda: cs.best_k_term_error(np.ones(8), -1), ParameterError, "k")
add("statdim_l1-s-above-n", "sizes", lambda: cs.statdim_l1(10, 11), OK, check=lambda d: d == 10)  # documented

# ---- CLI: recover
add("cli-recover-data-missing", "files", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("absent.npz")], CLI, "absent.npz")
add("cli-recover-data-truncated", "files", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("truncated.npz")], CLI, "truncated.npz")
add("cli-recover-data-text", "files", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("text.npz")], CLI, "text.npz")
add("cli-recover-data-npy", "files", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("matrix.npy")], CLI, "matrix.npy")
add("cli-recover-data-missing-y", "files", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("missing_y.npz")], CLI, ("missing_y.npz", "'y'"))
add("cli-recover-data-complex", "data types", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("complex.npz")], CLI, ("A", "complex.npz"))
add("cli-recover-data-nan", "data types", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("nan.npz")], CLI, ("A", "nan.npz"))
add("cli-recover-data-columns", "arguments", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("wide.npz")], CLI, ("A", "--n"))
add("cli-recover-data-3d", "arguments", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("A3d.npz")], CLI, ("A", "2-D"))
add("cli-recover-data-y-length", "arguments", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", path("ylen.npz")], CLI, "y")
add("cli-recover-data-folder", "files", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--data", TMP], CLI, os.path.basename(TMP))
add("cli-recover-m-0", "empty", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--m", "0"], CLI, ("m",))
add("cli-recover-m-negative", "arguments", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--m", "-5"], CLI, ("m",))
add("cli-recover-n-not-multiple", "arguments", ["recover", "--n", "65", "--block-size", "4", "--k", "2", "--m", "20"], CLI, ("block_size", "n"))
add("cli-recover-k-too-big", "sizes", ["recover", "--n", "64", "--block-size", "4", "--k", "40", "--m", "20"], CLI, "k")
add("cli-recover-noise-negative", "arguments", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--m", "20", "--noise", "-1"], CLI, "noise")
add("cli-recover-method-unknown", "arguments", ["recover", "--method", "omp9"], CLI, "method")
add("cli-recover-n-text", "data types", ["recover", "--n", "abc"], CLI, "n")
add("cli-recover-plot-missing-folder", "output paths", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--m", "30", "--plot", path("no/dir/f.png")], CLI, ("no/dir", "plot"))
add("cli-recover-plot-readonly", "output paths", ["recover", "--n", "64", "--block-size", "4", "--k", "2", "--m", "30", "--plot", os.path.join(RO, "f.png")], CLI, (RO, "plot"))
add("cli-recover-signal-and-image", "arguments", ["recover", "--signal", "ecg", "--image", "camera"], CLI, ("--signal", "--image"))
add("cli-recover-image-size", "arguments", ["recover", "--image", "camera", "--size", "100"], CLI, "size")
add("cli-recover-sampling-unknown", "arguments", ["recover", "--signal", "heavisine", "--n", "64", "--sampling", "radial"], CLI, "sampling")
add("cli-recover-fraction-0", "arguments", ["recover", "--signal", "heavisine", "--n", "64", "--fraction", "0"], CLI, "fraction")
add("cli-recover-tree-wavelet", "arguments", ["recover", "--model", "tree", "--n", "64", "--k", "5", "--m", "30", "--wavelet", "zz"], CLI, "wavelet")

# ---- CLI: rip
add("cli-rip-matrix-missing", "files", ["rip", "--n", "64", "--block-size", "4", "--k", "2", "--matrix", path("absent.npy")], CLI, "absent.npy")
add("cli-rip-matrix-text", "files", ["rip", "--n", "64", "--block-size", "4", "--k", "2", "--matrix", path("text.npy")], CLI, "text.npy")
add("cli-rip-matrix-truncated-npz", "files", ["rip", "--n", "64", "--block-size", "4", "--k", "2", "--matrix", path("truncated.npz")], CLI, "truncated.npz")
add("cli-rip-matrix-object", "files", ["rip", "--n", "64", "--block-size", "4", "--k", "2", "--matrix", path("objects.npy")], CLI, "objects.npy")
add("cli-rip-matrix-1d", "arguments", ["rip", "--n", "64", "--block-size", "4", "--k", "2", "--matrix", path("matrix1d.npy")], CLI, ("matrix", "2-D"))
add("cli-rip-matrix-columns", "arguments", ["rip", "--n", "40", "--block-size", "4", "--k", "2", "--matrix", path("matrix.npy")], CLI, ("matrix", "--n"))
add("cli-rip-matrix-complex", "data types", ["rip", "--n", "64", "--block-size", "4", "--k", "2", "--matrix", path("complex.npz")], CLI, ("A", "matrix", "complex"))
add("cli-rip-samples-0", "arguments", ["rip", "--n", "64", "--block-size", "4", "--k", "2", "--m", "30", "--samples", "0"], CLI, "samples")
add("cli-rip-search-unknown", "arguments", ["rip", "--search", "anneal"], CLI, "search")
add("cli-rip-plot-readonly", "output paths", ["rip", "--n", "64", "--block-size", "4", "--k", "2", "--m", "30", "--samples", "3", "--plot", os.path.join(RO, "r.png")], CLI, (RO, "plot"))

# ---- CLI: phase
add("cli-phase-m-grid-empty", "arguments", sweep_args(path("p1.json"), ["--m-grid", ","])[:-2] + ["--m-grid", ","], CLI, "m-grid")
add("cli-phase-m-grid-reversed", "arguments", sweep_args(path("p2.json"))[:-2] + ["--m-grid", "30:20:5"], CLI, "m-grid")
add("cli-phase-m-grid-step-0", "arguments", sweep_args(path("p3.json"))[:-2] + ["--m-grid", "20:30:0"], CLI, "m-grid")
add("cli-phase-m-grid-text", "data types", sweep_args(path("p4.json"))[:-2] + ["--m-grid", "a:b:c"], CLI, "m-grid")
add("cli-phase-m-grid-above-n", "sizes", sweep_args(path("p5.json"))[:-2] + ["--m-grid", "50:100:50"], CLI, ("m_grid", "m-grid"))
add("cli-phase-default-grid-small-n", "sizes", ["phase", "--model", "block", "--n", "64", "--block-size", "4", "--k", "2", "--workers", "1", "--no-progress"], CLI, ("m-grid", "m_grid", "--n"))
add("cli-phase-workers-0", "arguments", sweep_args(path("p6.json"), ["--workers", "0"]), CLI, ("workers", "n_workers"))
add("cli-phase-workers-negative", "arguments", sweep_args(path("p7.json"), ["--workers", "-1"]), CLI, ("workers", "n_workers"))
add("cli-phase-workers-and-scheduler", "arguments", sweep_args(path("p8.json"), ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]), CLI, ("--workers", "--scheduler"))
add("cli-phase-trials-0", "arguments", sweep_args(path("p9.json"), ["--trials", "0"]), CLI, ("trials", "n_trials"))
add("cli-phase-out-missing-folder", "output paths", sweep_args(path("none/p.json")), CLI, ("none", "--out"))
add("cli-phase-out-readonly", "output paths", sweep_args(os.path.join(RO, "p.json")), CLI, (RO, "--out"))
add("cli-phase-plot-readonly", "output paths", sweep_args(path("p10.json"), ["--plot", os.path.join(RO, "p.png")]), CLI, (RO, "--plot"))
for name, f in SWEEPS.items():
    add(f"cli-phase-resume-{name}", "files", sweep_args(f), CLI, os.path.basename(f))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_cs(case):
    assert_case(case)
