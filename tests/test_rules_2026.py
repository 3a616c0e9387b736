"""Issue 9, items 1-6 and 8: corrected facts and the 2025-26 regimes, through the public API and the CLI.

One test per corrected fact; each docstring cites the text (document number and article) it
rests on. Every as-of boundary added has a test on each side of its date.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from repatriate import load_rulebase, plan_route, plan_to_dict
from repatriate.cli import app

TODAY = "2026-11-25"
runner = CliRunner()


@pytest.fixture(scope="module")
def rb():
    return load_rulebase()


def plan(rb, as_of=TODAY, **fields):
    fields.setdefault("amount", 20_000_000)
    return plan_to_dict(plan_route(rb, as_of=as_of, **fields), rb)


def routes(d, channel):
    return [r for r in d["routes"] if channel in r["channels"]]


def excluded(d, channel):
    return [e for e in d["excluded"] if channel in e["channels"]]


def reasons(d, channel):
    return {f["rule"]: f for e in excluded(d, channel) for f in e["reasons"]}


def findings(route):
    return {f["rule"]: f for f in route["warnings"] + route["notes"]}


def step_ids(route):
    return [s["id"] for s in route["steps"]]


def cli_json(*args):
    res = runner.invoke(app, ["route", *args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


# --- item 1: the NDRC notices ---------------------------------------------------------------


def test_real_estate_notice_is_778_not_666(rb):
    """发改办外资〔2019〕778号 (9 Jul 2019) is the real-estate notice; 666 is not its number."""
    d = plan(rb, asset_class="equity", sector="real_estate", province="CN-GD", net_assets=1e9)
    rule = reasons(d, "foreign_debt")["fd_real_estate_refinancing_only"]
    assert "ndrc_2019_778" in rule["sources"] and "ndrc_2019_666" not in rule["sources"]
    assert rb.sources["ndrc_2019_778"].doc_no == "发改办外资〔2019〕778号"
    assert "房地产企业" in rb.sources["ndrc_2019_778"].title.zh


def test_706_is_issued_by_ndrc_and_mof_without_ban(rb):
    """发改外资〔2018〕706号 was issued jointly by the NDRC and the MOF (not their general offices)."""
    src = rb.sources["ndrc_mof_2018_706"]
    assert src.doc_no == "发改外资〔2018〕706号" and "办" not in src.doc_no
    assert src.issuer.zh == "国家发展和改革委员会、财政部"
    d = plan(rb, as_of="2019-01-01", asset_class="equity", sector="infrastructure", holder_type="lgfv", province="CN-GD", net_assets=1e9)
    fd = routes(d, "foreign_debt")[0]
    assert findings(fd)["fd_lgfv_isolation"]["sources"] == ["ndrc_mof_2018_706"]


def test_lgfv_rule_dates_from_the_local_soe_notice(rb):
    """NDRC General Office notice on local SOEs' foreign debt (reported 13 Jun 2019), point 5: LGFV-type local
    SOEs may borrow only to refinance debt maturing within a year. The rule starts on 13 Jun 2019, not on the
    real-estate notice's 9 Jul 2019."""
    lgfv = dict(asset_class="equity", sector="infrastructure", holder_type="lgfv", province="CN-GD", net_assets=1e9)
    before = plan(rb, as_of="2019-06-12", **lgfv)
    on = plan(rb, as_of="2019-06-13", **lgfv)
    assert routes(before, "foreign_debt") and "fd_lgfv_isolation" in findings(routes(before, "foreign_debt")[0])
    assert not routes(on, "foreign_debt")
    rule = reasons(on, "foreign_debt")["fd_lgfv_restrictions"]
    assert "ndrc_2019_local_soe" in rule["sources"]
    assert "地方国有企业" in rb.sources["ndrc_2019_local_soe"].title.zh


def test_lgfv_debt_tokens_excluded_from_the_local_soe_notice(rb):
    """Local-SOE notice (13 Jun 2019), point 5: debt tokens of an LGFV (its medium/long-term foreign debt)
    only refinance; the day before, the rule is not yet in force."""
    lgfv = dict(asset_class="debt", sector="infrastructure", holder_type="lgfv", province="CN-GD", term_months=36, net_assets=1e9)
    assert plan(rb, as_of="2019-06-12", **lgfv)["routes"]
    on = plan(rb, as_of="2019-06-13", **lgfv)
    assert not on["routes"]
    assert all(any(f["rule"] == "debt_issue_lgfv_refinancing_only" for f in e["reasons"]) for e in on["excluded"])
