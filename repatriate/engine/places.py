"""Places a route can use: the QFLP pilot cities in force, a route's locations, FX pilots there.

Reads the rule base on a date; never ranks, never renders.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from ..rulebase.records import City, DatedValue, FxPilot, Place, Province, QflpTerms, RuleBase, Text, value_at
from .profile import Profile
from .results import Location


class PilotCity(NamedTuple):
    """A QFLP pilot city in force on a day, with the terms then in force."""

    province: str
    city: str
    terms: DatedValue[QflpTerms]


def qflp_cities(rb: RuleBase, day: dt.date) -> list[PilotCity]:
    """Every QFLP pilot city in force on ``day``, by province code then city id."""
    out = []
    for code in sorted(rb.provinces):
        for cid, city in sorted(rb.provinces[code].cities.items()):
            terms = value_at(city.qflp, day)
            if terms is not None:
                out.append(PilotCity(code, cid, terms))
    return out


def locations(
    rb: RuleBase, profile: Profile, channels: tuple[str, ...], day: dt.date, local_only: bool = False
) -> list[Location]:
    """Where the onshore vehicle of a channel path may sit.

    A path through a QFLP fund may sit in any pilot city (or, with ``local_only``, only in
    the asset's own place); other onshore vehicles sit where the asset is.
    """
    kinds = {rb.channels[c].location for c in channels}
    if "qflp_city" in kinds:
        cities = qflp_cities(rb, day)
        if local_only:
            cities = [c for c in cities if c.province == profile.province and profile.city in (None, c.city)]
        return [Location(c.province, c.city) for c in cities]
    if "asset" in kinds:
        return [Location(profile.province, profile.city)]
    return [Location()]


def province_of(rb: RuleBase, location: Location) -> Province | None:
    return rb.provinces.get(location.province or "")


def city_of(province: Province | None, location: Location) -> City | None:
    if province is None or location.city is None:
        return None
    return province.cities.get(location.city)


def city_terms(rb: RuleBase, location: Location, day: dt.date) -> DatedValue[QflpTerms]:
    """The QFLP terms of a pilot city location in force on ``day`` (the location came from them)."""
    terms = value_at(rb.provinces[location.province or ""].cities[location.city or ""].qflp, day)
    assert terms is not None, location  # locations() offers only cities with terms in force
    return terms


def fx_pilots(rb: RuleBase, location: Location, day: dt.date) -> list[FxPilot]:
    """The FX / foreign-debt facilitation pilots in force at a location on ``day``."""
    pv = province_of(rb, location)
    if pv is None:
        return []
    return [p for p in pv.fx_pilots if p.valid.in_force(day) and (p.city is None or p.city == location.city)]


def real_place(rb: RuleBase, province: str, city: str) -> Place | None:
    """The gazetteer's place of a city id under ``province`` (None for the rule base's own areas)."""
    return next((p for p in rb.places.places.get(province, ()) if p.id == city), None)


def city_label(rb: RuleBase, province: str, city: str) -> Text | str:
    """How a city without local rules is named in a finding: its official name with its id."""
    place = real_place(rb, province, city)
    return city if place is None else Text(en=f"{place.name_zh} ({city})", zh=place.name_zh)
