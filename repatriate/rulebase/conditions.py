"""Evaluate rule conditions, which are data: declarative matchers and safe formulas.

Matchers are dicts whose keys are profile fields (AND-ed); formulas go through
simpleeval, which allows arithmetic on named values and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# profile fields a matcher may test by membership
_MEMBERSHIP = (
    "asset_class",
    "sector",
    "province",
    "city",
    "currency",
    "holder_type",
    "spv_owner",
    "distribution",
    "tech_sme",
    "location_province",
    "location_city",
)
# profile fields a matcher may compare with numbers
_NUMERIC = (
    "amount",
    "net_assets",
    "term_months",
    "holder_age_months",
    "group_revenue",
    "group_cross_border_flows",
    "group_offshore_revenue",  # issue 10: cash pool
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
}
_LOGIC = ("any", "all", "not")
# time is not a condition: a step or rule is dated by its ``valid: {from, to}`` alone
_SPECIAL = ("sector_status", "sector_tags", "expr", "location_in_pilot")


class Facts(dict[str, Any]):
    """The values a matcher sees: the profile's fields plus derived ones (sector status...)."""


def matches(when: Mapping[str, Any] | None, facts: Facts) -> bool:
    """True when every clause of ``when`` holds for ``facts``. An empty matcher always holds."""
    if not when:
        return True
    return all(_clause(key, arg, facts) for key, arg in when.items())


def _clause(key: str, arg: Any, facts: Facts) -> bool:
    if key == "any":
        return any(matches(m, facts) for m in arg)
    if key == "all":
        return all(matches(m, facts) for m in arg)
    if key == "not":
        return not matches(arg, facts)
    if key in _MEMBERSHIP:
        return facts.get(key) in _as_list(arg)
    if key in _NUMERIC:
        value = facts.get(key)
        if value is None:
            return False
        return all(_OPS[op](value, bound) for op, bound in arg.items())
    if key == "sector_status":
        return facts.get("sector_status") in _as_list(arg)
    if key == "sector_tags":
        return bool(set(_as_list(arg)) & set(facts.get("sector_tags", ())))
    if key == "location_in_pilot":
        return bool(set(_as_list(arg)) & set(facts.get("location_easings", ())))
    if key == "expr":
        return bool(evaluate(arg, facts))
    raise ValueError(f"unknown matcher key {key!r}")


def _as_list(arg: Any) -> list[Any] | tuple[Any, ...]:
    return arg if isinstance(arg, (list, tuple)) else [arg]


def check_matcher(when: Mapping[str, Any], *, sectors: set[str]) -> list[str]:
    """Problems with a matcher's shape, for the validator; empty when well-formed."""
    problems: list[str] = []
    if not isinstance(when, dict):
        return [f"a matcher is a mapping, got {type(when).__name__}"]
    for key, arg in when.items():
        if key in ("any", "all"):
            if not isinstance(arg, (list, tuple)):
                problems.append(f"{key}: takes a list of matchers")
                continue
            for m in arg:
                problems += check_matcher(m, sectors=sectors)
        elif key == "not":
            problems += check_matcher(arg, sectors=sectors)
        elif key in _NUMERIC:
            if not isinstance(arg, dict) or not arg or any(op not in _OPS for op in arg):
                problems.append(f"{key}: takes comparisons among {', '.join(_OPS)}")
        elif key == "sector":
            for s in _as_list(arg):
                if s not in sectors:
                    problems.append(f"sector: unknown sector {s!r}")
        elif key == "expr":
            problems += [f"expr: {m}" for m in check_formula(arg, set())]
        elif key not in _MEMBERSHIP + _SPECIAL:
            accepted = ", ".join(_MEMBERSHIP + _NUMERIC + _SPECIAL + _LOGIC)
            problems.append(f"unknown matcher key {key!r} (accepted: {accepted})")
    return problems


_FORMULA_NAMES = (
    "amount",
    "net_assets",
    "term_months",
    "short_term",
    "foreign_currency",
    "total_investment",
    "registered_capital",
    "innovation_points",
)


# what a cap of data/allocation.yaml may read besides parameters (engine/allocate.py fills them):
# the listed holder's market value (an allocate input), its net assets, and the negative list's
# highest foreign share for the sector on the day
CAP_INPUTS = ("listed_market_cap", "net_assets", "foreign_share_max")


def evaluate(formula: str, names: dict[str, Any]) -> Any:
    """Evaluate ``formula`` safely: arithmetic and comparisons on ``names``, no calls, no attributes."""
    from simpleeval import SimpleEval

    from ..engine import memo  # the one home of process-wide caches (a leaf module)

    ev = SimpleEval(
        names={k: v for k, v in names.items() if isinstance(v, (int, float)) or v is None},
        functions={"min": min, "max": max},
    )
    parsed = memo.FORMULAS.get(formula)  # formulas are few and fixed by the rule base
    if parsed is None:
        parsed = memo.FORMULAS.put(formula, ev.parse(formula))
    return ev.eval(formula, previously_parsed=parsed)


def check_formula(formula: str, parameters: set[str]) -> list[str]:
    """Problems with a formula: syntax, or names that are neither profile fields nor parameters."""
    import ast

    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        return [f"syntax error in {formula!r}: {exc.msg}"]
    known = set(_FORMULA_NAMES) | parameters | {"min", "max"}
    return [
        f"unknown name {node.id!r} in {formula!r} (known: {', '.join(sorted(known))})"
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id not in known and parameters
    ]
