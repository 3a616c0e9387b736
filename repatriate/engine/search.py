"""Route search: enumerate channel paths and locations, check each against the rules, rank.

The search never prints; it returns a ``Plan`` that the renderers turn into text.
"""

from __future__ import annotations

import datetime as dt

from ..errors import RepatriateError
from ..rulebase.records import RuleBase
from . import memo
from .closed import closed_exclusion
from .evaluate import evaluate_route, no_local_pilot, prerequisites
from .graph import channel_paths
from .memo import clear_caches
from .places import locations, qflp_cities
from .profile import Profile
from .rank import rank
from .results import Exclusion, Finding, Location, Plan, Route, RouteStep

OBJECTIVES = ("balanced", "speed", "cost", "certainty")

__all__ = [
    "OBJECTIVES",
    "Exclusion",
    "Finding",
    "Location",
    "Plan",
    "Route",
    "RouteStep",
    "clear_caches",
    "plan",
    "qflp_cities",
]


def plan(
    profile: Profile,
    rb: RuleBase,
    *,
    as_of: dt.date | None = None,
    optimize: str = "balanced",
    top: int | None = None,
    local_only: bool = False,
) -> Plan:
    """Find, check and rank every route for one asset.

    Parameters
    ----------
    profile : Profile
        A normalised profile (see ``make_profile``).
    rb : RuleBase
    as_of : date, optional
        The rules in force on this date; today when omitted.
    optimize : {'balanced', 'speed', 'cost', 'certainty'}
    top : int, optional
        Keep only the best ``top`` feasible routes (exclusions are always all kept).
    local_only : bool
        Offer QFLP only through pilot cities of the asset's own place (its city, or its
        province's cities when no city is given): for comparing places side by side.

    Raises
    ------
    RepatriateError
        For an unknown objective or a non-positive ``top``.
    """
    if optimize not in OBJECTIVES:
        raise RepatriateError.choice("objective", optimize, OBJECTIVES)
    if top is not None and top < 1:
        raise RepatriateError(f"top {top} must be 1 or more", field="top", value=top, accepted=("1 or more",))
    day = as_of or dt.date.today()
    key = (rb.digest, profile.key(), day, optimize, top, local_only)
    hit: Plan | None = memo.PLANS.get(key)
    if hit is not None:  # a plan is an immutable record: the same answer for the same question
        return hit
    return memo.PLANS.put(key, _plan(profile, rb, day, optimize, top, local_only))


def _plan(profile: Profile, rb: RuleBase, day: dt.date, optimize: str, top: int | None, local_only: bool) -> Plan:
    routes: list[Route] = []
    excluded: list[Exclusion] = []
    pre = prerequisites(rb, profile, day)
    for channels in channel_paths(rb, day):
        # issue 10: closed routes, the same for every profile (plus the reasons closing every path)
        closed = closed_exclusion(rb, channels, day, tuple(pre.reasons))
        if closed is not None:
            excluded.append(closed)
            continue
        places = locations(rb, profile, channels, day, local_only)
        if not places:
            excluded.append(no_local_pilot(rb, profile, channels, day))
        for location in places:
            result = evaluate_route(rb, profile, channels, location, day, pre)
            if isinstance(result, Route):
                routes.append(result)
            else:
                excluded.append(result)
    costs = None
    if optimize == "cost" and profile.yield_pct is not None:  # money, not paperwork (issue 11)
        from .money import assess

        # a route with no payout leg modelled has no money cost: it ranks last on cost, never first
        costs = [m.bps_per_year if m.leg else None for m in (assess(rb, profile, r, day) for r in routes)]
    ranked = rank(routes, rb.scoring, optimize, profile, costs)
    total = len(ranked)
    if top is not None:
        ranked = ranked[:top]
    excluded.sort(key=lambda e: (e.channels, e.location.sort_key()))
    cited: dict[str, None] = {}
    for r in ranked:
        for s in r.steps:
            cited.update(dict.fromkeys(s.sources))
        for f in (*r.warnings, *r.notes):
            cited.update(dict.fromkeys(f.sources))
        for d in r.documents:
            cited.update(dict.fromkeys(rb.documents[d.id].sources))
    for e in excluded:
        for f in e.reasons:
            cited.update(dict.fromkeys(f.sources))
    return Plan(
        profile, day, optimize, rb.digest, tuple(ranked), tuple(excluded), total, tuple(sorted(cited))
    )
