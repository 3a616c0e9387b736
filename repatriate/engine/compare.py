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
from ..engine.profile import Places, parse_date
from ..render.route import grouped_exclusions
from ..engine.search import Location, Plan, Route

PHASES = ("pre_issuance", "setup", "funds")


@dataclass(frozen=True)
class StepTiming:
    """Where one step sits on a route's timeline, in weeks from the start.

    ``start_min``/``end_min`` place it when every step takes its shortest time,
    ``start_max``/``end_max`` when every step takes its longest; ``known`` is false
    for a step without a stated or statutory duration (drawn, but not counted).
    """

    number: int
    phase: str
    start_min: float
    end_min: float
    start_max: float
    end_max: float
    known: bool


@dataclass
class PlaceResult:
    """The plan of the asset as if it sat in one place."""

    location: Location
    plan: Plan
    exclusions: list[tuple[str, str, list[str], list[str]]]
    schedules: list[list[StepTiming]]

    @property
    def best(self) -> Route | None:
        """The top-ranked feasible route in this place, or ``None`` when none is feasible."""
        return self.plan.routes[0] if self.plan.routes else None


@dataclass
class Report:
    """Everything a comparison report shows; renderers only lay it out."""

    label: str | None
    query: dict[str, Any]
    as_of: dt.date
    optimize: str
    top: int
    lang: str
    digest: str
    places: list[PlaceResult]
    sources: list[str] = field(default_factory=list)

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
    lang: str = "en",
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
    lang : {'en', 'zh'}

    Returns
    -------
    Report

    Raises
    ------
    RepatriateError
        For a bad profile value, an unknown or ambiguous place, or no place at all.

    Examples
    --------
    >>> r = compare(load_rulebase(), profile_fields={"asset_class": "equity", "amount": 5e7},
    ...             provinces=["CN-GD", "CN-HI"], cities=[])
    >>> [p.best.channels for p in r.places]
    """
    if lang not in ("en", "zh"):
        raise RepatriateError(f"unknown language {lang!r} (accepted: en, zh)")
    if "province" in profile_fields or "city" in profile_fields:
        raise RepatriateError("give the place through provinces= and cities=, not profile_fields")
    day = parse_date(as_of)
    places = resolve_places(rb, provinces, cities)
    results: list[PlaceResult] = []
    for loc in places:
        # The same library call as `route`: one search per place, never a second search.
        # Across places, each place's QFLP option is a fund in that place, so places compare.
        p = plan_route(rb, as_of=day, optimize=optimize, top=top, local_only=len(places) > 1, province=loc.province, city=loc.city, **profile_fields)
        results.append(PlaceResult(loc, p, grouped_exclusions(p, rb, lang), [step_schedule(r) for r in p.routes]))
    first = results[0].plan
    query = {k: v for k, v in first.profile.model_dump().items() if k not in ("province", "city")}
    query["places"] = [loc.as_dict() for loc in places]
    query["optimize"] = first.optimize
    query["top"] = top
    cited = sorted({sid for r in results for sid in r.plan.sources})
    return Report(label, query, first.as_of, first.optimize, top, lang, first.digest, results, cited)


def resolve_places(rb: RuleBase, provinces: list[str], cities: list[str]) -> list[Location]:
    """The distinct places to plan in, in the order given.

    A city becomes (its province, city); a province that contains one of the given
    cities is not repeated on its own, so ``--province CN-GD --city shenzhen`` is one place.

    Raises
    ------
    RepatriateError
        When no place is given, a province or city is unknown, or a city id is in
        several provinces and no given province picks one.
    """
    if not provinces and not cities:
        raise RepatriateError("missing province (required: at least one --province or --city)")
    places = Places(rb)
    codes = list(dict.fromkeys(places.province(p) for p in provinces))
    city_places = [_city_place(rb, places, c, codes) for c in cities]
    covered = {loc.province for loc in city_places}
    out = [Location(code, None) for code in codes if code not in covered] + city_places
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
        raise RepatriateError(f"city {value!r} is in several provinces ({options}); add --province to choose one")
    if found:
        return found[0]
    if len(codes) == 1:
        # A real city without local rules: provincial rules apply, as in `route`.
        return Location(codes[0], places.city(codes[0], value))
    known = sorted({cid for pv in rb.provinces.values() for cid in pv.cities})
    raise RepatriateError(
        f"unknown city {value!r} (accepted: a city with local rules: {', '.join(known)}; "
        "for another city give its one --province)"
    )


def step_schedule(route: Route) -> list[StepTiming]:
    """Place each step of a route on its timeline (the same critical path as the route's weeks).

    Pre-issuance steps and the onshore vehicle's set-up run in parallel from week 0;
    moving the funds starts when both are done. Within a phase a step starts when the
    steps it comes ``after`` end. A step of unknown duration takes no time, as in the
    route's timeline, and is flagged so a chart can show it as open.
    """
    starts: dict[str, dict[int, float]] = {"min": {}, "max": {}}
    ends: dict[str, dict[int, float]] = {"min": {}, "max": {}}
    for attr in ("min", "max"):
        phase_end: dict[str, float] = {}
        for phase in PHASES:
            items = {s.step.id: i for i, s in enumerate(route.steps) if s.step.phase == phase}
            offset = max(phase_end.get("pre_issuance", 0.0), phase_end.get("setup", 0.0)) if phase == "funds" else 0.0

            def finish(sid: str) -> float:
                i = items[sid]
                if i not in ends[attr]:
                    s = route.steps[i]
                    start = max((finish(a) for a in s.step.after if a in items), default=offset)
                    starts[attr][i] = start
                    ends[attr][i] = start + (getattr(s.weeks, attr) if s.weeks else 0.0)
                return ends[attr][i]

            phase_end[phase] = max((finish(sid) for sid in items), default=offset)
    return [
        StepTiming(
            number=i + 1,
            phase=s.step.phase,
            start_min=round(starts["min"][i], 1),
            end_min=round(ends["min"][i], 1),
            start_max=round(starts["max"][i], 1),
            end_max=round(ends["max"][i], 1),
            known=s.weeks is not None,
        )
        for i, s in enumerate(route.steps)
    ]
