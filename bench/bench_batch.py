"""Benchmark ``repatriate batch`` against a bare csv-module read and write of the same portfolio.

Prints the time ratio at 100,000 rows and the peak-RSS ratio between 400,000 and 100,000 rows.
With ``--allocate``: ``batch --allocate`` against ``batch`` on one 10,000-row portfolio instead
(issue 12: at most 3x).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = [
    "asset_id",
    "label",
    "asset_class",
    "sector",
    "province",
    "city",
    "amount",
    "currency",
    "holder_type",
    "net_assets",
    "term_months",
    "originator",
]
AMOUNTS = [5_000_000, 10_000_000, 20_000_000, 50_000_000, 100_000_000, 300_000_000]
CURRENCIES = ["USD", "USD", "USD", "HKD", "CNH", "CNY"]
HOLDERS = ["private", "private", "soe", "lgfv", "listed", "fie", "financial"]
TERMS = ["", "12", "24", "36", "60"]
# spellings an analyst's export really mixes: codes, English, simplified and traditional Chinese
PROVINCE_SPELLINGS = {
    "CN-GD": ["CN-GD", "Guangdong", "广东", "廣東省"],
    "CN-SH": ["CN-SH", "Shanghai", "上海市"],
    "CN-HI": ["CN-HI", "海南"],
}
BAD_ROWS = [
    ["equity", "renewable_energy", "Atlantis", "", "50000000", "USD", "private", "", ""],
    ["equity", "renewable_energy", "CN-GD", "", "-5", "USD", "private", "", ""],
    ["", "renewable_energy", "CN-GD", "", "50000000", "USD", "private", "", ""],
    ["equity", "renewable_energy", "CN-GD", "", "fifty million", "USD", "private", "", ""],
    ["equity", "space_mining", "CN-GD", "", "50000000", "USD", "private", "", ""],
]


def vocabularies() -> tuple[list[str], dict[str, list[str]]]:
    """Sectors and provinces (with their city ids) from the packaged rule base."""
    from repatriate import load_rulebase

    rb = load_rulebase()
    return sorted(rb.sectors), {code: sorted(p.cities) for code, p in sorted(rb.provinces.items())}


def templates(distinct: int, seed: int) -> list[list[str]]:
    """``distinct`` asset profiles drawn from the vocabularies (the pool a portfolio repeats)."""
    rng = random.Random(seed)
    sectors, provinces = vocabularies()
    pool = []
    for _ in range(distinct):
        code = rng.choice(list(provinces))
        city = rng.choice([""] + provinces[code]) if provinces[code] else ""
        amount = rng.choice(AMOUNTS)
        asset_class = rng.choice(["equity", "abs", "debt"])
        pool.append(
            [
                asset_class,
                rng.choice(sectors),
                rng.choice(PROVINCE_SPELLINGS.get(code, [code])),
                city,
                str(amount),
                rng.choice(CURRENCIES),
                rng.choice(HOLDERS),
                str(amount * rng.choice([2, 5, 20])) if asset_class == "debt" else "",
                rng.choice(TERMS) if asset_class == "debt" else "",
            ]
        )
    return pool


def write_portfolio(path: Path, rows: int, distinct: int, seed: int = 7, bad_every: int = 997) -> None:
    """A realistic portfolio: profiles repeat (skewed towards a few), a bad row every ``bad_every``."""
    rng = random.Random(seed)
    pool = templates(distinct, seed)
    weights = [1 / (i + 1) for i in range(len(pool))]  # a few asset types dominate, as in real books
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        picks = rng.choices(pool, weights=weights, k=rows)
        for i, profile in enumerate(picks):
            if i % bad_every == bad_every - 1:
                profile = BAD_ROWS[(i // bad_every) % len(BAD_ROWS)]
            w.writerow(
                [
                    f"A{i:07d}",
                    f"asset {i} of the book",
                    *profile,
                    rng.choice(["Bank A", "Leasing Co B", "=cmd|' /C calc'!A0"]),
                ]
            )


BASELINE = """
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f, open(sys.argv[2], "w", newline="", encoding="utf-8") as g:
    w = csv.writer(g)
    for row in csv.reader(f):
        w.writerow(row)
"""


def baseline(src: Path, dst: Path) -> float:
    """Seconds for a bare csv-module read and write of ``src`` (in this process)."""
    t = time.perf_counter()
    with open(src, newline="", encoding="utf-8") as f, open(dst, "w", newline="", encoding="utf-8") as g:
        w = csv.writer(g)
        for row in csv.reader(f):
            w.writerow(row)
    return time.perf_counter() - t


def in_process(src: Path, dst: Path) -> tuple[float, dict]:
    """Seconds for ``run_batch`` (the engine of ``repatriate batch``), rule base already loaded, caches cold."""
    from repatriate import load_rulebase
    from repatriate.batch.run import run_batch
    from repatriate.engine.search import clear_caches

    rb = load_rulebase()
    clear_caches()  # every run searches cold, as a fresh process does
    t = time.perf_counter()
    summary = run_batch(str(src), rb, str(dst))
    return time.perf_counter() - t, summary.as_dict()


def allocate_comparison(src: Path, dst: Path, repeat: int) -> tuple[float, float, dict]:
    """Seconds for ``run_batch`` and ``run_batch(allocate=True)`` on ``src`` (rule base loaded, caches
    cold each time, best of ``repeat``), and the summary of the allocating run."""
    from repatriate import load_rulebase
    from repatriate.batch.run import run_batch
    from repatriate.engine.search import clear_caches

    rb = load_rulebase()
    run_batch(str(src), rb, str(dst), allocate=True)  # imports (highspy) and first-use costs

    def timed(allocate: bool) -> tuple[float, dict]:
        clear_caches()
        t = time.perf_counter()
        summary = run_batch(str(src), rb, str(dst), allocate=allocate)
        return time.perf_counter() - t, summary.as_dict()

    (plain, _), (allocating, summary) = best_of(repeat, lambda: timed(False), lambda: timed(True))
    return plain, allocating, summary


def child(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process, from wait4's rusage."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed: {proc.stderr.read().decode(errors='replace')}")
    return seconds, usage.ru_maxrss


def best_of(repeat: int, *fns):
    """The best (lowest) time of each function over ``repeat`` rounds, run in turn so load hits all alike."""
    results: list[list] = [[] for _ in fns]
    for _ in range(repeat):
        for out, fn in zip(results, fns):
            out.append(fn())
    return [min(r, key=lambda x: x[0] if isinstance(x, tuple) else x) for r in results]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--big-rows", type=int, default=400_000)
    ap.add_argument("--distinct", type=int, default=200, help="distinct asset profiles in the portfolio")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--allocate", action="store_true", help="batch --allocate against batch instead")
    ap.add_argument("--allocate-rows", type=int, default=10_000)
    args = ap.parse_args()
    if args.allocate:
        print_allocate(args.allocate_rows, args.distinct, args.repeat)
        return
    exe = [sys.executable, "-m", "repatriate"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        small, big = tmp / "small.csv", tmp / "big.csv"
        write_portfolio(small, args.rows, args.distinct)
        write_portfolio(big, args.big_rows, args.distinct)
        subprocess.run(
            [*exe, "batch", str(small), "-o", str(tmp / "warm.csv")], check=True, capture_output=True
        )  # rule-base cache
        in_process(small, tmp / "warm.csv")  # imports

        base, (default, summary) = best_of(
            args.repeat,
            lambda: baseline(small, tmp / "base.csv"),
            lambda: in_process(small, tmp / "out.csv"),
        )
        (base_sub, _), (ours_sub, rss_small) = best_of(
            args.repeat,
            lambda: child([sys.executable, "-c", BASELINE, str(small), str(tmp / "base.csv")]),
            lambda: child([*exe, "batch", str(small), "-o", str(tmp / "out.csv"), "--force"]),
        )
        big_run = [*exe, "batch", str(big), "-o", str(tmp / "out_big.csv"), "--force"]
        ((_, rss_big),) = best_of(1, lambda: child(big_run))

    print(
        f"portfolio: {args.rows:,} rows, {args.distinct} distinct profiles drawn, {summary['errors']} bad rows, "
        f"{summary['distinct_searches']} searches; {os.cpu_count()} cores, one process "
        "(a fork pool did not pay)"
    )
    print(f"bare csv read+write             {base:7.3f} s")
    print(f"batch, in-process               {default:7.3f} s   ratio {default / base:5.2f}  (goal <= 3)")
    print(f"bare csv, subprocess            {base_sub:7.3f} s")
    print(
        f"repatriate batch, subprocess    {ours_sub:7.3f} s   ratio {ours_sub / base_sub:5.2f}"
        "  (with imports and rule-base load)"
    )
    print(f"peak RSS {args.rows:>9,} rows       {rss_small / 1024:7.1f} MiB")
    print(
        f"peak RSS {args.big_rows:>9,} rows       {rss_big / 1024:7.1f} MiB   ratio {rss_big / rss_small:5.2f}"
        "  (goal <= 1.3)"
    )


def print_allocate(rows: int, distinct: int, repeat: int) -> None:
    """Both timings of ``allocate_comparison`` on a fresh portfolio, and their ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "book.csv"
        write_portfolio(src, rows, distinct)
        plain, allocating, summary = allocate_comparison(src, Path(tmp) / "out.csv", repeat)
    print(
        f"portfolio: {rows:,} rows, {distinct} distinct profiles drawn, {summary['distinct_searches']} "
        f"allocations, {summary['rows']:,} rows out ({summary['partial']:,} partly placed)"
    )
    print(f"batch, in-process               {plain:7.3f} s")
    print(f"batch --allocate, in-process    {allocating:7.3f} s   ratio {allocating / plain:5.2f}  (goal <= 3)")


if __name__ == "__main__":
    main()
