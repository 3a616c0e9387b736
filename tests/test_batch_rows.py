"""Batch result rows (issue 13 items 1-2): self-contained rows, stable types, the published schema,
and the Dask and Spark examples of the README on a realistic portfolio."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from repatriate import __version__, plan_many, plan_route
from repatriate.batch.rows import RESULT_FIELDS
from repatriate.batch.run import run_batch
from repatriate.batch.schema import RESULT_COLUMNS, column_types, result_row_schema
from repatriate.render.route import render_plan

AS_OF = "2026-03-01"
GOOD = {"asset_id": "A1", "asset_class": "equity", "sector": "renewable_energy", "province": "广东",
        "city": "shenzhen", "amount": "50,000,000", "currency": "USD"}
# NDRC registers real-estate foreign debt only to refinance maturing debt: no route at all
NO_ROUTE = {"asset_id": "A2", "asset_class": "debt", "sector": "real_estate", "province": "CN-SH",
            "amount": "1000000", "term_months": "36"}
BAD = {"asset_id": "A3", "asset_class": "equity", "province": "Narnia", "amount": "5"}


def plan3(rb):
    return list(plan_many([GOOD, NO_ROUTE, BAD], rb, as_of=AS_OF))


def test_status_is_ok_no_route_or_error(rb):
    """issue 13 item 1: no_route is not ok, and the summary counts do not overlap."""
    ok, none, bad = plan3(rb)
    assert (ok["status"], none["status"], bad["status"]) == ("ok", "no_route", "error")


def test_no_route_row_gives_the_reason_in_one_line(rb):
    """issue 13 item 1: a no_route row says why, from the exclusions (NDRC's real-estate bar here)."""
    row = plan3(rb)[1]
    assert "\n" not in row["reason"] and "real-estate" in row["reason"]
    assert row["best_channels"] == "" and row["weeks"] == "" and row["weeks_min"] is None
    assert row["error"] == ""


def test_ok_row_carries_warnings_unknown_steps_and_weeks_as_the_route_view(rb):
    """issue 13 item 1: warnings in one column; weeks shown as `route` shows them, never 0.0 for
    an unknown minimum."""
    row = plan3(rb)[0]
    plan = plan_route(rb, as_of=AS_OF, **{k: v for k, v in GOOD.items() if k != "asset_id"})
    best = plan.routes[0]
    assert row["unknown_steps"] == best.unknown_steps
    assert row["weeks"] in render_plan(plan, rb, "md")  # the same text the route view prints
    for w in best.warnings:
        assert " ".join(w.text.en.split()) in row["warnings"]
    if best.timeline[0] == 0:
        assert row["weeks_min"] is None and row["weeks"].startswith("≤")
    assert row["weeks_max"] == float(best.timeline[1])


def test_every_row_records_as_of_digest_and_version(rb):
    """issue 13 item 1: a row forwarded alone still says which rules answered it."""
    for row in plan3(rb):
        assert (row["as_of"], row["rulebase_digest"], row["tool_version"]) == (AS_OF, rb.digest, __version__)


def test_amount_as_written_beside_the_parsed_value(rb):
    """issue 13 item 2: `amount` is a number (or null); `amount_input` keeps the text, next to it."""
    row = plan3(rb)[0]
    assert row["amount"] == 50_000_000.0 and isinstance(row["amount"], float)
    assert row["amount_input"] == "50,000,000"
    keys = list(row)
    assert keys.index("amount_input") == keys.index("amount") + 1
    text = list(plan_many([{**GOOD, "amount": "fifty"}], rb, as_of=AS_OF))[0]
    assert text["amount"] is None and text["amount_input"] == "fifty" and text["status"] == "error"


KINDS = {"string": str, "number": float, "integer": int}


def check_types(rows):
    types = column_types()
    for row in rows:
        for name, kind in types.items():
            if name in row and row[name] is not None:
                assert type(row[name]) is KINDS[kind], (name, row[name])
        assert set(RESULT_FIELDS) <= set(row)


cell = st.one_of(st.none(), st.text(max_size=8), st.integers(-10, 10**9), st.floats(allow_nan=True),
                 st.booleans(), st.sampled_from(["5e7", "1,000", " 12 ", "36", "CN-GD", "equity", "debt"]))


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["asset_class", "province", "amount", "net_assets", "term_months",
                                        "city", "sector", "currency"]), cell))
def test_one_type_per_field_whatever_the_input(rb, record):
    """issue 13 item 2: numbers as numbers, missing as null, on every row (JSON types of any kind in)."""
    check_types(plan_many([{"asset_class": "equity", "province": "CN-GD", "amount": 1e7, **record}], rb,
                          as_of=AS_OF))


def test_schema_names_every_result_field():
    """issue 13 item 2: the published schema is the row's (rows.Result and schema.py agree)."""
    schema = result_row_schema()
    assert tuple(RESULT_COLUMNS) == RESULT_FIELDS
    assert set(schema["required"]) == set(RESULT_FIELDS)
    assert schema["properties"]["status"]["enum"] == ["ok", "no_route", "error"]


def test_rows_validate_against_the_schema(rb):
    jsonschema = pytest.importorskip("jsonschema")
    for row in plan3(rb):
        jsonschema.validate(row, result_row_schema())


def test_plan_many_over_a_dask_bag(rb):
    """issue 13 item 2: the per-partition call of the README, over a dask bag."""
    db = pytest.importorskip("dask.bag")
    bag = db.from_sequence([GOOD, NO_ROUTE, BAD] * 4, npartitions=3)
    rows = bag.map_partitions(lambda part: list(plan_many(part, as_of=AS_OF))).compute(scheduler="sync")
    assert [r["status"] for r in rows] == ["ok", "no_route", "error"] * 4
    check_types(rows)


# --- a realistic portfolio ---------------------------------------------------------------------

PLACES = ["广东", "廣東", "CN-SH", "Beijing", "浙江", "shanghai", "Narnia", "江苏", "CN-HI", "hainan"]
CITIES = {"广东": ["shenzhen", "guangzhou", ""], "CN-HI": ["haikou", ""], "浙江": ["宁波", ""]}


def realistic_portfolio(path: Path, n: int = 1000) -> Path:
    """Mixed places (Chinese, pinyin, codes), currencies, holder types and amounts; some bad rows."""
    rnd = random.Random(13)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["asset_id", "label", "asset_class", "sector", "province", "city", "amount", "currency",
                    "holder_type", "net_assets", "term_months"])
        for i in range(n):
            place = rnd.choice(PLACES)
            w.writerow([
                f"A{i:04d}", rnd.choice([f"asset {i}", "=SUM(1)", "光伏 {i}"]),
                rnd.choice(["equity", "abs", "debt", "Debt"]),
                rnd.choice(["renewable_energy", "news_media", "logistics", "real_estate", "data_center",
                            "bogus"]),
                place, rnd.choice(CITIES.get(place, [""])),
                rnd.choice(["50000000", "5e7", "1,000,000", "-5", "abc", "20000000.5", "", "3亿"]),
                rnd.choice(["USD", "CNY", "HKD", "CNH", "usd"]),
                rnd.choice(["private", "soe", "listed", "lgfv"]),
                rnd.choice(["", "2000000000"]), rnd.choice(["", "36", "12", "x"]),
            ])
    return path


def test_realistic_portfolio_round_trips_csv_xlsx_jsonl_without_lost_caveats(rb, tmp_path):
    """issue 13 'Show': CSV -> XLSX -> JSONL keeps every row, status and caveat, one type per field."""
    src = realistic_portfolio(tmp_path / "portfolio.csv")
    xlsx, jsonl = tmp_path / "out.xlsx", tmp_path / "out.jsonl"
    summary = run_batch(src, rb, xlsx, as_of=AS_OF)
    assert summary.ok + summary.no_route + summary.errors == summary.rows == 1000
    assert min(summary.ok, summary.no_route, summary.errors) > 0
    ws = load_workbook(xlsx, read_only=True)["results"]
    header, *cells = list(ws.iter_rows(values_only=True))
    from_xlsx = [dict(zip(header, r)) for r in cells]
    run_batch(xlsx, rb, jsonl, as_of=AS_OF)  # the XLSX read back as a portfolio
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(from_xlsx) == 1000
    for a, b in zip(from_xlsx, rows):
        # the first pass's caveats come through as input_* columns, word for word
        for name in ("status", "error", "reason", "warnings", "weeks", "rulebase_digest"):
            assert (b["input_" + name] or "") == (a[name] or ""), name
        if a["status"] != "error":  # the same profile planned again: the same answer
            expected = (a["status"], a["reason"] or "", a["warnings"] or "")
            assert (b["status"], b["reason"], b["warnings"]) == expected
        if a["status"] == "no_route":
            assert a["reason"]
    check_types(rows)


def _java() -> bool:
    return shutil.which("java") is not None


@pytest.mark.skipif(not _java(), reason="pyspark needs Java")
def test_readme_spark_example_runs_on_a_realistic_portfolio(tmp_path):
    """issue 13 item 2: the README's Spark example, as written, on 1,000 mixed rows (it failed with
    CANNOT_MERGE_TYPE when amounts came out as int, float or text)."""
    pytest.importorskip("pyspark")
    realistic_portfolio(tmp_path / "portfolio.csv")
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("# --- spark example ---")
    code = readme[start : readme.index("```", start)]
    script = tmp_path / "spark_example.py"
    # then the rest of the round trip: CSV -> XLSX -> JSONL, read by Spark with the published schema
    tail = f"""
assert out.count() == 1000
from repatriate import load_rulebase
from repatriate.batch.run import run_batch
rb = load_rulebase()
run_batch("portfolio.csv", rb, "out.xlsx", as_of="{AS_OF}")
run_batch("out.xlsx", rb, "out.jsonl", as_of="{AS_OF}")
schema = spark_schema(passthrough=["asset_id", "label"])
back = spark.read.schema(schema).option("mode", "FAILFAST").json("out.jsonl")
assert back.count() == 1000 and back.filter(back.status.isNull()).count() == 0
print("ROWS", out.count(), back.count())
"""
    script.write_text(code + tail, encoding="utf-8")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "ROWS 1000 1000" in res.stdout


def test_readme_dask_example_runs(tmp_path):
    """issue 13 item 2: the README's Dask example, as written (the __main__ guard and .compute())."""
    pytest.importorskip("dask.bag")
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("# --- dask example ---")
    script = tmp_path / "dask_example.py"
    script.write_text(readme[start : readme.index("```", start)], encoding="utf-8")
    res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "ok" in res.stdout and "error" in res.stdout


def test_arrow_schema_takes_every_row(rb):
    """issue 13 item 2: the published pyarrow schema holds plan_many's rows without a type error."""
    pa = pytest.importorskip("pyarrow")
    from repatriate.batch.schema import arrow_schema

    rows = plan3(rb) + list(plan_many([{**GOOD, "amount": 7}, {**GOOD, "amount": 7.5}], rb, as_of=AS_OF))
    table = pa.Table.from_pylist(rows, schema=arrow_schema(["asset_id"]))
    assert table.num_rows == 5 and table.column("status").to_pylist()[:3] == ["ok", "no_route", "error"]
