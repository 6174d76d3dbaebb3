"""Write docs/solvers_table.md: for every registered datafit and penalty, the solver ss.solve picks and every valid one.

Run: python docs/make_solvers_table.py   (tests/test_capabilities.py checks that the file matches the registries)
"""

import sys
from pathlib import Path

from structsparse._atomic import atomic_write_text
from structsparse.solvers.capabilities import capability_table


def main():
    path = Path(__file__).resolve().parent / "solvers_table.md"
    atomic_write_text(path, capability_table())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
