"""The library surface: load the rule base once, plan one asset or many.

Everything the CLI does goes through these functions, so a notebook or a
distributed job gets the same answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .engine import memo
from .engine.profile import make_profile, parse_date
from .engine.search import Plan, plan
from .rulebase.loader import load
from .rulebase.records import RuleBase  # the validated rule base, as runtime records


def load_rulebase(data_dir: str | Path | None = None, overlay: str | Path | None = None) -> RuleBase:
    """The validated rule base (the packaged one by default), memoised per process."""
    key = (str(data_dir or ""), str(overlay or ""))
    rb: RuleBase | None = memo.RULEBASES.get(key)
    if rb is None:
        rb = memo.RULEBASES.put(key, load(Path(data_dir) if data_dir else None, Path(overlay) if overlay else None))
    return rb


def plan_route(
    rb: RuleBase | None = None,
    *,
    as_of: str | dt.date | None = None,
    optimize: str = "balanced",
    top: int | None = None,
    local_only: bool = False,
    **profile: Any,
) -> Plan:
    """Plan one asset.

    Parameters
    ----------
    rb : RuleBase, optional
        Default: the packaged rule base.
    as_of : date or ISO string, optional
        Rules in force on that date; default today.
    optimize : {'balanced', 'speed', 'cost', 'certainty'}
    top : int, optional
    local_only : bool
        QFLP only through pilot cities of the asset's own place (see ``search.plan``).
    **profile
        ``asset_class, sector, province, city, amount, currency, holder_type,
        net_assets, term_months, spv_owner`` — raw values, as a user would type them.

    Raises
    ------
    RepatriateError
        For any bad value, naming it and what is accepted.

    Examples
    --------
    >>> p = plan_route(asset_class="equity", sector="renewable_energy", province="广东",
    ...                amount=50_000_000, currency="USD", as_of="2026-11-29")
    >>> p.routes[0].channels
    ('fdi', 'fie_reinvestment')
    """
    rb = rb or load_rulebase()
    prof = make_profile(rb, **profile)
    return plan(prof, rb, as_of=parse_date(as_of), optimize=optimize, top=top, local_only=local_only)


def plan_many(rows: Iterable[dict[str, Any]], rb: RuleBase | None = None, **options: Any) -> Iterator[dict[str, Any]]:
    """Plan each row of a portfolio; yields one flat result row per input row, errors included.

    See ``repatriate.batch.plan_rows`` for the row format; this is the call to map over
    partitions in Dask or Spark.
    """
    from .batch.run import plan_rows

    yield from plan_rows(rows, rb or load_rulebase(), **options)


def allocate(
    rb: RuleBase | None = None,
    *,
    as_of: str | dt.date | None = None,
    by: str | dt.date | None = None,
    max_channels: int = 3,
    listed_market_cap: float | str | None = None,
    **profile: Any,
) -> dict[str, Any]:
    """Split ``amount`` over at most ``max_channels`` legs (issue 12): the ``allocation`` object.

    A mixed-integer program over the routes' capacities, shared caps and costs (see
    ``engine.allocate``). An amount that cannot be placed in full is not an error: ``placed``
    is below ``amount`` and ``binding`` names the constraints that stop it.

    Examples
    --------
    400m against 100m of net assets: foreign debt up to the macro-prudential cap, FDI for the rest.

    >>> a = allocate(asset_class="equity", province="广东", amount=400e6, net_assets=100e6, yield_pct=5,
    ...              as_of="2026-11-29")
    >>> [(leg["channels"], leg["amount"]) for leg in a["legs"]]
    [(['foreign_debt'], 233333333.33), (['fdi', 'fie_loan'], 166666666.67)]
    """
    from .engine.allocate import allocate as _allocate
    from .engine.profile import parse_integer, parse_number
    from .errors import RepatriateError

    rb = rb or load_rulebase()
    prof = make_profile(rb, **profile)
    n = parse_integer("max_channels", max_channels)
    if n < 1:
        raise RepatriateError(f"max channels {n} is out of range (accepted: 1 or more)", field="max_channels")
    cap = None
    if listed_market_cap is not None and str(listed_market_cap).strip():
        cap = parse_number("listed_market_cap", listed_market_cap) if isinstance(listed_market_cap, str) \
            else float(listed_market_cap)
        if not cap > 0 or cap != cap or cap == float("inf"):
            raise RepatriateError(
                f"listed market cap {cap:g} is out of range (accepted: a positive number)",
                field="listed_market_cap",
            )
    day = parse_date(as_of)
    deadline = None if by is None or (isinstance(by, str) and not by.strip()) else parse_date(by)
    return _allocate(rb, prof, day, by=deadline, max_channels=n, listed_market_cap=cap)
