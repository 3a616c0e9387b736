"""Cold `allocate` against cold `route` for the same profile (issue 12: at most 1.5x); then a
10,000-row `batch --allocate` against `batch` on the same file (at most 3x; bench_batch.py --allocate).

Run: python bench/bench_allocate.py [--runs N] [--batch-rows N]. Each run is a fresh process (the
rule-base cache on disk is warm, as after any first run); the median of N is compared in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PROFILE = [
    "--asset-class",
    "equity",
    "--sector",
    "renewable_energy",
    "--province",
    "CN-GD",
    "--amount",
    "400000000",
    "--currency",
    "USD",
    "--net-assets",
    "100000000",
    "--yield",
    "5",
    "--format",
    "json",
]
ROUTE = [sys.executable, "-m", "repatriate", "route", *PROFILE]
ALLOCATE = [sys.executable, "-m", "repatriate", "allocate", *PROFILE]


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch-rows", type=int, default=10_000, help="batch --allocate against batch; 0 skips")
    args = ap.parse_args()
    timed(ROUTE)  # fills the rule-base cache, as any first run does
    route = statistics.median(timed(ROUTE) for _ in range(args.runs))
    alloc = statistics.median(timed(ALLOCATE) for _ in range(args.runs))
    print(f"route cold    {route:.3f} s")
    print(f"allocate cold {alloc:.3f} s  ({alloc / route:.2f}x route; target <= 1.5x)")
    if args.batch_rows:
        from bench_batch import print_allocate  # bench/ is on sys.path when this file runs

        print_allocate(args.batch_rows, 200, 1)


if __name__ == "__main__":
    main()
