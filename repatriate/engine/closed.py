"""Closed routes: structures the law shuts (QDLP/QDIE, donations, onshore buyers, unfiled issues...).

A closed route is a channel with no steps whose rules exclude it unconditionally; every plan
shows it among the exclusions, with its reasons and sources, and never evaluates it as a route.
"""

from __future__ import annotations

import datetime as dt

from ..rulebase.records import Channel, RuleBase
from . import memo
from .graph import full_path
from .results import Exclusion, Finding, Location


def is_closed(ch: Channel) -> bool:
    """Whether a channel is a closed route: no steps, and a rule that excludes it whatever the profile."""
    return not ch.steps and any(r.effect == "exclude" and not r.when for r in ch.rules)


def closed_exclusion(
    rb: RuleBase, channels: tuple[str, ...], day: dt.date, also: tuple[Finding, ...] = ()
) -> Exclusion | None:
    """The exclusion of a path through a closed route in force on ``day``, or ``None`` for an open path.

    Its own reasons are the same for every profile, so they are made once per rule base, path and
    day; ``also`` adds the reasons that close every path of the plan (the asset class's, as for
    any other exclusion).
    """
    key = (rb.digest, "closed", channels, day)
    hit: tuple[Exclusion | None] | None = memo.FINDINGS.get(key)
    if hit is None:
        reasons = [
            Finding(r.id, r.message, tuple(r.sources), r.verified)
            for cid in channels
            if is_closed(rb.channels[cid])
            for r in rb.channels[cid].rules
            if r.effect == "exclude" and not r.when and r.valid.in_force(day)
        ]
        found = Exclusion(channels, full_path(rb, channels), Location(), tuple(reasons)) if reasons else None
        hit = memo.FINDINGS.put(key, (found,))
    found = hit[0]
    if found is None or not also:
        return found
    return Exclusion(found.channels, found.path, found.location, (*found.reasons, *also))
