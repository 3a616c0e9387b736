"""Start-up cost of the CLI as ratios against importing its libraries, measured in one run.

Run: python bench/bench_startup.py [--runs N]. Absolute times drift on shared machines;
the ratios against a baseline taken in the same run are what to compare.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

BASELINE = [sys.executable, "-c", "import typer, rich, networkx, pydantic, tabulate"]
ROUTE = [
    sys.executable, "-m", "repatriate", "route", "--asset-class", "equity", "--sector", "renewable_energy",
    "--province", "CN-GD", "--city", "shenzhen", "--amount", "50000000", "--currency", "USD", "--format", "json",
]
HELP = [sys.executable, "-m", "repatriate", "--help"]
VERSION = [sys.executable, "-m", "repatriate", "--version"]
NO_NETWORKX = (
    "import sys, runpy; sys.argv = ['repatriate', '{arg}'];\n"
    "try:\n    runpy.run_module('repatriate', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "assert 'networkx' not in sys.modules, 'networkx imported'"
)


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    timed(ROUTE)  # fills the rule-base cache, as any first run does
    cases = {"baseline import": BASELINE, "route --format json": ROUTE, "--help": HELP, "--version": VERSION}
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(args.runs):  # interleaved, so drift hits every case alike
        for name, cmd in cases.items():
            times[name].append(timed(cmd))
    base = statistics.median(times["baseline import"])
    print(f"{'case':<24}{'median s':>10}{'ratio':>8}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<24}{med:>10.3f}{med / base:>8.2f}")
    for arg in ("--help", "--version"):
        ok = subprocess.run([sys.executable, "-c", NO_NETWORKX.format(arg=arg)], capture_output=True).returncode == 0
        print(f"{arg} imports networkx: {'no' if ok else 'YES'}")
    route = statistics.median(times["route --format json"]) / base
    print(f"goal: route <= 1.25 x baseline -> {'met' if route <= 1.25 else 'NOT met'} ({route:.2f})")


if __name__ == "__main__":
    main()
