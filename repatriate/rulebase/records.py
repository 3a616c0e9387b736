"""Typed runtime records of the validated rule base: frozen, slotted, cheap to unpickle.

The pydantic models (``models.py``) validate; the engine reads these records, so a cold
query never pays for building pydantic model classes (see bench/bench_startup.py).
Each record has the field names of its model (``tests/test_records.py`` keeps them equal).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # typing_extensions costs start-up time; only the type checker needs it

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda f: f


T = TypeVar("T")
C = TypeVar("C", bound=type)
# the phases of a route, in order: pre-issuance and the vehicle's set-up run in parallel,
# moving the funds comes after both (engine/timeline.py)
PHASES = ("pre_issuance", "setup", "funds")
Condition = Mapping[str, Any]  # a declarative matcher (see conditions.py)


# --- the record machinery -------------------------------------------------------------------


class FrozenRecordError(AttributeError):
    """A record is immutable: routes and rule bases are shared across plans and processes."""


class _Record:
    """What every record can do: refuse changes, compare, show, pickle and dump itself by its fields."""

    __slots__ = ()
    __record_fields__: tuple[str, ...] = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenRecordError(f"{type(self).__name__} is frozen: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"{type(self).__name__} is frozen: cannot delete {name!r}")

    def _values(self) -> tuple[Any, ...]:
        return self.__record_values__(self)  # type: ignore[attr-defined,no-any-return]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle the values in field order; unpickling sets the slots directly
        return (_rebuild, (type(self), self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_fields__)
        return f"{type(self).__name__}({inner})"

    def dump(self) -> dict[str, Any]:
        """JSON-ready dict with the data files' key names (``from`` for ``from_``)."""
        return {("from" if n == "from_" else n): _dump(getattr(self, n)) for n in self.__record_fields__}


def _rebuild(cls: type[_Record], values: tuple[Any, ...]) -> _Record:
    """Unpickle a record: set its slots directly (a frozen record has no setter)."""
    obj = object.__new__(cls)
    for name, value in zip(cls.__record_fields__, values):
        object.__setattr__(obj, name, value)
    return obj


def fields(cls: type | object) -> tuple[str, ...]:
    """The field names of a record class (or record), in order."""
    return getattr(cls, "__record_fields__", ())


_MISSING = object()


@overload
def record(cls: C, /) -> C: ...
@overload
def record(*, kw_only: bool = False) -> Callable[[C], C]: ...


@dataclass_transform(frozen_default=True)
def record(cls: Any = None, /, *, kw_only: bool = False) -> Any:
    """Make a class a frozen, slotted record: what ``@dataclass(frozen=True, slots=True)`` makes.

    Fields are the class's annotations after its base records' fields; a field without a
    default after one with a default (or every field, with ``kw_only``) is keyword-only.
    Built with a single ``exec`` per class rather than ``dataclass``'s several: start-up
    builds some forty record classes before a cold ``route`` answers (bench/bench_startup.py).
    Comparison, hashing, ``repr``, pickling and immutability come from ``_Record``.
    """

    def build(cls: Any) -> Any:
        inherited = tuple(getattr(cls, "__record_fields__", ()))
        defaults: dict[str, Any] = dict(getattr(cls, "__record_defaults__", {}))
        own = [n for n in cls.__dict__.get("__annotations__", {}) if n not in inherited]
        for name in own:
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
        names = inherited + tuple(own)
        ns = {k: v for k, v in cls.__dict__.items() if k not in own and k not in ("__dict__", "__weakref__")}
        ns["__slots__"] = tuple(own)
        ns["__record_fields__"] = names
        ns["__record_defaults__"] = defaults
        # every field's value in one C call: records are hashed and compared as memo keys
        if len(names) > 1:
            ns["__record_values__"] = attrgetter(*names)
        else:
            ns["__record_values__"] = lambda obj: tuple(getattr(obj, n) for n in names)
        new = type(cls)(cls.__name__, cls.__bases__, ns)
        new.__qualname__ = cls.__qualname__
        params, body, star = [], [], kw_only
        if star:
            params.append("*")
        for name in names:
            if not star and name not in defaults and any(n in defaults for n in names[: names.index(name)]):
                star = True
                params.append("*")
            params.append(f"{name}=_d_{name}" if name in defaults else name)
            body.append(f"    _set(self, {name!r}, {name})")
        src = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
        env: dict[str, Any] = {"_set": object.__setattr__, **{f"_d_{k}": v for k, v in defaults.items()}}
        exec(src, env)  # noqa: S102 - generated from the class's own field names
        init = env["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        new.__init__ = init
        return new

    return build if cls is None else build(cls)


def _dump(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.dump()
    if isinstance(value, Mapping):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@record
class Text(_Record):
    """A bilingual text: ``en``, ``zh`` (simplified), optional ``zh_hant``."""

    en: str
    zh: str
    zh_hant: str | None = None

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@record
class Weeks(_Record):
    """A span of weeks, with where the figure comes from."""

    min: float
    max: float
    basis: str = "estimate"
    note: str | None = None


@record
class Money(_Record):
    """An amount in a currency (ISO 4217)."""

    amount: float
    currency: str


# --- time: one notion of "in force on a day" ------------------------------------------


class Dated(_Record):
    """Anything in force from ``from_`` (inclusive, open when ``None``) to ``to`` (exclusive)."""

    __slots__ = ()
    from_: dt.date | None
    to: dt.date | None

    def in_force(self, day: dt.date) -> bool:
        """Whether this is in force on ``day``. The one test of time in the code base."""
        return (self.from_ is None or self.from_ <= day) and (self.to is None or day < self.to)


@record
class Validity(Dated):
    """When a rule, step or note is in force."""

    from_: dt.date | None = None
    to: dt.date | None = None


ALWAYS = Validity()


@record(kw_only=True)
class DatedValue(Dated, Generic[T]):
    """One value of a series over a period, OpenFisca style, with its sources."""

    from_: dt.date
    to: dt.date | None = None
    value: T
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


def value_at(series: Iterable[DatedValue[T]], day: dt.date) -> DatedValue[T] | None:
    """The value of ``series`` in force on ``day``, or ``None``: what applied on date D."""
    for v in series:
        if v.in_force(day):
            return v
    return None


# --- catalogues ---------------------------------------------------------------------


@record(kw_only=True)
class Source(_Record):
    """A regulation, circular, local measure or secondary text cited by the data."""

    title: Text
    doc_no: str | None = None
    issuer: Text | str
    issued: dt.date | None = None
    published: dt.date | None = None
    effective: dt.date | None = None
    status: str
    url: str | None = None
    tier: str
    unofficial_copy: bool = False
    checked: dt.date | None = None
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class Document(_Record):
    """A paper a step needs."""

    name: Text
    issuer: Text
    proves: Text
    sources: tuple[str, ...] = ()
    verified: bool = True


@record(kw_only=True)
class Structure(_Record):
    """A legal structure: a node of the graph."""

    name: Text
    role: str
    description: Text


@record(kw_only=True)
class Parameter(_Record):
    """A named, dated number used in capacity formulas."""

    name: Text
    unit: str
    values: tuple[DatedValue[float], ...]


@record(kw_only=True)
class NegativeListEntry(_Record):
    """What the foreign-investment negative list says of a sector in one edition."""

    status: Literal["permitted", "restricted", "prohibited"]
    item: Text | None = None
    conditions: tuple[Text, ...] = ()
    foreign_share_max: float | None = None


@record(kw_only=True)
class Sector(_Record):
    """A sector, its negative-list history and tags."""

    name: Text
    negative_list: tuple[DatedValue[NegativeListEntry], ...]
    tags: tuple[str, ...] = ()


# --- rules --------------------------------------------------------------------------


@record(kw_only=True)
class Rule(_Record):
    """A condition on the profile and what follows when it holds (exclude or warn)."""

    id: str
    when: Condition
    effect: Literal["exclude", "warn"]
    message: Text
    valid: Validity = ALWAYS
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class LocalRule(Rule):
    """A province-level rule on one channel."""

    channel: str


@record(kw_only=True)
class Step(_Record):
    """One filing, registration or approval along a channel."""

    id: str
    action: Text
    responsible: Text
    authority: Text
    kind: str
    phase: str = "setup"
    weeks: Weeks | None = None
    documents: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    when: Condition | None = None
    valid: Validity = ALWAYS
    terms_from: str | None = None
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class Capacity(_Record):
    """The largest amount a channel carries, as a safe formula over the profile."""

    formula: str
    description: Text
    when: Condition | None = None
    otherwise: Text | None = None
    id: str | None = None
    name: Text | None = None
    closed_by: tuple[str, ...] = ()
    basis: Template | None = None
    valid: Validity = ALWAYS
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class Channel(_Record):
    """A channel: an edge of the graph, spanning one or more structure hops."""

    id: str
    name: Text
    short: Text | None = None
    summary: Text
    path: tuple[str, ...]
    location: Literal["asset", "qflp_city", "none"]
    steps: tuple[Step, ...]
    rules: tuple[Rule, ...] = ()
    capacity: Capacity | None = None
    capacities: tuple[Capacity, ...] = ()
    certainty: DatedValue[float] | None = None
    valid: Validity = ALWAYS
    sources: tuple[str, ...] = ()


@record(kw_only=True)
class Prerequisite(_Record):
    """Steps common to an asset class, put in every affected route's checklist."""

    id: str
    when: Condition
    steps: tuple[Step, ...]
    rules: tuple[Rule, ...] = ()


# --- places -------------------------------------------------------------------------


@record(kw_only=True)
class QflpTerms(_Record):
    """A city's QFLP pilot terms in one period; ``None`` means unknown."""

    documents: tuple[str, ...]
    area: Text | None = None
    manager_requirements: tuple[Text, ...] = ()
    fund_min_size: Money | None = None
    lp_min_subscription: Money | None = None
    quota_regime: str = "unknown"
    fx_mechanism: Text | None = None
    scope: tuple[Text, ...] = ()
    prohibitions: tuple[Text, ...] = ()
    excluded_sectors: tuple[str, ...] = ()
    excluded_holder_types: tuple[str, ...] = ()
    approval_body: Text | None = None
    processing_weeks: Weeks | None = None


@record(kw_only=True)
class Note(_Record):
    """A local fact that changes no rule but a user should read."""

    text: Text
    channels: tuple[str, ...] = ()
    valid: Validity = ALWAYS
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class City(_Record):
    """A city with local rules: its QFLP terms over time and notes."""

    name: Text
    aliases: tuple[str, ...] = ()
    areas: tuple[Text, ...] = ()
    qflp: tuple[DatedValue[QflpTerms], ...] = ()
    notes: tuple[Note, ...] = ()


@record(kw_only=True)
class FxPilot(_Record):
    """An FX / foreign-debt facilitation pilot area in a province."""

    id: str
    programme: str
    area: Text
    city: str | None = None
    joined: dt.date
    ended: dt.date | None = None
    eases: tuple[str, ...] = ()
    description: Text | None = None
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None

    @property
    def valid(self) -> Validity:
        """The pilot's period, so it answers ``in_force`` like every dated thing."""
        return Validity(self.joined, self.ended)


@record(kw_only=True)
class Province(_Record):
    """A province-level division: cities, pilots, notes and local rules."""

    code: str
    name: Text
    aliases: tuple[str, ...] = ()
    kind: str
    local_pilots: bool
    summary: Text
    cities: Mapping[str, City]
    fx_pilots: tuple[FxPilot, ...] = ()
    notes: tuple[Note, ...] = ()
    rules: tuple[LocalRule, ...] = ()


# --- what the engine says, and the law it applies to pilot cities and pilots -------------


@record
class Template(_Record):
    """A bilingual message with named placeholders (checked plain names: see models.placeholders)."""

    en: str
    zh: str

    def fill(self, **values: Any) -> Text:
        """The message with ``values`` filled in; a ``Text`` value gives each language its own words."""
        en, zh = dict(values), values
        for k, v in values.items():
            if type(v) is Text:
                en[k], zh[k] = v.en, v.zh
        return Text(self.en.format_map(en), self.zh.format_map(zh))

    def join(self, items: Iterable[Text]) -> Text:
        """``items`` joined with this template's text in each language (a separator)."""
        items = list(items)
        return Text(en=self.en.join(t.en for t in items), zh=self.zh.join(t.zh for t in items))


@record(kw_only=True)
class Messages(_Record):
    """The wording of the findings the engine composes itself."""

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


@record(kw_only=True)
class Easing(_Record):
    """What an FX / foreign-debt pilot eases, and the channels it eases."""

    name: Text
    channels: tuple[str, ...]
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class ProfileIn(_Record):
    """The profile's ``profile`` field is listed in the city's ``terms`` field."""

    profile: str
    terms: str


@record(kw_only=True)
class QflpCondition(_Record):
    """One test of a pilot city's terms against the profile (exactly one field is set)."""

    profile_in: ProfileIn | None = None
    amount_below: str | None = None
    other_currency: str | None = None
    terms_unknown: tuple[str, ...] | None = None
    terms_unverified: bool | None = None
    terms_in: Mapping[str, tuple[str, ...]] | None = None


@record(kw_only=True)
class QflpCheck(_Record):
    """A check of a pilot city's QFLP terms against the profile, and the finding it makes."""

    id: str
    when: QflpCondition
    effect: Literal["exclude", "warning", "note", "unknown"]
    message: Template
    verified_from_terms: bool = True
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class QflpChecks(_Record):
    """The QFLP term checks and the names of the terms they mention."""

    term_names: Mapping[str, Text]
    quota_regimes: Mapping[str, Text]
    checks: tuple[QflpCheck, ...]


@record(kw_only=True)
class Scoring(_Record):
    """Weights of the ranking (model parameters, not legal facts)."""

    certainty_by_kind: Mapping[str, float]
    unverified_penalty: float
    warning_penalty: float
    condition_penalty: float
    unknown_duration_weeks: Mapping[str, float]
    objectives: Mapping[str, Mapping[str, float]]


# --- money and time (issue 11) ------------------------------------------------------------


@record(kw_only=True)
class TaxRate(_Record):
    """A dated tax rate (percent, or a ratio) and the condition it needs, if any."""

    name: Text
    unit: str
    values: tuple[DatedValue[float], ...]
    condition: Text | None = None


@record(kw_only=True)
class TaxZone(_Record):
    """A place with a preferential EIT rate for qualifying enterprises, dated."""

    name: Text
    province: str
    conditions: Text
    values: tuple[DatedValue[float], ...]
    city: str | None = None


@record(kw_only=True)
class Taxes(_Record):
    """Tax rates on the payout leg and the preferential zones."""

    rates: Mapping[str, TaxRate]
    zones: Mapping[str, TaxZone]


@record(kw_only=True)
class PayoutStep(_Record):
    """One step of a payout leg."""

    id: str
    action: Text
    authority: Text
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class PayoutLeg(_Record):
    """How returns leave from a route's first onshore hop to the HK SPV."""

    name: Text
    channels: tuple[str, ...]
    income: str
    onshore_cit: bool
    stamp_duty: bool
    frequencies: tuple[str, ...]
    steps: tuple[PayoutStep, ...]
    frequency_warning: Text | None = None
    frequency_sources: tuple[str, ...] = ()
    audit_season_month: int | None = None
    creditor_days: Mapping[str, int] | None = None
    redemption: str | None = None
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class Obligation(_Record):
    """A recurring duty after the money arrives."""

    id: str
    name: Text
    channels: tuple[str, ...]
    when: str
    month: int | None = None
    day: int | None = None
    working_days: int | None = None
    days: int | None = None
    consequence: Text | None = None
    asset_classes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class Payout(_Record):
    """Payout frequencies, defaults by asset class, legs and obligations."""

    frequencies: Mapping[str, int]
    defaults: Mapping[str, str]
    legs: Mapping[str, PayoutLeg]
    obligations: tuple[Obligation, ...]
    messages: Mapping[str, Template]


@record(kw_only=True)
class TypicalWeeks(_Record):
    """A typical duration in weeks from a practitioner or official service guide."""

    min: float
    max: float
    basis: str = "typical"
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class TypicalExtra(_Record):
    """A delay outside the checklist (HK attestation, bank KYC) added to a phase."""

    id: str
    name: Text
    phase: str
    channels: tuple[str, ...]
    weeks: TypicalWeeks


@record(kw_only=True)
class Typical(_Record):
    """Typical durations by step id, and the extra delays."""

    steps: Mapping[str, TypicalWeeks]
    extras: tuple[TypicalExtra, ...]


@record(kw_only=True)
class Place(_Record):
    """A real place: a prefecture-level division or a county-level city (``data/places.yaml``)."""

    code: str
    name_zh: str
    short_zh: str
    id: str
    level: Literal["prefecture", "county_city"]
    aliases: tuple[str, ...] = ()


@record(kw_only=True)
class Gazetteer(_Record):
    """Every prefecture-level division and county-level city, by province, from one official list."""

    source: str
    as_at: dt.date
    places: Mapping[str, tuple[Place, ...]]


@record(kw_only=True)
class AllocationGroup(_Record):
    """Channels that draw on one capacity of the same borrower."""

    id: str
    name: Text
    channels: tuple[str, ...]
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class AllocationCap(_Record):
    """A cap on a channel's leg that only a split reads (a formula of allocate's inputs)."""

    id: str
    name: Text
    channels: tuple[str, ...]
    formula: str
    inputs: tuple[str, ...]
    when: Mapping[str, Any]
    shared: bool = False
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class AllocationMinimum(_Record):
    """A leg's lower bound where it is used: a pilot city's QFLP term."""

    id: str
    name: Text
    channels: tuple[str, ...]
    term: str
    sources: tuple[str, ...] = ()
    verified: bool = True
    note: str | None = None


@record(kw_only=True)
class Allocation(_Record):
    """Shared capacities, split-only caps and minimums, the optimiser's weights."""

    groups: tuple[AllocationGroup, ...]
    caps: tuple[AllocationCap, ...]
    weights: Mapping[str, float]
    minimums: tuple[AllocationMinimum, ...] = ()


@record(kw_only=True)
class RuleBase(_Record):
    """The whole validated rule base."""

    structures: Mapping[str, Structure]
    channels: Mapping[str, Channel]
    prerequisites: tuple[Prerequisite, ...]
    provinces: Mapping[str, Province]
    documents: Mapping[str, Document]
    sources: Mapping[str, Source]
    sectors: Mapping[str, Sector]
    parameters: Mapping[str, Parameter]
    scoring: Scoring
    messages: Messages
    easings: Mapping[str, Easing]
    qflp_checks: QflpChecks
    places: Gazetteer
    taxes: Taxes
    payout: Payout
    typical: Typical
    allocation: Allocation  # issue 12
    digest: str = ""


# pydantic model name -> record class; freeze() builds one from the other
RECORDS: dict[str, type[_Record]] = {
    cls.__name__: cls
    for cls in (
        Text,
        Weeks,
        Money,
        Validity,
        DatedValue,
        Source,
        Document,
        Structure,
        Parameter,
        NegativeListEntry,
        Sector,
        Rule,
        LocalRule,
        Step,
        Capacity,
        Channel,
        Prerequisite,
        QflpTerms,
        Note,
        City,
        FxPilot,
        Province,
        Template,
        Messages,
        Easing,
        ProfileIn,
        QflpCondition,
        QflpCheck,
        QflpChecks,
        Scoring,
        Place,
        Gazetteer,
        TaxRate,
        TaxZone,
        Taxes,
        PayoutStep,
        PayoutLeg,
        Obligation,
        Payout,
        TypicalWeeks,
        TypicalExtra,
        Typical,
        AllocationGroup,
        AllocationCap,
        AllocationMinimum,
        Allocation,
        RuleBase,
    )
}


def freeze(value: Any) -> Any:
    """Turn validated pydantic models (recursively) into records with the same fields."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        cls = RECORDS[type(value).__name__]
        return cls(**{name: freeze(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, dict):
        return {k: freeze(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value
