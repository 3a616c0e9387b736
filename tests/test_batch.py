"""Batch planning (``repatriate.batch``: readers, rows, writers, run) through its public calls, on the
real rule base.

Encodings and formats round-trip; bad rows become error rows; spreadsheet cells stay inert.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

import repatriate.batch.run as batch
from repatriate import plan_many
from repatriate.batch.run import RESULT_FIELDS, detect_encoding, plan_rows, run_batch
from repatriate.errors import RepatriateError

AS_OF = "2026-11-25"
HEADER = [
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
]
GOOD = [
    ["A1", "深圳光伏", "equity", "renewable_energy", "广东", "shenzhen", "50000000", "USD", "private", "", ""],
    ["A2", "上海物流", "debt", "logistics", "上海市", "", "20000000", "USD", "soe", "100000000", "36"],
    ["A3", "海南数据中心", "abs", "data_center", "海南", "", "30000000", "USD", "private", "", ""],
    ["A4", "廣東 again", "equity", "renewable_energy", "廣東", "shenzhen", "50,000,000", "USD", "private", "", ""],
]
BAD = {
    "unknown province": ["B1", "x", "equity", "renewable_energy", "Atlantis", "", "50000000", "USD", "private", "", ""],
    "negative amount": ["B2", "x", "equity", "renewable_energy", "CN-GD", "", "-5", "USD", "private", "", ""],
    "missing class": ["B3", "x", "", "renewable_energy", "CN-GD", "", "50000000", "USD", "private", "", ""],
    "text amount": ["B4", "x", "equity", "renewable_energy", "CN-GD", "", "fifty million", "USD", "private", "", ""],
    "unknown sector": ["B5", "x", "equity", "space_mining", "CN-GD", "", "50000000", "USD", "private", "", ""],
}
EXPECTED_MESSAGE = {
    "unknown province": "unknown province 'Atlantis'",
    "negative amount": "amount -5",
    "missing class": "missing asset class",
    "text amount": "amount 'fifty million' is not a number",
    "unknown sector": "unknown sector 'space_mining'",
}
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1:A2)", "\tTAB", "\rCR"]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", header: list[str] = HEADER) -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def write_jsonl(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    path.write_text(
        "".join(json.dumps(dict(zip(header, r)), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def read_output(path: Path) -> list[dict]:
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    if path.suffix == ".xlsx":
        ws = load_workbook(path, read_only=True).worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
        return [dict(zip(rows[0], r)) for r in rows[1:]]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def outcome(row: dict) -> tuple:
    """The planned part of an output row, in comparable form whatever the file format (XLSX stores 0.0 as 0)."""

    def norm(v):
        if v is None or v == "":
            return ""
        try:
            return float(v)
        except (TypeError, ValueError):
            return str(v)

    return tuple(norm(row.get(k)) for k in RESULT_FIELDS)  # XLSX drops trailing empty cells


# --- encodings and formats -------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_round_trip(rb, tmp_path, encoding):
    """Excel in a Chinese locale writes GB18030; others write UTF-8 with or without BOM."""
    src = write_csv(tmp_path / "in.csv", GOOD, encoding)
    assert (
        detect_encoding(src.read_bytes(), complete=True)
        == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gb18030": "gb18030"}[encoding]
    )
    out = tmp_path / "out.jsonl"
    summary = run_batch(src, rb, out, as_of=AS_OF)
    rows = read_output(out)
    assert summary.rows == summary.ok == len(GOOD)
    assert [r["label"] for r in rows] == [g[1] for g in GOOD]  # Chinese text survives
    assert [r["province"] for r in rows] == [g[4] for g in GOOD]  # input cells as given
    assert rows[0]["best_province"] and rows[0]["status"] == "ok"
    assert "asset_id" in rows[0]  # a BOM does not stick to the first column name


def test_encoding_override_and_unknown_encoding(rb, tmp_path):
    src = write_csv(tmp_path / "in.csv", GOOD[:1], "gb18030")
    out = io.StringIO()
    run_batch(src, rb, "-", encoding="gb18030", as_of=AS_OF, stdout=out)
    assert "深圳光伏" in out.getvalue()
    with pytest.raises(RepatriateError, match="unknown encoding 'klingon'"):
        run_batch(src, rb, "-", encoding="klingon", stdout=io.StringIO())


@pytest.mark.parametrize("source", ["csv", "xlsx", "jsonl"])
@pytest.mark.parametrize("target", ["csv", "xlsx", "jsonl"])
def test_formats_round_trip(rb, tmp_path, source, target):
    """Every input format gives every output format the same rows, in order."""
    rows = GOOD + list(BAD.values())
    src = {"csv": write_csv, "xlsx": write_xlsx, "jsonl": write_jsonl}[source](tmp_path / f"in.{source}", rows)
    out = tmp_path / f"out.{target}"
    summary = run_batch(src, rb, out, as_of=AS_OF)
    got = read_output(out)
    assert [r["asset_id"] for r in got] == [r[0] for r in rows]
    assert summary.rows == len(rows) and summary.errors == len(BAD)
    reference = [outcome(r) for r in plan_rows([dict(zip(HEADER, r)) for r in rows], rb, as_of=AS_OF)]
    assert [outcome(r) for r in got] == reference


def test_stdin_csv_and_jsonl(rb, tmp_path):
    csv_bytes = write_csv(tmp_path / "in.csv", GOOD).read_bytes()
    jsonl_bytes = write_jsonl(tmp_path / "in.jsonl", GOOD).read_bytes()
    results = []
    for data in (csv_bytes, jsonl_bytes):
        out = io.StringIO()
        summary = run_batch("-", rb, "-", fmt="jsonl", as_of=AS_OF, stdin=io.BytesIO(data), stdout=out)
        assert summary.rows == len(GOOD)
        results.append([outcome(json.loads(line)) for line in out.getvalue().splitlines()])
    assert results[0] == results[1]


def test_jsonl_to_csv_collects_every_key(rb, tmp_path):
    """Records need not share keys; a tabular output gets the union, in order of appearance."""
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"asset_id": "A1", "asset_class": "equity", "province": "CN-GD", "amount": 5e7}\n'
        "not json\n"
        '{"asset_id": "A2", "asset_class": "equity", "province": "CN-GD", "amount": 5e7, "desk": "HK"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    run_batch(src, rb, out, as_of=AS_OF)
    rows = read_output(out)
    assert list(rows[0])[:5] == ["asset_id", "asset_class", "province", "amount", "amount_input"]
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert "line 2 is not valid JSON" in rows[1]["error"]
    assert rows[2]["desk"] == "HK"


def test_top_routes_in_jsonl(rb):
    rows = list(plan_rows([dict(zip(HEADER, GOOD[0]))], rb, as_of=AS_OF, top=3))
    routes = rows[0]["routes"]
    assert 1 <= len(routes) <= 3 and [r["rank"] for r in routes] == list(range(1, len(routes) + 1))
    assert "+".join(routes[0]["channels"]) == rows[0]["best_channels"]
    assert rows[0]["feasible_routes"] >= len(routes)
    with pytest.raises(RepatriateError, match="JSONL"):
        run_batch("-", rb, "out.csv", top=3, stdin=io.BytesIO(b""))


# --- bad rows --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BAD))
def test_bad_rows_become_error_rows(rb, kind):
    rows = [dict(zip(HEADER, GOOD[0])), dict(zip(HEADER, BAD[kind])), dict(zip(HEADER, GOOD[1]))]
    out = list(plan_rows(rows, rb, as_of=AS_OF))
    assert [r["asset_id"] for r in out] == ["A1", BAD[kind][0], "A2"]
    assert [r["status"] for r in out] == ["ok", "error", "ok"]
    assert EXPECTED_MESSAGE[kind] in out[1]["error"] and "\n" not in out[1]["error"]
    # issue 13 item 2: an error row has no count of routes (null), not a zero that reads as "none"
    assert out[1]["best_channels"] == "" and out[1]["feasible_routes"] is None


def test_broken_csv_rows_are_kept(rb, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        ",".join(HEADER)
        + "\n"
        + ",".join(GOOD[0])
        + ",surplus,cells\n"  # too many fields
        + "A9,short,equity\n"  # too few: the rest is empty
        + "\n"  # a blank line is not an asset
        + ",".join(GOOD[2])
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    summary = run_batch(src, rb, out, as_of=AS_OF)
    rows = read_output(out)
    assert [r["asset_id"] for r in rows] == ["A1", "A9", "A3"] and summary.rows == 3
    assert rows[0]["status"] == "error" and "13 fields but the header has 11" in rows[0]["error"]
    assert rows[1]["status"] == "error" and "missing province" in rows[1]["error"]
    assert rows[2]["status"] == "ok"


def test_bad_options_fail_before_any_row(rb):
    with pytest.raises(RepatriateError, match="unknown objective"):
        plan_rows([], rb, optimize="fastest")
    with pytest.raises(RepatriateError, match="invalid date"):
        plan_rows([], rb, as_of="yesterday")
    with pytest.raises(RepatriateError, match="top 0"):
        plan_rows([], rb, top=0)


# --- spreadsheet safety ----------------------------------------------------------------


def test_formula_labels_are_inert_and_numbers_stay_numbers(rb, tmp_path):
    """OWASP CSV injection: a cell starting with = + - @ tab or CR is prefixed with a quote."""
    rows = [[f"F{i}", label, *GOOD[0][2:]] for i, label in enumerate(FORMULAS)]
    rows.append(["F9", "ok", "equity", "renewable_energy", "=cmd|'/C calc'!A0", "", "-5", "USD", "private", "", ""])
    src = write_csv(tmp_path / "in.csv", rows)
    for target in ("csv", "xlsx"):
        out = tmp_path / f"out.{target}"
        run_batch(src, rb, out, as_of=AS_OF)
        got = read_output(out)
        labels = [r["label"] for r in got[: len(FORMULAS)]]
        # XML turns a stored "\r" into "\n" on reading: compare modulo that
        assert [label.replace("\r", "\n") for label in labels] == ["'" + f.replace("\r", "\n") for f in FORMULAS]
        assert got[-1]["province"] == "'=cmd|'/C calc'!A0"
        if target == "xlsx":
            assert got[0]["amount"] == 50_000_000 and isinstance(got[0]["amount"], int)
            assert got[-1]["amount"] == -5  # a negative number is a number, not a formula
            assert isinstance(got[0]["weeks_max"], float) and isinstance(got[0]["approvals"], int)
        else:
            assert got[0]["amount"] == "50000000" and got[-1]["amount"] == "-5"
        for r in got:
            for value in r.values():
                if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    float(value)  # only a plain number (a CSV "-5") may start so


def test_jsonl_keeps_values_as_given(rb):
    """A machine format carries the data: labels unescaped, numbers as numbers."""
    out = next(
        plan_rows(
            [{"label": "=1+1", "asset_class": "equity", "province": "CN-GD", "amount": "50,000,000"}], rb, as_of=AS_OF
        )
    )
    assert out["label"] == "=1+1" and out["amount"] == 50_000_000


# --- order, caching, streaming -------------------------------------------------------------


def test_order_count_and_cache(rb):
    """Cached answers equal uncached ones, whatever the spelling of a repeated profile."""
    pool = GOOD + list(BAD.values())
    rows = [dict(zip(HEADER, pool[(i * 7) % len(pool)]), asset_id=f"R{i}") for i in range(60)]
    cached = list(plan_rows(rows, rb, as_of=AS_OF))
    uncached = list(plan_rows(rows, rb, as_of=AS_OF, cache=False))
    assert cached == uncached
    assert [r["asset_id"] for r in cached] == [f"R{i}" for i in range(60)]
    # 广东 / 廣東 and 50000000 / 50,000,000 are one profile: one search between them
    planner = batch.Planner(rb, as_of=AS_OF)
    table = batch.Table(HEADER, planner)
    for r in (GOOD[0], GOOD[3]):
        table.row(list(r))
    assert planner.searches == 1


def test_plan_many_is_the_library_call(rb):
    rows = [dict(zip(HEADER, r)) for r in GOOD]
    assert list(plan_many(rows, rb, as_of=AS_OF)) == list(plan_rows(rows, rb, as_of=AS_OF))


def test_summary_counts(rb, tmp_path):
    src = write_csv(tmp_path / "in.csv", GOOD + list(BAD.values()))
    s = run_batch(src, rb, tmp_path / "out.csv", as_of=AS_OF)
    d = s.as_dict()
    assert (d["rows"], d["ok"], d["errors"]) == (len(GOOD) + len(BAD), len(GOOD), len(BAD))
    assert sum(d["by_channel"].values()) == d["ok"] - d["no_route"] == sum(d["by_province"].values())
    assert d["distinct_searches"] == 3  # A1 and A4 are the same profile


# --- robustness ------------------------------------------------------------------------

cell = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["equity", "CN-GD", "广东", "-1", "1e400", "nan", "50,000,000", "=1"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.fixed_dictionaries({k: cell for k in HEADER[2:]}, optional={"label": st.text(max_size=8)}), max_size=6)
)
def test_arbitrary_rows_never_crash(rb, rows):
    out = list(plan_rows(rows, rb, as_of=AS_OF))
    assert len(out) == len(rows)
    for r in out:
        assert r["status"] in ("ok", "error")
        assert (r["status"] == "error") == bool(r["error"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.text(max_size=10), min_size=1, max_size=len(HEADER) + 2), min_size=1, max_size=5))
def test_arbitrary_csv_cells_give_one_row_each(rb, tmp_path, rows):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    rows = [r for r in rows if any(c.strip() for c in r) or len(r) > 1]  # an all-blank line is no row
    w.writerows(rows)
    out = io.StringIO()
    summary = run_batch("-", rb, "-", fmt="jsonl", as_of=AS_OF, stdin=io.BytesIO(buf.getvalue().encode()), stdout=out)
    assert summary.rows == len(out.getvalue().split("\n")) - 1  # not splitlines: \x85 is a line break to it


# printable text and the characters CSV must quote or make inert; no NUL (the csv module refuses it)
PASSED_CELL = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
PASSED_CELL |= st.sampled_from(
    ["", ",", '"', "a,b", "=1+1", "-2", "+x", "@SUM(A1)", "\tTAB", "\rCR", "a\nb", "100%", "%s", "深圳"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(PASSED_CELL, PASSED_CELL, st.none() | PASSED_CELL), min_size=1, max_size=8))
def test_csv_rows_from_a_template_are_the_rows_rendered_cell_by_cell(rb, tmp_path, cells):
    """CSV to CSV fills each row into its outcome's rendered template (the fast path): the bytes are
    those of rendering every cell, as the same rows read from JSONL are (a province too, when drawn)."""
    rows = []
    for i, (asset_id, label, province) in enumerate(cells):
        row = [asset_id, label, *GOOD[i % len(GOOD)][2:]]
        if province is not None:
            row[HEADER.index("province")] = province
        rows.append(row)
    fast = tmp_path / "fast.csv"
    run_batch(write_csv(tmp_path / "in.csv", rows), rb, fast, as_of=AS_OF, force=True)
    slow = tmp_path / "slow.csv"
    run_batch(write_jsonl(tmp_path / "in.jsonl", rows), rb, slow, fmt="csv", as_of=AS_OF, force=True)
    assert fast.read_bytes() == slow.read_bytes()


# --- issue 14: the row pipeline ----------------------------------------------------------------


def test_cache_keys_are_type_tagged(rb):
    """issue 14 serious 4: the per-row cache took True for 1 and False for 0, copying results between rows."""
    base = {"asset_class": "equity", "province": "CN-GD", "amount": 50_000_000}
    rows = [{**base, "term_months": v} for v in (1, True, 0, False)]
    rows += [{**base, "amount": 1}, {**base, "amount": True}]
    out = list(plan_rows(rows, rb, as_of=AS_OF))
    assert [r["status"] for r in out] == ["ok", "error", "error", "error", "ok", "error"]
    # issue 13 item 2: numbers as numbers, else null; the amount as written beside the parsed one
    assert out[1]["term_months"] is None and out[5]["amount"] is None and out[5]["amount_input"] == "True"
    assert "True" in out[1]["error"] and "False" in out[3]["error"]


def test_any_exception_on_a_record_is_an_error_row(rb, monkeypatch):
    """issue 14: any failure on one record becomes its error row; the batch goes on."""
    import repatriate.batch.rows as rows_mod

    real = rows_mod.make_profile

    def flaky(rb_, **fields):
        if fields.get("province") == "boom":
            raise RecursionError("maximum recursion depth exceeded")
        return real(rb_, **fields)

    monkeypatch.setattr(rows_mod, "make_profile", flaky)
    rows = [dict(zip(HEADER, g)) for g in GOOD[:3]]
    rows[1]["province"] = "boom"
    out = list(plan_rows(rows, rb, as_of=AS_OF))
    assert [r["status"] for r in out] == ["ok", "error", "ok"] and "RecursionError" in out[1]["error"]


def test_long_bad_cells_are_not_echoed_whole(rb):
    """issue 14: a bad value of 5-100 KB was echoed whole (here in the row's error cell)."""
    rows = [
        {"asset_class": "equity", "province": "P" * 100_000, "amount": "5e7"},
        {"asset_class": "equity", "province": "CN-GD", "amount": "9" * 50_000 + "x"},
        {"asset_class": "e" * 50_000, "province": "CN-GD", "amount": "5e7"},
    ]
    out = list(plan_rows(rows, rb, as_of=AS_OF))
    assert [r["status"] for r in out] == ["error"] * 3
    assert all(len(r["error"]) < 600 for r in out), [len(r["error"]) for r in out]
