"""Hypothesis over the profile space: no crash, deterministic, well-formed routes and exclusions."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repatriate.engine.profile import make_profile
from repatriate.engine.search import plan
from repatriate.errors import RepatriateError
from repatriate.render.route import plan_to_dict
from repatriate.rulebase.models import ASSET_CLASSES, HOLDER_TYPES

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def profiles(rb):
    return st.fixed_dictionaries(
        {
            "asset_class": st.sampled_from(ASSET_CLASSES),
            "sector": st.sampled_from(sorted(rb.sectors)),
            "province": st.sampled_from(sorted(rb.provinces)),
            "amount": st.floats(min_value=1, max_value=1e11),
            "currency": st.sampled_from(["USD", "CNY", "HKD", "CNH"]),
            "holder_type": st.sampled_from(HOLDER_TYPES),
            "net_assets": st.none() | st.floats(min_value=0, max_value=1e12),
            "term_months": st.none() | st.integers(min_value=1, max_value=360),
            "spv_owner": st.sampled_from(["group", "third_party"]),
        }
    )


DATES = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2027, 12, 31))


def test_profile_space(rb):
    @SETTINGS
    @given(fields=profiles(rb), day=DATES, optimize=st.sampled_from(["balanced", "speed", "cost", "certainty"]))
    def check(fields, day, optimize):
        prof = make_profile(rb, **fields)
        p = plan(prof, rb, as_of=day, optimize=optimize)
        again = plan(prof, rb, as_of=day, optimize=optimize)
        assert plan_to_dict(p, rb) == plan_to_dict(again, rb)
        assert [r.rank for r in p.routes] == list(range(1, len(p.routes) + 1))
        assert all(a.score >= b.score for a, b in zip(p.routes, p.routes[1:]))
        if p.routes:
            assert any(r.pareto for r in p.routes)
        for r in p.routes:
            assert r.path[0] == "hk_issuer_spv" and r.path[-1] == "asset_holder"
            assert 0 <= r.timeline[0] <= r.timeline[1]
            assert 0 < r.certainty <= 1
            assert all(s.sources or s.step.id == "qflp_pilot_qualification" for s in r.steps)
            assert r.capacity is None or prof.amount <= r.capacity + 1e-6
        for e in p.excluded:
            assert e.reasons and all(f.text.en and f.text.zh for f in e.reasons)
        assert set(p.sources) <= set(rb.sources)

    check()


def test_arbitrary_text_never_crashes(rb):
    @SETTINGS
    @given(
        st.dictionaries(
            st.sampled_from(
                [
                    "asset_class",
                    "sector",
                    "province",
                    "city",
                    "amount",
                    "currency",
                    "holder_type",
                    "net_assets",
                    "term_months",
                ]
            ),
            st.text(max_size=12),
        )
    )
    def check(fields):
        try:
            make_profile(rb, **fields)
        except RepatriateError as exc:
            assert "\n" not in str(exc)

    check()
