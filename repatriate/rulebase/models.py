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
    def _ordered(self) -> "Weeks":
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
    def _ordered(self) -> "Validity":
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
    def _ordered(self) -> "DatedValue":
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
    issuer: Text | str
    issued: Date | None = None
    effective: Date | None = None
    status: Literal["in_force", "amended", "superseded", "repealed", "expired", "draft", "unknown"]
    url: str | None = None
    # the url is where the text was read; True when that is not the issuer's own site
    unofficial_copy: bool = False
    kind: Literal["primary", "secondary"] = "primary"
    verified: bool = True
    note: str | None = None


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
    def _no_overlap(self) -> "Parameter":
        check_no_overlap(self.values, "parameter")
        return self


class NegativeListEntry(Strict):
    """What the foreign-investment negative list says of a sector in one edition."""

    status: Literal["permitted", "restricted", "prohibited"]
    item: Text | None = None
    conditions: list[Text] = Field(default_factory=list)


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
    effect: Literal["exclude", "warn"]
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
    certainty: DatedValue | None = None
    valid: Validity = Validity()
    sources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _step_refs(self) -> "Channel":
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
    notes: list["Note"] = Field(default_factory=list)

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


EASINGS = (
    "one_time_foreign_debt_registration",
    "hightech_foreign_debt_quota",
    "bank_level_registration",
    "qflp_balance_management",
    "ft_account",
    "capital_income_facilitation",
)


class FxPilot(Sourced):
    """An FX / foreign-debt facilitation pilot area in a province."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    programme: Literal["high_level_opening", "ft_account", "other"]
    area: Text
    city: str | None = None
    joined: Date
    ended: Date | None = None
    eases: list[Literal[EASINGS]] = Field(default_factory=list)  # type: ignore[valid-type]
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
    rules: list["LocalRule"] = Field(default_factory=list)

    @field_validator("cities")
    @classmethod
    def _city_ids(cls, v: dict[str, City]) -> dict[str, City]:
        import re

        for key in v:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise ValueError(f"city id {key!r} is not lower-case pinyin")
        return v

    @model_validator(mode="after")
    def _pilots_stated(self) -> "Province":
        has = any(c.qflp for c in self.cities.values()) or bool(self.fx_pilots)
        if has and not self.local_pilots:
            raise ValueError("local_pilots is false but the file lists pilots")
        return self


class LocalRule(Rule):
    """A province-level rule on one channel: overrides or extends the national rules."""

    channel: str


class Scoring(Strict):
    """Weights of the ranking (model parameters, not legal facts)."""

    certainty_by_kind: dict[str, float]
    unverified_penalty: float
    warning_penalty: float
    unknown_duration_weeks: dict[str, float]
    objectives: dict[str, dict[str, float]]


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
    digest: str = ""


City.model_rebuild()
Province.model_rebuild()
