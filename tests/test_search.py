"""Route search on reasoned real cases; each docstring names the rule it checks.

Cases that are a profile in and channels, exclusions and steps out live as data in
tests/cases/*.yaml; the tests here check what that form cannot (texts, sources, numbers, order).
"""

import pytest
from conftest import TODAY, exclusions_by_channel, routes_by_channel, step_ids


def _reasons(exclusions):
    return [f for e in exclusions for f in e.reasons]


def test_prohibited_sector_loses_fdi_and_qflp(run):
    """Negative list (2024), news organisations prohibited: no FIE and no QFLP fund may invest."""
    p = run(asset_class="equity", sector="news_media", province="CN-BJ", amount=10_000_000)
    assert not routes_by_channel(p, "fdi") and not routes_by_channel(p, "qflp")
    for channel, rule in (("fdi", "fdi_negative_list_prohibited"), ("qflp", "qflp_negative_list_prohibited")):
        reasons = [f for f in _reasons(exclusions_by_channel(p, channel)) if f.rule == rule]
        assert reasons, channel
        assert all("neglist_2024" in f.sources for f in reasons)
        assert all("Negative list" in f.text.en for f in reasons)


def test_restricted_sector_warns_with_its_conditions(run):
    """Negative list (2024): value-added telecom restricted, foreign share capped at 50% (with exceptions)."""
    p = run(asset_class="equity", sector="value_added_telecom", province="CN-SH", amount=10_000_000)
    fdi = routes_by_channel(p, "fdi")
    assert fdi
    warning = next(w for w in fdi[0].warnings if w.rule == "fdi_negative_list_restricted")
    assert "50%" in warning.text.en and "neglist_2024" in warning.sources


def test_three_year_debt_needs_the_ndrc_certificate(run):
    """NDRC Order No. 56 (in force 10 Feb 2023): debt of a year or more needs the review-and-registration
    certificate."""
    p = run(
        asset_class="debt",
        sector="infrastructure",
        province="CN-JS",
        amount=300_000_000,
        currency="CNY",
        term_months=36,
        net_assets=1_000_000_000,
    )
    assert p.routes
    for r in p.routes:
        assert "ndrc_foreign_debt_certificate" in step_ids(r)
        step = next(s for s in r.steps if s.step.id == "ndrc_foreign_debt_certificate")
        assert "ndrc_order_56" in step.sources and step.step.phase == "pre_issuance"
    assert "ndrc_order_56" in p.sources


def test_foreign_debt_above_the_macro_prudential_cap_is_excluded(run, rb):
    """Yin Fa [2017] No. 9: cap = net assets x 2 x parameter (1.75 since 13 Jan 2025) -> 350m on 100m
    net assets in CNY."""
    p = run(
        asset_class="equity",
        sector="manufacturing",
        province="CN-ZJ",
        amount=400_000_000,
        currency="CNY",
        net_assets=100_000_000,
    )
    assert not routes_by_channel(p, "foreign_debt")
    reason = next(
        f for f in _reasons(exclusions_by_channel(p, "foreign_debt")) if f.rule == "foreign_debt_over_capacity"
    )
    assert "350,000,000" in reason.text.en
    assert "pboc_2017_9" in reason.sources and "mpa_param_2025" in reason.sources


def test_foreign_currency_debt_weighs_more(run):
    """SAFE Q&A on Yin Fa [2017] No. 9: foreign-currency debt adds a 0.5 exchange-rate factor -> 350m / 1.5."""
    p = run(
        asset_class="equity",
        sector="manufacturing",
        province="CN-ZJ",
        amount=1_000_000,
        currency="USD",
        net_assets=100_000_000,
    )
    assert routes_by_channel(p, "foreign_debt")[0].capacity == pytest.approx(350_000_000 / 1.5)


def test_cap_follows_the_dated_parameter(run):
    """Macro-prudential parameter 1.25 before 20 Jul 2023: the same profile had a 250m cap."""
    within = run(
        as_of="2024-01-01",
        asset_class="equity",
        sector="manufacturing",
        province="CN-ZJ",
        amount=280_000_000,
        currency="CNY",
        net_assets=100_000_000,
    )
    before = run(
        as_of="2023-01-01",
        asset_class="equity",
        sector="manufacturing",
        province="CN-ZJ",
        amount=280_000_000,
        currency="CNY",
        net_assets=100_000_000,
    )
    fd = routes_by_channel(within, "foreign_debt")
    assert fd and fd[0].capacity == pytest.approx(300_000_000)
    assert not routes_by_channel(before, "foreign_debt")
    assert "250,000,000" in _reasons(exclusions_by_channel(before, "foreign_debt"))[0].text.en


def test_capacity_unknown_without_net_assets(run):
    """The cap needs net assets; without them the route stays, its capacity marked unknown."""
    p = run(asset_class="equity", sector="manufacturing", province="CN-ZJ", amount=10_000_000, currency="CNY")
    fd = routes_by_channel(p, "foreign_debt")[0]
    assert fd.capacity is None
    assert any(w.rule == "foreign_debt_capacity_unknown" for w in fd.warnings)


def test_qfii_quota_step_returns_before_abolition(run):
    """SAFE cancelled QFII/RQFII quotas on 10 Sep 2019: a 2018 date brings the quota approval back."""
    old = run(
        as_of="2018-06-01", asset_class="abs", sector="supply_chain_receivables", province="CN-SH", amount=50_000_000
    )
    new = run(asset_class="abs", sector="supply_chain_receivables", province="CN-SH", amount=50_000_000)
    old_q, new_q = routes_by_channel(old, "qfii"), routes_by_channel(new, "qfii")
    assert old_q and new_q
    assert "qfii_quota_approval" in step_ids(old_q[0]) and "qfii_licence_2006" in step_ids(old_q[0])
    assert "qfii_quota_approval" not in step_ids(new_q[0]) and "qfi_licence" in step_ids(new_q[0])


def test_qfii_cannot_take_private_equity(run):
    """QFI scope (Order No. 176; SSE scope page): listed shares, bonds, exchange ABS, not a private company's equity."""
    p = run(asset_class="equity", sector="healthcare", province="CN-SH", amount=50_000_000, holder_type="private")
    assert not routes_by_channel(p, "qfii")
    assert any(f.rule == "qfii_no_private_equity" for f in _reasons(exclusions_by_channel(p, "qfii")))
    listed = run(asset_class="equity", sector="healthcare", province="CN-SH", amount=50_000_000, holder_type="listed")
    q = routes_by_channel(listed, "qfii")
    assert q and any(w.rule == "qfii_ownership_limits" and "10%" in w.text.en for w in q[0].warnings)


def test_equity_class_needs_the_csrc_filing(run):
    """银发〔2026〕42号 Art. 14: equity-type tokens go to the CSRC on their own track (not the ABS-token filing of
    CSRC Announcement [2026] No. 1), filed before issuance (issue 9 item 4 corrected the old assertion)."""
    p = run(asset_class="equity", sector="renewable_energy", province="CN-GD", amount=50_000_000)
    for r in p.routes:
        assert step_ids(r)[0] in ("csrc_equity_token_filing", "odi_ndrc_filing", "odi_mofcom_filing")
        assert "csrc_equity_token_filing" in step_ids(r) and "csrc_rwa_filing" not in step_ids(r)


def test_qflp_offers_pilot_cities_elsewhere(run, rb):
    """QFLP runs only through a pilot city: a province without a pilot gets other provinces' cities."""
    p = run(asset_class="equity", sector="agriculture", province="CN-GS", amount=20_000_000)
    cities = {(r.location.province, r.location.city) for r in routes_by_channel(p, "qflp")}
    cities |= {(e.location.province, e.location.city) for e in exclusions_by_channel(p, "qflp")}
    assert cities and all(prov != "CN-GS" for prov, _ in cities)
    assert len(cities) >= 5


def test_ranking_is_ordered_and_marks_pareto(run):
    p = run(asset_class="equity", sector="renewable_energy", province="CN-GD", amount=50_000_000)
    assert [r.rank for r in p.routes] == list(range(1, len(p.routes) + 1))
    assert all(a.score >= b.score for a, b in zip(p.routes, p.routes[1:]))
    assert any(r.pareto for r in p.routes)


def test_objectives_change_the_order_not_the_set(run):
    kw = dict(
        asset_class="abs",
        sector="supply_chain_receivables",
        province="CN-SH",
        amount=50_000_000,
        currency="CNY",
        net_assets=1e9,
    )
    plans = {o: run(optimize=o, **kw) for o in ("balanced", "speed", "cost", "certainty")}
    sets = {
        o: sorted((r.channels, r.location.province or "", r.location.city or "") for r in p.routes)
        for o, p in plans.items()
    }
    assert len({tuple(s) for s in sets.values()}) == 1


def test_city_prohibitions_exclude_that_city_only(run):
    """Nansha QFLP measures (穗金融规字〔2022〕1号): no investment or financing to real estate or LGFV platforms."""
    p = run(asset_class="equity", sector="real_estate", province="CN-GD", city="guangzhou", amount=20_000_000)
    nansha = [e for e in exclusions_by_channel(p, "qflp") if e.location.city == "guangzhou"]
    assert nansha and any(
        f.rule == "qflp_city_excluded_sector" and "nansha_qflp_2022" in f.sources for f in nansha[0].reasons
    )
    assert any(r.location.city == "shenzhen" for r in routes_by_channel(p, "qflp"))
    lgfv = run(asset_class="equity", sector="infrastructure", holder_type="lgfv", province="CN-GD", amount=20_000_000)
    assert any(
        f.rule == "qflp_city_excluded_holder"
        for e in exclusions_by_channel(lgfv, "qflp")
        if e.location.city == "guangzhou"
        for f in e.reasons
    )


def test_pilot_city_gets_its_local_option(run):
    """A profile in a QFLP pilot city (Shenzhen, 深金监规〔2024〕1号) gets the local fund, first among equals."""
    p = run(asset_class="equity", sector="manufacturing", province="CN-GD", city="shenzhen", amount=20_000_000)
    qflp = routes_by_channel(p, "qflp")
    local = next(r for r in qflp if r.location.city == "shenzhen")
    step = next(s for s in local.steps if s.step.id == "qflp_pilot_qualification")
    assert "sz_qflp_2024" in step.sources
    ties = [r for r in qflp if r.score == local.score]
    assert ties[0] is local


def test_as_of_selects_superseded_city_terms(run):
    """Shenzhen 2017 measures (深金规〔2017〕1号) required a USD 15m fund; a 2019 query sees that threshold."""
    p = run(
        as_of="2019-06-01",
        asset_class="equity",
        sector="manufacturing",
        province="CN-GD",
        city="shenzhen",
        amount=5_000_000,
    )
    sz = next(r for r in routes_by_channel(p, "qflp") if r.location.city == "shenzhen")
    assert any(w.rule == "qflp_fund_minimum" and "15,000,000" in w.text.en for w in sz.warnings)


def test_local_only_keeps_qflp_in_the_place(run, rb):
    """Comparing places: a place's QFLP option is a fund in that place, or an exclusion saying there is no pilot."""
    sz = run(
        asset_class="equity",
        sector="manufacturing",
        province="CN-GD",
        city="hengqin",
        amount=20_000_000,
        local_only=True,
    )
    assert {r.location.city for r in routes_by_channel(sz, "qflp")} == {"hengqin"}
    gs = run(asset_class="equity", sector="manufacturing", province="CN-GS", amount=20_000_000, local_only=True)
    assert not routes_by_channel(gs, "qflp")
    assert [f.rule for e in exclusions_by_channel(gs, "qflp") for f in e.reasons] == ["qflp_no_local_pilot"]


def test_debt_tokens_of_real_estate_and_lgfv_close_every_route(run):
    """NDRC notice 706 (2018) and its 2019 follow-up: their medium/long-term foreign debt only refinances."""
    for extra in ({"sector": "real_estate"}, {"sector": "infrastructure", "holder_type": "lgfv"}):
        p = run(asset_class="debt", province="CN-GD", amount=80_000_000, term_months=36, net_assets=5e8, **extra)
        assert not p.routes
        assert all(any(f.rule.startswith("debt_issue_") for f in e.reasons) for e in p.excluded)


def test_negative_list_unknown_before_2020_is_said(run):
    """The rule base holds the negative list from its 2020 edition (23 Jul 2020); earlier dates say so."""
    p = run(as_of="2018-06-01", asset_class="equity", sector="news_media", province="CN-BJ", amount=20_000_000)
    fdi = routes_by_channel(p, "fdi")[0]
    assert any(w.rule == "fdi_negative_list_unknown" for w in fdi.warnings)
    assert any(w.rule == "fdi_before_foreign_investment_law" for w in fdi.warnings)


def test_cnh_is_renminbi_and_financials_have_no_enterprise_cap(run):
    """Yin Fa [2017] No. 9: the exchange-rate factor is for foreign-currency debt; financial institutions
    have their own parameters."""
    cnh = run(
        asset_class="equity", sector="manufacturing", province="CN-SH", amount=1e6, currency="CNH", net_assets=1e9
    )
    assert routes_by_channel(cnh, "foreign_debt")[0].capacity == pytest.approx(3.5e9)
    fin = run(
        asset_class="equity",
        sector="manufacturing",
        province="CN-SH",
        amount=1e6,
        holder_type="financial",
        net_assets=1e9,
    )
    fd = routes_by_channel(fin, "foreign_debt")[0]
    assert fd.capacity is None and any(w.rule == "foreign_debt_capacity_not_computed" for w in fd.warnings)


def test_fdi_reaches_the_asset_holder_three_ways(run, rb):
    """The graph: SPV -> FIE, then the FIE is the asset holder, reinvests in it, or lends to it."""
    from repatriate.engine.graph import channel_paths

    paths = channel_paths(rb, TODAY)
    assert {("fdi", "fie_direct"), ("fdi", "fie_reinvestment"), ("fdi", "fie_loan")} <= set(paths)
    p = run(asset_class="equity", sector="manufacturing", province="CN-GD", amount=20_000_000)
    via_fie = [r for r in p.routes if r.channels[0] == "fdi"]
    assert {r.channels[1] for r in via_fie} == {"fie_direct", "fie_reinvestment", "fie_loan"}
    assert all(r.path == ("hk_issuer_spv", "fie", "asset_holder") for r in via_fie)


def test_group_spv_buying_its_related_company_needs_mofcom(run):
    """2006 M&A Rules: a group's own offshore SPV acquiring a related mainland company needs MOFCOM approval."""
    own = run(asset_class="equity", sector="manufacturing", province="CN-GD", amount=20_000_000)
    third = run(
        asset_class="equity", sector="manufacturing", province="CN-GD", amount=20_000_000, spv_owner="third_party"
    )
    direct = lambda p: next(r for r in p.routes if r.channels == ("fdi", "fie_direct"))  # noqa: E731
    assert "mofcom_related_party_mna_approval" in step_ids(direct(own))
    assert "mofcom_related_party_mna_approval" not in step_ids(direct(third))
    assert direct(own).rank > next(r for r in own.routes if r.channels == ("fdi", "fie_reinvestment")).rank


def test_fie_loan_needs_a_related_holder_and_approval_comes_first(run):
    """Hui Fa [2016] No. 16: settled capital is not lent to unrelated enterprises; MOFCOM approval precedes
    registration."""
    third = run(asset_class="equity", sector="manufacturing", province="CN-GD", amount=5e7, spv_owner="third_party")
    assert not [r for r in third.routes if "fie_loan" in r.channels]
    assert any(f.rule == "fie_loan_unrelated_holder" for e in third.excluded for f in e.reasons)
    own = run(asset_class="equity", sector="manufacturing", province="CN-GD", amount=5e7)
    direct = next(r for r in own.routes if r.channels == ("fdi", "fie_direct"))
    ids = step_ids(direct)
    assert ids.index("mofcom_related_party_mna_approval") < ids.index("fie_registration")


# --- law in data: the engine words nothing itself ---------------------------------------------


def test_bug_easing_map_written_twice(run, rb):
    """Bug (issue 8): route notes (search._CHANNEL_EASINGS) and the coverage table (browse) mapped
    FX-pilot easings to channels differently; easings.yaml is now the one map. SAFE's capital-account
    receipts include foreign-debt funds (Hui Fa [2016] No. 16), so the Yangpu pilot's capital income
    facilitation is noted on foreign debt too."""
    from repatriate.engine.browse import coverage

    p = run(asset_class="equity", sector="manufacturing", province="CN-HI", amount=2e7, currency="CNY", net_assets=1e9)
    fd = next(r for r in p.routes if r.channels == ("foreign_debt",))
    note = next(n for n in fd.notes if n.rule == "fx_pilot_hlo_hainan_yangpu")
    assert "capital income facilitation" in note.text.en and "资本项目收入支付便利化" in note.text.zh
    hainan = next(c for c in coverage(rb, TODAY) if c["province"] == "CN-HI")
    eased = {c for pilot in rb.provinces["CN-HI"].fx_pilots for e in pilot.eases for c in rb.easings[e].channels}
    assert eased <= set(hainan["channels_with_local_rules"])


def test_bug_chinese_pilot_note_named_easings_in_english(run):
    """Bug (issue 8): the Chinese FX-pilot note listed easing ids in English ('ft account')."""
    p = run(asset_class="equity", sector="manufacturing", province="CN-SH", amount=2e7)
    notes = [n for r in p.routes for n in r.notes if n.rule.startswith("fx_pilot_")]
    assert notes and all("account" not in n.text.zh and "registration" not in n.text.zh for n in notes)


def test_bug_findings_named_command_line_flags(run):
    """Bug (issue 8): library findings said "give --net-assets" (and the data "--term-months");
    a library user has no flags. The findings now say what to give."""
    p = run(asset_class="debt", sector="manufacturing", province="CN-ZJ", amount=1e7, currency="CNY")
    texts = [f.text for r in p.routes for f in (*r.warnings, *r.notes)]
    texts += [f.text for e in p.excluded for f in e.reasons]
    assert any("give the net assets" in t.en for t in texts)
    assert not [t for t in texts if "--" in t.en or "--" in t.zh]


def test_engine_holds_no_bilingual_prose():
    """Law and wording live in data/ YAML; labels of the interface in render/labels.py."""
    import re
    from pathlib import Path

    import repatriate.engine as engine

    for path in Path(engine.__file__).parent.glob("*.py"):
        if path.name == "profile.py":  # input parsing accepts Chinese place-name suffixes
            continue
        assert not re.search(r"[\u4e00-\u9fff]", path.read_text(encoding="utf-8")), path.name


def test_qflp_checks_come_from_data(run, rb):
    """The pilot-city checks are data (qflp_checks.yaml): each finding is a check's id and wording."""
    ids = {c.id for c in rb.qflp_checks.checks}
    p = run(
        as_of="2019-06-01",
        asset_class="equity",
        sector="real_estate",
        province="CN-GD",
        amount=5e6,
        holder_type="lgfv",
    )
    qflp = [f for r in p.routes if "qflp" in r.channels for f in r.warnings]
    qflp += [f for e in p.excluded if "qflp" in e.channels for f in e.reasons]
    city_rules = {f.rule for f in qflp if f.rule in ids}
    assert {"qflp_fund_minimum", "qflp_terms_unknown"} <= city_rules
    assert rb.channels["qflp"].steps[0].terms_from == "qflp_city"


def test_message_templates_take_plain_names_only():
    """A template can read only the values the engine hands it: no attribute or index access."""
    from repatriate.rulebase.models import placeholders

    assert placeholders("{amount:,.0f} {currency}") == ["amount", "currency"]
    for bad in ("{amount.__class__}", "{a[0]}", "{0}", "{amount!r}"):
        with pytest.raises(ValueError):
            placeholders(bad)


def test_errors_carry_field_value_and_accepted(rb):
    from repatriate.engine.profile import make_profile
    from repatriate.engine.search import plan
    from repatriate.errors import RepatriateError

    profile = make_profile(rb, asset_class="equity", province="CN-GD", amount=1e6)
    with pytest.raises(RepatriateError) as exc:
        plan(profile, rb, optimize="fastest")
    assert exc.value.field == "objective" and exc.value.value == "fastest"
    assert "speed" in exc.value.accepted and "--" not in str(exc.value)
