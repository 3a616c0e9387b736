"""Every process-wide cache of the library, in one place, with one ``clear_caches()``.

Keys are values (rule-base digest, dates, ids, profile fields), never ``id()`` of an
object, so a cache cannot answer for an object that has died and whose id was reused.
Each cache is bounded: when full it starts afresh (portfolios meet few distinct keys).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

V = TypeVar("V")


class Cache(dict[Any, V], Generic[V]):
    """A dict that forgets everything when it reaches ``limit`` entries."""

    __slots__ = ("name", "limit")

    def __init__(self, name: str, limit: int) -> None:
        super().__init__()
        self.name, self.limit = name, limit
        _ALL.append(self)

    def put(self, key: Any, value: V) -> V:
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


_ALL: list[Cache[Any]] = []

# rulebase: validated rule bases by (data dir, overlay) (api.load_rulebase)
RULEBASES: Cache[Any] = Cache("rulebases", 16)
# rulebase.conditions: parsed capacity formulas by their text
FORMULAS: Cache[Any] = Cache("formulas", 1024)
# engine.profile: the place-name index by rule-base digest
PLACES: Cache[Any] = Cache("places", 8)
# engine.graph: channel paths by (digest, day)
PATHS: Cache[Any] = Cache("paths", 256)
# engine.evaluate: route steps by (digest, channel, step id, city key)
ROUTE_STEPS: Cache[Any] = Cache("route_steps", 20_000)
# engine.evaluate: a pilot city's findings by (digest, city, terms, profile fields it reads)
QFLP_FINDINGS: Cache[Any] = Cache("qflp_findings", 20_000)
# engine.evaluate: whether a route's evaluation reads no amount, by (digest, day, channels, location)
AMOUNT_FREE: Cache[Any] = Cache("amount_free", 20_000)
# engine.evaluate: evaluated routes or exclusions by (digest, day, channels, location, profile w/o amounts)
EVALUATED: Cache[Any] = Cache("evaluated", 20_000)
# engine.evaluate: a checklist's metrics by (digest, the route steps' keys)
METRICS: Cache[Any] = Cache("metrics", 20_000)
# engine.evaluate: whether a step's or rule's condition ignores the location, by (digest, scope, kind, id)
LOCATION_FREE: Cache[Any] = Cache("location_free", 20_000)
# engine.evaluate: findings the engine words, by (digest, what, the values they depend on)
FINDINGS: Cache[Any] = Cache("findings", 20_000)
# engine.search: whole plans by (digest, profile fields, day, objective, top, local_only): allocate and
# batch --allocate search the same asset at its amount and at a nominal one, and read legs' warnings back
PLANS: Cache[Any] = Cache("plans", 2048)
# engine.timeline: schedules by step content (id, phase, after, weeks)
SCHEDULES: Cache[Any] = Cache("schedules", 4096)


def clear_caches() -> None:
    """Forget every memoised result (benchmarks measure cold searches with it)."""
    for cache in _ALL:
        cache.clear()
