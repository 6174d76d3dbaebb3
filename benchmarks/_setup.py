"""Set-up shared by the benchmark scripts; import it before numpy.

It asks for one BLAS thread (through the environment, which subprocesses
inherit, and through threadpoolctl) and puts the checkout first on the path,
so a benchmark always measures the code beside it, never another installed copy.
"""

import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

try:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:  # pragma: no cover - the environment variables above already ask for one thread
    pass
