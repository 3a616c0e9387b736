"""Foreign-debt capacity of an FIE under both models, the first-year bar, and the new profile inputs.

Texts: 外债管理暂行办法 (2003, Order No. 28; the 投注差 rule), 银发〔2017〕9号 (FIEs choose a model),
SAFE's macro-prudential Q&A of 9 Aug 2017 (a first-year company without audited accounts may not use
the macro-prudential model); see docs/research/R1_ndrc_safe.md sections F and G.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import exclusions_by_channel, routes_by_channel
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.engine.capacity import holder_age_months
from repatriate.errors import RepatriateError

runner = CliRunner()
FIE = dict(
    asset_class="debt", sector="logistics", province="CN-GD", term_months=36, holder_type="fie",
    net_assets=5_000_000,
)
GAP = dict(total_investment=100_000_000, registered_capital=40_000_000)  # 投注差 60m
# macro-prudential cap for 5m net assets, USD, medium term: 5m x 2 x 1.75 / (1 + 0.5) = 11.67m


def fd(plan):
    return routes_by_channel(plan, "foreign_debt")


def test_bug_fie_with_large_gap_was_excluded_by_the_macro_prudential_cap_alone(run):
    """Bug (issue 9 item 7): 30m over the 11.67m macro-prudential cap was excluded although the
    FIE's 投注差 is 60m; an FIE may borrow under 投注差 instead (银发〔2017〕9号)."""
    p = run(amount=30_000_000, **FIE, **GAP)
    (route,) = fd(p)
    assert route.capacity == pytest.approx(60_000_000)
    rules = {w.rule for w in route.warnings}
    assert {"fd_fie_alternative_cap", "foreign_debt_capacity_one_model"} <= rules
    text = route.capacity_text.en
    assert "macro-prudential model: 11,666,667 USD" in text and "60,000,000 USD" in text


def test_fie_within_both_models_takes_the_larger_and_warns_of_no_single_model(run):
    p = run(amount=5_000_000, **FIE, **GAP)
    (route,) = fd(p)
    assert route.capacity == pytest.approx(60_000_000)
    assert "foreign_debt_capacity_one_model" not in {w.rule for w in route.warnings}


def test_fie_over_both_models_is_excluded_naming_both(run):
    p = run(amount=70_000_000, **FIE, **GAP)
    assert not fd(p)
    (ex,) = exclusions_by_channel(p, "foreign_debt")
    reason = next(f for f in ex.reasons if f.rule == "foreign_debt_over_capacity")
    assert "macro-prudential" in reason.text.en and "投注差" in reason.text.en
    assert "wdgl_2003_28" in reason.sources and "pboc_2017_9" in reason.sources


def test_fie_without_its_total_investment_is_not_excluded_but_capacity_unknown(run):
    """Over the macro-prudential cap, and the 投注差 unknown: the FIE may still have the room."""
    p = run(amount=30_000_000, **FIE)
    (route,) = fd(p)
    assert route.capacity_unknown and route.capacity is None
    finding = next(w for w in route.warnings if w.rule == "foreign_debt_capacity_unknown")
    assert "total investment" in finding.text.en


def test_a_non_fie_is_judged_by_the_macro_prudential_cap_only(run):
    fields = {**FIE, "holder_type": "private"}
    p = run(amount=30_000_000, **fields, **GAP)
    assert not fd(p)
    same = run(amount=30_000_000, **fields)  # the FIE figures change nothing for a private company
    assert [e.reasons for e in same.excluded if "foreign_debt" in e.channels] == [
        e.reasons for e in p.excluded if "foreign_debt" in e.channels
    ]


def test_the_gap_formula_is_data_with_its_source(rb):
    """外债管理暂行办法 (2003): its article number (18) is unconfirmed, so the model is unverified."""
    gap = next(c for c in rb.channels["foreign_debt"].capacities if c.id == "investment_gap")
    assert gap.formula == "total_investment - registered_capital" and gap.when == {"holder_type": "fie"}
    assert "wdgl_2003_28" in gap.sources and gap.verified is False and "Art. 18" in gap.note
    assert rb.sources["wdgl_2003_28"].doc_no.endswith("令第28号")


# --- the first year (SAFE Q&A of 9 Aug 2017) --------------------------------------------------


@pytest.mark.parametrize(
    "founded, day, months",
    [("2026-03-01", "2026-11-25", 8), ("2025-11-25", "2026-11-25", 12), ("2025-11-26", "2026-11-25", 11)],
)
def test_holder_age_in_whole_months(founded, day, months):
    import datetime as dt

    assert holder_age_months(dt.date.fromisoformat(founded), dt.date.fromisoformat(day)) == months


@pytest.mark.parametrize("as_of, barred", [("2017-08-08", False), ("2017-08-09", True)])
def test_first_year_bar_from_the_qa_date(run, as_of, barred):
    """The Q&A of 9 Aug 2017: a company founded within the year before is barred from that day on."""
    p = run(
        as_of=as_of, asset_class="debt", sector="logistics", province="CN-GD", amount=1_000_000,
        term_months=36, net_assets=50_000_000, holder_founded="2017-03-01",
    )
    reasons = {f.rule for e in exclusions_by_channel(p, "foreign_debt") for f in e.reasons}
    assert ("fd_mpa_first_year" in reasons) is barred
    if not barred:
        (route,) = fd(p)
        assert route.capacity is not None  # the macro-prudential cap is computed as before


def test_first_year_fie_keeps_the_gap_model_only(run):
    rich = {**FIE, "net_assets": 1e9}
    p = run(as_of="2026-11-25", amount=30_000_000, holder_founded="2026-03-01", **rich, **GAP)
    (route,) = fd(p)
    assert route.capacity == pytest.approx(60_000_000)
    assert "fd_mpa_first_year_fie" in {w.rule for w in route.warnings}
    assert "macro-prudential model:" not in route.capacity_text.en


def test_first_year_fie_over_its_gap_is_excluded(run):
    rich = {**FIE, "net_assets": 1e9}
    p = run(as_of="2026-11-25", amount=70_000_000, holder_founded="2026-03-01", **rich, **GAP)
    assert not fd(p)


# --- inputs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"total_investment": "-1"}, "total investment -1 must be positive"),
        ({"registered_capital": "abc"}, "registered capital 'abc' is not a number"),
        ({"total_investment": 10, "registered_capital": 20},
         "registered capital 20 exceeds total investment 10"),
        ({"holder_founded": "2026-02-30"}, "holder founded '2026-02-30' is not a date"),
        ({"spv_owner": "trust"}, "accepted: group, third_party, individual"),
    ],
)
def test_bad_inputs_are_refused(rb, fields, fragment):
    from repatriate.engine.profile import make_profile

    with pytest.raises(RepatriateError, match=fragment.replace("(", r"\(")):
        make_profile(rb, asset_class="debt", province="CN-GD", amount=1, **fields)


def test_cli_options_reach_the_query():
    res = runner.invoke(app, [
        "route", "--asset-class", "debt", "--province", "CN-GD", "--amount", "30000000",
        "--holder-type", "fie",
        "--net-assets", "5000000", "--term-months", "36", "--total-investment", "100,000,000",
        "--registered-capital", "40000000", "--holder-founded", "2020-01-01", "--as-of", "2026-11-25",
        "--format", "json",
    ])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    q = d["query"]
    assert (q["total_investment"], q["registered_capital"], q["holder_founded"]) == (1e8, 4e7, "2020-01-01")
    fdr = next(r for r in d["routes"] if r["channels"] == ["foreign_debt"])
    assert fdr["capacity"]["amount"] == 60_000_000


def test_cli_bad_founding_date_is_one_line_exit_2():
    res = runner.invoke(app, [
        "route", "--asset-class", "debt", "--province", "CN-GD", "--amount", "1", "--holder-founded", "soon",
    ])
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "--holder-founded: 'soon' is not a date" in res.output


def test_batch_columns(tmp_path):
    book = tmp_path / "book.csv"
    book.write_text(
        "asset_id,asset_class,sector,province,amount,term_months,holder_type,net_assets,total_investment,"
        "registered_capital,holder_founded\n"
        "A,debt,logistics,CN-GD,30000000,36,fie,5000000,100000000,40000000,2020-01-01\n"
        "B,debt,logistics,CN-GD,30000000,36,fie,5000000,,,\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["batch", str(book), "--as-of", "2026-11-25", "--top", "1"])
    assert res.exit_code == 0, res.output
    rows = {r["asset_id"]: r for r in csv.DictReader(io.StringIO(res.stdout))}
    assert rows["A"]["status"] == "ok" and rows["B"]["status"] == "ok"
