"""Issue 9, items 1-6 and 8: corrected facts and the 2025-26 regimes, through the public API and the CLI.

One test per corrected fact; each docstring cites the text (document number and article) it
rests on. Every as-of boundary added has a test on each side of its date.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from repatriate import RepatriateError, load_rulebase, plan_route, plan_to_dict
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
    d = plan(
        rb,
        as_of="2019-01-01",
        asset_class="equity",
        sector="infrastructure",
        holder_type="lgfv",
        province="CN-GD",
        net_assets=1e9,
    )
    fd = routes(d, "foreign_debt")[0]
    assert findings(fd)["fd_lgfv_isolation"]["sources"] == ["ndrc_mof_2018_706"]


def test_lgfv_rule_dates_from_the_local_soe_notice(rb):
    """NDRC General Office notice on local SOEs' foreign debt (reported 13 Jun 2019), point 5: LGFV-type local
    SOEs may borrow only to refinance debt maturing within a year. The rule starts on 13 Jun 2019, not on the
    real-estate notice's 9 Jul 2019."""
    lgfv = dict(
        asset_class="equity", sector="infrastructure", holder_type="lgfv", province="CN-GD", net_assets=1e9
    )
    before = plan(rb, as_of="2019-06-12", **lgfv)
    on = plan(rb, as_of="2019-06-13", **lgfv)
    assert routes(before, "foreign_debt") and "fd_lgfv_isolation" in findings(
        routes(before, "foreign_debt")[0]
    )
    assert not routes(on, "foreign_debt")
    rule = reasons(on, "foreign_debt")["fd_lgfv_restrictions"]
    assert "ndrc_2019_local_soe" in rule["sources"]
    assert "地方国有企业" in rb.sources["ndrc_2019_local_soe"].title.zh


def test_lgfv_debt_tokens_excluded_from_the_local_soe_notice(rb):
    """Local-SOE notice (13 Jun 2019), point 5: debt tokens of an LGFV (its medium/long-term foreign debt)
    only refinance; the day before, the rule is not yet in force."""
    lgfv = dict(
        asset_class="debt",
        sector="infrastructure",
        holder_type="lgfv",
        province="CN-GD",
        term_months=36,
        net_assets=1e9,
    )
    assert plan(rb, as_of="2019-06-12", **lgfv)["routes"]
    on = plan(rb, as_of="2019-06-13", **lgfv)
    assert not on["routes"]
    assert all(
        any(f["rule"] == "debt_issue_lgfv_refinancing_only" for f in e["reasons"]) for e in on["excluded"]
    )


# --- item 2: QFLP history --------------------------------------------------------------------


def qflp_cities(d):
    return {(r["location"]["province"], r["location"]["city"]) for r in routes(d, "qflp")}


EQUITY = dict(asset_class="equity", sector="manufacturing", province="CN-GS")


def test_beijing_and_chongqing_are_qflp_cities_in_2015(rb):
    """京政办函〔2011〕16号 (Beijing) and 渝办发〔2011〕132号 (Chongqing) ran QFLP pilots from 2011, so an asset
    planned as of 2015 is offered both cities, each citing its 2011 text."""
    d = plan(rb, as_of="2015-06-01", **EQUITY)
    assert {("CN-BJ", "beijing"), ("CN-CQ", "chongqing")} <= qflp_cities(d)
    bj = next(r for r in routes(d, "qflp") if r["location"]["city"] == "beijing")
    first = next(s for s in bj["steps"] if s["id"] == "qflp_pilot_qualification")
    assert "bj_qflp_2011" in first["sources"] and first["verified"] is False


def test_2011_start_is_year_precision_and_said_so(rb):
    """京政办函〔2011〕16号: only the year 2011 is known; the period starts on the last day it can have begun
    (31 Dec 2011), and the output says the day is approximate."""
    assert ("CN-BJ", "beijing") not in qflp_cities(plan(rb, as_of="2011-12-30", **EQUITY))
    d = plan(rb, as_of="2011-12-31", **EQUITY)
    assert {("CN-BJ", "beijing"), ("CN-CQ", "chongqing")} <= qflp_cities(d)
    bj = next(r for r in routes(d, "qflp") if r["location"]["city"] == "beijing")
    unverified = findings(bj)["qflp_terms_unverified"]
    assert "Start day approximate" in unverified["message"] and "2011" in unverified["message"]


def test_beijing_2011_text_governs_until_the_2021_measures(rb):
    """Beijing's 2021 interim measures (jointly issued 28 Apr 2021) revise 京政办函〔2011〕16号: the day before
    the 2011 text governs, from that day the 2021 measures."""

    def bj_docs(as_of):
        d = plan(
            rb, as_of=as_of, asset_class="equity", sector="manufacturing", province="CN-BJ", city="beijing"
        )
        r = next(r for r in routes(d, "qflp") if r["location"]["city"] == "beijing")
        return next(s for s in r["steps"] if s["id"] == "qflp_pilot_qualification")["sources"]

    assert "bj_qflp_2011" in bj_docs("2021-04-27") and "bj_qflp_2021" not in bj_docs("2021-04-27")[:1]
    assert bj_docs("2021-04-28")[0] == "bj_qflp_2021" and "bj_qflp_2011" not in bj_docs("2021-04-28")


def test_qingdao_from_2015(rb):
    """青金办字〔2015〕10号 (Qingdao, 2015; day unknown): Qingdao is offered from 31 Dec 2015, not before."""
    assert ("CN-SD", "qingdao") not in qflp_cities(plan(rb, as_of="2015-12-30", **EQUITY))
    d = plan(rb, as_of="2015-12-31", **EQUITY)
    assert ("CN-SD", "qingdao") in qflp_cities(d)
    qd = next(r for r in routes(d, "qflp") if r["location"]["city"] == "qingdao")
    assert "qd_qflp_2015" in next(s for s in qd["steps"] if s["id"] == "qflp_pilot_qualification")["sources"]


def test_suzhou_industrial_park_pilot_from_24_july_2020(rb):
    """苏园管规字〔2020〕2号 (SIP Administrative Committee and the Suzhou FTZ Area committee, 24 Jul 2020):
    Suzhou is a QFLP city from its issue date; its approval body is the SIP leading group (Art. 3)."""
    assert ("CN-JS", "suzhou") not in qflp_cities(plan(rb, as_of="2020-07-23", **EQUITY))
    d = plan(rb, as_of="2020-07-24", **EQUITY)
    assert ("CN-JS", "suzhou") in qflp_cities(d)
    sz = next(r for r in routes(d, "qflp") if r["location"]["city"] == "suzhou")
    step = next(s for s in sz["steps"] if s["id"] == "qflp_pilot_qualification")
    assert "sip_qflp_2020" in step["sources"] and "leading group" in step["authority"]
    src = rb.sources["sip_qflp_2020"]
    assert src.doc_no == "苏园管规字〔2020〕2号" and "自由贸易试验区苏州片区" in src.issuer.zh


def test_suzhou_by_name_under_jiangsu_cli():
    """苏园管规字〔2020〕2号: `--city 苏州` resolves to Suzhou under Jiangsu and its pilot is offered."""
    d = cli_json(
        "--asset-class",
        "equity",
        "--sector",
        "manufacturing",
        "--province",
        "江苏",
        "--city",
        "苏州",
        "--amount",
        "20000000",
        "--as-of",
        TODAY,
        "--top",
        "100",
    )
    assert d["query"]["city"] == "suzhou"
    assert any(r["location"]["city"] == "suzhou" for r in routes(d, "qflp"))


def test_shanghai_safe_2023_citywide_qflp_fx_extension(rb):
    """SAFE Shanghai Branch notice of 13 Feb 2023 (关于临港新片区部分跨境贸易投资高水平开放试点扩围的通知):
    the Lingang QFLP FX policy covers the whole city from that day; its content is unverified."""

    def note(as_of):
        d = plan(
            rb, as_of=as_of, asset_class="equity", sector="manufacturing", province="CN-SH", city="shanghai"
        )
        r = next(r for r in routes(d, "qflp") if r["location"]["city"] == "shanghai")
        return findings(r).get("fx_pilot_qflp_fx_facilitation_shanghai")

    assert note("2023-02-12") is None
    n = note("2023-02-13")
    assert n is not None and n["verified"] is False and n["sources"] == ["sh_safe_2023_qflp_citywide"]


# --- item 3: Shanghai's real-estate bar ----------------------------------------------------


SH_REAL_ESTATE = dict(asset_class="equity", sector="real_estate", province="CN-SH", city="shanghai")


def test_shanghai_qflp_bars_non_self_use_real_estate(rb):
    """沪金融办通〔2010〕38号 Art. 31(4): a Shanghai QFLP fund may not invest directly or indirectly in non-self-use
    real estate; in force 30 days after issue (24 Dec 2010), i.e. from 23 Jan 2011."""
    d = plan(rb, as_of="2011-01-23", **SH_REAL_ESTATE)
    sh = [e for e in excluded(d, "qflp") if e["location"]["city"] == "shanghai"]
    assert sh and any(f["rule"] == "qflp_sh_non_self_use_real_estate" for e in sh for f in e["reasons"])
    rule = next(f for e in sh for f in e["reasons"] if f["rule"] == "qflp_sh_non_self_use_real_estate")
    assert "sh_qflp_2010_art31_reprint" in rule["sources"] and "Art. 31(4)" in rule["message"]
    # other cities are not barred by Shanghai's measures
    assert not any(
        f["rule"] == "qflp_sh_non_self_use_real_estate"
        for e in excluded(d, "qflp")
        if e["location"]["city"] != "shanghai"
        for f in e["reasons"]
    )


def test_shanghai_real_estate_bar_not_before_its_effective_date(rb):
    """沪金融办通〔2010〕38号 took effect on 23 Jan 2011; the day before there is no Shanghai pilot at all."""
    d = plan(rb, as_of="2011-01-22", **SH_REAL_ESTATE)
    assert not any(
        f["rule"] == "qflp_sh_non_self_use_real_estate" for e in d["excluded"] for f in e["reasons"]
    )
    assert ("CN-SH", "shanghai") not in qflp_cities(d)


def test_shanghai_real_estate_bar_cli():
    """沪金融办通〔2010〕38号 Art. 31(4), through the CLI: no Shanghai QFLP route for a real-estate asset."""
    d = cli_json(
        "--asset-class",
        "equity",
        "--sector",
        "real_estate",
        "--province",
        "CN-SH",
        "--city",
        "shanghai",
        "--amount",
        "20000000",
        "--as-of",
        TODAY,
        "--top",
        "100",
    )
    assert not any(r["location"]["city"] == "shanghai" for r in routes(d, "qflp"))


# --- item 3: the QFLP checklist order ------------------------------------------------------


def _qflp_route(rb, city="shenzhen", province="CN-GD"):
    d = plan(rb, asset_class="equity", sector="manufacturing", province=province, city=city)
    return next(r for r in routes(d, "qflp") if r["location"]["city"] == city)


def test_qflp_manager_registers_with_amac_before_fundraising(rb):
    """证监会〔2020〕71号 Art. 2: a private fund manager completes AMAC registration before it first raises money
    or manages a fund, so the manager's registration precedes the fund's set-up and the LP's pay-in."""
    ids = step_ids(_qflp_route(rb))
    assert "qflp_manager_amac_registration" in ids
    assert (
        ids.index("qflp_pilot_qualification")
        < ids.index("qflp_manager_amac_registration")
        < ids.index("qflp_fund_registration")
    )
    assert ids.index("qflp_manager_amac_registration") < ids.index("qflp_subscription")
    step = next(s for s in _qflp_route(rb)["steps"] if s["id"] == "qflp_manager_amac_registration")
    assert "csrc_2020_71" in step["sources"]


def test_qflp_lp_pays_in_before_the_amac_fund_filing(rb):
    """AMAC 2014 trial measures Art. 11: the fund is filed within 20 working days after fundraising completes;
    AMAC Filing Notice (2019): complete means the LPs' money is in the fund's account. So pay-in, then filing,
    then investment."""
    r = _qflp_route(rb)
    ids = step_ids(r)
    assert (
        ids.index("qflp_fx_registration")
        < ids.index("qflp_subscription")
        < ids.index("qflp_amac_filing")
        < ids.index("qflp_investment")
    )
    filing = next(s for s in r["steps"] if s["id"] == "qflp_amac_filing")
    assert filing["phase"] == "funds" and "20 working days" in filing["action"]["en"]
    assert "amac_2014_trial_filing" in filing["sources"] and "amac_2019_filing_notice" in filing["sources"]


# --- item 4: the CSRC track by token type, and the VATP step ------------------------------


def _first_route(rb, as_of=TODAY, **fields):
    d = plan(rb, as_of=as_of, **fields)
    assert d["routes"], fields
    return d["routes"][0]


def test_abs_tokens_take_the_csrc_2026_filing(rb):
    """CSRC Announcement [2026] No. 1 (in force 6 Feb 2026): asset-backed security tokens are filed with the
    CSRC before the business starts; the day before, no filing step exists."""
    abs_ = dict(asset_class="abs", sector="logistics", province="CN-GD")
    assert "csrc_rwa_filing" in step_ids(_first_route(rb, as_of="2026-02-06", **abs_))
    assert "csrc_rwa_filing" not in step_ids(_first_route(rb, as_of="2026-02-05", **abs_))


def test_equity_tokens_get_their_own_unverified_track(rb):
    """银发〔2026〕42号 Art. 14 (equity-type RWA under the CSRC, as reported) and 证监会公告〔2023〕43号 Art. 16 (by
    reference): equity tokens are not ABS tokens; their filing is marked unverified with a warning."""
    r = _first_route(rb, asset_class="equity", sector="manufacturing", province="CN-GD")
    assert "csrc_rwa_filing" not in step_ids(r) and "csrc_equity_token_filing" in step_ids(r)
    step = next(s for s in r["steps"] if s["id"] == "csrc_equity_token_filing")
    assert step["verified"] is False and {"yinfa_2026_42", "csrc_2023_trial_43"} <= set(step["sources"])
    assert {"csrc_equity_token_filing_report", "prc_legal_opinion"} <= set(step["documents"])
    warning = findings(r)["rwa_equity_track_unsettled"]
    assert warning["verified"] is False and warning["kind"] == "warning"
    assert rb.sources["csrc_2023_trial_43"].doc_no == "中国证监会公告〔2023〕43号"


def test_equity_track_starts_with_notice_42(rb):
    """银发〔2026〕42号 was issued and took effect on 6 Feb 2026: no equity-token filing the day before."""
    eq = dict(asset_class="equity", sector="manufacturing", province="CN-GD")
    assert "csrc_equity_token_filing" not in step_ids(_first_route(rb, as_of="2026-02-05", **eq))
    assert "csrc_equity_token_filing" in step_ids(_first_route(rb, as_of="2026-02-06", **eq))


def test_debt_tokens_go_to_ndrc_and_safe_not_the_csrc(rb):
    """银发〔2026〕42号 Art. 14: debt-form RWA is foreign debt, under the NDRC and SAFE; no CSRC filing."""
    debt = dict(asset_class="debt", sector="logistics", province="CN-JS", term_months=36, net_assets=1e9)
    r = _first_route(rb, **debt)
    assert "ndrc_foreign_debt_certificate" in step_ids(r)
    assert not {"csrc_rwa_filing", "csrc_equity_token_filing"} & set(step_ids(r))
    note = findings(r)["debt_tokens_ndrc_and_safe_track"]
    assert note["kind"] == "note" and "yinfa_2026_42" in note["sources"]
    assert "debt_tokens_ndrc_and_safe_track" not in findings(_first_route(rb, as_of="2026-02-05", **debt))


def test_vatp_admission_only_when_the_tokens_trade_on_a_vatp(rb):
    """SFC circular 23EC52 (2 Nov 2023): tokenised securities are securities; a licensed intermediary may
    distribute them and no VATP admission is required. VATP admission stays for --distribution vatp (default).
    """
    abs_ = dict(asset_class="abs", sector="logistics", province="CN-GD")
    vatp = step_ids(_first_route(rb, **abs_))
    broker = step_ids(_first_route(rb, distribution="intermediary", **abs_))
    assert "vatp_admission" in vatp and "hk_intermediary_distribution" not in vatp
    assert "vatp_admission" not in broker and "hk_intermediary_distribution" in broker


def test_intermediary_distribution_from_the_2023_circular(rb):
    """SFC circular 23EC52 is dated 2 Nov 2023: the intermediary step starts that day."""
    abs_ = dict(asset_class="abs", sector="logistics", province="CN-GD", distribution="intermediary")
    assert "hk_intermediary_distribution" not in step_ids(_first_route(rb, as_of="2023-11-01", **abs_))
    assert "hk_intermediary_distribution" in step_ids(_first_route(rb, as_of="2023-11-02", **abs_))


def test_distribution_option_in_the_cli_and_query():
    """SFC circular 23EC52: `--distribution intermediary` drops the VATP step; the query echoes the choice;
    an unknown value is refused with exit 2."""
    base = [
        "--asset-class",
        "abs",
        "--sector",
        "logistics",
        "--province",
        "CN-GD",
        "--amount",
        "5000000",
        "--as-of",
        TODAY,
    ]
    d = cli_json(*base, "--distribution", "intermediary")
    assert d["query"]["distribution"] == "intermediary"
    assert all("vatp_admission" not in step_ids(r) for r in d["routes"])
    assert cli_json(*base)["query"]["distribution"] == "vatp"
    res = runner.invoke(app, ["route", *base, "--distribution", "exchange"])
    assert res.exit_code == 2 and "distribution" in res.output and "intermediary" in res.output


SIX_BARS = (
    "csrc_bar_prohibited_financing",
    "csrc_bar_national_security",
    "csrc_bar_recent_crime",
    "csrc_bar_open_investigation",
    "csrc_bar_ownership_dispute",
    "csrc_bar_abs_negative_list",
)


def test_the_six_csrc_bars_are_confirm_none_applies_items(rb):
    """CSRC Announcement [2026] No. 1, the six situations in which the business may not be carried out:
    each is a note to confirm on every ABS-token route, citing the guideline (bar 6 also the AMAC
    negative list).
    """
    r = _first_route(rb, asset_class="abs", sector="logistics", province="CN-GD")
    f = findings(r)
    for bar in SIX_BARS:
        assert (
            f[bar]["kind"] == "note" and "csrc_2026_1" in f[bar]["sources"] and "Confirm" in f[bar]["message"]
        )
    assert "amac_abs_negative_list_2024" in f["csrc_bar_abs_negative_list"]["sources"]
    eq = findings(_first_route(rb, asset_class="equity", sector="logistics", province="CN-GD"))
    assert not set(SIX_BARS) & set(eq)


def test_the_six_bars_start_with_the_guideline(rb):
    """CSRC Announcement [2026] No. 1 took effect on 6 Feb 2026: no bars the day before."""
    abs_ = dict(asset_class="abs", sector="logistics", province="CN-GD")
    assert not set(SIX_BARS) & set(findings(_first_route(rb, as_of="2026-02-05", **abs_)))
    assert set(SIX_BARS) <= set(findings(_first_route(rb, as_of="2026-02-06", **abs_)))


# --- item 5: citations -----------------------------------------------------------------------


QFII_LISTED = dict(asset_class="equity", sector="healthcare", province="CN-SH", holder_type="listed")


def _qfii_steps(rb, as_of):
    r = next(r for r in plan(rb, as_of=as_of, **QFII_LISTED)["routes"] if "qfii" in r["channels"])
    return {s["id"]: s for s in r["steps"]}


def test_qfii_funds_rules_are_announcement_2024_no_7(rb):
    """PBOC/SAFE Announcement [2024] No. 7, Art. 31: in force 26 Aug 2024, repealing Announcement [2020]
    No. 2; from that day the registration and remittance steps cite the 2024 rules."""
    on = _qfii_steps(rb, "2024-08-26")
    assert on["qfi_safe_registration"]["sources"][0] == "qfi_funds_2024_7"
    assert on["qfi_remittance"]["sources"] == ["qfi_funds_2024_7"]
    assert not {"qfi_safe_registration_2020", "qfi_remittance_2020"} & set(on)
    assert rb.sources["qfi_funds_2024_7"].doc_no == "中国人民银行 国家外汇管理局公告〔2024〕第7号"
    assert "qfi_funds_2020_2" not in rb.channels["qfii"].sources


def test_qfii_2020_rules_before_26_august_2024(rb):
    """PBOC/SAFE Announcement [2020] No. 2 (in force 6 Jun 2020) governed until 25 Aug 2024."""
    before = _qfii_steps(rb, "2024-08-25")
    assert before["qfi_safe_registration_2020"]["sources"] == ["qfi_funds_2020_2"]
    assert before["qfi_remittance_2020"]["sources"] == ["qfi_funds_2020_2"]
    assert not {"qfi_safe_registration", "qfi_remittance"} & set(before)


def test_fdi_into_real_estate_warns_with_its_rules(rb):
    """建住房〔2006〕171号 (FIE for non-self-use real estate), 商资函〔2007〕50号 (round trips into real-estate
    enterprises strictly controlled) and 建房〔2015〕122号: an FDI route for a real-estate asset carries a warning.
    """
    d = plan(rb, asset_class="equity", sector="real_estate", province="CN-GD")
    fdi = routes(d, "fdi")
    assert fdi and all("fdi_real_estate_rules" in findings(r) for r in fdi)
    w = findings(fdi[0])["fdi_real_estate_rules"]
    assert w["kind"] == "warning" and {"moc_2006_171", "mofcom_safe_2007_50", "mohurd_2015_122"} <= set(
        w["sources"]
    )
    assert "fdi_real_estate_rules" not in findings(
        routes(plan(rb, asset_class="equity", sector="logistics", province="CN-GD"), "fdi")[0]
    )


def test_fdi_real_estate_warning_from_notice_50(rb):
    """商资函〔2007〕50号 is dated 23 May 2007: the warning starts that day."""

    def has(as_of):
        d = plan(rb, as_of=as_of, asset_class="equity", sector="real_estate", province="CN-GD")
        return any("fdi_real_estate_rules" in findings(r) for r in routes(d, "fdi"))

    assert not has("2007-05-22") and has("2007-05-23")


def test_abs_tokens_of_real_estate_and_lgfv_meet_the_amac_negative_list(rb):
    """AMAC ABS base-asset negative list (2024 revision), applied by CSRC Announcement [2026] No. 1 bar 6:
    vacant or unfinished real estate, and assets adding local-government debt, are ineligible."""
    re_ = _first_route(rb, asset_class="abs", sector="real_estate", province="CN-GD")
    lg = _first_route(rb, asset_class="abs", sector="infrastructure", holder_type="lgfv", province="CN-GD")
    assert "amac_abs_negative_list_2024" in findings(re_)["abs_negative_list_real_estate"]["sources"]
    assert "local-government debt" in findings(lg)["abs_negative_list_lgfv"]["message"]
    assert "abs_negative_list_real_estate" not in findings(
        _first_route(rb, as_of="2026-02-05", asset_class="abs", sector="real_estate", province="CN-GD")
    )


# --- item 6: 汇发〔2025〕43号 ---------------------------------------------------------------


def _reinvest(rb, as_of):
    d = plan(rb, as_of=as_of, asset_class="equity", sector="manufacturing", province="CN-GD")
    return next(r for r in d["routes"] if r["channels"] == ["fdi", "fie_reinvestment"])


def test_reinvestment_registration_abolished_from_15_september_2025(rb):
    """汇发〔2025〕43号 Part I (2) 取消外商投资企业境内再投资登记 (published and effective 15 Sep 2025): from that
    day the FDI reinvestment route has no registration step and no registration document."""
    r = _reinvest(rb, "2025-09-15")
    assert "fdi_domestic_reinvestment" not in step_ids(
        r
    ) and "fdi_domestic_reinvestment_no_registration" in step_ids(r)
    assert "reinvestment_registration" not in {doc["id"] for doc in r["documents"]}
    step = next(s for s in r["steps"] if s["id"] == "fdi_domestic_reinvestment_no_registration")
    assert step["sources"] == ["safe_2025_43"] and step["kind"] == "transaction"
    assert rb.sources["safe_2025_43"].doc_no == "汇发〔2025〕43号"


def test_reinvestment_registration_kept_before_43(rb):
    """Before 汇发〔2025〕43号 (15 Sep 2025) the domestic reinvestment was registered at the bank."""
    r = _reinvest(rb, "2025-09-14")
    assert "fdi_domestic_reinvestment" in step_ids(
        r
    ) and "fdi_domestic_reinvestment_no_registration" not in step_ids(r)
    assert "reinvestment_registration" in {doc["id"] for doc in r["documents"]}


def _fd_findings(rb, as_of, province="CN-BJ", city=None):
    d = plan(
        rb,
        as_of=as_of,
        asset_class="equity",
        sector="manufacturing",
        province=province,
        city=city,
        net_assets=1e9,
    )
    return findings(routes(d, "foreign_debt")[0])


def test_tech_sme_facility_nationwide_from_43(rb):
    """汇发〔2025〕43号 (15 Sep 2025): high-tech, 专精特新 and tech SMEs anywhere may borrow up to USD 10m (20m
    for innovation-points firms) without audited accounts at signing; Gansu, never in the 2022 pilot, gets it.
    """
    gs = _fd_findings(rb, "2025-09-15", province="CN-GS")
    note = gs["fd_tech_sme_facility_nationwide"]
    assert note["kind"] == "note" and "safe_2025_43" in note["sources"]
    assert "USD 10 million" in note["message"] and "audited" in note["message"]
    assert "fd_tech_sme_facility_nationwide" not in _fd_findings(rb, "2025-09-14", province="CN-GS")


def test_2022_regional_pilot_ends_when_43_starts(rb):
    """汇发〔2022〕16号 (31 May 2022) ran the pilot in 17 areas (Beijing among them) until 汇发〔2025〕43号 replaced
    it on 15 Sep 2025."""
    before = _fd_findings(rb, "2025-09-14", city="beijing")
    assert "fx_pilot_hightech_financing_beijing" in before and "fd_tech_sme_facility_nationwide" not in before
    on = _fd_findings(rb, "2025-09-15", city="beijing")
    assert "fx_pilot_hightech_financing_beijing" not in on and "fd_tech_sme_facility_nationwide" in on
    assert "safe_2022_16" in before["fx_pilot_hightech_financing_beijing"]["sources"]
    assert rb.sources["safe_2022_16"].doc_no == "汇发〔2022〕16号"


def test_signing_registration_keeps_audited_accounts_for_the_cap(rb):
    """汇发〔2025〕43号 waives audited accounts at signing only for firms using the facilitation (news summaries);
    a macro-prudential borrower still files them (SAFE Q&A of 2017 on net assets)."""
    d = plan(rb, asset_class="equity", sector="manufacturing", province="CN-GD", net_assets=1e9)
    reg = next(
        s for s in routes(d, "foreign_debt")[0]["steps"] if s["id"] == "safe_foreign_debt_registration"
    )
    assert "audited_financials" in reg["documents"]


# --- item 8: 内保外贷 ------------------------------------------------------------------------


DEBT = dict(asset_class="debt", sector="logistics", province="CN-JS", term_months=36, net_assets=1e9)


def test_parent_guarantee_of_the_spv_debt_needs_safe_registration(rb):
    """汇发〔2014〕29号 Arts. 3 and 6 (in force 1 Jun 2014): a mainland parent guaranteeing its SPV's offshore debt
    gives a 内保外贷, which the guarantor registers with SAFE; the warning is on every route of a group SPV's
    debt tokens and not on a third party's."""
    own = plan(rb, **DEBT)
    assert own["routes"] and all("debt_parent_guarantee_registration" in findings(r) for r in own["routes"])
    w = findings(own["routes"][0])["debt_parent_guarantee_registration"]
    assert w["kind"] == "warning" and "safe_2014_29" in w["sources"] and "内保外贷" in w["message"]
    third = plan(rb, spv_owner="third_party", **DEBT)
    assert not any("debt_parent_guarantee_registration" in findings(r) for r in third["routes"])
    assert rb.sources["safe_2014_29"].doc_no == "汇发〔2014〕29号"


def test_parent_guarantee_registration_from_1_june_2014(rb):
    """汇发〔2014〕29号 took effect on 1 Jun 2014: the warning starts that day, not before."""
    assert "debt_parent_guarantee_registration" not in findings(
        plan(rb, as_of="2014-05-31", **DEBT)["routes"][0]
    )
    assert "debt_parent_guarantee_registration" in findings(plan(rb, as_of="2014-06-01", **DEBT)["routes"][0])


def test_parent_guarantee_warning_cli():
    """汇发〔2014〕29号, through the CLI: a group SPV's debt tokens carry the 内保外贷 warning."""
    d = cli_json(
        "--asset-class",
        "debt",
        "--sector",
        "logistics",
        "--province",
        "CN-JS",
        "--amount",
        "20000000",
        "--term-months",
        "36",
        "--net-assets",
        "1000000000",
        "--as-of",
        TODAY,
    )
    assert any(w["rule"] == "debt_parent_guarantee_registration" for r in d["routes"] for w in r["warnings"])


def test_abs_filer_reports_after_the_issue(rb):
    """CSRC Announcement [2026] No. 1 (as reported): the filer reports completion of the offshore issue and
    later major risks or events; a step on ABS-token routes from 6 Feb 2026, with no day count."""
    abs_ = dict(asset_class="abs", sector="logistics", province="CN-GD")
    r = _first_route(rb, **abs_)
    ids = step_ids(r)
    assert ids.index("csrc_rwa_filing") < ids.index("csrc_rwa_post_issuance_report")
    step = next(s for s in r["steps"] if s["id"] == "csrc_rwa_post_issuance_report")
    assert step["weeks"] is None and step["sources"] == ["csrc_2026_1"]
    assert "csrc_rwa_post_issuance_report" not in step_ids(_first_route(rb, as_of="2026-02-05", **abs_))


def test_shanghai_qflp_fund_may_not_lend(rb):
    """沪金融办通〔2010〕38号 Art. 31(6): a Shanghai QFLP fund may not lend or guarantee, so debt-class proceeds
    go in as equity; the warning is on Shanghai's QFLP route only."""
    d = plan(rb, asset_class="debt", sector="logistics", province="CN-SH", city="shanghai", term_months=36)
    qflp = {r["location"]["city"]: r for r in routes(d, "qflp")}
    assert "qflp_sh_no_lending" in findings(qflp["shanghai"])
    assert all("qflp_sh_no_lending" not in findings(r) for c, r in qflp.items() if c != "shanghai")


@settings(max_examples=40, deadline=None)
@given(
    value=st.sampled_from(["vatp", "intermediary"]), upper=st.booleans(), pad=st.sampled_from(["", " ", "  "])
)
def test_distribution_accepts_its_values_in_any_case(value, upper, pad):
    """SFC circular 23EC52: the two distribution modes are accepted whatever the case and padding."""
    raw = pad + (value.upper() if upper else value) + pad
    d = plan_to_dict(
        plan_route(as_of=TODAY, asset_class="abs", province="CN-GD", amount=1e6, distribution=raw),
        load_rulebase(),
    )
    assert d["query"]["distribution"] == value


@settings(max_examples=60, deadline=None)
@given(
    raw=st.text(min_size=1, max_size=12).filter(
        lambda t: t.strip() and t.strip().lower() not in ("vatp", "intermediary")
    )
)
def test_distribution_refuses_anything_else(raw):
    """An unknown distribution is refused with one error naming the accepted values."""
    with pytest.raises(RepatriateError) as err:
        plan_route(as_of=TODAY, asset_class="abs", province="CN-GD", amount=1e6, distribution=raw)
    assert "vatp" in str(err.value) and "intermediary" in str(err.value)
