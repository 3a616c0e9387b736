"""A channel's capacity for a profile: the largest amount it carries, under each model open to the borrower.

Foreign debt has two models for an FIE (the macro-prudential cap and the "investment gap" between
total investment and registered capital); the FIE borrows under one, so the amount is judged
against each and excluded only when it fits none. Formulas, names and sources are data
(``capacity`` and ``capacities`` of a channel); this module does the arithmetic and the verdict.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from ..rulebase.conditions import Facts, evaluate, matches
from ..rulebase.records import Capacity, Channel, RuleBase, Text, value_at
from .profile import Profile
from .results import Finding

# profile inputs a capacity formula may need, by the name the formula reads
_INPUTS = ("net_assets", "total_investment", "registered_capital")


def holder_age_months(founded: dt.date | None, day: dt.date) -> int | None:
    """Whole months from the holder's founding to ``day`` (None when unknown): under 12 is its first year."""
    if founded is None:
        return None
    return (day.year - founded.year) * 12 + day.month - founded.month - (day.day < founded.day)


class ModelValue(NamedTuple):
    """One model's capacity: the value (None when an input is missing), its basis and sources."""

    cap: Capacity
    value: float | None
    basis: Text | None
    missing: tuple[str, ...]
    sources: tuple[str, ...]


def model_value(rb: RuleBase, profile: Profile, cap: Capacity, day: dt.date) -> ModelValue:
    """Evaluate one capacity formula for the profile on ``day``."""
    msgs = rb.messages
    names: dict[str, Any] = {
        "amount": profile.amount,
        "net_assets": profile.net_assets,
        "total_investment": profile.total_investment,
        "registered_capital": profile.registered_capital,
        "term_months": profile.term_months,
        # an unknown term is weighed as medium/long term; the route says so
        "short_term": int(profile.term_months is not None and profile.term_months <= 12),
        "foreign_currency": int(profile.foreign_currency),
        "innovation_points": int(profile.tech_sme == "innovation_points"),
    }
    used: list[Text] = []
    sources = list(cap.sources)
    for pid, par in rb.parameters.items():
        if pid in cap.formula:
            v = value_at(par.values, day)
            names[pid] = None if v is None else v.value
            if v is not None:
                used.append(msgs.capacity_parameter.fill(name=par.name, value=v.value, since=v.from_))
                sources += v.sources
    missing = tuple(n for n in _INPUTS if n in cap.formula and names[n] is None)
    unknown_parameter = any(names.get(p) is None for p in rb.parameters if p in cap.formula)
    if missing or unknown_parameter:
        return ModelValue(cap, None, None, missing, tuple(dict.fromkeys(sources)))
    value = float(evaluate(cap.formula, names))
    if cap.basis is not None:
        basis = cap.basis.fill(cap=value, currency=profile.currency, **{n: names[n] for n in _INPUTS})
    else:
        # parameters and weights named in words in each language, never as the formula's variables
        term = msgs.capacity_short_term if names["short_term"] else msgs.capacity_long_term
        money = msgs.capacity_foreign_currency if names["foreign_currency"] else msgs.capacity_local_currency
        weights = msgs.item_separator.join([term.fill(), money.fill()])
        parameters = msgs.item_separator.join(used)
        basis = msgs.capacity_basis.fill(
            cap=value, currency=profile.currency, net_assets=profile.net_assets,
            parameters=parameters, weights=weights,
        )
    return ModelValue(cap, value, basis, (), tuple(dict.fromkeys(sources)))


def route_capacity(
    rb: RuleBase,
    profile: Profile,
    ch: Channel,
    day: dt.date,
    reasons: list[Finding],
    warnings: list[Finding],
    facts: Facts,
) -> tuple[float | None, Text | None, bool]:
    """The channel's capacity for the profile: (amount, basis, unknown for want of profile data).

    Appends the over-capacity reason (the amount fits no model open to the borrower) or the
    warnings (capacity unknown, not computed, or open under one model only).
    """
    main = ch.capacity
    assert main is not None
    if not matches(main.when, facts):
        text = main.otherwise or main.description
        warnings.append(Finding(f"{ch.id}_capacity_not_computed", text, tuple(main.sources), main.verified))
        return None, None, False
    closing = {r.id for r in ch.rules if r.valid.in_force(day) and matches(r.when, facts)}
    models = [
        c
        for c in (main, *ch.capacities)
        if c.valid.in_force(day) and matches(c.when, facts) and not closing & set(c.closed_by)
    ]
    if not models:
        return None, None, False  # the model is closed to this borrower: a rule of the channel says why
    values = [model_value(rb, profile, c, day) for c in models]
    if len(values) == 1 and models[0] is main:
        return _one_model(rb, profile, ch, values[0], reasons, warnings)
    return _several_models(rb, profile, ch, values, reasons, warnings)


def _one_model(
    rb: RuleBase,
    profile: Profile,
    ch: Channel,
    mv: ModelValue,
    reasons: list[Finding],
    warnings: list[Finding],
) -> tuple[float | None, Text | None, bool]:
    cap, msgs = mv.cap, rb.messages
    if mv.value is None:
        text = msgs.capacity_unknown.fill(description=cap.description)
        warnings.append(Finding(f"{ch.id}_capacity_unknown", text, mv.sources, cap.verified))
        return None, None, True
    assert mv.basis is not None
    if profile.amount > mv.value:
        over = msgs.over_capacity.fill(
            amount=profile.amount, currency=profile.currency, basis=mv.basis, description=cap.description
        )
        reasons.append(Finding(f"{ch.id}_over_capacity", over, mv.sources, cap.verified))
    return mv.value, mv.basis, False


def _name(mv: ModelValue) -> Text:
    return mv.cap.name or mv.cap.description


def _several_models(
    rb: RuleBase,
    profile: Profile,
    ch: Channel,
    values: list[ModelValue],
    reasons: list[Finding],
    warnings: list[Finding],
) -> tuple[float | None, Text | None, bool]:
    """Several models open (an FIE): the amount stands if it fits one; each model's figure is shown."""
    msgs = rb.messages
    items = []
    for mv in values:
        if mv.value is None:
            wanted = ", ".join(n.replace("_", " ") for n in mv.missing) or "a parameter"
            items.append(msgs.capacity_model_unknown.fill(name=_name(mv), missing=wanted))
        else:
            items.append(msgs.capacity_model_item.fill(name=_name(mv), basis=mv.basis))
    text = msgs.clause_separator.join(items)
    sources = tuple(dict.fromkeys(s for mv in values for s in mv.sources))
    verified = all(mv.cap.verified for mv in values)
    known = [mv for mv in values if mv.value is not None]
    fits = [mv for mv in known if profile.amount <= (mv.value or 0.0)]
    unknown = [mv for mv in values if mv.value is None]
    if fits:
        best = max(fits, key=lambda mv: mv.value or 0.0)
        if len(fits) < len(values):
            only = msgs.capacity_fits_one_model.fill(
                name=_name(best), amount=profile.amount, currency=profile.currency, models=text
            )
            warnings.append(Finding(f"{ch.id}_capacity_one_model", only, sources, verified))
        return best.value, text, False
    if unknown:
        missing = msgs.capacity_models_unknown.fill(models=text)
        warnings.append(Finding(f"{ch.id}_capacity_unknown", missing, sources, verified))
        return None, text, True
    over = msgs.over_every_model.fill(amount=profile.amount, currency=profile.currency, models=text)
    reasons.append(Finding(f"{ch.id}_over_capacity", over, sources, verified))
    return max(mv.value or 0.0 for mv in known), text, False
