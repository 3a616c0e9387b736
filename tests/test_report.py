"""Comparison reports through the library: places, the one search per place, every format, escaping."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import TODAY

from repatriate.engine.compare import compare, resolve_places, step_schedule
from repatriate.engine.profile import make_profile
from repatriate.engine.search import Location, plan
from repatriate.errors import RepatriateError
from repatriate.render.report import gist, md_cell, render, render_html, render_markdown, report_to_dict, table_text
from repatriate.render.route import NOTICE, plan_to_dict, source_cite

GOLDEN = Path(__file__).parent / "golden" / "compare_equity_shenzhen.md"

EQUITY = {"asset_class": "equity", "sector": "renewable_energy", "amount": 50_000_000, "currency": "USD"}
DEBT = {
    "asset_class": "debt",
    "sector": "infrastructure",
    "amount": 300_000_000,
    "currency": "CNY",
    "holder_type": "soe",
    "net_assets": 1_000_000_000,
    "term_months": 36,
}
ABS = {
    "asset_class": "abs",
    "sector": "supply_chain_receivables",
    "amount": 20_000_000,
    "currency": "USD",
    "holder_type": "listed",
}
PROHIBITED = {"asset_class": "equity", "sector": "news_media", "amount": 10_000_000}

CASES = [
    (EQUITY, ["CN-GD"], ["shenzhen"]),
    (EQUITY, ["CN-GD", "CN-HI", "CN-SH"], []),
    (DEBT, ["CN-JS"], []),
    (ABS, [], ["hengqin", "qingdao"]),
    (PROHIBITED, ["CN-BJ"], []),
]


@pytest.fixture(scope="module")
def reports(rb):
    """One report per case, built once: rendering is what the tests vary."""
    return [compare(rb, profile_fields=f, provinces=p, cities=c, as_of=TODAY, label="Test client") for f, p, c in CASES]


# --- places ---------------------------------------------------------------------------


def test_province_with_its_city_is_one_place(rb):
    assert resolve_places(rb, ["广东"], ["shenzhen"]) == [Location("CN-GD", "shenzhen")]


def test_city_finds_its_province(rb):
    """A city id is looked up in the provinces' city sections."""
    assert resolve_places(rb, [], ["hengqin", "Qingdao"]) == [
        Location("CN-GD", "hengqin"),
        Location("CN-SD", "qingdao"),
    ]


def test_places_keep_order_and_drop_repeats(rb):
    got = resolve_places(rb, ["CN-SH", "Shanghai", "CN-HI"], ["shenzhen"])
    assert got == [Location("CN-SH", None), Location("CN-HI", None), Location("CN-GD", "shenzhen")]


def test_unknown_city_names_the_accepted_ids(rb):
    with pytest.raises(RepatriateError) as exc:
        resolve_places(rb, [], ["atlantis"])
    assert "atlantis" in str(exc.value) and "shenzhen" in str(exc.value)


def test_city_without_local_rules_needs_its_province(rb):
    """As in `route`, a real city without local rules takes its province's rules."""
    assert resolve_places(rb, ["CN-HI"], ["sanya"]) == [Location("CN-HI", "sanya")]


def test_no_place_is_an_error(rb):
    with pytest.raises(RepatriateError, match="province"):
        resolve_places(rb, [], [])


def test_same_city_id_in_two_provinces_asks_for_one(rb):
    ids: dict[str, list[str]] = {}
    for code, pv in rb.provinces.items():
        for cid in pv.cities:
            ids.setdefault(cid, []).append(code)
    shared = {cid: codes for cid, codes in ids.items() if len(codes) > 1}
    if not shared:
        pytest.skip("no city id is shared by two provinces in this rule base")
    cid, codes = sorted(shared.items())[0]
    with pytest.raises(RepatriateError, match="several provinces"):
        resolve_places(rb, [], [cid])
    assert resolve_places(rb, [codes[0]], [cid]) == [Location(codes[0], cid)]


# --- the report is the route search, place by place -----------------------------------------


def test_each_place_is_the_route_plan(rb, reports):
    """No second search: each place's routes are what `plan` returns for that place.

    (QFLP through its own pilot cities.)"""
    report = reports[1]
    assert [p.location.province for p in report.places] == ["CN-GD", "CN-HI", "CN-SH"]
    for place in report.places:
        direct = plan(
            make_profile(rb, province=place.location.province, **EQUITY), rb, as_of=TODAY, top=4, local_only=True
        )
        assert plan_to_dict(place.plan, rb) == plan_to_dict(direct, rb)
        assert place.best is (place.plan.routes[0] if place.plan.routes else None)


def test_report_holds_query_digest_and_every_source(rb, reports):
    report = reports[1]
    assert report.digest == rb.digest and report.as_of == TODAY and report.label == "Test client"
    assert report.query["asset_class"] == "equity" and len(report.query["places"]) == 3
    cited = {s for p in report.places for s in p.plan.sources}
    assert set(report.sources) == cited
    assert all(s in rb.sources for s in report.sources)


def test_schedule_ends_where_the_route_timeline_ends(reports):
    """The chart's critical path (pre-issuance ∥ set-up, then funds) matches the route's weeks."""
    for report in reports:
        for place in report.places:
            for route in place.plan.routes:
                sched = step_schedule(route)
                assert len(sched) == len(route.steps)
                assert max(t.end_min for t in sched) == pytest.approx(route.timeline[0], abs=0.11)
                assert max(t.end_max for t in sched) == pytest.approx(route.timeline[1], abs=0.11)
                setup_done = max((t.end_max for t in sched if t.phase != "funds"), default=0)
                assert all(t.start_max >= setup_done - 1e-9 for t in sched if t.phase == "funds")


def test_bad_profile_value_is_a_user_error(rb):
    with pytest.raises(RepatriateError, match="asset class"):
        compare(rb, profile_fields={**EQUITY, "asset_class": "bonds"}, provinces=["CN-GD"], cities=[])


# --- formats ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "md", "html", "json"])
def test_every_format_shows_query_digest_date_sources_and_notice(rb, reports, fmt):
    for report in reports:
        text = render(report, rb, fmt)
        if fmt == "html":
            import html as _html

            text = _html.unescape(text)
        assert report.digest[:16] in text and TODAY.isoformat() in text
        assert "Test client" in text
        for sid in report.sources:
            # issue 13: a client reads a source's title or document number, never its id
            cited = rb.sources[sid].doc_no or rb.sources[sid].title.en
            shown = text.replace("\\", "") if fmt == "md" else text  # Markdown escapes [ ] * _
            assert (sid in text) if fmt == "json" else (cited in " ".join(shown.split()))
        if fmt == "json":
            assert json.loads(text)["notice"] == NOTICE.en
        else:
            assert "Decision support, not legal advice" in " ".join(text.split())


def test_table_fits_100_columns(rb, reports):
    from rich.cells import cell_len  # a Chinese character takes two terminal cells

    zh = compare(rb, profile_fields=EQUITY, provinces=["CN-GD"], cities=[], as_of=TODAY, top=2)
    for report, lang in [*((r, "en") for r in reports), (zh, "zh")]:
        assert max(cell_len(line) for line in table_text(report, rb, lang, width=100).splitlines()) <= 100


def test_json_carries_the_route_contract_per_place(rb, reports):
    d = report_to_dict(reports[1], rb)
    assert d["schema_version"] == "1" and d["rulebase"]["digest"] == rb.digest and d["label"] == "Test client"
    assert [p["place"]["province"] for p in d["places"]] == ["CN-GD", "CN-HI", "CN-SH"]
    for p in d["places"]:
        assert {"query", "as_of", "rulebase", "routes", "excluded", "sources"} <= p["plan"].keys()
        assert p["best"]["channels"] == p["plan"]["routes"][0]["channels"]
        assert len(p["plan"]["routes"]) <= 4
        for r in p["plan"]["routes"]:
            assert len(r["schedule"]) == len(r["steps"])
    assert set(d["sources"]) == set(reports[1].sources)


def test_checklists_list_steps_and_exclusions_their_reasons(rb, reports):
    md = render_markdown(reports[4], rb)
    assert "Why the other channels were excluded" in md and md_cell(source_cite(rb, "neglist_2024", "en")) in md
    md = render_markdown(reports[0], rb)
    route = reports[0].places[0].plan.routes[0]
    for s in route.steps:
        assert md_cell(s.step.action.en) in md and md_cell(s.step.responsible.en) in md
    doc = rb.documents[route.steps[0].step.documents[0]].name
    assert md_cell(doc.en) in md and doc.zh in md  # documents are named in both languages


def test_chinese_report(rb):
    report = compare(rb, profile_fields=EQUITY, provinces=["CN-GD"], cities=[], as_of=TODAY, top=2)
    html = render_html(report, rb, "zh")
    assert NOTICE.zh in html and 'lang="zh-Hans"' in html
    assert "办理清单" in table_text(report, rb, "zh")


def _table_lines(md: str) -> list[list[str]]:
    """The Markdown tables of a document, each as its list of lines."""
    tables, current = [], []
    for line in md.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line.replace("\\\\", "")))


def test_markdown_tables_parse(rb, reports):
    """GitHub tables: every row has as many unescaped pipes as the header, and a delimiter row."""
    nasty = compare(
        rb,
        profile_fields=EQUITY,
        provinces=["CN-GD"],
        cities=[],
        as_of=TODAY,
        top=1,
        label="A | B \\| C <b>x</b>\nnew line",
    )
    for report in [*reports, nasty]:
        md = render_markdown(report, rb)
        tables = _table_lines(md)
        assert tables
        for table in tables:
            head = _unescaped_pipes(table[0])
            assert re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", table[1]), table[1]
            assert all(_unescaped_pipes(row) == head for row in table), table
    md = render_markdown(nasty, rb)
    assert "<b>" not in md and "&lt;b&gt;" in md


def test_gist_keeps_the_first_sentence():
    assert gist("First point. Second point.") == "First point."
    long = "word " * 40
    assert len(gist(long)) <= 71 and gist(long).endswith("…")


# --- golden -------------------------------------------------------------------------------


def _normalise(md: str, digest: str, as_of: str) -> str:
    return md.replace(digest, "<DIGEST>").replace(digest[:16], "<DIGEST>").replace(as_of, "<AS-OF>")


def test_golden_markdown_report(rb):
    """Golden snapshot of `compare --format md` for an equity renewable-energy asset in Shenzhen.

    Regenerate after a deliberate change with REPATRIATE_UPDATE_GOLDEN=1.
    """
    report = compare(
        rb,
        profile_fields=EQUITY,
        provinces=["CN-GD"],
        cities=["shenzhen"],
        as_of=TODAY,
        top=2,
        label="Golden client",
        prepared_on=TODAY,
    )
    got = _normalise(render_markdown(report, rb), report.digest, TODAY.isoformat())
    if os.environ.get("REPATRIATE_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(got, encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} is missing; run the tests with REPATRIATE_UPDATE_GOLDEN=1"
    assert got == GOLDEN.read_text(encoding="utf-8")
