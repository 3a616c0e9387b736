"""Checks that go beyond the models: bounded YAML, clean text, and a dry run of what queries evaluate.

The loader runs all of them, so `data validate` and `load` refuse the same rule bases.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

from ..render.escape import clean_text

MAX_FILE_BYTES = 4 * 1024 * 1024  # the largest real file is about 33 KB
MAX_NODES = 100_000  # per file, aliases expanded; the largest real file has about 1,000
MAX_DEPTH = 32  # the deepest real file nests 8 levels
MAX_MATCHER_DEPTH = 12  # any/all/not nesting of one matcher
MAX_MATCHER_NODES = 2_000
_NON_FINITE = re.compile(r"\s*[+-]?(nan|inf|infinity)\s*$", re.IGNORECASE)


class Refused(ValueError):
    """A file that is not read further: ``field`` and a message."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def bounded(raw: Any) -> tuple[Any, list[tuple[str, str]]]:
    """A copy of loaded YAML with clean strings, and the (field, message) of each non-finite number.

    Raises ``Refused`` for a recursive alias, nesting deeper than ``MAX_DEPTH`` or more than
    ``MAX_NODES`` nodes once aliases are expanded (billion laughs), before anything walks it.
    """
    count = 0
    on_path: set[int] = set()
    bad: list[tuple[str, str]] = []

    def walk(node: Any, loc: list[str]) -> Any:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise Refused(
                _field(loc), f"more than {MAX_NODES:,} values once aliases are expanded (alias bomb?)"
            )
        if isinstance(node, str):
            if _NON_FINITE.match(node):  # pydantic would read it as a float
                bad.append((_field(loc), f"not a finite number: {node.strip()!r}"))
            return clean_text(node)
        if isinstance(node, float):
            if not math.isfinite(node):
                bad.append((_field(loc), f"not a finite number: {node}"))
            return node
        if not isinstance(node, (dict, list)):
            return node
        if id(node) in on_path:
            raise Refused(_field(loc), "recursive alias: a value contains itself")
        if len(loc) >= MAX_DEPTH:
            raise Refused(_field(loc), f"nested too deep (more than {MAX_DEPTH} levels)")
        on_path.add(id(node))
        try:
            if isinstance(node, dict):
                return {
                    (clean_text(k) if isinstance(k, str) else k): walk(v, [*loc, str(k)])
                    for k, v in node.items()
                }
            return [walk(v, [*loc, str(i)]) for i, v in enumerate(node)]
        finally:
            on_path.discard(id(node))

    return walk(raw, []), bad


def _field(loc: list[str]) -> str:
    return ".".join(loc) or "(top)"


def check_matcher_size(when: Any) -> list[str]:
    """Problems with the size of one matcher (its shape is checked by ``conditions.check_matcher``)."""
    nodes = 0

    def depth(m: Any, d: int) -> int:
        nonlocal nodes
        nodes += 1
        if nodes > MAX_MATCHER_NODES or d > MAX_MATCHER_DEPTH:
            return d
        if isinstance(m, dict):
            return max([d] + [depth(v, d + (k in ("any", "all", "not"))) for k, v in m.items()])
        if isinstance(m, list):
            return max([d] + [depth(v, d) for v in m])
        return d

    deepest = depth(when, 0)
    if nodes > MAX_MATCHER_NODES:
        return [f"matcher too large (more than {MAX_MATCHER_NODES:,} values)"]
    if deepest > MAX_MATCHER_DEPTH:
        return [f"matcher nested too deep (more than {MAX_MATCHER_DEPTH} any/all/not levels)"]
    return []


def after_cycles(steps: list[tuple[str, str, list[str]]]) -> list[str]:
    """``where: after: cycle a → b → a`` for each cycle of ``after``; ``steps`` are (where, id, after)."""
    edges: dict[str, set[str]] = {}
    where: dict[str, str] = {}
    for w, sid, after in steps:
        edges.setdefault(sid, set()).update(after)
        where.setdefault(sid, w)
    problems: list[str] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    reported: set[str] = set()
    for start in sorted(edges):
        if state.get(start):
            continue
        path: list[str] = [start]
        stack = [iter(sorted(edges.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            if nxt not in edges:
                continue  # an unknown step is reported by the reference check
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                if nxt not in reported:
                    reported.update(cycle)
                    problems.append(
                        f"{where[nxt]}: after: cycle {' → '.join(cycle)} (a step cannot wait for itself)"
                    )
                continue
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(edges.get(nxt, ()))))
    return problems


# Edge values of the profile fields a formula reads (SPEC: amounts in units, terms in months).
_AMOUNTS = (0.01, 1.0, 1e13)
_NET_ASSETS = (0.0, 1e-9, 1.0, 1e13)
_TERMS = (None, 1, 12, 13, 1200)


def dry_run_formula(formula: str, parameters: dict[str, Any]) -> list[str]:
    """Evaluate a capacity formula as a query would, on edge-value profiles and every dated parameter value.

    ``parameters`` maps a parameter id to its list of dated values. Returns each distinct failure.
    """
    from .conditions import evaluate

    used = {pid: [v.value for v in values] for pid, values in parameters.items() if pid in formula}
    problems: list[str] = []
    for pid, values in used.items():
        for v in values:
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
            ):
                problems.append(f"parameter {pid!r} has a value that is not a finite number: {v!r}")
    if problems:
        return problems
    # each parameter through its dated values, the others at their latest: the dates a query can meet
    variants = [{pid: vals[-1] for pid, vals in used.items()}]
    for pid, vals in used.items():
        variants += [{**variants[0], pid: v} for v in vals[:-1]]
    seen: set[str] = set()
    for amount, net, term, fc, params in itertools.product(_AMOUNTS, _NET_ASSETS, _TERMS, (0, 1), variants):
        if any(v is None for v in params.values()):
            continue  # the query says the capacity is unknown instead
        names = {
            "amount": amount,
            "net_assets": net,
            "term_months": term,
            "short_term": int(term is not None and term <= 12),
            "foreign_currency": fc,
            "total_investment": net,  # an FIE's figures, on the same edge values
            "registered_capital": net / 2,
            "innovation_points": fc,  # both values of the flag, on the same edge values
            **params,
        }
        sample = f"amount={amount:g}, net_assets={net:g}, term_months={term}, foreign_currency={fc}"
        try:
            value = evaluate(formula, names)
        except Exception as exc:  # simpleeval's refusals, ZeroDivisionError, TypeError, OverflowError...
            msg = _reason(exc)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                msg = f"gives {type(value).__name__} {str(value)[:40]!r}, not a number"
            elif not math.isfinite(value):
                msg = f"gives {value}, not a finite number"
            else:
                continue
        if msg not in seen:
            seen.add(msg)
            problems.append(f"fails on a profile with {sample}: {msg}")
        if len(problems) >= 3:
            break
    return problems


def _reason(exc: Exception) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def dry_run_queries(rb: Any, limit: int = 5) -> list[str]:
    """Plan one profile per asset class and province, and one per objective, as `route` would.

    A rule base that loads but breaks queries (a matcher comparing a number with text, a
    non-finite score) fails here, in ``data validate``, not on a user's query.
    """
    import datetime as dt

    from ..engine.profile import make_profile
    from ..engine.search import plan
    from ..vocab import ASSET_CLASSES

    day = dt.date.today()
    objectives = list(rb.scoring.objectives)
    cases = [(ac, code, "balanced") for ac in ASSET_CLASSES for code in sorted(rb.provinces)]
    cases += [(ASSET_CLASSES[0], sorted(rb.provinces)[0], o) for o in objectives if o != "balanced"]
    problems: list[str] = []
    for ac, code, objective in cases:
        where = f"(dry run): route --asset-class {ac} --province {code} --optimize {objective}"
        try:
            prof = make_profile(rb, asset_class=ac, province=code, amount=5e7, net_assets=1e8, term_months=36)
            result = plan(prof, rb, as_of=day, optimize=objective, top=None)
        except Exception as exc:  # any failure here would be a user's exit 1
            problems.append(f"{where}: {_reason(exc)}")
        else:
            bad = [r for r in result.routes if not math.isfinite(r.score)]
            if bad:
                problems.append(f"{where}: score {bad[0].score} is not a finite number")
        if len(problems) >= limit:
            break
    return problems
