"""Issue 13, items 5 and 6: the adviser's report is client-ready.

A first page an executive reads (a recommendation per place, prepared for/by/date, as-of,
digest, contents), places in the order given, and no internals (ids, variable names, counts
of unnamed questions, URLs printed twice, truncated or entity-mangled Markdown).
"""

from __future__ import annotations

import html as html_lib
import re

from conftest import TODAY
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.engine.compare import compare, resolve_places
from repatriate.engine.results import Location
from repatriate.render.report import render_html, render_markdown, report_view, table_text

EQUITY = {"asset_class": "equity", "sector": "renewable_energy", "amount": 5e7}
DEBT = {"asset_class": "debt", "amount": 5e6, "net_assets": 1e8, "term_months": 24}


def _report(rb, provinces=(), cities=(), fields=EQUITY, **kw):
    return compare(
        rb, profile_fields=fields, provinces=list(provinces), cities=list(cities), as_of=TODAY, top=2, **kw
    )


def _visible(html: str) -> str:
    """The text a reader sees: tags and the style sheet out, entities decoded."""
    html = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- item 5: structure ---------------------------------------------------------------------


def test_first_page_has_a_recommendation_per_place_prepared_for_by_date_and_contents(rb):
    report = _report(
        rb,
        ["CN-GD", "CN-SH"],
        prepared_for="Acme Holdings",
        prepared_by="Li & Partners",
        prepared_on="2026-12-01",
        label="Acme Solar",
    )
    html = render_html(report, rb)
    first = _visible(html.split('<section id="query">')[0])  # everything before the detail
    for needle in (
        "Acme Solar",
        "Prepared for Acme Holdings",
        "Prepared by Li & Partners",
        "Date 2026-12-01",
        f"Rules as of {TODAY.isoformat()}",
        report.digest[:16],
        "Contents",
    ):
        assert needle in first, needle
    for place in ("Guangdong", "Shanghai"):
        assert place in first
    assert first.count("Recommended route:") == 2 and first.count("Typical time:") == 2
    assert first.count("Capacity:") == 2 and first.count("Key risk:") == 2
    # the detail follows the first page
    assert html.index('id="summary"') < html.index('id="query"') < html.index('id="place-1"')


def test_typical_time_is_the_typical_range_with_the_untimed_steps_said(rb):
    """Issue 11: the headline is the typical range (data/typical.yaml, else limits, else assumed by
    kind); the statutory figure follows, and untimed steps are said, never counted as zero."""
    view = report_view(_report(rb, ["CN-SH"]), rb)
    best = view["places"][0]["routes"][0]
    assert best["unknown_steps"] > 0
    summary = " ".join(view["places"][0]["summary"])
    lo, hi = best["typical_raw"]
    assert lo > 0 and f"Typical time: {lo:g}–{hi:g} weeks" in summary
    assert f"with {best['unknown_steps']} step(s) untimed" in summary


def test_places_appear_in_the_order_given(rb):
    got = resolve_places(rb, ["CN-SH", "CN-GD", "CN-HI"], ["shenzhen"])
    # Guangdong was given second: its city stands in its place, not after Hainan
    assert got == [Location("CN-SH", None), Location("CN-GD", "shenzhen"), Location("CN-HI", None)]
    names = [p["name"] for p in report_view(_report(rb, ["CN-HI", "CN-GD"]), rb)["places"]]
    assert names[0].startswith("Hainan") and names[1].startswith("Guangdong")


def test_province_cn_sh_and_city_shanghai_are_labelled_alike(rb):
    by_province = report_view(_report(rb, ["CN-SH"]), rb)["places"][0]["name"]
    by_city = report_view(_report(rb, [], ["shanghai"]), rb)["places"][0]["name"]
    assert by_province == by_city == "Shanghai"


def test_cli_prepared_for_and_by():
    res = CliRunner().invoke(
        app,
        [
            "compare",
            "--asset-class",
            "equity",
            "--amount",
            "50000000",
            "--province",
            "CN-SH",
            "--prepared-for",
            "Acme",
            "--prepared-by",
            "Li & Partners",
            "--format",
            "md",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "**Prepared for:** Acme" in res.stdout and "**Prepared by:** Li & Partners" in res.stdout


# --- item 6: no internals ------------------------------------------------------------------


def test_sources_are_cited_by_title_or_document_number_not_by_id(rb):
    report = _report(rb, ["CN-GD", "CN-SH"])
    seen = _visible(render_html(report, rb))
    md = render_markdown(report, rb)
    for sid in report.sources:
        src = rb.sources[sid]
        assert not re.search(rf"(?<![\w-]){re.escape(sid)}(?![\w-])", seen), sid
        assert not re.search(rf"`{re.escape(sid)}`", md), sid
        assert src.title.en.split()[0] in seen
        if src.doc_no:
            assert src.doc_no in seen


def test_capacity_parameters_are_named_in_words_with_values_and_dates(rb):
    report = _report(rb, ["CN-SH"], fields=DEBT)
    md = render_markdown(report, rb)
    zh = render_markdown(report, rb, "zh")
    assert (
        "macro_prudential_parameter" not in md and "short_term=" not in md and "foreign_currency=" not in md
    )
    assert re.search(r"Macro-prudential adjustment parameter[^;]* \d+(\.\d+)? \(from \d{4}-\d{2}-\d{2}\)", md)
    assert "weighed as medium/long-term debt" in md
    assert "企业跨境融资宏观审慎调节参数" in zh and "按中长期外债计" in zh


def test_open_questions_are_listed_not_counted(rb):
    report = _report(rb, ["CN-SH"])
    view = report_view(report, rb)
    questions = view["places"][0]["routes"][0]["open_questions"]
    assert questions and all(isinstance(q, str) and len(q) > 20 for q in questions)
    for text in (render_markdown(report, rb), _visible(render_html(report, rb)), table_text(report, rb)):
        assert "open question(s)" not in text
    assert questions[0] in _visible(render_html(report, rb))


def test_urls_are_printed_once_in_print(rb):
    report = _report(rb, ["CN-GD"])
    html = render_html(report, rb)
    css = html.split("<style>")[1].split("</style>")[0]
    # no generated copy of an address after its link in print
    assert not re.search(r"::?after\s*\{[^}]*attr\(href\)", css)
    seen = _visible(html)
    urls = [rb.sources[sid].url for sid in report.sources if (rb.sources[sid].url or "").startswith("http")]
    for url in urls:
        assert seen.count(url) == urls.count(url), url  # once per source that has it


def test_markdown_keeps_whole_warnings_and_plain_ampersands(rb):
    report = _report(rb, ["CN-GD", "CN-SH"], label="Li & Partners <x>")
    md = render_markdown(report, rb)
    assert "# Li & Partners &lt;x&gt;" in md and "&amp;" not in md.split("\n", 1)[0]
    view = report_view(report, rb)
    for place in view["places"]:
        for r in place["routes"]:
            for w in r["key_warnings"]:
                assert " ".join(md_text_words(w)) in " ".join(md.split()), w[:60]


def md_text_words(text: str) -> list[str]:
    from repatriate.render.escape import md_escape

    return md_escape(text).split()


def test_an_entity_in_data_stays_text_in_markdown():
    from repatriate.render.escape import md_escape

    assert md_escape("A & B") == "A & B"
    assert md_escape("&lt;script&gt;") == "&amp;lt;script&amp;gt;"
    assert md_escape("&#60;b&#62;") == "&amp;#60;b&amp;#62;"


def test_json_carries_prepared_and_the_summary(rb):
    import json

    from repatriate.render.report import render_json

    d = json.loads(
        render_json(
            _report(rb, ["CN-SH"], prepared_for="Acme", prepared_by="Li", prepared_on="2026-12-01"), rb
        )
    )
    assert d["prepared"] == {"for": "Acme", "by": "Li", "on": "2026-12-01"}
    assert d["summary"][0]["place"] == "Shanghai" and d["summary"][0]["recommendation"][0].startswith(
        "Recommended"
    )


def test_gantt_draws_typical_bars_with_statutory_marks(rb):
    """Issue 11: the HTML Gantt draws each step's typical weeks (HK attestation included), the
    statutory or stated limit as a mark, and a step assumed from its kind dashed (N~)."""
    report = _report(rb, ["CN-GD"])
    place = report.places[0]
    typical = place.typical[0]
    view = report_view(report, rb)["places"][0]["routes"][0]["timeline"]
    assert len(view["bars"]) == len(typical.steps)
    assert any("China-Appointed Attesting Officer" in b["title"] for b in view["bars"])
    assert any(b["limit_x"] is not None and "(≤" in b["weeks"] for b in view["bars"])
    assert any(not b["known"] and b["weeks"].endswith("~") for b in view["bars"])
    page = render_html(report, rb)
    assert 'class="limit"' in page and 'class="unknown"' in page


def test_compare_shows_net_yield_and_cost_when_a_yield_is_given(rb):
    """Issue 11: compare reports show the net yield and the cost in money beside the weeks."""
    report = _report(rb, ["CN-GD"], fields={**EQUITY, "yield_pct": "6"})
    money = [m for m in report.places[0].money if m is not None]
    assert money and all(m.bps_per_year >= 0 for m in money)
    md = render_markdown(report, rb)
    assert "Net yield · cost" in md and "% net ·" in md and "bps/yr" in md
    assert "Net yield · cost" not in render_markdown(_report(rb, ["CN-GD"]), rb)  # no yield: no row
