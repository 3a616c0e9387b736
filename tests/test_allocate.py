"""`repatriate allocate` (issue 12): a split of a large amount across channels, by a mixed-integer program.

Hand-solved cases on the real rule base; a property test over profiles; the CLI and its JSON.
Capacities (formula and parameters are data) are read from the route's own capacity, so the
tests compare the split with what the planner says one channel carries.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from repatriate import allocate, plan_route
from repatriate.cli import app

DAY = "2026-11-29"
BASE = dict(asset_class="equity", sector="renewable_energy", province="广东", currency="USD", as_of=DAY)


def _legs(a):
    return {"+".join(leg["channels"]): leg for leg in a["legs"]}


def _route_capacity(channels, **profile):
    p = plan_route(**{**BASE, **profile, "amount": 1})
    return next(r.capacity for r in p.routes if r.channels == channels)


def test_400m_against_100m_net_assets_fills_foreign_debt_to_its_cap_then_fdi():
    """Issue 12: USD 400m against USD 100m net assets overflows the macro-prudential cap (Yin Fa
    [2017] No. 9): the cheapest leg, foreign debt, runs to its cap and binds; FDI takes the rest.
    (third-party SPV: no group cash pool; --yield: money cost decides the order.)"""
    profile = dict(net_assets=100e6, spv_owner="third_party", yield_pct=5)
    a = allocate(**BASE, amount=400e6, **profile)
    cap = _route_capacity(("foreign_debt",), **profile)
    legs = _legs(a)
    assert a["placed"] == pytest.approx(400e6)
    assert legs["foreign_debt"]["amount"] == pytest.approx(cap, rel=1e-6)
    assert "capacity" in legs["foreign_debt"]["binds"]
    fdi = [leg for leg in a["legs"] if leg["channels"][0] == "fdi"]
    assert len(fdi) == 1 and fdi[0]["amount"] == pytest.approx(400e6 - cap, rel=1e-6)
    assert sum(leg["share"] for leg in a["legs"]) == pytest.approx(1.0)
    # why the cheaper leg stops: its capacity
    assert any(s["channels"] == ["foreign_debt"] and "capacity" in s["binding"] for s in a["stops"])


def test_fie_with_a_large_investment_gap_borrows_more():
    """An FIE may borrow under 投注差 (total investment − registered capital, 2003 Order No. 28):
    a 900m gap carries all 400m as foreign debt, where the macro-prudential cap alone stopped."""
    profile = dict(net_assets=100e6, spv_owner="third_party", yield_pct=5)
    plain = _legs(allocate(**BASE, amount=400e6, **profile))
    fie = _legs(
        allocate(
            **BASE, amount=400e6, holder_type="fie", total_investment=1e9, registered_capital=100e6, **profile
        )
    )
    assert fie["foreign_debt"]["amount"] > plain["foreign_debt"]["amount"]
    assert fie["foreign_debt"]["amount"] == pytest.approx(400e6)
    assert fie["foreign_debt"]["capacity"] == pytest.approx(900e6)


def test_listed_holder_is_bounded_by_the_qfii_ownership_caps():
    """SSE QFII/RQFII rules: one foreign investor at most 10% of a listed company, all foreign
    investors at most 30% (data/allocation.yaml). A prohibited sector (news media) and a small
    balance sheet leave QFII as the main leg: it stops at 10% of a 1bn market value."""
    a = allocate(
        **{**BASE, "sector": "news_media"},
        amount=400e6,
        holder_type="listed",
        net_assets=1e6,
        spv_owner="third_party",
        listed_market_cap=1e9,
    )
    legs = _legs(a)
    assert legs["qfii"]["amount"] == pytest.approx(100e6)
    assert legs["qfii"]["binds"] == ["qfii_single_foreign_investor"]
    limits = {x["id"]: x["value"] for x in legs["qfii"]["limits"]}
    assert limits == {"qfii_single_foreign_investor": 100e6, "qfii_all_foreign_investors": 300e6}
    assert a["placed"] < a["amount"]
    assert "qfii:qfii_single_foreign_investor" in a["binding"]


def test_listed_holder_without_a_market_value_gets_no_qfii_leg():
    """The ownership caps need --listed-market-cap: without it the QFII leg is not sized, so not used."""
    a = allocate(
        **{**BASE, "sector": "news_media"},
        amount=400e6,
        holder_type="listed",
        net_assets=1e6,
        spv_owner="third_party",
    )
    assert "qfii" not in _legs(a)
    assert {
        "code": "cap_needs_input",
        "cap": "qfii_single_foreign_investor",
        "inputs": ["listed_market_cap"],
        "channels": ["qfii"],
    } in a["warnings"]
    assert any(s["channels"] == ["qfii"] and "qfii_single_foreign_investor" in s["binding"] for s in a["stops"])


def test_prohibited_sector_leaves_nothing_for_fdi_and_qflp():
    """Negative list (2024 edition): news media is prohibited to foreign investment, so no FDI or
    QFLP leg; the split is placed through debt channels only, or not at all."""
    a = allocate(**{**BASE, "sector": "news_media"}, amount=400e6, net_assets=100e6, spv_owner="third_party")
    channels = {c for leg in a["legs"] for c in leg["channels"]}
    assert not channels & {"fdi", "fdi_rmb", "qflp"}
    assert a["placed"] < 400e6  # foreign debt alone cannot carry it
    assert a["unplaced"] == pytest.approx(400e6 - a["placed"])
    assert any(b.startswith("foreign_debt") for b in a["binding"])


def test_max_channels_bounds_the_legs_and_is_named_when_it_binds():
    a = allocate(
        **{**BASE, "sector": "news_media"},
        amount=400e6,
        holder_type="listed",
        net_assets=1e6,
        spv_owner="third_party",
        listed_market_cap=1e9,
        max_channels=1,
    )
    assert len(a["legs"]) == 1 and "max_channels" in a["binding"]


def test_foreign_debt_in_both_currencies_shares_one_macro_prudential_cap():
    """Yin Fa [2017] No. 9: RMB and foreign-currency foreign debt use one cap of the borrower, so
    their legs together load the cross_border_financing group at most once."""
    a = allocate(
        **{**BASE, "currency": "CNH"}, amount=9e9, net_assets=1e9, spv_owner="third_party", yield_pct=5
    )
    group = next(g for g in a["groups"] if g["id"] == "cross_border_financing")
    assert group["load"] <= 1 + 1e-9
    debt = [leg for leg in a["legs"] if leg["channels"][0] in ("foreign_debt", "foreign_debt_rmb")]
    assert sum(leg["capacity_used"] for leg in debt) <= 1 + 1e-6


def test_merged_checklist_lists_shared_steps_once():
    a = allocate(**BASE, amount=400e6, net_assets=100e6, spv_owner="third_party", yield_pct=5)
    ids = [s["id"] for s in a["checklist"]]
    assert len(ids) == len(set(ids))
    assert any(len(s["legs"]) == len(a["legs"]) > 1 for s in a["checklist"])  # e.g. the CSRC filing


def test_a_deadline_prefers_faster_legs():
    """--by: a typical week past the deadline costs more, so a slow leg is not chosen at equal cost."""
    a = allocate(**BASE, amount=50e6, by="2027-01-15")
    assert all(leg["weeks_past_by"] <= min(x["weeks_past_by"] for x in a["legs"]) + 1e-9 for leg in a["legs"])
    assert a["by"] == "2027-01-15"


profiles = st.fixed_dictionaries(
    {
        "amount": st.floats(1e6, 5e9),
        "net_assets": st.floats(1e5, 2e9),
        "currency": st.sampled_from(["USD", "CNH"]),
        "spv_owner": st.sampled_from(["group", "third_party"]),
        "holder_type": st.sampled_from(["private", "listed", "fie"]),
        "max_channels": st.integers(1, 4),
        "yield_pct": st.sampled_from([None, 5.0]),
        "listed_market_cap": st.sampled_from([None, 5e8, 5e9]),
        "sector": st.sampled_from(["renewable_energy", "news_media", "manufacturing"]),
    }
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles)
def test_property_legs_sum_to_placed_within_capacities_and_shared_caps(p):
    extra = (
        {"total_investment": p["net_assets"] * 3, "registered_capital": p["net_assets"]}
        if p["holder_type"] == "fie"
        else {}
    )
    a = allocate(**{**BASE, **p, **extra})
    assert sum(leg["amount"] for leg in a["legs"]) == pytest.approx(
        a["placed"], abs=0.05 * len(a["legs"]) + 1e-6
    )
    assert a["placed"] <= a["amount"] * (1 + 1e-9)
    assert len(a["legs"]) <= p["max_channels"]
    for leg in a["legs"]:
        assert leg["amount"] > 0
        if leg["capacity"] is not None:
            assert leg["amount"] <= leg["capacity"] * (1 + 1e-6) + 0.01
        for limit in leg["limits"]:
            assert leg["amount"] <= limit["value"] * (1 + 1e-6) + 0.01
    for g in a["groups"]:
        assert g["load"] <= 1 + 1e-6


def test_cli_allocate_json_has_a_top_level_allocation_and_exit_0_when_not_all_is_placed():
    res = CliRunner().invoke(
        app,
        [
            "allocate",
            "--asset-class",
            "equity",
            "--sector",
            "news_media",
            "--province",
            "广东",
            "--amount",
            "400000000",
            "--net-assets",
            "100000000",
            "--spv-owner",
            "third_party",
            "--as-of",
            DAY,
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data) == {"allocation"}
    assert data["allocation"]["placed"] < data["allocation"]["amount"]


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_cli_allocate_text_formats(fmt):
    res = CliRunner().invoke(
        app,
        [
            "allocate",
            "--asset-class",
            "equity",
            "--province",
            "CN-GD",
            "--amount",
            "400000000",
            "--net-assets",
            "100000000",
            "--yield",
            "5",
            "--as-of",
            DAY,
            "--format",
            fmt,
        ],
    )
    assert res.exit_code == 0, res.output
    # words, not ids: the channel's short name, the section, the stop reason, the cited notice
    assert "Allocation" in res.output and "FOREIGN DEBT" in res.output and "foreign_debt" not in res.output
    assert "its capacity" in res.output and "not legal advice" in res.output
    if fmt == "md":
        assert "## Allocation" in res.output and "## Sources" in res.output
        assert "| 1 | FOREIGN DEBT |" in res.output


def test_cli_allocate_in_chinese_words_every_part():
    res = CliRunner().invoke(
        app,
        ["allocate", "--asset-class", "equity", "--sector", "value_added_telecom", "--province", "广东",
         "--amount", "400000000", "--net-assets", "100000000", "--spv-owner", "third_party", "--yield", "5",
         "--as-of", DAY, "--lang", "zh"],
    )
    assert res.exit_code == 0, res.output
    out = res.output
    assert "跨渠道资金分配方案" in out and "外债" in out and "负面清单对资产持有方的外资股比上限" in out
    assert "无法分配" in out and "6,666.67万 USD" in out
    assert "its capacity" not in out and "negative_list_foreign_share" not in out


def test_json_warnings_carry_their_words_in_both_languages():
    res = CliRunner().invoke(
        app,
        ["allocate", "--asset-class", "equity", "--sector", "value_added_telecom", "--province", "CN-GD",
         "--amount", "5e7", "--spv-owner", "third_party", "--as-of", DAY, "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    warnings = json.loads(res.output)["allocation"]["warnings"]
    share = next(w for w in warnings if w["code"] == "cap_needs_input" and w["cap"] == "negative_list_foreign_share")
    assert "net assets" in share["text"]["en"] and "净资产" in share["text"]["zh"]
    assert "FDI" in share["text"]["en"]


def test_cli_allocate_bad_max_channels_is_one_line_exit_2():
    res = CliRunner().invoke(
        app,
        [
            "allocate",
            "--asset-class",
            "equity",
            "--province",
            "CN-GD",
            "--amount",
            "1e8",
            "--max-channels",
            "0",
        ],
    )
    assert res.exit_code == 2
    assert "max channels" in res.output and "Traceback" not in res.output


def test_allocate_cold_is_at_most_1_5x_route_plus_solver_start(tmp_path):
    """Issue 12 speed: allocate is two searches and a small MILP; generous bound in-process (the
    cold figures are printed by bench/bench_allocate.py)."""
    kw = dict(**BASE, amount=400e6, net_assets=77e6, spv_owner="third_party")
    allocate(**{**kw, "net_assets": 1.0})  # warm imports (scipy) and the rule base
    t0 = time.perf_counter()
    plan_route(**{**kw, "net_assets": 78e6})
    route_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    allocate(**kw)
    alloc_s = time.perf_counter() - t0
    assert alloc_s <= 3 * route_s + 0.5


def test_cli_allocate_html_has_a_stacked_bar_with_escaped_labels(tmp_path):
    out = tmp_path / "split.html"
    res = CliRunner().invoke(
        app,
        [
            "allocate",
            "--asset-class",
            "equity",
            "--province",
            "CN-GD",
            "--amount",
            "400000000",
            "--net-assets",
            "100000000",
            "--yield",
            "5",
            "--as-of",
            DAY,
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert page.count('class="seg"') >= 2 and "<script" not in page
    # the comparison report's look and parts: its stylesheet, an Allocation section, cited sources
    assert '<section id="allocation">' in page and '<section id="sources">' in page
    assert "--setup: #0969da" in page and "not legal advice" in page
    widths = [float(w) for w in __import__("re").findall(r'class="seg" style="width: ([0-9.]+)%', page)]
    assert sum(widths) == pytest.approx(100.0, abs=0.01)  # 400m placed in full: the legs fill the bar


def test_html_escapes_data_in_the_allocation(tmp_path):
    """A place the gazetteer does not know stays text (autoescape), never markup."""
    from repatriate.render.allocate import render_allocation

    a = allocate(**BASE, amount=400e6, net_assets=100e6, spv_owner="third_party", yield_pct=5)
    a["legs"][0]["location"] = {"province": "<script>x</script>", "city": None}
    page = render_allocation(a, __import__("repatriate.api", fromlist=["load_rulebase"]).load_rulebase(), "html")
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_timeline_runs_legs_in_parallel():
    a = allocate(**BASE, amount=400e6, net_assets=100e6, spv_owner="third_party", yield_pct=5)
    assert [t["leg"] for t in a["timeline"]] == [leg["leg"] for leg in a["legs"]]
    assert a["weeks_typical_max"] == max(t["weeks_typical_max"] for t in a["timeline"])
    assert all(t["start_week"] == 0 for t in a["timeline"])


def test_route_never_imports_the_solver():
    """Start-up: `route` and the library's import stay free of highspy/numpy (allocate imports them lazily)."""
    import subprocess
    import sys

    code = (
        "import sys; from repatriate import plan_route; "
        "plan_route(asset_class='equity', province='CN-GD', amount=1e7); "
        "assert 'highspy' not in sys.modules and 'numpy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_restricted_sector_caps_the_foreign_share_across_every_equity_leg():
    """Negative list 2024, value-added telecom: foreign share not above 50%. New foreign equity F
    against 100m held onshore: F / (100m + F) <= 50%, so F <= 100m, shared by FDI, an FIE's
    reinvestment and QFLP (one holder, one share). Foreign debt (233.3m, macro-prudential) is
    not equity and is not capped by it: 333.3m of 400m placed, the rest named as unplaced."""
    a = allocate(
        **{**BASE, "sector": "value_added_telecom"},
        amount=400e6,
        net_assets=100e6,
        spv_owner="third_party",
        yield_pct=5,
    )
    equity = [leg for leg in a["legs"] if {"fie_direct", "fie_reinvestment", "qflp"} & set(leg["channels"])]
    assert sum(leg["amount"] for leg in equity) == pytest.approx(100e6, rel=1e-6)
    assert a["placed"] == pytest.approx(100e6 + _route_capacity(("foreign_debt",), net_assets=100e6), rel=1e-6)
    assert "fdi+fie_direct:negative_list_foreign_share" in a["binding"]
    assert all("negative_list_foreign_share" in leg["binds"] for leg in equity)


def test_restricted_sector_without_net_assets_leaves_equity_legs_unsized():
    """The share cap needs the holder's existing equity: without --net-assets the equity legs are not sized."""
    a = allocate(**{**BASE, "sector": "value_added_telecom"}, amount=50e6, spv_owner="third_party")
    assert not [leg for leg in a["legs"] if "fie_direct" in leg["channels"] or "qflp" in leg["channels"]]
    needs = [w for w in a["warnings"] if w.get("cap") == "negative_list_foreign_share"]
    assert needs and needs[0]["inputs"] == ["net_assets"]


def test_permitted_sector_has_no_share_cap():
    a = allocate(**BASE, amount=50e6, net_assets=100e6, spv_owner="third_party")
    assert not any(x["id"] == "negative_list_foreign_share" for leg in a["legs"] for x in leg["limits"])
    assert a["placed"] == pytest.approx(50e6)


def test_nothing_placeable_is_an_answer_not_an_error():
    """No net assets given: foreign debt is not sized, the prohibited sector closes FDI and QFLP."""
    a = allocate(**{**BASE, "sector": "news_media"}, amount=1e8, spv_owner="third_party")
    assert a["placed"] == 0 and a["legs"] == []
    assert a["binding"] == ["foreign_debt:capacity_unknown", "no_route"]
    assert {"code": "capacity_unknown", "channels": ["foreign_debt"]} in a["warnings"]
    # the routes the prohibited sector shuts are named with the rule that shuts them
    shut = {"+".join(e["channels"]): e["rules"] for e in a["excluded"]}
    assert "fdi_negative_list_prohibited" in shut["fdi+fie_direct"]
    assert "qflp_negative_list_prohibited" in shut["qflp"]


def test_a_qualifying_sme_borrows_its_facilitation_quota_not_the_sum():
    """Hui Fa [2025] No. 43: a qualifying SME may borrow USD 10m whatever its net assets; with 1m of
    net assets the macro-prudential cap is 2.33m. The split takes the larger (10m), never 12.33m."""
    kw = dict(**BASE, amount=30e6, net_assets=1e6, spv_owner="third_party", yield_pct=5)
    plain = _legs(allocate(**kw))
    sme = _legs(allocate(**kw, tech_sme="qualified"))
    selected = _legs(allocate(**kw, tech_sme="innovation_points"))
    # without the quota the 2.33m of foreign debt is not worth a second leg's set-up
    assert plain.get("foreign_debt", {"amount": 0.0})["amount"] <= 2_333_333.34
    assert sme["foreign_debt"]["amount"] == pytest.approx(10e6)
    assert selected["foreign_debt"]["amount"] == pytest.approx(20e6)
    assert "capacity" in sme["foreign_debt"]["binds"]


def test_a_pilot_city_fund_minimum_makes_the_qflp_leg_all_or_at_least_the_minimum():
    """Shanghai QFLP: a fund of at least USD 15m (沪金融办通〔2010〕38号 Art. 14), the SPV as its only
    LP. Hand-solved on the real legs of a Shanghai holder with 10m net assets (foreign debt 23.33m at
    80 bps) and QFLP: 30m through these two. Foreign debt to its cap would leave 6.67m for QFLP,
    under its minimum; so QFLP takes exactly 15m and foreign debt the other 15m, not 23.33m."""
    import datetime as dt

    from repatriate.api import load_rulebase
    from repatriate.engine.allocate import candidates, solve
    from repatriate.engine.profile import make_profile

    rb = load_rulebase()
    day = dt.date(2026, 11, 29)
    kw = dict(asset_class="equity", sector="manufacturing", province="上海", currency="USD",
              net_assets=10e6, spv_owner="third_party", yield_pct=5)
    legs = candidates(rb, make_profile(rb, **kw, amount=30e6), day, None).legs
    pair = [lg for lg in legs if lg.route.channels in (("foreign_debt",), ("qflp",))]
    qflp = next(lg for lg in pair if lg.route.channels == ("qflp",))
    assert qflp.route.location.city == "shanghai" and qflp.minimum.value == 15e6
    sol = solve(rb, pair, [], 30e6, 2, [0.0, 0.0])
    amounts = {lg.route.channels: a for lg, a in zip(pair, sol.amounts)}
    assert amounts[("qflp",)] == pytest.approx(15e6, rel=1e-6)
    assert amounts[("foreign_debt",)] == pytest.approx(15e6, rel=1e-6)


def test_a_leg_that_cannot_reach_its_minimum_is_named_not_used():
    """10m in Shanghai: a QFLP fund of the SPV alone would be under the 15m minimum."""
    a = allocate(asset_class="equity", sector="manufacturing", province="上海", city="shanghai", currency="USD",
                 amount=10e6, net_assets=1e6, spv_owner="third_party", as_of=DAY)
    assert "qflp" not in _legs(a)
    stop = next(s for s in a["stops"] if s["channels"] == ["qflp"])
    assert stop["binding"] == ["qflp_fund_minimum"] and stop["location"]["city"] == "shanghai"


def test_a_minimum_in_another_currency_is_said_not_applied():
    """Renminbi proceeds against Shanghai's USD 15m fund minimum: not converted, so not applied, and said."""
    from repatriate.api import load_rulebase
    from repatriate.render.allocate import warning_text

    a = allocate(asset_class="equity", sector="manufacturing", province="上海", city="shanghai", currency="CNH",
                 amount=50e6, net_assets=1e6, spv_owner="third_party", as_of=DAY)
    w = next(w for w in a["warnings"] if w["code"] == "minimum_other_currency")
    assert w["minimum"] == "qflp_fund_minimum" and w["currency"] == "USD" and w["value"] == 15e6
    assert "15,000,000 USD" in warning_text(w, load_rulebase(), "en")


def test_table_stacks_the_legs_on_a_narrow_terminal():
    from wcwidth import wcswidth

    from repatriate.api import load_rulebase
    from repatriate.render.allocate import render_allocation

    a = allocate(**{**BASE, "sector": "value_added_telecom"}, amount=400e6, net_assets=100e6,
                 spv_owner="third_party", yield_pct=5)
    rb = load_rulebase()
    wide = render_allocation(a, rb, "table", width=200)
    narrow = render_allocation(a, rb, "table", width=80)
    assert "Leg  Channels" in wide and "Leg 1" in narrow and "Leg  Channels" not in narrow
    legs_block = narrow.split("\n\n")[2]
    assert all(wcswidth(line) <= 80 for line in legs_block.splitlines())
