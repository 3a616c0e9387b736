"""Runtime records: typed, frozen, field-equal to the pydantic models, picklable; one clock."""

import datetime as dt
import pickle

import pytest
from conftest import routes_by_channel

from repatriate.rulebase import models, records
from repatriate.rulebase.records import RECORDS, DatedValue, Validity, value_at


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_record_fields_equal_the_model_fields(name):
    """A record carries exactly the fields of the model it is frozen from, no more, no less."""
    model = getattr(models, name)
    record = RECORDS[name]
    assert set(records.fields(record)) == set(model.model_fields)


def test_every_model_has_a_record():
    from pydantic import BaseModel

    modelled = {
        n
        for n, c in vars(models).items()
        if isinstance(c, type) and issubclass(c, BaseModel) and c.__module__ == models.__name__
    }
    assert modelled - {"Strict", "Sourced"} == set(RECORDS)


def test_records_are_frozen_slotted_and_round_trip_through_pickle(rb):
    assert isinstance(rb, records.RuleBase)
    with pytest.raises(AttributeError):
        rb.digest = "x"  # type: ignore[misc]
    assert not hasattr(rb.channels["fdi"], "__dict__")
    again = pickle.loads(pickle.dumps(rb, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == rb


def test_one_clock_from_inclusive_to_exclusive():
    v = Validity(dt.date(2020, 1, 1), dt.date(2021, 1, 1))
    assert not v.in_force(dt.date(2019, 12, 31))
    assert v.in_force(dt.date(2020, 1, 1)) and v.in_force(dt.date(2020, 12, 31))
    assert not v.in_force(dt.date(2021, 1, 1))
    assert Validity().in_force(dt.date(1900, 1, 1))
    series = [
        DatedValue(from_=dt.date(2020, 1, 1), to=dt.date(2021, 1, 1), value=1),
        DatedValue(from_=dt.date(2021, 1, 1), value=2),
    ]
    assert value_at(series, dt.date(2019, 6, 1)) is None
    assert value_at(series, dt.date(2020, 6, 1)).value == 1
    assert value_at(series, dt.date(2021, 1, 1)).value == 2


def _certainty(rb, route, channel_factor=1.0):
    sc = rb.scoring
    value = channel_factor
    for s in route.steps:
        value *= sc.certainty_by_kind.get(s.step.kind, 1.0)
    value *= sc.unverified_penalty**route.unverified
    value *= sc.warning_penalty ** sum(1 for w in route.warnings if w.kind == "warning")
    return round(value, 3)


def test_bug_certainty_factor_applied_before_it_starts(run, rb):
    """Bug (issue 8): search._certainty checked only ``to``, so FDI's certainty factor (0.9 from
    2020-01-01, the Foreign Investment Law) lowered FDI routes on 2018-06-01 too."""
    assert rb.channels["fdi"].certainty.from_ == dt.date(2020, 1, 1)
    old = run(as_of="2018-06-01", asset_class="equity", sector="manufacturing", province="CN-GD", amount=2e7)
    fdi = next(r for r in routes_by_channel(old, "fdi") if r.channels == ("fdi", "fie_direct"))
    assert fdi.certainty == _certainty(rb, fdi)
    new = run(asset_class="equity", sector="manufacturing", province="CN-GD", amount=2e7)
    fdi = next(r for r in routes_by_channel(new, "fdi") if r.channels == ("fdi", "fie_direct"))
    assert fdi.certainty == _certainty(rb, fdi, 0.9)
