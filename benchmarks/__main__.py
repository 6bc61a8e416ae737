"""Run every ``benchmarks/bench_*.py`` module's ``main()``: ``python -m benchmarks``.

``python -m benchmarks lime shap`` runs only the modules whose name contains one of
the given words.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    if argv:
        names = [n for n in names if any(word in n for word in argv)]
    failed = []
    for name in names:
        print(f"\n=== benchmarks.{name} ===", flush=True)
        start = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as err:  # report and go on with the other benchmarks
            failed.append(name)
            print(f"FAILED: {type(err).__name__}: {err}")
        print(f"({time.perf_counter() - start:.1f} s)", flush=True)
    if failed:
        print("\nfailed benchmarks: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
