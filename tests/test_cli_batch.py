"""`repatriate batch` through CliRunner: files and stdin in, CSV/XLSX/JSONL out, summary, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from repatriate.cli import app

runner = CliRunner()
PORTFOLIO = (
    "asset_id,label,asset_class,sector,province,city,amount,currency\n"
    'A1,=HYPERLINK("http://x"),equity,renewable_energy,广东,shenzhen,50000000,USD\n'
    "A2,plain,equity,renewable_energy,CN-XX,,50000000,USD\n"
    "A3,+1,debt,logistics,上海,,20000000,USD\n"
)


def invoke(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def portfolio(tmp_path, encoding="utf-8"):
    path = tmp_path / "book.csv"
    path.write_bytes(PORTFOLIO.encode(encoding))
    return path


def test_csv_to_stdout_with_summary_on_stderr(tmp_path):
    res = invoke("batch", str(portfolio(tmp_path, "gb18030")), "--as-of", "2026-11-25")
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [r["asset_id"] for r in rows] == ["A1", "A2", "A3"]
    assert [r["status"] for r in rows] == ["ok", "error", "ok"]
    assert rows[0]["label"].startswith("'=") and rows[2]["label"] == "'+1"
    assert "unknown province 'CN-XX'" in rows[1]["error"]
    assert res.stderr.startswith("3 rows: 2 ok, 1 errors")  # stdout carries nothing but the data


def test_xlsx_output_and_summary_json(tmp_path):
    out, summary = tmp_path / "out.xlsx", tmp_path / "summary.json"
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out), "--summary-json", str(summary))
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    ws = load_workbook(out, read_only=True).worksheets[0]
    header, *rows = list(ws.iter_rows(values_only=True))
    rows = [dict(zip(header, r)) for r in rows]
    assert rows[0]["label"].startswith("'=") and rows[0]["amount"] == 50_000_000
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert (data["rows"], data["ok"], data["errors"]) == (3, 2, 1)
    assert sum(data["by_channel"].values()) == 2 and sum(data["by_province"].values()) == 2


def test_stdin_to_jsonl_with_top(tmp_path):
    res = invoke("batch", "-", "--format", "jsonl", "--top", "3", input=PORTFOLIO.encode("utf-8-sig"))
    assert res.exit_code == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["asset_id"] for r in rows] == ["A1", "A2", "A3"]
    assert rows[0]["label"].startswith("=")  # JSONL is data, not a spreadsheet
    assert 1 <= len(rows[0]["routes"]) <= 3 and rows[1]["routes"] == []


def test_jsonl_portfolio_by_extension(tmp_path):
    path = tmp_path / "book.jsonl"
    path.write_text(
        '{"asset_id": "J1", "asset_class": "abs", "province": "海南", "amount": 30000000}\n', encoding="utf-8"
    )
    res = invoke("batch", str(path), "-o", "-", "--format", "jsonl")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["status"] == "ok"


def test_usage_errors_are_one_line_exit_2(tmp_path):
    book = str(portfolio(tmp_path))
    cases = [
        (["batch", str(tmp_path / "missing.csv")], "does not exist"),
        (["batch", str(tmp_path)], "is a directory"),
        (["batch", book, "--encoding", "klingon"], "unknown encoding 'klingon'"),
        (["batch", book, "--format", "pdf"], "unknown format 'pdf'"),
        (["batch", book, "-o", str(tmp_path / "out.pdf")], "cannot tell the output format"),
        (["batch", book, "--top", "3"], "needs JSONL output"),
        (["batch", book, "--format", "xlsx"], "XLSX output needs a file"),
        (["batch", book, "--optimize", "fastest"], "unknown objective 'fastest'"),
        (["batch", book, "--as-of", "soon"], "invalid date 'soon'"),
        (["batch", book, "--input-format", "xml"], "unknown input format 'xml'"),
    ]
    for args, message in cases:
        res = invoke(*args)
        assert res.exit_code == 2, (args, res.stderr)
        assert message in res.stderr and res.stderr.count("\n") == 1, (args, res.stderr)
        assert "Traceback" not in res.output


def test_help_has_an_example():
    res = invoke("batch", "--help")
    assert res.exit_code == 0
    assert "Example: repatriate batch" in res.stdout and "--summary-json" in res.stdout


def test_wrong_encoding_fails_loudly(tmp_path):
    src = tmp_path / "gb.csv"
    src.write_bytes("asset_class,province,amount\nequity,广东,1000000\n".encode("gb18030"))
    res = CliRunner().invoke(app, ["batch", str(src), "--encoding", "utf-8", "-o", str(tmp_path / "out.csv")])
    assert res.exit_code == 2
    assert "is not utf-8" in res.output and "gb18030" in res.output
    assert not (tmp_path / "out.csv").exists()


def test_unbalanced_quote_loses_no_row(tmp_path):
    src = tmp_path / "broken.csv"
    src.write_text(
        'asset_id,asset_class,province,amount\nX1,equity,CN-GD,1e7\nX2,equity,"CN-GD,1e7\nX3,debt,CN-SH,5\nX4,abs,CN-SH,"1,000"\n',
        encoding="utf-8",
    )
    rows = list(csv.DictReader(io.StringIO(invoke("batch", str(src)).stdout)))
    assert [r["status"] for r in rows] == ["ok", "error", "ok", "ok"]
    assert "unbalanced quote" in rows[1]["error"]
    assert [r["asset_id"] for r in rows] == ["X1", "", "X3", "X4"]


def test_quoted_multiline_label_is_one_row(tmp_path):
    src = tmp_path / "ml.csv"
    src.write_text(
        'asset_id,label,asset_class,province,amount\nX1,"two\nlines",equity,CN-GD,1e7\nX2,x,abs,CN-SH,5\n',
        encoding="utf-8",
    )
    rows = list(csv.DictReader(io.StringIO(invoke("batch", str(src)).stdout)))
    assert [r["status"] for r in rows] == ["ok", "ok"] and rows[0]["label"] == "two\nlines"


# --- issue 14: clean failure and strict options ------------------------------------------------


def test_output_equal_to_input_is_refused(tmp_path):
    """issue 14: -o could point at the input file (the portfolio was overwritten)."""
    src = portfolio(tmp_path)
    before = src.read_bytes()
    res = invoke("batch", str(src), "-o", str(tmp_path / "." / "book.csv"))
    assert res.exit_code == 2 and "is also an input" in res.stderr
    assert src.read_bytes() == before


def test_summary_json_equal_to_output_is_refused(tmp_path):
    """issue 14: --summary-json at the same path as -o overwrote the results."""
    out = tmp_path / "out.jsonl"
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out), "--summary-json", str(out))
    assert res.exit_code == 2 and "--summary-json" in res.stderr and "-o" in res.stderr
    assert not out.exists()


def test_non_text_encoding_is_exit_2(tmp_path):
    """issue 14: --encoding rot13 / base64 gave exit 1 'unexpected'."""
    for codec in ("rot13", "base64"):
        res = invoke("batch", str(portfolio(tmp_path)), "--encoding", codec)
        assert res.exit_code == 2 and "not a text encoding" in res.stderr, res.stderr


def test_long_output_name_is_exit_2(tmp_path):
    """issue 14: a 300-character -o name gave exit 1 'unexpected'."""
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(tmp_path / ("r" * 300 + ".csv")))
    assert res.exit_code == 2 and "name too long" in res.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["book.csv"]


def test_input_status_and_duplicate_columns_do_not_collide(tmp_path):
    """issue 14: duplicate input columns and an input `status` column collided with output columns."""
    src = tmp_path / "cols.csv"
    src.write_text(
        "asset_id,Status,status,input_status,note,note,asset_class,province,amount\n"
        "A1,s1,s2,s3,n1,n2,equity,CN-GD,50000000\n",
        encoding="utf-8",
    )
    res = invoke("batch", str(src), "--format", "jsonl")
    assert res.exit_code == 0, res.stderr
    row = json.loads(res.stdout)
    assert row["status"] == "ok"
    carried = sorted(v for v in row.values() if isinstance(v, str) and v[:1] in "sn" and v[1:].isdigit())
    assert carried == ["n1", "n2", "s1", "s2", "s3"]
    header = next(csv.reader(io.StringIO(invoke("batch", str(src)).stdout)))
    assert len(header) == len({h.casefold() for h in header})


def test_summary_json_and_output_write_atomically(tmp_path):
    out, summary = tmp_path / "out.csv", tmp_path / "s.json"
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out), "--summary-json", str(summary))
    assert res.exit_code == 0 and json.loads(summary.read_text())["rows"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.csv", "out.csv", "s.json"]


# --- lenient option values (route/compare go through the same parser) ---------------------------------

PROFILE = ["--asset-class", "equity", "--province", "CN-GD"]


@pytest.mark.parametrize(
    "amount, message",
    [
        ("５０００", "'５０００' is not a number"),
        ("1,2,3", "'1,2,3' is not a number"),
        ("1e309", "'1e309' is not finite"),
        ("nan", "'nan' is not finite"),
    ],
)
def test_strict_amounts(amount, message):
    """issue 14: full-width digits and `1,2,3` (read as 123) were accepted; `1e309` was reported as inf."""
    res = invoke("route", *PROFILE, "--amount", amount)
    assert res.exit_code == 2 and message in res.stderr, res.stderr


def test_empty_currency_is_refused():
    """issue 14: `--currency ""` silently meant USD."""
    res = invoke("route", *PROFILE, "--amount", "5e7", "--currency", "")
    assert res.exit_code == 2 and "currency" in res.stderr


def test_bad_values_are_echoed_short():
    """issue 14: a bad value of 5-100 KB was echoed whole."""
    for args in (
        ["--amount", "9x" * 50_000],
        ["--amount", "5e7", "--sector", "s" * 100_000],
        ["--amount", "5e7", "--optimize", "o" * 100_000],
    ):
        res = invoke("route", *PROFILE, *args)
        assert res.exit_code == 2 and len(res.stderr) < 600, len(res.stderr)


def test_label_control_characters_do_not_reach_the_terminal():
    """issue 14: `--label` ESC sequences reached the terminal."""
    res = invoke(
        "compare",
        "--asset-class",
        "equity",
        "--amount",
        "5e7",
        "--province",
        "CN-GD",
        "--label",
        "Acme\x1b]8;;http://evil\x07 \x1b[2J",
        "--format",
        "md",
    )
    assert res.exit_code == 0, res.stderr
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout and "Acme" in res.stdout


# --- issue 13: spreadsheets, exit codes and overwrites ------------------------------------------------


def test_excel_csv_has_a_bom_and_reads_back_in_chinese(tmp_path):
    """issue 13 item 3: --excel writes UTF-8 with a BOM, which Excel in a Chinese locale reads as UTF-8."""
    out = tmp_path / "out.csv"
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out), "--excel")
    assert res.exit_code == 0, res.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfasset_id,")
    assert "广东" in data.decode("utf-8-sig")
    res = invoke("batch", str(portfolio(tmp_path)), "--excel")  # stdout too
    assert res.stdout.startswith("\ufeffasset_id,")
    res = invoke("batch", str(portfolio(tmp_path)), "--excel", "--format", "jsonl")
    assert res.exit_code == 2 and res.stderr.startswith("error: --excel")


def test_xlsx_has_a_styled_header_a_summary_and_a_rules_sheet(tmp_path):
    """issue 13 item 3: bold, frozen, filtered header; widths; Summary and Rules (as-of, digest, sources)."""
    out = tmp_path / "out.xlsx"
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out), "--as-of", "2026-03-01")
    assert res.exit_code == 0, res.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == ["results", "Summary", "Rules"]
    ws = wb["results"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}4"
    assert all(c.font.b for c in ws[1])
    header = [c.value for c in ws[1]]
    assert ws.column_dimensions[ws.cell(1, header.index("warnings") + 1).column_letter].width >= 60
    summary = dict(wb["Summary"].iter_rows(values_only=True))
    assert summary["rows"] == 3 and summary["as_of"] == "2026-03-01"
    rules = list(wb["Rules"].iter_rows(values_only=True))
    head = {r[0]: r[1] for r in rules[:4]}
    assert head["as_of"] == "2026-03-01" and len(head["rulebase_digest"]) == 64 and head["tool_version"]
    sources = rules[rules.index(("source", "title", "document number", "issuer", "date", "url", "tier")) + 1 :]
    assert len(sources) > 3 and all(s[0] and s[1] for s in sources)


def test_strict_exits_1_when_a_row_failed(tmp_path):
    """issue 13 item 4: --strict turns error rows into exit 1 (the file is still written)."""
    out = tmp_path / "out.csv"
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out), "--strict")
    assert res.exit_code == 1 and out.exists()
    good = tmp_path / "good.csv"
    good.write_text(PORTFOLIO.replace("CN-XX", "CN-GD"), encoding="utf-8")
    assert invoke("batch", str(good), "--strict").exit_code == 0


def test_output_is_not_replaced_without_force(tmp_path):
    """issue 13 item 4: -o refuses an existing file without --force, as route and compare do."""
    out = tmp_path / "out.csv"
    out.write_text("keep me", encoding="utf-8")
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out))
    assert res.exit_code == 2 and "exists (use --force to overwrite it)" in res.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    summary = tmp_path / "s.json"
    summary.write_text("{}", encoding="utf-8")
    new = str(tmp_path / "new.csv")
    res = invoke("batch", str(portfolio(tmp_path)), "-o", new, "--summary-json", str(summary))
    assert res.exit_code == 2 and not (tmp_path / "new.csv").exists()
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out), "--force", "--summary-json", str(summary))
    assert res.exit_code == 0 and out.read_text(encoding="utf-8").startswith("asset_id")


def test_summary_json_to_stdout(tmp_path):
    """issue 13 item 4: --summary-json - writes the summary (with as-of, digest, version) to stdout."""
    res = invoke(
        "batch",
        str(portfolio(tmp_path)),
        "-o",
        str(tmp_path / "o.jsonl"),
        "--summary-json",
        "-",
        "--as-of",
        "2026-03-01",
    )
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["rows"] == data["ok"] + data["no_route"] + data["errors"] == 3
    assert data["as_of"] == "2026-03-01" and len(data["rulebase_digest"]) == 64 and data["tool_version"]
    res = invoke("batch", str(portfolio(tmp_path)), "--summary-json", "-")
    assert res.exit_code == 2 and "share stdout" in res.stderr


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_missing_required_column_fails_at_once_naming_it(tmp_path, fmt):
    """issue 13 item 4: a portfolio without `amount` fails before any row, naming the column."""
    src = tmp_path / "book.csv"
    src.write_text("asset_id,asset_class,province\nA1,equity,CN-GD\nA2,debt,CN-SH\n", encoding="utf-8")
    out = tmp_path / f"out.{fmt}"
    res = invoke("batch", str(src), "-o", str(out))
    assert res.exit_code == 2 and "no amount column" in res.stderr and res.stderr.count("\n") == 1
    assert not out.exists()
    jsonl = tmp_path / "book.jsonl"
    jsonl.write_text('{"asset_id": "A1", "province": "CN-GD", "amount": 5}\n', encoding="utf-8")
    res = invoke("batch", str(jsonl), "--format", fmt if fmt != "xlsx" else "jsonl")
    assert res.exit_code == 2 and "no asset_class column" in res.stderr


def test_a_failure_after_the_rows_leaves_no_file(tmp_path, monkeypatch):
    """issue 13 item 4: the rows were written, then the workbook's appendix failed: no half file."""
    from repatriate.batch import writers

    def boom(self, *args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers.XlsxWriter, "appendix", boom)
    out = tmp_path / "out.xlsx"
    res = invoke("batch", str(portfolio(tmp_path)), "-o", str(out))
    assert res.exit_code != 0 and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.csv"]


def test_schema_prints_the_row_schema():
    """issue 13 item 2: `batch --schema` publishes the JSON Schema of a result row."""
    res = invoke("batch", "--schema")
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert schema["properties"]["status"]["enum"] == ["ok", "no_route", "error"]
    assert schema["properties"]["amount"]["type"] == ["number", "null"]
