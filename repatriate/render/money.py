"""The money-and-time keys of a route in the JSON contract (issue 11): ``payout``, ``taxes``,
``cost``, ``net_yield_to_holders``, ``paperwork_index``, ``timeline_weeks.typical`` and ``dates``.

Built from ``engine.money``, ``engine.timeline.typical_schedule`` and (with ``--start``)
``engine.calendar``; the calendar module, and its holiday package, load only then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..engine.money import Money, assess, leg_of
from ..engine.profile import Profile
from ..engine.results import Finding, Route
from ..engine.timeline import TypicalSchedule, typical_schedule
from ..rulebase.records import RuleBase, Text
from .labels import MONEY, label


def _bi(t: Text | None) -> dict[str, str] | None:
    return None if t is None else {"en": t.en, "zh": t.zh}


def _finding(f: Finding, lang: str) -> dict[str, Any]:
    return {"rule": f.rule, "text": f.text.get(lang), "sources": list(f.sources), "verified": f.verified}


def typical_text(t: TypicalSchedule, lang: str) -> str:
    """'12–20 weeks typical' (with how many steps are assumed from their kind)."""
    lo, hi = t.weeks
    span = f"{lo:g}" if lo == hi else f"{lo:g}–{hi:g}"
    text = label(MONEY, lang, "typical", span=span)
    return text + (label(MONEY, lang, "assumed", count=t.assumed_steps) if t.assumed_steps else "")


def _redemption(rb: RuleBase, lid: str | None, lang: str) -> dict[str, Any] | None:
    """The leg that returns the principal (a capital reduction), with its creditor window in days."""
    if lid is None:
        return None
    leg = rb.payout.legs[lid]
    return {
        "leg": lid,
        "name": _bi(leg.name),
        "creditor_days": None if leg.creditor_days is None else dict(leg.creditor_days),
        "steps": _steps(leg, lang),
        "sources": list(leg.sources),
    }


def _steps(leg: Any, lang: str) -> list[dict[str, Any]]:
    """A payout leg's steps, as both the payout view and the route's money keys give them."""
    return [
        {
            "id": s.id,
            "action": _bi(s.action),
            "authority": s.authority.get(lang),
            "sources": list(s.sources),
            "verified": s.verified,
        }
        for s in leg.steps
    ]


def money_keys(rb: RuleBase, profile: Profile, r: Route, day: dt.date, lang: str) -> dict[str, Any]:
    """The issue-11 keys of one route (added beside the existing ones; none removed)."""
    m: Money = assess(rb, profile, r, day)
    t = typical_schedule(rb, r.channels, r.steps)
    found = leg_of(rb, r)
    leg = None if found is None else found[1]
    out: dict[str, Any] = {
        "payout": None
        if leg is None
        else {
            "leg": m.leg,
            "name": _bi(leg.name),
            "frequency": m.frequency,
            "frequencies_served": list(leg.frequencies),
            "steps": _steps(leg, lang),
            "sources": list(leg.sources),
            "verified": leg.verified,
            "redemption": _redemption(rb, leg.redemption, lang),
            "warnings": [_finding(f, lang) for f in m.warnings],
            "notes": [_finding(f, lang) for f in m.notes],
        },
        "taxes": [
            {
                "id": x.id,
                "name": x.name.get(lang),
                "rate": x.rate,
                "unit": x.unit,
                "applied": x.applied,
                "condition": None if x.condition is None else x.condition.get(lang),
                "valid_to": None if x.valid_to is None else (x.valid_to - dt.timedelta(days=1)).isoformat(),
                "sources": list(x.sources),
                "verified": x.verified,
            }
            for x in m.taxes
        ],
        "cost": {
            "one_off_bps": m.one_off_bps,
            "recurring_bps_per_year": m.recurring_bps_per_year,
            "bps_per_year": m.bps_per_year,
            "total_over_term": m.total_over_term,
            "currency": profile.currency,
            "items": [
                {
                    "id": c.id,
                    "bps": c.bps,
                    "recurring": c.recurring,
                    "borne_by": c.borne_by,
                    "sources": list(c.sources),
                    "verified": c.verified,
                }
                for c in m.items
            ],
        },
        "net_yield_to_holders": m.net_yield_to_holders,
        "paperwork_index": r.cost_index,
        "typical": {
            "min": t.weeks.min,
            "max": t.weeks.max,
            "assumed_steps": t.assumed_steps,
            "text": typical_text(t, lang),
            "steps": [
                {
                    "id": s.id,
                    "min": s.min,
                    "max": s.max,
                    "basis": s.basis,
                    "extra": s.extra,
                    "sources": list(s.sources),
                }
                for s in t.steps
            ],
        },
    }
    if profile.start is not None:
        from ..engine.calendar import route_dates

        d = route_dates(rb, profile, r, t, profile.start)
        out["dates"] = {
            "start": d.start.isoformat(),
            "funds_earliest": d.funds_earliest.isoformat(),
            "funds_latest": d.funds_latest.isoformat(),
            "payouts": [p.isoformat() for p in d.payouts],
            "holidays_known": d.holidays_known,
            "steps": [
                {
                    "id": s.id,
                    "basis": s.basis,
                    "start_earliest": s.start_earliest.isoformat(),
                    "end_latest": s.end_latest.isoformat(),
                    "statutory_by": None if s.statutory_by is None else s.statutory_by.isoformat(),
                }
                for s in d.steps
            ],
        }
    return out


def cited_sources(keys: Any) -> list[str]:
    """Every source id under a ``sources`` key in ``money_keys``' output, in order."""
    out: list[str] = []
    if isinstance(keys, dict):
        for k, v in keys.items():
            if k == "sources" and isinstance(v, list):
                out += [s for s in v if isinstance(s, str)]
            else:
                out += cited_sources(v)
    elif isinstance(keys, list):
        for v in keys:
            out += cited_sources(v)
    return out


def write_calendar(plan: Any, rb: RuleBase, rank: int, kind: str, lang: str) -> bytes:
    """The obligations calendar of the ``rank``-th route of ``plan`` as ICS, CSV or JSON bytes."""
    from ..engine.calendar import event_rows, obligations, route_dates, to_ics
    from ..errors import RepatriateError

    if not 1 <= rank <= len(plan.routes):
        raise RepatriateError(
            f"rank {rank} is out of range (accepted: 1 to {len(plan.routes)})", field="rank", value=rank
        )
    r = plan.routes[rank - 1]
    profile = plan.profile
    t = typical_schedule(rb, r.channels, r.steps)
    dates = route_dates(rb, profile, r, t, profile.start)
    events = obligations(rb, profile, r, dates)
    if kind == "ics":
        title = f"repatriate: {'+'.join(r.channels)} {r.location.city or r.location.province}"
        return to_ics(events, lang, title)
    rows = event_rows(events, lang)
    if kind == "csv":
        import csv
        import io

        from ..files import safe_cell

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        cols = ["date", "window_start", "id", "name", "verified", "calendar_known", "sources", "note"]
        w.writerow(cols)
        for row in rows:
            w.writerow([safe_cell("; ".join(row[c]) if c == "sources" else row[c]) for c in cols])
        return buf.getvalue().encode("utf-8")
    import json

    doc = {
        "route": {"channels": list(r.channels), "location": r.location.as_dict(), "rank": r.rank},
        "start": profile.start.isoformat(),
        "funds_latest": dates.funds_latest.isoformat(),
        "holidays_known": dates.holidays_known,
        "events": rows,
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
