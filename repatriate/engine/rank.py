"""Rank feasible routes on time, cost, approvals and certainty; mark the Pareto front.

Routes are shared and immutable: ranking returns ranked copies.
"""

from __future__ import annotations

import math

from ..rulebase.records import Scoring
from .profile import Profile
from .results import Route


def rank(
    routes: list[Route],
    scoring: Scoring,
    optimize: str,
    profile: Profile,
    costs: list[float | None] | None = None,
) -> list[Route]:
    """Score each route against the best of its peers under the ``optimize`` weights, best first.

    Ties go to the route in the asset's own place, then its own province, then by channels
    and location. Each returned route is a copy carrying its ``score``, ``rank`` and ``pareto``.
    ``costs`` (money, bps a year: ``engine.money``) replace the paperwork index as the cost criterion.
    """
    if not routes:
        return []
    w = scoring.objectives[optimize]
    times = [r.ranking_weeks for r in routes]
    best_time = min(times)
    # an unknown money cost scores nothing on cost and is dominated on it (Pareto)
    cost = [math.inf if c is None else c for c in costs] if costs is not None else [r.cost_index for r in routes]
    best_cost = min(cost)
    best_appr = min(r.approvals for r in routes)
    best_cert = max(r.certainty for r in routes) or 1.0
    scores = [
        round(
            w["time"] * (best_time / t if t else 1.0)
            + w["cost"] * _ratio(best_cost, c)
            + w["approvals"] * (best_appr / r.approvals if r.approvals else 1.0)
            + w["certainty"] * (r.certainty / best_cert),
            4,
        )
        for r, t, c in zip(routes, times, cost)
    ]
    # Pareto: no other route at least as good on every criterion and better on one.
    crit = [(t, c, r.approvals, -r.certainty) for r, t, c in zip(routes, times, cost)]
    distinct = set(crit)
    front = {
        c
        for c in distinct
        if not any(
            o != c and o[0] <= c[0] and o[1] <= c[1] and o[2] <= c[2] and o[3] <= c[3] for o in distinct
        )
    }

    def proximity(r: Route) -> int:
        if r.location.province == profile.province:
            return 0 if (r.location.city == profile.city or r.location.city is None) else 1
        return 2

    order = sorted(
        range(len(routes)),
        key=lambda i: (-scores[i], proximity(routes[i]), routes[i].channels, routes[i].location.sort_key()),
    )
    return [routes[i].ranked(scores[i], n, crit[i] in front) for n, i in enumerate(order, 1)]


def _ratio(best: float, value: float) -> float:
    """How close ``value`` comes to the best (lowest) one: 1 at the best, 0 when unknown (infinite)."""
    if value == 0:
        return 1.0
    return 0.0 if math.isinf(value) else best / value
