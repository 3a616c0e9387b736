"""Check one route against the rules: its checklist, warnings, exclusion reasons and capacity.

Evaluated routes are shared across profiles that differ only in what the route does not
read (see ``memo``); they are immutable, so sharing is safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

from ..rulebase.conditions import Facts, matches
from ..rulebase.records import (
    DatedValue,
    FxPilot,
    Money,
    Province,
    QflpCheck,
    QflpCondition,
    QflpTerms,
    Rule,
    RuleBase,
    Step,
    Text,
    value_at,
)
from . import memo
from .capacity import holder_age_months, route_capacity
from .graph import full_path
from .places import PilotCity, city_label, city_of, city_terms, fx_pilots, province_of
from .profile import Profile
from .results import Exclusion, Finding, FindingKind, Location, Route, RouteDocument, RouteStep
from .timeline import schedule

AUTHORITY_KINDS = ("approval", "licence", "filing", "registration", "recommendation")

_Item = TypeVar("_Item", Step, Rule)


# --- facts ---------------------------------------------------------------------------


def facts_for(rb: RuleBase, profile: Profile, location: Location, day: dt.date) -> Facts:
    """What the matchers see: the profile, the sector's negative-list status, the location."""
    f = Facts(profile.model_dump())
    f["as_of"] = day
    f["holder_age_months"] = holder_age_months(profile.founded, day)  # under 12: the first year
    sector = rb.sectors.get(profile.sector or "")
    entry = value_at(sector.negative_list, day) if sector else None
    f["sector_status"] = entry.value.status if entry else None
    f["foreign_share_max"] = entry.value.foreign_share_max if entry else None  # allocate's share cap
    f["sector_tags"] = tuple(sector.tags) if sector else ()
    place_facts(rb, f, location, day)
    return f


def place_facts(rb: RuleBase, facts: Facts, location: Location, day: dt.date) -> list[FxPilot]:
    """Set the location's facts; return the FX pilots in force there, which they come from."""
    pilots = fx_pilots(rb, location, day)
    facts["location_province"] = location.province
    facts["location_city"] = location.city
    facts["location_easings"] = tuple(e for pilot in pilots for e in pilot.eases)
    return pilots


def _mentions(when: Any, keys: tuple[str, ...] = (), prefix: str | None = None) -> bool:
    """Whether a condition reads one of ``keys`` (or a key starting with ``prefix``)."""
    if isinstance(when, Mapping):
        return any(
            k in keys or (prefix is not None and k.startswith(prefix)) or _mentions(v, keys, prefix)
            for k, v in when.items()
        )
    if isinstance(when, (list, tuple)):
        return any(_mentions(v, keys, prefix) for v in when)
    return False


def _mentions_location(when: Any) -> bool:
    """Whether a condition looks at the route's location (then it is judged per route)."""
    return _mentions(when, prefix="location")


_AMOUNT_KEYS = ("amount", "net_assets", "expr")


def _mentions_amount(when: Any) -> bool:
    return _mentions(when, _AMOUNT_KEYS)


# --- the checklist ---------------------------------------------------------------------


class Checklist:
    """Steps, warnings and exclusion reasons collected for one route (or its prerequisites)."""

    def __init__(
        self,
        rb: RuleBase,
        profile: Profile,
        facts: Facts,
        day: dt.date,
        verdicts: dict[Any, bool] | None = None,
    ) -> None:
        self.rb, self.profile, self.facts, self.day = rb, profile, facts, day
        # verdicts of location-free conditions, shared by every route of one plan
        self.verdicts: dict[Any, bool] = {} if verdicts is None else verdicts
        self.steps: list[RouteStep] = []
        self.seen: set[str] = set()
        self.warnings: list[Finding] = []
        self.reasons: list[Finding] = []

    def extend(self, other: Checklist) -> None:
        self.steps += other.steps
        self.seen |= other.seen
        self.warnings += other.warnings
        self.reasons += other.reasons

    def holds(self, item: Step | Rule, scope: str) -> bool:
        """Is a step or rule in force on the day and does its condition match?"""
        key = (scope, type(item).__name__, item.id)
        verdict = self.verdicts.get(key)
        if verdict is None:
            verdict = item.valid.in_force(self.day) and matches(item.when, self.facts)
            free_key = (self.rb.digest, *key)
            free = memo.LOCATION_FREE.get(free_key)
            if free is None:
                free = memo.LOCATION_FREE.put(free_key, not _mentions_location(item.when))
            if free:
                self.verdicts[key] = verdict
        return verdict

    def add_steps(
        self,
        channel: str,
        owner: str,
        items: Iterable[Step],
        city: PilotCity | None = None,
    ) -> None:
        for st in items:
            if st.id in self.seen or not self.holds(st, owner):
                continue
            self.seen.add(st.id)
            self.steps.append(route_step(self.rb, channel, owner, st, city))

    def apply_rules(self, rules: Iterable[Rule], scope: str) -> None:
        for r in rules:
            if not self.holds(r, scope):
                continue
            # a note asks to confirm (not a risk); a condition says the route may not exist at all
            kind: FindingKind = "note" if r.effect == "note" else "condition" if r.effect == "condition" else "warning"
            finding = Finding(r.id, r.message, tuple(r.sources), r.verified, kind)
            if "sector_status" in r.when:  # the citation depends on the sector and day alone: made once
                key = (self.rb.digest, "cite_sector", scope, r.id, self.profile.sector, self.day)
                cited: Finding | None = memo.FINDINGS.get(key)
                if cited is None:
                    cited = memo.FINDINGS.put(key, _cite_sector(self.rb, self.profile, self.day, finding))
                finding = cited
            (self.reasons if r.effect == "exclude" else self.warnings).append(finding)


def route_step(rb: RuleBase, channel: str, owner: str, st: Step, city: PilotCity | None) -> RouteStep:
    """A step as a route takes it; made once per step (and per pilot city where the city decides)."""
    pilot = city if city is not None and st.terms_from == "qflp_city" else None
    city_key = None if pilot is None else (pilot.province, pilot.city, pilot.terms.from_.isoformat())
    key = (rb.digest, owner, st.id, city_key)
    made: RouteStep | None = memo.ROUTE_STEPS.get(key)
    if made is None:
        authority, weeks, sources, verified = st.authority, st.weeks, tuple(st.sources), st.verified
        if pilot is not None:
            terms = pilot.terms.value
            authority = terms.approval_body or rb.messages.qflp_default_authority.fill()
            weeks = terms.processing_weeks
            sources = tuple(dict.fromkeys([*terms.documents, *pilot.terms.sources]))
            verified = pilot.terms.verified
        made = memo.ROUTE_STEPS.put(
            key, RouteStep(channel, st, authority, weeks, sources, verified, (owner, st.id, city_key))
        )
    return made


def prerequisites(rb: RuleBase, profile: Profile, day: dt.date) -> Checklist:
    """Class-level steps, judged once per plan on the asset's own place (they concern the issue)."""
    pre = Checklist(rb, profile, facts_for(rb, profile, Location(profile.province, profile.city), day), day)
    pv = rb.provinces[profile.province]
    if profile.city and profile.city not in pv.cities:
        text = rb.messages.city_without_local_rules.fill(
            city=city_label(rb, profile.province, profile.city), province=pv.name
        )
        pre.warnings.append(Finding("city_without_local_rules", text, (), True, "unknown"))
    for p in rb.prerequisites:
        if matches(p.when, pre.facts):
            pre.add_steps("prerequisite", p.id, p.steps)
            pre.apply_rules(p.rules, p.id)
    return pre


def no_local_pilot(rb: RuleBase, profile: Profile, channels: tuple[str, ...], day: dt.date) -> Exclusion:
    """The exclusion of a QFLP path when the asset's own place has no pilot in force."""
    pv = rb.provinces[profile.province]
    city = pv.cities.get(profile.city or "")
    where: Text | str
    if city is not None:
        where = rb.messages.place_city.fill(city=city.name, province=pv.name)
    else:
        where = profile.city or pv.name
    text = rb.messages.qflp_no_local_pilot.fill(where=where, day=day)
    reasons = [Finding("qflp_no_local_pilot", text)]
    # a pilot known only from a note (no dated terms) is still worth telling the adviser
    reasons += [
        Finding("local_note", n.text, tuple(n.sources), n.verified, "note")
        for n in pv.notes
        if "qflp" in n.channels and n.valid.in_force(day)
    ]
    return Exclusion(
        channels, full_path(rb, channels), Location(profile.province, profile.city), tuple(reasons)
    )


# --- one route ---------------------------------------------------------------------------


def _thresholds(rb: RuleBase, terms: QflpTerms) -> bool:
    """Whether a city's terms set an amount (above zero) that a QFLP check compares the amount with."""
    for check in rb.qflp_checks.checks:
        field = check.when.amount_below
        money: Money | None = getattr(terms, field) if field else None
        if money is not None and money.amount > 0:
            return True
    return False


def _amount_free(rb: RuleBase, channels: tuple[str, ...], location: Location, day: dt.date) -> bool:
    """Whether a route's evaluation cannot depend on the amount or the net assets.

    Then portfolios whose assets differ only in amount share it (batch runs meet many).
    """
    pv = province_of(rb, location)
    for cid in channels:
        ch = rb.channels[cid]
        if _reads_amount(rb, cid, pv):
            return False
        if (
            ch.location == "qflp_city"
            and pv is not None
            and _thresholds(rb, city_terms(rb, location, day).value)
        ):
            return False
    return not _reads_amount(rb, None, None)


def _reads_amount(rb: RuleBase, cid: str | None, pv: Province | None) -> bool:
    """Whether a channel's capacity, steps or rules (with a province's rules for it) read the amount;
    with ``cid=None``, whether the prerequisites do. Memoised: the larger graph (issue 10) meets
    many channel and place pairs, and their rules do not change within a rule base."""
    key = (rb.digest, "reads_amount", cid, pv.code if pv else None)
    hit: bool | None = memo.FINDINGS.get(key)
    if hit is None:
        if cid is None:
            conditions = [
                w
                for p in rb.prerequisites
                for w in (p.when, *(s.when for s in p.steps), *(r.when for r in p.rules))
            ]
            hit = any(_mentions_amount(w) for w in conditions)
        else:
            ch = rb.channels[cid]
            items: list[Step | Rule] = [
                *ch.steps,
                *ch.rules,
                *([r for r in pv.rules if r.channel == cid] if pv else []),
            ]
            hit = ch.capacity is not None or any(_mentions_amount(i.when) for i in items)
        hit = memo.FINDINGS.put(key, hit)
    return hit


def evaluate_route(
    rb: RuleBase,
    profile: Profile,
    channels: tuple[str, ...],
    location: Location,
    day: dt.date,
    pre: Checklist,
) -> Route | Exclusion:
    """Check one channel path at one location.

    The result is shared across profiles that differ only in amounts the evaluation does not read.
    """
    free_key = (rb.digest, day, channels, location)
    free = memo.AMOUNT_FREE.get(free_key)
    if free is None:
        free = memo.AMOUNT_FREE.put(free_key, _amount_free(rb, channels, location, day))
    if not free:
        return _evaluate(rb, profile, channels, location, day, pre)
    fields = profile.model_dump()
    for amount_field in ("amount", "net_assets", "total_investment", "registered_capital"):  # read by capacities only
        fields.pop(amount_field)
    key = (rb.digest, day, channels, location, tuple(fields.values()))
    hit: Route | Exclusion | None = memo.EVALUATED.get(key)
    if hit is None:
        hit = memo.EVALUATED.put(key, _evaluate(rb, profile, channels, location, day, pre))
    return hit


def _evaluate(
    rb: RuleBase,
    profile: Profile,
    channels: tuple[str, ...],
    location: Location,
    day: dt.date,
    pre: Checklist,
) -> Route | Exclusion:
    facts = Facts(pre.facts)
    pilots = place_facts(rb, facts, location, day)
    route = Checklist(rb, profile, facts, day, pre.verdicts)
    route.extend(pre)
    reasons, warnings = route.reasons, route.warnings
    notes: list[Finding] = []

    capacity: float | None = None
    capacity_text: Text | None = None
    capacity_unknown = False
    province = province_of(rb, location)
    city = city_of(province, location)
    pilot_cities: list[PilotCity | None] = []
    for cid in channels:
        ch = rb.channels[cid]
        pilot_city = None
        if ch.location == "qflp_city":
            assert province is not None
            pilot_city = PilotCity(
                location.province or "", location.city or "", city_terms(rb, location, day)
            )
            found = _qflp_findings(rb, profile, location, province, pilot_city.terms)
            reasons += found.reasons
            warnings += found.warnings
        pilot_cities.append(pilot_city)
        route.apply_rules(ch.rules, cid)
        if province is not None:
            route.apply_rules([r for r in province.rules if r.channel == cid], f"{province.code}:{cid}")
        if ch.capacity is not None:
            capacity, capacity_text, capacity_unknown = route_capacity(
                rb, profile, ch, day, reasons, warnings, facts
            )

    if reasons:
        return Exclusion(channels, full_path(rb, channels), location, tuple(reasons))

    # issue 10: the checklist and notes only for a route that stands (the larger graph excludes more)
    for cid, pilot_city in zip(channels, pilot_cities):
        route.add_steps(cid, cid, rb.channels[cid].steps, pilot_city)
        if province is not None:
            for n in (*province.notes, *(city.notes if city else ())):
                if (not n.channels or cid in n.channels) and n.valid.in_force(day):
                    notes.append(Finding("local_note", n.text, tuple(n.sources), n.verified, "note"))
        for pilot in pilots:
            note = _pilot_note(rb, location, pilot, cid)
            if note is not None:
                notes.append(note)

    m = step_metrics(rb, route.steps)
    unverified = m.unverified + sum(1 for w in warnings if not w.verified)
    cert = certainty(rb, channels, m.kind_factor, warnings, unverified, day)
    if m.unknown_steps:
        key = (rb.digest, "timeline_incomplete", m.unknown_steps)
        incomplete: Finding | None = memo.FINDINGS.get(key)
        if incomplete is None:
            text = rb.messages.timeline_incomplete.fill(count=m.unknown_steps)
            incomplete = memo.FINDINGS.put(key, Finding("timeline_incomplete", text, (), True, "unknown"))
        warnings.append(incomplete)
    return Route(
        channels=channels,
        path=full_path(rb, channels),
        location=location,
        steps=m.steps,
        documents=m.documents,
        warnings=tuple(warnings),
        notes=tuple(notes),
        timeline=m.timeline,
        unknown_steps=m.unknown_steps,
        approvals=m.approvals,
        cost_index=m.approvals + 0.5 * len(m.documents),
        certainty=cert,
        capacity=capacity,
        capacity_text=capacity_text,
        capacity_unknown=capacity_unknown,
        unverified=unverified,
        ranking_weeks=m.ranking_weeks,
    )


def _pilot_note(rb: RuleBase, location: Location, pilot: FxPilot, channel: str) -> Finding | None:
    """The note that an FX pilot eases a channel at a location, or ``None`` when it eases none of it."""
    key = (rb.digest, "fx_pilot", location.province, pilot.id, channel)
    hit: tuple[Finding | None] | None = memo.FINDINGS.get(key)
    if hit is None:
        note = None
        relevant = [rb.easings[e] for e in pilot.eases if channel in rb.easings[e].channels]
        if relevant:
            names = rb.messages.item_separator.join(e.name for e in relevant)
            text = rb.messages.fx_pilot.fill(area=pilot.area, easings=names, since=pilot.joined)
            note = Finding(f"fx_pilot_{pilot.id}", text, tuple(pilot.sources), pilot.verified, "note")
        hit = memo.FINDINGS.put(key, (note,))
    return hit[0]


class StepMetrics(NamedTuple):
    """What a route's checklist alone decides: order, documents, time, approvals."""

    steps: tuple[RouteStep, ...]
    documents: tuple[RouteDocument, ...]
    timeline: Any  # Span
    unknown_steps: int
    approvals: int
    unverified: int
    kind_factor: float
    ranking_weeks: float


def step_metrics(rb: RuleBase, steps: list[RouteStep]) -> StepMetrics:
    """Memoised on the steps' keys: most routes repeat a checklist."""
    key = (rb.digest, tuple(s.key for s in steps))
    hit: StepMetrics | None = memo.METRICS.get(key)
    if hit is not None:
        return hit
    ordered = in_order(steps)
    documents: dict[str, int] = {}
    for i, s in enumerate(ordered, 1):
        for d in s.step.documents:
            documents.setdefault(d, i)
    sched = schedule(ordered)
    sc = rb.scoring
    factor = 1.0
    for s in ordered:
        factor *= sc.certainty_by_kind.get(s.step.kind, 1.0)
    m = StepMetrics(
        steps=tuple(ordered),
        documents=tuple(RouteDocument(d, n) for d, n in documents.items()),
        timeline=sched.weeks,
        unknown_steps=sched.unknown_steps,
        approvals=sum(1 for s in ordered if s.step.kind in AUTHORITY_KINDS),
        unverified=sum(1 for s in ordered if not s.verified),
        kind_factor=factor,
        ranking_weeks=sched.weeks.max
        + sum(sc.unknown_duration_weeks.get(s.step.kind, 0.0) for s in ordered if s.weeks is None),
    )
    return memo.METRICS.put(key, m)


def in_order(steps: list[RouteStep]) -> list[RouteStep]:
    """Phase order, then every step after the steps it waits for (stable otherwise)."""
    from ..rulebase.records import PHASES

    remaining = sorted(steps, key=lambda s: PHASES.index(s.step.phase))
    ids = {s.step.id for s in remaining}
    placed: list[RouteStep] = []
    done: set[str] = set()
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


def certainty(
    rb: RuleBase,
    channels: tuple[str, ...],
    kind_factor: float,
    warnings: list[Finding],
    unverified: int,
    day: dt.date,
) -> float:
    """How discretionary or untested a route is: steps' kinds, channel factors in force, penalties."""
    sc = rb.scoring
    value = kind_factor  # the product of the steps' certainty by kind
    for cid in channels:
        c = rb.channels[cid].certainty
        if c is not None and c.in_force(day):
            value *= float(c.value)
    value *= sc.unverified_penalty**unverified
    value *= sc.warning_penalty ** sum(1 for w in warnings if w.kind == "warning")
    value *= sc.condition_penalty ** sum(1 for w in warnings if w.kind == "condition")
    return round(value, 3)


# --- findings the data words --------------------------------------------------------------


def _cite_sector(rb: RuleBase, profile: Profile, day: dt.date, finding: Finding) -> Finding:
    """A negative-list rule's finding, with the list's entry for the sector and its sources."""
    sector = rb.sectors.get(profile.sector or "")
    entry = value_at(sector.negative_list, day) if sector else None
    if entry is None:
        return finding  # no entry on that date: the finding says so itself
    msgs = rb.messages
    text = finding.text
    item = entry.value.item
    if item is not None:
        text = _concat(text, msgs.negative_list_citation.fill(since=entry.from_, item=item))
    conds = entry.value.conditions
    if conds:
        # each condition ends a clause of the list: its own full stop goes
        clauses = [Text(en=c.en.rstrip("."), zh=c.zh.rstrip("。")) for c in conds]
        text = _concat(
            text, msgs.negative_list_conditions.fill(conditions=msgs.clause_separator.join(clauses))
        )
    return Finding(
        finding.rule,
        text,
        tuple(dict.fromkeys([*entry.sources, *finding.sources])),
        finding.verified and entry.verified,
        finding.kind,
    )


def _concat(a: Text, b: Text) -> Text:
    return Text(en=a.en + b.en, zh=a.zh + b.zh)


class CityFindings(NamedTuple):
    """What a pilot city's terms say of a profile: reasons to exclude the city, and warnings."""

    reasons: tuple[Finding, ...]
    warnings: tuple[Finding, ...]


class _PilotTerms(NamedTuple):
    """What the checks read of one pilot city's terms, worked out once per city and period."""

    values: dict[str, Any]  # message values that depend on the city alone
    sources: tuple[str, ...]
    thresholds: bool  # whether a check compares the amount with a threshold of these terms
    fixed: tuple[Finding | None, ...]  # per check: the finding of a check that reads no profile field


def _reads_profile(when: QflpCondition) -> bool:
    return when.profile_in is not None or when.amount_below is not None or when.other_currency is not None


def _pilot_terms(
    rb: RuleBase, location: Location, province: Province, dated: DatedValue[QflpTerms]
) -> _PilotTerms:
    key = (rb.digest, "qflp_city", location, dated.from_)
    hit: _PilotTerms | None = memo.FINDINGS.get(key)
    if hit is not None:
        return hit
    terms, msgs = dated.value, rb.messages
    city = province.cities[location.city or ""]
    regime = rb.qflp_checks.quota_regimes.get(terms.quota_regime)
    values: dict[str, Any] = {
        "where": msgs.place_city.fill(city=city.name, province=province.name),
        "prohibitions": msgs.clause_separator.join(terms.prohibitions),
        "regime": regime if regime is not None else terms.quota_regime,
        "note_suffix": msgs.note_suffix.fill(note=dated.note) if dated.note else "",
    }
    sources = tuple(dict.fromkeys([*terms.documents, *dated.sources]))
    partial = _PilotTerms(values, sources, _thresholds(rb, terms), ())
    fixed = []
    for check in rb.qflp_checks.checks:
        found = None
        if not _reads_profile(check.when):
            extra = _check_values(rb, check.when, None, dated)
            if extra is not None:
                found = _qflp_finding(check, partial, dated, {**values, **extra})
        fixed.append(found)
    return memo.FINDINGS.put(key, partial._replace(fixed=tuple(fixed)))


def _qflp_findings(
    rb: RuleBase, profile: Profile, location: Location, province: Province, dated: DatedValue[QflpTerms]
) -> CityFindings:
    """A pilot city's exclusions and warnings for the profile, memoised: many profiles meet the same city."""
    city = _pilot_terms(rb, location, province, dated)
    # the checks read the profile's listed fields and currency, and its amount only against a threshold
    key = (
        rb.digest,
        location,
        dated.from_,
        profile.sector,
        profile.holder_type,
        profile.currency,
        profile.asset_class,
        profile.amount if city.thresholds else None,
    )
    hit: CityFindings | None = memo.QFLP_FINDINGS.get(key)
    if hit is None:
        reasons: list[Finding] = []
        warnings: list[Finding] = []
        for check, fixed in zip(rb.qflp_checks.checks, city.fixed):
            finding = fixed
            if _reads_profile(check.when):
                extra = _check_values(rb, check.when, profile, dated)
                if extra is not None:
                    finding = _qflp_finding(
                        check, city, dated, {**_profile_values(rb, profile, city), **extra}
                    )
            if finding is not None:
                (reasons if check.effect == "exclude" else warnings).append(finding)
        hit = memo.QFLP_FINDINGS.put(key, CityFindings(tuple(reasons), tuple(warnings)))
    return hit


def _profile_values(rb: RuleBase, profile: Profile, city: _PilotTerms) -> dict[str, Any]:
    """Message values of a profile at a pilot city."""
    sector = rb.sectors.get(profile.sector or "")
    bars: Text = city.values["prohibitions"]
    if not bars.en:  # measures whose bars are not listed: name the sector at least
        bars = Text(en=profile.sector or "", zh=bars.zh)
    return {
        **city.values,
        "prohibitions": bars,
        "sector": profile.sector,
        "sector_name": sector.name if sector else "",
        "holder_type": profile.holder_type,
        "amount": profile.amount,
        "currency": profile.currency,
    }


def _check_values(
    rb: RuleBase, when: QflpCondition, profile: Profile | None, dated: DatedValue[QflpTerms]
) -> dict[str, Any] | None:
    """Whether a check holds: ``None`` when not, else the values its message reads beyond the usual.

    ``profile`` is ``None`` for the checks that read the terms alone.
    """
    terms = dated.value
    if when.profile_in is not None:
        assert profile is not None
        listed: tuple[str, ...] = getattr(terms, when.profile_in.terms)
        return {} if getattr(profile, when.profile_in.profile) in listed else None
    money_field = when.amount_below or when.other_currency
    if money_field is not None:
        assert profile is not None
        money: Money | None = getattr(terms, money_field)
        if money is None or money.amount <= 0:  # zero: the measures set no minimum
            return None
        same = money.currency == profile.currency
        holds = (same and profile.amount < money.amount) if when.amount_below else not same
        if not holds:
            return None
        name = rb.qflp_checks.term_names[money_field]
        return {"minimum": money.amount, "minimum_currency": money.currency, "term": name}
    if when.terms_unknown is not None:
        missing = [
            f
            for f in when.terms_unknown
            if getattr(terms, f) is None or (f == "quota_regime" and terms.quota_regime == "unknown")
        ]
        if not missing:
            return None
        names = rb.qflp_checks.term_names
        return {"unknown": rb.messages.item_separator.join(names[f] for f in missing)}
    if when.terms_unverified is not None:
        return {} if (not dated.verified) == when.terms_unverified else None
    if when.terms_in is not None:
        for field, accepted in when.terms_in.items():
            if getattr(terms, field) not in accepted:
                return None
        return {}
    return None


def _qflp_finding(
    check: QflpCheck, city: _PilotTerms, dated: DatedValue[QflpTerms], values: dict[str, Any]
) -> Finding:
    text = check.message.fill(**values)
    # an exclusion's reason reads as a warning; the other effects name the finding's kind
    kind: FindingKind = (
        "note" if check.effect == "note" else "unknown" if check.effect == "unknown" else "warning"
    )
    verified = dated.verified if check.verified_from_terms else True
    return Finding(check.id, text, city.sources, verified, kind)
