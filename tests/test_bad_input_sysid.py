"""Bad-input suite, system identification: models, patterns, identify, metrics, and the ``identify`` and
``identifiable`` commands (issue 10). One row per case; shared assertion in ``_bad_input``.
"""

import json
import os
import sys
import tempfile

import numpy as np
import pytest

from structsparse import sysid
from structsparse.exceptions import ParameterError, ShapeError

sys.path.insert(0, os.path.dirname(__file__))
from _bad_input import CLI, OK, Case, assert_case  # noqa: E402

TMP = tempfile.mkdtemp(prefix="bad_input_sysid_")
SYS, PAT = sysid.example_system()
rng = np.random.default_rng(0)
U = rng.standard_normal((400, 2))
Y = SYS.simulate(U).y
RO = os.path.join(TMP, "readonly")
os.mkdir(RO)
os.chmod(RO, 0o555)
if os.access(RO, os.W_OK):  # root writes anywhere: use a folder no one may write
    RO = "/sys/fs"


def path(name):
    return os.path.join(TMP, name)


def write(name, text):
    with open(path(name), "w") as fh:
        fh.write(text)
    return path(name)


header = "u1,u2,y1,y2\n"
CSV = write("data.csv", header + "\n".join(",".join(f"{v:.6f}" for v in row) for row in np.hstack([U, Y])) + "\n")
write("empty.csv", "")
write("header_only.csv", header)
write("text.csv", header + "a,b,c,d\n" + "1,2,3,4\n" * 60)
write("ragged.csv", header + "1,2,3\n1,2,3,4\n")
write("nan.csv", header + "1,2,nan,4\n" * 50)
write("constant.csv", header + "1,1,1,1\n" * 50)
write("few_rows.csv", header + "".join(f"{i},{i},{i},{i}\n" for i in range(5)))
PAT.save(path("pattern.json"))
good = json.load(open(path("pattern.json")))


def pattern_file(name, mutate):
    d = json.loads(json.dumps(good))
    mutate(d)
    with open(path(name), "w") as fh:
        json.dump(d, fh)
    return path(name)


PATTERNS = {
    "no_values": pattern_file("p_no_values.json", lambda d: d.pop("values")),
    "format_wrong": pattern_file("p_format.json", lambda d: d.__setitem__("format", "something.else")),
    "version_future": pattern_file("p_version.json", lambda d: d.__setitem__("version", 99)),
    "free_missing_C": pattern_file("p_no_C.json", lambda d: d["free"].pop("C")),
    "mask_ragged": pattern_file("p_ragged.json", lambda d: d["free"]["A"].__setitem__(0, [1])),
    "mask_text": pattern_file("p_text.json", lambda d: d["free"]["A"].__setitem__(0, ["a", "b", "c", "d"])),
    "values_wrong_shape": pattern_file("p_values_shape.json", lambda d: d["values"].__setitem__("C", [[1.0]])),
    "list": write("p_list.json", "[1, 2, 3]"),
    "truncated": write("p_truncated.json", json.dumps(good)[:-30]),
    "empty": write("p_empty.json", ""),
}
ID_ARGS = ["identify", CSV, "--inputs", "u1,u2", "--outputs", "y1,y2"]

CASES = []


def add(id, category, call, expect, names=(), **kw):
    CASES.append(Case(id, category, call, expect, names, **kw))


# ---- StateSpace and simulation
A, B, C = SYS.A, SYS.B, SYS.C
add("StateSpace-A-not-square", "arguments", lambda: sysid.StateSpace(A[:3], B, C), ShapeError, "A")
add("StateSpace-B-rows", "arguments", lambda: sysid.StateSpace(A, B[:3], C), ShapeError, "B")
add("StateSpace-C-columns", "arguments", lambda: sysid.StateSpace(A, B, C[:, :3]), ShapeError, "C")
add("StateSpace-D-shape", "arguments", lambda: sysid.StateSpace(A, B, C, D=np.ones((3, 3))), ShapeError, "D")
add("StateSpace-A-complex", "data types", lambda: sysid.StateSpace(A + 1j, B, C), (ShapeError, ParameterError), "A")
add("StateSpace-A-nan", "data types", lambda: sysid.StateSpace(np.full((4, 4), np.nan), B, C), (ShapeError, ParameterError), "A")
add("StateSpace-A-text", "data types", lambda: sysid.StateSpace(A.astype(str), B, C), (ShapeError, ParameterError), "A")
add("StateSpace-dt-0", "arguments", lambda: sysid.StateSpace(A, B, C, dt=0.0), ParameterError, "dt")
add("StateSpace-A-empty", "empty", lambda: sysid.StateSpace(np.zeros((0, 0)), np.zeros((0, 2)), np.zeros((2, 0))), (ShapeError, ParameterError), ("A", "state"))
add("simulate-u-wrong-width", "arguments", lambda: SYS.simulate(U[:, :1]), ShapeError, "u")
add("simulate-u-complex", "data types", lambda: SYS.simulate(U + 1j), ShapeError, "u")
add("simulate-x0-wrong-length", "arguments", lambda: SYS.simulate(U, x0=np.zeros(3)), ShapeError, "x0")
add("simulate-u-empty", "empty", lambda: SYS.simulate(U[:0]), (OK, ShapeError, ParameterError), "u", check=lambda r: r.y.shape == (0, 2))
add("random_system-n_states-0", "arguments", lambda: sysid.random_system(0, 1, 1, rng=0), ParameterError, "n_states")
add("random_system-density-2", "arguments", lambda: sysid.random_system(3, 1, 1, density=2.0, rng=0), ParameterError, "density")
add("random_system-spectral_radius-neg", "arguments", lambda: sysid.random_system(3, 1, 1, spectral_radius=-1.0, rng=0), ParameterError, "spectral_radius")
add("random_system-rng-bad", "data types", lambda: sysid.random_system(3, 1, 1, rng="seed"), ParameterError, "rng")
add("random_pattern-n_inputs-negative", "arguments", lambda: sysid.random_pattern(3, -1, 1, rng=0), ParameterError, "n_inputs")
add("example_network-density-2", "arguments", lambda: sysid.example_network(density=2.0), ParameterError, "density")

# ---- patterns
add("Pattern-A-not-square", "arguments", lambda: sysid.Pattern(np.ones((3, 4)), np.ones((3, 2)), np.ones((2, 3))), ShapeError, "A")
add("Pattern-B-rows", "arguments", lambda: sysid.Pattern(np.ones((4, 4)), np.ones((3, 2)), np.ones((2, 4))), ShapeError, "B")
add("Pattern-mask-float", "data types", lambda: sysid.Pattern(np.full((2, 2), 0.5), np.ones((2, 1)), np.ones((1, 2))), ShapeError, "A")
add("Pattern-values-on-free", "arguments", lambda: sysid.Pattern(np.ones((2, 2)), np.ones((2, 1)), np.zeros((1, 2)), values={"A": np.ones((2, 2))}), OK,
    check=lambda p: not np.any(p.values["A"]))  # documented: values at free entries are ignored
add("Pattern-values-unknown-key", "arguments", lambda: sysid.Pattern(np.ones((2, 2)), np.ones((2, 1)), np.zeros((1, 2)), values={"Q": np.ones((2, 2))}), ParameterError, ("values", "Q"))
for name, f in PATTERNS.items():
    add(f"Pattern.load-{name}", "patterns" if name in ("no_values", "format_wrong", "version_future") else "files",
        lambda f=f: sysid.Pattern.load(f), (ParameterError, ShapeError), os.path.basename(f))
# a hand-written file without "format" and "version" is read (they are checked when present)
add("Pattern.load-no-format-key", "patterns", lambda: sysid.Pattern.load(pattern_file("p_no_format.json", lambda d: d.pop("format"))), OK,
    check=lambda p: p == PAT)
add("Pattern.load-missing", "files", lambda: sysid.Pattern.load(path("absent.json")), (ParameterError, OSError), "absent.json")
add("Pattern.save-missing-folder", "output paths", lambda: PAT.save(path("nofolder/p.json")), (OSError, ParameterError), "nofolder")
add("Pattern.save-readonly", "output paths", lambda: PAT.save(os.path.join(RO, "p.json")), OSError, RO)
add("identifiability-not-pattern", "data types", lambda: sysid.identifiability(SYS), (ParameterError, TypeError), "pattern")
add("identifiability-tol-negative", "arguments", lambda: sysid.identifiability(PAT, tol=-1.0), ParameterError, "tol")
add("identifiability-n_points-0", "arguments", lambda: sysid.identifiability(PAT, n_points=0), ParameterError, "n_points")
add("markov_jacobian-theta-length", "arguments", lambda: sysid.markov_jacobian(PAT, np.ones(3)), ShapeError, "theta")

# ---- identify and its parts: sizes the data cannot support, disagreeing arguments, bad data
add("identify-order-0", "arguments", lambda: sysid.identify(U, Y, 0), ParameterError, "order")
add("identify-order-80-of-400", "sizes", lambda: sysid.identify(U, Y, 80, rng=0), ParameterError, "order")
add("identify-order-40-of-400", "sizes", lambda: sysid.identify(U, Y, 40, rng=0), ParameterError, "order")
add("identify-order-float", "data types", lambda: sysid.identify(U, Y, 2.5), ParameterError, "order")
add("identify-u-y-lengths", "arguments", lambda: sysid.identify(U, Y[:-5], 4), ShapeError, ("u", "y"))
add("identify-u-complex", "data types", lambda: sysid.identify(U + 1j, Y, 4), ShapeError, "u")
add("identify-y-nan", "data types", lambda: sysid.identify(U, np.where(Y > 1, np.nan, Y), 4), ShapeError, "y")
add("identify-u-empty", "empty", lambda: sysid.identify(U[:0], Y[:0], 2), (ShapeError, ParameterError), ("u", "sample"))
add("identify-single-sample", "empty", lambda: sysid.identify(U[:1], Y[:1], 1), (ShapeError, ParameterError), ("sample", "order", "u"))
add("identify-u-3d", "arguments", lambda: sysid.identify(U[:, :, None], Y, 4), ShapeError, "u")
add("identify-pattern-order-mismatch", "arguments", lambda: sysid.identify(U, Y, 3, pattern=PAT), (ShapeError, ParameterError), ("pattern", "order"))
add("identify-pattern-inputs-mismatch", "arguments", lambda: sysid.identify(U[:, :1], Y, 4, pattern=PAT), (ShapeError, ParameterError), ("pattern", "input", "u"))
add("identify-penalty-unknown", "arguments", lambda: sysid.identify(U, None, 4, penalty="l7", x=np.zeros((400, 4))), ParameterError, "penalty")
add("identify-penalty-without-x", "arguments", lambda: sysid.identify(U, Y, 4, penalty="l1"), ParameterError, ("x", "states", "penalty"))
add("identify-pattern-and-penalty", "arguments", lambda: sysid.identify(U, Y, 4, pattern=PAT, penalty="l1", x=np.zeros((400, 4))), ParameterError, ("pattern", "penalty"))
add("identify-n_starts-negative", "arguments", lambda: sysid.identify(U, Y, 4, pattern=PAT, n_starts=-1), ParameterError, "n_starts")
add("identify-dt-negative", "arguments", lambda: sysid.identify(U, Y, 4, dt=-1.0), ParameterError, "dt")
add("identify-horizon-too-large", "sizes", lambda: sysid.identify(U, Y, 4, horizon=300), ParameterError, "horizon")
add("moesp-order-too-large", "sizes", lambda: sysid.moesp(U, Y, 80), ParameterError, "order")
add("moesp-horizon-below-order", "arguments", lambda: sysid.moesp(U, Y, 4, horizon=2), ParameterError, "horizon")
add("moesp-u-constant", "empty", lambda: sysid.moesp(np.ones((400, 2)), Y, 4), (OK, ParameterError), ("u", "excit", "rank"),
    check=lambda r: np.all(np.isfinite(r.A)) if hasattr(r, "A") else True)
add("pem_refine-theta0-length", "arguments", lambda: sysid.pem_refine(U, Y, PAT, np.ones(2)), ShapeError, "theta0")
add("pem_refine-method-unknown", "arguments", lambda: sysid.pem_refine(U, Y, PAT, PAT.to_theta(*SYS.matrices), method="newton"), ParameterError, "method")
add("fit_similarity-not-system", "data types", lambda: sysid.fit_similarity(PAT, PAT), (ParameterError, TypeError), "system")
add("fit_similarity-n_starts-negative", "arguments", lambda: sysid.fit_similarity(SYS, PAT, n_starts=-1), ParameterError, "n_starts")

# ---- metrics
add("fit_index-shape", "arguments", lambda: sysid.fit_index(Y, Y[:, :1]), ShapeError, ("y_hat", "y"))
add("fit_index-constant-y", "empty", lambda: sysid.fit_index(np.ones((10, 1)), np.ones((10, 1))), (OK, ParameterError), "y",
    check=lambda f: np.all(np.isfinite(f)) or np.all(np.isnan(f)))
add("nrmse-complex", "data types", lambda: sysid.nrmse(Y + 1j, Y), ShapeError, "y")
add("pole_error-reduce-unknown", "arguments", lambda: sysid.pole_error([0.5], [0.5], reduce="median2"), ParameterError, "reduce")
add("pole_error-lengths", "arguments", lambda: sysid.pole_error([0.5, 0.2], [0.5]), OK, check=lambda e: np.isclose(e, 0.0))  # documented: extras ignored
add("support_scores-matrices-unknown", "arguments", lambda: sysid.support_scores(PAT, PAT, matrices=("Q",)), ParameterError, "matrices")

# ---- CLI: identify and identifiable
add("cli-identify-data-missing", "files", ["identify", path("absent.csv"), "--inputs", "u1", "--outputs", "y1", "--order", "2"], CLI, "absent.csv")
add("cli-identify-data-empty", "files", ["identify", path("empty.csv"), "--inputs", "u1", "--outputs", "y1", "--order", "2"], CLI, "empty.csv")
add("cli-identify-data-header-only", "empty", ["identify", path("header_only.csv"), "--inputs", "u1", "--outputs", "y1", "--order", "2"], CLI, "header_only.csv")
add("cli-identify-data-text", "data types", ["identify", path("text.csv"), "--inputs", "u1", "--outputs", "y1", "--order", "2"], CLI, ("text.csv", "'u'"))
add("cli-identify-data-ragged", "files", ["identify", path("ragged.csv"), "--inputs", "u1", "--outputs", "y1", "--order", "2"], CLI, "ragged.csv")
add("cli-identify-data-nan", "data types", ["identify", path("nan.csv"), "--inputs", "u1", "--outputs", "y1", "--order", "2"], CLI, ("nan.csv", "'y'", "'u'"))
add("cli-identify-data-folder", "files", ["identify", TMP, "--inputs", "u1", "--outputs", "y1", "--order", "2"], CLI, os.path.basename(TMP))
add("cli-identify-column-missing", "arguments", ID_ARGS[:2] + ["--inputs", "u9", "--outputs", "y1", "--order", "2"], CLI, "u9")
add("cli-identify-same-column-in-and-out", "arguments", ID_ARGS[:2] + ["--inputs", "u1,y1", "--outputs", "y1", "--order", "2"], CLI, ("y1",))
add("cli-identify-column-twice", "arguments", ID_ARGS[:2] + ["--inputs", "u1,u1", "--outputs", "y1", "--order", "2"], CLI, ("u1",))
add("cli-identify-no-outputs", "arguments", ID_ARGS[:4] + ["--order", "2"], CLI, "--outputs")
add("cli-identify-order-0", "arguments", ID_ARGS + ["--order", "0"], CLI, "order")
add("cli-identify-order-negative", "arguments", ID_ARGS + ["--order", "-3"], CLI, "order")
add("cli-identify-order-80-of-400", "sizes", ID_ARGS + ["--order", "80"], CLI, "order")
add("cli-identify-order-40-of-400", "sizes", ID_ARGS + ["--order", "40"], CLI, "order")
add("cli-identify-order-too-large-few-rows", "sizes", ["identify", path("few_rows.csv"), "--inputs", "u1", "--outputs", "y1", "--order", "3"], CLI, ("order", "sample"))
add("cli-identify-order-text", "data types", ID_ARGS + ["--order", "four"], CLI, "order")
add("cli-identify-dt-0", "arguments", ID_ARGS + ["--order", "2", "--dt", "0"], CLI, "dt")
add("cli-identify-penalty-without-states", "arguments", ID_ARGS + ["--order", "2", "--penalty", "l1"], CLI, ("--states", "x", "penalty"))
add("cli-identify-out-missing-folder", "output paths", ID_ARGS + ["--order", "2", "--out", path("nodir/m.json")], CLI, ("nodir", "--out"))
add("cli-identify-out-readonly", "output paths", ID_ARGS + ["--order", "2", "--out", os.path.join(RO, "m.json")], CLI, (RO, "--out"))
add("cli-identify-out-bad-suffix", "output paths", ID_ARGS + ["--order", "2", "--out", path("m.txt")], CLI, ("m.txt", "--out", "suffix"))
add("cli-identify-plot-readonly", "output paths", ID_ARGS + ["--order", "2", "--plot", os.path.join(RO, "f.png")], CLI, (RO, "--plot"))
for name, f in PATTERNS.items():
    add(f"cli-identify-pattern-{name}", "patterns" if name in ("no_values", "format_wrong", "version_future") else "files",
        ID_ARGS + ["--order", "4", "--pattern", f], CLI, os.path.basename(f))
    add(f"cli-identifiable-{name}", "patterns" if name in ("no_values", "format_wrong", "version_future") else "files",
        ["identifiable", f], CLI, os.path.basename(f))
add("cli-identifiable-missing", "files", ["identifiable", path("absent.json")], CLI, "absent.json")
add("cli-identify-pattern-order-mismatch", "arguments", ID_ARGS + ["--order", "3", "--pattern", path("pattern.json")], CLI, ("pattern", "order"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_sysid(case):
    assert_case(case)
