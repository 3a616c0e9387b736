"""Route search: enumerate channel paths and locations, check each against the rules, rank.

The search never prints; it returns a ``Plan`` that the renderers turn into text.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..rulebase.conditions import Facts, evaluate, matches
from ..errors import RepatriateError
from ..engine.graph import channel_paths, full_path
from ..rulebase.records import City, Province, QflpTerms, RuleBase, Step, Text, value_at
from ..engine.profile import Profile

OBJECTIVES = ("balanced", "speed", "cost", "certainty")
AUTHORITY_KINDS = ("approval", "licence", "filing", "registration", "recommendation")


@dataclass(frozen=True)
class Location:
    province: str | None = None
    city: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"province": self.province, "city": self.city}


@dataclass
class Finding:
    """A warning on a route or a reason for an exclusion."""

    rule: str
    text: Text
    sources: list[str]
    verified: bool = True
    kind: str = "warning"  # warning | note | unknown


@dataclass
class RouteStep:
    channel: str
    step: Step
    authority: Text
    weeks: Any  # Weeks | None
    sources: list[str]
    verified: bool


@dataclass
class Route:
    channels: tuple[str, ...]
    path: list[str]
    location: Location
    steps: list[RouteStep]
    documents: list[tuple[str, int]]  # (document id, 1-based step number)
    warnings: list[Finding]
    notes: list[Finding]
    timeline: tuple[float, float]
    unknown_steps: int
    approvals: int
    cost_index: float
    certainty: float
    capacity: float | None
    capacity_text: Text | None
    unverified: int
    ranking_weeks: float = 0.0  # the max timeline plus assumed weeks for untimed steps (ranking only)
    score: float = 0.0
    rank: int = 0
    pareto: bool = False


@dataclass
class Exclusion:
    channels: tuple[str, ...]
    path: list[str]
    location: Location
    reasons: list[Finding]


@dataclass
class Plan:
    profile: Profile
    as_of: dt.date
    optimize: str
    digest: str
    routes: list[Route]
    excluded: list[Exclusion]
    total_routes: int = 0
    sources: list[str] = field(default_factory=list)


def plan(
    profile: Profile,
    rb: RuleBase,
    *,
    as_of: dt.date | None = None,
    optimize: str = "balanced",
    top: int | None = None,
    local_only: bool = False,
) -> Plan:
    """Find, check and rank every route for one asset.

    Parameters
    ----------
    profile : Profile
        A normalised profile (see ``make_profile``).
    rb : RuleBase
    as_of : date, optional
        The rules in force on this date; today when omitted.
    optimize : {'balanced', 'speed', 'cost', 'certainty'}
    top : int, optional
        Keep only the best ``top`` feasible routes (exclusions are always all kept).
    local_only : bool
        Offer QFLP only through pilot cities of the asset's own place (its city, or its
        province's cities when no city is given): for comparing places side by side.

    Raises
    ------
    RepatriateError
        For an unknown objective or a non-positive ``top``.
    """
    if optimize not in OBJECTIVES:
        raise RepatriateError(f"unknown objective {optimize!r} (accepted: {', '.join(OBJECTIVES)})")
    if top is not None and top < 1:
        raise RepatriateError(f"top {top} must be 1 or more")
    day = as_of or dt.date.today()
    routes: list[Route] = []
    excluded: list[Exclusion] = []
    pre = _prerequisites(rb, profile, day)
    for channels in channel_paths(rb, day):
        locations = _locations(rb, profile, channels, day, local_only)
        if not locations:
            excluded.append(_no_local_pilot(rb, profile, channels, day))
        for location in locations:
            result = _cached_evaluate(rb, profile, channels, location, day, pre)
            (routes if isinstance(result, Route) else excluded).append(result)
    _rank(routes, rb, optimize, profile)
    total = len(routes)
    if top is not None:
        routes = routes[:top]
    excluded.sort(key=lambda e: (e.channels, _loc_key(e.location)))
    cited: dict[str, None] = {}
    for r in routes:
        for s in r.steps:
            cited.update(dict.fromkeys(s.sources))
        for f in r.warnings + r.notes:
            cited.update(dict.fromkeys(f.sources))
        for d, _ in r.documents:
            cited.update(dict.fromkeys(rb.documents[d].sources))
    for e in excluded:
        for f in e.reasons:
            cited.update(dict.fromkeys(f.sources))
    return Plan(profile, day, optimize, rb.digest, routes, excluded, total, sorted(cited))


# --- locations -----------------------------------------------------------------


def qflp_cities(rb: RuleBase, day: dt.date) -> list[tuple[str, str, Any]]:
    """(province, city, dated terms) of every QFLP pilot city in force on ``day``."""
    out = []
    for code in sorted(rb.provinces):
        for cid, city in sorted(rb.provinces[code].cities.items()):
            terms = value_at(city.qflp, day)
            if terms is not None:
                out.append((code, cid, terms))
    return out


def _locations(rb: RuleBase, profile: Profile, channels: tuple[str, ...], day: dt.date, local_only: bool = False) -> list[Location]:
    kinds = {rb.channels[c].location for c in channels}
    if "qflp_city" in kinds:
        cities = qflp_cities(rb, day)
        if local_only:
            cities = [(p, c, t) for p, c, t in cities if p == profile.province and profile.city in (None, c)]
        return [Location(p, c) for p, c, _ in cities]
    if "asset" in kinds:
        return [Location(profile.province, profile.city)]
    return [Location()]


def _no_local_pilot(rb: RuleBase, profile: Profile, channels: tuple[str, ...], day: dt.date) -> Exclusion:
    pv = rb.provinces[profile.province]
    city = pv.cities.get(profile.city or "")
    where_en = f"{city.name.en} ({pv.name.en})" if city else (profile.city or pv.name.en)
    where_zh = f"{pv.name.zh}{city.name.zh}" if city else (profile.city or pv.name.zh)
    text = Text(
        en=f"No QFLP pilot in {where_en} is in force on {day} in the rule base; QFLP runs only through a pilot city.",
        zh=f"规则库中{where_zh}于{day}无有效的QFLP试点；QFLP只能通过试点城市开展。",
    )
    reasons = [Finding("qflp_no_local_pilot", text, [])]
    # a pilot known only from a note (no dated terms) is still worth telling the adviser
    reasons += [Finding("local_note", n.text, list(n.sources), n.verified, "note") for n in pv.notes if "qflp" in n.channels and n.valid.in_force(day)]
    return Exclusion(channels, full_path(rb, channels), Location(profile.province, profile.city), reasons)


def _loc_key(loc: Location) -> tuple[str, str]:
    return (loc.province or "", loc.city or "")


# --- evaluation ----------------------------------------------------------------


def facts_for(rb: RuleBase, profile: Profile, location: Location, day: dt.date) -> Facts:
    """What the matchers see: the profile, the sector's negative-list status, the location."""
    f = Facts(profile.model_dump())
    f["as_of"] = day
    sector = rb.sectors.get(profile.sector or "")
    entry = value_at(sector.negative_list, day) if sector else None
    f["sector_status"] = entry.value.status if entry else None
    f["sector_tags"] = tuple(sector.tags) if sector else ()
    _place(rb, f, location, day)
    return f


def _place(rb: RuleBase, facts: Facts, location: Location, day: dt.date) -> list:
    """Set the location's facts; the FX pilots in force there, which they come from."""
    pilots = _fx_pilots(rb, location, day)
    facts["location_province"] = location.province
    facts["location_city"] = location.city
    facts["location_easings"] = tuple(e for pilot in pilots for e in pilot.eases)
    return pilots


def _fx_pilots(rb: RuleBase, location: Location, day: dt.date) -> list:
    pv = rb.provinces.get(location.province or "")
    if pv is None:
        return []
    return [
        p
        for p in pv.fx_pilots
        if p.valid.in_force(day) and (p.city is None or p.city == location.city)
    ]


class _Checklist:
    """Steps, warnings and exclusion reasons collected for one route (or its prerequisites)."""

    def __init__(self, rb: RuleBase, profile: Profile, facts: Facts, day: dt.date, memo: dict | None = None) -> None:
        self.rb, self.profile, self.facts, self.day = rb, profile, facts, day
        # verdicts of location-free conditions and made steps, shared by every route of one plan
        self.memo: dict[Any, Any] = {} if memo is None else memo
        self.steps: list[RouteStep] = []
        self.seen: set[str] = set()
        self.warnings: list[Finding] = []
        self.reasons: list[Finding] = []

    def extend(self, other: "_Checklist") -> None:
        self.steps += other.steps
        self.seen |= other.seen
        self.warnings += other.warnings
        self.reasons += other.reasons

    def holds(self, item: Any) -> bool:
        """Is a step or rule in force on the day and does its condition match?"""
        key = id(item)
        verdict = self.memo.get(key)
        if verdict is None:
            verdict = item.valid.in_force(self.day) and matches(item.when, self.facts)
            if not _mentions_location(item.when):
                self.memo[key] = verdict
        return verdict

    def add_steps(self, channel: str, items: list[Step], city_terms: Any = None) -> None:
        for st in items:
            if st.id in self.seen or not self.holds(st):
                continue
            self.seen.add(st.id)
            by_city = city_terms is not None and st.id == "qflp_pilot_qualification"
            # RouteSteps are never changed once made: one per step (and per city where the city
            # decides), kept with the objects they were made from so a reused id cannot mislead
            key = (channel, id(st), id(city_terms) if by_city else None)
            hit = _ROUTE_STEPS.get(key)
            made = hit[2] if hit is not None and hit[0] is st and (not by_city or hit[1] is city_terms) else None
            if made is None:
                authority, weeks, sources, verified = st.authority, st.weeks, list(st.sources), st.verified
                if by_city:
                    terms: QflpTerms = city_terms.value
                    authority = terms.approval_body or Text(en="The pilot city's approval body (not stated in the sources)", zh="试点地区审批机构（资料未载明）")
                    weeks = terms.processing_weeks
                    sources = list(dict.fromkeys([*terms.documents, *city_terms.sources]))
                    verified = city_terms.verified
                made = RouteStep(channel, st, authority, weeks, sources, verified)
                _ROUTE_STEPS[key] = (st, city_terms, made)
            self.steps.append(made)

    def apply_rules(self, rules: list) -> None:
        for r in rules:
            if not self.holds(r):
                continue
            finding = Finding(r.id, r.message, list(r.sources), r.verified)
            if "sector_status" in r.when:
                _cite_sector(self.rb, self.profile, self.day, finding)
            (self.reasons if r.effect == "exclude" else self.warnings).append(finding)


def _mentions_location(when: Any) -> bool:
    """Whether a condition looks at the route's location (then it is judged per route)."""
    if isinstance(when, dict):
        return any(k.startswith("location") or _mentions_location(v) for k, v in when.items())
    if isinstance(when, list):
        return any(_mentions_location(v) for v in when)
    return False


def _prerequisites(rb: RuleBase, profile: Profile, day: dt.date) -> _Checklist:
    """Class-level steps, judged once per plan on the asset's own place (they concern the issue)."""
    pre = _Checklist(rb, profile, facts_for(rb, profile, Location(profile.province, profile.city), day), day)
    pv = rb.provinces[profile.province]
    if profile.city and profile.city not in pv.cities:
        pre.warnings.append(
            Finding(
                "city_without_local_rules",
                Text(
                    en=f"The rule base holds no local rules for the city {profile.city!r}; {pv.name.en}'s provincial and the national rules apply.",
                    zh=f"规则库未收录城市“{profile.city}”的地方规则；适用{pv.name.zh}省级及全国性规则。",
                ),
                [],
                True,
                "unknown",
            )
        )
    for p in rb.prerequisites:
        if matches(p.when, pre.facts):
            pre.add_steps("prerequisite", p.steps)
            pre.apply_rules(p.rules)
    return pre


_AMOUNT_KEYS = ("amount", "net_assets", "expr")


def _mentions_amount(when: Any) -> bool:
    if isinstance(when, dict):
        return any(k in _AMOUNT_KEYS or _mentions_amount(v) for k, v in when.items())
    if isinstance(when, list):
        return any(_mentions_amount(v) for v in when)
    return False


def _amount_free(rb: RuleBase, channels: tuple[str, ...], location: Location, day: dt.date) -> bool:
    """Whether a route's evaluation cannot depend on the amount or the net assets.

    Then portfolios whose assets differ only in amount share it (batch runs meet many).
    """
    pv = rb.provinces.get(location.province or "")
    for cid in channels:
        ch = rb.channels[cid]
        if ch.capacity is not None:
            return False
        items = list(ch.steps) + list(ch.rules) + ([r for r in pv.rules if r.channel == cid] if pv else [])
        if any(_mentions_amount(i.when) for i in items):
            return False
        if ch.location == "qflp_city" and pv is not None:
            terms = value_at(pv.cities[location.city].qflp, day).value
            if terms.lp_min_subscription is not None or (terms.fund_min_size is not None and terms.fund_min_size.amount > 0):
                return False
    return not any(_mentions_amount(i.when) for p in rb.prerequisites for i in [p, *p.steps, *p.rules])


_EVALUATED: dict[tuple, Route | Exclusion] = {}
_FREE: dict[tuple, bool] = {}


def _cached_evaluate(rb: RuleBase, profile: Profile, channels: tuple[str, ...], location: Location, day: dt.date, pre: _Checklist) -> Route | Exclusion:
    """``_evaluate``, shared across profiles that differ only in amounts it does not read."""
    free_key = (rb.digest, day, channels, location)
    free = _FREE.get(free_key)
    if free is None:
        free = _FREE[free_key] = _amount_free(rb, channels, location, day)
    if not free:
        return _evaluate(rb, profile, channels, location, day, pre)
    fields = profile.model_dump()
    fields.pop("amount"), fields.pop("net_assets")
    key = (rb.digest, day, channels, location, tuple(fields.values()))
    hit = _EVALUATED.get(key)
    if hit is None:
        if len(_EVALUATED) > 20_000:
            _EVALUATED.clear()
        hit = _EVALUATED[key] = _evaluate(rb, profile, channels, location, day, pre)
    # ranking writes score, rank and pareto on a route: each plan gets its own copy
    return copy.copy(hit) if isinstance(hit, Route) else hit


def _evaluate(rb: RuleBase, profile: Profile, channels: tuple[str, ...], location: Location, day: dt.date, pre: _Checklist) -> Route | Exclusion:
    facts = Facts(pre.facts)
    pilots = _place(rb, facts, location, day)
    route = _Checklist(rb, profile, facts, day, pre.memo)
    route.extend(pre)
    reasons, warnings, steps = route.reasons, route.warnings, route.steps
    add_steps, apply_rules = route.add_steps, route.apply_rules
    notes: list[Finding] = []

    capacity: float | None = None
    capacity_text: Text | None = None
    province = rb.provinces.get(location.province or "")
    for cid in channels:
        ch = rb.channels[cid]
        city_terms = None
        if ch.location == "qflp_city":
            city_terms = value_at(province.cities[location.city].qflp, day)
            city_reasons, city_warnings = _qflp_findings(rb, profile, location, province, city_terms)
            reasons += city_reasons
            warnings += city_warnings
        add_steps(cid, ch.steps, city_terms)
        apply_rules(ch.rules)
        if province is not None:
            apply_rules([r for r in province.rules if r.channel == cid])
            for n in (*province.notes, *(_city(province, location).notes if _city(province, location) else ())):
                if (not n.channels or cid in n.channels) and n.valid.in_force(day):
                    notes.append(Finding("local_note", n.text, list(n.sources), n.verified, "note"))
        for pilot in pilots:
            relevant = _easings_for(cid, pilot.eases)
            if relevant:
                label = ", ".join(e.replace("_", " ") for e in relevant)
                notes.append(
                    Finding(
                        f"fx_pilot_{pilot.id}",
                        Text(
                            en=f"{pilot.area.en} is in a pilot that eases this channel ({label}) since {pilot.joined}.",
                            zh=f"{pilot.area.zh}自{pilot.joined}起为试点地区，本渠道可享便利（{label}）。",
                        ),
                        list(pilot.sources),
                        pilot.verified,
                        "note",
                    )
                )
        if ch.capacity is not None:
            capacity, capacity_text = _capacity(rb, profile, ch, day, reasons, warnings, facts)

    if reasons:
        return Exclusion(channels, full_path(rb, channels), location, reasons)

    m = _step_metrics(rb, steps)
    steps = list(m.steps)
    tmin, tmax, unknown = m.timeline
    approvals, documents = m.approvals, m.documents
    unverified = m.unverified + sum(1 for w in warnings if not w.verified)
    certainty = _certainty(rb, channels, m.kind_factor, warnings, unverified, day)
    cost_index = approvals + 0.5 * len(documents)
    if unknown:
        warnings.append(
            Finding(
                "timeline_incomplete",
                Text(
                    en=f"{unknown} step(s) have no stated or statutory duration; the timeline counts only the others.",
                    zh=f"{unknown}个步骤无法定或公开的办理时限，时间线仅计入其余步骤。",
                ),
                [],
                True,
                "unknown",
            )
        )
    return Route(
        channels=channels,
        path=full_path(rb, channels),
        location=location,
        steps=steps,
        documents=list(documents),
        warnings=warnings,
        notes=notes,
        timeline=(tmin, tmax),
        unknown_steps=unknown,
        approvals=approvals,
        cost_index=cost_index,
        certainty=certainty,
        capacity=capacity,
        capacity_text=capacity_text,
        unverified=unverified,
        ranking_weeks=m.ranking_weeks,
    )


@dataclass(frozen=True)
class _StepMetrics:
    """What a route's checklist alone decides: order, documents, time, approvals."""

    steps: tuple[RouteStep, ...]
    documents: tuple[tuple[str, int], ...]
    timeline: tuple[float, float, int]
    approvals: int
    unverified: int
    kind_factor: float
    ranking_weeks: float


_METRICS: dict[tuple, tuple[tuple[RouteStep, ...], _StepMetrics]] = {}


def _step_metrics(rb: RuleBase, steps: list[RouteStep]) -> _StepMetrics:
    """Memoised on the (shared, never changed) RouteStep objects: most routes repeat a checklist."""
    key = tuple(map(id, steps))
    hit = _METRICS.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], steps)):
        return hit[1]
    ordered = _in_order(sorted(steps, key=lambda s: _PHASES.index(s.step.phase)))
    documents: dict[str, int] = {}
    for i, s in enumerate(ordered, 1):
        for d in s.step.documents:
            documents.setdefault(d, i)
    tmin, tmax, unknown = _timeline(ordered)
    sc = rb.scoring
    factor = 1.0
    for s in ordered:
        factor *= sc.certainty_by_kind.get(s.step.kind, 1.0)
    m = _StepMetrics(
        steps=tuple(ordered),
        documents=tuple(documents.items()),
        timeline=(tmin, tmax, unknown),
        approvals=sum(1 for s in ordered if s.step.kind in AUTHORITY_KINDS),
        unverified=sum(1 for s in ordered if not s.verified),
        kind_factor=factor,
        ranking_weeks=tmax + sum(sc.unknown_duration_weeks.get(s.step.kind, 0.0) for s in ordered if s.weeks is None),
    )
    if len(_METRICS) > 20_000:
        _METRICS.clear()
    _METRICS[key] = (tuple(steps), m)
    return m


_PHASES = ("pre_issuance", "setup", "funds")


def _in_order(steps: list[RouteStep]) -> list[RouteStep]:
    """Phase order, then every step after the steps it waits for (stable otherwise)."""
    ids = {s.step.id for s in steps}
    placed: list[RouteStep] = []
    done: set[str] = set()
    remaining = list(steps)
    while remaining:
        for i, s in enumerate(remaining):
            if all(a in done or a not in ids for a in s.step.after):
                placed.append(remaining.pop(i))
                done.add(s.step.id)
                break
        else:  # a cycle would be a data error; keep the rest as they are
            placed += remaining
            break
    return placed


def _city(province: Province | None, location: Location) -> City | None:
    if province is None or location.city is None:
        return None
    return province.cities.get(location.city)


_CHANNEL_EASINGS = {
    "foreign_debt": ("one_time_foreign_debt_registration", "hightech_foreign_debt_quota", "bank_level_registration", "ft_account"),
    "qflp": ("qflp_balance_management", "bank_level_registration", "ft_account"),
    "fdi": ("bank_level_registration", "capital_income_facilitation", "ft_account"),
}


def _easings_for(channel: str, eases: list[str]) -> list[str]:
    return [e for e in eases if e in _CHANNEL_EASINGS.get(channel, ())]


def _cite_sector(rb: RuleBase, profile: Profile, day: dt.date, finding: Finding) -> None:
    sector = rb.sectors.get(profile.sector or "")
    entry = value_at(sector.negative_list, day) if sector else None
    if entry is None:
        return  # no entry on that date: the finding says so itself
    finding.sources = list(dict.fromkeys([*entry.sources, *finding.sources]))
    finding.verified = finding.verified and entry.verified
    item = entry.value.item
    extra_en = f" Negative list ({entry.from_}): {item.en}" if item else ""
    extra_zh = f"负面清单（{entry.from_}）：{item.zh}" if item else ""
    conds = entry.value.conditions
    if conds:
        extra_en += " Conditions: " + "; ".join(c.en.rstrip(".") for c in conds) + "."
        extra_zh += " 条件：" + "；".join(c.zh.rstrip("。") for c in conds) + "。"
    finding.text = Text(en=finding.text.en + extra_en, zh=finding.text.zh + extra_zh)


def _qflp_findings(rb, profile, location, province, dated) -> tuple[list[Finding], list[Finding]]:
    """A pilot city's exclusions and warnings for the profile, memoised: many profiles meet the same city."""
    terms = dated.value
    thresholds = terms.lp_min_subscription is not None or (terms.fund_min_size is not None and terms.fund_min_size.amount > 0)
    key = (id(dated), location, profile.sector, profile.holder_type, profile.currency, profile.amount if thresholds else None)
    hit = _QFLP_FINDINGS.get(key)
    if hit is None or hit[0] is not dated:
        reasons: list[Finding] = []
        warnings: list[Finding] = []
        _check_qflp(rb, profile, location, province, dated, reasons, warnings)
        if len(_QFLP_FINDINGS) > 20_000:
            _QFLP_FINDINGS.clear()
        hit = _QFLP_FINDINGS[key] = (dated, reasons, warnings)
    return hit[1], hit[2]


_QFLP_FINDINGS: dict[tuple, tuple[Any, list[Finding], list[Finding]]] = {}
_ROUTE_STEPS: dict[tuple, tuple[Any, Any, RouteStep]] = {}


def clear_caches() -> None:
    """Forget every memoised search result (benchmarks measure cold searches with it)."""
    for cache in (_QFLP_FINDINGS, _EVALUATED, _FREE, _TIMELINES, _ROUTE_STEPS, _METRICS):
        cache.clear()


def _check_qflp(rb, profile, location, province, dated, reasons, warnings) -> None:
    terms: QflpTerms = dated.value
    city = province.cities[location.city]
    where = Text(en=f"{city.name.en} ({province.name.en})", zh=f"{province.name.zh}{city.name.zh}")
    src = list(dict.fromkeys([*terms.documents, *dated.sources]))
    if profile.sector in terms.excluded_sectors:
        bars = "; ".join(p.en for p in terms.prohibitions) or profile.sector
        reasons.append(
            Finding(
                "qflp_city_excluded_sector",
                Text(
                    en=f"{where.en} QFLP measures bar this sector ({profile.sector}): {bars}.",
                    zh=f"{where.zh}QFLP办法禁止投资该行业（{rb.sectors[profile.sector].name.zh}）：{'；'.join(p.zh for p in terms.prohibitions)}。",
                ),
                src,
                dated.verified,
            )
        )
    if profile.holder_type in terms.excluded_holder_types:
        reasons.append(
            Finding(
                "qflp_city_excluded_holder",
                Text(
                    en=f"{where.en} QFLP measures bar investment in or financing of this kind of holder ({profile.holder_type}).",
                    zh=f"{where.zh}QFLP办法禁止投资或融资于此类主体（{profile.holder_type}）。",
                ),
                src,
                dated.verified,
            )
        )
    lp_min = terms.lp_min_subscription
    if lp_min is not None:
        if lp_min.currency == profile.currency and profile.amount < lp_min.amount:
            reasons.append(
                Finding(
                    "qflp_lp_minimum",
                    Text(
                        en=f"The SPV's subscription {profile.amount:,.0f} {profile.currency} is below {where.en}'s minimum LP subscription of {lp_min.amount:,.0f} {lp_min.currency}.",
                        zh=f"SPV认缴额{profile.amount:,.0f} {profile.currency}低于{where.zh}单个LP最低认缴额{lp_min.amount:,.0f} {lp_min.currency}。",
                    ),
                    src,
                    dated.verified,
                )
            )
        elif lp_min.currency != profile.currency:
            warnings.append(_currency_warning("minimum LP subscription", "单个LP最低认缴额", lp_min, profile, src, dated.verified))
    size = terms.fund_min_size
    if size is not None and size.amount > 0:  # zero: the measures set no minimum
        if size.currency == profile.currency and profile.amount < size.amount:
            warnings.append(
                Finding(
                    "qflp_fund_minimum",
                    Text(
                        en=f"The fund must reach {size.amount:,.0f} {size.currency} in {where.en}; the SPV's {profile.amount:,.0f} alone falls short, so other LPs are needed.",
                        zh=f"{where.zh}试点基金规模不得低于{size.amount:,.0f} {size.currency}，仅凭SPV出资{profile.amount:,.0f}不足，需要其他LP。",
                    ),
                    src,
                    dated.verified,
                )
            )
        elif size.currency != profile.currency:
            warnings.append(_currency_warning("minimum fund size", "基金最低规模", size, profile, src, dated.verified))
    unknown = [
        (en, zh)
        for value, en, zh in (
            (terms.fund_min_size, "minimum fund size", "基金最低规模"),
            (terms.lp_min_subscription, "minimum LP subscription", "单个LP最低认缴额"),
            (terms.approval_body, "approval body", "审批机构"),
            (terms.processing_weeks, "processing time", "办理时限"),
        )
        if value is None
    ]
    if terms.quota_regime == "unknown":
        unknown.append(("quota regime", "额度管理方式"))
    if unknown:
        warnings.append(
            Finding(
                "qflp_terms_unknown",
                Text(
                    en=f"{where.en}: not found in the sources: " + ", ".join(e for e, _ in unknown) + ".",
                    zh=f"{where.zh}：资料中未查到：" + "、".join(z for _, z in unknown) + "。",
                ),
                src,
                True,
                "unknown",
            )
        )
    if not dated.verified:
        warnings.append(
            Finding(
                "qflp_terms_unverified",
                Text(
                    en=f"{where.en}: the QFLP terms are marked unverified in the rule base{': ' + dated.note if dated.note else ''}.",
                    zh=f"{where.zh}：规则库中的QFLP条款尚未核实。",
                ),
                src,
                False,
                "unknown",
            )
        )
    if terms.quota_regime in ("total", "balance"):
        warnings.append(
            Finding(
                "qflp_quota_regime",
                Text(
                    en=f"{where.en} manages QFLP quota as a {'total' if terms.quota_regime == 'total' else 'balance (net)'} amount per manager, so one manager can run several funds.",
                    zh=f"{where.zh}实行{'总量' if terms.quota_regime == 'total' else '余额'}管理，同一管理人可在额度内设立多支基金。",
                ),
                src,
                dated.verified,
                "note",
            )
        )


def _currency_warning(en: str, zh: str, money, profile: Profile, src: list[str], verified: bool) -> Finding:
    return Finding(
        "qflp_threshold_currency",
        Text(
            en=f"The {en} is {money.amount:,.0f} {money.currency}; the amount is in {profile.currency}, so check it at the day's rate (no conversion is made).",
            zh=f"{zh}为{money.amount:,.0f} {money.currency}，金额币种为{profile.currency}，请按当日汇率核对（本工具不做换算）。",
        ),
        src,
        verified,
    )


def _capacity(rb: RuleBase, profile: Profile, ch, day: dt.date, reasons: list, warnings: list, facts: Facts) -> tuple[float | None, Text | None]:
    cap = ch.capacity
    if not matches(cap.when, facts):
        warnings.append(Finding(f"{ch.id}_capacity_not_computed", cap.otherwise or cap.description, list(cap.sources), cap.verified))
        return None, None
    names: dict[str, Any] = {
        "amount": profile.amount,
        "net_assets": profile.net_assets,
        "term_months": profile.term_months,
        # an unknown term is weighed as medium/long term; the route says so
        "short_term": int(profile.term_months is not None and profile.term_months <= 12),
        "foreign_currency": int(profile.foreign_currency),
    }
    used: list[str] = []
    sources = list(cap.sources)
    for pid, par in rb.parameters.items():
        if pid in cap.formula:
            v = value_at(par.values, day)
            names[pid] = None if v is None else v.value
            if v is not None:
                used.append(f"{pid}={v.value:g} (from {v.from_})")
                sources += v.sources
    missing = [n for n in ("net_assets",) if n in cap.formula and profile.net_assets is None]
    if missing or any(names.get(p) is None for p in rb.parameters if p in cap.formula):
        warnings.append(
            Finding(
                f"{ch.id}_capacity_unknown",
                Text(
                    en=f"Capacity unknown: {cap.description.en}; give --net-assets to check the amount against it.",
                    zh=f"可承载额度未知：{cap.description.zh}；请提供 --net-assets 以核对金额。",
                ),
                list(dict.fromkeys(sources)),
                cap.verified,
            )
        )
        return None, None
    value = float(evaluate(cap.formula, names))
    weight = f"short_term={names['short_term']}, foreign_currency={names['foreign_currency']}"
    text = Text(
        en=f"{value:,.0f} {profile.currency} (net assets {profile.net_assets:,.0f}; {', '.join(used)}; {weight})",
        zh=f"{value:,.0f} {profile.currency}（净资产 {profile.net_assets:,.0f}；{', '.join(used)}；{weight}）",
    )
    if profile.amount > value:
        reasons.append(
            Finding(
                f"{ch.id}_over_capacity",
                Text(
                    en=f"The amount {profile.amount:,.0f} {profile.currency} exceeds the cap of {text.en}. {cap.description.en}.",
                    zh=f"金额{profile.amount:,.0f} {profile.currency}超过上限 {text.zh}。{cap.description.zh}。",
                ),
                list(dict.fromkeys(sources)),
                cap.verified,
            )
        )
    return value, text


def _timeline(steps: list[RouteStep]) -> tuple[float, float, int]:
    """Critical path: pre-issuance and vehicle set-up run in parallel, fund movement after both."""
    # Routes of one plan differ in a step or two (a QFLP city's approval): key on content.
    key = tuple((s.step.id, s.step.phase, tuple(s.step.after), None if s.weeks is None else (s.weeks.min, s.weeks.max)) for s in steps)
    hit = _TIMELINES.get(key)
    if hit is None:
        if len(_TIMELINES) > 4096:
            _TIMELINES.clear()
        hit = _TIMELINES[key] = _critical_path(steps)
    return hit


_TIMELINES: dict[tuple, tuple[float, float, int]] = {}


def _critical_path(steps: list[RouteStep]) -> tuple[float, float, int]:
    unknown = 0
    by_phase: dict[str, dict[str, RouteStep]] = {"pre_issuance": {}, "setup": {}, "funds": {}}
    for s in steps:
        by_phase[s.step.phase][s.step.id] = s
        unknown += s.weeks is None

    def phase_length(items: dict[str, RouteStep]) -> tuple[float, float]:
        done: dict[str, tuple[float, float]] = {}

        def finish(sid: str) -> tuple[float, float]:
            if sid not in done:
                s = items[sid]
                lo = hi = 0.0
                for a in s.step.after:  # a step starts when the last step it waits for ends
                    if a in items:
                        alo, ahi = finish(a)
                        lo, hi = max(lo, alo), max(hi, ahi)
                if s.weeks is not None:
                    lo, hi = lo + s.weeks.min, hi + s.weeks.max
                done[sid] = (lo, hi)
            return done[sid]

        ends = [finish(sid) for sid in items]
        return (max((e[0] for e in ends), default=0.0), max((e[1] for e in ends), default=0.0))

    pre, setup, funds = (phase_length(by_phase[p]) for p in ("pre_issuance", "setup", "funds"))
    tmin = round(max(pre[0], setup[0]) + funds[0], 1)
    tmax = round(max(pre[1], setup[1]) + funds[1], 1)
    return tmin, tmax, unknown


def _certainty(rb: RuleBase, channels, kind_factor: float, warnings, unverified: int, day: dt.date) -> float:
    sc = rb.scoring
    value = kind_factor  # the product of the steps' certainty by kind
    for cid in channels:
        c = rb.channels[cid].certainty
        if c is not None and c.in_force(day):
            value *= float(c.value)
    value *= sc.unverified_penalty**unverified
    value *= sc.warning_penalty ** sum(1 for w in warnings if w.kind == "warning")
    return round(value, 3)


# --- ranking -------------------------------------------------------------------


def _rank(routes: list[Route], rb: RuleBase, optimize: str, profile: Profile) -> None:
    if not routes:
        return
    sc = rb.scoring
    w = sc.objectives[optimize]
    times = [r.ranking_weeks for r in routes]
    best_time = min(times)
    best_cost = min(r.cost_index for r in routes)
    best_appr = min(r.approvals for r in routes)
    best_cert = max(r.certainty for r in routes) or 1.0
    for r, t in zip(routes, times):
        r.score = round(
            w["time"] * (best_time / t if t else 1.0)
            + w["cost"] * (best_cost / r.cost_index if r.cost_index else 1.0)
            + w["approvals"] * (best_appr / r.approvals if r.approvals else 1.0)
            + w["certainty"] * (r.certainty / best_cert),
            4,
        )
    # Pareto: no other route at least as good on every criterion and better on one.
    crit = [(t, r.cost_index, r.approvals, -r.certainty) for r, t in zip(routes, times)]
    distinct = set(crit)
    front = {
        c for c in distinct
        if not any(o != c and o[0] <= c[0] and o[1] <= c[1] and o[2] <= c[2] and o[3] <= c[3] for o in distinct)
    }
    for r, c in zip(routes, crit):
        r.pareto = c in front

    def proximity(r: Route) -> int:
        if r.location.province == profile.province:
            return 0 if (r.location.city == profile.city or r.location.city is None) else 1
        return 2

    routes.sort(key=lambda r: (-r.score, proximity(r), r.channels, _loc_key(r.location)))
    for i, r in enumerate(routes, 1):
        r.rank = i
