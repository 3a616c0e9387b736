"""What a search returns: locations, findings, route steps, routes, exclusions and plans.

Immutable values: a route is shared by every plan that meets it (see ``memo``), so ranking
makes ranked copies rather than writing on it.
"""

from __future__ import annotations

import datetime as dt
from operator import attrgetter
from typing import TYPE_CHECKING, Literal, NamedTuple

from ..rulebase.records import Step, Text, Weeks, _Record, fields, record

if TYPE_CHECKING:
    from .profile import Profile

FindingKind = Literal["warning", "note", "unknown", "condition"]


@record
class Location(_Record):
    """Where a route's onshore vehicle sits: a province and, where it matters, a city."""

    province: str | None = None
    city: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"province": self.province, "city": self.city}

    def sort_key(self) -> tuple[str, str]:
        return (self.province or "", self.city or "")


@record
class Finding(_Record):
    """A warning or note on a route, or a reason for an exclusion, with its sources."""

    rule: str
    text: Text
    sources: tuple[str, ...] = ()
    verified: bool = True
    kind: FindingKind = "warning"


class Span(NamedTuple):
    """A span of weeks along a route's critical path: shortest and longest."""

    min: float
    max: float


class RouteDocument(NamedTuple):
    """A document a route needs, and the (1-based) number of the first step that needs it."""

    id: str
    step: int


@record
class RouteStep(_Record):
    """A step as a route takes it: the authority, time and sources may be the pilot city's."""

    channel: str
    step: Step
    authority: Text
    weeks: Weeks | None
    sources: tuple[str, ...]
    verified: bool
    # what identifies this step by value: (channel, step id, the city whose terms decide it)
    key: tuple[str, str, tuple[str, str, str] | None] = ("", "", None)


@record
class Route(_Record):
    """A feasible route: channels, location, checklist and its criteria, with its rank once ranked."""

    channels: tuple[str, ...]
    path: tuple[str, ...]
    location: Location
    steps: tuple[RouteStep, ...]
    documents: tuple[RouteDocument, ...]
    warnings: tuple[Finding, ...]
    notes: tuple[Finding, ...]
    timeline: Span
    unknown_steps: int
    approvals: int
    cost_index: float
    certainty: float
    capacity: float | None
    capacity_text: Text | None
    unverified: int
    # the capacity could be computed from more of the profile (the net assets): say "unknown"
    capacity_unknown: bool = False
    ranking_weeks: float = 0.0  # the max timeline plus assumed weeks for untimed steps (ranking only)
    score: float = 0.0
    rank: int = 0
    pareto: bool = False

    def ranked(self, score: float, rank: int, pareto: bool) -> Route:
        """A copy of this route with its place in a ranking (routes are shared, never changed)."""
        return Route(*_UNRANKED(self), score, rank, pareto)  # type: ignore[arg-type,call-arg]


@record
class Exclusion(_Record):
    """A route that fails, with every reason and its sources."""

    channels: tuple[str, ...]
    path: tuple[str, ...]
    location: Location
    reasons: tuple[Finding, ...]


@record
class Plan(_Record):
    """The answer for one asset: ranked routes, exclusions and the sources they cite."""

    profile: Profile
    as_of: dt.date
    optimize: str
    digest: str
    routes: tuple[Route, ...]
    excluded: tuple[Exclusion, ...]
    total_routes: int = 0
    sources: tuple[str, ...] = ()


# the fields of a route before its ranking ones, read in one call (ranking copies many routes)
_UNRANKED = attrgetter(*[n for n in fields(Route) if n not in ("score", "rank", "pareto")])
