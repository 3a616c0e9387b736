"""Reports cite sources by title and number or issuer, not by internal id; JSON keeps the ids (issue 9, item 10)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from repatriate.cli import app

runner = CliRunner()
FD = ["route", "--asset-class", "debt", "--province", "CN-GD", "--amount", "80000000", "--holder-type", "fie",
      "--net-assets", "5000000", "--total-investment", "100000000", "--registered-capital", "40000000",
      "--term-months", "36", "--as-of", "2026-11-25", "--explain"]


def test_table_and_markdown_cite_titles_and_numbers_not_ids():
    for fmt in ("table", "md"):
        res = runner.invoke(app, [*FD, "--format", fmt])
        assert res.exit_code == 0, res.output
        out = " ".join(res.stdout.split())
        assert "pboc_2017_9" not in out and "wdgl_2003_28" not in out, fmt
        assert "银发〔2017〕9号" in out and "第28号" in out, fmt


def test_json_keeps_the_ids():
    d = json.loads(runner.invoke(app, [*FD, "--format", "json"]).stdout)
    reasons = [x for e in d["excluded"] for x in e["reasons"] if x["rule"] == "foreign_debt_over_capacity"]
    assert reasons and "wdgl_2003_28" in reasons[0]["sources"] and "wdgl_2003_28" in d["sources"]
