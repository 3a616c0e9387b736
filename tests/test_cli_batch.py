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
    "A1,=HYPERLINK(\"http://x\"),equity,renewable_energy,广东,shenzhen,50000000,USD\n"
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
    path.write_text('{"asset_id": "J1", "asset_class": "abs", "province": "海南", "amount": 30000000}\n', encoding="utf-8")
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
    src.write_text('asset_id,asset_class,province,amount\nX1,equity,CN-GD,1e7\nX2,equity,"CN-GD,1e7\nX3,debt,CN-SH,5\nX4,abs,CN-SH,"1,000"\n', encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(invoke("batch", str(src)).stdout)))
    assert [r["status"] for r in rows] == ["ok", "error", "ok", "ok"]
    assert "unbalanced quote" in rows[1]["error"]
    assert [r["asset_id"] for r in rows] == ["X1", "", "X3", "X4"]


def test_quoted_multiline_label_is_one_row(tmp_path):
    src = tmp_path / "ml.csv"
    src.write_text('asset_id,label,asset_class,province,amount\nX1,"two\nlines",equity,CN-GD,1e7\nX2,x,abs,CN-SH,5\n', encoding="utf-8")
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
    src.write_text("asset_id,Status,status,input_status,note,note,asset_class,province,amount\n"
                   "A1,s1,s2,s3,n1,n2,equity,CN-GD,50000000\n", encoding="utf-8")
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
    for args in (["--amount", "9x" * 50_000], ["--amount", "5e7", "--sector", "s" * 100_000],
                 ["--amount", "5e7", "--optimize", "o" * 100_000]):
        res = invoke("route", *PROFILE, *args)
        assert res.exit_code == 2 and len(res.stderr) < 600, len(res.stderr)


def test_label_control_characters_do_not_reach_the_terminal():
    """issue 14: `--label` ESC sequences reached the terminal."""
    res = invoke("compare", "--asset-class", "equity", "--amount", "5e7", "--province", "CN-GD",
                 "--label", "Acme\x1b]8;;http://evil\x07 \x1b[2J", "--format", "md")
    assert res.exit_code == 0, res.stderr
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout and "Acme" in res.stdout
