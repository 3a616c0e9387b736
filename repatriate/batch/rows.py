"""Rows: one input record -> profile -> plan -> one output row, ok or error, never more and never less.

Each distinct profile is searched once (an LRU cache keyed by the normalised profile); each distinct
spelling of a row's profile cells is resolved once (a type-tagged cache, so ``True`` is not ``1``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from ..engine.profile import (
    GROUP_FIELDS,
    PROFILE_FIELDS,
    make_profile,
    parse_date,
    parse_integer,
    parse_number,
)
from ..engine.money import summary_cells
from ..engine.search import OBJECTIVES, Plan, plan
from ..errors import RepatriateError
from ..errors import clip, short_message
from ..files import safe_cell
from .readers import BrokenRecord

NUMERIC_FIELDS = frozenset({
    "amount", "net_assets", "term_months", "total_investment", "registered_capital", *GROUP_FIELDS,
    "yield_pct", "fx_spread_bps",
})
_FORMULA_START = frozenset("=+-@\t\r")  # as files.safe_cell, inlined in the hot loop
_PLAIN = frozenset({int, float, type(None)})
_RAW_CACHE = 16384  # distinct raw spellings kept; bounds memory whatever the portfolio size
_PLAN_CACHE = 4096  # distinct normalised profiles kept


class Result(NamedTuple):
    """The planned cells of one output row (``RESULT_FIELDS``), after the input columns."""

    status: str  # 'ok' or 'error'
    error: str
    best_channels: str  # 'fdi+qflp'
    best_province: str
    best_city: str
    weeks_min: float | None
    weeks_max: float | None
    approvals: int | None
    documents: int | None  # a count
    feasible_routes: int
    # money and time of the best route (issue 11: engine.money.summary_cells)
    weeks_typical_min: float | None = None
    weeks_typical_max: float | None = None
    cost_bps_per_year: float | None = None
    net_yield: float | None = None


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


class Found(NamedTuple):
    """The search result of one profile: its result cells and, for ``top`` above 1, its routes."""

    result: Result
    routes: list[dict[str, Any]] | None


def error_result(exc: BaseException | str) -> Result:
    """The result cells of a row that failed: one line, beginning with a word (inert in a spreadsheet)."""
    if isinstance(exc, (RepatriateError, str)):
        message = str(exc)
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    message = short_message(" ".join(message.split()))  # a 100 KB cell is not echoed whole
    return Result("error", clip(message, 1000), "", "", "", None, None, None, None, 0)


def _summarise(found: Plan, rb: Any = None) -> Result:
    # Every text cell here is an id or a code, so it is inert in a spreadsheet as it stands.
    if not found.routes:
        return Result("ok", "", "", "", "", None, None, None, None, found.total_routes)
    best = found.routes[0]
    return Result(
        "ok",
        "",
        "+".join(best.channels),
        best.location.province or "",
        best.location.city or "",
        best.timeline[0],
        best.timeline[1],
        best.approvals,
        len(best.documents),
        found.total_routes,
        *(summary_cells(rb, found) if rb is not None else ()),
    )


def _routes(found: Plan) -> list[dict[str, Any]]:
    return [
        {
            "rank": r.rank,
            "channels": list(r.channels),
            "province": r.location.province,
            "city": r.location.city,
            "weeks_min": r.timeline[0],
            "weeks_max": r.timeline[1],
            "approvals": r.approvals,
            "documents": len(r.documents),
            "score": r.score,
        }
        for r in found.routes
    ]


def _text_cells(cells: tuple) -> tuple:
    # what csv.writer would write, done once per outcome rather than once per row
    return tuple("" if v is None else v if v.__class__ is str else str(v) for v in cells)


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

    def no_routes(self) -> list | None:
        return [] if self.top > 1 else None

    def search(self, fields: tuple[str, ...], values: tuple, decimal: str = ".") -> Found:
        """The result of one profile given as raw values; a failure is an error result, never an exception."""
        try:
            raw = {}
            for f, v in zip(fields, values):
                if v.__class__ is str:
                    if not v.strip():
                        continue  # a blank cell is a missing value, as in a spreadsheet
                    if f in NUMERIC_FIELDS:
                        v = parse_integer(f, v) if f == "term_months" else parse_number(f, v, decimal=decimal)
                raw[f] = v
            profile = make_profile(self.rb, **raw)
            key = (profile.key(), self.as_of, self.optimize, self.top)
            hit = self._plans.get(key) if self.cache else None
            if hit is None:
                self.searches += 1
                found = plan(profile, self.rb, as_of=self.as_of, optimize=self.optimize, top=self.top)
                hit = Found(_summarise(found, self.rb), _routes(found) if self.top > 1 else None)
                if self.cache:
                    self._plans[key] = hit
                    if len(self._plans) > _PLAN_CACHE:
                        self._plans.popitem(last=False)
            else:
                self._plans.move_to_end(key)
            return hit
        except Exception as exc:  # a bad row becomes an error row; the batch goes on
            return Found(error_result(exc), self.no_routes())

    def outcome(
        self, fields: tuple[str, ...], positions: list[int], mode: str, values: tuple, decimal: str = "."
    ) -> Outcome:
        """The outcome of one row whose ``fields`` (at cell ``positions``) hold raw ``values``.

        ``mode`` is ``'plain'`` (values as they are), ``'inert'`` (text escaped, for XLSX)
        or ``'csv'`` (escaped, and the result cells as text).
        """
        fix = []
        for f, i, v in zip(fields, positions, values):
            out = as_number(v, decimal) if f in NUMERIC_FIELDS else v
            if mode != "plain":
                out = _safe(out)
            if out is not v:
                fix.append((i, out))
        result, routes = self.search(fields, values, decimal)
        return Outcome(tuple(fix), result, _text_cells(result) if mode == "csv" else result, routes)


def canonical_column(name: Any) -> str:
    """``'Asset Class'``, ``'asset-class'`` and ``'\\ufeffasset_class'`` all name ``asset_class``."""
    return "_".join(str(name).replace("\ufeff", "").strip().lower().replace("-", " ").split())


def output_columns(header: list[str]) -> list[str]:
    """The output's column names: the input's, made unique (case-insensitively) and kept clear of
    the result columns (an input ``status`` becomes ``input_status``), then ``RESULT_FIELDS``."""
    ours = {c.casefold() for c in (*RESULT_FIELDS, "routes")}
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
    return out + list(RESULT_FIELDS)


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
        present = [(f, first[f]) for f in PROFILE_FIELDS if f in first]
        self.fields = tuple(f for f, _ in present)
        positions = [i for _, i in present]
        taken = set(positions)
        self.passthrough = [i for i in range(self.width) if i not in taken]
        if len(positions) >= 2:
            self.values = itemgetter(*positions)
        elif positions:
            self.values = lambda row, i=positions[0]: (row[i],)
        else:
            self.values = lambda row: ()
        self.positions = positions
        self.cache: dict[tuple, Outcome] = {}  # raw values -> outcome; FIFO-bounded
        self.columns = output_columns(header)

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
            try:
                out = self.cache.get(key)
            except TypeError:  # an unhashable cell (a JSON list or object): resolve it uncached
                out = key = None
            if out is None:
                out = self.planner.outcome(self.fields, self.positions, self.mode, values, self.decimal)
                if key is not None:
                    self.remember(key, out)
            return self.finish(cells, out, problem)
        except Exception as exc:
            return self.failed_row(error_result(exc))

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
            out = self._failed(out.fix, problem)
        cells += out.tail
        return cells, out

    def broken(self, record: BrokenRecord) -> tuple[list, Outcome]:
        """The output of a record that could not be read at all."""
        return self.failed_row(error_result(record.problem))

    def failed_row(self, result: Result) -> tuple[list, Outcome]:
        """An error row with empty input cells."""
        out = Outcome((), result, self._tail(result), self.planner.no_routes())
        return [None] * self.width + list(out.tail), out

    def _tail(self, result: Result) -> tuple:
        return _text_cells(result) if self.mode == "csv" else result

    def _failed(self, fix: tuple, problem: str) -> Outcome:
        result = error_result(problem)
        return Outcome(fix, result, self._tail(result), self.planner.no_routes())


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
) -> Iterator[dict[str, Any]]:
    """Plan each asset of a portfolio; yield one flat result row per input row, in order.

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

    Yields
    ------
    dict
        The input columns (numeric ones as numbers where they read as numbers), then
        ``RESULT_FIELDS``: ``status`` (``ok`` or ``error``), ``error`` (the message, or ``''``),
        ``best_channels`` (``'fdi+qflp'``), ``best_province``, ``best_city``, ``weeks_min``,
        ``weeks_max``, ``approvals``, ``documents`` (a count) and ``feasible_routes``. A bad
        row is an error row, never an exception.

    Raises
    ------
    RepatriateError
        Only for bad options (objective, date, ``top``), before any row is read.
    """
    planner = Planner(
        rb, as_of=as_of, optimize=optimize, top=top, cache=cache
    )  # bad options fail here, eagerly
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


def finite(value: Any) -> Any:
    """``value`` with every non-finite float (inf, nan) replaced by None, in lists and dicts too."""
    if value.__class__ is float:
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value
