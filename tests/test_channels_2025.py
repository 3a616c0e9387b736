"""Issue 10: cash pool, FT account, cross-border RMB, bond market, closed routes and the larger graph.

Rule-by-rule cases live in tests/cases/channels_2025.yaml; this file checks what cases cannot say:
capacities, the multi-hop path, closed routes on each side of their dates, the profile inputs, the
CLI, batch columns, the JSON contract and the channel listing.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import exclusions_by_channel, routes_by_channel
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.engine.closed import is_closed
from repatriate.errors import RepatriateError

runner = CliRunner()
BIG = dict(
    asset_class="equity", sector="manufacturing", province="CN-SH", amount=5e8, currency="CNH",
    net_assets=5e9, group_revenue=2e10, group_cross_border_flows=1e10, group_offshore_revenue=5e9,
)
BIG_FLAGS = [
    "--asset-class", "equity", "--sector", "manufacturing", "--province", "CN-SH", "--amount", "5e8",
    "--currency", "CNH", "--net-assets", "5e9", "--group-revenue", "2e10",
    "--group-cross-border-flows", "1e10", "--group-offshore-revenue", "5e9", "--as-of", "2026-11-25",
]
CLOSED = (
    "closed_qdlp_qdie", "closed_donation_onshore", "closed_onshore_token_buyers",
    "closed_unfiled_issue", "closed_non_sfc_vatp", "closed_overseas_listing_funds",
)


def test_cash_pool_is_a_multi_hop_route_through_the_offshore_parent(run):
    """Issue 10 item 6: SPV -> offshore parent -> pool account -> asset holder (251号: offshore members)."""
    (r,) = routes_by_channel(run(**BIG), "cash_pool")
    assert r.channels == ("offshore_intra_group", "cash_pool")
    assert r.path == ("hk_issuer_spv", "offshore_parent", "pool_account", "asset_holder")
    assert (r.location.province, r.location.city) == ("CN-SH", None)  # the host files in its province


def test_cash_pool_capacity_is_the_reported_multiple_of_equity(run, rb):
    """251号 external-debt quota, reported as 3.5 x pooled equity (Art. 8 not read: unverified parameter)."""
    (r,) = routes_by_channel(run(**BIG), "cash_pool")
    assert r.capacity == pytest.approx(3.5 * 5e9)
    (value,) = rb.parameters["cash_pool_external_debt_multiple"].values
    assert value.value == 3.5 and not value.verified


def test_ft_account_capacity_is_equity_times_one_times_one(run, rb):
    """Shanghai upgrade: net inflow cap = audited equity x parameter (1) x inflow leverage (1)."""
    (r,) = routes_by_channel(run(**BIG), "ft_account")
    assert r.capacity == pytest.approx(5e9)
    assert r.path == ("hk_issuer_spv", "ft_account", "asset_holder")


def test_ft_account_doc_no_is_left_out_as_unverified(rb):
    """R5: 银总部发〔2025〕96号 is only in a forum post: the source has no doc_no and is unverified."""
    src = rb.sources["pboc_sh_2025_96"]
    assert src.doc_no is None and not src.verified and "96号" in (src.note or "")


def test_rmb_foreign_debt_carries_no_fx_factor(run):
    """SAFE Hebei Q&A on 银发〔2017〕9号: the exchange-rate factor 0.5 weighs foreign-currency debt only."""
    p = run(**BIG)
    (rmb,) = routes_by_channel(p, "foreign_debt_rmb")
    usd = run(**{**BIG, "currency": "USD", "amount": 5e7, "net_assets": 5e8})
    (fx,) = routes_by_channel(usd, "foreign_debt")
    # same net assets in units: the RMB loan weighs 1, the dollar loan 1 + 0.5
    assert rmb.capacity / 10 == pytest.approx(fx.capacity * 1.5)
    assert any(n.rule == "fd_rmb_mpa_no_fx_factor" for n in (*rmb.warnings, *rmb.notes))


@pytest.mark.parametrize("cid", CLOSED)
def test_closed_routes_are_never_routes(rb, run, cid):
    """Issue 10 item 7: closed routes appear in `excluded` with reason and source, never in `routes`."""
    assert is_closed(rb.channels[cid])
    p = run(**BIG)
    assert not routes_by_channel(p, cid)
    (e,) = exclusions_by_channel(p, cid)
    assert e.reasons and all(f.sources for f in e.reasons)
    assert e.path == ("hk_issuer_spv", "asset_holder")


@pytest.mark.parametrize(
    ("cid", "first_day"),
    [
        ("closed_onshore_token_buyers", "2026-02-06"),  # 银发〔2026〕42号, in force on issue
        ("closed_unfiled_issue", "2026-02-06"),
        ("closed_donation_onshore", "2026-02-06"),
        ("closed_non_sfc_vatp", "2023-06-01"),  # AMLO Part 5B VATP licensing
        ("closed_overseas_listing_funds", "2026-04-01"),  # 银发〔2025〕252号 in force
    ],
)
def test_closed_routes_start_on_their_texts_dates(run, cid, first_day):
    """Each closed route is shown from its text's date, not the day before."""
    import datetime as dt

    day = dt.date.fromisoformat(first_day)
    assert exclusions_by_channel(run(as_of=day, **BIG), cid)
    assert not exclusions_by_channel(run(as_of=day - dt.timedelta(days=1), **BIG), cid)


def test_lgfv_exclusion_of_the_pool_says_why_and_cites_251(run, rb):
    """251号: LGFVs may not take part; the route for an LGFV shows the exclusion with its reason."""
    p = run(**{**BIG, "holder_type": "lgfv"})
    assert not routes_by_channel(p, "cash_pool")
    (e,) = exclusions_by_channel(p, "cash_pool")
    (reason,) = [f for f in e.reasons if f.rule == "cash_pool_no_lgfv"]
    assert "financing platform" in reason.text.en and reason.sources == ("pboc_safe_2025_251",)
    assert rb.sources["pboc_safe_2025_251"].doc_no == "银发〔2025〕251号"


@pytest.mark.parametrize("field", ["group_revenue", "group_cross_border_flows", "group_offshore_revenue"])
def test_group_figures_are_checked_numbers(run, field):
    """A negative or non-numeric group figure is refused, naming the field."""
    with pytest.raises(RepatriateError, match=field.replace("_", " ")):
        run(**{**BIG, field: -1})
    with pytest.raises(RepatriateError, match=field.replace("_", " ")):
        run(**{**BIG, field: "lots"})
    assert run(**{**BIG, field: "20,000,000,000"}).routes  # the one number parser


def test_route_json_keeps_the_contract_and_adds_the_group_fields():
    """SPEC §4: the JSON contract adds keys, removes none."""
    res = runner.invoke(app, ["route", *BIG_FLAGS, "--format", "json", "--top", "50"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"schema_version", "query", "as_of", "rulebase", "routes", "excluded", "sources"} <= set(data)
    assert data["query"]["group_revenue"] == 2e10 and data["query"]["group_offshore_revenue"] == 5e9
    chans = [tuple(r["channels"]) for r in data["routes"]]
    assert ("offshore_intra_group", "cash_pool") in chans and ("ft_account",) in chans
    assert ("fdi_rmb", "fie_reinvestment") in chans and ("foreign_debt_rmb",) in chans
    for r in data["routes"]:
        assert {"rank", "channels", "path", "location", "steps", "timeline_weeks", "approvals",
                "documents", "warnings", "score"} <= set(r)
    for e in data["excluded"]:
        assert {"channels", "path", "location", "reasons"} <= set(e)
    cited = {s for e in data["excluded"] for f in e["reasons"] for s in f["sources"]}
    assert {"yinfa_2026_42", "sz_qdie_2021", "pboc_safe_2025_252"} <= cited <= set(data["sources"])


def test_route_for_an_lgfv_excludes_the_pool_in_the_table():
    res = runner.invoke(app, ["route", *BIG_FLAGS, "--holder-type", "lgfv", "--explain"])
    assert res.exit_code == 0, res.output
    assert "CASH POOL" in res.stdout and "financing platform" in res.stdout


def test_bad_group_flag_is_a_one_line_error():
    res = runner.invoke(app, ["route", *BIG_FLAGS, "--group-revenue", "-5"])
    assert res.exit_code == 2
    assert "--group-revenue" in res.output and "Traceback" not in res.output


def test_batch_reads_the_group_columns(tmp_path):
    """Issue 10: batch columns group_revenue, group_cross_border_flows, group_offshore_revenue."""
    src = tmp_path / "book.csv"
    src.write_text(
        "asset_id,asset_class,sector,province,amount,currency,net_assets,holder_type,"
        "group_revenue,group_cross_border_flows,group_offshore_revenue\n"
        "big,equity,manufacturing,CN-SH,5e8,CNH,5e9,private,2e10,1e10,5e9\n"
        "small,equity,manufacturing,CN-SH,5e8,CNH,5e9,private,1e9,1e10,5e9\n"
        "bad,equity,manufacturing,CN-SH,5e8,CNH,5e9,private,-1,1e10,5e9\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["batch", str(src), "--format", "jsonl", "--top", "50", "--as-of", "2026-11-25"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["status"] for r in rows][:2] == ["ok", "ok"] and rows[2]["status"] == "error"
    assert "group revenue" in rows[2]["error"]
    pools = [any("cash_pool" in rt["channels"] for rt in r["routes"]) for r in rows[:2]]
    assert pools == [True, False]  # RMB 1bn of onshore revenue is under the RMB 10bn threshold


def test_batch_reads_group_columns_with_a_decimal_comma(tmp_path):
    src = tmp_path / "book.csv"
    src.write_text(
        "asset_class;province;amount;currency;group_revenue\n"
        "equity;CN-SH;500000000;CNH;20.000.000.000\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["batch", str(src), "--as-of", "2026-11-25"])
    assert res.exit_code == 0, res.output
    (row,) = list(csv.DictReader(io.StringIO(res.stdout)))
    assert row["status"] == "ok", row


def test_channels_lists_every_channel_with_its_sources(rb):
    """Issue 10: `repatriate channels` lists every channel with its sources."""
    res = runner.invoke(app, ["channels", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) == set(rb.channels)
    for cid in ("cash_pool", "ft_account", "fdi_rmb", "foreign_debt_rmb", "cibm_direct", *CLOSED):
        assert data[cid]["sources"], cid
    table = runner.invoke(app, ["channels"]).stdout
    assert "sources" in table.splitlines()[0] and "pboc_safe_2025_251" in table


def test_every_new_source_has_tier_and_checked(rb):
    """WAVE2: new sources carry a tier and a checked date (dates only where the research read them)."""
    from pathlib import Path

    import yaml

    ids = yaml.safe_load(Path("data/sources/channels_2025.yaml").read_text(encoding="utf-8"))
    for sid in ids:
        s = rb.sources[sid]
        assert s.tier and s.checked is not None, sid


def test_any_group_revenue_either_opens_the_pool_or_says_why(rb):
    """Hypothesis: every non-negative onshore revenue gives the pool as a route or an exclusion with the
    251号 threshold as its reason, exactly when the figure is under RMB 10bn."""
    import datetime as dt

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from repatriate.engine.profile import make_profile
    from repatriate.engine.search import plan

    @settings(max_examples=40, deadline=None)
    @given(st.floats(min_value=0, max_value=1e13, allow_nan=False, allow_infinity=False))
    def check(revenue):
        p = plan(make_profile(rb, **{**BIG, "group_revenue": revenue}), rb, as_of=dt.date(2026, 11, 25))
        opened = bool(routes_by_channel(p, "cash_pool"))
        reasons = {f.rule for e in exclusions_by_channel(p, "cash_pool") for f in e.reasons}
        assert opened != bool(reasons)
        assert ("cash_pool_onshore_revenue_below" in reasons) == (revenue < 1e10)

    check()
