"""Leg rows (issue 12 part 4): ``batch --allocate`` splits each record's amount with ``allocate()``
and gives one output row per leg, keyed by ``asset_id`` and ``leg``; never fewer than one a record.

``Allocator`` is the ``rows.Planner`` of leg rows: the same input handling, error rows and stamps,
one allocation per distinct profile and options (an LRU cache, as the planner's searches).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import OrderedDict
from typing import Any, NamedTuple

from ..engine.profile import PROFILE_FIELDS, make_profile, parse_date, parse_integer, parse_number
from ..engine.search import Plan, plan
from ..errors import RepatriateError, clip, short_message
from .rows import SEPARATOR, Found, Planner, no_route_reason, raw_values

ALLOCATE_FIELDS = ("by", "max_channels", "listed_market_cap")  # optional input columns of their own
_PLACED = 1 - 1e-6  # placed at least this share of the amount: all of it (allocate's own tolerance)
_ALLOCATION_CACHE = 4096


class LegResult(NamedTuple):
    """The planned cells of one leg row (``LEG_FIELDS``), after the input columns.

    The asset's cells (``status``, ``placed``, ``unplaced``, ``binding``) repeat on each of its
    legs, so a pivot by asset or by leg needs no join; ``schema.py`` publishes the types.
    """

    status: str  # 'ok' (all placed), 'partial' (placed < amount), 'no_route' (nothing placed) or 'error'
    error: str  # the message of an error row, else ''
    reason: str  # no_route: the binding constraints, and the exclusions when no route is feasible
    leg: int | None  # 1, 2, ... in the allocation's order (cheapest first); None on a row without a leg
    channels: str  # 'fdi+fie_loan'
    leg_province: str
    leg_city: str
    leg_amount: float | None
    share: float | None  # of the requested amount
    capacity: float | None  # None: no capacity in the rule base (bounded by the amount only)
    capacity_used: float | None
    binds: str  # the limits that bind on this leg, ', ' between them
    cost_basis: str  # 'bps_per_year' (with a yield) or 'paperwork_index'
    cost_per_year: float | None  # in cost_basis; None where the leg's money cost is not modelled
    cost_money_per_year: float | None  # in the asset's currency; None without a yield
    weeks_typical_max: float | None
    placed: float | None  # the asset's, on each of its rows
    unplaced: float | None
    binding: str  # the asset's binding constraints when placed < amount, ', ' between them
    warnings: str  # the allocation's warnings, then the leg's route's, ' | ' between them
    as_of: str
    rulebase_digest: str
    tool_version: str

    @property
    def where(self) -> tuple[str, str]:
        """The channels and the province a summary counts this row under."""
        return self.channels, self.leg_province


LEG_FIELDS = LegResult._fields


def leg_error(exc: BaseException | str, stamp: tuple[str, str, str]) -> LegResult:
    """The one row of a record that failed: its message, beginning with a word; no leg."""
    if isinstance(exc, (RepatriateError, str)):
        message = str(exc)
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    message = short_message(" ".join(message.split()))  # a 100 KB cell is not echoed whole
    return LegResult(
        "error", clip(message, 1000), "", None, "", "", "", None, None, None, None, "", "", None, None, None,
        None, None, "", "", *stamp,
    )


class Allocator(Planner):
    """Allocates raw profile values for one rule base and date, with an LRU cache from each
    normalised profile and allocation options to its leg rows.

    Parameters
    ----------
    rb : RuleBase
    as_of : date or ISO string, optional
        Rules in force on that date; default today.
    by : date or ISO string, optional
        The deadline of rows that give none (``by`` column).
    max_channels : int
        The most legs, for rows that give none (``max_channels`` column); default 3.
    listed_market_cap : number, optional
        A listed holder's market value (the QFII ownership caps), for rows that give none.
    cache : bool
        False allocates every row afresh.

    Raises
    ------
    RepatriateError
        For a bad date, deadline, channel count or market value, before any row is read.
    """

    result_fields = LEG_FIELDS
    input_fields = PROFILE_FIELDS + ALLOCATE_FIELDS
    one_row_each = False

    def __init__(
        self,
        rb: Any,
        *,
        as_of: str | dt.date | None = None,
        by: str | dt.date | None = None,
        max_channels: int | str = 3,
        listed_market_cap: float | str | None = None,
        cache: bool = True,
    ):
        super().__init__(rb, as_of=as_of, cache=cache)
        self.defaults = _options({"by": by, "max_channels": max_channels, "listed_market_cap": listed_market_cap})
        self._allocations: OrderedDict[tuple, Found] = OrderedDict()

    def error(self, exc: BaseException | str) -> LegResult:
        return leg_error(exc, self.stamp)

    def settings(self) -> list[tuple[str, Any]]:
        by, max_channels, cap = self.defaults
        return [
            ("allocate", f"at most {max_channels} legs an asset"),
            ("by", by.isoformat() if by else "none"),
            ("listed_market_cap", cap if cap is not None else "none"),
        ]

    def search(self, fields: tuple[str, ...], values: tuple, decimal: str = ".") -> Found:
        """The leg rows of one record given as raw values; a failure is an error row, never an exception."""
        try:
            raw = raw_values(fields, values, decimal)
            given = {f: raw.pop(f) for f in ALLOCATE_FIELDS if f in raw}  # blank: the batch's option applies
            by, max_channels, cap = _options(given, self.defaults)
            profile = make_profile(self.rb, **raw)
            key = (profile.key(), self.as_of, by, max_channels, cap)
            hit = self._allocations.get(key) if self.cache else None
            if hit is None:
                self.searches += 1
                hit = self._allocate(profile, raw, by, max_channels, cap)
                if self.cache:
                    self._allocations[key] = hit
                    if len(self._allocations) > _ALLOCATION_CACHE:
                        self._allocations.popitem(last=False)
            else:
                self._allocations.move_to_end(key)
            return hit
        except Exception as exc:  # a bad row becomes an error row; the batch goes on
            return Found(self.error(exc), None)

    def _allocate(
        self, profile: Any, raw: dict[str, Any], by: dt.date | None, max_channels: int, cap: float | None
    ) -> Found:
        from ..api import allocate

        allocation = allocate(
            self.rb, as_of=self.as_of, by=by, max_channels=max_channels, listed_market_cap=cap, **raw
        )
        # each leg's route, for its warnings: in the plan at the amount, or (a leg over capacity there)
        # at a nominal amount, as allocate's candidates; the engine's caches make both cheap
        plans = [plan(profile, self.rb, as_of=self.as_of)]
        found = {_key(r.channels, r.location.as_dict()) for r in plans[0].routes}
        if any(_key(leg["channels"], leg["location"]) not in found for leg in allocation["legs"]):
            plans.append(plan(dataclasses.replace(profile, amount=1.0), self.rb, as_of=self.as_of))
        for p in plans:
            self.sources.update(p.sources)
        for group in allocation.get("groups", ()):
            self.sources.update(group.get("sources", ()))
        rows = leg_rows(allocation, plans, self.rb, self.stamp)
        return Found(rows[0], None, tuple(rows[1:]))


def _options(given: dict[str, Any], defaults: tuple | None = None) -> tuple[dt.date | None, int, float | None]:
    """``by``, ``max_channels`` and ``listed_market_cap`` parsed and checked; missing ones from ``defaults``."""
    by, max_channels, cap = defaults or (None, 3, None)
    if given.get("by") not in (None, ""):
        value = given["by"]
        try:
            if isinstance(value, dt.datetime):  # a spreadsheet's date cell
                value = value.date()
            by = value if isinstance(value, dt.date) else parse_date(str(value))
        except RepatriateError:
            raise RepatriateError(f"by {clip(repr(value))} is not a date (accepted: YYYY-MM-DD)", field="by") from None
    if given.get("max_channels") not in (None, ""):
        max_channels = parse_integer("max_channels", given["max_channels"])
        if max_channels < 1:
            raise RepatriateError(
                f"max channels {max_channels} is out of range (accepted: 1 or more)", field="max_channels"
            )
    if given.get("listed_market_cap") not in (None, ""):
        value = given["listed_market_cap"]
        cap = parse_number("listed_market_cap", value) if isinstance(value, str) else value
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not 0 < cap < float("inf"):
            raise RepatriateError(
                f"listed market cap {clip(repr(value))} is out of range (accepted: a positive number)",
                field="listed_market_cap",
            )
        cap = float(cap)
    return by, max_channels, cap


def leg_rows(allocation: dict[str, Any], plans: list[Plan], rb: Any, stamp: tuple[str, str, str]) -> list[LegResult]:
    """The rows of one allocation: a row per leg, or one ``no_route`` row when no leg is placed.

    ``plans`` are the asset's at its amount, then (if a leg is not in it) at a nominal amount, as
    allocate's candidates: a leg's warnings are those of its route in the first plan that has it.
    """
    full = plans[0]
    placed, unplaced = _number(allocation["placed"]), _number(allocation["unplaced"])
    binding = ", ".join(allocation.get("binding") or ())
    notes = [_warning_text(w, rb) for w in allocation.get("warnings") or ()]
    if not allocation["legs"]:
        reason = [binding or "nothing placed"]
        status = (allocation.get("solver") or {}).get("status", "")
        if status not in ("", "optimal", "no_candidates"):
            reason.append(f"solver: {status}")
        if not full.routes:
            reason.append(no_route_reason(full, rb))  # why no route at all: the exclusions
        elif notes:
            reason.append("no feasible route could be sized or relied on (see warnings)")
        return [
            LegResult(
                "no_route", "", "; ".join(r for r in reason if r), None, "", "", "", None, None, None, None,
                "", "", None, None, None, placed, unplaced, binding, SEPARATOR.join(notes), *stamp,
            )
        ]
    status = "ok" if placed >= allocation["amount"] * _PLACED else "partial"
    routes = {_key(r.channels, r.location.as_dict()): r for p in reversed(plans) for r in p.routes}
    out = []
    for leg in allocation["legs"]:
        where = leg["location"]
        route = routes.get(_key(leg["channels"], where))
        warnings = notes + ([_line(w.text.get("en") or "") for w in route.warnings] if route is not None else [])
        cost = leg.get("cost") or {}
        out.append(
            LegResult(
                status,
                "",
                "",
                leg["leg"],
                "+".join(leg["channels"]),
                where.get("province") or "",
                where.get("city") or "",
                _number(leg["amount"]),
                _number(leg["share"]),
                _number(leg["capacity"]),
                _number(leg["capacity_used"]),
                ", ".join(leg.get("binds") or ()),
                cost.get("basis", ""),
                _number(cost.get("per_year")) if cost.get("known", True) else None,  # unknown: it only ranks last
                _number(leg.get("cost_per_year")),
                _number(leg.get("weeks_typical_max")),
                placed,
                unplaced,
                binding,
                SEPARATOR.join(warnings),
                *stamp,
            )
        )
    return out


def _key(channels: Any, location: dict[str, Any]) -> tuple:
    """A route's identity in an allocation: its channels and where its onshore vehicle sits."""
    return tuple(channels), location.get("province"), location.get("city")


def _number(value: Any) -> float | None:
    """A number as a float (one type per field: allocate rounds 0.0 to 0), None as None."""
    return None if value is None else float(value)


def _line(text: str) -> str:
    return " ".join(text.split())


def _warning_text(warning: dict[str, Any], rb: Any) -> str:
    """One of the allocation's warnings as a line: its code, then the renderers' English words."""
    from ..render.allocate import warning_text

    return _line(f"{warning['code']}: {warning_text(warning, rb, 'en')}")


__all__ = ["ALLOCATE_FIELDS", "LEG_FIELDS", "Allocator", "LegResult", "leg_error", "leg_rows"]
