"""Route comparison reports: plan one asset in one or more places and gather what a report shows.

Computing only, on the same ``plan`` as ``route``; ``report_render`` lays a ``Report`` out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..api import plan_route
from ..errors import RepatriateError
from ..rulebase.records import RuleBase
from .money import Money, assess
from .profile import Places, parse_date
from .results import Location, Plan, Route
from .timeline import StepTiming, TypicalSchedule, schedule, typical_schedule

__all__ = ["PlaceResult", "Report", "StepTiming", "compare", "resolve_places", "step_schedule"]

@dataclass(frozen=True)
class PlaceResult:
    """The plan of the asset as if it sat in one place, with each route's schedule."""

    location: Location
    plan: Plan
    schedules: tuple[tuple[StepTiming, ...], ...]
    typical: tuple[TypicalSchedule, ...] = ()  # each route's typical critical path (timeline.typical_schedule)
    money: tuple[Money | None, ...] = ()  # each route's cost and net yield, when a yield was given

    @property
    def best(self) -> Route | None:
        """The top-ranked feasible route in this place, or ``None`` when none is feasible."""
        return self.plan.routes[0] if self.plan.routes else None


@dataclass(frozen=True)
class Report:
    """Everything a comparison report shows, in no language; renderers lay it out in one."""

    label: str | None
    query: dict[str, Any]
    as_of: dt.date
    optimize: str
    top: int
    digest: str
    places: tuple[PlaceResult, ...]
    sources: tuple[str, ...] = field(default=())
    prepared_for: str | None = None
    prepared_by: str | None = None
    prepared_on: dt.date | None = None

    @property
    def across_places(self) -> bool:
        """True when the report compares the same asset in more than one place."""
        return len(self.places) > 1


def compare(
    rb: RuleBase,
    *,
    profile_fields: dict[str, Any],
    provinces: list[str],
    cities: list[str],
    as_of: str | dt.date | None = None,
    optimize: str = "balanced",
    top: int = 4,
    label: str | None = None,
    prepared_for: str | None = None,
    prepared_by: str | None = None,
    prepared_on: str | dt.date | None = None,
) -> Report:
    """Plan one asset in each requested place and gather a comparison report.

    Parameters
    ----------
    rb : RuleBase
    profile_fields : dict
        The profile without its place: ``asset_class, sector, amount, currency,
        holder_type, net_assets, term_months, spv_owner`` as a user would type them.
    provinces : list of str
        Provinces (code, English or Chinese name) where the asset may sit.
    cities : list of str
        Cities (pinyin id or name) where the asset may sit. A city's province is
        found in the rule base; with a single ``provinces`` entry a city without
        local rules is accepted there, as ``route`` accepts it.
    as_of : date or ISO string, optional
        Rules in force on that date; default today.
    optimize : {'balanced', 'speed', 'cost', 'certainty'}
    top : int
        How many routes to keep per place.
    label : str, optional
        The report's title (the client's or the asset's name).
    prepared_for, prepared_by : str, optional
        Who the report is for and who wrote it, printed on its first page.
    prepared_on : date or ISO string, optional
        The report's date on its first page; default today.

    Returns
    -------
    Report

    Raises
    ------
    RepatriateError
        For a bad profile value, an unknown or ambiguous place, or no place at all.

    Examples
    --------
    >>> from repatriate import load_rulebase
    >>> r = compare(load_rulebase(), profile_fields={"asset_class": "equity", "amount": 5e7},
    ...             provinces=["CN-GD", "CN-HI"], cities=[], as_of="2026-11-29")
    >>> [p.plan.routes[0].channels for p in r.places]
    [('fdi', 'fie_reinvestment'), ('fdi', 'fie_reinvestment')]
    """
    if "province" in profile_fields or "city" in profile_fields:
        raise RepatriateError(
            "give the place through provinces= and cities=, not profile_fields", field="profile_fields"
        )
    day = parse_date(as_of)
    places = resolve_places(rb, provinces, cities)
    results: list[PlaceResult] = []
    for loc in places:
        # The same library call as `route`: one search per place, never a second search.
        # Across places, each place's QFLP option is a fund in that place, so places compare.
        p = plan_route(
            rb, as_of=day, optimize=optimize, top=top, local_only=len(places) > 1,
            province=loc.province, city=loc.city, **profile_fields,
        )
        typical = tuple(typical_schedule(rb, r.channels, r.steps) for r in p.routes)
        money = tuple(
            assess(rb, p.profile, r, day) if p.profile.yield_pct is not None else None for r in p.routes
        )
        results.append(PlaceResult(loc, p, tuple(step_schedule(r) for r in p.routes), typical, money))
    first = results[0].plan
    query = {k: v for k, v in first.profile.model_dump().items() if k not in ("province", "city")}
    query["places"] = [loc.as_dict() for loc in places]
    query["optimize"] = first.optimize
    query["top"] = top
    cited = sorted({sid for r in results for sid in r.plan.sources})
    return Report(
        label, query, first.as_of, first.optimize, top, first.digest, tuple(results), tuple(cited),
        prepared_for=prepared_for, prepared_by=prepared_by,
        prepared_on=dt.date.today() if prepared_on is None else parse_date(prepared_on),
    )


def resolve_places(rb: RuleBase, provinces: list[str], cities: list[str]) -> list[Location]:
    """The distinct places to plan in, in the order given: provinces, then cities.

    A city becomes (its province, city); a province that contains one of the given
    cities is not repeated on its own, so ``--province CN-GD --city shenzhen`` is one place.

    Raises
    ------
    RepatriateError
        When no place is given, a province or city is unknown, or a city id is in
        several provinces and no given province picks one.
    """
    if not provinces and not cities:
        raise RepatriateError("missing place (required: at least one province or city)", field="province")
    places = Places(rb)
    codes = list(dict.fromkeys(places.province(p) for p in provinces))
    city_places = [_city_place(rb, places, c, codes) for c in cities]
    out: list[Location] = []
    for code in codes:
        # a province that holds given cities stands where it was given, as those cities
        inside = [loc for loc in city_places if loc.province == code]
        out += inside or [Location(code, None)]
    out += city_places
    return list(dict.fromkeys(out))


def _city_place(rb: RuleBase, places: Places, value: str, codes: list[str]) -> Location:
    found = []
    for code in sorted(rb.provinces):
        try:
            cid = places.city(code, value)
        except RepatriateError:
            continue
        if cid in rb.provinces[code].cities:
            found.append(Location(code, cid))
    if len(found) > 1:
        chosen = [loc for loc in found if loc.province in codes]
        if len(chosen) == 1:
            return chosen[0]
        options = ", ".join(f"{loc.province}" for loc in found)
        raise RepatriateError(
            f"city {value!r} is in several provinces ({options}); give the province to choose one",
            field="city", value=value, accepted=tuple(loc.province or "" for loc in found),
        )
    if found:
        return found[0]
    if len(codes) == 1:
        # A real city without local rules: provincial rules apply, as in `route`.
        return Location(codes[0], places.city(codes[0], value))
    known = sorted({cid for pv in rb.provinces.values() for cid in pv.cities})
    raise RepatriateError(
        f"unknown city {value!r} (accepted: a city with local rules: {', '.join(known)}; "
        "for another city give its one province)",
        field="city", value=value, accepted=known,
    )


def step_schedule(route: Route) -> tuple[StepTiming, ...]:
    """Place each step of a route on its timeline: the one schedule the route's weeks come from."""
    return schedule(route.steps).steps
