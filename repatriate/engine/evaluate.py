"""Check one route against the rules: its checklist, warnings, exclusion reasons and capacity.

Evaluated routes are shared across profiles that differ only in what the route does not
read (see ``memo``); they are immutable, so sharing is safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, TypeVar

from ..rulebase.conditions import Facts, evaluate, matches
from ..rulebase.records import (
    Channel, DatedValue, FxPilot, Money, Province, QflpTerms, Rule, RuleBase, Step, Text, value_at,
)
from . import memo
from .graph import full_path
from .places import city_of, city_terms, fx_pilots, province_of
from .profile import Profile
from .results import Exclusion, Finding, Location, Route, RouteDocument, RouteStep
from .timeline import schedule

AUTHORITY_KINDS = ("approval", "licence", "filing", "registration", "recommendation")

_Item = TypeVar("_Item", Step, Rule)


# --- facts ---------------------------------------------------------------------------


def facts_for(rb: RuleBase, profile: Profile, location: Location, day: dt.date) -> Facts:
    """What the matchers see: the profile, the sector's negative-list status, the location."""
    f = Facts(profile.model_dump())
    f["as_of"] = day
    sector = rb.sectors.get(profile.sector or "")
    entry = value_at(sector.negative_list, day) if sector else None
    f["sector_status"] = entry.value.status if entry else None
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
        self, rb: RuleBase, profile: Profile, facts: Facts, day: dt.date, verdicts: dict[Any, bool] | None = None
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
            if not _mentions_location(item.when):
                self.verdicts[key] = verdict
        return verdict

    def add_steps(
        self, channel: str, owner: str, items: Iterable[Step], city: tuple[Location, DatedValue[QflpTerms]] | None = None
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
            finding = Finding(r.id, r.message, tuple(r.sources), r.verified)
            if "sector_status" in r.when:
                finding = _cite_sector(self.rb, self.profile, self.day, finding)
            (self.reasons if r.effect == "exclude" else self.warnings).append(finding)


def route_step(
    rb: RuleBase, channel: str, owner: str, st: Step, city: tuple[Location, DatedValue[QflpTerms]] | None
) -> RouteStep:
    """A step as a route takes it; made once per step (and per pilot city where the city decides)."""
    by_city = city is not None and st.terms_from == "qflp_city"
    city_key = None
    if by_city:
        assert city is not None
        loc, dated = city
        city_key = (loc.province or "", loc.city or "", dated.from_.isoformat())
    key = (rb.digest, owner, st.id, city_key)
    made: RouteStep | None = memo.ROUTE_STEPS.get(key)
    if made is None:
        authority, weeks, sources, verified = st.authority, st.weeks, tuple(st.sources), st.verified
        if by_city:
            assert city is not None
            dated = city[1]
            terms = dated.value
            authority = terms.approval_body or Text(
                en="The pilot city's approval body (not stated in the sources)", zh="试点地区审批机构（资料未载明）"
            )
            weeks = terms.processing_weeks
            sources = tuple(dict.fromkeys([*terms.documents, *dated.sources]))
            verified = dated.verified
        made = memo.ROUTE_STEPS.put(key, RouteStep(channel, st, authority, weeks, sources, verified, (owner, st.id, city_key)))
    return made


def prerequisites(rb: RuleBase, profile: Profile, day: dt.date) -> Checklist:
    """Class-level steps, judged once per plan on the asset's own place (they concern the issue)."""
    pre = Checklist(rb, profile, facts_for(rb, profile, Location(profile.province, profile.city), day), day)
    pv = rb.provinces[profile.province]
    if profile.city and profile.city not in pv.cities:
        pre.warnings.append(
            Finding(
                "city_without_local_rules",
                Text(
                    en=f"The rule base holds no local rules for the city {profile.city!r}; {pv.name.en}'s provincial and the national rules apply.",
                    zh=f"规则库未收录城市“{profile.city}”的地方规则；适用{pv.name.zh}省级及全国性规则。",
                ),
                (),
                True,
                "unknown",
            )
        )
    for p in rb.prerequisites:
        if matches(p.when, pre.facts):
            pre.add_steps("prerequisite", p.id, p.steps)
            pre.apply_rules(p.rules, p.id)
    return pre


def no_local_pilot(rb: RuleBase, profile: Profile, channels: tuple[str, ...], day: dt.date) -> Exclusion:
    """The exclusion of a QFLP path when the asset's own place has no pilot in force."""
    pv = rb.provinces[profile.province]
    city = pv.cities.get(profile.city or "")
    where_en = f"{city.name.en} ({pv.name.en})" if city else (profile.city or pv.name.en)
    where_zh = f"{pv.name.zh}{city.name.zh}" if city else (profile.city or pv.name.zh)
    text = Text(
        en=f"No QFLP pilot in {where_en} is in force on {day} in the rule base; QFLP runs only through a pilot city.",
        zh=f"规则库中{where_zh}于{day}无有效的QFLP试点；QFLP只能通过试点城市开展。",
    )
    reasons = [Finding("qflp_no_local_pilot", text)]
    # a pilot known only from a note (no dated terms) is still worth telling the adviser
    reasons += [
        Finding("local_note", n.text, tuple(n.sources), n.verified, "note")
        for n in pv.notes
        if "qflp" in n.channels and n.valid.in_force(day)
    ]
    return Exclusion(channels, full_path(rb, channels), Location(profile.province, profile.city), tuple(reasons))


# --- one route ---------------------------------------------------------------------------


def _thresholds(terms: QflpTerms) -> bool:
    """Whether a city's terms set an amount the profile's amount is checked against."""
    return terms.lp_min_subscription is not None or (terms.fund_min_size is not None and terms.fund_min_size.amount > 0)


def _amount_free(rb: RuleBase, channels: tuple[str, ...], location: Location, day: dt.date) -> bool:
    """Whether a route's evaluation cannot depend on the amount or the net assets.

    Then portfolios whose assets differ only in amount share it (batch runs meet many).
    """
    pv = province_of(rb, location)
    for cid in channels:
        ch = rb.channels[cid]
        if ch.capacity is not None:
            return False
        items: list[Step | Rule] = [*ch.steps, *ch.rules, *([r for r in pv.rules if r.channel == cid] if pv else [])]
        if any(_mentions_amount(i.when) for i in items):
            return False
        if ch.location == "qflp_city" and pv is not None and _thresholds(city_terms(rb, location, day).value):
            return False
    for p in rb.prerequisites:
        conditions = [p.when, *(s.when for s in p.steps), *(r.when for r in p.rules)]
        if any(_mentions_amount(w) for w in conditions):
            return False
    return True


def evaluate_route(
    rb: RuleBase, profile: Profile, channels: tuple[str, ...], location: Location, day: dt.date, pre: Checklist
) -> Route | Exclusion:
    """Check one channel path at one location; shared across profiles that differ only in amounts it does not read."""
    free_key = (rb.digest, day, channels, location)
    free = memo.AMOUNT_FREE.get(free_key)
    if free is None:
        free = memo.AMOUNT_FREE.put(free_key, _amount_free(rb, channels, location, day))
    if not free:
        return _evaluate(rb, profile, channels, location, day, pre)
    fields = profile.model_dump()
    fields.pop("amount"), fields.pop("net_assets")
    key = (rb.digest, day, channels, location, tuple(fields.values()))
    hit: Route | Exclusion | None = memo.EVALUATED.get(key)
    if hit is None:
        hit = memo.EVALUATED.put(key, _evaluate(rb, profile, channels, location, day, pre))
    return hit


def _evaluate(
    rb: RuleBase, profile: Profile, channels: tuple[str, ...], location: Location, day: dt.date, pre: Checklist
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
    for cid in channels:
        ch = rb.channels[cid]
        terms = None
        if ch.location == "qflp_city":
            assert province is not None
            terms = (location, city_terms(rb, location, day))
            city_reasons, city_warnings = _qflp_findings(rb, profile, location, province, terms[1])
            reasons += city_reasons
            warnings += city_warnings
        route.add_steps(cid, cid, ch.steps, terms)
        route.apply_rules(ch.rules, cid)
        if province is not None:
            route.apply_rules([r for r in province.rules if r.channel == cid], f"{province.code}:{cid}")
            for n in (*province.notes, *(city.notes if city else ())):
                if (not n.channels or cid in n.channels) and n.valid.in_force(day):
                    notes.append(Finding("local_note", n.text, tuple(n.sources), n.verified, "note"))
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
                        tuple(pilot.sources),
                        pilot.verified,
                        "note",
                    )
                )
        if ch.capacity is not None:
            capacity, capacity_text, capacity_unknown = _capacity(rb, profile, ch, day, reasons, warnings, facts)

    if reasons:
        return Exclusion(channels, full_path(rb, channels), location, tuple(reasons))

    m = step_metrics(rb, route.steps)
    unverified = m.unverified + sum(1 for w in warnings if not w.verified)
    cert = certainty(rb, channels, m.kind_factor, warnings, unverified, day)
    if m.unknown_steps:
        warnings.append(
            Finding(
                "timeline_incomplete",
                Text(
                    en=f"{m.unknown_steps} step(s) have no stated or statutory duration; the timeline counts only the others.",
                    zh=f"{m.unknown_steps}个步骤无法定或公开的办理时限，时间线仅计入其余步骤。",
                ),
                (),
                True,
                "unknown",
            )
        )
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
    rb: RuleBase, channels: tuple[str, ...], kind_factor: float, warnings: list[Finding], unverified: int, day: dt.date
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
    return round(value, 3)


# --- findings of rules in Python (to move into data) ------------------------------------

_CHANNEL_EASINGS = {
    "foreign_debt": ("one_time_foreign_debt_registration", "hightech_foreign_debt_quota", "bank_level_registration", "ft_account"),
    "qflp": ("qflp_balance_management", "bank_level_registration", "ft_account"),
    "fdi": ("bank_level_registration", "capital_income_facilitation", "ft_account"),
}


def _easings_for(channel: str, eases: tuple[str, ...]) -> list[str]:
    return [e for e in eases if e in _CHANNEL_EASINGS.get(channel, ())]


def _cite_sector(rb: RuleBase, profile: Profile, day: dt.date, finding: Finding) -> Finding:
    sector = rb.sectors.get(profile.sector or "")
    entry = value_at(sector.negative_list, day) if sector else None
    if entry is None:
        return finding  # no entry on that date: the finding says so itself
    item = entry.value.item
    extra_en = f" Negative list ({entry.from_}): {item.en}" if item else ""
    extra_zh = f"负面清单（{entry.from_}）：{item.zh}" if item else ""
    conds = entry.value.conditions
    if conds:
        extra_en += " Conditions: " + "; ".join(c.en.rstrip(".") for c in conds) + "."
        extra_zh += " 条件：" + "；".join(c.zh.rstrip("。") for c in conds) + "。"
    return Finding(
        finding.rule,
        Text(en=finding.text.en + extra_en, zh=finding.text.zh + extra_zh),
        tuple(dict.fromkeys([*entry.sources, *finding.sources])),
        finding.verified and entry.verified,
        finding.kind,
    )


def _qflp_findings(
    rb: RuleBase, profile: Profile, location: Location, province: Province, dated: DatedValue[QflpTerms]
) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """A pilot city's exclusions and warnings for the profile, memoised: many profiles meet the same city."""
    key = (
        rb.digest, location, dated.from_, profile.sector, profile.holder_type, profile.currency,
        profile.amount if _thresholds(dated.value) else None,
    )
    hit: tuple[tuple[Finding, ...], tuple[Finding, ...]] | None = memo.QFLP_FINDINGS.get(key)
    if hit is None:
        reasons: list[Finding] = []
        warnings: list[Finding] = []
        _check_qflp(rb, profile, location, province, dated, reasons, warnings)
        hit = memo.QFLP_FINDINGS.put(key, (tuple(reasons), tuple(warnings)))
    return hit


def _check_qflp(
    rb: RuleBase, profile: Profile, location: Location, province: Province, dated: DatedValue[QflpTerms],
    reasons: list[Finding], warnings: list[Finding],
) -> None:
    terms = dated.value
    city = province.cities[location.city or ""]
    where = Text(en=f"{city.name.en} ({province.name.en})", zh=f"{province.name.zh}{city.name.zh}")
    src = tuple(dict.fromkeys([*terms.documents, *dated.sources]))
    if profile.sector in terms.excluded_sectors:
        assert profile.sector is not None
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


def _currency_warning(en: str, zh: str, money: Money, profile: Profile, src: tuple[str, ...], verified: bool) -> Finding:
    return Finding(
        "qflp_threshold_currency",
        Text(
            en=f"The {en} is {money.amount:,.0f} {money.currency}; the amount is in {profile.currency}, so check it at the day's rate (no conversion is made).",
            zh=f"{zh}为{money.amount:,.0f} {money.currency}，金额币种为{profile.currency}，请按当日汇率核对（本工具不做换算）。",
        ),
        src,
        verified,
    )


def _capacity(
    rb: RuleBase, profile: Profile, ch: Channel, day: dt.date, reasons: list[Finding], warnings: list[Finding], facts: Facts
) -> tuple[float | None, Text | None, bool]:
    """The channel's capacity for the profile: (amount, basis, unknown for want of profile data)."""
    cap = ch.capacity
    assert cap is not None
    if not matches(cap.when, facts):
        warnings.append(Finding(f"{ch.id}_capacity_not_computed", cap.otherwise or cap.description, tuple(cap.sources), cap.verified))
        return None, None, False
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
                tuple(dict.fromkeys(sources)),
                cap.verified,
            )
        )
        return None, None, True
    value = float(evaluate(cap.formula, names))
    weight = f"short_term={names['short_term']}, foreign_currency={names['foreign_currency']}"
    assert profile.net_assets is not None
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
                tuple(dict.fromkeys(sources)),
                cap.verified,
            )
        )
    return value, text, False
