"""`repatriate batch` through CliRunner: files and stdin in, CSV/XLSX/JSONL out, summary, errors."""

from __future__ import annotations

import csv
import io
import json

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
