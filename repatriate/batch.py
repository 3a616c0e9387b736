"""Batch planning of asset portfolios: read CSV/XLSX/JSONL rows, plan each, write one result row per asset.

Rows stream through (memory is flat in the number of rows); each distinct profile is searched once.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import math
import os
import sys
import tempfile
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from .errors import RepatriateError
from .models import RuleBase
from .profile import make_profile, parse_date
from .render import safe_cell
from .search import OBJECTIVES, Plan, plan

PROFILE_FIELDS = (
    "asset_class",
    "sector",
    "province",
    "city",
    "amount",
    "currency",
    "holder_type",
    "net_assets",
    "term_months",
    "spv_owner",
)
NUMERIC_FIELDS = frozenset({"amount", "net_assets", "term_months"})
RESULT_FIELDS = (
    "status",
    "error",
    "best_channels",
    "best_province",
    "best_city",
    "weeks_min",
    "weeks_max",
    "approvals",
    "documents",
    "feasible_routes",
)
INPUT_FORMATS = ("csv", "xlsx", "jsonl")
OUTPUT_FORMATS = ("csv", "xlsx", "jsonl")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
_FORMULA_START = frozenset("=+-@\t\r")  # OWASP: what a spreadsheet may read as a formula
_PLAIN = frozenset({int, float, type(None)})
_SNIFF_BYTES = 1 << 20  # enough text to meet the first Chinese cell in any real export
_RAW_CACHE = 16384  # distinct raw spellings kept; bounds memory whatever the portfolio size
_PLAN_CACHE = 4096  # distinct normalised profiles kept


# --- planning ----------------------------------------------------------------------


class _Outcome:
    """What a row's profile values resolve to: its result cells, and how its own cells are written.

    ``plain`` and ``inert`` list ``(field ordinal, value)`` for the profile cells whose output
    differs from the raw value: numbers parsed (so they stay numbers), and in ``inert`` also
    text escaped for spreadsheets. Identity-hashed: a batch tallies rows per outcome object.
    """

    __slots__ = ("plain", "inert", "result", "routes")

    def __init__(self, plain: tuple, inert: tuple, result: tuple, routes: list | None):
        self.plain = plain
        self.inert = inert
        self.result = result
        self.routes = routes


class Planner:
    """Plans raw profile values for one rule base, date, objective and ``top``, with two caches.

    The first cache maps raw spellings (``"广东"``, ``"50,000,000"``) to an outcome, so a
    repeated row costs a dictionary look-up; the second maps each normalised profile
    (``Profile.key()``) to its search result, so ``"广东"`` and ``"CN-GD"`` share one search.
    Both are bounded LRU caches, so memory stays flat however many distinct assets stream by.

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

    def __init__(self, rb: RuleBase, *, as_of: str | dt.date | None = None, optimize: str = "balanced", top: int = 1, cache: bool = True):
        if optimize not in OBJECTIVES:
            raise RepatriateError(f"unknown objective {optimize!r} (accepted: {', '.join(OBJECTIVES)})")
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise RepatriateError(f"top {top!r} must be a whole number, 1 or more")
        self.rb = rb
        self.as_of = parse_date(as_of)
        self.optimize = optimize
        self.top = top
        self.cache = cache
        self.searches = 0
        self._plans: OrderedDict[tuple, tuple[tuple, list | None]] = OrderedDict()
        self.resolve: Callable[[tuple, tuple], _Outcome] = lru_cache(maxsize=_RAW_CACHE)(self.resolve_uncached) if cache else self.resolve_uncached

    def resolve_uncached(self, fields: tuple[str, ...], values: tuple) -> _Outcome:
        """The outcome of one row's profile columns ``fields`` holding raw ``values``."""
        plain = []
        inert = []
        for j, (f, v) in enumerate(zip(fields, values)):
            out = _as_number(v) if f in NUMERIC_FIELDS else v
            if out is not v:
                plain.append((j, out))
            safe = _safe(out)
            if safe is not v:
                inert.append((j, safe))
        try:
            profile = make_profile(self.rb, **dict(zip(fields, values)))
            key = (profile.key(), self.as_of, self.optimize, self.top)
            hit = self._plans.get(key) if self.cache else None
            if hit is None:
                self.searches += 1
                found = plan(profile, self.rb, as_of=self.as_of, optimize=self.optimize, top=self.top)
                hit = (_summarise(found), _routes(found) if self.top > 1 else None)
                if self.cache:
                    self._plans[key] = hit
                    if len(self._plans) > _PLAN_CACHE:
                        self._plans.popitem(last=False)
            else:
                self._plans.move_to_end(key)
            result, routes = hit
        except Exception as exc:  # a bad row becomes an error row; the batch goes on
            result, routes = _error_result(exc), ([] if self.top > 1 else None)
        return _Outcome(tuple(plain), tuple(inert), result, routes)


def _summarise(found: Plan) -> tuple:
    # Every text cell here is an id or a code, so it is inert in a spreadsheet as it stands.
    if not found.routes:
        return ("ok", "", "", "", "", None, None, None, None, found.total_routes)
    best = found.routes[0]
    return (
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


def _error_result(exc: Exception | str) -> tuple:
    if isinstance(exc, (RepatriateError, str)):
        message = str(exc)
    else:
        message = f"unexpected {type(exc).__name__}: {exc}"
    # one line; messages begin with a word, so they are inert in a spreadsheet too
    return ("error", " ".join(message.split()), "", "", "", None, None, None, None, 0)


def _as_number(value: Any) -> Any:
    """A numeric cell as an int or float when it reads as one (so it stays a number), else unchanged."""
    if not isinstance(value, str):
        return value
    text = value.strip().replace(",", "").replace("_", "")
    if not text:
        return value
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def _safe(value: Any) -> Any:
    """``render.safe_cell`` for any cell: text made inert, numbers and dates kept, JSON values as text."""
    if value.__class__ is str:
        return safe_cell(value)
    if value is None or isinstance(value, (int, float, dt.date, dt.datetime, dt.time)):
        return value
    return safe_cell(json.dumps(value, ensure_ascii=False, default=str))  # a JSON list or object cell


# --- rows ------------------------------------------------------------------------------


def canonical_column(name: Any) -> str:
    """``'Asset Class'``, ``'asset-class'`` and ``'\\ufeffasset_class'`` all name ``asset_class``."""
    return "_".join(str(name).replace("\ufeff", "").strip().lower().replace("-", " ").split())


class _Broken(list):
    """An input row that could not be read (broken CSV, a line that is not JSON): empty, with the reason."""

    def __init__(self, problem: str):
        super().__init__()
        self.problem = problem


class _Table:
    """Plans list-shaped rows under one header: the fast path for files.

    With ``escape`` every text cell it returns is inert in a spreadsheet (CSV and XLSX
    output); without, cells keep their values (JSONL output and ``plan_rows``).
    """

    def __init__(self, header: list[str], planner: Planner, escape: bool = False):
        self.planner = planner
        self.escape = escape
        self.width = len(header)
        canon = [canonical_column(h) for h in header]
        first = {c: i for i, c in reversed(list(enumerate(canon)))}  # the first of duplicate columns is the one read
        present = [(f, first[f]) for f in PROFILE_FIELDS if f in first]
        self.fields = tuple(f for f, _ in present)
        self.positions = [i for _, i in present]
        used = set(self.positions)
        self.passthrough = [i for i in range(self.width) if i not in used]
        if len(self.positions) >= 2:
            self.values = itemgetter(*self.positions)
        elif self.positions:
            self.values = lambda row, i=self.positions[0]: (row[i],)
        else:
            self.values = lambda row: ()
        taken = set(RESULT_FIELDS) | {"routes"}
        self.columns = [("input_" + h) if h in taken else h for h in map(str, header)] + list(RESULT_FIELDS)

    def row(self, cells: list) -> tuple[list, _Outcome]:
        """The output cells of one input row (a fresh list the table may change), and its outcome."""
        if cells.__class__ is _Broken:
            return [None] * self.width + list(_error_result(cells.problem)), _Outcome((), (), _error_result(cells.problem), self._no_routes())
        problem = None
        n = len(cells)
        if n != self.width:
            if n > self.width:
                extra = ", ".join(repr(c) for c in cells[self.width :])
                problem = f"the row has {n} fields but the header has {self.width} (extra: {_clip(extra)})"
                del cells[self.width :]
            else:  # short rows are common in hand-edited CSV: the missing cells are empty
                cells.extend([None] * (self.width - n))
        values = self.values(cells)
        try:
            out = self.planner.resolve(self.fields, values)
        except TypeError:  # an unhashable cell (a JSON list or object): resolve it uncached
            out = self.planner.resolve_uncached(self.fields, values)
        positions = self.positions
        if self.escape:
            for j, v in out.inert:
                cells[positions[j]] = v
            for i in self.passthrough:
                v = cells[i]
                if v.__class__ is str:
                    if v[:1] in _FORMULA_START:
                        cells[i] = "'" + v
                elif v.__class__ not in _PLAIN:
                    cells[i] = _safe(v)
        else:
            for j, v in out.plain:
                cells[positions[j]] = v
        if problem is not None:
            out = _Outcome(out.plain, out.inert, _error_result(problem), self._no_routes())
        cells.extend(out.result)
        return cells, out

    def _no_routes(self) -> list | None:
        return [] if self.planner.top > 1 else None


def plan_rows(
    rows: Iterable[dict[str, Any]],
    rb: RuleBase,
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
        carried through.
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
        ``status`` (``ok`` or ``error``), ``error`` (the message, or ``''``),
        ``best_channels`` (``'fdi+qflp'``), ``best_province``, ``best_city``,
        ``weeks_min``, ``weeks_max``, ``approvals``, ``documents`` (a count) and
        ``feasible_routes``. A bad row is an error row, never an exception.

    Raises
    ------
    RepatriateError
        Only for bad options (objective, date, ``top``), before any row is read.

    Examples
    --------
    >>> rows = [{"asset_id": "A1", "asset_class": "equity", "province": "广东", "amount": "5e7"}]
    >>> next(plan_rows(rows, load_rulebase()))["status"]
    'ok'
    """
    planner = Planner(rb, as_of=as_of, optimize=optimize, top=top, cache=cache)
    yield from _plan_dicts(rows, planner)


def _plan_dicts(rows: Iterable[Any], planner: Planner) -> Iterator[dict[str, Any]]:
    tables: dict[tuple, _Table] = {}  # one per distinct set of keys; portfolios have one or a few
    for row in rows:
        problem = None
        if not isinstance(row, dict):
            problem = f"the row is not a record of columns but {type(row).__name__} {_short(row)}"
            row = {}
        keys = tuple(row)
        table = tables.get(keys)
        if table is None:
            if len(tables) > 256:
                tables.clear()
            table = tables[keys] = _Table([str(k) for k in keys], planner)
        cells, out = table.row(list(row.values()), problem)
        record = dict(zip(table.columns, cells))
        if out.routes is not None:
            record["routes"] = out.routes
        yield record


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- reading ---------------------------------------------------------------------------


def detect_encoding(head: bytes, complete: bool = False) -> str:
    """The encoding of a CSV from its first bytes: UTF-8 (with or without BOM), UTF-16, or GB18030.

    Parameters
    ----------
    head : bytes
        The first block of the file.
    complete : bool
        True when ``head`` is the whole file (a cut multi-byte character is then an error).

    Raises
    ------
    RepatriateError
        When the bytes are none of these and charset-normalizer cannot tell either.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    for candidate in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(candidate)().decode(head, final=complete)
            return candidate
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise RepatriateError("cannot tell the text encoding of the portfolio (tried UTF-8, UTF-8 with BOM, GB18030); pass --encoding, e.g. --encoding big5")
    return best.encoding


def _check_encoding(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise RepatriateError(f"unknown encoding {encoding!r} (accepted: a Python codec name such as utf-8, utf-8-sig, gb18030, big5)") from None


class _Prefixed(io.RawIOBase):
    """A binary stream that replays the sniffed first block before the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass
class Source:
    """An opened portfolio: its format and a binary stream positioned at the start."""

    name: str
    format: str
    stream: IO[bytes]
    head: bytes
    size: int | None = None

    def close(self) -> None:
        self.stream.close()


def open_portfolio(path: str | os.PathLike, input_format: str | None = None, stdin: IO[bytes] | None = None) -> Source:
    """Open a portfolio file (or ``-`` for stdin) and settle its format.

    Raises
    ------
    RepatriateError
        A missing or unreadable file, an unknown format.
    """
    if input_format is not None and input_format not in INPUT_FORMATS:
        raise RepatriateError(f"unknown input format {input_format!r} (accepted: {', '.join(INPUT_FORMATS)})")
    name = str(path)
    size = None
    if name == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        head = stream.read(_SNIFF_BYTES)
        if head.startswith(b"PK\x03\x04"):
            # openpyxl needs a seekable file: spool stdin (to disk past a few MB)
            spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
            spool.write(head)
            while chunk := stream.read(1 << 20):
                spool.write(chunk)
            spool.seek(0)
            return Source("<stdin>", "xlsx", spool, head)
        stream = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 16)
    else:
        p = Path(name)
        try:
            stream = open(p, "rb")
            size = os.fstat(stream.fileno()).st_size
        except IsADirectoryError:
            raise RepatriateError(f"portfolio {name!r} is a directory, not a file") from None
        except FileNotFoundError:
            raise RepatriateError(f"portfolio {name!r} does not exist") from None
        except OSError as exc:
            raise RepatriateError(f"cannot read portfolio {name!r}: {exc.strerror or exc}") from None
        head = stream.read(_SNIFF_BYTES)
        stream.seek(0)
    fmt = input_format or _sniff_format(name, head)
    return Source(name if name != "-" else "<stdin>", fmt, stream, head, size)


def _sniff_format(name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    ext = Path(name).suffix.lower() if name != "-" else ""
    if ext in _EXTENSIONS and _EXTENSIONS[ext] != "xlsx":
        return _EXTENSIONS[ext]
    if ext in _EXTENSIONS:
        raise RepatriateError(f"portfolio {name!r} is not an XLSX workbook (it is not a zip file)")
    first = head.lstrip(codecs.BOM_UTF8).lstrip()[:1]
    return "jsonl" if first == b"{" else "csv"


def _text(source: Source, encoding: str | None) -> io.TextIOWrapper:
    if encoding:
        enc = _check_encoding(encoding)
    else:
        enc = detect_encoding(source.head, complete=source.size is not None and len(source.head) >= source.size)
    # errors="replace": a stray byte deep in the file spoils one cell, not the batch
    return io.TextIOWrapper(source.stream, encoding=enc, errors="replace", newline="")


def _delimiter(first_line: str) -> str:
    # Excel writes commas, or semicolons in locales with a decimal comma; "Unicode text" is tab-separated
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv(source: Source, encoding: str | None = None) -> Iterator[tuple[list[str] | None, list | None, str | None]]:
    """Yield the header once as ``(header, None, None)``, then ``(None, cells, problem)`` per row."""
    text = _text(source, encoding)
    first = text.readline()
    if not first.strip():
        return
    delimiter = _delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter), [])
    yield header, None, None
    reader = csv.reader(text, delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over the size limit: keep the row as an error
            yield None, [], f"broken CSV row {reader.line_num}: {exc}"
            continue
        if cells:
            yield None, cells, None


def read_xlsx(source: Source) -> Iterator[tuple[list[str] | None, list | None, str | None]]:
    """The first sheet of a workbook, header in the first row (read-only, streamed)."""
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(source.stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise RepatriateError(f"cannot read {source.name} as an XLSX workbook: {exc}") from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = None
        for values in rows:
            if header is None:
                if any(v is not None for v in values):
                    header = ["" if v is None else str(v) for v in values]
                    while header and header[-1] == "":
                        header.pop()  # trailing empty cells of a formatted header row
                    yield header, None, None
                continue
            if any(v is not None and v != "" for v in values):
                cells = list(values)
                while len(cells) > len(header) and cells[-1] is None:
                    cells.pop()
                yield None, cells, None
    finally:
        wb.close()


def read_jsonl(source: Source, encoding: str | None = None) -> Iterator[tuple[dict | None, str | None]]:
    """One record per line; a line that is not a JSON object comes back as a problem."""
    text = _text(source, encoding)
    for number, line in enumerate(text, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=str)  # NaN/Infinity stay text, never bad JSON out
        except ValueError as exc:
            yield None, f"line {number} is not valid JSON: {exc}"
            continue
        if not isinstance(record, dict):
            yield None, f"line {number} is not a JSON object but {type(record).__name__} {_short(record)}"
            continue
        yield record, None


# --- writing ---------------------------------------------------------------------------


def _safe(value: Any) -> Any:
    if value.__class__ is str:
        return "'" + value if value[:1] in _FORMULA_START else value
    if value is None or isinstance(value, (int, float, dt.date, dt.datetime, dt.time)):
        return value
    return _safe(json.dumps(value, ensure_ascii=False, default=str))  # a JSON list or object cell


class CsvWriter:
    """UTF-8 CSV; every text cell made inert (OWASP CSV injection), numbers left as numbers."""

    def __init__(self, stream: IO[str]):
        self._writer = csv.writer(stream, lineterminator="\n")
        self._stream = stream

    def header(self, columns: list[str]) -> None:
        self._writer.writerow([_safe(c) for c in columns])

    def write(self, cells: list, routes: list | None = None) -> None:
        # inline rather than _safe() per cell: this line runs for every cell of every row
        self._writer.writerow(
            [
                ("'" + v if v[:1] in _FORMULA_START else v) if v.__class__ is str else v if v.__class__ in _PLAIN else _safe(v)
                for v in cells
            ]
        )

    def close(self) -> None:
        self._stream.flush()


class XlsxWriter:
    """A streamed (write-only) workbook; text cells escaped as in CSV."""

    def __init__(self, path: str | os.PathLike):
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        self._illegal = ILLEGAL_CHARACTERS_RE
        self._path = path
        self._wb = Workbook(write_only=True)
        self._ws = self._wb.create_sheet("results")

    def _cell(self, value: Any) -> Any:
        value = _safe(value)
        if value.__class__ is str:
            return self._illegal.sub("\ufffd", value)  # control characters are not allowed in XLSX
        if isinstance(value, (dt.datetime, dt.time)) and getattr(value, "tzinfo", None) is not None:
            return value.isoformat()  # Excel has no time zones
        return value

    def header(self, columns: list[str]) -> None:
        self._ws.append([self._cell(c) for c in columns])

    def write(self, cells: list, routes: list | None = None) -> None:
        self._ws.append([self._cell(v) for v in cells])

    def close(self) -> None:
        self._wb.save(self._path)


class JsonlWriter:
    """One JSON object per line; values keep their types (a machine format: no escaping)."""

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self._columns: list[str] = []
        self._dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode

    def header(self, columns: list[str]) -> None:
        self._columns = columns

    def write(self, cells: list, routes: list | None = None) -> None:
        record = dict(zip(self._columns, cells))
        if routes is not None:
            record["routes"] = routes
        self._stream.write(self._dumps(record) + "\n")

    def close(self) -> None:
        self._stream.flush()


def output_format(output: str | None, fmt: str | None) -> str:
    """The output format: ``--format`` if given, else the ``-o`` extension, else CSV."""
    if fmt is not None:
        if fmt not in OUTPUT_FORMATS:
            raise RepatriateError(f"unknown format {fmt!r} (accepted: {', '.join(OUTPUT_FORMATS)})")
        return fmt
    if output and output != "-":
        ext = Path(output).suffix.lower()
        if ext in _EXTENSIONS:
            return _EXTENSIONS[ext]
        raise RepatriateError(f"cannot tell the output format from {output!r} (accepted: .csv, .xlsx, .jsonl, or --format)")
    return "csv"


# --- the batch -------------------------------------------------------------------------


@dataclass
class Summary:
    """What a batch did: row counts, best channels and provinces, searches run."""

    rows: int = 0
    ok: int = 0
    errors: int = 0
    no_route: int = 0
    searches: int = 0
    by_channel: Counter = field(default_factory=Counter)
    by_province: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, result: tuple) -> None:
        self.rows += 1
        if result[0] == "ok":
            self.ok += 1
            if result[2]:
                self.by_channel[result[2]] += 1
                self.by_province[result[3] or "—"] += 1
            else:
                self.no_route += 1
        else:
            self.errors += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "ok": self.ok,
            "errors": self.errors,
            "no_route": self.no_route,
            "distinct_searches": self.searches,
            "seconds": round(self.seconds, 3),
            "by_channel": dict(self.by_channel.most_common()),
            "by_province": dict(self.by_province.most_common()),
        }

    def lines(self) -> list[str]:
        """A short plain-text summary (for stderr)."""
        out = [
            f"{self.rows} rows: {self.ok} ok, {self.errors} errors, {self.no_route} without a feasible route "
            f"({self.searches} distinct searches, {self.seconds:.2f} s)"
        ]
        if self.by_channel:
            out.append("best channel: " + ", ".join(f"{k} {v}" for k, v in self.by_channel.most_common()))
        if self.by_province:
            out.append("best location: " + ", ".join(f"{k} {v}" for k, v in self.by_province.most_common()))
        return out


def run_batch(
    portfolio: str | os.PathLike,
    rb: RuleBase,
    output: str | None = None,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    input_format: str | None = None,
    as_of: str | dt.date | None = None,
    optimize: str = "balanced",
    top: int = 1,
    progress: Callable[[int], None] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
) -> Summary:
    """Plan a portfolio file and write one result row per asset; the engine of ``repatriate batch``.

    Parameters
    ----------
    portfolio : path or ``'-'``
        CSV (UTF-8, UTF-8 with BOM, GB18030; detected unless ``encoding``), XLSX or
        JSONL; ``'-'`` reads CSV or JSONL (or an XLSX) from stdin.
    rb : RuleBase
    output : path or ``'-'``, optional
        Default stdout.
    fmt : {'csv', 'xlsx', 'jsonl'}, optional
        Default from the extension of ``output``, else CSV.
    encoding, input_format : str, optional
        Override detection.
    as_of, optimize, top
        As for ``plan_rows``; ``top`` above 1 needs JSONL output.
    progress : callable, optional
        Called with the number of rows done, every few thousand rows and at the end.

    Returns
    -------
    Summary

    Raises
    ------
    RepatriateError
        For a missing or unreadable file, an unknown encoding or format, bad options.
    """
    import time

    started = time.perf_counter()
    kind = output_format(output, fmt)
    if top > 1 and kind != "jsonl":
        raise RepatriateError(f"--top {top} lists several routes per asset, which needs JSONL output (--format jsonl)")
    to_stdout = not output or output == "-"
    if kind == "xlsx" and to_stdout:
        raise RepatriateError("XLSX output needs a file: pass -o results.xlsx")
    if encoding:
        _check_encoding(encoding)
    planner = Planner(rb, as_of=as_of, optimize=optimize, top=top)
    source = open_portfolio(portfolio, input_format, stdin)
    summary = Summary()
    out_stream: IO[str] | None = None
    try:
        if to_stdout:
            out_stream = stdout if stdout is not None else sys.stdout
        elif kind != "xlsx":
            try:
                out_stream = open(output, "w", encoding="utf-8", newline="")
            except OSError as exc:
                raise RepatriateError(f"cannot write {output!r}: {exc.strerror or exc}") from None
        writer = XlsxWriter(output) if kind == "xlsx" else CsvWriter(out_stream) if kind == "csv" else JsonlWriter(out_stream)
        for cells, out in _results(source, planner, encoding, kind):
            if cells is None:
                writer.header(out)
                continue
            writer.write(cells, out.routes)
            summary.add(out.result)
            if progress is not None and not summary.rows % 2048:
                progress(summary.rows)
        if kind == "xlsx":
            try:
                writer.close()
            except OSError as exc:
                raise RepatriateError(f"cannot write {output!r}: {exc.strerror or exc}") from None
        else:
            writer.close()
    finally:
        source.close()
        if out_stream is not None and not to_stdout:
            out_stream.close()
    if progress is not None:
        progress(summary.rows)
    summary.searches = planner.searches
    summary.seconds = time.perf_counter() - started
    return summary


def _results(source: Source, planner: Planner, encoding: str | None, kind: str) -> Iterator[tuple[list | None, Any]]:
    """``(None, columns)`` once, then ``(cells, outcome)`` per input row."""
    if source.format == "jsonl":
        yield from _jsonl_results(source, planner, encoding, kind)
        return
    rows = read_xlsx(source) if source.format == "xlsx" else read_csv(source, encoding)
    table = None
    for header, cells, problem in rows:
        if header is not None:
            table = _Table(header, planner)
            yield None, table.columns
            continue
        yield table.row(cells, problem)


def _jsonl_results(source: Source, planner: Planner, encoding: str | None, kind: str) -> Iterator[tuple[list | None, Any]]:
    if kind == "jsonl":
        # records keep their own keys: no shared header needed, only one table per key set
        tables: dict[tuple, _Table] = {}
        current = None
        for record, problem in read_jsonl(source, encoding):
            record = record or {}
            keys = tuple(record)
            table = tables.get(keys)
            if table is None:
                if len(tables) > 256:
                    tables.clear()
                table = tables[keys] = _Table([str(k) for k in keys], planner)
            if table is not current:
                current = table
                yield None, table.columns
            yield table.row(list(record.values()), problem)
        return
    # CSV/XLSX need one header: a first pass collects every key (stdin is spooled for it)
    stream = source.stream
    if not stream.seekable():
        spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)
        while chunk := stream.read(1 << 20):
            spool.write(chunk)
        spool.seek(0)
        source = Source(source.name, source.format, spool, source.head)
    keys: dict[str, None] = {}
    for record, _ in read_jsonl(Source(source.name, "jsonl", io.BufferedReader(_Unclosed(source.stream)), source.head, source.size), encoding):
        if record:
            keys.update(dict.fromkeys(str(k) for k in record))
    source.stream.seek(0)
    header = list(keys)
    table = _Table(header, planner)
    yield None, table.columns
    for record, problem in read_jsonl(source, encoding):
        record = {str(k): v for k, v in (record or {}).items()}
        yield table.row([record.get(k) for k in header], problem)


class _Unclosed(io.RawIOBase):
    """Lets a first pass wrap a stream in a TextIOWrapper without closing it afterwards."""

    def __init__(self, stream: IO[bytes]):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
