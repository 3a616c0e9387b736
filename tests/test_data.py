"""The rule base itself: integrity, sourcing, dated values, places, and a golden case per QFLP city."""

import datetime as dt
from pathlib import Path

import pytest
import yaml

from repatriate.engine.search import qflp_cities
from repatriate.rulebase import loader
from repatriate.rulebase.records import value_at

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden" / "qflp_cities.yaml").read_text(encoding="utf-8"))


def test_referential_integrity():
    assert loader.validate() == []


def test_every_fact_has_a_source(rb):
    missing = []
    for cid, ch in rb.channels.items():
        for st in ch.steps:
            # the QFLP qualification step cites the pilot city's measures at search time
            if not st.sources and st.id != "qflp_pilot_qualification":
                missing.append(f"{cid}:{st.id}")
        missing += [f"{cid}:{r.id}" for r in ch.rules if not r.sources and r.verified]
    for pre in rb.prerequisites:
        missing += [f"{pre.id}:{s.id}" for s in pre.steps if not s.sources]
        missing += [f"{pre.id}:{r.id}" for r in pre.rules if not r.sources]
    for code, pv in rb.provinces.items():
        for cid, city in pv.cities.items():
            missing += [f"{code}:{cid}:{v.from_}" for v in city.qflp if not v.sources or not v.value.documents]
            missing += [f"{code}:{cid}:note" for n in city.notes if not n.sources]
        missing += [f"{code}:fx:{p.id}" for p in pv.fx_pilots if not p.sources]
        missing += [f"{code}:note" for n in pv.notes if not n.sources]
    for sid, sec in rb.sectors.items():
        missing += [f"sector:{sid}:{v.from_}" for v in sec.negative_list if not v.sources]
    for pid, par in rb.parameters.items():
        missing += [f"parameter:{pid}:{v.from_}" for v in par.values if not v.sources]
    missing += [
        f"document:{d}" for d, doc in rb.documents.items() if not doc.sources and not d.startswith("qflp_pilot")
    ]
    assert not missing


def test_every_source_is_complete(rb):
    for sid, s in rb.sources.items():
        assert s.title.en and s.title.zh, sid
        assert s.issuer, sid


def _series(rb):
    for code, pv in rb.provinces.items():
        for cid, city in pv.cities.items():
            yield f"{code}:{cid}:qflp", city.qflp
    for sid, sec in rb.sectors.items():
        yield f"sector:{sid}", sec.negative_list
    for pid, par in rb.parameters.items():
        yield f"parameter:{pid}", par.values


def test_dated_values_never_overlap(rb):
    for name, values in _series(rb):
        spans = sorted(values, key=lambda v: v.from_)
        for a, b in zip(spans, spans[1:]):
            assert a.to is not None and a.to <= b.from_, name


def test_documents_are_catalogued_once(rb):
    names = [d.name.en.casefold() for d in rb.documents.values()]
    assert len(names) == len(set(names))


def test_provinces_without_pilot_say_so(rb):
    assert len(rb.provinces) == 31
    for code, pv in rb.provinces.items():
        if not pv.local_pilots:
            assert "national rules apply" in pv.summary.en, code


def test_every_qflp_city_has_a_golden_case(rb):
    cities = {(p, c) for p, c, _ in qflp_cities(rb, dt.date(2026, 11, 25))}
    covered = {(g["province"], g["city"]) for g in GOLDEN}
    assert cities <= covered, cities - covered


@pytest.mark.parametrize("case", GOLDEN, ids=lambda g: f"{g['city']}@{g['as_of']}")
def test_qflp_city_golden(rb, case):
    city = rb.provinces[case["province"]].cities[case["city"]]
    dated = value_at(city.qflp, case["as_of"])
    assert dated is not None
    terms = dated.value
    source = rb.sources[case["source"]]
    assert case["source"] in terms.documents + dated.sources
    if "doc_no" in case:
        assert source.doc_no == case["doc_no"]
    if "title_zh" in case:
        assert source.title.zh == case["title_zh"]
    if "fund_min" in case:
        if case["fund_min"] is None:
            assert terms.fund_min_size is None
        else:
            assert (terms.fund_min_size.amount, terms.fund_min_size.currency) == tuple(case["fund_min"])
    if "quota" in case:
        assert terms.quota_regime == case["quota"]
    if "weeks_max" in case:
        assert terms.processing_weeks.max == case["weeks_max"]
    assert sorted(terms.excluded_sectors) == sorted(case.get("excluded_sectors", []))
    assert sorted(terms.excluded_holder_types) == sorted(case.get("excluded_holder_types", []))
