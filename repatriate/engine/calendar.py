"""Dates: a route's typical critical path from ``--start``, its payout dates and the recurring
obligations after the money arrives (``repatriate calendar``).

Working-day limits skip weekends, China's public holidays and the adjusted working days, read
from the maintained ``chinese_calendar`` package (imported only here, only when dates are
asked for). Beyond the years it knows, weekends only are skipped and the result says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..rulebase.records import Obligation, RuleBase, Text, _Record, record
from .money import _add_months, frequency, leg_of
from .profile import Profile
from .results import Route
from .timeline import TypicalSchedule


@record
class WorkdayCalendar(_Record):
    """Which days are working days; ``known`` false once a day falls beyond the package's years."""

    first_year: int
    last_year: int


_CAL: list[WorkdayCalendar] = []


def workdays() -> WorkdayCalendar:
    """The years the holiday package covers (imports it on first use)."""
    if not _CAL:
        import chinese_calendar.constants as c

        years = [d.year for d in c.holidays]
        _CAL.append(WorkdayCalendar(min(years), max(years)))
    return _CAL[0]


def is_workday(day: dt.date) -> tuple[bool, bool]:
    """``(working day?, from the holiday calendar?)``: beyond its years, Monday to Friday."""
    cal = workdays()
    if cal.first_year <= day.year <= cal.last_year:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(day)), True
    return day.weekday() < 5, False


def add_workdays(day: dt.date, n: int) -> tuple[dt.date, bool]:
    """The ``n``-th working day after ``day``, and whether every day counted was in the calendar."""
    known = True
    d = day
    left = n
    while left > 0:
        d += dt.timedelta(days=1)
        work, k = is_workday(d)
        known &= k
        if work:
            left -= 1
    return d, known


def last_workdays(year: int, month: int, n: int) -> tuple[dt.date, dt.date, bool]:
    """The first and last of the ``n`` last working days of a month, and whether they are known."""
    d = _add_months(dt.date(year, month, 1), 1) - dt.timedelta(days=1)
    days: list[dt.date] = []
    known = True
    while len(days) < n:
        work, k = is_workday(d)
        known &= k
        if work:
            days.append(d)
        d -= dt.timedelta(days=1)
    return days[-1], days[0], known


@record(kw_only=True)
class StepDates(_Record):
    """When one step of the typical critical path starts and ends (earliest and latest)."""

    id: str
    basis: str
    start_earliest: dt.date
    end_earliest: dt.date
    start_latest: dt.date
    end_latest: dt.date
    # a statutory limit counted in working days (weeks x 5) from the latest start, if any
    statutory_by: dt.date | None = None


@record(kw_only=True)
class RouteDates(_Record):
    """A route's dates from ``start``: every step, the funds' arrival, the payouts."""

    start: dt.date
    steps: tuple[StepDates, ...]
    funds_earliest: dt.date
    funds_latest: dt.date
    payouts: tuple[dt.date, ...]
    holidays_known: bool


def _weeks(start: dt.date, w: float) -> dt.date:
    return start + dt.timedelta(days=round(w * 7))


def route_dates(
    rb: RuleBase, profile: Profile, route: Route, typical: TypicalSchedule, start: dt.date
) -> RouteDates:
    """Calendar dates of the typical critical path from ``start`` and the payout dates after it.

    Dividend legs wait for the audit season: the first payout falls in the leg's
    ``audit_season_month`` of the year after the funds arrive, then once a year.
    """
    out = []
    known = True
    for s, t in zip(typical.steps, typical.timings):
        by = None
        if s.basis == "statutory" and s.max > 0:
            by, k = add_workdays(_weeks(start, t.start_max), round(s.max * 5))
            known &= k
        out.append(
            StepDates(
                id=s.id,
                basis=s.basis,
                start_earliest=_weeks(start, t.start_min),
                end_earliest=_weeks(start, t.end_min),
                start_latest=_weeks(start, t.start_max),
                end_latest=_weeks(start, t.end_max),
                statutory_by=by,
            )
        )
    steps = tuple(out)
    early, late = _weeks(start, typical.weeks.min), _weeks(start, typical.weeks.max)
    payouts = payout_dates(rb, profile, route, late)
    known &= workdays().first_year <= start.year and late.year <= workdays().last_year
    return RouteDates(
        start=start,
        steps=steps,
        funds_earliest=early,
        funds_latest=late,
        payouts=payouts,
        holidays_known=known,
    )


def payout_dates(rb: RuleBase, profile: Profile, route: Route, funds: dt.date) -> tuple[dt.date, ...]:
    """Payout dates over the term from the funds' (latest) arrival."""
    found = leg_of(rb, route)
    if found is None:
        return ()
    _, leg = found
    term = profile.term_months or 12
    end = _add_months(funds, term)
    per_year = rb.payout.frequencies.get(frequency(rb, profile), 1)
    if per_year == 0:
        return (end,)
    if leg.audit_season_month is not None:
        # the first distribution after the first audited year-end, then yearly (practice)
        first = dt.date(
            funds.year + 1, leg.audit_season_month, 30 if leg.audit_season_month in (4, 6, 9, 11) else 31
        )
        out = []
        d = first
        while d <= end:
            out.append(d)
            d = dt.date(d.year + 1, d.month, d.day)
        return tuple(out) or (end,)
    step = 12 // per_year
    out = []
    n = 1
    while True:
        d = _add_months(funds, step * n)
        if d > end:
            break
        out.append(d)
        n += 1
    return tuple(out)


@record(kw_only=True)
class Event(_Record):
    """One dated duty (``date`` None: on an event, e.g. any change of the loan's terms)."""

    id: str
    name: Text
    date: dt.date | None
    window_start: dt.date | None
    sources: tuple[str, ...]
    verified: bool
    calendar_known: bool = True
    note: str | None = None


def obligations(rb: RuleBase, profile: Profile, route: Route, dates: RouteDates) -> tuple[Event, ...]:
    """Every recurring duty of a route from the funds' arrival to the end of the term, by date."""
    funds = dates.funds_latest
    end = _add_months(funds, profile.term_months or 12)
    out: list[Event] = []

    def add(ob: Obligation, day: dt.date | None, window: dt.date | None = None, known: bool = True) -> None:
        out.append(
            Event(
                id=ob.id,
                name=ob.name,
                date=day,
                window_start=window,
                sources=ob.sources,
                verified=ob.verified,
                calendar_known=known,
                note=ob.note,
            )
        )

    for ob in rb.payout.obligations:
        if ob.channels and not set(route.channels) & set(ob.channels):
            continue  # a duty of a channel the route does not take (any hop: the cash pool's too)
        if ob.asset_classes and profile.asset_class not in ob.asset_classes:
            continue
        if ob.when == "yearly" and ob.month and ob.day:
            for year in range(funds.year + 1, end.year + 1):
                add(ob, dt.date(year, ob.month, ob.day), dt.date(year, 1, 1))
        elif ob.when == "drawdown":
            day, known = add_workdays(funds, ob.working_days or 0)
            add(ob, day, funds, known)
        elif ob.when == "semiannual":
            for year in range(funds.year, end.year + 1):
                for month in (1, 7):
                    if dt.date(year, month, 1) <= funds or dt.date(year, month, 1) > end:
                        continue
                    lo, hi, known = last_workdays(year, month, ob.working_days or 1)
                    add(ob, hi, lo, known)
        elif ob.when == "payout":
            for p in dates.payouts:
                add(ob, p + dt.timedelta(days=ob.days or 0), p)
        elif ob.when == "change":
            add(ob, None)
    return tuple(sorted(out, key=lambda e: (e.date or dt.date.max, e.id)))


def to_ics(events: Sequence[Event], lang: str, title: str) -> bytes:
    """An iCalendar file of the dated events (all-day), through the ``icalendar`` package."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//repatriate//obligations calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    for i, e in enumerate(events):
        if e.date is None:
            continue
        ev = icalendar.Event()
        ev.add("uid", f"{e.id}-{e.date.isoformat()}-{i}@repatriate")
        ev.add("summary", e.name.get(lang))
        ev.add("dtstart", e.date)
        ev.add("dtend", e.date + dt.timedelta(days=1))
        ev.add("dtstamp", dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        desc = [f"sources: {', '.join(e.sources) or '-'}"]
        if not e.verified:
            desc.append("UNVERIFIED" + (f": {e.note}" if e.note else ""))
        if not e.calendar_known:
            desc.append("beyond the holiday calendar's years: weekends only skipped")
        ev.add("description", "\n".join(desc))
        cal.add_component(ev)
    return cal.to_ical()


def event_rows(events: Sequence[Event], lang: str) -> list[dict[str, Any]]:
    """The events as flat rows (CSV / JSON)."""
    return [
        {
            "date": None if e.date is None else e.date.isoformat(),
            "window_start": None if e.window_start is None else e.window_start.isoformat(),
            "id": e.id,
            "name": e.name.get(lang),
            "verified": e.verified,
            "calendar_known": e.calendar_known,
            "sources": list(e.sources),
            "note": e.note,
        }
        for e in events
    ]
