"""`repatriate batch --allocate` (issue 12 part 4): one row per leg, keyed by asset_id and leg, through
the library (``plan_many(..., allocate=True)``) and the CLI, on the real rule base.

Every input record yields at least one row; an asset with no leg placed gives one ``no_route`` row,
a bad record one ``error`` row; the legs of an asset sum to its placed amount, as ``allocate()`` says.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from typer.testing import CliRunner

from repatriate import allocate, plan_many
from repatriate.batch.legs import LEG_FIELDS
from repatriate.batch.run import run_batch
from repatriate.batch.schema import LEG_COLUMNS, column_types, leg_row_schema
from repatriate.cli import app

DAY = "2026-11-29"
# issue 12's hand-solved case: foreign debt to the macro-prudential cap (binding), FDI for the rest
SPLIT = {"asset_id": "S1", "asset_class": "equity", "sector": "renewable_energy", "province": "广东",
         "amount": "400,000,000", "currency": "USD", "net_assets": "100000000", "spv_owner": "third_party",
         "yield_pct": "5"}
# news media is closed to FDI and QFLP: foreign debt alone carries part of it
PARTIAL = {**SPLIT, "asset_id": "P1", "sector": "news_media"}
# NDRC registers real-estate foreign debt only to refinance maturing debt: no route at all
NO_ROUTE = {"asset_id": "N1", "asset_class": "debt", "sector": "real_estate", "province": "CN-SH",
            "amount": "1000000", "term_months": "36"}
BAD = {"asset_id": "B1", "asset_class": "equity", "province": "Narnia", "amount": "5"}
HEADER = ["asset_id", "asset_class", "sector", "province", "amount", "currency", "net_assets", "spv_owner",
          "yield_pct", "term_months"]
runner = CliRunner()


def legs(records, **options):
    return list(plan_many(records, allocate=True, as_of=DAY, **options))


def write_csv(path, records):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, HEADER)
        w.writeheader()
        w.writerows(records)
    return path


def test_one_row_per_leg_keyed_by_asset_id_and_leg():
    """Issue 12 item 4: a row per leg, numbered from 1, the asset's cells repeated on each."""
    rows = legs([SPLIT])
    assert [(r["asset_id"], r["leg"]) for r in rows] == [("S1", 1), ("S1", 2)]
    assert rows[0]["channels"] == "foreign_debt" and rows[1]["channels"].startswith("fdi+")
    assert {r["status"] for r in rows} == {"ok"}
    debt = rows[0]
    assert "capacity" in debt["binds"] and debt["capacity_used"] == pytest.approx(1.0)
    assert debt["cost_basis"] == "bps_per_year" and debt["cost_money_per_year"] > 0
    assert debt["leg_province"] == "CN-GD" and debt["weeks_typical_max"] > 0
    # the input cells on every leg row, and the same stamps and caveats as a normal batch row
    assert all(r["amount"] == 400e6 and r["amount_input"] == "400,000,000" for r in rows)
    assert all(r["as_of"] == DAY and len(r["rulebase_digest"]) == 64 and r["tool_version"] for r in rows)
    assert all("Equity-type tokens" in r["warnings"] for r in rows)  # the route's own caveat


def test_legs_of_an_asset_sum_to_its_placed_amount_as_allocate_says():
    rows = legs([SPLIT, PARTIAL])
    profile = {k: v for k, v in SPLIT.items() if k != "asset_id"}
    expected = allocate(as_of=DAY, **profile)
    by_asset: dict[str, list] = {}
    for r in rows:
        by_asset.setdefault(r["asset_id"], []).append(r)
    for its in by_asset.values():
        assert sum(r["leg_amount"] for r in its) == pytest.approx(its[0]["placed"], abs=0.01 * len(its))
        assert {r["placed"] for r in its} == {its[0]["placed"]}  # repeated, not split
    assert [r["leg_amount"] for r in by_asset["S1"]] == [leg["amount"] for leg in expected["legs"]]


def test_partly_placed_asset_is_partial_with_the_binding_constraints():
    rows = legs([PARTIAL])
    assert rows and {r["status"] for r in rows} == {"partial"}
    assert all(r["unplaced"] > 0 and r["placed"] + r["unplaced"] == pytest.approx(400e6) for r in rows)
    assert "foreign_debt" in rows[0]["binding"]


def test_no_route_record_gives_one_row_with_the_binding_constraints_as_reason():
    (row,) = legs([NO_ROUTE])
    assert row["status"] == "no_route" and row["leg"] is None and row["channels"] == ""
    assert row["placed"] == 0.0 and row["unplaced"] == 1e6 and row["binding"] == "no_route"
    assert row["reason"].startswith("no_route") and "real-estate" in row["reason"]  # the exclusions too


def test_bad_record_gives_one_error_row_and_the_batch_goes_on():
    rows = legs([BAD, SPLIT])
    assert rows[0]["status"] == "error" and "unknown province 'Narnia'" in rows[0]["error"]
    assert rows[0]["leg"] is None and rows[0]["as_of"] == DAY
    assert [r["asset_id"] for r in rows] == ["B1", "S1", "S1"]


def test_row_columns_override_the_options():
    """``max_channels`` (and ``by``, ``listed_market_cap``) as columns; the option for the others."""
    rows = legs([{**SPLIT, "max_channels": "1"}, SPLIT], max_channels=3)
    assert Counter(r["asset_id"] for r in rows) == {"S1": 3}  # one leg, then two
    assert rows[0]["leg"] == 1 and rows[0]["max_channels"] == 1  # a number, as the schema says
    assert rows[0]["placed"] == rows[1]["placed"] == pytest.approx(400e6)  # one leg that carries it all
    (bad,) = legs([{**SPLIT, "max_channels": "0"}])
    assert bad["status"] == "error" and "max channels 0" in bad["error"]


def test_one_type_per_field_and_the_published_schema():
    rows = legs([SPLIT, PARTIAL, NO_ROUTE, BAD])
    types = column_types(["asset_id"], legs=True)
    python = {"string": str, "number": float, "integer": int}
    for r in rows:
        for k in LEG_FIELDS:
            assert r[k] is None or isinstance(r[k], python[types[k]]), (k, r[k])
    assert tuple(LEG_COLUMNS) == LEG_FIELDS
    assert set(leg_row_schema()["required"]) == set(LEG_FIELDS)


def test_cli_allocate_csv_with_summary(tmp_path):
    src = write_csv(tmp_path / "book.csv", [SPLIT, NO_ROUTE, BAD])
    result = runner.invoke(app, ["batch", str(src), "--allocate", "--as-of", DAY, "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert "3 records, 4 rows; rows:" in result.output and "distinct allocations" in result.output
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["asset_id"], r["leg"], r["status"]) for r in rows] == [
        ("S1", "1", "ok"), ("S1", "2", "ok"), ("N1", "", "no_route"), ("B1", "", "error")
    ]


@pytest.mark.parametrize("ext", ["xlsx", "jsonl"])
def test_cli_allocate_writes_xlsx_and_jsonl(tmp_path, ext):
    src = write_csv(tmp_path / "book.csv", [SPLIT, NO_ROUTE, BAD])
    out = tmp_path / f"out.{ext}"
    result = runner.invoke(app, ["batch", str(src), "--allocate", "--as-of", DAY, "-o", str(out)])
    assert result.exit_code == 0, result.output
    if ext == "jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    else:
        wb = load_workbook(out, read_only=True)
        assert wb.sheetnames == ["results", "Summary", "Rules"]
        rules = [r for r in wb["Rules"].iter_rows(values_only=True) if r and r[0]]
        assert ("allocate", "at most 3 legs an asset") in [tuple(r[:2]) for r in rules]
        values = list(wb["results"].iter_rows(values_only=True))
        rows = [dict(zip(values[0], r)) for r in values[1:]]
    assert [(r["asset_id"], r["leg"]) for r in rows] == [("S1", 1), ("S1", 2), ("N1", None), ("B1", None)]
    assert rows[0]["leg_amount"] + rows[1]["leg_amount"] == pytest.approx(rows[0]["placed"], abs=0.02)


def test_cli_allocate_options_need_allocate_and_are_checked():
    src = io.StringIO()  # no file is read: the options fail first
    for args, message in [
        (["--max-channels", "2"], "--max-channels applies to --allocate"),
        (["--allocate", "--max-channels", "0"], "max channels 0 is out of range"),  # worded as allocate's
        (["--allocate", "--by", "soon"], "by 'soon' is not a date"),
        (["--allocate", "--listed-market-cap", "-1"], "listed market cap '-1' is out of range"),
        (["--allocate", "--top", "2", "--format", "jsonl"], "--top: "),
    ]:
        result = runner.invoke(app, ["batch", "-", *args], input=src.getvalue())
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_cli_allocate_schema():
    result = runner.invoke(app, ["batch", "--allocate", "--schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["properties"]["leg"]["type"] == ["integer", "null"]
    assert "partial" in schema["properties"]["status"]["enum"]


POOL = [SPLIT, PARTIAL, NO_ROUTE, BAD,
        {"asset_class": "debt", "province": "江苏", "amount": "300000000", "currency": "CNY",
         "net_assets": "2000000000", "term_months": "36"},
        {"asset_class": "abs", "province": "海南", "amount": "30000000"}]
CELL = st.sampled_from(["", "-5", "x", "2", "CN-GD", "1e9"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(POOL), st.sampled_from(["", "amount", "max_channels", "province"]), CELL),
                min_size=1, max_size=6))
def test_every_record_yields_at_least_one_row_and_every_asset_id_appears(rb, drawn):
    """Issue 12 item 4 with issue 14's row pipeline: at least one row a record, in order, errors in
    their own row, whatever the cells."""
    records = []
    for i, (base, field, value) in enumerate(drawn):
        record = {**base, "asset_id": f"R{i}"}
        if field:
            record[field] = value
        records.append(record)
    rows = list(plan_many(records, rb, allocate=True, as_of=DAY))
    counts = Counter(r["asset_id"] for r in rows)
    assert set(counts) == {r["asset_id"] for r in records}
    assert all(n >= 1 for n in counts.values())
    assert [r["asset_id"] for r in rows] == sorted((r["asset_id"] for r in rows), key=lambda a: int(a[1:]))
    for r in rows:
        one = counts[r["asset_id"]] == 1
        assert r["status"] in ("ok", "partial", "no_route", "error")
        assert (r["leg"] is None) == (r["status"] in ("no_route", "error")), r
        assert r["status"] in ("ok", "partial") or one  # no leg: exactly one row


def test_run_batch_counts_records_and_leg_rows(rb, tmp_path):
    src = write_csv(tmp_path / "book.csv", [SPLIT, PARTIAL, NO_ROUTE, BAD])
    summary = run_batch(src, rb, tmp_path / "out.jsonl", as_of=DAY, allocate=True)
    data = summary.as_dict()
    assert data["records"] == 4
    assert data["ok"] == 2 and data["partial"] >= 1 and data["no_route"] == 1 and data["errors"] == 1
    assert data["rows"] == data["ok"] + data["partial"] + data["no_route"] + data["errors"]  # no overlap
