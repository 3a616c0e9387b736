"""Split a large amount across channels (issue 12): a mixed-integer program over the routes' capacities.

Reading order: ``candidates`` (the legs a split may use: the search at the amount, and one at a
nominal amount for routes only their capacity excludes), ``solve`` (the program), ``allocate``
(both, and the answer as plain records for the renderers).

The program, in fractions ``u`` of the requested amount ``A`` (one per leg) and binaries ``y``:

    maximise   Σ u  (the share placed), then at that share
    minimise   Σ unit cost · u  +  Σ (set-up + lateness) · y
    subject to u ≤ (capacity / A) · y             a leg carries nothing unless used, at most its capacity
               Σ u ≤ 1                            never more than the amount
               Σ u · A / capacity ≤ 1, per group  legs sharing one capacity of the borrower
               Σ y ≤ max_channels

The set-up cost makes it mixed-integer (a relaxation would open every leg a little); HiGHS
solves it by branch and bound, after its relaxation when that is not already integral. A leg
used at all may also have a minimum (u ≥ (minimum / A) y). Capacities, shared groups, caps,
minimums and weights are data (the channels' ``capacity``, ``data/allocation.yaml``); this
module does the arithmetic.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, NamedTuple

from ..rulebase.conditions import Facts, evaluate, matches
from ..rulebase.records import RuleBase, Text, value_at
from .profile import Profile
from .results import Location, Route

_EPS = 1e-7


class Limit(NamedTuple):
    """One finite cap on a leg: the channel's own capacity, or a cap of data/allocation.yaml."""

    id: str
    name: Text
    value: float
    sources: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Leg:
    """A candidate leg: one route (the best-ranked location of its channels) and its limits."""

    route: Route
    capacity: float | None  # the smallest limit; None: no capacity in the rule base (bounded by the amount)
    limits: tuple[Limit, ...]
    unit_cost: float  # bps per year (with --yield) or the paperwork index
    cost_basis: str  # "bps_per_year" or "paperwork_index"
    cost_known: bool
    weeks: float  # typical weeks, longest
    weeks_min: float  # typical weeks, shortest
    feasible_at_amount: bool  # the route is feasible for the whole amount too (its checklist is exact)
    minimum: Limit | None = None  # used at all, the leg carries at least this (a pilot city's term)

    def limit(self, lid: str) -> float | None:
        return next((x.value for x in self.limits if x.id == lid), None)


@dataclasses.dataclass(frozen=True)
class Group:
    """Legs that share one capacity: Σ amount / (that limit on the leg) ≤ 1 over its legs.

    ``limit`` is the id of the limit each member reads: ``capacity`` for a channel and for a group
    of data/allocation.yaml (one cap of the borrower), a cap's own id for a shared cap.
    """

    id: str
    name: Text
    legs: tuple[int, ...]
    limit: str
    sources: tuple[str, ...]


class Candidates(NamedTuple):
    """What a split may use, and what it may not (with the reason, for the answer)."""

    legs: list[Leg]
    unsized: list[dict[str, Any]]  # legs a cap leaves at nothing, or that a missing input leaves unsized
    excluded: list[dict[str, Any]]  # routes excluded for reasons other than their capacity
    warnings: list[dict[str, Any]]


def _cap_limits(
    rb: RuleBase, r: Route, facts: Facts, inputs: dict[str, float | None], warnings: list[dict[str, Any]]
) -> tuple[list[Limit], list[str]]:
    """The split-only caps of data/allocation.yaml on a route: computed ones, and ids of those not computable."""
    out: list[Limit] = []
    unknown: list[str] = []
    for cap in rb.allocation.caps:
        if not set(cap.channels) & set(r.channels) or not matches(cap.when, facts):
            continue
        missing = [n for n in cap.inputs if inputs.get(n) is None]
        if missing:  # the cap binds but cannot be computed: the leg is not sized, so not used
            warnings.append({"code": "cap_needs_input", "cap": cap.id, "inputs": missing, "channels": list(r.channels)})
            unknown.append(cap.id)
            continue
        names = {**{p: (v.value if (v := value_at(par.values, facts["as_of"])) else None)
                    for p, par in rb.parameters.items() if p in cap.formula}, **inputs}
        out.append(Limit(cap.id, cap.name, max(0.0, float(evaluate(cap.formula, names))), tuple(cap.sources)))
    return out, unknown


def candidates(
    rb: RuleBase, profile: Profile, day: dt.date, listed_market_cap: float | None
) -> Candidates:
    """Every route a split may use: feasible for the amount, or excluded for its capacity only."""
    from .closed import is_closed
    from .evaluate import facts_for
    from .money import assess
    from .search import plan
    from .timeline import typical_schedule

    full = plan(profile, rb, as_of=day)
    feasible = {(r.channels, r.location) for r in full.routes}
    over_only = {
        (e.channels, e.location)
        for e in full.excluded
        if e.reasons and all(f.rule.endswith("_over_capacity") for f in e.reasons)
    }
    # a route its capacity alone excludes at the amount may still carry part of it: searched again at
    # a nominal amount (only then; no rule but capacities reads the amount downwards)
    nominal = plan(dataclasses.replace(profile, amount=1.0), rb, as_of=day).routes if over_only else ()
    facts = facts_for(rb, profile, Location(), day)  # the profile and the sector on the day
    inputs = {
        "listed_market_cap": listed_market_cap,
        "net_assets": profile.net_assets,
        "foreign_share_max": facts["foreign_share_max"],
    }
    seen: set[tuple[str, ...]] = set()
    legs: list[Leg] = []
    unsized: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    with_money = profile.yield_pct is not None
    # each channel combination at its best location: ranked for the whole amount where it carries it
    # (a pilot city whose minimum a nominal amount misses stays in), else ranked at a nominal amount
    # among the locations its capacity alone excludes
    best = [*full.routes, *(r for r in nominal if (r.channels, r.location) in over_only)]
    for r in best:
        key = (r.channels, r.location)
        if r.channels in seen:
            continue
        seen.add(r.channels)
        if r.capacity_unknown:
            warnings.append({"code": "capacity_unknown", "channels": list(r.channels)})
            unsized.append(_unsized(r, ["capacity_unknown"]))
            continue
        unmet = [f.rule for f in r.warnings if f.kind == "condition"]
        if unmet:  # "possible if": money is not planned through a route that may not exist
            warnings.append({"code": "eligibility_unknown", "channels": list(r.channels), "rules": unmet})
            unsized.append(_unsized(r, ["eligibility_unknown"]))
            continue
        limits: list[Limit] = []
        if r.capacity is not None:
            text = r.capacity_text or next(
                own.description for c in r.channels if (own := rb.channels[c].capacity) is not None
            )
            cited = tuple(s for c in r.channels if (cc := rb.channels[c].capacity) for s in cc.sources)
            limits.append(Limit("capacity", text, float(r.capacity), cited))
        caps, unknown = _cap_limits(rb, r, facts, inputs, warnings)
        limits += caps
        capacity = min((x.value for x in limits), default=None)
        if unknown or (capacity is not None and capacity <= 0):
            unsized.append(_unsized(r, unknown or [x.id for x in limits if x.value <= 0]))
            continue
        minimum = _minimum(rb, profile, r, day, warnings)
        if minimum is not None and min(capacity or profile.amount, profile.amount) < minimum.value:
            unsized.append(_unsized(r, [minimum.id]))  # it cannot carry its own minimum
            continue
        cost, known, basis = float(r.cost_index), True, "paperwork_index"
        if with_money:
            m = assess(rb, profile, r, day)
            basis = "bps_per_year"
            known = m.leg is not None
            cost = float(m.bps_per_year) if known else 0.0
        span = typical_schedule(rb, r.channels, r.steps).weeks
        legs.append(
            Leg(r, capacity, tuple(limits), cost, basis, known, span.max, span.min, key in feasible, minimum)
        )
    if with_money:  # a leg with no payout leg modelled costs more than any known one (ranks last)
        top = max((lg.unit_cost for lg in legs if lg.cost_known), default=0.0)
        legs = [lg if lg.cost_known else dataclasses.replace(lg, unit_cost=top + 1.0) for lg in legs]
    # routes shut for other reasons (a prohibited sector, the wrong currency...): named, with their rules
    excluded: dict[tuple[str, ...], dict[str, dict[str, Any]]] = {}
    for e in full.excluded:
        if e.channels in seen or any(is_closed(rb.channels[c]) for c in e.channels if c in rb.channels):
            continue  # closed routes are never a leg; route and compare list them
        reasons = excluded.setdefault(e.channels, {})
        for f in e.reasons:  # the same reason at every location once
            reasons.setdefault(f.rule, {"rule": f.rule, "text": _text(f.text), "sources": list(f.sources)})
    return Candidates(
        legs,
        unsized,
        [
            {"channels": list(c), "rules": list(reasons), "reasons": list(reasons.values())}
            for c, reasons in excluded.items()
        ],
        warnings,
    )


def _minimum(
    rb: RuleBase, profile: Profile, r: Route, day: dt.date, warnings: list[dict[str, Any]]
) -> Limit | None:
    """The largest minimum of data/allocation.yaml on the route: its pilot city's term, in the amount's currency."""
    from .places import city_terms

    if r.location.city is None:
        return None
    out: Limit | None = None
    for m in rb.allocation.minimums:
        if not set(m.channels) & set(r.channels):
            continue
        terms = city_terms(rb, r.location, day)
        money = getattr(terms.value, m.term)
        if money is None or money.amount <= 0:
            continue
        if money.currency != profile.currency:  # no exchange rates in the rule base: said, not applied
            warnings.append(
                {
                    "code": "minimum_other_currency",
                    "minimum": m.id,
                    "value": money.amount,
                    "currency": money.currency,
                    "channels": list(r.channels),
                }
            )
            continue
        if out is None or money.amount > out.value:
            out = Limit(m.id, m.name, float(money.amount), tuple(dict.fromkeys([*m.sources, *terms.sources])))
    return out


def _unsized(r: Route, why: list[str]) -> dict[str, Any]:
    return {"channels": list(r.channels), "location": r.location.as_dict(), "amount": 0.0, "binding": why}


def groups_of(rb: RuleBase, legs: list[Leg]) -> list[Group]:
    """Shared capacities: each capacity-bearing channel over its legs, each data group, each shared cap."""
    out: list[Group] = []
    sized = [i for i, lg in enumerate(legs) if lg.limit("capacity") is not None]
    for cid, ch in rb.channels.items():
        if ch.capacity is None:
            continue
        members = tuple(i for i in sized if cid in legs[i].route.channels)
        if len(members) > 1:
            out.append(Group(cid, ch.name, members, "capacity", tuple(ch.capacity.sources)))
    for g in rb.allocation.groups:
        members = tuple(i for i in sized if set(g.channels) & set(legs[i].route.channels))
        if len(members) > 1:
            out.append(Group(g.id, g.name, members, "capacity", tuple(g.sources)))
    for cap in rb.allocation.caps:
        members = tuple(i for i, lg in enumerate(legs) if lg.limit(cap.id) is not None)
        if cap.shared and len(members) > 1:
            out.append(Group(cap.id, cap.name, members, cap.id, tuple(cap.sources)))
    return out


def _load(legs: list[Leg], g: Group, amounts: list[float] | tuple[float, ...]) -> float:
    return sum(amounts[i] / float(legs[i].limit(g.limit) or 1.0) for i in g.legs)


@dataclasses.dataclass(frozen=True)
class Solution:
    amounts: tuple[float, ...]
    used: tuple[bool, ...]
    status: str


def _silent_highs() -> Any:
    """A HiGHS instance; its banner (printed by the C++ constructor on stdout) kept off our output."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-9)
    return h


def solve(
    rb: RuleBase,
    legs: list[Leg],
    groups: list[Group],
    amount: float,
    max_channels: int,
    late_weeks: list[float],
) -> Solution:
    """The mixed-integer program of the module docstring, solved by HiGHS (highspy, branch and bound).

    highspy is the HiGHS project's own binding, the solver scipy.optimize.milp wraps, at a fifth
    of scipy's import time (issue 12: allocate cold within 1.5x route cold).
    """
    import highspy
    import numpy as np

    n = len(legs)
    if n == 0:
        return Solution((), (), "no_candidates")
    w = rb.allocation.weights
    per_unit = (
        w["cost_per_bps"] if any(lg.cost_basis == "bps_per_year" for lg in legs) else w["cost_per_index"]
    )
    cost = np.zeros(2 * n)
    for i, lg in enumerate(legs):
        cost[i] = per_unit * lg.unit_cost
        cost[n + i] = w["setup_per_index"] * lg.route.cost_index + w["late_per_week"] * late_weeks[i]
    inf = highspy.kHighsInf
    h = _silent_highs()
    h.addVars(2 * n, np.zeros(2 * n), np.ones(2 * n))
    every = np.arange(2 * n, dtype=np.int32)

    def run() -> None:
        """Solve the program: its relaxation first, and branch and bound only when that is not integral.

        An optimum of the relaxation whose y are all 0 or 1 is feasible for the mixed-integer
        program, so optimal for it too (exact); it spares HiGHS's branch and bound, whose set-up
        (~5 ms) is most of a small split's time, where one leg carries all or legs run to their caps.
        """
        h.changeColsIntegrality(n, every[n:], np.array([highspy.HighsVarType.kContinuous] * n))
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            y = h.getSolution().col_value[n:]
            if all(abs(v - round(v)) <= 1e-9 for v in y):
                return
        h.changeColsIntegrality(n, every[n:], np.array([highspy.HighsVarType.kInteger] * n))
        h.run()

    def row(lower: float, upper: float, coeffs: dict[int, float]) -> None:
        idx = np.array(list(coeffs), dtype=np.int32)
        h.addRow(lower, upper, len(idx), idx, np.array(list(coeffs.values()), dtype=float))

    for i, lg in enumerate(legs):  # u_i <= (capacity / A) y_i
        row(
            -inf,
            0.0,
            {i: 1.0, n + i: -min(1.0, (lg.capacity if lg.capacity is not None else amount) / amount)},
        )
    for i, lg in enumerate(legs):  # used at all, u_i >= (minimum / A) y_i (semi-continuous)
        if lg.minimum is not None:
            row(0.0, inf, {i: 1.0, n + i: -lg.minimum.value / amount})
    row(-inf, 1.0, {i: 1.0 for i in range(n)})
    row(-inf, float(max_channels), {n + i: 1.0 for i in range(n)})
    for g in groups:
        row(-inf, 1.0, {i: amount / float(legs[i].limit(g.limit) or 1.0) for i in g.legs})
    # lexicographic, so no weight need dwarf the costs: first the most that can be placed, then
    # the cheapest way to place it (a big-M weight would hide cost differences in the MIP gap)
    if _one_leg_carries_all(legs, amount):
        best = 1.0  # the first stage's answer without solving it: one leg alone places the amount
    else:
        h.changeColsCost(2 * n, every, np.r_[-np.ones(n), np.zeros(n)])
        run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return Solution((0.0,) * n, (False,) * n, h.modelStatusToString(h.getModelStatus()))
        best = min(1.0, -float(h.getInfo().objective_function_value))
    row(best - 1e-9, inf, {i: 1.0 for i in range(n)})
    h.changeColsCost(2 * n, every, cost)
    run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return Solution((0.0,) * n, (False,) * n, h.modelStatusToString(status))
    x = list(h.getSolution().col_value)
    amounts = []
    for i, lg in enumerate(legs):
        a = max(0.0, float(x[i]) * amount)
        if lg.capacity is not None:
            a = min(a, lg.capacity)  # solver tolerance never shows a leg over its capacity
        amounts.append(a if x[n + i] > 0.5 and a > amount * 1e-9 else 0.0)
    # shared groups within their capacity after rounding (scale a group's legs down by the tolerance)
    for g in groups:
        load = _load(legs, g, amounts)
        if load > 1.0:
            for i in g.legs:
                amounts[i] /= load
    total = sum(amounts)
    if total > amount:
        amounts = [a * amount / total for a in amounts]
    _top_up(legs, groups, amounts, best * amount)
    return Solution(tuple(amounts), tuple(a > 0 for a in amounts), "optimal")


def _one_leg_carries_all(legs: list[Leg], amount: float) -> bool:
    """Whether one leg alone can carry the whole amount (its every limit and its minimum allow it).

    A shared capacity loads a lone leg by amount / its own limit, within 1 exactly when the limit
    is; so the most that can be placed is the whole amount, and the first stage need not run.
    """
    return any(
        all(x.value >= amount for x in lg.limits) and (lg.minimum is None or lg.minimum.value <= amount)
        for lg in legs
    )


def _top_up(legs: list[Leg], groups: list[Group], amounts: list[float], target: float) -> None:
    """Close the solver's tolerance gap (a fraction of a unit) on a used leg with room to spare."""
    gap = target - sum(amounts)
    if gap <= 0 or gap > max(1.0, target * 1e-6):
        return
    for i, lg in enumerate(legs):
        if amounts[i] <= 0:
            continue
        room = gap if lg.capacity is None else min(gap, lg.capacity - amounts[i])
        for g in groups:
            if i in g.legs:
                room = min(room, max(0.0, (1.0 - _load(legs, g, amounts)) * float(lg.limit(g.limit) or 0.0)))
        if room > 0:
            amounts[i] += room
            gap -= room
        if gap <= 0:
            return


def allocate(
    rb: RuleBase,
    profile: Profile,
    day: dt.date,
    *,
    by: dt.date | None = None,
    max_channels: int = 3,
    listed_market_cap: float | None = None,
) -> dict[str, Any]:
    """The allocation of ``profile.amount`` over at most ``max_channels`` legs, as plain data."""
    cand = candidates(rb, profile, day, listed_market_cap)
    legs = cand.legs
    groups = groups_of(rb, legs)
    start = profile.start or day
    available = None if by is None else max(0.0, (by - start).days / 7.0)
    late = [0.0 if available is None else max(0.0, lg.weeks - available) for lg in legs]
    sol = solve(rb, legs, groups, profile.amount, max_channels, late)
    return _answer(rb.digest, profile, day, by, max_channels, cand, groups, sol, late, listed_market_cap)


def _binds(lg: Leg, a: float) -> list[str]:
    return [x.id for x in lg.limits if a >= x.value * (1 - 1e-6)]


def _answer(
    digest: str,
    profile: Profile,
    day: dt.date,
    by: dt.date | None,
    max_channels: int,
    cand: Candidates,
    groups: list[Group],
    sol: Solution,
    late: list[float],
    listed_market_cap: float | None,
) -> dict[str, Any]:
    legs = cand.legs
    amount = profile.amount
    placed = sum(sol.amounts)
    load = {g.id: _load(legs, g, sol.amounts) for g in groups}
    binding_groups = [g for g in groups if load[g.id] >= 1 - 1e-6]
    used = [i for i in range(len(legs)) if sol.used[i]]
    used.sort(key=lambda i: (legs[i].unit_cost, -sol.amounts[i]))
    out_legs: list[dict[str, Any]] = []
    for n, i in enumerate(used, 1):
        lg, a = legs[i], sol.amounts[i]
        r = lg.route
        binds = _binds(lg, a) + [g.id for g in binding_groups if i in g.legs and g.id not in _binds(lg, a)]
        out_legs.append(
            {
                "leg": n,
                "channels": list(r.channels),
                "location": r.location.as_dict(),
                "amount": round(a, 2),
                "share": round(a / amount, 6),
                "capacity": None if lg.capacity is None else round(lg.capacity, 2),
                "capacity_used": None if not lg.capacity else round(a / lg.capacity, 6),
                "limits": [{"id": x.id, "name": _text(x.name), "value": round(x.value, 2)} for x in lg.limits],
                "binds": binds,
                "minimum": None
                if lg.minimum is None
                else {"id": lg.minimum.id, "name": _text(lg.minimum.name), "value": round(lg.minimum.value, 2)},
                "cost": {"basis": lg.cost_basis, "per_year": round(lg.unit_cost, 4), "known": lg.cost_known},
                "cost_per_year": round(lg.unit_cost * a / 1e4, 2)
                if lg.cost_basis == "bps_per_year"
                else None,
                "weeks_typical_min": round(lg.weeks_min, 1),
                "weeks_typical_max": round(lg.weeks, 1),
                "weeks_past_by": round(late[i], 1),
                "checklist_exact": lg.feasible_at_amount,
            }
        )
    # why the cheaper legs stop: every candidate cheaper than the dearest used leg, and its limit
    dearest = max((legs[i].unit_cost for i in used), default=float("inf"))
    stops = []
    for i, lg in sorted(enumerate(legs), key=lambda t: t[1].unit_cost):
        if (i in used and not lg.limits) or (i not in used and lg.unit_cost >= dearest):
            continue
        a = sol.amounts[i]
        why = _binds(lg, a) + [g.id for g in binding_groups if i in g.legs and g.id not in _binds(lg, a)]
        if not why:
            if not sol.used[i] and sum(sol.used) >= max_channels:
                why = ["max_channels"]
            elif not sol.used[i]:
                why = ["set_up_cost"] if placed >= amount * (1 - 1e-9) else ["not_needed"]
            else:
                continue
        stops.append(
            {
                "channels": list(lg.route.channels),
                "location": lg.route.location.as_dict(),
                "amount": round(a, 2),
                "binding": why,
            }
        )
    stops += cand.unsized  # legs a cap leaves at nothing or an unknown leaves unsized
    binding: list[str] = []
    if placed < amount * (1 - 1e-6):
        named = {f"{'+'.join(leg['channels'])}:{b}" for leg in out_legs for b in leg["binds"]}
        named |= {f"{'+'.join(s['channels'])}:{b}" for s in cand.unsized for b in s["binding"]}
        tails = {n.rpartition(":")[2] for n in named}  # a shared cap named on its legs is not named again
        binding = sorted(named | {g.id for g in binding_groups if g.id not in tails})
        if sum(sol.used) >= max_channels and len(legs) > max_channels:
            binding.append("max_channels")
        if not legs:
            binding.append("no_route")
    money = [lg["cost_per_year"] for lg in out_legs if lg["cost_per_year"] is not None]
    sources = [s for g in groups for s in g.sources] + [s for i in used for x in legs[i].limits for s in x.sources]
    sources += [s for e in cand.excluded for r in e["reasons"] for s in r["sources"]]
    sources += [s for i in used if (mn := legs[i].minimum) is not None for s in mn.sources]
    return {
        "as_of": day.isoformat(),
        "rulebase_digest": digest,
        "query": {
            "asset_class": profile.asset_class,
            "sector": profile.sector,
            "province": profile.province,
            "city": profile.city,
            "holder_type": profile.holder_type,
            "net_assets": profile.net_assets,
        },
        "by": None if by is None else by.isoformat(),
        "currency": profile.currency,
        "amount": amount,
        "placed": round(placed, 2),
        "unplaced": round(max(0.0, amount - placed), 2),
        "max_channels": max_channels,
        "listed_market_cap": listed_market_cap,
        "solver": {"method": "mixed-integer program (HiGHS)", "status": sol.status, "candidates": len(legs)},
        "legs": out_legs,
        "groups": [
            {
                "id": g.id,
                "name": _text(g.name),
                "legs": [used.index(i) + 1 for i in g.legs if i in used],
                "load": round(load[g.id], 6),
                "binds": g in binding_groups,
                "sources": list(g.sources),
            }
            for g in groups
        ],
        "binding": binding,
        "stops": stops,
        "excluded": cand.excluded,
        "checklist": _checklist([legs[i].route for i in used]),
        # legs run in parallel (each its own channel's filings; shared steps once, in the checklist):
        # the split takes as long as its longest leg
        "timeline": [
            {
                "leg": n,
                "channels": list(legs[i].route.channels),
                "start_week": 0,
                "weeks_typical_min": round(legs[i].weeks_min, 1),
                "weeks_typical_max": round(legs[i].weeks, 1),
            }
            for n, i in enumerate(used, 1)
        ],
        "weeks_typical_max": round(max((legs[i].weeks for i in used), default=0.0), 1),
        "total_cost_per_year": round(sum(money), 2) if money else None,
        "total_cost_bps_per_year": round(sum(money) / placed * 1e4, 2) if money and placed else None,
        "warnings": _unique(cand.warnings),
        "sources": list(dict.fromkeys(sources)),
    }


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for w in items:
        seen.setdefault(repr(sorted(w.items())), w)
    return list(seen.values())


def _text(t: Text) -> dict[str, str]:
    return {"en": t.en, "zh": t.zh}


def _checklist(routes: list[Route]) -> list[dict[str, Any]]:
    """One checklist over the legs: a step several legs share (the same step id) appears once."""
    seen: dict[str, dict[str, Any]] = {}
    for n, r in enumerate(routes, 1):
        for s in r.steps:
            item = seen.get(s.step.id)
            if item is None:
                seen[s.step.id] = {
                    "id": s.step.id,
                    "channel": s.channel,
                    "phase": s.step.phase,
                    "action": _text(s.step.action),
                    "authority": _text(s.authority),
                    "legs": [n],
                }
            elif n not in item["legs"]:
                item["legs"].append(n)
    return list(seen.values())
