"""The pydantic models that describe the rule base under ``data/``.

They are the single description of the data: the loader validates with them and
``repatriate data schema`` prints their JSON Schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Date = dt.date

from ..vocab import ASSET_CLASSES, HOLDER_TYPES, SPV_OWNERS  # noqa: E402,F401
from .records import PHASES  # noqa: E402


class Strict(BaseModel):
    """Base for every data model: unknown keys are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Text(Strict):
    """A bilingual text. ``zh`` is simplified Chinese; ``zh_hant`` traditional, optional."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)
    zh_hant: str | None = None

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Weeks(Strict):
    """A span of weeks, with where the figure comes from."""

    min: float = Field(ge=0)
    max: float = Field(ge=0)
    basis: Literal["statutory", "stated", "practice", "estimate"] = "estimate"
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Weeks:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class Money(Strict):
    amount: float = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Validity(Strict):
    """When a rule, step or document is in force: ``from`` inclusive, ``to`` exclusive."""

    from_: Date | None = Field(default=None, alias="from")
    to: Date | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.from_ and self.to and self.to <= self.from_:
            raise ValueError(f"'to' ({self.to}) is not after 'from' ({self.from_})")
        return self


class Sourced(Strict):
    """Mixin fields every fact carries: its sources and whether it was checked."""

    sources: list[str] = Field(default_factory=list)
    verified: bool = True
    note: str | None = None


class DatedValue(Sourced):
    """One value of a parameter over a period, OpenFisca style."""

    from_: Date = Field(alias="from")
    to: Date | None = None
    value: Any = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _ordered(self) -> DatedValue:
        if self.to and self.to <= self.from_:
            raise ValueError(f"'to' ({self.to}) is not after 'from' ({self.from_})")
        return self


def check_no_overlap(values: list[DatedValue] | list[Any], what: str) -> None:
    """Raise ``ValueError`` when two dated values of one series overlap."""
    spans = sorted(values, key=lambda v: v.from_)
    for a, b in zip(spans, spans[1:]):
        if a.to is None or a.to > b.from_:
            raise ValueError(f"{what}: values from {a.from_} and {b.from_} overlap")


# --- catalogues ---------------------------------------------------------------


class Source(Strict):
    """A regulation, circular, local measure or secondary text cited by the data."""

    title: Text
    doc_no: str | None = None
    issuer: Text | str  # a joint text names every issuing body
    issued: Date | None = None  # signed or adopted
    published: Date | None = None  # made public
    effective: Date | None = None  # a rule's period starts here
    status: Literal["in_force", "amended", "superseded", "repealed", "expired", "draft", "unknown"]
    url: str | None = None
    # who publishes the text at `url` (or, without one, what the fact rests on); it replaces the
    # old primary/secondary kind: official and official_reprint hold the text itself
    tier: Literal["official", "official_reprint", "law_firm", "news", "listing"]
    # the url holds the text itself, copied by a publisher that is not a government
    unofficial_copy: bool = False
    checked: Date | None = None  # when the url and the fact were last read
    verified: bool = True
    note: str | None = None

    @model_validator(mode="after")
    def _copy_is_unofficial(self) -> Source:
        if self.unofficial_copy and self.tier in ("official", "official_reprint"):
            raise ValueError(f"unofficial_copy contradicts tier {self.tier!r}")
        return self


class Document(Strict):
    """A paper a step needs."""

    name: Text
    issuer: Text
    proves: Text
    sources: list[str] = Field(default_factory=list)
    verified: bool = True


class Structure(Strict):
    """A legal structure: a node of the graph."""

    name: Text
    role: Literal["source", "sink", "vehicle"]
    description: Text


class Parameter(Strict):
    """A named, dated number used in capacity formulas (e.g. the macro-prudential parameter)."""

    name: Text
    unit: str
    values: list[DatedValue]

    @model_validator(mode="after")
    def _no_overlap(self) -> Parameter:
        check_no_overlap(self.values, "parameter")
        return self


class NegativeListEntry(Strict):
    """What the foreign-investment negative list says of a sector in one edition."""

    status: Literal["permitted", "restricted", "prohibited"]
    item: Text | None = None
    conditions: list[Text] = Field(default_factory=list)
    # the highest foreign share of the operating company the item allows, where it states a figure
    # (0.5 for "not above 50%"); None when it states none (a prohibited sector allows nothing)
    foreign_share_max: float | None = Field(default=None, ge=0, lt=1)


class Sector(Strict):
    name: Text
    negative_list: list[DatedValue]
    tags: list[str] = Field(default_factory=list)

    @field_validator("negative_list")
    @classmethod
    def _entries(cls, v: list[DatedValue]) -> list[DatedValue]:
        check_no_overlap(v, "negative_list")
        return [x.model_copy(update={"value": NegativeListEntry.model_validate(x.value)}) for x in v]


# --- rules ---------------------------------------------------------------------


class Rule(Sourced):
    """A condition on the profile and what follows when it holds.

    ``when`` is a declarative matcher (see ``conditions.py``); ``effect`` says whether a
    matching profile loses the route, gets a warning, or gets extra steps.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: dict[str, Any]
    # note: a point to confirm, not a risk (no certainty penalty); condition: the route stands only if
    # something the profile does not say holds ("possible if"): penalised, and left out of allocations
    effect: Literal["exclude", "warn", "note", "condition"]
    message: Text
    valid: Validity = Validity()


class Step(Sourced):
    """One filing, registration or approval along a channel."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    action: Text
    responsible: Text
    authority: Text
    kind: Literal["approval", "filing", "registration", "licence", "transaction", "recommendation"]
    # pre_issuance: before the tokens are issued; setup: the onshore vehicle, in parallel
    # with pre_issuance; funds: moving the proceeds, after both.
    phase: Literal[PHASES] = "setup"  # type: ignore[valid-type]
    weeks: Weeks | None = None
    documents: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)
    when: dict[str, Any] | None = None
    valid: Validity = Validity()
    # "qflp_city": the pilot city's terms decide the authority, time and sources of this step
    terms_from: Literal["qflp_city"] | None = None


class Capacity(Sourced):
    """The largest amount a channel carries, as a safe arithmetic formula over the profile."""

    formula: str
    description: Text
    when: dict[str, Any] | None = None  # the profiles the formula is for
    otherwise: Text | None = None  # said instead when it is not
    # a channel with several models (an FIE's foreign debt): the model's id and name, and the
    # rules of the channel that close it where they apply (dated and worded there)
    id: str | None = None
    name: Text | None = None
    closed_by: list[str] = Field(default_factory=list)
    # the wording of the figure, over the formula's names and {cap} and {currency}; default the
    # macro-prudential wording (messages.capacity_basis)
    basis: Template | None = None
    valid: Validity = Validity()  # a model open only for a while (a facility from its notice's date)


class Channel(Strict):
    """A channel: an edge of the graph, spanning one or more structure hops."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Text
    short: Text | None = None  # the label in tables, e.g. FDI / 外商直接投资
    summary: Text
    path: list[str] = Field(min_length=2)
    location: Literal["asset", "qflp_city", "none"]
    steps: list[Step]
    rules: list[Rule] = Field(default_factory=list)
    capacity: Capacity | None = None
    # other models of the same capacity; the borrower uses one (capacity.py judges the amount)
    capacities: list[Capacity] = Field(default_factory=list)
    certainty: DatedValue | None = None
    valid: Validity = Validity()
    sources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _step_refs(self) -> Channel:
        ids = [s.id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids repeat")
        return self


class Prerequisite(Strict):
    """Steps common to an asset class, put in every affected route's checklist."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: dict[str, Any]
    steps: list[Step]
    rules: list[Rule] = Field(default_factory=list)


# --- places --------------------------------------------------------------------


class QflpTerms(Strict):
    """A city's QFLP pilot terms in one period. ``None`` means unknown, and is shown so."""

    documents: list[str] = Field(min_length=1)
    area: Text | None = None
    manager_requirements: list[Text] = Field(default_factory=list)
    fund_min_size: Money | None = None
    lp_min_subscription: Money | None = None
    quota_regime: Literal["per_fund", "total", "balance", "none_stated", "unknown"] = "unknown"
    fx_mechanism: Text | None = None
    scope: list[Text] = Field(default_factory=list)
    prohibitions: list[Text] = Field(default_factory=list)
    excluded_sectors: list[str] = Field(default_factory=list)
    excluded_holder_types: list[Literal[HOLDER_TYPES]] = Field(default_factory=list)  # type: ignore[valid-type]
    approval_body: Text | None = None
    processing_weeks: Weeks | None = None


class City(Strict):
    name: Text
    aliases: list[str] = Field(default_factory=list)
    areas: list[Text] = Field(default_factory=list)
    qflp: list[DatedValue] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)

    @field_validator("qflp")
    @classmethod
    def _terms(cls, v: list[DatedValue]) -> list[DatedValue]:
        check_no_overlap(v, "qflp")
        return [x.model_copy(update={"value": QflpTerms.model_validate(x.value)}) for x in v]


class Note(Sourced):
    """A local fact that changes no rule but a user should read (processing practice...)."""

    text: Text
    channels: list[str] = Field(default_factory=list)
    valid: Validity = Validity()


class FxPilot(Sourced):
    """An FX / foreign-debt facilitation pilot area in a province."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    programme: Literal["high_level_opening", "ft_account", "other"]
    area: Text
    city: str | None = None
    joined: Date
    ended: Date | None = None
    eases: list[str] = Field(default_factory=list)  # ids in easings.yaml
    description: Text | None = None


class Province(Strict):
    code: str = Field(pattern=r"^CN-[A-Z]{2}$")
    name: Text
    aliases: list[str] = Field(default_factory=list)
    kind: Literal["province", "municipality", "autonomous_region"]
    local_pilots: bool
    summary: Text
    cities: dict[str, City] = Field(default_factory=dict)
    fx_pilots: list[FxPilot] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    rules: list[LocalRule] = Field(default_factory=list)

    @field_validator("cities")
    @classmethod
    def _city_ids(cls, v: dict[str, City]) -> dict[str, City]:
        import re

        for key in v:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise ValueError(f"city id {key!r} is not lower-case pinyin")
        return v

    @model_validator(mode="after")
    def _pilots_stated(self) -> Province:
        has = any(c.qflp for c in self.cities.values()) or bool(self.fx_pilots)
        if has and not self.local_pilots:
            raise ValueError("local_pilots is false but the file lists pilots")
        return self


class LocalRule(Rule):
    """A province-level rule on one channel: overrides or extends the national rules."""

    channel: str


# --- what the engine says, and the law it applies to pilot cities and pilots ---------------

_PLACEHOLDER = r"[a-z_][a-z0-9_]*"


def placeholders(template: str) -> list[str]:
    """The named placeholders of a message template; ``ValueError`` for anything else.

    Only plain names are allowed (``{amount:,.0f}`` yes, ``{a.b}``, ``{a[0]}``, ``{0}`` no),
    so filling a template can read nothing but the values the engine hands it.
    """
    import re
    import string

    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not re.fullmatch(_PLACEHOLDER, name) or conversion is not None or (spec and "{" in spec):
            accepted = "{name} or {name:format}"
            raise ValueError(f"placeholder {{{name}}} is not a plain name (accepted: {accepted})")
        names.append(name)
    return names


class Template(Strict):
    """A bilingual message with named placeholders, filled by the engine (``{amount:,.0f}``)."""

    en: str
    zh: str

    @model_validator(mode="after")
    def _plain(self) -> Template:
        placeholders(self.en)
        placeholders(self.zh)
        return self


class Messages(Strict):
    """The wording of the findings the engine composes itself (``data/messages.yaml``)."""

    place_city: Template
    clause_separator: Template
    item_separator: Template
    qflp_no_local_pilot: Template
    city_without_local_rules: Template
    qflp_default_authority: Template
    timeline_incomplete: Template
    capacity_unknown: Template
    capacity_basis: Template
    capacity_parameter: Template
    capacity_short_term: Template
    capacity_long_term: Template
    capacity_foreign_currency: Template
    capacity_local_currency: Template
    over_capacity: Template
    fx_pilot: Template
    negative_list_citation: Template
    negative_list_conditions: Template
    note_suffix: Template
    capacity_model_item: Template
    capacity_model_unknown: Template
    capacity_fits_one_model: Template
    capacity_models_unknown: Template
    over_every_model: Template


class Easing(Sourced):
    """What an FX / foreign-debt pilot eases, and the channels it eases (``data/easings.yaml``)."""

    name: Text
    channels: list[str] = Field(min_length=1)


_MONEY_TERMS = Literal["lp_min_subscription", "fund_min_size"]


class ProfileIn(Strict):
    """The profile's ``profile`` field is listed in the city's ``terms`` field."""

    profile: Literal["sector", "holder_type", "currency", "asset_class"]
    terms: Literal["excluded_sectors", "excluded_holder_types"]


class QflpCondition(Strict):
    """One test of a pilot city's terms against the profile; exactly one key is given."""

    # the profile's field is listed in a terms field (excluded sectors...)
    profile_in: ProfileIn | None = None
    # a threshold (set, above zero) in the profile's currency, and the amount below it
    amount_below: _MONEY_TERMS | None = None
    # a threshold (set, above zero) in another currency than the amount's
    other_currency: _MONEY_TERMS | None = None
    # any of these terms is not stated (null, or quota_regime 'unknown')
    terms_unknown: list[str] | None = None
    # the terms are marked unverified in the rule base
    terms_unverified: bool | None = None
    # a terms field has one of these values
    terms_in: dict[str, list[str]] | None = None

    @model_validator(mode="after")
    def _one(self) -> QflpCondition:
        given = [k for k in type(self).model_fields if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one test (given: {', '.join(given) or 'none'})")
        fields = set(QflpTerms.model_fields)
        for name in [*(self.terms_unknown or []), *(self.terms_in or {})]:
            if name not in fields:
                raise ValueError(f"unknown QFLP term {name!r} (accepted: {', '.join(sorted(fields))})")
        return self


class QflpCheck(Sourced):
    """A check of a pilot city's QFLP terms against the profile, and the finding it makes."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: QflpCondition
    # exclude: the city is closed to the profile; warning/note/unknown: the route says so
    effect: Literal["exclude", "warning", "note", "unknown"]
    message: Template
    # False: the finding states a gap in the sources, true whether or not the terms are verified
    verified_from_terms: bool = True


class QflpChecks(Strict):
    """The QFLP term checks and the names of the terms they mention (``data/qflp_checks.yaml``)."""

    term_names: dict[str, Text]
    quota_regimes: dict[str, Text]
    checks: list[QflpCheck]

    @model_validator(mode="after")
    def _names(self) -> QflpChecks:
        fields = set(QflpTerms.model_fields)
        unknown = sorted(set(self.term_names) - fields)
        if unknown:
            raise ValueError(f"term_names: unknown QFLP term {unknown[0]!r}")
        return self


class Scoring(Strict):
    """Weights of the ranking (model parameters, not legal facts)."""

    certainty_by_kind: dict[str, float]
    unverified_penalty: float
    warning_penalty: float
    condition_penalty: float
    unknown_duration_weeks: dict[str, float]
    objectives: dict[str, dict[str, float]]


PLACE_LEVELS = ("prefecture", "county_city")


class Place(Strict):
    """A real place (``data/places.yaml``): one line ``[code, name_zh, short_zh, id, level, aliases?]``."""

    code: str = Field(pattern=r"^[1-6][0-9]{5}$")
    name_zh: str = Field(min_length=1)
    short_zh: str = Field(min_length=1)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    level: Literal["prefecture", "county_city"]
    aliases: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_line(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            if not 5 <= len(v) <= 6:
                raise ValueError("a place is [code, name_zh, short_zh, id, level] with optional [aliases]")
            return dict(zip(("code", "name_zh", "short_zh", "id", "level", "aliases"), v))
        return v


class Gazetteer(Strict):
    """Every prefecture-level division and county-level city, by province, from one official list."""

    source: str
    as_at: Date
    places: dict[str, list[Place]]

    @model_validator(mode="after")
    def _unique(self) -> Gazetteer:
        for code, items in self.places.items():
            seen: set[str] = set()
            for p in items:
                if p.id in seen:
                    raise ValueError(f"places.{code}: id {p.id!r} twice (ids are unique within a province)")
                seen.add(p.id)
            if len({p.code[:2] for p in items}) > 1:
                raise ValueError(f"places.{code}: codes of more than one province")
        return self


# --- money and time (issue 11): taxes.yaml, payout.yaml, typical.yaml ---------------------


class TaxRate(Strict):
    """A dated tax rate (percent, or a ratio) and the condition it needs, if any."""

    name: Text
    unit: Literal["percent", "ratio"]
    condition: Text | None = None
    values: list[DatedValue]

    @model_validator(mode="after")
    def _no_overlap(self) -> TaxRate:
        check_no_overlap(self.values, "tax rate")
        return self


class TaxZone(Strict):
    """A place with a preferential EIT rate for qualifying enterprises, dated."""

    name: Text
    province: str = Field(pattern=r"^CN-[A-Z]{2}$")
    city: str | None = None
    conditions: Text
    values: list[DatedValue]

    @model_validator(mode="after")
    def _no_overlap(self) -> TaxZone:
        check_no_overlap(self.values, "tax zone")
        return self


class Taxes(Strict):
    """Tax rates on the payout leg and the preferential zones (``data/taxes.yaml``)."""

    rates: dict[str, TaxRate]
    zones: dict[str, TaxZone]


class PayoutStep(Sourced):
    """One step of a payout leg."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    action: Text
    authority: Text


class PayoutLeg(Sourced):
    """How returns leave from a route's first onshore hop to the HK SPV."""

    name: Text
    channels: list[str]
    income: Literal["dividend", "interest", "portfolio", "principal"]
    onshore_cit: bool
    stamp_duty: bool
    frequencies: list[str]
    frequency_warning: Text | None = None
    frequency_sources: list[str] = Field(default_factory=list)
    audit_season_month: int | None = Field(default=None, ge=1, le=12)
    creditor_days: dict[str, int] | None = None
    redemption: str | None = None  # the leg that returns the principal (capital_reduction)
    steps: list[PayoutStep]


class Obligation(Sourced):
    """A recurring duty after the money arrives (``repatriate calendar``)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Text
    channels: list[str]
    when: Literal["yearly", "drawdown", "payout", "semiannual", "change"]
    month: int | None = Field(default=None, ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    working_days: int | None = Field(default=None, ge=0)
    days: int | None = Field(default=None, ge=0)
    consequence: Text | None = None
    asset_classes: list[Literal["equity", "abs", "debt"]] = Field(default_factory=list)  # empty: every class


class Payout(Strict):
    """Payout frequencies, defaults by asset class, legs and obligations (``data/payout.yaml``)."""

    frequencies: dict[str, int]
    defaults: dict[str, str]
    legs: dict[str, PayoutLeg]
    obligations: list[Obligation]
    messages: dict[str, Template]


class TypicalWeeks(Sourced):
    """A typical duration in weeks from a practitioner or official service guide."""

    min: float = Field(ge=0)
    max: float = Field(ge=0)
    basis: Literal["typical"] = "typical"


class TypicalExtra(Strict):
    """A delay outside the checklist (HK attestation, bank KYC) added to a phase."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Text
    phase: Literal["pre_issuance", "setup", "funds"]
    channels: list[str]
    weeks: TypicalWeeks


class Typical(Strict):
    """Typical durations by step id, and the extra delays (``data/typical.yaml``)."""

    steps: dict[str, TypicalWeeks]
    extras: list[TypicalExtra]


# --- allocation (issue 12) ---------------------------------------------------------


class AllocationGroup(Sourced):
    """Channels that draw on one capacity of the same borrower (e.g. one macro-prudential cap)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Text
    channels: list[str]


class AllocationCap(Sourced):
    """A cap on a channel's leg that only a split reads: a formula of allocate's inputs.

    ``inputs`` are the names the formula needs (an allocate input such as ``listed_market_cap``, a
    profile figure such as ``net_assets``, or a sector figure such as ``foreign_share_max``); a leg
    whose cap cannot be computed is not sized, so not used. ``shared``: the legs it applies to draw
    on the cap together (one foreign share of the same holder), not each on its own.
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Text
    channels: list[str]
    when: dict[str, Any] = Field(default_factory=dict)
    formula: str = Field(min_length=1, max_length=500)
    inputs: list[str] = Field(min_length=1)
    shared: bool = False


class AllocationMinimum(Sourced):
    """A leg's lower bound where it is used (0 or at least the minimum): a pilot city's QFLP term."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: Text
    channels: list[str]
    term: Literal["fund_min_size", "lp_min_subscription"]  # read at the leg's location on the day


class Allocation(Strict):
    """Shared capacities, split-only caps and minimums, the optimiser's weights (``data/allocation.yaml``)."""

    groups: list[AllocationGroup]
    caps: list[AllocationCap]
    minimums: list[AllocationMinimum] = Field(default_factory=list)
    weights: dict[str, float]


class RuleBase(Strict):
    """The whole validated rule base."""

    structures: dict[str, Structure]
    channels: dict[str, Channel]
    prerequisites: list[Prerequisite]
    provinces: dict[str, Province]
    documents: dict[str, Document]
    sources: dict[str, Source]
    sectors: dict[str, Sector]
    parameters: dict[str, Parameter]
    scoring: Scoring
    messages: Messages
    easings: dict[str, Easing]
    qflp_checks: QflpChecks
    places: Gazetteer
    taxes: Taxes
    payout: Payout
    typical: Typical
    allocation: Allocation  # issue 12
    digest: str = ""


City.model_rebuild()
Province.model_rebuild()
