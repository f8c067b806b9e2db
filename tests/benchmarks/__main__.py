"""`make bench`: runs every tests/benchmarks/bench_*.py and prints its figures.

Each module has `run() -> list[str]`; `python -m tests.benchmarks NAME…` runs
only the named ones (e.g. `enrollment_requests`). Benchmarks print figures
and targets; they are not tests and assert nothing about time.
"""

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(selected: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    for name in names:
        if selected and name not in selected:
            continue
        module = importlib.import_module(f"tests.benchmarks.bench_{name}")
        print(f"== {name} ==", flush=True)
        started = time.monotonic()
        for line in module.run():
            print(f"  {line}", flush=True)
        print(f"  (benchmark took {time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
