"""Reports cite sources by title and number or issuer, not by internal id; JSON keeps the ids.

Issue 9, item 10, and the coverage of regimes ("Show").
"""

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


# --- corrected source facts (issue 9, item 10; docs/research R1, R3) -----------------------------


def test_yinfa_2026_42_in_force_on_issue(rb):
    """R3: "本通知自发布之日起施行" (as quoted in news): effective the day it was issued, 6 Feb 2026."""
    s = rb.sources["yinfa_2026_42"]
    assert s.issued.isoformat() == s.effective.isoformat() == "2026-02-06"


def test_qfi_funds_2020_rules_repealed(rb):
    """PBOC/SAFE Announcement [2024] No. 7, Art. 31: the 2020 rules ([2020] No. 2) are repealed."""
    assert rb.sources["qfi_funds_2020_2"].status == "repealed"


def test_2022_tech_sme_pilot_notice_number(rb):
    """R1: the 2022 high-tech / 专精特新 foreign-debt facilitation pilot is 汇发〔2022〕16号."""
    assert rb.sources["safe_2022_hightech_financing"].doc_no == "汇发〔2022〕16号"


# --- coverage shows the regimes with their dates ----------------------------------------------------


def test_coverage_lists_the_new_regimes_by_scope_with_dates():
    res = runner.invoke(app, ["data", "coverage", "--format", "json", "--as-of", "2026-11-29"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    rows = {(r["scope"], r["source"]): r for r in d["regimes"]}
    assert rows[("national", "safe_2025_43")]["from"] == "2025-09-15"  # 汇发〔2025〕43号
    assert rows[("national", "csrc_2026_1")]["from"] == "2026-02-06"  # the CSRC track
    assert rows[("national", "qfi_funds_2024_7")]["in_force"]  # QFII 2024 No. 7
    suzhou = rows[("CN-JS:suzhou", "sip_qflp_2020")]
    assert suzhou["from"] == "2020-07-24" and suzhou["in_force"]
    assert d["places"]["prefecture"] == 337 and d["places"]["county_city"] == 397
    table = runner.invoke(app, ["data", "coverage", "--as-of", "2026-11-29"]).stdout
    assert "汇发〔2025〕43号" in table and "苏园管规字〔2020〕2号" in table
    assert "397 county-level cities" in table
