"""Tally the outcomes of the bad-input tables (the figures of issue 10's closing note).

Usage, from ``tests/``::

    python _bad_input_tally.py TAG test_bad_input_core test_bad_input_cs ...

Against the code before the fixes (outcomes of the same tables on an older tree)::

    git archive dde4334 structsparse | tar -x -C /tmp/orig
    PYTHONPATH=/tmp/orig python _bad_input_tally.py before test_bad_input_core

Prints every row that is not ``clear`` or ``correct`` and the counts; a row running over 30 s is stopped
(SIGALRM, in this script only) and counted as a hang. Writes ``/tmp/tally_TAG_<tables>.json``.
"""

import collections
import importlib
import json
import signal
import sys

from _bad_input import classify


class Hang(BaseException):
    """Raised by the alarm in a row that runs too long."""


def _alarm(*_):
    raise Hang()


def main(tag, modules):
    """Run every row of ``modules`` and tally the outcomes."""
    signal.signal(signal.SIGALRM, _alarm)
    res = {}
    for name in modules:
        mod = importlib.import_module(name)
        for case in mod.CASES:
            signal.alarm(30)
            try:
                outcome, detail, seconds = classify(case)
            except Hang:
                outcome, detail, seconds = "hang", "over 30 s (stopped)", 30.0
            signal.alarm(0)
            res[f"{name}:{case.id}"] = (case.category, outcome, round(seconds, 2), detail[:300])
            if outcome not in ("clear", "correct"):
                print(f"{outcome:8s} {seconds:6.2f} {name}:{case.id}  {detail[:200]}".replace("\n", " "), flush=True)
    with open(f"/tmp/tally_{tag}_{'_'.join(m.replace('test_bad_input_', '') for m in modules)}.json", "w") as fh:
        json.dump(res, fh, indent=0)
    print(collections.Counter(v[1] for v in res.values()))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
