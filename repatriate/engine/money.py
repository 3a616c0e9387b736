"""Money on a route: the payout leg, the taxes on it, the cost and the net yield to holders.

Every rate comes from ``data/taxes.yaml`` (dated values, read with ``value_at``) and every
leg from ``data/payout.yaml``; this module only does the arithmetic. Amounts are in basis
points of the amount raised, per year, so routes compare whatever the currency.

The model, stated once: the onshore business earns the token's rate (``--yield``) before tax
on the amount raised. On an equity leg (dividends, QFLP distributions) that profit bears the
onshore EIT (25%, or a place's 15% when the enterprise qualifies), 10% of what is left goes to
the statutory reserve, and the dividend bears withholding. On an interest leg the borrower pays
the rate as interest, which bears withholding and VAT; interest over the thin-capitalisation
ratio costs the borrower EIT (borne onshore, not by holders). Withholding is shown at the
statutory rate; the Hong Kong arrangement's rates are shown beside it with their condition,
because a pass-through SPV probably fails the beneficial-owner test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..rulebase.records import DatedValue, PayoutLeg, RuleBase, TaxRate, Text, _Record, record, value_at
from .profile import Profile
from .results import Finding, Route

BPS = 10_000.0


@record(kw_only=True)
class TaxLine(_Record):
    """A tax on the leg: its rate on the day, the treaty alternative and its condition."""

    id: str
    name: Text
    rate: float | None
    unit: str
    applied: bool
    condition: Text | None = None
    valid_to: dt.date | None = None
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class CostItem(_Record):
    """One cost: basis points of the amount (per year when recurring), who bears it, its sources."""

    id: str
    bps: float
    recurring: bool
    borne_by: str  # "holders" or "onshore"
    sources: tuple[str, ...] = ()
    verified: bool = True


@record(kw_only=True)
class Money(_Record):
    """The money side of one route for one profile on one day."""

    leg: str | None
    frequency: str
    taxes: tuple[TaxLine, ...]
    items: tuple[CostItem, ...]
    one_off_bps: float
    recurring_bps_per_year: float
    bps_per_year: float
    total_over_term: float | None
    net_yield_to_holders: float | None
    warnings: tuple[Finding, ...]
    notes: tuple[Finding, ...]
    zone: str | None = None


def leg_of(rb: RuleBase, route: Route) -> tuple[str, PayoutLeg] | None:
    """The payout leg of a route: the one that takes its first onshore hop (the first channel with a leg;
    an offshore hop such as the intra-group transfer to the parent has none)."""
    for channel in route.channels:
        for lid, leg in rb.payout.legs.items():
            if channel in leg.channels:
                return lid, leg
    return None


def frequency(rb: RuleBase, profile: Profile) -> str:
    """The payout frequency asked for, or the asset class's default (``payout.yaml``)."""
    return profile.payout or rb.payout.defaults.get(profile.asset_class, "annual")


def _rate(rb: RuleBase, rid: str, day: dt.date) -> tuple[TaxRate, DatedValue[float] | None]:
    rate = rb.taxes.rates[rid]
    return rate, value_at(rate.values, day)


def _line(rb: RuleBase, rid: str, day: dt.date, applied: bool = True) -> TaxLine:
    rate, v = _rate(rb, rid, day)
    return TaxLine(
        id=rid,
        name=rate.name,
        rate=None if v is None else float(v.value),
        unit=rate.unit,
        applied=applied and v is not None,
        condition=rate.condition,
        valid_to=None if v is None else v.to,
        sources=() if v is None else v.sources,
        verified=True if v is None else v.verified,
        note=None if v is None else v.note,
    )


def zone_at(rb: RuleBase, route: Route, day: dt.date) -> tuple[str, DatedValue[float]] | None:
    """The preferential-EIT zone at the route's place in force on ``day``: the lowest rate, then the
    first in ``taxes.yaml`` (Shenzhen: Qianhai before Hetao)."""
    loc = route.location
    found = []
    for n, (zid, zone) in enumerate(rb.taxes.zones.items()):
        if zone.province != loc.province or (zone.city is not None and zone.city != loc.city):
            continue
        v = value_at(zone.values, day)
        if v is not None:
            found.append((float(v.value), n, zid, v))
    if not found:
        return None
    _, _, zid, v = min(found, key=lambda f: (f[0], f[1]))  # the lowest rate, then data order
    return zid, v


def assess(rb: RuleBase, profile: Profile, route: Route, day: dt.date) -> Money:
    """The payout leg, taxes, cost and net yield of ``route`` for ``profile`` on ``day``."""
    freq = frequency(rb, profile)
    msg = rb.payout.messages
    found = leg_of(rb, route)
    warnings: list[Finding] = []
    notes: list[Finding] = []
    if found is None:
        return Money(
            leg=None,
            frequency=freq,
            taxes=(),
            items=(),
            one_off_bps=0.0,
            recurring_bps_per_year=0.0,
            bps_per_year=0.0,
            total_over_term=None,
            net_yield_to_holders=None,
            warnings=(),
            notes=(),
        )
    lid, leg = found
    if freq not in leg.frequencies and leg.frequency_warning is not None:
        warnings.append(
            Finding("payout_frequency", leg.frequency_warning, leg.frequency_sources, leg.verified)
        )
    y_bps = None if profile.yield_pct is None else profile.yield_pct * 100.0
    taxes: list[TaxLine] = []
    items: list[CostItem] = []
    zone_id: str | None = None

    def item(
        iid: str, bps: float, line: TaxLine | None, *, recurring: bool = True, onshore: bool = False
    ) -> None:
        items.append(
            CostItem(
                id=iid,
                bps=round(bps, 4),
                recurring=recurring,
                borne_by="onshore" if onshore else "holders",
                sources=line.sources if line else (),
                verified=line.verified if line else True,
            )
        )

    if leg.onshore_cit:
        cit = _line(rb, "cit_standard", day)
        zone = zone_at(rb, route, day)
        if zone is not None:
            zone_id, zv = zone
            z = rb.taxes.zones[zone_id]
            if profile.preferential_eit:
                cit = TaxLine(
                    id=f"cit_zone_{zone_id}",
                    name=z.name,
                    rate=float(zv.value),
                    unit="percent",
                    applied=True,
                    condition=z.conditions,
                    valid_to=zv.to,
                    sources=zv.sources,
                    verified=zv.verified,
                    note=zv.note,
                )
                if not zv.verified:
                    warnings.append(
                        Finding(
                            "eit_zone_unverified",
                            msg["eit_zone_unverified"].fill(
                                rate=f"{zv.value:g}", zone=z.name, note=zv.note or ""
                            ),
                            zv.sources,
                            False,
                        )
                    )
                if zv.to is not None and profile.term_months is not None:
                    end = _add_months(day, profile.term_months)
                    if end > zv.to:
                        warnings.append(
                            Finding(
                                "eit_zone_expires",
                                msg["eit_zone_expires"].fill(
                                    rate=f"{zv.value:g}",
                                    zone=z.name,
                                    last=zv.to - dt.timedelta(days=1),
                                    end=end,
                                ),
                                zv.sources,
                                zv.verified,
                            )
                        )
            else:
                notes.append(
                    Finding(
                        "eit_zone_available",
                        msg["eit_zone_available"].fill(
                            rate=f"{zv.value:g}", zone=z.name, conditions=z.conditions
                        ),
                        zv.sources,
                        zv.verified,
                        "note",
                    )
                )
        taxes.append(cit)
        reserve = _line(rb, "statutory_reserve", day)
        taxes.append(reserve)
    income = leg.income
    wht_id = "wht_interest" if income == "interest" else "wht_dividend"
    wht = _line(rb, wht_id, day)
    taxes.append(wht)
    if income in ("dividend", "portfolio"):
        taxes.append(_line(rb, "hk_dividend_25", day, applied=False))
        taxes.append(_line(rb, "hk_dividend_other", day, applied=False))
    if income == "interest":
        taxes.append(_line(rb, "hk_interest", day, applied=False))
        vat = _line(rb, "vat_interest", day)
        sur = _line(rb, "surcharges_on_withheld_vat", day)
        taxes += [vat, sur]
        taxes.append(_line(rb, "thin_cap_ratio", day, applied=False))
    stamp = _line(rb, "stamp_duty_capital", day) if leg.stamp_duty else None
    if stamp is not None:
        taxes.append(stamp)
    if lid in ("dividend", "qflp"):
        for rid in ("reinvestment_deferral", "reinvestment_credit"):
            line = _line(rb, rid, day, applied=False)
            if line.rate is not None:
                taxes.append(line)

    # --- cost in basis points of the amount -------------------------------------------------
    if stamp is not None and stamp.rate is not None:
        item("stamp_duty_capital", stamp.rate / 100.0 * BPS, stamp, recurring=False, onshore=True)
    spread = profile.fx_spread_bps
    if spread is not None and profile.foreign_currency:
        # the amount in, and the principal out at the end of the term
        items.append(
            CostItem(id="fx_principal", bps=round(2 * spread, 4), recurring=False, borne_by="holders")
        )
    net: float | None = None
    if y_bps is not None:

        def pct(line: TaxLine | None) -> float:
            return 0.0 if line is None or line.rate is None or not line.applied else line.rate / 100.0

        if income == "interest":
            i = y_bps
            vat_bps = i * pct(vat)
            sur_bps = vat_bps * pct(sur)
            wht_bps = i * pct(wht)
            item("vat_interest", vat_bps, vat)
            if sur_bps or (sur.rate or 0):
                item("surcharges_on_withheld_vat", sur_bps, sur)
            item("wht_interest", wht_bps, wht)
            paid = i - vat_bps - sur_bps - wht_bps
            thin = _rate(rb, "thin_cap_ratio", day)[1]
            cit_v = _rate(rb, "cit_standard", day)[1]
            if profile.spv_owner == "group" and thin is not None and cit_v is not None:
                if profile.net_assets is None:
                    notes.append(
                        Finding(
                            "thin_cap_unknown",
                            msg["thin_cap_unknown"].fill(ratio=f"{thin.value:g}"),
                            thin.sources,
                            thin.verified,
                            "note",
                        )
                    )
                else:
                    excess = (
                        max(0.0, profile.amount - float(thin.value) * profile.net_assets) / profile.amount
                    )
                    if excess > 0:
                        rate_cit = float(cit_v.value)
                        zone = zone_at(rb, route, day) if profile.preferential_eit else None
                        if zone is not None:
                            rate_cit = float(zone[1].value)
                        items.append(
                            CostItem(
                                id="thin_cap",
                                bps=round(i * excess * rate_cit / 100.0, 4),
                                recurring=True,
                                borne_by="onshore",
                                sources=tuple(dict.fromkeys((*thin.sources, *cit_v.sources))),
                                verified=thin.verified,
                            )
                        )
        else:
            g = y_bps
            after = g
            if leg.onshore_cit:
                cit_line = taxes[0]
                cit_bps = g * pct(cit_line)
                item(cit_line.id, cit_bps, cit_line)
                after = g - cit_bps
                res_bps = after * pct(reserve)
                item("statutory_reserve", res_bps, reserve)
                after -= res_bps
            wht_bps = after * pct(wht)
            item(wht_id, wht_bps, wht)
            paid = after - wht_bps
        if spread is not None and profile.foreign_currency:
            items.append(
                CostItem(
                    id="fx_payout", bps=round(paid * spread / BPS, 4), recurring=True, borne_by="holders"
                )
            )
            paid -= paid * spread / BPS
        years = (profile.term_months or 12) / 12.0
        one_off_holders = sum(c.bps for c in items if not c.recurring)
        net = round((paid - one_off_holders / years) / 100.0, 4)
    if spread is None and profile.foreign_currency:
        notes.append(Finding("fx_not_costed", msg["fx_not_costed"].fill(), (), True, "note"))
    one_off = round(sum(c.bps for c in items if not c.recurring), 4)
    recurring = round(sum(c.bps for c in items if c.recurring), 4)
    years = (profile.term_months or 12) / 12.0
    per_year = round(recurring + one_off / years, 4)
    total = None
    if y_bps is not None and profile.term_months is not None:
        total = round(profile.amount * (recurring * years + one_off) / BPS, 2)
    return Money(
        leg=lid,
        frequency=freq,
        taxes=tuple(taxes),
        items=tuple(items),
        one_off_bps=one_off,
        recurring_bps_per_year=recurring,
        bps_per_year=per_year,
        total_over_term=total,
        net_yield_to_holders=net,
        warnings=tuple(warnings),
        notes=tuple(notes),
        zone=zone_id,
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def summary_cells(rb: RuleBase, plan: Any) -> tuple[float | None, float | None, float | None, float | None]:
    """The batch columns of a plan's best route: ``weeks_typical_min``, ``weeks_typical_max``,
    ``cost_bps_per_year`` and ``net_yield`` (None where there is no route, or no yield given)."""
    if not plan.routes:
        return (None, None, None, None)
    from .timeline import typical_schedule

    best = plan.routes[0]
    t = typical_schedule(rb, best.channels, best.steps)
    if plan.profile.yield_pct is None:
        return (t.weeks.min, t.weeks.max, None, None)
    m = assess(rb, plan.profile, best, plan.as_of)
    return (t.weeks.min, t.weeks.max, m.bps_per_year, m.net_yield_to_holders)
