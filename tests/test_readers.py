"""Portfolio readers (``repatriate.batch.readers``): every input record yields exactly one output row.

Each test names the finding of issue 14 it guards; they run through ``run_batch`` on the real rule base.
"""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from repatriate.batch.run import run_batch
from repatriate.errors import RepatriateError

AS_OF = "2026-11-25"
HEAD = "asset_id,asset_class,province,amount\n"
ROW = "X{i},equity,CN-GD,50000000\n"


def batch_rows(
    rb, data: bytes | str, suffix: str = ".csv", tmp_path: Path | None = None, **options
) -> list[dict]:
    """Run a portfolio given as bytes through run_batch; the JSONL output rows."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    out = io.StringIO()
    if tmp_path is not None:
        src = tmp_path / f"in{suffix}"
        src.write_bytes(raw)
        run_batch(src, rb, "-", fmt="jsonl", as_of=AS_OF, stdout=out, **options)
    else:
        run_batch("-", rb, "-", fmt="jsonl", as_of=AS_OF, stdin=io.BytesIO(raw), stdout=out, **options)
    return [json.loads(line) for line in out.getvalue().splitlines()]


# --- CSV: rows lost ----------------------------------------------------------------------


@pytest.mark.parametrize("lead", ["\n", "\r\n", "   \n", "\n\n \t\n"])
def test_leading_blank_lines_lose_no_row(rb, lead):
    """issue 14 serious 2: a leading blank or whitespace-only line gave '0 rows'."""
    rows = batch_rows(rb, lead + HEAD + ROW.format(i=1) + ROW.format(i=2))
    assert [r["asset_id"] for r in rows] == ["X1", "X2"] and {r["status"] for r in rows} == {"ok"}


@pytest.mark.parametrize("where", [9000, 9990, 9999])
def test_unbalanced_quote_near_the_end_loses_no_row(rb, tmp_path, where):
    """issue 14 serious 2: an unbalanced quote near the end of 10,000 rows dropped the rows after it."""
    lines = [ROW.format(i=i) for i in range(10_000)]
    lines[where] = f'X{where},equity,"CN-GD,50000000\n'
    rows = batch_rows(rb, HEAD + "".join(lines), tmp_path=tmp_path)
    assert len(rows) == 10_000
    assert rows[where]["status"] == "error" and "unbalanced quote" in rows[where]["error"]
    assert [r["asset_id"] for r in rows[where + 1 :]] == [f"X{i}" for i in range(where + 1, 10_000)]


def test_huge_csv_field_is_a_row_error(rb, tmp_path):
    """issue 14: a 10 MB CSV field ended the batch with exit 1."""
    data = HEAD + ROW.format(i=1) + "X2,equity,CN-GD," + "9" * 10_000_000 + "\n" + ROW.format(i=3)
    rows = batch_rows(rb, data, tmp_path=tmp_path)
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert rows[2]["asset_id"] == "X3"
    assert len(rows[1]["error"]) < 300  # the message does not echo the field


# --- CSV: rows invented ------------------------------------------------------------------


def test_multiline_cell_that_looks_like_a_row_is_one_record(rb):
    """issue 14: a multi-line quoted cell that looks like a row made 2 records into 4."""
    data = (
        "asset_id,label,asset_class,province,amount\n"
        'X1,"note\nX9,y,equity,CN-GD,1\nend",equity,CN-GD,50000000\n'
        "X2,z,abs,CN-SH,30000000\n"
    )
    rows = batch_rows(rb, data)
    assert [r["asset_id"] for r in rows] == ["X1", "X2"]
    assert rows[0]["label"] == "note\nX9,y,equity,CN-GD,1\nend" and rows[0]["status"] == "ok"


def test_excel_sep_line_is_honoured(rb):
    """issue 14: Excel's `sep=;` first line was read as the header (rows invented, all errors)."""
    rows = batch_rows(rb, "sep=;\nasset_id;asset_class;province;amount\nX1;equity;CN-GD;50000000\n")
    assert [(r["asset_id"], r["status"]) for r in rows] == [("X1", "ok")]
    rows = batch_rows(rb, '"sep=,"\n' + HEAD + ROW.format(i=1))
    assert [(r["asset_id"], r["status"]) for r in rows] == [("X1", "ok")]


@pytest.mark.parametrize("bom", [codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE])
def test_utf32_bom_is_not_read_as_utf16(rb, bom):
    """issue 14: a UTF-32 BOM was read as UTF-16 (every row garbled or invented)."""
    enc = "utf-32-le" if bom == codecs.BOM_UTF32_LE else "utf-32-be"
    rows = batch_rows(rb, bom + (HEAD + "X1,equity,广东,50000000\n").encode(enc))
    assert [(r["asset_id"], r["status"], r["province"]) for r in rows] == [("X1", "ok", "广东")]


def test_big5_is_not_decoded_as_gb18030(rb):
    """issue 14: a Big5 file was decoded as GB18030 (mojibake provinces)."""
    text = (
        "asset_id,label,asset_class,province,amount\n"
        "X1,廣東光伏電站,equity,廣東省,50000000\nX2,臺灣資產,abs,上海市,30000000\n"
    )
    rows = batch_rows(rb, text.encode("big5"))
    assert [r["province"] for r in rows] == ["廣東省", "上海市"] and rows[0]["label"] == "廣東光伏電站"
    assert {r["status"] for r in rows} == {"ok"}


# --- decimal mark --------------------------------------------------------------------------


def test_decimal_comma_in_semicolon_files(rb):
    """issue 14 serious 3: in a ';' file `50000000,50` was read as 5000000050 and `1.234,56` as 1.23456."""
    data = (
        "asset_id;asset_class;province;amount\n"
        "X1;equity;CN-GD;50000000,50\nX2;equity;CN-GD;1.234.567,5\nX3;equity;CN-GD;1.234\n"
    )
    rows = batch_rows(rb, data)
    assert rows[0]["amount"] == 50000000.5 and rows[0]["status"] == "ok"
    assert rows[1]["amount"] == 1234567.5
    assert rows[2]["status"] == "error" and "ambiguous" in rows[2]["error"]


def test_comma_files_refuse_bad_grouping(rb):
    """issue 14: `1,2,3` was read as 123."""
    rows = batch_rows(rb, HEAD + 'X1,equity,CN-GD,"1,2,3"\nX2,equity,CN-GD,"50,000,000"\n')
    assert rows[0]["status"] == "error" and "'1,2,3'" in rows[0]["error"]
    assert rows[1]["status"] == "ok" and rows[1]["amount"] == 50_000_000


@pytest.mark.parametrize(
    "text, decimal, expected",
    [
        ("50000000", ".", 5e7), ("50,000,000", ".", 5e7), ("5e7", ".", 5e7), ("50_000_000", ".", 5e7),
        (" -5 ", ".", -5.0), ("1,234.5", ".", 1234.5), ("50000000,50", ",", 50000000.5),
        ("1.234.567,5", ",", 1234567.5), ("1.234.567", ",", 1234567.0), ("5e7", ",", 5e7),
    ],
)
def test_the_one_number_parser(text, decimal, expected):
    """engine.profile.parse_number serves CLI options and every batch cell (there were four parsers)."""
    from repatriate.engine.profile import parse_number

    assert parse_number("amount", text, decimal=decimal) == expected


@pytest.mark.parametrize(
    "text, decimal, message",
    [
        ("５０００", ".", "not a number"), ("1,2,3", ".", "not a number"), ("1,5", ".", "not a number"),
        ("1e309", ".", "not finite"), ("-inf", ".", "not finite"), ("nan", ",", "not finite"),
        ("1.234", ",", "ambiguous"), ("0.5", ",", "ambiguous"), ("x" * 100_000, ".", "not a number"),
    ],
)
def test_the_one_number_parser_refuses(text, decimal, message):
    from repatriate.engine.profile import parse_number

    with pytest.raises(RepatriateError, match=message) as info:
        parse_number("amount", text, decimal=decimal)
    assert len(str(info.value)) < 300


# --- JSONL -----------------------------------------------------------------------------


def test_json_depth_is_a_row_error(rb):
    """issue 14: a 100k-deep JSON line killed the whole batch."""
    deep = "[" * 100_000 + "]" * 100_000
    data = '{"asset_id": "J1", "asset_class": "equity", "province": "CN-GD", "amount": 5e7}\n' + deep + "\n"
    data += (
        '{"asset_id": "J3", "asset_class": "equity", "province": "CN-GD", "amount": 5e7, "x": ' + deep + "}\n"
    )
    data += '{"asset_id": "J4", "asset_class": "equity", "province": "CN-GD", "amount": 5e7}\n'
    rows = batch_rows(rb, data, suffix=".jsonl")
    assert [r["status"] for r in rows] == ["ok", "error", "error", "ok"]
    assert "deep" in rows[1]["error"]


def test_carriage_return_inside_a_json_object_is_one_record(rb):
    """issue 14: a `\\r` between the keys of a JSON object split it into invented rows."""
    data = '{"asset_id": "J1",\r "asset_class": "equity", "province": "CN-GD",\r "amount": 5e7}\n'
    rows = batch_rows(rb, data.encode(), suffix=".jsonl")
    assert [(r["asset_id"], r["status"]) for r in rows] == [("J1", "ok")]


def test_jsonl_never_writes_infinity(rb):
    """issue 14: JSONL output carried `Infinity` (invalid JSON); it must be null."""
    data = '{"asset_id": "J1", "asset_class": "equity", "province": "CN-GD", "amount": 5e7, '
    data += '"x": 1e400, "y": [-1e400]}\n'
    out = io.StringIO()
    run_batch("-", rb, "-", fmt="jsonl", stdin=io.BytesIO(data.encode()), stdout=out, as_of=AS_OF)
    record = json.loads(out.getvalue(), parse_constant=lambda c: pytest.fail(f"invalid JSON constant {c}"))
    assert record["x"] is None and record["y"] == [None]


# --- XLSX ------------------------------------------------------------------------------


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


XLSX_ROWS = [["asset_id", "asset_class", "province", "amount"], ["S1", "equity", "CN-GD", 50_000_000]]


def test_several_sheets_with_data_need_a_name(rb, tmp_path):
    """issue 14: only the first XLSX sheet was read, silently."""
    src = workbook(
        tmp_path / "two.xlsx",
        {"2025": XLSX_ROWS, "2026": [XLSX_ROWS[0], ["S2", "abs", "CN-SH", 30_000_000]], "notes": []},
    )
    with pytest.raises(RepatriateError, match="several sheets.*'2025', '2026'") as err:
        run_batch(src, rb, "-", stdout=io.StringIO())
    assert err.value.field == "sheet"  # the library names the field; the CLI words it as --sheet
    out = io.StringIO()
    run_batch(src, rb, "-", fmt="jsonl", sheet="2026", stdout=out, as_of=AS_OF)
    assert [json.loads(line)["asset_id"] for line in out.getvalue().splitlines()] == ["S2"]
    with pytest.raises(RepatriateError, match="no sheet 'nope'"):
        run_batch(src, rb, "-", sheet="nope", stdout=io.StringIO())
    one = workbook(tmp_path / "one.xlsx", {"data": XLSX_ROWS, "empty": []})
    out = io.StringIO()
    run_batch(one, rb, "-", fmt="jsonl", stdout=out, as_of=AS_OF)  # one sheet with data: read without a name
    assert json.loads(out.getvalue())["asset_id"] == "S1"


def test_xlsx_zip_bomb_is_refused(rb, tmp_path):
    """issue 14: a 92 KB XLSX zip bomb took 47 s and 900 MB."""
    good = workbook(tmp_path / "good.xlsx", {"s": XLSX_ROWS})
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"</sheetData>" + b" " * 50_000_000)
            zout.writestr(item, data)
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(RepatriateError, match="too large|compression"):
        run_batch(bomb, rb, "-", stdout=io.StringIO())


def test_malformed_xlsx_xml_is_an_input_error(rb, tmp_path):
    """issue 14: malformed XLSX XML gave exit 1 'unexpected'."""
    good = workbook(tmp_path / "good.xlsx", {"s": XLSX_ROWS})
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row><c r='A9'")
            zout.writestr(item, data)
    with pytest.raises(RepatriateError, match="XLSX"):
        run_batch(bad, rb, "-", stdout=io.StringIO())


def test_xlsx_output_truncates_long_cells_visibly(rb, tmp_path):
    """issue 14: XLSX silently truncated cells over 32,767 characters."""
    from openpyxl import load_workbook

    src = tmp_path / "in.csv"
    src.write_text(
        "asset_id,label,asset_class,province,amount\nX1," + "a" * 40_000 + ",equity,CN-GD,50000000\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.xlsx"
    run_batch(src, rb, out, as_of=AS_OF)
    header, row = list(load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True))
    label = dict(zip(header, row))["label"]
    assert len(label) <= 32_767 and "truncated" in label and "40000" in label


# --- encodings -------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["rot13", "base64", "hex", "zlib"])
def test_non_text_codecs_are_refused(rb, codec):
    """issue 14: `--encoding rot13` or `base64` gave exit 1 'unexpected'."""
    with pytest.raises(RepatriateError, match="not a text encoding"):
        run_batch("-", rb, "-", encoding=codec, stdin=io.BytesIO(HEAD.encode()), stdout=io.StringIO())


# --- property: one output row per input record ---------------------------------------------

cell_text = st.text(alphabet=st.sampled_from(list('ab,;"\n\r 广東=-') + ["\t"]), max_size=8)
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-32"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(cell_text, cell_text, st.booleans()), min_size=1, max_size=6),
    blank_lead=st.integers(0, 2),
    encoding=st.sampled_from(ENCODINGS),
    fmt=st.sampled_from(["csv", "jsonl", "xlsx"]),
)
def test_generated_files_give_one_row_per_record(rb, tmp_path, rows, blank_lead, encoding, fmt):
    """Quotes, blank lines, BOMs and encodings: exactly one output row per input record, in order,
    with the text of every cell as written."""
    import csv

    header = ["asset_id", "label", "note", "asset_class", "province", "amount"]
    records = [[f"R{i}", a, b, "equity", "CN-GD", "50000000"] for i, (a, b, _) in enumerate(rows)]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(header)
        for record, (_, _, blank_after) in zip(records, rows):
            w.writerow(record)
            if blank_after:
                buf.write("\r\n")  # a blank line between records is no record
        src = tmp_path / "in.csv"
        src.write_bytes(("\r\n" * blank_lead + buf.getvalue()).encode(encoding))
    elif fmt == "jsonl":
        src = tmp_path / "in.jsonl"
        lines = ["\n" * blank_lead]
        for record, (_, _, blank_after) in zip(records, rows):
            line = json.dumps(dict(zip(header, record)), ensure_ascii=False)
            lines.append(line + "\n" + "\n" * blank_after)
        src.write_bytes("".join(lines).encode("utf-8" if encoding in ("utf-16", "utf-32") else encoding))
    else:
        src = workbook(tmp_path / "in.xlsx", {"s": [header] + [[_xml_safe(c) for c in r] for r in records]})
    out = io.StringIO()
    summary = run_batch(src, rb, "-", fmt="jsonl", as_of=AS_OF, stdout=out)
    got = [json.loads(line) for line in out.getvalue().split("\n") if line]
    assert [g["asset_id"] for g in got] == [r[0] for r in records]
    assert summary.rows == len(records)
    assert [g["status"] for g in got] == ["ok"] * len(records)
    if fmt != "xlsx":
        assert [(g["label"], g["note"]) for g in got] == [(r[1], r[2]) for r in records]


def _xml_safe(text: str) -> str:
    return text.replace("\r", "")  # XML turns a stored CR into LF; not what this test is about


PIECES = [*'a,;"\n\r 1.', "CN-GD", "equity", "\ufeff"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_arbitrary_csv_bytes_never_invent_rows(rb, body):
    """Any text after a header: no exception, and never more records than non-blank lines."""
    data = HEAD + body
    out = io.StringIO()
    summary = run_batch("-", rb, "-", fmt="jsonl", as_of=AS_OF, stdin=io.BytesIO(data.encode()), stdout=out)
    lines = [line for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]
    assert summary.rows == len(out.getvalue().split("\n")) - 1 <= len(lines)


def test_short_multiline_record_is_one_row(rb):
    """A well-formed record with a multi-line cell stays one row even when it is short of fields."""
    data = 'asset_id,label,asset_class,province,amount\nX1,"two\nlines",equity\nX2,x,abs,CN-SH,30000000\n'
    rows = batch_rows(rb, data)
    assert [r["asset_id"] for r in rows] == ["X1", "X2"] and rows[0]["label"] == "two\nlines"


def test_quote_that_closes_later_does_not_swallow_a_row(rb):
    """An unbalanced quote closed by a stray quote at the end of a later row: that row is kept."""
    rows = batch_rows(rb, HEAD + 'X1,equity,"CN-GD,50000000\nX2,debt,CN-SH,5"\nX3,abs,CN-SH,30000000\n')
    assert [r["asset_id"] for r in rows] == [None, "X2", "X3"] and rows[0]["status"] == "error"
