"""Sources you can stand behind (issue 9, item 10): tiers, refused domains, weak facts.

Run on the real data: every source carries a tier, no url sits on a refused domain, and
`data validate`, `sources --weak` and `data coverage` say so.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.engine.browse import TIERS, facts, tier_counts, weak_facts
from repatriate.render.route import source_line, source_to_dict
from repatriate.rulebase.loader import default_data_dir, refused_domain

runner = CliRunner()
DATA = default_data_dir()
REFUSED = yaml.safe_load((DATA / "refused_domains.yaml").read_text(encoding="utf-8"))


def _raw_sources() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in sorted((DATA / "sources").glob("*.yaml")):
        out.update(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def test_refused_domains_file_gives_a_reason_for_each_domain():
    assert REFUSED
    assert all(isinstance(d, str) and isinstance(r, str) and r.strip() for d, r in REFUSED.items())


def test_every_source_has_a_tier_and_no_kind(rb):
    raw = _raw_sources()
    assert set(raw) == set(rb.sources)
    for sid, entry in raw.items():
        assert entry.get("tier") in TIERS, sid
        assert "kind" not in entry, f"{sid}: the tier replaced kind"
    assert all(s.tier in TIERS for s in rb.sources.values())


def test_no_source_url_on_a_refused_domain(rb):
    for sid, s in rb.sources.items():
        if s.url is None:
            continue
        parts = urlsplit(s.url)
        assert parts.scheme in ("http", "https"), sid
        assert refused_domain(parts.hostname, REFUSED) is None, f"{sid}: {s.url}"


def test_official_tiers_are_not_marked_unofficial_copies(rb):
    for sid, s in rb.sources.items():
        assert not (s.unofficial_copy and s.tier in ("official", "official_reprint")), sid


def test_a_source_resting_only_on_a_listing_page_is_unverified(rb):
    """Issue 9: a fact that rests only on a commercial listing page is replaced or marked unverified."""
    listing = [sid for sid, s in rb.sources.items() if s.tier == "listing"]
    assert listing
    assert all(not rb.sources[sid].verified for sid in listing)


def test_checked_dates_are_the_sweep_date(rb):
    import datetime as dt

    checked = {s.checked for s in rb.sources.values()} - {None}
    assert checked == {dt.date(2026, 11, 29)}


@pytest.mark.parametrize(
    "url, expect",
    [
        ("https://m.001doc.com/doc/1.html", "refused domain 001doc.com"),
        ("http://www.yinheofiy.cn/beijing/2026/0302/2710.html", "refused domain yinheofiy.cn"),
        ("http://103.249.53.35/local/x.htm", "bare IP address"),
        ("ftp://www.safe.gov.cn/x", "only http(s) urls"),
        ("javascript:alert(1)", "only http(s) urls"),
    ],
)
def test_validate_refuses_an_overlay_source_on_a_refused_domain(tmp_path: Path, url, expect):
    folder = tmp_path / "overlay" / "sources"
    folder.mkdir(parents=True)
    source = {"title": {"en": "x", "zh": "x"}, "issuer": "x", "status": "unknown"}
    source.update(url=url, tier="listing")
    entry = {"bad_src": source}
    (folder / "extra.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
    res = runner.invoke(app, ["data", "validate", "--data-dir", str(tmp_path / "overlay")])
    assert res.exit_code == 2
    lines = [line for line in res.stderr.splitlines() if "bad_src" in line]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("sources/extra.yaml: bad_src.url: ") and expect in lines[0]


def test_validate_refuses_a_source_without_tier(tmp_path: Path):
    folder = tmp_path / "overlay" / "sources"
    folder.mkdir(parents=True)
    text = "bad_src: {title: {en: x, zh: x}, issuer: x, status: unknown}\n"
    (folder / "extra.yaml").write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["data", "validate", "--data-dir", str(tmp_path / "overlay")])
    assert res.exit_code == 2
    assert "sources/extra.yaml: bad_src.tier: Field required" in res.stderr


def test_validate_refuses_an_official_source_marked_as_unofficial_copy(tmp_path: Path):
    folder = tmp_path / "overlay" / "sources"
    folder.mkdir(parents=True)
    (folder / "extra.yaml").write_text(
        "bad_src: {title: {en: x, zh: x}, issuer: x, status: unknown,"
        " tier: official, unofficial_copy: true}\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["data", "validate", "--data-dir", str(tmp_path / "overlay")])
    assert res.exit_code == 2
    expect = "sources/extra.yaml: bad_src: Value error, unofficial_copy contradicts tier 'official'"
    assert expect in res.stderr


def test_the_shipped_rule_base_validates():
    res = runner.invoke(app, ["data", "validate"])
    assert res.exit_code == 0, res.stderr


LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)


@given(labels=st.lists(LABEL, min_size=1, max_size=3), domain=st.sampled_from(sorted(REFUSED)))
def test_every_subdomain_of_a_refused_domain_is_refused(labels, domain):
    assert refused_domain(".".join(labels + [domain]), REFUSED) == domain
    assert refused_domain(domain.upper(), REFUSED) == domain


@given(prefix=LABEL, domain=st.sampled_from(sorted(d for d in REFUSED if not d[0].isdigit())))
def test_a_domain_that_only_ends_like_a_refused_one_is_not_refused(prefix, domain):
    # "x001doc.com" is another site than "001doc.com"
    assert refused_domain(prefix + domain, REFUSED) is None


def test_sources_weak_lists_facts_whose_best_source_is_below_law_firm(rb):
    res = runner.invoke(app, ["sources", "--weak", "--format", "json"])
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows and all(r["best_tier"] in ("news", "listing") for r in rows)
    for r in rows:  # the best tier is the best of the fact's sources
        assert r["best_tier"] == min((rb.sources[s].tier for s in r["sources"]), key=TIERS.index)
    weak = {r["fact"] for r in rows}
    # the 2022-26 parameter rises are known from Xinhua reports only; Hainan's FT accounts from news
    assert "parameters.macro_prudential_parameter.values[2023-07-20]" in weak
    assert "provinces.CN-HI.fx_pilots[ft_account_hainan]" in weak
    # the 2020 negative list now rests on the Beijing government's text: its sector facts are not weak
    assert "sectors.news_media.negative_list[2020-07-23]" not in weak
    # facts that also cite an official reprint or a law firm are not
    strong = {where for where, srcs in facts(rb) if any(rb.sources[s].tier in TIERS[:3] for s in srcs)}
    assert not weak & strong
    table = runner.invoke(app, ["sources", "--weak"])
    assert table.exit_code == 0
    assert f"{len(rows)} fact(s) rest on news or listing pages only" in table.stdout


def test_sources_shows_the_tier(rb):
    res = runner.invoke(app, ["sources"])
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    assert len(lines) == len(rb.sources)
    assert any(line.startswith("safe_2019_quota [official]: ") for line in lines)
    listed = json.loads(runner.invoke(app, ["sources", "--format", "json"]).stdout)
    assert listed["fil_2019"]["tier"] == "law_firm"


def test_source_lines_say_how_the_text_was_read(rb):
    """An unofficial copy is still shown as such; an official reprint says so.

    A source without a link says what it rests on.
    """
    assert source_line(rb, "fil_regs_2019", "en").endswith("(unofficial copy)")
    assert "(official reprint)" in source_line(rb, "mofcom_2019_62", "en")
    assert "no link; known from: commercial listing page" in source_line(rb, "cq_qflp_2011", "en")
    assert "二手资料：新闻报道" in source_line(rb, "hlo_2022_cbn", "zh")
    d = source_to_dict(rb, "hlo_2022_cbn")
    assert d["kind"] == "secondary" and d["tier"] == "news" and d["published"] == d["date"] == "2022-01-06"
    assert source_to_dict(rb, "safe_2019_quota")["kind"] == "primary"


def test_coverage_counts_sources_and_facts_by_tier(rb):
    res = runner.invoke(app, ["data", "coverage", "--format", "json"])
    assert res.exit_code == 0
    tiers = json.loads(res.stdout)["tiers"]
    assert tiers == tier_counts(rb)
    assert list(tiers["sources"]) == list(TIERS)
    raw = _raw_sources()
    assert tiers["sources"] == {t: sum(1 for e in raw.values() if e["tier"] == t) for t in TIERS}
    assert sum(tiers["sources"].values()) == len(rb.sources)
    assert sum(tiers["facts_by_best_tier"].values()) == len(facts(rb))
    assert tiers["facts_by_best_tier"]["news"] + tiers["facts_by_best_tier"]["listing"] == len(weak_facts(rb))
    table = runner.invoke(app, ["data", "coverage"]).stdout
    assert "facts by best tier" in table and "official_reprint" in table
