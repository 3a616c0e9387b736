"""Rows: one input record -> profile -> plan -> one output row, ok or error, never more and never less.

Each distinct profile is searched once (an LRU cache keyed by the normalised profile); each distinct
spelling of a row's profile cells is resolved once (a type-tagged cache, so ``True`` is not ``1``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from ..engine.closed import is_closed
from ..engine.money import summary_cells
from ..engine.profile import (
    GROUP_FIELDS,
    PROFILE_FIELDS,
    make_profile,
    parse_date,
    parse_integer,
    parse_number,
)
from ..engine.search import OBJECTIVES, Plan, plan
from ..errors import RepatriateError, clip, short_message
from ..files import safe_cell
from ..render.route import weeks_span
from .readers import BrokenRecord

AMOUNT_INPUT = "amount_input"  # the amount as written, beside the parsed ``amount``
NUMERIC_FIELDS = frozenset({
    "amount", "net_assets", "term_months", "total_investment", "registered_capital", *GROUP_FIELDS,
    "yield_pct", "fx_spread_bps", "max_channels", "listed_market_cap",  # the last two: batch --allocate
})
INTEGER_FIELDS = frozenset({"term_months", "max_channels"})
_FORMULA_START = frozenset("=+-@\t\r")  # as files.safe_cell, inlined in the hot loop
_PLAIN = frozenset({int, float, type(None)})
_RAW_CACHE = 16384  # distinct raw spellings kept; bounds memory whatever the portfolio size
_PLAN_CACHE = 4096  # distinct normalised profiles kept


class Result(NamedTuple):
    """The planned cells of one output row (``RESULT_FIELDS``), after the input columns.

    Self-contained: a row read alone says whether a route exists, why not, what to watch and
    which rules answered (``schema.py`` publishes the types).
    """

    status: str  # 'ok', 'no_route' or 'error'
    error: str  # the message of an error row, else ''
    reason: str  # why no route is feasible (the exclusions in one line), else ''
    best_channels: str  # 'fdi+qflp'
    best_province: str
    best_city: str
    weeks: str  # as the route view shows them: '4–8', '≤3', '4–8 +1?'
    weeks_min: float | None  # None where only a limit is known (the view's '≤')
    weeks_max: float | None
    unknown_steps: int | None  # steps on the route with no known time
    approvals: int | None
    documents: int | None  # a count
    feasible_routes: int | None
    # money and time of the best route (issue 11: engine.money.summary_cells); None where unknown
    weeks_typical_min: float | None
    weeks_typical_max: float | None
    cost_bps_per_year: float | None
    net_yield: float | None
    warnings: str  # the best route's warnings, ' | ' between them
    as_of: str
    rulebase_digest: str
    tool_version: str

    @property
    def where(self) -> tuple[str, str]:
        """The channels and the province a summary counts this row under."""
        return self.best_channels, self.best_province


RESULT_FIELDS = Result._fields


@dataclass(eq=False, slots=True)
class Outcome:
    """What one row's profile cells come to, ready to apply to that row's cells.

    ``fix`` lists ``(cell index, value)`` for the profile cells whose output differs from
    the raw text: numbers parsed (so they stay numbers) and, for spreadsheets, text made
    inert. ``tail`` is ``result`` as the writer wants it (text for CSV). Identity-hashed:
    a batch tallies its rows per outcome object.
    """

    fix: tuple[tuple[int, Any], ...]
    result: Result
    tail: tuple
    routes: list[dict[str, Any]] | None
    amount_input: str | None = None  # the amount as written, beside the parsed one
    head: str | None = None  # CSV: the row's cells before the tail, '%s' for each passed-through one
    more: tuple[tuple[Any, tuple], ...] = ()  # (result, tail) of each further row of the record (legs)


class Found(NamedTuple):
    """The search result of one profile: its result cells and, for ``top`` above 1, its routes;
    ``more`` holds the result cells of further rows (``batch --allocate``: a row per leg)."""

    result: Any  # Result, or another planner's row type (legs.LegResult)
    routes: list[dict[str, Any]] | None
    more: tuple = ()


SEPARATOR = " | "  # between the warnings (and the exclusions) of one cell
_NO_STAMP = ("", "", "")


def error_result(exc: BaseException | str, stamp: tuple[str, str, str] = _NO_STAMP) -> Result:
    """The result cells of a row that failed: one line, beginning with a word (inert in a spreadsheet).

    ``stamp`` is ``(as_of, rulebase_digest, tool_version)``, as every row carries them.
    """
    if isinstance(exc, (RepatriateError, str)):
        message = str(exc)
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    message = short_message(" ".join(message.split()))  # a 100 KB cell is not echoed whole
    none = (None,) * 10  # weeks_min .. feasible_routes, and the four money-and-time cells
    return Result("error", clip(message, 1000), "", "", "", "", "", *none, "", *stamp)


def weeks_text(route: Any) -> str:
    """A route's weeks as the route view shows them: '4–8', '≤3' (only a limit known), '4–8 +1?'."""
    text = weeks_span(*route.timeline)
    return f"{text} +{route.unknown_steps}?" if route.unknown_steps else text


def _line(text: str) -> str:
    return " ".join(text.split())


def no_route_reason(found: Plan, rb: Any) -> str:
    """The exclusions of a plan in one line: each distinct reason once, after the channels it bars.

    Closed routes (never a route for anyone) are left out: they are not why this asset has none.
    """
    reasons: dict[str, dict[str, None]] = {}
    for e in found.excluded:
        if any(is_closed(rb.channels[c]) for c in e.channels):
            continue
        for f in e.reasons:
            reasons.setdefault(_line(f.text.get("en") or ""), {})["+".join(e.channels)] = None
    return SEPARATOR.join(f"{', '.join(channels)}: {reason}" for reason, channels in reasons.items())


def _summarise(found: Plan, rb: Any, stamp: tuple[str, str, str]) -> Result:
    # Ids, codes and the rule base's own wording: ``_tail`` makes the text cells inert for spreadsheets.
    if not found.routes:
        return Result(
            "no_route", "", no_route_reason(found, rb), "", "", "", "", None, None, None, None, None,
            found.total_routes, None, None, None, None, "", *stamp,
        )
    best = found.routes[0]
    lo, hi = float(best.timeline[0]), float(best.timeline[1])
    return Result(
        "ok",
        "",
        "",
        "+".join(best.channels),
        best.location.province or "",
        best.location.city or "",
        weeks_text(best),
        lo if lo or not hi else None,  # 0 with a known maximum is "up to hi": the minimum is unknown
        hi,
        best.unknown_steps,
        best.approvals,
        len(best.documents),
        found.total_routes,
        *summary_cells(rb, found),
        SEPARATOR.join(_line(w.text.get("en") or "") for w in best.warnings),
        *stamp,
    )


def _routes(found: Plan) -> list[dict[str, Any]]:
    return [
        {
            "rank": r.rank,
            "channels": list(r.channels),
            "province": r.location.province,
            "city": r.location.city,
            "weeks": weeks_text(r),
            "weeks_min": float(r.timeline[0]) if r.timeline[0] or not r.timeline[1] else None,
            "weeks_max": float(r.timeline[1]),
            "unknown_steps": r.unknown_steps,
            "approvals": r.approvals,
            "documents": len(r.documents),
            "score": float(r.score),
        }
        for r in found.routes
    ]


def _text_cells(cells: tuple) -> tuple:
    # what csv.writer would write, done once per outcome rather than once per row
    return tuple("" if v is None else v if v.__class__ is str else str(v) for v in cells)


class CsvTail(bytes):
    """The result cells of one outcome already rendered as CSV and encoded (UTF-8), from the comma
    before the first to the line end: a row's long warnings are quoted and encoded once per distinct
    outcome, not once per row (``writers.CsvWriter`` appends it to the row's input cells)."""

    __slots__ = ()


_PASSED = object()  # a cell of the row template that each row fills in


def _csv_cell(value: Any) -> str:
    """One cell as csv.writer renders it within a row (a row of one empty cell would be '""')."""
    if value is None or value == "":
        return ""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([value])
    return buf.getvalue()[:-2]


def _getter(positions: list[int]) -> Callable[[Any], tuple]:
    """The cells of a row at ``positions``, as a tuple (also of one or none)."""
    if len(positions) >= 2:
        return itemgetter(*positions)
    if positions:
        only = positions[0]
        return lambda row: (row[only],)
    return lambda row: ()


def _csv_tail(cells: tuple) -> CsvTail:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)  # "\r\n" so a bare CR is quoted, as CsvWriter
    return CsvTail(("," + buf.getvalue()).encode("utf-8"))


def _tail(result: Any, mode: str) -> tuple:
    """The result cells as a writer in ``mode`` wants them: the rule base's wording made inert for
    a spreadsheet (an overlay is the user's text); for CSV, one pre-rendered ``CsvTail``."""
    if mode == "plain":
        return result
    result = result._replace(warnings=safe_cell(result.warnings), reason=safe_cell(result.reason))
    return (_csv_tail(_text_cells(result)),) if mode == "csv" else result


def as_number(value: Any, decimal: str = ".") -> Any:
    """A numeric cell as an int or float when it reads as one (so it stays a number), else unchanged."""
    if value.__class__ is not str:
        return value
    try:
        number = parse_number("value", value, decimal=decimal)
    except RepatriateError:
        return value
    whole = decimal not in value and "e" not in value.lower()  # "50,000,000" stays an int, "5e7" a float
    return int(number) if whole and number.is_integer() else number


def _safe(value: Any) -> Any:
    """``files.safe_cell`` for any cell: text made inert, numbers and dates kept, JSON values as text."""
    if value.__class__ is str:
        return safe_cell(value)
    if value is None or isinstance(value, (int, float, dt.date, dt.datetime, dt.time)):
        return value
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)  # a JSON list or object cell
    except (ValueError, RecursionError):
        text = repr(value)
    return safe_cell(text)


class Planner:
    """Plans raw profile values for one rule base, date, objective and ``top``, with an LRU cache
    from each normalised profile, ``(Profile.key(), as_of, optimize, top)``, to its search result,
    so ``"广东"`` and ``"CN-GD"`` share one search. Bounded, so memory stays flat.

    Parameters
    ----------
    rb : RuleBase
    as_of : date or ISO string, optional
        Rules in force on that date; default today.
    optimize : {'balanced', 'speed', 'cost', 'certainty'}
    top : int
        Routes kept per asset; above 1 each outcome also carries a ``routes`` list.
    cache : bool
        False searches every row afresh (to check that caching changes nothing).

    Raises
    ------
    RepatriateError
        For an unknown objective, a bad date or a ``top`` below 1.
    """

    result_fields: tuple[str, ...] = RESULT_FIELDS  # the planned cells of a row, after the input ones
    input_fields: tuple[str, ...] = PROFILE_FIELDS  # the input columns it reads
    one_row_each = True  # one output row per record (an Allocator gives one per leg)

    def __init__(
        self,
        rb: Any,
        *,
        as_of: str | dt.date | None = None,
        optimize: str = "balanced",
        top: int = 1,
        cache: bool = True,
    ):
        if optimize not in OBJECTIVES:
            raise RepatriateError(
                f"unknown objective {clip(str(optimize))!r} (accepted: {', '.join(OBJECTIVES)})"
            )
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise RepatriateError(f"top {clip(repr(top))} must be a whole number, 1 or more")
        self.rb = rb
        self.as_of = parse_date(as_of)
        self.optimize = optimize
        self.top = top
        self.cache = cache
        self.searches = 0
        self._plans: OrderedDict[tuple, Found] = OrderedDict()
        from .. import __version__

        # every row says which rules answered it: a row forwarded alone still carries them
        self.stamp = (self.as_of.isoformat(), rb.digest, __version__)
        self.sources: set[str] = set()  # the sources the searched plans cite (the XLSX Rules sheet)

    def no_routes(self) -> list | None:
        return [] if self.top > 1 else None

    def error(self, exc: BaseException | str) -> Any:
        """The result cells of a row that failed, stamped."""
        return error_result(exc, self.stamp)

    def settings(self) -> list[tuple[str, Any]]:
        """What besides the rules decided the answers (the XLSX Rules sheet)."""
        return [("optimize", self.optimize)]

    def search(self, fields: tuple[str, ...], values: tuple, decimal: str = ".") -> Found:
        """The result of one profile given as raw values; a failure is an error result, never an exception."""
        try:
            profile = make_profile(self.rb, **raw_values(fields, values, decimal))
            key = (profile.key(), self.as_of, self.optimize, self.top)
            hit = self._plans.get(key) if self.cache else None
            if hit is None:
                self.searches += 1
                found = plan(profile, self.rb, as_of=self.as_of, optimize=self.optimize, top=self.top)
                self.sources.update(found.sources)
                hit = Found(_summarise(found, self.rb, self.stamp), _routes(found) if self.top > 1 else None)
                if self.cache:
                    self._plans[key] = hit
                    if len(self._plans) > _PLAN_CACHE:
                        self._plans.popitem(last=False)
            else:
                self._plans.move_to_end(key)
            return hit
        except Exception as exc:  # a bad row becomes an error row; the batch goes on
            return Found(self.error(exc), self.no_routes())

    def outcome(
        self, fields: tuple[str, ...], positions: list[int], mode: str, values: tuple, decimal: str = "."
    ) -> Outcome:
        """The outcome of one row whose ``fields`` (at cell ``positions``) hold raw ``values``.

        ``mode`` is ``'plain'`` (typed values: numbers as numbers, missing as None), ``'inert'``
        (text escaped, for XLSX) or ``'csv'`` (escaped, and the result cells as text). The numeric
        fields come out as numbers or None in every mode; the amount as written goes to ``amount_input``.
        """
        fix = []
        amount_input = None
        for f, i, v in zip(fields, positions, values):
            out: Any
            if f in NUMERIC_FIELDS:
                out = typed_number(f, v, decimal, exact=mode == "plain")
                if f == "amount":
                    amount_input = _as_written(v, mode)
            elif mode == "plain":
                out = None if v is None or (v.__class__ is str and not v.strip()) else str(v)
            else:
                out = _safe(v)
            if out is not v:
                fix.append((i, out))
        result, routes, more = self.search(fields, values, decimal)
        further = tuple((r, _tail(r, mode)) for r in more)
        return Outcome(tuple(fix), result, _tail(result, mode), routes, amount_input, more=further)


def raw_values(fields: tuple[str, ...], values: tuple, decimal: str = ".") -> dict[str, Any]:
    """A record's cells by field, as ``make_profile`` takes them: blank text left out (a missing value,
    as in a spreadsheet), numbers in text read with the file's decimal mark.

    Raises
    ------
    RepatriateError
        For a number that does not read as one.
    """
    raw = {}
    for f, v in zip(fields, values):
        if v.__class__ is str:
            if not v.strip():
                continue
            if f in NUMERIC_FIELDS:
                v = parse_integer(f, v) if f in INTEGER_FIELDS else parse_number(f, v, decimal=decimal)
        raw[f] = v
    return raw


def typed_number(field: str, value: Any, decimal: str = ".", exact: bool = True) -> int | float | None:
    """A numeric profile cell as a number, or None when blank or unreadable (the error row says why).

    ``exact`` gives one type per field (``term_months`` an int, the others floats), as JSONL and
    ``plan_many`` promise; otherwise a whole amount stays an int (``50000000``, not ``50000000.0``).
    """
    if value is None or value.__class__ is bool:
        return None
    if value.__class__ is str:
        if not value.strip():
            return None
        try:
            number: float = parse_number(field, value, decimal=decimal)
        except RepatriateError:
            return None
    elif isinstance(value, (int, float)):
        number = value
    else:
        return None
    if not math.isfinite(number):
        return None
    whole = float(number).is_integer()
    if field in INTEGER_FIELDS:
        return int(number) if whole else None
    if exact:
        return float(number)
    return int(number) if whole and abs(number) < 1e15 else float(number)


def _as_written(value: Any, mode: str) -> str | None:
    """A cell as its text, as the user wrote it (made inert for a spreadsheet unless it reads as a number)."""
    if value is None:
        return None
    text = value if value.__class__ is str else str(value)
    if mode == "plain" or text[:1] not in _FORMULA_START:
        return text
    return text if as_number(text) is not text else safe_cell(text)  # "-5" is a number, not a formula


def canonical_column(name: Any) -> str:
    """``'Asset Class'``, ``'asset-class'`` and ``'\\ufeffasset_class'`` all name ``asset_class``."""
    return "_".join(str(name).replace("\ufeff", "").strip().lower().replace("-", " ").split())


def output_columns(
    header: list[str], amount_at: int | None = None, result_fields: tuple[str, ...] = RESULT_FIELDS
) -> list[str]:
    """The output's column names: the input's, made unique (case-insensitively) and kept clear of
    the result columns (an input ``status`` becomes ``input_status``), ``amount_input`` at
    ``amount_at`` (default: after the input columns), then ``result_fields``."""
    ours = {c.casefold() for c in (*result_fields, "routes", AMOUNT_INPUT)}
    seen = set(ours)
    out = []
    for i, h in enumerate(header):
        name = str(h) if str(h).strip() else f"column_{i + 1}"
        if name.casefold() in ours:
            name = "input_" + name
        base, n = name, 2
        while name.casefold() in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name.casefold())
        out.append(name)
    out.insert(len(out) if amount_at is None else amount_at, AMOUNT_INPUT)
    return out + list(result_fields)


class Table:
    """Plans list-shaped rows under one header: the fast path for files.

    Parameters
    ----------
    header : list of str
    planner : Planner
    mode : {'plain', 'csv', 'inert'}
        ``'csv'`` or ``'inert'`` make every text cell returned inert in a spreadsheet (CSV and
        XLSX output); ``'plain'`` keeps values as they are (JSONL output and ``plan_rows``).
    decimal : {'.', ','}
        The decimal mark of text numbers (``','`` in a ';'-separated CSV).
    typed : bool
        Cells may be other than text (XLSX, JSON): the cache then tells ``True`` from ``1``.
    """

    def __init__(
        self, header: list[str], planner: Planner, mode: str = "plain", decimal: str = ".", typed: bool = True
    ):
        self.planner = planner
        self.escape = mode != "plain"
        self.mode = mode
        self.decimal = decimal
        self.typed = typed
        self.width = len(header)
        canon = [canonical_column(h) for h in header]
        first = {c: i for i, c in reversed(list(enumerate(canon)))}  # the first of duplicate columns is read
        present = [(f, first[f]) for f in planner.input_fields if f in first]
        self.fields = tuple(f for f, _ in present)
        positions = [i for _, i in present]
        taken = set(positions)
        self.passthrough = [i for i in range(self.width) if i not in taken]
        self.values = _getter(positions)
        self.positions = positions
        self.cache: dict[tuple, Outcome] = {}  # raw values -> outcome; FIFO-bounded
        # amount_input sits just after the amount column (after the input columns when there is none)
        self.amount_at = first["amount"] + 1 if "amount" in first else self.width
        self.columns = output_columns(header, self.amount_at, planner.result_fields)
        self._passed = _getter(self.passthrough)  # the cells each row renders itself (csv_rows)

    def key(self, values: tuple) -> tuple:
        """The cache key of raw values: type-tagged unless every cell is text (CSV)."""
        if self.typed:
            return tuple([(v.__class__, v) for v in values])
        return values

    def row(self, cells: list) -> tuple[list, Outcome]:
        """The output cells of one input record (a fresh list the table may change), and its outcome.

        Never raises: whatever goes wrong with one record makes its error row.
        """
        if cells.__class__ is BrokenRecord:
            return self.broken(cells)
        try:
            problem = None if len(cells) == self.width else self.fit(cells)
            values = self.values(cells)
            key = self.key(values) if self.typed else values
            cacheable = True
            try:
                out = self.cache.get(key)
            except TypeError:  # an unhashable cell (a JSON list or object): resolve it uncached
                out, cacheable = None, False
            if out is None:
                out = self.planner.outcome(self.fields, self.positions, self.mode, values, self.decimal)
                if cacheable:
                    self.remember(key, out)
            return self.finish(cells, out, problem)
        except Exception as exc:
            return self.failed_row(self.planner.error(exc))

    def csv_rows(self, records: Iterable[list], parts: list[bytes]) -> Iterator[tuple[list | None, Outcome]]:
        """CSV text in, CSV out: for each record, in order, its outcome, after appending the row to
        ``parts`` (encoded: the cells, then the outcome's ``CsvTail``); or, for a record this cannot
        render, ``(cells, outcome)`` from ``row`` for the writer. Never raises.

        Rows repeat their profile (a portfolio meets a few hundred), and all but the passed-through
        cells (asset_id, label, ...) depend on the profile alone, so each outcome keeps its row
        rendered as a template: a row costs joining its own cells, checking that csv.writer would
        not quote one, making a formula start inert (as ``finish``) and filling them in. A short or
        long record, or a cell to quote, goes through ``row``. This is the hot loop of a CSV batch:
        a method call per row here was a tenth of it.
        """
        if self.mode != "csv" or self.typed:
            raise ValueError("csv_rows renders CSV text read from CSV (mode 'csv', typed False)")
        values, passed_of, cache, width = self.values, self._passed, self.cache, self.width
        commas = len(self.passthrough) - 1
        put = parts.append
        for cells in records:
            try:
                if cells.__class__ is list and len(cells) == width and commas >= 0:
                    key = values(cells)
                    out = cache.get(key) or self._outcome(key)
                    head = out.head if out.head is not None else self._template(out, key)
                    passed = passed_of(cells)
                    line = ",".join(passed)  # CSV cells are text
                    if line.count(",") == commas and '"' not in line and "\r" not in line and "\n" not in line:
                        for cell in passed:
                            if cell[:1] in _FORMULA_START:  # made inert as finish() does
                                passed = tuple(["'" + c if c[:1] in _FORMULA_START else c for c in passed])
                                break
                        put((head % passed).encode())
                        put(out.tail[0])
                        yield None, out
                        continue
            except Exception:
                pass  # row() makes the error row
            yield self.row(cells)

    def _outcome(self, values: tuple) -> Outcome:
        return self.remember(values, self.planner.outcome(self.fields, self.positions, self.mode, values, self.decimal))

    def _template(self, out: Outcome, values: tuple) -> str:
        """``out.head``: the row of raw ``values`` rendered up to its tail, ``%s`` for each passed-through cell."""
        cells: list[Any] = [_PASSED] * self.width
        for i, v in zip(self.positions, values):
            cells[i] = v
        for i, v in out.fix:
            cells[i] = v
        cells.insert(self.amount_at, out.amount_input)
        out.head = ",".join("%s" if v is _PASSED else _csv_cell(v).replace("%", "%%") for v in cells)
        return out.head

    def fit(self, cells: list) -> str | None:
        """Pad a short row, cut a long one; the problem with a long one."""
        n = len(cells)
        if n < self.width:  # short rows are common in hand-edited CSV: the missing cells are empty
            cells.extend([None] * (self.width - n))
            return None
        extra = ", ".join(repr(c) for c in cells[self.width : self.width + 20])
        del cells[self.width :]
        return f"the row has {n} fields but the header has {self.width} (extra: {clip(extra)})"

    def remember(self, key: tuple, out: Outcome) -> Outcome:
        if self.planner.cache:
            if len(self.cache) >= _RAW_CACHE:
                del self.cache[next(iter(self.cache))]  # oldest first: cheap, and bounds memory
            self.cache[key] = out
        return out

    def finish(self, cells: list, out: Outcome, problem: str | None) -> tuple[list, Outcome]:
        """Apply an outcome to its row's cells."""
        for i, v in out.fix:
            cells[i] = v
        if self.escape:
            for i in self.passthrough:
                v = cells[i]
                if v.__class__ is str:
                    if v[:1] in _FORMULA_START:
                        cells[i] = "'" + v
                elif v.__class__ not in _PLAIN:
                    cells[i] = _safe(v)
        if problem is not None:
            out = self._failed(out.fix, problem, out.amount_input)
        cells.insert(self.amount_at, out.amount_input)
        cells += out.tail
        return cells, out

    def broken(self, record: BrokenRecord) -> tuple[list, Outcome]:
        """The output of a record that could not be read at all."""
        return self.failed_row(self.planner.error(record.problem))

    def failed_row(self, result: Any) -> tuple[list, Outcome]:
        """An error row with empty input cells."""
        out = Outcome((), result, self._tail(result), self.planner.no_routes())
        return [None] * (self.width + 1) + list(out.tail), out

    def _tail(self, result: Any) -> tuple:
        return _tail(result, self.mode)

    def _failed(self, fix: tuple, problem: str, amount_input: str | None = None) -> Outcome:
        result = self.planner.error(problem)
        return Outcome(fix, result, self._tail(result), self.planner.no_routes(), amount_input)


class Tables:
    """One ``Table`` per distinct set of keys (records from JSON need not share them)."""

    def __init__(self, planner: Planner, mode: str = "plain"):
        self.planner = planner
        self.mode = mode
        self._tables: dict[tuple, Table] = {}

    def get(self, keys: tuple) -> Table:
        table = self._tables.get(keys)
        if table is None:
            if len(self._tables) >= 256:  # ragged records: keep memory bounded
                self._tables.clear()
            table = self._tables[keys] = Table([str(k) for k in keys], self.planner, self.mode)
        return table


def plan_rows(
    rows: Iterable[dict[str, Any]],
    rb: Any,
    *,
    as_of: str | dt.date | None = None,
    optimize: str = "balanced",
    top: int = 1,
    cache: bool = True,
    allocate: bool = False,
    by: str | dt.date | None = None,
    max_channels: int | str = 3,
    listed_market_cap: float | str | None = None,
) -> Iterator[dict[str, Any]]:
    """Plan each asset of a portfolio; yield one flat result row per input row, in order (with
    ``allocate``, one row per leg).

    Parameters
    ----------
    rows : iterable of dict
        Raw values keyed by column: ``asset_class, sector, province, city, amount,
        currency, holder_type, net_assets, term_months, spv_owner`` (snake_case; ``Asset
        Class`` also works), plus any other column (``asset_id``, ``label``, ...), which is
        carried through (renamed ``input_status`` and so on where it would collide).
    rb : RuleBase
    as_of : date or ISO string, optional
        Rules in force on that date; default today.
    optimize : {'balanced', 'speed', 'cost', 'certainty'}
    top : int
        Above 1, each row also gets ``routes``: the best ``top`` routes.
    cache : bool
        Search once per distinct profile (default); False searches every row.
    allocate : bool
        Split each asset's amount over channels (``repatriate.allocate``) and yield one row
        per leg, keyed by ``asset_id`` and ``leg``, with the columns of ``legs.LEG_FIELDS``
        instead of ``RESULT_FIELDS``; an asset with no leg gets one ``no_route`` row. Rows may
        also give ``by``, ``max_channels`` and ``listed_market_cap``.
    by, max_channels, listed_market_cap
        With ``allocate``: the deadline, the most legs (default 3) and a listed holder's market
        value, for rows that do not give their own.

    Yields
    ------
    dict
        The input columns (the profile's numeric ones as numbers, or None when blank or
        unreadable; its text ones as text or None), ``amount_input`` (the amount as written)
        after ``amount``, then ``RESULT_FIELDS``: ``status`` (``ok``, ``no_route`` or
        ``error``), ``error`` (the message), ``reason`` (why no route, in one line),
        ``best_channels`` (``'fdi+qflp'``), ``best_province``, ``best_city``, ``weeks`` (as
        the route view shows them), ``weeks_min`` (None where only a limit is known),
        ``weeks_max``, ``unknown_steps``, ``approvals``, ``documents`` (a count),
        ``feasible_routes``, ``warnings`` (``' | '`` between them), ``as_of``,
        ``rulebase_digest`` and ``tool_version``. One type per field on every row
        (``repatriate.batch.schema``). A bad row is an error row, never an exception.

    Raises
    ------
    RepatriateError
        Only for bad options (objective, date, ``top``, the allocation's), before any row is read.
    """
    planner: Planner
    if allocate:
        from .legs import Allocator

        if top != 1:
            raise RepatriateError("allocate gives a row per leg; top lists routes: choose one", field="top")
        planner = Allocator(
            rb, as_of=as_of, by=by, max_channels=max_channels, listed_market_cap=listed_market_cap, cache=cache
        )
    else:  # bad options fail here, eagerly
        planner = Planner(rb, as_of=as_of, optimize=optimize, top=top, cache=cache)
    return _plan_dicts(rows, planner)


def _plan_dicts(rows: Iterable[Any], planner: Planner) -> Iterator[dict[str, Any]]:
    tables = Tables(planner)
    for row in rows:
        if not isinstance(row, dict):
            table = tables.get(())
            what = f"the row is not a record of columns but {type(row).__name__} {clip(repr(row))}"
            cells, out = table.row(BrokenRecord(what))
        else:
            table = tables.get(tuple(row))
            cells, out = table.row(list(row.values()))
        record = dict(zip(table.columns, cells))
        if out.routes is not None:
            record["routes"] = out.routes
        yield record
        for _, tail in out.more:  # further legs: the same input cells
            yield {**record, **dict(zip(table.planner.result_fields, tail))}


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (inf, nan) replaced by None, in lists and dicts too."""
    if value.__class__ is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value
